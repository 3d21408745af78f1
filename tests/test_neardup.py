"""Near-duplicates: MinHash/LSH index finds syndicated copies, keeps the first as the original."""

from __future__ import annotations

import sqlite3
import zlib
from pathlib import Path

import pytest
from scrapy.exceptions import NotConfigured
from scrapy.utils.test import get_crawler

from crawler.items import new_article
from pipelines.storesql import Database
from tests.pg import location, pg_url, postgres_server, store_settings  # noqa: F401  (fixtures)
from pipelines.neardup import (
    MIN_SHINGLES,
    NUM_BINS,
    TOKEN_BASE,
    TOKEN_SPACE,
    NearDupFingerprintPipeline,
    NearDupIndex,
    NearDupPipeline,
    Verdict,
    estimate_jaccard,
    minhash_signature,
    shingle_hashes,
    shingle_text,
    signature_codes,
)

BODY = [
    "新华社杭州3月12日电（记者李明）记者从浙江省交通运输厅获悉，杭州湾跨海铁路大桥12日上午正式通车运营，"
    "宁波至上海的铁路旅行时间由原来的两个半小时缩短至约一小时。",
    "杭州湾跨海铁路大桥全长约29.2公里，是目前世界上最长的跨海高速铁路桥梁之一，设计时速350公里。"
    "大桥于2020年9月开工建设，建设过程中克服了海域风大浪急、潮差大、地质条件复杂等诸多困难。",
    "据介绍，大桥建成后将进一步完善长三角地区高速铁路网布局，对于促进沪甬两地人员往来和经济交流具有重要意义。"
    "项目总投资约420亿元，由国家铁路集团与浙江省共同出资建设。",
    "当天上午9时许，首趟列车G7501次从宁波站驶出，经杭州湾跨海铁路大桥直达上海虹桥站。不少市民专程赶来体验，车厢内座无虚席。",
    "浙江省交通运输厅有关负责人表示，下一步将加快推进沿线站点配套设施建设，同步优化公交接驳线路，方便旅客出行。",
]
# The story as first published, with the publisher's own footer lines.
ORIGINAL = "\n".join([*BODY, "来源：新华网", "责任编辑：张华"])
# The same story syndicated by another site: Traditional script, other header/footer lines, and one
# sentence of the fourth paragraph rewritten (不少市民专程赶来体验 -> 許多市民專程趕來搭乘首發列車).
SYNDICATED_COPY = "\n".join([
    "來源：新華社　　編輯：陳靜　　2024-03-12 14:05",
    "新華社杭州3月12日電（記者李明）記者從浙江省交通運輸廳獲悉，杭州灣跨海鐵路大橋12日上午正式通車運營，"
    "寧波至上海的鐵路旅行時間由原來的兩個半小時縮短至約一小時。",
    "杭州灣跨海鐵路大橋全長約29.2公里，是目前世界上最長的跨海高速鐵路橋樑之一，設計時速350公里。"
    "大橋於2020年9月開工建設，建設過程中克服了海域風大浪急、潮差大、地質條件複雜等諸多困難。",
    "據介紹，大橋建成後將進一步完善長三角地區高速鐵路網布局，對於促進滬甬兩地人員往來和經濟交流具有重要意義。"
    "項目總投資約420億元，由國家鐵路集團與浙江省共同出資建設。",
    "當天上午9時許，首趟列車G7501次從寧波站駛出，經杭州灣跨海鐵路大橋直達上海虹橋站。許多市民專程趕來搭乘首發列車，車廂內座無虛席。",
    "浙江省交通運輸廳有關負責人表示，下一步將加快推進沿線站點配套設施建設，同步優化公交接駁線路，方便旅客出行。",
    "分享到：微信 微博 QQ空間",
    "【我要糾錯】【打印本頁】【關閉窗口】",
])
# A different story on the same day and topic: same agency, place names and opening formula.
SAME_TOPIC_STORY = "\n".join([
    "新华社杭州3月12日电（记者王芳）记者从浙江省交通运输厅获悉，杭州湾跨海大桥将于3月15日起实施为期三个月的夜间维修施工，"
    "宁波至上海方向部分车道将临时封闭。",
    "据介绍，此次维修主要针对桥面铺装层和伸缩缝，施工时间为每日22时至次日5时。施工期间，大桥南北两岸收费站将实行交通管制，"
    "货车需提前绕行杭州湾环线高速。",
    "浙江省交通运输厅提醒，夜间途经杭州湾跨海大桥的驾驶人应提前规划路线，关注交通广播和导航提示，服从现场交警指挥，减速慢行，确保行车安全。",
    "有关负责人表示，大桥自2008年通车以来车流量逐年增长，日均通行车辆已超过8万辆次，定期维修对保障大桥安全运行十分必要。",
])
# Two briefs that differ only in the name and the number: short texts are never matched.
SHORT_A = "国家统计局今日发布数据显示，一季度全国规模以上工业增加值同比增长6.1%。"
SHORT_B = "国家统计局今日发布数据显示，一季度全国规模以上工业增加值同比增长5.8%。"


def exact_jaccard(a: str, b: str) -> float:
    first, second = shingle_hashes(a), shingle_hashes(b)
    return len(first & second) / len(first | second)


def test_shingle_text_converts_script_folds_words_and_drops_punctuation() -> None:
    def token(word: bytes) -> str:
        return chr(TOKEN_BASE + zlib.crc32(word) % TOKEN_SPACE)

    assert shingle_text("新聞，ABC ２０２４年。\n記者") == "新闻" + token(b"abc") + token(b"2024") + "年记者"


def test_bad_text_gives_no_shingles_instead_of_an_error() -> None:
    assert len(shingle_hashes("\ud800" + ORIGINAL)) == len(shingle_hashes(ORIGINAL))
    assert shingle_hashes("\x00" * 100) == set()
    assert shingle_hashes("a" * 200_000) == set()  # one word token
    assert NearDupIndex().check("x", None) == Verdict(None, 0.0, "short")  # type: ignore[arg-type]


def test_signature_shape_and_estimate() -> None:
    signature = minhash_signature(ORIGINAL)
    assert len(signature) == NUM_BINS
    assert minhash_signature(ORIGINAL) == signature  # stable: no per-process hash seed
    assert minhash_signature("，。") == ()
    codes = signature_codes(signature)
    assert len(codes) == 2 * NUM_BINS
    assert estimate_jaccard(codes, codes) == 1.0


def test_estimates_are_close_to_exact_jaccard() -> None:
    copy = estimate_jaccard(signature_codes(minhash_signature(ORIGINAL)),
                            signature_codes(minhash_signature(SYNDICATED_COPY)))
    other = estimate_jaccard(signature_codes(minhash_signature(ORIGINAL)),
                             signature_codes(minhash_signature(SAME_TOPIC_STORY)))
    assert round(exact_jaccard(ORIGINAL, SYNDICATED_COPY), 2) == 0.80
    assert abs(copy - 0.80) < 0.1
    assert exact_jaccard(ORIGINAL, SAME_TOPIC_STORY) < 0.1
    assert other < 0.15


def test_syndicated_copy_points_at_the_first_article() -> None:
    index = NearDupIndex()
    assert index.find_or_add("a", ORIGINAL) is None
    verdict = index.check("b", SYNDICATED_COPY)
    assert (verdict.original, verdict.status) == ("a", "duplicate")
    assert verdict.similarity >= index.threshold
    # The original stays the original when it comes again (a re-crawl), and is not re-indexed.
    assert index.check("a", ORIGINAL) == Verdict(None, 0.0, "known")
    assert len(index) == 1  # copies are not indexed


def test_same_topic_stories_are_not_duplicates() -> None:
    index = NearDupIndex()
    assert index.find_or_add("a", ORIGINAL) is None
    assert index.find(SAME_TOPIC_STORY) == Verdict(None, 0.0, "new")
    assert index.find(SYNDICATED_COPY).original == "a"
    assert len(index) == 1  # find adds nothing
    assert index.check("c", SAME_TOPIC_STORY) == Verdict(None, 0.0, "added")
    assert len(index) == 2


def test_short_texts_are_never_matched_or_indexed() -> None:
    assert len(shingle_hashes(SHORT_A)) < MIN_SHINGLES
    index = NearDupIndex()
    assert index.check("a", SHORT_A) == Verdict(None, 0.0, "short")
    assert index.check("b", SHORT_A) == Verdict(None, 0.0, "short")
    assert index.check("c", SHORT_B).original is None
    assert index.check("d", "") == Verdict(None, 0.0, "short")
    assert len(index) == 0


def test_index_persists_across_instances(location: str) -> None:
    path = location
    first = NearDupIndex(path)
    assert first.find_or_add("a", ORIGINAL) is None
    first.close()
    second = NearDupIndex(path)
    assert len(second) == 1
    assert second.find_or_add("b", SYNDICATED_COPY) == "a"
    assert second.find_or_add("c", SAME_TOPIC_STORY) is None
    second.close()
    db = Database(path)
    assert db.execute("SELECT doc, article_id FROM neardup_docs ORDER BY doc").fetchall() == [(0, "a"), (1, "c")]
    db.close()


def test_lookups_see_unflushed_articles_and_writes_are_batched(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    index = NearDupIndex(path, batch_size=2)
    reader = sqlite3.connect(path)
    assert index.find_or_add("a", ORIGINAL) is None
    assert reader.execute("SELECT COUNT(*) FROM neardup_docs").fetchone()[0] == 0
    assert index.find_or_add("b", SYNDICATED_COPY) == "a"  # found in the unwritten batch
    assert index.find_or_add("c", SAME_TOPIC_STORY) is None  # second addition: the batch is written
    assert reader.execute("SELECT COUNT(*) FROM neardup_docs").fetchone()[0] == 2
    assert reader.execute("SELECT COUNT(*) FROM neardup_bands").fetchone()[0] > 0
    index.close()
    reader.close()


def test_two_writers_on_one_database_do_not_collide(location: str) -> None:
    path = location
    one, two = NearDupIndex(path), NearDupIndex(path)
    one.find_or_add("a", ORIGINAL)
    two.find_or_add("c", SAME_TOPIC_STORY)
    two.flush()
    one.flush()  # renumbered after the other process's articles
    one.close()
    two.close()
    third = NearDupIndex(path)
    assert third.find_or_add("b", SYNDICATED_COPY) == "a"
    third.close()


def test_copies_indexed_at_once_by_two_workers_are_both_originals(location: str) -> None:
    # Neither worker has written its batch when the other checks: each sees no match and indexes its
    # article. The one written first is the original every later copy points at.
    one, two = NearDupIndex(location), NearDupIndex(location)
    assert one.check("a", ORIGINAL).status == "added"
    assert two.check("b", SYNDICATED_COPY).status == "added"
    two.flush()
    one.flush()
    assert len(one) == 2
    one.close()
    two.close()
    third = NearDupIndex(location)
    assert third.find_or_add("c", ORIGINAL) == "b"
    third.close()


def test_index_built_with_other_constants_is_refused(location: str) -> None:
    path = location
    NearDupIndex(path).close()
    db = Database(path)
    db.execute("UPDATE neardup_meta SET value = 'other' WHERE name = 'fingerprint'")
    db.close()
    with pytest.raises(ValueError, match="near-dup index was built as 'other'"):
        NearDupIndex(path)


def test_adapter_sets_duplicate_of_and_counts() -> None:
    crawler = get_crawler(settings_dict={"STORE_ENABLED": False})
    step = NearDupPipeline.from_crawler(crawler)
    assert step.location is None  # no store: the index lives in memory
    step.open_spider()
    first = step.process_item(new_article(id="a", url="http://x/a", text=ORIGINAL))
    copy = step.process_item(new_article(id="b", url="http://y/b", text=SYNDICATED_COPY))
    other = step.process_item(new_article(id="c", url="http://x/c", text=SAME_TOPIC_STORY))
    brief = step.process_item(new_article(id="d", url="http://x/d", text=SHORT_A))
    step.close_spider()
    assert (first["duplicate_of"], copy["duplicate_of"], other["duplicate_of"], brief["duplicate_of"]) == (
        None, "a", None, None)
    assert crawler.stats.get_value("neardup/found") == 1
    assert crawler.stats.get_value("neardup/skipped_short") == 1


def test_fingerprint_step_carries_the_work_and_gives_the_same_verdicts() -> None:
    """The fingerprint computed by the stateless step (in a cleaning worker) gives the index step the same
    verdicts as computing it there, and does not travel further than the index step."""
    crawler = get_crawler(settings_dict={"STORE_ENABLED": False})
    carry, index = NearDupFingerprintPipeline.from_crawler(crawler), NearDupPipeline.from_crawler(crawler)
    index.open_spider()
    verdicts = []
    for article_id, text in (("a", ORIGINAL), ("b", SYNDICATED_COPY), ("c", SAME_TOPIC_STORY), ("d", SHORT_A)):
        item = carry.process_item(new_article(id=article_id, text=text))
        assert (item["neardup_fingerprint"] is None) == (article_id == "d")
        item["text"] = ""  # the index step must use the carried fingerprint, not the text
        item = index.process_item(item)
        assert "neardup_fingerprint" not in item
        verdicts.append(item["duplicate_of"])
    index.close_spider()
    assert verdicts == [None, "a", None, None]
    with pytest.raises(NotConfigured):
        NearDupFingerprintPipeline.from_crawler(get_crawler(settings_dict={"NEARDUP_ENABLED": False}))


def test_adapter_keeps_the_index_in_the_store_database(location: str) -> None:
    for article_id, text, expected in (("a", ORIGINAL, None), ("b", SYNDICATED_COPY, "a")):
        crawler = get_crawler(settings_dict=store_settings(location, NEARDUP_THRESHOLD=0.75))
        step = NearDupPipeline.from_crawler(crawler)
        step.open_spider()
        assert step.process_item(new_article(id=article_id, text=text))["duplicate_of"] == expected
        step.close_spider()


def test_adapter_keeps_the_item_when_the_index_fails(tmp_path: Path) -> None:
    crawler = get_crawler(settings_dict={"STORE_ENABLED": False})
    step = NearDupPipeline.from_crawler(crawler)
    step.open_spider()
    assert step.index is not None
    step.index.db.close()  # any sqlite3.Error
    item = step.process_item(new_article(id="a", text=ORIGINAL))
    assert item["duplicate_of"] is None
    assert crawler.stats.get_value("neardup/errors") == 1


def test_disabled_step_is_not_configured() -> None:
    with pytest.raises(NotConfigured):
        NearDupPipeline.from_crawler(get_crawler(settings_dict={"NEARDUP_ENABLED": False}))
