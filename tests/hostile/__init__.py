"""A misbehaving local HTTP server for crawl tests."""
