"""Which network addresses the bot may fetch from: the SSRF guard.

Python's `ipaddress` judges the wrapper, not what it wraps: it calls the NAT64
form of 169.254.169.254 and the 6to4 form of loopback "global" and does not
treat ::ffff:127.0.0.1 as loopback. So every address is unwrapped first and
the embedded IPv4 address is judged too.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_SIX_TO_FOUR = ipaddress.ip_network("2002::/16")
_TEREDO = ipaddress.ip_network("2001::/32")
_EXTRA_BLOCKED = tuple(
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",
        "100.64.0.0/10",  # carrier-grade NAT
        "192.0.0.0/24",
        "198.18.0.0/15",
        "fd00:ec2::254/128",  # AWS metadata over IPv6
        "fc00::/7",
    )
)


@dataclass(frozen=True)
class AddressPolicy:
    """Allow-listed host names and networks pass; everything non-global is refused."""

    allowed_hosts: frozenset[str] = field(default_factory=frozenset)
    allowed_networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def from_setting(cls, value: str | None) -> AddressPolicy:
        """Parse NEWSDIGEST_FETCH_ALLOW: comma-separated host names and CIDR networks."""
        hosts: set[str] = set()
        networks: list[IPNetwork] = []
        for item in (value or "").split(","):
            item = item.strip()
            if not item:
                continue
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                hosts.add(item.lower().rstrip("."))
        return cls(frozenset(hosts), tuple(networks))

    def host_allowed(self, host: str) -> bool:
        return host.lower().rstrip(".") in self.allowed_hosts

    def address_allowed(self, address: IPAddress) -> bool:
        if any(address in net for net in self.allowed_networks if net.version == address.version):
            return True
        return not is_blocked(address)

    def check(self, host: str, addresses: Iterable[IPAddress]) -> str | None:
        """None when all addresses may be contacted, else the reason for refusing."""
        if self.host_allowed(host):
            return None
        for address in addresses:
            if not self.address_allowed(address):
                return f"{host} resolves to a private or reserved address ({address})"
        return None


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 transition form carries, if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if any(address in net for net in _NAT64):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    packed = int(address)
    if packed >> 32 == 0 and packed > 1:  # deprecated IPv4-compatible ::a.b.c.d
        return ipaddress.IPv4Address(packed)
    return None


def is_blocked(address: IPAddress) -> bool:
    """True for anything that is not a plain public unicast address."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = embedded_ipv4(address)
        if inner is not None and is_blocked(inner):
            return True
        if address.scope_id:
            return True
    if any(address in net for net in _EXTRA_BLOCKED if net.version == address.version):
        return True
    return (
        not address.is_global
        or address.is_multicast
        or address.is_loopback
        or address.is_link_local
        or address.is_private
        or address.is_reserved
        or address.is_unspecified
    )


def parse_host_address(host: str) -> IPAddress | None:
    """Read a literal IP the way a C resolver would: 2130706433, 0x7f000001, 127.1, 0177.0.0.1."""
    host = host.strip("[]")
    try:
        return ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        pass
    parts = host.split(".")
    if not 1 <= len(parts) <= 4 or not all(parts):
        return None
    try:
        numbers = [_c_int(p) for p in parts]
    except ValueError:
        return None
    *head, last = numbers
    if any(n > 255 for n in head) or last >= 256 ** (5 - len(parts)):
        return None
    value = 0
    for n in head:
        value = value * 256 + n
    value = value * 256 ** (5 - len(parts)) + last
    return ipaddress.IPv4Address(value) if value < 2**32 else None


def _c_int(text: str) -> int:
    lowered = text.lower()
    if lowered.startswith("0x"):
        return int(lowered, 16)
    if len(lowered) > 1 and lowered.startswith("0"):
        return int(lowered, 8)
    return int(lowered, 10)
