"""Churn prediction with honest evaluation (notebook ``40_churn``).

* :mod:`~journeylib.churn.labels`: labels of non-contractual data from a cut-off and a horizon
  (:func:`churn_labels`), features joined without leakage (:func:`training_frame`), the time
  split (:func:`time_split`) and the split by customer (:func:`customer_split`).
* :mod:`~journeylib.churn.labelled`: labelled (contractual) data, a customers table with a
  churn column (:func:`labelled_frame`, :func:`holdout_split`).
* :mod:`~journeylib.churn.data`: the train/test/score frames the config asks for
  (:func:`churn_data`).
* :mod:`~journeylib.churn.model`: :class:`ChurnModel`, logistic regression or gradient boosting,
  class-weighted, chosen and calibrated on a validation split.
* :mod:`~journeylib.churn.evaluate`: metrics, calibration, lift, costs and thresholds on
  held-out customers, each table with a plotly twin.
* :mod:`~journeylib.churn.drivers`: what drives churn: permutation importance per feature and
  per group of features (:func:`driver_importance`, :func:`driver_groups`), partial dependence
  (:func:`partial_dependence_table`) and the sentences (:func:`describe_drivers`).
* :mod:`~journeylib.churn.risk`: per-customer reasons (:func:`customer_reasons`) and the
  at-risk list ranked by expected loss (:func:`at_risk_list`).

Typical use::

    data = churn_data(engine, config)
    X, y = split_xy(data.train)
    model = churn_model(config).fit(X, y)
    Xt, yt = split_xy(data.test)
    p = model.predict_proba(Xt)[:, 1]
    evaluate(yt, p, costs=config.churn.costs)
"""

from journeylib.churn.data import ChurnData, churn_data, split_xy
from journeylib.churn.drivers import (
    describe_drivers,
    driver_groups,
    driver_importance,
    partial_dependence_table,
    plot_importance,
    plot_partial_dependence,
)
from journeylib.churn.evaluate import (
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
from journeylib.churn.labelled import holdout_split, label_values, labelled_frame
from journeylib.churn.labels import (
    DEFAULT_LOOKBACK_DAYS,
    LABEL,
    ChurnDataError,
    TimeSplit,
    check_classes,
    churn_labels,
    customer_split,
    eligible_customers,
    last_data_day,
    scoring_frame,
    time_split,
    training_frame,
)
from journeylib.churn.model import DEFAULT_HGB_PARAMS, ChurnModel, churn_model
from journeylib.churn.risk import at_risk_list, customer_reasons, value_description

__all__ = [
    "DEFAULT_HGB_PARAMS",
    "DEFAULT_LOOKBACK_DAYS",
    "LABEL",
    "ChurnData",
    "ChurnDataError",
    "ChurnModel",
    "TimeSplit",
    "at_risk_list",
    "calibration_table",
    "check_classes",
    "churn_data",
    "churn_labels",
    "churn_model",
    "confusion_table",
    "curve_table",
    "customer_reasons",
    "customer_split",
    "describe_drivers",
    "driver_groups",
    "driver_importance",
    "eligible_customers",
    "evaluate",
    "holdout_split",
    "label_values",
    "labelled_frame",
    "last_data_day",
    "lift_table",
    "operating_threshold",
    "partial_dependence_table",
    "plot_calibration",
    "plot_confusion",
    "plot_curves",
    "plot_importance",
    "plot_lift",
    "plot_partial_dependence",
    "plot_thresholds",
    "scoring_frame",
    "split_xy",
    "threshold_table",
    "time_split",
    "training_frame",
    "value_description",
]
