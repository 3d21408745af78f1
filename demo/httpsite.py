"""A local static HTTP site for crawl tests: stdlib ThreadingHTTPServer on 127.0.0.1, port 0."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


@dataclass
class LocalSite:
    url: str
    requests: list[str] = field(default_factory=list)


class _Handler(SimpleHTTPRequestHandler):
    # Pages are served without a charset, as many Chinese sites do: the crawler must sniff.
    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, ".html": "text/html", ".htm": "text/html",
                      ".shtml": "text/html", ".txt": "text/plain", ".xml": "application/xml"}

    def __init__(self, *args: Any, site: LocalSite, **kwargs: Any) -> None:
        self.site = site
        super().__init__(*args, **kwargs)

    def do_GET(self) -> None:
        self.site.requests.append(self.path)
        super().do_GET()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serve_directory(root: Path) -> Iterator[LocalSite]:
    """Serve `root` on a free local port for the duration of the block; records every GET path."""
    site = LocalSite(url="")
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Handler, directory=str(root), site=site))
    with serving(server) as site.url:
        yield site


@contextmanager
def serving(server: ThreadingHTTPServer) -> Iterator[str]:
    """Run `server` in a thread for the duration of the block (yields its base URL); shut down and closed
    afterwards. Every local HTTP server of the demo, the tests and the benchmarks runs through this."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
