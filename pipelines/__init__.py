"""Item pipeline steps: one step per module, each a pure core plus a thin Scrapy adapter."""
