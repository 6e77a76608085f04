"""Data quality: the tables behind ``00_data_quality`` (and the report's appendix).

Every function returns a tidy DataFrame with its grain stated; the notebook only displays and
saves them. Counts of rows come from the engine (so they scale to event-level volumes); the
non-fatal issues come from the ingest manifest written by :func:`journeylib.io.prepare`.
"""

from __future__ import annotations

import re

import pandas as pd

from journeylib.engine import Engine, query_customer_sums
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


def issues(manifest: dict, *, language: str = "en") -> pd.DataFrame:
    """One row per non-fatal issue found at ingest (duplicates dropped, labels mapped, ...).

    ``language="id"`` writes the ``check`` and ``action`` texts in Bahasa Indonesia
    (:func:`issue_text`); table and column names stay as they are.
    """
    cols = ["table", "column", "check", "count", "action"]
    notices = manifest.get("notices", [])
    if not notices:
        return pd.DataFrame(columns=cols)
    out = pd.DataFrame(notices)[cols].sort_values(["table", "check"], ignore_index=True)
    if language != "en":
        out["check"] = [issue_text(v, language=language) for v in out["check"]]
        out["action"] = [issue_text(v, language=language) for v in out["action"]]
    return out


#: The check and action texts of the ingest notices (journeylib.io, journeylib.coltypes) in
#: Bahasa Indonesia: (pattern of the English text, template of the translation). ``{0}`` is the
#: pattern's group: a column or label name, a quoted value or a separator, kept as it is except
#: for the column words of :data:`_COLUMN_WORDS`.
_ISSUE_TEXT_ID: tuple[tuple[str, str], ...] = (
    (r"customers found only in activity tables", "pelanggan yang hanya ada di tabel aktivitas"),
    (r"duplicate rows", "baris duplikat"),
    (r"unknown (\w+) label", "label {0} tidak dikenal"),
    (r"missing (\w+)", "{0} kosong"),
    (r"e-mail or phone number in free text", "alamat e-mail atau nomor telepon dalam teks bebas"),
    (r"outside the configured window", "di luar jendela waktu yang dikonfigurasi"),
    (r"blank value", "nilai kosong"),
    (r"not a number", "bukan angka"),
    (r"not a whole number", "bukan bilangan bulat"),
    (r"not a yes/no value", "bukan nilai ya/tidak"),
    (r"unparseable date", "tanggal tidak dapat dibaca"),
    (r"every decimal part has three digits", "setiap bagian desimal terdiri atas tiga digit"),
    (r"no source in the config", "tidak ada sumber di konfigurasi"),
    (r"dropped", "dihapus"),
    (r"mapped to ('[^']*')", "dipetakan ke {0}"),
    (r"set to ('[^']*')", "diisi {0}"),
    (r"added \(first_seen = first activity\)", "ditambahkan (first_seen = aktivitas pertama)"),
    (r"redacted", "disamarkan"),
    (r"set to missing", "dikosongkan"),
    (r"read as missing", "dibaca sebagai kosong"),
    (
        r"read with ('[^']*') as decimal separator; check `decimal:` on this source",
        "dibaca dengan {0} sebagai pemisah desimal; periksa `decimal:` pada sumber ini",
    ),
    (r"written empty", "ditulis sebagai tabel kosong"),
)
_COLUMN_WORDS = {"id": {"channel": "kanal", "device": "perangkat"}}


def issue_text(text: str, *, language: str = "en") -> str:
    """A notice's check or action text in ``language`` (``en`` or ``id``).

    Texts the catalogue does not know are returned unchanged.

    >>> issue_text("unknown channel label", language="id")
    'label kanal tidak dikenal'
    >>> issue_text("mapped to 'other'", language="id")
    "dipetakan ke 'other'"
    """
    if language == "en" or not isinstance(text, str):
        return text
    words = _COLUMN_WORDS.get(language, {})
    for pattern, template in _ISSUE_TEXT_ID if language == "id" else ():
        m = re.fullmatch(pattern, text.strip())
        if m:
            return template.format(*(words.get(g, g) for g in m.groups()))
    return text


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
    Sessions and customers are distinct per day; a session id is its customer's (ingest names
    sessions ``<customer_id>-<n>``), so the counts add up over ranges of customers and the
    events' counts run in passes above 30M events (distinct counts over 237M events took two
    minutes in one query).
    """
    first, last = engine.query(
        "SELECT CAST(MIN(ts) AS DATE) AS first, CAST(MAX(ts) AS DATE) AS last FROM events"
    ).iloc[0]
    columns = ["day", "events", "sessions", "customers", "orders", "revenue"]
    if pd.isna(first):
        return pd.DataFrame({c: pd.Series(dtype="int64") for c in columns}).astype(
            {"day": "object", "revenue": "float64"}
        )
    ev = query_customer_sums(
        engine,
        """SELECT CAST(ts AS DATE) AS day, COUNT(*) AS events,
                  COUNT(DISTINCT session_id) AS sessions, COUNT(DISTINCT customer_id) AS customers
           FROM events GROUP BY 1""",
        keys=["day"],
    )
    od = engine.query(
        """SELECT CAST(ts AS DATE) AS day, COUNT(DISTINCT order_id) AS orders,
                  SUM(revenue) AS revenue
           FROM orders GROUP BY 1"""
    )
    days = pd.DataFrame({"day": pd.date_range(first, last, freq="D").astype("datetime64[us]")})
    out = days
    for part in (ev, od):
        part = part.assign(day=pd.to_datetime(part["day"]).astype("datetime64[us]"))
        out = out.merge(part, on="day", how="left")
    counts = ["events", "sessions", "customers", "orders"]
    out[counts] = out[counts].fillna(0).astype("int64")
    out["revenue"] = out["revenue"].astype("float64").fillna(0.0)
    out["day"] = out["day"].dt.date  # calendar dates, as DuckDB returns a DATE
    return out[columns]


def label_mix(engine: Engine, column: str) -> pd.DataFrame:
    """One row per value of ``events.<column>`` (channel or device): events, sessions, share.

    Most events first (ties by value). Counted in passes over ranges of customers above 30M
    events, as :func:`daily_volume`.
    """
    if column not in {"channel", "device", "event"}:
        raise ValueError("column must be channel, device or event")
    out = query_customer_sums(
        engine,
        f"""SELECT {column}, COUNT(*) AS events, COUNT(DISTINCT session_id) AS sessions
            FROM events GROUP BY 1""",
        keys=[column],
    )
    out[["events", "sessions"]] = out[["events", "sessions"]].astype("int64")
    total = out["events"].sum()
    out["share"] = out["events"] / total if total else float("nan")
    out = out.sort_values(["events", column], ascending=[False, True], kind="stable")
    return out.reset_index(drop=True)


_SUMMARY_TEXT: dict[str, dict[str, str]] = {
    "en": {
        "customers": "{n} customers.",
        "events": "{n} events from {c} customers between {first} and {last} (UTC).",
        "no_events": "No web or app events: the analyses that need them have nothing to show.",
        "orders": "{n} order lines from {c} customers.",
        "dropped": "{dropped} of {read} raw rows were dropped ({share}); every other issue was "
        "repaired in place and is listed below.",
        "coverage": "{share} of {table} records ({source} ids) were matched to a known customer; "
        "{unmatched} {source} ids stayed anonymous.",
        "volume": "{days} days covered; {quiet} days without any session.",
    },
    "id": {
        "customers": "{n} pelanggan.",
        "events": "{n} event dari {c} pelanggan antara {first} dan {last} (UTC).",
        "no_events": "Tidak ada event web atau aplikasi: analisis yang membutuhkannya tidak "
        "memiliki apa pun untuk ditampilkan.",
        "orders": "{n} baris pesanan dari {c} pelanggan.",
        "dropped": "{dropped} dari {read} baris mentah dihapus ({share}); setiap masalah lain "
        "diperbaiki di tempat dan dicantumkan di bawah.",
        "coverage": "{share} catatan {table} (id {source}) cocok dengan pelanggan yang dikenal; "
        "{unmatched} id {source} tetap anonim.",
        "volume": "{days} hari tercakup; {quiet} hari tanpa sesi sama sekali.",
    },
}
#: Table names as the Indonesian sentences say them.
_TABLE_WORDS = {"id": {"events": "event", "orders": "pesanan", "feedback": "umpan balik"}}


def _st(report, key: str, **values: object) -> str:  # noqa: ANN001 - ReportSpec or None
    language = getattr(report, "language", "en")
    return _SUMMARY_TEXT.get(language, _SUMMARY_TEXT["en"])[key].format(**values)


def summary(
    overview: pd.DataFrame, issue_table: pd.DataFrame, coverage: pd.DataFrame, report=None
) -> list[str]:  # noqa: ANN001 - ReportSpec
    """Sentences that summarise the data quality, each computed from the tables above.

    Written in ``report.language`` (``en`` or ``id``); ``issue_table`` is :func:`issues` in
    English (its ``action`` "dropped" is counted).
    """
    from journeylib.display import fmt_number, fmt_pct

    ov = overview.set_index("table")
    lines = []
    if "customers" in ov.index:
        lines.append(
            _st(report, "customers", n=fmt_number(ov.loc["customers", "rows_kept"], report))
        )
    if "events" in ov.index and ov.loc["events", "rows_kept"] > 0:
        e = ov.loc["events"]
        lines.append(
            _st(
                report,
                "events",
                n=fmt_number(e["rows_kept"], report),
                c=fmt_number(e["customers"], report),
                first=f"{e['first']:%Y-%m-%d}",
                last=f"{e['last']:%Y-%m-%d}",
            )
        )
    elif "events" in ov.index:
        lines.append(_st(report, "no_events"))
    if "orders" in ov.index and ov.loc["orders", "rows_kept"] > 0:
        o = ov.loc["orders"]
        lines.append(
            _st(
                report,
                "orders",
                n=fmt_number(o["rows_kept"], report),
                c=fmt_number(o["customers"], report),
            )
        )
    dropped = issue_table.loc[issue_table["action"].eq("dropped"), "count"].sum()
    read = pd.to_numeric(ov["rows_read"], errors="coerce").sum()
    lines.append(
        _st(
            report,
            "dropped",
            dropped=fmt_number(dropped, report),
            read=fmt_number(read, report),
            share=fmt_pct(dropped / read if read else float("nan"), report),
        )
    )
    words = _TABLE_WORDS.get(getattr(report, "language", "en"), {})
    for row in coverage.itertuples():
        lines.append(
            _st(
                report,
                "coverage",
                share=fmt_pct(row.matched_share, report),
                table=words.get(row.table, row.table),
                source=row.source,
                unmatched=fmt_number(row.unmatched_ids, report),
            )
        )
    return lines


def volume_summary(daily: pd.DataFrame, report=None) -> str:  # noqa: ANN001 - ReportSpec
    """How many days :func:`daily_volume` covers and how many of them have no session, in
    ``report.language``.

    >>> volume_summary(pd.DataFrame({"sessions": [3, 0, 2]}))
    '3 days covered; 1 days without any session.'
    """
    quiet = int((daily["sessions"] == 0).sum())
    return _st(report, "volume", days=len(daily), quiet=quiet)


_VOLUME_WORDS = {"en": ("sessions", "orders"), "id": ("sesi", "pesanan")}


def plot_daily_volume(daily: pd.DataFrame, *, language: str = "en"):  # noqa: ANN201 - plotly Figure
    """Line chart of :func:`daily_volume`: sessions and orders per day (trace and axis names in
    ``language``, ``en`` or ``id``; the title is translated on display)."""
    import plotly.graph_objects as go

    sessions, orders = _VOLUME_WORDS.get(language, _VOLUME_WORDS["en"])
    fig = go.Figure()
    fig.add_scatter(x=daily["day"], y=daily["sessions"], name=sessions, mode="lines")
    fig.add_scatter(x=daily["day"], y=daily["orders"], name=orders, mode="lines", yaxis="y2")
    fig.update_layout(
        title="Sessions and orders per day",
        yaxis={"title": sessions, "rangemode": "tozero"},
        yaxis2={"title": orders, "overlaying": "y", "side": "right", "rangemode": "tozero"},
        legend={"orientation": "h", "y": -0.2},
        margin={"l": 60, "r": 60, "t": 50, "b": 40},
        height=380,
    )
    return fig


_MIX_TITLES = {
    "en": {
        "channel": "Events by channel",
        "device": "Events by device",
        "event": "Events by event",
    },
    "id": {
        "channel": "Event per kanal",
        "device": "Event per perangkat",
        "event": "Event per nama event",
    },
}


def plot_mix(mix: pd.DataFrame, column: str, *, language: str = "en"):  # noqa: ANN201 - plotly Figure
    """Horizontal bar chart of :func:`label_mix`: share of events per label (title in
    ``language``, ``en`` or ``id``)."""
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
    titles = _MIX_TITLES.get(language, _MIX_TITLES["en"])
    fig.update_layout(
        title=titles.get(column, f"Events by {column}"),
        xaxis={"tickformat": ".0%"},
        margin={"l": 120, "r": 20, "t": 50, "b": 40},
        height=80 + 28 * len(data),
    )
    return fig
