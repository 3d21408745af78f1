"""The multi-site config of `scrapy crawlall`: a TOML file of sites, loaded and checked with errors naming the
file, the site and the key."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

SPIDERS = ("site", "sitemap", "feed", "urls")
# Keys a [[site]] may have, besides `name`, `spider`, `enabled` and `settings`, per spider.
SPIDER_KEYS: dict[str, frozenset[str]] = {
    "site": frozenset({"start", "start_file", "depth", "max_pages"}),
    "sitemap": frozenset({"start", "start_file", "since", "max_pages"}),
    "feed": frozenset({"start", "start_file", "since", "max_pages"}),
    "urls": frozenset({"start", "file", "max_pages"}),
}
COMMON_KEYS = frozenset({"name", "spider", "enabled", "settings"})
# [defaults] keys: applied to every site whose spider takes them, unless the site sets its own.
DEFAULT_KEYS = frozenset({"since", "max_pages", "depth", "settings"})
# Site names end up in file names (reports, JOBDIR, feeds): keep them to safe characters.
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
SETTING_RE = re.compile(r"^[A-Z][A-Z0-9_]*$")


class SitesConfigError(ValueError):
    """Every problem found in a config, one per line."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class SiteConfig:
    """One site to crawl: its spider, the spider's arguments (as `-a NAME=VALUE` strings) and its settings."""

    name: str
    spider: str
    args: dict[str, str]
    settings: dict[str, Any] = field(default_factory=dict)


class _Checker:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.problems: list[str] = []

    def problem(self, where: str, key: str | None, message: str) -> None:
        self.problems.append(f"{self.path}: {where}: " + (f"key {key!r}: " if key else "") + message)

    def urls(self, where: str, key: str, value: Any) -> str | None:
        values = [value] if isinstance(value, str) else value
        if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
            self.problem(where, key, "must be a URL or a non-empty list of URLs")
            return None
        bad = [v for v in values if urlsplit(v.strip()).scheme not in ("http", "https") or not urlsplit(v).hostname]
        if bad:
            self.problem(where, key, f"not an http(s) URL: {', '.join(map(repr, bad))}")
            return None
        return ",".join(v.strip() for v in values)

    def file(self, where: str, key: str, value: Any) -> str | None:
        if not isinstance(value, str) or not value:
            self.problem(where, key, "must be a file path")
            return None
        resolved = (self.path.parent / value).resolve()  # relative to the config file
        if not resolved.is_file():
            self.problem(where, key, f"no such file: {resolved}")
            return None
        return str(resolved)

    def count(self, where: str, key: str, value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            self.problem(where, key, f"must be a whole number >= 0, got {value!r}")
            return None
        return str(value)

    def since(self, where: str, key: str, value: Any) -> str | None:
        if isinstance(value, datetime):
            return value.date().isoformat()
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, str):
            try:
                return date.fromisoformat(value.strip()).isoformat()
            except ValueError:
                pass
        self.problem(where, key, f"must be a date YYYY-MM-DD, got {value!r}")
        return None

    def settings(self, where: str, value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.problem(where, "settings", "must be a table of Scrapy settings, e.g. { DOWNLOAD_DELAY = 1.0 }")
            return {}
        for name in value:
            if not SETTING_RE.match(name):
                self.problem(where, "settings", f"{name!r} is not a setting name (UPPER_CASE)")
        return dict(value)

    def argument(self, where: str, key: str, value: Any) -> str | None:
        if key == "start":
            return self.urls(where, key, value)
        if key in ("start_file", "file"):
            return self.file(where, key, value)
        if key == "since":
            return self.since(where, key, value)
        return self.count(where, key, value)  # max_pages, depth


def load_sites(path: str | Path) -> list[SiteConfig]:
    """The enabled sites of a config, in file order; raises SitesConfigError listing every problem."""
    path = Path(path)
    checker = _Checker(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise SitesConfigError([f"{path}: cannot read: {error.strerror or error}"]) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise SitesConfigError([f"{path}: not valid TOML: {error}"]) from None
    for key in sorted(set(data) - {"defaults", "site"}):
        checker.problem("top level", key, "unknown (expected a [defaults] table and [[site]] tables)")
    defaults = data.get("defaults", {})
    if not isinstance(defaults, dict):
        checker.problem("[defaults]", None, "must be a table")
        defaults = {}
    for key in sorted(set(defaults) - DEFAULT_KEYS):
        checker.problem("[defaults]", key, f"unknown (expected one of {', '.join(sorted(DEFAULT_KEYS))})")
    default_settings = checker.settings("[defaults]", defaults.get("settings", {}))
    default_args = {key: checked for key, value in defaults.items() if key in DEFAULT_KEYS - {"settings"}
                    and (checked := checker.argument("[defaults]", key, value)) is not None}
    entries = data.get("site", [])
    if not isinstance(entries, list) or not entries:
        checker.problem("top level", "site", "no sites: add [[site]] tables with name, spider and start")
        entries = []
    sites: list[SiteConfig] = []
    seen: set[str] = set()
    for number, entry in enumerate(entries, start=1):
        site = _site(checker, number, entry, default_args, default_settings, seen)
        if site is not None:
            sites.append(site)
    if checker.problems:
        raise SitesConfigError(checker.problems)
    return sites


def _site(checker: _Checker, number: int, entry: Any, default_args: dict[str, str],
          default_settings: dict[str, Any], seen: set[str]) -> SiteConfig | None:
    if not isinstance(entry, dict):
        checker.problem(f"site #{number}", None, "must be a table ([[site]])")
        return None
    name = entry.get("name")
    where = f"site #{number} ({name!r})" if isinstance(name, str) else f"site #{number}"
    before = len(checker.problems)
    if not isinstance(name, str) or not NAME_RE.match(name):
        checker.problem(where, "name", "required: letters, digits, '.', '_' or '-' (it names report files)")
    elif name in seen:
        checker.problem(where, "name", "another site already has this name")
    else:
        seen.add(name)
    spider = entry.get("spider")
    if spider not in SPIDERS:
        checker.problem(where, "spider", f"must be one of {', '.join(SPIDERS)}, got {spider!r}")
        return None
    allowed = SPIDER_KEYS[spider]
    for key in sorted(set(entry) - allowed - COMMON_KEYS):
        checker.problem(where, key, f"not a key of a {spider!r} site (expected {', '.join(sorted(allowed))})")
    enabled = entry.get("enabled", True)
    if not isinstance(enabled, bool):
        checker.problem(where, "enabled", f"must be true or false, got {enabled!r}")
    if not any(key in entry for key in ("start", "start_file", "file")):
        checker.problem(where, "start", "required: the URLs to start from" + (" (or `file`)" if spider == "urls"
                                                                                 else " (or `start_file`)"))
    args = {key: value for key, value in default_args.items() if key in allowed}
    for key in sorted(allowed & set(entry)):
        checked = checker.argument(where, key, entry[key])
        if checked is not None:
            args[key] = checked
    settings = {**default_settings, **checker.settings(where, entry.get("settings", {}))}
    if len(checker.problems) > before or enabled is False:
        return None
    return SiteConfig(name, spider, args, settings)


def select(sites: list[SiteConfig], only: str | None, path: str | Path) -> list[SiteConfig]:
    """The sites named in `--only a,b` (all when None); an unknown name is a config error."""
    if not only:
        return sites
    names = [n.strip() for n in only.split(",") if n.strip()]
    known = {site.name for site in sites}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise SitesConfigError([f"{path}: --only: no enabled site named {', '.join(map(repr, unknown))} "
                                f"(sites: {', '.join(sorted(known))})"])
    return [site for site in sites if site.name in names]
