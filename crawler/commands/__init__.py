"""Custom Scrapy commands (`scrapy clean`)."""
