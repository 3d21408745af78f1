"""Network safety: only http(s), never private or local addresses, redirects checked before they are followed."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urljoin, urlsplit

from scrapy.exceptions import CannotResolveHostError, IgnoreRequest
from scrapy.http import Request, Response
from twisted.internet.error import DNSLookupError

from crawler.resolver import REFUSED_HOSTS, address_refusal, literal_ip, split_allowed

logger = logging.getLogger(__name__)

SCHEMES = frozenset({"http", "https"})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})  # the ones RedirectMiddleware follows
DEFAULT_PORTS = {"http": 80, "https": 443}


class NetworkSafetyMiddleware:
    """Downloader middleware refusing, with a counted reason (`safety/refused/<reason>`):

    - URLs that are not http(s) (file:, data:, ftp:, s3:...), whether started, linked or redirected to;
    - literal addresses that are loopback, private, link-local, CGNAT, multicast, reserved or unspecified,
      in any spelling (`2130706433`, `0x7f.1`, `[::ffff:127.0.0.1]`), unless NETWORK_ALLOW_PRIVATE is on
      or the exact `host:port` is in NETWORK_ALLOW_HOSTS; names are checked once resolved (crawler/resolver.py);
    - redirects whose target is refused, and redirect loops (`redirect_loop`) before REDIRECT_MAX_TIMES.

    It sits at 620: its process_response sees a 3xx before RedirectMiddleware (600) and its process_exception
    sees a refused name before RetryMiddleware (550) would retry it.
    """

    def __init__(self, allow_private: bool = False, allowed_hosts: list[str] | None = None, stats: Any = None) -> None:
        self.allow_private = allow_private
        self.allowed_names, self.allowed_pairs = split_allowed(allowed_hosts or [])
        self.stats = stats
        self.logged: set[tuple[str, str]] = set()

    @classmethod
    def from_crawler(cls, crawler: Any) -> NetworkSafetyMiddleware:
        settings = crawler.settings
        return cls(settings.getbool("NETWORK_ALLOW_PRIVATE"), settings.getlist("NETWORK_ALLOW_HOSTS"),
                   crawler.stats)

    def refusal(self, url: str) -> str | None:
        """Why `url` must not be fetched, or None."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            return "bad_url"
        if parts.scheme not in SCHEMES:
            return "scheme"
        host = (parts.hostname or "").rstrip(".")
        if not host:
            return "bad_url"
        if self.allow_private or f"{host}:{port or DEFAULT_PORTS[parts.scheme]}" in self.allowed_pairs:
            return None
        address = literal_ip(host)
        if address is None:
            return None  # a name: SafeResolver checks what it resolves to
        return address_refusal(address)

    def refuse(self, url: str, reason: str, why: str = "") -> IgnoreRequest:
        if self.stats is not None:
            self.stats.inc_value(f"safety/refused/{reason}")
        host = urlsplit(url).netloc if reason != "scheme" else url.split(":", 1)[0] + ":"
        if (host, reason) not in self.logged:
            self.logged.add((host, reason))
            logger.warning("Refusing %s (%s)%s; further refusals of %s are counted, not logged",
                           url[:200], reason, why, host)
        return IgnoreRequest(f"safety:{reason} {url[:200]}")

    def process_request(self, request: Request) -> None:
        reason = self.refusal(request.url)
        if reason is not None:
            raise self.refuse(request.url, reason)
        return None

    def process_response(self, request: Request, response: Response) -> Response:
        location = response.headers.get(b"Location")
        if not (response.status in REDIRECT_STATUSES and location) or request.meta.get("dont_redirect"):
            return response
        target = urljoin(request.url, location.decode("latin-1").strip())
        reason = self.refusal(target)
        if reason is not None:
            raise self.refuse(target, reason, f" redirected from {request.url[:200]}")
        chain = [*request.meta.get("redirect_urls", []), request.url]
        if target.split("#", 1)[0] in {url.split("#", 1)[0] for url in chain}:
            raise self.refuse(request.url, "redirect_loop", f" back to {target[:200]} after {len(chain)} hops")
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        if not isinstance(exception, (CannotResolveHostError, DNSLookupError)):
            return None
        host = (urlsplit(request.url).hostname or "").rstrip(".")
        reason = REFUSED_HOSTS.get(host)
        if reason is not None:  # refused by SafeResolver (which logged it): no retry
            if self.stats is not None:
                self.stats.inc_value(f"safety/refused/{reason}")
            raise IgnoreRequest(f"safety:{reason} {request.url[:200]}")
        return None
