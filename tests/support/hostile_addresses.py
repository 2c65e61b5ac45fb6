"""Addresses a fetch must never reach: private, loopback, link-local, and the same disguised
(decimal, hex, octal, short forms, mapped and translated IPv6)."""

REFUSED = [
    "127.0.0.1",
    "::1",
    "0.0.0.0",
    "10.1.2.3",
    "172.16.0.1",
    "192.168.1.1",
    "100.64.0.1",
    "169.254.169.254",
    "fd00:ec2::254",
    "224.0.0.1",
    "2130706433",
    "0x7f000001",
    "017700000001",
    "127.1",
    "::ffff:127.0.0.1",
    "64:ff9b::a9fe:a9fe",
    "2002:7f00:1::1",
]
