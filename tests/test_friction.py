"""Friction: loops, friction events over time and spike flags on hand-computed tiny journeys,
and the planted checkout incident."""

from __future__ import annotations

import datetime as dt
import warnings

import pandas as pd
import pytest
from event_frames import journeys

from journeylib import friction


@pytest.fixture
def loopy() -> pd.DataFrame:
    day1 = journeys([("a", i, e) for i, e in enumerate("ABABA")], session="a-1")
    day2 = journeys([("a", 1440 + i, e) for i, e in enumerate("ABBA")], session="a-2")
    # b: A in one session, B A in the next: back-and-forth across sessions is no loop
    b = pd.concat(
        [journeys([("b", 0, "A")], session="b-1"),
         journeys([("b", 120, "B"), ("b", 121, "A")], session="b-2")]
    )  # fmt: skip
    return pd.concat([day1, day2, b], ignore_index=True)


def test_loops_count_each_occurrence(loopy):
    before = loopy.copy()
    lp = friction.loops(loopy, by=None)
    # day 1 ABABA: A>B>A twice, B>A>B once; day 2 ABBA collapses to ABA: one more A>B>A
    got = {(a, b): (c, n, s) for a, b, c, n, s in
           lp[["step_a", "step_b", "customers", "loops", "sessions"]].values}  # fmt: skip
    assert got == {("A", "B"): (1, 3, 2), ("B", "A"): (1, 1, 1)}
    assert lp["period"].isna().all()
    pd.testing.assert_frame_equal(loopy, before)


def test_loops_by_day_min_loops_and_no_collapse(loopy):
    lp = friction.loops(loopy, by="day")
    assert lp[["period", "step_a", "step_b", "loops"]].values.tolist() == [
        [pd.Timestamp("2025-01-06"), "A", "B", 2],
        [pd.Timestamp("2025-01-06"), "B", "A", 1],
        [pd.Timestamp("2025-01-07"), "A", "B", 1],
    ]
    assert not lp.duplicated(["period", "step_a", "step_b"]).any()
    assert friction.loops(loopy, by=None, min_loops=2)["step_a"].tolist() == ["A"]
    # without collapsing, A B B A is no loop
    raw = friction.loops(loopy, by=None, collapse_repeats=False)
    assert raw.loc[raw["step_a"].eq("A"), "loops"].item() == 2
    # ISO weeks start on Monday: both days fall in the week of 2025-01-06
    weekly = friction.loops(loopy, by="week")
    assert weekly["period"].unique().tolist() == [pd.Timestamp("2025-01-06")]
    fig = friction.plot_loops_over_time(lp)
    assert len(fig.data) == 2 and fig.layout.yaxis.title.text == "loops"
    with pytest.raises(ValueError, match="by must be"):
        friction.loops(loopy, by="month")


def test_anomaly_flags_robust_spike():
    # quiet 0/1 counts with one spike of 12: median ~0.5, robust spread floored at the Poisson
    # noise of 1, threshold <= 0.5 + 3 * 1 -> only the spike is flagged
    values = pd.Series([i % 2 for i in range(30)], dtype=float)
    values[15] = 12
    flags = friction.anomaly_flags(values)
    assert flags["anomaly"].tolist() == [i == 15 for i in range(30)]
    with pytest.warns(UserWarning, match="at least 7 periods"):
        short = friction.anomaly_flags(values.head(5))
    assert not short["anomaly"].any() and short["threshold"].isna().all()


def test_friction_on_a_single_day_has_no_flag_and_a_note():
    ev = journeys([("a", 0, "pay"), ("a", 1, "err"), ("a", 2, "err"), ("b", 5, "pay")])
    with pytest.warns(UserWarning, match="at least 7 periods"):
        fr = friction.friction_over_time(ev, events_of_interest=("err",))
    # one day, two sessions, one of them with the error twice
    row = fr.iloc[0]
    assert len(fr) == 1 and row["period"] == pd.Timestamp("2025-01-06")
    assert (row["events"], row["sessions_affected"], row["sessions"]) == (2, 1, 2)
    assert row["events_per_session"] == 1.0 and row["share_sessions"] == 0.5
    assert not row["anomaly"] and "at least 7 periods" in row["note"]


def test_friction_fills_empty_days_and_warns_on_absent_events():
    ev = journeys([("a", 0, "err"), ("a", 3 * 1440, "pay")])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fr = friction.friction_over_time(ev, events_of_interest=["err", "never"])
    assert any("['never']" in str(w.message) for w in caught)
    # days 6..9 January x 2 events; days 7 and 8 have no sessions: rate undefined, not zero
    assert len(fr) == 8 and fr["period"].nunique() == 4
    quiet = fr.loc[fr["period"].eq(pd.Timestamp("2025-01-07"))]
    assert quiet["sessions"].eq(0).all() and quiet["events_per_session"].isna().all()
    fig = friction.plot_friction_over_time(fr)
    assert fig.layout.title.text


def test_friction_charts_in_bahasa_indonesia():
    days = pd.to_datetime(["2025-01-06", "2025-01-07"])
    fr = pd.DataFrame(
        {
            "period": days,
            "event": ["err", "err"],
            "events_per_session": [0.1, 0.9],
            "anomaly": [False, True],
        }
    )
    fig = friction.plot_friction_over_time(fr, language="id")
    assert fig.layout.title.text == "Event friksi per sesi"
    assert (fig.layout.xaxis.title.text, fig.layout.yaxis.title.text) == (
        "periode",
        "event per sesi",
    )
    # one line per event, plus the flagged day marked as an anomaly
    assert [t.name for t in fig.data] == ["err", "err: anomali"]
    assert [t.name for t in friction.plot_friction_over_time(fr).data][1] == "err: anomaly"
    lp = pd.DataFrame({"period": days, "step_a": ["A", "A"], "step_b": ["B", "B"], "loops": [2, 1]})
    fig = friction.plot_loops_over_time(lp, language="id")
    assert fig.layout.title.text == "Putaran (A → B → A) per periode"
    assert fig.layout.yaxis.title.text == "putaran" and fig.data[0].name == "A ↔ B"


# ---- planted truth ---------------------------------------------------------------------------


def incident_days(synth_client) -> set[dt.date]:
    inc = synth_client.effects["incident"]
    first, last = dt.date.fromisoformat(inc["first_day"]), dt.date.fromisoformat(inc["last_day"])
    return {first + dt.timedelta(days=i) for i in range((last - first).days + 1)}


def test_incident_stands_out_in_friction_over_time(synth_client):
    inc = synth_client.effects["incident"]
    fr = friction.friction_over_time(synth_client.engine, events_of_interest=(inc["event"],))
    days = incident_days(synth_client)
    flagged = set(fr.loc[fr["anomaly"], "period"].dt.date)
    # most incident days flagged (some have no mobile checkout at all in 3,000 customers) ...
    assert len(flagged & days) >= 0.6 * len(days)
    # ... and nearly no other day (UTC days: the evening before the local first day may leak)
    assert len(flagged - days) <= 2
    assert fr["period"].nunique() > 150


def test_incident_loop_pair_is_top_inside_the_window(synth_client):
    inc = synth_client.effects["incident"]
    lp = friction.loops(synth_client.engine, by="day")
    inside = lp.loc[lp["period"].dt.date.isin(incident_days(synth_client))]
    top = inside.groupby(["step_a", "step_b"])["loops"].sum().idxmax()
    assert top == ("begin_checkout", inc["event"])
    # outside the window the same loop is rare: fewer loops per day than inside
    pair = lp.loc[lp["step_a"].eq("begin_checkout") & lp["step_b"].eq(inc["event"])]
    in_window = pair["period"].dt.date.isin(incident_days(synth_client))
    assert pair.loc[in_window, "loops"].sum() > 2 * pair.loc[~in_window, "loops"].sum()


def test_loops_in_passes_over_customer_ranges_add_up_to_one_query(synth_client, in_passes):
    """Above 30M events the loop windows run per range of customers; the counts (occurrences,
    distinct customers and sessions, each one customer's) add up to the one-query table."""
    from journeylib.engine import DuckDBEngine

    engine = DuckDBEngine(synth_client.config.processed_dir)
    one = friction.loops(engine, by="day", min_loops=2)
    calls = in_passes(int(engine.scalar("SELECT COUNT(*) FROM events")) // 5)
    parts = friction.loops(engine, by="day", min_loops=2)
    assert calls and calls[0] >= 5  # it ran in five passes or more
    pd.testing.assert_frame_equal(parts, one, check_exact=True)
    assert len(one) > 10 and one["customers"].max() > 1
    # the min_loops cut applies to the summed counts, not to each pass's
    every = friction.loops(engine, by="day", min_loops=1)
    cut = every.loc[every["loops"] >= 2].reset_index(drop=True)
    pd.testing.assert_frame_equal(parts, cut, check_exact=True)
    assert len(every) > len(cut)
