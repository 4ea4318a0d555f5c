"""The key a per-client limit counts a client under.

A client is the address the web server saw (behind a proxy, what `FORWARDED_ALLOW_IPS` lets uvicorn
report). An IPv4 address is one client. An IPv6 address is not: one home line or one rented server
is given a whole /64 (RFC 6177), 2^64 addresses it can rotate through to start every try afresh. So
an IPv6 client is counted by its /64, an IPv4-mapped IPv6 address (`::ffff:192.0.2.1`, a dual-stack
socket) by its IPv4 address, and anything that is not an IP address (a phone number, "") as it is.
Every per-client limit keys on `limit_key`; what the audit trail records stays the full address."""

import ipaddress

IPV6_CLIENT_PREFIX = 64


def limit_key(client: str) -> str:
    """`192.0.2.1` → `192.0.2.1`; `2001:db8:1:2:a:b:c:d` → `2001:db8:1:2::/64`; `+15550100` → itself."""
    try:
        ip = ipaddress.ip_address(client.split("%")[0])
    except ValueError:
        return client
    if ip.version == 4:
        return str(ip)
    if ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ipaddress.ip_network(f"{ip}/{IPV6_CLIENT_PREFIX}", strict=False))
