"""Where the node may send a request: the address rules of the outbound HTTP client (pure).

A public verifier that fetches URLs named in untrusted documents must not become a proxy into the
operator's network. After resolving a host, every address must be globally routable: private,
loopback, link-local (which holds cloud metadata at 169.254.169.254), multicast, unspecified, reserved,
CGNAT (100.64.0.0/10) and unique-local IPv6 are refused, also when wrapped in IPv6 (IPv4-mapped
::ffff:a.b.c.d, NAT64 64:ff9b::/96, 6to4, Teredo). The operator can allow hosts or networks
explicitly (`PUENTE_FETCH_ALLOW`: peers on a private network, 127.0.0.1 in tests and demos).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Iterable

from node.errors import ConfigurationError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
# Cloud metadata endpoints outside the ranges above (Alibaba's sits in CGNAT, AWS's IPv6 one in fd00::/8)
# are refused by the general rules; they are listed so a broad allow entry never opens them.
METADATA = frozenset(map(ipaddress.ip_address, ("169.254.169.254", "169.254.170.2", "100.100.100.200", "fd00:ec2::254")))


def embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, NAT64, 6to4, Teredo client), if any."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    return None


def refusal(address: IPAddress) -> str | None:
    """Why an address is not a public destination (None: it is)."""
    inner = embedded_ipv4(address)
    if inner is not None:
        why = refusal(inner)
        return f"{why} (inside {address})" if why else None
    if address in METADATA:
        return "a cloud metadata address"
    for label, test in (("loopback", address.is_loopback), ("private", address.is_private),
                        ("link-local", address.is_link_local), ("multicast", address.is_multicast),
                        ("unspecified", address.is_unspecified), ("reserved", address.is_reserved)):
        if test:
            return f"a {label} address"
    if isinstance(address, ipaddress.IPv4Address) and address in _CGNAT:
        return "a shared (CGNAT) address"
    if not address.is_global:
        return "not a global address"
    return None


@dataclass(frozen=True)
class FetchPolicy:
    """Allowed hosts (`host` or `host:port`) and networks (CIDR) beyond the public internet."""

    hosts: frozenset[tuple[str, int | None]] = frozenset()
    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()

    @classmethod
    def parse(cls, entries: Iterable[str] | str | None) -> "FetchPolicy":
        if entries is None:
            return cls()
        if isinstance(entries, str):
            entries = entries.split(",")
        hosts: set[tuple[str, int | None]] = set()
        networks = []
        for raw in entries:
            entry = raw.strip().lower()
            if not entry:
                continue
            if "/" in entry:
                try:
                    networks.append(ipaddress.ip_network(entry, strict=False))
                except ValueError:
                    raise ConfigurationError(f"PUENTE_FETCH_ALLOW: {raw.strip()!r} is not a network (CIDR)") from None
                continue
            hosts.add(_host_port(entry, raw))
        return cls(frozenset(hosts), tuple(networks))

    def host_allowed(self, host: str, port: int) -> bool:
        host = host.lower().strip("[]")
        return (host, None) in self.hosts or (host, port) in self.hosts

    def address_refusal(self, host: str, port: int, address: IPAddress) -> str | None:
        """None when the node may connect to `address` for `host:port`; else why not."""
        if self.host_allowed(host, port) or self.host_allowed(str(address), port):
            return None  # named explicitly by the operator
        if address in METADATA or embedded_ipv4(address) in METADATA:
            return "a cloud metadata address"  # never opened by a network entry, only by naming it
        if any(address in network for network in self.networks if address.version == network.version):
            return None
        return refusal(address)


def _host_port(entry: str, raw: str) -> tuple[str, int | None]:
    host, port = entry, None
    if entry.startswith("["):  # [v6]:port
        close = entry.find("]")
        host, rest = entry[1:close], entry[close + 1:]
        if rest:
            port = _port(rest.lstrip(":"), raw)
    elif entry.count(":") == 1:
        host, text = entry.split(":")
        port = _port(text, raw)
    if not host:
        raise ConfigurationError(f"PUENTE_FETCH_ALLOW: {raw.strip()!r} names no host")
    return host, port


def _port(text: str, raw: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ConfigurationError(f"PUENTE_FETCH_ALLOW: {raw.strip()!r} has no valid port")
    return int(text)
