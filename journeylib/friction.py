"""Friction in journeys: back-and-forth loops, friction events over time, and spike flags.

Loops walk the numbered customer paths of :mod:`journeylib.paths` (same ordering, tie-breaking
and collapsing of repeats, see its docstring); friction counts follow chosen events per day or
ISO week against the sessions active then. :func:`anomaly_flags` is a robust spike detector on
any series of per-period values, so the pain-point analysis can reuse it. Periods are UTC
calendar days or ISO weeks starting on Monday. Event-level work runs as SQL in the engine; only
per-period counts come back as pandas, and ``plot_*`` functions only draw a table.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from journeylib.engine import Engine, as_engine, query_customer_rows
from journeylib.paths import _check_steps, _path_ctes
from journeylib.sql import check_choice, date_trunc, quote, require_columns

if TYPE_CHECKING:
    import plotly.graph_objects as go

__all__ = [
    "FRICTION_EVENTS",
    "anomaly_flags",
    "friction_over_time",
    "loops",
    "plot_friction_over_time",
    "plot_loops_over_time",
]

#: Friction events followed by :func:`friction_over_time` unless told otherwise.
FRICTION_EVENTS: tuple[str, ...] = (
    "checkout_error",
    "payment_error",
    "contact_support",
    "delivery_late",
    "return_request",
)

_MAD_TO_SD = 1.4826  # MAD of a normal distribution times this is its standard deviation

_LOOP_COLUMNS = ["period", "step_a", "step_b", "customers", "loops", "sessions"]
_FRICTION_COLUMNS = [
    "period",
    "event",
    "events",
    "customers",
    "sessions_affected",
    "sessions",
    "events_per_session",
    "share_sessions",
    "baseline",
    "threshold",
    "anomaly",
    "note",
]


def _period(expr: str, by: str | None) -> str:
    """The UTC calendar day or ISO week (Monday) of a timestamp, as a DATE."""
    if by is None:
        return "CAST(NULL AS DATE)"
    check_choice("by", by, ("day", "week", None))
    return f"CAST({date_trunc(by, expr)} AS DATE)"


def loops(
    events: Engine | pd.DataFrame,
    *,
    by: Literal["day", "week"] | None = "day",
    min_loops: int = 1,
    collapse_repeats: bool = True,
    table: str = "events",
    customer_col: str = "customer_id",
    ts_col: str = "ts",
    event_col: str = "event",
    session_col: str | None = "session_id",
    order_col: str | None = None,
) -> pd.DataFrame:
    """Back-and-forth between two steps (A -> B -> A), per step pair and period.

    A loop is three consecutive events ``A, B, A`` with ``A != B`` inside one session (one
    customer's path when ``session_col=None``), after collapsing consecutive repeats (so
    ``A B B A`` is a loop too). Every occurrence counts once, overlapping ones included:
    ``A B A B A`` holds two loops (A, B) and one loop (B, A). ``step_a`` is the step returned to,
    ``step_b`` the detour. A loop belongs to the UTC day / ISO week of its return event.
    Sessions are taken to be contiguous runs of a customer's events (as
    :func:`journeylib.sessions.sessionize` builds them): the three events are consecutive in the
    customer's path and share one session.

    Parameters
    ----------
    events
        Engine over the canonical tables, or an events frame (not modified).
    by
        ``"day"``, ``"week"`` or ``None`` (one row per pair over the whole data, ``period`` NaT).
    min_loops
        Drop (period, pair) rows with fewer loops.
    collapse_repeats
        Drop an event equal to the one just before it before looking for loops.
    table, customer_col, ts_col, event_col, order_col
        As in :func:`~journeylib.paths.step_matrix`.
    session_col
        Loops are searched within sessions; ``None`` searches whole customer paths.

    Returns
    -------
    pandas.DataFrame
        One row per period x step_a x step_b: ``period`` (date), ``step_a``, ``step_b``,
        ``customers`` and ``sessions`` with at least one such loop, ``loops`` (occurrences);
        sorted by period, then loops descending.
    """
    engine = as_engine(events, table)
    min_loops = _check_steps(min_loops, "min_loops")
    period = _period("ts2", by)
    require_columns(
        engine, table, (customer_col, ts_col, event_col, session_col, order_col), timestamp=ts_col
    )
    ctes = _path_ctes(
        table,
        customer_col=customer_col,
        ts_col=ts_col,
        event_col=event_col,
        order_col=order_col,
        collapse_repeats=collapse_repeats,
        session_col=session_col,
        leads=True,
    )
    sql = f"""
        WITH {ctes},
        trip AS (
            SELECT customer_id, session, event AS a, next1 AS b, ts2 FROM path
            WHERE next2 = event AND next1 <> event AND sess1 = session AND sess2 = session
        )
        SELECT {period} AS period, a AS step_a, b AS step_b,
               COUNT(DISTINCT customer_id) AS customers, COUNT(*) AS loops,
               COUNT(DISTINCT CAST(customer_id AS VARCHAR) || '|' || session) AS sessions
        FROM trip
        GROUP BY 1, 2, 3
    """
    # every count adds up over disjoint ranges of customers (a session is one customer's)
    out = query_customer_rows(engine, sql, table=table, customer_col=customer_col)
    keys = ["period", "step_a", "step_b"]
    out = out.groupby(keys, as_index=False, dropna=False)[["customers", "loops", "sessions"]].sum()
    out = out.loc[out["loops"] >= min_loops]
    out["period"] = pd.to_datetime(out["period"])
    out = out.astype(
        {
            "step_a": "str",
            "step_b": "str",
            "customers": "int64",
            "loops": "int64",
            "sessions": "int64",
        }
    )
    out = out.sort_values(
        ["period", "loops", "step_a", "step_b"], ascending=[True, False, True, True]
    )
    return out[_LOOP_COLUMNS].reset_index(drop=True)


def anomaly_flags(
    values: pd.Series,
    *,
    exposure: pd.Series | None = None,
    window: int = 29,
    k: float = 3.0,
    min_periods: int = 7,
) -> pd.DataFrame:
    """Robust spike flags: a value above the rolling median + ``k`` robust standard deviations.

    For each period the baseline is the median of the ``window`` periods centred on it (NaN
    periods skipped) and the spread is ``1.4826 x MAD`` of that window. Rare events have a MAD of
    0 over quiet periods, so the spread is floored at the counting (Poisson) noise of the
    baseline: ``sqrt(max(baseline x exposure, 1)) / exposure`` for a rate per unit of
    ``exposure`` (e.g. sessions), ``sqrt(max(baseline, 1))`` for a count. Only increases are
    flagged (friction spikes).

    Parameters
    ----------
    values
        One value per period, in time order (NaN: no data that period).
    exposure
        Denominator of a rate per period (``values`` are rates); ``None`` for counts.
    window, k
        Rolling window (periods, centred) and the number of robust standard deviations.
    min_periods
        Fewer non-NaN periods than this gives no flags at all (``anomaly`` False, with a warning).

    Returns
    -------
    pandas.DataFrame
        Same index as ``values``: ``baseline``, ``threshold`` (NaN when not computable) and
        ``anomaly`` (bool).
    """
    x = values.to_numpy(dtype=float)
    n = len(x)
    out = pd.DataFrame(
        {"baseline": np.nan, "threshold": np.nan, "anomaly": False}, index=values.index
    )
    if np.isfinite(x).sum() < min_periods:
        warnings.warn(
            f"anomaly flags need at least {min_periods} periods with data, got "
            f"{int(np.isfinite(x).sum())}: no period is flagged",
            stacklevel=2,
        )
        return out
    expo = None if exposure is None else exposure.to_numpy(dtype=float)
    half = window // 2
    base = np.full(n, np.nan)
    thr = np.full(n, np.nan)
    for i in range(n):
        win = x[max(0, i - half) : i + half + 1]
        win = win[np.isfinite(win)]
        if len(win) < min_periods or not np.isfinite(x[i]):
            continue
        med = float(np.median(win))
        spread = _MAD_TO_SD * float(np.median(np.abs(win - med)))
        if expo is None:
            floor = math.sqrt(max(med, 1.0))
        elif expo[i] > 0:
            floor = math.sqrt(max(med * expo[i], 1.0)) / expo[i]
        else:
            continue
        base[i], thr[i] = med, med + k * max(spread, floor)
    out["baseline"] = base
    out["threshold"] = thr
    out["anomaly"] = np.isfinite(thr) & (x > thr)
    return out


def friction_over_time(
    events: Engine | pd.DataFrame,
    *,
    events_of_interest: Sequence[str] = FRICTION_EVENTS,
    by: Literal["day", "week"] = "day",
    window: int = 29,
    k: float = 3.0,
    min_periods: int = 7,
    table: str = "events",
    customer_col: str = "customer_id",
    ts_col: str = "ts",
    event_col: str = "event",
    session_col: str = "session_id",
) -> pd.DataFrame:
    """Friction events per day (or week) and per session, with a robust spike flag.

    For each period (UTC day or ISO week, every period between the first and last event, empty
    ones included) and each event of interest: ``events`` (occurrences, so repeated errors in a
    loop count each time), ``customers`` and ``sessions_affected`` with the event, ``sessions``
    active in the period (any event), ``events_per_session`` and ``share_sessions``. The
    anomaly flag (:func:`anomaly_flags`, on ``events_per_session`` with ``sessions`` as exposure)
    marks periods far above the rolling median, so an incident window stands out while traffic
    swings do not.

    Parameters
    ----------
    events
        Engine over the canonical tables, or an events frame (not modified).
    events_of_interest
        Event names to follow (an event that never occurs gets zero rows and a warning).
    by
        ``"day"`` or ``"week"``.
    window, k, min_periods
        Passed to :func:`anomaly_flags`; with fewer than ``min_periods`` periods no period is
        flagged and ``note`` says why.
    table, customer_col, ts_col, event_col, session_col
        Where the events are.

    Returns
    -------
    pandas.DataFrame
        One row per period x event: the counts above, ``baseline``, ``threshold``, ``anomaly``
        (bool) and ``note`` (why the flag could not be computed, else empty).
    """
    engine = as_engine(events, table)
    check_choice("by", by, ("day", "week"))
    names = (
        [events_of_interest] if isinstance(events_of_interest, str) else list(events_of_interest)
    )
    if not names or not all(isinstance(e, str) and e for e in names):
        raise ValueError("events_of_interest must be a non-empty list of event names")
    names = list(dict.fromkeys(names))
    require_columns(engine, table, (customer_col, ts_col, event_col, session_col), timestamp=ts_col)
    cust, ts, ev, sess, tab = (
        quote(customer_col, "column"),
        quote(ts_col, "column"),
        quote(event_col, "column"),
        quote(session_col, "column"),
        quote(table, "table"),
    )
    period = _period(ts, by)
    params = {f"e{i}": name for i, name in enumerate(names)}
    in_list = ", ".join(f"${p}" for p in params)
    # distinct (customer, session) pairs by grouping: faster than COUNT(DISTINCT a || b)
    totals = engine.query(
        f"""SELECT period, COUNT(*) AS sessions FROM (
                SELECT {period} AS period, {cust}, {sess} FROM {tab}
                WHERE {ts} IS NOT NULL GROUP BY 1, 2, 3
            ) AS s GROUP BY period"""
    )
    hits = engine.query(
        f"""SELECT period, event, SUM(n) AS events, COUNT(DISTINCT c) AS customers,
                   COUNT(*) AS sessions_affected
            FROM (
                SELECT {period} AS period, CAST({ev} AS VARCHAR) AS event, {cust} AS c, {sess},
                       COUNT(*) AS n
                FROM {tab} WHERE {ts} IS NOT NULL AND CAST({ev} AS VARCHAR) IN ({in_list})
                GROUP BY 1, 2, 3, 4
            ) AS h GROUP BY period, event""",
        params,
    )
    if totals.empty:
        warnings.warn(f"table {table!r} has no events: the result is empty", stacklevel=2)
        return pd.DataFrame(columns=_FRICTION_COLUMNS)
    absent = sorted(set(names) - set(hits["event"]))
    if absent:
        warnings.warn(f"events of interest never occur in {table!r}: {absent}", stacklevel=2)
    totals["period"] = pd.to_datetime(totals["period"])
    hits["period"] = pd.to_datetime(hits["period"])
    freq = "D" if by == "day" else "W-MON"
    grid = pd.date_range(totals["period"].min(), totals["period"].max(), freq=freq)
    full = pd.MultiIndex.from_product([grid, names], names=["period", "event"]).to_frame(
        index=False
    )
    full["period"] = full["period"].astype(totals["period"].dtype)
    out = full.merge(hits, on=["period", "event"], how="left").merge(
        totals, on="period", how="left"
    )
    counts = ["events", "customers", "sessions_affected", "sessions"]
    out[counts] = out[counts].fillna(0).astype("int64")
    with np.errstate(divide="ignore", invalid="ignore"):
        out["events_per_session"] = (out["events"] / out["sessions"]).where(out["sessions"] > 0)
        out["share_sessions"] = (out["sessions_affected"] / out["sessions"]).where(
            out["sessions"] > 0
        )
    flags = []
    note = ""
    for _, part in out.groupby("event", sort=False):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            flags.append(
                anomaly_flags(
                    part["events_per_session"],
                    exposure=part["sessions"],
                    window=window,
                    k=k,
                    min_periods=min_periods,
                )
            )
        if caught:
            note = str(caught[0].message)
    out = out.join(pd.concat(flags))
    out["note"] = note
    if note:
        warnings.warn(note, stacklevel=2)
    out = out.astype({"event": "str", "note": "str"}).sort_values(["period", "event"])
    return out[_FRICTION_COLUMNS].reset_index(drop=True)


#: Chart text in each report language.
_TEXT: dict[str, dict[str, str]] = {
    "en": {
        "loops_title": "Loops (A → B → A) per period",
        "period": "period",
        "loops": "loops",
        "friction_title": "Friction events per session",
        "per_session": "events per session",
        "anomaly": "{name}: anomaly",
    },
    "id": {
        "loops_title": "Putaran (A → B → A) per periode",
        "period": "periode",
        "loops": "putaran",
        "friction_title": "Event friksi per sesi",
        "per_session": "event per sesi",
        "anomaly": "{name}: anomali",
    },
}


def _t(language: str, key: str, /, **values: object) -> str:
    return _TEXT.get(language, _TEXT["en"])[key].format(**values)


def plot_loops_over_time(
    table: pd.DataFrame, *, pairs: int = 5, title: str | None = None, language: str = "en"
) -> go.Figure:
    """Lines of :func:`loops` per period for the ``pairs`` step pairs with most loops (text in
    ``language``: ``en`` or ``id``)."""
    import plotly.graph_objects as go

    label = table["step_a"] + " ↔ " + table["step_b"]
    top = table.groupby(label)["loops"].sum().sort_values(ascending=False).head(pairs).index
    fig = go.Figure()
    for name in top:
        part = table.loc[label.eq(name)]
        fig.add_scatter(x=part["period"], y=part["loops"], name=name, mode="lines+markers")
    fig.update_layout(
        title=title or _t(language, "loops_title"),
        xaxis={"title": _t(language, "period")},
        yaxis={"title": _t(language, "loops"), "rangemode": "tozero"},
        legend={"orientation": "h", "y": -0.2},
        margin={"l": 60, "r": 20, "t": 50, "b": 40},
        height=400,
    )
    return fig


def plot_friction_over_time(
    table: pd.DataFrame, *, title: str | None = None, language: str = "en"
) -> go.Figure:
    """Lines of :func:`friction_over_time` (events per session), anomalous periods marked (text
    in ``language``: ``en`` or ``id``)."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for name, part in table.groupby("event", sort=False):
        fig.add_scatter(x=part["period"], y=part["events_per_session"], name=name, mode="lines")
        flagged = part.loc[part["anomaly"]]
        if len(flagged):
            fig.add_scatter(
                x=flagged["period"],
                y=flagged["events_per_session"],
                name=_t(language, "anomaly", name=name),
                mode="markers",
                marker={"symbol": "x", "size": 10},
            )
    fig.update_layout(
        title=title or _t(language, "friction_title"),
        xaxis={"title": _t(language, "period")},
        yaxis={"title": _t(language, "per_session"), "rangemode": "tozero"},
        legend={"orientation": "h", "y": -0.2},
        margin={"l": 60, "r": 20, "t": 50, "b": 40},
        height=400,
    )
    return fig
