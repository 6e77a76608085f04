"""Retention from orders: cohort matrices, repeat purchase and lifecycle status per period.

An **order** is a distinct ``order_id`` of a customer (its lines are collapsed; the order's time
is its earliest line). **Periods** are calendar months or ISO weeks (Monday to Sunday) in the
zone ``timezone`` (UTC unless given; pass the client's zone so that "January" means the client's
January), the one convention every function here shares. A customer's **cohort** is the period of
their first order.

``as_of`` is the observation cut-off, a calendar day in ``timezone`` (``datetime.date``, ISO
string, or a timestamp whose local date is used): orders up to and including that day count, later
ones are ignored, and periods that start after it are *not observed*. Unobserved cells are
``<NA>``, never 0 (right-censoring). The period holding ``as_of`` is observed but
``complete=False``, because it is only partly over. The default ``as_of`` is the date of the last
order.

The private helpers at the end (the cut-off, period and day arithmetic in SQL) are this
module's own; checked names, column checks and the DuckDB-specific expressions come from
:mod:`journeylib.sql`.
"""

from __future__ import annotations

import datetime as dt
import warnings
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd

from journeylib.engine import Engine, as_engine
from journeylib.sql import (
    check_choice,
    days_between,
    empty_frame,
    local_time,
    non_negative_days,
    require_columns,
)

if TYPE_CHECKING:  # pragma: no cover
    import plotly.graph_objects as go

Period = Literal["week", "month"]
Kind = Literal["n_period", "unbounded"]

LIFECYCLE_STATUSES: tuple[str, ...] = ("new", "returning", "resurrected", "dormant")

_COHORT_COLUMNS = {
    "cohort": "datetime64[us]",
    "offset": "int64",
    "period": "datetime64[us]",
    "customers": "int64",
    "retained": "Int64",
    "rate": "Float64",
    "complete": "bool",
}
_LIFECYCLE_COLUMNS = {
    "period": "datetime64[us]",
    "status": pd.CategoricalDtype(LIFECYCLE_STATUSES, ordered=True),
    "customers": "int64",
    "complete": "bool",
}
_REPEAT_COLUMNS = ["within_days", "buyers", "repeat_buyers", "rate", "censored"]
_ORDER_COLUMNS = ("order_id", "customer_id", "ts")


def cohort_retention(
    orders: Engine | pd.DataFrame,
    *,
    period: Period = "month",
    kind: Kind = "n_period",
    as_of: dt.date | str | pd.Timestamp | None = None,
    timezone: str = "UTC",
    table: str = "orders",
) -> pd.DataFrame:
    """Cohort retention matrix by first-purchase period, as a long table.

    Parameters
    ----------
    orders
        An engine that can see ``table``, or an orders frame (``order_id``, ``customer_id``,
        ``ts``); never modified.
    period
        ``"month"`` (UTC calendar month) or ``"week"`` (ISO week starting Monday, UTC).
    kind
        ``"n_period"``: share of the cohort that ordered *in* period ``offset`` (classic
        retention). ``"unbounded"``: share that ordered in period ``offset`` *or any later
        observed period* (rolling retention; never increases with ``offset``).
    as_of
        Observation cut-off day (inclusive); default the date of the last order.
    timezone
        IANA zone whose calendar defines periods and days (e.g. the client's
        ``data.timezone``, ``"Asia/Jakarta"``); default UTC.
    table
        Name of the orders table or view in the engine.

    Returns
    -------
    pandas.DataFrame
        One row per cohort x offset, for every cohort with a buyer and every offset from 0 to the
        oldest cohort's last observed offset (a rectangle, so censoring is explicit):
        ``cohort`` and ``period`` (start dates of the cohort's period and of period ``offset``),
        ``offset`` (periods since the cohort period), ``customers`` (cohort size),
        ``retained`` (``Int64``) and ``rate`` (``Float64``; ``<NA>`` where ``period`` starts
        after ``as_of``), ``complete`` (period ``offset`` ended on or before ``as_of``). Offset 0
        is 100% by definition. Empty, with a warning, when there is no order up to ``as_of``.

    Examples
    --------
    >>> o = pd.DataFrame({"order_id": ["1", "2", "3"], "customer_id": ["a", "a", "b"],
    ...     "ts": pd.to_datetime(["2025-01-05", "2025-02-07", "2025-02-01"], utc=True)})
    >>> cohort_retention(o)["rate"].tolist()
    [1.0, 1.0, 1.0, <NA>]
    """
    engine = as_engine(orders, name=table)
    check_choice("period", period, ("week", "month"))
    check_choice("kind", kind, ("n_period", "unbounded"))
    require_columns(engine, table, _ORDER_COLUMNS)
    cutoff = _resolve_as_of(engine, table, as_of, timezone)
    if cutoff is None:
        return _empty_orders(table, _COHORT_COLUMNS)
    last_p = _date_to_period(cutoff, period)
    sql = f"""
        WITH {_customer_periods_sql(table, period)},
        c AS (SELECT customer_id, MIN(p) AS cohort, MAX(p) AS last_p FROM cp GROUP BY customer_id)
    """
    if kind == "n_period":
        sql += """
            SELECT c.cohort, cp.p - c.cohort AS n_off, COUNT(*) AS n
            FROM cp JOIN c ON cp.customer_id = c.customer_id
            GROUP BY c.cohort, cp.p - c.cohort
        """
    else:  # the customer is retained at every offset up to their last active one
        sql += "SELECT cohort, last_p - cohort AS n_off, COUNT(*) AS n FROM c GROUP BY 1, 2"
    counts = engine.query(sql, {"until": _until(cutoff, timezone), "tz": timezone})
    if counts.empty:
        return _empty_orders(table, _COHORT_COLUMNS, as_of=cutoff)
    grid = counts.pivot_table(index="cohort", columns="n_off", values="n", aggfunc="sum")
    cohorts = sorted(int(c) for c in grid.index)
    offsets = range(last_p - cohorts[0] + 1)
    grid = grid.reindex(index=cohorts, columns=list(offsets), fill_value=0).fillna(0)
    if kind == "unbounded":  # customers whose last active offset is >= n
        grid = grid.loc[:, ::-1].cumsum(axis=1).loc[:, ::-1]
    size = grid[0]  # every buyer orders in their cohort period
    long = grid.stack().rename("retained").reset_index()
    long.columns = ["cohort_p", "offset", "retained"]
    long["customers"] = long["cohort_p"].map(size).astype("int64")
    p = long["cohort_p"] + long["offset"]
    observed = p <= last_p
    long["retained"] = long["retained"].astype("Int64").where(observed, pd.NA)
    long["rate"] = (long["retained"].astype("Float64") / long["customers"]).where(observed, pd.NA)
    long["cohort"] = _period_starts(long["cohort_p"], period)
    long["period"] = _period_starts(p, period)
    long["complete"] = _period_starts(p + 1, period) <= pd.Timestamp(cutoff + dt.timedelta(days=1))
    long["offset"] = long["offset"].astype("int64")
    return long[list(_COHORT_COLUMNS)].sort_values(["cohort", "offset"], ignore_index=True)


def repeat_purchase_rate(
    orders: Engine | pd.DataFrame,
    *,
    within_days: float | None = None,
    as_of: dt.date | str | pd.Timestamp | None = None,
    timezone: str = "UTC",
    table: str = "orders",
) -> pd.DataFrame:
    """Share of buyers who ordered again (at all, or within ``within_days`` of their first order).

    Orders are ranked per customer by ``ts`` and then ``order_id`` (the documented tie-breaker):
    two distinct orders at the same instant are two orders, the second 0 days after the first.

    Parameters
    ----------
    orders
        An engine that can see ``table``, or an orders frame; never modified.
    within_days
        ``None``: a repeat buyer has >= 2 orders up to ``as_of``. A number N: a repeat buyer's
        second order is at most N days (24-hour days, inclusive) after the first; only buyers
        whose first order is at least N days before the end of ``as_of`` are counted, because the
        others could still repeat in time (they are reported as ``censored``).
    as_of
        Observation cut-off day (inclusive); default the date of the last order.
    timezone
        IANA zone whose calendar defines periods and days (e.g. the client's
        ``data.timezone``, ``"Asia/Jakarta"``); default UTC.
    table
        Name of the orders table or view in the engine.

    Returns
    -------
    pandas.DataFrame
        One row: ``within_days`` (``<NA>`` when not set), ``buyers`` (eligible buyers),
        ``repeat_buyers``, ``rate`` and ``censored`` (buyers left out as not yet observable for
        ``within_days``; 0 when not set). Buyers 0 and rate ``NaN``, with a warning, when there
        are no orders.
    """
    engine = as_engine(orders, name=table)
    if within_days is not None:
        non_negative_days(within_days, "within_days")
    require_columns(engine, table, _ORDER_COLUMNS)
    cutoff = _resolve_as_of(engine, table, as_of, timezone)
    if cutoff is None:
        _empty_orders(table, {})
        return pd.DataFrame(
            {
                "within_days": pd.array([within_days], dtype="Float64"),
                "buyers": [0],
                "repeat_buyers": [0],
                "rate": [float("nan")],
                "censored": [0],
            }
        )
    until = _until(cutoff, timezone)
    params: dict[str, Any] = {"until": until}
    if within_days is None:
        eligible, repeat = "TRUE", "n_orders >= 2"
    else:
        params["latest_first"] = until - dt.timedelta(days=float(within_days))
        params["days"] = float(within_days)
        eligible = "first_ts <= $latest_first"
        repeat = f"second_ts IS NOT NULL AND {days_between('first_ts', 'second_ts')} <= $days"
    row = engine.query(
        f"""
        WITH {_orders_sql(table)},
        r AS (
            SELECT customer_id, ts,
                   ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY ts, order_id) AS rn
            FROM o
        ),
        c AS (
            SELECT customer_id, COUNT(*) AS n_orders,
                   MIN(CASE WHEN rn = 1 THEN ts END) AS first_ts,
                   MIN(CASE WHEN rn = 2 THEN ts END) AS second_ts
            FROM r GROUP BY customer_id
        )
        SELECT COUNT(*) AS all_buyers,
               SUM(CASE WHEN {eligible} THEN 1 ELSE 0 END) AS buyers,
               SUM(CASE WHEN {eligible} AND {repeat} THEN 1 ELSE 0 END) AS repeat_buyers
        FROM c
        """,
        params,
    ).iloc[0]
    buyers, repeaters = int(row["buyers"] or 0), int(row["repeat_buyers"] or 0)
    return pd.DataFrame(
        {
            "within_days": pd.array([within_days], dtype="Float64"),
            "buyers": [buyers],
            "repeat_buyers": [repeaters],
            "rate": [repeaters / buyers if buyers else float("nan")],
            "censored": [int(row["all_buyers"]) - buyers],
        }
    )[_REPEAT_COLUMNS]


def lifecycle(
    orders: Engine | pd.DataFrame,
    *,
    period: Period = "month",
    as_of: dt.date | str | pd.Timestamp | None = None,
    timezone: str = "UTC",
    table: str = "orders",
) -> pd.DataFrame:
    """Buyers per lifecycle status in every period (growth accounting).

    Statuses of a customer in period P, once they have ever ordered (by P):

    * ``new``: first order in P;
    * ``returning``: ordered in P and in P - 1;
    * ``resurrected``: ordered in P, not in P - 1, but before P - 1;
    * ``dormant``: ordered before P but not in P (however long ago).

    Each buyer has exactly one status per period from their cohort period on, so the four counts
    of a period add up to the buyers whose first order is in or before it.

    Parameters
    ----------
    orders
        An engine that can see ``table``, or an orders frame; never modified.
    period
        ``"month"`` or ``"week"`` (see the module docstring).
    as_of
        Observation cut-off day (inclusive); default the date of the last order.
    timezone
        IANA zone whose calendar defines periods and days (e.g. the client's
        ``data.timezone``, ``"Asia/Jakarta"``); default UTC.
    table
        Name of the orders table or view in the engine.

    Returns
    -------
    pandas.DataFrame
        One row per period x status (every period from the first order's to ``as_of``'s, every
        status, zeros included): ``period`` (start date), ``status`` (ordered categorical
        new < returning < resurrected < dormant), ``customers``, ``complete`` (the period ended
        on or before ``as_of``). Empty, with a warning, when there are no orders.
    """
    engine = as_engine(orders, name=table)
    check_choice("period", period, ("week", "month"))
    require_columns(engine, table, _ORDER_COLUMNS)
    cutoff = _resolve_as_of(engine, table, as_of, timezone)
    if cutoff is None:
        return _empty_orders(table, _LIFECYCLE_COLUMNS)
    counts = engine.query(
        f"""
        WITH {_customer_periods_sql(table, period)},
        s AS (
            SELECT p, LAG(p) OVER (PARTITION BY customer_id ORDER BY p) AS prev FROM cp
        )
        SELECT p,
               CASE WHEN prev IS NULL THEN 'new'
                    WHEN prev = p - 1 THEN 'returning'
                    ELSE 'resurrected' END AS status,
               COUNT(*) AS n
        FROM s GROUP BY 1, 2
        """,
        {"until": _until(cutoff, timezone), "tz": timezone},
    )
    if counts.empty:
        return _empty_orders(table, _LIFECYCLE_COLUMNS, as_of=cutoff)
    last_p = _date_to_period(cutoff, period)
    periods = list(range(int(counts["p"].min()), last_p + 1))
    wide = counts.pivot_table(index="p", columns="status", values="n", aggfunc="sum")
    wide = wide.reindex(index=periods, columns=list(LIFECYCLE_STATUSES), fill_value=0).fillna(0)
    active = wide["new"] + wide["returning"] + wide["resurrected"]
    wide["dormant"] = wide["new"].cumsum() - active
    long = wide.astype("int64").stack().rename("customers").reset_index()
    long.columns = ["p", "status", "customers"]
    long["period"] = _period_starts(long["p"], period)
    long["complete"] = _period_starts(long["p"] + 1, period) <= pd.Timestamp(
        cutoff + dt.timedelta(days=1)
    )
    long["status"] = pd.Categorical(long["status"], categories=LIFECYCLE_STATUSES, ordered=True)
    return long[list(_LIFECYCLE_COLUMNS)].sort_values(["period", "status"], ignore_index=True)


#: Chart text in each report language.
_TEXT: dict[str, dict[str, str]] = {
    "en": {
        "retained": "retained",
        "cohort_title": "Cohort retention (blank: not yet observed)",
        "offset": "periods since first purchase",
        "cohort": "cohort (first purchase)",
        "life_title": "Buyers by lifecycle status per period (dormant below zero)",
        "period": "period",
        "customers": "customers",
        "new": "new",
        "returning": "returning",
        "resurrected": "resurrected",
        "dormant": "dormant",
    },
    "id": {
        "retained": "retensi",
        "cohort_title": "Retensi kohort (kosong: belum teramati)",
        "offset": "periode sejak pembelian pertama",
        "cohort": "kohort (pembelian pertama)",
        "life_title": "Pembeli menurut status siklus hidup per periode (tidak aktif di bawah nol)",
        "period": "periode",
        "customers": "pelanggan",
        "new": "baru",
        "returning": "berulang",
        "resurrected": "aktif kembali",
        "dormant": "tidak aktif",
    },
}


def _t(language: str, key: str) -> str:
    return _TEXT.get(language, _TEXT["en"])[key]


def plot_cohort_heatmap(
    table: pd.DataFrame, *, title: str | None = None, language: str = "en"
) -> go.Figure:
    """Heatmap of :func:`cohort_retention`: cohorts down, offsets across, unobserved cells blank
    (text in ``language``: ``en`` or ``id``)."""
    import plotly.graph_objects as go

    grid = table.pivot(index="cohort", columns="offset", values="rate")
    z = [[None if pd.isna(v) else float(v) for v in row] for row in grid.to_numpy()]
    text = [["" if v is None else f"{v:.0%}" for v in row] for row in z]
    labels = [f"{c:%Y-%m-%d}" for c in grid.index]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=list(grid.columns),
            y=labels,
            text=text,
            texttemplate="%{text}",
            colorscale="Blues",
            zmin=0,
            zmax=1,
            hoverongaps=False,
            colorbar={"title": _t(language, "retained"), "tickformat": ".0%"},
        )
    )
    fig.update_layout(
        title=title or _t(language, "cohort_title"),
        xaxis={"title": _t(language, "offset"), "dtick": 1},
        yaxis={"title": _t(language, "cohort"), "autorange": "reversed", "type": "category"},
        margin={"l": 100, "r": 20, "t": 50, "b": 50},
        height=160 + 24 * len(labels),
    )
    return fig


def plot_lifecycle(table: pd.DataFrame, *, language: str = "en") -> go.Figure:
    """Stacked bars of :func:`lifecycle`: active statuses up, dormant buyers drawn below zero
    (text, status names included, in ``language``: ``en`` or ``id``)."""
    import plotly.graph_objects as go

    colors = {"new": "#2a9d8f", "returning": "#264653", "resurrected": "#e9c46a"}
    colors["dormant"] = "#bbbbbb"
    fig = go.Figure()
    for status in LIFECYCLE_STATUSES:
        part = table[table["status"] == status]
        sign = -1 if status == "dormant" else 1
        fig.add_bar(
            x=part["period"],
            y=sign * part["customers"],
            name=_t(language, status),
            marker_color=colors[status],
            customdata=part["customers"],
            hovertemplate="%{x|%Y-%m-%d}: %{customdata:,} "
            + _t(language, status)
            + "<extra></extra>",
        )
    fig.update_layout(
        title=_t(language, "life_title"),
        barmode="relative",
        xaxis={"title": _t(language, "period")},
        yaxis={"title": _t(language, "customers")},
        legend={"orientation": "h", "y": -0.2},
        margin={"l": 60, "r": 20, "t": 50, "b": 40},
        height=400,
    )
    return fig


# ---------------------------------------------------------------------------------------------
# Helpers: the cut-off day, orders and periods in SQL
# ---------------------------------------------------------------------------------------------
_WEEK_ZERO = dt.date(1970, 1, 5)  # the first Monday of the epoch: week index 0


def _check_timezone(timezone: object) -> str:
    try:
        ZoneInfo(str(timezone))
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"timezone {timezone!r} is not an IANA time zone name") from None
    return str(timezone)


def _parse_as_of(as_of: dt.date | str | pd.Timestamp | None, timezone: str) -> dt.date | None:
    if as_of is None or (isinstance(as_of, str) and not as_of.strip()):
        return None
    if isinstance(as_of, pd.Timestamp | dt.datetime):
        ts = pd.Timestamp(as_of)
        return (ts.tz_convert(timezone) if ts.tzinfo else ts).date()
    if isinstance(as_of, dt.date):
        return as_of
    if isinstance(as_of, str):
        try:
            return _parse_as_of(pd.Timestamp(as_of), timezone)
        except ValueError:
            pass
    raise ValueError(f"as_of must be a date, timestamp or ISO date string; got {as_of!r}")


def _resolve_as_of(
    engine: Engine, table: str, as_of: dt.date | str | pd.Timestamp | None, timezone: str
) -> dt.date | None:
    """The cut-off day: ``as_of`` if given, else the local date of the last ``ts``; ``None`` if
    the table has no rows with a timestamp."""
    _check_timezone(timezone)
    parsed = _parse_as_of(as_of, timezone)
    if parsed is not None:
        return parsed
    # a DATE (not a TIMESTAMPTZ) comes back without time-zone libraries on the client side
    last = engine.scalar(
        f'SELECT CAST({local_time("MAX(ts)")} AS DATE) FROM "{table}"', {"tz": timezone}
    )
    return None if last is None or pd.isna(last) else _parse_as_of(last, timezone)


def _until(day: dt.date, timezone: str) -> dt.datetime:
    """Exclusive upper bound (local midnight after ``day``, in UTC) for ``ts < $until``."""
    midnight = pd.Timestamp(day + dt.timedelta(days=1)).tz_localize(
        timezone, ambiguous=False, nonexistent="shift_forward"
    )
    return midnight.tz_convert("UTC").to_pydatetime()


def _empty_orders(table: str, dtypes: dict[str, Any], as_of: dt.date | None = None) -> pd.DataFrame:
    when = f" up to {as_of.isoformat()}" if as_of else ""
    warnings.warn(f"no orders in table {table!r}{when}: the result is empty", stacklevel=3)
    return empty_frame(dtypes)


def _orders_sql(table: str) -> str:
    """CTE ``o``: one row per customer x order_id before ``$until``, at its earliest line."""
    return f"""o AS (
            SELECT customer_id, order_id, MIN(ts) AS ts FROM "{table}"
            WHERE customer_id IS NOT NULL AND order_id IS NOT NULL AND ts < $until
            GROUP BY customer_id, order_id
        )"""


def _customer_periods_sql(table: str, period: str) -> str:
    """CTEs ``o`` and ``cp``: one row per customer x local period with an order (``$tz``)."""
    p = _period_index_sql(local_time("ts"), period)
    return f"""{_orders_sql(table)},
        cp AS (SELECT DISTINCT customer_id, {p} AS p FROM o)"""


def _period_index_sql(col: str, period: str) -> str:
    """SQL for the integer period of a wall-clock ``col``: months since year 0, or ISO weeks
    since 1970-01-05."""
    if period == "month":
        return f"CAST(EXTRACT(YEAR FROM {col}) * 12 + EXTRACT(MONTH FROM {col}) - 1 AS BIGINT)"
    zero = f"TIMESTAMP '{_WEEK_ZERO.isoformat()} 00:00:00'"
    return f"CAST(FLOOR({days_between(zero, col)} / 7) AS BIGINT)"


def _date_to_period(day: dt.date, period: str) -> int:
    if period == "month":
        return day.year * 12 + day.month - 1
    return (day - _WEEK_ZERO).days // 7


def _period_starts(index: pd.Series, period: str) -> pd.Series:
    """Start dates (naive midnight, UTC calendar) of period numbers."""
    index = index.astype("int64")
    if period == "month":
        frame = pd.DataFrame({"year": index // 12, "month": index % 12 + 1, "day": 1})
        return pd.to_datetime(frame).astype("datetime64[us]")
    return (pd.Timestamp(_WEEK_ZERO) + pd.to_timedelta(index * 7, unit="D")).astype(
        "datetime64[us]"
    )
