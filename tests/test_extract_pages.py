"""Golden pages, one per failure class of real Chinese news pages, through the whole chain (no store).

Pages: tests/pages/*.html, built by tests/pages/build.py as a server would send them. Expected fields:
tests/pages/expected.json, every field asserted exactly (text included, one paragraph per line).
Regenerate after a reviewed change with `python -m tests.test_extract_pages` and check the diff line by line.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from scrapy.settings import Settings

from crawler import settings as project_settings
from crawler.chain import Chain
from crawler.items import new_article
from tests.pages.build import PAGES, URLS

PAGES_DIR = Path(__file__).parent / "pages"
EXPECTED = PAGES_DIR / "expected.json"
FIELDS = ("encoding", "title", "published", "updated", "authors", "editor", "source", "site_name", "script",
          "original_script", "language", "text")
FETCHED_AT = "2024-11-23T08:00:00+00:00"  # places dates written without a year


def run_page(name: str) -> dict[str, Any]:
    settings = Settings()
    settings.setmodule(project_settings)
    settings.set("STORE_ENABLED", False)
    url = URLS.get(name, f"http://news.example.cn/{name}.html")
    body = (PAGES_DIR / f"{name}.html").read_bytes()
    with Chain(settings) as chain:
        article = chain.process(new_article(id=name, url=url, body=body, kind="html", fetched_at=FETCHED_AT))
    return {field: article.get(field) for field in FIELDS}


def test_pages_are_built_from_the_generator(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.pages import build as builder

    monkeypatch.setattr(builder, "HERE", tmp_path)
    builder.build()
    for name in PAGES:
        assert (tmp_path / f"{name}.html").read_bytes() == (PAGES_DIR / f"{name}.html").read_bytes(), name


@pytest.mark.parametrize("name", sorted(PAGES))
def test_golden_page(name: str) -> None:
    expected = json.loads(EXPECTED.read_text(encoding="utf-8"))[name]
    assert run_page(name) == expected


def test_failure_classes_covered() -> None:
    """The pages reproduce what they are named after (guards the generator against silent edits)."""
    lying = (PAGES_DIR / "declared_gb2312_served_utf8.html").read_bytes()
    assert b"charset=gb2312" in lying and lying.decode("utf-8")
    gbk = (PAGES_DIR / "gbk_without_charset.html").read_bytes()
    assert b"charset" not in gbk.lower()
    with pytest.raises(UnicodeDecodeError):
        gbk.decode("utf-8")
    table = (PAGES_DIR / "table_layout_without_paragraphs.html").read_bytes()
    assert b"<p>" not in table and b"<td>" in table


if __name__ == "__main__":
    EXPECTED.write_text(json.dumps({name: run_page(name) for name in sorted(PAGES)}, ensure_ascii=False, indent=1)
                        + "\n", encoding="utf-8")


def test_xhtml_page_with_an_xml_declaration_is_extracted() -> None:
    """Government sites serve XHTML that opens with `<?xml ... encoding="gb2312"?>`: lxml refuses such a
    declaration in a decoded string, and must not obey it over the decoding either."""
    from pipelines.extract import extract_article

    prose = "国务院新闻办公室今天举行新闻发布会，介绍今年前三季度国民经济运行情况。" * 4
    page = ('<?xml version="1.0" encoding="gb2312"?>\n<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" '
            '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">\n<html xmlns="http://www.w3.org/1999/xhtml">'
            f"<head><title>前三季度经济运行总体平稳_某省人民政府</title></head><body><h1>前三季度经济运行总体平稳</h1>"
            f"<p>{prose}</p><p>{prose}</p></body></html>")
    extraction = extract_article(page)
    assert extraction is not None
    assert extraction.title == "前三季度经济运行总体平稳"
    assert extraction.text.splitlines() == ["前三季度经济运行总体平稳", prose, prose]  # the clean step drops the title line


def test_furniture_named_by_a_part_of_a_compound_class_is_pruned() -> None:
    """BEM-style and hyphen-joined names ("detail-content__content--recommend", "article_share_bar") mark
    furniture as plainly as "recommend" alone; an inline element's name part ("hljs-comment" on a code
    span) does not."""
    from pipelines.extract import extract_article

    story = ["国家统计局今天发布数据，十月份全国规模以上工业增加值同比增长百分之五点三，比上月加快零点一个百分点。",
             "分三大门类看，采矿业增加值同比增长百分之四点六，制造业增长百分之五点一，电力行业增长百分之二点八。",
             "统计局新闻发言人表示，工业生产总体保持平稳，但外部环境依然复杂严峻，需求不足的问题仍然存在。"]
    other = ["他三十一岁在春晚一炮而红，观众都以为他隐退了，其实他早已在十年前遗憾离世，令无数歌迷唏嘘不已。"]
    page = ("<html><head><title>十月份工业生产平稳</title></head><body><div class='detail-content'>"
            "<h1>十月份工业生产平稳</h1><div class='article_share_bar'>分享到：微信 微博 QQ空间</div>"
            + "".join(f"<p>{line}</p>" for line in story)
            + "<pre><code><span class='hljs-comment'># 统计口径说明：规模以上工业</span>\nrate = 5.3</code></pre>"
            "<div class='detail-content__content--recommend'><h2>猜你喜欢</h2>"
            + "".join(f"<p>{line}</p>" for line in other) + "</div></div></body></html>")
    extraction = extract_article(page)
    assert extraction is not None
    lines = extraction.text.splitlines()
    assert all(line in lines for line in story)
    assert "# 统计口径说明：规模以上工业" in extraction.text
    assert not any("春晚" in line or "分享到" in line or "猜你喜欢" in line for line in lines)


def test_short_result_that_misses_the_pages_prose_is_second_guessed() -> None:
    """A listicle whose entries sit in <section>s between ad slots: trafilatura's precision mode keeps only
    the lead (over 500 characters, so its second opinion is not asked); the lead holds under a fifth of the
    page's prose, and the mode that holds the entries is taken."""
    from pipelines.extract import extract_article

    lead = ("市统计局今天发布数据显示，今年前十个月全市居民人均可支配收入同比增长百分之五点八，增速比上半年加快零点三个百分点。"
            "统计局有关负责人表示，居民收入增长与经济增长基本同步，就业形势总体稳定，各项稳就业政策持续发力，重点群体就业得到有效保障。"
            "从收入来源看，工资性收入、经营净收入、财产净收入和转移净收入全面增长，其中经营净收入增速最快，个体经营户的收入明显回升。"
            "从城乡看，农村居民收入增速继续快于城镇居民，城乡居民收入相对差距进一步缩小，农村居民在县城就业和创业的人数也在增加。"
            "从消费看，居民人均消费支出同比增长百分之八点六，服务性消费支出增长更快，旅游、文化和体育消费成为新的增长点，带动相关行业回暖。"
            "从价格看，居民消费价格温和上涨，食品价格总体稳定，能源价格有所回落，居民实际收入增长好于名义增长，生活质量持续改善和提高。"
            "统计局表示，下一步将继续加强对居民收入和消费的监测分析，及时反映新情况新问题，为全市稳增长、促消费、惠民生提供统计支撑。"
            "专家认为，今年以来一系列促消费、稳就业政策效果逐步显现，居民收入预期改善，消费意愿回升，全年居民收入有望保持稳定增长态势。"
            "市政府有关部门表示，将继续实施城乡居民增收计划，多渠道增加居民财产性收入，完善社会保障体系，让发展成果更多更公平惠及全体市民。")
    regions = ([f"第{n}片" for n in "一二三四五六七八九十"] + [f"第十{n}片" for n in "一二三四五六七八九"]
               + [f"第二十{n}片" for n in "一二三四五六七八九"])
    entries = [f"{name}区前十个月居民人均可支配收入同比增长百分之{5 + i % 3}点{i}，其中工资性收入增长较快，"
               f"服务业和制造业岗位增加带动{name}区城镇居民增收，{name}区农村居民经营净收入也保持了较快增长势头。"
               for i, name in enumerate(regions)]
    page = ("<html><head><title>前十个月居民收入稳步增长</title></head><body><article><h1>前十个月居民收入稳步增长</h1>"
            f"<p>{lead}</p>" + "".join(
                f"<div class='ad-slot'><div id='gpt-{i}'></div></div><section class='entry entry--image'><h2>{e}</h2>"
                f"<figure><img src='/i{i}.jpg' alt='图{i}'></figure></section>" for i, e in enumerate(entries))
            + "</article></body></html>")
    extraction = extract_article(page)
    assert extraction is not None
    assert extraction.text.splitlines() == ["前十个月居民收入稳步增长", lead, *entries]


def test_short_prose_result_is_kept_over_another_block() -> None:
    """A brief whose second opinion finds another block of the page (a newsletter box) keeps the brief;
    a first result that is no prose (counters, a button row) gives way to the second opinion."""
    from pipelines.extract import is_prose, lines_held

    brief = "Actor Michael Emerson goes into detail describing the process of making his prosthetic head."
    box = "The biggest stories of the day delivered to your inbox.\nYou may unsubscribe at any time."
    assert is_prose(brief) and lines_held(brief, box) == 0
    assert not is_prose("89\n66\n25\n分享\n作者其他文章")
    assert lines_held(brief, f"{brief}\nIt took months of fittings.") == 1


def test_second_opinion_that_adds_only_a_video_players_chrome_is_not_taken() -> None:
    """A brief under a video player: trafilatura's second opinion holds the brief but adds the player's
    speed menu, error message and duration line; what it adds is no sentences, so the brief stands."""
    from pipelines.extract import adds_sentences, extract_article

    brief = ("本报讯 以光影之名，探寻城市文化魅力。下周一晚十点起，电影频道将推出系列访谈节目《城市影人》，"
             "五位电影人将讲述他们的成长故事和艺术生涯。一起期待吧！")
    player = ("<div class='video-box'><div class='player'><div class='playerControl'><span>倍速</span>"
              "<ul><li>2.0X</li><li>1.5X</li><li>1.0X</li></ul><span class='pTime'>00:00</span></div>"
              "<div class='titleInfo'>《城市影人》下周一起电影频道22:00播出</div><div class='errorInfoBox'>"
              "<div>很抱歉，当前视频播放失败</div><div>错误代码：<span>QVS.4100</span></div></div></div>"
              "<div class='reminder'><span>时长：01:45</span><span>建议WIFI下打开</span></div></div>")
    page = ("<html><head><title>《城市影人》下周一起播出</title></head><body><div class='nav'><a href='/'>首页</a>"
            "<a href='/a'>电影</a></div><div class='article'><h1>《城市影人》下周一起播出</h1>" + player
            + f"<p>{brief}</p></div><div class='footer'>版权所有</div></body></html>")
    extraction = extract_article(page)
    assert extraction is not None
    assert extraction.text == brief
    # What extends a brief is sentences, in any script; closing quotes after the mark count.
    assert adds_sentences(f"{brief}\n他说：“节目每周一播出一期。”", brief)
    assert adds_sentences("Officials said. It took months of fittings and a team of ten.", "Officials said.")
    assert not adds_sentences(f"{brief}\n错误代码：QVS.4100\n时长：01:45建议WIFI下打开", brief)
    assert not adds_sentences(brief, brief)
    assert adds_sentences(f"{brief}\n{brief}", brief)  # a paragraph the page repeats, held once


def test_teaser_cards_closing_the_content_container_are_trimmed() -> None:
    """Teaser cards (topic, headline, reading time, each card one link) placed in the article's container
    after its last paragraph: trafilatura keeps them; the trailing run of linked lines goes."""
    from pipelines.extract import extract_article

    story = ["市文化和旅游局今天发布消息，今年国庆假期全市共接待游客八百六十万人次，同比增长百分之十二点四，旅游收入创历史新高。",
             "从客源结构看，外地游客占比接近六成，其中长三角地区游客增长最快；从消费结构看，住宿、餐饮和文创产品消费增长明显。",
             "市文化和旅游局有关负责人表示，将继续推出夜游、研学和乡村旅游等新产品，满足游客多样化需求，推动文旅消费持续回暖。"]
    cards = [("文化", "博物馆夜场开放首周迎来两万名观众", "5"), ("旅游", "十条秋季徒步线路发布 覆盖全市山地景区", "3"),
             ("城市", "老城区街巷改造完工 二十处历史建筑重新开放", "8"), ("美食", "本地老字号推出秋季新品 排队长达两小时", "4")]
    page = ("<html><head><title>国庆假期接待游客八百六十万人次</title></head><body><div class='nav'><a href='/'>首页</a>"
            "<a href='/news'>新闻</a></div><div id='root'><div class='x1'><h1>国庆假期接待游客八百六十万人次</h1>"
            + "".join(f"<p>{line}</p>" for line in story)
            + "".join(f"<a href='/v/{i}'><div class='c1'><div class='c2'><p class='t'>{topic}</p></div><p class='h'>{title}</p>"
                      f"<p class='m'>{minutes}<!-- --> <!-- -->分钟</p></div></a>" for i, (topic, title, minutes) in enumerate(cards))
            + "</div></div><div class='footer'>关于我们</div></body></html>")
    extraction = extract_article(page)
    assert extraction is not None
    assert extraction.text.splitlines() == story
    assert extraction.counts["linked_tail_lines"] == 3 * len(cards)


def test_linked_tail_rule_keeps_short_runs_and_prose() -> None:
    from lxml import html as lxml_html

    from pipelines.extract import trim_linked_tail

    tree = lxml_html.fromstring("<div><p>第一段正文。</p><p>第二段正文。</p><a href='/1'>相关一</a><a href='/2'>相关二</a>"
                                "<a href='/3'><span>相关三</span></a><ul><li><a href='/4'>相关四</a></li></ul></div>")
    assert trim_linked_tail("第一段正文。\n第二段正文。\n相关一\n- 相关二\n相关三\n12", tree) == ("第一段正文。\n第二段正文。", 4)
    assert trim_linked_tail("第一段正文。\n第二段正文。\n相关一\n相关二", tree) == ("第一段正文。\n第二段正文。\n相关一\n相关二", 0)
    assert trim_linked_tail("相关一\n相关二\n相关三\n相关四", tree)[1] == 0  # all linked: nothing is a tail
    assert trim_linked_tail("第一段正文。\n相关一\n相关二\n第二段正文。", tree)[1] == 0  # prose closes the text


def test_loose_text_between_blocks_is_read_as_paragraphs() -> None:
    """A story body written straight into its container between ad slots, with inline links (as CMSs that
    emit text + <p></p> spacers do): each run of loose text becomes one paragraph, one line, and is not
    split at its links; a container whose loose text is no prose is left alone."""
    from lxml import html as lxml_html

    from pipelines.extract import extract_article, wrap_loose_text

    lead = ("（本报讯）第二场友谊赛中，<a href='/tag/home'>主队</a>以三比一战胜来访的客队，将系列赛总比分扳成一比一平。"
            "比赛原定晚上七点开始，因<a href='/tag/rain'>降雨</a>推迟了约四十分钟，双方球员在雨中完成了热身。")
    second = "客队开场后攻势猛烈，前十分钟就两次击中门柱，但主队门将发挥出色，多次化解险情，稳住了局面，双方互有攻守。"
    more = ["下半场主队连入三球，其中两球来自定位球配合，主教练赛后表示，球队在训练中专门演练了这些战术。",
            "客队主教练则认为，球队在雨战中的适应能力不足，下一场比赛将调整首发阵容，力争在主场扳回一城。",
            "据悉，系列赛第三场将于下周六在客队主场进行，届时两队将争夺系列赛的最终胜利，门票已经售罄。"]
    page = ("<html><head><title>主队三比一取胜 系列赛战成平局</title></head><body><div class='nav'><a href='/'>首页</a>"
            "<a href='/sports'>体育</a></div><div class='main'><h1>主队三比一取胜 系列赛战成平局</h1>"
            "<div class='byline'>记者 王明</div><div class='detail_txt'><div align='center'><div id='gpt-1'>"
            "<script>show_ad(1)</script></div></div>\n" + lead + "<p style='margin-top: 5px;'></p> " + second
            + "<p></p><div id='teads'></div><div align='center'><div id='gpt-2'><script>show_ad(2)</script></div></div>"
            + "".join(f"<p>{line}</p>" for line in more)
            + "</div></div><div class='footer'>关于我们 联系我们</div></body></html>")
    extraction = extract_article(page)
    assert extraction is not None
    assert extraction.text.splitlines() == ["主队三比一取胜 系列赛战成平局", lxml_html.fromstring(lead).text_content(),
                                            second, *more]
    assert extraction.counts["loose_text_paragraphs"] == 2

    labels = lxml_html.fromstring("<div>更多<div>内容</div>查看全部 https://a.cn/x<span>1</span></div>")
    assert wrap_loose_text(labels) == 0 and labels.find("p") is None
