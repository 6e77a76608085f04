"""BG/NBD, Gamma-Gamma and CLV (journeylib.clv).

Expected values come from (1) a tiny shop worked out by hand, (2) the published CDNOW estimates
of Fader, Hardie & Lee (../shared/datasets/README.md) and the lifetimes documentation example,
(3) the model formulas written out independently in the test, and (4) data simulated from the
models with known parameters.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import approx_fprime
from scipy.special import betaln, hyp2f1, roots_jacobi
from sklearn.exceptions import NotFittedError

from journeylib import clv
from journeylib.clv import (
    BetaGeoModel,
    ClvAssumptionWarning,
    ClvFitError,
    GammaGammaModel,
    customer_lifetime_value,
    rfm_summary,
)
from journeylib.engine import engine_for
from journeylib.sql import TimestampTypeError

# published CDNOW figures (README of ../shared/datasets)
BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
GG = {"p": 6.25, "q": 3.74, "v": 15.44}


def _utc(values: list[str]) -> pd.Series:
    return pd.Series(pd.to_datetime(values, utc=True)).astype("datetime64[us, UTC]")


def _orders() -> pd.DataFrame:
    rows = [
        ("o1", "a", "2025-01-01 10:00", "p1", 1.0, 10.0),
        ("o1", "a", "2025-01-01 10:00", "p2", 1.0, 5.0),
        ("o2", "a", "2025-01-01 18:00", "p1", 1.0, 5.0),  # same day: one purchase of 20
        ("o3", "a", "2025-01-11 09:00", "p1", 1.0, 30.0),
        ("o4", "a", "2025-01-31 23:59", "p3", 1.0, 50.0),  # on the as_of day: counts
        ("o5", "a", "2025-02-01 00:00", "p1", 1.0, 99.0),  # after the as_of day: ignored
        ("o6", "b", "2025-01-21 12:00", "p1", 2.0, 40.0),
        ("o7", "c", "2025-02-03 08:00", "p1", 1.0, 10.0),  # only after the cut-off: absent
        ("o8", None, "2025-01-05 08:00", "p1", 1.0, 10.0),  # no customer: ignored
    ]
    df = pd.DataFrame(
        rows, columns=["order_id", "customer_id", "ts", "product_id", "quantity", "revenue"]
    )
    df["ts"] = _utc(df["ts"].tolist())
    return df


# ---- rfm_summary -----------------------------------------------------------------------------
def test_rfm_summary_hand_computed_through_the_engine():
    orders = _orders()
    before = orders.copy()
    out = rfm_summary(engine_for(orders=orders), as_of="2025-01-31", unit="D")
    # a buys on Jan 1 (20), Jan 11 (30) and Jan 31 (50): x = 2 repeat days, t_x = 30 days,
    # T = Jan 1 -> Jan 31 = 30 days, mean repeat value (30 + 50) / 2 = 40.
    # b buys once on Jan 21: x = 0, t_x = 0, T = 10, no repeat value (NaN). c buys after.
    assert out["customer_id"].tolist() == ["a", "b"]
    assert out["frequency"].tolist() == [2, 0]
    assert out["recency"].tolist() == [30.0, 0.0]
    assert out["T"].tolist() == [30.0, 10.0]
    assert out["monetary_value"].iloc[0] == 40.0 and math.isnan(out["monetary_value"].iloc[1])
    assert out.attrs == {"unit": "D", "as_of": "2025-01-31"}
    pd.testing.assert_frame_equal(orders, before)  # input untouched

    weeks = rfm_summary(orders, as_of="2025-01-31")  # a frame works too; weeks by default
    np.testing.assert_allclose(weeks["recency"], [30 / 7, 0.0])
    np.testing.assert_allclose(weeks["T"], [30 / 7, 10 / 7])


def test_rfm_summary_calibration_start_and_no_value():
    cal = rfm_summary(_orders(), as_of="2025-01-31", unit="D", calibration_start="2025-01-05")
    # from Jan 5 on, a's purchases are Jan 11 (30) and Jan 31 (50): x = 1, t_x = T = 20, value 50
    assert cal.set_index("customer_id").loc["a"].tolist() == [1, 20.0, 20.0, 50.0]
    bare = rfm_summary(_orders(), as_of="2025-01-31", unit="D", value_col=None)
    assert list(bare.columns) == ["customer_id", "frequency", "recency", "T"]


def test_rfm_summary_errors():
    orders = _orders()
    with pytest.raises(ValueError, match="no purchases"):
        rfm_summary(orders, as_of="2024-12-31")
    with pytest.raises(ValueError, match="unit"):
        rfm_summary(orders, as_of="2025-01-31", unit="M")
    with pytest.raises(ValueError, match="as_of must be a date"):
        rfm_summary(orders, as_of="not a day")
    with pytest.raises(ValueError, match="lacks column"):
        rfm_summary(orders, as_of="2025-01-31", value_col="amount")
    with pytest.raises(ValueError, match="after as_of"):
        rfm_summary(orders, as_of="2025-01-31", calibration_start="2025-02-01")
    text = orders.assign(ts=orders["ts"].astype(str))
    with pytest.raises(TimestampTypeError):
        rfm_summary(text, as_of="2025-01-31")


def _cdnow(shared_datasets, name: str) -> pd.DataFrame:
    return pd.read_csv(shared_datasets / "cdnow" / name)


def _cdnow_sample(shared_datasets) -> pd.DataFrame:
    tx = pd.read_csv(
        shared_datasets / "cdnow" / "CDNOW_sample.txt",
        sep=r"\s+",
        header=None,
        names=["master_id", "sample_id", "date", "cds", "dollars"],
        dtype={"date": str},
    )
    tx["ts"] = pd.to_datetime(tx["date"], format="%Y%m%d")
    return tx


@pytest.mark.shared_data
def test_rfm_summary_reproduces_the_cdnow_calibration_summary(shared_datasets):
    # the published summary: ID = the sample id (2nd column), calibration period 1997-01-01 to
    # 1997-09-30 (39 weeks), recency and T in weeks rounded to 2 decimals; zbar (mean repeat
    # spend) in ..._with_transactions.csv, 0 for x = 0 there (NaN here)
    out = rfm_summary(
        _cdnow_sample(shared_datasets),
        as_of="1997-09-30",
        unit="W",
        customer_col="sample_id",
        value_col="dollars",
    )
    out["ID"] = out["customer_id"].astype(int)
    ref = _cdnow(shared_datasets, "cdnow_customers_summary.csv")
    zbar = _cdnow(shared_datasets, "cdnow_customers_summary_with_transactions.csv")
    zbar = zbar[["ID", "x", "zbar"]]
    both = ref.merge(out, on="ID", suffixes=("_ref", ""), validate="1:1").merge(zbar, on="ID")
    assert len(out) == len(ref) == len(both) == 2357
    assert (both["frequency"] == both["frequency_ref"]).all()
    assert (both["x"] == both["frequency"]).all()
    np.testing.assert_allclose(both["recency"], both["recency_ref"], atol=0.005 + 1e-9)
    np.testing.assert_allclose(both["T"], both["T_ref"], atol=0.005 + 1e-9)
    np.testing.assert_allclose(both["monetary_value"].fillna(0), both["zbar"], atol=0.005 + 1e-9)


# ---- BG/NBD ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def cdnow_bgnbd(shared_datasets):
    summary = _cdnow(shared_datasets, "cdnow_customers_summary.csv")
    return BetaGeoModel().fit(summary), summary


@pytest.mark.shared_data
def test_bgnbd_reproduces_cdnow(cdnow_bgnbd):
    model, summary = cdnow_bgnbd
    for name, published in BGNBD.items():
        assert model.params_[name] == pytest.approx(published, rel=0.01), name
    assert model.n_customers_ == 2357 and model.limit_ is None
    # Fader, Hardie & Lee (2005): expected repeat purchases of a new customer up to t weeks
    t = [0.1429, 1, 3, 31.8571, 32, 78]
    expected = [0.0078, 0.0532, 0.1506, 1.0405, 1.0437, 1.8576]
    np.testing.assert_allclose(model.expected_purchases(t), expected, rtol=0.01)
    one = pd.DataFrame({"frequency": [2], "recency": [30.43], "T": [38.86]})
    assert model.conditional_expected_purchases(39, one).iloc[0] == pytest.approx(1.226, rel=0.01)
    # standard errors exist and are positive; the summary table holds the estimates
    assert (model.standard_errors_ > 0).all()
    table = model.summary
    assert list(table.index) == ["r", "alpha", "a", "b"]
    assert (table["lower_95"] < table["estimate"]).all()
    assert (table["estimate"] < table["upper_95"]).all()
    assert "BG/NBD" in model._repr_html_()


@pytest.mark.shared_data
def test_bgnbd_probability_alive_by_the_formula(cdnow_bgnbd):
    model, summary = cdnow_bgnbd
    r, alpha, a, b = model.params_
    x, tx, T = summary["frequency"], summary["recency"], summary["T"]
    # P(alive) = 1 / (1 + a / (b + x - 1) ((alpha + T) / (alpha + t_x))^(r + x)) for x > 0;
    # 1 for x = 0 (BG/NBD customers can only drop out right after a repeat purchase)
    ratio = a / (b + np.maximum(x, 1) - 1) * ((alpha + T) / (alpha + tx)) ** (r + x)
    expected = np.where(x > 0, 1 / (1 + ratio), 1.0)
    got = model.probability_alive(summary)
    np.testing.assert_allclose(got, expected, rtol=1e-10)
    assert got.index.equals(summary.index)


@pytest.mark.shared_data
def test_bgnbd_expectation_equals_the_hypergeometric_closed_form(cdnow_bgnbd):
    model, summary = cdnow_bgnbd
    r, alpha, a, b = model.params_
    x, tx, T = (summary[c].to_numpy() for c in ("frequency", "recency", "T"))
    for t in (1.0, 39.0, 200.0):
        # eq. 10 of Fader, Hardie & Lee (2005), as printed
        z = t / (alpha + T + t)
        head = (a + b + x - 1) / (a - 1)
        tail = ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp2f1(r + x, b + x, a + b + x - 1, z)
        odds = np.where(
            x > 0, a / (b + np.maximum(x, 1) - 1) * ((alpha + T) / (alpha + tx)) ** (r + x), 0
        )
        expected = head * (1 - tail) / (1 + odds)
        got = model.conditional_expected_purchases(t, summary)
        np.testing.assert_allclose(got, expected, rtol=1e-9)


def test_beta_quadrature_matches_scipy_gauss_jacobi_and_beta_moments():
    for a, b in [(0.793, 2.426), (0.793, 12.426), (5.0, 3.0), (0.2, 0.3)]:
        node, weight = clv._beta_nodes(a, b)
        u, w = roots_jacobi(clv._NODES, b - 1, a - 1)
        np.testing.assert_allclose(np.sort(node), np.sort((1 + u) / 2), atol=1e-13)
        for k in (1, 2, 7):  # E[p^k] = B(a + k, b) / B(a, b)
            moment = math.exp(betaln(a + k, b) - betaln(a, b))
            assert (weight * node**k).sum() == pytest.approx(moment, rel=1e-12)
    # far beyond where scipy's weights overflow: the mean is still a / (a + b)
    node, weight = clv._beta_nodes(4e5, 3.6e6)
    assert (weight * node).sum() == pytest.approx(0.1, rel=1e-12)


def _simulate_bgnbd(n, r, alpha, a, b, seed, p_const=None):
    """Repeat purchases of BG/NBD customers observed for T in [10, 40] periods."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(r, 1 / alpha, n)
    p = rng.beta(a, b, n) if p_const is None else np.full(n, p_const)
    T = rng.uniform(10, 40, n)
    x, tx, t = np.zeros(n), np.zeros(n), np.zeros(n)
    active = np.ones(n, bool)
    while active.any():
        t[active] += rng.exponential(1 / lam[active])
        bought = active & (t <= T)
        x[bought] += 1
        tx[bought] = t[bought]
        active = bought & (rng.random(n) >= p)  # drop out after a repeat purchase
    return pd.DataFrame({"frequency": x, "recency": tx, "T": T})


def test_bgnbd_recovers_simulated_parameters():
    truth = {"r": 0.5, "alpha": 5.0, "a": 0.8, "b": 2.5}
    model = BetaGeoModel().fit(_simulate_bgnbd(20_000, *truth.values(), seed=11))
    for name, value in truth.items():
        # within 4 standard errors (log scale): the estimate and its error are both right
        se_log = model.standard_errors_[name] / model.params_[name]
        assert abs(math.log(model.params_[name] / value)) < 4 * se_log, name


def test_bgnbd_constant_dropout_limit():
    # every customer has the same dropout probability 0.2: a and b run off to infinity, and the
    # fit is the limiting model with p estimated directly
    data = _simulate_bgnbd(20_000, 0.5, 5.0, 1.0, 1.0, seed=5, p_const=0.2)
    model = BetaGeoModel().fit(data)
    assert model.limit_ == "constant dropout"
    assert math.isinf(model.params_["a"]) and math.isinf(model.params_["b"])
    p, se = model.summary.loc["p", ["estimate", "std_error"]]
    assert abs(p - 0.2) < 4 * se
    assert "p" in model.summary.index
    # its predictions match a finite BG/NBD with a huge a + b and the same mean a / (a + b)
    # (the hypergeometric closed form), to O(1 / (a + b))
    r, alpha = model.params_[["r", "alpha"]]
    kappa = 1e4
    finite = (r, alpha, p * kappa, (1 - p) * kappa, p)
    rows = data.iloc[:200]
    x, tx, T = (rows[c].to_numpy() for c in ("frequency", "recency", "T"))
    ours = model.conditional_expected_purchases(10.0, rows).to_numpy()
    np.testing.assert_allclose(
        ours, clv._conditional(finite, np.float64(10.0), x, tx, T), rtol=2e-3
    )
    alive = model.probability_alive(rows).to_numpy()
    np.testing.assert_allclose(alive, np.exp(clv._log_alive(finite, x, tx, T)), rtol=2e-3)
    # the limiting likelihood is the limit of the BG/NBD likelihood
    rows = clv._Rows.of(x, tx, T)
    limit = clv._limit_nll(np.array([0.0, 1.0, math.log(p / (1 - p))]), rows)[0]
    big = clv._bgnbd_nll(np.array([0.0, 1.0, math.log(p * 1e8), math.log((1 - p) * 1e8)]), rows)
    assert big[0] == pytest.approx(limit, rel=1e-6)


def test_bgnbd_no_dropout_limit():
    # nobody ever drops out: a runs to 0 and the fit is the NBD; P(alive) = 1 and the expected
    # purchases are the NBD's (r + x) t / (alpha + T)
    data = _simulate_bgnbd(5000, 0.5, 5.0, 1.0, 1.0, seed=5, p_const=0.0)
    model = BetaGeoModel().fit(data)
    assert model.limit_ == "no dropout"
    assert model.params_["a"] == 0 and model.dropout_probability_ == 0
    r, alpha = model.params_[["r", "alpha"]]
    for name, value in {"r": 0.5, "alpha": 5.0}.items():
        se_log = model.standard_errors_[name] / model.params_[name]
        assert abs(math.log(model.params_[name] / value)) < 4 * se_log, name
    assert (model.probability_alive(data) == 1).all()
    expected = (r + data["frequency"]) * 8.0 / (alpha + data["T"])
    np.testing.assert_allclose(model.conditional_expected_purchases(8.0, data), expected)


def test_likelihood_gradients_match_finite_differences():
    data = _simulate_bgnbd(300, 0.5, 5.0, 0.8, 2.5, seed=3)
    x, tx, T = (data[c].to_numpy() for c in ("frequency", "recency", "T"))
    rows = clv._Rows.of(x, tx, T)
    m = np.random.default_rng(1).gamma(5.0, 4.0, x.size)
    spend = clv._Rows.of(x[x > 0], m[x > 0])
    cases = [
        (clv._bgnbd_nll, rows, np.array([-0.5, 1.2, -0.3, 0.8])),
        (clv._limit_nll, rows, np.array([-0.5, 1.2, -1.0])),
        (clv._gg_nll, spend, np.array([1.5, 1.2, 2.7])),
    ]
    for nll, d, at in cases:
        numeric = approx_fprime(at, lambda v, f=nll, d=d: f(v, d)[0], 1e-6)
        np.testing.assert_allclose(nll(at, d)[1], numeric, rtol=1e-4, atol=1e-4)


def test_bgnbd_errors():
    good = pd.DataFrame({"frequency": [1, 0], "recency": [2.0, 0.0], "T": [5.0, 3.0]})
    with pytest.raises(ValueError, match="empty"):
        BetaGeoModel().fit(good.iloc[:0])
    with pytest.raises(ValueError, match="lacks column"):
        BetaGeoModel().fit(good.drop(columns="T"))
    bad = {
        "recency greater than T": good.assign(recency=[6.0, 0.0]),
        "negative": good.assign(frequency=[-1, 0]),
        "whole number": good.assign(frequency=[1.5, 0]),
        "frequency 0": good.assign(recency=[2.0, 1.0]),
        "missing": good.assign(T=[np.nan, 3.0]),
    }
    for message, frame in bad.items():
        with pytest.raises(ValueError, match=message):
            BetaGeoModel().fit(frame)
    with pytest.raises(ValueError, match="penalizer"):
        BetaGeoModel(penalizer=-1).fit(good)
    with pytest.raises(NotFittedError):
        BetaGeoModel().probability_alive(good)
    # nobody ever comes back: r runs off to 0 and a, b are not identified -> a clear failure
    never = pd.DataFrame({"frequency": [0] * 50, "recency": [0.0] * 50, "T": np.arange(1.0, 51)})
    with pytest.raises(ClvFitError, match="maximum likelihood failed"):
        BetaGeoModel().fit(never)


@pytest.mark.shared_data
def test_bgnbd_iteration_limit_is_a_failure(cdnow_bgnbd):
    _, summary = cdnow_bgnbd
    with pytest.raises(ClvFitError, match="maximum likelihood failed"):
        BetaGeoModel(max_iter=1).fit(summary)


# ---- Gamma-Gamma -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def cdnow_money(shared_datasets):
    data = _cdnow(shared_datasets, "cdnow_customers_summary_with_transactions.csv")
    return data.rename(columns={"x": "frequency", "t_x": "recency", "zbar": "monetary_value"})


@pytest.mark.shared_data
def test_gamma_gamma_reproduces_cdnow(cdnow_money):
    with warnings.catch_warnings():
        warnings.simplefilter("error", ClvAssumptionWarning)  # CDNOW passes the check
        model = GammaGammaModel().fit(cdnow_money)
    for name, published in GG.items():
        assert model.params_[name] == pytest.approx(published, rel=0.01), name
    assert model.n_customers_ == 946  # the customers with a repeat purchase
    repeat = cdnow_money[cdnow_money["frequency"] > 0]
    corr = np.corrcoef(repeat["frequency"], repeat["monetary_value"])[0, 1]
    assert model.frequency_monetary_corr_ == pytest.approx(corr)
    assert abs(corr) < 0.3
    # E[M | x, zbar] = p (v + x zbar) / (p x + q - 1); the population mean p v / (q - 1) for x = 0
    p, q, v = model.params_
    x, m = cdnow_money["frequency"], cdnow_money["monetary_value"]
    expected = np.where(x > 0, p * (v + x * m) / (p * x + q - 1), p * v / (q - 1))
    np.testing.assert_allclose(model.conditional_expected_value(cdnow_money), expected)


def test_gamma_gamma_recovers_simulated_parameters():
    rng = np.random.default_rng(21)
    n, truth = 5000, {"p": 6.25, "q": 3.74, "v": 15.44}
    x = 1 + rng.poisson(2.0, n)
    nu = rng.gamma(truth["q"], 1 / truth["v"], n)  # per-customer rate ~ Gamma(q, v)
    zbar = rng.gamma(truth["p"] * x, 1 / nu) / x  # sum of x Gamma(p, nu) spends, averaged
    model = GammaGammaModel().fit(pd.DataFrame({"frequency": x, "monetary_value": zbar}))
    for name, value in truth.items():
        se_log = model.standard_errors_[name] / model.params_[name]
        assert abs(math.log(model.params_[name] / value)) < 4 * se_log, name


def test_gamma_gamma_errors_and_independence_warning():
    none = pd.DataFrame({"frequency": [0, 0], "monetary_value": [np.nan, np.nan]})
    with pytest.raises(ValueError, match="no customer has a repeat purchase"):
        GammaGammaModel().fit(none)
    for bad in ([10.0, 0.0, 5.0], [10.0, -3.0, 5.0], [10.0, np.nan, 5.0]):
        frame = pd.DataFrame({"frequency": [1, 2, 3], "monetary_value": bad})
        with pytest.raises(ValueError, match="must be positive .* 1 row"):
            GammaGammaModel().fit(frame)
    with pytest.raises(ValueError, match="lacks column"):
        GammaGammaModel().fit(none.drop(columns="monetary_value"))
    with pytest.raises(NotFittedError):
        GammaGammaModel().conditional_expected_value(none)
    # big spenders (small Gamma rate nu) buy more often: the independence assumption fails
    rng = np.random.default_rng(4)
    nu = rng.gamma(3.74, 1 / 15.44, 3000)
    x = 1 + rng.poisson(0.4 / nu)
    zbar = rng.gamma(6.25 * x, 1 / nu) / x
    with pytest.warns(ClvAssumptionWarning, match="correlate"):
        model = GammaGammaModel().fit(pd.DataFrame({"frequency": x, "monetary_value": zbar}))
    assert model.frequency_monetary_corr_ > 0.3


# ---- CLV -------------------------------------------------------------------------------------
@pytest.mark.shared_data
def test_clv_matches_lifetimes_documentation_and_identities(cdnow_bgnbd, cdnow_money):
    bg = BetaGeoModel().fit(cdnow_money)  # the same 2,357 customers, with their spend
    gg = GammaGammaModel().fit(cdnow_money)
    # lifetimes' documented example: 12 months, 1% a month, its default freq "D" (so the weekly
    # CDNOW summary is read as days): CLV of customers 1, 2, 3 = 140.096, 18.943, 38.181
    out = customer_lifetime_value(
        bg, gg, cdnow_money, horizon=12, unit="M", discount_rate_per_period=0.01, summary_unit="D"
    )
    np.testing.assert_allclose(out["clv"].iloc[:3], [140.096211, 18.943467, 38.180574], rtol=1e-4)
    assert list(out.columns) == ["probability_alive", "expected_purchases", "expected_value", "clv"]
    assert out.index.equals(cdnow_money.index)

    # weeks: undiscounted CLV = purchases over the horizon x value per purchase
    flat = customer_lifetime_value(bg, gg, cdnow_money, horizon=12, unit="M", summary_unit="W")
    purchases = bg.conditional_expected_purchases(12 * 30 / 7, cdnow_money)
    value = gg.conditional_expected_value(cdnow_money)
    np.testing.assert_allclose(flat["expected_purchases"], purchases, rtol=1e-12)
    np.testing.assert_allclose(flat["clv"], purchases * value, rtol=1e-12)
    # one period of one week at 5%: its purchases, discounted once
    one = customer_lifetime_value(
        bg, gg, cdnow_money, horizon=1, unit="W", discount_rate_per_period=0.05, summary_unit="W"
    )
    week = bg.conditional_expected_purchases(1.0, cdnow_money)
    np.testing.assert_allclose(one["clv"], week * value / 1.05, rtol=1e-12)
    # discounting only lowers the value
    assert (out["clv"] <= customer_lifetime_value(
        bg, gg, cdnow_money, horizon=12, unit="M", summary_unit="D"
    )["clv"] + 1e-12).all()  # fmt: skip


def test_clv_end_to_end_from_orders_and_errors():
    rng = np.random.default_rng(8)
    sim = _simulate_bgnbd(400, 0.8, 10.0, 1.0, 3.0, seed=2)
    lines = []
    as_of = pd.Timestamp("2024-02-10", tz="UTC")
    nu = rng.gamma(4.0, 1 / 20.0, len(sim))  # each customer's spend rate (Gamma-Gamma)
    for i, row in sim.iterrows():  # first purchase T days before the cut-off, x repeat days
        age = int(row["T"])
        repeat = rng.choice(np.arange(1, age + 1), min(int(row["frequency"]), age), replace=False)
        for day in [0, *repeat]:
            ts = as_of - pd.Timedelta(days=age - int(day)) + pd.Timedelta(hours=9)
            lines.append((f"c{i:03d}", ts, rng.gamma(6.0, 1 / nu[i])))
    orders = pd.DataFrame(lines, columns=["customer_id", "ts", "revenue"])
    summary = rfm_summary(orders, as_of="2024-02-10", unit="D")
    bg = BetaGeoModel().fit(summary)
    gg = GammaGammaModel().fit(summary)
    assert bg.unit_ == "D"
    out = customer_lifetime_value(
        bg, gg, summary, horizon=6, unit="M", discount_rate_per_period=0.01
    )
    assert out["customer_id"].tolist() == summary["customer_id"].tolist()  # one row per customer
    assert (out["clv"] >= 0).all() and out["clv"].notna().all()
    assert out["probability_alive"].between(0, 1).all()

    with pytest.raises(ValueError, match="horizon"):
        customer_lifetime_value(bg, gg, summary, horizon=0)
    with pytest.raises(ValueError, match="unit"):
        customer_lifetime_value(bg, gg, summary, horizon=3, unit="Y")
    with pytest.raises(ValueError, match="inconsistent"):
        customer_lifetime_value(bg, gg, summary, horizon=3, summary_unit="W")
    with pytest.raises(ValueError, match="discount"):
        customer_lifetime_value(bg, gg, summary, horizon=3, discount_rate_per_period=-0.1)
    unknown = summary.copy()
    unknown.attrs = {}
    with pytest.raises(ValueError, match="time unit of the summary is unknown"):
        customer_lifetime_value(BetaGeoModel().fit(unknown), gg, unknown, horizon=3)
    with pytest.raises(NotFittedError):
        customer_lifetime_value(BetaGeoModel(), gg, summary, horizon=3)
