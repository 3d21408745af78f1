"""Punctuation: NFC only (never NFKC), half-width , : ; ! ? ( ) next to Chinese restored to full width."""

from __future__ import annotations

import re
import unicodedata

HAN = r"[\u3400-\u9fff\uf900-\ufaff“”‘’《》「」『』【】、。，：；！？（）]"
FULL_WIDTH = {",": "，", ":": "：", ";": "；", "!": "！", "?": "？", "(": "（", ")": "）"}
# A half-width mark with Chinese on at least one side, and not inside a number or time (11:04, 1,000).
MARK_RE = re.compile(rf"(?<={HAN})\s*([,:;!?]+)\s*|(?<![\w.])([,:;!?]+)\s*(?={HAN})")
PAREN_RE = re.compile(r"\(([^()\n]{0,80})\)")
HAN_CHAR_RE = re.compile(r"[\u3400-\u9fff]")
URL_RE = re.compile(r"(?:https?|ftp)://\S+|www\.\S+")


def restore_punctuation(text: str) -> tuple[str, int]:
    """Full-width punctuation back where Chinese text had it; numbers, times, URLs and Latin keep theirs."""
    text = unicodedata.normalize("NFC", text)
    protected: list[str] = []

    def protect(match: re.Match[str]) -> str:
        protected.append(match.group(0))
        return f"\x00{len(protected) - 1}\x00"

    text = URL_RE.sub(protect, text)
    changed = 0

    def mark(match: re.Match[str]) -> str:
        nonlocal changed
        marks = match.group(1) or match.group(2)
        changed += len(marks)
        return "".join(FULL_WIDTH[m] for m in marks)

    text = MARK_RE.sub(mark, text)

    def paren(match: re.Match[str]) -> str:
        nonlocal changed
        inner = match.group(1)
        start, end = match.start(), match.end()
        before = text[start - 1] if start else ""
        after = text[end] if end < len(text) else ""
        if HAN_CHAR_RE.search(inner) or HAN_CHAR_RE.match(before or " ") and HAN_CHAR_RE.match(after or " "):
            changed += 1
            return f"（{inner}）"
        return match.group(0)

    text = PAREN_RE.sub(paren, text)
    text = re.sub(r"\x00(\d+)\x00", lambda m: protected[int(m.group(1))], text)
    return text, changed
