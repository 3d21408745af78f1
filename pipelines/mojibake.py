"""Mojibake: repair GBK/UTF-8 misreads where the bytes allow it, else drop the damaged sentence."""

from __future__ import annotations

import re
from functools import lru_cache

from pipelines.script import converter

HAN_RE = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
# Replacement characters, the classic GBK-of-replacement runs, and private-use code points (which a
# GB18030 decoding of UTF-8 bytes produces and no Chinese prose contains).
HARD_DAMAGE_RE = re.compile(r"锟斤拷|烫烫烫|屯屯屯|[\ufffd\ue000-\uf8ff]")
# A literal "?" fused to punctuation or characters where a multibyte character was lost in a
# wrong decoding ("上?!拔鍌€", "?;顒"): the byte-level trace of UTF-8 read as GBK.
# A "?" right before an orphaned pinyin annotation ("?chuàng)") is the same trace.
# Next to a Chinese character only: English "Have you?'" and "that one?!" are prose.
LOST_BYTES_RE = re.compile(
    r"[\u4e00-\u9fff]\?[!;:,.\"'€]|\?[!;:,.\"'€][\u4e00-\u9fff]|[\u4e00-\u9fff]\?\?|\?[\u4e00-\u9fff]{1,3}\?|\?[a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ]+\)"
)
# A lone "?" before closing punctuation stands for one character lost in decoding ("動員令?。").
LOST_MARK_RE = re.compile(r"(?<=[\u4e00-\u9fff])\?(?=[。，、；：！？”’）])")
# Sentences end at full-width stops only: half-width "?" and "!" are often part of the damage.
SENTENCE_RE = re.compile(r"[^。！？；\n]*(?:[。！？；]+|$)")
# Characters outside the 3,755 most common (GB2312 level 1) counted as rare; a run of this many rare
# characters in a row is not Chinese prose but a misread byte stream.
RARE_RUN = 3
# Japanese kanji (雰囲気, 馴染み) are rare in Chinese: a sentence with runs of hiragana ("でも", "やすい")
# is Japanese. UTF-8 read as GBK yields single kana among rare characters ("浠婂ぉ澶"), never runs.
KANA_RE = re.compile(r"[\u3041-\u309f]{2,}")
# UTF-8 read as Latin-1 / CP1252: a lead byte letter followed by a continuation-byte symbol ("ä¸­").
LATIN_MOJIBAKE_RE = re.compile(r"[ÃÂâäåæçèéï][\x80-\xbf\u0152-\u2122]")
RARE_MARKERS_RE = re.compile(r"[€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ]")


@lru_cache(maxsize=1)
def common_characters() -> frozenset[str]:
    """GB2312 level-1 characters (byte rows 0xB0-0xD7): the 3,755 most frequent Chinese characters."""
    chars = set()
    for high in range(0xB0, 0xD8):
        for low in range(0xA1, 0xFF):
            try:
                chars.add(bytes((high, low)).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return frozenset(chars)


@lru_cache(maxsize=1)
def uncommon_run_re() -> re.Pattern[str]:
    """Runs of RARE_RUN or more Han characters outside the common set: where rare runs can be."""
    common = common_characters()
    ranges: list[str] = []
    for low, high in ((0x3400, 0x9FFF), (0xF900, 0xFAFF)):
        start = None
        for code in range(low, high + 2):
            inside = code <= high and chr(code) not in common
            if inside and start is None:
                start = code
            elif not inside and start is not None:
                ranges.append(f"{chr(start)}-{chr(code - 1)}" if code - 1 > start else chr(start))
                start = None
    return re.compile(f"[{''.join(ranges)}]{{{RARE_RUN},}}")


@lru_cache(maxsize=65536)
def is_rare(char: str) -> bool:
    common = common_characters()
    return char not in common and converter("t2s").convert(char) not in common


def rare_run(sentence: str) -> bool:
    """Whether `sentence` holds RARE_RUN rare characters in a row (a scan by regex first: the common
    characters of ordinary prose never start the per-character check)."""
    if KANA_RE.search(sentence):
        return False
    for match in uncommon_run_re().finditer(sentence):
        run = 0
        for char in match.group():
            run = run + 1 if is_rare(char) else 0
            if run >= RARE_RUN:
                return True
    return False


def is_damaged(sentence: str) -> bool:
    return bool(HARD_DAMAGE_RE.search(sentence) or LOST_BYTES_RE.search(sentence) or rare_run(sentence)
                or LATIN_MOJIBAKE_RE.search(sentence)
                or (RARE_MARKERS_RE.search(sentence) and HAN_RE.search(sentence)
                    and re.search(r"[\u4e00-\u9fff][€‚ƒ„†‡ˆ‰Š‹ŒŽ]|[€‚ƒ„†‡ˆ‰Š‹ŒŽ][\u4e00-\u9fff]", sentence)))


def try_repair(sentence: str) -> str | None:
    """The sentence re-read as UTF-8 bytes that were decoded as GBK or Latin-1, if that is clean.

    Punctuation at the end (and any correctly decoded prefix such as "他说：") may have been added
    after the damage, so each split point of the sentence is tried for where the damage starts."""
    han = bool(HAN_RE.search(sentence))
    body = sentence.rstrip("。！？；")
    tail = sentence[len(body):]
    for start in range(len(body)):
        prefix, damaged = body[:start], body[start:]
        if is_damaged(prefix):
            break
        for wrong in ("gb18030", "cp1252", "latin-1"):
            try:
                repaired = damaged.encode(wrong).decode("utf-8")
            except (UnicodeEncodeError, UnicodeDecodeError):
                continue
            if repaired != damaged and not is_damaged(repaired) and (HAN_RE.search(repaired) or not han):
                return prefix + repaired + tail
    return None


def repair_mojibake(text: str) -> tuple[str, dict[str, int]]:
    """Per sentence: keep clean ones, repair damaged ones the bytes allow, drop the rest."""
    repaired = dropped = 0
    lines = []
    for line in text.split("\n"):
        if not (HARD_DAMAGE_RE.search(line) or "?" in line or RARE_MARKERS_RE.search(line)
                or LATIN_MOJIBAKE_RE.search(line) or rare_run(line)):
            lines.append(line)
            continue
        kept = []
        for sentence in SENTENCE_RE.findall(line):
            if not sentence or not is_damaged(sentence):
                kept.append(sentence)
                continue
            fixed = try_repair(sentence)
            if fixed is not None:
                kept.append(fixed)
                repaired += 1
            elif not HAN_RE.search(sentence):
                kept.append(sentence)  # not Chinese: a stray "Â°" costs less than the sentence
            else:
                dropped += 1
        lines.append("".join(kept))
    text, lost = LOST_MARK_RE.subn("", "\n".join(lines))
    counts = {"mojibake_repaired": repaired, "mojibake_dropped": dropped, "mojibake_lost_marks": lost}
    return text, {k: v for k, v in counts.items() if v}
