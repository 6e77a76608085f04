"""journeylib.voice: NPS/CSAT statistics, feedback in its journey context, drivers, paths.

Expected numbers are worked out by hand in the comments (or by an independent reference in the
test); the synthetic test checks that the planted causes of low NPS come out as drivers.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from text_tables import same_fields

from journeylib import voice
from journeylib.engine import engine_for
from journeylib.io import empty_table
from journeylib.stages import StageModel

T0 = pd.Timestamp("2025-03-03 10:00", tz="UTC")  # a Monday
Z = 1.959963984540054  # normal quantile of a two-sided 95% interval


def t(days: float, minutes: float = 0) -> pd.Timestamp:
    return T0 + pd.Timedelta(days=days, minutes=minutes)


def events_frame(rows: list[tuple]) -> pd.DataFrame:
    """Events from (customer, session, ts, event[, channel, device]) rows."""
    full = [(*r, *(None,) * (6 - len(r))) for r in rows]
    df = pd.DataFrame(
        full, columns=["customer_id", "session_id", "ts", "event", "channel", "device"]
    )
    df["ts"] = df["ts"].astype("datetime64[us, UTC]")
    df["channel"] = df["channel"].fillna("direct")
    df["device"] = df["device"].fillna("mobile")
    return df.astype(
        {c: "string" for c in ("customer_id", "session_id", "event", "channel", "device")}
    )


def feedback_frame(rows: list[tuple]) -> pd.DataFrame:
    """Feedback from (customer, ts, kind, score[, text, touchpoint, channel]) rows."""
    full = [(*r, *(None,) * (7 - len(r))) for r in rows]
    cols = ["customer_id", "ts", "kind", "score", "text", "touchpoint", "channel"]
    df = pd.DataFrame(full, columns=cols)
    df["ts"] = df["ts"].astype("datetime64[us, UTC]")
    df["score"] = df["score"].astype("float64")
    return df.astype({c: "string" for c in cols if c not in ("ts", "score")})


def orders_frame(rows: list[tuple]) -> pd.DataFrame:
    """Orders from (customer, order_id, ts) rows (one line each)."""
    df = pd.DataFrame(rows, columns=["customer_id", "order_id", "ts"])
    df["ts"] = df["ts"].astype("datetime64[us, UTC]")
    df["product_id"], df["quantity"], df["revenue"] = "sku", 1.0, 100.0
    return df


# ---- NPS, CSAT, reviews ----------------------------------------------------------------------
def test_nps_summary_by_hand():
    # 10 answers: promoters (9-10) 10, 9, 10, 9, 10 = 5; passives (7-8) 8, 7 = 2;
    # detractors (0-6) 6, 3, 0 = 3. NPS = 100 x (5/10 - 3/10) = 20.
    # Var = [pP(1-pP) + pD(1-pD) + 2 pP pD] / n = [.25 + .21 + .30] / 10 = .076,
    # se = 100 sqrt(.076) = 27.568 points, CI = 20 +/- 1.96 x 27.568 = (-34.03, 74.03).
    scores = [10, 9, 8, 7, 6, 3, 10, 0, 9, 10]
    s = nps_summary = voice.nps_summary(scores)
    assert (s["n"], s["promoters"], s["passives"], s["detractors"]) == (10, 5, 2, 3)
    assert s["promoter_share"] == pytest.approx(0.5) and s["detractor_share"] == pytest.approx(0.3)
    assert s["nps"] == pytest.approx(20.0)
    assert s["nps_se"] == pytest.approx(100 * math.sqrt(0.076))
    assert s["nps_low"] == pytest.approx(20 - Z * 100 * math.sqrt(0.076))
    assert s["nps_high"] == pytest.approx(74.03, abs=0.01)
    # independent reference: the variance of the +1 / 0 / -1 variable, over n
    x = np.array([1 if v >= 9 else -1 if v <= 6 else 0 for v in scores])
    assert nps_summary["nps_se"] == pytest.approx(100 * math.sqrt(x.var() / len(x)))


def test_nps_summary_edges():
    # all promoters: NPS 100, and the Wald interval has zero width (documented)
    s = voice.nps_summary([9, 10, 10])
    assert s["nps"] == 100 and s["nps_low"] == 100 and s["nps_high"] == 100
    # missing answers are ignored; none left: n = 0 and NaN statistics
    e = voice.nps_summary([np.nan, None])
    assert e["n"] == 0 and math.isnan(e["nps"]) and math.isnan(e["nps_low"])
    # 6.5 lies between the bands' integer limits: a passive
    assert voice.nps_summary([6.5])["passives"] == 1


def test_scores_off_the_scale_are_refused_by_position_not_value():
    with pytest.raises(ValueError, match=r"2 score\(s\).*positions \[1, 3\]") as err:
        voice.nps_summary([5, 11, 0, -1])
    assert "11" not in str(err.value).split("positions")[0].replace("0-10", "")
    with pytest.raises(ValueError, match="csat scores must be numbers from 1 to 5"):
        voice.csat_summary([5, 0])
    with pytest.raises(ValueError, match="positions \\[1\\]"):
        voice.review_summary([4, "five"])


def test_csat_and_review_summary_wilson_by_hand():
    # 5 answers, 3 of them 4-5: top-2-box share .6, mean (5+4+4+3+1)/5 = 3.4.
    # Wilson: z^2 = 3.8415, denom = 1 + z^2/5 = 1.7683, centre = (.6 + z^2/10)/denom = .55655,
    # half = z sqrt(.6 x .4/5 + z^2/100)/denom = 1.96 x .29397/1.7683 = .32584 -> (.2307, .8824)
    s = voice.csat_summary([5, 4, 4, 3, 1])
    assert (s["n"], s["top2"]) == (5, 3)
    assert s["mean_score"] == pytest.approx(3.4) and s["top2_share"] == pytest.approx(0.6)
    assert s["top2_low"] == pytest.approx(0.2307, abs=1e-4)
    assert s["top2_high"] == pytest.approx(0.8824, abs=1e-4)
    r = voice.review_summary([5, 5])  # all 4-5 stars: Wilson's upper end is 1, lower end < 1
    assert r["top2_share"] == 1 and r["top2_high"] == pytest.approx(1) and r["top2_low"] < 0.5


def test_nps_by_matches_the_summary_of_each_group():
    frame = pd.DataFrame(
        {
            "device": ["mobile"] * 5 + ["desktop"] * 4 + [None],
            "score": [10, 9, 3, 7, np.nan, 0, 1, 9, 8, 10],
        }
    )
    before = frame.copy()
    out = voice.nps_by(frame, "device")
    pd.testing.assert_frame_equal(frame, before)  # input untouched
    assert len(out) == 3  # one row per group, the missing device its own group
    for _, row in out.iterrows():
        part = frame.loc[
            frame["device"].isna() if pd.isna(row["device"]) else frame["device"].eq(row["device"])
        ]
        ref = voice.nps_summary(part["score"])
        for col in ("n", "promoters", "detractors", "nps", "nps_low", "nps_high"):
            assert row[col] == pytest.approx(ref[col])


def test_bands_and_normalised_satisfaction():
    kind = pd.Series(["nps", "nps", "nps", "csat", "csat", "review", "review", "social", "nps"])
    score = pd.Series([10, 7, 6, 4, 3, 2, 5, np.nan, np.nan])
    band = voice.feedback_bands(kind, score)
    expected = ["promoter", "passive", "detractor", "positive", "neutral", "negative", "positive"]
    assert band.tolist()[:7] == expected
    assert band.iloc[7:].isna().all()  # social posts and missing scores have no band
    sat = voice.normalised_satisfaction(kind, score)
    # nps (score - 5)/5, csat and review (score - 3)/2
    assert sat.tolist()[:7] == pytest.approx([1.0, 0.4, 0.2, 0.5, 0.0, -0.5, 1.0])
    assert sat.iloc[7:].isna().all()


# ---- feedback in context -----------------------------------------------------------------------
CONTEXT_EVENTS = [
    # a browses on desktop from an e-mail, buys two days later on mobile from WhatsApp ...
    ("a", "a-1", t(0), "page_view", "email", "desktop"),
    ("a", "a-1", t(0, 5), "view_item", "email", "desktop"),
    ("a", "a-2", t(2), "add_to_cart", "whatsapp", "mobile"),
    ("a", "a-2", t(2, 10), "purchase", "whatsapp", "mobile"),
    # ... and refers a friend from a tablet (social) after answering the NPS survey
    ("a", "a-3", t(5), "refer_friend", "social", "tablet"),
    # d reviews in the middle of a visit, before buying in the same visit
    ("d", "d-1", t(1), "view_item", "paid_search", "mobile"),
    ("d", "d-1", t(1, 10), "purchase", "paid_search", "mobile"),
    # e's only visit was 40 days before the answer
    ("e", "e-1", t(-40), "view_item", "direct", "desktop"),
]
CONTEXT_FEEDBACK = [
    ("a", t(3), "nps", 3.0, "late delivery", "delivery"),
    ("a", t(6), "review", 5.0, "great", "product"),
    ("b", t(2), "csat", 2.0, None, "customer_service", "offline_store"),
    ("c", t(1), "social", None, "app crashed", "app"),
    ("d", t(1, 5), "review", 3.0),
    ("e", t(0), "nps", 9.0),
]
CONTEXT_ORDERS = [("a", "o-a", t(2, 10)), ("b", "o-b", t(1)), ("d", "o-d", t(1, 10))]


def context_engine(extra_events=(), extra_feedback=(), extra_orders=(), **tables):
    return engine_for(
        events=events_frame([*CONTEXT_EVENTS, *extra_events]),
        feedback=feedback_frame([*CONTEXT_FEEDBACK, *extra_feedback]),
        orders=orders_frame([*CONTEXT_ORDERS, *extra_orders]),
        **tables,
    )


def test_feedback_context_stage_channel_device_at_the_time_of_the_feedback():
    ctx = voice.feedback_context(context_engine(), StageModel())
    assert list(ctx.columns) == list(voice.CONTEXT_COLUMNS)
    assert len(ctx) == len(CONTEXT_FEEDBACK)  # grain: one row per feedback row
    got = ctx.set_index(["customer_id", "kind"])
    # a's NPS (day 3): furthest stage so far is decision (the purchase on day 2); the last visit
    # before it is a-2, so WhatsApp on mobile; the refer_friend visit comes later
    row = got.loc[("a", "nps")]
    assert (row["stage"], row["stage_no"], row["channel"], row["device"]) == (
        "decision", 3, "whatsapp", "mobile"
    )  # fmt: skip
    assert (row["channel_source"], row["band"], row["sat"]) == ("session", "detractor", -0.4)
    # a's review (day 6): refer_friend (day 5) reached advocacy, from the tablet visit
    row = got.loc[("a", "review")]
    assert (row["stage"], row["channel"], row["device"]) == ("advocacy", "social", "tablet")
    # b: no visit, an offline order the day before; the CSAT answer names its own channel
    row = got.loc[("b", "csat")]
    assert (row["stage"], row["channel"], row["channel_source"]) == (
        "decision", "offline_store", "feedback"
    )  # fmt: skip
    assert pd.isna(row["device"]) and row["band"] == "negative"
    # c: a social post before any stage signal: no score, band, satisfaction or visit
    row = got.loc[("c", "social")]
    assert (row["stage"], row["stage_no"]) == (voice.NO_STAGE, 0)
    assert pd.isna(row["band"]) and math.isnan(row["sat"]) and pd.isna(row["channel"])
    # d: the review comes 5 minutes into the visit, before its purchase: still consideration
    row = got.loc[("d", "review")]
    assert (row["stage"], row["channel"], row["band"], row["sat"]) == (
        "consideration", "paid_search", "neutral", 0.0
    )  # fmt: skip
    # e: the answer (a promoter's, itself an advocacy signal) does not count for its own stage;
    # the only visit started 40 days earlier, outside the 30-day look-back
    row = got.loc[("e", "nps")]
    assert row["stage"] == "consideration" and row["band"] == "promoter"
    assert pd.isna(row["channel"]) and pd.isna(row["device"])
    # no persona table: the persona columns are there, all missing
    assert ctx["persona"].isna().all() and ctx["persona_label"].isna().all()


def test_feedback_context_lookback_as_of_and_personas():
    personas = pd.DataFrame(
        {"customer_id": ["a", "b"], "persona": [1, 2], "persona_label": ["Bargain", "Loyal"]}
    )
    engine = context_engine(persona_assignments=personas)
    ctx = voice.feedback_context(engine, StageModel(), lookback_days=None)
    e = ctx.loc[ctx["customer_id"].eq("e")].iloc[0]
    assert (e["channel"], e["device"]) == ("direct", "desktop")  # no look-back limit
    got = ctx.set_index("customer_id")
    assert got.loc["b", "persona"] == 2 and got.loc["b", "persona_label"] == "Loyal"
    assert pd.isna(got.loc["c", "persona"])  # not in the table
    # as_of 2025-03-05 keeps feedback before 2025-03-06 00:00 UTC: b (day 2), c, d (day 1), e
    cut = voice.feedback_context(engine, StageModel(), as_of="2025-03-05")
    assert sorted(cut["customer_id"]) == ["b", "c", "d", "e"]


def test_feedback_context_ignores_everything_after_each_row():
    base = voice.feedback_context(context_engine(), StageModel())
    # later visits, orders and feedback for every customer (after the last feedback, day 6)
    later = context_engine(
        extra_events=[
            ("a", "a-9", t(20), "purchase", "display", "desktop"),
            ("c", "c-9", t(20), "refer_friend", "email", "desktop"),
            ("e", "e-9", t(20), "add_to_cart", "email", "tablet"),
        ],
        extra_feedback=[("c", t(21), "nps", 10.0), ("b", t(22), "review", 5.0)],
        extra_orders=[("e", "o-e", t(20)), ("b", "o-b2", t(21))],
    )
    with_later = voice.feedback_context(later, StageModel())
    assert len(with_later) == len(base) + 2
    keys = ["customer_id", "ts", "kind"]
    same = with_later.merge(base[keys], on=keys).reset_index(drop=True)
    pd.testing.assert_frame_equal(same, base)
    # cut at day 10, the later rows are not even read
    pd.testing.assert_frame_equal(
        voice.feedback_context(later, StageModel(), as_of="2025-03-13"), base
    )


# ---- satisfaction by group and over time -------------------------------------------------------
def small_context() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "kind": ["nps", "nps", "nps", "nps", "csat", "csat", "review", "social"],
            "score": [10, 9, 3, 8, 5, 2, 4, np.nan],
            "channel": ["email", "email", "email", None, "email", "email", "whatsapp", "email"],
        }
    )


def test_satisfaction_by_channel_by_hand():
    ctx = small_context()
    before = ctx.copy()
    out = voice.satisfaction_by(ctx, "channel", min_n=3)
    pd.testing.assert_frame_equal(ctx, before)
    key = out.set_index(["kind", "channel"])
    # email NPS: 10, 9 promoters, 3 detractor -> 100 x (2 - 1)/3 = 33.3; n = 3 is not small
    row = key.loc[("nps", "email")]
    assert (row["n"], row["promoters"], row["detractors"]) == (3, 2, 1)
    assert row["nps"] == pytest.approx(100 / 3) and not row["small"]
    assert row["mean_score"] == pytest.approx(22 / 3)
    assert row["mean_sat"] == pytest.approx((1.0 + 0.8 - 0.4) / 3)  # (score - 5)/5
    assert math.isnan(row["top2_share"])  # a CSAT/review field
    # the answer without a channel: its own group, one passive -> NPS 0, flagged small
    row = key.loc[("nps", voice.UNKNOWN)]
    assert (row["n"], row["nps"], bool(row["small"])) == (1, 0.0, True)
    # CSAT 5 and 2 by e-mail: mean 3.5, one of two in the top-2 box
    row = key.loc[("csat", "email")]
    assert (row["n"], row["mean_score"], row["top2"], row["top2_share"]) == (2, 3.5, 1, 0.5)
    assert math.isnan(row["nps"])
    # kind "all": every scored answer on the -1..1 scale; social posts carry no score
    row = key.loc[("all", "email")]
    assert row["n"] == 5 and row["mean_sat"] == pytest.approx((1 + 0.8 - 0.4 + 1 - 0.5) / 5)
    assert math.isnan(row["mean_score"])
    assert "social" not in set(out["kind"])
    # order: kinds nps, csat, review, all; most answers first within a kind
    assert out["kind"].tolist() == ["nps", "nps", "csat", "review", "all", "all", "all"]
    overall = voice.satisfaction_by(ctx, None)
    assert overall.set_index("kind").loc["nps", "nps"] == pytest.approx(25.0)  # (2 - 1)/4


def test_satisfaction_by_stage_follows_the_journey_order():
    ctx = pd.DataFrame(
        {
            "kind": ["nps"] * 4,
            "score": [10, 0, 9, 5],
            "stage_no": [5, 3, 0, 3],
            "stage": ["advocacy", "decision", voice.NO_STAGE, "decision"],
        }
    )
    out = voice.satisfaction_by(ctx, "stage")
    nps = out.loc[out["kind"].eq("nps")]
    assert nps["stage"].tolist() == [voice.NO_STAGE, "decision", "advocacy"]
    assert nps["nps"].tolist() == [100.0, -100.0, 100.0]
    with pytest.raises(ValueError, match="by must be one of"):
        voice.satisfaction_by(ctx, "region")


def test_satisfaction_over_time_uses_the_client_calendar():
    ctx = pd.DataFrame(
        {
            # Sunday 2025-03-09 20:00 UTC is Monday 03:00 in Jakarta (UTC+7)
            "ts": pd.to_datetime(["2025-03-09 20:00", "2025-03-10 09:00"], utc=True),
            "kind": ["nps", "nps"],
            "score": [10, 0],
        }
    )
    utc = voice.satisfaction_over_time(ctx, "week")
    nps = utc.loc[utc["kind"].eq("nps")]
    assert nps["period"].tolist() == [pd.Timestamp("2025-03-03"), pd.Timestamp("2025-03-10")]
    assert nps["nps"].tolist() == [100.0, -100.0]
    local = voice.satisfaction_over_time(ctx, "week", tz="Asia/Jakarta")
    row = local.loc[local["kind"].eq("nps")].iloc[0]
    assert (row["period"], row["n"], row["nps"]) == (pd.Timestamp("2025-03-10"), 2, 0.0)
    month = voice.satisfaction_over_time(ctx, "month")
    assert month["period"].unique().tolist() == [pd.Timestamp("2025-03-01")]


# ---- detractor drivers -------------------------------------------------------------------------
def drivers_engine():
    answer = t(30)
    scores = {"D1": 2, "D2": 4, "D3": 5, "D4": 6, "P1": 9, "P2": 10, "P3": 9, "P4": 10, "P5": 9}
    scores |= {"M1": 7, "M2": 8}
    feedback = [(c, answer, "nps", float(s)) for c, s in scores.items()]
    feedback.append(("D1", answer, "csat", 1.0))  # other kinds are not NPS answers
    events = [(c, f"{c}-1", t(25), "browse") for c in scores]
    events += [(c, f"{c}-2", t(29), "late") for c in ("D1", "D2", "D3", "P1")]
    events += [("P2", "P2-3", answer, "late")]  # at the answer itself: not before it
    events += [("P3", "P3-3", t(-1), "late")]  # 31 days before: outside the look-back
    engine = engine_for(
        events=events_frame(events),
        feedback=feedback_frame(feedback),
        orders=orders_frame([]),
    )
    return engine, voice.feedback_context(engine, StageModel())


def test_detractor_drivers_lift_by_hand():
    engine, ctx = drivers_engine()
    before = ctx.copy()
    out = voice.detractor_drivers(engine, ctx, min_support=1)
    pd.testing.assert_frame_equal(ctx, before)
    assert out["event"].tolist() == ["late", "browse"]  # sorted by lift
    late = out.set_index("event").loc["late"]
    # "late" precedes 3 of 4 detractors (D1-D3) and 1 of 5 promoters (P1; P2's is at the answer,
    # P3's 31 days before): lift = (3/4)/(1/5) = 3.75, difference .75 - .2 = .55
    assert (late["detractors_with"], late["detractors"]) == (3, 4)
    assert (late["promoters_with"], late["promoters"]) == (1, 5)
    assert late["lift"] == pytest.approx(3.75) and late["difference"] == pytest.approx(0.55)
    assert not late["corrected"] and late["rank"] == 1
    # Katz: se(log lift) = sqrt(1/3 - 1/4 + 1/1 - 1/5) = .93986 -> 3.75 exp(-/+ 1.96 x .93986)
    se = math.sqrt(1 / 3 - 1 / 4 + 1 - 1 / 5)
    assert late["lift_low"] == pytest.approx(3.75 * math.exp(-Z * se))  # 0.594
    assert late["lift_high"] == pytest.approx(3.75 * math.exp(Z * se))  # 23.7
    # Fisher: P(a = k) = C(4,k) C(5,4-k) / C(9,4) = (5, 40, 60, 20, 1)/126 for k = 0..4; the
    # two-sided p-value sums the tables as unlikely as a = 3: (5 + 20 + 1)/126
    assert late["p_value"] == pytest.approx(26 / 126)
    # NPS of the 4 answers after "late": 1 promoter, 3 detractors -> -50; of the other 7
    # (P2-P5, D4, M1, M2): 4 promoters, 1 detractor -> 100 x 3/7
    assert (late["n_with"], late["nps_with"]) == (4, -50.0)
    assert (late["n_without"], late["nps_without"]) == (7, pytest.approx(300 / 7))
    # "browse" precedes every answer: empty cells, so 0.5 is added to each (Haldane):
    # (4.5/5)/(5.5/6) = 0.9818; nobody is without it
    browse = out.set_index("event").loc["browse"]
    assert browse["corrected"] and browse["lift"] == pytest.approx(0.9 / (5.5 / 6))
    assert browse["n_without"] == 0 and math.isnan(browse["nps_without"])
    assert browse["nps_with"] == pytest.approx(100 * (5 - 4) / 11)


def test_detractor_drivers_options():
    engine, ctx = drivers_engine()
    # no look-back limit: P3's old "late" counts too -> (3/4)/(2/5) = 1.875
    unlimited = voice.detractor_drivers(engine, ctx, lookback_days=None, min_support=1)
    assert unlimited.set_index("event").loc["late", "lift"] == pytest.approx(1.875)
    # default support, 10 answers: only "browse" (before all 11) is ranked; "late" (4) is
    # listed after it, unranked
    default = voice.detractor_drivers(engine, ctx)
    assert default["event"].tolist() == ["browse", "late"]
    assert default["supported"].tolist() == [True, False]
    assert default["rank"].tolist() == [1, pd.NA]
    # listed events that never precede an answer get a row of zeros (lift 1.2 after Haldane)
    listed = voice.detractor_drivers(engine, ctx, events=["late", "refund"], min_support=1)
    refund = listed.set_index("event").loc["refund"]
    assert (refund["n_with"], refund["corrected"]) == (0, True)
    assert refund["lift"] == pytest.approx((0.5 / 5) / (0.5 / 6))
    with pytest.raises(ValueError, match="lookback_days"):
        voice.detractor_drivers(engine, ctx, lookback_days=-1)


# ---- satisfaction by path ----------------------------------------------------------------------
def paths_engine():
    visit = [("page_view", 0), ("view_item", 1), ("view_item", 2), ("add_to_cart", 3)]
    visit += [("view_item", 4), ("purchase", 5)]
    events = []
    for c in ("p", "q"):
        events.append((c, f"{c}-0", t(-2), "search"))  # an earlier visit: not the last one
        events += [(c, f"{c}-1", t(0, m), e) for e, m in visit]
    # r answers a CSAT survey in the middle of a visit; contact_support comes after the answer
    events += [("r", "r-1", t(0), "view_item"), ("r", "r-1", t(0, 1), "delivery_late")]
    events += [("r", "r-1", t(0, 3), "contact_support")]
    events += [("u", "u-1", t(0), "page_view")]
    feedback = [
        ("p", t(1), "nps", 10.0),  # sat 1.0
        ("q", t(1), "nps", 4.0),  # sat -0.2
        ("r", t(0, 2), "csat", 1.0),  # sat -1.0
        ("s", t(1), "review", 4.0),  # no visit at all; sat 0.5
        ("u", t(1), "review", 5.0),  # sat 1.0
    ]
    engine = engine_for(
        events=events_frame(events), feedback=feedback_frame(feedback), orders=orders_frame([])
    )
    return engine, voice.feedback_context(engine, StageModel())


def test_satisfaction_by_path_by_hand():
    engine, ctx = paths_engine()
    out = voice.satisfaction_by_path(engine, ctx, min_n=2)
    got = out.set_index("variant")
    # p and q: each event once in order of first occurrence (the repeated view_item too)
    funnel = "page_view > view_item > add_to_cart > purchase"
    row = got.loc[funnel]
    assert (row["n"], row["n_steps"], row["n_nps"]) == (2, 4, 2)
    assert row["mean_sat"] == pytest.approx((1.0 - 0.2) / 2)
    assert row["nps"] == 0.0  # one promoter, one detractor
    assert got.loc["view_item > delivery_late", "mean_sat"] == -1.0  # not contact_support
    assert got.loc[voice.NO_SESSION, "n"] == 1 and pd.isna(got.loc[voice.NO_SESSION, "n_steps"])
    assert got.loc["page_view", "mean_sat"] == 1.0
    assert out["variant"].iloc[0] == funnel  # most answers first
    assert out["n"].sum() == 5 and out["share"].sum() == pytest.approx(1.0)
    assert out["small"].tolist() == [False, True, True, True]
    assert math.isnan(got.loc["page_view", "nps"])  # no NPS answer there


def test_satisfaction_by_path_options():
    engine, ctx = paths_engine()
    # repeats in a row collapsed only: the loop back to view_item stays; last 2 events shown
    cut = voice.satisfaction_by_path(engine, ctx, distinct=False, steps=2)
    assert cut["variant"].iloc[0] == "… > view_item > purchase"
    assert "view_item > delivery_late" in set(cut["variant"])  # exactly 2 events: no cut
    # key events only: u's visit has none of them
    keyed = voice.satisfaction_by_path(engine, ctx, events=["purchase", "delivery_late"])
    assert set(keyed["variant"]) == {"purchase", "delivery_late", voice.NO_SESSION, voice.NO_EVENTS}
    # top 1 variant, the other three answers pooled: mean of -1.0, 0.5, 1.0
    top = voice.satisfaction_by_path(engine, ctx, top_n=1)
    assert top["variant"].tolist() == ["page_view > view_item > add_to_cart > purchase", "(other)"]
    other = top.iloc[1]
    assert other["n"] == 3 and other["mean_sat"] == pytest.approx(0.5 / 3)
    assert other["n_nps"] == 0 and math.isnan(other["nps"]) and pd.isna(other["n_steps"])


# ---- no feedback at all ------------------------------------------------------------------------
def test_empty_feedback_gives_empty_tables_with_their_columns():
    engine = engine_for(
        events=events_frame(CONTEXT_EVENTS),
        feedback=empty_table("feedback"),
        orders=empty_table("orders"),
    )
    ctx = voice.feedback_context(engine, StageModel())
    assert ctx.empty and list(ctx.columns) == list(voice.CONTEXT_COLUMNS)
    assert ctx["ts"].dtype == "datetime64[us, UTC]" and ctx["sat"].dtype == "float64"
    by = voice.satisfaction_by(ctx, "stage")
    assert by.empty and {"kind", "stage", "nps", "top2_share", "small"} <= set(by.columns)
    assert voice.satisfaction_by(ctx, "persona").columns[1] == "persona"
    over = voice.satisfaction_over_time(ctx, "month")
    assert over.empty and "period" in over.columns
    drivers = voice.detractor_drivers(engine, ctx)
    assert drivers.empty and {"event", "lift", "lift_low", "p_value"} <= set(drivers.columns)
    paths = voice.satisfaction_by_path(engine, ctx)
    assert paths.empty and {"variant", "n", "mean_sat", "nps"} <= set(paths.columns)
    for fig in (
        voice.plot_nps_by(by),
        voice.plot_satisfaction_over_time(over),
        voice.plot_detractor_drivers(drivers),
    ):
        assert isinstance(fig, go.Figure)


def test_plots_draw_their_tables():
    ctx = small_context()
    fig = voice.plot_nps_by(voice.satisfaction_by(ctx, "channel"))
    assert list(fig.data[0].x) == ["email", voice.UNKNOWN]  # the nps rows only
    engine, dctx = drivers_engine()
    drivers = voice.detractor_drivers(engine, dctx, min_support=1)
    fig = voice.plot_detractor_drivers(drivers)
    assert list(fig.data[0].y) == ["browse", "late"]  # highest lift at the top
    over = voice.satisfaction_over_time(
        pd.DataFrame(
            {
                "ts": pd.to_datetime(["2025-03-03", "2025-03-11", "2025-03-11"], utc=True),
                "kind": ["nps", "nps", "csat"],
                "score": [9, 3, 5],
            }
        )
    )
    fig = voice.plot_satisfaction_over_time(over)
    assert {tr.name for tr in fig.data} == {"NPS 95% interval", "NPS", "CSAT: share 4-5"}


def test_plots_in_indonesian():
    ctx = small_context().assign(
        stage=["decision"] * 4 + ["retention"] * 4, stage_no=[3] * 4 + [4] * 4
    )
    # the nps rows of one stage: 10, 9, 3, 8 -> 2 promoters, 1 detractor of 4 -> NPS 25
    fig = voice.plot_nps_by(
        voice.satisfaction_by(ctx, "stage"), language="id", labels={"decision": "Keputusan"}
    )
    assert list(fig.data[0].x) == ["Keputusan"] and list(fig.data[0].y) == [25.0]
    assert fig.layout.title.text == "NPS per tahap (selang kepercayaan 95%; pucat: sedikit jawaban)"
    assert fig.layout.xaxis.title.text == "tahap"
    assert "jawaban" in fig.data[0].hovertemplate
    # English: the dimension's own name, as before; groups without a label stay as they are
    en = voice.plot_nps_by(voice.satisfaction_by(ctx, "channel"))
    assert en.layout.title.text == "NPS by channel (95% interval; pale: few answers)"
    assert en.layout.xaxis.title.text == "channel"
    engine, dctx = drivers_engine()
    fig = voice.plot_detractor_drivers(
        voice.detractor_drivers(engine, dctx, min_support=1), language="id"
    )
    assert "detraktor" in fig.data[0].hovertemplate and "promotor" in fig.data[0].hovertemplate
    over = voice.satisfaction_over_time(
        pd.DataFrame(
            {"ts": pd.to_datetime(["2025-03-03", "2025-03-11"], utc=True), "kind": ["nps", "csat"],
             "score": [9, 5]}
        )
    )  # fmt: skip
    fig = voice.plot_satisfaction_over_time(over, language="id")
    assert all("jawaban" in tr.hovertemplate for tr in fig.data if tr.hovertemplate)


# ---- synthetic data with planted causes ---------------------------------------------------------
def test_planted_friction_drives_detractors(synth_client):
    engine, config = synth_client.engine, synth_client.config
    ctx = voice.feedback_context(engine, StageModel.from_config(config), as_of=config.as_of)
    n_feedback = engine.scalar(
        "SELECT COUNT(*) FROM feedback WHERE ts < TIMESTAMPTZ '2025-07-01 00:00:00+00'"
    )
    assert len(ctx) == n_feedback  # one row per feedback row up to as_of
    drivers = voice.detractor_drivers(engine, ctx).set_index("event")
    # Planted: NPS = 7.8 + 1.5 sat - 3.2 late delivery - 2.2 payment error - 1.5 return (+noise),
    # answered after the delivery/return or 1-3 days after the purchase.
    # A late delivery moves the typical answer (~8) into the detractor band: the strongest driver,
    # clearly so even on the ~240 answers here.
    late = drivers.loc["delivery_late"]
    assert late["rank"] == 1 and late["lift"] > 2 and late["lift_low"] > 1
    # A return request costs 1.5 points: a clear driver too (on this fixture lift ~3.2, CI
    # ~1.1-9); contact_support (which follows half of the late deliveries and returns) ranks
    # between them, so both planted service failures are in the top 3.
    ret = drivers.loc["return_request"]
    assert ret["rank"] <= 3 and ret["lift"] > 2 and ret["lift_low"] > 1
    # A payment error costs 2.2 points, but only when the customer buys in that visit; half of
    # the customers who hit one give up and often buy on a retargeted visit a day later, whose
    # answer carries no penalty, yet the error precedes it in the 30-day window. With ~20
    # answers after a payment error here the lift is positive but its interval includes 1 (at
    # 30,000 synthetic customers: lift 5.1, CI 3.2-8.1, rank 3), so this test asserts the
    # direction and the ranking among the friction events, not significance.
    pay = drivers.loc["payment_error"]
    assert pay["lift"] > 1 and pay["rank"] <= 4
    for event in ("delivery_late", "payment_error", "return_request"):
        row = drivers.loc[event]
        assert (
            row["nps_with"] < row["nps_without"] and row["detractor_share"] > row["promoter_share"]
        )
    # the very common events precede promoters and detractors alike
    assert drivers.loc["page_view", "lift"] == pytest.approx(1, abs=0.1)

    # satisfaction by path: a visit reporting a late delivery is far less satisfied than the
    # plain checkout
    paths = voice.satisfaction_by_path(engine, ctx)
    late_paths = paths.loc[paths["variant"].str.contains("delivery_late")]
    checkout = paths.loc[paths["variant"].str.endswith("add_payment_info > purchase")]
    assert len(late_paths) and len(checkout)
    assert late_paths["mean_sat"].max() < checkout["mean_sat"].min() - 0.3
    # the delivery touchpoint (where late deliveries are answered) has the lowest NPS
    by_touchpoint = voice.satisfaction_by(ctx, "touchpoint")
    nps = by_touchpoint.loc[by_touchpoint["kind"].eq("nps")].set_index("touchpoint")["nps"]
    assert nps.idxmin() == "delivery"


@pytest.mark.slow
def test_all_planted_friction_causes_are_significant_detractor_drivers(synth_client_40k):
    """With 40,000 customers (~3,000 NPS answers) each planted NPS penalty (late delivery -3.2,
    payment error -2.2, return request -1.5) is a significant driver of detractors, and they
    rank in the order of their penalties (contact_support, which follows late deliveries and
    returns, may sit among them: it is their consequence)."""
    engine, config = synth_client_40k.engine, synth_client_40k.config
    ctx = voice.feedback_context(engine, StageModel.from_config(config), as_of=config.as_of)
    drivers = voice.detractor_drivers(engine, ctx).set_index("event")
    planted = ["delivery_late", "payment_error", "return_request"]
    for event in planted:
        row = drivers.loc[event]
        assert row["lift_low"] > 1 and row["p_value"] < 0.001, event
        assert row["rank"] <= 4, event
    assert drivers.loc[planted, "lift"].is_monotonic_decreasing
    friction = {"delivery_late", "payment_error", "return_request", "contact_support"}
    assert set(drivers.sort_values("rank").index[:4]) == friction


def test_every_chart_text_exists_in_both_languages_with_thesame_fields():
    same_fields(voice._PLOT_TEXT)
