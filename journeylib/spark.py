"""The Spark engine: the analyses' SQL, written once in DuckDB's dialect, run on Apache Spark.

Analyses build one SQL text (DuckDB dialect, with the dialect points in :mod:`journeylib.sql`).
:func:`to_spark` translates it with sqlglot (``read="duckdb", write="spark"``) plus the few
rewrites sqlglot does not make (listed in :data:`REWRITES`); :class:`SparkEngine` binds the
``$parameters`` as Spark's named parameters, runs ``spark.sql`` on the cluster and brings the
(small, aggregated) result back to the driver through Arrow. There is no second copy of any
query.

PySpark and sqlglot are optional (``pip install .[spark]``): nothing here is imported unless the
config says ``engine: {kind: spark}`` or a caller imports this module. See ``docs/spark.md``.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd
import pyarrow as pa

from journeylib.project import resolve_path
from journeylib.sql import IDENTIFIER, identifier

if TYPE_CHECKING:  # pragma: no cover
    from journeylib.config import Config

log = logging.getLogger(__name__)

__all__ = [
    "REWRITES",
    "SPARK_INSTALL_HINT",
    "SparkEngine",
    "SparkTranslationError",
    "spark_session",
    "to_spark",
]

#: What to tell a user whose config asks for Spark without PySpark installed.
SPARK_INSTALL_HINT = (
    "the Spark engine (engine: {kind: spark}) needs PySpark and sqlglot: "
    "pip install -c constraints.txt '.[spark]' (PySpark also needs Java 17 or newer)"
)

#: Session settings every :class:`SparkEngine` applies to its own session: UTC like
#: :class:`~journeylib.engine.DuckDBEngine`, and ANSI SQL so that bad casts, overflows and
#: out-of-range list positions fail or give NULL as in DuckDB rather than wrap silently.
SESSION_CONF: dict[str, str] = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.ansi.enabled": "true",
    "spark.sql.legacy.sizeOfNull": "false",
}

#: The DuckDB constructs the analyses use that sqlglot leaves wrong or unsupported for Spark,
#: and what :func:`to_spark` writes instead (the Spark spelling of each :mod:`journeylib.sql`
#: dialect point).
REWRITES: dict[str, str] = {
    "hash(x)": "xxhash64(x) (Spark's hash() is 32-bit: collisions at a million customers)",
    "list(x ORDER BY k) [FILTER (WHERE c)]": "array_sort(collect_list(x) [FILTER (WHERE c)]), "
    "through struct(k, x) when k is not x",
    "list(x) FILTER (WHERE c)": "collect_list(x) FILTER (WHERE c), made NULL when no row passes "
    "as in DuckDB (unlike DuckDB, Spark leaves NULL values out of an unordered list)",
    "array_length(l)": "size(l) (NULL for a NULL list: spark.sql.legacy.sizeOfNull=false)",
    "l[i], list_extract(l, i)": "try_element_at(l, i) (1-based, NULL beyond the end)",
    "list_concat(a, b)": "concat(coalesce(a, array()), coalesce(b, array())) (NULL = empty)",
    "string_agg(x, sep ORDER BY k)": "array_join of the sorted collect_list of struct(k, x)",
    "EXTRACT(EPOCH FROM ts)": "unix_micros(ts) / 1e6 (fractions kept)",
    "timezone(zone, ts)": "CAST(from_utc_timestamp(ts, zone) AS TIMESTAMP_NTZ) (wall clock)",
    "row(a, b) (min_by/max_by keys)": "struct(a, b)",
    "PERCENTILE_CONT(q) WITHIN GROUP (ORDER BY x)": "percentile(x, q), exact (sqlglot writes "
    "the approximate percentile_approx)",
    "FROM range(a, b, step)": "a subquery exploding sequence(a, b, step), b left out",
    "1.5 (a DECIMAL literal)": "CAST(1.5 AS DOUBLE) (Spark's exact decimal division rounds to "
    "6 places and returns decimals)",
    "WITH x AS (WITH y AS ... SELECT ...)": "kept nested (sqlglot hoists inner WITHs, which "
    "breaks an inner CTE named like an outer one)",
    "CREATE TEMP TABLE [IF NOT EXISTS] t AS q": "q as a persisted temporary view "
    "(SparkEngine.execute)",
}


class SparkTranslationError(ValueError):
    """A query uses DuckDB syntax that has no Spark translation here (the message names it)."""


def _import_pyspark():  # noqa: ANN202 - the pyspark.sql module
    try:
        import pyspark.sql
    except ImportError as exc:  # pragma: no cover - exercised by test_spark_optional
        raise ImportError(SPARK_INSTALL_HINT) from exc
    return pyspark.sql


def _import_sqlglot():  # noqa: ANN202 - the sqlglot module
    try:
        import sqlglot
    except ImportError as exc:  # pragma: no cover - exercised by test_spark_optional
        raise ImportError(SPARK_INSTALL_HINT) from exc
    return sqlglot


# ---- translation -----------------------------------------------------------------------------
@functools.lru_cache(maxsize=1024)
def to_spark(sql: str) -> str:
    """The Spark SQL of one DuckDB statement (``$name`` parameters become ``:name``).

    >>> to_spark("SELECT hash(customer_id) AS k FROM events WHERE ts < $until")
    'SELECT XXHASH64(customer_id) AS k FROM events WHERE ts < :until'
    """
    sqlglot = _import_sqlglot()
    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except sqlglot.errors.ParseError as exc:
        raise SparkTranslationError(f"sqlglot cannot parse this DuckDB query: {exc}") from exc
    return _generator().generate(_rewrite(tree))


@functools.cache
def _generator_class():  # noqa: ANN202 - a sqlglot Generator subclass
    from sqlglot.generators.spark import SparkGenerator

    class NestedCteSpark(SparkGenerator):
        # sqlglot hoists nested WITHs to the top for Hive; Spark 3.2+ runs them in place, and
        # hoisting breaks queries whose inner and outer CTEs share a name (DuckDB and Spark let
        # the inner one shadow the outer one).
        EXPRESSIONS_WITHOUT_NESTED_CTES: ClassVar[set] = set()

    logging.getLogger("sqlglot").addFilter(_SqlglotNoise())
    return NestedCteSpark


def _generator():  # noqa: ANN202 - a sqlglot Generator
    return _generator_class()(dialect="spark")


class _SqlglotNoise(logging.Filter):
    """Drop sqlglot's warning about EXTRACT from time-zone-aware timestamps: both engines run
    in UTC (:data:`SESSION_CONF`), so the fields agree."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "EXTRACT from TIMESTAMPTZ" not in record.getMessage()


def _rewrite(tree):  # noqa: ANN001,ANN202 - sqlglot expressions
    from sqlglot import exp

    def fix(node):  # noqa: ANN001,ANN202
        if isinstance(node, exp.Filter) and isinstance(node.this, exp.ArrayAgg):
            return _collect(node.this, node.expression)
        if isinstance(node, exp.ArrayAgg) and not isinstance(node.parent, exp.Filter):
            return _collect(node, None)
        if isinstance(node, exp.Anonymous):
            name = node.name.lower()
            args = node.expressions
            if name == "hash" and len(args) >= 1:
                return exp.Anonymous(this="XXHASH64", expressions=args)
            if name == "timezone" and len(args) == 2:
                local = exp.Anonymous(this="FROM_UTC_TIMESTAMP", expressions=[args[1], args[0]])
                return exp.Cast(this=local, to=exp.DataType.build("TIMESTAMP_NTZ", dialect="spark"))
            if name == "row":
                return exp.Struct(expressions=args)
            if name in ("list_extract", "list_element", "array_extract") and len(args) == 2:
                return exp.Anonymous(this="TRY_ELEMENT_AT", expressions=args)
        if isinstance(node, exp.Tuple) and isinstance(node.parent, exp.ArgMin | exp.ArgMax):
            return exp.Struct(expressions=node.expressions)
        if isinstance(node, exp.Extract) and node.name.upper() == "EPOCH":
            micros = exp.Anonymous(this="UNIX_MICROS", expressions=[node.expression])
            return exp.Paren(this=exp.Div(this=micros, expression=exp.Literal.number("1e6")))
        if isinstance(node, exp.Table) and isinstance(node.this, exp.GenerateSeries):
            return _series_table(node)
        if isinstance(node, exp.Bracket) and len(node.expressions) == 1:
            return _element_at(node)
        if isinstance(node, exp.ArrayConcat):
            return _concat([node.this, *node.expressions])
        if isinstance(node, exp.GroupConcat):
            return _string_agg(node)
        if isinstance(node, exp.WithinGroup) and isinstance(
            node.this, exp.PercentileCont | exp.PercentileDisc
        ):
            return _percentile_within(node)
        if isinstance(node, exp.PercentileCont) and node.expression is not None:
            return exp.Anonymous(this="PERCENTILE", expressions=[node.this, node.expression])
        if _is_decimal(node) and not isinstance(
            node.parent, exp.Cast | exp.PercentileCont | exp.PercentileDisc
        ):
            return exp.Cast(this=node.copy(), to=exp.DataType.build("DOUBLE"))
        return node

    # sqlglot's transform does not descend into a node it has just replaced, so repeat until
    # nothing changes (every rewrite produces nodes that no rule matches again).
    for _ in range(20):
        before = tree.sql(dialect="duckdb")
        tree = tree.transform(fix)
        if tree.sql(dialect="duckdb") == before:
            return tree
    raise SparkTranslationError(
        "the Spark rewrites of this query do not settle"
    )  # pragma: no cover


def _percentile_within(node):  # noqa: ANN001,ANN202
    """``PERCENTILE_CONT(q) WITHIN GROUP (ORDER BY x)`` -> Spark's exact ``percentile(x, q)``
    (sqlglot would write the approximate ``percentile_approx``); ``PERCENTILE_DISC`` stays."""
    from sqlglot import exp

    order = node.expression.expressions
    if len(order) != 1:
        raise SparkTranslationError("a percentile WITHIN GROUP must order by one expression")
    (key,) = order
    q = node.this.this
    if isinstance(node.this, exp.PercentileDisc):
        return exp.WithinGroup(
            this=exp.Anonymous(this="PERCENTILE_DISC", expressions=[q.copy()]),
            expression=node.expression.copy(),
        )
    if key.args.get("desc"):
        q = exp.Sub(this=exp.Literal.number(1), expression=q.copy())
    return exp.Anonymous(this="PERCENTILE", expressions=[key.this.copy(), q.copy()])


def _is_decimal(node) -> bool:  # noqa: ANN001
    from sqlglot import exp

    return (
        isinstance(node, exp.Literal)
        and not node.is_string
        and "." in node.this
        and "e" not in node.this.lower()
    )


def _collect(agg, where):  # noqa: ANN001,ANN202
    """``list(x [ORDER BY k]) [FILTER (WHERE c)]`` -> Spark, NULL (not []) when no row passes."""
    from sqlglot import exp

    value = agg.this
    order = None
    if isinstance(value, exp.Order):
        order = value.expressions
        value = value.this
    if order is not None and any(o.args.get("desc") for o in order):
        raise SparkTranslationError(
            "list(... ORDER BY ... DESC) has no Spark translation here; sort ascending"
        )
    keys = [o.this for o in order] if order else []
    if keys and not (len(keys) == 1 and keys[0] == value):
        fields = [exp.alias_(k.copy(), f"_k{i}") for i, k in enumerate(keys)]
        item = exp.Struct(expressions=[*fields, exp.alias_(value.copy(), "_v")])
    else:
        item = value.copy()
    out = exp.Anonymous(this="COLLECT_LIST", expressions=[item])
    if where is not None:
        out = exp.Filter(this=out, expression=where.copy())
    if keys:
        out = exp.Anonymous(this="ARRAY_SORT", expressions=[out])
        if item is not value and not (len(keys) == 1 and keys[0] == value):
            out = _transform_field(out, "_v")
    if where is None:
        return out
    # DuckDB gives NULL for a filtered list with no row; Spark gives []: make it NULL.
    return exp.If(
        this=exp.EQ(
            this=exp.Anonymous(this="SIZE", expressions=[out.copy()]),
            expression=exp.Literal.number(0),
        ),
        true=exp.Null(),
        false=out,
    )


def _transform_field(lst, field: str):  # noqa: ANN001,ANN202
    import sqlglot

    return sqlglot.parse_one(f"TRANSFORM(__L__, _s -> _s.{field})", read="spark").transform(
        lambda n: lst.copy() if getattr(n, "name", None) == "__L__" else n
    )


def _series_table(node):  # noqa: ANN001,ANN202
    """``FROM range(a, b, step)`` / ``generate_series(a, b, step)`` (DuckDB table functions)
    -> a subquery exploding Spark's ``sequence``; ``range`` leaves out ``b`` as DuckDB does."""
    import sqlglot
    from sqlglot import exp

    series = node.this
    exclusive = bool(series.args.get("is_end_exclusive"))
    step = series.args.get("step")
    if step is None or not _positive_step(step):
        raise SparkTranslationError(
            "range()/generate_series() needs a positive literal step for Spark "
            "(e.g. INTERVAL 1 DAY)"
        )
    alias = node.args.get("alias")
    columns = alias.columns if alias is not None else []
    column = columns[0].name if columns else ("range" if exclusive else "generate_series")
    name = alias.name if alias is not None and alias.name else column
    where = " WHERE _gs < __E__" if exclusive else ""
    template = sqlglot.parse_one(
        f"SELECT * FROM (SELECT _gs AS {identifier(column, 'column')} FROM "
        f"(SELECT EXPLODE(SEQUENCE(__S__, __E__, __P__)) AS _gs){where}) AS {identifier(name)}",
        read="spark",
    )
    parts = {"__S__": series.args["start"], "__E__": series.args["end"], "__P__": step}
    template = template.transform(
        lambda n: parts[n.name].copy() if isinstance(n, exp.Column) and n.name in parts else n
    )
    return template.args["from_"].this


def _positive_step(step) -> bool:  # noqa: ANN001
    from sqlglot import exp

    if isinstance(step, exp.Interval):
        value = step.this
        return isinstance(value, exp.Literal) and float(value.this) > 0
    return isinstance(step, exp.Literal) and not step.is_string and float(step.this) > 0


def _element_at(node):  # noqa: ANN001,ANN202
    """``l[i]`` (DuckDB, 1-based; sqlglot has already made literal positions 0-based)."""
    from sqlglot import exp

    (index,) = node.expressions
    if isinstance(index, exp.Literal) and index.is_string:
        return node  # map or struct field access: the same in Spark
    if isinstance(index, exp.Slice):
        raise SparkTranslationError("list slices l[a:b] have no Spark translation here")
    if isinstance(index, exp.Literal):
        position = exp.Literal.number(int(index.this) + 1)
    elif isinstance(index, exp.Neg) and isinstance(index.this, exp.Literal):
        position = index.copy()  # sqlglot leaves negative positions as written
    else:
        position = index.copy()
    return exp.Anonymous(this="TRY_ELEMENT_AT", expressions=[node.this.copy(), position])


def _concat(lists):  # noqa: ANN001,ANN202
    """``list_concat``: DuckDB skips NULL lists; Spark's concat returns NULL, so coalesce."""
    from sqlglot import exp

    empty = exp.Array(expressions=[])
    return exp.Anonymous(
        this="CONCAT",
        expressions=[exp.Coalesce(this=x.copy(), expressions=[empty.copy()]) for x in lists],
    )


def _string_agg(node):  # noqa: ANN001,ANN202
    """``string_agg(x, sep ORDER BY k)`` -> ``array_join`` of the sorted ``collect_list``."""
    import sqlglot
    from sqlglot import exp

    value = node.this
    order = None
    if isinstance(value, exp.Order):
        order = value.expressions
        value = value.this
    sep = node.args.get("separator") or exp.Literal.string(",")
    if order is not None and any(o.args.get("desc") for o in order):
        raise SparkTranslationError("string_agg(... ORDER BY ... DESC) has no Spark translation")
    if not order:
        lst = exp.Anonymous(this="COLLECT_LIST", expressions=[value.copy()])
    else:
        fields = [exp.alias_(o.this.copy(), f"_k{i}") for i, o in enumerate(order)]
        item = exp.Struct(expressions=[*fields, exp.alias_(value.copy(), "_v")])
        sorted_ = exp.Anonymous(
            this="ARRAY_SORT",
            expressions=[exp.Anonymous(this="COLLECT_LIST", expressions=[item])],
        )
        lst = _transform_field(sorted_, "_v")
    joined = sqlglot.parse_one("ARRAY_JOIN(__L__, __S__)", read="spark")
    joined = joined.transform(
        lambda n: (
            lst
            if getattr(n, "name", None) == "__L__"
            else (sep.copy() if getattr(n, "name", None) == "__S__" else n)
        )
    )
    # DuckDB's string_agg over no rows (all NULL) is NULL; array_join of [] is ''.
    return exp.Anonymous(this="NULLIF", expressions=[joined, exp.Literal.string("")])


# ---- parameters and results ------------------------------------------------------------------
def _bind_value(value: Any) -> Any:
    """A Python value Spark's ``sql(args=...)`` accepts, with DuckDB's meaning."""
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, np.generic):
        return _bind_value(value.item())
    if isinstance(value, pd.Timestamp):
        if pd.isna(value):
            return None
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime):
        # a naive timestamp compared with the UTC timestamps means UTC, as in DuckDB's session
        return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
    if isinstance(value, pd.Timedelta):
        return None if pd.isna(value) else value.to_pytimedelta()
    if isinstance(value, dt.date | dt.timedelta):
        return value
    if isinstance(value, list | tuple):
        return [_bind_value(v) for v in value]
    raise TypeError(f"cannot bind a {type(value).__name__} as a Spark SQL parameter")


def _bind(params: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not params:
        return None
    return {identifier(k, "parameter"): _bind_value(v) for k, v in params.items()}


def _from_spark(table: pa.Table) -> pa.Table:
    """Spark's Arrow result as DuckDB's would be: decimals as float64 (DuckDB's divisions give
    doubles; a Decimal object column would break the vectorised code after the query)."""
    fields = [
        pa.field(f.name, pa.float64()) if pa.types.is_decimal(f.type) else f for f in table.schema
    ]
    schema = pa.schema(fields)
    return table if schema == table.schema else table.cast(schema)


def _to_spark_arrow(table: pa.Table) -> pa.Table:
    """A pandas frame's Arrow table in types Spark reads: categories as their values, unsigned
    integers as int64, nanosecond timestamps as microseconds, all-null columns as strings."""
    fields = []
    for f in table.schema:
        t = f.type
        if pa.types.is_dictionary(t):
            t = t.value_type
        if pa.types.is_unsigned_integer(t):
            t = pa.int64()
        elif pa.types.is_timestamp(t) and t.unit == "ns":
            t = pa.timestamp("us", tz=t.tz)
        elif pa.types.is_null(t):
            t = pa.string()
        fields.append(pa.field(f.name, t))
    schema = pa.schema(fields)
    return table if schema == table.schema else table.cast(schema, safe=False)


# ---- the session ----------------------------------------------------------------------------
def spark_session(
    *,
    master: str = "local[*]",
    conf: Mapping[str, Any] | None = None,
    app_name: str = "journeylib",
):  # noqa: ANN201 - pyspark.sql.SparkSession
    """A SparkSession for ``master`` (the active one when it exists: ``getOrCreate``).

    In local mode (``local[...]``) the defaults suit one machine: no web UI, the driver bound to
    the loopback address, ``2 x cores`` shuffle partitions. ``conf`` adds or overrides settings
    (``spark.driver.memory``, ``spark.executor.memory``, ...).
    """
    sql = _import_pyspark()
    settings: dict[str, Any] = {}
    if master.startswith("local"):
        settings = {
            "spark.ui.enabled": "false",
            "spark.ui.showConsoleProgress": "false",
            "spark.driver.host": "127.0.0.1",
            "spark.driver.bindAddress": "127.0.0.1",
            "spark.sql.shuffle.partitions": str(max(4, 2 * (os.cpu_count() or 2))),
        }
    settings |= {**SESSION_CONF, **(conf or {})}
    builder = sql.SparkSession.builder.master(master).appName(app_name)
    for key, value in settings.items():
        builder = builder.config(key, str(value).lower() if isinstance(value, bool) else str(value))
    return builder.getOrCreate()


def _spark_memory(limit: str) -> str | None:
    """DuckDB's ``memory_limit`` (``4GB``, ``512MiB``) in Spark's spelling (``4g``, ``512m``)."""
    match = re.fullmatch(r"\s*(\d+)\s*([KMGT])i?B\s*", limit, flags=re.I)
    return f"{match.group(1)}{match.group(2).lower()}" if match else None


# ---- the engine ----------------------------------------------------------------------------
class SparkEngine:
    """Spark SQL over the canonical tables, with the :class:`~journeylib.engine.Engine` interface.

    Each engine works in its own Spark session (``spark.newSession()``: the cluster, its cache
    and the catalog are shared; temporary views and SQL settings are not), so two engines never
    see each other's tables. Queries run on the cluster; only their (aggregated, customer-level)
    results come back to the driver, through Arrow.

    Parameters
    ----------
    processed_dir
        Folder (local path, or a URI the cluster reads: ``s3a://bucket/processed/acme``,
        ``abfss://...``, ``hdfs://...``) holding ``<table>.parquet`` files or ``<table>/``
        folders of Parquet; each becomes a temporary view named after it. ``None``: only
        ``tables`` and :meth:`register`-ed frames.
    spark
        The SparkSession to work in (e.g. the one a cluster notebook provides). ``None``: the
        active session, else a new local one (:func:`spark_session`).
    tables
        Canonical table name -> a table in Spark's catalog (``lakehouse.journey.events``) or a
        Parquet path (anything with ``/`` or ``:``); replaces that name from ``processed_dir``.

    Examples
    --------
    >>> eng = SparkEngine(None)  # doctest: +SKIP
    >>> eng.register("events", pd.DataFrame({"customer_id": ["a", "b"]}))  # doctest: +SKIP
    >>> int(eng.scalar("SELECT COUNT(*) FROM events"))  # doctest: +SKIP
    2
    """

    name = "spark"

    def __init__(
        self,
        processed_dir: str | Path | None = None,
        *,
        spark: Any = None,
        tables: Mapping[str, str] | None = None,
    ) -> None:
        sql = _import_pyspark()
        _import_sqlglot()
        base = spark or sql.SparkSession.getActiveSession() or spark_session()
        self._spark = base.newSession()
        for key, value in SESSION_CONF.items():
            self._spark.conf.set(key, value)
        self._cached: dict[str, Any] = {}
        self._tables: list[str] = []
        self.processed_dir = processed_dir
        if processed_dir is not None:
            for name, path in _parquet_tables(self._spark, str(processed_dir)).items():
                self._view(name, self._spark.read.parquet(path))
        for name, source in (tables or {}).items():
            identifier(name, "table")
            if "/" in source or ":" in source:
                frame = self._spark.read.parquet(source)
            else:
                frame = self._spark.table(_catalog_name(source))
            self._view(name, frame)

    @classmethod
    def from_config(cls, config: Config) -> SparkEngine:
        """The engine ``config.engine`` describes (``kind: spark``), over the client's tables.

        With no ``master``, an active SparkSession (a cluster notebook, ``spark-submit``) is
        used as it is; else a session is started for ``master`` (default: local mode with
        ``threads`` cores, ``memory_limit`` of driver memory and ``temp_dir`` for spills) with
        ``conf`` added.
        """
        sql = _import_pyspark()
        _import_sqlglot()
        spec = config.engine
        active = sql.SparkSession.getActiveSession()
        if spec.master is None and active is not None:
            spark = active
        else:
            master = spec.master or f"local[{spec.threads or '*'}]"
            conf: dict[str, Any] = {}
            if master.startswith("local"):
                memory = _spark_memory(spec.memory_limit)
                if memory is not None:
                    # results come back to the driver: allow them up to its memory (1g default)
                    conf["spark.driver.memory"] = memory
                    conf["spark.driver.maxResultSize"] = memory
                if spec.temp_dir is not None:
                    spill = resolve_path(spec.temp_dir)
                    spill.mkdir(parents=True, exist_ok=True)
                    conf["spark.local.dir"] = str(spill)
            spark = spark_session(master=master, conf={**conf, **spec.conf})
        path = spec.processed_path or config.processed_dir
        log.info("Spark engine over %s (master %s)", path, spark.sparkContext.master)
        return cls(path, spark=spark, tables=spec.tables)

    @property
    def spark(self):  # noqa: ANN201 - pyspark.sql.SparkSession
        """This engine's own SparkSession (temporary views of the canonical tables)."""
        return self._spark

    def _view(self, name: str, frame: Any) -> None:
        frame.createOrReplaceTempView(name)
        if name not in self._tables:
            self._tables.append(name)

    def _frame(self, sql: str, params: Mapping[str, Any] | None) -> Any:
        return self._spark.sql(to_spark(sql), args=_bind(params))

    def query(self, sql: str, params: dict[str, Any] | None = None) -> pd.DataFrame:
        """Run DuckDB-dialect SQL over the canonical tables on Spark; the result comes back to
        the driver through Arrow (timestamps tz-aware UTC, as from DuckDB)."""
        return _from_spark(self._frame(sql, params).toArrow()).to_pandas()

    def scalar(self, sql: str, params: dict[str, Any] | None = None) -> Any:
        """The single value of a one-row, one-column query."""
        table = _from_spark(self._frame(sql, params).limit(1).toArrow())
        if table.num_rows == 0:
            return None
        return table.column(0)[0].as_py()

    def execute(self, sql: str, params: dict[str, Any] | None = None) -> None:
        """Run a statement. ``CREATE [OR REPLACE] TEMP VIEW`` and ``CREATE TEMP TABLE [IF NOT
        EXISTS]`` become Spark temporary views (a temp table is persisted, so its query runs
        once); ``COPY`` is refused (files are written at ingest, on DuckDB)."""
        sqlglot = _import_sqlglot()
        from sqlglot import exp

        try:
            tree = sqlglot.parse_one(sql, read="duckdb")
        except sqlglot.errors.ParseError as exc:
            raise SparkTranslationError(f"sqlglot cannot parse this statement: {exc}") from exc
        if isinstance(tree, exp.Copy):
            raise SparkTranslationError(
                "COPY ... TO writes files from DuckDB and has no Spark counterpart here: the "
                "processed tables are written at ingest (journey prepare), which runs on DuckDB"
            )
        if isinstance(tree, exp.Create) and tree.kind in ("TABLE", "VIEW"):
            properties = tree.args.get("properties")
            temporary = properties is not None and any(
                isinstance(p, exp.TemporaryProperty) for p in properties.expressions
            )
            if temporary and tree.expression is not None:
                self._create_temp(
                    tree.this.name,
                    tree.expression.sql(dialect="duckdb"),
                    params,
                    persist=tree.kind == "TABLE",
                    replace=bool(tree.args.get("replace")),
                    if_not_exists=bool(tree.args.get("exists")),
                )
                return
        if isinstance(tree, exp.Drop):
            for table in tree.args.get("tables") or [tree.this]:
                cached = self._cached.pop(table.name.lower(), None) if table else None
                if cached is not None:
                    cached.unpersist()
        self._frame(sql, params).collect()

    def _create_temp(
        self,
        name: str,
        select: str,
        params: Mapping[str, Any] | None,
        *,
        persist: bool,
        replace: bool,
        if_not_exists: bool,
    ) -> None:
        identifier(name, "table")
        if self._spark.catalog.tableExists(name):
            if if_not_exists:
                return
            if not replace:
                raise ValueError(f"temporary table {name!r} already exists")
        # through a DataFrame: Spark refuses parameter markers inside CREATE VIEW
        frame = self._frame(select, params)
        old = self._cached.pop(name.lower(), None)
        if persist:
            frame = frame.persist()
            self._cached[name.lower()] = frame
        frame.createOrReplaceTempView(name)
        if old is not None:
            old.unpersist()

    def register(self, name: str, df: pd.DataFrame) -> None:
        """Expose a (small) pandas frame as the temporary view ``name`` (sent through Arrow)."""
        identifier(name, "table")
        table = _to_spark_arrow(pa.Table.from_pandas(df, preserve_index=False))
        self._view(name, self._spark.createDataFrame(table))

    def tables(self) -> list[str]:
        return list(self._tables)

    def has_table(self, name: str) -> bool:
        """Whether a table, view or temporary view ``name`` can be queried."""
        return bool(self._spark.catalog.tableExists(name))

    def close(self) -> None:
        """Drop this engine's temporary views and cached tables (the SparkSession and cluster
        stay up for other engines; they end with the Python process)."""
        for frame in self._cached.values():
            frame.unpersist()
        self._cached.clear()
        for table in self._spark.catalog.listTables():
            if table.isTemporary:
                self._spark.catalog.dropTempView(table.name)
        self._tables.clear()

    def __enter__(self) -> SparkEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _catalog_name(name: str) -> str:
    if not all(IDENTIFIER.fullmatch(p) for p in name.split(".")):
        raise ValueError(
            f"Spark table {name!r} must be a catalog name like db.table (letters, digits, _)"
        )
    return name


def _parquet_tables(spark: Any, folder: str) -> dict[str, str]:
    """``<name>.parquet`` files and ``<name>[.parquet]/`` Parquet folders in ``folder`` -> their
    paths (hidden and ``_`` names skipped), as :class:`~journeylib.engine.DuckDBEngine` finds
    them. Local paths are listed directly; URIs (``file:``, ``s3a://``, ``abfss://``,
    ``hdfs://``, ...) through Hadoop's FileSystem, so whatever the cluster reads works."""
    if ":/" not in folder:
        local = Path(folder)
        if not local.is_dir():
            raise FileNotFoundError(f"{local} does not exist: prepare the data first")
        found = {}
        for path in sorted(local.iterdir()):
            if path.name.startswith((".", "_")):
                continue
            if (path.suffix == ".parquet" and path.is_file()) or (
                path.is_dir() and any(path.rglob("*.parquet"))
            ):
                found[path.name.removesuffix(".parquet")] = str(path)
        return found
    jvm = spark.sparkContext._jvm
    hpath = jvm.org.apache.hadoop.fs.Path(folder)
    fs = hpath.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    if not fs.exists(hpath):
        raise FileNotFoundError(f"{folder} does not exist for Spark: prepare the data first")
    found = {}
    for status in sorted(fs.listStatus(hpath), key=lambda s: s.getPath().getName()):
        name = status.getPath().getName()
        if name.startswith((".", "_")):
            continue
        if name.endswith(".parquet") or status.isDirectory():
            found[name.removesuffix(".parquet")] = status.getPath().toString()
    return found
