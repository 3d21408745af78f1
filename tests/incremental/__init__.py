"""Generated local news site and server for re-crawl, resume and report tests."""
