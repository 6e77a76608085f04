"""Who to call first: per-customer reasons and the at-risk list.

* :func:`customer_reasons`: for each customer, the features whose change to a *typical* value
  (the median of a number, the most common level of a category, over the customers given)
  lowers the customer's predicted churn probability most. It answers "what is unusual about
  this customer that the model reads as risk", with the size of the effect in probability
  points. It is a what-if on the model, not a cause: a customer silent for 80 days is at risk
  *because* the model learned that silence precedes churn.
* :func:`at_risk_list`: customers ranked by expected loss (churn probability x value), with
  persona, current stage and the reasons as text: the table the recommendations notebook and
  the export read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from numbers import Integral
from typing import Any

import numpy as np
import pandas as pd

from journeylib import i18n
from journeylib.churn.drivers import (
    PredictionBatch,
    churn_probability,
    is_numeric,
    mixed_values,
    model_features,
)

__all__ = ["at_risk_list", "customer_reasons", "value_description"]

_STAGE_COLUMNS = ("current_stage", "stage", "furthest_stage")


def _typical(s: pd.Series) -> Any:
    """Median of the observed numbers, or the most common observed level (ties: the first in
    sorted order); missing when nothing is observed."""
    seen = s.dropna()
    if not len(seen):
        return np.nan
    if is_numeric(s):
        return float(np.median(seen.to_numpy(dtype="float64")))
    counts = seen.astype("string").value_counts()
    best = counts[counts == counts.max()].index
    return str(sorted(best)[0])


def _differs(s: pd.Series, typical: Any, numeric: bool) -> np.ndarray:
    """Rows whose value is not the typical one (a missing value always is)."""
    if numeric:
        v = s.to_numpy(dtype="float64", na_value=np.nan)
        return ~(v == typical)
    t = s.astype("string")
    return ~(t == typical).fillna(False).to_numpy(dtype=bool)


def customer_reasons(
    model: Any,
    X: pd.DataFrame,  # noqa: N803
    *,
    top: int = 3,
    reference: str | Mapping[str, Any] = "median",
    sample_size: int | None = None,
    customers: Sequence[Any] | None = None,
    min_effect: float = 0.01,
) -> pd.DataFrame:
    """Each customer's top reasons for the predicted churn risk.

    For every feature, each customer's value is replaced by the typical value and the customer
    scored again (one ``predict_proba`` call per feature over all customers, batched; customers
    already at the typical value keep their probability); a feature is a reason when this
    *lowers* the churn probability, and the reasons are ranked by how much.

    Parameters
    ----------
    model
        A fitted :class:`~journeylib.churn.ChurnModel`.
    X
        One row per customer: ``customer_id`` (the model's ``id_column``) and the features.
    top
        Reasons per customer (fewer when fewer features lower the probability).
    reference
        ``"median"``: typical values computed on X (median of the observed numbers, the most
        common level of a category); or a mapping feature -> typical value (e.g. medians of the
        customers who stayed), features it omits taking the median.
    sample_size
        Explain at most this many customers: those with the highest churn probability (the
        at-risk end); ``None``: all.
    customers
        Explain only these customer ids (e.g. the top of the at-risk list); the typical values
        still come from every row of X, so "typical" means typical of all scored customers, not
        of the at-risk ones (among whom a long absence is typical).
    min_effect
        Smallest drop of the churn probability that counts as a reason (default one percentage
        point: a smaller one is noise, not something to act on).

    Returns
    -------
    pandas.DataFrame
        One row per customer x reason (customers in the order of X, then ``reason_rank``):
        ``customer_id``, ``reason_rank`` (1 = largest effect), ``feature``, ``value`` (the
        customer's; missing when missing), ``typical_value``, ``effect`` (churn probability
        minus the probability with the typical value; at least ``min_effect``).
        ``value``/``typical_value`` are
        numbers, or text when the model has a categorical feature. ``attrs["typical"]`` maps
        each feature to its typical value.
    """
    features = model_features(model, X)
    id_column = getattr(model, "id_column", "customer_id")
    if id_column not in X.columns:
        raise ValueError(f"X needs the column {id_column!r} to name the customers")
    if isinstance(top, bool) or not isinstance(top, Integral) or top < 1:
        raise ValueError(f"top must be a whole number >= 1, got {top!r}")
    if sample_size is not None and (not isinstance(sample_size, Integral) or sample_size < 1):
        raise ValueError(f"sample_size must be None or >= 1, got {sample_size!r}")
    if not isinstance(min_effect, (int, float)) or not 0 <= min_effect < 1:
        raise ValueError(f"min_effect must be a probability in [0, 1), got {min_effect!r}")
    if isinstance(reference, str):
        if reference != "median":
            raise ValueError(f"reference must be 'median' or a mapping, got {reference!r}")
        given: Mapping[str, Any] = {}
    elif isinstance(reference, Mapping):
        unknown = [f for f in reference if f not in features]
        if unknown:
            raise ValueError(f"reference names feature(s) the model does not use: {unknown}")
        given = reference
    else:
        raise TypeError(f"reference must be 'median' or a mapping, got {type(reference).__name__}")

    Xf = X[features].reset_index(drop=True)  # noqa: N806
    ids = X[id_column].reset_index(drop=True)
    numeric = {f: is_numeric(Xf[f]) for f in features}
    typical = {f: given[f] if f in given else _typical(Xf[f]) for f in features}
    if customers is not None:
        keep = np.flatnonzero(ids.isin(set(customers)).to_numpy())
        Xf, ids = Xf.iloc[keep].reset_index(drop=True), ids.iloc[keep].reset_index(drop=True)  # noqa: N806
    base = churn_probability(model, Xf)
    if sample_size is not None and len(Xf) > sample_size:
        keep = np.sort(np.argsort(-base, kind="stable")[:sample_size])
        Xf, ids, base = Xf.iloc[keep].reset_index(drop=True), ids.iloc[keep], base[keep]  # noqa: N806
        ids = ids.reset_index(drop=True)

    batch, changed = PredictionBatch(model), {}
    for j, f in enumerate(features):
        t = typical[f]
        if pd.isna(t):
            continue  # nothing observed: no typical value to compare with
        rows = np.flatnonzero(_differs(Xf[f], t, numeric[f]))
        if not len(rows):
            continue
        part = Xf.iloc[rows].copy()
        part[f] = (
            np.full(len(rows), float(t)) if numeric[f] else pd.array([t] * len(rows), "string")
        )
        changed[j] = rows
        batch.add(j, part)
    effect = np.zeros((len(Xf), len(features)))
    for j, p in batch.results().items():
        effect[changed[j], j] = base[changed[j]] - p

    order = np.argsort(-effect, axis=1, kind="stable")[:, :top]
    picked = np.take_along_axis(effect, order, axis=1)
    cust, rank = np.nonzero((picked > 0) & (picked >= min_effect))
    feat_idx = order[cust, rank]
    names = [features[k] for k in feat_idx]
    values = [Xf[n].iat[c] for n, c in zip(names, cust, strict=True)]
    flags = [numeric[n] for n in names]
    out = pd.DataFrame(
        {
            id_column: ids.iloc[cust].to_numpy(),
            "reason_rank": (rank + 1).astype("int64"),
            "feature": pd.Series(names, dtype="string"),
            "value": mixed_values(values, flags),
            "typical_value": mixed_values([typical[n] for n in names], flags),
            "effect": picked[cust, rank],
        }
    )
    out.attrs["typical"] = typical
    return out


def _by_customer(table: pd.DataFrame, what: str, columns: list[str]) -> pd.DataFrame:
    """``table`` checked for customer_id and ``columns``, one row per customer."""
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"{what} must be a DataFrame, got {type(table).__name__}")
    missing = [c for c in ["customer_id", *columns] if c not in table.columns]
    if missing:
        raise ValueError(f"{what} lacks the column(s) {missing}")
    dup = int(table["customer_id"].duplicated().sum())
    if dup:
        raise ValueError(f"{what} has {dup} duplicate customer_id row(s): one row per customer")
    return table[["customer_id", *columns]]


#: The words of the reasons column and of :func:`value_description` per language.
_RISK_WORDS: dict[str, dict[str, str]] = {
    "en": {
        "reason": "{name} {value} (typical {typical})",
        "missing": "missing",
        "clv": "customer lifetime value over {months} months",
        "revenue": "revenue to date",
    },
    "id": {
        "reason": "{name} {value} (umumnya {typical})",
        "missing": "kosong",
        "clv": "nilai seumur hidup pelanggan (CLV) selama {months} bulan",
        "revenue": "pendapatan sampai saat ini",
    },
}


def _risk_words(language: str) -> dict[str, str]:
    return i18n.words(_RISK_WORDS, language)


def value_description(
    source: str,
    *,
    horizon_months: int | None = None,
    column: str | None = None,
    language: str = "en",
) -> str:
    """What the at-risk list's ``value`` is, in words for the report sentences.

    Parameters
    ----------
    source
        ``"clv"`` (customer lifetime value over ``horizon_months``), ``"column"`` (a customers
        column, named as code) or ``"revenue"`` (revenue to date).
    language
        ``en`` or ``id``.

    Examples
    --------
    >>> value_description("clv", horizon_months=12)
    'customer lifetime value over 12 months'
    >>> value_description("revenue", language="id")
    'pendapatan sampai saat ini'
    >>> value_description("column", column="arpu")
    '`arpu`'
    """
    words = _risk_words(language)
    if source == "clv":
        return words["clv"].format(months=horizon_months)
    if source == "column":
        return f"`{column}`"
    if source == "revenue":
        return words["revenue"]
    raise ValueError(f"source must be 'clv', 'column' or 'revenue', got {source!r}")


def _reason_text(reasons: pd.DataFrame, language: str = "en") -> pd.DataFrame:
    """One row per customer: the reasons in rank order as one readable line (in ``language``:
    feature names of :func:`journeylib.features.feature_short_name`, Indonesian numbers)."""
    from journeylib.churn.drivers import _as_number, _dictionary, show_value
    from journeylib.personas import _readable, _unit

    need = ["customer_id", "reason_rank", "feature", "value", "typical_value"]
    missing = [c for c in need if c not in reasons.columns]
    if missing:
        raise ValueError(f"reasons lacks the column(s) {missing} (pass customer_reasons(...))")
    vocab = _risk_words(language)
    r = reasons.sort_values(["customer_id", "reason_rank"])
    d = _dictionary(r["feature"].astype(str), None)
    words = {}
    for f in pd.unique(r["feature"].astype(str)):
        words[f] = (_readable(f, d, language), _unit(f, d))

    def show(v: Any, unit: str) -> str:
        if pd.isna(v):
            return vocab["missing"]
        x = _as_number(v)
        return show_value(x, unit, language) if x is not None else str(v)

    text = [
        vocab["reason"].format(
            name=words[f][0], value=show(v, words[f][1]), typical=show(t, words[f][1])
        )
        for f, v, t in zip(r["feature"].astype(str), r["value"], r["typical_value"], strict=True)
    ]
    lines = pd.DataFrame({"customer_id": r["customer_id"].to_numpy(), "text": text})
    return lines.groupby("customer_id", sort=False)["text"].agg("; ".join).rename("reasons")


def at_risk_list(
    scores: pd.DataFrame,
    *,
    value: pd.DataFrame | pd.Series | None = None,
    value_column: str = "clv",
    personas: pd.DataFrame | None = None,
    stages: pd.DataFrame | None = None,
    reasons: pd.DataFrame | None = None,
    top_n: int | None = None,
    language: str = "en",
) -> pd.DataFrame:
    """Customers ranked by what their leaving would cost: churn probability x value.

    Parameters
    ----------
    scores
        :meth:`ChurnModel.scores <journeylib.churn.ChurnModel.scores>`: customer_id,
        churn_probability (one row per customer).
    value
        What each customer is worth: a frame with ``customer_id`` and ``value_column`` (e.g.
        :func:`journeylib.clv.customer_lifetime_value`'s ``clv``, or revenue), or a Series
        indexed by customer_id. Customers without a value get NaN.
    value_column
        The value column of ``value``.
    personas
        Persona assignments: customer_id, persona and (optionally) persona_label.
    stages
        :func:`journeylib.stages.customer_stages` (its ``current_stage``; a frame with
        ``stage`` or ``furthest_stage`` also works).
    reasons
        :func:`customer_reasons` output; joined as text, best reason first.
    top_n
        Keep the first ``top_n`` rows; ``None``: all.
    language
        ``en`` or ``id``: the language of the ``reasons`` text ("porsi elektronik 35% (umumnya
        4%)").

    Returns
    -------
    pandas.DataFrame
        One row per scored customer, riskiest loss first: ``rank`` (1..n), ``customer_id``,
        ``churn_probability``, ``value`` (NaN when unknown), ``expected_loss`` (probability x
        value; NaN when the value is unknown), ``persona``, ``persona_label``, ``stage``,
        ``reasons`` (missing when not given or none). Order: expected loss (highest first;
        customers without a value after those with one), then churn probability, then
        customer_id.
    """
    s = _by_customer(scores, "scores", ["churn_probability"])
    out = s.reset_index(drop=True).copy()
    out["churn_probability"] = out["churn_probability"].astype("float64")
    if value is None:
        out["value"] = np.nan
    else:
        if isinstance(value, pd.Series):
            value = pd.DataFrame(
                {"customer_id": value.index.to_numpy(), value_column: value.to_numpy()}
            )
        v = _by_customer(value, "value", [value_column])
        out = out.merge(v.rename(columns={value_column: "value"}), on="customer_id", how="left")
        out["value"] = pd.to_numeric(out["value"], errors="raise").astype("float64")
    out["expected_loss"] = out["churn_probability"] * out["value"]

    if personas is not None:
        label = ["persona_label"] if "persona_label" in personas.columns else []
        p = _by_customer(personas, "personas", ["persona", *label])
        out = out.merge(p, on="customer_id", how="left")
    if "persona" not in out.columns:
        out["persona"] = pd.array([pd.NA] * len(out), dtype="Int64")
    if "persona_label" not in out.columns:
        out["persona_label"] = pd.array([pd.NA] * len(out), dtype="string")
    if stages is not None:
        col = next((c for c in _STAGE_COLUMNS if c in stages.columns), None)
        if col is None:
            raise ValueError(f"stages needs one of the columns {list(_STAGE_COLUMNS)}")
        st = _by_customer(stages, "stages", [col]).rename(columns={col: "stage"})
        out = out.merge(st, on="customer_id", how="left")
        out["stage"] = out["stage"].astype("string")
    else:
        out["stage"] = pd.array([pd.NA] * len(out), dtype="string")
    if reasons is not None and len(reasons):
        out = out.merge(_reason_text(reasons, language), on="customer_id", how="left")
        out["reasons"] = out["reasons"].astype("string")
    else:
        out["reasons"] = pd.array([pd.NA] * len(out), dtype="string")

    out = out.sort_values(
        ["expected_loss", "churn_probability", "customer_id"],
        ascending=[False, False, True],
        na_position="last",
        kind="stable",
    ).reset_index(drop=True)
    out.insert(0, "rank", np.arange(1, len(out) + 1, dtype="int64"))
    if top_n is not None:
        if isinstance(top_n, bool) or not isinstance(top_n, Integral) or top_n < 1:
            raise ValueError(f"top_n must be None or a whole number >= 1, got {top_n!r}")
        out = out.head(top_n)
    cols = [
        "rank",
        "customer_id",
        "churn_probability",
        "value",
        "expected_loss",
        "persona",
        "persona_label",
        "stage",
        "reasons",
    ]
    return out[cols]
