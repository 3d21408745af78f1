"""A generated local news site for re-crawl tests: paginated listings, N articles, a server that answers
conditional requests (ETag / Last-Modified -> 304), can be slowed down, and logs every request."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from demo.httpsite import serving

SUBJECTS = ["市发展改革委", "市教育局", "市卫生健康委", "市交通运输局", "市生态环境局", "市文化和旅游局", "市科技局",
            "市农业农村局", "市住房城乡建设委", "市商务局"]
ACTIONS = ["召开专题会议", "发布实施方案", "启动专项行动", "公布年度数据", "举行新闻发布会", "开展集中检查"]
TOPICS = ["城市更新", "义务教育", "基层医疗", "公共交通", "大气治理", "文旅消费", "科技创新", "乡村振兴",
          "保障住房", "外贸稳增长"]
NUMBERS = "零一二三四五六七八九"


def chinese_number(n: int) -> str:
    return "".join(NUMBERS[int(d)] for d in str(n))


def article_path(n: int) -> str:
    return f"news/2024/10{n % 28 + 1:02d}/c1000-{100000 + n}.html"


def article_text(n: int, edition: int = 1) -> tuple[str, list[str]]:
    subject, action, topic = SUBJECTS[n % 10], ACTIONS[n % 6], TOPICS[(n // 10) % 10]
    title = f"{subject}{action}推进{topic}工作（第{chinese_number(n)}号）"
    paragraphs = [
        f"本报讯 {subject}今天{action}，围绕{topic}工作作出部署，这是今年第{chinese_number(n)}次相关安排。",
        f"会议指出，{topic}关系群众切身利益，各区要在{chinese_number(n % 17 + 3)}个重点方面持续用力，"
        f"确保各项措施落到实处，让市民有更多获得感。",
        f"据介绍，截至目前全市已累计投入资金{chinese_number(n * 7 + 11)}万元，完成项目{chinese_number(n % 40 + 5)}个，"
        f"惠及居民约{chinese_number(n * 13 + 100)}户。",
        f"{subject}负责人表示，下一步将加强统筹协调和督促检查，定期通报进展情况，并邀请市民代表参与评议。",
    ]
    if edition > 1:
        paragraphs.append(f"（更新）记者第{chinese_number(edition)}次回访获悉，相关工作已取得新的进展。")
    return title, paragraphs


def article_page(n: int, edition: int = 1, head: str = "") -> str:
    title, paragraphs = article_text(n, edition)
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8">{head}<title>{title}_测试新闻网</title></head>
<body><div class="nav"><a href="/">首页</a> <a href="/index.html">新闻</a></div>
<h1>{title}</h1><div class="info">发布时间：2024-10-{n % 28 + 1:02d} 09:30 来源：测试日报</div>
<div class="article-content">{body}</div>
<div class="footer">Copyright 测试新闻网 版权所有</div></body></html>"""


def listing_name(page: int) -> str:
    return "index.html" if page == 1 else f"list_{page}.html"


def listing_page(page: int, numbers: list[int], last: bool) -> str:
    items = "".join(f'<li><a href="/{article_path(n)}">{article_text(n)[0]}</a> <span>2024-10</span></li>'
                    for n in numbers)
    more = "" if last else f'<a href="/{listing_name(page + 1)}">下一页</a>'
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>新闻列表 第{page}页_测试新闻网</title></head>
<body><div class="nav"><a href="/">首页</a></div><ul class="list">{items}</ul>{more}</body></html>"""


def build_site(root: Path, articles: int, per_page: int = 20) -> list[str]:
    """Write the site (newest article first on page 1); returns the article paths."""
    numbers = list(range(articles - 1, -1, -1))
    pages = [numbers[i:i + per_page] for i in range(0, len(numbers), per_page)]
    for index, chunk in enumerate(pages, start=1):
        write(root, listing_name(index), listing_page(index, chunk, index == len(pages)))
    for n in numbers:
        write(root, article_path(n), article_page(n))
    (root / "robots.txt").write_text("User-agent: *\nDisallow:\n", encoding="utf-8")
    return [article_path(n) for n in numbers]


def write(root: Path, name: str, text: str) -> None:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@dataclass
class Served:
    url: str
    delay: float = 0.0
    # (path, status, conditional?) per request, in arrival order
    log: list[tuple[str, int, bool]] = field(default_factory=list)

    def paths(self, status: int | None = None) -> list[str]:
        return [p for p, s, _ in self.log if status is None or s == status]


class _Handler(BaseHTTPRequestHandler):
    root: Path
    served: Served
    lock = threading.Lock()

    def do_GET(self) -> None:
        time.sleep(self.served.delay)
        path = self.path.split("?", 1)[0].split("#", 1)[0]
        file = self.root / path.lstrip("/")
        if path.endswith("/"):
            file = file / "index.html"
        conditional = "If-None-Match" in self.headers or "If-Modified-Since" in self.headers
        if not file.is_file():
            self._answer(404, b"not found", conditional)
            return
        data = file.read_bytes()
        etag = '"' + hashlib.sha1(data).hexdigest()[:16] + '"'
        if self.headers.get("If-None-Match") == etag:
            self._answer(304, b"", conditional, etag)
            return
        self._answer(200, data, conditional, etag, formatdate(file.stat().st_mtime, usegmt=True))

    def _answer(self, status: int, data: bytes, conditional: bool, etag: str | None = None,
                modified: str | None = None) -> None:
        with self.lock:
            self.served.log.append((self.path, status, conditional))
        self.send_response(status)
        if status != 304:
            kind = "text/plain" if self.path.endswith(".txt") else "text/html"
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
        if etag:
            self.send_header("ETag", etag)
        if modified:
            self.send_header("Last-Modified", modified)
        self.end_headers()
        if status != 304:
            self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serve(root: Path, delay: float = 0.0) -> Iterator[Served]:
    """Serve `root` on a free local port; `delay` seconds before each answer."""
    served = Served(url="", delay=delay)
    handler = type("Handler", (_Handler,), {"root": root, "served": served})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    with serving(server) as served.url:
        yield served
