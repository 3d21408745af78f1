"""`scrapy seed SPIDER URL... [--file F] [--reset]`: push start URLs for the workers of a distributed crawl."""

from __future__ import annotations

import argparse
import sys
from urllib.parse import urlsplit

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from crawler.distributed import client, enabled, keys, push_seeds
from crawler.spiders.site import split_urls


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False
    default_settings = {"LOG_LEVEL": "WARNING"}

    def syntax(self) -> str:
        return "SPIDER [URL ...] [--file urls.txt] [--reset] -s REDIS_URL=redis://host:6379/0"

    def short_desc(self) -> str:
        return "Push start URLs to Redis for the workers of a distributed crawl (REDIS_URL)"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--file", metavar="F", action="append", default=[],
                            help="read start URLs from F (one per line, # comments; - for stdin)")
        parser.add_argument("--reset", action="store_true",
                            help="start a new crawl round first: forget every URL seen (dupefilter) and drop the "
                                 "queue; run it when no worker is crawling")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        if not args:
            raise UsageError("give the spider name, then start URLs")
        if not enabled(self.settings):
            raise UsageError("set REDIS_URL (-s REDIS_URL=redis://host:6379/0)")
        spider, urls = args[0], list(args[1:])
        for name in opts.file:
            urls += split_urls(sys.stdin.read() if name == "-" else open(name, encoding="utf-8").read())
        bad = [u for u in urls if urlsplit(u).scheme not in ("http", "https") or not urlsplit(u).hostname]
        if bad:
            raise UsageError(f"start URLs must be http(s): {', '.join(bad[:5])}")
        if not urls:
            raise UsageError("give start URLs as arguments or with --file")
        spider_keys = keys(self.settings, spider)
        with client(self.settings) as server:
            if opts.reset:
                server.delete(spider_keys["dupefilter"], spider_keys["requests"])
            pushed = push_seeds(server, spider_keys, urls)
            waiting = server.llen(spider_keys["start_urls"])
        print(f"{pushed} start URLs pushed to {spider_keys['start_urls']} ({waiting} waiting)"
              + (f"; {spider_keys['dupefilter']} and {spider_keys['requests']} reset" if opts.reset else ""))
