"""httpx for the tests' own requests to their loopback servers. An httpx client made with certificate
checks on loads the CA bundle as it is made, about 40 ms of CPU, and `httpx.get`/`httpx.post` make a
client per call: the suite's few thousand such requests spent more CPU loading bundles than asking.
These share the process's one context, the one the product's outbound requests use (no request here
uses TLS: every server is http://)."""

import httpx

from broadcaster.channels._outbound import tls_context


def get(url: str, **kwargs) -> httpx.Response:
    return httpx.get(url, verify=tls_context(), **kwargs)


def post(url: str, **kwargs) -> httpx.Response:
    return httpx.post(url, verify=tls_context(), **kwargs)


def client(**kwargs) -> httpx.Client:
    return httpx.Client(verify=tls_context(), **kwargs)
