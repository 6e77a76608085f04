"""Device conversion, mobile share, cross-device and mobile-assisted sales: hand-computed, then
the planted desktop/mobile gap of the synthetic client."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from journeylib import devices
from journeylib.engine import engine_for


def _events(rows: list[tuple]) -> pd.DataFrame:
    """Events from (customer, UTC time, event, session, device) tuples."""
    frame = pd.DataFrame(rows, columns=["customer_id", "ts", "event", "session_id", "device"])
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True).astype("datetime64[us, UTC]")
    frame["channel"] = "direct"
    return frame


@pytest.fixture
def events() -> pd.DataFrame:
    return _events(
        [
            # a: mobile session Jan 1, desktop session Jan 10 with a purchase (9 days later):
            #    a mobile-assisted desktop conversion
            ("a", "2025-01-01 10:00", "page_view", "a1", "mobile"),
            ("a", "2025-01-10 10:00", "page_view", "a2", "desktop"),
            ("a", "2025-01-10 10:10", "purchase", "a2", "desktop"),
            # b: buys on desktop first, the mobile session comes after: not assisted
            ("b", "2025-01-05 10:00", "purchase", "b1", "desktop"),
            ("b", "2025-01-06 10:00", "page_view", "b2", "mobile"),
            # c: mobile Jan 1, desktop purchase Mar 1 (59 days later): outside a 30-day window
            ("c", "2025-01-01 10:00", "page_view", "c1", "mobile"),
            ("c", "2025-03-01 10:00", "purchase", "c2", "desktop"),
            # f: converts on mobile, then browses on mobile again
            ("f", "2025-01-01 10:00", "purchase", "f1", "mobile"),
            ("f", "2025-01-02 10:00", "page_view", "f2", "mobile"),
            # g: one session that starts on desktop and continues on mobile: a desktop session
            ("g", "2025-01-01 10:00", "page_view", "g1", "desktop"),
            ("g", "2025-01-01 10:05", "page_view", "g1", "mobile"),
        ]
    )


def test_session_level_conversion(events):
    table = devices.conversion_by_device(events).set_index("device")
    # sessions by their first event's device: desktop a2 b1 c2 g1 (3 convert), mobile a1 b2 c1
    # f1 f2 (f1 converts)
    assert table.loc["desktop", ["sessions", "converting_sessions"]].tolist() == [4, 3]
    assert table.loc["mobile", ["sessions", "converting_sessions"]].tolist() == [5, 1]
    assert table["rate"].to_dict() == pytest.approx({"desktop": 0.75, "mobile": 0.2})


def test_customer_level_conversion(events):
    table = devices.conversion_by_device(events, level="customer").set_index("device")
    # desktop users (a session on desktop): a b c g; converters anywhere a b c; on desktop a b c
    assert table.loc["desktop", ["customers", "converters", "converters_on_device"]].tolist() == [
        4,
        3,
        3,
    ]
    # mobile users: a b c f (g's mobile event is inside a desktop session); all four converted
    # somewhere, only f on mobile
    assert table.loc["mobile", ["customers", "converters", "converters_on_device"]].tolist() == [
        4,
        4,
        1,
    ]
    assert table.loc["mobile", ["rate", "rate_on_device"]].tolist() == [1.0, 0.25]


def test_conversion_by_segment(events):
    segments = pd.DataFrame({"customer_id": ["a", "b"], "tier": ["gold", "silver"]})
    table = devices.conversion_by_device(events, by=segments)
    got = {(r.tier, r.device): (r.sessions, r.converting_sessions) for r in table.itertuples()}
    # gold = a: desktop a2 converts, mobile a1 not; silver = b: desktop b1 converts, mobile b2
    # not; c, f, g have no segment row: desktop c2 (converts) g1, mobile c1 f1 (converts) f2
    assert got == {
        ("gold", "desktop"): (1, 1),
        ("gold", "mobile"): (1, 0),
        ("silver", "desktop"): (1, 1),
        ("silver", "mobile"): (1, 0),
        ("(no segment)", "desktop"): (2, 1),
        ("(no segment)", "mobile"): (3, 1),
    }


def test_session_device_tie_is_broken_by_event_then_device():
    # two events at the same instant on different devices: "page_view" < "search", so the
    # session's device is the page_view's (mobile)
    ev = _events(
        [
            ("a", "2025-01-01 10:00", "search", "a1", "desktop"),
            ("a", "2025-01-01 10:00", "page_view", "a1", "mobile"),
        ]
    )
    with pytest.warns(UserWarning, match="never occurs"):  # no purchase in this session
        table = devices.conversion_by_device(ev)
    assert table["device"].tolist() == ["mobile"] and table["sessions"].tolist() == [1]


def test_device_gap_crude(events):
    gap = devices.device_gap(devices.conversion_by_device(events)).iloc[0]
    # desktop 3/4 vs mobile 1/5: odds 3 vs 1/4 -> log(12)
    assert gap["log_odds_ratio"] == pytest.approx(math.log(12))
    # pooled p = 4/9, se = sqrt(4/9 * 5/9 * (1/4 + 1/5)) = 1/3, z = (0.75 - 0.2) * 3 = 1.65
    assert gap["z"] == pytest.approx(1.65)
    assert gap["p_value"] == pytest.approx(math.erfc(1.65 / math.sqrt(2)))
    # Woolf: se = sqrt(1/3 + 1/1 + 1/1 + 1/4)
    se = math.sqrt(1 / 3 + 1 + 1 + 1 / 4)
    assert gap["ci_low"] == pytest.approx(math.log(12) - 1.96 * se)


def test_device_gap_mantel_haenszel():
    # stratum x: desktop 10/100 vs mobile 5/100; stratum y: desktop 20/100 vs mobile 10/100.
    # R = a d / N: 10*95/200 = 4.75 and 20*90/200 = 9; S = b c / N: 90*5/200 = 2.25 and
    # 80*10/200 = 4 -> OR_MH = 13.75 / 6.25 = 2.2
    table = pd.DataFrame(
        {
            "tier": ["x", "x", "y", "y"],
            "device": ["desktop", "mobile", "desktop", "mobile"],
            "sessions": [100, 100, 100, 100],
            "converting_sessions": [10, 5, 20, 10],
        }
    )
    gap = devices.device_gap(table, strata="tier").iloc[0]
    assert gap["log_odds_ratio"] == pytest.approx(math.log(2.2))
    assert gap["rate"] == pytest.approx(0.15) and gap["baseline_rate"] == pytest.approx(0.075)
    assert gap["ci_low"] < math.log(2.2) < gap["ci_high"]
    assert "Mantel-Haenszel" in gap["method"]
    with pytest.raises(ValueError, match="tablet"):
        devices.device_gap(table, device="tablet")


def test_mobile_share(events):
    table = devices.mobile_share(events).set_index("event")
    # page_view rows: a1 m, a2 d, b2 m, c1 m, f2 m, g1 d, g1 m -> 5 of 7 on mobile;
    # sessions with a page_view: a1 a2 b2 c1 f2 g1 = 6, with one on mobile: a1 b2 c1 f2 g1 = 5
    assert table.loc[
        "page_view", ["events", "mobile_events", "sessions", "mobile_sessions"]
    ].tolist() == [7, 5, 6, 5]
    assert table.loc["page_view", "event_share"] == pytest.approx(5 / 7)
    # purchase rows: a2 d, b1 d, c2 d, f1 m -> 1 of 4
    assert table.loc["purchase", "session_share"] == pytest.approx(0.25)
    assert table.index.tolist() == ["page_view", "purchase"]  # sorted by events
    with pytest.raises(ValueError, match="device"):
        devices.mobile_share(events, by="device")
    with pytest.raises(ValueError, match="identifier"):
        devices.mobile_share(events, by="event; DROP TABLE events")


def test_mobile_share_per_stage_view(events):
    # a stage view: the caller maps events to stages and points table= at it
    stages = events.assign(event=events["event"].map({"page_view": "consider", "purchase": "buy"}))
    table = devices.mobile_share(engine_for(stage_events=stages), table="stage_events")
    assert table.set_index("event").loc["buy", "mobile_events"] == 1


def test_cross_device(events):
    table = devices.cross_device(events).set_index("group")
    # devices seen per customer: a b c g on two devices; f only mobile
    assert table.loc["cross_device", ["customers", "converters"]].tolist() == [4, 3]
    assert table.loc["single_device", ["customers", "converters"]].tolist() == [1, 1]
    assert table.loc["cross_device", "share"] == pytest.approx(0.8)
    assert "no_known_device" not in table.index
    # 'other' (an unmapped raw label) is not a second device; a customer with only 'other'
    extra = _events(
        [
            ("h", "2025-01-01 10:00", "page_view", "h1", "mobile"),
            ("h", "2025-01-02 10:00", "page_view", "h2", "other"),
            ("k", "2025-01-02 10:00", "page_view", "k1", "other"),
        ]
    )
    table = devices.cross_device(pd.concat([events, extra], ignore_index=True)).set_index("group")
    assert table["customers"].to_dict() == {
        "single_device": 2,
        "cross_device": 4,
        "no_known_device": 1,
    }
    with pytest.warns(UserWarning, match="never occurs"):  # nobody in `extra` buys
        counted = devices.cross_device(extra, ignore_devices=()).set_index("group")
    assert counted.loc["cross_device", "customers"] == 1  # h: mobile + other


def test_mobile_assisted_conversions(events):
    row = devices.mobile_assisted_conversions(events).iloc[0]
    # desktop conversions: a2, b1, c2. Only a2 has a mobile session before it within 30 days
    # (b's mobile session is after; c's is 59 days earlier).
    assert row[
        ["desktop_conversions", "mobile_assisted", "customers", "assisted_customers"]
    ].tolist() == [3, 1, 3, 1]
    assert row["share"] == pytest.approx(1 / 3)
    # the window is inclusive: 59 days reaches c's mobile session, 58.9 does not
    assert devices.mobile_assisted_conversions(events, lookback_days=59)["mobile_assisted"][0] == 2
    assert (
        devices.mobile_assisted_conversions(events, lookback_days=58.9)["mobile_assisted"][0] == 1
    )


def test_mobile_session_at_the_same_instant_does_not_assist():
    # the mobile session must start strictly before the converting desktop session
    ev = _events(
        [
            ("a", "2025-01-10 10:00", "page_view", "a1", "mobile"),
            ("a", "2025-01-10 10:00", "purchase", "a2", "desktop"),
        ]
    )
    assert devices.mobile_assisted_conversions(ev)["mobile_assisted"][0] == 0


def test_conversion_event_that_never_occurs(events):
    with pytest.warns(UserWarning, match="'signup' never occurs"):
        table = devices.conversion_by_device(events, conversion_event="signup")
    assert table["converting_sessions"].sum() == 0 and (table["rate"] == 0).all()
    with pytest.warns(UserWarning, match="never occurs"):
        row = devices.mobile_assisted_conversions(events, conversion_event="signup").iloc[0]
    assert row["desktop_conversions"] == 0 and math.isnan(row["share"])
    with pytest.warns(UserWarning, match="never occurs"):
        assert devices.cross_device(events, conversion_event="signup")["converters"].sum() == 0


def test_bad_inputs_and_no_mutation(events):
    before = events.copy()
    devices.conversion_by_device(events, level="customer")
    devices.mobile_share(events)
    devices.cross_device(events)
    devices.mobile_assisted_conversions(events)
    pd.testing.assert_frame_equal(events, before)
    with pytest.raises(ValueError, match="level"):
        devices.conversion_by_device(events, level="household")
    with pytest.raises(ValueError, match="lacks column.*device"):
        devices.conversion_by_device(events.drop(columns="device"))
    with pytest.raises(ValueError, match="lookback_days"):
        devices.mobile_assisted_conversions(events, lookback_days=-1)
    with pytest.raises(ValueError, match="one row per customer_id"):
        devices.conversion_by_device(
            events, by=pd.DataFrame({"customer_id": ["a", "a"], "s": [1, 2]})
        )


def test_plots(events):
    fig = devices.plot_conversion_by_device(devices.conversion_by_device(events))
    assert list(fig.data[0].x) == ["desktop", "mobile"] and fig.layout.title.text
    fig = devices.plot_mobile_share(devices.mobile_share(events))
    assert fig.layout.xaxis.title.text and len(fig.data[0].y) == 2
    fig = devices.plot_cross_device(devices.cross_device(events))
    assert list(fig.data[0].x) == ["single_device", "cross_device"]


def test_plots_in_bahasa_indonesia(events):
    table = devices.conversion_by_device(events)
    fig = devices.plot_conversion_by_device(table, language="id")
    assert fig.layout.title.text == "Tingkat konversi per perangkat (sesi)"
    assert (fig.layout.xaxis.title.text, fig.layout.yaxis.title.text) == (
        "perangkat",
        "tingkat konversi",
    )
    assert " dari %{customdata:,} sesi" in fig.data[0].hovertemplate
    assert devices.plot_conversion_by_device(table).layout.title.text == (
        "Conversion rate by device (sessions)"
    )
    fig = devices.plot_mobile_share(devices.mobile_share(events), language="id")
    assert fig.layout.title.text == "Porsi sesi dari perangkat mobile menurut event"
    fig = devices.plot_cross_device(devices.cross_device(events), language="id")
    assert list(fig.data[0].x) == ["satu perangkat", "lintas perangkat"]
    assert fig.layout.title.text == "Konversi pelanggan satu perangkat vs lintas perangkat"


# ---------------------------------------------------------------------------------------------
# Planted truth: desktop +0.45 log-odds vs mobile per session (synthetic client).
# ---------------------------------------------------------------------------------------------
def test_planted_device_gap_crude_direction(synth_client):
    table = devices.conversion_by_device(synth_client.engine)
    gap = devices.device_gap(table).iloc[0]
    assert gap["rate"] > gap["baseline_rate"]
    assert gap["p_value"] < 0.05


def test_planted_device_gap_within_personas(synth_client):
    """Recover the planted +0.45 within personas, on sessions where only the device differs.

    The crude gap (log-odds ratio ~1.5 on seed 7) is far above 0.45 because desktop users are
    mostly the personas that buy more anyway (loyal_premium_desktop, b2b_reseller_bulk). A
    Mantel-Haenszel estimate within personas removes that mix, but session conversion still has
    terms that follow the device through the customer's own history: the repeat-purchase bonus
    after a first purchase (desktop users buy earlier, so more of their sessions carry it), cart
    retargeting sessions (+1.5, triggered by carts that are more frequent where conversion is
    higher), and the mobile-only checkout incident. On sessions up to each customer's first
    purchase, excluding the retargeting campaigns and the incident days, the planted device
    effect is the only device-dependent term left, so the estimate must land near 0.45; we
    require the 95% interval to cover it and the point estimate to lie in [0.15, 0.9].
    """
    from journeylib.synth.labels import RETARGET_CAMPAIGN

    eff = synth_client.effects
    assert (
        eff["device_purchase_logodds"]["desktop"] - eff["device_purchase_logodds"]["mobile"] == 0.45
    )
    events = synth_client.engine.query("SELECT * FROM events")
    personas = synth_client.truth[["customer_id", "persona"]]

    crude = devices.device_gap(devices.conversion_by_device(events)).iloc[0]
    all_sessions = devices.device_gap(
        devices.conversion_by_device(events, by=personas), strata="persona"
    ).iloc[0]
    # the persona mix explains much of the crude gap
    assert all_sessions["log_odds_ratio"] < crude["log_odds_ratio"] - 0.3

    key = ["customer_id", "session_id"]
    start = events.groupby(key)["ts"].transform("min")
    first_buy = events[events["event"] == "purchase"].groupby("customer_id")["ts"].min()
    before_first_buy = ~(start > events["customer_id"].map(first_buy))  # NaT: never bought
    retargeted = (
        events["campaign"]
        .isin(RETARGET_CAMPAIGN.values())
        .groupby([events[k] for k in key])
        .transform("any")
    )
    local_day = start.dt.tz_convert("Asia/Jakarta").dt.date.astype(str)
    incident = local_day.between(eff["incident"]["first_day"], eff["incident"]["last_day"])
    clean = events[before_first_buy & ~retargeted & ~incident]

    table = devices.conversion_by_device(clean, by=personas)
    gap = devices.device_gap(table, strata="persona").iloc[0]
    assert gap["ci_low"] < 0.45 < gap["ci_high"]
    assert 0.15 < gap["log_odds_ratio"] < 0.9
    assert gap["p_value"] < 0.05


def test_synth_device_tables(synth_client):
    eng = synth_client.engine
    share = devices.mobile_share(eng).set_index("event")
    # ~70% of sessions are mobile (planted device mixes); the purchase share on mobile is lower
    # than the page_view share because mobile converts worse
    assert 0.6 < share.loc["page_view", "session_share"] < 0.8
    assert share.loc["purchase", "session_share"] < share.loc["page_view", "session_share"]
    # the incident: checkout_error loops hit mobile sessions only
    assert share.loc["checkout_error", "event_share"] > 0.8
    cross = devices.cross_device(eng).set_index("group")
    # planted: 15-55% of customers per persona use a second device for 25% of sessions
    assert 0.1 < cross.loc["cross_device", "share"] < 0.4
    assisted = devices.mobile_assisted_conversions(eng).iloc[0]
    assert 0 < assisted["mobile_assisted"] < assisted["desktop_conversions"]


def test_device_tables_in_passes_over_customer_ranges_equal_one_query(synth_client, same_in_passes):
    """Above 30M events the device tables run per range of customers and the counts add up:
    session and customer conversion (with and without a segment), cross-device customers and
    mobile-assisted conversions equal one query's, exactly."""
    from journeylib.engine import DuckDBEngine

    engine = DuckDBEngine(synth_client.config.processed_dir)
    ids = engine.query("SELECT DISTINCT customer_id FROM events ORDER BY 1")["customer_id"]
    seg = pd.DataFrame(
        {"customer_id": ids, "tier": ["a", "b", "c"] * (len(ids) // 3) + ["a"] * (len(ids) % 3)}
    )

    def tables() -> list[pd.DataFrame]:
        return [
            devices.conversion_by_device(engine, level="session"),
            devices.conversion_by_device(engine, level="customer"),
            devices.conversion_by_device(engine, level="customer", by=seg),
            devices.cross_device(engine),
            devices.mobile_assisted_conversions(engine, lookback_days=30),
        ]

    parts, calls = same_in_passes(engine, tables)
    assert len(calls) == 5
    # independent totals: sessions and customers counted straight from the events
    sessions = engine.scalar("SELECT COUNT(DISTINCT (customer_id, session_id)) FROM events")
    assert parts[0]["sessions"].sum() == sessions
    assert parts[3]["customers"].sum() == len(ids)
    assert parts[4]["desktop_conversions"].iloc[0] > 10
