"""Webhook receivers as the internet has them, on loopback, for the outbound-request tests:

- `certificate_authority`: a throwaway CA and a certificate for some names (the `cryptography`
  package), so a TLS stub can be verified for real: trust the CA with SSL_CERT_FILE;
- `FakeInternet`: names resolve to public-looking addresses (through `socket.getaddrinfo`), and a
  connection to such an address and port lands on a local server (`socket.create_connection`), so
  the production path (check every address is public, then dial the checked one) runs unchanged;
  it records every lookup and every address dialled;
- `DripProxy`: forwards to a local server but hands its answer back one byte at a time, each
  within any per-read timeout (a TLS handshake or a status line that takes minutes);
- `EndlessBody`: answers 200 and then streams a body that never ends, counting what it could send.
"""

import datetime
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass
class Certificates:
    ca_file: Path  # trust this (SSL_CERT_FILE)
    cert_file: Path
    key_file: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context


def certificate_authority(folder: Path, names: list[str]) -> Certificates:
    """A CA valid for a day and a certificate it signed for `names` (DNS names)."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Broadcaster test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
          .not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    found = Certificates(folder / "ca.pem", folder / "cert.pem", folder / "key.pem")
    found.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    found.cert_file.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    found.key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                 serialization.NoEncryption()))
    return found


@dataclass
class FakeInternet:
    """Public names and addresses that land on local servers. Use as a pytest fixture value:
    `internet.host("hooks.example.test", "93.184.216.34", server_port)`."""

    monkeypatch: object
    names: dict[str, list[str]] = field(default_factory=dict)
    routes: dict[tuple[str, int], int] = field(default_factory=dict)  # (public address, port) -> local port
    looked_up: list[str] = field(default_factory=list)
    dialled: list[tuple[str, int]] = field(default_factory=list)

    def __post_init__(self):
        real_lookup, real_connect = socket.getaddrinfo, socket.create_connection

        def getaddrinfo(host, port, *args, **kwargs):
            if host in self.names:
                self.looked_up.append(host)
                return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "",
                         (a, port, 0, 0) if ":" in a else (a, port)) for a in self.names[host]]
            return real_lookup(host, port, *args, **kwargs)

        def create_connection(address, *args, **kwargs):
            if tuple(address) in self.routes:
                self.dialled.append(tuple(address))
                return real_connect(("127.0.0.1", self.routes[tuple(address)]), *args, **kwargs)
            return real_connect(address, *args, **kwargs)

        self.monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
        self.monkeypatch.setattr(socket, "create_connection", create_connection)

    def host(self, name: str, addresses: str | list[str], local_port: int | None = None, port: int = 443) -> None:
        """`name` resolves to `addresses`; a connection to the first on `port` reaches `local_port`."""
        self.names[name] = [addresses] if isinstance(addresses, str) else list(addresses)
        if local_port is not None:
            for address in self.names[name]:
                self.routes[(address, port)] = local_port


class _Listener:
    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self.sock.close()
        self._thread.join(timeout=5)

    def _accept(self):
        self.sock.settimeout(0.1)
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        raise NotImplementedError


class DripProxy(_Listener):
    """Forwards each connection to 127.0.0.1:`upstream`, the answer one byte every `interval` s."""

    def __init__(self, upstream: int, interval: float = 0.2):
        super().__init__()
        self.upstream, self.interval = upstream, interval
        self.connections = 0
        self.dripped = 0
        self._counting = threading.Lock()  # `+=` from many threads can lose a count

    def _serve(self, conn):
        with self._counting:
            self.connections += 1
        up = socket.create_connection(("127.0.0.1", self.upstream))
        threading.Thread(target=self._pipe, args=(conn, up), daemon=True).start()
        try:
            while not self._stop.is_set():
                data = up.recv(4096)
                if not data:
                    break
                for byte in data:
                    conn.sendall(bytes([byte]))
                    self.dripped += 1
                    time.sleep(self.interval)
        except OSError:
            pass
        finally:
            conn.close()
            up.close()

    @staticmethod
    def _pipe(source, sink):
        try:
            while data := source.recv(4096):
                sink.sendall(data)
        except OSError:
            pass


class EndlessBody(_Listener):
    """Reads the request, answers 200 with a body it never stops sending, and counts the bytes the
    client took before it hung up."""

    def __init__(self, tls: ssl.SSLContext | None = None):
        super().__init__()
        self.tls = tls
        self.sent = 0
        self.requests = 0
        self.hung_up = threading.Event()

    def _serve(self, conn):
        try:
            if self.tls:
                conn = self.tls.wrap_socket(conn, server_side=True)
            conn.settimeout(10)
            received = b""
            while b"\r\n\r\n" not in received:
                received += conn.recv(65536)
            self.requests += 1
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                         b"Content-Length: 100000000000\r\n\r\n")
            chunk = b"x" * 65536
            while not self._stop.is_set():
                conn.sendall(chunk)
                self.sent += len(chunk)
        except OSError:
            pass
        finally:
            self.hung_up.set()
            conn.close()
