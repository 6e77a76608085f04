"""Devices: conversion by device, mobile share, cross-device journeys, mobile-assisted sales.

Definitions shared by every function here:

* A **session** is a ``customer_id`` x ``session_id`` pair. Its **device** is the device of its
  first event, events ordered by ``ts``, then event name, then device name (so a session that
  switches device mid-way still has exactly one device); its **start** is its first ``ts``.
* A session **converts** when it holds at least one ``conversion_event`` (``purchase`` by
  default); a customer converts when any of their sessions does.
* Device labels are compared as they are in the table (the canonical ones are ``mobile``,
  ``desktop``, ``tablet``, ``other``); a missing device is its own ``<NA>`` group.

Rates here are descriptive: customers choose their device, so a gap between devices mixes the
device's own effect with who uses it. :func:`device_gap` compares two devices crudely or within
strata (e.g. personas) with a Mantel-Haenszel estimate, which removes the mix of the strata.
"""

from __future__ import annotations

import math
import warnings
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from journeylib.engine import Engine, as_engine, query_customer_rows, query_customer_sums
from journeylib.sql import (
    check_choice,
    days_between,
    first_by,
    identifier,
    non_negative_days,
    require_columns,
)
from journeylib.timelag import NO_SEGMENT, segment_frame

if TYPE_CHECKING:  # pragma: no cover
    import plotly.graph_objects as go

_SESSION_COLUMNS = ("customer_id", "session_id", "ts", "event", "device")


def _sessions_sql(table: str, converters_only: bool = False) -> str:
    """CTE ``s``: one row per customer x session with start, device and first conversion time
    (only of customers who ever converted, when ``converters_only``)."""
    device = first_by("device", ("ts", "event", "device"))
    only = (
        f'AND customer_id IN (SELECT customer_id FROM "{table}" WHERE event = $conv)'
        if converters_only
        else ""
    )
    return f"""s AS (
            SELECT customer_id, session_id, MIN(ts) AS start_ts, {device} AS device,
                   MIN(CASE WHEN event = $conv THEN ts END) AS conversion_ts
            FROM "{table}"
            WHERE customer_id IS NOT NULL AND session_id IS NOT NULL AND ts IS NOT NULL {only}
            GROUP BY customer_id, session_id
        )"""


def _check_event(engine: Engine, table: str, conversion_event: str) -> bool:
    """Whether ``conversion_event`` occurs in ``table``; warns (at the caller's caller) if not."""
    if not isinstance(conversion_event, str) or not conversion_event:
        raise ValueError(
            f"conversion_event must be a non-empty event name; got {conversion_event!r}"
        )
    n = engine.scalar(
        f'SELECT COUNT(*) FROM "{table}" WHERE event = $conv', {"conv": conversion_event}
    )
    if not n:
        warnings.warn(
            f"conversion event {conversion_event!r} never occurs in table {table!r}: "
            "every conversion count is 0",
            stacklevel=3,
        )
    return bool(n)


def conversion_by_device(
    events: Engine | pd.DataFrame,
    *,
    level: Literal["session", "customer"] = "session",
    conversion_event: str = "purchase",
    by: pd.DataFrame | None = None,
    table: str = "events",
) -> pd.DataFrame:
    """Conversion rate per device, per session or per customer.

    Parameters
    ----------
    events
        An engine that can see ``table``, or an events frame (``customer_id``, ``session_id``,
        ``ts``, ``event``, ``device``); never modified.
    level
        ``"session"``: converting sessions / sessions, by session device. ``"customer"``: among
        customers with at least one session on the device, the share who converted (on any
        device: ``rate``) and who converted on that device (``rate_on_device``).
    conversion_event
        Event name that marks a conversion.
    by
        Optional segment frame (``customer_id`` + one segment column): rates per segment x
        device; customers missing from it are grouped as ``"(no segment)"``.
    table
        Name of the events table or view.

    Returns
    -------
    pandas.DataFrame
        One row per [segment x] device. Session level: ``device``, ``sessions``,
        ``converting_sessions``, ``rate``. Customer level: ``device``, ``customers``,
        ``converters``, ``rate``, ``converters_on_device``, ``rate_on_device``. A conversion
        event that never occurs gives zero conversions and a warning.
    """
    engine = as_engine(events, name=table)
    check_choice("level", level, ("session", "customer"))
    require_columns(engine, table, _SESSION_COLUMNS)
    _check_event(engine, table, conversion_event)
    if level == "session":
        per = """SELECT customer_id, device, COUNT(*) AS sessions,
                        SUM(CASE WHEN conversion_ts IS NOT NULL THEN 1 ELSE 0 END)
                            AS converting_sessions
                 FROM s GROUP BY customer_id, device"""
        sums = ["sessions", "converting_sessions"]
    else:
        per = """SELECT d.customer_id, d.device, 1 AS customers, c.converted AS converters,
                        d.converted AS converters_on_device
                 FROM (SELECT customer_id, device,
                              MAX(CASE WHEN conversion_ts IS NOT NULL THEN 1 ELSE 0 END)
                                  AS converted
                       FROM s GROUP BY customer_id, device) d
                 JOIN (SELECT customer_id,
                              MAX(CASE WHEN conversion_ts IS NOT NULL THEN 1 ELSE 0 END)
                                  AS converted
                       FROM s GROUP BY customer_id) c ON d.customer_id = c.customer_id"""
        sums = ["customers", "converters", "converters_on_device"]
    params = {"conv": conversion_event}
    head = f"WITH {_sessions_sql(table)}, per AS ({per})"
    if by is None:  # aggregate in the engine: only one row per device comes back
        out = query_customer_sums(
            engine,
            f"{head} SELECT device, {', '.join(f'SUM({c}) AS {c}' for c in sums)} "
            "FROM per GROUP BY device ORDER BY device",
            keys=["device"],
            params=params,
            table=table,
        )
        keys = ["device"]
    else:  # customer x device rows, joined to the segment frame here
        seg, column = segment_frame(by, {"device", *sums, "rate", "rate_on_device"})
        per_customer = query_customer_rows(
            engine, f"{head} SELECT * FROM per", params=params, table=table
        )
        per_customer = per_customer.astype({"customer_id": "string"}).merge(
            seg, on="customer_id", how="left"
        )
        per_customer[column] = per_customer[column].astype("string").fillna(NO_SEGMENT)
        keys = [column, "device"]
        out = per_customer.groupby(keys, dropna=False, sort=True)[sums].sum().reset_index()
    out[sums] = out[sums].astype("int64")
    out["rate"] = out[sums[1]] / out[sums[0]]
    if level == "customer":
        out["rate_on_device"] = out["converters_on_device"] / out["customers"]
        sums.insert(2, "rate")
        cols = [*keys, *sums, "rate_on_device"]
    else:
        cols = [*keys, *sums, "rate"]
    return out[cols].astype({"device": "string"})


def device_gap(
    table: pd.DataFrame,
    *,
    device: str = "desktop",
    baseline: str = "mobile",
    strata: str | None = None,
) -> pd.DataFrame:
    """Compare the conversion of two devices from a :func:`conversion_by_device` table.

    Without ``strata``: the crude log-odds ratio (Woolf 95% interval) and a pooled
    two-proportion z-test. With ``strata`` (the segment column of a ``by=`` table): the
    Mantel-Haenszel common odds ratio across strata, its Robins-Breslow-Greenland 95% interval
    and the Wald z-test of its log, i.e. the device gap *within* segments.

    The test assumes independent units, which holds for sessions. At customer level a
    customer who used both devices is in both groups, so there it is only indicative.

    Parameters
    ----------
    table
        Output of :func:`conversion_by_device` (either level).
    device, baseline
        The device compared and the reference device.
    strata
        Name of the segment column to stratify on, or ``None``.

    Returns
    -------
    pandas.DataFrame
        One row: ``device``, ``baseline``, ``rate``, ``baseline_rate`` (pooled over strata),
        ``log_odds_ratio``, ``ci_low``, ``ci_high``, ``z``, ``p_value``, ``method``.
    """
    n_col, x_col = ("sessions", "converting_sessions")
    if n_col not in table.columns:
        n_col, x_col = ("customers", "converters")

    def counts(label: str) -> pd.DataFrame:
        part = table[table["device"] == label]
        if strata is None:
            return part[[n_col, x_col]].sum().to_frame().T
        return part.groupby(strata, sort=True)[[n_col, x_col]].sum()

    both = counts(device).add_suffix("_1").join(counts(baseline).add_suffix("_0"), how="outer")
    both = both.fillna(0).astype(float)
    n1, x1 = both[f"{n_col}_1"], both[f"{x_col}_1"]
    n0, x0 = both[f"{n_col}_0"], both[f"{x_col}_0"]
    for label, n in ((device, n1), (baseline, n0)):
        if n.sum() == 0:
            raise ValueError(f"no {n_col} on device {label!r} in the table")
    a, b, c, d = x1, n1 - x1, x0, n0 - x0
    if strata is None:
        a, b, c, d = (float(v.sum()) for v in (a, b, c, d))
        p1, p0 = a / (a + b), c / (c + d)
        pooled = (a + c) / (a + b + c + d)
        se_z = math.sqrt(pooled * (1 - pooled) * (1 / (a + b) + 1 / (c + d)))
        z = (p1 - p0) / se_z if se_z > 0 else float("nan")
        log_or = _log_ratio(a * d, b * c)
        se = math.sqrt(sum(1 / v for v in (a, b, c, d))) if min(a, b, c, d) > 0 else math.inf
        method = "crude: pooled two-proportion z-test, Woolf interval"
    else:
        total = a + b + c + d
        keep = (n1 > 0) & (n0 > 0)
        a, b, c, d, total = (v[keep] for v in (a, b, c, d, total))
        r, s = a * d / total, b * c / total
        p, q = (a + d) / total, (b + c) / total
        log_or = _log_ratio(r.sum(), s.sum())
        if r.sum() > 0 and s.sum() > 0:
            var = (
                (p * r).sum() / (2 * r.sum() ** 2)
                + (p * s + q * r).sum() / (2 * r.sum() * s.sum())
                + (q * s).sum() / (2 * s.sum() ** 2)
            )
            se = math.sqrt(var)
        else:
            se = math.inf
        z = log_or / se if math.isfinite(se) else float("nan")
        p1, p0 = float(x1.sum() / n1.sum()), float(x0.sum() / n0.sum())
        method = f"Mantel-Haenszel over {strata} ({int(keep.sum())} strata), RGB interval"
    return pd.DataFrame(
        {
            "device": [device],
            "baseline": [baseline],
            "rate": [p1],
            "baseline_rate": [p0],
            "log_odds_ratio": [log_or],
            "ci_low": [log_or - 1.96 * se],
            "ci_high": [log_or + 1.96 * se],
            "z": [z],
            "p_value": [math.erfc(abs(z) / math.sqrt(2)) if math.isfinite(z) else float("nan")],
            "method": [method],
        }
    )


def mobile_share(
    events: Engine | pd.DataFrame,
    *,
    by: str = "event",
    mobile: str = "mobile",
    table: str = "events",
) -> pd.DataFrame:
    """Share of events and of sessions on mobile, per event name (or per value of ``by``).

    Point ``table`` at a view whose ``event`` column holds a journey stage to get the mobile
    share per stage.

    Parameters
    ----------
    events
        An engine that can see ``table``, or an events frame; never modified.
    by
        Column to group on (``event`` by default; any column but ``device``).
    mobile
        The device label that counts as mobile.
    table
        Name of the events table or view.

    Returns
    -------
    pandas.DataFrame
        One row per value of ``by``: ``events``, ``mobile_events``, ``event_share``
        (mobile_events / events, rows without a device counted as not mobile), ``sessions``
        (sessions with at least one such event), ``mobile_sessions`` (sessions with at least one
        such event on mobile), ``session_share``. Sorted by events, descending.
    """
    engine = as_engine(events, name=table)
    identifier(by, "column")
    if by == "device":
        raise ValueError("by='device' is meaningless for a mobile share; choose another column")
    require_columns(engine, table, ("customer_id", "session_id", "device", by))
    out = engine.query(
        f"""
        WITH x AS (
            SELECT "{by}" AS k, customer_id, session_id, COUNT(*) AS n,
                   SUM(CASE WHEN device = $mobile THEN 1 ELSE 0 END) AS n_mobile
            FROM "{table}" GROUP BY "{by}", customer_id, session_id
        )
        SELECT k, SUM(n) AS events, SUM(n_mobile) AS mobile_events, COUNT(*) AS sessions,
               SUM(CASE WHEN n_mobile > 0 THEN 1 ELSE 0 END) AS mobile_sessions
        FROM x GROUP BY k
        """,
        {"mobile": mobile},
    ).rename(columns={"k": by})
    counts = ["events", "mobile_events", "sessions", "mobile_sessions"]
    out[counts] = out[counts].astype("int64")
    out["event_share"] = out["mobile_events"] / out["events"]
    out["session_share"] = out["mobile_sessions"] / out["sessions"]
    cols = [by, "events", "mobile_events", "event_share", "sessions", "mobile_sessions"]
    out = out[[*cols, "session_share"]]
    return out.sort_values(["events", by], ascending=[False, True], ignore_index=True)


def cross_device(
    events: Engine | pd.DataFrame,
    *,
    conversion_event: str = "purchase",
    ignore_devices: tuple[str, ...] = ("other",),
    table: str = "events",
) -> pd.DataFrame:
    """Customers seen on one device vs on several, and how often each group converts.

    Parameters
    ----------
    events
        An engine that can see ``table``, or an events frame; never modified.
    conversion_event
        Event name that marks a conversion.
    ignore_devices
        Labels that do not count as a device (``other`` is an unrecognised raw label, not
        evidence of a second device); missing devices never count.
    table
        Name of the events table or view.

    Returns
    -------
    pandas.DataFrame
        One row per group: ``single_device``, ``cross_device`` (two or more devices) and, only
        if any, ``no_known_device``; columns ``group``, ``customers``, ``share`` (of all
        customers), ``converters``, ``conversion_rate``. Cross-device customers have more
        sessions, so their higher conversion is partly exposure, not the devices.
    """
    engine = as_engine(events, name=table)
    require_columns(engine, table, ("customer_id", "event", "device"))
    _check_event(engine, table, conversion_event)
    params: dict[str, Any] = {"conv": conversion_event}
    params |= {f"ig{i}": str(v) for i, v in enumerate(ignore_devices)}
    ignored = ", ".join(f"$ig{i}" for i in range(len(ignore_devices)))
    known = f"device IS NOT NULL AND device NOT IN ({ignored})" if ignored else "device IS NOT NULL"
    out = query_customer_sums(
        engine,
        f"""
        WITH c AS (
            SELECT customer_id,
                   COUNT(DISTINCT CASE WHEN {known} THEN device END) AS n_devices,
                   MAX(CASE WHEN event = $conv THEN 1 ELSE 0 END) AS converted
            FROM "{table}" WHERE customer_id IS NOT NULL GROUP BY customer_id
        )
        SELECT CASE WHEN n_devices >= 2 THEN 'cross_device'
                    WHEN n_devices = 1 THEN 'single_device'
                    ELSE 'no_known_device' END AS "group",
               COUNT(*) AS customers, SUM(converted) AS converters
        FROM c GROUP BY 1
        """,
        keys=["group"],
        params=params,
        table=table,
    )
    order = ["single_device", "cross_device", "no_known_device"]
    base = pd.DataFrame({"group": order[:2]})
    out = base.merge(out, on="group", how="outer").fillna({"customers": 0, "converters": 0})
    out["group"] = pd.Categorical(out["group"], categories=order, ordered=True)
    out = out.sort_values("group", ignore_index=True)
    out[["customers", "converters"]] = out[["customers", "converters"]].astype("int64")
    total = out["customers"].sum()
    out["share"] = out["customers"] / total if total else float("nan")
    out["conversion_rate"] = out["converters"] / out["customers"].where(out["customers"] > 0)
    out["group"] = out["group"].astype("string")
    return out[["group", "customers", "share", "converters", "conversion_rate"]]


def mobile_assisted_conversions(
    events: Engine | pd.DataFrame,
    *,
    conversion_event: str = "purchase",
    lookback_days: float = 30,
    mobile: str = "mobile",
    desktop: str = "desktop",
    table: str = "events",
) -> pd.DataFrame:
    """Desktop conversions preceded by a mobile session of the same customer.

    A **desktop conversion** is a converting session whose device is ``desktop``. It is
    **mobile-assisted** when the customer has a session on ``mobile`` that *starts before* the
    converting session starts and at most ``lookback_days`` (24-hour days, inclusive) earlier.
    A mobile session after the converting one, or older than the window, does not count.

    Parameters
    ----------
    events
        An engine that can see ``table``, or an events frame; never modified.
    conversion_event
        Event name that marks a conversion.
    lookback_days
        Window before the converting session's start, in days (default 30).
    mobile, desktop
        Device labels of the assisting and the converting device.
    table
        Name of the events table or view.

    Returns
    -------
    pandas.DataFrame
        One row: ``lookback_days``, ``desktop_conversions`` (converting desktop sessions),
        ``mobile_assisted`` (of them), ``share``, ``customers`` (with a desktop conversion),
        ``assisted_customers``. Zero conversions (``share`` NaN) and a warning when the event
        never occurs.
    """
    engine = as_engine(events, name=table)
    non_negative_days(lookback_days, "lookback_days")
    require_columns(engine, table, _SESSION_COLUMNS)
    _check_event(engine, table, conversion_event)
    row = (
        query_customer_sums(
            engine,
            f"""
        WITH {_sessions_sql(table, converters_only=True)},
        conv AS (
            SELECT customer_id, session_id, start_ts FROM s
            WHERE device = $desktop AND conversion_ts IS NOT NULL
        ),
        mob AS (SELECT customer_id, start_ts FROM s WHERE device = $mobile),
        flagged AS (
            SELECT conv.customer_id, conv.session_id,
                   MAX(CASE WHEN mob.start_ts < conv.start_ts
                             AND {days_between("mob.start_ts", "conv.start_ts")} <= $days
                            THEN 1 ELSE 0 END) AS assisted
            FROM conv LEFT JOIN mob ON mob.customer_id = conv.customer_id
            GROUP BY conv.customer_id, conv.session_id
        )
        SELECT COUNT(*) AS desktop_conversions, COALESCE(SUM(assisted), 0) AS mobile_assisted,
               COUNT(DISTINCT customer_id) AS customers,
               COUNT(DISTINCT CASE WHEN assisted = 1 THEN customer_id END) AS assisted_customers
        FROM flagged
        """,
            params={
                "conv": conversion_event,
                "mobile": mobile,
                "desktop": desktop,
                "days": float(lookback_days),
            },
            table=table,
        )
        .fillna(0)
        .iloc[0]
    )
    n, assisted = int(row["desktop_conversions"]), int(row["mobile_assisted"])
    return pd.DataFrame(
        {
            "lookback_days": [float(lookback_days)],
            "desktop_conversions": [n],
            "mobile_assisted": [assisted],
            "share": [assisted / n if n else float("nan")],
            "customers": [int(row["customers"])],
            "assisted_customers": [int(row["assisted_customers"])],
        }
    )


#: Chart text in each report language.
_TEXT: dict[str, dict[str, str]] = {
    "en": {
        "sessions": "sessions",
        "customers": "customers",
        "all": "all",
        "rate_hover": "%{{x}}: %{{y:.2%}} of %{{customdata:,}} {level}<extra></extra>",
        "rate_title": "Conversion rate by device ({level})",
        "device": "device",
        "rate": "conversion rate",
        "mobile_title": "Share of sessions on mobile by {key}",
        "mobile_x": "sessions on mobile",
        "cross_hover": "%{x}: %{y:.1%} of %{customdata:,} customers<extra></extra>",
        "cross_title": "Conversion of single- vs cross-device customers",
        "cross_x": "customers seen on",
        "cross_y": "share who converted",
    },
    "id": {
        "sessions": "sesi",
        "customers": "pelanggan",
        "all": "semua",
        "rate_hover": "%{{x}}: %{{y:.2%}} dari %{{customdata:,}} {level}<extra></extra>",
        "rate_title": "Tingkat konversi per perangkat ({level})",
        "device": "perangkat",
        "rate": "tingkat konversi",
        "mobile_title": "Porsi sesi dari perangkat mobile menurut {key}",
        "mobile_x": "sesi dari perangkat mobile",
        "cross_hover": "%{x}: %{y:.1%} dari %{customdata:,} pelanggan<extra></extra>",
        "cross_title": "Konversi pelanggan satu perangkat vs lintas perangkat",
        "cross_x": "pelanggan terlihat di",
        "cross_y": "porsi yang berkonversi",
    },
}
#: Column and group names in Indonesian chart text (other names are shown as they are).
_WORDS_ID = {
    "event": "event",
    "stage": "tahap",
    "channel": "kanal",
    "device": "perangkat",
    "single_device": "satu perangkat",
    "cross_device": "lintas perangkat",
    "no_known_device": "perangkat tidak diketahui",
}


def _t(language: str, key: str, /, **values: object) -> str:
    text = _TEXT.get(language, _TEXT["en"])[key]
    return text.format(**values) if values else text


def _word(name: object, language: str) -> str:
    return _WORDS_ID.get(str(name), str(name)) if language == "id" else str(name)


def plot_conversion_by_device(table: pd.DataFrame, *, language: str = "en") -> go.Figure:
    """Bars of :func:`conversion_by_device` (one colour per segment when it has one); text in
    ``language`` (``en`` or ``id``)."""
    import plotly.graph_objects as go

    level = "sessions" if "sessions" in table.columns else "customers"
    group = next((c for c in table.columns[: list(table.columns).index("device")]), None)
    parts = table.groupby(group, sort=True) if group else [((_t(language, "all"),), table)]
    fig = go.Figure()
    for name, part in parts:
        fig.add_bar(
            x=part["device"].astype(str),
            y=part["rate"],
            name=str(name[0] if isinstance(name, tuple) else name),
            text=[f"{r:.1%}" for r in part["rate"]],
            textposition="auto",
            customdata=part[level],
            hovertemplate=_t(language, "rate_hover", level=_t(language, level)),
        )
    fig.update_layout(
        title=_t(language, "rate_title", level=_t(language, level)),
        barmode="group",
        showlegend=group is not None,
        xaxis={"title": _t(language, "device")},
        yaxis={"title": _t(language, "rate"), "tickformat": ".1%", "rangemode": "tozero"},
        margin={"l": 60, "r": 20, "t": 50, "b": 40},
        height=380,
    )
    return fig


def plot_mobile_share(table: pd.DataFrame, *, language: str = "en") -> go.Figure:
    """Horizontal bars of :func:`mobile_share`: share of sessions on mobile per event/stage;
    text in ``language`` (``en`` or ``id``)."""
    import plotly.graph_objects as go

    key = table.columns[0]
    data = table.iloc[::-1]
    fig = go.Figure(
        go.Bar(
            x=data["session_share"],
            y=data[key].astype(str),
            orientation="h",
            text=[f"{s:.0%}" for s in data["session_share"]],
            textposition="auto",
        )
    )
    fig.update_layout(
        title=_t(language, "mobile_title", key=_word(key, language)),
        xaxis={"title": _t(language, "mobile_x"), "tickformat": ".0%", "range": [0, 1]},
        yaxis={"title": _word(key, language)},
        margin={"l": 140, "r": 20, "t": 50, "b": 40},
        height=100 + 26 * len(data),
    )
    return fig


def plot_cross_device(table: pd.DataFrame, *, language: str = "en") -> go.Figure:
    """Bars of :func:`cross_device`: conversion rate of single- vs cross-device customers; text
    in ``language`` (``en`` or ``id``)."""
    import plotly.graph_objects as go

    fig = go.Figure(
        go.Bar(
            x=[_word(g, language) for g in table["group"].astype(str)],
            y=table["conversion_rate"],
            text=[f"{r:.1%}" for r in table["conversion_rate"].fillna(0)],
            textposition="auto",
            customdata=table["customers"],
            hovertemplate=_t(language, "cross_hover"),
        )
    )
    fig.update_layout(
        title=_t(language, "cross_title"),
        xaxis={"title": _t(language, "cross_x")},
        yaxis={"title": _t(language, "cross_y"), "tickformat": ".0%", "rangemode": "tozero"},
        margin={"l": 60, "r": 20, "t": 50, "b": 40},
        height=360,
    )
    return fig


def _log_ratio(num: float, den: float) -> float:
    if num > 0 and den > 0:
        return math.log(num / den)
    return math.inf if num > 0 else -math.inf if den > 0 else float("nan")
