"""Bootstrap intervals and model comparison (journeylib.attribution.uncertainty).

Business rules: a bootstrap resample draws as many journeys (or customers) as the data hold,
with replacement; the interval is the percentile interval of the resampled shares; more data of
the same kind gives the same shares with narrower intervals; rank agreement is Kendall's tau-b
and Spearman's rho of the channel shares of two models.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from journeylib.attribution.pathdata import Paths, credit_table, read_path_table
from journeylib.attribution.shapley import shapley
from journeylib.attribution.uncertainty import (
    bootstrap,
    bootstrap_paths,
    compare_models,
    plot_model_comparison,
    rank_agreement,
)


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
