"""Touchpoint paths in flat arrays: the one input of every attribution model.

A :class:`Paths` holds many paths (ordered touchpoint sequences, first touch first) as a
compressed layout: ``touches`` concatenates every path's channel codes and ``offsets`` marks where
each path starts, so models work on flat numpy arrays (``np.bincount`` over ``touches``) instead of
looping over paths. A row is either one **distinct path** with outcome counts (a pre-aggregated
table such as ChannelAttribution's ``Data.csv``) or one **journey** (built from events, with
``journey_ids`` and ``lag_days``).

:func:`credit_table` builds the table every model returns: one row per channel with credited
``conversions`` and ``value`` and the conversion ``share``.

Errors never show raw values (path strings or labels can be client data): they name the column
or field, the check, how many rows failed and the first row numbers (data rows counted from 1 for
tables, path indices counted from 0 for arrays).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from itertools import chain
from os import PathLike
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from journeylib.validation import DataValidationError, Problem

__all__ = ["Paths", "check_has_conversions", "credit_table", "read_path_table"]

CREDIT_COLUMNS: tuple[str, ...] = ("channel", "conversions", "value", "share")
_LIMIT = 5  # row numbers shown in an error


def _first(mask: np.ndarray, base: int = 0) -> tuple[int, str]:
    """Count of ``mask`` and a readable list of its first positions (``base`` added)."""
    where = np.flatnonzero(mask)
    shown = ", ".join(str(int(i) + base) for i in where[:_LIMIT])
    return len(where), shown + (", ..." if len(where) > _LIMIT else "")


def _readonly(a: np.ndarray) -> np.ndarray:
    """A read-only view: the frozen container's arrays cannot be changed through it, and the
    caller's own array (which may be the base) keeps its flags."""
    v = a.view()
    v.flags.writeable = False
    return v


def _array(name: str, x, dtype, ndim: int = 1) -> np.ndarray:
    try:
        a = np.asarray(x, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"Paths.{name}: cannot be read as {np.dtype(dtype).name}") from exc
    if a.ndim != ndim:
        raise ValueError(f"Paths.{name}: expected a {ndim}-d array, got {a.ndim}-d")
    return a


def _check_amounts(name: str, a: np.ndarray, n: int, what: str = "paths") -> None:
    if len(a) != n:
        raise ValueError(f"Paths.{name}: length {len(a)} but there are {n} {what}")
    for bad, check in ((np.isnan(a), "missing (NaN)"), (np.isinf(a), "infinite")):
        if bad.any():
            count, rows = _first(bad)
            raise ValueError(f"Paths.{name}: {check} in {count} {what} ({what} {rows})")
    neg = a < 0
    if neg.any():
        count, rows = _first(neg)
        raise ValueError(f"Paths.{name}: negative in {count} {what} ({what} {rows})")


@dataclass(frozen=True, eq=False)
class Paths:
    """Touchpoint paths in flat arrays.

    Grain: one row per path (an ordered sequence of touchpoints, first touch first), either one
    row per distinct path with outcome counts (aggregated, e.g. ``Data.csv``) or one row per
    journey (built from events).

    Attributes
    ----------
    channels
        Touchpoint labels, sorted and unique; code ``i`` means ``channels[i]``.
    offsets
        int64, length ``n_paths + 1``, ``offsets[0] == 0``; path ``i`` is
        ``touches[offsets[i]:offsets[i + 1]]``. Every path has at least one touch.
    touches
        int32 codes into ``channels``, in time order.
    conversions, value, nulls
        float64 per path, ``>= 0``: converting journeys on the path, their conversion value, and
        journeys on the path that did not convert. A path with neither conversions nor nulls is
        allowed (it carries no information but is kept).
    lag_days
        float64 aligned with ``touches``, ``>= 0``: days from the touch to the conversion (for a
        converting journey) or to the journey end; ``None`` when unknown.
    journey_ids
        Per path: the customer pseudonym, when a row is one journey; else ``None``.

    Notes
    -----
    The arrays are stored as read-only views, so a ``Paths`` is immutable; the constructor
    checks every invariant above and raises ``ValueError`` naming the field and the first
    offending path indices (from 0).
    """

    channels: tuple[str, ...]
    offsets: np.ndarray
    touches: np.ndarray
    conversions: np.ndarray
    value: np.ndarray
    nulls: np.ndarray
    lag_days: np.ndarray | None = None
    journey_ids: np.ndarray | None = None

    def __post_init__(self) -> None:
        put = object.__setattr__
        channels = tuple(self.channels)
        if not all(isinstance(c, str) for c in channels):
            raise ValueError("Paths.channels: every label must be a str")
        if any(a >= b for a, b in zip(channels, channels[1:], strict=False)):
            raise ValueError("Paths.channels: labels must be sorted and unique")
        if any(c == "" for c in channels):
            raise ValueError("Paths.channels: empty label")
        put(self, "channels", channels)

        offsets = _array("offsets", self.offsets, np.int64)
        touches_raw = np.asarray(self.touches)
        if touches_raw.size and not np.issubdtype(touches_raw.dtype, np.integer):
            raise ValueError("Paths.touches: codes must be integers")
        touches = _array("touches", touches_raw, np.int32)
        if len(offsets) == 0 or offsets[0] != 0:
            raise ValueError("Paths.offsets: must start with 0 (length n_paths + 1)")
        if offsets[-1] != len(touches):
            raise ValueError(
                f"Paths.offsets: last offset {int(offsets[-1])} != number of touches {len(touches)}"
            )
        empty = np.diff(offsets) <= 0
        if empty.any():
            count, rows = _first(empty)
            raise ValueError(
                f"Paths.offsets: {count} paths with no touch or decreasing offsets (paths {rows})"
            )
        if touches.size and (touches.min() < 0 or touches.max() >= len(channels)):
            bad = (touches < 0) | (touches >= len(channels))
            count, _ = _first(bad)
            raise ValueError(
                f"Paths.touches: {count} codes outside 0..{len(channels) - 1} (channels)"
            )
        n = len(offsets) - 1
        put(self, "offsets", _readonly(offsets))
        put(self, "touches", _readonly(touches))
        for name in ("conversions", "value", "nulls"):
            a = _array(name, getattr(self, name), np.float64)
            _check_amounts(name, a, n)
            put(self, name, _readonly(a))
        if self.lag_days is not None:
            lag = _array("lag_days", self.lag_days, np.float64)
            _check_amounts("lag_days", lag, len(touches), what="touches")
            put(self, "lag_days", _readonly(lag))
        if self.journey_ids is not None:
            ids = np.asarray(self.journey_ids, dtype=object)
            if ids.ndim != 1 or len(ids) != n:
                raise ValueError(f"Paths.journey_ids: expected {n} ids (one per path)")
            put(self, "journey_ids", _readonly(ids))

    # -- sizes and totals -------------------------------------------------------------------

    @property
    def n_paths(self) -> int:
        """Number of paths (rows)."""
        return len(self.offsets) - 1

    @property
    def n_channels(self) -> int:
        """Number of channel labels."""
        return len(self.channels)

    @cached_property
    def lengths(self) -> np.ndarray:
        """Touches per path (int64, one per path)."""
        return _readonly(np.diff(self.offsets))

    @cached_property
    def touch_path(self) -> np.ndarray:
        """The path index of every touch (int64, aligned with ``touches``)."""
        return _readonly(np.repeat(np.arange(self.n_paths, dtype=np.int64), self.lengths))

    @cached_property
    def touch_position(self) -> np.ndarray:
        """Position of every touch inside its path, first touch 0 (int64, aligned with
        ``touches``)."""
        pos = np.arange(len(self.touches), dtype=np.int64) - self.offsets[:-1][self.touch_path]
        return _readonly(pos)

    @property
    def total_conversions(self) -> float:
        """Sum of conversions over all paths."""
        return float(self.conversions.sum())

    @property
    def total_value(self) -> float:
        """Sum of conversion value over all paths."""
        return float(self.value.sum())

    @property
    def total_nulls(self) -> float:
        """Sum of non-converting journeys over all paths."""
        return float(self.nulls.sum())

    def path_codes(self, i: int) -> np.ndarray:
        """Channel codes of path ``i`` in time order."""
        if not -self.n_paths <= i < self.n_paths:
            raise IndexError(f"path index {i} out of range for {self.n_paths} paths")
        i %= self.n_paths
        return self.touches[self.offsets[i] : self.offsets[i + 1]]

    def __len__(self) -> int:
        return self.n_paths

    def __repr__(self) -> str:
        return (
            f"Paths({self.n_paths} paths, {len(self.touches)} touches, "
            f"{self.n_channels} channels, conversions={self.total_conversions:g}, "
            f"nulls={self.total_nulls:g})"
        )

    # -- constructors -----------------------------------------------------------------------

    @classmethod
    def from_frame(
        cls,
        df: pd.DataFrame,
        *,
        path: str = "path",
        conversions: str = "total_conversions",
        value: str | None = "total_conversion_value",
        nulls: str | None = "total_null",
        sep: str = " > ",
    ) -> Paths:
        """Paths from a pre-aggregated path table (one row per path, ``Data.csv`` format).

        Parameters
        ----------
        df
            One row per path: ``path`` holds the touchpoint labels joined by ``sep`` (first touch
            first; whitespace around each label is stripped); never modified.
        path, conversions, value, nulls
            Column names. ``value`` and ``nulls`` may be ``None`` (zeros); a column that is named
            must exist.
        sep
            Separator between labels inside ``path``.

        Returns
        -------
        Paths
            One row per input row, in input order; channels sorted.

        Raises
        ------
        journeylib.validation.DataValidationError
            Listing every problem: missing columns, empty paths or labels, counts that are not
            numbers, missing, infinite or negative (with the first row numbers, counted from 1).

        Examples
        --------
        >>> df = pd.DataFrame({"path": ["a > b", "b"], "total_conversions": [1, 0]})
        >>> p = Paths.from_frame(df, value=None, nulls=None)
        >>> p.channels, p.lengths.tolist()
        (('a', 'b'), [2, 1])
        """
        return _from_frame(
            df, path=path, conversions=conversions, value=value, nulls=nulls, sep=sep,
            source="(data frame)",
        )  # fmt: skip

    @classmethod
    def from_sequences(
        cls,
        seqs: Sequence[Sequence[str]],
        conversions: Sequence[float] | np.ndarray,
        value: Sequence[float] | np.ndarray | None = None,
        nulls: Sequence[float] | np.ndarray | None = None,
        lag_days: Sequence[Sequence[float]] | None = None,
        *,
        journey_ids: Sequence[str] | None = None,
    ) -> Paths:
        """Paths from Python sequences of labels (convenient for tests and small inputs).

        Parameters
        ----------
        seqs
            One sequence of channel labels per path, first touch first.
        conversions, value, nulls
            One number per path (``value``/``nulls`` default to zeros).
        lag_days
            One sequence per path, aligned with its labels (days from touch to conversion or
            journey end), or ``None``.
        journey_ids
            One id per path, or ``None``.

        Examples
        --------
        >>> p = Paths.from_sequences([["b", "a"], ["a"]], conversions=[1, 2])
        >>> p.channels, p.touches.tolist(), p.total_conversions
        (('a', 'b'), [1, 0, 0], 3.0)
        """
        seqs = [list(s) for s in seqs]
        n = len(seqs)
        lengths = np.fromiter((len(s) for s in seqs), dtype=np.int64, count=n)
        if (lengths == 0).any():
            count, rows = _first(lengths == 0)
            raise ValueError(f"from_sequences: {count} empty paths (paths {rows})")
        labels = list(chain.from_iterable(seqs))
        if not all(isinstance(x, str) and x != "" for x in labels):
            raise ValueError("from_sequences: every touchpoint label must be a non-empty str")
        codes, channels = _encode(labels)
        zeros = np.zeros(n)
        lag = None
        if lag_days is not None:
            lag_seqs = [list(x) for x in lag_days]
            if len(lag_seqs) != n or any(
                len(a) != len(b) for a, b in zip(lag_seqs, seqs, strict=True)
            ):
                raise ValueError("from_sequences: lag_days must have one value per touch")
            lag = np.fromiter(chain.from_iterable(lag_seqs), dtype=np.float64, count=len(labels))
        return cls(
            channels=channels,
            offsets=np.concatenate([[0], np.cumsum(lengths)]),
            touches=codes,
            conversions=conversions,
            value=zeros if value is None else value,
            nulls=zeros if nulls is None else nulls,
            lag_days=lag,
            journey_ids=None if journey_ids is None else np.asarray(journey_ids, dtype=object),
        )

    # -- views and transforms ---------------------------------------------------------------

    def to_frame(self, sep: str = " > ") -> pd.DataFrame:
        """The paths as a table.

        Returns
        -------
        DataFrame
            One row per path, in order: ``path`` (labels joined by ``sep``), ``conversions``,
            ``value``, ``nulls`` (float) and ``length`` (touches, int).
        """
        labels = pa.array(self.channels, type=pa.large_string()).take(pa.array(self.touches))
        lists = pa.LargeListArray.from_arrays(pa.array(self.offsets, type=pa.int64()), labels)
        joined = pc.binary_join(lists, pa.scalar(sep, pa.large_string()))
        return pd.DataFrame(
            {
                "path": pd.array(joined.to_numpy(zero_copy_only=False), dtype="str"),
                "conversions": np.array(self.conversions),
                "value": np.array(self.value),
                "nulls": np.array(self.nulls),
                "length": np.array(self.lengths),
            }
        )

    def aggregate(self) -> Paths:
        """Merge identical paths, summing conversions, value and nulls.

        Returns
        -------
        Paths
            One row per distinct touch sequence, in order of first appearance; ``lag_days`` and
            ``journey_ids`` are dropped (they belong to single journeys). Channels are kept as
            they are (even one that no longer occurs, which cannot happen here).
        """
        n = self.n_paths
        lengths = np.asarray(self.lengths)
        group = np.empty(n, dtype=np.int64)  # distinct-path id of each path
        first_of_group: list[np.ndarray] = []
        next_id = 0
        # Paths of equal length form a rectangular matrix: np.unique over its rows is exact.
        for length in np.unique(lengths):
            idx = np.flatnonzero(lengths == length)
            rows = self.touches[self.offsets[idx][:, None] + np.arange(length)]
            _, first, inverse = np.unique(rows, axis=0, return_index=True, return_inverse=True)
            group[idx] = next_id + inverse.reshape(-1)
            first_of_group.append(idx[first])
            next_id += len(first)
        firsts = np.concatenate(first_of_group) if first_of_group else np.zeros(0, np.int64)
        order = np.argsort(firsts, kind="stable")  # new position -> group id
        rank = np.empty_like(order)
        rank[order] = np.arange(len(order))
        new_id = rank[group]
        reps = firsts[order]  # representative (first) path of each new row

        def total(a: np.ndarray) -> np.ndarray:
            return np.bincount(new_id, weights=a, minlength=len(reps))

        keep_paths = np.zeros(n, dtype=bool)
        keep_paths[reps] = True
        keep = keep_paths[self.touch_path]
        return Paths(
            channels=self.channels,
            offsets=np.concatenate([[0], np.cumsum(lengths[reps])]),
            touches=self.touches[keep],  # representatives are already in first-appearance order
            conversions=total(self.conversions),
            value=total(self.value),
            nulls=total(self.nulls),
        )

    def collapse_repeats(self) -> Paths:
        """Collapse consecutive repeats of a channel inside each path (``a > a > b`` -> ``a > b``).

        Returns
        -------
        Paths
            Same rows and outcomes; ``lag_days`` keeps the **last** touch of each run (the one
            closest to the conversion), ``journey_ids`` are kept.
        """
        t = self.touches
        last_of_path = np.zeros(len(t), dtype=bool)
        last_of_path[self.offsets[1:] - 1] = True
        keep = last_of_path.copy()
        keep[:-1] |= t[:-1] != t[1:]
        lengths = np.bincount(self.touch_path[keep], minlength=self.n_paths)
        return Paths(
            channels=self.channels,
            offsets=np.concatenate([[0], np.cumsum(lengths)]),
            touches=t[keep],
            conversions=self.conversions,
            value=self.value,
            nulls=self.nulls,
            lag_days=None if self.lag_days is None else self.lag_days[keep],
            journey_ids=self.journey_ids,
        )

    def reweight(self, weights: np.ndarray) -> Paths:
        """Multiply each path's conversions, value and nulls by ``weights`` (e.g. bootstrap
        resampling counts); touches, lags and ids are shared, not copied."""
        w = _array("reweight weights", weights, np.float64)
        _check_amounts("reweight weights", w, self.n_paths)
        return Paths(
            channels=self.channels,
            offsets=self.offsets,
            touches=self.touches,
            conversions=self.conversions * w,
            value=self.value * w,
            nulls=self.nulls * w,
            lag_days=self.lag_days,
            journey_ids=self.journey_ids,
        )


# -- table reading -----------------------------------------------------------------------------


def _encode(labels: Sequence[str] | np.ndarray) -> tuple[np.ndarray, tuple[str, ...]]:
    """int32 codes into the sorted unique labels."""
    codes, uniques = pd.factorize(np.asarray(labels, dtype=object), sort=False)
    uniq = np.asarray(uniques, dtype=object)
    order = np.argsort(uniq.astype(str), kind="stable")
    remap = np.empty(len(order), dtype=np.int32)
    remap[order] = np.arange(len(order), dtype=np.int32)
    return remap[codes], tuple(str(u) for u in uniq[order])


def _numbers(
    df: pd.DataFrame, column: str, problems: list[Problem], source: str
) -> np.ndarray | None:
    raw = df[column]
    values = pd.to_numeric(raw, errors="coerce")
    missing = raw.isna().to_numpy()
    checks = (
        (values.isna().to_numpy() & ~missing, "not a number"),
        (missing, "missing"),
        (np.isinf(values.to_numpy(dtype=np.float64, na_value=0.0)), "infinite"),
        (values.to_numpy(dtype=np.float64, na_value=0.0) < 0, "negative"),
    )
    ok = True
    for mask, check in checks:
        if mask.any():
            ok = False
            problems.append(
                Problem(source, "path table", column, check, int(mask.sum()), _row_tuple(mask))
            )
    return values.to_numpy(dtype=np.float64, na_value=np.nan) if ok else None


def _row_tuple(mask: np.ndarray) -> tuple[int, ...]:
    return tuple(int(i) + 1 for i in np.flatnonzero(mask)[:_LIMIT])


def _from_frame(
    df: pd.DataFrame,
    *,
    path: str,
    conversions: str,
    value: str | None,
    nulls: str | None,
    sep: str,
    source: str,
) -> Paths:
    if not isinstance(sep, str) or not sep:
        raise ValueError("sep must be a non-empty string")
    problems: list[Problem] = []
    named = [c for c in (path, conversions, value, nulls) if c is not None]
    missing_cols = [c for c in named if c not in df.columns]
    for c in missing_cols:
        problems.append(Problem(source, "path table", c, "column missing", 0))
    if missing_cols:
        raise DataValidationError(problems)
    if len(df) == 0:
        raise DataValidationError([Problem(source, "path table", None, "no rows", 0)])

    # pyarrow's string kernels split and encode millions of labels without Python objects.
    text = pa.array(df[path].astype("str"), type=pa.large_string(), from_pandas=True)
    if isinstance(text, pa.ChunkedArray):  # large pandas string columns arrive in chunks
        text = text.combine_chunks()
    absent = text.is_null().to_numpy(zero_copy_only=False)
    blank = pc.equal(pc.utf8_trim_whitespace(text), "").fill_null(True)
    bad_path = absent | blank.to_numpy(zero_copy_only=False)
    if bad_path.any():
        problems.append(
            Problem(
                source, "path table", path, "empty path", int(bad_path.sum()),
                _row_tuple(bad_path),
            )
        )  # fmt: skip

    amounts = {
        "conversions": _numbers(df, conversions, problems, source),
        "value": None if value is None else _numbers(df, value, problems, source),
        "nulls": None if nulls is None else _numbers(df, nulls, problems, source),
    }
    if problems:
        raise DataValidationError(problems)

    split = pc.split_pattern(text, sep)
    lengths = pc.list_value_length(split).to_numpy(zero_copy_only=False).astype(np.int64)
    flat = split.flatten()
    encoded = pc.dictionary_encode(flat)
    if isinstance(encoded, pa.ChunkedArray):  # pragma: no cover - arrays this size are one chunk
        encoded = encoded.combine_chunks()
    codes = encoded.indices.to_numpy(zero_copy_only=False)
    # Strip the few distinct labels, not every touch; _encode below merges labels that only
    # differed by surrounding whitespace.
    stripped = np.asarray([u.strip() for u in encoded.dictionary.to_pylist()], dtype=object)
    empty_label = stripped == ""
    if empty_label.any():
        bad_touch = empty_label[codes]
        offsets = np.concatenate([[0], np.cumsum(lengths)])
        bad_rows = np.zeros(len(lengths), dtype=bool)
        bad_rows[np.searchsorted(offsets, np.flatnonzero(bad_touch), side="right") - 1] = True
        raise DataValidationError(
            [
                Problem(
                    source, "path table", path, "empty touchpoint label (separator at the start, "
                    "end or doubled)", int(bad_rows.sum()), _row_tuple(bad_rows),
                )
            ]
        )  # fmt: skip
    label_codes, channels = _encode(stripped)
    zeros = np.zeros(len(lengths))
    return Paths(
        channels=channels,
        offsets=np.concatenate([[0], np.cumsum(lengths)]),
        touches=label_codes[codes],
        conversions=amounts["conversions"],
        value=zeros if amounts["value"] is None else amounts["value"],
        nulls=zeros if amounts["nulls"] is None else amounts["nulls"],
    )


def read_path_table(
    file: str | PathLike[str],
    *,
    sep: str = ";",
    path: str = "path",
    conversions: str = "total_conversions",
    value: str | None = "total_conversion_value",
    nulls: str | None = "total_null",
    path_sep: str = " > ",
    encoding: str = "utf-8",
) -> Paths:
    """Read a pre-aggregated path table from CSV (the ChannelAttribution ``Data.csv`` format).

    Parameters
    ----------
    file
        CSV file, one row per path.
    sep
        Field delimiter of the CSV.
    path, conversions, value, nulls
        Column names (``value``/``nulls`` may be ``None``: zeros).
    path_sep
        Separator between touchpoint labels inside ``path``.
    encoding
        Text encoding of the file.

    Returns
    -------
    Paths
        One row per CSV data row, in file order.

    Raises
    ------
    journeylib.validation.DataValidationError
        Naming the file, column, check, count and first data-row numbers (from 1); never values.
    """
    file = Path(file)
    if not file.is_file():
        raise FileNotFoundError(f"path table not found: {file}")
    try:
        df = pd.read_csv(file, sep=sep, dtype={path: "str"}, encoding=encoding)
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataValidationError(
            [Problem(file.name, "path table", None, f"unreadable CSV ({type(exc).__name__})", 0)]
        ) from None
    except pd.errors.EmptyDataError:
        raise DataValidationError(
            [Problem(file.name, "path table", None, "empty file", 0)]
        ) from None
    return _from_frame(
        df, path=path, conversions=conversions, value=value, nulls=nulls, sep=path_sep,
        source=file.name,
    )  # fmt: skip


# -- the common model output -------------------------------------------------------------------


def check_has_conversions(paths: Paths, *, model: str) -> None:
    """Raise ``ValueError`` when ``paths`` has no conversions (nothing to attribute)."""
    if not isinstance(paths, Paths):
        raise TypeError(f"{model}: expected a Paths object, got {type(paths).__name__}")
    if not paths.total_conversions > 0:
        raise ValueError(
            f"{model}: the paths have no conversions ({paths.n_paths} paths, total conversions "
            "0), so there is nothing to attribute"
        )


def credit_table(paths: Paths, conv_credit: np.ndarray, value_credit: np.ndarray) -> pd.DataFrame:
    """The table every attribution model returns.

    Parameters
    ----------
    paths
        The paths the credit was computed on (gives the channel labels and order).
    conv_credit, value_credit
        Credited conversions and value per channel code (length ``paths.n_channels``, finite).

    Returns
    -------
    DataFrame
        One row per channel in ``paths.channels`` order (zero-credit channels included):
        ``channel`` (str), ``conversions``, ``value`` and ``share`` (float; ``conversions`` over
        the total credited conversions, NaN when that total is 0). The model is responsible for
        credits summing to ``paths.total_conversions`` and ``paths.total_value``.
    """
    conv = np.array(conv_credit, dtype=np.float64)
    val = np.array(value_credit, dtype=np.float64)
    for name, a in (("conv_credit", conv), ("value_credit", val)):
        if a.shape != (paths.n_channels,):
            raise ValueError(
                f"credit_table: {name} has shape {a.shape}, expected ({paths.n_channels},)"
            )
        if not np.isfinite(a).all():
            raise ValueError(f"credit_table: {name} has non-finite values")
    total = conv.sum()
    share = conv / total if total != 0 else np.full(len(conv), np.nan)
    return pd.DataFrame(
        {
            "channel": pd.array(paths.channels, dtype="str"),
            "conversions": conv,
            "value": val,
            "share": share,
        }
    )
