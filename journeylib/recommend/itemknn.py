"""Item-to-item collaborative filtering: "customers who bought this also bought".

:class:`ItemKNN` learns how similar every two products are from the customers who bought both
(the item x item co-occurrence of the customer x product matrix), keeps each product's
``neighbours`` most similar products, and scores a customer's unseen products by summing the
similarities of the products they bought::

    score(u, j) = sum over products i bought by u of  x[u, i] * sim_top(i, j)

where ``sim_top(i, j)`` is ``sim(i, j)`` when ``j`` is among the ``neighbours`` most similar
products of ``i`` and 0 otherwise (each bought product votes for its neighbours; ``x[u, i]`` is
the interaction value: 1, an order count or a recency weight). Similarities, with ``x`` the
interaction matrix, ``b`` its 0/1 pattern and ``U(i)`` the buyers of ``i``:

* ``cosine``: ``sum_u x[u,i] x[u,j] / (||x[:,i]|| ||x[:,j]||)``; for 0/1 data
  ``|U(i) & U(j)| / sqrt(|U(i)| |U(j)|)``.
* ``jaccard``: ``|U(i) & U(j)| / |U(i) | U(j)|`` (0/1 pattern).
* ``bm25``: the dot product ``sum_u w[u,i] w[u,j]`` of BM25 weights, as ``implicit``'s
  ``BM25Recommender`` (customers are the terms, products the documents)::

      w[u,i] = x[u,i] (k1 + 1) / (x[u,i] + k1 (1 - b + b len(i) / mean len)) * idf(u)
      idf(u) = log(n_products / n(u))

  with ``len(i) = sum_u x[u,i]`` (how much the product sells) and ``n(u)`` the number of
  products ``u`` bought: customers who buy everything say little about which products go
  together, and very popular products are damped.

A product's similarity with itself is 0 and products bought by fewer than ``min_item_support``
customers get no similarities (one basket is not evidence). Ties in a top-N are broken by
popularity (more buyers first), then by column number.

**Popularity prior.** With ``popularity_weight`` ``w > 0`` a customer's score is
``(1 - w) * score(u, j) / max_j' score(u, j') + w * buyers(j) / max buyers``: item-kNN where it
has evidence, popularity where it has little. The top-N is exact: the popularity part is added
for the ``k`` most popular products each customer has not bought (no other unscored product can
outrank them).

**Short lists.** A customer whose bought products have fewer than ``k`` distinct neighbours
(few or unusual purchases) gets the rest from popularity (``TopN.source == 1``).

Recommendations are computed in chunks of customers (a sparse product per chunk, then
``np.partition`` on the candidate scores): memory grows with the candidates, never with
customers x products.
"""

from __future__ import annotations

from typing import Literal

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
    chunks,
    finish,
    pool_size,
    recommender_tags,
    stack,
)
from journeylib.recommend._sparse import RowLists, first_unseen, row_topk
from journeylib.recommend.interactions import Interactions

Similarity = Literal["cosine", "bm25", "jaccard"]

__all__ = ["ItemKNN", "popularity_ranking"]

#: Candidate scores held per chunk of customers (sparse entries); bounds the working memory at
#: roughly 40 bytes per entry.
CHUNK_ENTRIES = 5_000_000


def popularity_ranking(support: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Products with buyers, most bought first (ties: lower column first), and each product's
    rank (``len(support)`` for products nobody bought)."""
    support = np.asarray(support)
    order = np.lexsort((np.arange(support.size), -support))
    order = order[support[order] > 0]
    rank = np.full(support.size, support.size, dtype=np.int64)
    rank[order] = np.arange(order.size)
    return order.astype(np.int64), rank


def _binary(m: sp.csr_matrix) -> sp.csr_matrix:
    b = m.copy()
    b.data[:] = 1
    return b


def _drop_diagonal(m: sp.csr_matrix, active: np.ndarray) -> sp.csr_matrix:
    coo = m.tocoo()
    keep = (coo.row != coo.col) & active[coo.row] & active[coo.col] & (coo.data > 0)
    out = sp.csr_matrix(
        (coo.data[keep], (coo.row[keep], coo.col[keep])), shape=m.shape, dtype=np.float32
    )
    out.sort_indices()
    return out


class ItemKNN(BaseEstimator):
    """Item-to-item nearest-neighbour recommender on a customer x product matrix.

    Parameters
    ----------
    similarity : {"cosine", "bm25", "jaccard"}
        How two products' buyers are compared (module docstring).
    neighbours : int
        Most similar products kept per product.
    min_item_support : int
        Products bought by fewer customers get no similarities.
    popularity_weight : float
        0..1 weight of the popularity prior (module docstring); 0 = item-kNN only.
    bm25_k1, bm25_b : float
        BM25 saturation and length normalisation (``similarity="bm25"`` only).

    Attributes
    ----------
    similarity_ : scipy.sparse.csr_matrix
        ``(n_products, n_products)``: row ``i`` holds the top ``neighbours`` similarities of
        product ``i``.
    support_ : numpy.ndarray
        Buyers (customers with a non-zero cell) per product.
    popularity_order_ : numpy.ndarray
        Products with buyers, most bought first.
    popularity_rank_ : numpy.ndarray
        Position of each product in ``popularity_order_``.
    products_ : numpy.ndarray or None
        Product labels when fitted on :class:`~journeylib.recommend.interactions.Interactions`.
    n_features_in_ : int
        Number of products.

    Examples
    --------
    >>> X = sp.csr_matrix(np.array([[1, 1, 0], [1, 1, 0], [0, 1, 1]]))
    >>> model = ItemKNN(min_item_support=1).fit(X)
    >>> model.recommend(sp.csr_matrix(np.array([[1, 0, 0]])), k=1).items
    array([[1]])
    """

    def __init__(
        self,
        similarity: Similarity = "cosine",
        neighbours: int = 50,
        min_item_support: int = 2,
        popularity_weight: float = 0.0,
        bm25_k1: float = 1.2,
        bm25_b: float = 0.75,
    ) -> None:
        self.similarity = similarity
        self.neighbours = neighbours
        self.min_item_support = min_item_support
        self.popularity_weight = popularity_weight
        self.bm25_k1 = bm25_k1
        self.bm25_b = bm25_b

    # ---- fitting -------------------------------------------------------------------------
    def _check_params(self) -> None:
        if self.similarity not in ("cosine", "bm25", "jaccard"):
            raise ValueError(
                f"similarity must be one of cosine, bm25, jaccard; got {self.similarity!r}"
            )
        for name in ("neighbours", "min_item_support"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        w = self.popularity_weight
        if isinstance(w, bool) or not isinstance(w, int | float) or not 0 <= w <= 1:
            raise ValueError(f"popularity_weight must be a number in [0, 1], got {w!r}")
        if not self.bm25_k1 >= 0 or not 0 <= self.bm25_b <= 1:
            raise ValueError("bm25_k1 must be >= 0 and bm25_b in [0, 1]")

    def __sklearn_tags__(self):
        return recommender_tags(super().__sklearn_tags__())

    def fit(self, X: sp.spmatrix | np.ndarray | Interactions, y: None = None) -> ItemKNN:
        """Learn the product similarities from a customers x products matrix.

        Parameters
        ----------
        X
            Non-negative interaction values (sparse, dense or an ``Interactions``).
        y
            Ignored.

        Returns
        -------
        ItemKNN
            ``self``.
        """
        self._check_params()
        self.products_ = X.products if isinstance(X, Interactions) else None
        m = check_matrix(X)
        b = _binary(m)
        n_items = m.shape[1]
        support = np.bincount(b.indices, minlength=n_items).astype(np.int64)
        active = support >= self.min_item_support
        if self.similarity == "bm25":
            per_customer = np.diff(b.indptr).astype(np.float64)
            idf = np.log(n_items / np.maximum(per_customer, 1.0))
            length = np.asarray(m.sum(axis=0)).ravel().astype(np.float64)
            avg = length[length > 0].mean() if (length > 0).any() else 1.0
            norm = 1.0 - self.bm25_b + self.bm25_b * length / avg
            w = m.copy()
            rows = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))
            x = m.data.astype(np.float64)
            k1 = self.bm25_k1
            w.data = (x * (k1 + 1.0) / (x + k1 * norm[m.indices]) * idf[rows]).astype(np.float32)
            sim = (w.T @ w).tocsr()
        else:
            base = b if self.similarity == "jaccard" else m
            sim = (base.T @ base).tocsr()
            sim.sort_indices()
            coo_r = np.repeat(np.arange(n_items), np.diff(sim.indptr))
            co = sim.data.astype(np.float64)
            if self.similarity == "cosine":
                norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=0)).ravel().astype(np.float64))
                denom = norms[coo_r] * norms[sim.indices]
            else:
                s = support.astype(np.float64)
                denom = s[coo_r] + s[sim.indices] - co
            sim.data = np.divide(co, denom, out=np.zeros_like(co), where=denom > 0).astype(
                np.float32
            )
        sim = _drop_diagonal(sim, active)
        self.support_ = support
        self.popularity_order_, self.popularity_rank_ = popularity_ranking(support)
        top = row_topk(sim, int(self.neighbours), tiebreak=self.popularity_rank_)
        kept = sp.csr_matrix((top.vals.astype(np.float32), top.cols, top.indptr), shape=sim.shape)
        kept.sort_indices()
        self.similarity_ = kept
        self.n_features_in_ = n_items
        self.n_customers_ = m.shape[0]
        return self

    # ---- recommending ---------------------------------------------------------------------
    def recommend(
        self,
        X: sp.spmatrix | np.ndarray | Interactions,
        k: int = 10,
        *,
        exclude_bought: bool = True,
        categories: np.ndarray | None = None,
        max_per_category: int | None = None,
    ) -> TopN:
        """Top-``k`` products for every row (customer) of ``X``.

        Parameters
        ----------
        X
            The customers' interactions, with the fitted product columns.
        k
            Products per customer.
        exclude_bought
            Leave out products the customer has a non-zero cell for.
        categories
            Category code per product (``-1``: unknown), for ``max_per_category``.
        max_per_category
            At most this many products of one category in a top-``k``: the best
            ``3 * k`` candidates are walked in score order and a product whose category is
            full is moved behind the others (it back-fills a list that would be short).
            Products of unknown category are never capped.

        Returns
        -------
        TopN
            ``items``, ``scores``, ``source`` arrays of shape ``(n_rows, k)``.
        """
        check_is_fitted(self, "similarity_")
        m = check_matrix(X, self.n_features_in_)
        k = check_k(k)
        cats = check_categories(categories, self.n_features_in_)
        cap = check_cap(max_per_category if cats is not None else None)
        n_items = self.n_features_in_
        pool = pool_size(k, n_items, cap)
        b = _binary(m)
        S = self.similarity_
        w = float(self.popularity_weight)
        pop = self.support_ / max(int(self.support_.max(initial=0)), 1)
        cost = b @ np.diff(S.indptr).astype(np.float64) + pool + 1
        parts = []
        for a, z in chunks(cost, CHUNK_ENTRIES):
            mc, bc = m[a:z], b[a:z]
            if w < 1:
                c = (mc @ S).tocsr()
                if exclude_bought:
                    c = c - c.multiply(bc)
                c.eliminate_zeros()
            else:
                c = sp.csr_matrix(mc.shape, dtype=np.float32)
            if w > 0:
                c = self._blend(c, bc if exclude_bought else None, pool, pop, w)
            ranked = row_topk(c.tocsr(), pool, tiebreak=self.popularity_rank_)
            parts.append(
                finish(
                    ranked,
                    bought=bc if exclude_bought else None,
                    order=self.popularity_order_,
                    n_items=n_items,
                    k=k,
                    pool=pool,
                    categories=cats,
                    max_per_category=cap,
                )
            )
        return stack(parts, k)

    def _blend(
        self,
        c: sp.csr_matrix,
        bought: sp.csr_matrix | None,
        pool: int,
        pop: np.ndarray,
        w: float,
    ) -> sp.csr_matrix:
        """(1 - w) * row-normalised item-kNN + w * popularity over the candidates and the
        ``pool`` most popular products each row has not bought."""
        c = c.tocsr()
        c.sort_indices()
        lengths = np.diff(c.indptr)
        if c.nnz:
            nonempty = lengths > 0
            rowmax = np.ones(c.shape[0], dtype=np.float64)
            rowmax[nonempty] = np.maximum.reduceat(c.data, c.indptr[:-1][nonempty])
            c.data = ((1.0 - w) * c.data / np.repeat(rowmax, lengths)).astype(np.float32)
        n = c.shape[0]
        excluded = bought if bought is not None else sp.csr_matrix(c.shape, dtype=np.float32)
        need = np.full(n, pool, dtype=np.int64)
        top = first_unseen(self.popularity_order_, excluded, need, c.shape[1])
        p = sp.csr_matrix(
            ((w * pop[top.cols]).astype(np.float32), top.cols, top.indptr), shape=c.shape
        )
        return (c + p).tocsr()

    def similar_items(self, product: object, k: int = 10) -> pd.DataFrame:
        """The ``k`` products most similar to ``product`` (a label when fitted on
        ``Interactions``, else a column number).

        Returns
        -------
        pandas.DataFrame
            One row per similar product, most similar first: product_id, similar_product_id,
            similarity, rank (1-based). Fewer than ``k`` rows when the product has fewer
            neighbours.
        """
        check_is_fitted(self, "similarity_")
        k = check_k(k)
        labels = self.products_
        if labels is not None:
            where = np.flatnonzero(labels == product)
            if where.size == 0:
                raise KeyError(f"product {product!r} is not in the fitted catalogue")
            i = int(where[0])
        else:
            if isinstance(product, bool) or not isinstance(product, int | np.integer):
                raise KeyError(f"product must be a column number, got {product!r}")
            if not 0 <= product < self.n_features_in_:
                raise KeyError(f"product {product} is outside 0..{self.n_features_in_ - 1}")
            i = int(product)
        row = self.similarity_[i]
        top: RowLists = row_topk(row, k, tiebreak=self.popularity_rank_)
        names = labels if labels is not None else np.arange(self.n_features_in_)
        return pd.DataFrame(
            {
                "product_id": [names[i]] * top.cols.size,
                "similar_product_id": names[top.cols],
                "similarity": top.vals.astype(np.float64),
                "rank": np.arange(1, top.cols.size + 1),
            }
        )
