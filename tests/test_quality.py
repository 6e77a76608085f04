"""Engine and data-quality tables over hand-written processed tables."""

import pandas as pd
import pytest

from journeylib import quality
from journeylib.display import fmt_money, fmt_number, fmt_pct
from journeylib.engine import DuckDBEngine, Engine


@pytest.fixture
def engine(tmp_path):
    ts = lambda s: pd.Timestamp(s, tz="UTC")  # noqa: E731
    pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "b", "b"],
            "ts": [
                ts("2025-01-01 10:00"),
                ts("2025-01-01 10:05"),
                ts("2025-01-03 08:00"),
                ts("2025-01-01 12:00"),
                ts("2025-01-03 09:00"),
            ],
            "event": ["page_view", "purchase", "page_view", "page_view", "page_view"],
            "session_id": ["a-1", "a-1", "a-2", "b-1", "b-2"],
            "channel": ["email", "email", "direct", "social", "social"],
            "device": ["mobile", "mobile", "desktop", "mobile", "mobile"],
            "value": [None, 100.0, None, None, None],
        }
    ).to_parquet(tmp_path / "events.parquet")
    pd.DataFrame(
        {
            "order_id": ["o1", "o1"],
            "customer_id": ["a", "a"],
            "ts": [ts("2025-01-01 10:05")] * 2,
            "product_id": ["p1", "p2"],
            "quantity": [1.0, 2.0],
            "revenue": [60.0, 40.0],
        }
    ).to_parquet(tmp_path / "orders.parquet")
    pd.DataFrame({"note": [1]}).to_parquet(tmp_path / "_ignored.parquet")
    with DuckDBEngine(
        tmp_path, memory_limit="256MB", threads=1, temp_dir=tmp_path / "spill"
    ) as eng:
        yield eng


def test_engine_interface(engine):
    assert isinstance(engine, Engine)
    assert engine.tables() == ["events", "orders"]  # files starting with _ are not tables
    assert engine.scalar("SELECT current_setting('threads')") == 1
    assert (
        engine.query("SELECT COUNT(*) AS n FROM events WHERE customer_id = $c", {"c": "a"})["n"][0]
        == 3
    )


def test_daily_volume_fills_missing_days(engine):
    daily = quality.daily_volume(engine)
    # events span Jan 1..3; Jan 2 has nothing and must appear with zeros
    assert daily["day"].astype(str).tolist() == ["2025-01-01", "2025-01-02", "2025-01-03"]
    assert daily["sessions"].tolist() == [2, 0, 2]  # a-1, b-1 | - | a-2, b-2
    assert daily["orders"].tolist() == [1, 0, 0]  # o1 counted once, not per line
    assert daily["revenue"].tolist() == [100.0, 0.0, 0.0]


def test_label_mix(engine):
    mix = quality.label_mix(engine, "channel").set_index("channel")
    # email 2 events / 1 session, social 2 / 2, direct 1 / 1 of 5 events
    assert mix.loc["email", "events"] == 2 and mix.loc["email", "sessions"] == 1
    assert mix.loc["social", "sessions"] == 2
    assert mix.loc["direct", "share"] == pytest.approx(0.2)
    with pytest.raises(ValueError):
        quality.label_mix(engine, "customer_id; DROP TABLE events")


def test_completeness(engine):
    comp = quality.completeness(engine, "events").set_index("column")
    assert comp.loc["value", "non_null"] == 1
    assert comp.loc["value", "share"] == pytest.approx(0.2)
    assert comp.loc["event", "share"] == 1.0


def test_overview_and_manifest_tables(engine):
    manifest = {
        "files": {"events": {"file": "raw/ev.csv", "rows_read": 7}},
        "notices": [
            {
                "table": "events",
                "column": "channel",
                "check": "unknown channel label",
                "count": 2,
                "action": "mapped to 'other'",
                "detail": {"labels": {"x": 2}},
            },
            {
                "table": "events",
                "column": None,
                "check": "duplicate rows",
                "count": 2,
                "action": "dropped",
                "detail": {},
            },
        ],
        "identity": [
            {
                "table": "events",
                "source": "web",
                "records": 5,
                "matched": 4,
                "ids": 2,
                "unmatched_ids": 1,
            }
        ],
    }
    ov = quality.table_overview(engine, manifest).set_index("table")
    assert ov.loc["events", "rows_read"] == 7 and ov.loc["events", "rows_kept"] == 5
    assert ov.loc["events", "customers"] == 2 and ov.loc["orders", "customers"] == 1
    assert quality.unknown_labels(manifest).to_dict("records") == [
        {"table": "events", "column": "channel", "label": "x", "rows": 2}
    ]
    cov = quality.identity_coverage(manifest)
    assert cov["matched_share"].tolist() == [0.8]
    lines = quality.summary(ov.reset_index(), quality.issues(manifest), cov)
    # 2 dropped of 7 read (orders has no rows_read recorded) = 28.6%
    assert "2 of 7 raw rows were dropped (28,6%)" in lines[2]
    assert lines[3].startswith("80,0% of events records (web ids)")


def test_number_formatting():
    assert fmt_number(1234567.891, decimals=1) == "1.234.567,9"
    assert fmt_pct(0.035) == "3,5%"
    assert fmt_money(1250000) == "Rp 1.250.000"
    assert fmt_number(float("nan")) == "–"


def test_engine_for_registers_frames_and_executes():
    from journeylib.engine import engine_for

    eng = engine_for(events=pd.DataFrame({"customer_id": ["a", "a", "b"], "v": [1, 2, 3]}))
    eng.execute(
        "CREATE TEMP VIEW per_customer AS SELECT customer_id, SUM(v) AS v FROM events GROUP BY 1"
    )
    out = eng.query("SELECT * FROM per_customer ORDER BY customer_id")
    assert out.to_dict("list") == {"customer_id": ["a", "b"], "v": [3, 3]}
    assert eng.tables() == ["events"]
    with pytest.raises(ValueError):
        eng.register("bad name;", pd.DataFrame())


def test_scalar_of_a_timestamp(engine):
    # 5 events, the latest on Jan 3 09:00 UTC
    assert engine.scalar("SELECT MAX(ts) FROM events") == pd.Timestamp("2025-01-03 09:00", tz="UTC")
    assert engine.scalar("SELECT 1 WHERE FALSE") is None


def test_issues_and_summary_in_indonesian(engine):
    from journeylib.config import ReportSpec

    manifest = {
        "files": {"events": {"file": "raw/ev.csv", "rows_read": 8}},
        "notices": [
            {"table": "events", "column": "device", "check": "unknown device label", "count": 2,
             "action": "mapped to 'other'"},
            {"table": "events", "column": None, "check": "duplicate rows", "count": 3,
             "action": "dropped"},
            {"table": "orders", "column": "revenue", "check": "every decimal part has three "
             "digits", "count": 2, "action": "read with ',' as decimal separator; check "
             "`decimal:` on this source"},
            {"table": "events", "column": "x", "check": "a check nobody translated", "count": 1,
             "action": "kept"},
        ],
        "identity": [
            {"table": "events", "source": "web", "records": 5, "matched": 4, "ids": 2,
             "unmatched_ids": 1},
        ],
    }  # fmt: skip
    english = quality.issues(manifest)
    shown = quality.issues(manifest, language="id")
    # same rows in the same order; check and action translated, names kept; the column word of
    # "unknown <column> label" is translated, the quoted label is not; unknown texts stay
    assert shown[["table", "column", "count"]].equals(english[["table", "column", "count"]])
    assert shown["check"].tolist() == [
        "a check nobody translated",
        "baris duplikat",
        "label perangkat tidak dikenal",
        "setiap bagian desimal terdiri atas tiga digit",
    ]
    assert shown["action"].tolist() == [
        "kept",
        "dihapus",
        "dipetakan ke 'other'",
        "dibaca dengan ',' sebagai pemisah desimal; periksa `decimal:` pada sumber ini",
    ]
    ov = quality.table_overview(engine, manifest)
    cov = quality.identity_coverage(manifest)
    lines = quality.summary(ov, english, cov, ReportSpec(language="id"))
    # events: 5 rows from 2 customers; orders: 2 lines from customer a; 3 dropped of 8 read
    # (orders has no rows_read) = 37.5%; 4 of 5 event records matched = 80.0%
    assert lines == [
        "5 event dari 2 pelanggan antara 2025-01-01 dan 2025-01-03 (UTC).",
        "2 baris pesanan dari 1 pelanggan.",
        "3 dari 8 baris mentah dihapus (37,5%); setiap masalah lain diperbaiki di tempat dan "
        "dicantumkan di bawah.",
        "80,0% catatan event (id web) cocok dengan pelanggan yang dikenal; 1 id web tetap anonim.",
    ]
    assert quality.summary(ov, english, cov)[2].startswith("3 of 8 raw rows were dropped (37,5%)")
    # 3 days (Jan 1..3), Jan 2 without a session
    daily = quality.daily_volume(engine)
    assert quality.volume_summary(daily) == "3 days covered; 1 days without any session."
    assert quality.volume_summary(daily, ReportSpec(language="id")) == (
        "3 hari tercakup; 1 hari tanpa sesi sama sekali."
    )
    fig = quality.plot_daily_volume(daily, language="id")
    assert [t.name for t in fig.data] == ["sesi", "pesanan"]
    assert quality.plot_mix(quality.label_mix(engine, "device"), "device", language="id").layout.title.text == "Event per perangkat"  # fmt: skip
    assert quality.plot_mix(quality.label_mix(engine, "device"), "device").layout.title.text == "Events by device"  # fmt: skip


def test_daily_volume_and_label_mix_in_passes_over_customer_ranges_equal_one_query(
    synth_client, same_in_passes
):
    """Above 30M events the daily and label counts run per range of customers (a session is
    one customer's, so distinct sessions and customers add up): they equal one query's."""
    from journeylib import quality as Q
    from journeylib.engine import DuckDBEngine

    engine = DuckDBEngine(synth_client.config.processed_dir)

    def tables() -> list[pd.DataFrame]:
        return [Q.daily_volume(engine), *(Q.label_mix(engine, c) for c in ("channel", "device"))]

    parts, calls = same_in_passes(engine, tables)
    assert len(calls) == 3
    days = engine.scalar("SELECT DATE_DIFF('day', MIN(ts)::DATE, MAX(ts)::DATE) + 1 FROM events")
    sessions = engine.scalar("SELECT COUNT(DISTINCT session_id) FROM events")
    assert len(parts[0]) == days
    total = engine.scalar("SELECT COUNT(*) FROM events")
    assert parts[0]["events"].sum() == parts[1]["events"].sum() == total
    # a session on two days counts on each: at least the distinct sessions in all
    assert parts[0]["sessions"].sum() >= sessions
