"""A generated local news site for re-crawl tests: paginated listings, N articles; served by tests/fileserver.py
(conditional requests -> 304, optional delay, every request logged)."""

from __future__ import annotations

from pathlib import Path

from tests.fileserver import Served, serve  # noqa: F401  (the site's server, used by its tests)

SUBJECTS = ["市发展改革委", "市教育局", "市卫生健康委", "市交通运输局", "市生态环境局", "市文化和旅游局", "市科技局",
            "市农业农村局", "市住房城乡建设委", "市商务局"]
ACTIONS = ["召开专题会议", "发布实施方案", "启动专项行动", "公布年度数据", "举行新闻发布会", "开展集中检查"]
TOPICS = ["城市更新", "义务教育", "基层医疗", "公共交通", "大气治理", "文旅消费", "科技创新", "乡村振兴",
          "保障住房", "外贸稳增长"]
NUMBERS = "零一二三四五六七八九"


def chinese_number(n: int) -> str:
    return "".join(NUMBERS[int(d)] for d in str(n))


def article_path(n: int) -> str:
    return f"news/2024/10{n % 28 + 1:02d}/c1000-{100000 + n}.html"


def article_text(n: int, edition: int = 1) -> tuple[str, list[str]]:
    subject, action, topic = SUBJECTS[n % 10], ACTIONS[n % 6], TOPICS[(n // 10) % 10]
    title = f"{subject}{action}推进{topic}工作（第{chinese_number(n)}号）"
    paragraphs = [
        f"本报讯 {subject}今天{action}，围绕{topic}工作作出部署，这是今年第{chinese_number(n)}次相关安排。",
        f"会议指出，{topic}关系群众切身利益，各区要在{chinese_number(n % 17 + 3)}个重点方面持续用力，"
        f"确保各项措施落到实处，让市民有更多获得感。",
        f"据介绍，截至目前全市已累计投入资金{chinese_number(n * 7 + 11)}万元，完成项目{chinese_number(n % 40 + 5)}个，"
        f"惠及居民约{chinese_number(n * 13 + 100)}户。",
        f"{subject}负责人表示，下一步将加强统筹协调和督促检查，定期通报进展情况，并邀请市民代表参与评议。",
    ]
    if edition > 1:
        paragraphs.append(f"（更新）记者第{chinese_number(edition)}次回访获悉，相关工作已取得新的进展。")
    return title, paragraphs


def article_page(n: int, edition: int = 1, head: str = "") -> str:
    title, paragraphs = article_text(n, edition)
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8">{head}<title>{title}_测试新闻网</title></head>
<body><div class="nav"><a href="/">首页</a> <a href="/index.html">新闻</a></div>
<h1>{title}</h1><div class="info">发布时间：2024-10-{n % 28 + 1:02d} 09:30 来源：测试日报</div>
<div class="article-content">{body}</div>
<div class="footer">Copyright 测试新闻网 版权所有</div></body></html>"""


def listing_name(page: int) -> str:
    return "index.html" if page == 1 else f"list_{page}.html"


def listing_page(page: int, numbers: list[int], last: bool) -> str:
    items = "".join(f'<li><a href="/{article_path(n)}">{article_text(n)[0]}</a> <span>2024-10</span></li>'
                    for n in numbers)
    more = "" if last else f'<a href="/{listing_name(page + 1)}">下一页</a>'
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>新闻列表 第{page}页_测试新闻网</title></head>
<body><div class="nav"><a href="/">首页</a></div><ul class="list">{items}</ul>{more}</body></html>"""


def build_site(root: Path, articles: int, per_page: int = 20) -> list[str]:
    """Write the site (newest article first on page 1); returns the article paths."""
    numbers = list(range(articles - 1, -1, -1))
    pages = [numbers[i:i + per_page] for i in range(0, len(numbers), per_page)]
    for index, chunk in enumerate(pages, start=1):
        write(root, listing_name(index), listing_page(index, chunk, index == len(pages)))
    for n in numbers:
        write(root, article_path(n), article_page(n))
    (root / "robots.txt").write_text("User-agent: *\nDisallow:\n", encoding="utf-8")
    return [article_path(n) for n in numbers]


def write(root: Path, name: str, text: str) -> None:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
