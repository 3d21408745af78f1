"""Generate the bundled demo news site (demo/site/) from demo/texts/: `python demo/build_site.py [OUT]`.

Articles are written as a Chinese news portal serves them: furniture around the body (breadcrumb,
share bar, font-size buttons, dateline, editor line, related news, comment prompt, copyright, ICP
number), several encodings (UTF-8, GBK without any declaration, gb2312 declared on UTF-8 bytes,
Big5), and the defects of the seed pages kept inside the body, where real sites carry them."""

from __future__ import annotations

import html
import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
TEXTS = HERE / "texts"
SITE_NAME = "示例新闻网"

# Metadata of the seed pages (the seed files hold only the text a naive scraper stored).
SEEDS = {
    "seed_000_ff2da62c91be1005": dict(title="凝心聚力譜新篇 各地統戰工作亮點回眸", channel="news", date="2025-01-10 10:00",
                                      source="中國西藏網", author="", encoding="utf-8"),
    "seed_001_46a2e87751a437cb": dict(title="同心奋楫 勇立潮头", channel="news", date="2023-01-16 09:00",
                                      source="浙江统战", author="", encoding="utf-8"),
    "seed_002_c62b255271628773": dict(title="奮力譜寫江淮大地統戰工作新篇章", channel="gov", date="2022-07-27 11:04",
                                      source="中國新聞網", author="", encoding="utf-8"),
    "seed_003_863f9859c0c15b95": dict(title="推動上海統一戰線事業邁上更高水平 全市統戰部長會議召開", channel="gov",
                                      date="2024-02-26 18:00", source="上海統戰", author="", encoding="utf-8"),
    "seed_004_3f17f6fd49595921": dict(title="充分發揮僑聯組織獨特優勢 以僑聯一域之功為成渝地區雙城經濟圈建設添彩助力",
                                      channel="culture", date="2024-12-20 08:00", source="重慶行政", author="孟衛紅",
                                      encoding="utf-8", hacked=True),
}
CHANNELS = {"news": "新闻", "gov": "政务", "culture": "文化", "sport": "体育"}
SPAM_TITLE = "999精品在线视频,手机成人午夜在线视频,久久不卡国产精品无码"


@dataclass
class Story:
    key: str
    title: str
    channel: str
    date: str
    source: str
    author: str
    encoding: str
    paragraphs: list[str]
    number: int
    hacked: bool = False
    spam_line: str = ""
    link_farm: list[str] | None = None

    @property
    def path(self) -> str:
        day = self.date[:10].replace("-", "")
        if self.channel == "gov":
            return f"gov/{day[:4]}-{day[4:6]}/{day[6:]}/content_{5700 + self.number}.htm"
        if self.channel == "culture":
            return f"culture/{day[:4]}/{day[4:]}/a{880 + self.number}.shtml"
        return f"{self.channel}/{day[:4]}/{day[4:]}/c1001-{123400 + self.number}.html"


def read_story(path: Path, number: int) -> Story:
    raw = path.read_text(encoding="utf-8")
    if path.stem in SEEDS:
        meta = dict(SEEDS[path.stem])
        lines = [line.strip() for line in raw.splitlines() if line.strip()]
        story = Story(path.stem, meta["title"], meta["channel"], meta["date"], meta["source"], meta["author"],
                      meta["encoding"], lines, number, hacked=bool(meta.get("hacked")))
        if story.hacked:  # the hacked page: keyword line at the top, link farm at the bottom
            story.spam_line, farm = lines[0], lines[-1]
            story.paragraphs = lines[1:-1]
            story.link_farm = [t.strip() for t in farm.split(":", 1)[-1].split("|") if t.strip()]
        return story
    header, _, body = raw.partition("---\n")
    meta = dict(line.split(":", 1) for line in header.splitlines() if ":" in line)
    meta = {k.strip(): v.strip() for k, v in meta.items()}
    paragraphs = [line.strip() for line in body.splitlines() if line.strip()]
    return Story(path.stem, meta["title"], meta["channel"], meta["date"], meta["source"], meta.get("author", ""),
                 meta["encoding"], paragraphs, number)


def header() -> str:
    nav = " ".join(f'<a href="/{c}/index.html">{n}</a>' for c, n in CHANNELS.items())
    return (f'<div class="top"><a href="/index.html">{SITE_NAME}</a> {nav} <a href="/about.html">关于我们</a></div>')


def footer() -> str:
    return ('<div class="footer"><p><a href="/about.html">关于我们</a> | <a href="/about.html">联系方式</a></p>'
            f"<p>Copyright &copy; 2024 {SITE_NAME} 版权所有 未经授权禁止转载</p><p>京ICP备12345678号</p></div>")


def article_page(story: Story, related: list[Story]) -> str:
    charset = {"utf-8": '<meta charset="utf-8">', "gb2312-utf8": '<meta charset="gb2312">',
               "big5": '<meta http-equiv="Content-Type" content="text/html; charset=big5">'}.get(story.encoding, "")
    title = story.title
    head_extra = ""
    if story.hacked:
        title = f"{SPAM_TITLE}_{story.title}"
        head_extra = f'<meta name="keywords" content="{SPAM_TITLE}">'
    byline = f" 作者：{story.author}" if story.author else ""
    body = "\n".join(f"<p>{p}</p>" for p in story.paragraphs)
    if story.spam_line:
        body = f"<p>{story.spam_line}</p>\n" + body
    related_items = "".join(f'<li><a href="/{r.path}">{html.escape(r.title)}</a></li>' for r in related)
    farm = ""
    if story.link_farm:
        links = " | ".join(f'<a href="http://spam{n}.example.invalid/">{t}</a>' for n, t in enumerate(story.link_farm))
        farm = f'<div class="links">主站蜘蛛池模板: {links}</div>'
    hidden = f'<div style="display:none">{SPAM_TITLE}</div>' if story.hacked else ""
    return f"""<!DOCTYPE html>
<html><head>{charset}{head_extra}<title>{title}_{SITE_NAME}</title></head>
<body>{header()}
<div class="crumb">当前位置：<a href="/index.html">首页</a> &gt; <a href="/{story.channel}/index.html">{CHANNELS[story.channel]}</a> &gt; 正文</div>
{hidden}
<div class="main">
<h1>{story.title}</h1>
<div class="info">{story.date} 来源：{story.source}{byline}</div>
<div class="share">分享到：微信 微博 QQ空间</div>
<div class="fontsize">【大字体 中字体 小字体】</div>
<div class="article-content">
{body}
<p>【责任编辑：李四】</p>
</div>
<div class="related"><h3>相关新闻</h3><ul>{related_items}</ul></div>
<div class="comment">发表评论 文明上网理性发言，请遵守新闻评论服务协议</div>
</div>
{farm}
{footer()}
</body></html>
"""


def encode(page: str, encoding: str) -> bytes:
    codec = {"gbk-nocharset": "gbk", "big5": "big5"}.get(encoding, "utf-8")
    return page.encode(codec, errors="xmlcharrefreplace")


def listing_page(title: str, stories: list[Story], more: str = "") -> bytes:
    items = "\n".join(
        f'<li><a href="/{s.path}">{html.escape(s.title)}</a> <span class="date">{s.date[:10]}</span></li>'
        for s in stories)
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{title}_{SITE_NAME}</title></head>
<body>{header()}<h2>{title}</h2><ul class="list">
{items}
</ul>{more}{footer()}</body></html>
""".encode()


def build(out: Path) -> list[str]:
    stories = [read_story(p, n) for n, p in enumerate(sorted(TEXTS.glob("*.txt")), start=1)]
    # A syndicated copy: the chip story republished on another URL with other furniture.
    chip = next(s for s in stories if s.key == "04_chip")
    copy = Story("04_chip_copy", "新一代车规级芯片在本市发布", "news", "2024-07-10 08:00", "示例科技报", "赵刚",
                 "utf-8", chip.paragraphs, 99)
    stories.append(copy)
    pages: dict[str, bytes] = {}
    for index, story in enumerate(stories):
        related = [s for s in stories if s.channel == story.channel and s is not story][:3]
        pages[story.path] = encode(article_page(story, related), story.encoding)
    for channel, name in CHANNELS.items():
        in_channel = sorted((s for s in stories if s.channel == channel), key=lambda s: s.date, reverse=True)
        first, rest = in_channel[:5], in_channel[5:]
        more = f'<p><a href="/{channel}/list_2.html">下一页</a></p>' if rest else ""
        pages[f"{channel}/index.html"] = listing_page(name, first, more)
        if rest:
            pages[f"{channel}/list_2.html"] = listing_page(f"{name} 第2页", rest,
                                                           f'<p><a href="/{channel}/index.html">上一页</a></p>')
    seeds = [s for s in stories if s.key.startswith("seed_")]
    pages["tag/tongzhan.html"] = listing_page("标签：统战", seeds)
    latest = sorted(stories, key=lambda s: s.date, reverse=True)[:8]
    pages["index.html"] = listing_page("要闻", latest, '<p><a href="/tag/tongzhan.html">统战专题</a> '
                                                      '<a href="/private/internal.html">内部通知</a></p>')
    pages["about.html"] = (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>关于我们_{SITE_NAME}</title>'
                           f"</head><body>{header()}<h1>关于我们</h1><p>{SITE_NAME}是一个演示用的新闻网站。"
                           f"</p><p>联系电话：010-12345678</p>{footer()}</body></html>").encode()
    pages["private/internal.html"] = listing_page("内部通知（robots.txt 禁止抓取）", [])
    pages["robots.txt"] = b"User-agent: *\nDisallow: /private/\n"
    for name, data in pages.items():
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return sorted(pages)


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "site"
    written = build(target)
    print(f"wrote {len(written)} files to {target}")
