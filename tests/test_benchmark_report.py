"""The benchmark results renderer (``benchmarks/report.py``): which run a cell shows, and how."""

from __future__ import annotations

import importlib.util
from pathlib import Path

# benchmarks/ is a folder of scripts beside the package, not installed: load report.py by path
# (it puts the project root on sys.path itself, for its `benchmarks.*` imports)
_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "report.py"
_spec = importlib.util.spec_from_file_location("benchmarks_report", _PATH)
report = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(report)


def _row(stage, customers, started, seconds, peak_mb, **extra):
    return {
        "run_started": started,
        "stage": stage,
        "customers": customers,
        "seconds": seconds,
        "peak_mb": peak_mb,
        "tool": "journeylib",
        **extra,
    }


def _cells(text: str, stage: str) -> list[str]:
    line = next(x for x in text.splitlines() if f"(`{stage}`)" in x)
    return [c.strip() for c in line.strip("|").split("|")][1:]


def test_scale_table_shows_the_newest_successful_run_and_marks_reused_processed_tables():
    rows = [
        # 1M ingest: two runs; the newer one (median of its two repeats) is shown
        _row("ingest", 1_000_000, "2026-01-01T00:00:00Z", 200.0, 2048),
        _row("ingest", 1_000_000, "2026-01-02T00:00:00Z", 110.0, 1024),
        _row("ingest", 1_000_000, "2026-01-02T00:00:00Z", 130.0, 3072),
        # 1M end to end: the runner and its kernels together (tree) beat the runner's own peak
        _row(
            "end_to_end", 1_000_000, "2026-01-01T00:00:00Z", 500.0, 512, info={"tree_peak_mb": 6144}
        ),
        # 10M end to end: a newer failure does not hide the older success on reused tables
        _row(
            "end_to_end",
            10_000_000,
            "2026-01-03T00:00:00Z",
            5000.0,
            1024,
            info={"tree_peak_mb": 19456, "processed_reused": True},
        ),
        _row("end_to_end", 10_000_000, "2026-01-04T00:00:00Z", None, 0, error="Kernel died"),
    ]
    text = report.scale_table(rows)
    assert text.splitlines()[0] == "| stage | 1m: s | 1m: peak GB | 10m: s | 10m: peak GB |"
    # median(110, 130) = 120; max peak 3072 MB = 3.0 GB; no 10M ingest
    assert _cells(text, "ingest") == ["120", "3.0", "", ""]
    # 6144 MB = 6.0 GB; 19456 MB = 19.0 GB; the reused run is marked
    assert _cells(text, "end_to_end") == ["500", "6.0", f"5,000 {report.REUSED_MARK}", "19.0"]
    # the results table says so in words
    line = next(x for x in report.table(rows).splitlines() if "| 10m |" in x)
    assert line.startswith("| end_to_end |")
    assert f"{report.REUSED_MARK} processed tables reused: ingest not included" in line
