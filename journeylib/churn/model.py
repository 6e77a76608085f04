"""The churn model: a calibrated scikit-learn classifier chosen on a validation split.

:class:`ChurnModel` takes one row per customer (a frame of :func:`training_frame` or
:func:`labelled_frame` without its ``churned`` column; ``customer_id`` is carried, never learned
from) and learns, in this order:

1. **Columns.** Numbers and yes/no columns are numeric; text and category columns are
   categorical (recognised by dtype, no list needed). Columns missing for every training
   customer, and columns with a single value and no missing values, are dropped and listed in
   ``dropped_features_`` (a note, not an error). Dates are refused: derive a number.
2. **Candidates** (``model="auto"`` fits both; ``"logistic"`` or ``"hgb"`` one):

   * ``logistic``: ``log1p`` of skewed non-negative numbers, median imputation with a
     missing-value indicator, standardisation; categories one-hot encoded (rare ones pooled,
     unseen ones ignored); :class:`~sklearn.linear_model.LogisticRegression`. The baseline.
   * ``hgb``: :class:`~sklearn.ensemble.HistGradientBoostingClassifier` with native categorical
     splits (categories ordinal-encoded, rare ones pooled) and native missing values; shallow,
     regularised trees (``hgb_params`` overrides).

   Both weight the classes inversely to their frequency (``class_weight="balanced"``) so the
   rarer class is not ignored while learning. Each is fitted on the fitting part of a
   stratified split and scored on the validation part (``validation_size``); ``"auto"`` keeps
   the better by ``selection_metric`` (ROC AUC, or average precision = PR AUC) and records the
   comparison in ``comparison_``.
3. **Calibration.** Class weighting inflates the predicted probabilities of the rare class (a
   balanced model predicts about 50% churn on average whatever the base rate), so they are
   re-mapped to observed frequencies with :class:`~sklearn.calibration.CalibratedClassifierCV`.
   ``calibration="auto"`` compares sigmoid (Platt) and isotonic calibration by the Brier score
   of calibrators cross-validated on the validation part's predictions (fitting and scoring a
   calibrator on the same rows would always favour the more flexible isotonic map) and keeps
   the lower (``calibration_comparison_``). The final model is then
   ``CalibratedClassifierCV(method=..., cv=cv, ensemble=True)`` fitted on all training rows:
   ``cv`` copies of the chosen pipeline, each calibrated on the fold it did not see, averaged.
   ``calibration="none"`` skips this: the scores then rank customers but are not
   probabilities (with class weights, their mean is far above the churn rate).

``sample_size`` caps the rows learned from (a stratified sample, drawn with ``random_state``);
every customer is scored. ``pipeline_`` is the chosen pipeline as fitted on the fitting part
(its ``get_feature_names_out`` names the model's inputs); the drivers analysis explains the
whole calibrated model through :meth:`ChurnModel.predict_proba` on the columns ``features_``.
"""

from __future__ import annotations

import html
import logging
import time
from collections.abc import Mapping
from numbers import Integral, Real
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, OneToOneFeatureMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from journeylib.churn.labels import LABEL, ChurnDataError, check_classes
from journeylib.personas import Log1pSkewed

__all__ = ["DEFAULT_HGB_PARAMS", "ChurnModel", "churn_model"]

log = logging.getLogger(__name__)

MODELS = ("logistic", "hgb")
CALIBRATIONS = ("isotonic", "sigmoid")
#: Shallow, regularised boosting: churn tables are small and noisy, and deep trees overfit the
#: few thousand customers a client often has (on the synthetic and Telco data these settings
#: beat scikit-learn's defaults by 0.01-0.02 ROC AUC on held-out customers).
DEFAULT_HGB_PARAMS: dict[str, Any] = {
    "learning_rate": 0.05,
    "max_iter": 200,
    "max_depth": 3,
    "min_samples_leaf": 40,
    "l2_regularization": 1.0,
}
_MIN_CLASS = 10  # churners and non-churners needed to split, validate and cross-fit
_CALIBRATION_FOLDS = 5  # folds of the validation predictions that compare the calibrations


class _Log1pSkewed(OneToOneFeatureMixin, Log1pSkewed):
    """:class:`journeylib.personas.Log1pSkewed` that passes feature names through."""


def _kinds(X: pd.DataFrame) -> tuple[list[str], list[str]]:
    """(numeric, categorical) columns by dtype; dates and other types are refused."""
    numeric, categorical, bad = [], [], []
    for c, dtype in X.dtypes.items():
        if pd.api.types.is_bool_dtype(dtype) or (
            pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_complex_dtype(dtype)
        ):
            numeric.append(c)
        elif (
            pd.api.types.is_string_dtype(dtype)
            or isinstance(dtype, pd.CategoricalDtype)
            or pd.api.types.is_object_dtype(dtype)
        ):
            categorical.append(c)
        else:
            bad.append(f"{c!r} ({dtype})")
    if bad:
        raise ValueError(
            f"feature column(s) {', '.join(bad)} are neither numbers, yes/no nor categories "
            "(derive a number from a date, e.g. days since it)"
        )
    return numeric, categorical


def _as_frame(X: object) -> pd.DataFrame:
    if isinstance(X, pd.DataFrame):
        return X
    arr = np.asarray(X)
    if arr.ndim != 2:
        raise ValueError(f"X must be a 2-D table of features, got shape {arr.shape}")
    return pd.DataFrame(arr, columns=[f"x{i}" for i in range(arr.shape[1])])


def _matrix(X: pd.DataFrame, numeric: list[str], categorical: list[str]) -> pd.DataFrame:
    """Numbers as float64 (NaN missing), categories as Python strings (NaN missing): the types
    scikit-learn's imputers and encoders accept. The input is not modified."""
    out = {}
    for c in numeric:
        out[c] = X[c].astype("Float64").to_numpy(dtype="float64", na_value=np.nan)
    for c in categorical:
        s = X[c].astype("string")
        out[c] = np.where(s.isna().to_numpy(), np.nan, s.fillna("").to_numpy(dtype=object))
    return pd.DataFrame(out, index=X.index, columns=[*numeric, *categorical])


def _logistic(
    numeric: list[str], categorical: list[str], *, class_weight: Any, c: float, max_cat: int
) -> Pipeline:
    parts = []
    if numeric:
        num = Pipeline(
            [
                ("log", _Log1pSkewed()),
                ("impute", SimpleImputer(strategy="median", add_indicator=True)),
                ("scale", StandardScaler()),
            ]
        )
        parts.append(("num", num, numeric))
    if categorical:
        cat = Pipeline(
            [
                ("impute", SimpleImputer(strategy="constant", fill_value="(missing)")),
                (
                    "onehot",
                    OneHotEncoder(
                        handle_unknown="infrequent_if_exist",
                        max_categories=max_cat,
                        sparse_output=False,
                    ),
                ),
            ]
        )
        parts.append(("cat", cat, categorical))
    prep = ColumnTransformer(parts, verbose_feature_names_out=False)
    clf = LogisticRegression(C=c, class_weight=class_weight, max_iter=2000)
    return Pipeline([("prepare", prep), ("model", clf)])


def _hgb(
    numeric: list[str],
    categorical: list[str],
    *,
    class_weight: Any,
    params: Mapping[str, Any],
    max_cat: int,
    seed: int,
) -> Pipeline:
    parts: list[tuple[str, Any, list[str]]] = []
    if numeric:
        parts.append(("num", "passthrough", numeric))
    if categorical:
        enc = OrdinalEncoder(
            handle_unknown="use_encoded_value",
            unknown_value=np.nan,
            encoded_missing_value=np.nan,
            max_categories=max_cat,
        )
        parts.append(("cat", enc, categorical))
    prep = ColumnTransformer(parts, verbose_feature_names_out=False)
    mask = [False] * len(numeric) + [True] * len(categorical)
    clf = HistGradientBoostingClassifier(
        categorical_features=mask if categorical else None,
        class_weight=class_weight,
        random_state=seed,
        **{**DEFAULT_HGB_PARAMS, **dict(params)},
    )
    return Pipeline([("prepare", prep), ("model", clf)])


def _metrics(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    return {
        "roc_auc": float(roc_auc_score(y, p)),
        "average_precision": float(average_precision_score(y, p)),
        "brier": float(brier_score_loss(y, p)),
        "mean_probability": float(np.mean(p)),
    }


class ChurnModel(ClassifierMixin, BaseEstimator):
    """Calibrated churn probabilities from one row of features per customer.

    The steps are in the module docstring (:mod:`journeylib.churn.model`).

    Parameters
    ----------
    model
        ``"auto"`` (logistic regression and gradient boosting, the better on the validation
        split kept), ``"logistic"`` or ``"hgb"``.
    calibration
        ``"auto"`` (sigmoid or isotonic, the lower cross-validated Brier score on the validation
        split), ``"sigmoid"``, ``"isotonic"`` or ``"none"`` (scores, not probabilities).
    class_weight
        Passed to both classifiers; ``"balanced"`` (default) or ``None``.
    selection_metric
        ``"roc_auc"`` or ``"average_precision"``: how ``model="auto"`` compares.
    validation_size
        Share of the training rows held out to compare models and calibrations.
    cv
        Folds of the final calibrated fit (``CalibratedClassifierCV(cv=...)``).
    sample_size
        At most this many rows are learned from (stratified sample); ``None``: all.
    max_categories
        Categories kept per categorical column; rarer ones are pooled.
    hgb_params
        Overrides of :data:`DEFAULT_HGB_PARAMS` (any ``HistGradientBoostingClassifier``
        parameter).
    logistic_c
        Inverse regularisation strength of the logistic regression.
    id_column
        Column carried for the output, never learned from.
    n_threads
        OpenMP/BLAS threads while fitting and predicting; ``None``: the libraries' default (all
        cores). One by default: on a busy two-core machine (tests or notebooks in parallel) the
        boosting's threads spin-wait and a fit took ten times longer than single-threaded.
    random_state
        Seed of the sample, the splits and the boosting.

    Attributes
    ----------
    model_, calibration_ : str
        The chosen model and calibration.
    estimator_ : CalibratedClassifierCV or Pipeline
        The fitted final estimator (a pipeline when ``calibration="none"``).
    pipeline_ : Pipeline
        The chosen pipeline fitted on the fitting part (for feature names and coefficients).
    features_, numeric_features_, categorical_features_ : list of str
        Columns learned from, by kind.
    dropped_features_ : pandas.DataFrame
        One row per column left out: feature, reason.
    comparison_ : pandas.DataFrame
        One row per candidate model: validation ROC AUC, PR AUC, Brier (uncalibrated), mean
        probability, fit seconds, chosen.
    calibration_comparison_ : pandas.DataFrame
        One row per calibration (none, sigmoid, isotonic): cross-validated Brier score on the
        validation predictions, chosen (empty unless ``calibration="auto"``).
    base_rate_ : float
        Churn share of the training rows.
    n_train_, n_fit_ : int
        Training rows given, rows learned from (after ``sample_size``).
    classes_ : numpy.ndarray
        ``[False, True]``: column 1 of :meth:`predict_proba` is the churn probability.
    """

    def __init__(
        self,
        model: str = "auto",
        calibration: str = "auto",
        *,
        class_weight: str | None = "balanced",
        selection_metric: str = "roc_auc",
        validation_size: float = 0.25,
        cv: int = 3,
        sample_size: int | None = 100_000,
        max_categories: int = 30,
        hgb_params: Mapping[str, Any] | None = None,
        logistic_c: float = 1.0,
        id_column: str = "customer_id",
        n_threads: int | None = 1,
        random_state: int = 0,
    ) -> None:
        self.model = model
        self.calibration = calibration
        self.class_weight = class_weight
        self.selection_metric = selection_metric
        self.validation_size = validation_size
        self.cv = cv
        self.sample_size = sample_size
        self.max_categories = max_categories
        self.hgb_params = hgb_params
        self.logistic_c = logistic_c
        self.id_column = id_column
        self.n_threads = n_threads
        self.random_state = random_state

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        return tags

    # ---- checks ----------------------------------------------------------------------------
    def _check_params(self) -> None:
        problems = []
        if self.model not in ("auto", *MODELS):
            problems.append(f"model must be 'auto', 'logistic' or 'hgb', got {self.model!r}")
        if self.calibration not in ("auto", *CALIBRATIONS, "none"):
            problems.append(
                "calibration must be 'auto', 'isotonic', 'sigmoid' or 'none', "
                f"got {self.calibration!r}"
            )
        if self.class_weight not in ("balanced", None):
            problems.append(f"class_weight must be 'balanced' or None, got {self.class_weight!r}")
        if self.selection_metric not in ("roc_auc", "average_precision"):
            problems.append(
                "selection_metric must be 'roc_auc' or 'average_precision', "
                f"got {self.selection_metric!r}"
            )
        if not isinstance(self.validation_size, Real) or not 0 < self.validation_size < 1:
            problems.append(f"validation_size must be in (0, 1), got {self.validation_size!r}")
        if not isinstance(self.cv, Integral) or self.cv < 2:
            problems.append(f"cv must be a whole number >= 2, got {self.cv!r}")
        if self.sample_size is not None and (
            not isinstance(self.sample_size, Integral) or self.sample_size < 100
        ):
            problems.append(f"sample_size must be None or >= 100, got {self.sample_size!r}")
        if not isinstance(self.max_categories, Integral) or not 2 <= self.max_categories <= 250:
            problems.append(f"max_categories must be 2..250, got {self.max_categories!r}")
        if self.n_threads is not None and (
            not isinstance(self.n_threads, Integral) or self.n_threads < 1
        ):
            problems.append(f"n_threads must be None or >= 1, got {self.n_threads!r}")
        if problems:
            raise ValueError("ChurnModel: " + "; ".join(problems))

    def _features(self, X: pd.DataFrame) -> pd.DataFrame:
        """The feature columns of X (id dropped; the label refused)."""
        X = _as_frame(X)
        if LABEL in X.columns:
            raise ValueError(
                f"X holds the label column {LABEL!r}: pass frame.drop(columns={LABEL!r}) and the "
                "label as y, or the model learns the answer"
            )
        return X.drop(columns=[self.id_column], errors="ignore")

    # ---- fit -------------------------------------------------------------------------------
    def fit(self, X: pd.DataFrame, y: object) -> ChurnModel:  # noqa: N803
        """Choose, fit and calibrate the model.

        Parameters
        ----------
        X
            One row per customer: feature columns (numbers, yes/no, text/categories), optional
            ``id_column``; never the label.
        y
            Churned (bool or 0/1), aligned with X.

        Raises
        ------
        ChurnDataError
            One class only, or fewer than 10 churners or non-churners.
        ValueError
            Bad parameters, date columns, no usable feature.
        """
        self._check_params()
        X = self._features(X)
        y = np.asarray(y)
        if y.shape != (len(X),):
            raise ValueError(f"y must hold one label per row of X ({len(X)}), got {y.shape}")
        if pd.isna(y).any():
            raise ValueError(f"y holds {int(pd.isna(y).sum())} missing label(s)")
        if not np.isin(y, [0, 1, True, False]).all():
            raise ValueError("y must be churned yes/no: booleans or 0/1")
        y = y.astype(bool)
        churners, stayers = check_classes(y, where="training data")
        if min(churners, stayers) < _MIN_CLASS:
            raise ChurnDataError(
                f"training data: {churners} churner(s) and {stayers} non-churner(s); at least "
                f"{_MIN_CLASS} of each are needed to validate and calibrate a model"
            )
        numeric, categorical = _kinds(X)
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self.n_features_in_ = X.shape[1]
        dropped = []
        for c in X.columns:
            s = X[c]
            if s.isna().all():
                dropped.append((c, "all missing"))
            elif s.nunique(dropna=True) <= 1 and not s.isna().any():
                dropped.append((c, "a single value"))
        self.dropped_features_ = pd.DataFrame(dropped, columns=["feature", "reason"])
        if dropped:
            log.info("churn model: %d feature(s) left out: %s", len(dropped), dropped)
        gone = {c for c, _ in dropped}
        self.numeric_features_ = [c for c in numeric if c not in gone]
        self.categorical_features_ = [c for c in categorical if c not in gone]
        self.features_ = [*self.numeric_features_, *self.categorical_features_]
        if not self.features_:
            raise ValueError(
                f"no usable feature: all {X.shape[1]} column(s) are missing or constant "
                f"({self.dropped_features_['reason'].value_counts().to_dict()})"
            )
        M = _matrix(X, self.numeric_features_, self.categorical_features_)  # noqa: N806
        self.n_train_ = len(M)
        self.base_rate_ = float(y.mean())
        if self.sample_size is not None and len(M) > self.sample_size:
            M, _, y, _ = train_test_split(  # noqa: N806
                M, y, train_size=self.sample_size, stratify=y, random_state=self.random_state
            )
        self.n_fit_ = len(M)
        M_fit, M_val, y_fit, y_val = train_test_split(  # noqa: N806
            M, y, test_size=self.validation_size, stratify=y, random_state=self.random_state
        )
        with threadpool_limits(limits=self.n_threads):
            self._select(M_fit, M_val, y_fit, y_val)
            self._calibrate(M, y, M_val, y_val)
        self.classes_ = np.array([False, True])
        return self

    def _candidate(self, name: str) -> Pipeline:
        if name == "logistic":
            return _logistic(
                self.numeric_features_,
                self.categorical_features_,
                class_weight=self.class_weight,
                c=self.logistic_c,
                max_cat=self.max_categories,
            )
        return _hgb(
            self.numeric_features_,
            self.categorical_features_,
            class_weight=self.class_weight,
            params=self.hgb_params or {},
            max_cat=self.max_categories,
            seed=self.random_state,
        )

    def _select(
        self, M_fit: pd.DataFrame, M_val: pd.DataFrame, y_fit: np.ndarray, y_val: np.ndarray
    ) -> None:
        names = list(MODELS) if self.model == "auto" else [self.model]
        rows, fitted = [], {}
        for name in names:
            start = time.perf_counter()
            pipe = self._candidate(name).fit(M_fit, y_fit)
            seconds = time.perf_counter() - start
            fitted[name] = pipe
            p = pipe.predict_proba(M_val)[:, 1]
            rows.append({"model": name, **_metrics(y_val, p), "fit_seconds": seconds})
        comp = pd.DataFrame(rows)
        # ties go to the first candidate: the simpler logistic regression
        best = int(np.argmax(comp[self.selection_metric].to_numpy()))
        comp["chosen"] = np.arange(len(comp)) == best
        self.comparison_ = comp
        self.model_ = str(comp["model"].iat[best])
        self.pipeline_ = fitted[self.model_]

    def _calibrate(
        self, M: pd.DataFrame, y: np.ndarray, M_val: pd.DataFrame, y_val: np.ndarray
    ) -> None:
        cols = ["calibration", "brier", "chosen"]
        if self.calibration == "auto":
            rows = [{"calibration": "none", "brier": self._brier_none(M_val, y_val)}]
            for method in CALIBRATIONS[::-1]:  # sigmoid first: it wins ties (2 parameters)
                rows.append({"calibration": method, "brier": self._brier_cv(M_val, y_val, method)})
            comp = pd.DataFrame(rows)
            best = 1 + int(np.argmin(comp["brier"].to_numpy()[1:]))
            comp["chosen"] = np.arange(len(comp)) == best
            self.calibration_comparison_ = comp[cols]
            self.calibration_ = str(comp["calibration"].iat[best])
        else:
            self.calibration_comparison_ = pd.DataFrame(columns=cols)
            self.calibration_ = self.calibration
        base = self._candidate(self.model_)
        if self.calibration_ == "none":
            self.estimator_ = base.fit(M, y)
            return
        folds = StratifiedKFold(n_splits=self.cv, shuffle=True, random_state=self.random_state)
        self.estimator_ = CalibratedClassifierCV(
            base, method=self.calibration_, cv=folds, ensemble=True
        ).fit(M, y)

    def _brier_none(self, M_val: pd.DataFrame, y_val: np.ndarray) -> float:
        return float(brier_score_loss(y_val, self.pipeline_.predict_proba(M_val)[:, 1]))

    def _brier_cv(self, M_val: pd.DataFrame, y_val: np.ndarray, method: str) -> float:
        """Brier score of ``method`` calibrators fitted on folds of the validation rows and
        scored on the fold they did not see (the base pipeline is frozen)."""
        n_splits = int(min(_CALIBRATION_FOLDS, np.bincount(y_val.astype(int)).min()))
        if n_splits < 2:
            raise ChurnDataError(
                "validation split: fewer than 2 churners or non-churners to compare calibrations"
            )
        folds = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=self.random_state)
        p = np.empty(len(y_val))
        frozen = FrozenEstimator(self.pipeline_)
        for tr, te in folds.split(M_val, y_val):
            cal = CalibratedClassifierCV(frozen, method=method).fit(M_val.iloc[tr], y_val[tr])
            p[te] = cal.predict_proba(M_val.iloc[te])[:, 1]
        return float(brier_score_loss(y_val, p))

    # ---- predict ---------------------------------------------------------------------------
    def _prepared(self, X: pd.DataFrame) -> pd.DataFrame:  # noqa: N803
        check_is_fitted(self, "estimator_")
        X = self._features(X)
        missing = [c for c in self.features_ if c not in X.columns]
        if missing:
            raise ValueError(f"X lacks the feature column(s) the model learned from: {missing}")
        return _matrix(X, self.numeric_features_, self.categorical_features_)

    #: Rows per slice when predicting: each slice's float matrix and the pipelines' copies of it
    #: are held at once (7.6M customers scored in one call took 15 GB).
    PREDICT_ROWS = 250_000

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:  # noqa: N803
        """Column 0: probability of staying; column 1: of churning (calibrated).

        Predicted in slices of :attr:`PREDICT_ROWS` rows (every step is row by row, so the
        result is the same as in one call)."""
        check_is_fitted(self, "estimator_")
        parts = []
        with threadpool_limits(limits=self.n_threads):
            for start in range(0, max(len(X), 1), self.PREDICT_ROWS):
                M = self._prepared(X.iloc[start : start + self.PREDICT_ROWS])  # noqa: N806
                parts.append(self.estimator_.predict_proba(M))
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    def predict(self, X: pd.DataFrame, *, threshold: float = 0.5) -> np.ndarray:  # noqa: N803
        """Churned (bool) when the churn probability reaches ``threshold`` (see
        :func:`journeylib.churn.operating_threshold` for one chosen from costs)."""
        return self.predict_proba(X)[:, 1] >= threshold

    def decision_function(self, X: pd.DataFrame) -> np.ndarray:  # noqa: N803
        """The churn probability (what ranking metrics such as ROC AUC read)."""
        return self.predict_proba(X)[:, 1]

    def scores(self, X: pd.DataFrame) -> pd.DataFrame:  # noqa: N803
        """One row per input row: ``id_column`` (when X has it) and ``churn_probability``."""
        p = self.predict_proba(X)[:, 1]
        out = pd.DataFrame({"churn_probability": p}, index=X.index)
        if self.id_column in X.columns:
            out.insert(0, self.id_column, X[self.id_column].to_numpy())
        return out.reset_index(drop=True)

    # ---- reporting -------------------------------------------------------------------------
    @property
    def summary(self) -> pd.DataFrame:
        """One row per candidate model with its validation scores, the chosen calibration on
        the chosen row."""
        check_is_fitted(self, "estimator_")
        out = self.comparison_.copy()
        out["calibration"] = np.where(out["chosen"], self.calibration_, "")
        return out

    def _repr_html_(self) -> str:
        if not hasattr(self, "estimator_"):
            return f"<pre>{html.escape(repr(self))}</pre>"
        head = (
            f"<p><b>ChurnModel</b>: {html.escape(self.model_)} with {html.escape(self.calibration_)}"
            f" calibration, learned from {self.n_fit_:,} customers ({self.base_rate_:.1%} "
            f"churned), {len(self.features_)} features.</p>"
        )
        return head + self.summary.to_html(index=False, float_format=lambda v: f"{v:.3f}")


def churn_model(spec: Any = None, *, seed: int | None = None) -> ChurnModel:
    """A :class:`ChurnModel` set up from the config's ``churn`` section (or a ``ChurnSpec``).

    Parameters
    ----------
    spec
        A ``Config`` (its ``churn`` section and ``seed``), a ``ChurnSpec``, or ``None`` for the
        defaults.
    seed
        ``random_state``; default the config's ``seed`` (else 0).
    """
    from journeylib.config import ChurnSpec, Config

    if isinstance(spec, Config):
        seed = spec.seed if seed is None else seed
        spec = spec.churn
    if spec is None:
        spec = ChurnSpec()
    if not isinstance(spec, ChurnSpec):
        raise TypeError(f"expected a Config or a ChurnSpec, got {type(spec).__name__}")
    return ChurnModel(
        model=spec.model,
        calibration=spec.calibration,
        selection_metric=spec.selection_metric,
        sample_size=spec.sample_size,
        random_state=0 if seed is None else seed,
    )
