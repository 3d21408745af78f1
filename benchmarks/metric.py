"""The extraction metric of docs/design.md: bag-of-tokens precision, recall and F1."""

from __future__ import annotations

import re
from collections import Counter

from pipelines.script import convert_script

TOKEN_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|[^\W\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


def tokens(text: str) -> Counter[str]:
    """Han characters one by one, other words as \\w+ runs; lower-cased, OpenCC t2s first."""
    return Counter(TOKEN_RE.findall(convert_script(text or "", "t2s").lower()))


def prf(extracted: str, reference: str) -> tuple[float, float, float]:
    got, want = tokens(extracted), tokens(reference)
    if not want:
        return (1.0, 1.0, 1.0) if not got else (0.0, 1.0, 0.0)
    overlap = sum((got & want).values())
    precision = overlap / sum(got.values()) if got else 0.0
    recall = overlap / sum(want.values())
    f1 = 2 * precision * recall / (precision + recall) if overlap else 0.0
    return precision, recall, f1
