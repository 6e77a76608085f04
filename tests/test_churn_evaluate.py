"""Evaluation tables of churn probabilities, checked by hand and against scikit-learn.

The hand example: eight held-out customers, three churners.

    p      0.9  0.8  0.6  0.3  0.2  0.1  0.05  0.4
    churn   1    0    1    0    1    0    0     0

Costs: an offer costs 10, a churner is worth 100, the offer keeps 40% of the churners it reaches,
so contacting pays off above p = 10 / (0.4 x 100) = 0.25.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from sklearn.calibration import calibration_curve
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from journeylib.churn import (
    ChurnDataError,
    calibration_table,
    confusion_table,
    curve_table,
    evaluate,
    lift_table,
    operating_threshold,
    plot_calibration,
    plot_confusion,
    plot_curves,
    plot_lift,
    plot_thresholds,
    threshold_table,
)
from journeylib.config import ChurnCosts

P = np.array([0.9, 0.8, 0.6, 0.3, 0.2, 0.1, 0.05, 0.4])
Y = np.array([1, 0, 1, 0, 1, 0, 0, 0])
COSTS = {"offer_cost": 10, "churn_value": 100, "save_rate": 0.4}


def test_evaluate_by_hand():
    m = evaluate(Y, P, costs=COSTS).set_index("metric")["value"]
    assert (m["customers"], m["churners"], m["base_rate"]) == (8, 3, 0.375)
    # ROC AUC: of the 3 x 5 churner/non-churner pairs the churner ranks higher in
    # 5 (0.9) + 4 (0.6 beats all but 0.8) + 2 (0.2 beats 0.1 and 0.05) = 11
    assert m["roc_auc"] == pytest.approx(11 / 15)
    # average precision: churners at ranks 1, 3 and 6 -> (1/1 + 2/3 + 3/6) / 3
    assert m["pr_auc"] == pytest.approx((1 + 2 / 3 + 0.5) / 3)
    # Brier: mean of the squared errors 0.1, 0.8, 0.4, 0.3, 0.8, 0.1, 0.05, 0.4
    brier = (0.01 + 0.64 + 0.16 + 0.09 + 0.64 + 0.01 + 0.0025 + 0.16) / 8
    assert m["brier"] == pytest.approx(brier)
    assert m["brier_reference"] == pytest.approx(0.375 * 0.625)
    assert m["brier_skill"] == pytest.approx(1 - brier / (0.375 * 0.625))
    assert m["mean_probability"] == pytest.approx(P.mean())
    # threshold 0.25: five contacted (0.9, 0.8, 0.6, 0.3, 0.4), two of them churners
    assert m["threshold"] == 0.25
    assert (m["targeted"], m["precision"], m["recall"]) == (5, 0.4, pytest.approx(2 / 3))
    # 2 churners kept x 40% x 100 - 5 offers x 10 = 80 - 50
    assert m["net_value"] == pytest.approx(30.0)


def test_evaluate_matches_scikit_learn_on_random_data():
    rng = np.random.default_rng(0)
    p = rng.random(500)
    y = rng.random(500) < p
    m = evaluate(y, p).set_index("metric")["value"]
    assert m["roc_auc"] == pytest.approx(roc_auc_score(y, p))
    assert m["pr_auc"] == pytest.approx(average_precision_score(y, p))
    assert m["brier"] == pytest.approx(brier_score_loss(y, p))
    # without costs the threshold is 0.5 and there is no net value
    assert m["threshold"] == 0.5 and np.isnan(m["net_value"])


def test_operating_threshold_and_confusion_table_by_hand():
    assert operating_threshold(COSTS) == 0.25
    assert operating_threshold(ChurnCosts(offer_cost=5, churn_value=50, save_rate=0.5)) == 0.2
    t = confusion_table(Y, P, costs=COSTS)
    assert t.attrs["threshold"] == 0.25
    # caught: 0.9, 0.6; false alarms: 0.8, 0.3, 0.4; missed: 0.2; left alone: 0.1, 0.05
    assert t["customers"].tolist() == [2, 3, 1, 2]
    assert t["outcome"].tolist() == [
        "caught churner",
        "false alarm",
        "missed churner",
        "left alone",
    ]
    # a caught churner is worth 0.4 x 100 - 10 = 30, a false alarm costs the offer
    assert t["value_per_customer"].tolist() == [30.0, -10.0, 0.0, 0.0]
    assert t["value"].sum() == pytest.approx(30.0)
    assert t["share"].sum() == pytest.approx(1.0)
    # an explicit threshold wins over the costs; without costs the values are unknown
    assert confusion_table(Y, P, threshold=0.7)["customers"].tolist() == [1, 1, 2, 4]
    assert confusion_table(Y, P)["value"].isna().all()


def test_threshold_table_by_hand():
    t = threshold_table(Y, P, costs=COSTS, thresholds=[0.5, 0.25]).set_index("threshold")
    # at 0.5: three contacted (0.9, 0.8, 0.6), two churners: 2 x 40 - 3 x 10 = 50
    assert (t.loc[0.5, "targeted"], t.loc[0.5, "churners_caught"]) == (3, 2)
    assert t.loc[0.5, "net_value"] == pytest.approx(50.0)
    assert t.loc[0.25, "net_value"] == pytest.approx(30.0)
    assert t["operating"].tolist() == [True, False]
    # the default grid: 0.05 .. 0.95 and the operating threshold (already on the grid)
    assert len(threshold_table(Y, P, costs=COSTS)) == 19


def test_lift_table_by_hand():
    # input order shuffled; in rank order the churn flags read 1 1 | 0 1 | 0 0 | 1 0 | 0 0
    p = np.array([0.5, 0.9, 0.05, 0.2, 0.7, 0.1, 0.8, 0.3, 0.6, 0.4])
    y = np.array([0, 1, 0, 0, 0, 0, 1, 1, 1, 0])
    t = lift_table(y, p, groups=5)
    assert t["customers"].tolist() == [2] * 5
    assert t["churners"].tolist() == [2, 1, 0, 1, 0]
    # base rate 4 / 10: lift = churn rate / 0.4
    np.testing.assert_allclose(t["lift"], [2.5, 1.25, 0.0, 1.25, 0.0])
    np.testing.assert_allclose(t["capture_rate"], [0.5, 0.75, 0.75, 1.0, 1.0])
    np.testing.assert_allclose(t["cum_lift"], [2.5, 1.875, 1.25, 1.25, 1.0])
    np.testing.assert_allclose(t["p_max"], [0.9, 0.7, 0.5, 0.3, 0.1])
    np.testing.assert_allclose(t["p_min"], [0.8, 0.6, 0.4, 0.2, 0.05])


def test_lift_groups_of_uneven_size_and_ties():
    # 7 customers in 3 groups: ranks 0-2, 3-4, 5-6 (floor(rank x 3 / 7))
    t = lift_table([1, 0, 0, 1, 0, 0, 1], np.linspace(0.9, 0.3, 7), groups=3)
    assert t["customers"].tolist() == [3, 2, 2]
    assert t["cum_customers"].tolist() == [3, 5, 7]
    # ties keep their input order: of the three tied at 0.5, the first two fill group 1
    t = lift_table([0, 1, 0, 0], [0.5, 0.5, 0.5, 0.1], groups=2)
    assert t["churners"].tolist() == [1, 0]
    with pytest.raises(ValueError, match="3 customers cannot fill 10 groups"):
        lift_table([1, 0, 0], [0.1, 0.2, 0.3])
    with pytest.raises(ChurnDataError, match="no churner"):
        lift_table([0, 0, 0], [0.1, 0.2, 0.3], groups=3)


@pytest.mark.parametrize("strategy", ["quantile", "uniform"])
def test_calibration_table_gives_the_points_of_scikit_learns_curve(strategy):
    rng = np.random.default_rng(1)
    p = rng.beta(2, 5, 1000)
    y = rng.random(1000) < p
    t = calibration_table(y, p, bins=8, strategy=strategy)
    prob_true, prob_pred = calibration_curve(y, p, n_bins=8, strategy=strategy)
    np.testing.assert_allclose(t["churn_rate"], prob_true)
    np.testing.assert_allclose(t["mean_probability"], prob_pred)
    assert t["customers"].sum() == 1000
    assert ((t["ci_low"] <= t["churn_rate"]) & (t["churn_rate"] <= t["ci_high"])).all()


def test_calibration_interval_is_wilsons():
    # 1 churner of 4: the Wilson 95% interval is 0.046 .. 0.699 (textbook value)
    t = calibration_table([1, 0, 0, 0], [0.2] * 4, bins=1, strategy="uniform")
    assert (round(t["ci_low"].iat[0], 3), round(t["ci_high"].iat[0], 3)) == (0.046, 0.699)
    assert (t["p_low"].iat[0], t["p_high"].iat[0]) == (0.0, 1.0)


def test_single_class_and_bad_probabilities_are_clear_errors():
    with pytest.raises(ChurnDataError, match="test cut-off 2025-05-01: all 3 customers are non"):
        evaluate([0, 0, 0], [0.1, 0.2, 0.3], where="test cut-off 2025-05-01")
    with pytest.raises(ChurnDataError, match="all 2 customers are churners"):
        evaluate([True, True], [0.1, 0.2])
    with pytest.raises(ValueError, match=r"2 probability value\(s\) missing or outside \[0, 1\]"):
        evaluate([0, 1, 1], [0.1, np.nan, 1.2])
    with pytest.raises(ValueError, match="equal length"):
        evaluate([0, 1], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="yes/no"):
        evaluate([0, 2], [0.1, 0.2])
    with pytest.raises(TypeError, match="costs must be"):
        evaluate(Y, P, costs=10)


def test_curves_and_every_plot_draw_their_table():
    roc, pr = curve_table(Y, P, kind="roc"), curve_table(Y, P, kind="pr")
    assert roc[["fpr", "tpr"]].iloc[-1].tolist() == [1.0, 1.0]
    assert pr["recall"].iloc[-1] == 0.0  # scikit-learn's curve ends at recall 0
    figs = [
        plot_curves(roc, pr),
        plot_calibration(calibration_table(Y, P, bins=3)),
        plot_lift(lift_table(Y, P, groups=4)),
        plot_confusion(confusion_table(Y, P, costs=COSTS)),
        plot_thresholds(threshold_table(Y, P, costs=COSTS)),
    ]
    assert all(isinstance(f, go.Figure) for f in figs)
    lift = figs[2].data
    np.testing.assert_allclose(lift[0].y, lift_table(Y, P, groups=4)["churn_rate"])
    heat = figs[3].data[0]
    assert np.asarray(heat.z).tolist() == [[2, 1], [3, 2]]  # rows churned/stayed
    # threshold 10 / (0.4 x 100) = 25%: 2 of the 8 customers are caught churners (25%)
    assert heat.text[0][0] == "caught churner<br>2 (25%)"
    assert figs[3].layout.title.text == "Who gets an offer (threshold 25%)"


def test_chart_text_in_indonesian():
    table = confusion_table(Y, P, costs=COSTS)
    fig = plot_confusion(table, language="id")
    # the same cells, the outcome in Indonesian; the title carries the threshold
    assert np.asarray(fig.data[0].z).tolist() == [[2, 1], [3, 2]]
    assert fig.data[0].text[0][0] == "churn terjangkau<br>2 (25%)"
    assert fig.data[0].text[1][1] == "dibiarkan<br>2 (25%)"
    assert fig.layout.title.text == "Siapa yang mendapat penawaran (ambang 25%)"
    many = table.assign(customers=[1234, 0, 0, 0])  # a thousands dot in Indonesian
    assert (
        plot_confusion(many, language="id")
        .data[0]
        .text[0][0]
        .startswith("churn terjangkau<br>1.234")
    )
    assert plot_confusion(many).data[0].text[0][0].startswith("caught churner<br>1,234")
    cal = plot_calibration(calibration_table(Y, P, bins=3), language="id")
    assert cal.data[1].hovertemplate.startswith("prediksi %{x:.1%}<br>teramati")
    lift = plot_lift(lift_table(Y, P, groups=4), language="id")
    assert lift.data[0].hovertemplate.startswith("kelompok %{x}<br>tingkat churn")
    with pytest.raises(ValueError, match="language"):
        plot_lift(lift_table(Y, P, groups=4), language="fr")
    assert pd.isna(evaluate(Y, P).set_index("metric").loc["net_value", "value"])
