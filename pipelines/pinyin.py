"""Pinyin annotations: `會(huì)` -> `會`, only when the bracket holds toned pinyin syllables."""

from __future__ import annotations

import re
import unicodedata

# Tone-marked vowels (and ü forms) that only pinyin writes; a bracket without one is not an annotation
# ("(AI)", "(2024)", "(北京)" stay).
TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿ"
# One toned syllable: initial, final with at least one toned vowel; up to three syllables in a bracket.
SYLLABLE = rf"(?:[bpmfdtnlgkhjqxrzcsyw]|zh|ch|sh)?[a-zü{TONED}]*[{TONED}][a-zü{TONED}]*(?:ng|n|r)?"
ANNOTATION_RE = re.compile(rf"[(（]\s*({SYLLABLE}(?:[\s'’]?{SYLLABLE}){{0,2}})\s*[)）]", re.IGNORECASE)
PRECEDED_BY_RE = re.compile(r"[^\s\d(（]")


def strip_pinyin_annotations(text: str) -> tuple[str, int]:
    """Remove toned-pinyin brackets that follow a character; returns the text and how many went."""
    text = unicodedata.normalize("NFC", text)
    removed = 0

    def replace(match: re.Match[str]) -> str:
        nonlocal removed
        start = match.start()
        if start == 0 or not PRECEDED_BY_RE.match(text[start - 1]):
            return match.group(0)
        removed += 1
        return ""

    return ANNOTATION_RE.sub(replace, text), removed
