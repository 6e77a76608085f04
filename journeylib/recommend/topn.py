"""Recommendations for every customer as a tidy table: item-kNN for customers with orders,
(persona) popularity for customers without."""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from journeylib.recommend._base import FROM_MODEL, FROM_POPULARITY, TopN, check_k
from journeylib.recommend.interactions import Interactions
from journeylib.recommend.popularity import PopularityRecommender

__all__ = ["SOURCES", "persona_top_products", "top_n", "topn_table"]

#: ``source`` labels of a recommendation.
SOURCES = ("item_knn", "popularity", "persona_popularity")


def topn_table(
    top: TopN,
    customers: np.ndarray,
    products: np.ndarray,
    *,
    source_labels: np.ndarray | None = None,
) -> pd.DataFrame:
    """One row per customer x rank of a :class:`~journeylib.recommend._base.TopN`.

    Parameters
    ----------
    top
        The recommendations; row ``r`` belongs to ``customers[r]``.
    customers, products
        Row and column labels.
    source_labels
        ``(n_rows, k)`` source label codes into :data:`SOURCES`; default: item_knn for the
        model's products, popularity for the fill.

    Returns
    -------
    pandas.DataFrame
        customer_id, rank (1-based), product_id, score (NaN for popularity fill), source;
        padding (no product left) is left out. ``customer_id``, ``product_id`` and ``source``
        are categoricals (10M rows for 1M customers stay small).
    """
    valid = top.items >= 0
    # row numbers as int32 (the categorical's codes) and ranks built from the row lengths: at
    # 10M customers x 10, np.nonzero's two int64 arrays alone are 1.6 GB
    n_rows, k = valid.shape
    rows = np.repeat(np.arange(n_rows, dtype=np.int32), valid.sum(axis=1))
    rank = np.broadcast_to(np.arange(1, k + 1, dtype=np.int64), valid.shape)[valid]
    if source_labels is None:
        source_labels = np.where(top.source == FROM_MODEL, 0, 1).astype(np.int8)
    cust = pd.Categorical.from_codes(rows, categories=pd.Index(customers, dtype=object))
    del rows
    prod = pd.Categorical.from_codes(top.items[valid], categories=pd.Index(products, dtype=object))
    src = pd.Categorical.from_codes(source_labels[valid], categories=SOURCES)
    return pd.DataFrame(
        {
            "customer_id": cust,
            "rank": rank,
            "product_id": prod,
            "score": top.scores[valid],
            "source": src,
        }
    )


def top_n(
    model: object,
    train: Interactions,
    *,
    k: int = 10,
    customers: np.ndarray | None = None,
    exclude_bought: bool = True,
    fallback: PopularityRecommender | None = None,
    groups: np.ndarray | None = None,
    categories: np.ndarray | None = None,
    max_per_category: int | None = None,
) -> pd.DataFrame:
    """The top-``k`` products of every customer.

    Customers with orders in ``train`` get ``model``'s recommendations (``source`` item_knn,
    or popularity where the model had too few candidates); customers without (cold: not in
    ``train`` or an empty row) get ``fallback``'s, by their persona when ``groups`` is given
    and the persona has its own ranking (``source`` persona_popularity), else global
    (popularity).

    Parameters
    ----------
    model
        A fitted recommender with ``recommend`` (``ItemKNN``) on ``train``'s products.
    train
        The interactions the model was fitted on.
    k
        Products per customer.
    customers
        Who to recommend to (e.g. every customer of the customers table); default: the
        customers of ``train``.
    exclude_bought
        Leave out what each customer already bought.
    fallback
        Fitted popularity for cold customers; required when there are any.
    groups
        Persona per customer of ``customers`` (``None`` entries: no persona).
    categories, max_per_category
        The category cap (see ``ItemKNN.recommend``).

    Returns
    -------
    pandas.DataFrame
        One row per customer x rank (:func:`topn_table`), in the order of ``customers``.
    """
    k = check_k(k)
    customers = train.customers if customers is None else np.asarray(customers, dtype=object)
    repeated = int(pd.Index(customers).duplicated().sum())
    if repeated:
        raise ValueError(f"customers lists {repeated} customer_id(s) more than once")
    rows = train.rows(customers)
    has_orders = np.zeros(len(customers), dtype=bool)
    known = rows >= 0
    has_orders[known] = np.diff(train.matrix.indptr)[rows[known]] > 0
    n_items = train.shape[1]
    # product numbers fit int32 and source labels int8: 10.3M customers x 10 are 412 MB and
    # 103 MB instead of 824 MB each
    items = np.full((len(customers), k), -1, dtype=np.int32)
    scores = np.full((len(customers), k), np.nan)
    labels = np.zeros((len(customers), k), dtype=np.int8)
    opts = {"exclude_bought": exclude_bought, "categories": categories}
    opts["max_per_category"] = max_per_category
    warm = np.flatnonzero(has_orders)
    if warm.size:
        top = model.recommend(train.matrix[rows[warm]], k, **opts)
        items[warm], scores[warm] = top.items, top.scores
        labels[warm] = np.where(top.source == FROM_POPULARITY, 1, 0)
        del top  # before the cold customers' lists are made
    cold = np.flatnonzero(~has_orders)
    if cold.size:
        if fallback is None:
            raise ValueError(
                f"{cold.size} customer(s) have no orders to learn from: pass fallback= (a "
                "fitted PopularityRecommender)"
            )
        g = None if groups is None else np.asarray(groups, dtype=object)[cold]
        empty = sp.csr_matrix((cold.size, n_items), dtype=np.float32)
        top = fallback.recommend(empty, k, groups=g, **opts)
        items[cold], scores[cold] = top.items, top.scores
        own = np.zeros(cold.size, dtype=bool)
        if g is not None and fallback.groups_:
            own = pd.Index(fallback.groups_, dtype=object).get_indexer(g) >= 0
        labels[cold] = np.where((top.source == FROM_MODEL) & own[:, None], 2, 1)
    source = np.zeros(items.shape, dtype=np.int8)
    source[items < 0] = -1
    return topn_table(TopN(items, scores, source), customers, train.products, source_labels=labels)


#: Rows counted at a time by :func:`persona_top_products`.
_COUNT_SLICE = 1 << 22


def persona_top_products(
    recommendations: pd.DataFrame, persona_of: pd.Series, *, missing: str, top: int = 5
) -> pd.DataFrame:
    """The products recommended most often within each persona.

    ``recommendations`` has one row per customer x recommended product (``customer_id``,
    ``product_id``; :func:`topn_table`); ``persona_of`` maps customer ids to persona labels, and
    customers it lacks count under ``missing``. The personas are looked up once per customer and
    the rows counted by integer codes: tagging each of the 103M rows of 10.3M customers with a
    label object took over 8 GB.

    Returns one row per persona x product among the ``top`` most recommended of the persona:
    ``persona_label``, ``product_id``, ``customers`` (whose list holds it), ``share`` (of the
    persona's customers with recommendations) and ``rank`` (1 = most; ties by product id),
    sorted by persona and rank.
    """
    cust = recommendations["customer_id"]
    if isinstance(cust.dtype, pd.CategoricalDtype):  # the codes as they are, no copy
        codes, ids = cust.array.codes, cust.cat.categories
    else:
        codes, ids = pd.factorize(cust)
    seen = np.zeros(len(ids), dtype=bool)  # customers with recommendations
    seen[codes[codes >= 0] if (codes < 0).any() else codes] = True
    labels = pd.Series(ids).map(persona_of).astype(object).where(lambda s: s.notna(), missing)
    label_codes, label_names = pd.factorize(labels)
    product = recommendations["product_id"]
    if isinstance(product.dtype, pd.CategoricalDtype):
        product_codes, products = product.array.codes, product.cat.categories
    else:
        product_codes, products = pd.factorize(product)
    n_products = max(len(products), 1)
    # rows counted per persona x product in slices: the 103M rows of 10M customers would need
    # a 824 MB key array, and as much again for bincount's copy
    key_type = np.int32 if len(label_names) * n_products < 2**31 else np.int64
    label_codes_k = label_codes.astype(key_type)
    counts = np.zeros(len(label_names) * n_products, dtype=np.int64)
    for lo in range(0, len(codes), _COUNT_SLICE):
        key = label_codes_k[codes[lo : lo + _COUNT_SLICE]]
        key *= n_products
        key += product_codes[lo : lo + _COUNT_SLICE]
        counts += np.bincount(key, minlength=len(counts))
    found = np.flatnonzero(counts)
    size = np.bincount(label_codes[seen], minlength=len(label_names))
    out = pd.DataFrame(
        {
            "persona_label": np.asarray(label_names, dtype=object)[found // n_products],
            "product_id": np.asarray(products)[found % n_products],
            "customers": counts[found].astype("int64"),
        }
    )
    out["share"] = out["customers"] / size[found // n_products]
    out = out.sort_values(["persona_label", "product_id"], ignore_index=True)
    order = out.sort_values(["persona_label", "customers"], ascending=[True, False], kind="stable")
    out["rank"] = (order.groupby("persona_label").cumcount() + 1).reindex(out.index).astype("int64")
    out = out[out["rank"] <= top].sort_values(["persona_label", "rank"], ignore_index=True)
    return out
