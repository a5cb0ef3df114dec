"""The model graph (wangtai.models): model files parsed and checked against each other, the refresh order
computed from what each declares it reads, clear errors for a cycle or an unknown read, the documented
drawing generated from the declarations, and a refresh that rebuilds what a changed snapshot feeds."""

import re
from pathlib import Path

import pandas as pd
import pytest

from tests.test_runner import build_tiny
from wangtai import cli, models, staging
from wangtai.models import ModelError, build_graph, load_graph, parse_model
from wangtai.runner import QueryError, Runner

REPO = Path(__file__).resolve().parent.parent
STAGING = staging.staging_sql()

APPEND = """-- model: hot_things
-- returns: the things
--   of the scans
-- grain: one row per scan
-- key: -
-- reads: stg_registrations
-- materialized: append
-- incremental: insert
select person_key from stg_registrations

-- @incremental: the new scans
select person_key from new_stg_registrations
"""


def _model(name: str, reads: str, sql: str, extra: str = "-- materialized: snapshot\n") -> models.Model:
    text = f"-- model: {name}\n-- returns: x\n-- grain: x\n-- key: k\n-- reads: {reads}\n{extra}{sql}\n"
    return parse_model(text)


# -- one file ----------------------------------------------------------------------------------------------


def test_a_model_file_is_parsed_into_its_header_and_both_forms():
    model = parse_model(APPEND)
    assert (model.name, model.returns, model.grain) == (
        "hot_things",
        "the things of the scans",
        "one row per scan",
    )
    assert model.key == () and model.reads == ("stg_registrations",)
    assert (model.materialized, model.incremental) == ("append", "insert")
    assert model.full == "select person_key from stg_registrations"
    assert model.incremental_sql == "select person_key from new_stg_registrations"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("-- grain: one row per scan\n", ""), "说明头不完整"),
        (("-- incremental: insert\n", ""), "增量方式"),
        (("-- incremental: insert\n", "-- incremental: merge\n"), "增量方式"),
        (("materialized: append", "materialized: rolling"), "物化方式"),
        (("materialized: append\n-- incremental: insert", "materialized: snapshot"), "快照模型没有增量部分"),
        (("-- key: -\n", "-- key: -\n-- key: -\n"), "重复字段"),
        (("-- incremental: insert\n", "-- incremental: upsert\n"), "须声明键"),
        (("-- incremental: insert\n", "-- incremental: update\n"), "须声明键"),
    ],
)
def test_a_file_with_a_broken_header_is_refused(change, message):
    with pytest.raises(ModelError, match=message):
        parse_model(APPEND.replace(*change))


def test_the_file_name_must_be_the_model_name(tmp_path: Path):
    path = tmp_path / "hot_other.sql"
    path.write_text(APPEND, encoding="utf-8")
    with pytest.raises(ModelError, match="文件名") as info:
        parse_model(APPEND, path)
    assert "hot_other.sql" in str(info.value)


# -- the graph ---------------------------------------------------------------------------------------------


def test_the_order_is_computed_from_the_reads():
    a = _model("roll_a", "hot_b", "select * from hot_b")
    b = _model("hot_b", "hot_c", "select * from hot_c")
    c = _model("hot_c", "stg_units", "select * from stg_units")
    assert [m.name for m in build_graph([a, b, c], STAGING).order] == ["hot_c", "hot_b", "roll_a"]


def test_a_cycle_is_an_error_that_names_it():
    a = _model("hot_a", "hot_b", "select * from hot_b")
    b = _model("hot_b", "hot_c", "select * from hot_c")
    c = _model("hot_c", "hot_a", "select * from hot_a")
    d = _model("hot_d", "stg_units", "select * from stg_units")
    with pytest.raises(ModelError, match="循环依赖") as info:
        build_graph([a, b, c, d], STAGING)
    assert "hot_a → hot_b → hot_c → hot_a" in str(info.value)


def test_a_read_that_is_neither_a_model_nor_a_staging_view_is_an_error():
    with pytest.raises(ModelError, match="不存在") as info:
        build_graph([_model("hot_a", "hot_nowhere", "select * from hot_nowhere")], STAGING)
    assert "hot_nowhere" in str(info.value)


def test_sql_must_read_exactly_what_the_header_declares():
    units = _model("hot_units", "stg_units", "select * from stg_units")
    undeclared = _model("hot_a", "stg_units", "select * from stg_units join hot_units using (unit_id)")
    with pytest.raises(ModelError, match="未声明") as info:
        build_graph([units, undeclared], STAGING)
    assert "hot_units" in str(info.value)
    unread = _model("hot_a", "stg_units, hot_units", "select * from stg_units")
    with pytest.raises(ModelError, match="未读取") as info:
        build_graph([units, unread], STAGING)
    assert "hot_units" in str(info.value)


def test_an_incremental_form_reads_the_new_rows_and_only_it_may():
    forgets = parse_model(APPEND.replace("from new_stg_registrations", "from stg_registrations"))
    with pytest.raises(ModelError, match="新增行") as info:
        build_graph([forgets], STAGING)
    assert "new_stg_registrations" in str(info.value)
    snapshot = _model("hot_a", "stg_registrations", "select * from new_stg_registrations")
    with pytest.raises(ModelError, match="完整形式不能读取新增行"):
        build_graph([snapshot], STAGING)


def test_the_shipped_models_load_and_each_comes_after_what_it_reads():
    graph = load_graph()
    seen: set[str] = set()
    for model in graph.order:
        assert {read for read in model.reads if read in graph.models} <= seen, model.name
        assert set(model.reads) <= set(graph.models) | set(graph.staging), model.name
        seen.add(model.name)
    assert graph.order[0].name == "scalar_macros"  # every model may call pk()
    assert not (REPO / "queries" / "hot").exists()


def test_a_runner_refuses_broken_models_in_chinese(tmp_path: Path):
    for name, reads in (("hot_a", "hot_b"), ("hot_b", "hot_a")):
        (tmp_path / f"{name}.sql").write_text(
            f"-- model: {name}\n-- returns: x\n-- grain: x\n-- key: -\n-- reads: {reads}\n"
            f"-- materialized: snapshot\nselect * from {reads}\n",
            encoding="utf-8",
        )
    with pytest.raises(QueryError, match="内存表模型定义有误") as info:
        Runner(build_tiny(tmp_path / "data"), models_dir=tmp_path)
    assert "hot_a → hot_b → hot_a" in str(info.value)


def test_an_update_concerns_only_the_models_that_may_read_its_columns():
    graph = load_graph()
    assert graph.models["hot_newcomers"].incremental == "update"
    set_columns = {"first_day", "registered"}
    assert graph.models["roll_units"].names_any(set_columns)
    assert not graph.models["roll_composition"].names_any(set_columns)  # count(*) is no star
    assert not graph.models["roll_birth_years"].names_any(set_columns)
    star = _model("roll_star", "hot_newcomers", "select * from hot_newcomers")
    assert star.names_any(set_columns)  # a star may read them


# -- the drawing -------------------------------------------------------------------------------------------


def _documented_graph() -> str:
    text = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
    match = re.search(r"<!-- models-graph:[^\n]*-->\n```mermaid\n(.*?)```", text, re.S)
    assert match, "docs/architecture.md has no generated model graph"
    return match.group(1)


def test_the_documented_graph_is_the_one_the_declarations_draw():
    """Change a model's reads or materialization and this fails until `wangtai models --graph` is pasted
    into docs/architecture.md."""
    drawn = models.mermaid(load_graph())
    assert _documented_graph() == drawn
    assert "hot_registrations --> hot_first_registrations" in drawn
    assert 'roll_units(["roll_units · add"])' in drawn


def test_the_drawing_changes_with_the_declarations():
    graph = load_graph()
    tampered = {
        **graph.models,
        "roll_cells": _model("roll_cells", "hot_newcomers", "select * from hot_newcomers"),
    }
    assert models.mermaid(build_graph(tampered.values(), STAGING)) != _documented_graph()


def test_the_command_prints_the_graph_and_the_order(capsys):
    assert cli.main(["models", "--graph"]) == 0
    assert capsys.readouterr().out == models.mermaid(load_graph())
    assert cli.main(["models"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == [model.name for model in load_graph().order]
    assert any(re.match(r"roll_units\s+add\s+← hot_newcomers", line) for line in lines)


# -- the refresh -------------------------------------------------------------------------------------------


def test_new_reference_data_rebuilds_what_reads_it_and_nothing_else(tmp_path: Path):
    paths = build_tiny(tmp_path / "data")
    runner = Runner(paths)
    assert runner.run("communities")["community_name"].tolist() == ["甲社区", "乙村"]
    assert set(runner.last_refresh.actions.values()) == {"full"}  # a first refresh builds every model
    path = paths.warehouse / "reference" / "communities.parquet"
    communities = pd.read_parquet(path).assign(community_name=["甲社区（新）", "乙村"])
    communities.to_parquet(path.with_name(".communities.tmp"), index=False)
    path.with_name(".communities.tmp").rename(path)
    assert runner.run("communities")["community_name"].tolist() == ["甲社区（新）", "乙村"]
    assert runner.last_refresh.actions == {
        "hot_communities": "full",
        "roll_sites": "full",  # reads the communities for their 片区
        "scope_macros": "full",
    }
