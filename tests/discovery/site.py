"""A generated local news site for the discovery spiders: robots.txt -> sitemap index -> a gzipped sitemap, a Google
News sitemap (sent with Content-Encoding: gzip), an old archive sitemap, hostile sitemaps (gzip bomb, billion
laughs, external entity); RSS 2.0 and Atom feeds declared on the home page; Chinese article pages. Served by
tests/fileserver.py (conditional requests, every request logged); the site can be rebuilt with changes between runs."""

from __future__ import annotations

import gzip
import struct
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import format_datetime
from datetime import datetime, timedelta, timezone
from pathlib import Path
from xml.sax.saxutils import escape

from tests import fileserver
from tests.fileserver import Served
from tests.incremental.site import article_text

CHINA = timezone(timedelta(hours=8))
SECRET = "ZHCRAWL-SECRET-7f3a"  # content of the file the external-entity sitemap points at


# --- articles ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Story:
    n: int
    day: str | None  # YYYY-MM-DD shown on the page and in its URL; None: a page without any date

    @property
    def path(self) -> str:
        if self.day is None:
            return f"special/c2000-{200000 + self.n}.html"
        return f"news/{self.day[:4]}/{self.day[5:7]}{self.day[8:]}/c1000-{100000 + self.n}.html"


def story_page(story: Story, edition: int = 1) -> str:
    title, paragraphs = article_text(story.n, edition)
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    info = f'<div class="info">发布时间：{story.day} 09:30 来源：测试日报</div>' if story.day else ""
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}_测试新闻网</title></head>
<body><div class="nav"><a href="/">首页</a></div>
<h1>{title}</h1>{info}
<div class="article-content">{body}</div>
<div class="footer">测试新闻网 版权所有</div></body></html>"""


def stories(count: int, first_day: int = 1) -> list[Story]:
    """`count` dated stories, one a day from 2024-10-`first_day`."""
    return [Story(n, f"2024-10-{first_day + n:02d}") for n in range(count)]


# --- listings ----------------------------------------------------------------------------------------------
def urlset(entries: list[str], news: bool = False) -> str:
    namespaces = ' xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"' if news else ""
    return ("\ufeff<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"{namespaces}>\n' + "\n".join(entries)
            + "\n</urlset>\n")


def url_entry(loc: str, lastmod: str | None) -> str:
    return f"<url><loc>{escape(loc)}</loc>" + (f"<lastmod>{lastmod}</lastmod>" if lastmod else "") + "</url>"


def news_entry(loc: str, published: str, title: str) -> str:
    return (f"<url><loc>{escape(loc)}</loc><news:news><news:publication><news:name>测试新闻网</news:name>"
            f"<news:language>zh</news:language></news:publication><news:publication_date>{published}"
            f"</news:publication_date><news:title>{escape(title)}</news:title></news:news></url>")


def sitemap_index(base: str, children: list[tuple[str, str]]) -> str:
    items = "".join(f"<sitemap><loc>{base}{name}</loc><lastmod>{lastmod}</lastmod></sitemap>\n"
                    for name, lastmod in children)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n{items}</sitemapindex>\n')


def rss(base: str, items: list[tuple[str, str, str]]) -> str:
    """items: (path, title, RFC 822 pubDate)"""
    body = "".join(f"<item><title>{escape(t)}</title><link>{base}{p}</link><guid>{base}{p}</guid>"
                   f"<pubDate>{d}</pubDate><description>摘要</description></item>\n" for p, t, d in items)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">'
            f'<channel><title>测试新闻网</title><link>{base}</link><atom:link href="{base}rss.xml" rel="self"/>'
            f"<description>要闻</description>\n{body}</channel></rss>\n")


def atom(base: str, entries: list[tuple[str, str, str | None, str]]) -> str:
    """entries: (path, title, published or None, updated)"""
    body = "".join(f'<entry><title>{escape(t)}</title><link rel="alternate" type="text/html" href="{base}{p}"/>'
                   f"<id>{base}{p}</id>" + (f"<published>{pub}</published>" if pub else "")
                   + f"<updated>{upd}</updated></entry>\n" for p, t, pub, upd in entries)
    return ('<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
            f"<title>测试新闻网</title><id>{base}</id><updated>2024-11-01T00:00:00Z</updated>\n{body}</feed>\n")


def topic_page(numbers: list[int]) -> str:
    """A listing (links with teasers): the classifier calls it a listing, but it has text to store."""
    items = "".join(f'<li><a href="/news/2024/10{n + 1:02d}/c1000-{100000 + n}.html">{article_text(n)[0]}</a>'
                    f"<p>{article_text(n)[1][1][:70]}</p></li>" for n in numbers)
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>专题：城市更新_测试新闻网</title></head>
<body><h1>专题：城市更新</h1><ul class="list">{items}</ul></body></html>"""


def home_page(feeds: bool = True) -> str:
    links = ('<link rel="alternate" type="application/rss+xml" title="要闻" href="/rss.xml">'
             '<link rel="alternate" type="application/atom+xml" title="Atom" href="/atom.xml">') if feeds else ""
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>测试新闻网</title>{links}</head>
<body><ul><li><a href="/news/">新闻</a></li><li><a href="/about.html">关于</a></li></ul></body></html>"""


def write(root: Path, name: str, data: str | bytes) -> None:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)


def gzip_bomb(path: Path, gigabytes: int = 1) -> None:
    """A valid gzip file of `gigabytes` GB of zeros (about 1 MB per GB), written block by block: a 1 MB block of
    zeros compressed with a full flush is self-contained, so the same bytes repeat."""
    megabyte = bytes(1 << 20)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    block = compressor.compress(megabyte) + compressor.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    with path.open("wb") as out:
        out.write(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff")  # gzip header: deflate, no name, unknown OS
        for _ in range(1024 * gigabytes):
            out.write(block)
            crc = zlib.crc32(megabyte, crc)
        out.write(compressor.flush(zlib.Z_FINISH))
        out.write(struct.pack("<II", crc, (gigabytes << 30) & 0xFFFFFFFF))


def billion_laughs(root_tag: str = "urlset") -> str:
    entities = ['<!ENTITY lol0 "lol">'] + [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)]
    return f'<?xml version="1.0"?>\n<!DOCTYPE lolz [{"".join(entities)}]>\n<{root_tag}><url><loc>&lol9;</loc></url></{root_tag}>\n'


def external_entity(target: str, root_tag: str = "urlset") -> str:
    return (f'<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY xxe SYSTEM "{target}">]>\n'
            f"<{root_tag}><url><loc>http://127.0.0.1/&xxe;</loc></url></{root_tag}>\n")


# --- the site --------------------------------------------------------------------------------------------------
@dataclass
class DiscoverySite:
    """The site's content; `build` writes it under `root` for the server at `base`."""

    root: Path
    base: str
    dated: list[Story] = field(default_factory=lambda: stories(12))
    archive: list[Story] = field(default_factory=lambda: [Story(50, "2023-06-01"), Story(51, "2023-06-02")])
    dateless: list[Story] = field(default_factory=lambda: [Story(70, None), Story(71, None)])
    editions: dict[int, int] = field(default_factory=dict)
    modified: dict[int, str] = field(default_factory=dict)  # story n -> lastmod/updated after an edit
    deleted: set[int] = field(default_factory=set)  # pages gone (404) but still listed in the sitemap
    undated: set[int] = field(default_factory=lambda: {0})  # listed in the sitemap without a lastmod
    hostile: bool = True

    def url(self, story: Story) -> str:
        return self.base + story.path

    def lastmod(self, story: Story) -> str | None:
        if story.n in self.undated:
            return None
        return self.modified.get(story.n) or f"{story.day}T09:30:00+08:00"

    def build(self) -> None:
        for story in self.dated + self.archive + self.dateless:
            if story.n in self.deleted:
                (self.root / story.path).unlink(missing_ok=True)
            else:
                write(self.root, story.path, story_page(story, self.editions.get(story.n, 1)))
        base = self.base
        write(self.root, "robots.txt", f"User-agent: *\nDisallow: /private/\nSitemap: {base}sitemap_index.xml\n")
        write(self.root, "index.html", home_page(feeds=True))
        write(self.root, "plain.html", home_page(feeds=False))
        write(self.root, "topics/chengshi/index.html", topic_page(list(range(8))))
        # Google News sitemap: the recent stories, and a page without any date of its own.
        recent = self.dated[-4:]
        news = [news_entry(self.url(s), f"{s.day}T09:30:00+08:00", article_text(s.n)[0]) for s in recent]
        news.append(news_entry(self.url(self.dateless[0]), "2024-11-05T08:00:00+08:00",
                               article_text(self.dateless[0].n)[0]))
        write(self.root, "sitemap-news.xml", urlset(news, news=True))
        main = urlset([url_entry(self.url(s), self.lastmod(s)) for s in self.dated])
        write(self.root, "sitemap-articles.xml.gz", gzip.compress(main.encode("utf-8"), mtime=0))
        write(self.root, "sitemap-2023.xml", urlset([url_entry(self.url(s), f"{s.day}") for s in self.archive]))
        children = [("sitemap-news.xml", "2024-11-05T10:00:00+08:00"),
                    ("sitemap-articles.xml.gz", max(self.lastmod(s) or "" for s in self.dated)),
                    ("sitemap-2023.xml", "2023-12-31")]
        if self.hostile:
            secret = self.root / "private" / "secret.txt"
            write(self.root, "private/secret.txt", SECRET)
            write(self.root, "sitemap-laughs.xml", billion_laughs())
            write(self.root, "sitemap-xxe.xml", external_entity(secret.as_uri()))
            if not (self.root / "sitemap-bomb.xml.gz").exists():
                gzip_bomb(self.root / "sitemap-bomb.xml.gz")
            children += [("sitemap-laughs.xml", "2024-11-01"), ("sitemap-xxe.xml", "2024-11-01"),
                         ("sitemap-bomb.xml.gz", "2024-11-01")]
        write(self.root, "sitemap_index.xml", sitemap_index(base, children))
        # Feeds: RSS lists the recent stories and the dateless one; Atom overlaps it and adds the second
        # dateless story. Feed dates differ from the page dates on purpose: the page's own date must win.
        rss_items = [(s.path, article_text(s.n)[0], rfc822(s.day, days=30)) for s in self.dated[-4:]]
        rss_items.append((self.dateless[0].path, article_text(self.dateless[0].n)[0],
                          "Tue, 05 Nov 2024 08:00:00 CST"))
        write(self.root, "rss.xml", rss(base, rss_items))
        atom_entries = [(s.path, article_text(s.n)[0], f"{s.day}T09:30:00+08:00",
                         self.modified.get(s.n, f"{s.day}T09:30:00+08:00")) for s in self.dated[-6:]]
        atom_entries.append((self.dateless[1].path, article_text(self.dateless[1].n)[0], None,
                             "2024-11-06T10:00:00+08:00"))
        write(self.root, "atom.xml", atom(base, atom_entries))


def rfc822(day: str | None, days: int = 0) -> str:
    moment = datetime.fromisoformat(f"{day}T09:30:00").replace(tzinfo=CHINA) + timedelta(days=days)
    return format_datetime(moment)


def now_iso() -> str:
    """A lastmod just after now: later than anything a crawl that already ran recorded."""
    return (datetime.now(timezone.utc) + timedelta(seconds=1)).isoformat(timespec="seconds")


# --- the server --------------------------------------------------------------------------------------------------
CONTENT_TYPES = {".xml": "application/xml; charset=utf-8", ".gz": "application/x-gzip",
                 ".txt": "text/plain; charset=utf-8", ".html": "text/html; charset=utf-8"}
# Served with Content-Encoding: gzip (compressed on the fly) when the client accepts it.
ENCODED_ON_THE_FLY = frozenset({"/sitemap-news.xml", "/atom.xml"})


@contextmanager
def serve(root: Path) -> Iterator[Served]:
    """Serve `root` on a free local port, as the discovery tests need it."""
    with fileserver.serve(root, content_types=CONTENT_TYPES, default_type="application/octet-stream",
                          gzip_paths=ENCODED_ON_THE_FLY, hidden_prefix="/private/") as served:
        yield served
