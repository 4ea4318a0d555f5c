"""Schemathesis hooks for the contract test's walk along the links (its config names this file).

A fresh `Idempotency-Key` on every request that carries one. Hypothesis draws few distinct keys ('0',
'~cuS') and sends them again with other requests; the server rightly refuses a key reused with another
request (409), and at seed 1 that ended about one walk step in ten (a draft, a submit, an approval or a
publish) before the step's own rule was reached. What a reused key does is the other runs' business."""

import uuid

import schemathesis


@schemathesis.hook
def map_headers(context, headers):
    if headers and "Idempotency-Key" in headers:
        headers["Idempotency-Key"] = str(uuid.uuid4())
    return headers
