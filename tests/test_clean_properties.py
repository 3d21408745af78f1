"""Properties of text cleaning over generated text: never raises, idempotent, adds nothing new."""

from __future__ import annotations

import html
import unicodedata

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from pipelines.clean import clean_text

# Text built from the pieces real pages are made of: Chinese in both scripts, half-width and
# full-width punctuation, pinyin, digits, Latin words, tags and entities, spam terms, line breaks.
PIECES = st.sampled_from([
    "市政府", "召開", "会议", "，", "。", ",", ":", "?", "!", "(", ")", "（", "）", "會(huì)", "(2024)", "(AI)",
    "2024年10月20日 09:30", "来源：新华社", "【编辑:李四】", "分享到：", "\n", "\n\n", " ", "</span>", "&nbsp;",
    "无码", "国产", "精品视频", "|", "、", "上?!拔鍌€", "锟斤拷", "English words", "11:04", "1,000", "●", "一、",
    "https://example.cn/a?b=1", "版权所有", "图为迎客松。", "“", "”",
])
TEXTS = st.one_of(st.lists(PIECES, max_size=40).map("".join), st.text(max_size=200))
# Restored punctuation is the only thing cleaning may add.
ALLOWED_NEW = set("，：；！？（） \n")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TEXTS)
def test_never_raises_and_is_idempotent(text: str) -> None:
    once = clean_text(text).text
    assert clean_text(once).text == once


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TEXTS)
def test_adds_no_new_characters(text: str) -> None:
    result = clean_text(text)
    assume("mojibake_repaired" not in result.counts)  # a repair restores characters the bytes held
    # Entities left in the text count as the characters they stand for ("&nbsp;" is a space).
    source = set(unicodedata.normalize("NFC", html.unescape(html.unescape(text))))
    assert set(result.text) - source - ALLOWED_NEW == set()
