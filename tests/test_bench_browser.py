"""The pure parts of the browser benchmark (wangtai.bench.browser): how a websocket message is classified,
the percentiles and multiples of the table, and how its block is written into docs/benchmarks.md. The
benchmark itself (a server and Chromium) is never run by the test suite."""

from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from wangtai.bench import browser


def _element_msg(**fill) -> bytes:
    msg = ForwardMsg()
    element = msg.delta.new_element
    for path, value in fill.items():
        kind, field = path.split("__")
        setattr(getattr(element, kind), field, value)
    return msg.SerializeToString()


def test_frame_kind_names_the_element_and_counts_injected_css_apart():
    assert browser.frame_kind(_element_msg(markdown__body="**总览**")) == "markdown"
    assert browser.frame_kind(_element_msg(markdown__body="<style>.a{}</style>")) == "css/js"
    assert browser.frame_kind(_element_msg(html__body="<script>x()</script>")) == "css/js"
    assert browser.frame_kind(_element_msg(plotly_chart__spec="{}")) == "plotly_chart"
    finished = ForwardMsg()
    finished.script_finished = ForwardMsg.FINISHED_SUCCESSFULLY
    assert browser.frame_kind(finished.SerializeToString()) == "script_finished"


def test_stats_and_multiple_of_the_floor():
    s = browser.stats([100.0, 200.0, 300.0, 400.0, 1000.0])
    assert (s["n"], s["p50"], s["p95"], s["max"]) == (5, 300.0, 1000.0, 1000.0)
    assert browser.multiple(450.0, 90.0) == "5.0×"
    assert browser.multiple(450.0, 0) == "—"


def _result(title: str, ms: float) -> dict:
    return {"painted": ms, "bytes": 2048, "messages": 10}


def test_page_rows_mark_the_target_three_times_the_floor_plus_300():
    results = {
        "clicks": {"快页": [_result("快页", 500.0)] * 3, "慢页": [_result("慢页", 900.0)] * 3},
        "floor": [{"painted": 100.0, "bytes": 1000, "messages": 5}] * 3,
    }
    rows = "\n".join(browser.page_rows(results))
    assert "| 快页 | 500 | 500 ✅ |" in rows  # 500 ≤ 3 × 100 + 300
    assert "| 慢页 | 900 | 900 ❌ |" in rows
    assert "9.0×" in rows and "2.0 KB" in rows


def test_write_block_replaces_its_own_block_and_keeps_the_rest(tmp_path):
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# B\n\nhand text\n\n<!-- bench-browser:results -->\nafter\n", encoding="utf-8")
    browser.write_block(doc, 69000, "first run")
    browser.write_block(doc, 69000, "second run")
    text = doc.read_text(encoding="utf-8")
    assert "second run" in text and "first run" not in text
    assert text.index("hand text") < text.index("second run") < text.index("<!-- bench-browser:results -->")
    assert text.endswith("after\n")
