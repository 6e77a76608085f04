"""What drives churn: permutation importance and partial dependence of a fitted churn model.

Both read the whole calibrated model through its ``predict_proba`` on held-out customers, so
they explain the probabilities the report shows, whatever model was chosen.

* **Permutation importance** (:func:`driver_importance`): how much the held-out score (ROC AUC
  by default) drops when one feature's values are shuffled between customers, breaking its link
  with churn; the mean and standard deviation over ``n_repeats`` shuffles. The shuffles are
  those of :func:`sklearn.inspection.permutation_importance` with the same ``random_state``, so
  the feature rows equal its ``importances_mean``/``importances_std``; the computation is
  faster but exact: a customer whose value the shuffle leaves unchanged keeps the prediction
  already made (most customers, for rare events such as a payment error), and all shuffles of
  a feature go to the model in one call.
* **Grouped importance** (``groups=``): the columns of a group are shuffled *together*, with the
  same row order. Two reasons: correlated features (several recency and tenure measures) share
  their importance, so each alone looks minor while the model cannot do without all of them;
  and a rare but strong cause spread over several columns (friction events, each hitting ~1% of
  customers) is small in every column and visible only as a group.
* **Partial dependence** (:func:`partial_dependence_table`): the average predicted churn
  probability when every customer's value of one feature is set to a grid value (quantiles of
  the observed values; every value when there are few; the levels of a category), with how
  many customers are observed near each grid value. It shows the direction and size of an
  effect, averaged over the other features as they are.

:func:`describe_drivers` turns both tables into plain sentences; :func:`plot_importance` and
:func:`plot_partial_dependence` are the charts (the tables are their twins).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from numbers import Integral
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy.stats import rankdata
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from journeylib import i18n
from journeylib.churn.labels import check_classes
from journeylib.features import group_name

if TYPE_CHECKING:  # pragma: no cover
    import plotly.graph_objects as go

__all__ = [
    "describe_drivers",
    "driver_groups",
    "driver_importance",
    "partial_dependence_table",
    "plot_importance",
    "plot_partial_dependence",
]

log = logging.getLogger(__name__)


def _roc_auc(y: np.ndarray, p: np.ndarray) -> float:
    """ROC AUC as the Mann-Whitney statistic (ties count half): the value of
    :func:`sklearn.metrics.roc_auc_score` without its input checks, which cost more than the
    score itself when the score is taken hundreds of times."""
    y = np.asarray(y, dtype=bool)
    n1 = int(y.sum())
    n0 = len(y) - n1
    return float((rankdata(p)[y].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


#: Scores :func:`driver_importance` accepts: greater is better for each (Brier and log loss are
#: negated, as in scikit-learn's scorer names).
SCORERS: dict[str, Any] = {
    "roc_auc": _roc_auc,
    "average_precision": average_precision_score,
    "neg_brier_score": lambda y, p: -brier_score_loss(y, p),
    "neg_log_loss": lambda y, p: -log_loss(y, p, labels=[False, True]),
}
_SCORE_WORDS = {
    "roc_auc": "ROC AUC",
    "average_precision": "PR AUC",
    "neg_brier_score": "Brier score",
    "neg_log_loss": "log loss",
}
_SCORE_WORDS_ID = {**_SCORE_WORDS, "neg_brier_score": "skor Brier"}
#: The sentences of :func:`describe_drivers` and the dynamic chart text per language.
_DRIVER_TEXT: dict[str, dict[str, str]] = {
    "en": {
        "groups": "By group of features, the model relies most on {parts}: the {words} lost "
        "when the group's values are shuffled between customers.",
        "then": ", then ",
        "tail": " (shuffling it costs {importance} {words})",
        "flat": "**{name}** barely moves the churn probability ({lo} to {hi} between {v0} and "
        "{v1}){tail}.",
        "more": "more",
        "less": "less",
        "rises": "rises",
        "falls": "falls",
        "direction": "Customers with a higher **{name}** are {more} likely to leave: churn "
        "probability {verb} from {p0} at {v0} to {p1} at {v1}{tail}.",
        "mixed": "**{name}** matters, though not in one direction: churn probability is highest "
        "at {v_hi} ({p_hi}) and lowest at {v_lo} ({p_lo}){tail}.",
        "levels": "Churn probability is highest for **{name}** = {hi} ({p_hi}) and lowest for "
        "{lo} ({p_lo}){tail}.",
        "no_curve": "**{name}** matters to the model{tail}; its partial dependence was not "
        "computed.",
        "none": "No feature lowers the held-out {words} when shuffled: the model finds no driver.",
        "top_features": "top {top} features",
        "groups_title": "groups",
        "lost_axis": "{words} lost when shuffled",
        "lost_hover": "%{{y}}<br>{words} lost %{{x:.4f}}<extra></extra>",
        "pdp_hover": "%{x}<br>churn probability %{y:.1%}<br>%{customdata[0]} customers"
        "<extra></extra>",
    },
    "id": {
        "groups": "Menurut kelompok fitur, model paling bergantung pada {parts}: {words} yang "
        "hilang bila nilai kelompok itu diacak antarpelanggan.",
        "then": ", lalu ",
        "tail": " (mengacaknya mengurangi {words} sebesar {importance})",
        "flat": "**{name}** hampir tidak menggeser probabilitas churn ({lo} sampai {hi} antara "
        "{v0} dan {v1}){tail}.",
        "more": "lebih mungkin",
        "less": "lebih kecil kemungkinannya",
        "rises": "naik",
        "falls": "turun",
        "direction": "Pelanggan dengan **{name}** yang lebih tinggi {more} untuk pergi: "
        "probabilitas churn {verb} dari {p0} pada {v0} menjadi {p1} pada {v1}{tail}.",
        "mixed": "**{name}** berpengaruh, tetapi tidak searah: probabilitas churn tertinggi pada "
        "{v_hi} ({p_hi}) dan terendah pada {v_lo} ({p_lo}){tail}.",
        "levels": "Probabilitas churn tertinggi untuk **{name}** = {hi} ({p_hi}) dan terendah "
        "untuk {lo} ({p_lo}){tail}.",
        "no_curve": "**{name}** berpengaruh bagi model{tail}; partial dependence-nya tidak "
        "dihitung.",
        "none": "Tidak ada fitur yang menurunkan {words} pada pelanggan uji bila diacak: model "
        "tidak menemukan pendorong churn.",
        "top_features": "{top} fitur teratas",
        "groups_title": "kelompok fitur",
        "lost_axis": "{words} yang hilang bila diacak",
        "lost_hover": "%{{y}}<br>{words} hilang %{{x:.4f}}<extra></extra>",
        "pdp_hover": "%{x}<br>probabilitas churn %{y:.1%}<br>%{customdata[0]} pelanggan"
        "<extra></extra>",
    },
}


def _dt(language: str) -> dict[str, str]:
    return i18n.words(_DRIVER_TEXT, language)


def _score_words(scoring: str, language: str = "en") -> str:
    words = _SCORE_WORDS_ID if language == "id" else _SCORE_WORDS
    return words.get(scoring, scoring)


def _decimal(value: float, decimals: int, language: str) -> str:
    """A number with a fixed number of decimals; Indonesian writes a decimal comma."""
    text = f"{value:.{decimals}f}"
    return text.replace(".", ",") if language == "id" else text


_PREDICT_ROWS = 250_000  # rows per predict_proba call (bounds memory of the stacked copies)


# ---- shared helpers (also used by journeylib.churn.risk) ----------------------------------------
def model_features(model: Any, X: pd.DataFrame) -> list[str]:  # noqa: N803
    """The columns ``model`` learned from (``features_``), checked against X."""
    check_is_fitted(model)
    if not isinstance(X, pd.DataFrame):
        raise TypeError(f"X must be a pandas DataFrame of features, got {type(X).__name__}")
    features = list(getattr(model, "features_", None) or X.columns)
    id_column = getattr(model, "id_column", "customer_id")
    features = [f for f in features if f != id_column]
    missing = [f for f in features if f not in X.columns]
    if missing:
        raise ValueError(f"X lacks the feature column(s) the model learned from: {missing}")
    return features


def is_numeric(s: pd.Series) -> bool:
    """Numbers and yes/no columns (the model's numeric kind); the rest are categories."""
    return pd.api.types.is_bool_dtype(s.dtype) or (
        pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_complex_dtype(s.dtype)
    )


def churn_probability(model: Any, X: pd.DataFrame) -> np.ndarray:  # noqa: N803
    """Column 1 of ``predict_proba``, in slices of at most :data:`_PREDICT_ROWS` rows."""
    if len(X) <= _PREDICT_ROWS:
        return np.asarray(model.predict_proba(X)[:, 1], dtype="float64")
    parts = [
        model.predict_proba(X.iloc[i : i + _PREDICT_ROWS])[:, 1]
        for i in range(0, len(X), _PREDICT_ROWS)
    ]
    return np.concatenate(parts).astype("float64")


def _codes(s: pd.Series) -> np.ndarray:
    """Integer codes of a column's values (missing = -1): equal values, equal codes."""
    return pd.factorize(s, use_na_sentinel=True)[0]


def mixed_values(values: list[Any], numeric: list[bool]) -> pd.Series:
    """A value column that writes to Parquet: numbers when every value is a number, else text
    (numbers as their shortest exact text, levels as they are, missing as missing)."""
    if all(numeric):
        return pd.Series(values, dtype="float64")
    text = [
        pd.NA
        if pd.isna(v)
        else (repr(float(v)) if isinstance(v, (int, float, np.number)) and n else str(v))
        for v, n in zip(values, numeric, strict=True)
    ]
    return pd.Series(text, dtype="string")


# ---- groups ----------------------------------------------------------------------------------
def driver_groups(
    columns: Iterable[str], dictionary: pd.DataFrame | Mapping[str, str] | None = None
) -> dict[str, str]:
    """Feature -> group, for the grouped importance of :func:`driver_importance`.

    Parameters
    ----------
    columns
        Feature columns (``customer_id`` and ``churned`` are skipped).
    dictionary
        A feature dictionary (a frame with ``name`` and ``group``, e.g.
        :func:`journeylib.features.feature_dictionary`) or a mapping name -> group. Default: the
        feature dictionary of :func:`journeylib.features.customer_features`.

    Returns
    -------
    dict
        One entry per column: its group in the dictionary; a column the dictionary does not
        document (a customers table's own attribute) is its own group.

    Examples
    --------
    >>> driver_groups(["customer_id", "friction_payment_error", "tenure_months"])
    {'friction_payment_error': 'friction', 'tenure_months': 'tenure_months'}
    """
    from journeylib.churn.labels import LABEL
    from journeylib.features import feature_dictionary

    if isinstance(dictionary, pd.DataFrame):
        known = dict(
            zip(dictionary["name"].astype(str), dictionary["group"].astype(str), strict=True)
        )
    elif dictionary is not None:
        known = {str(k): str(v) for k, v in dictionary.items()}
    else:
        known = None
    out = {}
    for col in columns:
        if col in ("customer_id", LABEL):
            continue
        if known is not None:
            out[col] = known.get(col, col)
            continue
        try:
            out[col] = str(feature_dictionary([col])["group"].iat[0])
        except KeyError:
            out[col] = col
    return out


# ---- permutation importance ------------------------------------------------------------------
def _shuffles(n: int, n_repeats: int, random_state: object) -> list[np.ndarray]:
    """The row orders :func:`sklearn.inspection.permutation_importance` applies to every column:
    one seed drawn from ``random_state``, then ``n_repeats`` successive in-place shuffles of
    the already shuffled column (returned as orders of the original rows)."""
    seed = check_random_state(random_state).randint(np.iinfo(np.int32).max + 1)
    rs = check_random_state(seed)
    idx, order, out = np.arange(n), np.arange(n), []
    for _ in range(n_repeats):
        rs.shuffle(idx)
        order = order[idx]
        out.append(order)
    return out


def _sample(
    X: pd.DataFrame,  # noqa: N803
    y: np.ndarray,
    sample_size: int | None,
    random_state: object,
) -> tuple[pd.DataFrame, np.ndarray]:
    if sample_size is None or len(X) <= sample_size:
        return X.reset_index(drop=True), y
    Xs, _, ys, _ = train_test_split(  # noqa: N806
        X, y, train_size=sample_size, stratify=y, random_state=random_state
    )
    return Xs.reset_index(drop=True), ys


class PredictionBatch:
    """Frames queued for ``predict_proba`` and predicted together, in calls of about
    :data:`_PREDICT_ROWS` rows: a call has a fixed cost (thread-pool set-up, checks), so many
    small what-if frames are cheaper stacked."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.keys: list[Any] = []
        self.parts: list[pd.DataFrame] = []
        self.rows = 0
        self.out: dict[Any, np.ndarray] = {}

    def add(self, key: Any, frame: pd.DataFrame) -> None:
        self.keys.append(key)
        self.parts.append(frame)
        self.rows += len(frame)
        if self.rows >= _PREDICT_ROWS:
            self.flush()

    def flush(self) -> None:
        if not self.parts:
            return
        p = churn_probability(self.model, pd.concat(self.parts, ignore_index=True))
        at = 0
        for key, part in zip(self.keys, self.parts, strict=True):
            self.out[key] = p[at : at + len(part)]
            at += len(part)
        self.keys, self.parts, self.rows = [], [], 0

    def results(self) -> dict[Any, np.ndarray]:
        self.flush()
        return self.out


def _permuted_scores(
    model: Any,
    X: pd.DataFrame,  # noqa: N803
    y: np.ndarray,
    jobs: list[list[str]],
    shuffles: list[np.ndarray],
    base: np.ndarray,
    score: Any,
) -> list[np.ndarray]:
    """Per job (columns shuffled together), the score after each shuffle. Only the customers
    whose values a shuffle changes are predicted again, all jobs in few stacked calls."""
    codes = {c: _codes(X[c]) for cols in jobs for c in cols}
    batch, changed_rows = PredictionBatch(model), {}
    for j, cols in enumerate(jobs):
        for r, order in enumerate(shuffles):
            changed = np.zeros(len(X), dtype=bool)
            for c in cols:
                changed |= codes[c] != codes[c][order]
            rows = changed_rows[j, r] = np.flatnonzero(changed)
            if len(rows):
                part = X.iloc[rows].copy()
                for c in cols:
                    part[c] = X[c].iloc[order[rows]].to_numpy()
                batch.add((j, r), part)
    new = batch.results()
    out = []
    for j in range(len(jobs)):
        scores = []
        for r in range(len(shuffles)):
            p = base.copy()
            if (j, r) in new:
                p[changed_rows[j, r]] = new[j, r]
            scores.append(score(y, p))
        out.append(np.asarray(scores, dtype="float64"))
    return out


def driver_importance(
    model: Any,
    X: pd.DataFrame,  # noqa: N803
    y: object,
    *,
    groups: Mapping[str, str] | None = None,
    n_repeats: int = 5,
    scoring: str = "roc_auc",
    sample_size: int | None = 10_000,
    random_state: int = 0,
) -> pd.DataFrame:
    """Permutation importance of each feature (and of each group of features) on held-out data.

    Parameters
    ----------
    model
        A fitted :class:`~journeylib.churn.ChurnModel` (or any fitted classifier with
        ``predict_proba``; its ``features_`` when it has them, else every column of X).
    X
        Held-out customers (the *test* frame, never the training rows: importance on rows the
        model learned from rewards what it memorised). Extra columns (``customer_id``) are
        ignored.
    y
        Churned (bool), aligned with X.
    groups
        Feature -> group name (:func:`driver_groups`). When given, each group's columns are also
        shuffled together, with one row order for all of them; features missing from the
        mapping are their own group.
    n_repeats
        Shuffles per feature (and per group).
    scoring
        ``"roc_auc"``, ``"average_precision"``, ``"neg_brier_score"`` or ``"neg_log_loss"``.
    sample_size
        At most this many customers (a sample stratified by the label); ``None``: all. Every
        feature and group is shuffled ``n_repeats`` times and the sample predicted again, so
        this bounds the cost (20,000 customers took 76 s of a 1M-customer report on 2 cores,
        for ~70 features and groups x 5 shuffles of the calibrated ensemble).
    random_state
        Seed of the sample and of the shuffles.

    Returns
    -------
    pandas.DataFrame
        One row per feature, then one per group (with ``groups``): ``kind`` ("feature" or
        "group"), ``name``, ``group`` (a feature's group; the feature itself without
        ``groups``), ``n_features`` (columns shuffled), ``importance`` (mean drop of the score
        when shuffled; near 0 or below: the model does not rely on it), ``importance_sd``
        (standard deviation over the shuffles) and ``rank`` (1 = most important, within
        ``kind``). ``attrs``: ``scoring``, ``baseline_score``, ``n_rows``, ``n_repeats``.

    Raises
    ------
    ChurnDataError
        The held-out customers are all churners or all non-churners.
    """
    features = model_features(model, X)
    if scoring not in SCORERS:
        raise ValueError(f"scoring must be one of {sorted(SCORERS)}, got {scoring!r}")
    if isinstance(n_repeats, bool) or not isinstance(n_repeats, Integral) or n_repeats < 1:
        raise ValueError(f"n_repeats must be a whole number >= 1, got {n_repeats!r}")
    if sample_size is not None and (not isinstance(sample_size, Integral) or sample_size < 10):
        raise ValueError(f"sample_size must be None or >= 10, got {sample_size!r}")
    y = np.asarray(y)
    if y.shape != (len(X),):
        raise ValueError(f"y must hold one label per row of X ({len(X)}), got shape {y.shape}")
    if pd.isna(y).any():
        raise ValueError(f"y holds {int(pd.isna(y).sum())} missing label(s)")
    y = y.astype(bool)
    check_classes(y, where="held-out customers for the importance")
    Xs, ys = _sample(X[features], y, sample_size, random_state)  # noqa: N806
    score = SCORERS[scoring]
    base = churn_probability(model, Xs)
    baseline = float(score(ys, base))
    shuffles = _shuffles(len(Xs), n_repeats, random_state)
    group_of = {f: (groups.get(f, f) if groups is not None else f) for f in features}
    members: dict[str, list[str]] = {}
    for f in features:
        members.setdefault(group_of[f], []).append(f)
    # a one-feature group is shuffled exactly as the feature (the same row orders)
    multi = [g for g, cols in members.items() if groups is not None and len(cols) > 1]
    jobs = [[f] for f in features] + [members[g] for g in multi]
    drops = [baseline - s for s in _permuted_scores(model, Xs, ys, jobs, shuffles, base, score)]
    single = dict(zip(features, drops[: len(features)], strict=True))
    rows = [("feature", f, group_of[f], 1, single[f]) for f in features]
    if groups is not None:
        grouped = dict(zip(multi, drops[len(features) :], strict=True))
        for g, cols in members.items():
            rows.append(("group", g, g, len(cols), grouped.get(g, single[cols[0]])))
    out = pd.DataFrame(
        {
            "kind": [r[0] for r in rows],
            "name": [r[1] for r in rows],
            "group": [r[2] for r in rows],
            "n_features": [r[3] for r in rows],
            "importance": [float(np.mean(r[4])) for r in rows],
            "importance_sd": [float(np.std(r[4])) for r in rows],
        }
    )
    out["kind"] = pd.Categorical(out["kind"], categories=["feature", "group"])
    out = out.sort_values(["kind", "importance", "name"], ascending=[True, False, True])
    out["rank"] = out.groupby("kind", observed=True).cumcount() + 1
    out["kind"] = out["kind"].astype("string")
    out = out.reset_index(drop=True)
    out.attrs.update(
        scoring=scoring, baseline_score=baseline, n_rows=len(Xs), n_repeats=int(n_repeats)
    )
    return out


# ---- partial dependence ----------------------------------------------------------------------
def _grid(s: pd.Series, grid_points: int) -> tuple[list[Any], np.ndarray, bool]:
    """(grid values, customers nearest to each, numeric?) from the non-missing values."""
    seen = s.dropna()
    if not is_numeric(s):
        counts = seen.astype("string").value_counts()
        counts = counts.head(grid_points).sort_index()
        return list(counts.index), counts.to_numpy(dtype="int64"), False
    v = seen.to_numpy(dtype="float64")
    distinct = np.unique(v)
    if len(distinct) <= grid_points:
        grid = distinct
    else:  # scikit-learn's choice: the 5th to 95th percentiles (outliers would set the scale)
        grid = np.unique(np.quantile(v, np.linspace(0.05, 0.95, grid_points)))
    # customers nearest to each grid value (the cut points are the midpoints; the tails count
    # for the end points)
    nearest = np.searchsorted((grid[1:] + grid[:-1]) / 2, v, side="left")
    return list(grid), np.bincount(nearest, minlength=len(grid)).astype("int64"), True


def partial_dependence_table(
    model: Any,
    X: pd.DataFrame,  # noqa: N803
    features: Sequence[str],
    *,
    grid_points: int = 20,
    sample_size: int | None = 5_000,
    random_state: int = 0,
) -> pd.DataFrame:
    """Average churn probability as one feature is set to each value of a grid.

    Parameters
    ----------
    model
        A fitted :class:`~journeylib.churn.ChurnModel`.
    X
        Customers (held-out or scored): the grid and ``n_observed`` come from all of them, the
        average from a sample.
    features
        Features to show, e.g. the top of :func:`driver_importance`.
    grid_points
        At most this many grid values: every observed value when a number takes no more
        values than this (counts such as friction events), else ``grid_points`` quantiles of the
        observed values from the 5th to the 95th percentile (equal quantiles merged; as
        :func:`sklearn.inspection.partial_dependence`); for a category its most common levels.
        Missing values never enter the grid.
    sample_size
        Customers averaged over (a seeded random sample); ``None``: all.
    random_state
        Seed of the sample.

    Returns
    -------
    pandas.DataFrame
        One row per feature x grid value: ``feature``, ``value`` (a number; text when any
        feature asked for is a category), ``mean_probability`` (the mean predicted churn
        probability with every sampled customer set to this value, all else unchanged) and
        ``n_observed`` (customers of X whose value is nearer to this grid value than to any
        other; for a category, with this level). A feature without any observed value has no
        row (named in ``attrs["skipped"]``).
    """
    learned = model_features(model, X)
    features = [features] if isinstance(features, str) else list(dict.fromkeys(features))
    unknown = [f for f in features if f not in learned]
    if unknown:
        raise ValueError(f"feature(s) {unknown} are not among the model's features")
    if isinstance(grid_points, bool) or not isinstance(grid_points, Integral) or grid_points < 2:
        raise ValueError(f"grid_points must be a whole number >= 2, got {grid_points!r}")
    Xf = X[learned]  # noqa: N806
    if sample_size is not None and len(Xf) > sample_size:
        rows = np.sort(check_random_state(random_state).choice(len(Xf), sample_size, replace=False))
        Xs = Xf.iloc[rows].reset_index(drop=True)  # noqa: N806
    else:
        Xs = Xf.reset_index(drop=True)  # noqa: N806
    batch, grids = PredictionBatch(model), []
    skipped: list[str] = []
    for f in features:
        grid, counts, numeric = _grid(Xf[f], grid_points)
        if not grid:
            skipped.append(f)
            log.info("partial dependence: %r has no observed value, left out", f)
            continue
        grids.append((f, grid, counts, numeric))
        for i, v in enumerate(grid):
            what_if = Xs.copy()
            # floats replace a numeric column whatever its dtype (the model reads floats)
            what_if[f] = np.full(len(Xs), v) if numeric else pd.array([v] * len(Xs), "string")
            batch.add((f, i), what_if)
    p = batch.results()
    recs: dict[str, list[Any]] = {k: [] for k in ("feature", "value", "mean_probability", "n")}
    numeric_flags = []
    for f, grid, counts, numeric in grids:
        recs["feature"] += [f] * len(grid)
        recs["value"] += grid
        recs["mean_probability"] += [float(p[f, i].mean()) for i in range(len(grid))]
        recs["n"] += list(counts)
        numeric_flags += [numeric] * len(grid)
    out = pd.DataFrame(
        {
            "feature": pd.Series(recs["feature"], dtype="string"),
            "value": mixed_values(recs["value"], numeric_flags),
            "mean_probability": pd.Series(recs["mean_probability"], dtype="float64"),
            "n_observed": pd.Series(recs["n"], dtype="int64"),
        }
    )
    out.attrs.update(skipped=skipped, n_rows=len(Xs))
    return out


# ---- sentences -------------------------------------------------------------------------------
def _dictionary(names: Iterable[str], dictionary: pd.DataFrame | None) -> pd.DataFrame:
    """The dictionary rows of the documented names (an attribute column has none)."""
    from journeylib.features import feature_dictionary

    if dictionary is not None:
        return dictionary
    rows = []
    for n in dict.fromkeys(names):
        try:
            rows.append(feature_dictionary([n]))
        except KeyError:
            continue
    cols = ["name", "group", "description", "unit", "missing"]
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=cols)


def _as_number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def show_value(value: float, unit: str, language: str = "en") -> str:
    """A number as the persona descriptions write it (:mod:`journeylib.personas`), "1 day"
    in the singular (``language``: ``en`` or ``id``)."""
    from journeylib.personas import _fmt, _words

    text = _fmt(value, unit, language)
    return _words(language)["day"] if text == _fmt(1.0, "days", language) else text


def _curve_sentence(
    name: str, curve: pd.DataFrame, unit: str, tail: str, language: str = "en"
) -> str | None:
    if len(curve) < 2:
        return None
    w = _dt(language)
    values = [_as_number(v) for v in curve["value"]]
    p = curve["mean_probability"].to_numpy(dtype="float64")
    if all(v is not None for v in values):
        v0, v1 = show_value(values[0], unit, language), show_value(values[-1], unit, language)
        lo, hi = int(np.argmin(p)), int(np.argmax(p))
        span = p[hi] - p[lo]
        if span < 0.005:
            return w["flat"].format(
                name=name, lo=f"{p.min():.0%}", hi=f"{p.max():.0%}", v0=v0, v1=v1, tail=tail
            )
        change = p[-1] - p[0]
        if abs(change) >= 0.5 * span:
            return w["direction"].format(
                name=name,
                more=w["more" if change > 0 else "less"],
                verb=w["rises" if change > 0 else "falls"],
                p0=f"{p[0]:.0%}",
                v0=v0,
                p1=f"{p[-1]:.0%}",
                v1=v1,
                tail=tail,
            )
        return w["mixed"].format(
            name=name,
            v_hi=show_value(values[hi], unit, language),
            p_hi=f"{p[hi]:.0%}",
            v_lo=show_value(values[lo], unit, language),
            p_lo=f"{p[lo]:.0%}",
            tail=tail,
        )
    levels = curve["value"].astype("string").tolist()
    hi, lo = int(np.argmax(p)), int(np.argmin(p))
    return w["levels"].format(
        name=name, hi=levels[hi], p_hi=f"{p[hi]:.0%}", lo=levels[lo], p_lo=f"{p[lo]:.0%}", tail=tail
    )


def describe_drivers(
    importance: pd.DataFrame,
    pdp: pd.DataFrame,
    *,
    dictionary: pd.DataFrame | None = None,
    top: int = 5,
    min_observed: int = 30,
    language: str = "en",
) -> list[str]:
    """Plain-words sentences on the main drivers, read from the two tables.

    Parameters
    ----------
    importance
        :func:`driver_importance`.
    pdp
        :func:`partial_dependence_table` of (at least) the top features.
    dictionary
        Feature dictionary (name, group, unit) for readable names and units; default: that of
        the feature table (attribute columns keep their names).
    top
        Features described (the most important with a positive importance).
    min_observed
        Grid values observed for fewer customers are not quoted (unless fewer than two values
        are left): a probability at a value almost nobody has is an extrapolation.
    language
        ``en`` or ``id``: the language of the sentences and of the feature names
        (:func:`journeylib.features.feature_short_name`); a client's own attribute column keeps
        its name.

    Returns
    -------
    list of str
        First, when groups of several features were scored, one sentence on the groups that
        matter most; then one per
        top feature: the direction and size of its effect from the partial dependence
        (lowest to highest grid value observed for ``min_observed`` customers), and the score
        lost when it is shuffled.
    """
    from journeylib.personas import _readable, _unit

    w = _dt(language)
    scoring = importance.attrs.get("scoring", "roc_auc")
    words = _score_words(scoring, language)
    feats = importance[importance["kind"] == "feature"].sort_values("rank")
    feats = feats[feats["importance"] > 0].head(top)
    d = _dictionary([*feats["name"], *pdp["feature"].astype(str)], dictionary)
    out = []
    grp = importance[(importance["kind"] == "group") & (importance["importance"] > 0)]
    grp = grp.sort_values("rank").head(3)
    if len(grp) and (importance.loc[importance["kind"] == "group", "n_features"] > 1).any():
        parts = [
            f"{group_name(g, language=language)} ({_decimal(v, 3, language)})"
            for g, v in zip(grp["name"], grp["importance"], strict=True)
        ]
        out.append(w["groups"].format(parts=w["then"].join(parts), words=words))
    for r in feats.itertuples():
        curve = pdp[pdp["feature"] == r.name]
        if (curve["n_observed"] >= min_observed).sum() >= 2:
            curve = curve[curve["n_observed"] >= min_observed]
        name = _readable(str(r.name), d, language)
        tail = w["tail"].format(importance=_decimal(r.importance, 3, language), words=words)
        unit = _unit(str(r.name), d)
        sentence = _curve_sentence(name, curve, unit, tail, language) if len(curve) else None
        out.append(sentence or w["no_curve"].format(name=name, tail=tail))
    if not out:
        out.append(w["none"].format(words=words))
    return out


# ---- plotly twins ----------------------------------------------------------------------------
def plot_importance(importance: pd.DataFrame, *, top: int = 15, language: str = "en") -> go.Figure:
    """Horizontal bars of :func:`driver_importance` (error bars: one standard deviation over
    the shuffles): the ``top`` features and, beside them, the groups. ``language`` (``en`` or
    ``id``) is that of the subplot and axis titles and the hover text; the chart title is
    translated on display."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    w = _dt(language)
    scoring = importance.attrs.get("scoring", "roc_auc")
    words = _score_words(scoring, language) if scoring in _SCORE_WORDS else "score"
    kinds = [k for k in ("feature", "group") if (importance["kind"] == k).any()]
    titles = [
        w["top_features"].format(top=top) if k == "feature" else w["groups_title"] for k in kinds
    ]
    fig = make_subplots(rows=1, cols=len(kinds), subplot_titles=titles, horizontal_spacing=0.25)
    for i, k in enumerate(kinds, start=1):
        t = importance[importance["kind"] == k].sort_values("rank").head(top).iloc[::-1]
        names = t["name"].astype(str)
        if k == "group":  # group names in words; feature names are column names
            names = names.map(lambda g: group_name(g, language=language))
        fig.add_trace(
            go.Bar(
                x=t["importance"],
                y=names,
                orientation="h",
                error_x={"type": "data", "array": t["importance_sd"]},
                name=k,
                showlegend=False,
                hovertemplate=w["lost_hover"].format(words=words),
            ),
            1,
            i,
        )
        fig.update_xaxes(title_text=w["lost_axis"].format(words=words), row=1, col=i)
    fig.update_layout(title="What the churn model relies on", height=max(380, 26 * top))
    return fig


def plot_partial_dependence(
    pdp: pd.DataFrame, *, columns: int = 3, language: str = "en"
) -> go.Figure:
    """One small chart per feature of :func:`partial_dependence_table`: mean churn probability
    against the feature's value (markers sized by the customers observed there); the hover text
    in ``language`` (``en`` or ``id``), the title translated on display."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    features = list(dict.fromkeys(pdp["feature"].astype(str)))
    cols = max(1, min(columns, len(features)))
    n_rows = max(1, -(-len(features) // cols))
    fig = make_subplots(rows=n_rows, cols=cols, subplot_titles=features or None)
    for i, f in enumerate(features):
        t = pdp[pdp["feature"] == f]
        values = [_as_number(v) for v in t["value"]]
        x = values if all(v is not None for v in values) else t["value"].astype(str).tolist()
        size = 6 + 14 * np.sqrt(t["n_observed"] / max(1, t["n_observed"].max()))
        fig.add_trace(
            go.Scatter(
                x=x,
                y=t["mean_probability"],
                mode="lines+markers",
                marker={"size": size},
                customdata=t[["n_observed"]],
                name=f,
                showlegend=False,
                hovertemplate=_dt(language)["pdp_hover"],
            ),
            i // cols + 1,
            i % cols + 1,
        )
    fig.update_yaxes(tickformat=".0%")
    fig.update_layout(title="Average churn probability as one feature changes", height=300 * n_rows)
    return fig
