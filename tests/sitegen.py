"""A generated Chinese news site of any size, served from memory by a threaded local HTTP server.

Pages are built from their path on every request (nothing on disk), so a 100,000-page site costs no more to
start than a 10-page one. Article n (0 <= n < pages) lives at /news/<yyyy>/<mmdd>/c<channel>-<100000+n>.html;
its title, date and paragraphs (sentences of demo/texts/*.txt drawn with seed n, plus a sentence naming n)
are unique, so no two articles are exact or near duplicates. Listings: / links to every /news/list_<k>.html,
each listing links PER_LISTING articles and its neighbours. Every GET is counted per path (`site.requests`).
Bodies are gzip-compressed when the client accepts it (as real news sites do), unless `gzip=False`.
"""

from __future__ import annotations

import random
import re
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from functools import lru_cache
from gzip import compress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from demo.httpsite import serving

TEXTS = Path(__file__).resolve().parent.parent / "demo" / "texts"
PER_LISTING = 50
FIRST_ID = 100000
FIRST_DAY = date(2024, 1, 1)
ARTICLE_PATH_RE = re.compile(r"^/news/(\d{4})/(\d{4})/c(\d+)-(\d+)\.html$")
LISTING_PATH_RE = re.compile(r"^/news/list_(\d+)\.html$")
# Sentences per article: enough running text (~300-600 Han characters) to be classified as an article.
SENTENCES = (8, 14)
MAX_SENTENCE_CHARS = 150


@lru_cache(maxsize=1)
def corpus() -> tuple[str, ...]:
    """Every sentence of the demo texts (the body after the `---` header), split at Chinese full stops."""
    sentences: list[str] = []
    for path in sorted(TEXTS.glob("*.txt")):
        body = path.read_text(encoding="utf-8").split("\n---\n", 1)[-1]
        for sentence in re.split(r"[。！？]", body):
            sentence = re.sub(r"\s+", "", sentence)
            # Long runs without punctuation are the seed texts' link-farm spam, which the chain drops.
            if 12 <= len(sentence) <= MAX_SENTENCE_CHARS:
                sentences.append(sentence + "。")
    return tuple(sentences)


def article_path(n: int) -> str:
    day = FIRST_DAY + timedelta(days=n % 366)
    return f"/news/{day:%Y}/{day:%m%d}/c{1000 + n % 7}-{FIRST_ID + n}.html"


CHANNELS = ("要闻", "国内", "国际", "财经", "科技", "体育", "文化", "教育", "健康", "汽车", "房产", "旅游", "军事",
            "法治", "社会", "评论", "图片", "视频", "专题", "地方")


def portal_chrome(n: int, pages: int) -> tuple[str, str, str]:
    """(head, top, bottom) of a portal page around article n, as Chinese news sites wrap their articles: a
    stylesheet and tracking / ad scripts, channel navigation, a share bar, hot-news and related-news lists
    linking other articles of the site, a footer with licence numbers. Real pages weigh 50-150 KB; the text
    around the article is what the crawl parses and the cleaning steps prune."""
    rng = random.Random(-n - 1)
    style = "<style>" + "".join(f".c{i}{{margin:{i % 9}px;font-size:{12 + i % 6}px;color:#{i * 4099 % 0xFFFFFF:06x}}}"
                                 for i in range(120)) + "</style>"
    script = "<script>var _cfg={site:'gen',page:%d};" % n + "".join(
        f"window._ad{i}={{slot:'s{i}',w:{300 + i % 5 * 20},h:{250 - i % 4 * 10},r:{rng.random():.6f}}};"
        f"function _t{i}(e){{if(!e)return;e.setAttribute('data-t','{i}');}}" for i in range(160)) + "</script>"
    head = f'<meta name="keywords" content="{",".join(CHANNELS[:8])}">{style}{script}'
    nav = "".join(f'<li><a href="/news/list_{i % max(1, pages // PER_LISTING) + 1}.html">{name}</a></li>'
                  for i, name in enumerate(CHANNELS * 3))
    top = (f'<div class="header"><div class="logo"><a href="/">生成新闻网</a></div><ul class="nav">{nav}</ul>'
           '<div class="search"><form action="/search"><input name="q"><button>搜索</button></form></div></div>'
           '<div class="crumb"><a href="/">首页</a> &gt; <a href="/news/list_1.html">新闻</a> &gt; 正文</div>'
           '<div class="share">分享到：<a href="#">微信</a> <a href="#">微博</a> <a href="#">QQ空间</a>'
           ' 字号：<a href="#">大</a> <a href="#">中</a> <a href="#">小</a></div>')

    def links(css: str, label: str, count: int) -> str:
        items = "".join(f'<li><a href="{article_path(m)}">第{m}号新闻</a></li>'
                        for m in ((n + 1 + rng.randrange(max(1, pages))) % max(1, pages) for _ in range(count)))
        return f'<div class="{css}"><h3>{label}</h3><ul>{items}</ul></div>'

    bottom = (links("related", "相关新闻", 8) + links("hot", "热点排行", 10) + links("recommend", "推荐阅读", 10)
              + '<div class="comment">网友评论 <a href="#">我要评论</a> 文明上网理性发言</div>'
              '<div class="footer"><a href="/">关于我们</a> | <a href="/">联系我们</a> | <a href="/">网站地图</a>'
              '<p>Copyright (C) 2024 生成新闻网 版权所有</p><p>京ICP备12345678号-1 京公网安备11010502000000号</p></div>'
              + script.replace("_cfg", "_cfg2"))
    return head, top, bottom


def article_html(n: int, portal_pages: int = 0) -> str:
    """Article n; with `portal_pages`, wrapped in portal_chrome linking articles among that many."""
    rng = random.Random(n)
    day = FIRST_DAY + timedelta(days=n % 366)
    sentences = corpus()
    picked = rng.sample(range(len(sentences)), rng.randint(*SENTENCES))
    headline = re.sub(r"[^\u4e00-\u9fff]", "", sentences[picked[0]])[:14]
    lead = f"本报讯 这是本站第{n}号稿件，编号{FIRST_ID + n}，记者第{n % 97 + 1}组于{day.month}月{day.day}日采写。"
    body = [sentences[i] for i in picked]
    paragraphs = "\n".join([f"<p>{lead}</p>"] + [f"<p>{' '.join(body[i:i + 3])}</p>" for i in range(0, len(body), 3)])
    head, top, bottom = portal_chrome(n, portal_pages) if portal_pages else ("", "", "")
    return (f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>第{n}号新闻：{headline}_生成新闻网</title>{head}</head>\n<body><div class=\"nav\"><a href=\"/\">首页</a></div>\n"
            f"{top}<h1>第{n}号新闻：{headline}</h1>\n"
            f"<div class=\"info\">发布时间：{day:%Y-%m-%d} {n % 24:02d}:{n % 60:02d} 来源：生成日报</div>\n"
            f"<div class=\"article-content\">\n{paragraphs}\n</div>\n"
            f"{bottom}<div class=\"footer\">Copyright (C) 2024 生成新闻网</div></body></html>\n")


class GeneratedSite:
    """The site's pages as a function of their path; `requests` counts GETs per path (thread-safe)."""

    def __init__(self, pages: int, per_listing: int = PER_LISTING, gzip: bool = True, portal: bool = False) -> None:
        self.pages = pages
        self.portal = portal  # articles wrapped in portal_chrome
        self.per_listing = per_listing
        self.gzip = gzip
        self.listings = max(1, -(-pages // per_listing))
        self.requests: Counter[str] = Counter()
        # path -> (status, content type, body as sent), filled by prerender()
        self.rendered: dict[str, tuple[int, str, bytes]] = {}
        self.lock = threading.Lock()
        self.url = ""

    def article_urls(self) -> list[str]:
        return [self.url.rstrip("/") + article_path(n) for n in range(self.pages)]

    def listing_html(self, k: int) -> str:
        first = (k - 1) * self.per_listing
        items = "\n".join(f"<li><a href=\"{article_path(n)}\">第{n}号新闻</a></li>"
                          for n in range(first, min(first + self.per_listing, self.pages)))
        pager = " ".join(f"<a href=\"/news/list_{j}.html\">第{j}页</a>" for j in (k - 1, k + 1)
                         if 1 <= j <= self.listings)
        return (f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>新闻列表 第{k}页</title></head>\n"
                f"<body><ul class=\"list\">\n{items}\n</ul><div class=\"pager\">{pager}</div></body></html>\n")

    def home_html(self) -> str:
        links = "\n".join(f"<li><a href=\"/news/list_{k}.html\">新闻列表第{k}页</a></li>"
                          for k in range(1, self.listings + 1))
        return (f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>生成新闻网</title></head>\n"
                f"<body><ul class=\"channels\">\n{links}\n</ul></body></html>\n")

    def paths(self) -> list[str]:
        """Every path the site answers with 200."""
        return (["/robots.txt", "/"] + [f"/news/list_{k}.html" for k in range(1, self.listings + 1)]
                + [article_path(n) for n in range(self.pages)])

    def prerender(self) -> None:
        """Build every page now, as its response body (gzip-compressed when the site compresses)."""
        for path in self.paths():
            status, content_type, text = self.page(path)
            body = text.encode("utf-8")
            self.rendered[path] = (status, content_type, compress(body, 1, mtime=0) if self.gzip else body)

    def page(self, path: str) -> tuple[int, str, str]:
        """(status, content type, body) for a path."""
        path = path.split("?", 1)[0]
        if path == "/robots.txt":
            return 200, "text/plain", "User-agent: *\nAllow: /\n"
        if path in ("/", "/index.html"):
            return 200, "text/html; charset=utf-8", self.home_html()
        match = LISTING_PATH_RE.match(path)
        if match and 1 <= int(match.group(1)) <= self.listings:
            return 200, "text/html; charset=utf-8", self.listing_html(int(match.group(1)))
        match = ARTICLE_PATH_RE.match(path)
        if match:
            n = int(match.group(4)) - FIRST_ID
            if 0 <= n < self.pages and article_path(n) == path:
                return 200, "text/html; charset=utf-8", article_html(n, self.pages if self.portal else 0)
        return 404, "text/html; charset=utf-8", "<html><body>404</body></html>"


class _Handler(BaseHTTPRequestHandler):
    site: GeneratedSite
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        with self.site.lock:
            self.site.requests[self.path] += 1
        accepts_gzip = self.site.gzip and "gzip" in (self.headers.get("Accept-Encoding") or "")
        rendered = self.site.rendered.get(self.path.split("?", 1)[0])
        if rendered is not None and (accepts_gzip or not self.site.gzip):
            status, content_type, body = rendered
        else:
            status, content_type, text = self.site.page(self.path)
            body = compress(text.encode("utf-8"), 1, mtime=0) if accepts_gzip else text.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        if accepts_gzip:
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A crawler killed mid-download (the distributed kill test) resets its connections: not a site error.
        if not isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            super().handle_error(request, client_address)


@contextmanager
def serve_site(pages: int, per_listing: int = PER_LISTING, gzip: bool = True,
               prerender: bool = False, portal: bool = False) -> Iterator[GeneratedSite]:
    """A GeneratedSite of `pages` articles on a free local port for the duration of the block. `prerender`
    builds (and compresses) every page before serving, so that serving costs the crawler being measured
    next to no CPU (benchmarks)."""
    site = GeneratedSite(pages, per_listing, gzip, portal)
    if prerender:
        site.prerender()
    handler = type("Handler", (_Handler,), {"site": site})
    with serving(_Server(("127.0.0.1", 0), handler)) as site.url:
        yield site
