"""ChurnModel: columns, choice of model and calibration, errors; and the synthetic acceptance.

Generated data with a known truth: churn probability = sigmoid(-2 + 1.5 x1 + plan effect), so
the oracle ROC AUC (ranking by the true probability) and the base rate are known in the test.
The synthetic client (planted churn hazard, ``tests/conftest.py``) is fitted at the earlier
cut-off and evaluated at the later one.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.metrics import roc_auc_score

from journeylib.churn import (
    LABEL,
    ChurnDataError,
    ChurnModel,
    churn_data,
    churn_model,
    evaluate,
    lift_table,
    split_xy,
)

PLAN_EFFECT = {"basic": 0.0, "pro": -1.0, "trial": 1.0}


def _data(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Features, churned, true probability. x2 is noise; `empty` is all missing; `flat` is one
    value; plan is a category with its own effect; 10% of x1 are missing."""
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=n)
    plan = rng.choice(list(PLAN_EFFECT), size=n, p=[0.5, 0.3, 0.2])
    logit = -2 + 1.5 * x1 + np.vectorize(PLAN_EFFECT.get)(plan)
    p = 1 / (1 + np.exp(-logit))
    y = rng.random(n) < p
    x1_seen = np.where(rng.random(n) < 0.1, np.nan, x1)
    X = pd.DataFrame(
        {
            "customer_id": [f"s{seed}-{i}" for i in range(n)],
            "x1": x1_seen,
            "x2": rng.normal(size=n),
            "plan": pd.array(plan, dtype="string"),
            "vip": pd.array(rng.random(n) < 0.3, dtype="boolean"),
            "empty": np.nan,
            "flat": 1.0,
        }
    )
    return X, y, p


@pytest.fixture(scope="module")
def fitted():
    X, y, _ = _data(3000, seed=1)
    return ChurnModel(random_state=0).fit(X, y), X, y


def test_columns_are_typed_and_useless_ones_dropped_with_a_note(fitted):
    model, X, _ = fitted
    assert model.numeric_features_ == ["x1", "x2", "vip"]
    assert model.categorical_features_ == ["plan"]  # text is a category, found by its dtype
    assert model.dropped_features_.to_dict("records") == [
        {"feature": "empty", "reason": "all missing"},
        {"feature": "flat", "reason": "a single value"},
    ]
    assert list(model.feature_names_in_) == ["x1", "x2", "plan", "vip", "empty", "flat"]
    assert model.n_train_ == model.n_fit_ == 3000


def test_probabilities_are_calibrated_and_rank_like_the_truth(fitted):
    model, _, _ = fitted
    Xt, yt, pt = _data(4000, seed=2)
    p = model.predict_proba(Xt)[:, 1]
    # the oracle ranks by the true probability; the model loses a little to missing x1
    assert roc_auc_score(yt, p) > roc_auc_score(yt, pt) - 0.04
    # calibrated despite the balanced class weights: the mean probability is the churn rate
    # of the training rows, and on new customers their true mean churn probability (the
    # realised test rate adds sampling noise of about 0.006)
    X, y = fitted[1:]
    assert abs(model.predict_proba(X)[:, 1].mean() - y.mean()) < 0.005
    assert abs(p.mean() - pt.mean()) < 0.015
    assert abs(p.mean() - yt.mean()) < 0.03
    raw = clone(model).set_params(calibration="none").fit(X, y)
    assert raw.predict_proba(Xt)[:, 1].mean() > yt.mean() + 0.15  # what calibration fixes


def test_choices_are_recorded(fitted):
    model = fitted[0]
    comp = model.comparison_
    assert comp["model"].tolist() == ["logistic", "hgb"]
    assert comp["chosen"].sum() == 1
    assert model.model_ == comp.loc[comp["roc_auc"].idxmax(), "model"]
    cal = model.calibration_comparison_
    assert cal["calibration"].tolist() == ["none", "sigmoid", "isotonic"]
    # the chosen calibration has the lower cross-validated Brier of the two methods
    best = cal.iloc[1:].loc[cal["brier"].iloc[1:].idxmin(), "calibration"]
    assert model.calibration_ == best
    assert model.summary["calibration"].tolist().count(model.calibration_) == 1
    assert "ChurnModel" in model._repr_html_()
    # the chosen pipeline names the inputs of its classifier
    names = model.pipeline_[:-1].get_feature_names_out()
    assert "x1" in names and any(n.startswith("plan") for n in names)


def test_fit_is_deterministic_and_the_input_untouched():
    X, y, _ = _data(800, seed=3)
    before = X.copy()
    a = ChurnModel(model="hgb", random_state=5).fit(X, y)
    b = ChurnModel(model="hgb", random_state=5).fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    pd.testing.assert_frame_equal(X, before)


def test_fixed_choices_sample_and_scores():
    X, y, _ = _data(1500, seed=4)
    m = ChurnModel(model="logistic", calibration="sigmoid", sample_size=1000).fit(X, y)
    assert (m.model_, m.calibration_) == ("logistic", "sigmoid")
    assert m.comparison_["model"].tolist() == ["logistic"]
    assert m.calibration_comparison_.empty
    assert (m.n_train_, m.n_fit_) == (1500, 1000)
    scores = m.scores(X.iloc[:5])
    assert scores.columns.tolist() == ["customer_id", "churn_probability"]
    assert scores["customer_id"].tolist() == X["customer_id"].iloc[:5].tolist()
    assert m.predict(X.iloc[:5], threshold=0.0).all()
    # a category never seen in training is scored, not refused
    new = X.iloc[:2].assign(plan=pd.array(["enterprise", None], dtype="string"))
    assert np.isfinite(m.predict_proba(new)).all()


def test_errors_are_clear():
    X, y, _ = _data(400, seed=5)
    with pytest.raises(ValueError, match="holds the label column 'churned'"):
        ChurnModel().fit(X.assign(**{LABEL: y}), y)
    with pytest.raises(ChurnDataError, match="training data: no churners"):
        ChurnModel().fit(X, np.zeros(len(X), bool))
    few = np.zeros(len(X), bool)
    few[:3] = True
    with pytest.raises(ChurnDataError, match="3 churner"):
        ChurnModel().fit(X, few)
    with pytest.raises(ValueError, match=r"'signup' \(datetime64"):
        ChurnModel().fit(X.assign(signup=pd.Timestamp("2025-01-01")), y)
    with pytest.raises(ValueError, match="no usable feature"):
        ChurnModel().fit(X[["customer_id", "empty", "flat"]], y)
    with pytest.raises(ValueError, match="model must be"):
        ChurnModel(model="forest").fit(X, y)
    with pytest.raises(ValueError, match="missing label"):
        ChurnModel().fit(X, np.where(y, 1.0, np.nan))
    with pytest.raises(NotFittedError):
        ChurnModel().predict_proba(X)
    m = ChurnModel(model="logistic", calibration="sigmoid").fit(X, y)
    with pytest.raises(ValueError, match=r"lacks the feature column\(s\).*'x1'"):
        m.predict_proba(X.drop(columns="x1"))


def test_churn_model_from_the_config(synth_client):
    m = churn_model(synth_client.config)
    spec = synth_client.config.churn
    assert (m.model, m.calibration, m.sample_size) == (spec.model, spec.calibration, 100_000)
    assert m.random_state == synth_client.config.seed
    assert clone(m).get_params() == m.get_params()


# ---- synthetic acceptance --------------------------------------------------------------------
@pytest.fixture(scope="module")
def synth_fit(synth_client):
    data = churn_data(synth_client.engine, synth_client.config)
    X, y = split_xy(data.train)
    model = churn_model(synth_client.config).fit(X, y)
    Xt, yt = split_xy(data.test)
    return data, model, yt, model.predict_proba(Xt)[:, 1]


def test_synthetic_churn_is_predicted_at_the_later_cutoff(synth_fit):
    data, model, yt, p = synth_fit
    # fitted on the labels of 2025-03-03..05-01, evaluated on other customers' labels of
    # 2025-05-02..06-30 (activity in the 90 days before each cut-off; 60-day horizon)
    m = evaluate(yt, p).set_index("metric")["value"]
    assert m["roc_auc"] >= 0.80
    assert m["pr_auc"] > m["base_rate"] + 0.2
    assert m["brier"] < m["brier_reference"]
    # calibrated on the earlier window, whose churn rate is lower (36.5% vs 44%: churn rises
    # over the half-year as customers age); the mean probability on the later customers sits
    # between the two, within a few points of the rate they show
    assert abs(m["mean_probability"] - m["base_rate"]) < 0.05
    lift = lift_table(yt, p)
    assert lift["lift"].iat[0] > 1.8  # the riskiest tenth churns at nearly twice the base rate


def test_synthetic_time_split_alone_reaches_the_target_too(synth_client):
    config = synth_client.config.model_copy(
        update={"churn": synth_client.config.churn.model_copy(update={"by_customer": False})}
    )
    data = churn_data(synth_client.engine, config)
    X, y = split_xy(data.train)
    Xt, yt = split_xy(data.test)
    p = churn_model(config).fit(X, y).predict_proba(Xt)[:, 1]
    assert roc_auc_score(yt, p) >= 0.80


def test_the_fitted_model_works_with_scikit_learns_inspection_tools(fitted):
    # the drivers analysis reads the whole calibrated model through predict_proba on the
    # columns it learned from: the planted driver x1 must dominate, the noise x2 not
    from sklearn.inspection import permutation_importance

    model, X, y = fitted
    X = X[model.features_].iloc[:1000]
    imp = permutation_importance(model, X, y[:1000], scoring="roc_auc", n_repeats=3, random_state=0)
    ranked = [model.features_[i] for i in np.argsort(-imp.importances_mean)]
    assert ranked[:2] == ["x1", "plan"]
    assert abs(imp.importances_mean[model.features_.index("x2")]) < 0.01


def test_predictions_in_slices_equal_one_call(fitted, monkeypatch):
    # a slice's categories may be a subset of the whole's (plan "trial" absent from a slice)
    model, X, _ = fitted
    whole = model.estimator_.predict_proba(model._prepared(X))  # one call, no slicing
    monkeypatch.setattr(ChurnModel, "PREDICT_ROWS", 7)
    np.testing.assert_array_equal(model.predict_proba(X), whole)
    np.testing.assert_array_equal(model.predict_proba(X.iloc[:5]), whole[:5])
