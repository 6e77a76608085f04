"""Row-wise operations on sparse customer x product matrices, vectorised over rows.

Shared by the recommenders: the top entries of every row (:func:`row_topk`), the first products
of a ranking a row has not seen (:func:`first_unseen`) and the per-category cap of a top-N
(:func:`cap_per_category`). Nothing here builds a dense customers x products array: the
largest temporary is one padded block of long rows (at most twice the longest row in it).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import scipy.sparse as sp


class RowLists(NamedTuple):
    """Variable-length lists per row in CSR layout: row ``r`` holds ``cols[indptr[r]:indptr[r+1]]``
    (and ``vals``), in rank order."""

    indptr: np.ndarray
    cols: np.ndarray
    vals: np.ndarray


def _offsets(lengths: np.ndarray) -> np.ndarray:
    """0, 1, ..., len-1 for each row, concatenated."""
    total = int(lengths.sum())
    starts = np.cumsum(lengths) - lengths
    return np.arange(total, dtype=np.int64) - np.repeat(starts, lengths)


def _indptr(counts: np.ndarray) -> np.ndarray:
    out = np.zeros(counts.size + 1, dtype=np.int64)
    np.cumsum(counts, out=out[1:])
    return out


def row_thresholds(m: sp.csr_matrix, k: int) -> np.ndarray:
    """The k-th largest value of every row longer than ``k`` (``-inf`` for shorter rows).

    Rows are bucketed by length (powers of two) and each bucket is padded and partitioned at
    once, so the cost is linear in the entries.
    """
    n = m.shape[0]
    lengths = np.diff(m.indptr)
    thr = np.full(n, -np.inf, dtype=np.float64)
    long = np.flatnonzero(lengths > k)
    if long.size == 0:
        return thr
    bucket = np.ceil(np.log2(lengths[long])).astype(np.int64)
    for b in np.unique(bucket):
        rows = long[bucket == b]
        lens = lengths[rows]
        width = int(lens.max())
        pos = _offsets(lens)
        pad = np.full((rows.size, width), -np.inf, dtype=np.float64)
        pad[np.repeat(np.arange(rows.size), lens), pos] = m.data[
            np.repeat(m.indptr[rows], lens) + pos
        ]
        thr[rows] = np.partition(pad, width - k, axis=1)[:, width - k]
    return thr


def row_topk(m: sp.csr_matrix, k: int, tiebreak: np.ndarray | None = None) -> RowLists:
    """The ``k`` largest entries of every row, ordered by value (descending) within the row.

    Ties are broken by ``tiebreak[col]`` (lower first; default the column index), so the result
    does not depend on the storage order of the entries.
    """
    n = m.shape[0]
    lengths = np.diff(m.indptr)
    rows = np.repeat(np.arange(n, dtype=np.int64), lengths)
    thr = row_thresholds(m, k)
    keep = m.data >= thr[rows]
    r, c, v = rows[keep], m.indices[keep], m.data[keep]
    tb = c if tiebreak is None else tiebreak[c]
    order = np.lexsort((tb, -v, r))
    r, c, v = r[order], c[order], v[order]
    counts = np.bincount(r, minlength=n)
    sel = _offsets(counts) < k
    return RowLists(_indptr(np.minimum(counts, k)), c[sel], v[sel])


def first_unseen(
    order: np.ndarray, excluded: sp.csr_matrix, need: np.ndarray, n_cols: int
) -> RowLists:
    """For each row, the first ``need[row]`` entries of ``order`` not among the row's
    ``excluded`` columns (fewer when ``order`` runs out). ``vals`` holds the position in
    ``order``.

    Only ``order[:need + excluded]`` can hold them, so the work is linear in ``need`` plus the
    excluded entries.
    """
    n = excluded.shape[0]
    if not excluded.has_sorted_indices:
        excluded = excluded.sorted_indices()
    e = np.diff(excluded.indptr)
    take = np.where(need > 0, np.minimum(need.astype(np.int64) + e, order.size), 0)
    rows = np.repeat(np.arange(n, dtype=np.int64), take)
    pos = _offsets(take)
    cand = order[pos]
    if excluded.nnz:
        ekeys = np.repeat(np.arange(n, dtype=np.int64), e) * n_cols + excluded.indices
        ckeys = rows * n_cols + cand
        at = np.minimum(np.searchsorted(ekeys, ckeys), ekeys.size - 1)
        fresh = ekeys[at] != ckeys
        rows, cand, pos = rows[fresh], cand[fresh], pos[fresh]
    counts = np.bincount(rows, minlength=n)
    sel = _offsets(counts) < np.repeat(need, counts)
    rows = rows[sel]
    return RowLists(_indptr(np.bincount(rows, minlength=n)), cand[sel], pos[sel].astype(np.float64))


def union_csr(n_rows: int, n_cols: int, *parts: tuple[np.ndarray, np.ndarray]) -> sp.csr_matrix:
    """A 0/1 CSR with sorted indices holding every (row, col) of ``parts``."""
    rows = np.concatenate([p[0] for p in parts])
    cols = np.concatenate([p[1] for p in parts])
    m = sp.csr_matrix((np.ones(rows.size, dtype=np.float32), (rows, cols)), shape=(n_rows, n_cols))
    m.sum_duplicates()
    m.data[:] = 1
    return m


def cap_per_category(items: np.ndarray, categories: np.ndarray, cap: int) -> np.ndarray:
    """Column order putting, in each row, the items within the per-category cap first.

    ``items`` is ``(rows, n)`` in score order with ``-1`` padding. Walking a row in score order,
    an item is *within the cap* while its category holds fewer than ``cap`` earlier items of the
    row; items with an unknown category (``categories == -1``) are never capped. The returned
    ``(rows, n)`` positions list those items first (score order), then the capped ones (score
    order: they back-fill a list that would otherwise be short), then padding.
    """
    n = items.shape[1]
    cat = np.where(items >= 0, categories[np.maximum(items, 0)], -1)
    seen = np.zeros(items.shape, dtype=np.int64)
    for j in range(1, n):
        seen[:, j] = (cat[:, :j] == cat[:, [j]]).sum(axis=1)
    within = (seen < cap) | (cat < 0)
    group = np.where(items < 0, 2, np.where(within, 0, 1))
    return np.argsort(group * n + np.arange(n), axis=1, kind="stable")
