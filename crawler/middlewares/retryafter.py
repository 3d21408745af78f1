"""Retry-After: a 429 or 503 is retried only after the delay the server asked for (capped), reactor not blocked."""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any

from scrapy.exceptions import NotConfigured
from scrapy.http import Request, Response
from scrapy.utils.asyncio import sleep

logger = logging.getLogger(__name__)

# RFC 9110 gives Retry-After meaning on 503 and RFC 6585 on 429; on other statuses it is ignored.
STATUSES = frozenset({429, 503})


def retry_after_seconds(value: str, now: datetime | None = None) -> float | None:
    """Seconds a Retry-After value asks to wait: delay-seconds or an HTTP-date; None when unreadable."""
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())


class RetryAfterMiddleware:
    """Downloader middleware at 560, so its process_response runs just before RetryMiddleware (550): a 429/503
    with Retry-After waits min(Retry-After, RETRYAFTER_MAX_SECONDS) in an asyncio/Twisted sleep, then hands the
    response to RetryMiddleware, which retries it (RETRY_TIMES still bounds the attempts). The last attempt,
    which RetryMiddleware will not retry, does not wait. Other requests go on meanwhile."""

    def __init__(self, max_seconds: float, retry_codes: set[int], max_retry_times: int, stats: Any = None) -> None:
        self.max_seconds = max_seconds
        self.retry_codes = retry_codes
        self.max_retry_times = max_retry_times
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Any) -> RetryAfterMiddleware:
        settings = crawler.settings
        if not (settings.getbool("RETRYAFTER_ENABLED", True) and settings.getbool("RETRY_ENABLED")):
            raise NotConfigured("RETRYAFTER_ENABLED or RETRY_ENABLED is off")
        return cls(settings.getfloat("RETRYAFTER_MAX_SECONDS", 60.0),
                   {int(code) for code in settings.getlist("RETRY_HTTP_CODES")},
                   settings.getint("RETRY_TIMES"), crawler.stats)

    async def process_response(self, request: Request, response: Response) -> Response:
        value = response.headers.get(b"Retry-After")
        if (response.status not in STATUSES or response.status not in self.retry_codes or not value
                or request.meta.get("dont_retry")
                or request.meta.get("retry_times", 0) >= request.meta.get("max_retry_times", self.max_retry_times)):
            return response
        asked = retry_after_seconds(value.decode("latin-1"))
        if asked is None:
            return response
        delay = min(asked, self.max_seconds)
        if self.stats is not None:
            self.stats.inc_value("retryafter/waits")
            self.stats.inc_value("retryafter/seconds", delay)
            if asked > self.max_seconds:
                self.stats.inc_value("retryafter/capped")
        logger.info("%s answered %d with Retry-After %s: retrying in %.1f s", request.url, response.status,
                    value.decode("latin-1"), delay)
        if delay > 0:
            await sleep(delay)
        return response
