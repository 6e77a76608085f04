"""Data quality: the tables behind ``00_data_quality`` (and the report's appendix).

Every function returns a tidy DataFrame with its grain stated; the notebook only displays and
saves them. Counts of rows come from the engine (so they scale to event-level volumes); the
non-fatal issues come from the ingest manifest written by :func:`journeylib.io.prepare`.
"""

from __future__ import annotations

import pandas as pd

from journeylib.engine import Engine
from journeylib.schema import TABLES
from journeylib.sql import quote, table_columns

#: (table, timestamp column) pairs summarised by :func:`table_overview`.
_TIME_COLUMNS = {
    "customers": "first_seen",
    "events": "ts",
    "orders": "ts",
    "feedback": "ts",
    "spend": "date",
}


def table_overview(engine: Engine, manifest: dict) -> pd.DataFrame:
    """One row per processed table: rows read, rows kept, customers, first and last timestamp."""
    files = manifest.get("files", {})
    rows = []
    for name in engine.tables():
        if name not in TABLES:  # derived indexes (event timelines) are not data the client sent
            continue
        tcol = _TIME_COLUMNS.get(name)
        cols = set(table_columns(engine, name).columns)
        cust = "COUNT(DISTINCT customer_id)" if "customer_id" in cols else "NULL"
        span = f"MIN({tcol}), MAX({tcol})" if tcol and tcol in cols else "NULL, NULL"
        n, ncust, first, last = engine.query(
            f"SELECT COUNT(*), {cust}, {span} FROM {quote(name, 'table')}"
        ).iloc[0]
        rows.append(
            {
                "table": name,
                "source_file": files.get(name, {}).get("file"),
                "rows_read": files.get(name, {}).get("rows_read"),
                "rows_kept": int(n),
                "customers": None if pd.isna(ncust) else int(ncust),
                "first": first,
                "last": last,
            }
        )
    out = pd.DataFrame(rows)
    out["rows_read"] = out["rows_read"].astype("Int64")
    out["customers"] = out["customers"].astype("Int64")
    for c in ("first", "last"):  # spend dates are naive calendar days: read them as UTC midnight
        out[c] = pd.to_datetime(out[c], utc=True).astype("datetime64[us, UTC]")
    return out


def issues(manifest: dict) -> pd.DataFrame:
    """One row per non-fatal issue found at ingest (duplicates dropped, labels mapped, ...)."""
    cols = ["table", "column", "check", "count", "action"]
    notices = manifest.get("notices", [])
    if not notices:
        return pd.DataFrame(columns=cols)
    return pd.DataFrame(notices)[cols].sort_values(["table", "check"], ignore_index=True)


def unknown_labels(manifest: dict) -> pd.DataFrame:
    """One row per raw label that matched no alias (table, column, label, rows).

    Labels are channel/device names from the client's tracking setup, not personal data; they
    are listed so the mapping in the config can be completed.
    """
    rows = [
        {"table": n["table"], "column": n["column"], "label": label, "rows": count}
        for n in manifest.get("notices", [])
        for label, count in n.get("detail", {}).get("labels", {}).items()
    ]
    return pd.DataFrame(rows, columns=["table", "column", "label", "rows"])


def identity_coverage(manifest: dict) -> pd.DataFrame:
    """One row per source resolved through the identity map: records matched and their share."""
    cov = pd.DataFrame(
        manifest.get("identity", []),
        columns=["table", "source", "records", "matched", "ids", "unmatched_ids"],
    )
    cov["matched_share"] = (cov["matched"] / cov["records"]).where(cov["records"] > 0)
    return cov


def completeness(engine: Engine, table: str) -> pd.DataFrame:
    """One row per column of ``table``: non-null count and share."""
    cols = list(table_columns(engine, table).columns)
    if not cols:
        return pd.DataFrame(columns=["column", "non_null", "share"])
    exprs = ", ".join(f'COUNT("{c}") AS "{c}"' for c in cols)
    counts = engine.query(f'SELECT COUNT(*) AS __n, {exprs} FROM "{table}"').iloc[0]
    n = int(counts["__n"])
    return pd.DataFrame(
        {
            "column": cols,
            "non_null": [int(counts[c]) for c in cols],
            "share": [int(counts[c]) / n if n else float("nan") for c in cols],
        }
    )


def daily_volume(engine: Engine) -> pd.DataFrame:
    """One row per UTC day with activity: events, sessions, customers, orders and revenue.

    Days without any event are included with zeros, so tracking gaps show up as holes.
    """
    return engine.query(
        """
        WITH days AS (
            SELECT CAST(range AS DATE) AS day
            FROM range(
                (SELECT CAST(MIN(ts) AS DATE) FROM events),
                (SELECT CAST(MAX(ts) AS DATE) FROM events) + INTERVAL 1 DAY,
                INTERVAL 1 DAY)
        ),
        ev AS (
            SELECT CAST(ts AS DATE) AS day, COUNT(*) AS events,
                   COUNT(DISTINCT session_id) AS sessions, COUNT(DISTINCT customer_id) AS customers
            FROM events GROUP BY 1
        ),
        od AS (
            SELECT CAST(ts AS DATE) AS day, COUNT(DISTINCT order_id) AS orders,
                   SUM(revenue) AS revenue
            FROM orders GROUP BY 1
        )
        SELECT days.day,
               COALESCE(ev.events, 0) AS events, COALESCE(ev.sessions, 0) AS sessions,
               COALESCE(ev.customers, 0) AS customers, COALESCE(od.orders, 0) AS orders,
               COALESCE(od.revenue, 0) AS revenue
        FROM days LEFT JOIN ev USING (day) LEFT JOIN od USING (day)
        ORDER BY days.day
        """
    )


def label_mix(engine: Engine, column: str) -> pd.DataFrame:
    """One row per value of ``events.<column>`` (channel or device): events, sessions, share."""
    if column not in {"channel", "device", "event"}:
        raise ValueError("column must be channel, device or event")
    return engine.query(
        f"""
        SELECT {column}, COUNT(*) AS events, COUNT(DISTINCT session_id) AS sessions,
               COUNT(*) / SUM(COUNT(*)) OVER () AS share
        FROM events GROUP BY 1 ORDER BY events DESC, {column}
        """
    )


def summary(
    overview: pd.DataFrame, issue_table: pd.DataFrame, coverage: pd.DataFrame, report=None
) -> list[str]:  # noqa: ANN001 - ReportSpec
    """Sentences that summarise the data quality, each computed from the tables above."""
    from journeylib.display import fmt_number, fmt_pct

    ov = overview.set_index("table")
    lines = []
    if "customers" in ov.index:
        lines.append(f"{fmt_number(ov.loc['customers', 'rows_kept'], report)} customers.")
    if "events" in ov.index and ov.loc["events", "rows_kept"] > 0:
        e = ov.loc["events"]
        lines.append(
            f"{fmt_number(e['rows_kept'], report)} events from {fmt_number(e['customers'], report)} "
            f"customers between {e['first']:%Y-%m-%d} and {e['last']:%Y-%m-%d} (UTC)."
        )
    elif "events" in ov.index:
        lines.append("No web or app events: the analyses that need them have nothing to show.")
    if "orders" in ov.index and ov.loc["orders", "rows_kept"] > 0:
        o = ov.loc["orders"]
        lines.append(
            f"{fmt_number(o['rows_kept'], report)} order lines from "
            f"{fmt_number(o['customers'], report)} customers."
        )
    dropped = issue_table.loc[issue_table["action"].eq("dropped"), "count"].sum()
    read = pd.to_numeric(ov["rows_read"], errors="coerce").sum()
    lines.append(
        f"{fmt_number(dropped, report)} of {fmt_number(read, report)} raw rows were dropped "
        f"({fmt_pct(dropped / read if read else float('nan'), report)}); every other issue was "
        "repaired in place and is listed below."
    )
    for row in coverage.itertuples():
        lines.append(
            f"{fmt_pct(row.matched_share, report)} of {row.table} records ({row.source} ids) were "
            f"matched to a known customer; {fmt_number(row.unmatched_ids, report)} "
            f"{row.source} ids stayed anonymous."
        )
    return lines


def plot_daily_volume(daily: pd.DataFrame):  # noqa: ANN201 - plotly Figure
    """Line chart of :func:`daily_volume`: sessions and orders per day."""
    import plotly.graph_objects as go

    fig = go.Figure()
    fig.add_scatter(x=daily["day"], y=daily["sessions"], name="sessions", mode="lines")
    fig.add_scatter(x=daily["day"], y=daily["orders"], name="orders", mode="lines", yaxis="y2")
    fig.update_layout(
        title="Sessions and orders per day",
        yaxis={"title": "sessions", "rangemode": "tozero"},
        yaxis2={"title": "orders", "overlaying": "y", "side": "right", "rangemode": "tozero"},
        legend={"orientation": "h", "y": -0.2},
        margin={"l": 60, "r": 60, "t": 50, "b": 40},
        height=380,
    )
    return fig


def plot_mix(mix: pd.DataFrame, column: str):  # noqa: ANN201 - plotly Figure
    """Horizontal bar chart of :func:`label_mix`: share of events per label."""
    import plotly.graph_objects as go

    data = mix.sort_values("events")
    fig = go.Figure(
        go.Bar(
            x=data["share"],
            y=data[column],
            orientation="h",
            text=[f"{s:.1%}" for s in data["share"]],
            textposition="auto",
        )
    )
    fig.update_layout(
        title=f"Events by {column}",
        xaxis={"tickformat": ".0%"},
        margin={"l": 120, "r": 20, "t": 50, "b": 40},
        height=80 + 28 * len(data),
    )
    return fig
