"""Script detection and conversion; also run on opencc-python-reimplemented in CI."""

from __future__ import annotations

import pytest
from scrapy.utils.test import get_crawler

from crawler.items import new_article
from pipelines.script import ScriptPipeline, convert_script, detect_script

TRADITIONAL = "黨的二十屆四中全會勝利召開，發出了乘勢而上、接續推進中國式現代化建設總動員令。"
SIMPLIFIED = "党的二十届四中全会胜利召开，发出了乘势而上、接续推进中国式现代化建设总动员令。"


def test_detects_each_script() -> None:
    assert detect_script(TRADITIONAL) == "Hant"
    assert detect_script(SIMPLIFIED) == "Hans"


def test_mixed_and_none() -> None:
    assert detect_script(TRADITIONAL + SIMPLIFIED) == "mixed"
    assert detect_script("No Chinese here, 2024.") is None


def test_text_written_alike_in_both_scripts_is_simplified() -> None:
    assert detect_script("中文大学") == "Hans"  # 学 is Simplified-only
    assert detect_script("中文") == "Hans"  # no script-specific character at all


def test_convert_t2s_and_none() -> None:
    assert convert_script(TRADITIONAL, "t2s") == SIMPLIFIED
    assert convert_script(TRADITIONAL, "none") == TRADITIONAL
    assert convert_script(SIMPLIFIED, "s2t") == TRADITIONAL


def test_pipeline_converts_and_records_original() -> None:
    step = ScriptPipeline.from_crawler(get_crawler(settings_dict={"SCRIPT_TARGET": "t2s"}))
    item = step.process_item(new_article(title="統戰工作會議", text=TRADITIONAL, source="中國新聞網",
                                         editor="唐煒妮", authors=["孟衛紅"]))
    assert (item["source"], item["editor"], item["authors"]) == ("中国新闻网", "唐炜妮", ["孟卫红"])
    assert item["text"] == SIMPLIFIED
    assert item["title"] == "统战工作会议"
    assert item["original_script"] == "Hant"
    assert item["script"] == "Hans"
    assert item["cleaning"]["script_converted_chars"] == sum(a != b for a, b in zip(TRADITIONAL, SIMPLIFIED))


def test_pipeline_none_keeps_script() -> None:
    step = ScriptPipeline(target="none")
    item = step.process_item(new_article(text=TRADITIONAL))
    assert item["text"] == TRADITIONAL
    assert (item["script"], item["original_script"]) == ("Hant", "Hant")


def test_pipeline_english_has_no_script() -> None:
    item = ScriptPipeline(target="t2s").process_item(new_article(text="An English article."))
    assert item["script"] is None and item["original_script"] is None


def test_unknown_target_fails_at_start() -> None:
    with pytest.raises(Exception):
        ScriptPipeline(target="no-such-config")
