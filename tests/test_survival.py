"""Kaplan-Meier retention curves (journeylib.survival).

Expected numbers are worked out by hand in the comments, taken from the survival textbooks
(Freireich 6-MP data) or computed by a slow loop written here, independent of the vectorised
code under test.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd
import pytest

from journeylib.engine import engine_for
from journeylib.survival import (
    KM_COLUMNS,
    customer_lifetimes,
    kaplan_meier,
    lifetime_curves,
    median_survival,
    plot_survival,
    survival_at,
)

Z95 = 1.959963984540054  # the 97.5% normal quantile


def loglog_band(s: float, var: float, z: float = Z95) -> tuple[float, float]:
    """The log(-log) interval written out: S ** exp(-+ z sqrt(var) / log S)."""
    w = z * math.sqrt(var) / math.log(s)
    return s ** math.exp(-w), s ** math.exp(w)


# ---- hand-computed -----------------------------------------------------------------------------
def test_hand_computed_ties_and_censoring():
    # 8 customers: durations 0*, 2*, 3*, 3*, 3, 5, 5*, 8 (* = churned, else still active).
    # Rule: at a tied time, events come before censorings, so the customer censored at 3 is in
    # the risk set at 3, and the one censored at 5 is at risk at 5.
    #   t=0: n=8, d=1 -> S = 7/8          = 0.875;  V = 1/(8*7) = 1/56
    #   t=2: n=7, d=1 -> S = 7/8 * 6/7    = 0.75;   V += 1/(7*6) = 1/42   (sum 1/24)
    #   t=3: n=6, d=2, c=1 -> S = 0.75 * 4/6 = 0.5; V += 2/(6*4) = 1/12 (sum 1/8)
    #   t=5: n=3, d=1, c=1 -> S = 0.5 * 2/3 = 1/3;  V += 1/(3*2) = 1/6  (sum 7/24)
    #   t=8: n=1, d=0, c=1 -> S = 1/3 (a censoring: no step)
    # Greenwood se = S sqrt(V): at t=3, 0.5 * sqrt(1/8) = 0.1767767.
    durations = [0, 2, 3, 3, 3, 5, 5, 8]
    churned = [True, True, True, True, False, False, True, False]
    km = kaplan_meier(durations, churned)
    assert list(km.columns) == list(KM_COLUMNS)
    assert km["group"].tolist() == ["all"] * 5
    assert km["time"].tolist() == [0, 2, 3, 5, 8]
    assert km["at_risk"].tolist() == [8, 7, 6, 3, 1]
    assert km["events"].tolist() == [1, 1, 2, 1, 0]
    assert km["censored"].tolist() == [0, 0, 1, 1, 1]
    np.testing.assert_allclose(km["survival"], [7 / 8, 3 / 4, 1 / 2, 1 / 3, 1 / 3])
    var = np.array([1 / 56, 1 / 24, 1 / 8, 7 / 24, 7 / 24])
    np.testing.assert_allclose(km["se"], km["survival"] * np.sqrt(var))
    assert km["se"].iloc[2] == pytest.approx(0.1767767, abs=1e-7)
    # log-log band at t=3: log S = -0.693147, z sqrt(V) / log S = 1.959964 * 0.353553 / -0.693147
    # = -0.999719; lower = 0.5 ** e^0.999719 = 0.5 ** 2.717518 = 0.152036,
    # upper = 0.5 ** e^-0.999719 = 0.5 ** 0.367983 = 0.774865
    assert km["lower"].iloc[2] == pytest.approx(0.152036, abs=1e-6)
    assert km["upper"].iloc[2] == pytest.approx(0.774865, abs=1e-6)
    for i in range(5):
        lo, up = loglog_band(km["survival"].iloc[i], var[i])
        assert km["lower"].iloc[i] == pytest.approx(lo, rel=1e-12)
        assert km["upper"].iloc[i] == pytest.approx(up, rel=1e-12)
    # median: the first time S <= 0.5 is 3
    med = median_survival(km)
    assert med[["n", "events", "median"]].to_dict("records") == [
        {"n": 8, "events": 5, "median": 3.0}
    ]


def test_timeline_reads_the_step_function_and_counts_per_interval():
    # the example above read at 1, 3, 6, 10 (as R's summary(fit, times=)):
    #   t=1: S(1) = 7/8; at risk = durations >= 1: 7; events in [0, 1]: 1 (the 0)
    #   t=3: S = 1/2; at risk 6; events in (1, 3]: the 2 and two 3s = 3; censored: one 3
    #   t=6: S = 1/3; at risk 1 (the 8); events in (3, 6]: one 5; censored one 5
    #   t=10: beyond the largest duration (8, censored): unknown -> NaN; the censored 8 counts
    km = kaplan_meier(
        [0, 2, 3, 3, 3, 5, 5, 8], [1, 1, 1, 1, 0, 0, 1, 0], timeline=range(10, 0, -3)
    )  # 10, 7, 4, 1: sorted -> 1, 4, 7, 10
    assert km["time"].tolist() == [1.0, 4.0, 7.0, 10.0]
    km = kaplan_meier([0, 2, 3, 3, 3, 5, 5, 8], [1, 1, 1, 1, 0, 0, 1, 0], timeline=[1, 3, 6, 10])
    assert km["at_risk"].tolist() == [7, 6, 1, 0]
    assert km["events"].tolist() == [1, 3, 1, 0]
    assert km["censored"].tolist() == [0, 1, 1, 1]
    np.testing.assert_allclose(km["survival"].iloc[:3], [7 / 8, 1 / 2, 1 / 3])
    assert km[["survival", "se", "lower", "upper"]].iloc[3].isna().all()


def test_survival_at_before_between_and_after():
    km = kaplan_meier([1, 2, 2, 3], [1, 1, 0, 0])
    # S = 3/4 after 1, 3/4 * 2/3 = 1/2 after 2; the 3 is censored: nothing known after 3
    out = survival_at(km, [0.5, 1, 2.5, 3, 4])
    np.testing.assert_allclose(out["survival"].iloc[:4], [1.0, 0.75, 0.5, 0.5])
    assert np.isnan(out["survival"].iloc[4])
    assert out["at_risk"].tolist() == [4, 4, 1, 1, 0]  # durations >= t
    assert out[["se", "lower", "upper"]].iloc[0].tolist() == [0.0, 1.0, 1.0]
    # a curve that reaches 0 is known to stay at 0
    ended = survival_at(kaplan_meier([1, 2], [1, 1]), [5])
    assert ended["survival"].tolist() == [0.0]


# ---- a published reference ---------------------------------------------------------------------
# Freireich et al. (1963), 6-MP arm, weeks of remission (* = relapse, the event; others censored).
MP6 = [6, 6, 6, 6, 7, 9, 10, 10, 11, 13, 16, 17, 19, 20, 22, 23, 25, 32, 32, 34, 35]
MP6_RELAPSE = [1, 1, 1, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0]


def test_freireich_6mp_textbook_values():
    km = kaplan_meier(pd.Series(MP6, name="weeks"), pd.Series(MP6_RELAPSE, name="relapse"))
    at = km.set_index("time")
    # Klein & Moeschberger (2003) Table 4.1B, Kleinbaum & Klein ch. 2: product-limit estimate
    # and Greenwood standard error at the relapse times 6, 7, 10, 13, 16, 22, 23.
    # By hand: 18/21 = 0.8571; *16/17 = 0.8067; *14/15 = 0.7529; *11/12 = 0.6902;
    # *10/11 = 0.6275; *6/7 = 0.5378; *5/6 = 0.4482.
    textbook = {
        6: (0.857, 0.0764),
        7: (0.807, 0.0869),
        10: (0.753, 0.0963),
        13: (0.690, 0.1068),
        16: (0.627, 0.1141),
        22: (0.538, 0.1282),
        23: (0.448, 0.1346),
    }
    for t, (s, se) in textbook.items():
        assert at.loc[t, "survival"] == pytest.approx(s, abs=5e-4)
        assert at.loc[t, "se"] == pytest.approx(se, abs=5e-5)
    # n at risk: 21 at 6, 17 at 7 (3 relapses and 1 censored at 6), 15 at 10, 12 at 13
    assert at.loc[[6, 7, 10, 13], "at_risk"].tolist() == [21, 17, 15, 12]
    # Greenwood at 6 by hand: 0.857143 * sqrt(3 / (21 * 18)) = 0.857143 * 0.0890871 = 0.076360
    assert at.loc[6, "se"] == pytest.approx(0.857143 * math.sqrt(3 / 378), abs=1e-6)
    # log-log 95% band at 6 by hand: log S = -0.154151, sigma = 0.0890871,
    # w = 1.959964 * 0.0890871 / -0.154151 = -1.132690;
    # lower = 0.857143 ** e^1.132690 = 0.857143 ** 3.104035 = 0.6197,
    # upper = 0.857143 ** e^-1.132690 = 0.857143 ** 0.322161 = 0.9516
    # (R: survfit(Surv(time, relapse) ~ 1, conf.type = "log-log") prints 0.620, 0.952)
    assert at.loc[6, "lower"] == pytest.approx(0.6197, abs=1e-4)
    assert at.loc[6, "upper"] == pytest.approx(0.9516, abs=1e-4)
    # the textbook median remission time of the 6-MP arm is 23 weeks; the band's lower curve
    # first reaches 0.5 at 13 (S=0.690: lower 0.4316), the upper curve never does
    med = median_survival(km)
    assert med[["n", "events", "median", "lower"]].iloc[0].tolist() == [21, 9, 23.0, 13.0]
    assert np.isnan(med["upper"].iloc[0])


# ---- an independent slow reference -------------------------------------------------------------
def slow_km(durations, events, z=Z95):
    """Product-limit estimate by a plain loop over the distinct times (one group)."""
    rows, s, v = [], 1.0, 0.0
    for t in sorted(set(durations)):
        n = sum(1 for u in durations if u >= t)
        d = sum(1 for u, e in zip(durations, events, strict=True) if u == t and e)
        c = sum(1 for u, e in zip(durations, events, strict=True) if u == t and not e)
        s *= 1 - d / n
        v += d / (n * (n - d)) if d < n else math.inf
        if s == 1:
            se, lo, up = 0.0, 1.0, 1.0
        elif s == 0:
            se, lo, up = math.nan, math.nan, math.nan
        else:
            se = s * math.sqrt(v)
            lo, up = loglog_band(s, v, z)
        rows.append((t, n, d, c, s, se, lo, up))
    return rows


def test_matches_a_slow_reference_by_group_on_random_ties():
    rng = np.random.default_rng(11)
    n = 600
    durations = rng.integers(0, 25, n)  # few distinct values: many ties
    events = rng.random(n) < 0.55
    groups = rng.choice(["x", "y", "z"], n, p=[0.5, 0.4, 0.1])
    durations[groups == "z"] = np.minimum(durations[groups == "z"], 3)  # curve hits 0 early?
    frame = pd.DataFrame({"d": durations, "e": events, "g": groups})
    before = frame.copy()
    km = kaplan_meier(frame["d"], frame["e"], groups=frame["g"], confidence=0.9)
    pd.testing.assert_frame_equal(frame, before)  # input never mutated
    assert km.attrs == {"confidence": 0.9, "group_name": "g"}
    z90 = 1.6448536269514722
    for g in ["x", "y", "z"]:
        part = km[km["group"] == g]
        sel = groups == g
        ref = np.array(slow_km(durations[sel].tolist(), events[sel].tolist(), z90), dtype=float)
        got = part[list(KM_COLUMNS[1:])].to_numpy(dtype=float)
        np.testing.assert_allclose(got, ref, rtol=1e-10, equal_nan=True)
    assert km["group"].tolist() == sorted(km["group"].tolist())  # sorted labels, then time
    assert not km.duplicated(["group", "time"]).any()  # grain: group x distinct time


# ---- edge cases --------------------------------------------------------------------------------
def test_all_censored_zero_durations_and_a_curve_reaching_zero():
    # nobody churned: S = 1 throughout, no uncertainty, no median
    km = kaplan_meier([3, 1, 2], [False, False, False])
    assert km["survival"].tolist() == [1.0, 1.0, 1.0]
    assert km[["se", "lower", "upper"]].to_numpy().tolist() == [[0.0, 1.0, 1.0]] * 3
    assert np.isnan(median_survival(km)["median"].iloc[0])
    # zero durations: churn at 0 (1 of 4) -> the curve starts at 3/4; censored at 0 stay in n
    km = kaplan_meier([0, 0, 1, 2], [1, 0, 1, 0])
    assert km["time"].tolist() == [0, 1, 2]
    assert km["at_risk"].tolist() == [4, 2, 1]
    np.testing.assert_allclose(km["survival"], [0.75, 0.375, 0.375])  # 3/4, 3/4 * 1/2
    # everyone churns: S reaches 0, where Greenwood's se and the log-log band are undefined
    km = kaplan_meier([1, 2], [1, 1])
    assert km["survival"].tolist() == [0.5, 0.0]
    assert km[["se", "lower", "upper"]].iloc[1].isna().all()
    assert median_survival(km)["median"].tolist() == [1.0]


def test_empty_input_and_empty_groups():
    km = kaplan_meier([], [])
    assert km.empty and list(km.columns) == list(KM_COLUMNS)
    assert median_survival(km).empty and survival_at(km, [1]).empty
    # a category without customers gives no rows; the category order and dtype stay
    groups = pd.Categorical(["b", "b", "c"], categories=["c", "a", "b"])
    km = kaplan_meier([1, 2, 1], [1, 0, 1], groups=groups)
    assert km["group"].tolist() == ["c", "b", "b"]
    assert list(km["group"].cat.categories) == ["c", "a", "b"]
    assert median_survival(km)["group"].tolist() == ["c", "b"]
    timeline = kaplan_meier([1, 2, 1], [1, 0, 1], groups=groups, timeline=[1, 2])
    assert timeline["group"].tolist() == ["c", "c", "b", "b"]
    assert len(plot_survival(km).data) == 2 * 3  # band (2 traces) + curve per group


def test_bad_inputs_name_the_column_and_count_never_values():
    secret = 123.456
    tenure = pd.Series([1.0, np.nan, secret, np.nan], name="tenure")
    with pytest.raises(ValueError, match=r"durations \(column 'tenure'\) has 2 missing") as exc:
        kaplan_meier(tenure, [1, 0, 1, 0])
    assert "123" not in str(exc.value) and "first row positions: 1, 3" in str(exc.value)
    with pytest.raises(ValueError, match=r"events \(column 'Churn'\) has 1 missing"):
        kaplan_meier([1, 2], pd.Series([True, None], dtype="boolean", name="Churn"))
    with pytest.raises(ValueError, match=r"groups \(column 'persona'\) has 1 missing"):
        kaplan_meier([1, 2], [1, 0], groups=pd.Series(["a", None], name="persona"))
    with pytest.raises(ValueError, match="only 0/1.*1 row"):
        kaplan_meier([1, 2], [1, 2])
    with pytest.raises(TypeError, match="boolean or 0/1"):
        kaplan_meier([1, 2], pd.Series(["Yes", "No"], name="Churn"))
    with pytest.raises(TypeError, match="must be numeric"):
        kaplan_meier(pd.Series(["1", "2"]), [1, 0])
    with pytest.raises(ValueError, match="1 negative"):
        kaplan_meier([-1, 2], [1, 0])
    with pytest.raises(ValueError, match="1 infinite"):
        kaplan_meier([np.inf, 2], [1, 0])
    with pytest.raises(ValueError, match="has 3 rows but durations has 2"):
        kaplan_meier([1, 2], [1, 0, 1])
    with pytest.raises(ValueError, match="confidence"):
        kaplan_meier([1, 2], [1, 0], confidence=95)
    with pytest.raises(ValueError, match="not a kaplan_meier table"):
        median_survival(pd.DataFrame({"time": [1]}))


def test_a_million_durations_in_a_few_seconds():
    rng = np.random.default_rng(5)
    n = 1_000_000
    # churn after Exp(mean 100) days, censored independently after Exp(mean 200) days;
    # durations all distinct: the largest table
    churn, censor = rng.exponential(100.0, n), rng.exponential(200.0, n)
    durations, events = np.minimum(churn, censor), churn <= censor
    groups = rng.choice(["a", "b", "c", "d"], n)
    start = time.perf_counter()
    km = kaplan_meier(durations, events, groups=groups)
    elapsed = time.perf_counter() - start
    assert len(km) == n
    assert elapsed < 10, f"kaplan_meier took {elapsed:.1f} s for 1M durations"
    # with independent censoring the estimate recovers S(t) = exp(-t/100) in every group
    at = survival_at(km, [100.0])
    np.testing.assert_allclose(at["survival"], math.exp(-1), atol=0.01)


# ---- non-contractual lifetimes -----------------------------------------------------------------
def _ts(*values: str) -> pd.Series:
    return pd.Series(pd.to_datetime(list(values), utc=True, format="ISO8601"))


@pytest.fixture
def shop():
    """Orders and events of a tiny shop; as_of 2025-03-31, so the cut-off is 2025-04-01 00:00
    UTC and, with 30 days of inactivity, churned means last activity before 2025-03-02 00:00."""
    orders = pd.DataFrame(
        {
            "order_id": ["1", "2", "3", "4", "5", "6", "7", "8"],
            "customer_id": ["a", "a", "b", "b", "c", "d", "d", "e"],
            "ts": _ts(
                "2025-01-01 10:00", "2025-01-21 10:00",  # a: last order 40 days before the window
                "2025-02-01 00:00", "2025-03-15 12:00",  # b: ordered inside the window
                "2025-03-02 00:00",  # c: exactly at the window start -> active
                "2025-01-10 00:00", "2025-04-01 00:00",  # d: 2nd order at the cut-off: ignored
                "2025-04-05 00:00",  # e: only after as_of -> not a customer yet
            ),
        }
    )  # fmt: skip
    events = pd.DataFrame(
        {
            "customer_id": ["a", "f", "d", "h"],
            "event": ["page_view"] * 4,
            "ts": _ts(
                "2025-03-20 00:00",  # a: browsing inside the window
                "2025-01-05 00:00",  # f: never ordered
                "2025-03-31 23:59:59",  # d: on the as_of day: counts
                "2025-05-01 00:00",  # h: after as_of
            ),
        }
    )
    customers = pd.DataFrame(
        {
            "customer_id": ["a", "b", "g", "h"],
            "first_seen": _ts("2025-01-01", "2024-12-01", "2025-01-01", "2025-05-01"),
        }
    )
    return orders, events, customers


def _records(lt: pd.DataFrame) -> dict[str, tuple[float, bool]]:
    return {r.customer_id: (round(r.duration_days, 6), bool(r.churned)) for r in lt.itertuples()}


def test_customer_lifetimes_from_orders(shop):
    orders, events, _ = shop
    lt = customer_lifetimes(
        engine_for(orders=orders, events=events), as_of="2025-03-31", inactivity_days=30
    )
    assert list(lt.columns) == ["customer_id", "start", "last_activity", "duration_days", "churned"]
    # a: churned (last order 2025-01-21 < 2025-03-02): 01-01 10:00 -> 01-21 10:00 = 20 days
    # b: active: 02-01 -> end of as_of day 04-01 = 28 + 31 = 59 days
    # c: its only order is exactly at the window start (not before it): active, 30 days
    # d: the order at 04-01 00:00 is not before the cut-off: last order 01-10, churned, 0 days
    # e (order after as_of), f (no order) are not buyers as of 03-31
    assert _records(lt) == {
        "a": (20.0, True),
        "b": (59.0, False),
        "c": (30.0, False),
        "d": (0.0, True),
    }
    assert lt["last_activity"].iloc[3] == pd.Timestamp("2025-01-10", tz="UTC")
    assert lt.attrs["as_of"] == "2025-03-31" and lt.attrs["inactivity_days"] == 30.0


def test_customer_lifetimes_any_activity_and_first_seen(shop):
    orders, events, customers = shop
    eng = engine_for(orders=orders, events=events, customers=customers)
    lt = customer_lifetimes(eng, as_of="2025-03-31", inactivity_days=30, activity="any")
    # a browsed on 03-20 (inside the window): active, 01-01 10:00 -> 04-01 = 89 days 14 hours
    # d browsed on 03-31 23:59:59 (on the as_of day): active, 01-10 -> 04-01 = 81 days
    assert _records(lt) == {
        "a": (round(89 + 14 / 24, 6), False),
        "b": (59.0, False),
        "c": (30.0, False),
        "d": (81.0, False),
    }
    lt = customer_lifetimes(
        eng, as_of="2025-03-31", inactivity_days=30, activity="orders", start="first_seen"
    )
    # start = earliest of customers.first_seen and any event/order (before the cut-off):
    # a: first_seen 01-01 00:00, last order 01-21 10:00 -> churned, 20 days 10 hours
    # b: first_seen 2024-12-01 -> active, 2024-12-01 -> 2025-04-01 = 31+31+28+31 = 121 days
    # f: seen 01-05 (event), never ordered: the start is its last activity -> churned, 0 days
    # g: first_seen 01-01, nothing else -> churned, 0 days; h: first seen after as_of: absent
    assert _records(lt) == {
        "a": (round(20 + 10 / 24, 6), True),
        "b": (121.0, False),
        "c": (30.0, False),
        "d": (0.0, True),
        "f": (0.0, True),
        "g": (0.0, True),
    }


def test_customer_lifetimes_ignore_rows_after_as_of(shop):
    orders, events, customers = shop
    base = customer_lifetimes(
        engine_for(orders=orders, events=events, customers=customers),
        as_of="2025-03-31",
        inactivity_days=30,
        activity="any",
        start="first_seen",
    )
    later = pd.DataFrame(
        {
            "order_id": ["9", "10"],
            "customer_id": ["a", "z"],
            "ts": _ts("2025-04-01 00:00", "2025-06-01"),
        }
    )
    more_events = pd.DataFrame(
        {"customer_id": ["g"], "event": ["page_view"], "ts": _ts("2025-04-02")}
    )
    again = customer_lifetimes(
        engine_for(
            orders=pd.concat([orders, later], ignore_index=True),
            events=pd.concat([events, more_events], ignore_index=True),
            customers=customers,
        ),
        as_of="2025-03-31",
        inactivity_days=30,
        activity="any",
        start="first_seen",
    )
    pd.testing.assert_frame_equal(base, again)


def test_customer_lifetimes_bad_arguments(shop):
    orders, events, _ = shop
    eng = engine_for(orders=orders, events=events)
    with pytest.raises(ValueError, match="inactivity_days must be a positive number"):
        customer_lifetimes(eng, as_of="2025-03-31", inactivity_days=0)
    with pytest.raises(ValueError, match="activity must be one of"):
        customer_lifetimes(eng, as_of="2025-03-31", inactivity_days=30, activity="visits")
    with pytest.raises(ValueError, match="as_of must be a date"):
        customer_lifetimes(eng, as_of="soon", inactivity_days=30)
    with pytest.raises(ValueError, match="needs an orders table"):
        customer_lifetimes(engine_for(events=events), as_of="2025-03-31", inactivity_days=30)
    # events alone are enough for activity="any" from first sight
    lt = customer_lifetimes(
        engine_for(events=events),
        as_of="2025-03-31",
        inactivity_days=30,
        activity="any",
        start="first_seen",
    )
    assert lt["customer_id"].tolist() == ["a", "d", "f"]


def test_lifetime_curves_by_segment(shop):
    orders, events, _ = shop
    lt = customer_lifetimes(
        engine_for(orders=orders, events=events), as_of="2025-03-31", inactivity_days=30
    )
    segments = pd.DataFrame({"customer_id": ["a", "b", "c", "x"], "persona": ["p", "q", "p", "q"]})
    km = lifetime_curves(lt, segments=segments, by="persona")
    # d has no persona -> "(none)"; x has no lifetime -> ignored
    # p: a churned at 20, c censored at 30 -> S(20) = 1/2; q: b censored at 59 -> S = 1
    assert km[["group", "time", "survival"]].values.tolist() == [
        ["(none)", 0.0, 0.0],
        ["p", 20.0, 0.5],
        ["p", 30.0, 0.5],
        ["q", 59.0, 1.0],
    ]
    assert km.attrs["group_name"] == "persona"
    overall = lifetime_curves(lt)
    assert overall["group"].unique().tolist() == ["all"]
    with pytest.raises(ValueError, match="one row per customer_id; 1 customer_id"):
        lifetime_curves(lt, segments=pd.concat([segments, segments.iloc[:1]]), by="persona")


def test_lifetimes_on_synthetic_data_follow_the_planted_churn(synth_client):
    # Planted churners stop all activity at churn_time. Whoever churned more than 60 days
    # before the cut-off (2025-07-01 00:00 UTC; one day of slack for the truth's local clock)
    # therefore has no activity in the window: every one of them must be labelled churned.
    eng = synth_client.engine
    lt = customer_lifetimes(eng, as_of="2025-06-30", inactivity_days=60, activity="any")
    truth = synth_client.truth.set_index("customer_id")[["churned", "churn_time"]]
    lt = lt.join(truth.rename(columns={"churned": "planted"}), on="customer_id", how="inner")
    planted = lt["planted"].astype(bool)
    churn_time = pd.to_datetime(lt["churn_time"])
    early = planted & (churn_time < pd.Timestamp("2025-07-01") - pd.Timedelta(days=61))
    assert early.sum() > 30
    assert lt.loc[early, "churned"].all()
    # planted survivors are labelled churned far less often (only a long natural pause)
    assert lt.loc[~planted, "churned"].mean() < lt.loc[planted, "churned"].mean() - 0.2
    # and their retention curve lies above that of the planted churners
    km = kaplan_meier(
        lt["duration_days"], lt["churned"], groups=planted.map({True: "y", False: "n"})
    )
    at = survival_at(km, [60.0]).set_index("group")["survival"]
    assert at["y"] < at["n"]


# ---- contractual data: IBM Telco ---------------------------------------------------------------
def loop_survival_at(durations: np.ndarray, events: np.ndarray, at: float) -> float:
    """S(at) by the product over event times <= at of (1 - deaths / at risk), a plain loop."""
    s = 1.0
    for t in sorted(set(durations[events].tolist())):
        if t > at:
            break
        s *= 1 - ((durations == t) & events).sum() / (durations >= t).sum()
    return s


@pytest.mark.shared_data
def test_telco_retention_by_contract(shared_datasets):
    df = pd.read_csv(shared_datasets / "ibm_telco_churn" / "Telco-Customer-Churn_IBM.csv")
    assert set(df["Churn"]) == {"Yes", "No"}
    churn = df["Churn"] == "Yes"
    km = kaplan_meier(df["tenure"], churn, groups=df["Contract"])
    assert km.attrs["group_name"] == "Contract"
    assert set(km["group"]) == {"Month-to-month", "One year", "Two year"}
    # one row per contract x distinct tenure; the counts add up to the 7,043 customers, 1,869
    # churners
    assert (km["events"] + km["censored"]).sum() == 7043 and km["events"].sum() == 1869
    at24 = survival_at(km, [24]).set_index("group")["survival"]
    tenure = df["tenure"].to_numpy()
    for contract, value in at24.items():
        sel = (df["Contract"] == contract).to_numpy()
        assert value == pytest.approx(loop_survival_at(tenure[sel], churn.to_numpy()[sel], 24))
    # month-to-month customers leave much faster than one-year, who leave faster than two-year
    assert at24["Month-to-month"] < at24["One year"] < at24["Two year"]
    assert at24["Month-to-month"] < 0.7 and at24["Two year"] > 0.95
    med = median_survival(km).set_index("group")
    assert not np.isnan(med.loc["Month-to-month", "median"])
    assert np.isnan(med.loc["Two year", "median"])  # never falls to half
    fig = plot_survival(km, title="Telco retention by contract", time_label="months")
    assert [t.name for t in fig.data if t.showlegend is not False] == [
        "Month-to-month",
        "One year",
        "Two year",
    ]


def test_plot_draws_what_the_table_holds():
    km = kaplan_meier([1, 2, 2, 3], [1, 1, 0, 1], groups=["a", "a", "a", "a"])
    fig = plot_survival(km)
    upper, lower, curve = fig.data
    assert curve.line.shape == "hv" and lower.fill == "tonexty"
    # the curve starts at (0, 1), then follows the table
    assert list(curve.x) == [0.0, 1.0, 2.0, 3.0]
    np.testing.assert_allclose(curve.y, [1.0, *km["survival"]])
    # the band leaves out the point where S = 0 (undefined there)
    assert len(lower.x) == 3
    no_band = plot_survival(km, bands=False)
    assert len(no_band.data) == 1
    assert fig.layout.title.text == "Retention (Kaplan-Meier) with 95% confidence bands"
    assert curve.hovertemplate.startswith("a<br>time %{x}: %{y:.1%} surviving<br>95% band")
    # in Indonesian: the default title and the hover text; a given title is kept as given
    curve = plot_survival(km, language="id").data[2]
    assert curve.hovertemplate.startswith("a<br>waktu %{x}: %{y:.1%} masih aktif<br>selang 95%")
    assert plot_survival(km, language="id").layout.title.text == (
        "Retensi (Kaplan-Meier) dengan selang kepercayaan 95%"
    )
    assert plot_survival(km, title="Retensi", language="id").layout.title.text == "Retensi"
