from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st
from support.hostile_addresses import REFUSED

from bot.ingest.netguard import AddressPolicy, embedded_ipv4, is_blocked, parse_host_address


@pytest.mark.parametrize("host", REFUSED)
def test_private_and_disguised_addresses_are_refused(host: str) -> None:
    address = parse_host_address(host)
    assert address is not None
    assert is_blocked(address)


@pytest.mark.parametrize("host", ["8.8.8.8", "93.184.216.34", "2606:4700::1111"])
def test_public_addresses_pass(host: str) -> None:
    address = parse_host_address(host)
    assert address is not None and not is_blocked(address)


def test_allow_list_admits_only_what_it_names() -> None:
    policy = AddressPolicy.from_setting("127.0.0.1/32, intranet.example")
    assert policy.check("localhost", [ipaddress.ip_address("127.0.0.1")]) is None
    assert policy.check("x", [ipaddress.ip_address("127.0.0.2")]) is not None
    assert policy.check("intranet.example", [ipaddress.ip_address("10.0.0.5")]) is None
    assert policy.check("x", [ipaddress.ip_address("8.8.8.8"), ipaddress.ip_address("10.0.0.1")])


def _reference_blocked(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        inner = embedded_ipv4(address)
        if inner is not None and _reference_blocked(inner):
            return True
    return not address.is_global or address.is_multicast


@given(st.ip_addresses())
def test_guard_never_admits_a_non_global_address(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address,
) -> None:
    if _reference_blocked(address):
        assert is_blocked(address)
