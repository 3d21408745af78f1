"""Build the golden extraction pages: one page per failure class of real Chinese news pages.

    python -m tests.pages.build      # writes tests/pages/*.html (bytes in each page's own encoding)

Each page is stored as served: the bytes a server sends, in the encoding the case needs (UTF-8 under a
gb2312 declaration, GBK without any, Big5...). tests/test_extract_pages.py runs decode + extract on them
and compares every field with tests/pages/expected.json.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).parent

NAV = ('<div class="nav"><a href="/">首页</a> <a href="/news/">新闻</a> <a href="/gov/">政务</a> '
       '<a href="/finance/">财经</a> <a href="/video/">视频</a></div>')
SHARE = '<div class="share-bar">分享到：<a href="#">微信</a> <a href="#">微博</a> <a href="#">QQ空间</a></div>'
FONT = '<div class="font-size">字号：<a href="#">大</a> <a href="#">中</a> <a href="#">小</a></div>'
RELATED = ('<div class="related-news"><h3>相关新闻</h3><ul>'
           '<li><a href="/a/1.html">全省春耕备耕工作有序推进</a></li>'
           '<li><a href="/a/2.html">多地出台措施稳定粮食生产</a></li>'
           '<li><a href="/a/3.html">农业农村部部署春季田间管理</a></li></ul></div>')
FOOTER = '<div class="footer">版权所有 示例新闻网 京ICP备12345678号</div>'

WATER = [
    "记者从市水务局获悉，今年以来全市新建和改造供水管网一百二十公里，城区供水保障能力进一步提升。",
    "据介绍，新建管网主要分布在城市新区和老旧小区，改造完成后，约十五万户居民的用水压力不足问题得到解决。"
    "水务部门同时对二十座加压泵站进行了智能化升级，实现远程监控和自动调度。",
    "市水务局有关负责人表示，下一步将继续推进城乡供水一体化建设，力争年底前实现农村自来水普及率达到百分之九十八。",
]
FARM = [
    "眼下正值春耕关键时期，全县各地抢抓农时，田间地头一派繁忙景象。",
    "在城关镇的万亩高标准农田示范区，十余台无人驾驶播种机来回穿梭，播种、施肥一次完成。"
    "合作社负责人说，使用新农机后每亩成本下降约八十元，播种效率提高了三倍。",
    "县农业农村局组织技术人员深入乡村，指导农户科学选种、合理施肥，确保春播面积稳定在四十五万亩以上。",
]
SCHOOL = [
    "本學期開始，全市中小學全面推行課後服務，家長可自願為孩子報名參加。",
    "課後服務內容包括作業輔導、閱讀、體育鍛煉和藝術活動，由學校教師和聘請的專業人員共同承擔。",
    "教育局表示，將定期收集家長意見，不斷改進服務質量，切實減輕家庭負擔。",
]
RAIL = [
    "新建铁路全长二百八十六公里，设计时速三百五十公里，沿线设车站九座。",
    "项目建成后，两市之间的旅行时间将由目前的三小时缩短至一小时以内，对完善区域路网结构、促进沿线经济发展具有重要意义。",
    "目前全线桥梁和隧道工程已完成百分之八十五，预计明年六月具备联调联试条件。",
]


def paragraphs(lines: list[str]) -> str:
    return "".join(f"<p>{line}</p>" for line in lines)


def page(title: str, head: str, header: str, body: str, charset_meta: str = "") -> str:
    return (f"<!DOCTYPE html><html><head>{charset_meta}<title>{title}</title>{head}</head><body>{NAV}"
            f"<div class=\"article\">{header}{SHARE}{FONT}<div class=\"content\">{body}</div></div>"
            f"{RELATED}{FOOTER}</body></html>")


PAGES: dict[str, tuple[str, str]] = {
    # UTF-8 bytes under a gb2312 declaration; dateline "2022年07月27日 11:04", source and reporter lines.
    "declared_gb2312_served_utf8": ("utf-8", page(
        "全市新建改造供水管网120公里_示例新闻网", "",
        "<h1>全市新建改造供水管网120公里</h1><div class=\"info\">2022年07月27日 11:04 来源：示例日报</div>"
        "<div class=\"author\">本报记者 王明 李华</div>",
        paragraphs(WATER) + "<p>【编辑:刘洋】</p>",
        '<meta http-equiv="Content-Type" content="text/html; charset=gb2312">')),
    # GBK bytes and no charset anywhere; "发布时间：" dateline with seconds, "文/" byline, 责任编辑 footer.
    "gbk_without_charset": ("gbk", page(
        "春耕时节农机忙-示例县融媒体中心", "",
        "<h1>春耕时节农机忙</h1><div class=\"info\">发布时间：2024-03-12 09:30:15 来源：县融媒体中心</div>",
        "<p>文/张三</p>" + paragraphs(FARM) + "<p>责任编辑：赵敏</p>")),
    # Big5 bytes declared "big5"; Traditional dateline "發布時間：", "來源：" and 記者 byline.
    "big5_traditional": ("big5", page(
        "全市中小學推行課後服務｜示例新聞網", "",
        "<h1>全市中小學推行課後服務</h1><div class=\"info\">發布時間：2023年9月1日 08:05　來源：示例日報</div>"
        "<div class=\"author\">記者 陳大文 報道</div>",
        paragraphs(SCHOOL),
        '<meta charset="big5">')),
    # No dateline in the page: the date comes from the URL path (/2024/0226/); meta author.
    "date_from_url_only": ("utf-8", page(
        "新建铁路预计明年联调联试 - 示例新闻网", '<meta name="author" content="周涛">',
        "<h1>新建铁路预计明年联调联试</h1>",
        paragraphs(RAIL),
        '<meta charset="utf-8">')),
    # A dateline without a year ("3月5日 10:20"): the year comes from the fetch date; an 更新 line
    # after the 发布 line gives `updated`.
    "dateline_without_year": ("utf-8", page(
        "县里部署春季田间管理", "",
        "<h1>县里部署春季田间管理</h1><div class=\"info\">3月5日 10:20 发布 | 3月6日 08:00 更新</div>"
        "<div>（记者 孙丽）</div>",
        paragraphs(FARM),
        '<meta charset="utf-8">')),
    # Meta tags only (UTC time with Z, modified later), og:title and og:site_name; no visible dateline.
    "meta_dates_in_utc": ("utf-8", page(
        "供水管网改造完成", '<meta property="og:title" content="供水管网改造完成">'
        '<meta property="og:site_name" content="示例新闻网">'
        '<meta property="article:published_time" content="2024-05-20T02:30:00Z">'
        '<meta property="article:modified_time" content="2024-05-21T03:00:00Z">',
        "<h1>供水管网改造完成</h1>",
        paragraphs(WATER),
        '<meta charset="utf-8">')),
    # The article is text and <br> in table cells, no <p> (old government CMS): trafilatura's main pass
    # finds next to nothing; the fallbacks must still give the text.
    "table_layout_without_paragraphs": ("gb18030", (
        "<html><head><title>关于做好春季田间管理工作的通知</title></head><body>"
        "<table width=\"100%\"><tr><td><a href=\"/\">首页</a> | <a href=\"/zwgk/\">政务公开</a></td></tr>"
        "<tr><td align=\"center\"><b>关于做好春季田间管理工作的通知</b></td></tr>"
        "<tr><td align=\"center\">发布日期：2024年03月08日　　来源：县农业农村局</td></tr>"
        "<tr><td>" + "<br>".join(FARM) + "</td></tr>"
        "<tr><td>【打印本页】【关闭窗口】</td></tr></table></body></html>")),
}

URLS = {
    "date_from_url_only": "http://news.example.cn/rail/2024/0226/c1001-40001.html",
}


def build() -> None:
    from pipelines.script import converter

    for name, (encoding, html) in PAGES.items():
        if encoding == "big5":  # a Traditional page: its furniture is Traditional too
            html = converter("s2t").convert(html)
        (HERE / f"{name}.html").write_bytes(html.encode(encoding))


if __name__ == "__main__":
    build()
