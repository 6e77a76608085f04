"""Pain points: the session flags, the scan statistic and the ranked list (journeylib.painpoints)."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from event_frames import frame
from text_tables import same_fields

from journeylib import painpoints as pp
from journeylib.config import ReportSpec
from journeylib.engine import engine_for
from journeylib.stages import StageModel


def _engine(events: pd.DataFrame, orders: pd.DataFrame | None = None):
    events = events.assign(event_seq=np.arange(len(events)), product_id=None, value=None)
    if orders is None:
        orders = pd.DataFrame(
            {
                "order_id": pd.Series(dtype=str),
                "customer_id": pd.Series(dtype=str),
                "ts": pd.Series(dtype="datetime64[us, UTC]"),
                "revenue": pd.Series(dtype=float),
            }
        )
    return engine_for(events=events, orders=orders)


STEPS = pp.PainPointSettings(
    funnel=("view_item", "add_to_cart", "purchase"),
    friction_events=("payment_error",),
    repeat_days=30,
)


def test_session_flags_by_hand():
    day = 24 * 60
    ev = frame(
        [
            # a: views, carts, hits an error, goes back to the cart, buys (a loop via the error)
            ("a", 0, "view_item", "a1"), ("a", 1, "add_to_cart", "a1"),
            ("a", 2, "payment_error", "a1"), ("a", 3, "add_to_cart", "a1"),
            ("a", 4, "purchase", "a1"),
            # a again 10 days later: views only (bought before: yes)
            ("a", 10 * day, "view_item", "a2"),
            # b: views and leaves; buys 40 days later (outside the 30 repeat days)
            ("b", 0, "view_item", "b1"), ("b", 40 * day, "view_item", "b2"),
            ("b", 40 * day + 1, "add_to_cart", "b2"), ("b", 40 * day + 2, "purchase", "b2"),
        ]
    )  # fmt: skip
    counts = pp.session_counts(_engine(ev), settings=STEPS)
    assert counts["sessions"].sum() == 4
    by = {
        (r.device, r.depth, r.converted, r.bought_before): r
        for r in counts.itertuples()
        if r.day == dt.date(2025, 3, 1)
    }
    a1 = counts[(counts["f0"] == 1)].iloc[0]
    # a1 reached view_item and add_to_cart, moved on from both, met payment_error, converted;
    # its deepest step before the conversion step is add_to_cart (2); A -> B -> A over the
    # tracked events: add_to_cart > payment_error > add_to_cart
    assert (a1["r1"], a1["r2"], a1["r3"], a1["m1"], a1["m2"]) == (1, 1, 1, 1, 1)
    assert (a1["depth"], a1["converted"], a1["bought_before"]) == (2, 1, 0)
    assert a1["loop_pair"] == "add_to_cart > payment_error"
    # a1's next purchase: none -> 0 (the 30 days after it lie inside the data: last event day 41)
    assert a1["repeat_buy"] == 0
    # b1: viewed only, did not move on; b bought 40 days later, beyond 30 days -> 0
    b1 = counts[(counts["day"] == dt.date(2025, 3, 1)) & (counts["r2"] == 0)].iloc[0]
    assert (b1["depth"], b1["m1"], b1["converted"], b1["repeat_buy"]) == (1, 0, 0, 0)
    assert len(by) == 2
    # a2 (day 11): bought before; its 30 follow-up days end at day 41 >= last event -> known 0
    a2 = counts[counts["day"] == dt.date(2025, 3, 11)].iloc[0]
    assert (a2["bought_before"], a2["repeat_buy"]) == (1, 0)
    # b2 (day 41): follow-up runs past the data -> unknown
    b2 = counts[counts["day"] == dt.date(2025, 4, 10)].iloc[0]
    assert pd.isna(b2["repeat_buy"]) and b2["converted"] == 1


def test_scan_llr_and_window_by_hand():
    # Poisson: 10 periods of exposure 100, 1 case each, except periods 4-5 with 9 cases each.
    cases = np.array([1, 1, 1, 1, 9, 9, 1, 1, 1, 1], dtype=float)
    base = np.full(10, 100.0)
    w = pp.scan_windows(cases, base, model="poisson", max_len=4, replications=99, seed=1)
    assert (w["start"].iat[0], w["end"].iat[0]) == (4, 5)
    # LLR of the window [4, 5]: C = 26 cases, expected inside E = 26 * 200/1000 = 5.2;
    # c ln(c/E) + (C-c) ln((C-c)/(C-E)) with c = 18
    c, big_c, e = 18.0, 26.0, 5.2
    llr = c * math.log(c / e) + (big_c - c) * math.log((big_c - c) / (big_c - e))
    assert w["llr"].iat[0] == pytest.approx(llr, rel=1e-12)
    assert w["p_value"].iat[0] == pytest.approx(0.01)  # no replication comes close: 1 / 100


def test_scan_bernoulli_llr_by_hand_and_nothing_in_flat_data():
    # 6 days of 20 trials; failures 2 a day except day 3 with 12
    fails = np.array([2, 2, 2, 12, 2, 2], dtype=float)
    trials = np.full(6, 20.0)
    w = pp.scan_windows(fails, trials, model="bernoulli", max_len=2, replications=99, seed=3)
    assert (w["start"].iat[0], w["end"].iat[0]) == (3, 3)

    def ll(x, n):
        p = x / n
        return x * math.log(p) + (n - x) * math.log(1 - p)

    # inside 12/20, outside 10/100, null 22/120
    llr = ll(12, 20) + ll(10, 100) - ll(22, 120)
    assert w["llr"].iat[0] == pytest.approx(llr, rel=1e-12)
    flat = pp.scan_windows(np.full(30, 2.0), np.full(30, 20.0), replications=99, seed=3)
    assert flat.empty


def test_scan_is_seeded():
    rng = np.random.default_rng(0)
    cases = rng.poisson(3, 60).astype(float)
    cases[20:25] += 6
    base = np.full(60, 50.0)
    a = pp.scan_windows(cases, base, model="poisson", seed=5)
    b = pp.scan_windows(cases, base, model="poisson", seed=5)
    pd.testing.assert_frame_equal(a, b)


def test_scan_rejects_bad_input():
    with pytest.raises(ValueError, match="cases <= base"):
        pp.scan_windows([3, 1, 1], [2, 2, 2])
    with pytest.raises(ValueError, match="same length"):
        pp.scan_windows([1, 1], [2, 2, 2])


def test_empty_events_give_no_pain_points():
    empty = frame([("a", 0, "view_item")]).iloc[:0]
    eng = _engine(empty)
    assert pp.session_counts(eng, settings=STEPS).empty
    out = pp.pain_points(eng, settings=STEPS)
    assert out.empty and list(out.columns) == pp.PAIN_POINT_COLUMNS


def _friction_events() -> pd.DataFrame:
    # 40 sessions reach the cart without friction: 20 buy (rate 0.5 at depth 2).
    # 10 sessions reach the cart and meet payment_error: 1 buys -> expected 5, lost 4.
    rows = []
    for i in range(40):
        c = f"n{i}"
        rows += [(c, i, "view_item", c), (c, i + 0.1, "add_to_cart", c)]
        if i < 20:
            rows.append((c, i + 0.2, "purchase", c))
    for i in range(10):
        c = f"e{i}"
        rows += [(c, i, "view_item", c), (c, i + 0.1, "add_to_cart", c)]
        rows.append((c, i + 0.15, "payment_error", c))
        if i == 0:
            rows.append((c, i + 0.2, "purchase", c))
    return frame(rows)


def test_friction_cost_against_sessions_as_deep(monkeypatch):
    # 40 sessions reach the cart without friction: 20 buy (rate 0.5 at depth 2).
    # 10 sessions reach the cart and meet payment_error: 1 buys -> expected 5, lost 4.
    eng = _engine(_friction_events())
    out = pp.pain_points(eng, settings=STEPS, min_customers=1)
    fr = out[out["kind"] == "friction"].iloc[0]
    assert fr["event"] == "payment_error"
    assert fr["customers"] == 10 and fr["sessions"] == 10
    # no session has a repeat-purchase follow-up inside the data (all on one day): only the
    # in-session loss counts
    assert fr["conversions_at_stake"] == pytest.approx(5 - 1)
    # severity: per 30 days active, a one-day period counts as 7 days
    assert fr["severity"] == pytest.approx(4 * 30 / 7)


def test_friction_title_and_evidence_in_each_language():
    # the friction case above: 10 sessions met payment_error, 1 converted against 0.5 x 10 = 5
    # expected; all on one day, so no repeat-purchase follow-up: 0 bought again, 0 expected
    eng = _engine(_friction_events())

    def friction(**kw):
        out = pp.pain_points(eng, settings=STEPS, min_customers=1, **kw)
        return out[out["kind"] == "friction"].iloc[0]

    # without a report: English with plain numbers, as before
    plain = friction()
    assert plain["title"] == "payment error"
    assert plain["evidence"] == (
        "10 sessions met payment error: 1 converted against 5.0 expected of sessions as far in "
        "the funnel; 0 bought again within 30 days against 0.0 expected"
    )
    # an English report: its number formats (decimal comma by default)
    assert friction(report=ReportSpec())["evidence"] == (
        "10 sessions met payment error: 1 converted against 5,0 expected of sessions as far in "
        "the funnel; 0 bought again within 30 days against 0,0 expected"
    )
    # Bahasa Indonesia: same numbers, Indonesian words; the event name is client data
    indonesian = friction(report=ReportSpec(language="id"))
    assert indonesian["title"] == "payment error"
    assert indonesian["evidence"] == (
        "10 sesi mengalami payment error: 1 berkonversi dibanding 5,0 yang diharapkan dari sesi "
        "yang sama jauhnya di funnel; 0 membeli lagi dalam 30 hari dibanding 0,0 yang diharapkan"
    )
    # the numbers themselves do not depend on the language
    cols = ["customers", "sessions", "observed_rate", "expected_rate", "conversions_at_stake"]
    assert indonesian[cols].tolist() == plain[cols].tolist()


def test_abandonment_against_the_benchmark_in_indonesian():
    # 10 customers view and cart once, nobody buys: 10 of 10 carts lost (100%) against the 70%
    # benchmark -> 10 - 0.7 x 10 = 3 carts beyond it; recovery window: the default 7 days
    rows = []
    for i in range(10):
        c = f"c{i}"
        rows += [(c, i, "view_item", c), (c, i + 0.1, "add_to_cart", c)]
    out = pp.pain_points(
        _engine(frame(rows)), settings=STEPS, min_customers=1, report=ReportSpec(language="id")
    )
    row = out[out["kind"] == "abandonment"].iloc[0]
    assert row["conversions_at_stake"] == pytest.approx(3.0)
    assert row["customers"] == 10
    assert row["title"] == "keranjang ditinggalkan"
    assert row["evidence"] == (
        "10 dari 10 keranjang hilang (100,0%: tidak dibeli dalam sesi itu maupun dalam 7 hari), "
        "dibanding tolok ukur 70,0%"
    )


def test_pain_point_titles_from_their_fields():
    # the client report rebuilds each title from kind, step, event, device and stage
    incident = {"kind": "incident", "step": "add_to_cart > begin_checkout", "device": "mobile"}
    surge = {"kind": "incident", "step": pd.NA, "event": "payment_error", "device": "desktop"}
    loop = {"kind": "loop", "step": "view_item > add_to_cart"}
    slow = {"kind": "slow_step", "step": "begin_checkout"}
    unhappy = {"kind": "negative_sentiment", "stage": "decision"}
    abandoned = {"kind": "abandonment", "step": "add_to_cart"}
    labels = {"decision": "Keputusan"}
    title = pp.pain_point_title
    assert title(incident) == "add to cart → begin checkout broke on mobile"
    assert title(incident, language="id") == "add to cart → begin checkout terganggu di mobile"
    assert title(surge, language="id") == "payment error melonjak di desktop"
    assert title(loop) == "back and forth view item → add to cart → view item"
    assert title(loop, language="id") == "bolak-balik view item → add to cart → view item"
    assert title(slow, language="id") == "lama di begin checkout"
    assert title(abandoned, language="id") == "keranjang ditinggalkan"
    # a stage is named by its label where one is given, else in words
    assert title(unhappy) == "unhappy customers at decision"
    assert title(unhappy, language="id", labels=labels) == "pelanggan tidak puas di tahap Keputusan"
    # an unknown language falls back to English
    assert title(slow, language="fr") == "long time at begin checkout"


def test_plots_write_data_built_text_in_the_report_language():
    eng = _engine(_friction_events())
    points = pp.pain_points(eng, settings=STEPS, min_customers=1, report=ReportSpec(language="id"))
    fig = pp.plot_pain_points(points, language="id", labels={"decision": "Keputusan"})
    bar = fig.data[0]
    # one bar per pain point, "rank. title (stage label)", the worst at the top
    assert list(bar.y)[-1] == "1. payment error (Keputusan)"
    assert "konversi per 30 hari" in bar.hovertemplate and "pelanggan" in bar.hovertemplate
    # fixed titles stay English for the phrase catalogue
    assert fig.layout.title.text == "Pain points by severity"
    daily = pd.DataFrame(
        {"day": [dt.date(2025, 3, 1)], "device": ["mobile"], "step": ["add_to_cart"],
         "reached": [10], "conversion": [0.5]}
    )  # fmt: skip
    fig = pp.plot_step_conversion_daily(daily, step="add_to_cart", language="id")
    assert fig.layout.title.text == "Konversi harian dari add_to_cart"
    assert "dari %{customdata} sesi" in fig.data[0].hovertemplate
    en = pp.plot_step_conversion_daily(daily, step="add_to_cart")
    assert en.layout.title.text == "Daily conversion from add_to_cart"


def test_synthetic_incident_is_the_top_pain_point(synth_client):
    """The planted incident (mobile checkout broken for 10 days) ranks first, at the decision
    stage, on mobile, with its window found to the day (local calendar days)."""
    cfg = synth_client.config
    model = StageModel.from_config(cfg)
    settings = pp.PainPointSettings.from_config(cfg)
    out = pp.pain_points(
        synth_client.engine, model=model, settings=settings, timezone=cfg.data.timezone
    )
    inc = synth_client.effects["incident"]
    top = out.iloc[0]
    assert top["kind"] == "incident"
    assert top["stage"] == "decision"
    assert top["device"] == inc["device"]
    assert top["event"] == inc["event"]
    first, last = dt.date.fromisoformat(inc["first_day"]), dt.date.fromisoformat(inc["last_day"])
    assert abs((top["window_start"] - first).days) <= 1
    assert abs((top["window_end"] - last).days) <= 1
    # planted: 10% of would-be purchases complete; about half of the sessions reaching
    # begin_checkout buy on other days, so most of the window's expected purchases are lost
    assert top["observed_rate"] < 0.2 < 0.35 < top["expected_rate"]
    assert top["conversions_at_stake"] > 5


def test_sessions_and_pain_points_in_passes_over_customer_ranges_equal_one_query(
    synth_client, same_in_passes
):
    """Above CUSTOMER_PASS_EVENTS the session table is built per range of customers and the
    customers behind each pain point are added up over the ranges: the counts and the pain
    points are the same, exactly; a friction pain point's customers are those with that event
    in the events themselves (a count independent of the session table)."""
    from journeylib.engine import DuckDBEngine

    cfg = synth_client.config
    model = StageModel.from_config(cfg)
    settings = pp.PainPointSettings.from_config(cfg)

    def make():
        engine = DuckDBEngine(cfg.processed_dir)  # a fresh engine: no session table kept
        counts = pp.session_counts(
            engine, model=model, settings=settings, timezone=cfg.data.timezone
        )
        points = pp.pain_points(
            engine, model=model, settings=settings, timezone=cfg.data.timezone, counts=counts
        )
        # the table was built in passes under another name, renamed at the end; no other left
        left = engine.query("SELECT table_name FROM duckdb_tables() WHERE temporary")
        assert len(left) == 1 and left["table_name"].iat[0].startswith("_painpoint_sessions_")
        return [counts, points]

    (counts, points), _ = same_in_passes(synth_client.engine, make)
    assert points["customers"].gt(0).all() and len(points) >= 3
    events = synth_client.engine.query("SELECT customer_id, event FROM events")
    friction = points[points["kind"] == "friction"]
    assert len(friction)
    for r in friction.itertuples():
        want = events.loc[events["event"] == r.event, "customer_id"].nunique()
        assert r.customers == want, r.event


def test_every_text_exists_in_both_languages_with_thesame_fields():
    same_fields(pp._TEXT)
    same_fields(pp._PLOT_TEXT)
