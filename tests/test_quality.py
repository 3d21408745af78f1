"""Quality gates."""

from __future__ import annotations

import pytest
from scrapy.exceptions import DropItem

from crawler.items import new_article
from pipelines.quality import QualityPipeline, quality_problem


def test_short_text_fails() -> None:
    assert quality_problem("太短了。", 30) == "too_short"
    assert quality_problem("这是一篇足够长的新闻报道正文，" * 3, 30) is None


def test_punctuation_does_not_count() -> None:
    assert quality_problem("，。！？" * 20 + "短", 5) == "too_short"


def test_pipeline_drops_with_reason() -> None:
    with pytest.raises(DropItem, match="quality:too_short"):
        QualityPipeline(min_chars=10).process_item(new_article(text="短"))
