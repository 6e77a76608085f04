"""Large output tables written as CSV fast, byte for byte as ``DataFrame.to_csv`` writes them.

The report's customer-level tables (product recommendations, next best actions, churn at risk,
customer stages, retargeting lists) run to millions of rows at a million customers. pandas
formats every timestamp and float in Python on the way to its csv writer: 10M recommendation
rows took 50 s and a 1M-row stage table with six timestamp columns 30 s, a fifth of a full
report run. Here each column is formatted once, vectorised, into an Arrow string column, the
columns are joined into lines by Arrow and the bytes written as they are (~20x faster).

The output is what ``df.to_csv(path, index=False, lineterminator="\\n", encoding="utf-8")``
writes (QUOTE_MINIMAL: a field is quoted when it holds a comma, a quote or a line break, its
quotes doubled; missing values empty; floats as Python's ``repr``; ``True``/``False``;
timestamps as pandas' ``str``). A column type without an exact vectorised rendering here
(float32, non-UTC time zones, nanoseconds, objects of mixed types, ...) is rendered by pandas'
own formatter for that column; a table whose rendering cannot be promised at all (one column
only, carriage returns in text, a non-default index) is written by ``to_csv``.
``tests/test_csvout.py`` holds the two writers equal on random tables of every supported type.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["FAST_FROM_ROWS", "write_csv"]

#: Tables with fewer rows go through ``to_csv`` (the difference is milliseconds there).
FAST_FROM_ROWS = 50_000
#: Rows formatted and written at a time (bounds the memory of the text).
BLOCK_ROWS = 500_000


class _Unsupported(Exception):
    """This table's CSV cannot be promised equal to ``to_csv``'s: write it with pandas."""


def write_csv(df: pd.DataFrame, path: Path | str, *, fast_from_rows: int = FAST_FROM_ROWS) -> None:
    """Write ``df`` as UTF-8 CSV with ``\\n`` line ends and no index, as ``to_csv`` would.

    Parameters
    ----------
    df
        The table (not modified).
    path
        The file to write (replaced; written as it is formatted, so write to a temporary file
        where a partial one must never be seen, as :func:`journeylib.io.write_table` does).
    fast_from_rows
        Tables with at least this many rows are formatted column by column with Arrow; smaller
        ones (and any the fast path cannot promise to render identically) go through pandas.
    """
    if len(df) >= fast_from_rows:
        try:
            _write_fast(df, Path(path))
            return
        except _Unsupported:
            pass
    df.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")


def _write_fast(df: pd.DataFrame, path: Path) -> None:
    if df.shape[1] < 2 or not isinstance(df.index, pd.RangeIndex):
        raise _Unsupported  # one field per row: csv quotes an empty line; index: not rendered
    if not df.columns.is_unique or not all(isinstance(c, str) for c in df.columns):
        raise _Unsupported
    header = ",".join(_quote_text(str(c)) for c in df.columns) + "\n"
    if "\r" in header:
        raise _Unsupported
    # a block at a time, formatted and written: the text of 103M recommendation rows held at
    # once was ~9 GB. A block the fast path cannot render raises before its bytes are written,
    # and the caller's to_csv then writes the file afresh (it truncates it)
    with path.open("wb") as fh:
        fh.write(header.encode("utf-8"))
        for start in range(0, len(df), BLOCK_ROWS):
            part = df.iloc[start : start + BLOCK_ROWS]
            cols = [_render(part[c]) for c in part.columns]
            row = pc.binary_join_element_wise(
                *cols, ",", null_handling="replace", null_replacement=""
            )
            lines = pc.binary_join_element_wise(row, "\n", "")
            del cols, row
            for chunk in lines.chunks if isinstance(lines, pa.ChunkedArray) else [lines]:
                fh.write(_text_bytes(chunk))


def _text_bytes(arr: pa.Array) -> bytes:
    """The UTF-8 bytes of a string array's values, back to back (no nulls in ``arr``)."""
    arr = arr.cast(pa.large_string()) if arr.type == pa.string() else arr
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[
        arr.offset : arr.offset + len(arr) + 1
    ]
    data = arr.buffers()[2]
    return data.to_pybytes()[int(offsets[0]) : int(offsets[-1])]


# ---- quoting ---------------------------------------------------------------------------------
def _quote_text(value: str) -> str:
    if any(ch in value for ch in ',"\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


def _quote(arr: pa.Array) -> pa.Array:
    """QUOTE_MINIMAL on a string column: quote fields holding a comma, quote or newline."""
    if pc.any(pc.match_substring(arr, "\r")).as_py():
        raise _Unsupported  # Python's csv treats carriage returns by its own rules
    needs = pc.match_substring_regex(arr, '[,"\n]')
    if not pc.any(needs).as_py():
        return arr
    quoted = pc.binary_join_element_wise('"', pc.replace_substring(arr, '"', '""'), '"', "")
    return pc.if_else(needs, quoted, arr)


# ---- one column -> its text --------------------------------------------------------------------
def _render(s: pd.Series) -> pa.Array:
    """The column as pandas' csv writer would render it; null for an empty field."""
    dtype = s.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        if not all(isinstance(v, str) for v in dtype.categories):
            return _by_pandas(s)
        # the categories rendered once, then taken by code (missing: code -1 -> null)
        cats = _quote(pa.array(np.asarray(dtype.categories, dtype=object), type=pa.string()))
        codes = s.cat.codes.to_numpy()
        return cats.take(pa.array(codes, mask=codes < 0))
    if pd.api.types.is_bool_dtype(dtype):
        arr = pa.array(s.to_numpy(dtype=object, na_value=None), type=pa.bool_())
        return pc.if_else(arr, "True", "False")
    if pd.api.types.is_integer_dtype(dtype):  # numpy or nullable: missing is empty
        return pa.array(s, from_pandas=True).cast(pa.string())
    if dtype == np.float64 or str(dtype) == "Float64":
        return _render_float(s.to_numpy(dtype="float64", na_value=np.nan))
    is_object = dtype == np.dtype(object)
    if pd.api.types.is_string_dtype(dtype) and not is_object:
        arr = pa.array(s.array, from_pandas=True)  # Arrow-backed: no copy
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks()
        return _quote(arr.cast(pa.string()))
    if is_object:
        values = s.to_numpy(dtype=object)
        kinds = {type(v) for v in values if v is not None and v is not pd.NA and v == v}
        if kinds <= {str}:
            nulls = pd.isna(s).to_numpy()
            return _quote(pa.array(np.where(nulls, None, values), type=pa.string()))
        return _by_pandas(s)
    if isinstance(dtype, pd.DatetimeTZDtype) and str(dtype.tz) == "UTC" and dtype.unit != "ns":
        return _render_utc(s)
    return _by_pandas(s)


def _by_pandas(s: pd.Series) -> pa.Array:
    """pandas' own rendering of one column (what ``to_csv`` writes into the field)."""
    # a second column: csv writes an empty lone field as "" but an empty field among others as
    # nothing
    frame = pd.DataFrame({"v": s.to_numpy(), "end": 0}, index=pd.RangeIndex(len(s)))
    frame["v"] = s.to_numpy() if s.dtype == np.dtype(object) else s.reset_index(drop=True)
    text = frame.to_csv(index=False, header=False, lineterminator="\n")
    if "\r" in text or '"' in text:
        raise _Unsupported  # quoted or multi-line fields: no line-per-row split
    lines = text.split("\n")[:-1]
    if len(lines) != len(s):
        raise _Unsupported
    return pa.array([line[: -len(",0")] for line in lines], type=pa.string())


#: Python's ``repr`` writes floats positionally from 1e-4 up to (not including) 1e16.
_POSITIONAL = (1e-4, 1e16)


def _render_float(values: np.ndarray) -> pa.Array:
    """Floats as ``repr`` writes them; NaN empty. Arrow gives the same shortest digits; only
    its choice of notation differs, so values Arrow writes in exponent form (or ``repr``
    would) are rendered by ``repr`` itself, and whole numbers get ``.0``."""
    nan = np.isnan(values)
    arrow = pa.array(np.where(nan, 0.0, values)).cast(pa.string())
    mag = np.abs(values)
    odd = (
        ~nan & ((mag < _POSITIONAL[0]) & (mag != 0) | (mag >= _POSITIONAL[1]) | np.isinf(values))
    ) | pc.match_substring(arrow, "e").to_numpy(zero_copy_only=False)
    out = pc.if_else(
        pc.match_substring(arrow, "."), arrow, pc.binary_join_element_wise(arrow, ".0", "")
    )
    if odd.any():  # only those values go through Python (a score column has a few per block)
        odd = np.asarray(odd, dtype=bool)
        text = pa.array([repr(float(v)) for v in values[odd]], type=pa.string())
        out = pc.replace_with_mask(out, pa.array(odd), text)
    return pc.if_else(pa.array(nan), pa.scalar(None, pa.string()), out)


def _render_utc(s: pd.Series) -> pa.Array:
    """UTC timestamps as ``str(Timestamp)``: ``2025-01-02 03:04:05+00:00``, with
    ``.ffffff`` when the value has microseconds; NaT empty."""
    naive = s.dt.tz_localize(None).to_numpy(dtype="datetime64[us]")
    nat = np.isnat(naive)
    us = np.where(nat, 0, naive.astype(np.int64))
    seconds = np.floor_divide(us, 1_000_000)  # whole seconds; the fraction is added below
    base = pa.array(seconds, type=pa.timestamp("s")).cast(pa.string())  # 2025-01-02 03:04:05
    frac = np.mod(us, 1_000_000)
    if (frac[~nat] != 0).any():
        digits = pa.array(np.char.zfill(frac.astype(str), 6), type=pa.string())
        with_frac = pc.binary_join_element_wise(base, digits, ".")
        base = pc.if_else(pa.array(frac != 0), with_frac, base)
    text = pc.binary_join_element_wise(base, "+00:00", "")
    return pc.if_else(pa.array(nat), pa.scalar(None, pa.string()), text)
