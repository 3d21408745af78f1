"""zhcrawl: a Scrapy crawler and cleaner for Chinese news pages."""
