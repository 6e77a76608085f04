"""Touchpoint paths from events (journeylib.attribution.journeys), on hand-computed frames.

Times are days after T0; ``ev`` rows are (customer, day, event, session, channel[, campaign[,
value]]). Expected paths are worked out by hand from the module's definitions (the rule is in
the comment), plus one independent slow reference of every definition on random frames.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from journeylib.attribution.journeys import NO_TOUCH, build_paths, conversion_summary
from journeylib.attribution.pathdata import Paths
from journeylib.engine import engine_for

T0 = pd.Timestamp("2025-03-01 00:00", tz="UTC")
MIN = 1 / (24 * 60)  # one minute in days
SEC = MIN / 60


def ev(rows: list[tuple]) -> pd.DataFrame:
    """Events from (customer, day, event, session, channel[, campaign[, value]])."""
    full = [tuple(r) + (None,) * (7 - len(r)) for r in rows]
    df = pd.DataFrame(
        full, columns=["customer_id", "day", "event", "session_id", "channel", "campaign", "value"]
    )
    df["ts"] = (T0 + pd.to_timedelta(df["day"], unit="D")).astype("datetime64[us, UTC]")
    df["value"] = df["value"].astype("float64")
    return df.drop(columns="day")


def table(paths: Paths) -> list[tuple]:
    """(path, conversions, value, nulls) per row."""
    f = paths.to_frame()
    return list(zip(f["path"], f["conversions"], f["value"], f["nulls"], strict=True))


def journeys(paths: Paths) -> list[tuple]:
    """(customer, path, conversions, value, lag_days rounded to 1e-6) per journey."""
    f = paths.to_frame()
    lags = [
        tuple(round(x, 6) for x in paths.lag_days[a:b])
        for a, b in zip(paths.offsets[:-1], paths.offsets[1:], strict=True)
    ]
    return list(zip(paths.journey_ids, f["path"], f["conversions"], f["value"], lags, strict=True))


# ---- definitions, by hand ----------------------------------------------------------------------
def test_session_paths_values_and_lags():
    df = ev(
        [
            ("a", 0, "page_view", "a1", "social"),
            ("a", 2, "page_view", "a2", "email"),
            ("a", 2 + 10 * MIN, "purchase", "a2", "email", None, 100.0),
            ("b", 1, "page_view", "b1", "display"),
            ("b", 1 + MIN, "view_item", "b1", "display"),
        ]
    )
    # a converts after social (day 0) and email (day 2): one path worth 100;
    # b never converts: one non-converting path "display"
    assert table(build_paths(df)) == [
        ("display", 0.0, 0.0, 1.0),
        ("social > email", 1.0, 100.0, 0.0),
    ]
    # lags: from the touch (session start) to the conversion, or to the journey's last touch
    assert journeys(build_paths(df, per_journey=True)) == [
        ("a", "social > email", 1.0, 100.0, (round(2 + 10 * MIN, 6), round(10 * MIN, 6))),
        ("b", "display", 0.0, 0.0, (0.0,)),
    ]


def test_session_touch_is_first_event_with_a_channel():
    df = ev(
        [
            ("a", 0, "page_view", "a1", None),  # no channel: not the touch
            ("a", 0 + MIN, "view_item", "a1", "paid_search"),  # the session's touch
            ("a", 0 + 2 * MIN, "view_item", "a1", "direct"),  # later event: ignored
            ("a", 0 + 3 * MIN, "purchase", "a1", "direct", None, 5.0),
        ]
    )
    p = build_paths(df, per_journey=True)
    assert journeys(p) == [("a", "paid_search", 1.0, 5.0, (round(2 * MIN, 6),))]


def test_event_grain_every_event_with_a_channel_is_a_touch():
    df = ev(
        [
            ("a", 0, "page_view", "a1", "social"),
            ("a", MIN, "view_item", "a1", None),  # no channel: no touch
            ("a", 2 * MIN, "view_item", "a1", "social"),
            ("a", 3 * MIN, "purchase", "a1", "email", None, 7.0),  # the conversion is a touch
        ]
    )
    assert table(build_paths(df, grain="event")) == [("social > social > email", 1.0, 7.0, 0.0)]
    assert table(build_paths(df, grain="event", collapse_repeats=True)) == [
        ("social > email", 1.0, 7.0, 0.0)
    ]
    assert table(build_paths(df)) == [("social", 1.0, 7.0, 0.0)]  # one session, one touch


def test_lookback_bounds_are_inclusive():
    df = ev(
        [
            ("a", 0, "page_view", "a1", "display"),  # exactly 30 days before: counts
            ("a", 30, "purchase", "a2", "email"),
            ("b", -SEC, "page_view", "b1", "display"),  # 30 days + 1 s before: out
            ("b", 30, "purchase", "b2", "email"),
        ]
    )
    assert table(build_paths(df, per_journey=True)) == [
        ("display > email", 1.0, 0.0, 0.0),
        ("email", 1.0, 0.0, 0.0),
    ]
    # no lookback: everything before the conversion counts
    assert table(build_paths(df, lookback_days=None)) == [("display > email", 2.0, 0.0, 0.0)]
    # lookback 0: only touches at the conversion time
    assert table(build_paths(df, lookback_days=0)) == [("email", 2.0, 0.0, 0.0)]


def test_ties_at_the_conversion_time():
    df = ev(
        [
            # a: the purchase is the first event of its session: its touch is at the
            # conversion time, which counts (touch time <= conversion time)
            ("a", 1, "page_view", "a1", "social"),
            ("a", 2, "purchase", "a2", "whatsapp", None, 3.0),
            # b (event grain): events tied with the purchase belong to it, in label order
            ("b", 2, "purchase", "b1", "social", None, 4.0),
            ("b", 2, "page_view", "b1", "email"),
            ("b", 2, "view_item", "b1", "social"),
        ]
    )
    # session grain: b's touch is its session's first event, ties by event name (page_view)
    assert table(build_paths(df)) == [
        ("email", 1.0, 4.0, 0.0),
        ("social > whatsapp", 1.0, 3.0, 0.0),
    ]
    assert journeys(build_paths(df, grain="event", per_journey=True)) == [
        ("a", "social > whatsapp", 1.0, 3.0, (1.0, 0.0)),
        ("b", "email > social > social", 1.0, 4.0, (0.0, 0.0, 0.0)),
    ]


def test_repeated_conversions_split_the_path():
    df = ev(
        [
            ("a", 0, "page_view", "a1", "social"),
            ("a", 1, "purchase", "a2", "email", None, 10.0),
            ("a", 2, "page_view", "a3", "display"),
            ("a", 3, "purchase", "a4", "direct", None, 20.0),
            ("a", 4, "page_view", "a5", "social"),  # after the last conversion: non-converting
        ]
    )
    assert journeys(build_paths(df, per_journey=True)) == [
        ("a", "social > email", 1.0, 10.0, (1.0, 0.0)),
        ("a", "display > direct", 1.0, 20.0, (1.0, 0.0)),
        ("a", "social", 0.0, 0.0, (0.0,)),
    ]


def test_touch_at_the_previous_conversion_time_belongs_to_it():
    df = ev(
        [
            ("a", 0, "page_view", "a1", "social"),
            ("a", 1, "purchase", "a2", "email"),
            ("a", 1, "page_view", "a2", "display"),  # tied with conversion 1: belongs to it
            ("a", 2, "purchase", "a3", "direct"),
        ]
    )
    assert table(build_paths(df, grain="event", per_journey=True)) == [
        ("social > display > email", 1.0, 0.0, 0.0),
        ("direct", 1.0, 0.0, 0.0),
    ]


def test_second_purchase_in_a_session_gets_its_session_touch():
    df = ev(
        [
            ("a", 0, "page_view", "a1", "email"),
            ("a", 5 * MIN, "purchase", "a1", "email", None, 10.0),
            ("a", 10 * MIN, "purchase", "a1", "email", None, 20.0),
        ]
    )
    # window of purchase 2 is (5 min, 10 min]: no touch -> its own session's touch (email at
    # 0), lag from the session start
    assert journeys(build_paths(df, per_journey=True)) == [
        ("a", "email", 1.0, 10.0, (round(5 * MIN, 6),)),
        ("a", "email", 1.0, 20.0, (round(10 * MIN, 6),)),
    ]
    assert table(build_paths(df)) == [("email", 2.0, 30.0, 0.0)]


def test_conversion_without_any_touch_is_no_touch():
    df = ev(
        [
            ("a", 0, "purchase", "a1", None, None, 9.0),  # session without any channel
            ("b", 0, "page_view", "b1", "social"),
            ("b", 1, "page_view", "b2", "email"),
        ]
    )
    p = build_paths(df)
    assert table(p) == [(NO_TOUCH, 1.0, 9.0, 0.0), ("social > email", 0.0, 0.0, 1.0)]
    s = conversion_summary(p).iloc[0]
    assert (s["conversions"], s["no_touch_conversions"], s["non_converting"]) == (1, 1, 1)
    assert s["channels"] == 2  # social, email (the no-touch label is not a channel)


def test_rows_of_one_conversion_time_are_one_conversion():
    df = ev(
        [
            ("a", 0, "page_view", "a1", "email"),
            ("a", 1 * MIN, "purchase", "a1", "email", None, 10.0),  # two product rows
            ("a", 1 * MIN, "purchase", "a1", "email", None, 15.0),
            ("b", 0, "page_view", "b1", "email"),
            ("b", 1 * MIN, "purchase", "b1", "email", None, None),  # missing value: 0
        ]
    )
    assert table(build_paths(df)) == [("email", 2.0, 25.0, 0.0)]


def test_channel_campaign_labels():
    df = ev(
        [
            ("a", 0, "page_view", "a1", "paid_search", "brand"),
            ("a", 1, "page_view", "a2", "direct", None),  # no campaign: the channel
            ("a", 2, "page_view", "a3", "email", ""),  # empty campaign: the channel
            ("a", 3, "purchase", "a4", "email", "cart_reminder"),
        ]
    )
    p = build_paths(df, touchpoint="channel_campaign")
    assert table(p) == [
        ("paid_search / brand > direct > email > email / cart_reminder", 1.0, 0.0, 0.0)
    ]
    assert p.channels == ("direct", "email", "email / cart_reminder", "paid_search / brand")
    assert table(build_paths(df)) == [("paid_search > direct > email > email", 1.0, 0.0, 0.0)]
    assert table(build_paths(df, collapse_repeats=True)) == [
        ("paid_search > direct > email", 1.0, 0.0, 0.0)
    ]


def test_collapse_repeats_keeps_the_last_lag_of_each_run():
    df = ev(
        [
            ("a", 0, "page_view", "a1", "email"),
            ("a", 1, "page_view", "a2", "email"),
            ("a", 2, "page_view", "a3", "social"),
            ("a", 3, "purchase", "a4", "email", None, 5.0),
        ]
    )
    p = build_paths(df, per_journey=True, collapse_repeats=True)
    assert journeys(p) == [("a", "email > social > email", 1.0, 5.0, (2.0, 1.0, 0.0))]


def test_non_converting_paths_and_their_lookback():
    df = ev(
        [
            # never converts: touches at days 0, 20, 45; lookback 30 before the last (45): >= 15
            ("a", 0, "page_view", "a1", "social"),
            ("a", 20, "page_view", "a2", "display"),
            ("a", 45, "page_view", "a3", "email"),
            # converts at day 1, then touches after it: the non-converting tail
            ("b", 0, "page_view", "b1", "paid_search"),
            ("b", 1, "purchase", "b1", "paid_search"),
            ("b", 5, "page_view", "b2", "social"),
            ("b", 40, "page_view", "b3", "direct"),  # lookback from day 40: day 5 is out
            # converts last: no non-converting path
            ("c", 0, "page_view", "c1", "email"),
            ("c", 0, "purchase", "c1", "email"),
        ]
    )
    assert journeys(build_paths(df, per_journey=True)) == [
        ("a", "display > email", 0.0, 0.0, (25.0, 0.0)),
        ("b", "paid_search", 1.0, 0.0, (1.0,)),
        ("b", "direct", 0.0, 0.0, (0.0,)),
        ("c", "email", 1.0, 0.0, (0.0,)),
    ]
    no_null = build_paths(df, include_null=False)
    assert table(no_null) == [("email", 1.0, 0.0, 0.0), ("paid_search", 1.0, 0.0, 0.0)]


def test_value_column_options():
    df = ev(
        [
            ("a", 0, "page_view", "a1", "email"),
            ("a", 1, "purchase", "a1", "email", None, 10.0),
        ]
    ).assign(revenue=99.0)
    assert table(build_paths(df, value_column="revenue")) == [("email", 1.0, 99.0, 0.0)]
    assert table(build_paths(df, value_column=None)) == [("email", 1.0, 0.0, 0.0)]
    # page_view as the conversion: at day 0, worth 0 (its row has no value); the session's
    # touch (day 0) is its path and nothing comes after it
    assert table(build_paths(df, conversion_event="page_view")) == [("email", 1.0, 0.0, 0.0)]


def test_event_seq_orders_the_session_when_present():
    df = ev(
        [
            ("a", 0, "view_item", "a1", "display"),
            ("a", 0, "page_view", "a1", "social"),  # tied
            ("a", 1, "purchase", "a1", "display"),
        ]
    ).assign(event_seq=[1, 2, 3])
    # event_seq (the ingest order) says view_item came first
    assert table(build_paths(df)) == [("display", 1.0, 0.0, 0.0)]
    # without event_seq: ties by event name ("page_view" < "view_item")
    assert table(build_paths(df.drop(columns="event_seq"))) == [("social", 1.0, 0.0, 0.0)]


def test_engine_and_frame_give_the_same_paths():
    df = ev([("a", 0, "page_view", "a1", "email"), ("a", 1, "purchase", "a1", "email")])
    with engine_for(events=df) as engine:
        assert table(build_paths(engine)) == table(build_paths(df))


def test_empty_and_conversion_free_inputs():
    df = ev([("a", 0, "page_view", "a1", "email")])
    p = build_paths(df)  # no conversion: only the non-converting path (no warning)
    assert (p.total_conversions, p.total_nulls) == (0.0, 1.0)
    with pytest.warns(UserWarning, match="no touchpoint paths"):
        empty = build_paths(df, include_null=False)
    assert empty.n_paths == 0 and empty.channels == ()
    assert conversion_summary(empty).iloc[0]["journeys"] == 0
    assert math.isnan(conversion_summary(empty).iloc[0]["mean_length_converting"])
    with pytest.warns(UserWarning):
        assert build_paths(df, include_null=False, per_journey=True).n_paths == 0


def test_input_errors():
    df = ev([("a", 0, "purchase", "a1", "email", None, -1.0)])
    with pytest.raises(ValueError, match="negative value"):
        build_paths(df)
    with pytest.raises(ValueError, match="grain"):
        build_paths(df, grain="visit")
    with pytest.raises(ValueError, match="touchpoint"):
        build_paths(df, touchpoint="campaign")
    with pytest.raises(ValueError, match="lookback_days"):
        build_paths(df, lookback_days=-1)
    with pytest.raises(ValueError, match="campaign"):
        build_paths(df.drop(columns="campaign"), touchpoint="channel_campaign")
    with pytest.raises(ValueError, match="session_id"):
        build_paths(df.drop(columns="session_id"))
    with pytest.raises(TypeError, match="timestamp"):
        build_paths(df.assign(ts=df["ts"].astype(str)))
    with pytest.raises(ValueError, match="identifier"):
        build_paths(df, value_column="value; DROP TABLE x")
    # event grain needs no session_id (no fallback touch: the conversion row is a touch)
    ok = ev([("a", 0, "purchase", "a1", "email", None, 1.0)]).drop(columns="session_id")
    assert table(build_paths(ok, grain="event")) == [("email", 1.0, 1.0, 0.0)]
    none = ev([("a", 0, "purchase", "a1", None, None, 1.0)]).drop(columns="session_id")
    assert table(build_paths(none, grain="event")) == [(NO_TOUCH, 1.0, 1.0, 0.0)]


# ---- an independent slow reference of every definition -------------------------------------
def _reference(df: pd.DataFrame, *, grain: str, lookback: float | None) -> list[tuple]:
    """(customer, labels, converted, value, lags) per journey, in plain Python loops."""
    day = pd.Timedelta(days=1)
    rows = df[df["ts"].notna() & df["customer_id"].notna()]
    out = []
    for cust in sorted(rows["customer_id"].unique()):
        g = rows[rows["customer_id"] == cust]
        with_channel = g[g["channel"].notna() & (g["channel"] != "")]
        sessions = {}
        for sid, s in with_channel[with_channel["session_id"].notna()].groupby("session_id"):
            first = s.sort_values(["ts", "event", "channel"]).iloc[0]
            sessions[sid] = (first["ts"], first["channel"])
        if grain == "session":
            touches = list(sessions.values())
        else:
            touches = list(zip(with_channel["ts"], with_channel["channel"], strict=True))
        conv = g[g["event"] == "purchase"]
        conv_times = sorted(conv["ts"].unique())
        prev = None
        for t in conv_times:
            rows_t = conv[conv["ts"] == t]
            value = float(rows_t["value"].fillna(0).sum())
            win = [
                (ts, ch)
                for ts, ch in touches
                if (prev is None or ts > prev)
                and ts <= t
                and (lookback is None or ts >= t - lookback * day)
            ]
            if not win:
                sid = (
                    rows_t["session_id"].dropna().min()
                    if rows_t["session_id"].notna().any()
                    else None
                )
                win = [sessions[sid]] if sid in sessions else [(t, NO_TOUCH)]
            win.sort()
            # (a fallback session touch may come after a channel-less conversion row: lag 0)
            lags = [max((t - ts) / day, 0.0) for ts, _ in win]
            out.append((cust, [c for _, c in win], 1.0, value, lags))
            prev = t
        tail = [(ts, ch) for ts, ch in touches if prev is None or ts > prev]
        if tail:
            end = max(ts for ts, _ in tail)
            tail = sorted(x for x in tail if lookback is None or x[0] >= end - lookback * day)
            out.append((cust, [c for _, c in tail], 0.0, 0.0, [(end - ts) / day for ts, _ in tail]))
    return out


def _random_events(seed: int) -> pd.DataFrame:
    """30 customers, events on a coarse time grid (many ties), missing channels and untracked
    sessions (conversions without any touch)."""
    rng = np.random.default_rng(seed)
    rows = []
    for c in range(30):
        t = 0.0
        for s in range(rng.integers(1, 6)):
            t += float(rng.choice([0.0, 0.5, 1.0, 2.0, 4.0]))
            untracked = rng.random() < 0.15  # a session without any channel
            for e in range(rng.integers(1, 4)):
                ts = t + e * float(rng.choice([0.0, 0.25]))
                channel = rng.choice(["a", "b", "c", "d", None], p=[0.3, 0.3, 0.2, 0.1, 0.1])
                channel = None if untracked else channel
                event = rng.choice(["page_view", "view_item", "purchase"], p=[0.5, 0.3, 0.2])
                value = float(rng.integers(1, 50)) if event == "purchase" else None
                rows.append((f"c{c:02d}", ts, event, f"c{c}-s{s}", channel, None, value))
    return ev(rows)


@pytest.mark.parametrize("grain", ["session", "event"])
@pytest.mark.parametrize("lookback", [1.0, 2.5, None])
@pytest.mark.parametrize("seed", [1, 2])
def test_matches_the_slow_reference(grain, lookback, seed):
    df = _random_events(seed)
    expected = _reference(df, grain=grain, lookback=lookback)
    p = build_paths(df, grain=grain, lookback_days=lookback, per_journey=True)
    got = []
    for i in range(p.n_paths):
        a, b = p.offsets[i], p.offsets[i + 1]
        labels = [p.channels[k] for k in p.touches[a:b]]
        got.append((p.journey_ids[i], labels, p.conversions[i], p.value[i], list(p.lag_days[a:b])))
    assert [g[:4] for g in got] == [e[:4] for e in expected]
    for g, e in zip(got, expected, strict=True):
        assert np.allclose(g[4], e[4], atol=1e-9)
    assert p.nulls.tolist() == [1.0 - c for c in p.conversions]


@pytest.mark.parametrize("collapse", [False, True])
@pytest.mark.parametrize("grain", ["session", "event"])
def test_aggregated_equals_per_journey_aggregated(collapse, grain):
    df = _random_events(3)
    per = build_paths(df, grain=grain, collapse_repeats=collapse, per_journey=True)
    agg = build_paths(df, grain=grain, collapse_repeats=collapse)
    expected = per.to_frame().groupby("path")[["conversions", "value", "nulls"]].sum()
    got = agg.to_frame().set_index("path")[["conversions", "value", "nulls"]]
    assert got.index.is_unique
    pd.testing.assert_frame_equal(got.sort_index(), expected.sort_index())
    # the aggregated rows are sorted by label sequence, each a distinct path
    labels = [tuple(agg.channels[k] for k in agg.path_codes(i)) for i in range(agg.n_paths)]
    assert labels == sorted(labels)
    assert agg.lag_days is None and agg.journey_ids is None


def test_invariants_on_the_synthetic_client(synth_client):
    engine = synth_client.engine
    per = build_paths(engine, per_journey=True)
    agg = build_paths(engine)
    counts = engine.query(
        "SELECT COUNT(DISTINCT (customer_id, ts)) AS conversions, SUM(value) AS value "
        "FROM events WHERE event = 'purchase'"
    ).iloc[0]
    # every conversion (distinct customer x time) is on exactly one path, with its value
    for p in (per, agg):
        assert p.total_conversions == counts["conversions"]
        assert p.total_value == pytest.approx(counts["value"])
        assert p.total_nulls == per.total_nulls
    # non-converting journeys: at most one per customer
    null_ids = per.journey_ids[per.nulls > 0]
    assert len(null_ids) == len(set(null_ids))
    assert (per.lag_days >= 0).all()
    # lags fall along each path; converting paths end within their lookback
    first = per.lag_days[per.offsets[:-1]]
    last = per.lag_days[per.offsets[1:] - 1]
    assert (first >= last).all()
    assert (last[per.nulls > 0] == 0).all()
    multi = per.lengths > 1
    assert (first[multi] <= 30 + 1e-9).all()
    s = conversion_summary(per).iloc[0]
    assert s["journeys"] == per.n_paths
    assert s["no_touch_conversions"] == 0  # every synthetic event has a channel
    assert conversion_summary(agg).iloc[0][["conversions", "value"]].tolist() == pytest.approx(
        s[["conversions", "value"]].tolist()
    )


def test_paths_in_passes_over_customer_ranges_equal_one_query(synth_client, same_in_passes):
    """Above CUSTOMER_PASS_EVENTS the touch rows are read per range of customers (each
    customer's journeys whole in one pass): the per-journey paths, their customers, lags and
    order, and the aggregated paths are the same, exactly."""
    engine = synth_client.engine

    def make():
        per = build_paths(engine, per_journey=True)
        agg = build_paths(engine)
        ids = pd.DataFrame({"customer": per.journey_ids})
        lags = pd.DataFrame({"lag_days": per.lag_days})
        return [per.to_frame(), ids, lags, agg.to_frame()]

    (per, ids, _, _), calls = same_in_passes(engine, make)
    assert len(calls) == 2  # both queries ran in passes
    assert ids["customer"].is_monotonic_increasing  # sorted by customer, then time
    assert ids["customer"].str[0].nunique() == 16  # every range held journeys
