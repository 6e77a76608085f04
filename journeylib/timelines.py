"""Per-customer event timelines: an index of the events table that ingest writes once.

``event_timelines`` holds one row per customer and, for each distinct event name, the sorted
list of that customer's timestamps of the event (NULL when the customer never did it). It is
the journey analogue of a column store's index: a funnel over the canonical events reads the
few list columns of its steps (one row per customer, already grouped and sorted) instead of
scanning, filtering and grouping every event again, which is what makes it several times
faster than a per-query ``GROUP BY`` at millions of customers (``benchmarks/README.md``).

Event names are client data, so they are not used as column names (DuckDB folds case, and a name
may hold any character): the list of event ``k`` (events sorted by name, from 0) is column
``ev_<k>`` and the small table ``event_timeline_events`` maps each event to its column.

Ingest (:func:`journeylib.io.prepare`) writes both next to the canonical tables, from the events
it has just written, for at most :data:`MAX_TIMELINE_EVENTS` distinct events (a log with more
distinct names, e.g. one per page URL, gets no timeline and every analysis reads ``events``).
Analyses ask :func:`timeline_columns` whether a timeline covers their events and fall back to the
events table otherwise; both paths compute the same numbers (``tests/test_timelines.py``).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from pathlib import Path

import pyarrow.parquet as pq

from journeylib.engine import DuckDBEngine, Engine
from journeylib.ingest_events import PASS_ROWS
from journeylib.sql import collect_sorted, literal, pseudonym_ranges

log = logging.getLogger(__name__)

__all__ = [
    "MAX_TIMELINE_EVENTS",
    "TIMELINE_EVENTS_TABLE",
    "TIMELINE_TABLE",
    "timeline_columns",
    "write_event_timelines",
]

TIMELINE_TABLE = "event_timelines"
TIMELINE_EVENTS_TABLE = "event_timeline_events"
#: Above this many distinct event names no timeline is written.
MAX_TIMELINE_EVENTS = 256


def column_name(k: int) -> str:
    """The timeline column of the ``k``-th event (events sorted by name, from 0)."""
    return f"ev_{k:04d}"


def write_event_timelines(
    engine: Engine, events_table: str, folder: Path, *, pass_rows: int | None = None
) -> int | None:
    """Write ``event_timelines.parquet`` and ``event_timeline_events.parquet`` into ``folder``.

    ``events_table`` is a table of ``engine`` with the canonical ``customer_id``, ``ts`` and
    ``event`` columns. Returns the number of timeline columns, or ``None`` (nothing written)
    when there are more than :data:`MAX_TIMELINE_EVENTS` distinct events.

    Above ``pass_rows`` events (default :data:`journeylib.ingest_events.PASS_ROWS`) the lists are
    gathered in passes over consecutive ranges of customer ids, each written as it is done, so
    the lists of only one range are held at once (a ``GROUP BY`` holding every customer's
    lists needs memory in proportion to all the events); the processed events are sorted by
    customer, so each pass reads only its part of the file. The rows come out sorted by
    ``customer_id`` either way.
    """
    names = engine.query(
        f'SELECT DISTINCT event FROM "{events_table}" WHERE event IS NOT NULL ORDER BY event'
    )["event"].tolist()
    if len(names) > MAX_TIMELINE_EVENTS:
        log.info(
            "no event timelines: %d distinct events (more than %d)", len(names), MAX_TIMELINE_EVENTS
        )
        return None
    folder = Path(folder)
    lists = "".join(
        f",\n  {collect_sorted('ts', f'event = {literal(name)}')} AS {column_name(k)}"
        for k, name in enumerate(names)
    )
    target = folder / f"{TIMELINE_TABLE}.parquet"
    rows = int(engine.scalar(f'SELECT COUNT(*) FROM "{events_table}"') or 0)
    ranges = pseudonym_ranges(math.ceil(rows / (pass_rows or PASS_ROWS)))

    def select(where: str) -> str:
        return f"""SELECT customer_id{lists}
            FROM "{events_table}"
            WHERE customer_id IS NOT NULL AND ts IS NOT NULL AND {where}
            GROUP BY customer_id ORDER BY customer_id"""

    if len(ranges) == 1 or not isinstance(engine, DuckDBEngine):
        engine.execute(f"COPY ({select('TRUE')}) TO {literal(str(target))} (FORMAT parquet)")
    else:
        _write_in_passes(engine, [select(where) for where in ranges], target)
    values = (
        ", ".join(f"({literal(n)}, {literal(column_name(k))})" for k, n in enumerate(names))
        or "(NULL, NULL)"
    )
    mapping = folder / f"{TIMELINE_EVENTS_TABLE}.parquet"
    engine.execute(
        f"""COPY (
            SELECT CAST(event AS VARCHAR) AS event, CAST(column_name AS VARCHAR) AS column_name
            FROM (VALUES {values}) v(event, column_name) WHERE event IS NOT NULL
        ) TO {literal(str(mapping))} (FORMAT parquet)"""
    )
    return len(names)


def _write_in_passes(engine: DuckDBEngine, queries: list[str], target: Path) -> None:
    """The results of ``queries``, in order, into one Parquet file (one row group per batch)."""
    writer: pq.ParquetWriter | None = None
    try:
        for sql in queries:
            for batch in engine.arrow_batches(sql, 1 << 17):
                if writer is None:
                    writer = pq.ParquetWriter(target, batch.schema)
                writer.write_batch(batch)
    finally:
        if writer is not None:
            writer.close()


def timeline_columns(engine: Engine, table: str, events: Sequence[str]) -> dict[str, str] | None:
    """The timeline column of each of ``events``, when a timeline can stand in for ``table``.

    Only the canonical ``events`` table of a processed folder has a timeline. An event that
    never occurs maps to ``None``. Returns ``None`` when there is no usable timeline.
    """
    if table != "events":
        return None
    tables = set(engine.tables())
    if not {TIMELINE_TABLE, TIMELINE_EVENTS_TABLE} <= tables:
        return None
    mapping = engine.query(f'SELECT event, column_name FROM "{TIMELINE_EVENTS_TABLE}"')
    known = dict(zip(mapping["event"], mapping["column_name"], strict=True))
    return {e: known.get(e) for e in events}
