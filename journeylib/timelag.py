"""Time lag and path length to conversion (the multi-channel "Time Lag" and "Path Length" reports).

For each customer who converted, the path runs from their **first touch** (first event in the
table) to their **conversion** (first ``conversion_event``, ``purchase`` by default), both
inclusive. Events of a customer are ordered by ``ts``, then event name, then ``session_id``,
``channel`` and ``device`` (when the table has them): that order decides which event is "first"
when timestamps tie, and rows equal on all of these are interchangeable for every number here.

* **time lag**: days from first touch to conversion, as whole elapsed 24-hour days (a conversion
  23 hours after the first touch is day 0), bucketed as 0, 1, ..., 11, 12-30, 31-60, 61-90 and
  91+ days (the Universal Analytics buckets, with 90+ made non-overlapping);
* **path length**: sessions (distinct ``session_id`` with an event in the path, the converting
  one included) or events (all events in the path, the conversion included) up to conversion,
  bucketed 1, 2, ..., 11, 12+.

Customers who never converted are not in these reports. ``by`` splits them by the channel or
device of the first touch (``"channel"``, ``"device"``) or of the conversion
(``"conversion_channel"``, ``"conversion_device"``), or by a segment frame (``customer_id`` plus
one segment column; converters missing from it are labelled ``"(no segment)"``).
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from journeylib.engine import Engine, as_engine, kept, query_customer_rows
from journeylib.sql import check_choice, days_between, empty_frame, require_columns

if TYPE_CHECKING:  # pragma: no cover
    import plotly.graph_objects as go

LAG_BUCKETS: tuple[str, ...] = (*(str(d) for d in range(12)), "12-30", "31-60", "61-90", "91+")
PATH_BUCKETS: tuple[str, ...] = (*(str(n) for n in range(1, 12)), "12+")
#: ``by`` names and the column of :func:`conversion_lags` they group on.
BY_COLUMNS: dict[str, str] = {
    "channel": "first_channel",
    "device": "first_device",
    "conversion_channel": "conversion_channel",
    "conversion_device": "conversion_device",
}
NO_SEGMENT = "(no segment)"

_LAG_COLUMNS = {
    "customer_id": "string",
    "first_touch_ts": "datetime64[us, UTC]",
    "conversion_ts": "datetime64[us, UTC]",
    "lag_days": "float64",
    "events_to_conversion": "int64",
    "sessions_to_conversion": "Int64",
    "first_channel": "string",
    "first_device": "string",
    "conversion_channel": "string",
    "conversion_device": "string",
}
_TIE_BREAKERS = ("event", "session_id", "channel", "device")

By = str | pd.DataFrame | None


def conversion_lags(
    events: Engine | pd.DataFrame,
    *,
    conversion_event: str = "purchase",
    table: str = "events",
) -> pd.DataFrame:
    """Each converting customer's path from first touch to first conversion.

    Parameters
    ----------
    events
        An engine that can see ``table``, or an events frame (``customer_id``, ``ts``,
        ``event``; ``session_id``, ``channel``, ``device`` used when present); never modified.
    conversion_event
        Event name that marks a conversion.
    table
        Name of the events table or view (e.g. a view whose ``event`` holds a stage).

    Returns
    -------
    pandas.DataFrame
        One row per customer_id who converted: ``first_touch_ts``, ``conversion_ts``,
        ``lag_days`` (fractional days between them), ``events_to_conversion``,
        ``sessions_to_conversion`` (``<NA>`` without ``session_id``), ``first_channel``,
        ``first_device``, ``conversion_channel``, ``conversion_device`` (``<NA>`` when the table
        lacks the column). Empty, with a warning, when the event never occurs.
    """
    return _lags(events, conversion_event, table)


def _lags(events: Engine | pd.DataFrame, conversion_event: str, table: str) -> pd.DataFrame:
    """:func:`conversion_lags`, warning at the caller of the public function."""
    engine = as_engine(events, name=table)
    if not isinstance(conversion_event, str) or not conversion_event:
        raise ValueError(
            f"conversion_event must be a non-empty event name; got {conversion_event!r}"
        )
    cols = require_columns(engine, table, ("customer_id", "ts", "event")).columns
    order = ", ".join(["ts", *(c for c in _TIE_BREAKERS if c in cols)])
    col = {
        c: (c if c in cols else "CAST(NULL AS VARCHAR)")
        for c in ("session_id", "channel", "device")
    }
    sessions = "COUNT(DISTINCT session_id)" if "session_id" in cols else "CAST(NULL AS BIGINT)"
    sql = f"""
        WITH conv_customers AS (
            SELECT DISTINCT customer_id FROM "{table}" WHERE event = $conv AND ts IS NOT NULL
        ),
        e AS (
            SELECT customer_id, ts, event, {col["session_id"]} AS session_id,
                   {col["channel"]} AS channel, {col["device"]} AS device,
                   ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY {order}) AS rn
            FROM "{table}"
            WHERE ts IS NOT NULL AND customer_id IN (SELECT customer_id FROM conv_customers)
        ),
        conv AS (SELECT customer_id, MIN(rn) AS conv_rn FROM e WHERE event = $conv GROUP BY 1),
        path AS (
            SELECT e.customer_id, conv.conv_rn,
                   MAX(CASE WHEN rn = 1 THEN ts END) AS first_touch_ts,
                   MAX(CASE WHEN rn = conv.conv_rn THEN ts END) AS conversion_ts,
                   {sessions} AS sessions_to_conversion,
                   MAX(CASE WHEN rn = 1 THEN channel END) AS first_channel,
                   MAX(CASE WHEN rn = 1 THEN device END) AS first_device,
                   MAX(CASE WHEN rn = conv.conv_rn THEN channel END) AS conversion_channel,
                   MAX(CASE WHEN rn = conv.conv_rn THEN device END) AS conversion_device
            FROM e JOIN conv ON e.customer_id = conv.customer_id
            WHERE e.rn <= conv.conv_rn
            GROUP BY e.customer_id, conv.conv_rn
        )
        SELECT customer_id, first_touch_ts, conversion_ts,
               {days_between("first_touch_ts", "conversion_ts")} AS lag_days,
               conv_rn AS events_to_conversion, sessions_to_conversion,
               first_channel, first_device, conversion_channel, conversion_device
        FROM path ORDER BY customer_id
        """
    params = {"conv": conversion_event}
    if table == "events":
        # every aggregate is per customer: above 30M events it runs in passes over customer
        # ranges; a run asks for it four times (time lag, path length, summary, KPI): kept once
        out = kept(
            engine,
            "conversion_lags",
            (sql, conversion_event),
            lambda: query_customer_rows(engine, sql, params=params, table=table),
            tables=("events",),
        )
    else:
        out = engine.query(sql, params)
    if out.empty:
        warnings.warn(
            f"conversion event {conversion_event!r} never occurs in table {table!r}: "
            "the result is empty",
            stacklevel=3,
        )
        return empty_frame(_LAG_COLUMNS)
    return out.astype(_LAG_COLUMNS)


def time_lag(
    events: Engine | pd.DataFrame,
    *,
    conversion_event: str = "purchase",
    by: By = None,
    table: str = "events",
) -> pd.DataFrame:
    """Distribution of days from first touch to conversion, in the buckets of the module doc.

    Parameters
    ----------
    events
        An engine that can see ``table``, or an events frame; never modified.
    conversion_event
        Event name that marks a conversion.
    by
        ``None``, ``"channel"``, ``"device"``, ``"conversion_channel"``,
        ``"conversion_device"``, or a segment frame (``customer_id`` + one column).
    table
        Name of the events table or view.

    Returns
    -------
    pandas.DataFrame
        One row per [group x] lag bucket, every bucket included: the group column (named
        ``first_channel``, ..., or after the segment column; absent when ``by`` is ``None``),
        ``bucket`` (ordered categorical), ``conversions``, ``share`` of the group's conversions
        and ``cumulative_share``. Empty, with a warning, when the event never occurs.
    """
    lags = _lags(events, conversion_event, table)
    labels = [lag_bucket(d) for d in lags["lag_days"]]
    return _distribution(lags, labels, LAG_BUCKETS, by)


def path_length(
    events: Engine | pd.DataFrame,
    *,
    conversion_event: str = "purchase",
    unit: Literal["sessions", "events"] = "sessions",
    by: By = None,
    table: str = "events",
) -> pd.DataFrame:
    """Distribution of path length (sessions or events up to conversion), buckets 1 ... 12+.

    Parameters
    ----------
    events
        An engine that can see ``table``, or an events frame; never modified.
    conversion_event
        Event name that marks a conversion.
    unit
        ``"sessions"`` (needs ``session_id``; a session is one channel touch) or ``"events"``.
    by
        As in :func:`time_lag`.
    table
        Name of the events table or view.

    Returns
    -------
    pandas.DataFrame
        One row per [group x] length bucket, every bucket included: [group column], ``bucket``
        (ordered categorical ``1`` ... ``12+``), ``conversions``, ``share``,
        ``cumulative_share``. Empty, with a warning, when the event never occurs.
    """
    check_choice("unit", unit, ("sessions", "events"))
    lags = _lags(events, conversion_event, table)
    counts = lags[f"{unit}_to_conversion"]
    if len(lags) and counts.isna().all():
        raise ValueError(f"path length in sessions needs a session_id column in table {table!r}")
    n = counts.to_numpy(dtype=float, na_value=np.nan)
    labels = [PATH_BUCKETS[int(min(v, 12)) - 1] for v in n]
    return _distribution(lags, labels, PATH_BUCKETS, by)


def time_lag_summary(
    events: Engine | pd.DataFrame,
    *,
    conversion_event: str = "purchase",
    by: By = None,
    table: str = "events",
) -> pd.DataFrame:
    """Location of the time lag and path length per group.

    Returns
    -------
    pandas.DataFrame
        One row per group (one row in all when ``by`` is ``None``): [group column],
        ``conversions``, ``mean_days``, ``median_days``, ``p90_days`` (fractional days),
        ``median_sessions`` and ``median_events`` to conversion.
    """
    lags = _lags(events, conversion_event, table)
    lags, group = _with_group(lags, by)
    keys = [group] if group else np.zeros(len(lags), dtype=int)
    g = lags.groupby(keys, dropna=False, sort=True)
    out = pd.DataFrame(
        {
            "conversions": g.size(),
            "mean_days": g["lag_days"].mean(),
            "median_days": g["lag_days"].median(),
            "p90_days": g["lag_days"].quantile(0.9),
            "median_sessions": g["sessions_to_conversion"].median(),
            "median_events": g["events_to_conversion"].median(),
        }
    )
    return out.reset_index() if group else out.reset_index(drop=True)


#: Chart text in each report language.
_TEXT: dict[str, dict[str, str]] = {
    "en": {
        "lag_title": "Days from first touch to conversion",
        "days": "days",
        "length_title": "Path length to conversion",
        "touches": "touches in the path",
        "share": "share of conversions",
        "all": "all conversions",
        "hover": "%{x}: %{y:.1%} (%{customdata:,} conversions)<extra></extra>",
    },
    "id": {
        "lag_title": "Hari dari sentuhan pertama hingga konversi",
        "days": "hari",
        "length_title": "Panjang jalur hingga konversi",
        "touches": "sentuhan dalam jalur",
        "share": "porsi konversi",
        "all": "semua konversi",
        "hover": "%{x}: %{y:.1%} (%{customdata:,} konversi)<extra></extra>",
    },
}


def _t(language: str, key: str) -> str:
    return _TEXT.get(language, _TEXT["en"])[key]


def plot_time_lag(table: pd.DataFrame, *, language: str = "en") -> go.Figure:
    """Bars of :func:`time_lag`: share of conversions per day bucket (one colour per group);
    text in ``language`` (``en`` or ``id``)."""
    return _plot_distribution(
        table, _t(language, "lag_title"), _t(language, "days"), language=language
    )


def plot_path_length(table: pd.DataFrame, *, language: str = "en") -> go.Figure:
    """Bars of :func:`path_length`: share of conversions per path-length bucket; text in
    ``language`` (``en`` or ``id``)."""
    return _plot_distribution(
        table, _t(language, "length_title"), _t(language, "touches"), language=language
    )


def lag_bucket(days: float) -> str:
    """The time-lag bucket of a lag in fractional days (whole elapsed days, see module doc).

    >>> [lag_bucket(x) for x in (0.9, 11.99, 12.0, 30.5, 31.0, 90.9, 91.0)]
    ['0', '11', '12-30', '12-30', '31-60', '61-90', '91+']
    """
    d = int(np.floor(days))
    if d < 12:
        return str(d)
    return "12-30" if d <= 30 else "31-60" if d <= 60 else "61-90" if d <= 90 else "91+"


def segment_frame(by: pd.DataFrame, reserved: set[str]) -> tuple[pd.DataFrame, str]:
    """A validated segment frame (``customer_id`` as string + one segment column) and its name.

    The ``by=`` frames of this module and :mod:`journeylib.devices`; ``reserved`` are the result
    columns the segment column must not shadow. Customers missing from it are labelled
    :data:`NO_SEGMENT` by the caller.
    """
    if not isinstance(by, pd.DataFrame):
        raise TypeError(f"by must be a segment DataFrame or None; got {type(by).__name__}")
    others = [c for c in by.columns if c != "customer_id"]
    if "customer_id" not in by.columns or len(others) != 1:
        raise ValueError("a segment frame needs customer_id and exactly one segment column")
    if by["customer_id"].duplicated().any():
        raise ValueError("a segment frame must have one row per customer_id")
    if others[0] in reserved:
        raise ValueError(f"segment column {others[0]!r} clashes with a result column")
    return by[["customer_id", others[0]]].astype({"customer_id": "string"}), others[0]


def _with_group(lags: pd.DataFrame, by: By) -> tuple[pd.DataFrame, str | None]:
    """``lags`` with the ``by`` grouping column, and that column's name (``None``: no group)."""
    if by is None:
        return lags, None
    if isinstance(by, str):
        check_choice("by", by, tuple(BY_COLUMNS))
        column = BY_COLUMNS[by]
        if len(lags) and lags[column].isna().all():
            raise ValueError(f"by={by!r} needs the {by.split('_')[-1]} column in the events table")
        return lags, column
    if isinstance(by, pd.DataFrame):
        seg, column = segment_frame(by, {*lags.columns, "bucket", "conversions", "share"})
        out = lags.merge(seg, on="customer_id", how="left", validate="one_to_one")
        out[column] = out[column].astype("string").fillna(NO_SEGMENT)
        return out, column
    raise TypeError(f"by must be None, a name or a segment DataFrame; got {type(by).__name__}")


def _distribution(
    lags: pd.DataFrame, labels: object, buckets: tuple[str, ...], by: By
) -> pd.DataFrame:
    """One row per [group x] bucket: conversions, share and cumulative share of the group."""
    lags, group = _with_group(lags, by)
    if lags.empty:  # conversion_lags has already warned
        cols = {"bucket": pd.CategoricalDtype(buckets, ordered=True), "conversions": "int64"}
        cols |= {"share": "float64", "cumulative_share": "float64"}
        return empty_frame(({group: "string"} if group else {}) | cols)
    frame = lags.assign(bucket=pd.Categorical(labels, categories=buckets, ordered=True))
    keys = [group, "bucket"] if group else ["bucket"]
    out = (
        frame.groupby(keys, observed=False, dropna=False, sort=True)
        .size()
        .rename("conversions")
        .reset_index()
    )
    out["conversions"] = out["conversions"].astype("int64")
    totals = (
        out.groupby(group)["conversions"].transform("sum") if group else out["conversions"].sum()
    )
    out["share"] = out["conversions"] / totals
    cum = out.groupby(group)["conversions"].cumsum() if group else out["conversions"].cumsum()
    out["cumulative_share"] = cum / totals
    return out


def _plot_distribution(
    table: pd.DataFrame, title: str, xtitle: str, *, language: str = "en"
) -> go.Figure:
    import plotly.graph_objects as go

    group = next((c for c in table.columns[: list(table.columns).index("bucket")]), None)
    fig = go.Figure()
    parts = table.groupby(group, sort=True) if group else [(_t(language, "all"), table)]
    for name, part in parts:
        fig.add_bar(
            x=part["bucket"].astype(str),
            y=part["share"],
            name=str(name[0] if isinstance(name, tuple) else name),
            customdata=part["conversions"],
            hovertemplate=_t(language, "hover"),
        )
    fig.update_layout(
        title=title,
        barmode="group",
        xaxis={"title": xtitle, "type": "category"},
        yaxis={"title": _t(language, "share"), "tickformat": ".0%", "rangemode": "tozero"},
        legend={"orientation": "h", "y": -0.2},
        showlegend=group is not None,
        margin={"l": 60, "r": 20, "t": 50, "b": 40},
        height=400,
    )
    return fig
