"""Scrapy settings for zhcrawl, grouped by pipeline step; every step reads only its own prefix."""

from __future__ import annotations

from crawler.items import EXPORT_FIELDS

BOT_NAME = "zhcrawl"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"
COMMANDS_MODULE = "crawler.commands"

# --- Politeness -----------------------------------------------------------------------------
# A real User-Agent that names the product, so site operators can tell who is crawling.
USER_AGENT = "Mozilla/5.0 (compatible; zhcrawl/0.1; Chinese news crawler built on Scrapy)"
ROBOTSTXT_OBEY = True
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
CONCURRENT_REQUESTS_PER_DOMAIN = 4
DOWNLOAD_TIMEOUT = 30
# Pages above this size are not news articles; Scrapy cancels the download.
DOWNLOAD_MAXSIZE = 20 * 1024 * 1024
DOWNLOAD_WARNSIZE = 5 * 1024 * 1024
RETRY_TIMES = 2
# Breadth-first: listing pages near the start are read before deep article chains.
DEPTH_PRIORITY = 1
SCHEDULER_DISK_QUEUE = "scrapy.squeues.PickleFifoDiskQueue"
SCHEDULER_MEMORY_QUEUE = "scrapy.squeues.FifoMemoryQueue"
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False  # no listening control port on crawl machines
LOG_LEVEL = "INFO"
LOG_FORMATTER = "crawler.logformatter.ReasonLogFormatter"
FEED_EXPORT_ENCODING = "utf-8"

# --- Spider `site` (arguments override these per run) ----------------------------------------
SITE_DEPTH_LIMIT = 5  # link hops from a start URL
SITE_MAX_PAGES = 0  # pages fetched before the spider closes; 0 = no limit

# --- The pipeline chain (the same steps run in `scrapy clean`) ---------------------------------
ITEM_PIPELINES = {
    "pipelines.decode.DecodePipeline": 100,
    "pipelines.extract.ExtractPipeline": 200,
    "pipelines.clean.CleanPipeline": 300,
    "pipelines.script.ScriptPipeline": 400,
    "pipelines.language.LanguagePipeline": 500,
    "pipelines.quality.QualityPipeline": 600,
    "pipelines.neardup.NearDupFingerprintPipeline": 650,  # the CPU part of 750, in the cleaning workers
    "pipelines.dedup.DedupPipeline": 700,
    "pipelines.neardup.NearDupPipeline": 750,
    "pipelines.store.StorePipeline": 800,
}

# Extraction (pipelines/extract.py)
EXTRACT_MAX_BYTES = 8 * 1024 * 1024

# Text cleaning (pipelines/clean.py)
CLEAN_ENABLED = True
CLEAN_DROP_SPAM = True

# Script (pipelines/script.py): an OpenCC config name ("t2s", "s2t", "t2tw", ...) or "none" to keep
# the page's own script.
SCRIPT_TARGET = "t2s"

# Language (pipelines/language.py): ISO 639-1 codes to keep; empty keeps every language.
LANGUAGE_KEEP: list[str] = []
LANGUAGE_SAMPLE_CHARS = 2000

# Quality gates (pipelines/quality.py)
QUALITY_MIN_CHARS = 30

# Exact duplicates (pipelines/dedup.py)
DEDUP_ENABLED = True

# Store (pipelines/store.py): SQLite database, one row per article, unique by URL.
STORE_ENABLED = True
STORE_PATH = "output/articles.sqlite"
STORE_BATCH_SIZE = 50

# JSONL export of every stored article of the run.
FEEDS = {
    "output/articles.jsonl": {
        "format": "jsonlines",
        "encoding": "utf8",
        "fields": list(EXPORT_FIELDS),
        "overwrite": True,
    },
}

# Near-duplicates (pipelines/neardup.py): MinHash/LSH index in the store database (STORE_PATH), or in
# memory when STORE_ENABLED is off. A later article whose estimated Jaccard similarity with an earlier
# one is >= NEARDUP_THRESHOLD is kept, with `duplicate_of` set to the earlier article's id.
NEARDUP_ENABLED = True
NEARDUP_THRESHOLD = 0.75
NEARDUP_BATCH_SIZE = 200  # index additions written per transaction

# --- Scheduled crawls: incremental re-crawls, run lock, resume, crawl report ----------------------
# Resume a killed or stopped crawl by running the same command again with a job directory:
#   scrapy crawl site -a start=... -s JOBDIR=output/jobs/<name>
DOWNLOADER_MIDDLEWARES = {
    # After redirects (600) so every hop is looked up; before DownloaderStats (850) so skips are not requests.
    "crawler.middlewares.incremental.IncrementalMiddleware": 650,
}
EXTENSIONS = {
    # Negative orders: built before Scrapy's own extensions, the scheduler and the pipelines, which must
    # not open the store or JOBDIR of another running crawl.
    "crawler.extensions.runlock.RunLock": -20,
    "crawler.extensions.jobstate.JobState": -10,
    # After CoreStats (0), so the report sees finish_reason and elapsed time.
    "crawler.extensions.report.CrawlReport": 900,
}
# Incremental re-crawls (crawler/middlewares/incremental.py): a stored article seen less than
# INCREMENTAL_REFRESH_HOURS ago is not fetched; an older one is fetched with If-None-Match /
# If-Modified-Since. A listing page whose article links were all stored (and fresh) before the crawl
# began is not followed further. Per request: meta={"incremental": False} always fetches.
INCREMENTAL_ENABLED = True
INCREMENTAL_REFRESH_HOURS = 72
# Run lock (crawler/extensions/runlock.py): flock on STORE_PATH + ".lock" (and JOBDIR/run.lock);
# a second crawl on the same store closes at once with finish reason "run_locked".
RUNLOCK_ENABLED = True
# Job state (crawler/extensions/jobstate.py, only with JOBDIR): JOBDIR/crawl.json tells a new crawl
# from a resume after Ctrl-C / SIGTERM (Scrapy's saved queue is used) or a restart after a kill.
JOBSTATE_ENABLED = True
# Crawl report (crawler/extensions/report.py): <spider>-<UTC time>.json and .html per run.
REPORT_ENABLED = True
REPORT_DIR = "output/reports"

# --- Store location: SQLite or PostgreSQL (pipelines/store.py, pipelines/storesql.py) ------------------
# STORE_URL, when set, wins over STORE_PATH: "sqlite:///output/articles.sqlite" (relative path),
# "sqlite:////abs/path.sqlite", or "postgresql://user[:password]@host:port/dbname" (psycopg 3 URL or
# key=value conninfo). Every step that opens the store (store, dedup, near-dup index, incremental
# re-crawls) goes through the same URL, so workers sharing one PostgreSQL store share articles, hashes and
# the near-duplicate index. The run lock covers SQLite stores only: several workers on one PostgreSQL
# store are expected and are not refused (their upserts are safe concurrently; use JOBDIR per worker).
STORE_URL = ""

# --- Discovery spiders `sitemap`, `feed`, `urls` and `scrapy crawlall` (crawler/spiders/, crawler/sites.py) --
# Sitemaps and feeds are parsed by crawler/xmlsafe.py: bodies (and their gunzipped size, inflated in chunks)
# above DISCOVERY_MAX_XML_BYTES are refused (the sitemap protocol's own limit is 50 MB uncompressed); so
# is any document whose DOCTYPE declares entities. Refusals count as <spider>/refused/<reason>.
DISCOVERY_MAX_XML_BYTES = 50 * 1024 * 1024
DISCOVERY_SITEMAP_DEPTH = 3  # levels of nested sitemap indexes followed
DISCOVERY_MAX_PAGES = 0  # default `max_pages` of the sitemap, feed and urls spiders; 0 = no limit
# Probed, in order, when a page given to the `feed` spider declares no feed (<link rel="alternate">).
DISCOVERY_FEED_PATHS = ["/rss.xml", "/feed", "/atom.xml", "/rss"]
# `scrapy crawlall sites.toml`: sites crawled at a time in the one process. 1 (one after another) keeps
# exact-duplicate and near-duplicate checks exact across sites and lets every site append to the same
# FEEDS file; above 1, each site writes its own feed file (articles.<site>.jsonl).
CRAWLALL_CONCURRENCY = 1

# --- WARC archive of every fetched response (crawler/warc.py, crawler/middlewares/warc.py) ---------------
# One request + one response record per fetch (every status: 200, 3xx before the redirect is followed, 304,
# 404, robots.txt), gzip per record, as received: the body still compressed, Content-Encoding kept (the
# middleware sits at 950, before HttpCompressionMiddleware at 590). Files are
# WARC_DIR/<WARC_PREFIX or spider name>-<UTC timestamp>-<serial>-<pid>.warc.gz, written as `.warc.gz.open` and
# renamed when closed; a new file starts past WARC_MAX_BYTES. `scrapy clean WARC_DIR -o out.jsonl` re-cleans
# the crawl offline (same ids and URLs as the crawl).
WARC_ENABLED = False
WARC_DIR = "output/warc"
WARC_MAX_BYTES = 1024 ** 3
WARC_PREFIX = ""
DOWNLOADER_MIDDLEWARES = {**DOWNLOADER_MIDDLEWARES, "crawler.middlewares.warc.WarcMiddleware": 950}

# --- Hostile input: network safety, response limits, page limits ---------------------------------------------
# (crawler/resolver.py, crawler/middlewares/safety.py, crawler/middlewares/retryafter.py, pipelines/limits.py)
# Only http(s) is ever fetched: Scrapy's file/data/ftp/s3 handlers are switched off, and the safety middleware
# refuses other schemes (start URLs, links, redirects, sitemaps) with a counted reason, safety/refused/scheme.
DOWNLOAD_HANDLERS = {"file": None, "data": None, "ftp": None, "s3": None}
# Loopback, private (RFC 1918, fc00::/7), link-local (169.254.0.0/16 incl. cloud metadata, fe80::/10), CGNAT,
# multicast, reserved and unspecified addresses are refused: literal IPs in any spelling by the middleware, host
# names on the address they resolve to by SafeResolver (so a public-looking name pointing at 127.0.0.1 fails
# like an unknown name). Counted as safety/refused/<reason>, logged once per host.
# NETWORK_ALLOW_PRIVATE = True turns the address checks off (intranet crawls, local test sites);
# NETWORK_ALLOW_HOSTS lets exact "host:port" entries through (a bare "host" allows every port of it).
TWISTED_DNS_RESOLVER = "crawler.resolver.SafeResolver"
NETWORK_ALLOW_PRIVATE = False
NETWORK_ALLOW_HOSTS: list[str] = []
DOWNLOADER_MIDDLEWARES = {
    **DOWNLOADER_MIDDLEWARES,
    # Response side before RedirectMiddleware (600), exception side before RetryMiddleware (550).
    "crawler.middlewares.safety.NetworkSafetyMiddleware": 620,
    # Response side just before RetryMiddleware (550).
    "crawler.middlewares.retryafter.RetryAfterMiddleware": 560,
}
# Retries: 429 and 5xx, at most RETRY_TIMES more attempts (set above). A 429/503 with Retry-After is retried
# after min(Retry-After, RETRYAFTER_MAX_SECONDS) seconds; only that request waits, the crawl goes on.
RETRY_HTTP_CODES = [429, 500, 502, 503, 504, 522, 524, 408]
RETRYAFTER_ENABLED = True
RETRYAFTER_MAX_SECONDS = 60.0
# Redirect chains longer than this are dropped; a chain that comes back to a URL it went through is dropped
# at once as safety/refused/redirect_loop. (DOWNLOAD_MAXSIZE above also bounds gzip/deflate/br bodies once
# decompressed: Scrapy's HttpCompressionMiddleware stops inflating past it.)
REDIRECT_MAX_TIMES = 5
# Page limits (pipelines/limits.py), checked before extraction with a cheap scan (no parse): a page above any
# of them is dropped as limits:<reason>. LIMITS_MAX_SECONDS is a budget around extraction: a page that takes
# longer is dropped as limits:slow (parsing cannot be interrupted; the pre-checks are what prevent stalls).
# LIMITS_MAX_DEPTH follows libxml2 (lxml 6): it stops nesting at 255 levels and silently loses the rest of
# the page, so deeper pages are dropped with a reason (real news pages measure 10-50 levels). At that cap the
# parser reports the cut itself and the extract step drops the page as limits:too_deep; a lower limit is
# counted before parsing.
ITEM_PIPELINES = {**ITEM_PIPELINES, "pipelines.limits.PageLimitsPipeline": 150,
                  "pipelines.limits.ExtractionBudgetPipeline": 250}
LIMITS_ENABLED = True
LIMITS_MAX_HTML_CHARS = 5_000_000
LIMITS_MAX_ELEMENTS = 200_000
LIMITS_MAX_DEPTH = 256
LIMITS_MAX_LINKS = 20_000
LIMITS_MAX_SECONDS = 10.0

# --- Distributed crawls on Redis (crawler/distributed.py, scrapy-redis) ------------------------------------
# REDIS_URL (e.g. -s REDIS_URL=redis://localhost:6379/0) is the one switch: every worker started with it shares
# one request queue and one dupefilter in Redis (scrapy-redis Scheduler + RFPDupeFilter, SCHEDULER_PERSIST on)
# and takes start URLs from <REDIS_KEY_PREFIX><spider>:start_urls (`scrapy seed`). Give the workers a shared
# store (STORE_URL=postgresql://...); the run lock is skipped for them. An idle worker waits for new URLs and
# closes after MAX_IDLE_TIME_BEFORE_CLOSE seconds without work (0: waits until stopped).
ADDONS = {"crawler.distributed.DistributedAddon": 0}
REDIS_URL = ""
REDIS_KEY_PREFIX = ""  # put several independent crawls in one Redis database
MAX_IDLE_TIME_BEFORE_CLOSE = 0

# --- Cleaning on every core (crawler/workers.py) -------------------------------------------------------------
# The stateless steps (ordered below CLEAN_WORKERS_SPLIT in ITEM_PIPELINES: limits, decode, extract, clean,
# script, language, quality) run in CLEAN_WORKERS worker processes, so extraction never blocks the reactor and
# a crawl uses every core; the steps from the split on (exact and near-duplicate detection, the store) keep the
# run's state and run in the crawl process. "auto": one worker per core; 0: every step in the crawl process,
# as plain Scrapy runs pipelines. `scrapy clean --workers N` is the same thing offline.
ITEM_PROCESSOR = "crawler.workers.ItemProcessor"
# Scrapy starts CONCURRENT_ITEMS tasks for the output of every response (default 100), whatever that output
# holds; a news page yields one article, a listing a few dozen links. 8 cut the crawl process's CPU per page by
# 30% on the generated-site benchmark (benchmarks/crawl.py), with no loss: articles from different responses
# are still cleaned concurrently on the workers.
CONCURRENT_ITEMS = 8
CLEAN_WORKERS = "auto"
CLEAN_WORKERS_SPLIT = 700
