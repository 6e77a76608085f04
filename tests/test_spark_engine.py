"""The Spark engine on tiny hand-computed data (PySpark in local mode; ``make test-spark``).

Translation (``to_spark``: the DuckDB spellings of ``journeylib.sql`` and what Spark gets), the
engine interface (parameters, temporary views and tables, registered frames, isolation, the
config), and the DuckDB semantics each rewrite keeps, checked on Spark against values worked out
by hand.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from journeylib import sql

pytestmark = pytest.mark.spark


@pytest.fixture
def engine(spark):  # noqa: ANN001,ANN201
    from journeylib.spark import SparkEngine

    eng = SparkEngine(None, spark=spark)
    yield eng
    eng.close()


def _sg():  # noqa: ANN202
    return pytest.importorskip("journeylib.spark")


# ---- translation -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("duckdb", "spark_sql"),
    [
        # 64-bit keys: Spark's hash() is 32-bit, a million ids would collide ~100 times
        (f"SELECT {sql.customer_key('customer_id')} FROM t", "SELECT XXHASH64(customer_id) FROM t"),
        # bound parameters: $name -> :name
        ("SELECT * FROM t WHERE ts < $until", "SELECT * FROM t WHERE ts < :until"),
        (f"SELECT {sql.epoch_seconds('ts')} FROM t", "SELECT (UNIX_MICROS(ts) / 1e6) FROM t"),
        (
            f"SELECT {sql.local_time('ts')} FROM t",
            "SELECT CAST(FROM_UTC_TIMESTAMP(ts, :tz) AS TIMESTAMP_NTZ) FROM t",
        ),
        (f"SELECT {sql.first_by('x', ('a', 'b'))} FROM t", "SELECT MIN_BY(x, STRUCT(a, b)) FROM t"),
        (f"SELECT {sql.list_len('l')} FROM t", "SELECT COALESCE(SIZE(l), 0) FROM t"),
        (f"SELECT {sql.list_at('l', 'k')} FROM t", "SELECT TRY_ELEMENT_AT(l, k) FROM t"),
        ("SELECT l[2] FROM t", "SELECT TRY_ELEMENT_AT(l, 2) FROM t"),
        (f"SELECT {sql.list_where('l', 'x > 1')} FROM t", "SELECT FILTER(l, x -> x > 1) FROM t"),
        # a DECIMAL literal would make Spark divide exactly, rounded to 6 places
        ("SELECT a / 86400.0 FROM t", "SELECT a / CAST(86400.0 AS DOUBLE) FROM t"),
        # sqlglot would write the approximate percentile_approx
        (
            "SELECT PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY d) FROM t",
            "SELECT PERCENTILE(d, CAST(0.5 AS DOUBLE)) FROM t",
        ),
        # an inner CTE named like an outer one stays nested (hoisting would duplicate `r`)
        (
            "WITH r AS (WITH r AS (SELECT 1 AS x) SELECT x FROM r) SELECT x FROM r",
            "WITH r AS (WITH r AS (SELECT 1 AS x) SELECT x FROM r) SELECT x FROM r",
        ),
    ],
)
def test_to_spark_writes_the_spark_spelling(duckdb: str, spark_sql: str) -> None:
    assert _sg().to_spark(duckdb) == spark_sql


def test_every_sql_dialect_helper_translates_and_unknown_syntax_is_a_clear_error() -> None:
    spark = _sg()
    helpers = [
        sql.ordered_concat("e", "ts", " > "),
        sql.collect("ts", "event = 'a'"),
        sql.collect_sorted("ts", "event = 'a'"),
        sql.list_min(sql.list_where("l", "x >= t")),
        sql.list_concat(["a", "b", "c"]),
        sql.days_between("a", "b"),
        sql.date_trunc("week", "ts"),
        sql.last_by("x", ("k",)),
    ]
    duckdb_only = re.compile(
        r"(?<![A-Z_])(LIST|LIST_\w+|STRING_AGG|LEN|HASH|ROW|TIMEZONE)\(|EPOCH FROM", re.I
    )
    for expr in helpers:
        out = spark.to_spark(f"SELECT {expr} FROM t")
        assert not duckdb_only.search(out), out
    with pytest.raises(spark.SparkTranslationError, match="DESC"):
        spark.to_spark("SELECT list(x ORDER BY x DESC) FROM t")
    with pytest.raises(spark.SparkTranslationError, match="cannot parse"):
        spark.to_spark("SELECT FROM WHERE")


# ---- the DuckDB semantics each rewrite keeps, on Spark ----------------------------------------
def test_list_helpers_keep_duckdb_null_rules(engine) -> None:  # noqa: ANN001
    engine.register(
        "t",
        pd.DataFrame(
            {"c": ["a", "a", "a", "b"], "e": ["x", "y", "x", "y"], "v": [3, 1, 2, 5]}, dtype=object
        ).astype({"v": "int64"}),
    )
    xs, ys = sql.collect_sorted("v", "e = 'x'"), sql.collect_sorted("v", "e = 'y'")
    out = engine.query(
        f"""SELECT c,
               {xs} AS xs,
               {sql.list_len(sql.collect("v", "e = 'x'"))} AS n_x,
               {sql.list_at(xs, "2")} AS second_x,
               {sql.list_at(xs, "3")} AS third_x,
               {sql.list_concat([xs, ys])} AS xy
           FROM t GROUP BY c ORDER BY c"""
    )
    # a: x values 3, 2 -> sorted [2, 3]; y value 1. b: no x (NULL list, length 0), y value 5
    assert [list(v) if v is not None else None for v in out["xs"]] == [[2, 3], None]
    assert out["n_x"].tolist() == [2, 0]
    assert out["second_x"].tolist()[0] == 3 and pd.isna(out["second_x"].iloc[1])
    assert out["third_x"].isna().all()  # beyond the end: NULL, not an error
    # NULL lists count as empty in a concatenation (DuckDB's list_concat)
    assert [list(v) for v in out["xy"]] == [[2, 3, 1], [5]]


def test_time_helpers_on_spark(engine) -> None:  # noqa: ANN001
    ts = pd.to_datetime(["1970-01-02 00:00:00.5", "2025-01-01 20:00"], utc=True, format="ISO8601")
    engine.register("t", pd.DataFrame({"k": [1, 2], "ts": ts.astype("datetime64[us, UTC]")}))
    out = engine.query(
        f"""SELECT k, {sql.epoch_seconds("ts")} AS s, {sql.local_time("ts")} AS local,
               {sql.date_trunc("month", "ts")} AS month,
               {sql.days_between("TIMESTAMPTZ '1970-01-01 00:00:00+00'", "ts")} AS days
           FROM t ORDER BY k""",
        {"tz": "Asia/Jakarta"},
    )
    assert out["s"].iloc[0] == 86400.5  # one day and half a second after the epoch
    # 20:00 UTC is 03:00 the next day in Jakarta (UTC+7), a naive wall-clock time
    assert out["local"].iloc[1] == pd.Timestamp("2025-01-02 03:00")
    assert out["month"].iloc[1] == pd.Timestamp("2025-01-01", tz="UTC")
    assert out["days"].iloc[0] == pytest.approx(1 + 0.5 / 86400, rel=1e-12)


def test_aggregates_on_spark(engine) -> None:  # noqa: ANN001
    engine.register(
        "t",
        pd.DataFrame(
            {"g": ["a", "a", "a", "a"], "k1": [1, 1, 2, 0], "k2": [2, 1, 0, 9],
             "x": ["p", "q", "r", "s"], "d": [1.0, 2.0, 3.0, 10.0]}
        ),
    )  # fmt: skip
    out = engine.query(
        f"""SELECT {sql.first_by("x", ("k1", "k2"))} AS first_x,
               {sql.last_by("x", ("k1", "k2"))} AS last_x,
               {sql.ordered_concat("x", "d", " > ")} AS path,
               PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY d) AS median_d,
               COUNT(*) * 1.0 / 3 AS ratio
           FROM t GROUP BY g"""
    )
    # (k1, k2) order: (0, 9) s < (1, 1) q < (1, 2) p < (2, 0) r
    assert out.loc[0, "first_x"] == "s" and out.loc[0, "last_x"] == "r"
    assert out.loc[0, "path"] == "p > q > r > s"  # by d: 1, 2, 3, 10
    assert out.loc[0, "median_d"] == 2.5  # exact: halfway between 2 and 3
    assert out["ratio"].dtype == "float64" and out.loc[0, "ratio"] == pytest.approx(4 / 3)


def test_range_of_days(engine) -> None:  # noqa: ANN001
    engine.register(
        "events",
        pd.DataFrame({"ts": pd.to_datetime(["2025-01-01 10:00", "2025-01-03 09:00"], utc=True)}),
    )
    out = engine.query(
        """SELECT CAST(range AS DATE) AS day FROM range(
               (SELECT CAST(MIN(ts) AS DATE) FROM events),
               (SELECT CAST(MAX(ts) AS DATE) FROM events) + INTERVAL 1 DAY, INTERVAL 1 DAY)
           ORDER BY day"""
    )
    # 1, 2 and 3 January: the end (4 January) is left out, as DuckDB's range() does
    assert out["day"].tolist() == [dt.date(2025, 1, d) for d in (1, 2, 3)]


# ---- the engine interface --------------------------------------------------------------------
def test_parameters_of_every_kind(engine) -> None:  # noqa: ANN001
    engine.register("t", pd.DataFrame({"ts": pd.to_datetime(["2025-01-01 12:00"], utc=True)}))
    out = engine.query(
        "SELECT ts + $w AS later, ts < $until AS before, $n + 1 AS n, $d AS d, $s AS s FROM t",
        {
            "w": pd.Timedelta("7D"),
            "until": pd.Timestamp("2025-01-02", tz="UTC"),
            "n": np.int64(41),
            "d": dt.date(2025, 1, 1),
            "s": "it's",
        },
    )
    row = out.iloc[0]
    assert row["later"] == pd.Timestamp("2025-01-08 12:00", tz="UTC")
    assert bool(row["before"]) and row["n"] == 42 and row["d"] == dt.date(2025, 1, 1)
    assert row["s"] == "it's"  # bound, never spliced: the quote needs no escaping
    assert (
        engine.scalar("SELECT COUNT(*) FROM t WHERE ts > $x", {"x": dt.datetime(2030, 1, 1)}) == 0
    )
    assert engine.scalar("SELECT ts FROM t WHERE ts > TIMESTAMPTZ '2030-01-01 00:00:00+00'") is None


def test_temp_tables_views_and_copy(engine) -> None:  # noqa: ANN001
    from journeylib.spark import SparkTranslationError

    engine.register("t", pd.DataFrame({"v": [1, 2, 3]}))
    # created once: a second call with the same name keeps the first result (sql.temp_table)
    engine.execute(sql.temp_table("big", "SELECT v FROM t WHERE v >= $lo"), {"lo": 2})
    engine.execute(sql.temp_table("big", "SELECT v FROM t"))
    assert engine.scalar("SELECT COUNT(*) FROM big") == 2
    # a view with a parameter (Spark refuses markers in CREATE VIEW: the engine goes through
    # a DataFrame), replaced by the next CREATE OR REPLACE
    engine.execute("CREATE OR REPLACE TEMP VIEW small AS SELECT v FROM t WHERE v < $hi", {"hi": 2})
    assert engine.scalar("SELECT SUM(v) FROM small") == 1
    engine.execute("CREATE OR REPLACE TEMP VIEW small AS SELECT v FROM t WHERE v < 3")
    assert engine.scalar("SELECT SUM(v) FROM small") == 3
    engine.execute("DROP VIEW IF EXISTS small")
    with pytest.raises(SparkTranslationError, match="COPY"):
        engine.execute("COPY (SELECT 1) TO 'x.parquet' (FORMAT parquet)")
    assert engine.tables() == ["t"]  # like DuckDB's: the canonical and registered tables


def test_register_converts_pandas_types(engine) -> None:  # noqa: ANN001
    df = pd.DataFrame(
        {
            "cat": pd.Categorical(["b", "a", "b"]),
            "u": np.array([1, 2, 3], dtype="uint8"),
            "ts": pd.to_datetime(["2025-01-01", "2025-01-02", None], utc=True),
            "s": pd.array(["x", None, "z"], dtype="string"),
            "none": [None, None, None],
        }
    )
    engine.register("f", df)
    out = engine.query(
        "SELECT cat, SUM(u) AS u, COUNT(ts) AS n, COUNT(s) AS ns FROM f GROUP BY cat ORDER BY cat"
    )
    assert out.to_dict("list") == {"cat": ["a", "b"], "u": [2, 4], "n": [1, 1], "ns": [0, 2]}
    assert df["u"].dtype == "uint8"  # the caller's frame is not changed


def test_engines_do_not_see_each_others_tables(spark) -> None:  # noqa: ANN001
    from journeylib.engine import Engine
    from journeylib.spark import SparkEngine

    with SparkEngine(None, spark=spark) as one, SparkEngine(None, spark=spark) as two:
        assert isinstance(one, Engine)
        one.register("events", pd.DataFrame({"x": [1]}))
        two.register("events", pd.DataFrame({"x": [1, 2]}))
        assert (
            one.scalar("SELECT COUNT(*) FROM events"),
            two.scalar("SELECT COUNT(*) FROM events"),
        ) == (1, 2)


def test_missing_table_and_string_timestamps_are_clear_errors(engine) -> None:  # noqa: ANN001
    engine.register("ev", pd.DataFrame({"customer_id": ["a"], "ts": ["2025-01-01"]}))
    with pytest.raises(ValueError, match="cannot read table 'nope' from the spark engine"):
        sql.require_columns(engine, "nope", ["customer_id"])
    with pytest.raises(sql.TimestampTypeError, match="'ts'"):
        sql.require_columns(engine, "ev", ["customer_id"], timestamp="ts")


def test_funnel_on_spark_matches_the_hand_count(engine, dropoff_events) -> None:  # noqa: ANN001
    from journeylib.funnels import funnel

    engine.register("events", dropoff_events)
    out = funnel(engine, ["A", "B", "C"])
    # A: all five; B after A: a, c, d; C after B: a, and c (two days later: no window)
    assert out["customers_strict"].tolist() == [5, 3, 2]
    out = funnel(engine, ["A", "B", "C"], window="1D")
    assert out["customers_strict"].tolist() == [5, 3, 1]  # c's C is outside the one-day window


# ---- the config ------------------------------------------------------------------------------
def _config(tmp_path: Path, engine: dict):  # noqa: ANN202
    from journeylib.config import Config

    return Config.model_validate(
        {
            "client": "sparky",
            "data": {
                "raw_dir": str(tmp_path),
                "sources": {"customers": {"path": "c.csv", "columns": {"customer_id": "id"}}},
            },
            "output": {"processed_dir": str(tmp_path / "processed")},
            "engine": engine,
        }
    )


def test_get_engine_reads_processed_folder_and_tables(spark, tmp_path) -> None:  # noqa: ANN001
    from journeylib.engine import get_engine
    from journeylib.spark import SparkEngine

    folder = tmp_path / "processed" / "sparky"
    folder.mkdir(parents=True)
    pd.DataFrame({"customer_id": ["a", "b"]}).to_parquet(folder / "customers.parquet")
    pd.DataFrame({"customer_id": ["a"]}).to_parquet(folder / "_hidden.parquet")
    (folder / "events").mkdir()  # a folder of Parquet parts is one table
    for i in range(2):
        pd.DataFrame({"customer_id": ["a"] * (i + 1)}).to_parquet(
            folder / "events" / f"p{i}.parquet"
        )
    other = tmp_path / "elsewhere.parquet"
    pd.DataFrame({"customer_id": ["x", "y", "z"]}).to_parquet(other)

    eng = get_engine(_config(tmp_path, {"kind": "spark", "tables": {"orders": str(other)}}))
    try:
        assert isinstance(eng, SparkEngine) and eng.name == "spark"
        assert sorted(eng.tables()) == ["customers", "events", "orders"]
        counts = [
            eng.scalar(f"SELECT COUNT(*) FROM {t}") for t in ("customers", "events", "orders")
        ]
        assert counts == [2, 3, 3]  # events: 1 + 2 rows from the two parts
    finally:
        eng.close()
    # a URI is listed through Hadoop's FileSystem, as s3a:// or abfss:// would be
    uri = SparkEngine(folder.as_uri(), spark=spark)
    try:
        assert sorted(uri.tables()) == ["customers", "events"]
    finally:
        uri.close()
