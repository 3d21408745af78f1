"""Near-duplicate step: MinHash/LSH over character shingles marks later copies with `duplicate_of`."""

from __future__ import annotations

import logging
import re
import sys
import unicodedata
import zlib
from array import array
from collections import Counter
from typing import TYPE_CHECKING, Any, NamedTuple

from scrapy.exceptions import NotConfigured

from crawler.items import Article
from pipelines.script import converter
from pipelines.store import article_key, store_location
from pipelines.storesql import DB_ERRORS, Database, StoreLocation

if TYPE_CHECKING:
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

# --- Shingles -----------------------------------------------------------------------------------
# 5 consecutive tokens (a Han character, or a whole Latin word / number) per shingle. Shorter shingles
# (2-3 Han chars) are mostly common words, so two different stories on one topic share many of them;
# longer ones make every edited character cost more shingles. 5 is the usual choice for Chinese
# near-duplicate detection and keeps same-topic stories below Jaccard 0.2 in the tests.
SHINGLE_TOKENS = 5
# Below this many distinct shingles (about 55 Han characters) a text is a headline, caption or brief:
# one shared stock sentence would make two of them "near-duplicates", so they are never matched or
# indexed (exact copies are still caught by the exact-dedup step).
MIN_SHINGLES = 50
# Only the start of a huge text is fingerprinted: it bounds the cost per item (about 20 ms), and two
# texts sharing their first 100,000 characters are the same document for any corpus purpose.
MAX_CHARS = 100_000

HAN_RANGES = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
# A run of letters/digits that is not Han (a Latin word, a number, kana, hangul): one token each.
NON_HAN_WORD_RE = re.compile(rf"[^\W_{HAN_RANGES}]+")
# Word tokens are mapped into Supplementary Private Use Area-A, so that afterwards a text is one
# string of one-character tokens and shingles are plain slices.
TOKEN_BASE = 0xF0000
TOKEN_SPACE = 0xFFFE
NON_TOKEN_RE = re.compile(rf"[^{HAN_RANGES}\U000f0000-\U000ffffd]+")
# Full-width ASCII letters and digits (Ａ, ２) mean the same as half-width ones; NFKC would also turn
# Chinese punctuation to ASCII, so only this block is folded.
FULLWIDTH_ASCII = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
# Lone surrogates (from broken decoding upstream) cannot be passed to OpenCC; they carry no text.
SURROGATE_RE = re.compile("[\ud800-\udfff]+")

# --- One-permutation MinHash (Li, Owen & Zhang 2012) with optimal densification (Shrivastava 2017) --
# Classic MinHash (128 hash functions, min of a*x+b mod p each) costs ~10 ms per 500-character text in
# pure Python; one-permutation hashing hashes each shingle once, splits the hash range into NUM_BINS
# bins and keeps the minimum per bin: ~0.2 ms, with the same Jaccard estimator and LSH behaviour.
NUM_BINS = 128  # signature length: standard error of the Jaccard estimate at J=0.8 is ~0.035
BIN_BITS = 7  # log2(NUM_BINS): the top 7 bits of the 32-bit mixed hash choose the bin
HASH_BITS = 32
HASH_MASK = (1 << HASH_BITS) - 1
EMPTY_BIN = 1 << HASH_BITS  # above every 32-bit hash
# CRC-32 is linear over GF(2); multiplying by an odd constant mod 2^32 (Knuth's golden-ratio constant)
# spreads every input bit into the top bits that pick the bin and decide the minimum.
HASH_MULTIPLIER = 0x9E3779B1
# Verification keeps 16 bits per bin (b-bit minwise hashing): 256 bytes per article instead of 512,
# and two unrelated minima agree by chance with probability 2^-16, which is corrected for below.
CODE_MASK = 0xFFFF
CODE_COLLISION = 1 / (CODE_MASK + 1)

# --- LSH banding ----------------------------------------------------------------------------------
# 20 bands of 6 rows (120 of the 128 bins): a pair becomes a candidate with probability
# 1-(1-J^6)^20: 0.998 at J=0.8, 0.98 at 0.75, 0.92 at 0.7, 0.27 at 0.5, 0.015 at 0.3, 0.001 at 0.2.
# So pairs above the default threshold are almost never missed, while different stories on one topic
# (J < 0.2) rarely cost a verification. 16x8 would store 20% fewer rows but miss 18% of pairs at J=0.75.
LSH_BANDS = 20
LSH_ROWS = 6
# At most this many candidates are verified per article (those sharing the most bands first): a
# bucket shared by many indexed articles must not make one lookup slow.
MAX_CANDIDATES = 100
# Default verification threshold on the estimated Jaccard similarity of the shingle sets. A syndicated
# copy that still carries other boilerplate lines, in the other script, with one sentence edited
# measures J=0.80 on a 350-character story (tests), and the estimate has a standard error of ~0.035:
# a 0.8 cut would miss half of such copies. Two different stories on one topic measure J~0.05.
DEFAULT_THRESHOLD = 0.75
# Identifies how fingerprints are computed; an index built with other constants cannot be queried.
FINGERPRINT_VERSION = (
    f"oph-crc32-v1:{SHINGLE_TOKENS}:{NUM_BINS}:{LSH_BANDS}x{LSH_ROWS}:{MIN_SHINGLES}:{MAX_CHARS}"
)

# Fixed, pseudo-random order in which an empty bin borrows the minimum of a non-empty bin.
DENSIFY_ORDER: tuple[tuple[int, ...], ...] = tuple(
    tuple(sorted((j for j in range(NUM_BINS) if j != i), key=lambda j, i=i: zlib.crc32(b"%d:%d" % (i, j))))
    for i in range(NUM_BINS)
)


def _word_token(match: re.Match[str]) -> str:
    word = match.group().translate(FULLWIDTH_ASCII)
    return chr(TOKEN_BASE + zlib.crc32(word.encode("utf-8")) % TOKEN_SPACE)


def shingle_text(text: str) -> str:
    """`text` as a string of one-character tokens: Simplified, lower-cased, words folded, rest removed."""
    text = SURROGATE_RE.sub("", unicodedata.normalize("NFC", text[:MAX_CHARS]))
    text = converter("t2s").convert(text).lower()
    return NON_TOKEN_RE.sub("", NON_HAN_WORD_RE.sub(_word_token, text))


def shingle_hashes(text: str) -> set[int]:
    """CRC-32 of every SHINGLE_TOKENS-token shingle of `text` (distinct values)."""
    tokens = shingle_text(text)
    count = len(tokens) - SHINGLE_TOKENS + 1
    if count <= 0:
        return set()
    encoded = tokens.encode("utf-32-le")  # 4 bytes per token: a shingle is a 20-byte slice
    width = 4 * SHINGLE_TOKENS
    slices = map(slice, range(0, 4 * count, 4), range(width, 4 * count + width, 4))
    return set(map(zlib.crc32, map(encoded.__getitem__, slices)))


def signature_of_hashes(hashes: set[int]) -> tuple[int, ...]:
    """The one-permutation MinHash of a set of shingle hashes: NUM_BINS 32-bit minima; () when empty."""
    if not hashes:
        return ()
    mins = [EMPTY_BIN] * NUM_BINS
    shift = HASH_BITS - BIN_BITS
    for value in hashes:
        value = (value * HASH_MULTIPLIER) & HASH_MASK
        position = value >> shift
        if value < mins[position]:
            mins[position] = value
    filled = mins[:]
    for position, value in enumerate(filled):
        if value == EMPTY_BIN:
            mins[position] = next(filled[j] for j in DENSIFY_ORDER[position] if filled[j] != EMPTY_BIN)
    return tuple(mins)


def minhash_signature(text: str) -> tuple[int, ...]:
    """The MinHash signature of `text` (NUM_BINS ints); () when it has no shingle."""
    return signature_of_hashes(shingle_hashes(text))


def band_keys(signature: tuple[int, ...]) -> list[int]:
    """One LSH bucket key per band: band number in the high bits, CRC-32 of the band's rows below."""
    packed = array("I", signature[: LSH_BANDS * LSH_ROWS])
    if sys.byteorder == "big":
        packed.byteswap()
    data = packed.tobytes()
    step = 4 * LSH_ROWS
    return [(band << 32) | zlib.crc32(data[band * step:(band + 1) * step]) for band in range(LSH_BANDS)]


def signature_codes(signature: tuple[int, ...]) -> bytes:
    """The stored form of a signature: the low 16 bits of each bin, little-endian."""
    codes = array("H", (value & CODE_MASK for value in signature))
    if sys.byteorder == "big":
        codes.byteswap()
    return codes.tobytes()


def estimate_jaccard(codes_a: bytes, codes_b: bytes) -> float:
    """Estimated Jaccard similarity of two shingle sets from their stored signatures."""
    if not codes_a or len(codes_a) != len(codes_b):
        return 0.0
    a, b = memoryview(codes_a).cast("H"), memoryview(codes_b).cast("H")
    agree = sum(x == y for x, y in zip(a, b)) / len(a)
    return max(0.0, (agree - CODE_COLLISION) / (1 - CODE_COLLISION))


# Backend-neutral DDL (pipelines/storesql.py): {int64} is SQLite's INTEGER / PostgreSQL's BIGINT.
SCHEMA = """
CREATE TABLE IF NOT EXISTS neardup_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
-- One row per indexed (original) article; doc is the insertion order: lower = earlier.
CREATE TABLE IF NOT EXISTS neardup_docs (
    doc {int64} PRIMARY KEY,
    article_id TEXT NOT NULL,
    shingles INTEGER NOT NULL,
    signature {blob} NOT NULL         -- NUM_BINS x 16-bit codes, little-endian
);
CREATE INDEX IF NOT EXISTS neardup_docs_article_id ON neardup_docs (article_id);
-- LSH buckets: band and bucket folded into one integer, docs as integers, no rowid: ~16 bytes a row.
CREATE TABLE IF NOT EXISTS neardup_bands (
    bucket {int64} NOT NULL,        -- band << 32 | CRC-32 of the band's rows
    doc {int64} NOT NULL,
    PRIMARY KEY (bucket, doc)
) {without_rowid};
"""
# Name of the lock that serialises index writers (schema creation, flushes) across processes.
WRITE_LOCK = "neardup"
# SQLite page cache of the index connection: the hot upper levels of both B-trees stay in memory;
# leaves come from the OS cache. 64 MiB is ~11% of the tables at a million articles (579 MiB measured).
CACHE_KIB = 64 * 1024


class Fingerprint(NamedTuple):
    """What the index needs of a text: its shingle count, stored signature codes and LSH bucket keys."""

    shingles: int
    codes: bytes
    keys: list[int]


def fingerprint(text: str) -> Fingerprint | None:
    """The text's Fingerprint; None when it has too few shingles to compare (MIN_SHINGLES)."""
    hashes = shingle_hashes(text if isinstance(text, str) else "")
    if len(hashes) < MIN_SHINGLES:
        return None
    signature = signature_of_hashes(hashes)
    return Fingerprint(len(hashes), signature_codes(signature), band_keys(signature))


class Verdict(NamedTuple):
    """What the index says about one article."""

    original: str | None  # id of the earlier article this one near-duplicates
    similarity: float  # estimated Jaccard with `original` (0.0 when none)
    status: str  # "duplicate", "added" (new original), "known" (already indexed), "new" (find), "short"


class NearDupIndex:
    """LSH index of MinHash signatures in the store's database (`location`: a SQLite path or a STORE_URL,
    SQLite or PostgreSQL) or in memory (None).

    Articles are numbered in the order they are added; the earliest verified match is the original.
    Only originals are indexed, so `duplicate_of` always names an article that is not itself a copy and
    a story syndicated a thousand times still has one entry per bucket. Additions are buffered and
    written every `batch_size` articles by `flush()` (also at `close()`); lookups see the buffer.

    Several processes may share one index (workers on one PostgreSQL store, or on one SQLite file):
    flushes are serialised (SQLite's write lock, a PostgreSQL advisory lock) and a flush numbers its
    articles after everything already written, so the earliest-written original stays the original.
    Two workers that index near-identical stories within one batch window (before either flushed)
    both keep theirs as an original, since neither could see the other's; every later copy then points
    at the one written first. A smaller NEARDUP_BATCH_SIZE narrows that window.
    """

    def __init__(self, location: str | Path | StoreLocation | None = None, threshold: float = DEFAULT_THRESHOLD,
                 batch_size: int = 200) -> None:
        self.threshold = threshold
        self.batch_size = max(1, batch_size)
        self.db = Database(location)
        if not self.db.is_postgres:
            self.db.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
        with self.db.transaction(lock=WRITE_LOCK):
            self.db.script(SCHEMA)
            self.db.execute("INSERT INTO neardup_meta (name, value) VALUES ('fingerprint', ?)"
                            " ON CONFLICT (name) DO NOTHING", (FINGERPRINT_VERSION,))
        self._check_version()
        self._pending: list[tuple[int, str, int, bytes, list[int]]] = []
        self._pending_buckets: dict[int, list[int]] = {}
        self._pending_docs: dict[int, tuple[str, bytes]] = {}
        self._pending_ids: dict[str, int] = {}
        self._next_doc = self._max_doc() + 1

    def _check_version(self) -> None:
        stored = self.db.one("SELECT value FROM neardup_meta WHERE name = 'fingerprint'")[0]
        if stored != FINGERPRINT_VERSION:
            self.db.close()
            raise ValueError(f"near-dup index was built as {stored!r}, this code computes {FINGERPRINT_VERSION!r}")

    def _max_doc(self) -> int:
        return self.db.one("SELECT COALESCE(MAX(doc), -1) FROM neardup_docs")[0]

    def __len__(self) -> int:
        return self.db.one("SELECT COUNT(*) FROM neardup_docs")[0] + len(self._pending)

    def _own_doc(self, article_id: str) -> int | None:
        row = self.db.one("SELECT MIN(doc) FROM neardup_docs WHERE article_id = ?", (article_id,))
        return row[0] if row[0] is not None else self._pending_ids.get(article_id)

    def _candidates(self, keys: list[int], before: int | None) -> list[int]:
        shared: Counter[int] = Counter()
        rows = self.db.execute(
            f"SELECT doc FROM neardup_bands WHERE bucket IN ({','.join('?' * len(keys))})", keys
        ).fetchall()
        shared.update(doc for (doc,) in rows)
        for key in keys:
            shared.update(self._pending_buckets.get(key, ()))
        ranked = sorted((doc for doc in shared if before is None or doc < before), key=lambda d: (-shared[d], d))
        return ranked[:MAX_CANDIDATES]

    def _signatures(self, docs: list[int]) -> dict[int, tuple[str, bytes]]:
        found = {doc: self._pending_docs[doc] for doc in docs if doc in self._pending_docs}
        stored = [doc for doc in docs if doc not in found]
        if stored:
            marks = ",".join("?" * len(stored))
            rows = self.db.execute(
                f"SELECT doc, article_id, signature FROM neardup_docs WHERE doc IN ({marks})", stored
            )
            found.update((doc, (article_id, codes)) for doc, article_id, codes in rows)
        return found

    def _best_match(self, keys: list[int], codes: bytes, article_id: str | None,
                    before: int | None) -> Verdict | None:
        """The earliest indexed article (before doc `before`) at or above the threshold, if any."""
        best: tuple[int, str, float] | None = None
        for doc, (other_id, other_codes) in self._signatures(self._candidates(keys, before)).items():
            if other_id == article_id or (best is not None and doc > best[0]):
                continue
            similarity = estimate_jaccard(codes, other_codes)
            if similarity >= self.threshold:
                best = (doc, other_id, similarity)
        return Verdict(best[1], best[2], "duplicate") if best is not None else None

    def find(self, text: str) -> Verdict:
        """The earliest indexed article `text` near-duplicates, without indexing it ("new" when none)."""
        found = fingerprint(text)
        if found is None:
            return Verdict(None, 0.0, "short")
        match = self._best_match(found.keys, found.codes, None, None)
        return match or Verdict(None, 0.0, "new")

    def check(self, article_id: str, text: str) -> Verdict:
        """Find the earliest indexed article `text` near-duplicates; index it when it is a new original."""
        return self.check_fingerprint(article_id, fingerprint(text))

    def check_fingerprint(self, article_id: str, found: Fingerprint | None) -> Verdict:
        """`check` with the text's fingerprint already computed (None: too short), as NearDupFingerprintPipeline
        computes it in a cleaning worker."""
        if found is None:
            return Verdict(None, 0.0, "short")
        own = self._own_doc(article_id)
        match = self._best_match(found.keys, found.codes, article_id, own)
        if match is not None:
            return match
        if own is not None:
            # A re-crawl of an indexed article keeps its first fingerprint (and its place in the order).
            return Verdict(None, 0.0, "known")
        self._add(article_id, found.shingles, found.codes, found.keys)
        return Verdict(None, 0.0, "added")

    def find_or_add(self, article_id: str, text: str) -> str | None:
        """The id of the earlier article `text` near-duplicates, or None (and `text` is indexed)."""
        return self.check(article_id, text).original

    def _add(self, article_id: str, shingles: int, codes: bytes, keys: list[int]) -> None:
        doc = self._next_doc
        self._next_doc += 1
        self._pending.append((doc, article_id, shingles, codes, keys))
        self._pending_docs[doc] = (article_id, codes)
        self._pending_ids.setdefault(article_id, doc)
        for key in keys:
            self._pending_buckets.setdefault(key, []).append(doc)
        if len(self._pending) >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        """Write buffered additions in one transaction; on error they stay buffered and it re-raises."""
        if not self._pending:
            return
        with self.db.transaction(lock=WRITE_LOCK):
            # Another process may have added articles since we numbered ours: ours come after them.
            shift = max(0, self._max_doc() + 1 - self._pending[0][0])
            self.db.executemany(
                "INSERT INTO neardup_docs (doc, article_id, shingles, signature) VALUES (?, ?, ?, ?)",
                ((doc + shift, article_id, count, codes) for doc, article_id, count, codes, _ in self._pending),
            )
            # Sorted inserts touch each B-tree leaf once per batch instead of once per row.
            bands = sorted((key, doc + shift) for doc, _, _, _, keys in self._pending for key in keys)
            self.db.executemany("INSERT INTO neardup_bands (bucket, doc) VALUES (?, ?) ON CONFLICT DO NOTHING",
                                bands)
        logger.debug("Near-dup index: wrote %d articles", len(self._pending))
        self._next_doc = self._pending[-1][0] + shift + 1
        self._pending.clear()
        self._pending_buckets.clear()
        self._pending_docs.clear()
        self._pending_ids.clear()

    def close(self) -> None:
        """Flush and close the connection."""
        try:
            self.flush()
        finally:
            self.db.close()


class NearDupFingerprintPipeline:
    """The CPU part of near-duplicate detection, stateless (so it runs in the cleaning workers): the final
    text's fingerprint, carried to NearDupPipeline in the transient `neardup_fingerprint` field. Placed
    after every step that changes the text."""

    @classmethod
    def from_crawler(cls, crawler: Any) -> NearDupFingerprintPipeline:
        if not crawler.settings.getbool("NEARDUP_ENABLED", True):
            raise NotConfigured("NEARDUP_ENABLED is off")
        return cls()

    def process_item(self, item: Article) -> Article:
        found = fingerprint(item.get("text") or "")
        item["neardup_fingerprint"] = tuple(found) if found is not None else None
        return item


class NearDupPipeline:
    """Sets `duplicate_of` on an article whose text near-duplicates an earlier one; keeps the item."""

    def __init__(self, location: str | None = None, threshold: float = DEFAULT_THRESHOLD, batch_size: int = 200,
                 stats: StatsCollector | None = None) -> None:
        self.location = location
        self.threshold = threshold
        self.batch_size = batch_size
        self.stats = stats
        self.index: NearDupIndex | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> NearDupPipeline:
        settings = crawler.settings
        if not settings.getbool("NEARDUP_ENABLED", True):
            raise NotConfigured("NEARDUP_ENABLED is off")
        # Without a store (`scrapy clean`) the index lives in memory for the run.
        return cls(store_location(settings), settings.getfloat("NEARDUP_THRESHOLD", DEFAULT_THRESHOLD),
                   settings.getint("NEARDUP_BATCH_SIZE", 200), stats=crawler.stats)

    def open_spider(self) -> None:
        self.index = NearDupIndex(self.location, self.threshold, self.batch_size)

    def close_spider(self) -> None:
        if self.index is not None:
            self.index.close()
            self.index = None

    def _inc(self, key: str) -> None:
        if self.stats:
            self.stats.inc_value(key)

    def process_item(self, item: Article) -> Article:
        if self.index is None:
            self.open_spider()
        assert self.index is not None
        article_id = str(item.get("id") or article_key(item))
        try:
            if "neardup_fingerprint" in item:  # computed in a worker (None: too short to compare)
                carried = item.pop("neardup_fingerprint")
                verdict = self.index.check_fingerprint(article_id, Fingerprint(*carried) if carried else None)
            else:
                verdict = self.index.check(article_id, item.get("text") or "")
        except DB_ERRORS as error:
            # A locked or broken index must not cost the article: it is kept, just not checked.
            logger.warning("Near-dup index error on %s: %s", article_id, error)
            self._inc("neardup/errors")
            return item
        if verdict.status == "duplicate":
            item["duplicate_of"] = verdict.original
            logger.debug("%s near-duplicates %s (Jaccard ~%.2f)", article_id, verdict.original, verdict.similarity)
            self._inc("neardup/found")
        elif verdict.status == "short":
            self._inc("neardup/skipped_short")
        return item
