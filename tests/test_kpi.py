"""Headline KPIs on a hand-worked client, and the sentences that state findings."""

from __future__ import annotations

import pandas as pd
import pytest

from journeylib import kpi, narrative
from journeylib.config import JourneySpec, ReportSpec
from journeylib.engine import engine_for


def _ts(s: str) -> pd.Timestamp:
    return pd.Timestamp(s, tz="UTC")


EVENTS = pd.DataFrame(
    [
        ("a", "2025-01-01 10:00", "page_view", "a-1"),
        ("a", "2025-01-05 12:00", "add_to_cart", "a-2"),
        ("a", "2025-01-05 12:10", "purchase", "a-2"),  # cart bought in its own visit
        ("b", "2025-02-01 09:00", "page_view", "b-1"),
        ("b", "2025-02-01 09:05", "add_to_cart", "b-1"),  # cart never bought: lost
    ],
    columns=["customer_id", "ts", "event", "session_id"],
).assign(ts=lambda d: pd.to_datetime(d["ts"], utc=True), channel="direct", device="mobile")
ORDERS = pd.DataFrame(
    {
        "order_id": ["o1", "o2", "o3"],
        "customer_id": ["a", "a", "d"],  # d only buys offline: active through its order
        "ts": [_ts("2025-01-05 12:10"), _ts("2025-01-20 08:00"), _ts("2025-03-01 10:00")],
        "product_id": ["p1", "p2", "p3"],
        "quantity": [1.0] * 3,
        "revenue": [10.0, 20.0, 30.0],
    }
)


@pytest.fixture
def engine():
    return engine_for(events=EVENTS, orders=ORDERS)


def test_conversion_rate(engine):
    k = kpi.conversion_rate(engine, as_of="2025-06-30")
    # active: a, b (visits) and d (order) = 3; buyers: a, d = 2
    assert (k.numerator, k.denominator, k.value) == (2, 3, pytest.approx(2 / 3))


def test_repeat_and_retention(engine):
    # buyers a (2 orders) and d (1 order): half repeat
    assert kpi.repeat_purchase_rate(engine, as_of="2025-06-30").value == 0.5
    # 90-day retention at June 30: both first orders are > 90 days old; a reordered after 15 days
    r = kpi.retention_rate(engine, days=90, as_of="2025-06-30")
    assert (r.numerator, r.denominator) == (1, 2)
    # at May 1, a's first order (Jan 5) is 116 days old, d's (Mar 1) only 61: only a counts
    r = kpi.retention_rate(engine, days=90, as_of="2025-05-01")
    assert (r.numerator, r.denominator, r.value) == (1, 1, 1.0)
    # at March 15 nobody can be judged yet: no value rather than a crash or a fake 0
    r = kpi.retention_rate(engine, days=90, as_of="2025-03-15")
    assert r.denominator == 0 and pd.isna(r.value)


def test_time_to_convert_and_abandonment(engine):
    t = kpi.time_to_convert(engine)
    # a: first visit Jan 1 10:00, purchase Jan 5 12:10 = 4 days 2 h 10 min
    assert t.value == pytest.approx(4 + 130 / 1440)
    assert t.denominator == 1 and t.unit == "days"
    a = kpi.abandonment_rate(engine, recovery_days=7)
    # two carts: a's bought in the same visit, b's never -> 1 lost of 2
    assert (a.numerator, a.denominator, a.value) == (1, 2, 0.5)


def test_formatted_kpis():
    table = pd.DataFrame(
        [
            kpi.KPI("c", "Conversion rate", 0.25, 1, 4, "share", "x").to_dict(),
            kpi.KPI("t", "Time", 2.5, None, 3, "days", "y").to_dict(),
        ]
    )
    shown = kpi.formatted(table, ReportSpec())
    assert shown["value"].tolist() == ["25,0%", "2,5 days"]
    assert shown["based_on"].tolist() == ["1 of 4", "3 customers"]


# ---- sentences --------------------------------------------------------------------------------
REPORT = ReportSpec()


def test_segment_sentence_ignores_small_groups_and_says_when_not_significant():
    table = pd.DataFrame(
        {
            "device": ["desktop", "mobile", "other"],
            "customers": [100, 300, 2],
            "conversion": [0.10, 0.08, 0.50],  # 'other' is tiny: never singled out
            "chi2_p_value": [0.4, 0.4, 0.4],
        }
    )
    text = narrative.segment_difference(table, "device", REPORT)
    assert "**desktop** converts 10,0% (100 customers) against 8,0% for **mobile**" in text
    assert "not statistically significant (chi-square p = 0.4)" in text
    assert "other" not in text
    table["chi2_p_value"] = 0.001
    assert "is statistically significant" in narrative.segment_difference(table, "device", REPORT)
    assert "Too few customers" in narrative.segment_difference(table.iloc[2:], "device", REPORT)


def test_variant_and_anomaly_sentences():
    variants = pd.DataFrame(
        {
            "variant": ["a > b", "a > c > purchase"],
            "customers": [50, 40],
            "conversion_rate": [0.0, 0.5],
            "baseline_rate": [0.2, 0.2],
            "lift": [0.0, 2.5],
        }
    )
    assert narrative.best_variant(variants, REPORT).startswith(
        "The path **a > c > purchase** (40 customers) converts 50,0%, 2.5× the average of 20,0%"
    )
    assert "No common path" in narrative.best_variant(variants.iloc[:1], REPORT)
    days = pd.to_datetime(["2025-03-27", "2025-03-28", "2025-05-01"])
    frictions = pd.DataFrame(
        {"period": days, "event": ["checkout_error"] * 3, "anomaly": [True, True, False]}
    )
    assert narrative.anomalies(frictions) == (
        "**checkout error** spikes on 2 days between 2025-03-27 and 2025-03-28: look for a broken "
        "step or an outage in that window."
    )


def test_cart_to_purchase_sentence():
    funnel = pd.DataFrame(
        {
            "step": ["view_item", "add_to_cart", "purchase"],
            "customers_strict": [100, 40, 10],
            "conversion_from_start_strict": [1.0, 0.4, 0.1],
        }
    )
    # 30 of the 40 who add to cart do not buy
    assert narrative.cart_to_purchase(funnel, JourneySpec(funnel=list(funnel["step"])), REPORT) == (
        "75,0% of the 40 customers who add to cart do not purchase within 7 days of their first "
        "view item."
    )
