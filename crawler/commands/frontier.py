"""`scrapy frontier SPIDER [--watch S] [--reset]`: the state of a distributed crawl's shared queue in Redis."""

from __future__ import annotations

import argparse
import time

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from crawler.distributed import client, enabled, keys


def status(server: object, spider_keys: dict[str, str]) -> dict[str, int]:
    """Queue length, URLs seen, start URLs waiting and domains of one spider's crawl."""
    with server.pipeline() as pipe:  # type: ignore[attr-defined]
        pipe.zcard(spider_keys["requests"])
        pipe.scard(spider_keys["dupefilter"])
        pipe.llen(spider_keys["start_urls"])
        pipe.scard(spider_keys["domains"])
        queued, seen, start_urls, domains = pipe.execute()
    return {"queued": queued, "seen": seen, "start_urls": start_urls, "domains": domains}


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False
    default_settings = {"LOG_LEVEL": "WARNING"}

    def syntax(self) -> str:
        return "SPIDER [--watch SECONDS] [--reset] -s REDIS_URL=redis://host:6379/0"

    def short_desc(self) -> str:
        return "Show (or reset) the shared request queue of a distributed crawl"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--watch", metavar="SECONDS", type=float, default=0,
                            help="print a status line every SECONDS until interrupted")
        parser.add_argument("--reset", action="store_true",
                            help="delete the queue, the seen URLs, waiting start URLs and domains (a new crawl)")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        if len(args) != 1:
            raise UsageError("give one spider name")
        if not enabled(self.settings):
            raise UsageError("set REDIS_URL (-s REDIS_URL=redis://host:6379/0)")
        spider_keys = keys(self.settings, args[0])
        with client(self.settings) as server:
            if opts.reset:
                server.delete(*spider_keys.values())
            while True:
                line = status(server, spider_keys)
                print(f"{args[0]}: {line['queued']} requests queued, {line['seen']} URLs seen, "
                      f"{line['start_urls']} start URLs waiting, {line['domains']} domains", flush=True)
                if not opts.watch:
                    return
                try:
                    time.sleep(opts.watch)
                except KeyboardInterrupt:
                    return
