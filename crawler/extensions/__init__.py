"""Crawl-level extensions: run lock, job state for resume, crawl report."""
