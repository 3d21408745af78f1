"""Decoding candidates: what a page declares is a candidate, not the answer; plausibility decides."""

from __future__ import annotations

import codecs

import pytest

from pipelines.decode import DecodeError, decode_bytes, implausibility, normalise_encoding

TEXT = "国务院新闻办公室今天举行发布会，介绍今年以来经济运行情况。记者了解到，全国粮食产量保持稳定。"
TRADITIONAL = "行政長官今日出席活動，表示政府會繼續支持社區發展，並加強長者服務。"


def page(text: str, meta: str = "", title: str = "Page") -> str:
    return f"<html><head>{meta}<title>{title}</title></head><body><p>{text}</p></body></html>"


@pytest.mark.parametrize(("name", "expected"), [
    ("gb2312", "gb18030"), ("GBK", "gb18030"), ("x-gbk", "gb18030"), ("cp936", "gb18030"),
    ("big5", "big5hkscs"), ("Big5", "big5hkscs"), ("utf8", "utf-8"), ("UTF-8", "utf-8"),
    ("iso-8859-1", "cp1252"), ("'gb2312'", "gb18030"), ("no-such-charset", None), (None, None),
])
def test_declared_charsets_promoted(name: str | None, expected: str | None) -> None:
    assert normalise_encoding(name) == expected


def test_declared_gb2312_served_utf8() -> None:
    body = page(TEXT, '<meta charset="gb2312">').encode("utf-8")
    decoded = decode_bytes(body)
    # The declared charset is named in the reason as the one passed over.
    assert (decoded.encoding, decoded.reason) == ("utf-8", "strict fallback (meta gb18030 rejected)")
    assert TEXT in decoded.text


def test_no_declaration_reason() -> None:
    decoded = decode_bytes(page(TEXT).encode("gbk"))
    assert (decoded.encoding, decoded.reason) == ("gb18030", "strict fallback")


def test_gbk_without_declaration() -> None:
    decoded = decode_bytes(page(TEXT).encode("gbk"))
    assert decoded.encoding == "gb18030" and TEXT in decoded.text


def test_gbk_page_with_characters_outside_gb2312_declared_gb2312() -> None:
    text = TEXT + "镕基与喆、堃、珺都不在GB2312里。"
    decoded = decode_bytes(page(text, '<meta charset="gb2312">').encode("gb18030"))
    assert (decoded.encoding, decoded.reason) == ("gb18030", "meta") and text in decoded.text


def test_big5_without_declaration_is_not_read_as_gb18030() -> None:
    """Big5 bytes often decode without error as GB18030, into nonsense: plausibility must tell."""
    body = page(TRADITIONAL).encode("big5")
    body.decode("gb18030")  # the wrong reading raises nothing
    decoded = decode_bytes(body)
    assert decoded.encoding == "big5hkscs" and TRADITIONAL in decoded.text


def test_hkscs_characters_in_a_big5_page() -> None:
    text = TRADITIONAL + "香港的𨋢和嘅字。"
    decoded = decode_bytes(page(text, '<meta charset="big5">').encode("big5hkscs"))
    assert decoded.encoding == "big5hkscs" and text in decoded.text


def test_http_header_wrong_body_gbk() -> None:
    decoded = decode_bytes(page(TEXT).encode("gbk"), http_encoding="utf-8")
    assert decoded.encoding == "gb18030" and TEXT in decoded.text


def test_http_header_right_wins_over_meta() -> None:
    decoded = decode_bytes(page(TEXT, '<meta charset="big5">').encode("gbk"), http_encoding="gbk")
    assert (decoded.encoding, decoded.reason) == ("gb18030", "http")


def test_bom_decides() -> None:
    decoded = decode_bytes(codecs.BOM_UTF8 + page(TEXT, '<meta charset="gbk">').encode("utf-8"))
    assert (decoded.encoding, decoded.reason) == ("utf-8", "bom") and decoded.text.startswith("<html>")
    decoded = decode_bytes(codecs.BOM_UTF16_LE + page(TEXT).encode("utf-16-le"))
    assert decoded.encoding == "utf-16" and TEXT in decoded.text


def test_mixed_damage_falls_back_to_the_least_damaged_lenient_reading() -> None:
    body = page(TEXT).encode("utf-8") + b"\xff\xfe\xfa" + page(TEXT).encode("utf-8")
    decoded = decode_bytes(body)
    assert decoded.reason.startswith("lenient") and decoded.encoding == "utf-8"
    assert decoded.text.count(TEXT) == 2 and "\ufffd" in decoded.text


def test_english_page_in_windows_1252() -> None:
    text = "The café’s naïve façade – “quoted” – costs €5."
    decoded = decode_bytes(page(text, '<meta charset="iso-8859-1">').encode("cp1252"))
    assert decoded.encoding == "cp1252" and text in decoded.text


@pytest.mark.parametrize(("body", "reason"), [
    (b"", "empty"), (b"   \n\t ", "empty"), (b"\x89PNG\r\n\x1a\n" + bytes(200), "binary"),
    (b"%PDF-1.7\n" + bytes(range(256)), "binary"), (b"\x1f\x8b\x08\x00" + bytes(100), "binary"),
    (bytes(range(32)) * 50, "binary"),
])
def test_not_text(body: bytes, reason: str) -> None:
    with pytest.raises(DecodeError, match=reason):
        decode_bytes(body)


def test_implausibility_ranks_mojibake_above_clean_text() -> None:
    wrong = TEXT.encode("utf-8").decode("gb18030", errors="replace")
    latin = TEXT.encode("utf-8").decode("cp1252", errors="replace")
    assert implausibility(TEXT) == 0
    assert implausibility(wrong) > 10 and implausibility(latin) > 10
