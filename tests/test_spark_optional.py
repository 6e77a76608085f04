"""PySpark stays optional (default suite: runs without PySpark, sqlglot or Java).

* no journeylib module imports PySpark or sqlglot at import time (only inside the Spark
  engine's functions);
* with both made unimportable, the default path (config, DuckDB engine, an analysis) works, and a
  config asking for ``engine: {kind: spark}`` fails with an error that names ``pip install
  .[spark]``;
* the Spark settings of ``engine:`` are refused for the DuckDB engine (a typo in ``kind`` must not
  silently run on DuckDB).
"""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from journeylib.config import ConfigError, EngineSpec, load_config

PACKAGE = Path(__file__).resolve().parents[1] / "journeylib"
OPTIONAL = ("pyspark", "sqlglot", "py4j")


def _top_level_imports(path: Path) -> set[str]:
    """Modules a file imports when it is imported (module level, not inside functions)."""
    names: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_no_module_imports_pyspark_or_sqlglot_at_import_time() -> None:
    offenders = {
        str(p.relative_to(PACKAGE.parent)): sorted(_top_level_imports(p) & set(OPTIONAL))
        for p in sorted(PACKAGE.rglob("*.py"))
        if _top_level_imports(p) & set(OPTIONAL)
    }
    assert not offenders, f"optional Spark packages imported at module level: {offenders}"


BLOCKED_RUN = """
import importlib.abc, sys

class Block(importlib.abc.MetaPathFinder):
    # PySpark, sqlglot and py4j are "not installed" in this process
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {blocked!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}")
        return None

sys.meta_path.insert(0, Block())

import pandas as pd
from journeylib.config import Config
from journeylib.engine import get_engine, engine_for
from journeylib.funnels import funnel

# the default path: an analysis on the embedded engine
ev = pd.DataFrame({{"customer_id": ["a", "a", "b"], "event": ["view", "buy", "view"],
                   "ts": pd.to_datetime(["2025-01-01", "2025-01-02", "2025-01-01"], utc=True)}})
print("strict", funnel(engine_for(events=ev), ["view", "buy"])["customers_strict"].tolist())

cfg = Config.model_validate({{
    "client": "nospark",
    "data": {{"raw_dir": "x", "sources": {{"customers": {{"path": "c.csv",
              "columns": {{"customer_id": "id"}}}}}}}},
    "engine": {{"kind": "spark"}},
}})
try:
    get_engine(cfg)
except ImportError as exc:
    print("error:", exc)
"""


def test_without_pyspark_the_default_path_works_and_spark_says_how_to_install() -> None:
    code = textwrap.dedent(BLOCKED_RUN.format(blocked=OPTIONAL))
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False
    )
    assert out.returncode == 0, out.stderr[-2000:]
    lines = out.stdout.splitlines()
    # a views and buys, b only views: 2 customers at step 1, 1 at step 2
    assert "strict [2, 1]" in lines
    error = next(line for line in lines if line.startswith("error:"))
    assert "pip install" in error and ".[spark]" in error and "Java 17" in error


def test_spark_settings_need_kind_spark(tmp_path) -> None:  # noqa: ANN001
    assert EngineSpec().kind == "duckdb"
    spec = EngineSpec(kind="spark", master="local[2]", tables={"events": "lake.journey.events"})
    assert spec.tables == {"events": "lake.journey.events"}
    path = tmp_path / "c.yaml"
    path.write_text(
        textwrap.dedent(
            """
            client: acme
            data:
              raw_dir: data/raw/acme
              sources: {customers: {path: c.csv, columns: {customer_id: id}}}
            engine: {kind: duckdb, master: "spark://head:7077"}
            """
        )
    )
    with pytest.raises(ConfigError, match=r"engine: .*engine\.master: Spark setting"):
        load_config(path)
    with pytest.raises(ValueError, match="plain table names"):
        EngineSpec(kind="spark", tables={"events; DROP": "x"})


def test_a_dumped_duckdb_config_loads_again(tmp_path):
    # model_dump writes every default (master: null, tables: {}, conf: {}); those are not
    # Spark settings, so the round trip of a DuckDB config must validate.
    import yaml

    from journeylib.config import Config, EngineSpec, load_config

    config = Config.model_validate(
        yaml.safe_load((Path(__file__).parents[1] / "configs" / "demo.yaml").read_text())
    )
    path = tmp_path / "dumped.yaml"
    path.write_text(yaml.safe_dump(config.model_dump(mode="json")), encoding="utf-8")
    assert load_config(path).engine.model_dump() == config.engine.model_dump()
    with pytest.raises(ValueError, match="engine.master"):
        EngineSpec(kind="duckdb", master="local[2]")
