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


# ---- Bahasa Indonesia (report.language: id) -----------------------------------------------------
ID = ReportSpec(language="id")  # Indonesian separators: 1.234,5


def test_formatted_kpis_in_bahasa_indonesia(engine):
    records = [
        kpi.conversion_rate(engine, as_of="2025-06-30"),
        kpi.retention_rate(engine, days=90, as_of="2025-06-30"),
        kpi.time_to_convert(engine),
        kpi.abandonment_rate(engine, recovery_days=7),
    ]
    table = pd.DataFrame([k.to_dict() for k in records])
    shown = kpi.formatted(table, ID)
    assert shown["kpi"].tolist() == [
        "Tingkat konversi",
        "Retensi 90 hari",
        "Waktu hingga konversi (median)",
        "Tingkat keranjang ditinggalkan",
    ]
    # 2 buyers of 3 active; 1 of 2 buyers reordered; a converts after 4 days 2 h 10 min (one
    # converter); 1 of 2 carts lost
    assert shown["value"].tolist() == ["66,7%", "50,0%", "4,1 hari", "50,0%"]
    assert shown["based_on"].tolist() == ["2 dari 3", "1 dari 2", "1 pelanggan", "1 dari 2"]
    # the parameters of the definitions (90 days, the 'purchase' event, 7 days) are kept
    assert shown["definition"].tolist()[1:] == [
        "pembeli yang memesan lagi dalam 90 hari setelah pesanan pertamanya / pembeli yang "
        "pesanan pertamanya sudah berumur sedikitnya 90 hari",
        "median jumlah hari dari kunjungan pertama pelanggan hingga 'purchase' pertamanya, pada "
        "pelanggan yang berkonversi",
        "keranjang yang tidak dibeli dalam sesinya dan tidak dipulihkan dalam 7 hari / keranjang",
    ]
    # the English records and their display are unchanged
    assert table["label"].tolist()[1] == "90-day retention"
    assert kpi.formatted(table, REPORT)["value"].tolist()[2] == "4,1 days"
    # a KPI this module did not write is shown as it is
    own = pd.DataFrame([kpi.KPI("nps", "NPS", 0.3, 3, 10, "share", "promoters - detractors")])
    assert kpi.formatted(own, ID)[["kpi", "definition"]].iloc[0].tolist() == [
        "NPS",
        "promoters - detractors",
    ]


def test_stage_sentences_in_bahasa_indonesia():
    from journeylib.stages import StageModel

    conversion = pd.DataFrame(
        {
            "stage": ["awareness", "consideration", "decision"],
            "reached": [200, 120, 50],
            "share_of_all": [1.0, 0.6, 0.25],
        }
    )
    labels = StageModel(language="id").labels()
    # 50 of the 200 customers in the journey (25%) reached the third stage, decision
    assert narrative.stage_reach(conversion, labels, ID) == (
        "200 pelanggan memasuki perjalanan pelanggan; 50 di antaranya (25,0%) mencapai tahap "
        "Keputusan."
    )
    assert narrative.stage_reach(conversion.iloc[:0], labels, ID) == (
        "Belum ada pelanggan yang memiliki sinyal tahap."
    )
    coverage = pd.DataFrame(
        {
            "event": ["refer_friend", "page_view"],
            "stage": ["advocacy", "awareness"],
            "events": [0, 9],
        }
    )
    assert narrative.unused_rules(coverage, ID) == (
        "**Periksa aturan tahap:** event (peristiwa) berikut disebut dalam aturan tahap tetapi "
        "tidak pernah muncul dalam data: `refer_friend` (advocacy)."
    )
    assert narrative.unused_rules(coverage).startswith("**Check the stage rules:**")
    transitions = pd.DataFrame({"kind": ["exit", "exit", "forward"], "transitions": [3, 2, 10]})
    # 3 + 2 exits of 20 customers = 25%
    assert narrative.exits(transitions, 20, 90, ID) == (
        "5 dari 20 pelanggan (25,0%) telah keluar dari perjalanan: tidak ada aktivitas dalam 90 "
        "hari sebelum tanggal batas."
    )


def test_funnel_and_cart_sentences_in_bahasa_indonesia():
    funnel = pd.DataFrame(
        {
            "step": ["view_item", "add_to_cart", "purchase"],
            "customers_strict": [100, 40, 10],
            "conversion_from_start_strict": [1.0, 0.4, 0.1],
        }
    )
    journey = JourneySpec(funnel=list(funnel["step"]), funnel_window_days=1.5)
    # 30 of the 40 who add to cart do not buy; the window of 1.5 days in Indonesian notation
    assert narrative.cart_to_purchase(funnel, journey, ID) == (
        "75,0% dari 40 pelanggan yang melakukan *add to cart* tidak melanjutkan ke *purchase* "
        "dalam 1,5 hari sejak *view item* pertama mereka."
    )
    no_cart = JourneySpec(funnel=["view_item", "purchase"], cart_event="add_to_basket")
    assert narrative.cart_to_purchase(funnel, no_cart, ID) == (
        "10,0% pelanggan yang melakukan *view item* menyelesaikan funnel secara berurutan."
    )
    summary = pd.DataFrame(
        {
            "step_no": [1, 2],
            "step": ["view_item", "add_to_cart"],
            "next_step": ["add_to_cart", "purchase"],
            "dropped": [60, 30],
            "recoverable_share": [0.05, 0.5],
        }
    )
    # step 1 loses most (60); 3 of those 60 completed later = 5%
    assert narrative.largest_drop(summary, 7, ID) == (
        "Drop-off terbesar terjadi setelah **view item**: 60 pelanggan tidak melanjutkan ke "
        "*add to cart*; 5,0% di antaranya menyelesaikan funnel kemudian (dalam 7 hari)."
    )
    assert narrative.largest_drop(summary.assign(dropped=0), 7, ID) == (
        "Tidak ada pelanggan yang berhenti di tengah funnel."
    )
    # 200 carts: 120 left in their visit (60%), 30 of those bought later (25%), 90 lost (45%);
    # the 30 recovered came back through email (20, 66.7%) and whatsapp (10)
    cart = pd.DataFrame(
        {
            "carts": [200],
            "in_session_abandonment_rate": [0.6],
            "recovery_rate": [0.25],
            "abandonment_rate": [0.45],
        }
    )
    recovery = pd.DataFrame(
        {"channel": ["whatsapp", "email"], "recovered_carts": [10, 20], "share": [1 / 3, 2 / 3]}
    )
    assert narrative.carts(cart, recovery, ID) == (
        "60,0% dari 200 keranjang ditinggalkan dalam kunjungan yang sama; 25,0% di antaranya "
        "dibeli pada kunjungan berikutnya, sehingga 45,0% keranjang hilang. Pembeli yang kembali "
        "paling banyak datang melalui kanal **email** (66,7%)."
    )
    assert narrative.carts(cart.assign(carts=0), recovery, ID) == (
        "Tidak ada keranjang yang dibuat dalam periode ini."
    )


def test_segment_path_anomaly_device_and_repeat_sentences_in_bahasa_indonesia():
    table = pd.DataFrame(
        {
            "device": ["desktop", "mobile", "other"],
            "customers": [100, 300, 2],
            "conversion": [0.10, 0.08, 0.50],  # 'other' is tiny: never singled out
            "chi2_p_value": [0.4, 0.4, 0.4],
        }
    )
    assert narrative.segment_difference(table, "device", ID) == (
        "Menurut perangkat: **desktop** berkonversi 10,0% (100 pelanggan) dibandingkan 8,0% pada "
        "**mobile**; perbedaan antarkelompok perangkat tidak signifikan secara statistik "
        "(chi-square p = 0,4)."
    )
    assert narrative.segment_difference(table.iloc[2:], "device", ID) == (
        "Terlalu sedikit pelanggan per perangkat untuk membandingkan konversi (kurang dari 30 "
        "pelanggan per kelompok)."
    )
    variants = pd.DataFrame(
        {
            "variant": ["a > b", "a > c > purchase"],
            "customers": [50, 40],
            "conversion_rate": [0.0, 0.5],
            "baseline_rate": [0.2, 0.2],
            "lift": [0.0, 2.5],
        }
    )
    # 50% against an average of 20% is 2.5 times the average
    assert narrative.best_variant(variants, ID) == (
        "Jalur **a > c > purchase** (40 pelanggan) berkonversi 50,0%, 2,5× rata-rata 20,0%."
    )
    days = pd.to_datetime(["2025-03-27", "2025-03-28", "2025-05-01"])
    frictions = pd.DataFrame(
        {"period": days, "event": ["checkout_error"] * 3, "anomaly": [True, True, False]}
    )
    assert narrative.anomalies(frictions, ID) == (
        "**checkout error** melonjak pada 2 hari antara 2025-03-27 dan 2025-03-28: periksa apakah "
        "ada langkah yang rusak atau gangguan layanan dalam rentang waktu itu."
    )
    gap = pd.DataFrame(
        {
            "device": ["desktop"],
            "rate": [0.05],
            "baseline": ["mobile"],
            "baseline_rate": [0.02],
            "p_value": [0.0004],
        }
    )
    assert narrative.device_gap(gap, ID).startswith(
        "Kunjungan dari perangkat desktop berkonversi 5,0% dibandingkan 2,0% dari mobile: "
        "perbedaannya signifikan (p = 0,0004). Sebagian selisih"
    )
    cohorts = pd.DataFrame(
        {
            "offset": [0, 1, 1, 1, 2],
            "customers": [30, 30, 20, 10, 30],
            "retained": [30, 6, 4, 0, 3],
            "rate": [1.0, 0.2, 0.2, float("nan"), 0.1],  # the NaN cohort is not yet observable
        }
    )
    # pooled over the observable offset-1 cells: (6 + 4) / (30 + 20) = 20%
    assert narrative.repeat_next_period(cohorts, "month", ID) == (
        "Dari 50 pembeli baru yang teramati selama satu bulan, 20,0% membeli lagi pada bulan "
        "setelah pembelian pertama mereka."
    )
    assert narrative.repeat_next_period(cohorts.iloc[:1], "week", ID) == (
        "Belum ada kohort yang teramati selama satu minggu penuh setelah pembelian pertamanya."
    )


def test_headline_kpis_in_passes_over_customer_ranges_equal_one_query(
    synth_client, same_in_passes, monkeypatch
):
    """Above 30M events the KPIs' event-level counts run per range of customers (events and
    orders narrowed alike): the table equals one query's, exactly."""
    from journeylib import timelag
    from journeylib.engine import DuckDBEngine

    monkeypatch.setattr(timelag, "kept", lambda _e, _n, _k, compute, **_: compute())
    engine = DuckDBEngine(synth_client.config.processed_dir)
    parts, calls = same_in_passes(engine, lambda: [kpi.headline_kpis(engine, synth_client.config)])
    assert len(calls) == 3  # conversion, time to convert, abandonment
    active = engine.scalar(
        "SELECT COUNT(*) FROM (SELECT customer_id FROM events UNION SELECT customer_id FROM orders)"
    )
    assert parts[0].set_index("key").loc["conversion_rate", "denominator"] == active
