"""Benchmark data sets: synthetic raw exports and their processed tables, cached on disk.

Everything generated lives under ``benchmarks/data/`` (git-ignored)::

    benchmarks/data/synth-1m/raw/          raw export CSVs + _truth/ (streamed chunk by chunk)
    benchmarks/data/synth-1m/synth.yaml    the demo config pointed at raw/ and processed/
    benchmarks/data/synth-1m/processed/bench1m/  canonical Parquet tables (journeylib.io.prepare)

The raw folder is written once per size (``_complete`` marks a finished write) and reused.
Unlike :func:`journeylib.synth.generate`, which concatenates every chunk in memory and sorts the
web events globally, :func:`ensure_raw` appends :func:`journeylib.synth.iter_chunks` output to the
CSVs one chunk at a time, so generation memory stays bounded at any size. The rows are the same;
only the order of the web events differs (sorted per chunk, not globally), which ingest does not
depend on (it sorts by customer and time).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
DATA_DIR = BENCH_DIR / "data"
SEED = 42


def size_label(n: int) -> str:
    """``1_000_000`` -> ``"1m"``, ``300_000`` -> ``"300k"``, ``2500`` -> ``"2500"``."""
    for unit, suffix in ((1_000_000, "m"), (1_000, "k")):
        if n % unit == 0:
            return f"{n // unit}{suffix}"
    return str(n)


def dataset_dir(n_customers: int) -> Path:
    return DATA_DIR / f"synth-{size_label(n_customers)}"


def raw_dir(n_customers: int) -> Path:
    return dataset_dir(n_customers) / "raw"


def client(n_customers: int) -> str:
    return f"bench{size_label(n_customers)}"


def processed_dir(n_customers: int) -> Path:
    """Where ``prepare`` writes: the config's ``processed_dir`` / client name."""
    return dataset_dir(n_customers) / "processed" / client(n_customers)


def config_path(n_customers: int) -> Path:
    return dataset_dir(n_customers) / "synth.yaml"


def raw_ready(n_customers: int) -> bool:
    return (raw_dir(n_customers) / "_complete").is_file()


def processed_ready(n_customers: int) -> bool:
    return (processed_dir(n_customers) / "events.parquet").is_file()


def ensure_raw(n_customers: int, *, seed: int = SEED) -> dict:
    """Write the raw exports for ``n_customers`` unless already present; return row counts."""
    from journeylib.synth import RAW_COLUMNS, SynthConfig, iter_chunks
    from journeylib.synth.writer import TIME_FORMAT, _readme

    out = raw_dir(n_customers)
    done = out / "_complete"
    if done.is_file():
        return json.loads(done.read_text())
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "_truth").mkdir(parents=True)
    cfg = SynthConfig(n_customers=n_customers, seed=seed)
    attrs = {
        "customers.csv": "customers",
        "web_events.csv": "web_events",
        "identity_map.csv": "identity_map",
        "orders.csv": "orders",
        "feedback.csv": "feedback",
    }
    rows = dict.fromkeys(list(attrs) + ["spend.csv", "products.csv"], 0)
    spend = []
    effects: dict = {}
    t0 = time.perf_counter()

    def append(df, path: Path, first: bool) -> None:
        df.to_csv(
            path,
            index=False,
            mode="w" if first else "a",
            header=first,
            encoding="utf-8",
            lineterminator="\n",
            date_format=TIME_FORMAT,
            float_format="%.4f",
        )

    for i, chunk in enumerate(iter_chunks(cfg)):
        for name, attr in attrs.items():
            df = getattr(chunk, attr)
            assert tuple(df.columns) == RAW_COLUMNS[name], name
            append(df, tmp / name, i == 0)
            rows[name] += len(df)
        append(chunk.truth_customers, tmp / "_truth" / "customers.csv", i == 0)
        spend.append(chunk.spend)
        if i == 0:
            append(chunk.products, tmp / "products.csv", True)
            rows["products.csv"] = len(chunk.products)
            effects = chunk.effects
        print(
            f"chunk {i}: {rows['web_events.csv']:,} events so far, "
            f"{time.perf_counter() - t0:.0f} s",
            flush=True,
        )
    import pandas as pd

    sp = pd.concat(spend, ignore_index=True)
    sp = sp.groupby(["date", "channel", "campaign"], as_index=False, sort=True)["cost"].sum()
    append(sp, tmp / "spend.csv", True)
    rows["spend.csv"] = len(sp)
    (tmp / "_truth" / "effects.json").write_text(
        json.dumps(effects, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    )
    (tmp / "README.md").write_text(_readme(effects))
    summary = {
        "n_customers": n_customers,
        "seed": seed,
        "rows": rows,
        "seconds": round(time.perf_counter() - t0, 1),
    }
    (tmp / "_complete").write_text(json.dumps(summary, indent=2) + "\n")
    if out.exists():
        shutil.rmtree(out)
    tmp.rename(out)
    return summary


def write_config(
    n_customers: int, *, memory_limit: str | None = None, threads: int | None = None
) -> Path:
    """The demo config pointed at this size's raw and processed folders (like tests' SynthClient)."""
    import yaml

    cfg = yaml.safe_load((REPO_ROOT / "configs" / "demo.yaml").read_text())
    cfg["client"] = client(n_customers)
    cfg["data"]["raw_dir"] = str(raw_dir(n_customers))
    cfg["output"] = {
        "processed_dir": str(dataset_dir(n_customers) / "processed"),
        "reports_dir": str(dataset_dir(n_customers) / "reports"),
    }
    # The benchmark uses the engine as a client config would, with room for 1M+ customers.
    cfg["engine"]["memory_limit"] = memory_limit or "4GB"
    cfg["engine"]["threads"] = threads
    cfg["engine"]["temp_dir"] = str(dataset_dir(n_customers) / "duckdb-spill")
    path = config_path(n_customers)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


def load_config(n_customers: int):
    from journeylib.config import load_config as _load

    os.environ.pop("JOURNEY_ID_KEY", None)  # demo key (allow_demo_key: true), as in the tests
    return _load(write_config(n_customers))


if __name__ == "__main__":  # python benchmarks/datasets.py 1000000
    import sys

    print(json.dumps(ensure_raw(int(sys.argv[1])), indent=2))
