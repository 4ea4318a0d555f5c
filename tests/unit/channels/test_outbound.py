"""Requests to URLs anyone typed (`channels/_outbound.py`), against real servers on loopback: one
wall-clock deadline whatever the receiver drips, the body never read, the lookup bounded, and the
addresses that hide an inside one behind IPv6 refused."""

import socket
import threading
import time

import pytest

from broadcaster.channels import _outbound
from broadcaster.channels.webhook import registrable_domain
from tests.fakes.receivers import DripProxy, EndlessBody, certificate_authority

from .stub_http import StubServer


def post(port: int, seconds: float, scheme: str = "http", host: str = "127.0.0.1", tls=None):
    to = _outbound.destination(f"{scheme}://{host}:{port}/hook")
    return _outbound.post(to, ["127.0.0.1"], b"{}", {"content-type": "application/json"},
                          _outbound.Deadline(seconds), tls or _outbound.tls_context())


def test_a_receiver_that_drips_its_status_line_is_cut_off_at_the_deadline():
    with StubServer() as receiver, DripProxy(receiver.port, interval=0.1) as drip:
        started = time.monotonic()
        with pytest.raises(_outbound.NoAnswer, match="within 2 s"):
            post(drip.port, 2)
        took = time.monotonic() - started
    # A byte every 0.1 s resets any per-read timeout; the deadline is on the whole exchange. The answer's
    # ~110 bytes would take 11 s to drip: the upper bound leaves room for a busy machine. Two seconds, not
    # 0.8: a starved drip thread sent nothing in 1.2 s under load, and a byte must have come.
    assert 1.9 < took < 8 and drip.dripped >= 1


def test_a_tls_handshake_that_drips_is_cut_off_at_the_deadline(tmp_path, monkeypatch):
    certificates = certificate_authority(tmp_path, ["hooks.example.test"])
    monkeypatch.setenv("SSL_CERT_FILE", str(certificates.ca_file))
    with StubServer(tls=certificates.server_context()) as receiver, DripProxy(receiver.port, interval=0.05) as drip:
        started = time.monotonic()
        with pytest.raises(_outbound.NoConnection) as refused:
            post(drip.port, 2, "https", "hooks.example.test")
        took = time.monotonic() - started
    assert refused.value.timed_out and 1.9 < took < 8 and drip.dripped >= 1  # the handshake: a minute of drips
    assert receiver.requests == []  # the request itself never went out


def test_a_receiver_streaming_an_endless_body_costs_one_read():
    with EndlessBody() as receiver:
        started = time.monotonic()
        answer = post(receiver.port, 60)
        assert receiver.hung_up.wait(60)  # we closed the connection without reading on
    # Reading on would take the whole minute of the deadline (and gigabytes): well under it is one read.
    assert answer.status == 200 and time.monotonic() - started < 20
    assert receiver.sent < 20 * 1024 * 1024  # socket buffers' worth, not the 100 GB it offered


def test_a_slow_dns_lookup_gives_up_at_the_deadline(monkeypatch):
    real, answered = socket.getaddrinfo, threading.Event()

    def slow(host, *args, **kwargs):
        if host == "slow.example.test":
            answered.wait(60)  # the resolver answers only once the test is over
        return real("127.0.0.1", *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", slow)
    started = time.monotonic()
    try:
        with pytest.raises(_outbound.Unresolved, match="did not resolve within 0.3 s"):
            _outbound.resolve("slow.example.test", 443, _outbound.Deadline(0.3))
        assert time.monotonic() - started < 20  # not the minute the lookup takes
    finally:
        answered.set()  # the resolver thread is the process's: hand it back


def test_an_address_literal_needs_no_lookup_while_every_resolver_thread_is_stuck(monkeypatch):
    """On a busy machine a literal once waited behind other lookups until its deadline passed."""
    given_up = threading.Event()

    def stuck(*args, **kwargs):
        given_up.wait(60)  # every resolver thread stays stuck until the test is over
        raise OSError("the system resolver gave up")

    monkeypatch.setattr(socket, "getaddrinfo", stuck)
    busy = [_outbound._resolvers.submit(socket.getaddrinfo, "stuck.example.test", 443)
            for _ in range(_outbound.RESOLVER_THREADS)]
    try:
        # A literal sent to the stuck pool would wait out its deadline and raise: an answer is the proof.
        assert _outbound.resolve("127.0.0.1", 443, _outbound.Deadline(0.3)) == ["127.0.0.1"]
        assert _outbound.resolve("::1", 443, _outbound.Deadline(0.3)) == ["::1"]
        with pytest.raises(_outbound.Unresolved, match="did not resolve within 0.2 s"):
            _outbound.resolve("name.example.test", 443, _outbound.Deadline(0.2))  # a name still waits its turn
    finally:
        given_up.set()
    for lookup in busy:  # the pool is the process's: hand it back free
        lookup.exception(timeout=60)


@pytest.mark.parametrize("address", ["64:ff9b::a00:5", "64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe", "2002:a00:5::1",
                                     "2002:a9fe:a9fe::1", "::ffff:10.0.0.5", "::a00:5", "64:ff9b:1::808:808",
                                     "10.0.0.5", "169.254.169.254", "100.64.0.1", "fd00::1", "fe80::1%eth0",
                                     "ff02::1", "224.0.0.1"])
def test_addresses_that_reach_inside_are_not_public_however_they_are_spelt(address):
    assert _outbound.not_public(address)


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:4700::1", "64:ff9b::808:808", "2002:808:808::1"])
def test_public_addresses_are_public(address):
    assert not _outbound.not_public(address)


def test_an_idn_host_is_idna_encoded_and_the_default_port_left_out_of_host():
    to = _outbound.destination("https://Bücher.de/hooks?x=1")
    assert (to.host, to.port, to.target, to.host_header) == ("xn--bcher-kva.de", 443, "/hooks?x=1", "xn--bcher-kva.de")
    assert _outbound.destination("https://example.com:8443/").host_header == "example.com:8443"
    with pytest.raises(ValueError):
        _outbound.destination("https://exa mple.com/")
    for bad in ("https://☃.net/", "https://a..b/", "https://-a.com/", "https://x:99999/"):
        with pytest.raises(ValueError):
            _outbound.destination(bad)


@pytest.mark.parametrize(("host", "domain"), [("a1.example.com", "example.com"), ("EXAMPLE.com.", "example.com"),
                                              ("x.y.example.co.uk", "example.co.uk"), ("example.com", "example.com"),
                                              ("93.184.216.34", "93.184.216.34"), ("2606:4700::1", "2606:4700::1")])
def test_the_host_key_is_the_registrable_domain(host, domain):
    assert registrable_domain(host) == domain


def test_the_tls_context_is_made_once_per_trusted_bundle(tmp_path, monkeypatch):
    """Loading a CA bundle is ~40 ms of CPU: made once, yet a bundle named later is the one trusted."""
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    assert _outbound.tls_context() is _outbound.tls_context()
    default = _outbound.tls_context()
    certificates = certificate_authority(tmp_path, ["hooks.example.test"])
    monkeypatch.setenv("SSL_CERT_FILE", str(certificates.ca_file))
    private = _outbound.tls_context()
    assert private is not default and private is _outbound.tls_context()
    assert private.get_ca_certs() != default.get_ca_certs()
