"""Network safety: address policy, literal IP spellings, the middleware's refusals and the resolver's."""

from __future__ import annotations

import ipaddress
import json
import socket
from pathlib import Path

import pytest
from scrapy.exceptions import CannotResolveHostError, IgnoreRequest
from scrapy.http import Request, Response
from scrapy.utils.test import get_crawler
from twisted.internet import reactor as global_reactor

from crawler.middlewares.safety import NetworkSafetyMiddleware
from crawler.resolver import REFUSED_HOSTS, RefusedAddressError, SafeResolver, address_refusal, literal_ip
from tests.crawlrun import run_crawl


@pytest.mark.parametrize(("host", "address"), [
    ("127.0.0.1", "127.0.0.1"),
    ("2130706433", "127.0.0.1"),
    ("0x7f.1", "127.0.0.1"),
    ("0x7f000001", "127.0.0.1"),
    ("0177.0.0.1", "127.0.0.1"),
    ("127.1", "127.0.0.1"),
    ("10.1.65535", "10.1.255.255"),
    ("169.254.169.254.", "169.254.169.254"),
    ("[::1]", "::1"),
    ("::ffff:127.0.0.1", "::ffff:7f00:1"),
    ("fe80::1%eth0", "fe80::1"),
])
def test_literal_ip_spellings(host: str, address: str) -> None:
    assert literal_ip(host) == ipaddress.ip_address(address)


@pytest.mark.parametrize("host", ["example.com", "news.sina.com.cn", "1.example", "0x7f.example", "256.1.1.1.1",
                                  "1.2.3.256", "08.1.1.1", "xn--fiq228c.com", ""])
def test_names_and_invalid_numbers_are_not_addresses(host: str) -> None:
    assert literal_ip(host) is None


@pytest.mark.parametrize(("address", "reason"), [
    ("127.0.0.1", "loopback"), ("::1", "loopback"), ("10.0.0.8", "private"), ("172.16.5.4", "private"),
    ("192.168.1.1", "private"), ("fd12::1", "private"), ("169.254.169.254", "link_local"), ("fe80::1", "link_local"),
    ("0.0.0.0", "unspecified"), ("::", "unspecified"), ("224.0.0.1", "multicast"), ("ff02::1", "multicast"),
    ("100.64.1.1", "cgnat"), ("240.0.0.1", "reserved"), ("::ffff:127.0.0.1", "loopback"),
    ("::ffff:169.254.169.254", "link_local"), ("2002:7f00:1::", "loopback"),
    ("8.8.8.8", None), ("2606:4700::1111", None), ("114.114.114.114", None),
])
def test_address_policy(address: str, reason: str | None) -> None:
    assert address_refusal(ipaddress.ip_address(address)) == reason


def middleware(**settings: object) -> tuple[NetworkSafetyMiddleware, object]:
    crawler = get_crawler(settings_dict=settings)
    crawler.stats.open_spider()
    return NetworkSafetyMiddleware.from_crawler(crawler), crawler.stats


@pytest.mark.parametrize(("url", "reason"), [
    ("file:///etc/passwd", "scheme"), ("data:text/html,<p>x</p>", "scheme"), ("ftp://example.com/a", "scheme"),
    ("s3://bucket/key", "scheme"), ("http://127.0.0.1:8080/", "loopback"), ("http://2130706433/", "loopback"),
    ("http://0x7f.1/", "loopback"), ("http://[::ffff:127.0.0.1]/", "loopback"),
    ("http://169.254.169.254/latest/meta-data/", "link_local"), ("https://10.0.0.1/", "private"),
    ("http://[fe80::1]/", "link_local"), ("http://0.0.0.0:80/", "unspecified"),
])
def test_refused_requests_are_counted(url: str, reason: str) -> None:
    safety, stats = middleware()
    with pytest.raises(IgnoreRequest, match=f"safety:{reason}"):
        safety.process_request(Request(url))
    assert stats.get_value(f"safety/refused/{reason}") == 1


def test_public_names_and_addresses_pass() -> None:
    safety, stats = middleware()
    for url in ("https://news.example.com/a.html", "http://8.8.8.8/", "http://[2606:4700::1111]/"):
        assert safety.process_request(Request(url)) is None
    assert not any(key.startswith("safety/") for key in stats.get_stats())


def test_allow_private_and_allowed_hosts() -> None:
    open_all, _ = middleware(NETWORK_ALLOW_PRIVATE=True)
    assert open_all.process_request(Request("http://127.0.0.1:9/")) is None
    with pytest.raises(IgnoreRequest, match="scheme"):  # schemes stay refused
        open_all.process_request(Request("file:///etc/passwd"))
    one_port, _ = middleware(NETWORK_ALLOW_HOSTS=["127.0.0.1:8123", "intranet.local"])
    assert one_port.process_request(Request("http://127.0.0.1:8123/x")) is None
    with pytest.raises(IgnoreRequest, match="loopback"):
        one_port.process_request(Request("http://127.0.0.1:8124/x"))
    with pytest.raises(IgnoreRequest, match="loopback"):
        one_port.process_request(Request("http://2130706433:8124/x"))


def redirect(request: Request, location: str, status: int = 302) -> Response:
    return Response(request.url, status=status, headers={"Location": location}, request=request)


def test_redirects_to_refused_targets_and_loops() -> None:
    safety, stats = middleware()
    request = Request("https://news.example.com/a")
    for location, reason in [("http://169.254.169.254/latest/", "link_local"), ("file:///etc/passwd", "scheme"),
                             ("//[::1]/x", "loopback")]:
        with pytest.raises(IgnoreRequest, match=reason):
            safety.process_response(request, redirect(request, location))
        assert stats.get_value(f"safety/refused/{reason}") == 1
    hop = Request("https://news.example.com/b", meta={"redirect_urls": ["https://news.example.com/a"]})
    with pytest.raises(IgnoreRequest, match="redirect_loop"):
        safety.process_response(hop, redirect(hop, "/a"))
    ok = redirect(hop, "/c")
    assert safety.process_response(hop, ok) is ok
    assert stats.get_value("safety/refused/redirect_loop") == 1


def test_resolver_refusal_is_counted_and_not_retried() -> None:
    safety, stats = middleware()
    REFUSED_HOSTS["evil.example"] = "loopback"
    try:
        with pytest.raises(IgnoreRequest, match="safety:loopback"):
            safety.process_exception(Request("http://evil.example/"), CannotResolveHostError("no results"))
    finally:
        del REFUSED_HOSTS["evil.example"]
    assert stats.get_value("safety/refused/loopback") == 1
    unknown = CannotResolveHostError("no results for hostname lookup: nowhere.invalid")
    assert safety.process_exception(Request("http://nowhere.invalid/"), unknown) is None  # retried as usual


def test_resolver_checks_the_resolved_address() -> None:
    """`localhost` is a name, so only its resolved address can tell it is loopback."""
    resolver = SafeResolver(global_reactor, cache_size=0, timeout=5)
    with pytest.raises(RefusedAddressError, match="loopback"):
        resolver._check(socket.gethostbyname("localhost"), "localhost")
    assert REFUSED_HOSTS.pop("localhost") == "loopback"
    assert resolver._check("93.184.216.34", "example.com") == "93.184.216.34"
    allowed = SafeResolver(global_reactor, cache_size=0, timeout=5, allowed_hosts=["localhost:8000"])
    assert "localhost" in allowed.allowed_names


def test_local_site_is_refused_without_allow_private(tmp_path: Path) -> None:
    """A real crawl of a local site, guard on: the start URL (a literal address) and a name that resolves to
    loopback are refused with counted reasons, and nothing is fetched."""
    from tests.incremental.site import build_site, serve

    root = tmp_path / "site"
    build_site(root, 3, per_page=3)
    with serve(root) as site:
        port = site.url.rsplit(":", 1)[1].strip("/")
        result = run_crawl("site", {"start": f"{site.url},http://localhost:{port}/"}, tmp_path / "out",
                           settings={"NETWORK_ALLOW_PRIVATE": "False", "ROBOTSTXT_OBEY": "False",
                                     "RETRY_TIMES": "2"}, timeout=60)
        served = list(site.log)
    assert result.returncode == 0, result.stderr[-3000:]
    stats = stats_of(tmp_path / "out")
    assert stats.get("safety/refused/loopback") == 2, result.stderr[-3000:]
    assert served == []
    assert "Refusing localhost: it resolves to 127.0.0.1 (loopback)" in result.stderr
    assert "retry/count" not in stats  # a refused name is not retried like a DNS failure


def stats_of(out: Path) -> dict[str, object]:
    """The crawl's stats, from its report (crawler/extensions/report.py)."""
    [report] = (out / "reports").glob("*.json")
    return json.loads(report.read_text(encoding="utf-8"))["stats"]
