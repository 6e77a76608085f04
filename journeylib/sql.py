"""The SQL the analyses share: checked names, checked inputs, and the dialect-specific expressions.

Every analysis builds SQL text and runs it through :class:`~journeylib.engine.Engine`. What goes
into that text comes from here, defined once:

* **Names** (:func:`identifier`, :func:`quote`): table and column names are spliced into SQL, so
  they must be plain identifiers (never user SQL); values travel as bound ``$parameters``.
* **Tables and columns** (:func:`table_columns`, :func:`require_columns`): a table the engine
  cannot read, a missing column, or a timestamp column that holds strings is one clear error
  before any query runs.
* **Arguments** that end up in SQL (:func:`check_choice`, :func:`duration`,
  :func:`non_negative_days`) and SQL **literals** for trusted configuration values
  (:func:`literal`, :func:`in_list`).
* **Dialect**: the only expressions that differ between DuckDB and Spark SQL. Everything else the
  analyses write is the ANSI subset both engines accept (CTEs, window functions, ``CASE``,
  interval arithmetic with bound parameters). Queries are written once, in DuckDB's dialect;
  :func:`journeylib.spark.to_spark` translates them for the Spark engine (sqlglot plus the
  rewrites in ``journeylib.spark.REWRITES``), writing these functions' Spark spelling
  (DuckDB -> Spark SQL):

  :func:`ordered_concat`
      ``string_agg(x, sep ORDER BY k)`` -> ``array_join`` of the ``array_sort``-ed
      ``collect_list`` of ``struct(k, x)``.
  :func:`epoch_seconds`
      ``EXTRACT(EPOCH FROM ts)`` -> ``unix_micros(ts) / 1e6`` (``unix_timestamp`` drops fractions).
  :func:`days_between`
      the difference of two :func:`epoch_seconds` / 86400.0 (so it follows that one).
  :func:`local_time`
      ``timezone($tz, ts)`` -> ``CAST(from_utc_timestamp(ts, $tz) AS TIMESTAMP_NTZ)``.
  :func:`date_trunc`
      ``date_trunc('month', ts)`` -> the same; both truncate in the session time zone, which
      :class:`~journeylib.engine.DuckDBEngine` sets to UTC (the Spark engine sets
      ``spark.sql.session.timeZone`` to UTC). Wrap the timestamp in :func:`local_time` for a
      client's calendar.
  :func:`first_by`, :func:`last_by`
      ``min_by(x, row(k1, k2))`` / ``max_by(x, k)`` -> ``min_by(x, struct(k1, k2))`` /
      ``max_by(x, k)``.
  :func:`collect`, :func:`collect_sorted`
      ``list(x) FILTER (WHERE c)`` / ``list(x ORDER BY x) FILTER (WHERE c)`` ->
      ``collect_list(x) FILTER (WHERE c)`` / ``array_sort(collect_list(x) FILTER (WHERE c))``,
      NULL when no row passes (as DuckDB's).
  :func:`list_where`, :func:`list_min`, :func:`list_len`, :func:`list_at`, :func:`list_concat`
      ``list_filter(l, lambda x: c)``, ``list_min(l)``, ``array_length(l)``,
      ``list_extract(l, i)`` (1-based), ``list_concat(a, b)`` -> ``filter(l, x -> c)``,
      ``array_min(l)``, ``size(l)``, ``try_element_at(l, i)``, ``concat`` of the lists with
      NULL as empty. Lists of timestamps are how the funnel matches steps in one pass per
      customer (:mod:`journeylib.funnels`).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:  # pragma: no cover - engine imports this module
    from journeylib.engine import Engine

__all__ = [
    "IDENTIFIER",
    "TimestampTypeError",
    "bound",
    "check_choice",
    "collect",
    "collect_sorted",
    "date_trunc",
    "days_between",
    "duration",
    "empty_frame",
    "epoch_seconds",
    "first_by",
    "identifier",
    "in_list",
    "last_by",
    "list_at",
    "list_concat",
    "list_len",
    "list_min",
    "list_where",
    "pseudonym_ranges",
    "pseudonym_sample",
    "literal",
    "local_time",
    "non_negative_days",
    "ordered_concat",
    "quote",
    "require_columns",
    "table_columns",
]

#: A plain SQL identifier: the only table or column names ever spliced into SQL text.
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

_TRUNC_UNITS = ("day", "week", "month")


class TimestampTypeError(TypeError, ValueError):
    """A timestamp column holds something else (typically strings that were never parsed).

    Both a ``TypeError`` (the column has the wrong type) and a ``ValueError`` (the table given
    as input is not usable), so callers may catch either.
    """


# ---- names -----------------------------------------------------------------------------------
def identifier(name: object, what: str = "table") -> str:
    """``name`` itself, after checking it is a plain identifier (letters, digits, ``_``).

    >>> identifier("events")
    'events'
    """
    if not isinstance(name, str) or not IDENTIFIER.fullmatch(name):
        raise ValueError(f"{what} {name!r} must be a plain identifier (letters, digits, _)")
    return name


def quote(name: object, what: str = "column") -> str:
    """``name`` double-quoted for SQL, after :func:`identifier`.

    >>> quote("session_id")
    '"session_id"'
    """
    return f'"{identifier(name, what)}"'


# ---- tables and columns ----------------------------------------------------------------------
def table_columns(engine: Engine, table: str) -> pd.DataFrame:
    """An empty frame with the columns and dtypes of ``table`` (a clear error if it is absent)."""
    quoted = quote(table, "table")
    try:
        return engine.query(f"SELECT * FROM {quoted} LIMIT 0")
    except Exception as exc:  # the engine's catalog errors are engine-specific
        raise ValueError(
            f"cannot read table {table!r} from the {engine.name} engine: {table!r} is not "
            f"available to it or cannot be read (tables: {engine.tables()})"
        ) from exc


def require_columns(
    engine: Engine,
    table: str,
    required: Iterable[str | None],
    *,
    timestamp: str | None = None,
) -> pd.DataFrame:
    """:func:`table_columns` of ``table``, after checking it holds every ``required`` column.

    ``None`` entries of ``required`` (optional columns not asked for) are skipped. With
    ``timestamp``, that column must hold timestamps: string timestamps are refused
    (:class:`TimestampTypeError`), because comparing them as text gives wrong answers silently.
    """
    empty = table_columns(engine, table)
    missing = [c for c in required if c is not None and c not in empty.columns]
    if missing:
        raise ValueError(
            f"table {table!r} lacks column(s) {missing}: it has no column(s) of those names, "
            f"so it lacks required column(s) of this analysis (it has {list(empty.columns)})"
        )
    if timestamp is not None and not pd.api.types.is_datetime64_any_dtype(empty[timestamp]):
        raise TimestampTypeError(
            f"column {timestamp!r} of table {table!r} must be a timestamp, not "
            f"{empty[timestamp].dtype}; parse it first (pd.to_datetime(..., utc=True))"
        )
    return empty


# ---- arguments that reach SQL ----------------------------------------------------------------
def check_choice(what: str, value: object, allowed: Sequence[object]) -> None:
    """Refuse ``value`` unless it is one of ``allowed`` (option names spliced into SQL)."""
    if value not in allowed:
        raise ValueError(f"{what} must be one of {', '.join(map(repr, allowed))}; got {value!r}")


def duration(value: object, what: str = "window") -> pd.Timedelta | None:
    """A non-negative duration (``timedelta``, ``"7D"``, ...) as a Timedelta; ``None`` stays."""
    if value is None:
        return None
    try:
        td = pd.Timedelta(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what} must be a timedelta (e.g. '7D') or None, got {value!r}") from exc
    if pd.isna(td) or td < pd.Timedelta(0):
        raise ValueError(f"{what} must be a non-negative duration, got {value!r}")
    return td


def non_negative_days(value: object, what: str) -> float:
    """A finite, non-negative number of days (bound as a parameter or an interval)."""
    if not isinstance(value, int | float) or not 0 <= value < math.inf:
        raise ValueError(f"{what} must be a non-negative number, got {value!r}")
    return float(value)


# ---- literals --------------------------------------------------------------------------------
def customer_key(expr: str) -> str:
    """A 64-bit integer key for a string id, for joins and groupings that return no ids.

    Joining and grouping millions of rows on 20-character pseudonyms costs ~1.6x more than on
    integers. Two ids share a key with probability about n^2 / 2^65 (3e-8 for a million
    customers), so keys are used only where the result is aggregated, never returned.
    DuckDB: ``hash(x)``; Spark: ``xxhash64(x)``.
    """
    return f"hash({expr})"


def as_date(value: object, what: str = "as_of") -> dt.date:
    """``value`` (a date, timestamp or ISO string) as a calendar date; a clear error naming
    ``what`` otherwise.

    >>> as_date("2025-06-30 13:00")
    datetime.date(2025, 6, 30)
    """
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what} must be a date (e.g. '2025-06-30'), got {value!r}") from exc
    if pd.isna(ts):
        raise ValueError(f"{what} must be a date (e.g. '2025-06-30'), got {value!r}")
    return ts.date()


def end_of_day(as_of: object) -> str:
    """SQL timestamp literal for the end of day ``as_of`` in UTC (far future when None).

    Analyses use ``ts < end_of_day(as_of)``: everything on the cut-off day is included.

    >>> end_of_day("2025-06-30")
    "TIMESTAMPTZ '2025-07-01 00:00:00+00'"
    """
    if as_of is None:
        return "TIMESTAMPTZ '9999-12-31 00:00:00+00'"
    day = pd.Timestamp(as_of).date() + dt.timedelta(days=1)
    return f"TIMESTAMPTZ '{day.isoformat()} 00:00:00+00'"


def literal(value: object) -> str:
    """A SQL string literal, quotes escaped (for trusted configuration values, e.g. stage rules;
    values from data or users are bound as ``$parameters`` instead).

    >>> literal("it's")
    "'it''s'"
    """
    return "'" + str(value).replace("'", "''") + "'"


def in_list(column: str, values: Iterable[object]) -> str:
    """``column IN ('a', 'b')`` with :func:`literal` values."""
    return f"{column} IN ({', '.join(literal(v) for v in values)})"


# ---- dialect: the DuckDB spellings a Spark engine replaces -----------------------------------
def ordered_concat(expr: str, order_by: str, sep: str) -> str:
    """Ordered string aggregation of ``expr`` joined by ``sep`` (a constant, never user input)."""
    return f"string_agg({expr}, {literal(sep)} ORDER BY {order_by})"


def epoch_seconds(expr: str) -> str:
    """Seconds since 1970-01-01 UTC of a timestamp, with fractions."""
    return f"EXTRACT(EPOCH FROM {expr})"


def days_between(start: str, end: str) -> str:
    """The fractional days from ``start`` to ``end`` (24-hour days, negative when ``end`` is
    earlier)."""
    return f"(({epoch_seconds(end)} - {epoch_seconds(start)}) / 86400.0)"


def local_time(expr: str, zone: str = "$tz") -> str:
    """The wall-clock time (naive TIMESTAMP) of ``expr`` in the IANA zone ``zone`` (a bound
    parameter by default)."""
    return f"timezone({zone}, {expr})"


def date_trunc(unit: str, expr: str) -> str:
    """The start of the calendar ``unit`` (day, ISO week from Monday, month) holding ``expr``,
    in the session time zone (UTC)."""
    check_choice("unit", unit, _TRUNC_UNITS)
    return f"date_trunc('{unit}', {expr})"


def first_by(value: str, order: Sequence[str]) -> str:
    """Aggregate: ``value`` of the row that comes first by the columns ``order``, in one pass
    (instead of a window sort)."""
    return f"min_by({value}, {_sort_key(order)})"


def last_by(value: str, order: Sequence[str]) -> str:
    """Aggregate: ``value`` of the row that comes last by the columns ``order``."""
    return f"max_by({value}, {_sort_key(order)})"


def _sort_key(order: Sequence[str]) -> str:
    if isinstance(order, str) or not order:
        raise ValueError(f"order must be a non-empty sequence of column names, got {order!r}")
    return order[0] if len(order) == 1 else f"row({', '.join(order)})"


# ---- lists: one row per customer holding the timestamps of each event -------------------------
def collect(expr: str, where: str) -> str:
    """Aggregate: the values of ``expr`` over the rows where ``where`` holds, as a list (NULL
    when there are none), in no particular order."""
    return f"list({expr}) FILTER (WHERE {where})"


def collect_sorted(expr: str, where: str) -> str:
    """:func:`collect`, the list sorted ascending."""
    return f"list({expr} ORDER BY {expr}) FILTER (WHERE {where})"


def list_where(lst: str, cond: str, var: str = "x") -> str:
    """The elements ``var`` of the list ``lst`` for which ``cond`` (SQL over ``var`` and the
    row's columns) holds, in their order."""
    identifier(var, "lambda variable")
    return f"list_filter({lst}, lambda {var}: {cond})"


def list_min(lst: str) -> str:
    """The smallest element of a list (NULL for an empty or NULL list)."""
    return f"list_min({lst})"


def list_len(lst: str) -> str:
    """The number of elements of a list, 0 for a NULL list."""
    return f"COALESCE(array_length({lst}), 0)"


def list_at(lst: str, index: str) -> str:
    """The element at 1-based position ``index`` (NULL beyond the end)."""
    return f"list_extract({lst}, {index})"


def list_concat(lists: Sequence[str]) -> str:
    """The lists one after the other (NULL lists count as empty)."""
    if not lists:
        raise ValueError("list_concat needs at least one list")
    out = lists[0]
    for other in lists[1:]:
        out = f"list_concat({out}, {other})"
    return out


def bound(sql: str, params: dict[str, Any]) -> dict[str, Any]:
    """The ``params`` that ``sql`` refers to as ``$name`` (engines refuse unused parameters;
    SQL built from options uses a varying subset of one parameter set).

    >>> bound("SELECT $a", {"a": 1, "b": 2})
    {'a': 1}
    """
    return {k: v for k, v in params.items() if re.search(rf"\${re.escape(k)}\b", sql)}


def temp_table(name: str, select: str) -> str:
    """DDL keeping the result of ``select`` as a session-scoped table ``name`` for several later
    queries (created once: a second call with the same name does nothing, so names should
    identify their query). DuckDB: ``CREATE TEMP TABLE IF NOT EXISTS``; Spark: a persisted
    temporary view (:meth:`journeylib.spark.SparkEngine.execute`)."""
    return f"CREATE TEMP TABLE IF NOT EXISTS {identifier(name)} AS {select}"


# ---- results ---------------------------------------------------------------------------------
def empty_frame(dtypes: dict[str, Any]) -> pd.DataFrame:
    """A frame with no rows and the given column dtypes: the typed form of an empty result."""
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in dtypes.items()})


#: Most ranges :func:`pseudonym_ranges` splits the ids into (one per leading hex digit).
MAX_RANGES = 16


def pseudonym_ranges(
    passes: int, column: str = "customer_id", *, below: str | None = None
) -> list[str]:
    """SQL conditions on ``column`` splitting lowercase-hex pseudonyms into ``passes``
    consecutive ranges (at most :data:`MAX_RANGES`; at least 1), in sort order.

    Every string falls in exactly one range (the first has no lower bound, the last no upper
    one); pseudonyms, being uniform hex digits, fall evenly. NULL falls in none. With ``below``
    (the hex bound of a :func:`pseudonym_sample`) the ranges split the sample's share, the
    pseudonyms below it, evenly instead: the last range, still open above, holds no sampled
    customer beyond the bound.

    >>> pseudonym_ranges(2)
    ["customer_id < '8'", "customer_id >= '8'"]
    >>> pseudonym_ranges(1, "o.customer_id")
    ['TRUE']
    >>> pseudonym_ranges(2, below="4000")
    ["customer_id < '2000'", "customer_id >= '2000'"]
    """
    passes = max(1, min(MAX_RANGES, passes))
    if below is None:
        bounds = [format(k * 16 // passes, "x") for k in range(1, passes)]
    else:
        top, width = int(below, 16), len(below)
        cuts = sorted({k * top // passes for k in range(1, passes)} - {0})
        bounds = [format(cut, f"0{width}x") for cut in cuts]
    lows = [None, *bounds]
    highs = [*bounds, None]
    out = []
    for lo, hi in zip(lows, highs, strict=True):
        parts = [f"{column} >= '{lo}'"] if lo else []
        parts += [f"{column} < '{hi}'"] if hi else []
        out.append(" AND ".join(parts) or "TRUE")
    return out


def pseudonym_sample(fraction: float, column: str = "customer_id") -> str:
    """SQL condition keeping about ``fraction`` of the customers: the pseudonyms below a bound
    (their first four hex digits, so to 1/65,536). Pseudonyms are a keyed hash, so the kept
    customers are a random sample, the same on every run and in every table.

    >>> pseudonym_sample(0.25)
    "customer_id < '4000'"
    >>> pseudonym_sample(1.0)
    'TRUE'
    """
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction!r}")
    bound = round(fraction * 16**4)
    return "TRUE" if bound >= 16**4 else f"{column} < '{max(bound, 1):04x}'"
