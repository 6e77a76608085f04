"""The RFM summary: building it from order lines and checking one before a model reads it.

* :func:`rfm_summary`: one SQL pass over ``orders`` gives, per customer, ``frequency`` (x: repeat
  purchase days), ``recency`` (t_x), ``T`` (in days or weeks, :data:`SUMMARY_UNITS`) and
  ``monetary_value`` (mean value of the repeat purchase days).
* ``_rfm`` and ``_spend``: the checks every fit and prediction runs on a summary it is given.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from journeylib.engine import as_engine
from journeylib.sql import (
    as_date,
    check_choice,
    end_of_day,
    epoch_seconds,
    first_by,
    quote,
    require_columns,
)

if TYPE_CHECKING:
    from journeylib.engine import Engine

#: Time units of an RFM summary and their length in days.
SUMMARY_UNITS: dict[str, float] = {"D": 1.0, "W": 7.0}


def _day(value: object, what: str) -> dt.date:
    return as_date(value, what)


def rfm_summary(
    data: Engine | pd.DataFrame,
    *,
    as_of: object,
    unit: str = "W",
    customer_col: str = "customer_id",
    ts_col: str = "ts",
    value_col: str | None = "revenue",
    table: str = "orders",
    calibration_start: object = None,
) -> pd.DataFrame:
    """Frequency, recency, age and mean repeat spend of every purchasing customer as of a day.

    Grain: one row per customer with at least one purchase in the period, sorted by
    ``customer_id``. Business rules (those of Fader & Hardie and lifetimes):

    * A *purchase* is a UTC calendar day with at least one order line: lines of one day (one or
      several orders) are one purchase whose value is the sum of their ``value_col``.
    * Only lines strictly before the end of the ``as_of`` day are read (the cut-off of
      :mod:`journeylib.features`, :func:`journeylib.sql.end_of_day`), and with
      ``calibration_start`` only lines from the start of that day on. Customers who bought before
      ``calibration_start`` then look new (their ``T`` starts at their first purchase in the
      period): use it for a cohort acquired after that day.
    * ``frequency`` (x) = purchase days after the first; ``recency`` (t_x) = first to last
      purchase day; ``T`` = first purchase day to the ``as_of`` day; both in ``unit`` (days, or
      weeks of 7 days). A first purchase on the ``as_of`` day gives ``T = 0``.
    * ``monetary_value`` = mean value of the repeat purchase days (the first purchase excluded,
      as the Gamma-Gamma model wants); NaN when ``frequency`` is 0 (undefined, not 0).

    Parameters
    ----------
    data
        An engine (its ``table``, default the canonical ``orders``: one row per order line) or a
        pandas frame of transactions (one row per line or per purchase).
    as_of
        Last day of the observation (calibration) period, inclusive.
    unit
        ``"W"`` (weeks) or ``"D"`` (days): the time unit of ``recency`` and ``T``, and so of every
        model fitted on the summary.
    customer_col, ts_col, value_col
        Column names; ``ts_col`` must hold timestamps. ``value_col=None`` leaves out
        ``monetary_value``.
    table
        Table read from an engine (a frame is exposed under this name).
    calibration_start
        First day read, or ``None`` for all history.

    Returns
    -------
    DataFrame
        ``customer_id`` (as text, whatever ``customer_col`` is called and holds), ``frequency``
        (integer), ``recency``, ``T``[, ``monetary_value``]; ``attrs`` hold ``unit`` and
        ``as_of``, which the models and :func:`customer_lifetime_value` read.

    Raises
    ------
    ValueError
        No purchase in the period, a missing column, a bad date or unit.

    Examples
    --------
    >>> from journeylib.engine import engine_for
    >>> ts = pd.to_datetime(["2025-01-01", "2025-01-08", "2025-01-08"], utc=True)
    >>> orders = pd.DataFrame({"customer_id": "a", "ts": ts, "revenue": [5.0, 7.0, 3.0]})
    >>> out = rfm_summary(engine_for(orders=orders), as_of="2025-01-15", unit="D")
    >>> out[["frequency", "recency", "T", "monetary_value"]].iloc[0].astype(float).tolist()
    [1.0, 7.0, 14.0, 10.0]
    """
    check_choice("unit", unit, tuple(SUMMARY_UNITS))
    day = _day(as_of, "as_of")
    engine = as_engine(data, table)
    require_columns(engine, table, [customer_col, ts_col, value_col], timestamp=ts_col)
    cust, ts, tbl = quote(customer_col), quote(ts_col), quote(table, "table")
    where = f"{ts} < {end_of_day(day)} AND {cust} IS NOT NULL"
    if calibration_start is not None:
        start = _day(calibration_start, "calibration_start")
        if start > day:
            raise ValueError(f"calibration_start {start} is after as_of {day}")
        where += f" AND {ts} >= TIMESTAMPTZ '{start.isoformat()} 00:00:00+00'"
    value = "CAST(NULL AS DOUBLE)" if value_col is None else f"CAST({quote(value_col)} AS DOUBLE)"
    # day number since 1970-01-01 UTC: exact whole-day differences, same in every dialect
    day_no = f"CAST(FLOOR({epoch_seconds(ts)} / 86400) AS BIGINT)"
    sql = f"""
        WITH d AS (
            SELECT CAST(customer AS VARCHAR) AS customer_id, day_no, SUM(value) AS value
            FROM (SELECT {cust} AS customer, {day_no} AS day_no, {value} AS value
                  FROM {tbl} WHERE {where}) lines
            GROUP BY customer, day_no)
        SELECT customer_id, COUNT(*) - 1 AS frequency, MIN(day_no) AS first_day,
               MAX(day_no) AS last_day, SUM(value) AS total,
               {first_by("value", ("day_no",))} AS first_value
        FROM d GROUP BY customer_id ORDER BY customer_id"""
    raw = engine.query(sql)
    if raw.empty:
        span = "" if calibration_start is None else f" on or after {calibration_start}"
        raise ValueError(
            f"no purchases in table {table!r} before the end of {day}{span}: "
            "an RFM summary needs at least one purchasing customer"
        )
    scale = SUMMARY_UNITS[unit]
    as_of_no = (day - dt.date(1970, 1, 1)).days
    first = raw["first_day"].to_numpy(np.int64)
    freq = raw["frequency"].to_numpy(np.int64)
    out = pd.DataFrame(
        {
            "customer_id": raw["customer_id"],
            "frequency": freq,
            "recency": (raw["last_day"].to_numpy(np.int64) - first) / scale,
            "T": (as_of_no - first) / scale,
        }
    )
    if value_col is not None:
        total = raw["total"].to_numpy(np.float64, na_value=np.nan)
        first_value = raw["first_value"].to_numpy(np.float64, na_value=np.nan)
        with np.errstate(invalid="ignore", divide="ignore"):
            out["monetary_value"] = np.where(freq > 0, (total - first_value) / freq, np.nan)
    out.attrs = {"unit": unit, "as_of": day.isoformat()}
    return out


# ---- summary checks --------------------------------------------------------------------------
def _rows(mask: np.ndarray, limit: int = 5) -> str:
    idx = np.flatnonzero(mask)
    more = ", ..." if idx.size > limit else ""
    return f"{idx.size} row(s), first at positions {idx[:limit].tolist()}{more}"


def _column(summary: pd.DataFrame, name: str) -> np.ndarray:
    try:
        values = pd.to_numeric(summary[name], errors="raise").to_numpy(np.float64, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"summary column {name!r} must be numeric") from exc
    return values


def _rfm(summary: object, what: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x, t_x, T of a summary after checking them (the same checks for fitting and predicting)."""
    if not isinstance(summary, pd.DataFrame):
        raise TypeError(f"{what} expects an RFM summary DataFrame, got {type(summary).__name__}")
    missing = [c for c in ("frequency", "recency", "T") if c not in summary.columns]
    if missing:
        raise ValueError(
            f"{what}: the summary lacks column(s) {missing}; build it with rfm_summary() "
            f"(it has {list(summary.columns)})"
        )
    if summary.empty:
        raise ValueError(f"{what}: the summary is empty (no customers)")
    x, tx, T = (_column(summary, c) for c in ("frequency", "recency", "T"))
    problems = []
    for name, values in (("frequency", x), ("recency", tx), ("T", T)):
        bad = ~np.isfinite(values) | (values < 0)
        if bad.any():
            problems.append(f"{name} missing, infinite or negative in {_rows(bad)}")
    if not problems:
        if (bad := x != np.round(x)).any():
            problems.append(f"frequency not a whole number in {_rows(bad)}")
        # 1e-6: summaries published with rounded recency/T (CDNOW) stay valid
        if (bad := tx > T + 1e-6).any():
            problems.append(f"recency greater than T in {_rows(bad)}")
        if (bad := (x == 0) & (tx > 0)).any():
            problems.append(f"recency > 0 with frequency 0 (no repeat purchase) in {_rows(bad)}")
    if problems:
        raise ValueError(f"{what}: invalid RFM summary: " + "; ".join(problems))
    return x, tx, T


def _spend(summary: object, what: str) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(summary, pd.DataFrame):
        raise TypeError(f"{what} expects an RFM summary DataFrame, got {type(summary).__name__}")
    missing = [c for c in ("frequency", "monetary_value") if c not in summary.columns]
    if missing:
        raise ValueError(
            f"{what}: the summary lacks column(s) {missing}; build it with rfm_summary(..., "
            f"value_col=...) (it has {list(summary.columns)})"
        )
    if summary.empty:
        raise ValueError(f"{what}: the summary is empty (no customers)")
    x = _column(summary, "frequency")
    bad = ~np.isfinite(x) | (x < 0) | (x != np.round(x))
    if bad.any():
        raise ValueError(f"{what}: frequency must be a whole number >= 0; not so in {_rows(bad)}")
    return x, _column(summary, "monetary_value")
