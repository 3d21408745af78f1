"""Writes the end-to-end test site (run from anywhere: `python tests/e2e_site/build.py`).

Pages are generated so their bytes can be in any encoding; the output is committed next to this file."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent / "site"

HEADER = """<div class="header"><a href="/">示例新闻网</a> <a href="/news/index.html">新闻</a>
<a href="/about.html">关于我们</a></div>
<div class="crumb">首页 &gt; 新闻 &gt; 正文</div>"""
FOOTER = """<div class="related"><h3>相关新闻</h3><ul><li><a href="/news/index.html">更多新闻</a></li></ul></div>
<div class="footer"><p>Copyright (C) 2024 示例新闻网 版权所有</p><p>京ICP备12345678号</p></div>"""


def article(title: str, dateline: str, paragraphs: list[str], meta: str = "", extra_body: str = "") -> str:
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    return f"""<!DOCTYPE html>
<html><head>{meta}<title>{title}_示例新闻网</title></head>
<body>{HEADER}
<h1>{title}</h1>
<div class="info">{dateline}</div>
<div class="share">分享到：微信 微博 QQ空间</div>
<div class="article-content">
{body}
{extra_body}
</div>
{FOOTER}
</body></html>
"""


ECONOMY = [
    "本报讯 市统计局今天发布数据显示，今年前三季度全市地区生产总值同比增长百分之五点二，经济运行总体平稳、稳中有进。",
    "从产业看，高技术制造业增加值增长百分之九点八，新能源汽车、集成电路等产品产量保持两位数增长，服务业对经济增长的贡献率超过六成。",
    "市统计局新闻发言人表示，下一步将继续加强经济运行监测，为科学决策提供数据支撑。",
]
RIVER = [
    "记者从市水务局获悉，城区河道综合整治工程日前全面完工，十二条主要河道水质稳定达到地表水四类标准。",
    "工程实施三年来，累计清淤二百余万立方米，新建截污管网八十六公里，沿河建成滨水步道四十公里。",
    "市民李女士说，如今傍晚沿着河边散步，看到水清岸绿，心情特别舒畅。",
]
SCHOOL_TRAD = [
    "本市教育局日前宣布，將在全市中小學推廣課後服務(wù)，家長可根據需要自願選擇。",
    "教育局負責人表示,課後服務以學生興趣為主,不得進行集體補課。",
    "據介紹，目前已有一百二十所學校開展試點，參與學生超過八萬人。",
]
SPORT = [
    "第十五届市运动会昨天在市奥体中心开幕，来自全市十六个区的四千余名运动员将参加三十二个大项的比赛。",
    "本届运动会首次设立青少年组和社会组，社会组新增飞盘、匹克球等新兴项目，吸引了大批市民报名。",
    "赛会组委会介绍，比赛将持续到十月底，部分项目向市民免费开放观赛。",
]


def pages() -> dict[str, bytes]:
    site: dict[str, bytes] = {}
    utf8 = '<meta charset="utf-8">'
    site["robots.txt"] = b"User-agent: *\nDisallow: /private/\n"
    site["index.html"] = f"""<!DOCTYPE html><html><head>{utf8}<title>示例新闻网</title></head><body>{HEADER}
<ul><li><a href="/news/index.html">新闻频道</a></li><li><a href="/private/secret.html">内部资料</a></li>
<li><a href="/news/2024/1020/c1001-100001.html">前三季度全市经济运行稳中有进</a></li></ul></body></html>""".encode()
    listing = [
        ("/news/2024/1020/c1001-100001.html", "前三季度全市经济运行稳中有进"),
        ("/news/2024/1018/c1001-100002.html", "城区河道综合整治工程全面完工"),
        ("/news/2024/1015/c1001-100003.html", "全市中小學推廣課後服務"),
    ]
    items = "".join(f'<li><a href="{u}">{t}</a> <span>2024-10</span></li>' for u, t in listing)
    site["news/index.html"] = f"""<!DOCTYPE html><html><head>{utf8}<title>新闻_示例新闻网</title></head><body>
{HEADER}<ul class="list">{items}</ul><a href="/news/list_2.html">下一页</a></body></html>""".encode()
    more = [("/news/2024/1012/c1001-100004.html", "第十五届市运动会开幕"),
            ("/news/2024/1021/c1002-200001.html", "统计局：前三季度经济稳中有进")]
    items = "".join(f'<li><a href="{u}">{t}</a> <span>2024-10</span></li>' for u, t in more)
    site["news/list_2.html"] = f"""<!DOCTYPE html><html><head>{utf8}<title>新闻_示例新闻网</title></head><body>
{HEADER}<ul class="list">{items}</ul><a href="/news/index.html">上一页</a></body></html>""".encode()
    # GBK bytes, no charset declared anywhere (the server sends none either).
    site["news/2024/1020/c1001-100001.html"] = article(
        "前三季度全市经济运行稳中有进", "发布时间：2024-10-20 09:30 来源：示例日报 记者 王明", ECONOMY,
        extra_body="<p>【责任编辑：李四】</p>").encode("gbk")
    # Declares gb2312, served as UTF-8; a paragraph broken mid-sentence and HTML residue in the text.
    broken = [RIVER[0], "工程实施三年来，累计清淤二百余万立方米，新建截污管网八十六公里，", "沿河建成滨水步道四十公里。&amp;nbsp;",
              RIVER[2]]
    site["news/2024/1018/c1001-100002.html"] = article(
        "城区河道综合整治工程全面完工", "2024年10月18日 16:20 来源：示例新闻网", broken,
        meta='<meta http-equiv="Content-Type" content="text/html; charset=gb2312">').encode("utf-8")
    # Traditional script with pinyin annotations and half-width punctuation.
    site["news/2024/1015/c1001-100003.html"] = article(
        "全市中小學推廣課後服務", "2024-10-15 08:00 來源：示例教育報", SCHOOL_TRAD, meta=utf8,
        extra_body="<p>【編輯:陳靜】</p>").encode("utf-8")
    site["news/2024/1012/c1001-100004.html"] = article(
        "第十五届市运动会开幕", "发布时间：2024年10月12日 19:05 作者：赵刚", SPORT, meta=utf8).encode("utf-8")
    # The economy story republished under another URL with other furniture: an exact duplicate.
    site["news/2024/1021/c1002-200001.html"] = article(
        "统计局：前三季度经济稳中有进", "2024-10-21 10:00 来源：示例日报", ECONOMY, meta=utf8,
        extra_body="<p>扫一扫，关注示例新闻网微信公众号</p>").encode("utf-8")
    site["about.html"] = f"""<!DOCTYPE html><html><head>{utf8}<title>关于我们_示例新闻网</title></head>
<body>{HEADER}<h1>关于我们</h1><p>联系电话：010-12345678</p></body></html>""".encode()
    site["private/secret.html"] = article("内部资料", "2024-10-01", ECONOMY, meta=utf8).encode()
    return site


def build(root: Path = ROOT) -> None:
    for name, data in pages().items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


if __name__ == "__main__":
    build()
