"""One POST to a URL that anyone on the internet may have typed (a webhook receiver), made so that
the receiver can neither hold us nor reach inside:

- the host is resolved in a small pool of threads of its own, with a timeout: a slow
  authoritative DNS server holds a resolver thread, never the caller past its deadline;
- every address it resolves to is checked (`not_public`), the IPv4 address inside NAT64, 6to4,
  IPv4-mapped and IPv4-compatible IPv6 addresses too, and the connection dials one of the checked
  addresses (pinned: no second lookup can move it), while TLS is verified against the host's name
  (SNI) and the Host header names it (IDNA-encoded, `bücher.de` as `xn--bcher-kva.de`);
- one wall-clock deadline covers the whole exchange, connect, TLS handshake, writing the request
  and reading the status line: every socket operation waits at most what is left of it, so a
  receiver that drips one byte at a time is cut off at the deadline, not reset by each byte;
- only the status line and headers are read (h11 caps them at 100 KiB), never the body: a
  receiver that streams gigabytes costs one read buffer.

httpcore (httpx's own transport) speaks HTTP/1.1 over a network backend of ours that does the
above. Certificates are checked against certifi's bundle, or SSL_CERT_FILE / SSL_CERT_DIR when set
(a receiver with a private CA on an intranet).
"""

import functools
import ipaddress
import os
import re
import select
import socket
import ssl
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass

import httpcore

# Lookups in flight at once, per process; more wait their turn inside the caller's own deadline.
RESOLVER_THREADS = 4
_resolvers = ThreadPoolExecutor(max_workers=RESOLVER_THREADS, thread_name_prefix="outbound-dns")

NAT64 = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052: the last 32 bits are an IPv4 address
NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")  # RFC 8215: an operator's own translator
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")  # deprecated, still routed by some stacks


class OutboundError(Exception):
    """The request could not be made or was not answered; `never_sent` when it cannot have
    reached the receiver (no address, no connection)."""

    never_sent = False
    timed_out = False  # the deadline passed


class Unresolved(OutboundError):
    never_sent = True


class NotPublic(OutboundError):
    never_sent = True

    def __init__(self, host: str, address: str):
        super().__init__(f"{host!r} resolves to {address}, which is not a public address")
        self.host, self.address = host, address


class NoConnection(OutboundError):
    never_sent = True

    def __init__(self, message: str, timed_out: bool = False):
        super().__init__(message)
        self.timed_out = timed_out


class NoAnswer(OutboundError):
    """The deadline passed, or the connection broke, after the request may have reached the receiver."""

    def __init__(self, message: str, timed_out: bool = True):
        super().__init__(message)
        self.timed_out = timed_out


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    address: str  # the address dialled


@dataclass(frozen=True)
class Destination:
    """A URL taken apart for the request: the host IDNA-encoded, the default port filled in."""

    scheme: str
    host: str
    port: int
    target: str  # path and query
    explicit_port: bool

    @property
    def host_header(self) -> str:
        return f"{self.host}:{self.port}" if self.explicit_port else self.host


def destination(url: str) -> Destination:
    """ValueError naming what is wrong when the URL has no host, a bad port or a host that cannot
    be IDNA-encoded."""
    import httpx  # here, not at the top: a process that only renders the channels does not load it

    try:
        parsed = httpx.URL(url)
        host = parsed.raw_host.decode("ascii")
    except (httpx.InvalidURL, UnicodeError) as exc:
        raise ValueError(str(exc) or "not a URL") from None
    if parsed.scheme not in ("http", "https") or not host:
        raise ValueError("not an http(s) URL with a host")
    host = host.strip("[]").rstrip(".")  # `example.com.` is example.com, in SNI and Host too
    if not (_is_ip(host) or _is_dns_name(host)):
        raise ValueError(f"{host!r} is not a host name")
    if parsed.port is not None and not 1 <= parsed.port <= 65535:
        raise ValueError(f"port {parsed.port} does not exist")
    default = 443 if parsed.scheme == "https" else 80
    target = parsed.raw_path.decode("ascii")
    return Destination(parsed.scheme, host, parsed.port or default, target, parsed.port is not None)


_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)", re.IGNORECASE)


def _is_dns_name(host: str) -> bool:
    return 0 < len(host) <= 253 and all(_LABEL.fullmatch(label) for label in host.split("."))


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return False
    return True


class Deadline:
    def __init__(self, seconds: float):
        self.seconds = seconds
        self.at = time.monotonic() + seconds

    def left(self) -> float:
        """The seconds left; NoAnswer once none are."""
        left = self.at - time.monotonic()
        if left <= 0:
            raise NoAnswer(f"no answer within {self.seconds:g} s")
        return left


def resolve(host: str, port: int, deadline: Deadline) -> list[str]:
    """The host's addresses, within the deadline. The lookup runs in the resolver pool: a lookup
    that outlives the deadline keeps its resolver thread until the system resolver gives up, but
    the caller goes on; one still queued is dropped. An address literal is its own answer: no
    lookup, and no wait behind other lookups for a resolver thread."""
    if _is_ip(host):
        return [host]
    try:
        future = _resolvers.submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
        found = future.result(timeout=deadline.left())
    except (FutureTimeout, NoAnswer):
        future.cancel()
        raise Unresolved(f"the host {host!r} did not resolve within {deadline.seconds:g} s") from None
    except (OSError, UnicodeError) as exc:
        raise Unresolved(f"the host {host!r} does not resolve ({exc})") from None
    addresses = list(dict.fromkeys(info[4][0] for info in found))
    if not addresses:
        raise Unresolved(f"the host {host!r} has no address")
    return addresses


def not_public(address: str) -> bool:
    """True for an address a request from the public internet must not reach: loopback, private,
    link-local, shared, reserved, multicast, and any IPv6 address that carries such an IPv4 one."""
    ip = ipaddress.ip_address(address.split("%")[0])
    if not ip.is_global or ip.is_multicast:
        return True
    if ip.version == 6:
        if ip in NAT64_LOCAL:
            return True
        inner = _embedded_ipv4(ip)
        return inner is not None and (not inner.is_global or inner.is_multicast)
    return False


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in NAT64 or ip in IPV4_COMPATIBLE:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def public_addresses(host: str, port: int, deadline: Deadline) -> list[str]:
    """The host's addresses if every one of them is public; NotPublic naming the first that is not."""
    addresses = resolve(host, port, deadline)
    for address in addresses:
        if not_public(address):
            raise NotPublic(host, address)
    return addresses


def post(to: Destination, addresses: list[str], body: bytes, headers: dict[str, str], deadline: Deadline,
         ssl_context: ssl.SSLContext) -> Answer:
    """POST `body` to `to`, dialling the first of `addresses` that connects, within `deadline`;
    the status and headers, the body unread."""
    backend = _PinnedBackend(addresses, deadline)
    pool = httpcore.ConnectionPool(ssl_context=ssl_context, network_backend=backend, retries=0,
                                   max_connections=1, http1=True, http2=False)
    url = httpcore.URL(scheme=to.scheme.encode(), host=to.host.encode(), port=to.port if to.explicit_port else None,
                       target=to.target.encode())
    left = deadline.left()
    timeouts = {"connect": left, "read": left, "write": left, "pool": left}
    try:
        with pool, pool.stream("POST", url, headers=list(headers.items()), content=body,
                               extensions={"timeout": timeouts}) as response:
            # Leaving the block closes the connection without reading the body.
            return Answer(response.status, {k.decode("latin-1").lower(): v.decode("latin-1")
                                            for k, v in response.headers}, backend.dialled or "")
    except OutboundError:
        raise
    except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
        timed_out = isinstance(exc, httpcore.ConnectTimeout)
        what = "could not connect to" if backend.dialled is None else "no TLS connection with"
        raise NoConnection(f"{what} {to.host}: {exc or 'timed out'}", timed_out) from None
    except httpcore.TimeoutException:
        raise NoAnswer(f"no answer within {deadline.seconds:g} s") from None
    except (httpcore.NetworkError, httpcore.ProtocolError) as exc:
        raise NoAnswer(f"{to.host} broke off: {exc or type(exc).__name__}", timed_out=False) from None


class _PinnedBackend(httpcore.NetworkBackend):
    """Connects to the checked addresses only, whatever host httpcore asks for."""

    def __init__(self, addresses: list[str], deadline: Deadline):
        self.addresses, self.deadline = addresses, deadline
        self.dialled: str | None = None

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        problem: Exception | None = None
        for address in self.addresses:
            try:
                sock = socket.create_connection((address, port), timeout=self.deadline.left())
            except NoAnswer:
                raise httpcore.ConnectTimeout("the deadline passed while connecting") from None
            except OSError as exc:
                problem = exc
                continue
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.dialled = address
            return _DeadlineStream(sock, self.deadline)
        raise httpcore.ConnectError(str(problem))

    def sleep(self, seconds: float) -> None:
        time.sleep(min(seconds, max(self.deadline.at - time.monotonic(), 0)))


class _DeadlineStream(httpcore.NetworkStream):
    """A socket whose every operation waits at most what is left of the deadline."""

    def __init__(self, sock: socket.socket, deadline: Deadline):
        self.sock, self.deadline = sock, deadline

    def _left(self, error: type[Exception]) -> float:
        try:
            return self.deadline.left()
        except NoAnswer as exc:
            raise error(str(exc)) from None

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        self.sock.settimeout(self._left(httpcore.ReadTimeout))
        try:
            return self.sock.recv(max_bytes)
        except TimeoutError:
            raise httpcore.ReadTimeout("the deadline passed while reading") from None
        except OSError as exc:
            raise httpcore.ReadError(str(exc)) from None

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        view = memoryview(buffer)
        while view:
            self.sock.settimeout(self._left(httpcore.WriteTimeout))
            try:
                sent = self.sock.send(view)
            except TimeoutError:
                raise httpcore.WriteTimeout("the deadline passed while writing") from None
            except OSError as exc:
                raise httpcore.WriteError(str(exc)) from None
            view = view[sent:]

    def close(self) -> None:
        self.sock.close()

    def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                  timeout: float | None = None) -> "_DeadlineStream":
        # Non-blocking, so the whole handshake (not each read inside it) is bounded by the deadline.
        tls = ssl_context.wrap_socket(self.sock, server_hostname=server_hostname, do_handshake_on_connect=False)
        tls.setblocking(False)
        try:
            while True:
                try:
                    tls.do_handshake()
                    break
                except ssl.SSLWantReadError:
                    ready = select.select([tls], [], [], self._left(httpcore.ConnectTimeout))[0]
                except ssl.SSLWantWriteError:
                    ready = select.select([], [tls], [], self._left(httpcore.ConnectTimeout))[1]
                if not ready:
                    raise httpcore.ConnectTimeout("the deadline passed during the TLS handshake")
        except (ssl.SSLError, OSError) as exc:
            tls.close()
            raise httpcore.ConnectError(str(exc)) from None
        except httpcore.ConnectTimeout:
            tls.close()
            raise
        tls.setblocking(True)
        return _DeadlineStream(tls, self.deadline)

    def get_extra_info(self, info: str):
        if info == "ssl_object":
            return self.sock if isinstance(self.sock, ssl.SSLSocket) else None
        if info == "server_addr":
            return self.sock.getpeername()
        if info == "client_addr":
            return self.sock.getsockname()
        if info == "socket":
            return self.sock
        if info == "is_readable":
            return _readable(self.sock)
        return None


def _readable(sock: socket.socket) -> bool:
    return bool(select.select([sock], [], [], 0)[0])


def tls_context() -> ssl.SSLContext:
    """The context every outbound TLS connection of this process verifies with: certifi's bundle, or the
    SSL_CERT_FILE / SSL_CERT_DIR named now. Made once per pair of those: loading a bundle costs about
    40 ms of CPU, and a webhook transport took one per batch of sends. A context is safe to share
    between threads; what httpcore sets on it (ALPN, http/1.1 only) is the same for every connection."""
    return _tls_context_for(os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))


@functools.lru_cache(maxsize=4)
def _tls_context_for(cert_file: str | None, cert_dir: str | None) -> ssl.SSLContext:
    import httpx

    return httpx.create_ssl_context()  # reads the same two variables
