"""The key a per-client limit counts a client under.

A client is the address the web server saw (behind a proxy, what `FORWARDED_ALLOW_IPS` lets uvicorn
report). An IPv4 address is one client. An IPv6 address is not: one home line or one rented server
is given a whole /64 (RFC 6177), 2^64 addresses it can rotate through to start every try afresh. So
an IPv6 client is counted by its /64; an IPv6 address that carries an IPv4 one (`::ffff:192.0.2.1` from a
dual-stack socket, `64:ff9b::c000:201` through NAT64, the old `::192.0.2.1`) by that IPv4 address; a
link-local address (`fe80::1%eth0`: the next hop, not a client on the internet) whole; and anything that
is not an IP address (a phone number, "") as it is.
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
    if (carried := _ipv4_in(ip)) is not None:
        return str(carried)
    if ip.is_link_local:
        return client
    return str(ipaddress.ip_network(f"{ip}/{IPV6_CLIENT_PREFIX}", strict=False))


NAT64 = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052's well-known prefix
COMPATIBLE = ipaddress.ip_network("::/96")  # RFC 4291's deprecated IPv4-compatible addresses


def _ipv4_in(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if (ip in NAT64 or ip in COMPATIBLE) and int(ip) & 0xFFFFFFFF and int(ip) > 1:  # not ::, not ::1
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None
