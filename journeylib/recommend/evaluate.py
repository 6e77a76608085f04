"""Offline evaluation of recommendations on a time split.

**Split.** The last ``test_days`` days of orders (ending on ``as_of``, default the last order
day) are the test window; the models learn from the orders before it. A customer's *relevant*
products are the distinct products they bought in the test window, without those they bought
before it when ``exclude_bought`` (a recommender that never repeats a purchase is judged on
new products only). Products that first sell in the test window count as relevant too: no
model can recommend them, as in a real campaign. Evaluated: customers with orders before the
test window and at least one relevant product. Customers whose first order falls in the test
window (*cold*) are evaluated separately, on the popularity fallback.

**Metrics** per customer with ``R`` relevant products and ``hit_r`` = 1 when the product at rank
``r`` (1..k) is relevant (binary relevance), averaged over the evaluated customers::

    precision@k = sum_r hit_r / k
    recall@k    = sum_r hit_r / |R|
    NDCG@k      = DCG / IDCG,  DCG = sum_r hit_r / log2(r + 1),
                               IDCG = sum_{r=1..min(k, |R|)} 1 / log2(r + 1)
    hit rate@k  = 1 if sum_r hit_r > 0 else 0

Catalog coverage is the share of the training catalogue (products ordered before the test
window) recommended to at least one evaluated customer. Intervals are the normal
approximation of the mean over customers (mean +- 1.96 standard errors); a model's difference
from the baseline is paired by customer (the same customers, so the interval of the difference
is much narrower than the two intervals suggest).

**Popularity weight.** ``popularity_weight: auto`` is chosen on a *validation* window of the same
length right before the test window (models trained on the orders before it), never on the test
window.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import scipy.sparse as sp

from journeylib.recommend._base import TopN, check_k
from journeylib.recommend.interactions import (
    Interactions,
    _as_day,
    order_pairs,
    pairs_matrix,
    product_categories,
)
from journeylib.recommend.itemknn import ItemKNN
from journeylib.recommend.popularity import PopularityRecommender, customer_personas
from journeylib.sql import require_columns

if TYPE_CHECKING:  # pragma: no cover
    import plotly.graph_objects as go

    from journeylib.config import RecommendSpec
    from journeylib.engine import Engine

__all__ = [
    "METRICS",
    "Holdout",
    "RecommendEvaluation",
    "TimeSplit",
    "customer_metrics",
    "evaluate_topn",
    "holdout",
    "offline_evaluation",
    "plot_evaluation",
    "popularity_weight_curve",
    "time_split",
]

METRICS = ("precision", "recall", "ndcg", "hit_rate", "coverage")
#: Popularity weights tried by ``popularity_weight: auto``.
WEIGHT_GRID = tuple(round(w, 1) for w in np.linspace(0, 1, 11))
_Z = 1.959963984540054  # two-sided 95% normal quantile


# What the evaluation tells the reader when the data do not allow it, in the report languages
# (the exception message is the English text; the page shows :meth:`RecommendDataError.text`).
_MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "no_orders": "the orders table is empty: nothing to evaluate",
        "no_train": "no orders up to {train_end} to learn from (test window {start}..{end}); "
        "choose a shorter test_days or a later as_of",
        "no_validation_buyers": "no customer with orders before {start} bought a relevant "
        "product in the validation window {start}..{end}",
        "no_test_buyers": "no customer with orders before {start} bought a relevant product in "
        "the test window {start}..{end}",
        "no_personas": "no persona assignments: cold customers evaluated on global popularity",
    },
    "id": {
        "no_orders": "tabel pesanan kosong: tidak ada yang dapat dievaluasi",
        "no_train": "tidak ada pesanan hingga {train_end} untuk dipelajari (periode uji "
        "{start}..{end}); pilih test_days yang lebih pendek atau as_of yang lebih akhir",
        "no_validation_buyers": "tidak ada pelanggan dengan pesanan sebelum {start} yang membeli "
        "produk relevan pada periode validasi {start}..{end}",
        "no_test_buyers": "tidak ada pelanggan dengan pesanan sebelum {start} yang membeli "
        "produk relevan pada periode uji {start}..{end}",
        "no_personas": "penetapan persona tidak ditemukan: pelanggan baru dievaluasi dengan "
        "produk terlaris secara keseluruhan",
    },
}


def _message(language: str, key: str, **values: object) -> str:
    return _MESSAGES.get(language, _MESSAGES["en"])[key].format(**values)


class RecommendDataError(ValueError):
    """The orders do not allow the evaluation asked for (no orders, empty windows).

    Raised with a message key and its values (``RecommendDataError("no_orders")``); the
    exception's message is English, :meth:`text` gives it in a report language. Any other
    first argument is kept as a plain message.
    """

    def __init__(self, key: str, **values: object) -> None:
        self.key, self.values = key, values
        super().__init__(_message("en", key, **values) if key in _MESSAGES["en"] else key)

    def text(self, language: str = "en") -> str:
        """The message in ``language`` (``en`` or ``id``), for the report page."""
        if self.key in _MESSAGES["en"]:
            return _message(language, self.key, **self.values)
        return str(self)


# ---- the split -------------------------------------------------------------------------------
@dataclass(frozen=True)
class TimeSplit:
    """Training data up to the end of ``train_end``; test window ``test_start..test_end``
    (UTC days, inclusive)."""

    train_end: dt.date
    test_start: dt.date
    test_end: dt.date

    @property
    def test_days(self) -> int:
        return (self.test_end - self.test_start).days + 1

    def before(self) -> TimeSplit:
        """The validation split: the window of the same length just before the test window."""
        end = self.train_end
        start = end - dt.timedelta(days=self.test_days - 1)
        return TimeSplit(start - dt.timedelta(days=1), start, end)


def last_order_day(engine: Engine) -> dt.date | None:
    require_columns(engine, "orders", ["ts"], timestamp="ts")
    last = engine.scalar("SELECT MAX(ts) FROM orders")
    return None if last is None or pd.isna(last) else pd.Timestamp(last).tz_convert("UTC").date()


def time_split(engine: Engine, *, test_days: int, as_of: dt.date | str | None = None) -> TimeSplit:
    """The last ``test_days`` days up to ``as_of`` (default: the last order day) as the test
    window, everything before as training data."""
    if isinstance(test_days, bool) or not isinstance(test_days, int) or test_days < 1:
        raise ValueError(f"test_days must be a positive integer, got {test_days!r}")
    end = _as_day(as_of, "as_of") or last_order_day(engine)
    if end is None:
        raise RecommendDataError("no_orders")
    start = end - dt.timedelta(days=test_days - 1)
    return TimeSplit(start - dt.timedelta(days=1), start, end)


@dataclass(frozen=True)
class Holdout:
    """Training interactions and the relevant test products of a :class:`TimeSplit`.

    Attributes
    ----------
    split : TimeSplit
    train : Interactions
        Orders up to ``split.train_end``.
    relevant : scipy.sparse.csr_matrix
        ``train`` customers x (``train`` products, then ``new_products``): 1 = relevant.
    new_products : numpy.ndarray
        Products first ordered in the test window (columns after ``train``'s).
    cold_customers : numpy.ndarray
        Customers whose first order is in the test window.
    cold_relevant : scipy.sparse.csr_matrix
        Their relevant products (same columns as ``relevant``).
    exclude_bought : bool
    """

    split: TimeSplit
    train: Interactions
    relevant: sp.csr_matrix
    new_products: np.ndarray
    cold_customers: np.ndarray
    cold_relevant: sp.csr_matrix
    exclude_bought: bool

    @property
    def evaluated(self) -> np.ndarray:
        """Rows of ``train`` evaluated: customers with at least one relevant product."""
        return np.flatnonzero(np.diff(self.relevant.indptr) > 0)


def holdout(
    engine: Engine,
    split: TimeSplit,
    *,
    exclude_bought: bool = True,
    value: str = "binary",
    half_life_days: float | None = None,
    lookback_days: int | None = None,
) -> Holdout:
    """Training matrix and relevant test products for ``split`` (module docstring).

    ``value``, ``half_life_days`` and ``lookback_days`` shape the training matrix as
    :func:`~journeylib.recommend.interactions.interactions` (lookback counted back from
    ``split.train_end``).
    """
    since = None
    if lookback_days is not None:
        since = split.train_end - dt.timedelta(days=lookback_days - 1)
    train_pairs = order_pairs(engine, start=since, end=split.train_end)
    if not len(train_pairs):
        raise RecommendDataError(
            "no_train", train_end=split.train_end, start=split.test_start, end=split.test_end
        )
    train = pairs_matrix(
        train_pairs, value=value, half_life_days=half_life_days, as_of=split.train_end
    )
    test = order_pairs(engine, start=split.test_start, end=split.test_end)
    seen_products = set(train.products.tolist())
    new = np.array(
        sorted({p for p in test["product_id"].astype(object) if p not in seen_products}),
        dtype=object,
    )
    columns = np.concatenate([train.products, new])
    col = pd.Index(columns, dtype=object).get_indexer(test["product_id"].astype(object))
    row = train.rows(test["customer_id"])
    warm = row >= 0
    shape = (train.shape[0], columns.size)
    rel = sp.csr_matrix((np.ones(int(warm.sum()), np.float32), (row[warm], col[warm])), shape=shape)
    rel.sum_duplicates()
    rel.data[:] = 1
    if exclude_bought:
        bought = sp.hstack(
            [train.matrix, sp.csr_matrix((train.shape[0], new.size), dtype=np.float32)]
        ).tocsr()
        bought.data[:] = 1
        rel = rel - rel.multiply(bought)
        rel.eliminate_zeros()
    rel = sp.csr_matrix(rel, dtype=np.float32)
    rel.sort_indices()
    cold_ids = np.array(sorted(set(test.loc[~warm, "customer_id"].astype(object))), dtype=object)
    crow = pd.Index(cold_ids, dtype=object).get_indexer(
        test.loc[~warm, "customer_id"].astype(object)
    )
    cold = sp.csr_matrix(
        (np.ones(crow.size, np.float32), (crow, col[~warm])), shape=(cold_ids.size, columns.size)
    )
    cold.sum_duplicates()
    cold.data[:] = 1
    cold.sort_indices()
    return Holdout(split, train, rel, new, cold_ids, cold, exclude_bought)


# ---- metrics ---------------------------------------------------------------------------------
def customer_metrics(items: np.ndarray, relevant: sp.csr_matrix) -> pd.DataFrame:
    """Per-customer ranking metrics of a top-k (module docstring for the formulas).

    Parameters
    ----------
    items
        ``(n, k)`` recommended column numbers, best first, ``-1`` for none.
    relevant
        ``(n, n_columns)`` 0/1 relevant products of the same customers.

    Returns
    -------
    pandas.DataFrame
        One row per row of ``items``: relevant (count), hits, precision, recall, ndcg,
        hit_rate. Rows without relevant products get NaN recall and NDCG.
    """
    items = np.asarray(items)
    n, k = items.shape
    relevant = sp.csr_matrix(relevant)
    relevant.sort_indices()
    if relevant.shape[0] != n:
        raise ValueError(f"items has {n} rows but relevant has {relevant.shape[0]}")
    n_cols = relevant.shape[1]
    counts = np.diff(relevant.indptr)
    rkeys = np.repeat(np.arange(n, dtype=np.int64), counts) * n_cols + relevant.indices
    ikeys = np.arange(n, dtype=np.int64)[:, None] * n_cols + np.maximum(items, 0)
    if rkeys.size:
        at = np.minimum(np.searchsorted(rkeys, ikeys), rkeys.size - 1)
        hit = (rkeys[at] == ikeys) & (items >= 0)
    else:
        hit = np.zeros(items.shape, dtype=bool)
    discount = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = hit @ discount
    ideal = np.concatenate([[0.0], np.cumsum(discount)])[np.minimum(counts, k)]
    hits = hit.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        recall = np.where(counts > 0, hits / counts, np.nan)
        ndcg = np.where(counts > 0, dcg / ideal, np.nan)
    return pd.DataFrame(
        {
            "relevant": counts.astype(np.int64),
            "hits": hits.astype(np.int64),
            "precision": hits / k,
            "recall": recall,
            "ndcg": ndcg,
            "hit_rate": (hits > 0).astype(np.float64),
        }
    )


def _mean_ci(x: np.ndarray) -> tuple[float, float, float]:
    x = x[~np.isnan(x)]
    if x.size == 0:
        return np.nan, np.nan, np.nan
    mean = float(x.mean())
    se = float(x.std(ddof=1) / np.sqrt(x.size)) if x.size > 1 else np.nan
    return mean, mean - _Z * se, mean + _Z * se


def evaluate_topn(
    recommendations: dict[str, TopN],
    relevant: sp.csr_matrix,
    *,
    n_catalog: int,
    baseline: str | None = None,
    population: str = "customers with orders",
) -> pd.DataFrame:
    """The evaluation table of several models' top-k on the same customers.

    Parameters
    ----------
    recommendations
        Model name -> top-k of the evaluated customers (rows aligned with ``relevant``).
    relevant
        Relevant products of those customers.
    n_catalog
        Products the models could recommend (the coverage denominator).
    baseline
        Name of the model the others are compared with (paired by customer).
    population
        Label of the evaluated customers (the ``population`` column).

    Returns
    -------
    pandas.DataFrame
        One row per model x metric: model, population, metric, k, value, ci_low, ci_high,
        diff_vs_baseline, diff_ci_low, diff_ci_high, customers. Coverage has no interval.
    """
    if baseline is not None and baseline not in recommendations:
        raise ValueError(f"baseline {baseline!r} is not one of {list(recommendations)}")
    per = {name: customer_metrics(top.items, relevant) for name, top in recommendations.items()}
    rows = []
    for name, top in recommendations.items():
        k = top.items.shape[1]
        m = per[name]
        for metric in METRICS:
            row = {"model": name, "population": population, "metric": metric, "k": k}
            if metric == "coverage":
                shown = np.unique(top.items[top.items >= 0]).size
                row.update(value=shown / n_catalog if n_catalog else np.nan)
            else:
                value, lo, hi = _mean_ci(m[metric].to_numpy(np.float64))
                row.update(value=value, ci_low=lo, ci_high=hi)
                if baseline is not None and name != baseline:
                    diff = m[metric].to_numpy(np.float64) - per[baseline][metric].to_numpy(
                        np.float64
                    )
                    d, dlo, dhi = _mean_ci(diff)
                    row.update(diff_vs_baseline=d, diff_ci_low=dlo, diff_ci_high=dhi)
            row["customers"] = int(len(m))
            rows.append(row)
    cols = ["model", "population", "metric", "k", "value", "ci_low", "ci_high"]
    cols += ["diff_vs_baseline", "diff_ci_low", "diff_ci_high", "customers"]
    return pd.DataFrame(rows).reindex(columns=cols)


# Chart titles built from data, in the report language; fixed titles, axis titles, model,
# metric and population names stay English here and are translated by the display's phrase
# catalogue (journeylib.i18n).
_PLOT_TEXT: dict[str, dict[str, str]] = {
    "en": {
        "evaluation": "Offline evaluation at k = {k}",
        "weight_curve": "Validation recall@{k} by popularity weight",
        # formatted with k: plotly's own placeholders are doubled braces
        "weight_hover": "weight %{{x:.1f}}: recall@{k} %{{y:.1%}} "
        "(95% interval %{{customdata[0]:.1%}} to %{{customdata[1]:.1%}})<extra></extra>",
    },
    "id": {
        "evaluation": "Evaluasi offline pada k = {k}",
        "weight_curve": "Recall@{k} validasi menurut bobot produk terlaris",
        "weight_hover": "bobot %{{x:.1f}}: recall@{k} %{{y:.1%}} (selang kepercayaan 95% "
        "%{{customdata[0]:.1%}} sampai %{{customdata[1]:.1%}})<extra></extra>",
    },
}


def _plot_text(language: str, key: str, **values: object) -> str:
    return _PLOT_TEXT.get(language, _PLOT_TEXT["en"])[key].format(**values)


def plot_evaluation(table: pd.DataFrame, *, language: str = "en") -> go.Figure:
    """Grouped bars of :func:`evaluate_topn` (one colour per model, 95% intervals), one panel
    per population; the title in ``language`` (``en``/``id``)."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    pops = list(dict.fromkeys(table["population"]))
    fig = make_subplots(rows=1, cols=len(pops), subplot_titles=pops, shared_yaxes=True)
    seen = set()
    for j, pop in enumerate(pops, start=1):
        part = table[table["population"] == pop]
        for model in dict.fromkeys(part["model"]):
            t = part[part["model"] == model]
            err = (t["ci_high"] - t["value"]).fillna(0).to_numpy()
            errm = (t["value"] - t["ci_low"]).fillna(0).to_numpy()
            fig.add_trace(
                go.Bar(
                    x=t["metric"],
                    y=t["value"],
                    name=model,
                    legendgroup=model,
                    showlegend=model not in seen,
                    error_y={"type": "data", "array": err, "arrayminus": errm},
                ),
                1,
                j,
            )
            seen.add(model)
    k = int(table["k"].iloc[0]) if len(table) else 0
    fig.update_layout(barmode="group", height=400, title=_plot_text(language, "evaluation", k=k))
    fig.update_yaxes(title_text="mean over customers (coverage: share of catalogue)", col=1)
    return fig


def plot_weight_curve(curve: pd.DataFrame, *, k: int, language: str = "en") -> go.Figure:
    """Validation recall@k per popularity weight with its 95% interval, from
    :func:`popularity_weight_curve` (its table twin); title and hover text in ``language``."""
    import plotly.graph_objects as go

    fig = go.Figure(
        go.Scatter(
            x=curve["popularity_weight"],
            y=curve["recall"],
            mode="lines+markers",
            error_y={
                "type": "data",
                "symmetric": False,
                "array": (curve["ci_high"] - curve["recall"]).to_numpy(dtype=float),
                "arrayminus": (curve["recall"] - curve["ci_low"]).to_numpy(dtype=float),
            },
            customdata=np.c_[curve["ci_low"], curve["ci_high"]],
            hovertemplate=_plot_text(language, "weight_hover", k=k),
        )
    )
    fig.update_layout(
        title=_plot_text(language, "weight_curve", k=k),
        xaxis_title="popularity weight",
        yaxis={"title": "recall", "tickformat": ".0%", "rangemode": "tozero"},
        height=380,
    )
    return fig


# ---- the configured evaluation ---------------------------------------------------------------
@dataclass
class RecommendEvaluation:
    """What :func:`offline_evaluation` found.

    Attributes
    ----------
    split : TimeSplit
    table : pandas.DataFrame
        :func:`evaluate_topn` on the test window (customers with orders; cold customers too
        when there are any).
    popularity_weight : float
        The weight used (chosen on the validation window when the config says auto).
    weight_curve : pandas.DataFrame or None
        Validation recall@k per weight (auto only).
    holdout : Holdout
    model : ItemKNN
        Fitted on the training part of the split.
    notes : list of str
        Remarks for the reader (in the ``language`` of :func:`offline_evaluation`).
    """

    split: TimeSplit
    table: pd.DataFrame
    popularity_weight: float
    weight_curve: pd.DataFrame | None
    holdout: Holdout
    model: ItemKNN
    notes: list[str] = field(default_factory=list)


def _holdout(engine: Engine, split: TimeSplit, spec: RecommendSpec) -> Holdout:
    return holdout(
        engine,
        split,
        exclude_bought=spec.exclude_bought,
        value=spec.interaction,
        half_life_days=spec.half_life_days,
        lookback_days=spec.lookback_days,
    )


def _knn(spec: RecommendSpec, weight: float) -> ItemKNN:
    return ItemKNN(
        similarity=spec.similarity,
        neighbours=spec.neighbours,
        min_item_support=spec.min_item_support,
        popularity_weight=weight,
    )


def popularity_weight_curve(
    engine: Engine, spec: RecommendSpec, split: TimeSplit, *, grid: tuple = WEIGHT_GRID
) -> pd.DataFrame:
    """Recall@k on the validation window (``split.before()``) for each popularity weight.

    Returns
    -------
    pandas.DataFrame
        One row per weight: popularity_weight, recall, ci_low, ci_high, customers, chosen
        (the best recall; ties go to the smaller weight).
    """
    val = _holdout(engine, split.before(), spec)
    rows = val.evaluated
    if rows.size == 0:
        raise RecommendDataError(
            "no_validation_buyers", start=val.split.test_start, end=val.split.test_end
        )
    knn = _knn(spec, 0.0).fit(val.train)
    x = val.train.matrix[rows]
    relevant = val.relevant[rows]
    out = []
    for w in grid:
        top = knn.set_params(popularity_weight=float(w)).recommend(
            x, spec.k, exclude_bought=spec.exclude_bought
        )
        value, lo, hi = _mean_ci(customer_metrics(top.items, relevant)["recall"].to_numpy())
        out.append({"popularity_weight": float(w), "recall": value, "ci_low": lo, "ci_high": hi})
    curve = pd.DataFrame(out)
    curve["customers"] = int(rows.size)
    best = curve["recall"].to_numpy()
    curve["chosen"] = np.arange(len(curve)) == int(np.argmax(best))
    return curve


def offline_evaluation(
    engine: Engine,
    spec: RecommendSpec,
    *,
    as_of: dt.date | str | None = None,
    personas: bool | None = None,
    language: str = "en",
) -> RecommendEvaluation:
    """The configured item-kNN against global popularity on the time split (module docstring).

    Parameters
    ----------
    engine
        Engine with ``orders`` (and ``products`` for the category cap, ``persona_assignments``
        for the persona fallback).
    spec
        The config's ``recommend`` section.
    as_of
        Last day of the test window; default the last order day.
    personas
        Evaluate the persona fallback on cold customers; default ``spec.popularity_by_persona``
        (skipped when the engine has no persona assignments).
    language
        ``"en"`` or ``"id"``: the wording of ``notes``.

    Returns
    -------
    RecommendEvaluation
    """
    k = check_k(spec.k)
    split = time_split(engine, test_days=spec.test_days, as_of=as_of)
    notes: list[str] = []
    curve = None
    if spec.popularity_weight == "auto":
        curve = popularity_weight_curve(engine, spec, split)
        weight = float(curve.loc[curve["chosen"], "popularity_weight"].iloc[0])
    else:
        weight = float(spec.popularity_weight)
    ho = _holdout(engine, split, spec)
    rows = ho.evaluated
    if rows.size == 0:
        raise RecommendDataError("no_test_buyers", start=split.test_start, end=split.test_end)
    knn = _knn(spec, weight).fit(ho.train)
    pop = PopularityRecommender().fit(ho.train)
    cats = None
    if spec.max_per_category is not None:
        cats, _ = product_categories(engine, ho.train.products)
    opts = {"exclude_bought": spec.exclude_bought, "categories": cats}
    opts["max_per_category"] = spec.max_per_category
    x = ho.train.matrix[rows]
    n_catalog = ho.train.shape[1]
    recs = {"item_knn": knn.recommend(x, k, **opts), "popularity": pop.recommend(x, k, **opts)}
    table = evaluate_topn(recs, ho.relevant[rows], n_catalog=n_catalog, baseline="popularity")
    use_personas = spec.popularity_by_persona if personas is None else personas
    cold_rows = np.flatnonzero(np.diff(ho.cold_relevant.indptr) > 0)
    if cold_rows.size:
        empty = sp.csr_matrix((cold_rows.size, n_catalog), dtype=np.float32)
        cold = {"popularity": pop.recommend(empty, k, **opts)}
        groups = customer_personas(engine, ho.train.customers) if use_personas else None
        if groups is not None:
            persona_pop = PopularityRecommender(
                by="persona", min_group_customers=spec.min_persona_customers
            ).fit(ho.train, groups=groups)
            cold_groups = customer_personas(engine, ho.cold_customers[cold_rows])
            cold["persona_popularity"] = persona_pop.recommend(empty, k, groups=cold_groups, **opts)
        elif use_personas:
            notes.append(_message(language, "no_personas"))
        table = pd.concat(
            [
                table,
                evaluate_topn(
                    cold,
                    ho.cold_relevant[cold_rows],
                    n_catalog=n_catalog,
                    baseline="popularity",
                    population="new customers",
                ),
            ],
            ignore_index=True,
        )
    return RecommendEvaluation(split, table, weight, curve, ho, knn, notes)
