"""Safe XML for sitemaps and feeds: bounded bodies (gzip inflated in chunks), no entities, no DTD, no network."""

from __future__ import annotations

import html
import re
import zlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

from lxml import etree

# The sitemap protocol's own limit for one uncompressed file; feeds are far smaller.
DEFAULT_MAX_BYTES = 50 * 1024 * 1024
GZIP_MAGIC = b"\x1f\x8b"
# Inflate this much at a time: a gzip bomb grows by at most one chunk past the limit before it is refused.
INFLATE_CHUNK = 1024 * 1024
# A server may gzip an already gzipped sitemap (.xml.gz sent with Content-Encoding: gzip): two layers at most.
MAX_GZIP_LAYERS = 2
# Chinese sites write times without a zone ("2024-11-05 09:30"); they mean China time.
CHINA_TIME = timezone(timedelta(hours=8))
# A bare `&` (not a character or entity reference): the most common error of hand-made sitemaps with
# query strings (?id=1&type=2). Escaped before a second parse, instead of letting recovery eat the URL.
BARE_AMPERSAND_RE = re.compile(rb"&(?!(?:#\d+|#x[0-9a-fA-F]+|[A-Za-z_][\w.-]*);)")
# The DOCTYPE comes before the root element, after at most an XML declaration and comments.
PROLOG_BYTES = 64 * 1024
# Same range as the pipeline's datelines (pipelines/metadata.py): outside it a date is a placeholder or a typo.
PLAUSIBLE_YEARS = (1990, 2100)
# "CST" in RFC 822 dates is US Central time to Python, but China Standard Time in Chinese feeds (it is what
# Java prints for Asia/Shanghai, and many Chinese CMSs are Java).
CST_RE = re.compile(r"\s+CST$")
W3C_DATE_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T\s](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?\s*(Z|[+-]\d{2}:?\d{2})?)?$")


class XmlRefused(ValueError):
    """A body that is not parsed: `reason` is too_large, entities or malformed (counted by the spiders)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class XmlDocument:
    root: etree._Element
    size: int  # bytes parsed (after gunzip)
    recovered: bool  # not well-formed; what the parser could read was kept


def _parser(recover: bool) -> etree.XMLParser:
    # resolve_entities=False: entity references stay references (never expanded, never fetched);
    # huge_tree=False keeps libxml2's limits on depth and text node size.
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False,
                           dtd_validation=False, recover=recover, remove_comments=True, remove_pis=True)


def inflate(data: bytes, max_bytes: int) -> bytes:
    """Gunzip `data` in chunks, refusing (too_large) as soon as the output passes `max_bytes`.

    Concatenated gzip members are read one after another; a truncated stream keeps what was inflated.
    """
    chunks: list[bytes] = []
    total = 0
    pending = data
    while pending[:2] == GZIP_MAGIC:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            while pending and not inflater.eof:
                chunk = inflater.decompress(pending, INFLATE_CHUNK)
                pending = inflater.unconsumed_tail
                total += len(chunk)
                if total > max_bytes:
                    raise XmlRefused("too_large", f"more than {max_bytes} bytes once gunzipped")
                chunks.append(chunk)
        except zlib.error as error:
            if not chunks:
                raise XmlRefused("malformed", f"bad gzip data: {error}") from error
            break
        if not inflater.eof:
            break  # truncated: keep what was inflated
        pending = inflater.unused_data
    return b"".join(chunks)


def _parse(data: bytes, recover: bool) -> etree._Element | None:
    try:
        return etree.fromstring(data, _parser(recover))
    except (etree.XMLSyntaxError, ValueError):  # ValueError: lxml refuses some inputs outright
        return None


def _last_error(data: bytes) -> str:
    try:
        etree.fromstring(data, _parser(recover=False))
    except (etree.XMLSyntaxError, ValueError) as error:
        return str(error)[:200]
    return "no root element"


def _prolog_declares_entities(data: bytes) -> bool:
    """A fast look at the internal DTD subset, before libxml2 sees it (ASCII-compatible encodings; the parsed
    tree is checked again afterwards for the others)."""
    start = data.find(b"<!DOCTYPE", 0, PROLOG_BYTES)
    if start < 0:
        return False
    end = data.find(b"]>", start)
    return b"<!ENTITY" in data[start: end if end > 0 else len(data)]


def _declared_entities(root: etree._Element) -> list[str]:
    dtd = root.getroottree().docinfo.internalDTD
    return [entity.name for entity in dtd.iterentities()] if dtd is not None else []


def parse_xml(body: bytes, max_bytes: int = DEFAULT_MAX_BYTES) -> XmlDocument:
    """Parse a sitemap or feed body (plain or gzipped) safely; raises XmlRefused with the reason."""
    if len(body) > max_bytes:
        raise XmlRefused("too_large", f"{len(body)} bytes, limit {max_bytes}")
    for _ in range(MAX_GZIP_LAYERS):
        if body[:2] == GZIP_MAGIC:
            body = inflate(body, max_bytes)
    if _prolog_declares_entities(body):
        raise XmlRefused("entities", "the DOCTYPE declares entities")
    recovered = False
    root = _parse(body, recover=False)
    if root is None:
        recovered = True
        repaired = BARE_AMPERSAND_RE.sub(b"&amp;", body)
        root = _parse(repaired, recover=False)
        if root is None:
            root = _parse(repaired, recover=True)
        if root is None:
            raise XmlRefused("malformed", _last_error(body))
    entities = _declared_entities(root)
    if entities:
        # Entity declarations are how "billion laughs" and external-entity (file:///etc/passwd) attacks
        # work; sitemaps and feeds never need them. Nothing was expanded or fetched (resolve_entities=False).
        raise XmlRefused("entities", f"DOCTYPE declares {', '.join(entities[:5])}")
    return XmlDocument(root, len(body), recovered)


def local_name(element: etree._Element) -> str:
    """The tag without its namespace (`{http://www.sitemaps.org/...}url` -> `url`); '' for comments etc."""
    tag = element.tag
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def children(element: etree._Element, name: str) -> list[etree._Element]:
    """Direct children with this local name, whatever their namespace."""
    return [child for child in element if local_name(child) == name]


def child(element: etree._Element, name: str) -> etree._Element | None:
    found = children(element, name)
    return found[0] if found else None


def text_of(element: etree._Element | None) -> str:
    """The element's text, undeclared entity references (`&nbsp;` of old RSS DTDs) read as HTML entities."""
    if element is None:
        return ""
    parts = [element.text or ""]
    for node in element:
        if isinstance(node, etree._Entity):
            parts.append(html.unescape(node.text or ""))
        elif isinstance(node.tag, str):
            parts.append(text_of(node))
        parts.append(node.tail or "")
    return "".join(parts).strip()


def child_text(element: etree._Element, name: str) -> str:
    return text_of(child(element, name))


def parse_date(value: str) -> str | None:
    """A sitemap / feed date (W3C datetime, ISO 8601 or RFC 822) as the Article's ISO form: `YYYY-MM-DD`, or
    `YYYY-MM-DDTHH:MM[:SS]+08:00` (China time, like the pipeline's datelines); None when unreadable."""
    value = value.strip()
    if not value:
        return None
    moment: datetime | None = None
    match = W3C_DATE_RE.match(value)
    if match:
        year, month, day, hour, minute, second, zone = match.groups()
        try:
            if hour is None:
                day_only = date(int(year), int(month), int(day))
                return day_only.isoformat() if PLAUSIBLE_YEARS[0] <= day_only.year <= PLAUSIBLE_YEARS[1] else None
            moment = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0))
        except ValueError:
            return None
        if zone:
            zone = "+00:00" if zone == "Z" else zone if ":" in zone else f"{zone[:3]}:{zone[3:]}"
            moment = moment.replace(tzinfo=datetime.strptime(zone, "%z").tzinfo)
    else:
        try:
            moment = parsedate_to_datetime(CST_RE.sub(" +0800", value))
        except (TypeError, ValueError, IndexError):
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=CHINA_TIME)
    if not PLAUSIBLE_YEARS[0] <= moment.year <= PLAUSIBLE_YEARS[1]:
        return None
    # Seconds only when there are any, like the pipeline's own datelines.
    return moment.astimezone(CHINA_TIME).isoformat(timespec="seconds" if moment.second else "minutes")


def as_datetime(iso: str) -> datetime:
    """An ISO date from `parse_date` (or the store) as an aware datetime; a bare date is its 00:00 China time."""
    moment = datetime.fromisoformat(iso)
    return moment if moment.tzinfo else moment.replace(tzinfo=CHINA_TIME)
