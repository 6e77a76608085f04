"""Funnels: hand-computed tiny frames, an independent slow reference on real data, planted truth.

The business rules under test (journeylib.funnels module docstring):

* the journey starts at the customer's first step-1 event ``t1`` and ends at ``t1 + window``
  (inclusive) or at the first exclusion event strictly after ``t1``, whichever is first; steps at
  the exclusion's own timestamp still count;
* strict: each step at or after the previous one (equal timestamps count as in order), a
  different event row per step; attained: every event of steps 1..k inside the journey, any order.
"""

from __future__ import annotations

import warnings
from collections import Counter

import numpy as np
import pandas as pd
import pytest
from event_frames import frame, timeline_engine
from scipy import stats

from journeylib import funnels as F
from journeylib.engine import engine_for


def counts(table: pd.DataFrame, d: str = "strict") -> list[int]:
    return table[f"customers_{d}"].tolist()


# ---------------------------------------------------------------------------------------------
# Definitions on tiny frames
# ---------------------------------------------------------------------------------------------
def test_strict_versus_attained_and_disagree():
    ev = frame(
        [
            ("a", 0, "A"), ("a", 1, "B"), ("a", 2, "C"),  # in order: both reach 3
            ("b", 0, "A"), ("b", 1, "C"), ("b", 2, "B"),  # C before B: strict 2, attained 3
            ("c", 0, "B"), ("c", 1, "A"), ("c", 2, "C"),  # B before A (before t1): both 1
            ("d", 0, "C"),                                # never did A: not in the funnel
        ]
    )  # fmt: skip
    out = F.funnel(ev, ["A", "B", "C"])
    assert list(out.columns) == list(F.FUNNEL_COLUMNS)
    assert out["step_no"].tolist() == [1, 2, 3]
    assert counts(out) == [3, 2, 1]
    assert counts(out, "attained") == [3, 2, 2]
    assert out["disagree"].tolist() == [0, 0, 1]  # only b at step 3
    assert out["conversion_from_start_strict"].tolist() == pytest.approx([1, 2 / 3, 1 / 3])
    assert out["conversion_from_previous_strict"].tolist() == pytest.approx([1, 2 / 3, 1 / 2])
    assert out["conversion_from_previous_attained"].tolist() == pytest.approx([1, 2 / 3, 1])


def test_window_is_inclusive_and_anchored_at_the_first_step1_event():
    ev = frame(
        [
            ("a", 0, "A"), ("a", 60, "B"),                   # B exactly at t1 + 1h: counts
            ("b", 0, "A"), ("b", 60.5, "B"),                 # 30 s too late
            ("c", 0, "A"), ("c", 1440, "A"), ("c", 1441, "B"),  # a later A does not re-anchor
        ]
    )  # fmt: skip
    out = F.funnel(ev, ["A", "B"], window=pd.Timedelta("1h"))
    assert counts(out) == [3, 1] and counts(out, "attained") == [3, 1]
    assert counts(F.funnel(ev, ["A", "B"], window="1D")) == [3, 2]  # b's 60.5 min now inside
    assert counts(F.funnel(ev, ["A", "B"])) == [3, 3]  # unbounded
    assert counts(F.funnel(ev, ["A", "B"], window="0s")) == [3, 0]


def test_exclusion_breaks_the_journey_at_the_first_exclusion_after_t1():
    ev = frame(
        [
            ("a", 0, "A"), ("a", 1, "B"), ("a", 2, "X"), ("a", 3, "C"),  # X between B and C
            ("b", 0, "A"), ("b", 1, "X"), ("b", 1, "B"), ("b", 2, "C"),  # X tied with B
            ("c", 0, "X"), ("c", 0, "A"), ("c", 1, "B"), ("c", 2, "C"),  # X at t1: ignored
            ("d", 0, "A"), ("d", 1, "B"), ("d", 2, "C"), ("d", 3, "X"),  # X after the end
            ("e", -1, "X"), ("e", 0, "A"), ("e", 1, "C"), ("e", 2, "B"), ("e", 3, "X"),
        ]
    )  # fmt: skip
    out = F.funnel(ev, ["A", "B", "C"], exclude=["X"])
    # a: reaches B, C is after X -> 2. b: B at X's timestamp counts, C after -> 2.
    # c: 3. d: 3. e: X before t1 ignored, C then B before the X at 3 -> strict 2, attained 3.
    assert counts(out) == [5, 5, 2]
    assert counts(out, "attained") == [5, 5, 3]
    assert counts(F.funnel(ev, ["A", "B", "C"], exclude="X")) == [5, 5, 2]  # one name is fine
    assert counts(F.funnel(ev, ["A", "B", "C"])) == [5, 5, 4]  # without exclusion only e fails


def test_equal_timestamps_count_as_in_order_and_repeated_steps_need_distinct_rows():
    ev = frame(
        [
            ("a", 0, "B"), ("a", 0, "A"),                 # tied A, B (B listed first): converts
            ("b", 0, "A"),                                # one A row: A -> A fails
            ("c", 0, "A"), ("c", 0, "A"),                 # two tied A rows: A -> A converts
            ("d", 0, "A"), ("d", 5, "B"), ("d", 9, "A"),  # A -> B -> A in order
        ]
    )  # fmt: skip
    assert counts(F.funnel(ev, ["A", "B"])) == [4, 2]  # a (tie) and d
    assert counts(F.funnel(ev, ["A", "A"])) == [4, 2]  # c (two rows) and d
    aba = F.funnel(ev, ["A", "B", "A"])
    # a: tied rows are ordered by step position (A before B), and no A follows -> 2
    assert counts(aba) == [4, 2, 1] and counts(aba, "attained") == [4, 2, 1]


def test_single_step_funnel_is_one_hundred_percent():
    out = F.funnel(frame([("a", 0, "A"), ("b", 0, "A"), ("b", 1, "B")]), ["A"])
    assert out.to_dict("records")[0] == {
        "step_no": 1,
        "step": "A",
        "customers_strict": 2,
        "customers_attained": 2,
        "disagree": 0,
        "conversion_from_start_strict": 1.0,
        "conversion_from_previous_strict": 1.0,
        "conversion_from_start_attained": 1.0,
        "conversion_from_previous_attained": 1.0,
    }


def test_customers_with_one_event_and_all_events_on_one_day():
    ev = frame([("a", 0, "A"), ("b", 0, "B"), ("c", 0, "A"), ("c", 0, "B"), ("d", 3, "A")])
    out = F.funnel(ev, ["A", "B"], window="1D")
    assert counts(out) == [3, 1]  # a, c, d enter; c (tied A, B) converts
    ttc = F.time_to_convert(ev, ["A", "B"])
    assert ttc["median"].tolist() == [pd.Timedelta(0)]


def test_table_argument_reads_a_stage_view():
    stages = frame([("a", 0, "awareness"), ("a", 5, "decision"), ("b", 0, "awareness")])
    eng = engine_for(stage_events=stages)
    out = F.funnel(eng, ["awareness", "decision"], table="stage_events")
    assert counts(out) == [2, 1]


# ---------------------------------------------------------------------------------------------
# Time to convert
# ---------------------------------------------------------------------------------------------
def test_time_to_convert_quantiles_and_histogram():
    minutes = [1, 2, 3, 4, 10]
    ev = frame(
        [(f"c{i}", 0, "A") for i in range(5)] + [(f"c{i}", m, "B") for i, m in enumerate(minutes)]
    )
    ev = pd.concat([ev, frame([("x", 0, "A")])], ignore_index=True)  # x never converts
    out = F.time_to_convert(ev, ["A", "B"])
    row = out.iloc[0]
    assert (row["step_no"], row["step"], row["customers"]) == (2, "B", 5)
    # sorted 1,2,3,4,10 min; linear interpolation between order statistics
    m = pd.Timedelta(minutes=1)
    assert row["mean"] == 4 * m and row["median"] == 3 * m
    assert row["p25"] == 2 * m and row["p75"] == 4 * m
    assert row["p90"] == 7.6 * m  # 4 + 0.6 x (10 - 4)
    assert row["p95"] == 8.8 * m
    hist = F.time_to_convert_histogram(ev, ["A", "B"], bins=["0s", "4min", "1h"])
    # buckets [0, 4 min), [4 min, 1 h), >= 1 h; exactly 4 min falls in the second (left-closed)
    assert hist["bucket"].tolist() == ["0 s–4 min", "4 min–1 h", "≥ 1 h"]
    assert hist["customers"].tolist() == [3, 2, 0]
    assert hist["share"].tolist() == pytest.approx([0.6, 0.4, 0.0])
    assert hist["upper"].isna().tolist() == [False, False, True]
    with pytest.raises(ValueError, match="bins"):
        F.time_to_convert_histogram(ev, ["A", "B"], bins=["1min", "1h"])


def test_time_to_convert_is_measured_from_step_one_for_every_step():
    ev = frame([("a", 0, "A"), ("a", 10, "B"), ("a", 30, "C"), ("b", 0, "A"), ("b", 20, "B")])
    out = F.time_to_convert(ev, ["A", "B", "C"]).set_index("step_no")
    assert out.loc[2, "median"] == pd.Timedelta(minutes=15)  # a 10, b 20
    assert out.loc[3, "median"] == pd.Timedelta(minutes=30)  # a only, from A not from B
    assert out.loc[3, "customers"] == 1
    assert F.time_to_convert(ev, ["A"]).empty  # nothing to time in a one-step funnel


# ---------------------------------------------------------------------------------------------
# Segments and significance
# ---------------------------------------------------------------------------------------------
def seg_events() -> pd.DataFrame:
    rows = []
    for i, (device, converts) in enumerate(
        [("desktop", 1), ("desktop", 1), ("desktop", 1), ("desktop", 0)]
        + [("mobile", 1), ("mobile", 0), ("mobile", 0), ("mobile", 0)]
    ):
        rows.append((f"c{i}", 0, "A", None, None, device))
        if converts:
            rows.append((f"c{i}", 5, "B", None, None, "mobile"))  # later device irrelevant
    return frame(rows)


def test_funnel_by_segment_tests_worked_by_hand():
    out = F.funnel_by_segment(seg_events(), ["A", "B"], segment="device").set_index("device")
    assert out["customers"].tolist() == [4, 4] and out["converted"].tolist() == [3, 1]
    # pooled p = 4/8 = 0.5; se = sqrt(0.25 x (1/4 + 1/4)) = sqrt(0.125); z = 0.5 / se = sqrt(2)
    assert out.loc["desktop", "z_vs_rest"] == pytest.approx(np.sqrt(2))
    assert out.loc["mobile", "z_vs_rest"] == pytest.approx(-np.sqrt(2))
    assert out.loc["desktop", "p_value_vs_rest"] == pytest.approx(0.157299, abs=1e-6)
    # Pearson chi-square without continuity correction on [[3, 1], [1, 3]]: 4 x 0.5 = 2 = z^2
    assert out["chi2"].tolist() == pytest.approx([2.0, 2.0])
    assert out["chi2_dof"].tolist() == [1, 1]
    indep = stats.chi2_contingency([[3, 1], [1, 3]], correction=False)
    assert out["chi2_p_value"].iloc[0] == pytest.approx(indep.pvalue)
    wilson = stats.binomtest(3, 4).proportion_ci(confidence_level=0.95, method="wilson")
    assert out.loc["desktop", ["ci_low", "ci_high"]].tolist() == pytest.approx(
        [wilson.low, wilson.high]
    )


def test_segment_from_customer_attributes_and_cohort():
    ev = seg_events()
    personas = pd.DataFrame(
        {"customer_id": ["c0", "c1", "c4", "c5"], "persona": ["p", "p", "q", "q"]}
    )
    before = personas.copy()
    out = F.funnel(ev, ["A", "B"], segment="persona", segments=personas)
    assert list(out.columns) == ["persona", *F.FUNNEL_COLUMNS]
    got = out.set_index(["persona", "step_no"])["customers_strict"].to_dict()
    # p: c0, c1 both convert; q: c4 converts, c5 not; the other 4 customers are "(missing)"
    assert got == {
        (F.MISSING_SEGMENT, 1): 4, (F.MISSING_SEGMENT, 2): 1,
        ("p", 1): 2, ("p", 2): 2, ("q", 1): 2, ("q", 2): 1,
    }  # fmt: skip
    pd.testing.assert_frame_equal(personas, before)
    april = ev.assign(ts=ev["ts"] + pd.Timedelta("31D"))
    both = pd.concat([ev, april.assign(customer_id=april["customer_id"] + "x")], ignore_index=True)
    coh = F.funnel(both, ["A", "B"], segment="cohort")
    assert coh.groupby("cohort")["customers_strict"].first().to_dict() == {
        "2025-03": 8,
        "2025-04": 8,
    }
    single = F.funnel_by_segment(ev, ["A", "B"], segment="channel")  # one segment: no test
    assert single["chi2"].isna().all() and single["z_vs_rest"].isna().all()
    with pytest.raises(ValueError, match="not a column"):
        F.funnel(ev, ["A", "B"], segment="persona")
    with pytest.raises(ValueError, match="one row per customer_id"):
        F.funnel(ev, ["A", "B"], segment="persona", segments=pd.concat([personas, personas]))


# ---------------------------------------------------------------------------------------------
# Bad inputs, invariants, plots
# ---------------------------------------------------------------------------------------------
def test_missing_step_warns_and_counts_zero():
    ev = frame([("a", 0, "A"), ("a", 1, "B"), ("a", 2, "C")])
    with pytest.warns(UserWarning, match=r"step 2 'paymnt' never occurs"):
        out = F.funnel(ev, ["A", "paymnt", "C"])
    assert counts(out) == [1, 0, 0] and counts(out, "attained") == [1, 0, 0]
    assert out["conversion_from_previous_strict"].iloc[1:].tolist()[0] == 0.0
    assert np.isnan(out["conversion_from_previous_strict"].iloc[2])  # 0 / 0
    with pytest.warns(UserWarning, match="step 1 'nope' never occurs"):
        empty = F.funnel(ev, ["nope", "A"])
    assert counts(empty) == [0, 0] and empty["conversion_from_start_strict"].isna().all()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # every step occurs: no warning
        F.funnel(ev, ["A", "C"])


def test_bad_inputs_give_clear_errors():
    ev = frame([("a", 0, "A"), ("a", 1, "B")])
    with pytest.raises(ValueError, match="at least one event"):
        F.funnel(ev, [])
    with pytest.raises(TypeError, match="not a string"):
        F.funnel(ev, "A")
    with pytest.raises(ValueError, match="both funnel steps and exclusion"):
        F.funnel(ev, ["A", "B"], exclude=["B"])
    with pytest.raises(ValueError, match="non-negative"):
        F.funnel(ev, ["A", "B"], window="-1h")
    with pytest.raises(ValueError, match="timedelta"):
        F.funnel(ev, ["A", "B"], window="soon")
    with pytest.raises(ValueError, match="plain identifier"):
        F.funnel(ev, ["A", "B"], table='events"; DROP TABLE events; --')
    with pytest.raises(ValueError, match="cannot be read"):
        F.funnel(engine_for(events=ev), ["A", "B"], table="nothing_here")
    with pytest.raises(ValueError, match="lacks required column"):
        F.funnel(ev.drop(columns="event"), ["A"])
    with pytest.raises(TypeError, match="must be a timestamp"):
        F.funnel(ev.assign(ts=ev["ts"].astype(str)), ["A"])
    with pytest.raises(ValueError, match="definition"):
        F.funnel_by_segment(ev, ["A", "B"], segment="device", definition="loose")


def test_empty_events_give_zero_rows_not_a_crash():
    ev = frame([("a", 0, "A")]).iloc[:0]
    with pytest.warns(UserWarning, match="never occurs"):
        out = F.funnel(ev, ["A", "B"])
    assert counts(out) == [0, 0]
    assert F.time_to_convert(ev, ["A", "B"])["customers"].tolist() == [0]


def test_inputs_not_mutated_and_grain_holds(dropoff_events):
    before = dropoff_events.copy()
    steps = ["A", "B", "C"]
    seg = F.funnel(dropoff_events, steps, segment="device", window="1D", exclude=["help"])
    assert not seg.duplicated(["device", "step_no"]).any()
    assert not F.funnel(dropoff_events, steps).duplicated("step_no").any()
    hist = F.time_to_convert_histogram(dropoff_events, steps)
    assert not hist.duplicated(["step_no", "bucket"]).any()
    assert len(hist) == 2 * len(F.DEFAULT_TIME_BINS)
    pd.testing.assert_frame_equal(dropoff_events, before)


def test_plots_draw_the_tables(dropoff_events):
    steps = ["A", "B", "C"]
    fig = F.plot_funnel(F.funnel(dropoff_events, steps))
    assert fig.layout.title.text and fig.layout.yaxis.title.text == "customers"
    assert [t.name for t in fig.data] == ["strict sequence", "step attained"]
    assert list(fig.data[0].y) == [5, 3, 2]  # unbounded: c's C two days later counts
    seg = F.plot_funnel(F.funnel(dropoff_events, steps, segment="device"))
    assert "by device" in seg.layout.title.text
    hist = F.plot_time_to_convert(F.time_to_convert_histogram(dropoff_events, steps))
    assert hist.layout.xaxis.title.text and len(hist.data) == 2
    by = F.plot_funnel_by_segment(F.funnel_by_segment(seg_events(), ["A", "B"], segment="device"))
    assert "chi-square p" in by.layout.title.text and list(by.data[0].x) == ["desktop", "mobile"]


def test_plots_in_bahasa_indonesia(dropoff_events):
    steps = ["A", "B", "C"]
    fig = F.plot_funnel(F.funnel(dropoff_events, steps), language="id")
    assert fig.layout.title.text == "Funnel: pelanggan per langkah"
    assert (fig.layout.xaxis.title.text, fig.layout.yaxis.title.text) == ("langkah", "pelanggan")
    assert [t.name for t in fig.data] == ["berurutan", "langkah tercapai"]
    seg = F.plot_funnel(F.funnel(dropoff_events, steps, segment="device"), language="id")
    assert seg.layout.title.text == "Konversi funnel dari langkah 1 menurut perangkat (berurutan)"
    hist = F.time_to_convert_histogram(dropoff_events, steps)
    fig = F.plot_time_to_convert(hist, language="id")
    assert fig.layout.title.text == "Waktu dari langkah 1 ke setiap langkah (berurutan)"
    # the bucket units in Indonesian: 0 s-1 min ... >= 30 d
    assert list(fig.data[0].x)[0] == "0 detik–1 menit" and list(fig.data[0].x)[-1] == "≥ 30 hari"
    assert F.bucket_label("1 h–3 h", "id") == "1 jam–3 jam"
    assert F.bucket_label("1 h–3 h") == "1 h–3 h"
    table = pd.DataFrame(
        {
            "device": ["desktop", "mobile"],
            "conversion": [0.5, 0.25],
            "ci_low": [0.4, 0.2],
            "ci_high": [0.6, 0.3],
            "chi2_p_value": [0.0123, 0.0123],
        }
    )
    by = F.plot_funnel_by_segment(table, language="id")
    # p to three significant digits, with the Indonesian decimal comma
    assert by.layout.title.text == "Konversi funnel menurut perangkat (chi-square p = 0,0123)"
    assert by.layout.xaxis.title.text == "perangkat"
    assert by.layout.yaxis.title.text == "konversi (langkah 1 hingga langkah terakhir)"
    assert F.plot_funnel_by_segment(table).layout.title.text == (
        "Funnel conversion by device (chi-square p = 0.0123)"
    )


# ---------------------------------------------------------------------------------------------
# Independent reference on real data (retentioneering simple online shop)
# ---------------------------------------------------------------------------------------------
def reference_funnel(
    journeys: list[list[tuple[pd.Timestamp, str]]],
    steps: list[str],
    window: pd.Timedelta | None = None,
    exclude=(),
) -> tuple[list[int], list[int], list[int]]:
    """Slow per-customer loop: (strict, attained, disagree) customers per step.

    ``journeys`` holds each customer's (ts, event) rows. Walks them in order (time, then the
    event's first position in ``steps``) and advances a pointer whenever the next needed step
    appears.
    """
    n = len(steps)
    rank: dict[str, int] = {}
    for i, e in enumerate(steps):
        rank.setdefault(e, i)
    strict, attained, disagree = [0] * n, [0] * n, [0] * n
    for customer_rows in journeys:
        rows = sorted(customer_rows, key=lambda r: (r[0], rank.get(r[1], n)))
        starts = [t for t, e in rows if e == steps[0]]
        if not starts:
            continue
        t1 = starts[0]
        end = t1 + window if window is not None else None
        cuts = [t for t, e in rows if e in exclude and t > t1]
        if cuts and (end is None or cuts[0] < end):
            end = cuts[0]
        journey = [e for t, e in rows if t >= t1 and (end is None or t <= end) and e in rank]
        k = 0
        for e in journey:
            if k < n and e == steps[k]:
                k += 1
        have = Counter(journey)
        a = 0
        while a < n and all(have[e] >= m for e, m in Counter(steps[: a + 1]).items()):
            a += 1
        for j in range(n):
            strict[j] += k > j
            attained[j] += a > j
            disagree[j] += (k > j) != (a > j)
    return strict, attained, disagree


@pytest.fixture(scope="module")
def simple_shop(shared_datasets) -> dict[str, tuple[pd.DataFrame, list]]:
    """The event log as given ("exact": no tied timestamps) and floored to the minute."""
    raw = pd.read_csv(shared_datasets / "retentioneering_simple_shop" / "simple-onlineshop.csv")
    exact = pd.DataFrame(
        {
            "customer_id": raw["user_id"].astype(str),
            "ts": pd.to_datetime(raw["timestamp"], utc=True).astype("datetime64[us, UTC]"),
            "event": raw["event"],
            "session_id": "s",
            "channel": "direct",
            "device": "desktop",
        }
    )
    out = {}
    for name, df in (("exact", exact), ("minute", exact.assign(ts=exact["ts"].dt.floor("min")))):
        journeys = [
            list(zip(g["ts"], g["event"], strict=True)) for _, g in df.groupby("customer_id")
        ]
        out[name] = (df, journeys)
    return out


SHOP_FUNNELS = [
    (["catalog", "product1", "cart", "payment_done"], None, ()),
    (["product1", "product2", "cart"], pd.Timedelta("1h"), ()),  # the definitions disagree
    (["catalog", "cart", "payment_done"], pd.Timedelta("7D"), ("main",)),
    (["catalog", "cart", "catalog", "payment_done"], None, ()),  # a repeated step
]


@pytest.fixture(scope="module")
def shop_timelines(simple_shop, tmp_path_factory) -> dict:
    """The same logs as processed folders with event timelines (what ingest writes)."""
    return {
        ties: timeline_engine(df, tmp_path_factory.mktemp(f"shop-{ties}"))
        for ties, (df, _) in simple_shop.items()
    }


@pytest.mark.shared_data
@pytest.mark.parametrize("source", ["events", "timelines"])
@pytest.mark.parametrize("ties", ["exact", "minute"])
@pytest.mark.parametrize(("steps", "window", "exclude"), SHOP_FUNNELS)
def test_funnel_matches_slow_reference_on_simple_shop(
    simple_shop, shop_timelines, steps, window, exclude, ties, source
):
    df, journeys = simple_shop[ties]
    strict, attained, disagree = reference_funnel(journeys, steps, window, exclude)
    engine = engine_for(events=df) if source == "events" else shop_timelines[ties]
    out = F.funnel(engine, steps, window=window, exclude=exclude)
    assert counts(out) == strict
    assert counts(out, "attained") == attained
    assert out["disagree"].tolist() == disagree
    assert strict[-1] > 0 and strict[0] > strict[-1]  # a funnel that actually narrows


@pytest.mark.shared_data
def test_reference_cases_exercise_ties_and_disagreement(simple_shop):
    (exact, exact_j), (floored, floored_j) = simple_shop["exact"], simple_shop["minute"]
    assert not exact.duplicated(["customer_id", "ts"]).any()
    assert floored.duplicated(["customer_id", "ts"]).sum() > 10_000
    for journeys in (exact_j, floored_j):
        _, _, dis = reference_funnel(journeys, *SHOP_FUNNELS[1][:2])
        assert dis[-1] > 0  # the two definitions really differ on this data


# ---------------------------------------------------------------------------------------------
# Planted truth (synthetic client)
# ---------------------------------------------------------------------------------------------
PURCHASE_FUNNEL = ["view_item", "add_to_cart", "begin_checkout", "purchase"]


def test_desktop_converts_more_than_mobile(synth_client):
    out = F.funnel_by_segment(synth_client.engine, PURCHASE_FUNNEL, segment="device")
    out = out.set_index("device")
    # planted: desktop sessions +0.45 purchase log-odds vs mobile
    assert out.loc["desktop", "conversion"] > out.loc["mobile", "conversion"]
    assert out.loc["desktop", "p_value_vs_rest"] < 0.05
    assert out.loc["desktop", "ci_low"] > out.loc["mobile", "ci_high"]
    assert out["chi2_p_value"].iloc[0] < 0.05


def test_checkout_incident_on_mobile(synth_client):
    inc = synth_client.effects["incident"]
    ev = synth_client.engine.query(
        "SELECT customer_id, ts, event, session_id, channel, device FROM events "
        "WHERE device = $d AND event IN ('begin_checkout', 'purchase')",
        {"d": inc["device"]},
    )
    start = pd.Timestamp(inc["first_day"], tz="Asia/Jakarta").tz_convert("UTC")
    end = (pd.Timestamp(inc["last_day"], tz="Asia/Jakarta") + pd.Timedelta("1D")).tz_convert("UTC")
    inside = ev["ts"].ge(start) & ev["ts"].lt(end)
    # session-level checkout funnel: each session is one journey (customer_id := session_id)
    sessions = ev.assign(
        customer_id=ev["session_id"], incident=np.where(inside, "inside", "outside")
    )
    out = F.funnel_by_segment(sessions, ["begin_checkout", "purchase"], segment="incident")
    out = out.set_index("incident")
    # planted: 85% of checkout sessions hit the bug and only 10% of those purchases complete
    assert out.loc["inside", "customers"] >= 10
    assert out.loc["inside", "conversion"] < 0.5 * out.loc["outside", "conversion"]
    assert out.loc["inside", "p_value_vs_rest"] < 0.01
