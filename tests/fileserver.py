"""A local file server for re-crawl and discovery tests: serves a directory, answers conditional requests
(ETag -> 304; Last-Modified sent), logs every request; optionally slow, with content types by suffix, gzip
on the fly for some paths and hidden paths (404)."""

from __future__ import annotations

import gzip
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

# Pages are served without a charset, as many Chinese sites do: the crawler must sniff.
PAGE_TYPES = {".txt": "text/plain"}


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
    content_types: dict[str, str] = PAGE_TYPES
    default_type = "text/html"
    gzip_paths: frozenset[str] = frozenset()
    hidden_prefix: str | None = None
    lock = threading.Lock()

    def do_GET(self) -> None:
        time.sleep(self.served.delay)
        path = self.path.split("?", 1)[0].split("#", 1)[0]
        file = self.root / path.lstrip("/")
        if path.endswith("/"):
            file = file / "index.html"
        conditional = "If-None-Match" in self.headers or "If-Modified-Since" in self.headers
        if not file.is_file() or (self.hidden_prefix and path.startswith(self.hidden_prefix)):
            self._answer(404, b"not found", "text/plain", conditional)
            return
        data = file.read_bytes()
        etag = '"' + hashlib.sha1(data).hexdigest()[:16] + '"'
        if self.headers.get("If-None-Match") == etag:
            self._answer(304, b"", "", conditional, ETag=etag)
            return
        headers = {"ETag": etag, "Last-Modified": formatdate(file.stat().st_mtime, usegmt=True)}
        if path in self.gzip_paths and "gzip" in self.headers.get("Accept-Encoding", ""):
            data = gzip.compress(data)
            headers["Content-Encoding"] = "gzip"
        self._answer(200, data, self.content_types.get(file.suffix, self.default_type), conditional, **headers)

    def _answer(self, status: int, data: bytes, kind: str, conditional: bool, **headers: str) -> None:
        with self.lock:
            self.served.log.append((self.path, status, conditional))
        self.send_response(status)
        if status != 304:
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if status != 304:
            self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serve(root: Path, delay: float = 0.0, **options: Any) -> Iterator[Served]:
    """Serve `root` on a free local port; `delay` seconds before each answer. `options` set the handler's
    content_types, default_type, gzip_paths and hidden_prefix."""
    root.mkdir(parents=True, exist_ok=True)
    served = Served(url="", delay=delay)
    handler = type("Handler", (_Handler,), {"root": root, "served": served, **options})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    with serving(server) as served.url:
        yield served
