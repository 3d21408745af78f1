"""HTML-level spam pruning."""

from __future__ import annotations

from lxml import html as lxml_html

from pipelines.htmlspam import prune_spam_html

BODY = "<div class='content'>" + "<p>市政府今天召开新闻发布会，介绍今年经济运行情况和下一步工作安排。</p>" * 6 + "</div>"
FARM = "<div class='links'>主站蜘蛛池模板: " + " | ".join(
    f"<a href='http://spam{n}.example.invalid/'>{t}</a>"
    for n, t in enumerate(["国产精品无码", "成人av在线观看", "午夜福利视频", "一级毛片", "久久精品亚洲", "日韩精品无码",
                           "亚洲av无码", "精品少妇人妻"])) + "</div>"
NAV = "<ul class='nav'>" + "".join(f"<li><a href='http://site{n}.example.cn/'>合作单位{n}</a></li>" for n in range(10)) + "</ul>"


def test_hidden_farm_and_head_spam_removed_content_kept() -> None:
    page = (f"<html><head><title>999精品在线视频,手机成人午夜在线视频_重庆行政</title>"
            f"<meta name='keywords' content='国产精品无码,成人av'></head><body>"
            f"<div style='display:none'>无码 成人av 午夜福利</div><div style='position:absolute;left:-9999px'>毛片</div>"
            f"<span hidden>国产精品</span>{BODY}{FARM}{NAV}</body></html>")
    tree = lxml_html.document_fromstring(page)
    counts = prune_spam_html(tree)
    assert counts == {"hidden_elements": 3, "link_farms": 1, "head_spam": 3}
    text = tree.text_content()
    assert "无码" not in text and "毛片" not in text and "蜘蛛池" not in text
    assert text.count("市政府今天召开新闻发布会") == 6
    assert "合作单位9" in text  # a plain list of partner links is not a spam farm
    assert tree.findtext(".//title") == "重庆行政"


def test_hidden_wrapper_of_the_article_is_kept() -> None:
    tree = lxml_html.document_fromstring(f"<html><body><div style='display:none'>{BODY}</div></body></html>")
    assert prune_spam_html(tree) == {}
    assert "市政府" in tree.text_content()
