"""The events export at scale: checked in chunks, finished in DuckDB.

The web/app events are the one raw table that grows to hundreds of millions of rows, so
:func:`journeylib.io.prepare` never holds them in pandas at once:

1. **Read and check in chunks** (:func:`iter_raw`, :func:`spool_events`). A UTF-8 CSV is parsed
   by Arrow's multi-threaded reader :data:`CHUNK_ROWS` rows at a time; a file Arrow would read
   differently from pandas (a short row, a line of spaces, odd headers, bytes that are not
   UTF-8, ...) is read again with pandas' own parser, decoding as it reads (a wrong encoding is
   still a problem naming the byte offset); Parquet is read batch by batch. Each chunk goes
   through the same row checks and cleaning as every other table (column mapping, ids,
   timestamps to UTC, window and future checks, channel/device labels), with its own
   :class:`~journeylib.validation.Collector` merged into the file's, so a problem still names
   the file, column, check, the total count and the first row numbers of the whole file.
   Cleaned chunks are written to a spool of Parquet parts (on a background thread, while the
   next chunk is checked).
2. **Duplicates** (:func:`find_duplicates`): one pass groups the rows by a 64-bit hash of all
   mapped columns; only the rows of the (few) hashes seen more than once are compared exactly,
   and every copy after the first (in file order) is a duplicate, as ``DataFrame.duplicated``.
3. **Identities** (:func:`event_ids`): the distinct source ids with their row counts come back
   to pandas (one row per visitor), where ingest resolves them through the identity map and
   pseudonymises them exactly as the small tables; the lookup goes back in as a table.
4. **Write** (:func:`write_events`): queries join the lookup, drop the duplicates and sort by
   ``customer_id, ts, event`` (ties: file row), one range of pseudonyms per pass; the sorted
   result streams out in batches that get their session ids and ``event_seq``
   (:func:`journeylib.sessions.number_sorted`) and go into ``events.parquet`` with the pandas
   metadata of the columns, so ``pandas.read_parquet`` gives the same dtypes as a table
   written by pandas. The first event of each customer, the row count and the time range are
   gathered on the way.

DuckDB runs with the config's ``engine.memory_limit`` and ``threads``; beyond the limit it
spills to ``engine.temp_dir`` (or a folder inside the staging folder), and the sort works on
one range of customers at a time, so memory stays bounded whatever the number of events. The
result equals what the pandas path computed before it (``tests/test_io_scale.py`` holds them
equal on generated data; at 100k and 1M customers every processed table is identical).
"""

from __future__ import annotations

import codecs
import logging
import math
import shutil
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from queue import Empty, Full, Queue

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from journeylib.config import SourceSpec
from journeylib.engine import DuckDBEngine
from journeylib.schema import CHANNELS, DEVICES, PROCESSED_SCHEMAS
from journeylib.sessions import Carry, number_sorted
from journeylib.sql import literal, pseudonym_ranges, quote
from journeylib.validation import ROW, Collector

log = logging.getLogger(__name__)

__all__ = [
    "CHUNK_ROWS",
    "SpooledEvents",
    "UsePandasReader",
    "WrittenEvents",
    "event_ids",
    "find_duplicates",
    "iter_raw",
    "pseudonym_ranges",
    "source_bytes",
    "source_files",
    "spool_events",
    "write_events",
]

#: Rows of the raw events file checked at once in pandas (a few hundred MB at most).
CHUNK_ROWS = 1_000_000
_READ_BYTES = 1 << 20


# ---------------------------------------------------------------------------------------------
# reading in chunks
# ---------------------------------------------------------------------------------------------
class _BadBytes(Exception):
    """The raw bytes are not valid in the configured encoding (``offset``: first bad byte)."""

    def __init__(self, offset: int) -> None:
        super().__init__(offset)
        self.offset = offset


class _DecodedText:
    """A text stream over a binary file, decoded as it is read (for ``pandas.read_csv``).

    A decoding error raises :class:`_BadBytes` with the offset of the first bad byte, counted
    from where decoding started, as decoding the whole file at once would report it.
    """

    def __init__(self, fh, encoding: str) -> None:
        self._fh = fh
        self._decoder = codecs.getincrementaldecoder(encoding)("strict")
        self._fed = 0  # bytes passed to the decoder so far
        self._done = False

    def read(self, size: int = -1) -> str:
        while not self._done:
            block = self._fh.read(_READ_BYTES if size is None or size < 0 else max(size, 4))
            pending = len(self._decoder.getstate()[0])
            try:
                text = self._decoder.decode(block, final=not block)
            except UnicodeDecodeError as exc:
                raise _BadBytes(self._fed - pending + exc.start) from None
            self._fed += len(block)
            self._done = not block
            if text:
                return text
        return ""

    def __iter__(self):  # pandas only asks for read(); a file-like object must be iterable
        raise NotImplementedError


def iter_raw(
    path: Path,
    spec: SourceSpec,
    col: Collector,
    *,
    chunk_rows: int | None = CHUNK_ROWS,
    fast: bool = False,
    use_threads: bool = True,
) -> Iterator[pd.DataFrame]:
    """Yield one raw export in chunks, as strings (CSV) or native types (Parquet), with row numbers.

    Parameters
    ----------
    chunk_rows
        Rows per chunk; ``None`` reads the whole file as one frame (the small tables).
    fast
        Parse a UTF-8 CSV with Arrow's multi-threaded reader (several times faster than pandas'
        parser). It gives pandas' result or gives up: anything it reads differently (a short
        row, a blank-looking line of spaces, duplicate or empty header names, bytes that are not
        UTF-8, ...) raises :class:`UsePandasReader`, and the caller reads the file again with
        ``fast=False``, which reports the problem as pandas' parser sees it.
    use_threads
        Let Arrow's reader parse blocks on several threads (``engine.threads`` other than 1).

    Yields
    ------
    pandas.DataFrame
        The file's columns plus ``ROW`` (data rows counted from 1 over the whole file). CSV cells
        are strings (only empty cells missing), Parquet columns keep their types.

    A file that cannot be read is recorded in ``col`` (file not found, empty file, unknown file
    encoding, malformed CSV, unreadable Parquet file) and ends the iteration; chunks already
    yielded are then to be discarded, as the whole file would have been.
    """
    if path.is_dir():
        if spec.format == "csv":
            col.problem(
                None,
                "a folder is read only as partitioned Parquet",
                hint="point path at one CSV file, or set format: parquet (or auto)",
            )
            return
        if not source_files(path):
            col.problem(None, "empty folder", hint="the folder has no .parquet files")
            return
        chunks = _parquet_chunks(path, col, chunk_rows)
    elif not path.is_file():
        col.problem(None, "file not found", hint="check data.raw_dir and the source path")
        return
    elif path.stat().st_size == 0:
        col.problem(None, "empty file", hint="the file has 0 bytes")
        return
    elif spec.resolved_format == "parquet":
        chunks = _parquet_chunks(path, col, chunk_rows)
    elif fast and chunk_rows is not None and _arrow_can_read(spec):
        chunks = _arrow_csv_chunks(path, spec, chunk_rows, use_threads)
    else:
        chunks = _csv_chunks(path, spec, col, chunk_rows)
    start = 0
    for df in chunks:
        if df.empty:
            continue
        df = df.reset_index(drop=True)
        df[ROW] = pd.RangeIndex(start + 1, start + len(df) + 1).to_numpy(dtype="int64")
        start += len(df)
        yield df
    if start == 0 and not col.problems:
        col.problem(None, "empty file", hint="the header is there but there are no data rows")


class UsePandasReader(Exception):
    """Arrow's CSV reader cannot promise pandas' reading of this file: read it with pandas."""


def _arrow_can_read(spec: SourceSpec) -> bool:
    # the encodings whose byte-order mark pandas' path removes, as Arrow does
    return (
        spec.encoding.lower().replace("-", "") in {"utf8", "utf8sig"}
        and len(spec.delimiter) == 1
        and spec.delimiter not in '"\r\n'
    )


def _arrow_csv_chunks(
    path: Path, spec: SourceSpec, chunk_rows: int, use_threads: bool = True
) -> Iterator[pd.DataFrame]:
    """The chunks pandas' parser would give (``dtype=str``, only empty cells missing), read by
    Arrow; raises :class:`UsePandasReader` wherever the two could differ."""
    parse = pacsv.ParseOptions(delimiter=spec.delimiter, newlines_in_values=True)
    read = pacsv.ReadOptions(block_size=16 << 20, use_threads=use_threads)

    def convert(names: list[str] | None) -> pacsv.ConvertOptions:
        return pacsv.ConvertOptions(
            column_types={n: pa.string() for n in names or []},
            strings_can_be_null=True,
            null_values=[""],
            quoted_strings_can_be_null=True,
        )

    try:
        with pacsv.open_csv(
            path, read_options=read, parse_options=parse, convert_options=convert(None)
        ) as r:
            names = r.schema.names
        # pandas renames empty and repeated headers ("Unnamed: 1", "a.1"); Arrow does not
        if len(set(names)) != len(names) or any(n == "" for n in names):
            raise UsePandasReader
        reader = pacsv.open_csv(
            path, read_options=read, parse_options=parse, convert_options=convert(names)
        )
        with reader:
            pending: list[pa.RecordBatch] = []
            held = 0
            for batch in reader:
                pending.append(batch)
                held += batch.num_rows
                while held >= chunk_rows:
                    table = pa.Table.from_batches(pending, schema=reader.schema)
                    yield table.slice(0, chunk_rows).to_pandas()
                    rest = table.slice(chunk_rows)
                    pending, held = rest.to_batches(), rest.num_rows
            if held:
                yield pa.Table.from_batches(pending, schema=reader.schema).to_pandas()
    except (pa.ArrowException, UnicodeError, OSError) as exc:
        raise UsePandasReader from exc


def source_files(path: Path) -> list[Path]:
    """The files of one raw source: the file itself, or for a folder (partitioned Parquet, as a
    data lake or Spark writes it) every ``*.parquet`` file under it in path order, skipping
    hidden and ``_``-prefixed entries (``_SUCCESS``, ``_temporary/``, ``.crc`` files)."""
    if not path.is_dir():
        return [path]

    def visible(p: Path) -> bool:
        return not any(part.startswith(("_", ".")) for part in p.relative_to(path).parts)

    return sorted(p for p in path.rglob("*.parquet") if p.is_file() and visible(p))


def source_bytes(path: Path) -> int:
    """Size in bytes of one raw source (a file, or the files of a Parquet folder)."""
    return sum(p.stat().st_size for p in source_files(path))


def _hive_values(path: Path, file: Path) -> dict[str, str]:
    """``key=value`` folders between a Parquet folder and one of its files (hive partitioning:
    ``events/date=2025-01-01/part-0.parquet`` holds the column ``date``, as text)."""
    parts = file.relative_to(path).parts[:-1]
    return dict(part.split("=", 1) for part in parts if "=" in part)


def _parquet_chunks(path: Path, col: Collector, chunk_rows: int | None) -> Iterator[pd.DataFrame]:
    # per batch what pandas.read_parquet does for the whole file (pandas metadata, dtypes); a
    # folder is its files one after the other, partition values added as text columns
    files = source_files(path)
    current = path
    try:
        if chunk_rows is None and not path.is_dir():
            yield pd.read_parquet(path)
            return
        whole = []
        for current in files:
            pf = pq.ParquetFile(current)
            extra = _hive_values(path, current) if path.is_dir() else {}
            for batch in pf.iter_batches(batch_size=chunk_rows or 1_000_000):
                df = pa.Table.from_batches([batch], schema=pf.schema_arrow).to_pandas()
                for key, value in extra.items():
                    if key not in df.columns:
                        df[key] = pd.Series(value, index=df.index, dtype="str")
                if chunk_rows is None:
                    whole.append(df)
                else:
                    yield df
        if chunk_rows is None:
            yield pd.concat(whole, ignore_index=True) if whole else pd.DataFrame()
    except Exception as exc:  # noqa: BLE001 - any reader failure is a data problem
        where = f" ({current.relative_to(path)})" if path.is_dir() else ""
        col.problem(None, f"unreadable Parquet file{where}", hint=type(exc).__name__)


def _csv_chunks(
    path: Path, spec: SourceSpec, col: Collector, chunk_rows: int | None
) -> Iterator[pd.DataFrame]:
    encoding = spec.encoding
    with path.open("rb") as fh:
        head = fh.read(4)
        fh.seek(0)
        if head.startswith(codecs.BOM_UTF8) and encoding.lower().replace("-", "") in {
            "utf8",
            "utf8sig",
        }:
            fh.seek(len(codecs.BOM_UTF8))
            encoding = "utf-8"
        elif head.startswith(
            (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
        ) and not encoding.lower().startswith("utf-16"):
            col.problem(
                None,
                "unknown file encoding",
                hint="the file starts with a UTF-16 byte-order "
                "mark; set `encoding: utf-16` for this source in the config",
            )
            return
        try:
            text = _DecodedText(fh, encoding)
        except LookupError:
            col.problem(None, "unknown file encoding", hint=f"`{encoding}` is not an encoding name")
            return
        try:
            read = pd.read_csv(
                text,
                sep=spec.delimiter,
                dtype=str,
                keep_default_na=False,
                na_values=[""],
                skipinitialspace=False,
                chunksize=chunk_rows,
            )
            if chunk_rows is None:
                yield read
            else:
                with read as reader:
                    yield from reader
        except _BadBytes as exc:
            col.problem(
                None,
                "unknown file encoding",
                hint=f"not valid {spec.encoding} at byte {exc.offset}; set `encoding:` for this "
                "source in the config (e.g. cp1252 or latin-1 for Excel exports)",
            )
        except pd.errors.EmptyDataError:
            col.problem(None, "empty file", hint="no header row")
        except pd.errors.ParserError as exc:
            # pandas' message names the line and field counts, not the values.
            col.problem(None, "malformed CSV", hint=str(exc).splitlines()[-1][:200])


class _Background:
    """Writes run one at a time on one background thread, at most one waiting: Arrow and
    Parquet release the GIL, so a write overlaps the next chunk's checks (bounded memory: at
    most two chunks are held)."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-write")
        self._pending: Future | None = None

    def submit(self, fn: Callable, *args, **kwargs) -> None:
        self.wait()
        self._pending = self._pool.submit(fn, *args, **kwargs)

    def wait(self) -> None:
        """Wait for the running write; its error, if any, is raised here."""
        if self._pending is not None:
            pending, self._pending = self._pending, None
            pending.result()

    def close(self) -> None:
        try:
            self.wait()
        finally:
            self._pool.shutdown(wait=True)

    def __enter__(self) -> _Background:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _read_ahead(items: Iterator) -> Iterator:
    """``items`` produced one ahead on a background thread (errors are raised to the reader)."""
    done = object()
    queue: Queue = Queue(maxsize=1)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        queue.put((item, None), timeout=0.1)
                        break
                    except Full:
                        continue
                if stop.is_set():
                    return
            queue.put((done, None))
        except BaseException as exc:  # noqa: BLE001 - handed to the reading thread
            queue.put((done, exc))

    worker = threading.Thread(target=produce, name="ingest-read", daemon=True)
    worker.start()
    try:
        while True:
            item, exc = queue.get()
            if exc is not None:
                raise exc
            if item is done:
                return
            yield item
    finally:
        stop.set()
        while worker.is_alive():  # let a blocked put() finish so the thread ends
            try:
                queue.get(timeout=0.1)
            except Empty:
                pass
        worker.join()


# ---------------------------------------------------------------------------------------------
# the spool of checked chunks
# ---------------------------------------------------------------------------------------------
@dataclass
class SpooledEvents:
    """Checked, cleaned events in Parquet parts (one per chunk), not yet deduplicated.

    ``columns`` are the canonical columns in their processed order (``ROW`` excluded);
    ``dtypes`` their pandas dtypes; ``rows`` the rows kept by the checks; ``duplicates`` the
    rows :func:`find_duplicates` found (listed in the engine's ``_dup_rows`` table).
    """

    folder: Path
    columns: list[str]
    dtypes: dict[str, object]
    rows: int = 0
    duplicates: int = 0
    parts: int = 0
    info: dict = field(default_factory=dict)

    @property
    def relation(self) -> str:
        """The spool as a DuckDB table function."""
        return f"read_parquet({literal(str(self.folder / '*.parquet'))})"


def spool_events(
    path: Path,
    spec: SourceSpec,
    col: Collector,
    clean: Callable[[pd.DataFrame, Collector], pd.DataFrame | None],
    folder: Path,
    *,
    chunk_rows: int = CHUNK_ROWS,
    use_threads: bool = True,
) -> tuple[SpooledEvents | None, int | None]:
    """Read ``path`` in chunks, ``clean`` each (its checks recorded per chunk, merged into
    ``col``) and write the cleaned chunks to Parquet parts in ``folder``.

    ``clean(chunk, collector)`` maps, checks and cleans one raw chunk and returns it, or
    ``None`` when the columns cannot be mapped (then nothing more is read). Returns the spool
    (``None`` when the file could not be read or mapped) and the number of raw rows read
    (``None`` when the file could not be read).
    """
    kw = {"chunk_rows": chunk_rows, "use_threads": use_threads}
    try:
        return _spool(path, spec, col, clean, folder, fast=True, **kw)
    except UsePandasReader:
        log.info("%s: read with pandas' CSV parser (Arrow's reads it differently)", col.file)
        shutil.rmtree(folder, ignore_errors=True)
        return _spool(path, spec, col, clean, folder, fast=False, **kw)


def _spool(
    path: Path,
    spec: SourceSpec,
    col: Collector,
    clean: Callable[[pd.DataFrame, Collector], pd.DataFrame | None],
    folder: Path,
    *,
    chunk_rows: int,
    fast: bool,
    use_threads: bool,
) -> tuple[SpooledEvents | None, int | None]:
    folder.mkdir(parents=True, exist_ok=True)
    checks: Collector | None = None
    spooled: SpooledEvents | None = None
    schema: pa.Schema | None = None
    rows_read = 0
    with _Background() as writes:  # a chunk is written while the next one is checked
        chunks = iter_raw(
            path, spec, col, chunk_rows=chunk_rows, fast=fast, use_threads=use_threads
        )
        # Arrow parses the next chunk (without the GIL) while this one is checked
        for raw in _read_ahead(chunks) if fast else chunks:
            rows_read += len(raw)
            chunk_col = Collector(col.file, col.table, col.limit)
            df = clean(raw, chunk_col)
            del raw
            if checks is None:
                checks = chunk_col
            else:
                checks.merge(chunk_col)
            if df is None:
                break
            if spooled is None:
                columns = [c for c in df.columns if c != ROW]
                spooled = SpooledEvents(folder, columns, {c: df[c].dtype for c in columns})
            table = pa.Table.from_pandas(df, schema=schema, preserve_index=False)
            schema = schema or table.schema
            part = folder / f"part-{spooled.parts:05d}.parquet"
            writes.submit(pq.write_table, table, part, compression="snappy")
            spooled.parts += 1
            spooled.rows += len(df)
    if col.problems:  # the file could not be read: as for a small file, only that is reported
        return None, None
    if checks is not None:
        col.merge(checks)
    log.info(
        "%s: %d rows read, %d kept in %d chunks",
        col.file,
        rows_read,
        spooled.rows if spooled else 0,
        spooled.parts if spooled else 0,
    )
    return spooled, rows_read


def find_duplicates(engine: DuckDBEngine, events: SpooledEvents, *, limit: int) -> tuple[int, list]:
    """Mark exact duplicate rows (every mapped column equal) of the spool.

    Every copy after the first in file order is a duplicate (``DataFrame.duplicated``; missing
    values equal each other). Their row numbers go into the temporary table ``_dup_rows``.
    Returns the number of duplicates and the first ``limit`` row numbers.
    """
    cols = ", ".join(quote(c) for c in events.columns)
    row = quote(ROW)
    engine.execute(
        f"""CREATE OR REPLACE TEMP TABLE _dup_rows AS
        WITH hashed AS (SELECT hash({cols}) AS h FROM {events.relation}),
        shared AS (SELECT h FROM hashed GROUP BY h HAVING COUNT(*) > 1)
        SELECT {row} FROM (
            SELECT {row}, ROW_NUMBER() OVER (PARTITION BY {cols} ORDER BY {row}) AS copy_no
            FROM {events.relation}
            WHERE hash({cols}) IN (SELECT h FROM shared)
        ) WHERE copy_no > 1"""
    )
    found = engine.query(
        f"SELECT COUNT(*) OVER () AS n, {row} FROM _dup_rows ORDER BY {row} LIMIT {int(limit)}"
    )
    count = int(found["n"].iloc[0]) if len(found) else 0
    events.duplicates = count
    return count, [int(r) for r in found[ROW]]


def event_ids(engine: DuckDBEngine, events: SpooledEvents) -> pd.DataFrame:
    """The distinct raw ``customer_id`` of the deduplicated events with their row counts.

    One row per id (``customer_id``, ``rows``), in no particular order.
    """
    return engine.query(
        f"""SELECT customer_id, COUNT(*) AS rows FROM {events.relation}
        WHERE {quote(ROW)} NOT IN (SELECT {quote(ROW)} FROM _dup_rows)
        GROUP BY customer_id"""
    )


# ---------------------------------------------------------------------------------------------
# the processed events
# ---------------------------------------------------------------------------------------------
@dataclass
class WrittenEvents:
    """What ingest needs to know about the events it wrote, gathered while writing them."""

    rows: int
    ts_range: tuple[pd.Timestamp, pd.Timestamp] | None
    #: each customer's first event time (index: customer_id pseudonym, sorted)
    first_activity: pd.Series


#: Rows per batch streamed out of the engine and per row group of ``events.parquet``.
WRITE_BATCH_ROWS = 1 << 20
#: Events sorted per pass when writing (see :func:`write_events`).
PASS_ROWS = 6_000_000
#: From this many passes on, the events are split by pass once instead of read once per pass.
SPLIT_FROM_PASSES = 6


def write_events(
    engine: DuckDBEngine,
    events: SpooledEvents,
    ids: pd.DataFrame,
    target: Path,
    *,
    timeout_minutes: float | None,
    batch_rows: int | None = None,
    pass_rows: int | None = None,
) -> WrittenEvents:
    """Write the processed ``events.parquet``: pseudonymised, deduplicated, sessionised, sorted.

    The engine joins the pseudonyms, drops the duplicates and sorts by ``customer_id, ts,
    event`` (ties: file row); the sorted batches stream through
    :func:`journeylib.sessions.number_sorted` (session ids, ``event_seq``) into a Parquet
    writer, so only one batch is in Python at a time. (Window functions in the query did the
    same numbering 4x slower at 24M events: each window sorts again.)

    The sort runs in passes of about ``pass_rows`` events, one range of pseudonyms each
    (:func:`pseudonym_ranges`; pseudonyms are uniform hex digits), appended in order: each pass
    sorts in memory, where one sort of every event would spill (at 24M events with a 2 GB
    limit: 22 s in four passes, 42 s in one). Up to :data:`SPLIT_FROM_PASSES` passes each
    reads the spool again; beyond, one query first writes each range's events apart (in the
    spool's folder) and each pass reads its own. Beyond 16 passes the passes grow and DuckDB
    spills within them.

    Parameters
    ----------
    ids
        One row per raw id: ``raw_id`` (as in the spool) and ``customer_id`` (its pseudonym,
        after identity resolution).
    timeout_minutes
        Derive ``session_id`` from inactivity gaps (``<customer_id>-<n>``); ``None`` when the
        source maps its own session ids (then ``<customer_id>-<session_id>``).
    batch_rows, pass_rows
        Rows per streamed batch and row group (default :data:`WRITE_BATCH_ROWS`) and per sort
        pass (default :data:`PASS_ROWS`).

    Returns
    -------
    WrittenEvents
        Row count, time range and first event per customer of the written table.

    Raises
    ------
    AssertionError
        When a written row breaks the processed contract (a bug, never bad input).
    """
    batch_rows = batch_rows or WRITE_BATCH_ROWS
    pass_rows = pass_rows or PASS_ROWS
    engine.register("_event_ids", ids[["raw_id", "customer_id"]])
    row = quote(ROW)
    derive = timeout_minutes is not None
    # the mapped columns in the config's order; a derived session_id comes last (as sessionize)
    columns = [c for c in events.columns if c != "session_id" or not derive]
    columns += ["session_id"] if derive else []
    select = ", ".join(
        "i.customer_id"
        if c == "customer_id"
        else "i.customer_id || '-' || e.session_id AS session_id"
        if c == "session_id"
        else f"e.{quote(c)}"
        for c in columns
        if not (derive and c == "session_id")
    )

    def joined(where: str) -> str:  # the pseudonymised, deduplicated events of some customers
        return f"""SELECT {select}, e.{row} AS {row}
            FROM {events.relation} e
            JOIN (SELECT * FROM _event_ids WHERE {where}) i ON e.customer_id = i.raw_id
            WHERE e.{row} NOT IN (SELECT {row} FROM _dup_rows)"""

    out = ", ".join(quote(c) for c in columns if not (derive and c == "session_id"))
    order = f"ORDER BY customer_id, ts, event, {row}"
    ranges = pseudonym_ranges(math.ceil(events.rows / pass_rows))
    split = events.folder.with_name(events.folder.name + "-split")
    if len(ranges) < SPLIT_FROM_PASSES:  # each pass reads the spool again
        queries = [f"SELECT {out} FROM ({joined(where)}) {order}" for where in ranges]
    else:  # one pass writes each range's events apart, then each pass reads its own
        case = " ".join(f"WHEN {where} THEN {k}" for k, where in enumerate(ranges[:-1]))
        engine.execute(
            f"""COPY (SELECT *, CASE {case} ELSE {len(ranges) - 1} END AS _pass
                FROM ({joined("TRUE")}))
            TO {literal(str(split))} (FORMAT parquet, PARTITION_BY (_pass))"""
        )
        queries = [
            f"SELECT {out} FROM read_parquet({literal(str(split / f'_pass={k}' / '*.parquet'))}) "
            f"{order}"
            for k in range(len(ranges))
            if (split / f"_pass={k}").is_dir()
        ]
    dtypes = {**events.dtypes, "session_id": pd.StringDtype(), "event_seq": "int64"}
    metadata = _pandas_metadata({c: dtypes[c] for c in [*columns, "event_seq"]})
    carry = Carry()
    firsts_id: list[pa.Array] = []
    firsts_ts: list[pa.Array] = []
    rows = 0
    lo = hi = None
    writer: pq.ParquetWriter | None = None
    writes = _Background()  # a batch is written while the next one is sorted out and numbered
    pending: list[pa.RecordBatch] = []
    held = 0
    try:
        batches = (b for sql in queries for b in engine.arrow_batches(sql, batch_rows))
        for batch in batches:
            cust = batch.column("customer_id")
            ts = batch.column("ts")
            ts_us = ts.cast(pa.int64()).to_numpy()
            session, seq, first, carry = number_sorted(
                cust, ts_us, timeout_minutes=timeout_minutes or 0.0, carry=carry
            )
            if derive:
                sid = pc.binary_join_element_wise(cust, pa.array(session).cast(pa.string()), "-")
                batch = batch.append_column("session_id", sid)
            batch = batch.append_column("event_seq", pa.array(seq, pa.int64()))
            if writer is None:
                schema = batch.schema.with_metadata({b"pandas": metadata.encode("utf-8")})
                writer = pq.ParquetWriter(target, schema, compression="snappy")
                # the pandera contract (dtypes, columns) on the first rows as pandas reads them
                head = pa.Table.from_batches([batch.slice(0, 10_000)]).replace_schema_metadata(
                    schema.metadata
                )
                PROCESSED_SCHEMAS["events"].validate(head.to_pandas(), lazy=True)
            _check_contract(batch)
            pending.append(batch.replace_schema_metadata(writer.schema.metadata))
            held += batch.num_rows
            if held >= batch_rows:  # one row group of about batch_rows rows, as pandas writes
                writes.submit(writer.write_table, pa.Table.from_batches(pending), batch_rows)
                pending, held = [], 0
            mask = pa.array(first)
            firsts_id.append(cust.filter(mask))
            firsts_ts.append(ts.filter(mask))
            lo = ts_us.min() if lo is None else min(lo, ts_us.min())
            hi = ts_us.max() if hi is None else max(hi, ts_us.max())
            rows += batch.num_rows
        if pending:
            writes.submit(writer.write_table, pa.Table.from_batches(pending), batch_rows)
        if writer is None:  # no events at all: an empty table with the columns
            empty = pa.Schema.from_pandas(
                pd.DataFrame({c: pd.Series([], dtype=dtypes[c]) for c in [*columns, "event_seq"]}),
                preserve_index=False,
            )
            writer = pq.ParquetWriter(target, empty, compression="snappy")
    finally:
        try:
            writes.close()
        finally:
            if writer is not None:
                writer.close()
            engine.execute("DROP VIEW IF EXISTS _event_ids")
            shutil.rmtree(split, ignore_errors=True)
    first_activity = pd.Series(
        pa.chunked_array(firsts_ts, pa.timestamp("us", tz="UTC")).to_pandas(),
        dtype="datetime64[us, UTC]",
    )
    first_activity.index = pd.Index(
        pa.chunked_array(firsts_id, pa.string()).to_pandas(), dtype="string", name="customer_id"
    )
    first_activity.name = "ts"
    ts_range = None
    if rows:
        ts_range = tuple(pd.Timestamp(int(v), unit="us", tz="UTC") for v in (lo, hi))
    return WrittenEvents(rows, ts_range, first_activity)


_CHANNELS = pa.array(CHANNELS)
_DEVICES = pa.array(DEVICES)


def _check_contract(batch: pa.RecordBatch) -> None:
    """Every row of a written batch has the processed table's required values and labels."""
    bad = 0
    for c in ("customer_id", "ts", "event", "session_id", "channel", "device", "event_seq"):
        bad += batch.column(c).null_count
    bad += batch.num_rows - pc.sum(pc.is_in(batch.column("channel"), _CHANNELS)).as_py()
    bad += batch.num_rows - pc.sum(pc.is_in(batch.column("device"), _DEVICES)).as_py()
    if bad:  # a bug in ingest, never bad input
        raise AssertionError(f"{bad} values of the processed events break the events contract")


def _pandas_metadata(dtypes: dict[str, object]) -> str:
    """The ``pandas`` Parquet metadata pandas itself writes for a frame with these dtypes."""
    empty = pd.DataFrame({c: pd.Series([], dtype=d) for c, d in dtypes.items()})
    return pa.Schema.from_pandas(empty, preserve_index=False).metadata[b"pandas"].decode("utf-8")
