"""Text cleaning: each repair on its own, the seeds end to end (golden files), and negative cases."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from crawler.items import new_article
from pipelines.boilerplate import remove_boilerplate
from pipelines.clean import CleanPipeline, clean_text
from pipelines.lines import collapse_duplicate_lines, join_broken_lines, strip_html_residue
from pipelines.mojibake import repair_mojibake
from pipelines.pinyin import strip_pinyin_annotations
from pipelines.punctuation import restore_punctuation
from pipelines.script import ScriptPipeline
from pipelines.spam import clean_title_spam, is_spam_line, remove_spam_lines

SEEDS = Path(__file__).parent / "seeds"
SEED_NAMES = sorted(p.name.removesuffix(".txt") for p in SEEDS.glob("*.txt") if not p.name.endswith(".expected.txt"))
PINYIN_RE = re.compile(r"[(（][a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ' ]+[)）]")
HALF_WIDTH_IN_CHINESE_RE = re.compile(r"(?<=[\u4e00-\u9fff])[,:;!?](?=[\u4e00-\u9fff])")
FURNITURE_RE = re.compile(r"分享到|大字体|小字体|发表评论|文明上网|版权声明|Copyright|蜘蛛池|无码|</?span|&nbsp;|^顶部$|^评论$",
                          re.MULTILINE)


def clean_seed(name: str) -> dict:
    item = new_article(kind="text", text=(SEEDS / f"{name}.txt").read_text(encoding="utf-8"))
    return dict(ScriptPipeline("t2s").process_item(CleanPipeline().process_item(item)))


@pytest.mark.parametrize("name", SEED_NAMES)
def test_seed_golden(name: str) -> None:
    expected = (SEEDS / f"{name}.expected.txt").read_text(encoding="utf-8").rstrip("\n")
    assert clean_seed(name)["text"] == expected


@pytest.mark.parametrize("name", SEED_NAMES)
def test_seed_defects_gone(name: str) -> None:
    text = clean_seed(name)["text"]
    assert not PINYIN_RE.search(text)
    assert "?" not in text and "\ufffd" not in text and "锟斤拷" not in text
    assert not HALF_WIDTH_IN_CHINESE_RE.search(text)
    assert not FURNITURE_RE.search(text)
    assert "\n\n" not in text and text == text.strip()


def test_seed_metadata_moved_out_of_text() -> None:
    article = clean_seed("002_c62b255271628773")
    assert (article["published"], article["editor"], article["source"]) == ("2022-07-27T11:04+08:00", "唐炜妮", "中国新闻报")
    assert article["title"] == "奋力谱写江淮大地统战工作新篇章"
    assert article["text"].count("图为黄山迎客松。成展鹏 摄") == 1
    hacked = clean_seed("004_3f17f6fd49595921")
    assert hacked["authors"] == ["孟卫红"] and hacked["editor"] == "钟学丽"
    assert hacked["cleaning"]["spam_lines"] == 2


def test_seed_broken_lines_joined() -> None:
    text = clean_seed("001_46a2e87751a437cb")["text"]
    assert "找朋友、找导师等六大功能" in text
    assert "9个招商引智项目成功签约" in text
    assert "杭州：构建“三化融合”新模式\n" in text  # headings stay on their own line


def test_pinyin_annotations() -> None:
    text, removed = strip_pinyin_annotations("黨的二十屆四中全會(huì)勝利召開(kāi)，重慶各區、縣(自治縣)(2024)(AI)(北京)(州)")
    assert text == "黨的二十屆四中全會勝利召開，重慶各區、縣(自治縣)(2024)(AI)(北京)(州)"
    assert removed == 2
    assert strip_pinyin_annotations("記者(jì zhě)報道")[0] == "記者報道"
    assert strip_pinyin_annotations("English (see) and (ok)")[0] == "English (see) and (ok)"


def test_mojibake_dropped_or_repaired() -> None:
    damaged = "上海著力建設品牌矩陣。助力上?!拔鍌€(gè)中心”建設。據統計，百余家媒體進行了報道。"
    text, counts = repair_mojibake(damaged)
    assert text == "上海著力建設品牌矩陣。據統計，百余家媒體進行了報道。"
    assert counts == {"mojibake_dropped": 1}
    garbled = "国家统计局今天发布数据".encode("utf-8").decode("latin-1")  # UTF-8 read as Latin-1
    text, counts = repair_mojibake(f"第一句正常。{garbled}。")
    assert text == "第一句正常。国家统计局今天发布数据。" and counts == {"mojibake_repaired": 1}
    garbled = "今天天气很好".encode("utf-8").decode("gb18030")  # UTF-8 read as GBK: "浠婂ぉ澶╂皵寰堝ソ"
    assert repair_mojibake(f"他说：{garbled}。")[0] == "他说：今天天气很好。"
    assert repair_mojibake("这是正常的句子。")[1] == {}


def test_punctuation_restored_only_between_chinese() -> None:
    assert restore_punctuation("發出了乘勢而上,接續推進:總動員令!")[0] == "發出了乘勢而上，接續推進：總動員令！"
    for kept in ("时间 11:04", "共1,000人", "https://a.cn/x?a=1,2", "Hello, world: ok", "in (AI) we"):
        assert restore_punctuation(kept)[0] == kept
    assert restore_punctuation("人工智能(AI)技术")[0] == "人工智能（AI）技术"


def test_lines_repairs() -> None:
    assert strip_html_residue("正文</span>内容&amp;nbsp;更多")[0] == "正文内容\xa0更多"
    assert collapse_duplicate_lines("图为迎客松。\n图为迎客松。\n正文")[0] == "图为迎客松。\n正文"
    text, joined = join_broken_lines("● 推动一批实效落地\n提升凝聚人心实效\n一、总体要求\n（一）目标")
    assert joined == 0


def test_boilerplate_and_metadata_lines() -> None:
    text, counts, meta = remove_boilerplate(
        "新闻标题\n2022年07月27日 11:04 來源：《中國新聞》報\n分享到：\n大字體\n小字體\n正文第一段。\n"
        "【編輯:唐煒妮】\n本网站所刊载信息，不代表本网观点。\n京ICP备12345678号\n返回顶部\n上一篇：另一条新闻",
        title="新闻标题")
    assert text == "正文第一段。"
    assert meta == {"published": "2022-07-27T11:04+08:00", "source": "中國新聞報", "editor": "唐煒妮"}
    assert counts == {"boilerplate_lines": 7, "title_repeated": 1, "metadata_lines": 2}


def test_player_ad_login_and_newsletter_lines() -> None:
    prose = ["记者从市交通运输局获悉，地铁三号线今天开通，全长约33公里，设站25座。",
             "The council will vote on the plan at 10:30 on Tuesday, officials said in a statement.",
             "Readers can sign up for alerts about road closures on the city website."]
    furniture = ["广告", "Advertisement", "倍速", "- 1.75X", "00:00", "02:13 / 05:40", "很抱歉，当前视频播放失败",
                 "您的浏览器不支持video标签", "登录后您可以享受以下权益：", "举报", "点赞 12",
                 "The biggest stories of the day delivered to your inbox.",
                 "Sign up for our free Morning Briefing newsletter", "Join over 250,000 newsletter subscribers",
                 "Listen on Spotify, Apple Podcasts and Google Podcasts.",
                 "Listen to Short Wave on Spotify, Apple Podcasts and Google Podcasts.",
                 '以上内容（包括图片及视频）为创作者平台"快传号"用户上传并发布，本平台仅提供信息存储服务',
                 "本文仅代表作者观点，不代表本站立场。", "文章不错，点个赞吧",
                 "39健康网(www.39.net)专稿，未经书面授权请勿转载。", "转载请注明：原文链接 - https://a.cn/p/21337",
                 "Baca juga: Jokowi Tekankan Pentingnya Alat Kesehatan Modern", "Czytaj też: Wielki powrót [WIDEO]",
                 "ZOBACZ WIDEO: zobacz, jak strzelają kobiety", "READ MORE: Council approves budget", "DON'T MISS",
                 "Tweet may have been deleted", "举报邮箱：jubao@example.cn", "查看更多>>", "点击右上角微信好友", "朋友圈",
                 "Notice: The content above is uploaded and posted by a user of NetEase Hao, which is a platform.",
                 "Opinion articles reflect the views of their authors, not necessarily those of the site.",
                 "Follow Newsbeat on Instagram, Facebook, Twitter and YouTube.",
                 "Our content is 100 per cent free and you can unsubscribe anytime.", "责任编辑：", "0 / 0",
                 "Story continues below advertisement", "İçeriğin Devamı Aşağıda", "(جاری ہے)", "You may also like...",
                 "Write to Al Root at allen.root@dowjones.com",
                 "Want us to cover more about the sun? Email us at shortwave@npr.org.",
                 "Have a tip? Amy Kuperinsky may be reached at akuperinsky@example.com.",
                 "- ^ 王家寨-中国雄安官网. www.xiongan.gov.cn. [2023-06-09].",
                 "^ a b Smith, J. (2020). The Delta. University Press. p. 12."]
    prose += ["Read more about the plan in the council's report, which was published on Monday.",
              "他说，转载请注明出处是对原作者的尊重，这一规定在网络时代尤其重要。",
              "Users can unsubscribe at any time under the new rules, which take effect in January, the regulator said.",
              "Contact tracing teams reached 80 per cent of cases within a day, the health ministry said on Friday.",
              "x^2 + y^2 = r^2 describes the circle, the teacher wrote on the board."]
    text, counts, _ = remove_boilerplate("\n".join(prose[:1] + furniture + prose[1:]))
    assert text.splitlines() == prose
    assert counts == {"boilerplate_lines": len(furniture)}


def test_spam_lines_and_titles() -> None:
    spam = "999精品在线视频,手机成人午夜在线视频,久久不卡国产精品无码,中日无码在线观看,成人av手机在线观看"
    assert is_spam_line(spam)
    assert clean_title_spam(f"{spam}_重庆行政")[0] == "重庆行政"
    text, counts, share = remove_spam_lines(f"{spam}\n正文第一段，内容很长很长。")
    assert text == "正文第一段，内容很长很长。" and counts == {"spam_lines": 1}


@pytest.mark.parametrize("line", [
    "警方近日破获一起利用境外网站传播淫秽视频案件，查获“无码”“成人av”等违法视频五千余部，涉案人员已被刑事拘留。",
    "公安机关开展打击网络赌博专项行动，捣毁“百家乐”“时时彩”等赌博平台三十余个。",
    "国产大飞机C919亚洲首秀，吸引大批观众在线观看。",
    "他说：“我们要做到 人民满意 | 群众放心 | 社会认可 | 领导肯定。”",
    "国产 亚洲 视频 高清",
])
def test_real_news_is_not_spam(line: str) -> None:
    assert not is_spam_line(line)
    assert clean_text(line).dropped_reason is None


def test_heading_without_punctuation_and_brackets_survive() -> None:
    text = "新时代新征程 奋力谱写新篇章\n2024年(2024)全市人工智能(AI)产业规模突破千亿元。"
    result = clean_text(text)  # the brackets stay, restored to full width between Chinese characters
    assert result.text == "新时代新征程 奋力谱写新篇章\n2024年（2024）全市人工智能（AI）产业规模突破千亿元。"


def test_spam_page_dropped() -> None:
    spam = "\n".join(["国产精品无码视频,成人av在线观看,午夜福利免费,一级毛片高清,久久精品亚洲"] * 5)
    assert clean_text(spam + "\n正文一句。").dropped_reason == "spam:body"


SEED_PAGES = ["news/2025/0110/c1001-123413.html", "news/2023/0116/c1001-123414.html",
              "gov/2022-07/27/content_5715.htm", "gov/2024-02/26/content_5716.htm", "culture/2024/1220/a897.shtml"]


@pytest.mark.parametrize("page", SEED_PAGES)
def test_seed_pages_as_served_come_out_clean(page: str) -> None:
    """Each seed wrapped in the HTML its site would serve (demo site) goes through the whole chain."""
    from scrapy.settings import Settings

    from crawler import settings as project_settings
    from crawler.chain import Chain

    settings = Settings()
    settings.setmodule(project_settings)
    settings.set("STORE_ENABLED", False)
    body = (Path(__file__).parent.parent / "demo" / "site" / page).read_bytes()
    with Chain(settings) as chain:
        article = chain.process(new_article(id="x", url=f"http://demo.example.cn/{page}", body=body, kind="html"))
    text = article["text"]
    assert article["script"] == "Hans" and article["language"] == "zh"
    assert not PINYIN_RE.search(text) and "?" not in text and not HALF_WIDTH_IN_CHINESE_RE.search(text)
    assert not FURNITURE_RE.search(text)
    assert "责任编辑" not in text and "来源：" not in text
    assert article["published"] and article["title"] and "示例新闻网" not in article["title"]
    assert article["cleaning"]
