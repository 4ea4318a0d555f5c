"""httpx for the tests' own requests to their loopback servers. An httpx client made with certificate
checks on loads the CA bundle as it is made, about 40 ms of CPU, and `httpx.get`/`httpx.post` make a
client per call: the suite's few thousand such requests spent more CPU loading bundles than asking.
These share one context, made once per process (no request here uses TLS: every server is http://)."""

import functools
import ssl

import httpx


@functools.cache
def _tls() -> ssl.SSLContext:
    return httpx.create_ssl_context()


def get(url: str, **kwargs) -> httpx.Response:
    return httpx.get(url, verify=_tls(), **kwargs)


def post(url: str, **kwargs) -> httpx.Response:
    return httpx.post(url, verify=_tls(), **kwargs)


def client(**kwargs) -> httpx.Client:
    return httpx.Client(verify=_tls(), **kwargs)
