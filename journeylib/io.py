"""Loaders: raw client exports -> validated, pseudonymised canonical tables in ``data/processed``.

``prepare(config)`` is the one entry point. It reads every source named in the config (CSV or
Parquet), keeps only the mapped columns, parses timestamps to UTC, checks every row, resolves
ids through the optional identity map, pseudonymises them, derives sessions, normalises channel
and device labels, and writes the tables plus a ``_manifest.json`` into
``data/processed/<client>/`` through a staging folder, so the folder is never half-written. All
problems of a run are raised together as one :class:`~journeylib.validation.DataValidationError`.

Non-fatal issues (duplicates dropped, unknown channel labels mapped to ``other``, free text
redacted, customers found only in activity tables, blank values in typed columns) are counted in
the manifest for the data-quality notebook.

**Column names.** ``columns`` maps each canonical column to a raw column name. A raw name is
matched exactly as written in the YAML first (``income: " Income "``); failing that, it matches
the one header whose name equals it once white space (and a byte-order mark) around both is
ignored, so ``income: Income`` finds a `` Income `` header too. Two headers equal after trimming
are an "ambiguous column" problem. Case is never ignored.

**Typed columns** (``types:`` on a source, keyed by canonical or extra customer attribute
column; the declared types are recorded under ``column_types`` in the manifest):

* ``number`` and ``money``: one parser (``money`` only marks an amount). Surrounding white space,
  currency symbols (``$``, ``€``, ``£``, ``¥``, ``₹`` ...), currency codes at either end
  (``Rp``, ``IDR``, ``USD``, ``RM`` ...), and spaces or apostrophes between digit groups are
  ignored; ``-Rp 5`` and ``(5)`` are negative. The source's ``decimal`` (default ``"."``;
  Indonesian exports use ``","``) decides which of ``.`` and ``,`` is the decimal separator; the
  other one separates thousands and must be followed by three digits (groups of two are allowed
  before the last group: 1,00,000), so ``1,5`` with ``decimal: "."`` is an error, not 15, and a
  thousands separator after the decimal one (``84,835.00`` with ``decimal: ","``) is an error.
  ``1.250`` with ``decimal: "."`` is 1.25; when every decimal part of a column has exactly three
  digits a notice asks to check ``decimal``. Result: float64.
* ``integer``: a number that is whole. Result: nullable ``Int64`` (float64 on canonical numeric
  columns such as ``orders.quantity``, whose processed dtype is fixed).
* ``boolean``: yes/no, y/n, true/false, t/f, 1/0, ya/tidak in any case. Result: ``boolean``.
* ``date``: a calendar day read with the source's ``date_format`` (default ``ts_format``;
  month-first inference when both are unset); a time of day is dropped. Result: naive
  ``datetime64[us]``.
* ``category`` (a label: trimmed, inner white space collapsed) and ``text`` (free text: e-mails
  and phone numbers redacted when ``privacy.redact_text``). Result: string.

On canonical columns only matching types are accepted (numbers: number/integer/money;
timestamps: date; the rest: text/category) and only numbers change how a column is read: a type
on a canonical timestamp or text column merely confirms it. Untyped canonical numbers must be
plain (the configured decimal separator, no currency, no thousands separators); untyped extra
customer attributes stay text.

Blank cells (empty or white space only) of typed number, boolean and date columns are missing
values, counted as a "blank value" notice (e.g. the 11 blank ``TotalCharges`` of IBM's Telco
churn file). A value that cannot be parsed is a problem naming file, column, check (``not a
number``, ``not a whole number``, ``not a yes/no value``, ``unparseable date``), count and first
rows, never the value; with ``on_bad_values: missing`` such values become missing and are
counted as a notice with their first row numbers instead (required canonical columns then fail
the null check).

**Absent sources.** Only ``customers`` is required. When ``events``, ``orders`` or ``feedback``
are not configured, ingest writes them as empty tables (zero rows, canonical columns and dtypes,
passing the processed schemas), records a notice and lists them under ``absent_sources`` in the
manifest, so a client with only a customer attribute table gets the usual folder layout.

``prepare`` is idempotent: when the raw files, the config and the key are unchanged it returns the
existing manifest without rewriting anything.

**Scale.** The events export is the one table that reaches hundreds of millions of rows, so it is
never one pandas frame (:mod:`journeylib.ingest_events`): it is read in chunks (Arrow's CSV reader,
or pandas' parser where Arrow would read the file differently), each chunk goes through the same
row checks as the small tables (the problems of all chunks merged into one report per check),
and DuckDB finds the duplicates, joins the pseudonyms, sorts and numbers the events, spilling
beyond ``engine.memory_limit`` into ``engine.temp_dir`` (default: a folder in the staging folder,
removed with it) with ``engine.threads`` threads. The other tables are customer-level or smaller
and stay in pandas. Each step's time is logged (``ingest: <step> in <n> s``). At a million
customers (23.8M raw events) ingest takes about 2 minutes and 2.5 GB; at 9M customers (217M
events) 23 minutes and 10 GB, most of it the customer-level tables (``benchmarks/README.md``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import json
import logging
import shutil
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from journeylib import __version__, csvout, ingest_events, parquetout
from journeylib.coltypes import (
    apply_type,
    is_blank,
    parse_column,
    plain_number,
)
from journeylib.config import Config, SourceSpec
from journeylib.engine import DuckDBEngine
from journeylib.ingest_events import (
    SpooledEvents,
    WrittenEvents,
    event_ids,
    find_duplicates,
    iter_raw,
    spool_events,
    write_events,
)
from journeylib.privacy import (
    check_no_direct_identifiers,
    get_key,
    pseudonymise_all,
    redact_text,
)
from journeylib.project import atomic_directory, atomic_path, project_root
from journeylib.schema import (
    CORE_TABLES,
    DEFAULT_CHANNEL_ALIASES,
    DEFAULT_DEVICE_ALIASES,
    FEEDBACK_KINDS,
    PROCESSED_SCHEMAS,
    TABLES,
    TableSpec,
)
from journeylib.timelines import write_event_timelines
from journeylib.validation import (
    ROW,
    Collector,
    DataValidationError,
    Notice,
    Problem,
    first_rows,
)

log = logging.getLogger(__name__)

MANIFEST = "_manifest.json"
#: Version of the processed-table layout; bump it when ingest writes different tables or columns,
#: so processed folders built by older code are rebuilt instead of reused.
PROCESSED_FORMAT = 4  # 2: events.event_seq; 3: event timelines; 4: typed columns, empty tables
SCORE_RANGES: dict[str, tuple[float, float]] = {"nps": (0, 10), "csat": (1, 5), "review": (1, 5)}

__all__ = [
    "DataValidationError",
    "PrepareResult",
    "Problem",
    "empty_table",
    "parse_column",
    "prepare",
    "read_processed",
    "write_table",
]


# ---------------------------------------------------------------------------------------------
# reading raw files
# ---------------------------------------------------------------------------------------------
def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(project_root()))
    except ValueError:
        return str(path)


def read_raw(path: Path, spec: SourceSpec, col: Collector) -> pd.DataFrame | None:
    """Read one raw export as strings (CSV) or native types (Parquet), with a row-number column.

    The whole file at once (the small tables); the events are read in chunks by
    :func:`journeylib.ingest_events.iter_raw`, the same reader.
    """
    frames = list(iter_raw(path, spec, col, chunk_rows=None))
    return None if col.problems or not frames else frames[0]


def map_columns(
    raw: pd.DataFrame, spec: SourceSpec, table: TableSpec, col: Collector
) -> pd.DataFrame | None:
    """Keep only mapped columns, renamed to canonical names; unmapped raw columns are dropped."""
    identifiers = check_no_direct_identifiers(table.name, spec.columns)
    for canon in identifiers:
        col.problem(
            canon,
            "direct identifier mapped",
            hint="e-mails, names and phones must not enter processed data; remove this mapping",
        )
    headers = [c for c in raw.columns if c != ROW]
    found, missing, ambiguous = _match_headers(headers, spec.columns)
    for canon in missing:
        required = "required" if canon in table.required else "mapped"
        col.problem(
            canon,
            f"missing {required} column",
            hint=f"raw column '{spec.columns[canon]}' is not in the file "
            f"(found: {', '.join(map(_header_label, headers))})",
        )
    for canon in ambiguous:
        col.problem(
            canon,
            "ambiguous column",
            hint=f"several headers read '{_header_key(spec.columns[canon])}' once surrounding "
            "white space is ignored; write the raw name exactly, spaces included",
        )
    if missing or ambiguous or identifiers:
        return None
    out = pd.DataFrame({canon: raw[rawname] for canon, rawname in found.items()})
    for canon, value in spec.constants.items():
        out[canon] = value
    for canon in table.optional:
        if canon not in out.columns:
            out[canon] = pd.NA
    out[ROW] = raw[ROW].to_numpy()
    return out


def _header_key(name: object) -> str:
    """A header name without surrounding white space or byte-order mark."""
    return str(name).replace("\ufeff", "").strip()


def _header_label(name: object) -> str:
    """A header for a hint; quoted when surrounding spaces would otherwise be invisible."""
    text = str(name)
    return f"'{text}'" if text != text.strip() else text


def _match_headers(
    headers: list, mapping: dict[str, str]
) -> tuple[dict[str, object], list[str], list[str]]:
    """Find each mapped raw column: exactly as written, else ignoring surrounding white space.

    Returns (canonical -> header found, canonical columns not found, canonical columns whose
    trimmed name matches several headers).
    """
    by_key: dict[str, list] = {}
    for h in headers:
        by_key.setdefault(_header_key(h), []).append(h)
    found, missing, ambiguous = {}, [], []
    for canon, rawname in mapping.items():
        if rawname in headers:
            found[canon] = rawname
            continue
        candidates = by_key.get(_header_key(rawname), [])
        if len(candidates) == 1:
            found[canon] = candidates[0]
        elif candidates:
            ambiguous.append(canon)
        else:
            missing.append(canon)
    return found, missing, ambiguous


def empty_table(name: str) -> pd.DataFrame:
    """A zero-row canonical table with the processed columns and dtypes (an absent source).

    >>> empty_table("orders").dtypes["revenue"]
    dtype('float64')
    """
    table = TABLES[name]
    columns: dict[str, pd.Series] = {}
    for c in table.columns:
        if c in table.timestamps:
            dtype = "datetime64[us, UTC]"
        elif c in table.dates:
            dtype = "datetime64[us]"
        elif c in table.numeric:
            dtype = "float64"
        else:
            dtype = "string"
        columns[c] = pd.Series([], dtype=dtype)
    return pd.DataFrame(columns)


# ---------------------------------------------------------------------------------------------
# cleaning
# ---------------------------------------------------------------------------------------------
def _parse_ts(s: pd.Series, fmt: str | None, tz: str) -> pd.Series:
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        parsed = s
    elif pd.api.types.is_datetime64_any_dtype(s):
        parsed = s
    else:
        text = s.astype("string").str.strip()
        kwargs = {"format": fmt} if fmt else {"format": "mixed"}
        try:
            parsed = pd.to_datetime(text, errors="coerce", **kwargs)
        except (ValueError, TypeError):
            parsed = pd.to_datetime(text, errors="coerce", format="mixed", utc=True)
    if not isinstance(parsed.dtype, pd.DatetimeTZDtype):
        parsed = parsed.dt.tz_localize(tz, ambiguous="NaT", nonexistent="shift_forward")
    return parsed.dt.tz_convert("UTC").astype("datetime64[us, UTC]")


def _clean_common(
    df: pd.DataFrame, spec: SourceSpec, table: TableSpec, config: Config, col: Collector
):
    """Checks and parsing shared by every table. Returns the frame (rows kept) and a fatal flag."""
    # ids: never null
    for idc in [c for c in table.required if c.endswith("_id") or c == "source"]:
        col.check_rows(df, is_blank(df[idc]), idc, "null id")
    for c in table.required:
        if c.endswith("_id") or c == "source" or c in table.timestamps or c in table.numeric:
            continue
        col.check_rows(df, is_blank(df[c]), c, "null value in required column")
    # timestamps
    tz = spec.timezone or config.data.timezone
    for c in table.timestamps:
        blank = is_blank(df[c])
        parsed = _parse_ts(df[c], spec.ts_format, tz)
        bad = parsed.isna() & ~blank
        hint = (
            f"expected format {spec.ts_format}" if spec.ts_format else "set ts_format in the config"
        )
        col.check_rows(df, bad, c, "unparseable timestamp", hint)
        if c in table.required:
            col.check_rows(df, blank, c, "null timestamp")
        df[c] = parsed
    for c in table.dates:
        blank = is_blank(df[c])
        parsed = pd.to_datetime(df[c].astype("string").str.strip(), errors="coerce", format="mixed")
        col.check_rows(df, parsed.isna() & ~blank, c, "unparseable date", "expected YYYY-MM-DD")
        df[c] = parsed.dt.normalize().astype("datetime64[us]")
    # numbers
    for c in table.numeric:
        if c in spec.types:
            num, bad = apply_type(df, c, spec.types[c], spec, col, required=c in table.required)
            num = num.astype("float64")
        else:
            num, bad = plain_number(df[c], spec.decimal)
            col.check_rows(
                df,
                bad,
                c,
                "wrong dtype (expected a number)",
                f"use a plain number with '{spec.decimal}' as decimal separator, or declare "
                f"`types: {{{c}: money}}` to read currency and thousands separators",
            )
        if c in table.required:
            missing = num.isna() & ~bad
            if table.name == "feedback" and c == "score":
                # social posts carry text, not a score
                missing &= ~df["kind"].astype("string").str.strip().str.lower().eq("social").fillna(
                    False
                )
            col.check_rows(df, missing, c, "null value in required column")
        df[c] = num
    # typed extra attributes (customers): any declared type
    typed_extras = [c for c in spec.types if c in df.columns and c not in table.columns]
    for c in typed_extras:
        values, _ = apply_type(df, c, spec.types[c], spec, col, required=False)
        if spec.types[c] == "text" and config.privacy.redact_text and values.notna().any():
            values, changed = redact_text(values)
            col.notice(c, "e-mail or phone number in free text", changed, "redacted")
        df[c] = values
    # strings: canonical string dtype, trimmed
    for c in df.columns:
        if c == ROW or c in table.timestamps or c in table.numeric or c in table.dates:
            continue
        if c in typed_extras:
            continue
        df[c] = df[c].astype("string").str.strip()
    return df


def _time_checks(
    df: pd.DataFrame, table: TableSpec, config: Config, col: Collector, tz: str
) -> pd.DataFrame:
    """Future timestamps are fatal; out-of-window rows follow ``quality.on_out_of_window``."""
    now = pd.Timestamp.now(tz="UTC") + pd.Timedelta(hours=config.quality.future_tolerance_hours)
    window = config.data.window
    keep = pd.Series(True, index=df.index)
    for c in table.timestamps:
        ts = df[c]
        col.check_rows(
            df,
            ts > now,
            c,
            "timestamp in the future",
            f"later than now + {config.quality.future_tolerance_hours:g} h",
        )
        outside = pd.Series(False, index=df.index)
        # window dates are calendar days in the client's time zone, not in UTC
        if window.start is not None:
            outside |= ts < pd.Timestamp(window.start).tz_localize(tz)
        if window.end is not None:
            outside |= ts >= pd.Timestamp(window.end + dt.timedelta(days=1)).tz_localize(tz)
        outside &= ts.notna() & table.windowed
        if config.quality.on_out_of_window == "error":
            col.check_rows(
                df,
                outside,
                c,
                "timestamp outside the configured window",
                f"data.window is {window.start}..{window.end}; widen it or set "
                "quality.on_out_of_window: drop",
            )
        else:
            col.notice(c, "outside the configured window", int(outside.sum()), "dropped")
            keep &= ~outside
    return df[keep]


def _duplicates_found(count: int, rows: list[int], config: Config, col: Collector) -> None:
    """Report exact duplicate rows: a notice (dropped) or, with ``on_duplicates: error``, fatal."""
    if config.quality.on_duplicates == "error":
        if count:
            col.problem(
                None,
                "duplicate rows",
                count,
                rows,
                "identical to an earlier row; set quality.on_duplicates: drop to drop them",
            )
    else:
        col.notice(None, "duplicate rows", count, "dropped")


def _dedupe(df: pd.DataFrame, table: TableSpec, config: Config, col: Collector) -> pd.DataFrame:
    """Exact duplicate rows (all mapped columns equal) are dropped and counted, or fatal."""
    cols = [c for c in df.columns if c != ROW]
    dup = df.duplicated(subset=cols, keep="first")
    count, rows = first_rows(dup, df[ROW], col.limit)
    _duplicates_found(count, list(rows), config, col)
    df = df[~dup]
    unique_key = {
        "customers": ("customer_id",),
        "products": ("product_id",),
        "identity_map": ("source", "source_id"),
    }.get(table.name)
    if unique_key:
        clash = df.duplicated(subset=list(unique_key), keep=False)
        col.check_rows(
            df,
            clash,
            ",".join(unique_key),
            "duplicate key with different values",
            "each key must appear once",
        )
    return df


def _normalise_labels(
    s: pd.Series, aliases: dict[str, str], col: Collector, column: str, fallback: str = "other"
) -> pd.Series:
    """Map raw labels onto the canonical vocabulary; unknown labels become ``other`` (counted).

    Labels repeat (a handful of channels over millions of events), so each distinct raw label is
    normalised once and the results are spread back by code.
    """
    codes, uniques = pd.factorize(s.astype("string"), use_na_sentinel=True)
    key_u = (
        pd.Series(uniques, dtype="string")
        .str.lower()
        .str.replace(r"\s+", " ", regex=True)
        .str.strip()
    )
    mapped_u = key_u.map(aliases).astype("string")
    # code -1 (missing) picks the trailing NA of each lookup
    key = pd.Series(pd.array([*key_u, pd.NA], dtype="string")[codes], index=s.index, dtype="string")
    mapped = pd.Series(
        pd.array([*mapped_u, pd.NA], dtype="string")[codes], index=s.index, dtype="string"
    )
    unknown = mapped.isna() & key.notna()
    missing = key.isna()
    if unknown.any():
        counts = key[unknown].value_counts().sort_index()
        col.notice(
            column,
            f"unknown {column} label",
            int(unknown.sum()),
            f"mapped to '{fallback}'",
            labels={str(k): int(v) for k, v in counts.items()},
        )
    col.notice(column, f"missing {column}", int(missing.sum()), f"set to '{fallback}'")
    return mapped.fillna(fallback).astype("string")


def _table_specific(df: pd.DataFrame, name: str, config: Config, col: Collector) -> pd.DataFrame:
    if name == "events":
        channels = {**DEFAULT_CHANNEL_ALIASES, **{k.lower(): v for k, v in config.channels.items()}}
        devices = {**DEFAULT_DEVICE_ALIASES, **{k.lower(): v for k, v in config.devices.items()}}
        df["channel"] = _normalise_labels(df["channel"], channels, col, "channel")
        df["device"] = _normalise_labels(df["device"], devices, col, "device")
        df["event"] = df["event"].str.lower()
    elif name == "orders":
        if "channel" in df and df["channel"].notna().any():
            channels = {
                **DEFAULT_CHANNEL_ALIASES,
                **{k.lower(): v for k, v in config.channels.items()},
            }
            df["channel"] = _normalise_labels(df["channel"], channels, col, "channel")
    elif name == "customers":
        if "signup_channel" in df and df["signup_channel"].notna().any():
            channels = {
                **DEFAULT_CHANNEL_ALIASES,
                **{k.lower(): v for k, v in config.channels.items()},
            }
            df["signup_channel"] = _normalise_labels(
                df["signup_channel"], channels, col, "signup_channel"
            )
    elif name == "feedback":
        kind = df["kind"].str.lower()
        col.check_rows(
            df,
            ~kind.isin(FEEDBACK_KINDS) & kind.notna(),
            "kind",
            "unknown feedback kind",
            f"expected one of {', '.join(FEEDBACK_KINDS)}",
        )
        df["kind"] = kind
        for k, (lo, hi) in SCORE_RANGES.items():
            bad = kind.eq(k) & df["score"].notna() & ~df["score"].between(lo, hi)
            col.check_rows(
                df,
                bad.fillna(False),
                "score",
                f"{k} score out of range",
                f"expected {lo:g}..{hi:g}",
            )
        if config.privacy.redact_text and df["text"].notna().any():
            df["text"], changed = redact_text(df["text"])
            col.notice("text", "e-mail or phone number in free text", changed, "redacted")
    elif name == "spend":
        channels = {**DEFAULT_CHANNEL_ALIASES, **{k.lower(): v for k, v in config.channels.items()}}
        df["channel"] = _normalise_labels(df["channel"], channels, col, "channel")
    return df


def _clean(
    raw: pd.DataFrame, spec: SourceSpec, name: str, config: Config, col: Collector
) -> pd.DataFrame | None:
    """Map, check and clean raw rows (a whole small table or one chunk of the events)."""
    table = TABLES[name]
    df = map_columns(raw, spec, table, col)
    if df is None:
        return None
    df = _clean_common(df, spec, table, config, col)
    df = _time_checks(df, table, config, col, spec.timezone or config.data.timezone)
    return _table_specific(df, name, config, col)


def load_source(
    config: Config, name: str
) -> tuple[pd.DataFrame | None, list[Problem], list[Notice], dict]:
    """Read, map and check one source. Returns (frame or None, problems, notices, file info)."""
    spec: SourceSpec = getattr(config.data.sources, name)
    table = TABLES[name]
    path = config.source_path(name)
    col = Collector(_display(path), name, config.quality.max_error_rows)
    info: dict = {"file": _display(path)}
    raw = read_raw(path, spec, col)
    if raw is None:
        return None, col.problems, col.notices, info
    info.update(rows_read=int(len(raw)), bytes=ingest_events.source_bytes(path))
    df = _clean(raw, spec, name, config, col)
    if df is None:
        return None, col.problems, col.notices, info
    df = _dedupe(df, table, config, col)
    return df, col.problems, col.notices, info


def spool_source(
    config: Config, name: str, folder: Path, engine: DuckDBEngine
) -> tuple[SpooledEvents | None, list[Problem], list[Notice], dict]:
    """:func:`load_source` for the events: checked chunk by chunk into a Parquet spool in
    ``folder``, duplicates found by ``engine`` (:mod:`journeylib.ingest_events`)."""
    spec: SourceSpec = getattr(config.data.sources, name)
    path = config.source_path(name)
    col = Collector(_display(path), name, config.quality.max_error_rows)
    info: dict = {"file": _display(path)}
    spooled, rows_read = spool_events(
        path,
        spec,
        col,
        lambda raw, chunk_col: _clean(raw, spec, name, config, chunk_col),
        folder,
        chunk_rows=ingest_events.CHUNK_ROWS,
        use_threads=config.engine.threads != 1,
    )
    if rows_read is not None:
        info.update(rows_read=rows_read, bytes=ingest_events.source_bytes(path))
    if spooled is None:
        return None, col.problems, col.notices, info
    count, rows = find_duplicates(engine, spooled, limit=col.limit)
    _duplicates_found(count, rows, config, col)
    return spooled, col.problems, col.notices, info


# ---------------------------------------------------------------------------------------------
# assembling the canonical tables
# ---------------------------------------------------------------------------------------------
def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _id_lookup(idmap: pd.DataFrame | None, source: str) -> pd.Series:
    """CRM customer id by source id, for one source of the identity map."""
    if idmap is None:
        return pd.Series(dtype="string")
    return idmap[idmap["source"] == source].set_index("source_id")["customer_id"]


def _resolve(ids: pd.Series, lookup: pd.Series, source: str) -> tuple[pd.Series, pd.Series]:
    """(CRM id or ``<source>:<id>``, matched mask) of each source id."""
    mapped = ids.map(lookup)
    matched = mapped.notna()
    # Unmatched records keep their own id, namespaced by source, so anonymous journeys are
    # still analysed; the data-quality notebook reports the share.
    return mapped.fillna(source + ":" + ids).astype("string"), matched


def _resolve_identities(
    frames: dict[str, pd.DataFrame], config: Config, event_ids: pd.DataFrame | None = None
) -> list[dict]:
    """Replace source-specific ids by CRM ids via identity_map; returns coverage per source.

    ``event_ids`` (spooled events: one row per raw id with its ``rows``) gets its resolved id
    as ``resolved`` instead of the events frame being changed.
    """
    idmap = frames.get("identity_map")
    coverage = []
    for name, spec in config.data.sources.items():
        if name == "events" and event_ids is not None:
            if spec.id_source:
                lookup = _id_lookup(idmap, spec.id_source)
                resolved, matched = _resolve(event_ids["raw_id"], lookup, spec.id_source)
                rows = event_ids["rows"]
                event_ids["resolved"] = resolved
                coverage.append(
                    {
                        "table": name,
                        "source": spec.id_source,
                        "records": int(rows.sum()),
                        "matched": int(rows[matched].sum()),
                        "ids": int(resolved.nunique()),
                        "unmatched_ids": int(resolved[~matched].nunique()),
                    }
                )
            else:
                event_ids["resolved"] = event_ids["raw_id"]
            continue
        if not spec.id_source or name not in frames or name == "identity_map":
            continue
        df = frames[name]
        resolved, matched = _resolve(
            df["customer_id"], _id_lookup(idmap, spec.id_source), spec.id_source
        )
        df["customer_id"] = resolved
        coverage.append(
            {
                "table": name,
                "source": spec.id_source,
                "records": int(len(df)),
                "matched": int(matched.sum()),
                "ids": int(df["customer_id"].nunique()),
                "unmatched_ids": int(df.loc[~matched, "customer_id"].nunique()),
            }
        )
    return coverage


def _complete_customers(
    frames: dict[str, pd.DataFrame], notices: list[Notice], firsts: list[pd.Series] = ()
) -> None:
    """Add customers seen only in activity tables; fill first_seen from first activity.

    ``firsts``: first activity per customer of tables not in ``frames`` (the written events).
    """
    cust = frames["customers"]
    n_listed = len(cust)  # the customers table's own rows; the added ones come after them
    firsts = list(firsts)
    for name in ("events", "orders", "feedback"):
        if name in frames:
            firsts.append(frames[name].groupby("customer_id", sort=False)["ts"].min())
    first_activity = pd.concat(firsts).groupby(level=0).min()
    # Arrow's hash lookup: pandas' isin on a million strings takes seconds
    known = pc.is_in(
        pa.array(first_activity.index.astype("string")),
        value_set=pa.array(cust["customer_id"].dropna().astype("string")),
    )
    extra_ids = first_activity.index[~known.to_numpy(zero_copy_only=False)]
    if len(extra_ids):
        notices.append(
            Notice(
                "customers",
                "customer_id",
                "customers found only in activity tables",
                len(extra_ids),
                "added (first_seen = first activity)",
            )
        )
        add = pd.DataFrame({"customer_id": pd.array(extra_ids.tolist(), dtype="string")})
        cust = pd.concat([cust, add], ignore_index=True)
    if len(first_activity):
        fa = cust["customer_id"].map(first_activity)
    else:  # no activity tables (a customer attribute table alone); map() fails on an empty lookup
        fa = pd.Series(pd.NaT, index=cust.index, dtype="datetime64[us, UTC]")
    cust["first_seen"] = (
        cust["first_seen"]
        .where(cust["first_seen"].notna() & (fa.isna() | (cust["first_seen"] <= fa)), fa)
        .astype("datetime64[us, UTC]")
    )
    # the added ids are exactly those not in the table (pandas' isin on a million strings
    # took seconds)
    cust["identified"] = pd.RangeIndex(len(cust)) < n_listed
    frames["customers"] = cust


_SORT_KEYS = {
    "events": ["customer_id", "ts", "event", ROW],
    "orders": ["ts", "order_id", ROW],
    "feedback": ["ts", "customer_id", ROW],
    "customers": ["customer_id"],
    "spend": ["date", "channel"],
    "products": ["product_id"],
    "identity_map": ["source", "source_id"],
}


def build_tables(
    config: Config, folder: Path, engine: DuckDBEngine
) -> tuple[dict[str, pd.DataFrame], dict, WrittenEvents | None]:
    """Load and check every source and assemble the canonical tables.

    The events are written to ``folder/events.parquet`` by ``engine`` (they never are one
    pandas frame: :mod:`journeylib.ingest_events`; their spool is ``folder/_spool`` meanwhile);
    the other tables are returned as frames, not written. Returns the frames (the events among
    them only when the source is absent: the empty table), the manifest's information and what
    was written of the events (``None`` when absent).

    Raises
    ------
    DataValidationError
        With every problem of every source, before anything is written.
    """
    frames: dict[str, pd.DataFrame] = {}
    spooled: SpooledEvents | None = None
    problems: list[Problem] = []
    notices: list[Notice] = []
    files: dict[str, dict] = {}
    spool = folder / "_spool"
    for name, _spec in config.data.sources.items():
        with _timed(f"read and check {name}"):
            if name == "events":
                spooled, p, n, info = spool_source(config, name, spool, engine)
            else:
                df, p, n, info = load_source(config, name)
                if df is not None:
                    frames[name] = df
        problems += p
        notices += n
        files[name] = info
    if problems:
        raise DataValidationError(problems)
    absent = [name for name in CORE_TABLES if getattr(config.data.sources, name) is None]
    for name in absent:
        # a client with only a customer table: every analysis still finds the core tables
        frames[name] = empty_table(name)
        notices.append(Notice(name, None, "no source in the config", 0, "written empty"))
    key = get_key(config.privacy.key_env, allow_demo_key=config.privacy.allow_demo_key)
    ids = None
    with _timed("resolve and pseudonymise ids"):
        if spooled is not None:
            ids = event_ids(engine, spooled).rename(columns={"customer_id": "raw_id"})
            ids["raw_id"] = ids["raw_id"].astype("string")
        coverage = _resolve_identities(frames, config, ids)
        # every id column at once: a customer's id is in several tables, hashed once
        targets = [(df, idc) for name, df in frames.items() for idc in TABLES[name].ids]
        columns = [df[idc] for df, idc in targets]
        if ids is not None:
            columns.append(ids["resolved"])
        hashed = pseudonymise_all(columns, key)
        for (df, idc), values in zip(targets, hashed, strict=False):
            df[idc] = values
        if ids is not None:
            ids["customer_id"] = hashed[-1]
    firsts = []
    written = None
    if spooled is not None:
        derive = "session_id" not in config.data.sources.events.columns
        with _timed("write events"):
            written = write_events(
                engine,
                spooled,
                ids,
                folder / "events.parquet",
                timeout_minutes=config.sessions.timeout_minutes if derive else None,
            )
        del ids
        shutil.rmtree(spool, ignore_errors=True)
        firsts.append(written.first_activity)
    with _timed("complete customers, sort"):
        _complete_customers(frames, notices, firsts)
        for name, df in list(frames.items()):
            keys = [k for k in _SORT_KEYS[name] if k in df.columns]
            df = df.sort_values(keys, kind="stable").drop(columns=[ROW], errors="ignore")
            frames[name] = df.reset_index(drop=True)
    if "events" in frames:  # an absent source: the empty table
        # position of each event in its customer's path (ties: event name), the precomputed
        # numbering that path analyses (step matrix) use instead of re-sorting every query
        ev = frames["events"]
        ev["event_seq"] = ev.groupby("customer_id", sort=False).cumcount().astype("int64") + 1
    with _timed("check the processed contract"):
        for name, schema in PROCESSED_SCHEMAS.items():
            if name in frames:  # the written events were checked batch by batch
                schema.validate(frames[name], lazy=True)  # internal contract: a failure is a bug
    info = {
        "files": files,
        "notices": [n.to_dict() for n in notices],
        "identity": coverage,
        "absent_sources": absent,
        # declared types of mapped columns, e.g. which customer attributes are categories
        "column_types": {
            name: dict(spec.types) for name, spec in config.data.sources.items() if spec.types
        },
    }
    return frames, info, written


@contextlib.contextmanager
def _timed(what: str) -> Iterator[None]:
    """Log how long a step of ingest took (``journey run`` shows it in its log)."""
    start = time.perf_counter()
    yield
    log.info("ingest: %s in %.1f s", what, time.perf_counter() - start)


# ---------------------------------------------------------------------------------------------
# writing and reading processed tables
# ---------------------------------------------------------------------------------------------
def write_table(df: pd.DataFrame, path: Path) -> Path:
    """Write a table as Parquet or CSV (by suffix) through a temporary file, streamed to disk
    (a million-row export is never held in memory as text)."""
    path = Path(path)
    with atomic_path(path) as tmp:
        if path.suffix == ".csv":  # to_csv's bytes, formatted by Arrow for large tables
            csvout.write_csv(df, tmp)
        else:  # a slice at a time, no dictionary of 10M ids per row group (parquetout)
            parquetout.write_parquet(df, tmp)
    return path


def read_processed(
    config: Config, name: str, *, columns: Sequence[str] | None = None
) -> pd.DataFrame:
    """Read one processed canonical table, or only its ``columns`` (raises FileNotFoundError
    with a hint if absent)."""
    path = config.processed_dir / f"{name}.parquet"
    if not path.is_file():
        raise FileNotFoundError(f"{_display(path)} does not exist: run `journey validate` first")
    return pd.read_parquet(path, columns=None if columns is None else list(columns))


@dataclass
class PrepareResult:
    processed_dir: Path
    manifest: dict
    reused: bool = False
    tables: dict[str, int] = field(default_factory=dict)


def _settings(config: Config) -> dict:
    """What, besides the raw files, decides the processed tables."""
    key = get_key(config.privacy.key_env, allow_demo_key=config.privacy.allow_demo_key)
    return {
        "journeylib": __version__,
        "format": PROCESSED_FORMAT,
        # only the settings ingest reads: an analysis setting never rebuilds the tables
        "ingest_hash": config.ingest_hash(),
        # proves which key was used without revealing it
        "key_id": hmac.new(key, b"journeylib-key-id", hashlib.sha256).hexdigest()[:12],
    }


def _raw_stat(config: Config) -> dict:
    """Size and modification time of every raw file: the cheap first check of ``prepare``."""
    out = {}
    for name, _spec in config.data.sources.items():
        p = config.source_path(name)
        if p.is_dir():  # a Parquet folder: every file's
            files = ingest_events.source_files(p)
            out[name] = [
                [str(f.relative_to(p)), f.stat().st_size, f.stat().st_mtime_ns] for f in files
            ]
        else:
            out[name] = [p.stat().st_size, p.stat().st_mtime_ns] if p.is_file() else None
    return out


def _fingerprint(config: Config) -> dict:
    files = {}
    for name, _spec in config.data.sources.items():
        p = config.source_path(name)
        parts = ingest_events.source_files(p) if p.exists() else []
        if p.is_dir():  # a Parquet folder: the hash of its files' names and hashes
            listing = "".join(f"{f.relative_to(p).as_posix()}\t{_sha256(f)}\n" for f in parts)
            files[name] = hashlib.sha256(listing.encode()).hexdigest() if parts else None
        else:
            files[name] = _sha256(p) if p.is_file() else None
    return {**_settings(config), "raw_sha256": files}


def _up_to_date(config: Config, manifest: dict) -> bool:
    """True when the processed tables were built from these raw files with these settings.

    Every notebook of a run asks this, so the content hashes (seconds per GB) are computed only
    when a raw file's size or modification time differs from the manifest's record.
    """
    stored = manifest.get("fingerprint", {})
    if any(stored.get(k) != v for k, v in _settings(config).items()):
        return False
    if manifest.get("raw_stat") == _raw_stat(config):
        return True
    return stored == _fingerprint(config)


def prepare(config: Config, *, force: bool = False) -> PrepareResult:
    """Validate the raw exports and (re)write the processed tables if anything changed."""
    target = config.processed_dir
    manifest_path = target / MANIFEST
    if not force and manifest_path.is_file():
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        if _up_to_date(config, manifest):
            log.info("processed tables for %s are up to date", config.client)
            return PrepareResult(target, manifest, reused=True, tables=manifest.get("rows", {}))
    log.info("ingesting raw exports for %s", config.client)
    stat = _raw_stat(config)  # taken before reading: a file changed meanwhile is seen next time
    fp = _fingerprint(config)
    spec = config.engine
    with atomic_directory(target) as staging:
        # the events never become one pandas frame: DuckDB checks, numbers and writes them,
        # spilling beyond the memory limit (into the staging folder unless temp_dir is set)
        with DuckDBEngine(
            None,
            memory_limit=spec.memory_limit,
            threads=spec.threads,
            temp_dir=spec.temp_dir or staging / "_spill",
        ) as engine:
            frames, info, written = build_tables(config, staging, engine)
        for name, file_info in info["files"].items():
            file_info["sha256"] = fp["raw_sha256"].get(name)
        rows = {name: int(len(df)) for name, df in frames.items()}
        ranges = {}
        for name, df in frames.items():
            tcol = next((c for c in ("ts", "date") if c in df.columns), None)
            if tcol is not None and len(df):
                ranges[name] = [str(df[tcol].min()), str(df[tcol].max())]
        if written is not None:
            rows["events"] = written.rows
            if written.ts_range is not None:
                ranges["events"] = [str(t) for t in written.ts_range]
        manifest = {
            "client": config.client,
            "created_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "fingerprint": fp,
            "raw_stat": stat,
            "rows": rows,
            "ranges": ranges,
            **info,
        }
        with _timed("write the other tables"):
            for name, df in frames.items():
                write_table(df, staging / f"{name}.parquet")
        del frames
        shutil.rmtree(staging / "_spill", ignore_errors=True)
        with DuckDBEngine(
            staging, memory_limit=spec.memory_limit, threads=spec.threads, temp_dir=spec.temp_dir
        ) as engine:
            with _timed("write event timelines"):
                manifest["timeline_events"] = write_event_timelines(engine, "events", staging)
        (staging / MANIFEST).write_text(
            json.dumps(manifest, indent=2, sort_keys=True), encoding="utf-8"
        )
    return PrepareResult(target, manifest, reused=False, tables=rows)
