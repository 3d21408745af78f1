"""Network safety policy (which addresses a crawl may reach) and the DNS resolver that enforces it."""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterable
from typing import Any

from scrapy.resolver import CachingThreadedResolver
from twisted.internet.error import DNSLookupError

logger = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# Shared address space of carrier-grade NAT (RFC 6598): inside a provider's network, never a web site.
CGNAT = ipaddress.ip_network("100.64.0.0/10")
# Hosts the resolver refused, with the reason, for the middleware to count: Twisted's HostnameEndpoint drops
# the resolver's error and reports "no results for hostname lookup", so the reason travels through here.
REFUSED_HOSTS: dict[str, str] = {}
REFUSED_HOSTS_MAX = 10_000


def parse_ipv4_number(part: str) -> int | None:
    """One part of a WHATWG IPv4 host: decimal, 0x hex or 0-prefixed octal; None when it is not a number."""
    base = 10
    if part[:2].lower() == "0x":
        part, base = part[2:], 16
    elif len(part) > 1 and part.startswith("0"):
        part, base = part[1:], 8
    if part == "":
        return 0
    try:
        return int(part, base) if part.isalnum() and part.isascii() else None
    except ValueError:
        return None


def literal_ip(host: str) -> IPAddress | None:
    """The address a URL host names literally, as browsers and inet_aton read it: `127.0.0.1`, `[::1]`,
    `2130706433`, `0x7f.1`, `0177.0.0.1`; None for a host name (it is checked once resolved)."""
    host = host.strip("[]").rstrip(".").lower()
    if not host:
        return None
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        pass
    parts = host.split(".")
    if len(parts) > 4 or parse_ipv4_number(parts[-1]) is None:
        return None  # a name: its last label is not a number
    numbers = [parse_ipv4_number(part) for part in parts]
    if any(n is None for n in numbers):
        return None
    *head, last = [n for n in numbers if n is not None]
    if any(n > 255 for n in head) or last >= 256 ** (5 - len(parts)):
        return None
    value = last
    for index, number in enumerate(head):
        value += number << (8 * (3 - index))
    return ipaddress.IPv4Address(value)


def address_refusal(address: IPAddress) -> str | None:
    """Why a crawl must not connect to `address`, or None for a public address."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is not None:
            return address_refusal(embedded)
    checks = (("unspecified", address.is_unspecified), ("loopback", address.is_loopback),
              ("link_local", address.is_link_local), ("multicast", address.is_multicast),
              ("cgnat", address in CGNAT), ("reserved", address.is_reserved), ("private", address.is_private))
    for reason, refused in checks:
        if refused:
            return reason
    return None if address.is_global else "reserved"


def split_allowed(hosts: Iterable[str]) -> tuple[set[str], set[str]]:
    """NETWORK_ALLOW_HOSTS entries split into (bare host names, `host:port` pairs), lower-cased."""
    names, pairs = set(), set()
    for entry in hosts:
        entry = entry.strip().lower()
        if not entry:
            continue
        host, _, port = entry.rpartition(":") if not entry.endswith("]") else (entry, "", "")
        if port.isdigit() and host:
            pairs.add(f"{host.strip('[]')}:{port}")
            names.add(host.strip("[]"))
        else:
            names.add(entry.strip("[]"))
    return names, pairs


class RefusedAddressError(DNSLookupError):
    """A host name resolved to an address the crawl must not reach."""


def remember_refusal(host: str, reason: str) -> bool:
    """Record why `host` was refused; True the first time (the only time it is logged)."""
    first = host not in REFUSED_HOSTS
    if len(REFUSED_HOSTS) >= REFUSED_HOSTS_MAX:
        REFUSED_HOSTS.clear()
    REFUSED_HOSTS[host] = reason
    return first


class SafeResolver(CachingThreadedResolver):
    """Scrapy's caching resolver, checking every answer (cached ones too) against the network policy: a
    public-looking name that resolves to 127.0.0.1 or 169.254.169.254 fails like an unknown name.

    The check is on the address the connection then uses, so DNS rebinding between a check and the
    connect is impossible. Set as TWISTED_DNS_RESOLVER; NETWORK_ALLOW_PRIVATE turns the check off and
    NETWORK_ALLOW_HOSTS lets named hosts through (their port is checked by the safety middleware)."""

    def __init__(self, reactor: Any, cache_size: int, timeout: float, allow_private: bool = False,
                 allowed_hosts: Iterable[str] = ()) -> None:
        super().__init__(reactor, cache_size, timeout)
        self.allow_private = allow_private
        self.allowed_names = split_allowed(allowed_hosts)[0]

    @classmethod
    def from_crawler(cls, crawler: Any, reactor: Any) -> SafeResolver:
        settings = crawler.settings
        cache_size = settings.getint("DNSCACHE_SIZE") if settings.getbool("DNSCACHE_ENABLED") else 0
        return cls(reactor, cache_size, settings.getfloat("DNS_TIMEOUT"),
                   settings.getbool("NETWORK_ALLOW_PRIVATE"), settings.getlist("NETWORK_ALLOW_HOSTS"))

    def getHostByName(self, name: str, timeout: Any = ()) -> Any:
        answer = super().getHostByName(name, timeout)
        if self.allow_private or name.lower().rstrip(".") in self.allowed_names:
            return answer
        return answer.addCallback(self._check, name)

    def _check(self, address: str, name: str) -> str:
        try:
            reason = address_refusal(ipaddress.ip_address(address))
        except ValueError:
            reason = "unparsable_address"
        if reason is None:
            return address
        host = name.lower().rstrip(".")
        if remember_refusal(host, reason):
            logger.warning("Refusing %s: it resolves to %s (%s); set NETWORK_ALLOW_PRIVATE or NETWORK_ALLOW_HOSTS "
                           "to crawl it", name, address, reason)
        raise RefusedAddressError(f"{name} resolves to a {reason} address ({address})")
