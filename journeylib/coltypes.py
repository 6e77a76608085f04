"""Typed columns of raw exports: how ``SourceSpec.types`` values are read.

Ingest (:mod:`journeylib.io`) maps each raw column onto a canonical or attribute column; a
``types:`` entry then says how to read its text: ``number``/``money`` (currency symbols and codes,
spaces and thousands separators removed, the source's ``decimal`` separator honoured),
``integer``, ``boolean`` (yes/no, true/false, 1/0, ya/tidak), ``date``, ``category`` or ``text``.
Blank cells become missing and are counted in a notice; values that cannot be read are a
:class:`~journeylib.validation.Problem` (file, column, check, count, first rows; never the
values) unless the source says ``on_bad_values: missing``. :func:`parse_column` is the pure
parser; :func:`apply_type` adds the reporting.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from journeylib.config import SourceSpec
from journeylib.validation import ROW, Collector, first_rows

__all__ = [
    "TYPE_CHECKS",
    "apply_type",
    "check_decimal",
    "is_blank",
    "parse_column",
    "plain_number",
]


def is_blank(s: pd.Series) -> pd.Series:
    """Missing, or text that is empty once surrounding spaces are removed."""
    if pd.api.types.is_string_dtype(s) or s.dtype == object:
        return s.isna() | s.astype("string").str.strip().eq("")
    return s.isna()


#: Currency symbols: U+00A2-U+00A5 (cent, pound, generic, yen), the baht sign and the U+20A0
#: block (euro, rupee, won, ...). Literal characters, so Arrow's regex engine runs it natively.
_CURRENCY_SYMBOLS = "[$\u00a2-\u00a5\u0e3f\u20a0-\u20cf]"
#: Common currency codes and abbreviations, removed where a value starts (after its sign) or
#: ends; longer codes first (rmb before rm). What is left must be a number, or the value is bad.
#: No backreferences or lookarounds, so Arrow's regex engine runs these natively too.
_CODES = "idr|usd|eur|gbp|sgd|myr|inr|jpy|aud|cad|chf|cny|rmb|thb|php|vnd|krw|hkd|nzd|rp|rm|rs"
_CODE_PREFIX = rf"(?i)^(?:{_CODES})\.?"
_CODE_SUFFIX = rf"(?i)(?:{_CODES})\.?$"
#: Spaces (ASCII, no-break, figure and narrow no-break) and apostrophes grouping digits:
#: 1 234 567, 1'234'567.
_GROUPING_SPACE = "[ \t\u00a0\u2007\u202f'\u2019]"
_BOOLEANS: dict[str, bool] = {
    **dict.fromkeys(("true", "t", "yes", "y", "1", "ya"), True),
    **dict.fromkeys(("false", "f", "no", "n", "0", "tidak"), False),
}
#: The check named in problems and notices when a value cannot be read as the declared type.
TYPE_CHECKS: dict[str, str] = {
    "number": "not a number",
    "money": "not a number",
    "integer": "not a whole number",
    "boolean": "not a yes/no value",
    "date": "unparseable date",
}
_FLAGGED_BLANKS = ("number", "money", "integer", "boolean", "date")
_MAX_EXACT_INTEGER = 2**53  # beyond this a float no longer holds every whole number


def _mask(m: pd.Series) -> pd.Series:
    """A plain numpy boolean mask (string methods return nullable Arrow booleans)."""
    return m.fillna(False).astype(bool)


def _thousands(decimal: str) -> str:
    return "," if decimal == "." else "."


def _number_pattern(decimal: str) -> str:
    """A full-match regex of a number once currency and spaces are gone."""
    dec, th = re.escape(decimal), re.escape(_thousands(decimal))
    grouped = rf"\d{{1,3}}(?:{th}\d{{2,3}})*{th}\d{{3}}"
    return rf"[-+]?(?:(?:{grouped}|\d+)(?:{dec}\d*)?|{dec}\d+)(?:[eE][-+]?\d+)?"


def _parse_number(s: pd.Series, decimal: str) -> tuple[pd.Series, pd.Series]:
    """(float values, unparseable mask) of a column of text numbers."""
    t = s.astype("string").str.strip()
    paren = _mask(t.str.startswith("(") & t.str.endswith(")"))  # accounting negative
    t = t.mask(paren, t.str.slice(1, -1).str.strip())
    minus = _mask(t.str.startswith("-"))  # a sign before the currency: -Rp 5, -$5
    two_signs = _mask(t.str.contains(r"^[-+]\s*[-+]", regex=True))
    t = t.str.replace(r"^[-+]", "", regex=True)
    t = t.str.replace(_CURRENCY_SYMBOLS, "", regex=True).str.strip()
    t = t.str.replace(_CODE_PREFIX, "", regex=True).str.replace(_CODE_SUFFIX, "", regex=True)
    t = t.str.replace(_GROUPING_SPACE, "", regex=True)
    ok = _mask(t.str.fullmatch(_number_pattern(decimal))) & ~two_signs
    plain = t.str.replace(_thousands(decimal), "", regex=False).str.replace(
        decimal, ".", regex=False
    )
    num = pd.to_numeric(plain.where(ok), errors="coerce").astype("float64")
    num = num.where(~(paren ^ minus), -num)
    bad = ~_mask(is_blank(s)) & (num.isna() | np.isinf(num))
    return num.where(~bad), bad


def parse_column(
    s: pd.Series, kind: str, *, decimal: str = ".", date_format: str | None = None
) -> tuple[pd.Series, pd.Series]:
    """Parse one raw column as a declared type (the ``types:`` of a source).

    Parameters
    ----------
    s
        The raw column: text (CSV) or native values (Parquet).
    kind
        ``number``, ``money``, ``integer``, ``boolean``, ``date``, ``category`` or ``text``; the
        rules are in the module docstring.
    decimal
        ``"."`` or ``","``: the decimal separator; the other one separates thousands.
    date_format
        strftime format of ``date`` values; ``None`` infers them (month first).

    Returns
    -------
    values, bad
        The parsed values (missing where blank or unparseable; float64, Int64, boolean,
        datetime64[us] or string) and a boolean mask of the non-blank values that could not be
        parsed. The input is not modified.

    Examples
    --------
    >>> parse_column(pd.Series(["$84,835.00 ", " ", "n/a"]), "money")[0].tolist()
    [84835.0, nan, nan]
    >>> parse_column(pd.Series(["Rp1.250.000,50"]), "money", decimal=",")[0].tolist()
    [1250000.5]
    """
    blank = _mask(is_blank(s))
    native = not (pd.api.types.is_string_dtype(s) or s.dtype == object)
    if kind in ("number", "money", "integer"):
        if native and pd.api.types.is_numeric_dtype(s):
            num = s.astype("float64")
            bad = pd.Series(np.isinf(num.to_numpy()), index=s.index)
            num = num.where(~bad)
        else:
            num, bad = _parse_number(s, decimal)
        if kind != "integer":
            return num, bad
        fractional = num.notna() & ((num % 1 != 0) | (num.abs() > _MAX_EXACT_INTEGER))
        return num.where(~fractional).astype("Int64"), bad | fractional
    if kind == "boolean":
        if native and pd.api.types.is_bool_dtype(s):
            values = s.astype("boolean")
        elif native and pd.api.types.is_numeric_dtype(s):
            values = s.map({1: True, 0: False}).astype("boolean")
        else:
            values = s.astype("string").str.strip().str.lower().map(_BOOLEANS).astype("boolean")
        return values, _mask(values.isna()) & ~blank
    if kind == "date":
        if native and pd.api.types.is_datetime64_any_dtype(s):
            parsed = s
        else:
            text = s.astype("string").str.strip()
            try:
                parsed = pd.to_datetime(text, errors="coerce", format=date_format or "mixed")
            except (ValueError, TypeError):  # mixed offsets: read them all in UTC
                parsed = pd.to_datetime(text, errors="coerce", format="mixed", utc=True)
        if isinstance(parsed.dtype, pd.DatetimeTZDtype):
            parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
        parsed = parsed.dt.normalize().astype("datetime64[us]")
        return parsed, _mask(parsed.isna()) & ~blank
    if kind in ("text", "category"):
        text = s.astype("string").str.strip()
        if kind == "category":
            text = text.str.replace(r"\s+", " ", regex=True)
        return text.mask(_mask(text.eq("")), pd.NA), pd.Series(False, index=s.index)
    raise ValueError(f"unknown column type {kind!r}")


def _type_hint(kind: str, spec: SourceSpec) -> str:
    if kind in ("number", "money", "integer"):
        whole = "a whole number; " if kind == "integer" else ""
        return (
            f"expected {whole}'{spec.decimal}' as decimal separator and "
            f"'{_thousands(spec.decimal)}' between groups of three digits (set `decimal:` on "
            "this source if the file uses the other); currency and spaces are ignored"
        )
    if kind == "boolean":
        return "expected yes/no, y/n, true/false, t/f, 1/0 or ya/tidak"
    fmt = spec.date_format or spec.ts_format
    return f"expected format {fmt}" if fmt else "set date_format on this source"


def apply_type(
    df: pd.DataFrame, c: str, kind: str, spec: SourceSpec, col: Collector, *, required: bool
) -> tuple[pd.Series, pd.Series]:
    """Parse a typed column, recording problems and notices. Returns (values, fatal bad mask)."""
    values, bad = parse_column(
        df[c], kind, decimal=spec.decimal, date_format=spec.date_format or spec.ts_format
    )
    check = TYPE_CHECKS.get(kind)
    fatal = bad
    if check is not None and spec.on_bad_values == "missing":
        count, rows = first_rows(bad, df[ROW], col.limit)
        col.notice(c, check, count, "set to missing", rows=list(rows))
        fatal = pd.Series(False, index=df.index)
    elif check is not None:
        col.check_rows(df, bad, c, check, _type_hint(kind, spec))
    if kind in _FLAGGED_BLANKS and not required:
        col.notice(c, "blank value", int((values.isna() & ~bad).sum()), "read as missing")
    if kind in ("number", "money"):
        check_decimal(df, c, spec, col)
    return values, fatal


def check_decimal(df: pd.DataFrame, c: str, spec: SourceSpec, col: Collector) -> None:
    """A notice when every decimal part has three digits: the separator may group thousands.

    Only values with the decimal separator and without the thousands one count ("1.250" but not
    "1,250.000", where the '.' is clearly decimal); at least two are needed.
    """
    if not (pd.api.types.is_string_dtype(df[c]) or df[c].dtype == object):
        return
    text = df[c].astype("string")
    single = text[~_mask(text.str.contains(_thousands(spec.decimal), regex=False))]
    fraction = single.str.extract(rf"{re.escape(spec.decimal)}(\d+)\D*$", expand=False).dropna()
    if len(fraction) >= 2 and fraction.str.len().eq(3).all():
        col.notice(
            c,
            "every decimal part has three digits",
            int(len(fraction)),
            f"read with '{spec.decimal}' as decimal separator; check `decimal:` on this source",
        )


def plain_number(s: pd.Series, decimal: str) -> tuple[pd.Series, pd.Series]:
    """An untyped canonical number: plain digits only (the configured decimal separator)."""
    if pd.api.types.is_numeric_dtype(s):
        return s.astype("float64"), pd.Series(False, index=s.index)
    blank = is_blank(s)
    text = s.astype("string").str.strip()
    if decimal == ",":
        text = text.mask(text.str.contains(".", regex=False).fillna(False), "x").str.replace(
            ",", ".", regex=False
        )
    num = pd.to_numeric(text, errors="coerce").astype("float64")
    return num, num.isna() & ~blank
