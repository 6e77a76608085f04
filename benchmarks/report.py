"""Render the benchmark results (``benchmarks/results/*.jsonl``) into ``benchmarks/README.md``.

    python benchmarks/report.py            # rewrite the table between the README's markers
    python benchmarks/report.py --print    # print the table instead
    python benchmarks/report.py --plot     # also draw benchmarks/scaling.svg (log-log)

For each (stage, tool, size) the newest run is shown (the median over its repeats). A stage of a
comparison tool is paired with the journeylib stage computing the same thing (``COMPARE`` in
``benchmarks/stages.py``) and the speed-up is their ratio of ``seconds``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
if str(BENCH_DIR.parent) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR.parent))

from benchmarks import churn as _churn  # noqa: E402,F401  (registers its stages)
from benchmarks import demo as _demo  # noqa: E402,F401  (registers its stages)
from benchmarks import journeymap as _journeymap  # noqa: E402,F401  (registers its stages)
from benchmarks import personas as _personas  # noqa: E402,F401  (registers its stages)
from benchmarks import recommend as _recommend  # noqa: E402,F401  (registers its stages)
from benchmarks.datasets import size_label  # noqa: E402
from benchmarks.stages import COMPARE, REGISTRY, SCALE  # noqa: E402

README = BENCH_DIR / "README.md"
START, END = "<!-- results:start -->", "<!-- results:end -->"
PHASE_LABELS = {"load_seconds": "read Parquet", "construct_seconds": "build Eventstream"}
# marks a run on processed tables kept from an earlier ingest: its seconds leave the ingest out
REUSED_MARK = "†"


def load(results_dir: Path = BENCH_DIR / "results") -> list[dict]:
    rows = []
    for path in sorted(results_dir.glob("*.jsonl")):
        for line in path.read_text().splitlines():
            if line.strip():
                rows.append(json.loads(line))
    return rows


def latest(rows: list[dict]) -> dict[tuple[str, int], dict]:
    """(stage, customers) -> summary of the newest run (median seconds, max peak over repeats).

    Failed runs and ``synth`` runs that found the data already cached are skipped.
    """
    groups: dict[tuple[str, int], dict[str, list[dict]]] = {}
    for r in rows:
        if r.get("error") or r.get("seconds") is None or r.get("info", {}).get("cached"):
            continue
        groups.setdefault((r["stage"], r["customers"]), {}).setdefault(r["run_started"], []).append(
            r
        )
    out = {}
    for key, runs in groups.items():
        newest = runs[max(runs)]
        phases: dict[str, list[float]] = {}
        for r in newest:
            for k, v in r.get("phases", {}).items():
                phases.setdefault(k, []).append(v)
        info = {k: v for r in newest for k, v in r.get("info", {}).items()}
        out[key] = {
            "stage": key[0],
            "customers": key[1],
            "events": newest[-1].get("events") or info.get("events"),
            "seconds": statistics.median(r["seconds"] for r in newest),
            "peak_mb": max(r["peak_mb"] for r in newest),
            "runs": len(newest),
            "phases": {k: statistics.median(v) for k, v in phases.items()},
            "tool": newest[-1].get("tool"),
            "impl": sorted({v for k, v in info.items() if k.startswith("impl")}),
            "date": newest[-1]["run_started"][:10],
            "threads": newest[-1].get("threads"),
            "load": max((max(r.get("loadavg") or [0]) for r in newest), default=0),
            # end_to_end: the runner and its notebook kernels together
            "tree_peak_mb": max(r.get("info", {}).get("tree_peak_mb") or 0 for r in newest),
            # a journey run on processed tables kept from an earlier ingest (timed apart)
            "reused": any(r.get("info", {}).get("processed_reused") for r in newest),
        }
    return out


def _ratio(r: float) -> str:
    return f"{r:.1f}× faster" if r >= 1 else f"{1 / r:.1f}× slower"


def _fmt_s(x: float) -> str:
    return f"{x:.2f}" if x < 10 else f"{x:.1f}" if x < 100 else f"{x:,.0f}"


def table(rows: list[dict]) -> str:
    summary = latest(rows)
    order = {name: i for i, name in enumerate(REGISTRY)}
    reverse = {v: k for k, v in COMPARE.items()}
    lines = [
        "| stage | tool | customers | events | seconds | peak MB | vs comparison tool | notes |",
        "|---|---|--:|--:|--:|--:|--:|---|",
    ]
    for (stage, n), s in sorted(
        summary.items(), key=lambda kv: (kv[0][1], order.get(kv[0][0], 99))
    ):
        speedup = ""
        if stage in COMPARE and (COMPARE[stage], n) in summary:
            other = summary[(COMPARE[stage], n)]
            tool_only = other["seconds"] / s["seconds"]
            from_disk = (other["seconds"] + sum(other["phases"].values())) / s["seconds"]
            speedup = f"{_ratio(tool_only)} than {other['tool']} (call only)"
            if other["phases"]:  # the comparison tool's own loading and set-up, timed apart
                speedup += f"; {_ratio(from_disk)} from the files on disk"
        elif stage in reverse and (reverse[stage], n) in summary:
            speedup = "(baseline)"
        notes = [
            f"{PHASE_LABELS.get(k, k.removesuffix('_seconds'))} {_fmt_s(v)} s"
            for k, v in s["phases"].items()
        ]
        if s["reused"]:
            notes.append(f"{REUSED_MARK} processed tables reused: ingest not included")
        if s["runs"] > 1:
            notes.append(f"median of {s['runs']}")
        if s["load"] > 2.5:  # 1-min load average above the cores this stage can use: noisy
            notes.append(f"load avg up to {s['load']:.1f}")
        events = f"{s['events'] / 1e6:.1f}M" if s["events"] else ""
        lines.append(
            f"| {stage} | {s['tool']} | {size_label(n)} | {events} | {_fmt_s(s['seconds'])} "
            f"| {s['peak_mb']:,.0f} | {speedup} | {'; '.join(notes)} |"
        )
    return "\n".join(lines)


PIPELINE = SCALE
SCALE_START, SCALE_END = "<!-- scale:start -->", "<!-- scale:end -->"


def scale_table(rows: list[dict]) -> str:
    """One row per pipeline stage, one column pair (seconds, peak) per size measured.

    A run on processed tables kept from an earlier ingest (``info.processed_reused``) is marked
    with ``†``: its seconds leave out the ingest, which is the ``ingest`` row.
    """
    summary = latest(rows)
    sizes = sorted({n for (stage, n) in summary if stage in dict(PIPELINE).values()})
    head = " | ".join(f"{size_label(n)}: s | {size_label(n)}: peak GB" for n in sizes)
    lines = [f"| stage | {head} |", "|---|" + "--:|--:|" * len(sizes)]
    for label, stage in PIPELINE:
        cells = []
        for n in sizes:
            s = summary.get((stage, n))
            if s is None:
                cells += ["", ""]
                continue
            tree = s.get("tree_peak_mb")
            peak = max(s["peak_mb"], tree or 0) / 1024
            mark = f" {REUSED_MARK}" if s["reused"] else ""
            cells += [_fmt_s(s["seconds"]) + mark, f"{peak:.1f}"]
        lines.append(f"| {label} (`{stage}`) | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot(rows: list[dict], path: Path) -> Path | None:
    """Log-log seconds and peak MB against customers, one line per pipeline stage (and any other
    stage) measured at 2+ sizes."""
    summary = latest(rows)
    by_stage: dict[str, list[dict]] = {}
    pipeline = dict((stage, label) for label, stage in PIPELINE)
    for s in summary.values():
        if s["stage"] in pipeline:
            by_stage.setdefault(s["stage"], []).append(s)
    by_stage = {
        k: sorted(v, key=lambda s: s["customers"]) for k, v in by_stage.items() if len(v) > 1
    }
    if not by_stage:
        return None
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 4))
    ax_t, ax_m = fig.subplots(1, 2)
    for stage, pts in by_stage.items():
        x = [p["customers"] for p in pts]
        (line,) = ax_t.plot(x, [p["seconds"] for p in pts], marker="o", label=stage)
        reused = [p for p in pts if p.get("reused")]  # ingest not included: a hollow marker
        ax_t.plot(
            [p["customers"] for p in reused],
            [p["seconds"] for p in reused],
            linestyle="none",
            marker="o",
            markersize=9,
            markerfacecolor="white",
            color=line.get_color(),
        )
        peaks = [max(p["peak_mb"], p.get("tree_peak_mb") or 0) for p in pts]
        ax_m.plot(x, peaks, marker="o", label=stage)
    for ax, label in ((ax_t, "seconds"), (ax_m, "peak MB")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("customers")
        ax.set_ylabel(label)
        ax.grid(True, which="both", alpha=0.3)
    ax_m.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path)
    return path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Render benchmark results into benchmarks/README.md")
    p.add_argument("--print", action="store_true", help="print the table, do not edit the README")
    p.add_argument("--plot", action="store_true", help="also write benchmarks/scaling.svg")
    args = p.parse_args(argv)
    rows = load()
    text = table(rows)
    if args.plot:
        out = plot(rows, BENCH_DIR / "scaling.svg")
        print(f"plot: {out}" if out else "plot: needs a stage measured at two or more sizes")
    if args.print:
        print(scale_table(rows), text, sep="\n\n")
        return 0
    readme = README.read_text()
    if START not in readme or END not in readme:
        print(f"{README} has no {START} ... {END} markers; table not written", file=sys.stderr)
        return 1
    head, rest = readme.split(START, 1)
    _, tail = rest.split(END, 1)
    readme = f"{head}{START}\n{text}\n{END}{tail}"
    if SCALE_START in readme and SCALE_END in readme:
        head, rest = readme.split(SCALE_START, 1)
        _, tail = rest.split(SCALE_END, 1)
        readme = f"{head}{SCALE_START}\n{scale_table(rows)}\n{SCALE_END}{tail}"
    README.write_text(readme)
    print(f"table written to {README}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
