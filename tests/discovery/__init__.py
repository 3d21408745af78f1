"""Generated local site (sitemaps, feeds, articles) and server for the discovery spider tests."""
