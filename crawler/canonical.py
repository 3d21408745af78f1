"""Canonical URLs: one spelling per article, used for the Article url/id, the store key and re-crawl lookups."""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from w3lib.url import canonicalize_url

logger = logging.getLogger(__name__)

DATA = Path(__file__).parent / "data"
# Directory index files: `/news/index.html` is `/news/` on every common web server.
INDEX_FILE_RE = re.compile(r"/(index|default)\.(html?|shtml|php|aspx?|jsp)$", re.IGNORECASE)
# First host labels of mobile twins (m.example.com, wap.example.com, 3g.163.com, touch.example.com).
# `h5.` is left out: Chinese sites use it for campaign pages that have no desktop twin.
MOBILE_HOST_LABELS = frozenset({"m", "wap", "3g", "mobile", "touch"})
# First path segments of mobile twins on the same host (/m/news/1.html, /wap/news/1.html).
MOBILE_PATH_SEGMENTS = frozenset({"m", "wap", "mobile"})
# Host labels that say nothing about the site: www.example.com and example.com are one site.
NEUTRAL_HOST_LABELS = MOBILE_HOST_LABELS | {"www"}


def _lines(name: str) -> list[str]:
    text = (DATA / name).read_text(encoding="utf-8")
    return [line.strip().lower() for line in text.splitlines() if line.strip() and not line.startswith("#")]


@lru_cache(maxsize=1)
def _tracking_rules() -> tuple[frozenset[str], tuple[str, ...]]:
    names = _lines("tracking_params.txt")
    exact = frozenset(n for n in names if not n.endswith("*"))
    prefixes = tuple(n[:-1] for n in names if n.endswith("*"))
    return exact, prefixes


@lru_cache(maxsize=1)
def _two_level_suffixes() -> frozenset[str]:
    return frozenset(_lines("two_level_suffixes.txt"))


def is_tracking_param(name: str) -> bool:
    exact, prefixes = _tracking_rules()
    lowered = name.lower()
    return lowered in exact or lowered.startswith(prefixes)


def registered_labels(host: str) -> int:
    """How many trailing labels of `host` name the registered site: 2 (example.com) or 3 (example.com.cn)."""
    labels = host.split(".")
    return 3 if len(labels) >= 3 and ".".join(labels[-2:]) in _two_level_suffixes() else 2


def desktop_host(host: str) -> str:
    """The desktop twin of a mobile host: m.example.com -> www.example.com, m.news.example.com -> news.example.com."""
    labels = host.split(".")
    if labels[0] not in MOBILE_HOST_LABELS:
        return host
    rest = labels[1:]
    if len(rest) < 2:  # `m.cn` or a bare label: not a twin, leave it
        return host
    if len(rest) == registered_labels(".".join(rest)):
        return "www." + ".".join(rest)
    return ".".join(rest)


def site_of(host: str) -> str:
    """The host without its leading www / mobile label: what `same_site` compares."""
    labels = host.lower().split(".")
    while len(labels) > registered_labels(".".join(labels)) and labels[0] in NEUTRAL_HOST_LABELS:
        labels = labels[1:]
    return ".".join(labels)


def same_site(url_a: str, url_b: str) -> bool:
    return site_of(urlsplit(url_a).hostname or "") == site_of(urlsplit(url_b).hostname or "")


def _desktop_path(path: str) -> str:
    segments = path.split("/")
    # ["", "m", "news", "1.html"]: only a leading mobile segment with something after it.
    if len(segments) > 2 and segments[1].lower() in MOBILE_PATH_SEGMENTS and segments[2]:
        return "/" + "/".join(segments[2:])
    return path


def canonical_url(url: str) -> str:
    """The canonical spelling of an http(s) URL; other URLs come back unchanged.

    Lower-case scheme and host, no default port, no fragment, no tracking parameters, remaining
    parameters sorted, no trailing directory index file, and the desktop twin of a mobile URL.
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return url
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return url
    scheme = parts.scheme.lower()
    host = desktop_host(parts.hostname.lower().rstrip("."))
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    if port and port != {"http": 80, "https": 443}[scheme]:
        host = f"{host}:{port}"
    path = INDEX_FILE_RE.sub("/", _desktop_path(parts.path or "/"))
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not is_tracking_param(k)]
    rebuilt = urlunsplit((scheme, host, path, urlencode(query), ""))
    return canonicalize_url(rebuilt)


def choose_canonical(page_url: str, declared: str | None) -> str:
    """The canonical URL of a fetched page, honouring its `rel=canonical` when that is trustworthy.

    A declared canonical is used when it is http(s), on the same site as the page, and not the site's
    home page for a page that is not itself the home page (a common template error that would fold
    every article of a site into one).
    """
    own = canonical_url(page_url)
    if not declared or not declared.strip():
        return own
    target = canonical_url(urljoin(page_url, declared.strip()))
    parts = urlsplit(target)
    if parts.scheme not in ("http", "https") or not same_site(own, target):
        return own
    if parts.path in ("", "/") and not parts.query and urlsplit(own).path not in ("", "/"):
        return own
    return target
