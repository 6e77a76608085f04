"""Bootstrap intervals and model comparison (journeylib.attribution.uncertainty).

Business rules: a bootstrap resample draws as many journeys (or customers) as the data hold,
with replacement; the interval is the percentile interval of the resampled shares; more data of
the same kind gives the same shares with narrower intervals; rank agreement is Kendall's tau-b
and Spearman's rho of the channel shares of two models.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from journeylib.attribution import rules, suite
from journeylib.attribution.pathdata import Paths, credit_table, read_path_table
from journeylib.attribution.rules import LinearRule, rule_matrix
from journeylib.attribution.shapley import shapley
from journeylib.attribution.uncertainty import (
    bootstrap,
    bootstrap_models,
    bootstrap_paths,
    compare_models,
    plot_model_comparison,
    rank_agreement,
)
from journeylib.config import AttributionSpec


def linear_model(paths: Paths) -> pd.DataFrame:
    """Independent linear model (each touch of a path gets conversions / length)."""
    per_touch = (paths.conversions / paths.lengths)[paths.touch_path]
    value = (paths.value / paths.lengths)[paths.touch_path]
    n = paths.n_channels
    return credit_table(
        paths,
        np.bincount(paths.touches, weights=per_touch, minlength=n),
        np.bincount(paths.touches, weights=value, minlength=n),
    )


SMALL = Paths.from_sequences(
    [["a", "b"], ["b", "c", "b"], ["c"], ["a"], ["a", "c"]],
    conversions=[30, 20, 10, 25, 15],
    value=[300, 100, 50, 200, 150],
    nulls=[70, 100, 90, 80, 40],
)


# -- resampling -----------------------------------------------------------------------------------


def test_journey_resamples_keep_total_and_value_per_conversion():
    # 100 + 20 + ... journeys in all; each resample draws exactly that many, and a path's value
    # per conversion stays its mean (300 / 30 = 10 for a > b).
    total = SMALL.total_conversions + SMALL.total_nulls
    ratios = []
    for s in bootstrap_paths(SMALL, n_boot=30, random_state=1):
        assert s.total_conversions + s.total_nulls == total
        assert s.channels == SMALL.channels and s.n_paths == SMALL.n_paths
        np.testing.assert_array_equal(s.touches, SMALL.touches)
        conv = s.conversions
        np.testing.assert_allclose(s.value, conv * np.array([10, 5, 5, 8, 10]))
        ratios.append(conv[0] / (conv[0] + s.nulls[0]))
    # conversions and nulls of a path are drawn separately: its conversion rate varies
    assert np.std(ratios) > 0


def test_customer_resamples_keep_customers_together():
    # one row per journey; customer u1 has two journeys: they are always drawn together
    p = Paths.from_sequences(
        [["a"], ["b"], ["a", "b"], ["b"], ["a"]],
        conversions=[1, 0, 1, 1, 0],
        nulls=[0, 1, 0, 0, 1],
        journey_ids=["u1", "u1", "u2", "u3", "u4"],
    )
    seen = set()
    for s in bootstrap_paths(p, n_boot=40, random_state=2, by="customer"):
        w_conv, w_null = s.conversions[0], s.nulls[1]  # u1's two journeys, one weight
        assert w_conv == w_null
        seen.add(w_conv)
        assert np.array_equal(s.journey_ids, p.journey_ids)
        # 4 customers drawn in all
        weights = np.array([s.conversions[0], s.conversions[2], s.conversions[3], s.nulls[4]])
        assert weights.sum() == 4
    assert len(seen) > 1


def test_customer_bootstrap_needs_journey_ids():
    with pytest.raises(ValueError, match="journey_ids"):
        bootstrap(SMALL, linear_model, by="customer")
    with pytest.raises(ValueError, match="by must be"):
        bootstrap(SMALL, linear_model, by="path")
    with pytest.raises(ValueError, match="journey_ids"):  # at the call, not on iteration
        bootstrap_paths(SMALL, by="customer")


def test_fractional_counts_resample_rounded_total():
    # weighted journeys: 2.5 + 7.5 + 1.2 + 3.8 = 15 journeys drawn in proportion to the weights
    p = Paths.from_sequences([["a"], ["b"]], conversions=[2.5, 1.2], nulls=[7.5, 3.8])
    for s in bootstrap_paths(p, n_boot=5):
        assert s.total_conversions + s.total_nulls == 15
        assert np.all(s.conversions == np.round(s.conversions))


def test_customer_intervals_wider_when_journeys_of_a_customer_repeat():
    # 200 customers with 5 identical journeys each: the data hold 200 independent units, not
    # 1000, so resampling customers gives wider intervals than resampling journeys.
    rng = np.random.default_rng(4)
    seqs, conv, nulls, ids = [], [], [], []
    for u in range(200):
        path = [["a"], ["b"], ["a", "b"]][rng.integers(0, 3)]
        converted = float(rng.random() < 0.4)
        for _ in range(5):
            seqs.append(path)
            conv.append(converted)
            nulls.append(1.0 - converted)
            ids.append(f"u{u}")
    p = Paths.from_sequences(seqs, conversions=conv, nulls=nulls, journey_ids=ids)
    by_journey = bootstrap(p, linear_model, n_boot=200, by="journey")
    by_customer = bootstrap(p, linear_model, n_boot=200, by="customer")
    width = by_journey["share_high"] - by_journey["share_low"]
    width_c = by_customer["share_high"] - by_customer["share_low"]
    assert (width_c > 1.5 * width).all()  # about sqrt(5) = 2.2 times as wide


# -- bootstrap intervals --------------------------------------------------------------------------


def test_bootstrap_table_deterministic_and_contains_point():
    t = bootstrap(SMALL, linear_model, n_boot=100, random_state=7)
    assert list(t.columns) == [
        "channel", "share", "share_low", "share_high",
        "conversions", "conversions_low", "conversions_high", "value", "n_boot",
    ]  # fmt: skip
    # value is the full-data credit (linear: a -> 10 * 1/2 + 0 ..., as the model itself gives)
    pd.testing.assert_series_equal(t["value"], linear_model(SMALL)["value"], check_names=False)
    assert t["channel"].tolist() == ["a", "b", "c"]  # one row per channel
    point = linear_model(SMALL)
    np.testing.assert_allclose(t["share"], point["share"])
    np.testing.assert_allclose(t["conversions"], point["conversions"])
    assert (t["share_low"] <= t["share"]).all() and (t["share"] <= t["share_high"]).all()
    assert (t["conversions_low"] <= t["conversions"]).all()
    assert (t["conversions"] <= t["conversions_high"]).all()
    assert (t["share_low"] < t["share_high"]).all()
    assert (t["n_boot"] == 100).all()
    pd.testing.assert_frame_equal(t, bootstrap(SMALL, linear_model, n_boot=100, random_state=7))
    other = bootstrap(SMALL, linear_model, n_boot=100, random_state=8)
    assert not np.allclose(other["share_low"], t["share_low"])
    # a wider ci gives a wider interval
    t99 = bootstrap(SMALL, linear_model, n_boot=100, random_state=7, ci=0.99)
    assert (t99["share_high"] - t99["share_low"] >= t["share_high"] - t["share_low"]).all()


def test_duplicated_data_same_shares_narrower_intervals():
    # The same journeys ten times over: identical point shares, intervals about sqrt(10) = 3.2
    # times narrower.
    t1 = bootstrap(SMALL, shapley, n_boot=200)
    t10 = bootstrap(SMALL.reweight(np.full(SMALL.n_paths, 10.0)), shapley, n_boot=200)
    np.testing.assert_allclose(t10["share"], t1["share"])
    w1 = t1["share_high"] - t1["share_low"]
    w10 = t10["share_high"] - t10["share_low"]
    assert (w10 < 0.5 * w1).all()


def test_interval_coverage_on_a_known_process():
    # Journeys from a known process: path type t with probability pi_t converts with
    # probability q_t. The true linear share of channel j is
    #   sum_t pi_t q_t f_tj / sum_t pi_t q_t   (f_tj: fraction of the touches of t on j).
    # The 95% interval should cover it in most of 50 replications of 1,000 journeys (with only
    # 50 resamples per interval, to stay fast, the percentile interval covers about 91% of the
    # time, by a separate simulation of 3,000 replications; over 50 replications that rate has a
    # standard error of about 0.04). Intervals half as wide as they should be would cover about
    # 67%, which the thresholds below reject.
    seqs = [["a"], ["a", "b"], ["b", "c"], ["c", "a", "b"]]
    pi = np.array([0.3, 0.2, 0.3, 0.2])
    q = np.array([0.2, 0.3, 0.1, 0.25])
    f = np.array([[1, 0, 0], [0.5, 0.5, 0], [0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]])
    truth = (pi * q) @ f / (pi * q).sum()
    rng = np.random.default_rng(2024)
    covered = np.zeros(3)
    reps = 50
    for r in range(reps):
        journeys = rng.multinomial(1000, pi)
        conv = rng.binomial(journeys, q)
        p = Paths.from_sequences(seqs, conversions=conv, nulls=journeys - conv)
        t = bootstrap(p, linear_model, n_boot=50, random_state=r)
        covered += (t["share_low"] <= truth) & (truth <= t["share_high"])
    rate = covered / reps
    assert rate.mean() >= 0.8 and (rate >= 0.76).all(), rate


def test_resamples_without_conversions_are_left_out_with_a_warning():
    # 1 conversion among 30 journeys: about (29/30)**30 = 36% of resamples have none
    p = Paths.from_sequences([["a"], ["b"]], conversions=[1, 0], nulls=[14, 15])
    with pytest.warns(RuntimeWarning, match="had no conversions"):
        t = bootstrap(p, linear_model, n_boot=50)
    assert 10 < t["n_boot"].iloc[0] < 50


@pytest.mark.parametrize(
    "kwargs, match",
    [({"n_boot": 1}, "n_boot"), ({"ci": 1.0}, "ci"), ({"ci": 0}, "ci")],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        bootstrap(SMALL, linear_model, **kwargs)


def test_model_must_return_a_credit_table():
    with pytest.raises(ValueError, match="credit table"):
        bootstrap(SMALL, lambda p: pd.DataFrame({"x": [1]}), n_boot=5)
    with pytest.raises(TypeError, match="callable"):
        bootstrap(SMALL, "linear", n_boot=5)


def test_input_not_mutated():
    before = SMALL.to_frame()
    bootstrap(SMALL, linear_model, n_boot=5)
    pd.testing.assert_frame_equal(SMALL.to_frame(), before)


# -- the linear form of the rule models ------------------------------------------------------------
# A rule model's weights depend only on the touches, so its credit is W.T @ conversions: the fast
# bootstrap credits each resample with W instead of running the model again, and must give the
# table the per-resample run gives.

CHANNELS = ["direct", "email", "paid", "seo", "social"]


def random_paths(seed: int, *, n_paths: int = 300, lags: bool = True, conv_rate: float = 0.5):
    """One row per journey-like path (1-6 touches over 5 channels, some direct-only paths,
    about half without conversions), with lags and customers (about 2.5 paths each)."""
    rng = np.random.default_rng(seed)
    seqs = [list(rng.choice(CHANNELS, size=rng.integers(1, 7))) for _ in range(n_paths)]
    seqs[:3] = [["direct"], ["direct", "direct"], ["seo", "direct", "direct"]]
    conv = rng.poisson(1.5, n_paths) * (rng.random(n_paths) < conv_rate)
    return Paths.from_sequences(
        seqs,
        conversions=conv.astype(float),
        value=conv * rng.gamma(2.0, 20.0, n_paths),
        nulls=rng.poisson(2.0, n_paths).astype(float),
        lag_days=[rng.exponential(4.0, len(s)).round(2) for s in seqs] if lags else None,
        journey_ids=[f"c{i}" for i in rng.integers(0, int(n_paths / 2.5), n_paths)],
    )


RULE_SPECS = [
    ("first_touch", {}),
    ("last_touch", {}),
    ("last_non_direct", {}),
    ("last_non_direct", {"direct": {"direct", "seo"}}),
    ("linear", {}),
    ("time_decay", {}),
    ("time_decay", {"half_life": 1.5}),
    ("position_based", {}),
    ("position_based", {"first": 0.3, "last": 0.5}),
    ("position_based", {"first": 0.0, "last": 0.0}),
    ("j_shaped", {}),
    ("inverse_j", {"first": 0.7, "last": 0.1}),
]
SPEC_IDS = [f"{m}-{'-'.join(map(str, p.values())) or 'default'}" for m, p in RULE_SPECS]


def per_resample(model):
    """The same model as a plain function: bootstrap cannot see its linear form."""
    return lambda paths: model(paths)


def test_rule_matrix_by_hand():
    # linear: a > b > a gives a 2/3 (two touches of 1/3), b 1/3. U-shape 40/40 on a > b > c > a:
    # the ends 0.4 + 0.4 to a, the 0.2 left shared by b and c. Last non-direct on b > direct
    # skips direct (b gets 1); a direct-only path credits direct. Every path gets a row, with or
    # without conversions (a resample may give it some).
    p = Paths.from_sequences(
        [["a", "b", "a"], ["a", "b", "c", "a"], ["b", "direct"], ["direct", "direct"]],
        conversions=[0, 2, 1, 0],
    )
    assert p.channels == ("a", "b", "c", "direct")
    w = rule_matrix(p, "linear").toarray()
    np.testing.assert_allclose(w[0], [2 / 3, 1 / 3, 0, 0])
    np.testing.assert_allclose(w[1], [0.5, 0.25, 0.25, 0])
    w = rule_matrix(p, "position_based").toarray()
    np.testing.assert_allclose(w[1], [0.8, 0.1, 0.1, 0])
    np.testing.assert_allclose(w[2], [0, 0.5, 0, 0.5])  # two touches: 40 : 40
    w = rule_matrix(p, "last_non_direct").toarray()
    np.testing.assert_array_equal(w, [[1, 0, 0, 0], [1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1]])
    m = rule_matrix(p, "first_touch")
    assert m.shape == (4, 4) and m.nnz == 4


@pytest.mark.parametrize("lags", [True, False], ids=["lag_days", "no_lags"])
@pytest.mark.parametrize(("model", "params"), RULE_SPECS, ids=SPEC_IDS)
def test_rule_matrix_reproduces_the_model(model, params, lags):
    p = random_paths(3, lags=lags)
    w = rule_matrix(p, model, **params)
    assert w.shape == (p.n_paths, p.n_channels)
    np.testing.assert_allclose(w.sum(axis=1), 1.0, rtol=1e-12)  # every path, converting or not
    table = rules.rule_based(p, model, **params)
    np.testing.assert_allclose(w.T @ p.conversions, table["conversions"], rtol=1e-12)
    np.testing.assert_allclose(w.T @ p.value, table["value"], rtol=1e-12)
    rule = LinearRule(model, **params)
    pd.testing.assert_frame_equal(rule(p), table)
    np.testing.assert_array_equal(rule.matrix(p).toarray(), w.toarray())


@pytest.mark.parametrize("by", ["journey", "customer"])
@pytest.mark.parametrize(("model", "params"), RULE_SPECS, ids=SPEC_IDS)
def test_fast_bootstrap_equals_running_the_model_on_every_resample(model, params, by):
    p = random_paths(11)
    rule = LinearRule(model, **params)
    fast = bootstrap(p, rule, n_boot=40, random_state=5, by=by)
    slow = bootstrap(p, per_resample(rule), n_boot=40, random_state=5, by=by)
    pd.testing.assert_frame_equal(fast, slow, rtol=1e-12)
    assert (fast["share_low"] < fast["share_high"]).all()


def test_fast_bootstrap_time_decay_without_lags_and_ci():
    # without lag_days the decay counts touches back from the end
    p = random_paths(12, lags=False)
    rule = LinearRule("time_decay", half_life=2.0)
    fast = bootstrap(p, rule, n_boot=30, ci=0.8, random_state=1)
    slow = bootstrap(p, per_resample(rule), n_boot=30, ci=0.8, random_state=1)
    pd.testing.assert_frame_equal(fast, slow, rtol=1e-12)


@pytest.mark.parametrize("by", ["journey", "customer"])
def test_fast_bootstrap_leaves_out_resamples_without_conversions(by):
    # 2 conversions on 2 of 120 paths (customers): many resamples draw neither and are left out
    # by both routes alike, with the same warning.
    p = random_paths(5, n_paths=120, conv_rate=0.0)
    conv = np.zeros(p.n_paths)
    conv[[7, 50]] = 1.0
    p = dataclasses.replace(p, conversions=conv, value=conv * 30.0)
    rule = LinearRule("position_based", first=0.5, last=0.3)
    with pytest.warns(RuntimeWarning, match="had no conversions"):
        fast = bootstrap(p, rule, n_boot=60, random_state=2, by=by)
    with pytest.warns(RuntimeWarning, match="had no conversions"):
        slow = bootstrap(p, per_resample(rule), n_boot=60, random_state=2, by=by)
    pd.testing.assert_frame_equal(fast, slow, rtol=1e-12)
    assert 2 <= fast["n_boot"].iloc[0] < 60


def test_fast_bootstrap_runs_the_model_only_on_the_full_data():
    calls = []

    class Counting(LinearRule):
        def __call__(self, paths):
            calls.append(paths.n_paths)
            return super().__call__(paths)

    bootstrap(random_paths(1), Counting("linear"), n_boot=20)
    assert calls == [300]


def test_bootstrap_models_shares_the_resamples():
    # several models, linear and not, on one draw: each table equals its own bootstrap
    p = random_paths(21, n_paths=150)
    models = {
        "u": LinearRule("position_based", first=0.2, last=0.2),
        "shapley": shapley,
        "linear_fn": linear_model,
        "last": LinearRule("last_non_direct"),
    }
    for by in ("journey", "customer"):
        tables = bootstrap_models(p, models, n_boot=25, random_state=4, by=by)
        assert list(tables) == list(models)
        for name, model in models.items():
            pd.testing.assert_frame_equal(
                tables[name], bootstrap(p, model, n_boot=25, random_state=4, by=by)
            )
    with pytest.raises(ValueError, match="non-empty dict"):
        bootstrap_models(p, {})
    with pytest.raises(TypeError, match="callable"):
        bootstrap_models(p, {"x": "linear"})


def test_model_suite_rules_are_linear_and_unchanged():
    # the suite's rule models give the tables of the rule functions with the configured options
    spec = AttributionSpec(
        direct_channel="seo", time_decay_half_life_days=3.0, position_first=0.3, position_last=0.5
    )
    models = suite.model_suite(spec)
    assert list(models) == list(suite.MODEL_LABELS)
    p = random_paths(8)
    expected = {
        "first_touch": rules.first_touch(p),
        "last_touch": rules.last_touch(p),
        "last_non_direct": rules.last_non_direct(p, direct="seo"),
        "linear": rules.linear(p),
        "time_decay": rules.time_decay(p, half_life=3.0),
        "position_based": rules.position_based(p, first=0.3, last=0.5),
        "j_shaped": rules.j_shaped(p),
        "inverse_j": rules.inverse_j(p),
    }
    for name, table in expected.items():
        assert isinstance(models[name], LinearRule)
        pd.testing.assert_frame_equal(models[name](p), table)


def test_bootstrap_all_equals_one_bootstrap_per_model():
    # rule models share one draw per data set; time decay runs on the journey-level paths
    journeys = random_paths(9, n_paths=200)
    paths = journeys.aggregate()
    models = suite.model_suite(AttributionSpec(time_decay_half_life_days=2.0))
    tables = suite.bootstrap_all(paths, models, journeys=journeys, n_boot=15, seed=3)
    assert list(tables) == list(models)
    for name, model in models.items():
        data = journeys if name == "time_decay" else paths
        slow = bootstrap(data, per_resample(model), n_boot=15, random_state=3)
        pd.testing.assert_frame_equal(tables[name], slow, rtol=1e-12)


def test_linear_rule_checks_its_options():
    assert repr(LinearRule("time_decay", half_life=3)) == "LinearRule('time_decay', half_life=3)"
    with pytest.raises(ValueError, match="model must be one of"):
        LinearRule("markov")
    with pytest.raises(TypeError, match="bad options"):
        LinearRule("linear", half_life=3)
    with pytest.raises(ValueError, match="half_life"):
        LinearRule("time_decay", half_life=-1)(random_paths(1))


# -- comparison and rank agreement ----------------------------------------------------------------


A = pd.DataFrame(
    {"channel": ["x", "y", "z"], "conversions": [5.0, 3.0, 2.0], "value": [1.0, 1.0, 1.0],
     "share": [0.5, 0.3, 0.2]}
)  # fmt: skip
B = pd.DataFrame(
    {"channel": ["x", "y", "z"], "conversions": [3.0, 5.0, 2.0], "share": [0.3, 0.5, 0.2]}
)
C = pd.DataFrame(
    {"channel": ["x", "y", "z"], "conversions": [4.0, 4.0, 2.0], "share": [0.4, 0.4, 0.2]}
)


def test_compare_models_long_and_wide():
    # D lacks channel z and adds w: z gets zero credit in D, w zero credit in A.
    d = pd.DataFrame({"channel": ["w", "x", "y"], "conversions": [2.0, 6.0, 2.0],
                      "share": [0.2, 0.6, 0.2], "share_low": [0.1, 0.5, 0.1],
                      "share_high": [0.3, 0.7, 0.3]})  # fmt: skip
    t = compare_models({"A": A, "D": d})
    assert list(t.columns) == [
        "channel", "model", "conversions", "value", "share", "share_low", "share_high", "rank",
    ]  # fmt: skip
    assert len(t) == 8  # channel x model: 4 channels x 2 models
    assert t["channel"].tolist() == ["x", "y", "z", "w"] * 2
    assert t["model"].tolist() == ["A"] * 4 + ["D"] * 4
    np.testing.assert_allclose(t["share"], [0.5, 0.3, 0.2, 0, 0.6, 0.2, 0, 0.2])
    # ranks inside each model, 1 = largest share, ties share the best rank
    assert t["rank"].tolist() == [1, 2, 3, 4, 1, 2, 4, 2]
    # value: given for A (w absent -> 0), not for D -> NaN; intervals only for D
    np.testing.assert_allclose(t["value"][:4], [1, 1, 1, 0])
    assert t["value"][4:].isna().all() and t["share_low"][:4].isna().all()
    np.testing.assert_allclose(t["share_low"][4:], [0.5, 0.1, 0.0, 0.1])
    wide = compare_models({"A": A, "D": d}, wide=True)
    assert list(wide.columns) == ["channel", "A", "D"]
    assert wide["channel"].tolist() == ["x", "y", "z", "w"]
    np.testing.assert_allclose(wide["D"], [0.6, 0.2, 0.0, 0.2])


def test_rank_agreement_by_hand():
    # A orders x > y > z, B orders y > x > z: pairs (x,y) discordant, (x,z) and (y,z)
    # concordant -> tau = (2 - 1) / 3 = 1/3. Ranks A (1,2,3), B (2,1,3): d = (-1,1,0),
    # rho = 1 - 6 * 2 / (3 * (9 - 1)) = 0.5.
    # C ties x and y: tau-b = (2 - 0) / sqrt(3 * 2) = 0.8165 against A.
    t = rank_agreement({"A": A, "B": B, "C": C})
    assert list(t.columns) == ["model_a", "model_b", "kendall_tau", "spearman_rho", "n_channels"]
    assert len(t) == 9  # every ordered pair of the 3 models
    cell = t.set_index(["model_a", "model_b"])
    assert cell.loc[("A", "B"), "kendall_tau"] == pytest.approx(1 / 3)
    assert cell.loc[("B", "A"), "kendall_tau"] == pytest.approx(1 / 3)
    assert cell.loc[("A", "B"), "spearman_rho"] == pytest.approx(0.5)
    assert cell.loc[("A", "C"), "kendall_tau"] == pytest.approx(2 / np.sqrt(6))
    assert cell.loc[("A", "A"), "kendall_tau"] == pytest.approx(1.0)
    assert (t["n_channels"] == 3).all()


def test_rank_agreement_undefined_for_constant_shares():
    flat = pd.DataFrame({"channel": ["x", "y", "z"], "share": [1 / 3, 1 / 3, 1 / 3]})
    t = rank_agreement({"A": A, "flat": flat})
    assert np.isnan(t.set_index(["model_a", "model_b"]).loc[("A", "flat"), "kendall_tau"])


def test_comparison_errors():
    with pytest.raises(ValueError, match="non-empty dict"):
        compare_models({})
    with pytest.raises(ValueError, match="lacks columns"):
        rank_agreement({"A": A, "bad": pd.DataFrame({"channel": ["x"]})})


def test_plot_model_comparison():
    with_ci = bootstrap(SMALL, linear_model, n_boot=20)
    table = compare_models({"linear": with_ci, "shapley": shapley(SMALL)})
    fig = plot_model_comparison(table)
    assert [tr.name for tr in fig.data] == ["linear", "shapley"]
    assert fig.layout.barmode == "group"
    assert list(fig.data[0].x) == ["a", "b", "c"]
    np.testing.assert_allclose(fig.data[0].y, with_ci["share"])
    np.testing.assert_allclose(fig.data[0].error_y.array, with_ci["share_high"] - with_ci["share"])
    assert fig.data[1].error_y.array is None  # no interval for shapley


def test_plot_model_comparison_in_bahasa_indonesia():
    table = compare_models({"Last touch": shapley(SMALL), "time_decay": shapley(SMALL)})
    fig = plot_model_comparison(table, language="id")
    # English display names and model keys both get their Indonesian names
    assert [tr.name for tr in fig.data] == ["Sentuhan terakhir", "Peluruhan waktu (time decay)"]
    assert fig.layout.title.text == "Porsi konversi yang dikreditkan ke setiap kanal, menurut model"
    assert fig.layout.yaxis.title.text == "porsi konversi"
    assert fig.data[0].hovertemplate.endswith("konversi<extra>Sentuhan terakhir</extra>")
    assert [tr.name for tr in plot_model_comparison(table).data] == ["Last touch", "time_decay"]


@pytest.mark.shared_data
def test_data_csv_bootstrap(shared_datasets):
    p = read_path_table(shared_datasets / "channelattribution_paths" / "Data.csv")
    t = bootstrap(p, shapley, n_boot=20)
    assert t["conversions"].sum() == pytest.approx(19_785)
    assert (t["share_low"] <= t["share"]).all() and (t["share"] <= t["share_high"]).all()


def test_journey_resamples_of_one_row_per_journey_are_the_multinomial_draw():
    # 4 journeys, one per row (2 converted): the resample draws 4 journeys with replacement, so
    # each cell's count is Binomial(4, 1/4): mean 1, variance 4 * 1/4 * 3/4 = 0.75, and the
    # covariance of two cells is -4 * 1/16 = -0.25 (by hand, from the multinomial)
    p = Paths.from_sequences(
        [["a"], ["b"], ["a", "b"], ["b", "a"]], conversions=[1, 0, 1, 0], nulls=[0, 1, 0, 1]
    )
    assert p.n_paths == 4
    draws = [
        np.concatenate([s.conversions, s.nulls])
        for s in bootstrap_paths(p, n_boot=20_000, random_state=3)
    ]
    d = np.array(draws)
    held = d[:, [0, 2, 5, 7]]  # (a, converted), (ab, converted), (b, null), (ba, null)
    assert (d.sum(axis=1) == 4).all() and (np.delete(d, [0, 2, 5, 7], axis=1) == 0).all()
    np.testing.assert_allclose(held.mean(axis=0), 1.0, atol=0.03)
    np.testing.assert_allclose(held.var(axis=0), 0.75, atol=0.03)
    np.testing.assert_allclose(np.cov(held[:, 0], held[:, 1])[0, 1], -0.25, atol=0.03)
