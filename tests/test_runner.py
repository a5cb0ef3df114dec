"""The runner: query headers, parameter checks both ways, binding (never formatting), NULL defaults,
staging views over an empty or tiny warehouse, data-version rebuilds, threads."""

import hashlib
import threading
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest

from wangtai import staging
from wangtai.paths import DataPaths
from wangtai.runner import QueryError, Runner, default_runner, load_queries, parse_query

SEVEN = (
    "overview",
    "community_share",
    "registration_progress",
    "unit_progress",
    "newcomer_density",
    "source_coverage",
    "data_freshness",
)
HOSTILE = "x'; drop view stg_residents; --"


# -- a tiny warehouse written by hand, exactly as docs/architecture.md lays it out ---------------------------


def _write(df: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_parquet(path, index=False)


def _manifest_row(batch_id: str, feed: str, ingested_at: datetime, n: int, outcome: str = "accepted") -> dict:
    return {
        "batch_id": batch_id,
        "feed": feed,
        "file_name": f"{feed}.parquet",
        "sha256": "0" * 64,
        "ingested_at": ingested_at,
        "rows_in": n,
        "accepted": n,
        "quarantined": 0,
        "duplicates": 0,
        "outcome": outcome,
        "reason": "接受行数不足" if outcome == "held" else None,
        "warehouse_file": f"warehouse/{feed}/{batch_id}.parquet",
        "quarantine_file": None,
        "archive_file": None,
    }


def _add_batch(
    paths: DataPaths, feed: str, batch_id: str, rows: pd.DataFrame, at: datetime, outcome="accepted"
):
    rows = rows.assign(batch_id=batch_id)
    _write(rows, paths.warehouse / feed / f"{batch_id}.parquet")
    manifest = pd.DataFrame([_manifest_row(batch_id, feed, at, len(rows), outcome)])
    manifest = manifest.astype({c: "object" for c in ("reason", "quarantine_file", "archive_file")})
    _write(manifest, paths.warehouse / "manifest" / f"{batch_id}.parquet")


def _person(i: int, community: str, newcomer: bool, status: str = "在住") -> dict:
    return {
        "person_key": hashlib.sha256(f"p{i}".encode()).hexdigest(),
        "id_masked": "370211********001X",
        "name_masked": "张*",
        "phone_masked": None,
        "gender": "男",
        "birth_year": 1990,
        "home_region": "410102",
        "population_type": "流动人口" if newcomer else "户籍人口",
        "community_code": community,
        "unit_id": "U" + community[-1],
        "house_id": f"H{i}",
        "lat": 36.05,
        "lon": 120.0,
        "cell_id": 24033060000,
        "reason": "务工" if newcomer else None,
        "arrival_date": date(2025, 5, 1) if newcomer else None,
        "status": status,
    }


def build_tiny(root: Path) -> DataPaths:
    """Two communities; 4 residents in A (2 newcomers, one registered), 2 in B (1 newcomer), one 离开."""
    paths = DataPaths(root)
    ref = paths.warehouse / "reference"
    codes = ["370211100001", "370211100002"]
    _write(
        pd.DataFrame(
            {
                "community_code": codes,
                "community_name": ["甲社区", "乙村"],
                "kind": ["居委会", "村委会"],
                "area": ["一片", "二片"],
                "assumed": [False, False],
            }
        ),
        ref / "communities.parquet",
    )
    _write(
        pd.DataFrame(
            {
                "unit_id": ["U1", "U2"],
                "unit_name": ["甲社区", "乙村"],
                "unit_type": ["居委会", "网格村"],
                "community_code": codes,
                "admin_name_masked": ["王*", "李*"],
                "admin_phone_masked": ["138****0000"] * 2,
                "lat": [36.05] * 2,
                "lon": [120.0] * 2,
            }
        ),
        ref / "units.parquet",
    )
    _write(
        pd.DataFrame(
            {
                "campaign_name": ["一家亲扫码登记"],
                "start": [date(2026, 3, 15)],
                "deadline": [date(2026, 12, 31)],
                "target_rate": [0.9],
            }
        ),
        ref / "campaign.parquet",
    )
    people = [
        _person(1, codes[0], True),
        _person(2, codes[0], True),
        _person(3, codes[0], False),
        _person(4, codes[0], False),
        _person(5, codes[1], True),
        _person(6, codes[1], False),
        _person(7, codes[1], True, status="离开"),
    ]
    _add_batch(
        paths,
        "residents",
        "20261101T080000000000-residents-aaaaaaaa",
        pd.DataFrame(people),
        datetime(2026, 11, 1, 8),
    )
    scans = pd.DataFrame(
        {
            "scan_id": ["S1", "S2", "S3"],
            "scanned_at": [datetime(2026, 4, 1, 9), datetime(2026, 11, 27, 10), datetime(2026, 6, 1, 9)],
            "person_key": [
                people[0]["person_key"],
                people[0]["person_key"],
                hashlib.sha256(b"stranger").hexdigest(),
            ],
            "unit_id": ["U1", "U1", "U2"],
            "channel": ["扫码自助"] * 3,
            "site": ["公园广场"] * 3,
        }
    )
    _add_batch(
        paths,
        "registrations",
        "20261127T100500000000-registrations-bbbbbbbb",
        scans,
        datetime(2026, 11, 27, 10, 5),
    )
    return paths


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> DataPaths:
    # A quote in the folder name proves that paths are escaped as SQL string literals.
    return build_tiny(tmp_path_factory.mktemp("tiny") / "data dir with 'quote'")


@pytest.fixture(scope="module")
def tiny_runner(tiny: DataPaths) -> Runner:
    return Runner(tiny)


# -- headers -------------------------------------------------------------------------------------------------

HEADER = """-- query: sample
-- returns: something
--          useful
-- grain: one row per community
-- key: community_code, day
-- param community_code: a code; null = all
-- param now: the clock
select $community_code as community_code, cast($now as date) as day
"""


def test_header_is_parsed():
    spec = parse_query(HEADER)
    assert spec.name == "sample"
    assert spec.returns == "something useful"
    assert spec.grain == "one row per community"
    assert spec.key == ("community_code", "day")
    assert list(spec.params) == ["community_code", "now"]
    assert spec.params["community_code"] == "a code; null = all"


def test_one_row_query_has_no_key():
    assert parse_query(HEADER.replace("key: community_code, day", "key: -")).key == ()


def test_header_must_be_complete():
    with pytest.raises(QueryError, match="说明头不完整"):
        parse_query(HEADER.replace("-- grain: one row per community\n", ""))


def test_param_used_but_not_declared_is_an_error_at_load():
    with pytest.raises(QueryError, match="未声明") as info:
        parse_query(HEADER + "where x = $area\n")
    assert "$area" in str(info.value)


def test_param_declared_but_not_used_is_an_error_at_load():
    with pytest.raises(QueryError, match="未使用"):
        parse_query(
            HEADER.replace("-- param now: the clock\n", "-- param now: the clock\n-- param area: x\n")
        )


def test_dollar_in_comments_and_strings_is_not_a_param():
    spec = parse_query(HEADER + "-- costs $price\n, '$not_a_param' as s, \"$col\" as t\n")
    assert list(spec.params) == ["community_code", "now"]  # neither $price, $not_a_param nor $col
    with pytest.raises(QueryError, match=r"\$price"):  # the same name in code is a parameter
        parse_query(HEADER + ", $price as p\n")


# Staging views that hold people or what they do: a figure built from them is a figure about people.
PEOPLE = {"stg_residents", "stg_registrations", "stg_source_records", "stg_houses"}


def test_every_query_file_loads_and_every_metric_query_takes_the_filters(tiny_runner: Runner):
    """Every query that reads a model built from people (however far upstream) takes the shared 片区/社区
    filter. What a query reads comes from the model graph's declarations."""
    specs = load_queries()
    assert set(SEVEN) <= set(specs)
    graph = tiny_runner.graph
    about_people = []
    for spec in specs.values():
        assert spec.returns and spec.grain, spec.name
        reads = tiny_runner.reads(spec.name)
        assert reads, f"{spec.name} reads no model"
        lineage = reads | {name for model in reads for name in graph.upstream(model)}
        if lineage & PEOPLE:
            about_people.append(spec.name)
            assert {"community_code", "area"} <= set(spec.params), spec.name
    assert set(SEVEN) - {"data_freshness"} <= set(about_people)  # the check ran on the metric queries
    assert "data_freshness" not in about_people  # it reads the manifest: about files, not people


def test_queries_read_only_models_never_files(tiny_runner: Runner):
    for spec in load_queries().values():
        lowered = spec.sql.lower()
        assert "read_parquet" not in lowered and "read_csv" not in lowered, spec.name
        assert "warehouse" not in lowered, spec.name
        assert tiny_runner.reads(spec.name) <= set(tiny_runner.graph.models), spec.name  # no staging view


def test_a_query_may_read_a_staging_view_directly(tiny_runner: Runner, tmp_path: Path):
    """Ad hoc: the runner creates the staging views a query names, over the current files."""
    sql = (
        "-- query: people\n-- returns: residents\n-- grain: one row\n-- key: -\n"
        "select count(*) as n, count(*) filter (where status = '在住') as living from stg_residents\n"
    )
    (tmp_path / "people.sql").write_text(sql, encoding="utf-8")
    runner = Runner(tiny_runner.paths, queries_dir=tmp_path)
    assert runner.reads("people") == {"stg_residents"}
    row = runner.run("people").iloc[0]
    assert (row["n"], row["living"]) == (7, 6)


# -- parameters ----------------------------------------------------------------------------------------------


def test_unknown_query(tiny_runner: Runner):
    with pytest.raises(QueryError, match="没有名为 nonsense 的查询"):
        tiny_runner.run("nonsense")
    with pytest.raises(QueryError):
        tiny_runner.spec("nonsense")


def test_undeclared_param_is_refused_in_chinese_and_english(tiny_runner: Runner):
    with pytest.raises(QueryError) as info:
        tiny_runner.run("community_share", {"community": "370211100001"})
    assert "不接受参数 community" in info.value.message
    assert "undeclared" in info.value.detail


def test_missing_params_are_null_and_mean_everything(tiny_runner: Runner):
    bound = tiny_runner.bind("community_share", {})
    assert bound == {"community_code": None, "area": None}
    assert len(tiny_runner.run("community_share")) == 2
    assert len(tiny_runner.run("community_share", {"community_code": ""})) == 2  # the CLI's empty value


def test_now_comes_from_the_clock_or_a_cli_string(tiny_runner: Runner):
    assert tiny_runner.bind("overview")["now"] == datetime(2026, 11, 27, 10, 30)
    assert tiny_runner.bind("overview", {"now": "2026-11-20"})["now"] == datetime(2026, 11, 20)
    assert tiny_runner.bind("overview", {"now": date(2026, 11, 20)})["now"] == datetime(2026, 11, 20)
    progress = tiny_runner.run("registration_progress", {"now": "2026-04-01"})
    assert progress["day"].iloc[-1] == pd.Timestamp("2026-04-01")
    with pytest.raises(QueryError, match="now"):
        tiny_runner.run("overview", {"now": "yesterday"})


def test_hostile_value_is_bound_not_formatted(tiny_runner: Runner):
    frame = tiny_runner.run("community_share", {"community_code": HOSTILE})
    assert frame.empty
    assert tiny_runner.run("unregistered_newcomers", {"unit_id": HOSTILE, "area": HOSTILE}).empty
    assert tiny_runner.run("overview")["residents"].iloc[0] == 6  # stg_residents is still there


def test_database_errors_become_query_errors(tiny_runner: Runner, tmp_path: Path):
    sql = HEADER.replace("query: sample", "query: broken") + "from no_such_view\n"
    (tmp_path / "broken.sql").write_text(sql, encoding="utf-8")
    runner = Runner(tiny_runner.paths, queries_dir=tmp_path)
    with pytest.raises(QueryError, match="查询 broken 运行失败"):
        runner.run("broken", {"community_code": "x"})


# -- the data -----------------------------------------------------------------------------------------------


def test_metrics_on_the_tiny_warehouse(tiny_runner: Runner):
    overview = tiny_runner.run("overview").iloc[0]
    assert (overview["residents"], overview["newcomers"], overview["registered"]) == (6, 3, 1)
    assert overview["discovered"] == 1  # the stranger: registered, not a current resident
    assert overview["scans_today"] == 1 and overview["scans_last_hour"] == 1
    fraction = (date(2026, 11, 27) - date(2026, 3, 15)).days / (date(2026, 12, 31) - date(2026, 3, 15)).days
    assert overview["plan_rate"] == pytest.approx(0.9 * fraction)
    assert overview["plan_registered"] == pytest.approx(0.9 * 3 * fraction)
    assert overview["as_of"] == pd.Timestamp("2026-11-27 10:05")
    one = tiny_runner.run("overview", {"community_code": "370211100002"}).iloc[0]
    assert (one["residents"], one["newcomers"], one["registered"], one["discovered"]) == (2, 1, 0, 1)
    units = tiny_runner.run("unit_progress")
    assert list(units["unit_id"]) == ["U2", "U1"]  # behind plan first
    assert units.set_index("unit_id").loc["U1", "gap"] == pytest.approx(1 - 0.9 * 2 * fraction)


def test_empty_warehouse_gives_empty_results_not_errors(tmp_path: Path):
    runner = Runner(DataPaths(tmp_path / "nothing"))
    for name in runner.names():
        frame = runner.run(name)
        assert isinstance(frame, pd.DataFrame)
    assert runner.run("overview")["residents"].iloc[0] == 0
    assert runner.run("community_share").empty
    assert set(runner.run("data_freshness")["status"]) == {"无数据"}


def test_views_are_rebuilt_when_the_data_version_changes(tmp_path: Path):
    paths = build_tiny(tmp_path / "data")
    runner = Runner(paths)
    before = runner.data_version()
    assert runner.run("overview")["residents"].iloc[0] == 6
    more = pd.DataFrame([_person(i, "370211100002", True) for i in range(10, 20)])
    more = pd.concat([pd.read_parquet(next((paths.warehouse / "residents").glob("*.parquet"))), more])
    _add_batch(
        paths,
        "residents",
        "20261126T080000000000-residents-cccccccc",
        more.drop(columns="batch_id"),
        datetime(2026, 11, 26, 8),
    )
    assert runner.data_version() != before
    assert runner.run("overview")["residents"].iloc[0] == 16
    # a held snapshot is not current until an operator accepts it
    _add_batch(
        paths,
        "residents",
        "20261126T090000000000-residents-dddddddd",
        more.head(2).drop(columns="batch_id"),
        datetime(2026, 11, 26, 9),
        outcome="held",
    )
    assert runner.run("overview")["residents"].iloc[0] == 16
    assert runner.run("held_snapshots")["batch_id"].tolist() == ["20261126T090000000000-residents-dddddddd"]
    assert runner.run("data_freshness").set_index("feed").loc["residents", "status"] == "有待确认快照"
    decision = pd.DataFrame(
        [
            {
                "decision_id": "d1",
                "batch_id": "20261126T090000000000-residents-dddddddd",
                "decision": "accept",
                "decided_at": datetime(2026, 11, 26, 10),
                "operator": "t",
            }
        ]
    )
    _write(decision, paths.warehouse / "decisions" / "d1.parquet")
    assert runner.run("overview")["residents"].iloc[0] == 2
    assert runner.run("held_snapshots").empty


def test_data_version_is_cheap_and_stable(tiny: DataPaths):
    assert staging.data_version(tiny) == staging.data_version(tiny)
    assert staging.data_version(DataPaths(Path("/nonexistent/x"))) == "-/-/-"


def test_a_cursor_per_thread(tiny_runner: Runner):
    results, errors = [], []

    def work():
        try:
            results.append(int(tiny_runner.run("overview")["residents"].iloc[0]))
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and results == [6] * 8


def test_default_runner_is_one_per_data_dir(tiny: DataPaths, tmp_path: Path):
    assert default_runner(tiny) is default_runner(DataPaths(tiny.root))
    assert default_runner(DataPaths(tmp_path)) is not default_runner(tiny)


def test_glob_characters_in_paths_are_refused(tmp_path: Path):
    paths = build_tiny(tmp_path / "data[1]")
    with pytest.raises(QueryError, match="通配符"):
        Runner(paths).run("overview")


def test_a_limit_from_the_command_line_is_a_number_and_null_means_everyone(tiny_runner: Runner):
    everyone = tiny_runner.run("unregistered_newcomers")
    assert len(everyone) >= 2
    first = tiny_runner.run("unregistered_newcomers", {"limit": "1"})
    pd.testing.assert_frame_equal(first, everyone.head(1))
    assert tiny_runner.run("unregistered_newcomers", {"limit": ""}).equals(everyone)  # the CLI's empty value
    with pytest.raises(QueryError, match="unregistered_newcomers"):
        tiny_runner.run("unregistered_newcomers", {"limit": HOSTILE})
