"""What both recommenders share: input checks, the top-N result and its last steps (popularity
fill, category cap, fixed-width arrays)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
from sklearn.utils.validation import check_array, check_non_negative

from journeylib.recommend._sparse import RowLists, cap_per_category, first_unseen, union_csr

#: Candidates per requested slot kept for the category cap (``max_per_category``): the cap
#: re-ranks the best ``POOL_FACTOR * k`` products of each customer.
POOL_FACTOR = 3

#: ``TopN.source`` codes.
FROM_MODEL, FROM_POPULARITY, NOTHING = 0, 1, -1


class TopN(NamedTuple):
    """Top-N products per customer row, best first.

    Attributes
    ----------
    items : numpy.ndarray
        ``(n_rows, k)`` integer product column numbers (int64 from the recommenders); ``-1`` where no product is left (a catalogue
        smaller than ``k`` plus what the customer bought).
    scores : numpy.ndarray
        ``(n_rows, k)`` float64 scores of the model that ranked the product; NaN for popularity
        fill and padding.
    source : numpy.ndarray
        ``(n_rows, k)`` int8: 0 = ranked by the model, 1 = popularity fill (the model had too
        few candidates), -1 = padding.
    """

    items: np.ndarray
    scores: np.ndarray
    source: np.ndarray


def check_matrix(X: object, n_items: int | None = None, what: str = "X") -> sp.csr_matrix:
    """``X`` as a float32 CSR copy with sorted indices, after checking it is a 2-D, finite,
    non-negative customers x products matrix (with ``n_items`` columns when given)."""
    from journeylib.recommend.interactions import Interactions

    if isinstance(X, Interactions):
        X = X.matrix
    m = check_array(
        X, accept_sparse="csr", dtype=np.float32, copy=True, input_name=what, ensure_min_samples=1
    )
    m = sp.csr_matrix(m)
    if n_items is not None and m.shape[1] != n_items:
        raise ValueError(
            f"{what} has {m.shape[1]} product columns but the model was fitted on {n_items}"
        )
    check_non_negative(m, f"{what} (customer x product interactions)")
    m.eliminate_zeros()
    m.sort_indices()
    return m


def recommender_tags(tags: object) -> object:
    """scikit-learn tags of the recommenders: sparse, non-negative input."""
    tags.input_tags.sparse = True
    tags.input_tags.positive_only = True
    return tags


def check_k(k: object) -> int:
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    return int(k)


def chunks(cost: np.ndarray, budget: float) -> list[tuple[int, int]]:
    """Consecutive row ranges whose summed ``cost`` stays near ``budget`` (at least one row)."""
    bounds = [0]
    cum = np.cumsum(cost, dtype=np.float64)
    while bounds[-1] < cost.size:
        a = bounds[-1]
        base = cum[a - 1] if a else 0.0
        b = int(np.searchsorted(cum, base + budget, side="right"))
        bounds.append(max(b, a + 1) if b < cost.size else cost.size)
    return list(zip(bounds[:-1], bounds[1:], strict=True))


def finish(
    ranked: RowLists,
    *,
    bought: sp.csr_matrix | None,
    order: np.ndarray,
    n_items: int,
    k: int,
    pool: int,
    categories: np.ndarray | None,
    max_per_category: int | None,
) -> TopN:
    """Fixed-width top-``k`` from each row's ranked model candidates (at most ``pool``).

    Rows with fewer than ``pool`` candidates are filled with the first products of ``order``
    (popularity) that they neither bought (``bought``; ``None`` when bought products may be
    recommended) nor already got; then the category cap re-ranks the pool and the first ``k``
    are kept.
    """
    n = ranked.indptr.size - 1
    counts = np.diff(ranked.indptr)
    rows = np.repeat(np.arange(n, dtype=np.int64), counts)
    need = pool - counts
    parts = [(rows, ranked.cols)]
    if bought is not None and bought.nnz:
        coo = bought.tocoo()
        parts.append((coo.row.astype(np.int64), coo.col.astype(np.int64)))
    excluded = union_csr(n, n_items, *parts)
    fill = first_unseen(order, excluded, need, n_items)
    fcounts = np.diff(fill.indptr)
    width = max(pool, k)
    items = np.full((n, width), -1, dtype=np.int64)
    scores = np.full((n, width), np.nan, dtype=np.float64)
    source = np.full((n, width), NOTHING, dtype=np.int8)
    pos = np.arange(ranked.cols.size) - np.repeat(ranked.indptr[:-1], counts)
    items[rows, pos] = ranked.cols
    scores[rows, pos] = ranked.vals
    source[rows, pos] = FROM_MODEL
    frows = np.repeat(np.arange(n, dtype=np.int64), fcounts)
    fpos = np.repeat(counts, fcounts) + (
        np.arange(fill.cols.size) - np.repeat(fill.indptr[:-1], fcounts)
    )
    items[frows, fpos] = fill.cols
    source[frows, fpos] = FROM_POPULARITY
    if max_per_category is not None and categories is not None:
        cols = cap_per_category(items, categories, max_per_category)
        items = np.take_along_axis(items, cols, axis=1)
        scores = np.take_along_axis(scores, cols, axis=1)
        source = np.take_along_axis(source, cols, axis=1)
    return TopN(items[:, :k], scores[:, :k], source[:, :k])


def pool_size(k: int, n_items: int, max_per_category: int | None) -> int:
    return min(n_items, k if max_per_category is None else k * POOL_FACTOR) if n_items else 0


def check_categories(categories: object, n_items: int) -> np.ndarray | None:
    if categories is None:
        return None
    cats = np.asarray(categories)
    if cats.shape != (n_items,) or not np.issubdtype(cats.dtype, np.integer):
        raise ValueError(
            f"categories must be {n_items} integer category codes (one per product, -1 for "
            f"unknown), got shape {cats.shape} and dtype {cats.dtype}"
        )
    return cats.astype(np.int64)


def check_cap(max_per_category: object) -> int | None:
    if max_per_category is None:
        return None
    if isinstance(max_per_category, bool) or not isinstance(max_per_category, int | np.integer):
        raise ValueError(f"max_per_category must be a positive integer, got {max_per_category!r}")
    if max_per_category < 1:
        raise ValueError(f"max_per_category must be a positive integer, got {max_per_category!r}")
    return int(max_per_category)


def stack(parts: list[TopN], k: int) -> TopN:
    if not parts:
        empty = np.zeros((0, k), dtype=np.int64)
        return TopN(empty, empty.astype(np.float64), empty.astype(np.int8))
    return TopN(*(np.concatenate([getattr(p, f) for p in parts]) for f in TopN._fields))
