"""A local HTTP server that misbehaves on purpose (asyncio, raw bytes): truncated gzip, gzip bombs, resets mid-body,
slow drips, redirect loops and redirects to private addresses, 5xx bursts, 429 with Retry-After, huge bodies.

Every request is logged with its arrival time, so tests can measure when a retry came."""

from __future__ import annotations

import asyncio
import gzip
import random
import socket
import struct
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from tests.incremental.site import article_page

Writer = asyncio.StreamWriter
MB = 1024 * 1024
PROSE = "".join(f"<p>{p}</p>" for p in (
    "本报讯 今年以来，全市深入推进城市更新行动，累计改造老旧小区一百二十个，惠及居民四万余户，群众满意度持续提升。",
    "市住房城乡建设委负责人介绍，下一步将围绕加装电梯、管网改造和社区养老等方面继续发力，确保年底前完成全部任务。",
    "据了解，改造过程中坚持先民生后提升，充分听取居民意见，并引入社会资本参与，形成了可复制推广的经验做法。",
))
ARTICLE_HEAD = ('<meta charset="utf-8"><meta property="og:type" content="article">'
                '<meta property="article:published_time" content="2024-10-08T09:30:00+08:00">')


def article_with(title: str, extra: str) -> str:
    return (f"<!DOCTYPE html><html><head>{ARTICLE_HEAD}<title>{title}_测试新闻网</title></head><body>"
            f"<h1>{title}</h1><div class=\"article-content\">{PROSE}</div>{extra}</body></html>")


@dataclass
class Hostile:
    host: str
    port: int
    log: list[tuple[float, str, int]] = field(default_factory=list)  # (monotonic time, path, status)
    hits: dict[str, int] = field(default_factory=dict)
    huge_done: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    def times(self, path: str) -> list[float]:
        return [when for when, p, _ in self.log if p == path]


def head(status: int, headers: dict[str, str] | None = None, length: int | None = None) -> bytes:
    reason = {200: "OK", 302: "Found", 429: "Too Many Requests", 503: "Service Unavailable"}.get(status, "X")
    lines = [f"HTTP/1.1 {status} {reason}", "Connection: close"]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


HTML = {"Content-Type": "text/html; charset=utf-8"}


class Routes:
    """path -> coroutine writing the answer; the state (hit counts) lives on the Hostile record."""

    def __init__(self, server: Hostile, other_port: int) -> None:
        self.server = server
        self.other_port = other_port

    async def send(self, writer: Writer, status: int, body: bytes, headers: dict[str, str] | None = None) -> int:
        writer.write(head(status, headers if headers is not None else HTML, len(body)) + body)
        await writer.drain()
        return status

    async def answer(self, path: str, writer: Writer) -> int:
        hits = self.server.hits[path] = self.server.hits.get(path, 0) + 1
        route: Callable[[Writer, int], Awaitable[int]] | None = getattr(self, "r_" + path.strip("/").replace(
            "/", "_").replace("-", "_").replace(".html", ""), None)
        if path.startswith("/news/good-"):
            n = int(path.rsplit("-", 1)[1].split(".")[0])
            return await self.send(writer, 200, article_page(n).encode("utf-8"))
        if route is None:
            return await self.send(writer, 404, b"<html><body>not here</body></html>")
        return await route(writer, hits)

    # --- bodies that are not what they say ---
    async def r_bad_binary(self, writer: Writer, hits: int) -> int:
        noise = random.Random(7).randbytes(200_000)
        return await self.send(writer, 200, noise)

    async def r_bad_empty(self, writer: Writer, hits: int) -> int:
        return await self.send(writer, 200, b"")

    async def r_news_invalid_bytes(self, writer: Writer, hits: int) -> int:
        """Declared GBK, GBK prose, with a few invalid byte sequences in the middle."""
        page = article_page(93).replace('<meta charset="utf-8">', '<meta charset="gbk">')
        raw = page.encode("gbk")
        cut = raw.index("累计".encode("gbk"))
        raw = raw[:cut] + b"\xff\xfe\x80\x81\xff" + raw[cut:]
        return await self.send(writer, 200, raw, {"Content-Type": "text/html; charset=gbk"})

    async def r_bad_truncated_gzip(self, writer: Writer, hits: int) -> int:
        packed = gzip.compress(article_with("截断的压缩页", "<p>尾部</p>" * 2000).encode("utf-8"))
        return await self.send(writer, 200, packed[: len(packed) // 3], {**HTML, "Content-Encoding": "gzip"})

    async def r_bad_gzip_bomb(self, writer: Writer, hits: int) -> int:
        return await self.send(writer, 200, BOMB, {**HTML, "Content-Encoding": "gzip"})

    # --- transport faults ---
    async def r_bad_reset(self, writer: Writer, hits: int) -> int:
        writer.write(head(200, HTML, 100_000) + article_with("连接被重置", "").encode("utf-8")[:2000])
        await writer.drain()
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close = RST
        writer.transport.abort()
        return 200

    async def r_bad_slow(self, writer: Writer, hits: int) -> int:
        writer.write(head(200, HTML, 10_000))
        for _ in range(60):  # one byte every half second: far past any sane DOWNLOAD_TIMEOUT
            writer.write(b" ")
            await writer.drain()
            await asyncio.sleep(0.5)
        return 200

    async def r_bad_huge(self, writer: Writer, hits: int) -> int:
        """50 MB without Content-Length (ends at close): only counting received bytes can stop it."""
        writer.write(head(200, HTML))
        chunk = b"<p>" + "巨大页面".encode("utf-8") * 80_000 + b"</p>"
        try:
            for _ in range(50 * MB // len(chunk)):
                writer.write(chunk)
                await writer.drain()
        finally:
            self.server.huge_done.set()
        return 200

    # --- redirects ---
    async def redirect(self, writer: Writer, location: str) -> int:
        return await self.send(writer, 302, b"", {"Location": location})

    async def r_bad_loop_a(self, writer: Writer, hits: int) -> int:
        return await self.redirect(writer, "/bad/loop-b.html")

    async def r_bad_loop_b(self, writer: Writer, hits: int) -> int:
        return await self.redirect(writer, "/bad/loop-a.html")

    async def r_bad_to_metadata(self, writer: Writer, hits: int) -> int:
        return await self.redirect(writer, "http://169.254.169.254/latest/meta-data/iam/security-credentials/")

    async def r_bad_to_loopback(self, writer: Writer, hits: int) -> int:
        return await self.redirect(writer, f"http://127.0.0.1:{self.other_port}/admin")

    async def r_bad_to_localhost(self, writer: Writer, hits: int) -> int:
        """A name, not an address: only the resolver can tell it is loopback."""
        return await self.redirect(writer, f"http://localhost:{self.server.port}/news/good-90.html")

    async def r_bad_to_file(self, writer: Writer, hits: int) -> int:
        return await self.redirect(writer, "file:///etc/passwd")

    # --- overload answers that end well ---
    async def r_news_flaky(self, writer: Writer, hits: int) -> int:
        """503 twice, then the article: retried and stored."""
        if hits <= 2:
            return await self.send(writer, 503, b"<html><body>busy</body></html>")
        return await self.send(writer, 200, article_page(91).encode("utf-8"))

    async def r_news_ratelimited(self, writer: Writer, hits: int) -> int:
        if hits == 1:
            return await self.send(writer, 429, b"slow down", {"Retry-After": str(RETRY_AFTER), **HTML})
        return await self.send(writer, 200, article_page(92).encode("utf-8"))

    # --- pages too big for extraction ---
    async def r_news_links(self, writer: Writer, hits: int) -> int:
        # Parsing this page's links holds the crawler's reactor for seconds, which would time the huge
        # download out before its size limit is reached: answered once that download has ended.
        try:
            await asyncio.wait_for(self.server.huge_done.wait(), 20)
        except asyncio.TimeoutError:
            pass
        farm = "".join(f'<a href="http://farm.example/{n}"></a>' for n in range(100_000))
        return await self.send(writer, 200, article_with("链接农场", f"<div>{farm}</div>").encode("utf-8"))

    async def r_news_deep(self, writer: Writer, hits: int) -> int:
        deep = "<div>" * 2000 + "深层" + "</div>" * 2000
        return await self.send(writer, 200, article_with("深层嵌套", deep).encode("utf-8"))


RETRY_AFTER = 2
BOMB = gzip.compress(b"<html><body>" + b"0" * (200 * MB), compresslevel=9)  # ~200 KB that inflate to 200 MB

BAD_PATHS = ["/bad/binary.html", "/bad/empty.html", "/news/invalid-bytes.html", "/bad/truncated-gzip.html",
             "/bad/gzip-bomb.html", "/bad/reset.html", "/bad/slow.html", "/bad/huge.html", "/bad/loop-a.html",
             "/bad/to-metadata.html", "/bad/to-loopback.html", "/bad/to-localhost.html", "/bad/to-file.html",
             "/news/flaky.html", "/news/ratelimited.html", "/news/links.html", "/news/deep.html"]


@contextmanager
def serve_hostile() -> Iterator[Hostile]:
    """Run the server on 127.0.0.1 in a thread; yields its record (URL, request log)."""
    loop = asyncio.new_event_loop()
    with socket.socket() as probe:  # a port nothing listens on, for the redirect to another local service
        probe.bind(("127.0.0.1", 0))
        other_port = probe.getsockname()[1]
    ready = threading.Event()
    record: list[Hostile] = []

    async def handle(reader: asyncio.StreamReader, writer: Writer) -> None:
        server = record[0]
        try:
            request = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            path = request.split(b" ", 2)[1].decode("latin-1").split("?", 1)[0]
            server.log.append((time.monotonic(), path, 0))  # on arrival: slow answers may never end
            entry = len(server.log) - 1
            status = await Routes(server, other_port).answer(path, writer)
            server.log[entry] = (server.log[entry][0], path, status)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.TimeoutError, IndexError):
            pass
        finally:
            if not writer.transport.is_closing():
                writer.close()

    async def start() -> asyncio.base_events.Server:
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        record.append(Hostile("127.0.0.1", server.sockets[0].getsockname()[1]))
        ready.set()
        return server

    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    started = asyncio.run_coroutine_threadsafe(start(), loop)
    ready.wait(10)
    try:
        yield record[0]
    finally:
        server = started.result()
        loop.call_soon_threadsafe(server.close)
        for task in asyncio.all_tasks(loop):
            loop.call_soon_threadsafe(task.cancel)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
