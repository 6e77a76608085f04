"""Popularity: the most bought products, overall or within each persona.

:class:`PopularityRecommender` is both the baseline of the offline evaluation (global
popularity) and the recommender for customers without orders (cold customers), who get their
persona's most bought products (``by="persona"``). Popularity is the number of customers who
bought the product (a customer buying it five times counts once); ties go to the product
bought by more customers overall, then to the lower column number. A persona with fewer than
``min_group_customers`` buyers, a customer without a persona and a persona unseen in fitting use
the global ranking.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from journeylib.recommend._base import (
    TopN,
    check_cap,
    check_categories,
    check_k,
    check_matrix,
    finish,
    pool_size,
    recommender_tags,
)
from journeylib.recommend._sparse import first_unseen
from journeylib.recommend.interactions import Interactions
from journeylib.recommend.itemknn import popularity_ranking
from journeylib.sql import identifier

if TYPE_CHECKING:  # pragma: no cover
    from journeylib.engine import Engine

__all__ = ["PopularityRecommender", "customer_personas"]

#: Customers scored per chunk.
CHUNK_ROWS = 200_000


def _group_labels(groups: object, n: int, what: str = "groups") -> pd.Series:
    g = pd.Series(np.asarray(groups, dtype=object) if groups is not None else [None] * n)
    if len(g) != n:
        raise ValueError(f"{what} has {len(g)} entries but X has {n} rows")
    return g.where(g.notna(), None)


class PopularityRecommender(BaseEstimator):
    """Recommend the most bought products, globally or per group (persona).

    Parameters
    ----------
    by : {None, "persona"}
        ``None``: one global ranking; ``"persona"``: one ranking per group given to ``fit``.
    min_group_customers : int
        Groups with fewer buyers fall back to the global ranking.

    Attributes
    ----------
    support_ : numpy.ndarray
        Buyers per product (all customers).
    share_ : numpy.ndarray
        ``support_`` divided by the number of customers (the score of a recommendation).
    popularity_order_ : numpy.ndarray
        Products with buyers, most bought first.
    groups_ : list
        Group labels with their own ranking (``by="persona"``).
    group_support_ : numpy.ndarray
        ``(len(groups_), n_products)`` buyers per group and product.
    group_size_ : numpy.ndarray
        Buyers per group.
    n_features_in_ : int
        Number of products.
    """

    def __init__(self, by: Literal["persona"] | None = None, min_group_customers: int = 30):
        self.by = by
        self.min_group_customers = min_group_customers

    def __sklearn_tags__(self):
        return recommender_tags(super().__sklearn_tags__())

    def fit(
        self,
        X: sp.spmatrix | np.ndarray | Interactions,
        y: None = None,
        *,
        groups: object = None,
    ) -> PopularityRecommender:
        """Count buyers per product (and per group with ``by="persona"``).

        Parameters
        ----------
        X
            Customers x products interactions.
        y
            Ignored.
        groups
            One group label per row of ``X`` (``None``/NaN: no group); needed for
            ``by="persona"``.
        """
        if self.by not in (None, "persona"):
            raise ValueError(f"by must be None or 'persona', got {self.by!r}")
        mgc = self.min_group_customers
        if isinstance(mgc, bool) or not isinstance(mgc, int | np.integer) or mgc < 1:
            raise ValueError(f"min_group_customers must be a positive integer, got {mgc!r}")
        self.products_ = X.products if isinstance(X, Interactions) else None
        m = check_matrix(X)
        b = m.copy()
        b.data[:] = 1
        n, n_items = m.shape
        self.support_ = np.bincount(b.indices, minlength=n_items).astype(np.int64)
        self.share_ = self.support_ / n
        self.popularity_order_, self.popularity_rank_ = popularity_ranking(self.support_)
        self.groups_: list = []
        self.group_support_ = np.zeros((0, n_items), dtype=np.int64)
        self.group_size_ = np.zeros(0, dtype=np.int64)
        self.group_orders_: list[np.ndarray] = []
        if self.by == "persona":
            if groups is None:
                raise ValueError("by='persona' needs groups= (one persona per row of X)")
            g = _group_labels(groups, n)
            buyers = np.diff(b.indptr) > 0
            labels = sorted({v for v in g if v is not None}, key=str)
            codes = pd.Index(labels, dtype=object).get_indexer(g.astype(object))
            sizes = np.bincount(codes[(codes >= 0) & buyers], minlength=len(labels))
            keep = [i for i, s in enumerate(sizes) if s >= mgc]
            self.groups_ = [labels[i] for i in keep]
            self.group_size_ = sizes[keep].astype(np.int64)
            support = np.zeros((len(keep), n_items), dtype=np.int64)
            for j, i in enumerate(keep):
                support[j] = np.bincount(b[codes == i].indices, minlength=n_items)
            self.group_support_ = support
            for j in range(len(keep)):
                # the group's count first, the global count breaks ties, then the column
                order = np.lexsort((np.arange(n_items), -self.support_, -support[j]))
                self.group_orders_.append(order[support[j][order] > 0].astype(np.int64))
        self.n_features_in_ = n_items
        return self

    def recommend(
        self,
        X: sp.spmatrix | np.ndarray | Interactions,
        k: int = 10,
        *,
        exclude_bought: bool = True,
        groups: object = None,
        categories: np.ndarray | None = None,
        max_per_category: int | None = None,
    ) -> TopN:
        """Top-``k`` popular products per row of ``X`` (the group's ranking with ``groups``).

        ``scores`` hold the share of customers (in the group) who bought the product.
        Products a group never bought follow from the global ranking (``source == 1``).
        Options as :meth:`journeylib.recommend.itemknn.ItemKNN.recommend`.
        """
        check_is_fitted(self, "support_")
        m = check_matrix(X, self.n_features_in_)
        k = check_k(k)
        cats = check_categories(categories, self.n_features_in_)
        cap = check_cap(max_per_category if cats is not None else None)
        n, n_items = m.shape
        pool = pool_size(k, n_items, cap)
        b = m.copy()
        b.data[:] = 1
        code = np.full(n, -1, dtype=np.int64)
        if groups is not None and self.groups_:
            g = _group_labels(groups, n)
            code = pd.Index(self.groups_, dtype=object).get_indexer(g.astype(object))
        items = np.full((n, k), -1, dtype=np.int64)
        scores = np.full((n, k), np.nan, dtype=np.float64)
        source = np.full((n, k), -1, dtype=np.int8)
        for c in np.unique(code):
            rows = np.flatnonzero(code == c)
            if c < 0:
                order, share = self.popularity_order_, self.share_
            else:
                order = self.group_orders_[c]
                share = self.group_support_[c] / self.group_size_[c]
            for a in range(0, rows.size, CHUNK_ROWS):
                r = rows[a : a + CHUNK_ROWS]
                bc = b[r]
                excluded = bc if exclude_bought else sp.csr_matrix(bc.shape, dtype=np.float32)
                ranked = first_unseen(order, excluded, np.full(r.size, pool), n_items)
                ranked = ranked._replace(vals=share[ranked.cols].astype(np.float64))
                top = finish(
                    ranked,
                    bought=bc if exclude_bought else None,
                    order=self.popularity_order_,
                    n_items=n_items,
                    k=k,
                    pool=pool,
                    categories=cats,
                    max_per_category=cap,
                )
                items[r], scores[r], source[r] = top
        return TopN(items, scores, source)


def customer_personas(
    engine: Engine, customers: np.ndarray, *, table: str = "persona_assignments"
) -> np.ndarray | None:
    """The persona of each customer (``None`` where unassigned), from the ``persona_assignments``
    table the ``30_personas`` notebook writes; ``None`` when the engine has no such table."""
    if identifier(table) not in engine.tables():
        return None
    frame = engine.query(
        f"SELECT CAST(customer_id AS VARCHAR) AS customer_id, persona FROM {table}"
    )
    lookup = pd.Series(frame["persona"].to_numpy(object), index=frame["customer_id"].astype(object))
    lookup = lookup[~lookup.index.duplicated()]
    out = lookup.reindex(pd.Index(customers, dtype=object)).to_numpy(object)
    return np.where(pd.isna(out), None, out)
