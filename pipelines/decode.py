"""Decode step: bytes to text, Chinese-first, never trusting a page's declared charset blindly."""

from __future__ import annotations

import codecs
import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scrapy.exceptions import DropItem

from crawler.items import Article

if TYPE_CHECKING:
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

# Declared charsets that are subsets of a larger one: decode with the superset, which reads every
# byte sequence the subset does plus the characters real pages mix in (GBK in "gb2312" pages, HKSCS
# in "big5" ones).
PROMOTIONS = {
    "gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "cp936": "gb18030", "gb_2312-80": "gb18030",
    "euc-cn": "gb18030", "big5": "big5hkscs", "cp950": "big5hkscs", "x-euc-tw": "big5hkscs",
    "ascii": "utf-8", "us-ascii": "utf-8", "iso-8859-1": "cp1252", "latin-1": "cp1252",
}
# Fallbacks tried after what the page says, in this order: most Chinese pages are one of these.
FALLBACKS = ("utf-8", "gb18030", "big5hkscs")
BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
# A meta charset declaration must sit in the head; 4 KB covers every real head start.
META_SCAN_BYTES = 4096
META_CHARSET_RE = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_:.-]+)""", re.IGNORECASE)
# Binary formats sometimes served as text/html (images, archives, documents).
BINARY_MAGIC = (b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"%PDF", b"PK\x03\x04", b"\x1f\x8b", b"Rar!",
                b"7z\xbc\xaf", b"\x00\x00\x01\x00", b"OggS", b"RIFF", b"\x7fELF", b"BZh", b"\xfd7zXZ")
# Share of control bytes (NUL and other C0 except tab/newlines) above which content is binary.
BINARY_CONTROL_SHARE = 0.05
BINARY_SAMPLE_BYTES = 8192
# Plausibility is judged on a sample: enough text to see which decoding is right on any page.
SCORE_SAMPLE_CHARS = 20000
# Mojibake signatures: UTF-8 Chinese read as Latin-1/CP1252 ("ä¸", "å"), GBK read as UTF-8 and back
# ("锟斤拷"), UTF-8 read as GBK (runs of 鍙/鏂/銆 etc. are rare characters typical of it).
MOJIBAKE_RE = re.compile(r"[ÃÂâäåæçèéï][\x80-\xbf\u0152-\u2122]|锟斤拷|[鍙鏂銆鈥锛缁浠涓鐨鍚闂鑰]{3,}")
RARE_RE = re.compile(r"[\ue000-\uf8ff\ufffd\x80-\x9f\u3400-\u4dbf\U00020000-\U0003ffff]")
COMMON_HAN_RE = re.compile(r"[\u4e00-\u9fff]")


class DecodeError(ValueError):
    """Bytes that are not a text document; str(error) is the short reason (`empty`, `binary`)."""


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str
    reason: str


def normalise_encoding(name: str | None) -> str | None:
    """Python's name for a declared charset, promoted to its superset; None when unknown."""
    if not name:
        return None
    name = name.strip().strip("\"'").lower()
    name = PROMOTIONS.get(name, name)
    try:
        canonical = codecs.lookup(name).name
    except LookupError:
        return None
    canonical = {"utf-8-sig": "utf-8", "gbk": "gb18030", "gb2312": "gb18030", "big5": "big5hkscs"}.get(
        canonical, canonical)
    return PROMOTIONS.get(canonical, canonical)


# Control bytes text never holds (tab, newlines, form feed, carriage return and escape excepted).
CONTROL_BYTES = bytes(byte for byte in range(32) if byte < 9 or 13 < byte < 32 and byte != 27)


def check_binary(body: bytes) -> None:
    """Raise DecodeError for empty or binary bodies."""
    if not body.strip():
        raise DecodeError("empty")
    head = body[:BINARY_SAMPLE_BYTES]
    if head.startswith(BINARY_MAGIC):
        raise DecodeError("binary")
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return
    controls = len(head) - len(head.translate(None, CONTROL_BYTES))
    if b"\x00" in head or controls / len(head) > BINARY_CONTROL_SHARE:
        raise DecodeError("binary")


def declared_charset(body: bytes) -> str | None:
    match = META_CHARSET_RE.search(body[:META_SCAN_BYTES])
    return match.group(1).decode("ascii", "ignore") if match else None


def implausibility(text: str) -> float:
    """Signs of a wrong decoding per 1,000 characters: mojibake signatures, replacement / private-use /
    C1 / rare characters. Lower is more plausible."""
    sample = text[:SCORE_SAMPLE_CHARS]
    if not sample:
        return 0.0
    bad = 20 * len(MOJIBAKE_RE.findall(sample)) + len(RARE_RE.findall(sample))
    return 1000 * bad / len(sample)


def decode_bytes(body: bytes, http_encoding: str | None = None) -> Decoded:
    """Decode `body` trying BOM, HTTP charset, meta charset, then UTF-8 / GB18030 / Big5-HKSCS strictly,
    and keep the most plausible result. Raises DecodeError for empty and binary bodies."""
    check_binary(body)
    for bom, encoding in BOMS:
        if body.startswith(bom):
            try:
                return Decoded(body[len(bom):].decode(encoding), encoding, "bom")
            except UnicodeDecodeError:
                break
    candidates: list[tuple[str, str]] = []
    for source, name in (("http", http_encoding), ("meta", declared_charset(body))):
        encoding = normalise_encoding(name)
        if encoding and encoding not in (c[0] for c in candidates):
            candidates.append((encoding, source))
    for encoding in FALLBACKS:
        if encoding not in (c[0] for c in candidates):
            candidates.append((encoding, "fallback"))
    best: tuple[float, int, str, str, str] | None = None
    for order, (encoding, source) in enumerate(candidates):
        try:
            text = body.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
        score = implausibility(text)
        # A declared charset that decodes cleanly wins ties; between fallbacks the order decides.
        key = (score, order, encoding, source, text)
        if best is None or key[:2] < best[:2]:
            best = key
        if score == 0 and source != "fallback":
            break
    if best is not None:
        _, _, encoding, source, text = best
        if source != "fallback":
            return Decoded(text, encoding, source)
        passed_over = [f"{where} {name}" for name, where in candidates if where != "fallback" and name != encoding]
        reason = "strict fallback" + (f" ({', '.join(passed_over)} rejected)" if passed_over else "")
        return Decoded(text, encoding, reason)
    # Nothing decodes strictly: the least damaged lenient decoding, said as such.
    lenient = min(
        ((body.decode(e, errors="replace"), e) for e, _ in candidates),
        key=lambda pair: pair[0].count("\ufffd"),
    )
    return Decoded(lenient[0], lenient[1], "lenient: replaced undecodable bytes")


class DecodePipeline:
    """Turns `body` bytes into `html` (or `text` for text inputs) and records the encoding used."""

    def __init__(self, stats: StatsCollector | None = None) -> None:
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Any) -> DecodePipeline:
        return cls(stats=crawler.stats)

    def process_item(self, item: Article) -> Article:
        body = item.get("body")
        if body is None:
            return item
        del item["body"]
        try:
            decoded = decode_bytes(body, item.get("http_encoding"))
        except DecodeError as error:
            if self.stats:
                self.stats.inc_value(f"decode/dropped/{error}")
            raise DropItem(f"decode:{error}") from None
        item["encoding"] = decoded.encoding
        item["encoding_reason"] = decoded.reason
        if item.get("kind") == "text":
            item["text"] = decoded.text
        else:
            item["html"] = decoded.text
        if decoded.reason.startswith("lenient") and self.stats:
            self.stats.inc_value("decode/lenient")
        return item
