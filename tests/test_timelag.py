"""Time lag and path length to conversion on hand-computed journeys, real and synthetic data."""

from __future__ import annotations

import pandas as pd
import pytest

from journeylib import timelag
from journeylib.engine import engine_for


def _events(rows: list[tuple]) -> pd.DataFrame:
    """Events from (customer, UTC time, event, session, channel, device) tuples."""
    cols = ["customer_id", "ts", "event", "session_id", "channel", "device"]
    frame = pd.DataFrame(rows, columns=cols)
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True).astype("datetime64[us, UTC]")
    return frame


@pytest.fixture
def events() -> pd.DataFrame:
    return _events(
        [
            # a: first touch Jan 1 10:00 (email, mobile); converts Jan 3 09:30 in a 3rd session.
            #    lag 1 day 23.5 h -> bucket "1"; 4 events and 3 sessions up to the purchase;
            #    the second purchase (Jan 10) is after the conversion and ignored.
            ("a", "2025-01-01 10:00", "page_view", "a1", "email", "mobile"),
            ("a", "2025-01-01 10:05", "search", "a1", "email", "mobile"),
            ("a", "2025-01-02 09:00", "page_view", "a2", "direct", "desktop"),
            ("a", "2025-01-03 09:30", "purchase", "a3", "direct", "desktop"),
            ("a", "2025-01-10 09:30", "purchase", "a4", "direct", "desktop"),
            # b: purchase and page_view at the same instant: the tie is broken by event name, so
            #    page_view is the first touch and the purchase the 2nd event; lag 0 -> "0".
            ("b", "2025-01-05 12:00", "purchase", "b1", "social", "mobile"),
            ("b", "2025-01-05 12:00", "page_view", "b1", "social", "mobile"),
            # c: first touch Jan 1, converts Feb 15 01:00 (45 days) -> "31-60"; 3 events, 2 sessions
            ("c", "2025-01-01 00:00", "page_view", "c1", "social", "mobile"),
            ("c", "2025-02-15 00:00", "page_view", "c2", "email", "desktop"),
            ("c", "2025-02-15 01:00", "purchase", "c2", "email", "desktop"),
            # e never converts: not in any of these reports
            ("e", "2025-01-01 00:00", "page_view", "e1", "email", "mobile"),
        ]
    )


def test_conversion_lags(events):
    lags = timelag.conversion_lags(events).set_index("customer_id")
    assert list(lags.index) == ["a", "b", "c"]  # one row per converting customer
    assert lags.loc["a", "lag_days"] == pytest.approx(1 + 23.5 / 24)
    assert lags.loc["b", "lag_days"] == 0.0
    assert lags.loc["c", "lag_days"] == pytest.approx(45 + 1 / 24)
    assert lags["events_to_conversion"].tolist() == [4, 2, 3]
    assert lags["sessions_to_conversion"].tolist() == [3, 1, 2]
    assert lags["first_channel"].tolist() == ["email", "social", "social"]
    assert lags["conversion_device"].tolist() == ["desktop", "mobile", "desktop"]
    assert lags.loc["a", "conversion_ts"] == pd.Timestamp("2025-01-03 09:30", tz="UTC")


def test_time_lag_buckets(events):
    table = timelag.time_lag(events)
    # every bucket is listed (16), each conversion in one: a "1", b "0", c "31-60"
    assert table["bucket"].astype(str).tolist() == list(timelag.LAG_BUCKETS)
    counts = table.set_index("bucket")["conversions"]
    assert counts[counts > 0].to_dict() == {"0": 1, "1": 1, "31-60": 1}
    assert table["share"].sum() == pytest.approx(1.0)
    assert table["cumulative_share"].iloc[[0, 1, 11, 13, 15]].tolist() == pytest.approx(
        [1 / 3, 2 / 3, 2 / 3, 1.0, 1.0]
    )


def test_lag_bucket_edges():
    # whole elapsed days: 11.99 days is still day 11; 12..30 and 31..60 are closed ranges
    assert [timelag.lag_bucket(x) for x in (0, 0.99, 11.99, 12, 30.99, 31, 60.5, 90.99, 91)] == [
        "0",
        "0",
        "11",
        "12-30",
        "12-30",
        "31-60",
        "31-60",
        "61-90",
        "91+",
    ]


def test_time_lag_by_first_channel_and_segment(events):
    table = timelag.time_lag(events, by="channel")
    # first touch: a email; b and c social. Shares are within the channel.
    nonzero = table[table["conversions"] > 0]
    assert nonzero[["first_channel", "bucket", "share"]].astype(str).values.tolist() == [
        ["email", "1", "1.0"],
        ["social", "0", "0.5"],
        ["social", "31-60", "0.5"],
    ]
    assert len(table) == 2 * len(timelag.LAG_BUCKETS)  # grain: channel x bucket
    # a segment frame: c has no segment row
    segments = pd.DataFrame({"customer_id": ["a", "b", "x"], "tier": ["gold", "gold", "silver"]})
    by_tier = timelag.time_lag(events, by=segments)
    totals = by_tier.groupby("tier")["conversions"].sum().to_dict()
    assert totals == {timelag.NO_SEGMENT: 1, "gold": 2}


def test_path_length(events):
    sessions = timelag.path_length(events, unit="sessions").set_index("bucket")["conversions"]
    # sessions up to and including the converting one: a 3, b 1, c 2
    assert sessions[sessions > 0].to_dict() == {"1": 1, "2": 1, "3": 1}
    evs = timelag.path_length(events, unit="events").set_index("bucket")["conversions"]
    # events up to and including the conversion: a 4, b 2, c 3
    assert evs[evs > 0].to_dict() == {"2": 1, "3": 1, "4": 1}
    by_device = timelag.path_length(events, by="conversion_device")
    assert by_device.groupby("conversion_device")["conversions"].sum().to_dict() == {
        "desktop": 2,
        "mobile": 1,
    }


def test_path_length_12_plus():
    # 13 sessions (one page_view a day) and a purchase in the 13th -> "12+" for sessions;
    # 14 events -> "12+" for events too
    rows = [
        ("z", f"2025-01-{d:02d} 10:00", "page_view", f"z{d}", "email", "mobile")
        for d in range(1, 14)
    ]
    rows.append(("z", "2025-01-13 10:01", "purchase", "z13", "email", "mobile"))
    table = timelag.path_length(_events(rows)).set_index("bucket")
    assert table.loc["12+", "conversions"] == 1 and table["conversions"].sum() == 1
    # 12 days and 1 minute after the first touch: the "12-30" bucket, not "11"
    lag = timelag.time_lag(_events(rows)).set_index("bucket")["conversions"]
    assert (lag["11"], lag["12-30"]) == (0, 1)


def test_summary(events):
    summary = timelag.time_lag_summary(events).iloc[0]
    # lags 0, 1.98, 45.04 days: median 1.98; sessions 1, 2, 3: median 2
    assert summary["conversions"] == 3
    assert summary["median_days"] == pytest.approx(1 + 23.5 / 24)
    assert summary["median_sessions"] == 2 and summary["median_events"] == 3
    by_channel = timelag.time_lag_summary(events, by="channel")
    assert by_channel["first_channel"].tolist() == ["email", "social"]


def test_conversion_event_that_never_occurs(events):
    with pytest.warns(UserWarning, match="'signup' never occurs"):
        table = timelag.time_lag(events, conversion_event="signup")
    assert table.empty and list(table.columns) == [
        "bucket",
        "conversions",
        "share",
        "cumulative_share",
    ]
    with pytest.warns(UserWarning, match="never occurs"):
        assert timelag.path_length(events, conversion_event="signup", by="channel").empty
    with pytest.warns(UserWarning, match="never occurs"):
        assert timelag.conversion_lags(events.iloc[:0]).empty


def test_bad_arguments(events):
    with pytest.raises(ValueError, match="by must be one of"):
        timelag.time_lag(events, by="weather")
    with pytest.raises(ValueError, match="unit"):
        timelag.path_length(events, unit="pages")
    with pytest.raises(ValueError, match="one row per customer_id"):
        timelag.time_lag(events, by=pd.DataFrame({"customer_id": ["a", "a"], "s": [1, 2]}))
    with pytest.raises(ValueError, match="lacks column"):
        timelag.time_lag(events.drop(columns="event"))
    # a table without session_id: events still work, sessions cannot
    bare = events.drop(columns=["session_id", "channel"])
    assert timelag.path_length(bare, unit="events")["conversions"].sum() == 3
    with pytest.raises(ValueError, match="session_id"):
        timelag.path_length(bare, unit="sessions")
    with pytest.raises(ValueError, match="channel"):
        timelag.time_lag(bare, by="channel")


def test_not_mutated_and_views(events):
    before = events.copy()
    table = timelag.time_lag(events, by="device")
    timelag.path_length(events, unit="events")
    pd.testing.assert_frame_equal(events, before)
    # a derived view whose event column holds a stage works through table=
    stages = events.assign(event=events["event"].map({"purchase": "decision"}).fillna("aware"))
    eng = engine_for(stage_events=stages)
    staged = timelag.time_lag(eng, conversion_event="decision", by="device", table="stage_events")
    pd.testing.assert_frame_equal(staged, table)


def test_plots(events):
    fig = timelag.plot_time_lag(timelag.time_lag(events, by="channel"))
    assert [t.name for t in fig.data] == ["email", "social"]
    assert list(fig.data[0].x) == list(timelag.LAG_BUCKETS)
    assert fig.layout.title.text and fig.layout.yaxis.title.text
    fig = timelag.plot_path_length(timelag.path_length(events))
    assert len(fig.data) == 1 and list(fig.data[0].x)[-1] == "12+"


def test_plots_in_bahasa_indonesia(events):
    fig = timelag.plot_time_lag(timelag.time_lag(events, by="channel"), language="id")
    assert fig.layout.title.text == "Hari dari sentuhan pertama hingga konversi"
    assert (fig.layout.xaxis.title.text, fig.layout.yaxis.title.text) == ("hari", "porsi konversi")
    assert [t.name for t in fig.data] == ["email", "social"]  # channel names stay
    fig = timelag.plot_path_length(timelag.path_length(events), language="id")
    assert fig.layout.title.text == "Panjang jalur hingga konversi"
    assert fig.data[0].name == "semua konversi" and "konversi)" in fig.data[0].hovertemplate


@pytest.mark.shared_data
def test_retentioneering_simple_shop(shared_datasets):
    from journeylib.sessions import sessionize

    raw = pd.read_csv(shared_datasets / "retentioneering_simple_shop" / "simple-onlineshop.csv")
    events = raw.rename(columns={"user_id": "customer_id", "timestamp": "ts"})
    events["customer_id"] = events["customer_id"].astype(str)
    events["ts"] = pd.to_datetime(events["ts"], utc=True, format="ISO8601")
    events = sessionize(events)
    buyers = events.loc[events["event"] == "payment_done", "customer_id"].nunique()
    lags = timelag.conversion_lags(events, conversion_event="payment_done")
    # every buyer appears once; paths reach at least the conversion itself
    assert len(lags) == buyers > 0
    assert (lags["lag_days"] >= 0).all()
    assert (lags["sessions_to_conversion"] >= 1).all()
    assert (lags["events_to_conversion"] >= lags["sessions_to_conversion"]).all()
    table = timelag.path_length(events, conversion_event="payment_done", unit="events")
    assert table["conversions"].sum() == buyers
    # a payment_done needs at least catalog/product -> cart -> delivery -> payment steps first
    assert table.set_index("bucket").loc[["1", "2", "3"], "conversions"].sum() == 0


def test_synth_paths(synth_client):
    eng = synth_client.engine
    lags = timelag.conversion_lags(eng)
    buyers = eng.scalar("SELECT COUNT(DISTINCT customer_id) FROM events WHERE event = 'purchase'")
    assert len(lags) == buyers
    # the synthetic sessions are single-device: the converting session's device is the
    # purchase's device, and a path has at least as many events as sessions
    assert (lags["events_to_conversion"] >= lags["sessions_to_conversion"]).all()
    # Planted: each persona has its own mean gap between sessions (6 to 20 days), so the lag
    # per extra session in the path must order the personas like the planted gaps (rank
    # correlation; one swap of neighbours would still give 0.9), and the slowest persona's
    # median must be well above the fastest one's.
    personas = synth_client.truth[["customer_id", "persona"]]
    multi = lags[lags["sessions_to_conversion"] >= 2].merge(personas, on="customer_id")
    per_session = multi["lag_days"] / (multi["sessions_to_conversion"] - 1)
    observed = per_session.groupby(multi["persona"]).median()
    planted = pd.Series(
        {k: v["mean_gap_days"] for k, v in synth_client.effects["personas"].items()}
    )
    assert observed.corr(planted[observed.index], method="spearman") >= 0.9
    assert observed[planted.idxmax()] > 2 * observed[planted.idxmin()]
    # the same converters, bucketed: every one is counted once
    assert timelag.time_lag(eng, by=personas)["conversions"].sum() == buyers


def test_conversion_lags_in_passes_over_customer_ranges_equal_one_query(
    synth_client, same_in_passes, monkeypatch
):
    """Above 30M events the converting customers' paths run per range of customers: the rows,
    and the time-lag and path-length tables built on them, equal one query's, exactly."""
    from journeylib import timelag as T
    from journeylib.engine import DuckDBEngine

    monkeypatch.setattr(T, "kept", lambda _e, _n, _k, compute, **_: compute())  # no reuse
    engine = DuckDBEngine(synth_client.config.processed_dir)

    def tables() -> list[pd.DataFrame]:
        return [
            T.conversion_lags(engine),
            T.time_lag(engine, by="channel"),
            T.path_length(engine),
            T.time_lag_summary(engine, by="channel"),
        ]

    parts, calls = same_in_passes(engine, tables)
    assert len(calls) == 4
    # one row per converting customer, counted straight from the events
    converters = engine.scalar(
        "SELECT COUNT(DISTINCT customer_id) FROM events WHERE event = 'purchase'"
    )
    assert len(parts[0]) == converters > 100


def test_conversion_lags_are_kept_for_the_next_call(synth_client, monkeypatch):
    """A run asks for the lags four times: the later calls read the kept table, not the events."""
    from journeylib import engine as E
    from journeylib import timelag as T

    engine = E.DuckDBEngine(synth_client.config.processed_dir)
    first = T.conversion_lags(engine, conversion_event="add_to_cart")
    monkeypatch.setattr(E, "query_per_customer", None)  # computing again would fail
    monkeypatch.setattr(T, "query_customer_rows", None)
    pd.testing.assert_frame_equal(T.conversion_lags(engine, conversion_event="add_to_cart"), first)
    with pytest.raises(TypeError):  # another event is not the kept one
        T.conversion_lags(engine, conversion_event="begin_checkout")
