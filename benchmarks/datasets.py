"""Benchmark data sets: synthetic raw exports and their processed tables, cached on disk.

Everything generated lives under ``benchmarks/data/`` (git-ignored)::

    benchmarks/data/synth-1m/raw/          raw export CSVs + _truth/ (streamed chunk by chunk;
                                           partitioned Parquet from 5M customers)
    benchmarks/data/synth-1m/synth.yaml    the demo config pointed at raw/ and processed/
    benchmarks/data/synth-1m/processed/bench1m/  canonical Parquet tables (journeylib.io.prepare)

The raw folder is written once per size (``_complete`` marks a finished write) and reused. It
is written by :func:`journeylib.synth.write_raw_stream` (what ``journey synth`` runs at this
size): unlike ``write_raw(generate(...))``, which concatenates every chunk in memory and sorts
the web events globally, it writes each :func:`journeylib.synth.iter_chunks` chunk as it is
made, so generation memory stays bounded at any size. The rows are the same; only the order of
the web events differs (sorted per chunk, not globally), which ingest does not depend on (it
sorts by customer and time).
"""

from __future__ import annotations

import json
import os
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


#: From this many customers the raw exports are partitioned Parquet (``journey synth --format
#: parquet``), below it CSV files: the issue's 10M data set is Parquet, the cached 100k and 1M
#: ones stay CSV (the format clients most often send, and the harder ingest).
PARQUET_FROM = 5_000_000


def raw_format(n_customers: int) -> str:
    done = raw_dir(n_customers) / "_complete"
    if done.is_file():
        return json.loads(done.read_text()).get("format", "csv")
    return "parquet" if n_customers >= PARQUET_FROM else "csv"


def ensure_raw(n_customers: int, *, seed: int = SEED) -> dict:
    """Write the raw exports for ``n_customers`` unless already present; return row counts.

    :func:`journeylib.synth.write_raw_stream` (what ``journey synth`` runs): chunk by chunk, in
    bounded memory, written to a temporary folder renamed into place when complete.
    """
    from journeylib.synth import SynthConfig, write_raw_stream

    out = raw_dir(n_customers)
    done = out / "_complete"
    if done.is_file():
        return json.loads(done.read_text())
    t0 = time.perf_counter()

    def progress(i: int, rows: dict[str, int]) -> None:
        print(
            f"chunk {i}: {rows['web_events.csv']:,} events so far, "
            f"{time.perf_counter() - t0:.0f} s",
            flush=True,
        )

    cfg = SynthConfig(n_customers=n_customers, seed=seed)
    summary = write_raw_stream(cfg, out, format=raw_format(n_customers), progress=progress)
    summary["seconds"] = round(time.perf_counter() - t0, 1)
    done.write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def write_config(
    n_customers: int, *, memory_limit: str | None = None, threads: int | None = None
) -> Path:
    """The demo config pointed at this size's raw and processed folders (like tests' SynthClient)."""
    import yaml

    cfg = yaml.safe_load((REPO_ROOT / "configs" / "demo.yaml").read_text())
    cfg["client"] = client(n_customers)
    cfg["data"]["raw_dir"] = str(raw_dir(n_customers))
    if raw_format(n_customers) == "parquet":  # one folder per table, spend and products files
        for name, source in cfg["data"]["sources"].items():
            stem = source["path"].removesuffix(".csv")
            source["path"] = stem + ".parquet" if name in ("spend", "products") else stem
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
