"""Small-cell suppression: the rows of a client-facing table that rest on too few people.

Used by :func:`journeylib.display.show_table` for every table a report page shows and by the
client report (:mod:`journeylib.clientreport`) for the tables it saves.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = [
    "COUNT_COLUMN",
    "KEY_COLUMN",
    "count_columns",
    "suppress_for_display",
    "suppress_small_cells",
]


# --------------------------------------------------------------------------------------------
# Small-cell suppression
# --------------------------------------------------------------------------------------------

#: Column names read as counts of people (or their visits/answers) when none are given.
COUNT_COLUMN = re.compile(
    r"^(customers|n|sessions|answers|respondents|buyers|carts|people|users|visitors)"
    r"(_(strict|attained|with|without|in|out|total|all))?$|^n_[a-z0-9_]+$"
)
#: Numeric columns that identify a row rather than describe its people: never masked.
KEY_COLUMN = re.compile(
    r"^(rank|persona|step_no|stage_no|offset|period|cohort|k|year|month|week|day|hour|"
    r"days_active|window_days|recovery_days|horizon|threshold|step|order)$|_no$|_id$"
)


def suppress_small_cells(
    df: pd.DataFrame,
    min_count: int,
    *,
    count_columns: Sequence[str] | None = None,
    columns_to_mask: Sequence[str] | None = None,
    keep_zero: bool = True,
) -> pd.DataFrame:
    """A copy of a client-facing table with the rows about too few people masked.

    A row is *small* when any of its counts is below ``min_count`` (and above 0 when
    ``keep_zero``: a zero names nobody). In a small row the counts and every statistic derived
    from the same people (rates, shares, means, money, durations) are set to missing, and the
    column ``suppressed`` says ``"<min_count>"`` (``""`` elsewhere), so a reader sees why a cell
    is empty. Labels (text columns) and key numbers (rank, step or stage number, persona number,
    periods) stay so the row can still be read. This is primary suppression only: a total shown
    next to a single masked row lets a reader subtract; show totals computed from the masked
    table, or mask a second row.

    Parameters
    ----------
    df
        Any tidy table the client sees; not modified.
    min_count
        The threshold (``ReportSpec.min_cell_count``).
    count_columns
        The count columns; ``None``: the integer columns whose names match
        :data:`COUNT_COLUMN` (``customers``, ``n``, ``sessions``, ``carts``,
        ``customers_strict``, ``n_with``, ...; a float ``sessions`` is a mean, not a count). An
        empty list means "this table has no counts": nothing is masked.
    columns_to_mask
        What to mask in a small row besides the counts; ``None``: every numeric (not boolean)
        and duration column that is not a key (:data:`KEY_COLUMN`).
    keep_zero
        Leave counts of 0 alone.

    Returns
    -------
    pandas.DataFrame
        Same rows and columns (masked integer columns become float), plus ``suppressed``.

    Raises
    ------
    ValueError
        When ``count_columns`` is ``None`` and no column looks like a count (say which columns
        count people, or pass ``[]``), or a named column is absent.

    Examples
    --------
    >>> t = pd.DataFrame({"channel": ["email", "sms"], "customers": [40, 3], "rate": [0.1, 0.5]})
    >>> suppress_small_cells(t, 5)[["customers", "rate", "suppressed"]].values.tolist()
    [[40.0, 0.1, ''], [nan, nan, '<5']]
    """
    if isinstance(min_count, bool) or not isinstance(min_count, int | np.integer) or min_count < 1:
        raise ValueError(f"min_count must be a positive integer, not {min_count!r}")
    numeric = [
        c for c in df.columns
        if pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c])
    ]  # fmt: skip
    if count_columns is None:
        counts = [
            c for c in numeric
            if pd.api.types.is_integer_dtype(df[c]) and COUNT_COLUMN.match(str(c))
        ]  # fmt: skip
        if not counts:
            raise ValueError(
                "no count column found (looked for names like customers, n, sessions, "
                f"customers_*, n_*; columns: {list(map(str, df.columns))}): pass count_columns, "
                "or count_columns=[] for a table that counts nobody"
            )
    else:
        counts = list(count_columns)
    if columns_to_mask is None:
        durations = [c for c in df.columns if pd.api.types.is_timedelta64_dtype(df[c])]
        mask_cols = list(
            dict.fromkeys(
                [*counts, *(c for c in [*numeric, *durations] if not KEY_COLUMN.search(str(c)))]
            )
        )
    else:
        mask_cols = list(dict.fromkeys([*counts, *columns_to_mask]))
    absent = [c for c in mask_cols if c not in df.columns]
    if absent:
        raise ValueError(f"column(s) {absent} not in the table")
    out = df.copy()
    small = np.zeros(len(df), dtype=bool)
    for c in counts:
        v = pd.to_numeric(df[c], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        low = v < min_count
        if keep_zero:
            low &= v != 0
        small |= low
    for c in mask_cols:
        if pd.api.types.is_timedelta64_dtype(out[c]):
            out[c] = out[c].mask(small)
        elif pd.api.types.is_numeric_dtype(out[c]) and not pd.api.types.is_bool_dtype(out[c]):
            out[c] = out[c].astype("float64").mask(small)
        else:
            out[c] = out[c].astype(object).mask(small)
    out["suppressed"] = pd.array(np.where(small, f"<{min_count}", ""), dtype="string")
    return out


def count_columns(df: pd.DataFrame) -> list[str]:
    """The integer columns whose names read as counts of people (:data:`COUNT_COLUMN`)."""
    return [
        c for c in df.columns
        if pd.api.types.is_integer_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c])
        and COUNT_COLUMN.match(str(c))
    ]  # fmt: skip


def suppress_for_display(df: pd.DataFrame, min_count: int) -> pd.DataFrame:
    """:func:`suppress_small_cells` for a table about to be shown: unchanged when it has no
    count column or no small row (no ``suppressed`` column added then); masked counts stay
    integers (nullable) so they keep their formatting."""
    counts = count_columns(df)
    if min_count <= 1 or not counts:
        return df
    out = suppress_small_cells(df, min_count, count_columns=counts)
    if not (out["suppressed"] != "").any():
        return df
    for c in counts:
        out[c] = out[c].astype("Int64")
    return out
