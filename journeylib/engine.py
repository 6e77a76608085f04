"""The one interface through which event-level queries run.

Analyses never import DuckDB: they ask an :class:`Engine` to run SQL over the canonical tables
and get a (small, aggregated) pandas frame back. :class:`DuckDBEngine` is the embedded default:
it exposes each processed Parquet table as a view, so queries stream over the files instead of
loading them into pandas, and it spills to disk beyond ``memory_limit``.
:class:`journeylib.spark.SparkEngine` (``engine: {kind: spark}``, ``pip install .[spark]``) has
the same interface and runs the same SQL text on Apache Spark: it translates the DuckDB dialect
with sqlglot, so queries are written once, in DuckDB's dialect, with the few DuckDB-only
expressions taken from :mod:`journeylib.sql` (``tests/test_spark_parity.py`` holds every
event-level output equal on both engines).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import pandas as pd

if TYPE_CHECKING:
    import pyarrow as pa

from journeylib.config import Config
from journeylib.project import resolve_path
from journeylib.sql import identifier, literal, pseudonym_ranges, temp_table

log = logging.getLogger(__name__)


@runtime_checkable
class Engine(Protocol):
    """What every engine offers to the analyses."""

    name: str

    def query(self, sql: str, params: dict[str, Any] | None = None) -> pd.DataFrame:
        """Run SQL over the canonical tables (referenced by name) and return pandas."""
        ...

    def scalar(self, sql: str, params: dict[str, Any] | None = None) -> Any:
        """The single value of a one-row, one-column query."""
        ...

    def execute(self, sql: str, params: dict[str, Any] | None = None) -> None:
        """Run a statement that returns nothing (``CREATE TEMP VIEW ...``)."""
        ...

    def register(self, name: str, df: pd.DataFrame) -> None:
        """Expose a (small) pandas frame as a table named ``name``."""
        ...

    def tables(self) -> list[str]:
        """Names of the tables the engine can see."""
        ...

    def has_table(self, name: str) -> bool:
        """Whether a table, view or temporary table ``name`` can be queried."""
        ...

    def close(self) -> None: ...


class DuckDBEngine:
    """DuckDB over the Parquet files of one processed folder.

    Parameters
    ----------
    processed_dir
        Folder holding ``<table>.parquet`` files (or ``<table>/`` folders of partitioned Parquet);
        ``None`` for an empty in-memory engine that frames are :meth:`register`-ed into.
    memory_limit
        DuckDB ``memory_limit``; larger intermediate results spill to ``temp_dir``.
    threads
        Worker threads; ``None`` lets DuckDB use every core.
    temp_dir
        Spill folder; ``None`` uses DuckDB's default (``.tmp`` next to a database, or the system
        temp folder for in-memory connections).
    """

    name = "duckdb"

    def __init__(
        self,
        processed_dir: str | Path | None,
        *,
        memory_limit: str = "4GB",
        threads: int | None = None,
        temp_dir: str | Path | None = None,
    ) -> None:
        import duckdb

        self.processed_dir = Path(processed_dir) if processed_dir is not None else None
        self._con = duckdb.connect(database=":memory:")
        self._con.execute("SET TimeZone = 'UTC'")
        self._con.execute(f"SET memory_limit = '{_safe_setting(memory_limit)}'")
        _disable_optimizers(self._con)
        if threads is not None:
            self._con.execute(f"SET threads = {int(threads)}")
        #: DuckDB's spill folder (None: its default); per-customer passes write their parts there
        self.temp_dir: Path | None = None
        if temp_dir is not None:
            spill = resolve_path(temp_dir)
            self.temp_dir = spill
            spill.mkdir(parents=True, exist_ok=True)
            self._con.execute(f"SET temp_directory = '{_safe_setting(str(spill))}'")
        self._tables: list[str] = []
        #: tables registered from frames (they may hide the folder's file of that name)
        self.registered: set[str] = set()
        if self.processed_dir is not None:
            self._register_folder()

    def _register_folder(self) -> None:
        if not self.processed_dir.is_dir():
            raise FileNotFoundError(f"{self.processed_dir} does not exist: prepare the data first")
        for path in sorted(self.processed_dir.iterdir()):
            if path.name.startswith((".", "_")):
                continue
            if path.suffix == ".parquet":
                name, pattern = path.stem, str(path)
            elif path.is_dir() and any(path.rglob("*.parquet")):
                name, pattern = path.name, str(path / "**" / "*.parquet")
            else:
                continue
            self._con.execute(
                f'CREATE OR REPLACE VIEW "{name}" AS SELECT * FROM read_parquet({literal(pattern)})'
            )
            self._tables.append(name)

    def query(self, sql: str, params: dict[str, Any] | None = None) -> pd.DataFrame:
        # Arrow keeps exact dtypes (timestamps stay tz-aware UTC) and is zero-copy where it can be.
        rel = self._con.sql(sql, params=params or None)
        return rel.to_arrow_table().to_pandas()

    def arrow_batches(self, sql: str, rows: int = 1_000_000) -> Iterator[pa.RecordBatch]:
        """Stream a query's result as Arrow record batches of about ``rows`` rows, for results
        too large for one frame (ingest writes the sorted events this way)."""
        yield from self._con.sql(sql).to_arrow_reader(rows)

    def scalar(self, sql: str, params: dict[str, Any] | None = None) -> Any:
        """The single value of a one-row, one-column query."""
        # through Arrow: fetchall() would need pytz for TIMESTAMPTZ values
        table = self._con.sql(sql, params=params or None).limit(1).to_arrow_table()
        if table.num_rows == 0:
            return None
        return table.column(0)[0].as_py()

    def execute(self, sql: str, params: dict[str, Any] | None = None) -> None:
        self._con.execute(sql, params or {})

    def register(self, name: str, df: pd.DataFrame) -> None:
        identifier(name, "table")
        self._con.register(f"__frame_{name}", df)
        self._con.execute(f'CREATE OR REPLACE TEMP VIEW "{name}" AS SELECT * FROM "__frame_{name}"')
        self.registered.add(name)
        if name not in self._tables:
            self._tables.append(name)

    def tables(self) -> list[str]:
        return list(self._tables)

    def has_table(self, name: str) -> bool:
        found = self.scalar(
            "SELECT COUNT(*) FROM (SELECT table_name AS n FROM duckdb_tables() "
            "UNION ALL SELECT view_name FROM duckdb_views()) WHERE n = $name",
            {"name": name},
        )
        return bool(found)

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> DuckDBEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


#: Folder of a processed folder holding kept results (:func:`kept`); ingest replaces the folder.
CACHE_DIR = "_cache"
#: Kept results per name (the oldest are removed).
_KEPT_FILES = 8


#: The processed tables a kept result depends on unless told otherwise: the canonical tables
#: and the catalogue (not the tables notebooks write beside them, such as the persona
#: assignments, which change during a run).
KEPT_TABLES = ("customers", "events", "orders", "feedback", "products")


def kept(
    engine: Engine,
    name: str,
    key: object,
    compute: Callable[[], pd.DataFrame],
    *,
    tables: Sequence[str] = KEPT_TABLES,
    columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """``compute()``, kept per processed folder so that later calls with the same ``key`` (and
    later notebooks of the run) read it instead of computing it again.

    A result is kept, as ``<processed>/_cache/<name>-<hash>.parquet``, only for a
    :class:`DuckDBEngine` over a processed folder with no frame registered in it (a registered
    frame may stand in for a file). The hash covers ``repr(key)``, which must name everything
    the result depends on besides the folder's tables, and the path, size and modification time
    of every Parquet file of the ``tables`` it reads (a file or a folder each) and of ingest's
    manifest: a new ingest or any changed file gives a new hash.
    Attributes (``attrs``) are kept with the table. A read-only folder keeps nothing; a damaged
    kept file is computed again. At most :data:`_KEPT_FILES` results per name are kept.

    ``columns``: only these of the result's columns are returned (those it has, in its order),
    and only they are read from a kept file; the whole result is kept all the same.
    """
    path = _kept_path(engine, name, key, tables)
    if path is None:
        return _only(compute(), columns)
    # notebooks running at once (report.workers) may ask for the same result: the first computes
    # it, the others wait for it and read it
    with _computing(path):
        df = _read_kept(path, columns)
        if df is None:
            df = compute()
            _keep(df, path, name)
    return _only(df, columns)


def _only(df: pd.DataFrame, columns: Sequence[str] | None) -> pd.DataFrame:
    """``df``'s columns among ``columns``, in ``df``'s order (all when ``columns`` is None)."""
    if columns is None:
        return df
    wanted = set(columns)
    return df[[c for c in df.columns if c in wanted]]


def _read_kept(path: Path, columns: Sequence[str] | None = None) -> pd.DataFrame | None:
    if not path.is_file():
        return None
    try:
        if columns is not None:
            import pyarrow.parquet as pq

            wanted = set(columns)
            columns = [c for c in pq.read_schema(path).names if c in wanted]
        # converted column by column, each freed as it goes: the table is held about once
        df = pd.read_parquet(
            path,
            columns=columns,
            to_pandas_kwargs={"self_destruct": True, "split_blocks": True},
        )
    except Exception:  # noqa: BLE001 - a damaged kept file is only a lost shortcut
        log.info("kept result %s unreadable: computed again", path.name)
        return None
    import pyarrow as pa

    pa.default_memory_pool().release_unused()  # the freed Arrow buffers back
    return df


@contextlib.contextmanager
def _computing(path: Path) -> Iterator[None]:
    """Hold ``<kept file>.lock`` (an exclusive ``flock``, released when the process ends);
    without locking (a read-only folder, or no ``fcntl``) nothing is held."""
    try:
        import fcntl

        path.parent.mkdir(parents=True, exist_ok=True)
        handle = path.with_suffix(".lock").open("a")
    except (ImportError, OSError):
        yield
        return
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _kept_path(engine: Engine, name: str, key: object, tables: Sequence[str]) -> Path | None:
    import hashlib

    folder = getattr(engine, "processed_dir", None)
    if not isinstance(engine, DuckDBEngine) or folder is None or engine.registered:
        return None
    parts = [name, repr(key)]
    for table in tables:
        file, part_folder = folder / f"{table}.parquet", folder / table
        files = [file] if file.is_file() else sorted(part_folder.rglob("*.parquet"))
        if not files:
            parts.append(f"{table}: none")
        for path in files:
            stat = path.stat()
            parts.append(f"{path.relative_to(folder).as_posix()}:{stat.st_size}:{stat.st_mtime_ns}")
    manifest = folder / "_manifest.json"
    if manifest.is_file():
        stat = manifest.stat()
        parts.append(f"_manifest.json:{stat.st_size}:{stat.st_mtime_ns}")
    digest = hashlib.sha256("\n".join(parts).encode()).hexdigest()[:20]
    return folder / CACHE_DIR / f"{name}-{digest}.parquet"


def _keep(df: pd.DataFrame, path: Path, name: str) -> None:
    from journeylib.parquetout import write_parquet
    from journeylib.project import atomic_path

    try:
        with atomic_path(path) as tmp:
            write_parquet(df, tmp)
        older = sorted(path.parent.glob(f"{name}-*.parquet"), key=lambda p: p.stat().st_mtime)
        for old in older[:-_KEPT_FILES]:
            old.unlink(missing_ok=True)
            old.with_suffix(".lock").unlink(missing_ok=True)
    except OSError:  # a read-only processed folder: nothing kept, nothing lost
        pass


#: Events per pass of :func:`query_per_customer` (about 1.3M customers of the synthetic client:
#: one pass up to 1M customers; 8 at 10M, each well inside the default 4 GB ``memory_limit``).
CUSTOMER_PASS_EVENTS = 30_000_000


def query_per_customer(
    engine: Engine,
    select: str | Callable[[str], str],
    *,
    events: int | None = None,
    pass_events: int | None = None,
    tables: Sequence[str] = (),
    below: str | None = None,
    params: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """A query whose aggregates are per customer, run in passes over ranges of customer ids.

    The passes' rows are stacked: one row per customer stays one row per customer; a caller
    whose query then aggregates over customers adds up the parts (``stage_transitions``).

    ``select(where)`` returns the SQL, restricting every table it reads to the customers
    matching the condition ``where`` on ``customer_id`` (``"TRUE"``: everyone) and ordering the
    rows by ``customer_id``. Or ``select`` is the SQL itself and ``tables`` names the
    customer-keyed tables it reads: each pass then sees only its customers' rows of them (temporary
    views of the same names narrow the folder's tables), so a query whose every aggregate is
    per customer runs in passes unchanged.

    ``events`` is the number of events it reads (``None``: the rows of the ``events`` table,
    counted on DuckDB only, where passes run); above ``pass_events`` (default
    :data:`CUSTOMER_PASS_EVENTS`) per pass, a :class:`DuckDBEngine` over a processed folder runs
    it once per range of :func:`journeylib.sql.pseudonym_ranges` (consecutive in sort order, so
    the stacked rows stay sorted): each pass aggregates a part of the events within
    ``memory_limit``, where one query over every event spills or overruns it (10M customers:
    out of memory in the customer feature table). DuckDB writes each pass to Parquet in a
    temporary folder (in ``temp_dir`` when set); the parts are read back and converted to pandas
    once, column by column, freeing each as it goes, so the result is held about once, not
    twice. Other engines (Spark spreads one query over a cluster), and tables registered from
    frames, run the query once over everyone.

    ``below`` is the bound of a :func:`journeylib.sql.pseudonym_sample` the query keeps
    (``events`` then counts the sample's events): the passes split the sample's range, so each
    holds a share of it, not one pass all of it and the others none. ``params`` are the query's
    named parameters (``$name``).
    """
    sql = select if callable(select) else (lambda _where: select)
    if not callable(select) and not tables:
        raise ValueError("query_per_customer: give select(where), or the SQL and its tables")
    events, ranges = _customer_ranges(engine, events, pass_events, below)
    narrow = [t for t in tables if t in engine.tables()]
    if (
        len(ranges) == 1
        or not isinstance(engine, DuckDBEngine)
        or (not callable(select) and engine.registered & set(narrow))
    ):
        return engine.query(sql("TRUE"), params)
    import tempfile

    import pyarrow as pa
    import pyarrow.parquet as pq

    # each pass is written to Parquet by DuckDB and the parts read back at the end: held in
    # Python as they came, the passes' Arrow results sat beside DuckDB's buffers (14 GB resident
    # for a 5.6 GB table of 10M customers)
    with tempfile.TemporaryDirectory(prefix="journey-passes-", dir=engine.temp_dir) as tmp:
        paths = [Path(tmp) / f"part-{i:02d}.parquet" for i in range(len(ranges))]
        for where, path in zip(ranges, paths, strict=True):
            copy = f"COPY ({sql(where)}) TO {literal(str(path))} (FORMAT parquet)"
            if callable(select):
                engine._con.execute(copy, params or None)
                continue
            for t in narrow:  # temporary views come first in name resolution
                engine._con.execute(
                    f'CREATE OR REPLACE TEMP VIEW "{t}" AS SELECT * FROM memory.main."{t}" '
                    f"WHERE {where}"
                )
            try:
                engine._con.execute(copy, params or None)
            finally:
                for t in narrow:
                    engine._con.execute(f'DROP VIEW IF EXISTS temp.main."{t}"')
        log.info(
            "per-customer query in %d passes of about %d events", len(ranges), events // len(ranges)
        )
        parts = [pq.read_table(path) for path in paths]
    # DuckDB marks a column NOT NULL where a pass's condition proves it (customer_id in a range
    # that holds no one): the parts differ only in that, so all are read as nullable
    schema = pa.schema([f.with_nullable(True) for f in parts[0].schema], parts[0].schema.metadata)
    table = pa.concat_tables([part.cast(schema) for part in parts])
    del parts
    df = table.to_pandas(self_destruct=True, split_blocks=True)
    pa.default_memory_pool().release_unused()  # the freed Arrow buffers back to the system
    return df


def _customer_ranges(
    engine: Engine, events: int | None, pass_events: int | None, below: str | None = None
) -> tuple[int, list[str]]:
    """The events a per-customer query reads (counted when ``None``) and the customer ranges
    of its passes (:func:`query_per_customer`)."""
    if events is None:
        counted = isinstance(engine, DuckDBEngine) and "events" in engine.tables()
        events = int(engine.scalar("SELECT COUNT(*) FROM events") or 0) if counted else 0
    passes = -(-events // (pass_events or CUSTOMER_PASS_EVENTS))
    return events, pseudonym_ranges(passes, below=below)


def temp_table_per_customer(
    engine: Engine,
    name: str,
    select: Callable[[str], str],
    *,
    events: int | None = None,
    pass_events: int | None = None,
) -> None:
    """``temp_table(name, select("TRUE"))``, for a query whose every row is worked out from
    one customer's rows alone, built in passes over ranges of customers where
    :func:`query_per_customer` would run in passes (``select(where)`` restricts every table it
    reads to the customers matching ``where``): the first range's rows create the table, the
    others' are inserted, each pass within ``memory_limit``. The table is built under another
    name and renamed at the end, so a failed pass leaves no partial table behind. Created once:
    nothing is done when ``name`` exists. Other engines run it once over everyone."""
    if not isinstance(engine, DuckDBEngine):
        engine.execute(temp_table(name, select("TRUE")))
        return
    if engine.has_table(name):
        return
    _, ranges = _customer_ranges(engine, events, pass_events)
    if len(ranges) == 1:
        engine.execute(temp_table(name, select("TRUE")))
        return
    building = f"{name}__building"
    engine.execute(f"DROP TABLE IF EXISTS temp.main.{identifier(building)}")
    try:
        engine.execute(f"CREATE TEMP TABLE {identifier(building)} AS {select(ranges[0])}")
        for where in ranges[1:]:
            engine.execute(f"INSERT INTO temp.main.{identifier(building)} {select(where)}")
        engine.execute(f"ALTER TABLE temp.main.{identifier(building)} RENAME TO {identifier(name)}")
    except BaseException:
        engine.execute(f"DROP TABLE IF EXISTS temp.main.{identifier(building)}")
        raise
    log.info("temporary table %s built in %d passes over ranges of customers", name, len(ranges))


def drop_temp_table(engine: Engine, name: str) -> None:
    """Free a temporary table no longer needed, on DuckDB (it holds memory or spill space).
    Spark keeps it: its temporary tables are computed lazily, and one built from it would
    compute it again."""
    if isinstance(engine, DuckDBEngine):
        engine.execute(f"DROP TABLE IF EXISTS temp.main.{identifier(name)}")


def query_customer_rows(
    engine: Engine,
    sql: str,
    *,
    params: dict[str, Any] | None = None,
    table: str = "events",
    customer_col: str = "customer_id",
    also: Sequence[str] = (),
) -> pd.DataFrame:
    """A query whose every aggregate is per customer, over ``table``: in passes over ranges of
    customers (:func:`query_per_customer`, the rows stacked) when it reads the processed
    ``events`` keyed by ``customer_id``; a view or frame, or other column names, run it once.
    ``also`` names the other customer-keyed tables it reads, narrowed alike."""
    if table != "events" or customer_col != "customer_id":
        return engine.query(sql, params)
    return query_per_customer(engine, sql, tables=(table, *also), params=params)


def query_customer_sums(
    engine: Engine,
    sql: str,
    *,
    keys: Sequence[str] = (),
    params: dict[str, Any] | None = None,
    table: str = "events",
    customer_col: str = "customer_id",
    also: Sequence[str] = (),
) -> pd.DataFrame:
    """An aggregate whose every column but ``keys`` is a sum over customers, each customer's
    share worked out from that customer's rows alone (counts, sums, distinct customers).

    Over the processed ``events`` keyed by ``customer_id`` it runs like
    :func:`query_per_customer`: above 30M events, once per range of customers, and the passes'
    rows are added up per ``keys`` (sorted by them); one row when there are none. ``also``
    names the other tables keyed by customer it reads (``orders``), narrowed to each pass's
    customers too. A view or frame, or other column names, run it once. Not for medians, shares
    or anything else that does not add up.
    """
    parts = query_customer_rows(
        engine, sql, params=params, table=table, customer_col=customer_col, also=also
    )
    if keys:
        summed = parts.groupby(list(keys), sort=True, dropna=False).sum(min_count=1)
        return summed.reset_index()
    return parts.sum(min_count=1).to_frame().T.infer_objects() if len(parts) else parts


#: DuckDB optimizers every engine turns off. ``partitioned_execution`` (DuckDB 1.4+) splits an
#: aggregate over a Parquet file sorted by the grouping key (the processed events, sorted by
#: customer) into one branch per about 20 row groups, and under any filter every branch reads
#: the whole file: at 10M customers (427 row groups, 21 branches) a per-customer count of the
#: purchases took 84 s instead of 6 s, and a pass over a range of customers 38 s instead of 6 s.
DISABLED_OPTIMIZERS = ("partitioned_execution",)


def _disable_optimizers(con: Any, names: Sequence[str] = DISABLED_OPTIMIZERS) -> None:
    """Add ``names`` to DuckDB's ``disabled_optimizers``, skipping those this version lacks."""
    known = {row[0] for row in con.execute("SELECT name FROM duckdb_optimizers()").fetchall()}
    before = str(con.execute("SELECT current_setting('disabled_optimizers')").fetchone()[0])
    names = [n for n in before.split(",") if n.strip()] + [n for n in names if n in known]
    con.execute(f"SET disabled_optimizers = '{_safe_setting(','.join(names))}'")


def _safe_setting(value: str) -> str:
    if "'" in value or ";" in value:
        raise ValueError("engine settings must not contain quotes or semicolons")
    return value


def engine_for(*, threads: int | None = 1, **frames: pd.DataFrame) -> DuckDBEngine:
    """An in-memory engine over pandas frames, e.g. ``engine_for(events=df)``.

    This is how analysis functions are used on small data and in tests: the same SQL runs over
    the frames as over the processed Parquet files.

    >>> eng = engine_for(events=pd.DataFrame({"customer_id": ["a", "b"]}))
    >>> int(eng.scalar("SELECT COUNT(*) FROM events"))
    2
    """
    engine = DuckDBEngine(None, memory_limit="2GB", threads=threads)
    for name, df in frames.items():
        engine.register(name, df)
    return engine


def as_engine(data: Engine | pd.DataFrame, name: str = "events") -> Engine:
    """``data`` itself if it is an engine, else an in-memory engine with ``data`` as ``name``.

    Analysis functions take ``events: Engine | DataFrame`` and call this first, so an analyst
    can pass a frame and the pipeline can pass the engine over the processed Parquet files.
    """
    if isinstance(data, pd.DataFrame):
        return engine_for(**{name: data})
    if isinstance(data, Engine):
        return data
    raise TypeError(f"expected an Engine or a pandas DataFrame, got {type(data).__name__}")


def get_engine(config: Config) -> Engine:
    """The engine the config asks for, over the client's processed tables.

    ``engine.kind: spark`` needs PySpark (``pip install .[spark]``): without it this raises an
    ``ImportError`` that says so. PySpark is imported only here, only for that kind.
    """
    spec = config.engine
    if spec.kind == "duckdb":
        return DuckDBEngine(
            config.processed_dir,
            memory_limit=spec.memory_limit,
            threads=spec.threads,
            temp_dir=spec.temp_dir,
        )
    if spec.kind == "spark":
        from journeylib.spark import SparkEngine

        return SparkEngine.from_config(config)
    raise ValueError(f"unknown engine {spec.kind!r}")  # pragma: no cover - pydantic guards it
