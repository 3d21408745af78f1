"""Spam lines: keyword-stuffed runs and link-farm lines, scored with a weighted lexicon."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from pipelines.script import detect_script

DATA = Path(__file__).parent / "data"
SEGMENT_SPLIT_RE = re.compile(r"[,，|｜、\s/]+")
LINK_FARM_LEAD_RE = re.compile(r"^\s*(主站蜘蛛池模板|蜘蛛池|友情链接|友情鏈接|友链)\s*[:：]")
# Keyword stuffing is a run of at least this many short segments...
MIN_SEGMENTS = 4
# ...whose mean length stays under this (sentences are longer; keyword titles are short).
MAX_MEAN_SEGMENT_CHARS = 16
# Weight 3 terms are unambiguous: two of them in one run make it spam.
STRONG_WEIGHT = 3
STRONG_HITS = 2
# Otherwise the run needs this much weight per segment (weak terms alone rarely reach it).
WEIGHT_PER_SEGMENT = 0.8
# A Simplified keyword run inside a Traditional page is out of place: the injected-spam signature.
SCRIPT_MISMATCH_WEIGHT = 2
# A title segment weighing this much is spam ("999精品在线视频"); one weak term ("国产大飞机") is not.
TITLE_SEGMENT_WEIGHT = 2


@lru_cache(maxsize=1)
def lexicon() -> dict[str, int]:
    terms = {}
    for line in (DATA / "spam_lexicon.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            term, weight = line.rsplit("\t", 1)
            terms[term.strip().lower()] = int(weight)
    return terms


@lru_cache(maxsize=1)
def lexicon_re() -> re.Pattern[str]:
    """Any lexicon term: one scan rules out the many texts that hold none."""
    return re.compile("|".join(map(re.escape, sorted(lexicon(), key=len, reverse=True))))


def spam_weight(text: str) -> tuple[int, int, int]:
    """(total weight, strong hits, heaviest term's weight) of lexicon terms in `text`."""
    lowered = text.lower()
    if not lexicon_re().search(lowered):
        return 0, 0, 0
    total = strong = heaviest = 0
    for term, weight in lexicon().items():
        hits = lowered.count(term)
        if hits:
            total += weight * hits
            strong += hits if weight >= STRONG_WEIGHT else 0
            heaviest = max(heaviest, weight)
    return total, strong, heaviest


def is_spam_line(line: str, page_script: str | None = None) -> bool:
    """Whether `line` is a keyword-stuffed run or a link-farm line."""
    if LINK_FARM_LEAD_RE.match(line):
        return bool(spam_weight(line)[0])
    segments = [s for s in SEGMENT_SPLIT_RE.split(line) if s]
    if len(segments) < MIN_SEGMENTS or sum(map(len, segments)) / len(segments) > MAX_MEAN_SEGMENT_CHARS:
        return False  # too few or too long segments for a keyword run: no need to weigh the terms
    weight, strong, heaviest = spam_weight(line)
    if not weight:
        return False
    if page_script == "Hant" and detect_script(line) == "Hans":
        weight += SCRIPT_MISMATCH_WEIGHT
    # Weak terms alone ("国产 亚洲 视频") never make a line spam: news uses them too.
    return strong >= STRONG_HITS or (heaviest > 1 and weight >= WEIGHT_PER_SEGMENT * len(segments))


def remove_spam_lines(text: str) -> tuple[str, dict[str, int], float]:
    """Drop spam lines; returns the text, counts and the share of characters that were spam."""
    lines = text.split("\n")
    page_script = detect_script(text)
    kept, spam_chars = [], 0
    for line in lines:
        if is_spam_line(line, page_script):
            spam_chars += len(line)
        else:
            kept.append(line)
    total = sum(map(len, lines)) or 1
    removed = len(lines) - len(kept)
    return "\n".join(kept), ({"spam_lines": removed} if removed else {}), spam_chars / total


def clean_title_spam(title: str) -> tuple[str, int]:
    """A title without keyword-stuffed segments (hacked pages prepend spam to <title>)."""
    parts = re.split(r"([,，|｜_])", title)
    kept = [p for p in parts[::2] if p.strip() and spam_weight(p)[0] < TITLE_SEGMENT_WEIGHT]
    if len(kept) == len(parts[::2]):
        return title, 0
    return " ".join(p.strip() for p in kept), len(parts[::2]) - len(kept)
