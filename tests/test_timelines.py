"""Event timelines (journeylib.timelines): the per-customer index ingest writes.

A funnel reads the timelines when they cover its table, and groups the events otherwise; both
must give the same numbers. The slow per-customer reference of tests/test_funnels.py checks the
timeline path on real data; here random logs with many tied timestamps check that the two paths
agree on every funnel output (counts, times to convert, drop-offs), for repeated steps, windows
and exclusions.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from event_frames import timeline_engine

from journeylib import dropoff as D
from journeylib import funnels as F
from journeylib.engine import DuckDBEngine, engine_for
from journeylib.timelines import (
    MAX_TIMELINE_EVENTS,
    TIMELINE_TABLE,
    timeline_columns,
    write_event_timelines,
)

EVENTS = ["a", "b", "c", "x"]


def random_log(seed: int, customers: int = 60) -> pd.DataFrame:
    """Events on a coarse 10-minute grid over two days, so many timestamps tie."""
    rng = np.random.default_rng(seed)
    n = customers * 12
    t0 = pd.Timestamp("2025-01-01", tz="UTC")
    return pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in rng.integers(0, customers, n)],
            "ts": (t0 + pd.to_timedelta(rng.integers(0, 288, n) * 10, unit="min")).astype(
                "datetime64[us, UTC]"
            ),
            "event": rng.choice(EVENTS, n, p=[0.4, 0.3, 0.2, 0.1]),
            "session_id": "s",
            "channel": "direct",
            "device": "mobile",
        }
    )


CASES = [
    (["a", "b", "c"], None, ()),
    (["a", "b", "c"], pd.Timedelta("6h"), ()),
    (["a", "b", "c"], None, ("x",)),
    (["a", "b", "c"], pd.Timedelta("1D"), ("x",)),
    (["a", "a", "b"], None, ()),  # consecutive repeat
    (["a", "b", "a", "c"], pd.Timedelta("12h"), ("x",)),  # repeat after another step
    (["b", "a", "b", "a"], None, ()),
    (["c"], None, ()),
    (["a", "zzz"], None, ()),  # a step that never occurs
]


@pytest.mark.parametrize("seed", range(6))
def test_timelines_and_events_give_identical_funnels(seed, tmp_path):
    df = random_log(seed)
    plain, indexed = engine_for(events=df), timeline_engine(df, tmp_path)
    assert TIMELINE_TABLE in indexed.tables()
    for steps, window, exclude in CASES:
        kw = {"window": window, "exclude": exclude}
        with pytest.warns(UserWarning) if "zzz" in steps else _no_warning():
            a = F.funnel(plain, steps, **kw)
        with pytest.warns(UserWarning) if "zzz" in steps else _no_warning():
            b = F.funnel(indexed, steps, **kw)
        pd.testing.assert_frame_equal(a, b)
        if len(steps) > 1 and "zzz" not in steps:
            assert a["customers_strict"].iloc[1] > 0  # the case exercises matching
            pd.testing.assert_frame_equal(
                F.time_to_convert(plain, steps, **kw), F.time_to_convert(indexed, steps, **kw)
            )
            da, db = D.dropoff(plain, steps, **kw), D.dropoff(indexed, steps, **kw)
            pd.testing.assert_frame_equal(da.summary, db.summary)


class _no_warning:
    def __enter__(self):
        import warnings

        self._w = warnings.catch_warnings()
        self._w.__enter__()
        warnings.simplefilter("error")

    def __exit__(self, *exc):
        return self._w.__exit__(*exc)


def test_funnel_sql_reads_the_timeline_only_for_the_canonical_events(tmp_path):
    df = random_log(0)
    indexed = timeline_engine(df, tmp_path)
    f = F._prepare(indexed, ["a", "b"], None, (), "events")
    assert TIMELINE_TABLE in F._journey_sql(f)
    assert TIMELINE_TABLE not in F._journey_sql(f, segment_col="device")  # needs event rows
    indexed.execute("CREATE VIEW other AS SELECT * FROM events")
    g = F._prepare(indexed, ["a", "b"], None, (), "other")
    assert TIMELINE_TABLE not in F._journey_sql(g)
    assert timeline_columns(indexed, "events", ["a", "nope"]) == {"a": "ev_0000", "nope": None}


def test_timeline_lists_are_sorted_per_customer_and_event(tmp_path):
    # c1 did "b" at 10:00 and 09:00, then "a" once: b's list is sorted, a has one element
    t = pd.Timestamp("2025-01-01 10:00", tz="UTC")
    df = pd.DataFrame(
        {
            "customer_id": ["c1", "c1", "c1", "c2"],
            "ts": pd.Series([t, t - pd.Timedelta("1h"), t, t]).astype("datetime64[us, UTC]"),
            "event": ["b", "b", "a", "a"],
        }
    )
    engine = timeline_engine(df, tmp_path)
    cols = timeline_columns(engine, "events", ["a", "b"])
    got = engine.query(
        f"SELECT customer_id, {cols['a']} AS a, {cols['b']} AS b FROM {TIMELINE_TABLE} "
        "ORDER BY customer_id"
    )
    assert [len(x) for x in got["a"]] == [1, 1]
    assert list(pd.to_datetime(got["b"][0], utc=True)) == [t - pd.Timedelta("1h"), t]
    assert got["b"][1] is None or pd.isna(got["b"][1]).all()  # c2 never did b


def test_no_timeline_for_too_many_distinct_events(tmp_path):
    n = MAX_TIMELINE_EVENTS + 1
    df = pd.DataFrame(
        {
            "customer_id": ["c"] * n,
            "ts": pd.Series([pd.Timestamp("2025-01-01", tz="UTC")] * n).astype(
                "datetime64[us, UTC]"
            ),
            "event": [f"e{i}" for i in range(n)],
        }
    )
    df.to_parquet(tmp_path / "events.parquet")
    with DuckDBEngine(tmp_path, threads=1) as engine:
        assert write_event_timelines(engine, "events", tmp_path) is None
    assert not (tmp_path / f"{TIMELINE_TABLE}.parquet").exists()
    with DuckDBEngine(tmp_path, threads=1) as engine:  # funnels still work, from the events
        assert F.funnel(engine, ["e0", "e1"])["customers_strict"].tolist() == [1, 1]


def test_ingest_writes_timelines(synth_client):
    assert synth_client.manifest["timeline_events"] > 10
    assert TIMELINE_TABLE in synth_client.engine.tables()
    # every customer with events has a timeline row
    n_ev = synth_client.engine.scalar("SELECT COUNT(DISTINCT customer_id) FROM events")
    assert synth_client.engine.scalar(f"SELECT COUNT(*) FROM {TIMELINE_TABLE}") == n_ev


def test_timelines_in_passes_equal_one_pass(tmp_path):
    # the lists gathered over ranges of customer ids (many passes for a few hundred events)
    # are the same rows, in the same order, as one GROUP BY over every customer
    df = random_log(3, customers=200)
    df["customer_id"] = [f"{i:x}z" for i in pd.factorize(df["customer_id"])[0] * 977 % 4096]
    df.to_parquet(tmp_path / "events.parquet", index=False)
    out = {}
    for label, pass_rows in (("one", None), ("passes", 150)):
        folder = tmp_path / label
        folder.mkdir()
        with DuckDBEngine(tmp_path, threads=1) as engine:
            assert write_event_timelines(engine, "events", folder, pass_rows=pass_rows) == 4
        out[label] = pd.read_parquet(folder / f"{TIMELINE_TABLE}.parquet")
    assert len(df) > 10 * 150  # 16 passes (the most) were made
    pd.testing.assert_frame_equal(out["passes"], out["one"])
    assert out["one"]["customer_id"].is_monotonic_increasing
