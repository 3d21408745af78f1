"""Spiders: `site` for one-off harvesting of whole sites."""
