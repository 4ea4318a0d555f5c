"""Per-client limits count an IPv6 client by its /64: one line is given a whole /64 to rotate through."""

import pytest

from broadcaster.domain.client_address import limit_key


@pytest.mark.parametrize(("client", "key"), [
    ("192.0.2.1", "192.0.2.1"),
    ("2001:db8:1:2::a", "2001:db8:1:2::/64"),
    ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
    ("2001:DB8:1:2::a", "2001:db8:1:2::/64"),
    ("fe80::1%eth0", "fe80::1%eth0"),  # link-local: the next hop itself, whole (not all of fe80::/64 as one)
    ("::ffff:192.0.2.1", "192.0.2.1"),  # a dual-stack socket's IPv4 client is that IPv4 address
    ("64:ff9b::c000:201", "192.0.2.1"),  # through NAT64: every IPv4 client would otherwise share one /64
    ("::192.0.2.1", "192.0.2.1"),  # the old IPv4-compatible form
    ("::1", "::/64"),
    ("+15550100", "+15550100"),  # a phone number (PIN tries by SMS) is not an address
    ("", ""), ("testclient", "testclient"),
])
def test_a_client_is_counted_by_its_ipv4_address_or_its_ipv6_64(client, key):
    assert limit_key(client) == key


def test_addresses_in_two_64s_are_two_clients():
    assert limit_key("2001:db8:1:2::a") != limit_key("2001:db8:1:3::a")


def test_link_local_neighbours_and_nat64_clients_are_not_lumped_together():
    assert limit_key("fe80::1%eth0") != limit_key("fe80::2%eth1")
    assert limit_key("64:ff9b::c000:201") != limit_key("64:ff9b::c000:202")
