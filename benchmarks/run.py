"""Run benchmark stages, each in a fresh process, and append the results as JSON lines.

    python benchmarks/run.py --customers 1000000 --stages journey --compare retentioneering

``--stages`` takes stage names or groups (``data``, ``journey``, ``all``); see
``python benchmarks/run.py --list``. Missing data is made first: raw exports by the ``synth``
stage, processed tables by the ``ingest`` stage (both measured and recorded like any other).

Every stage runs in its own child process (``--child``, not for direct use). The parent waits
for it with :func:`os.wait4`, whose resource usage is that one child's: ``peak_mb`` is the
child's maximum resident set size (Python, imports, data and DuckDB's buffers together), and
``seconds`` is the wall time of the stage's timed section, measured inside the child. Results
go to ``benchmarks/results/<date>-<host>.jsonl`` (one line per stage and size), which
``benchmarks/report.py`` renders into the table of ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from benchmarks import churn as _churn  # noqa: E402,F401  (registers its stages)
from benchmarks import datasets  # noqa: E402  (needs REPO_ROOT on sys.path)
from benchmarks import demo as _demo  # noqa: E402,F401  (registers its stages)
from benchmarks import journeymap as _journeymap  # noqa: E402,F401  (registers its stages)
from benchmarks import personas as _personas  # noqa: E402,F401  (registers its stages)
from benchmarks import recommend as _recommend  # noqa: E402,F401  (registers its stages)
from benchmarks.stages import REGISTRY, Context, Stage, select  # noqa: E402


def parse_size(text: str) -> int:
    """``1000000``, ``1m``, ``300k``, ``1_000_000`` -> int."""
    t = text.strip().lower().replace("_", "")
    mult = {"k": 1_000, "m": 1_000_000}.get(t[-1:], 1)
    return int(float(t[:-1] if mult > 1 else t) * mult)


def interpreter(stage: Stage) -> Path:
    if stage.python == "main":
        return Path(sys.executable)
    return BENCH_DIR / f".venv-{stage.python}" / "bin" / "python"


def _git(*args: str) -> str | None:
    try:
        return subprocess.run(
            ["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def _machine() -> dict:
    mem_kb = None
    with open("/proc/meminfo") as fh:
        for line in fh:
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next(ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {
        "host": socket.gethostname(),
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "mem_gb": round(mem_kb / 1024**2, 1) if mem_kb else None,
        "os": platform.platform(),
    }


def _source_digest() -> str:
    """Short SHA-256 over journeylib's sources: which code a result measured, commit or not."""
    h = hashlib.sha256()
    for path in sorted((REPO_ROOT / "journeylib").rglob("*.py")):
        h.update(path.relative_to(REPO_ROOT).as_posix().encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:12]


def _events_in(n: int) -> int | None:
    manifest = datasets.processed_dir(n) / "_manifest.json"
    if manifest.is_file():
        return json.loads(manifest.read_text()).get("rows", {}).get("events")
    return None


def run_child(
    stage: Stage,
    n: int,
    *,
    threads: int | None,
    timeout: float,
    max_rss_gb: float,
    workers: int | None = None,
) -> dict:
    """Run one stage in a fresh process; its own peak RSS comes from wait4's rusage."""
    python = interpreter(stage)
    if not python.exists():
        return {"error": f"{python} not found (see benchmarks/README.md: comparison venvs)"}
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as fh:
        out = Path(fh.name)
    cmd = [str(python), str(Path(__file__).resolve()), "--child", stage.name,
           "--customers", str(n), "--result", str(out)]  # fmt: skip
    if threads:
        cmd += ["--threads", str(threads)]
    if workers:
        cmd += ["--workers", str(workers)]
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "RETENTIONEERING_NO_TRACK": "1"}
    digest = _source_digest()
    load_before = os.getloadavg()[0]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=REPO_ROOT)
    killed = threading.Event()

    def _kill() -> None:
        killed.set()
        proc.kill()

    timer = threading.Timer(timeout, _kill)
    timer.start()
    over_limit = threading.Event()
    done = threading.Event()

    def _guard() -> None:
        # Kill a child that outgrows --max-rss-gb before the OOM killer picks a random process
        # on a shared machine; wait4's ru_maxrss remains the measurement.
        while not done.wait(0.5):
            rss = _rss_mb(proc.pid)
            if rss is not None and rss > max_rss_gb * 1024:
                over_limit.set()
                proc.kill()
                return

    guard = threading.Thread(target=_guard, daemon=True)
    guard.start()
    try:
        _, status, usage = os.wait4(proc.pid, 0)
    finally:
        done.set()
        timer.cancel()
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - t0
    result: dict = {}
    if out.is_file() and out.stat().st_size:
        result = json.loads(out.read_text())
    out.unlink(missing_ok=True)
    result["process_seconds"] = round(wall, 2)
    result["peak_mb"] = round(usage.ru_maxrss / 1024, 1)  # Linux: KiB
    result["exit_code"] = proc.returncode
    result["journeylib_sources"] = digest
    # 1-minute load average before and after: other work on the machine slows a stage down;
    # a load well above what the stage itself causes marks a noisy measurement.
    result["loadavg"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    if over_limit.is_set():
        result["error"] = f"killed: resident memory above the {max_rss_gb:g} GB guard"
    elif killed.is_set():
        result["error"] = f"killed after the {timeout:.0f} s time limit"
    elif proc.returncode != 0 and "error" not in result:
        result["error"] = f"exit code {proc.returncode} (killed by the OOM killer if -9)"
    return result


def child_main(args: argparse.Namespace) -> int:
    stage = REGISTRY[args.child]
    ctx = Context(
        args.customers,
        datasets.dataset_dir(args.customers),
        threads=args.threads,
        workers=args.workers,
    )
    result: dict = {"rss_start_mb": _rss_mb()}
    try:
        out = stage.fn(ctx)
        result["output"] = out
    except Exception as exc:  # reported in the result line, not raised
        result["error"] = f"{type(exc).__name__}: {exc}"
        result["traceback"] = traceback.format_exc(limit=8)
    result["phases"] = {k: round(v, 3) for k, v in ctx.phases.items()}
    result["seconds"] = result["phases"].pop("seconds", None)
    result["info"] = ctx.info
    result["versions"] = _versions()
    Path(args.result).write_text(json.dumps(result, default=str))
    return 0


def _rss_mb(pid: int | str = "self") -> float | None:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


def _versions() -> dict:
    from importlib import metadata

    out = {"python": platform.python_version()}
    for dist in ("journeylib", "retentioneering", "duckdb", "pandas", "pyarrow", "numpy"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            pass
    return out


def _needs(stage: Stage, n: int) -> list[str]:
    if stage.needs == "raw" and not datasets.raw_ready(n):
        return ["synth"]
    if stage.needs == "processed":
        return ([] if datasets.raw_ready(n) else ["synth"]) + (
            [] if datasets.processed_ready(n) else ["ingest"]
        )
    return []


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--customers", default="1m",
                   help="comma-separated sizes, e.g. 100k,1m (default 1m)")  # fmt: skip
    p.add_argument("--stages", default="journey", help="stage or group names (default journey)")
    p.add_argument("--compare", default="", help="comparison tools, e.g. retentioneering")
    p.add_argument("--repeat", type=int, default=1, help="runs per stage (each recorded)")
    p.add_argument("--threads", type=int, default=None, help="DuckDB threads (default: all)")
    p.add_argument("--workers", type=int, default=None,
                   help="end_to_end: notebooks at once (report.workers; default 1)")  # fmt: skip
    p.add_argument("--timeout", type=float, default=1800, help="seconds per stage run")
    p.add_argument("--max-rss-gb", type=float, default=16,
                   help="kill a stage whose resident memory exceeds this (default 16)")  # fmt: skip
    p.add_argument("--results", type=Path, default=None, help="JSON-lines file to append to")
    p.add_argument("--note", default="", help="free text stored with each result")
    p.add_argument("--no-report", action="store_true", help="do not re-render the README table")
    p.add_argument("--list", action="store_true", help="list the stages and exit")
    p.add_argument("--child", help=argparse.SUPPRESS)
    p.add_argument("--result", help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args.child:
        args.customers = parse_size(args.customers)
        return child_main(args)
    if args.list:
        for s in REGISTRY.values():
            print(
                f"{s.name:18} {s.group:10} {s.python:16} {s.doc.splitlines()[0] if s.doc else ''}"
            )
        return 0

    compare = tuple(c.strip() for c in args.compare.split(",") if c.strip())
    stages = select(args.stages, compare=compare)
    sizes = [parse_size(s) for s in args.customers.split(",")]
    now = dt.datetime.now(dt.UTC)
    machine = _machine()
    results = args.results or RESULTS_DIR / f"{now:%Y-%m-%d}-{machine['host']}.jsonl"
    results.parent.mkdir(parents=True, exist_ok=True)
    common = {
        "run_started": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "git": _git("rev-parse", "--short", "HEAD"),
        "git_dirty": bool(_git("status", "--porcelain", "--", "journeylib")),
        "machine": machine,
        "threads": args.threads,
        "workers": args.workers,
        "note": args.note,
    }
    failures = 0
    for n in sizes:
        todo: list[Stage] = []
        for s in stages:
            for dep in _needs(s, n):
                if REGISTRY[dep] not in todo and REGISTRY[dep] not in stages:
                    todo.append(REGISTRY[dep])
        todo += stages
        for s in todo:
            for rep in range(args.repeat if s.group != "data" else 1):
                print(f"[{n:,} customers] {s.name} (run {rep + 1}) ...", flush=True)
                res = run_child(
                    s,
                    n,
                    threads=args.threads,
                    timeout=args.timeout,
                    max_rss_gb=args.max_rss_gb,
                    workers=args.workers,
                )
                line = {
                    **common,
                    "stage": s.name,
                    "group": s.group,
                    "tool": "journeylib" if s.python == "main" else s.python,
                    "customers": n,
                    "events": _events_in(n),
                    "repeat": rep + 1,
                    **res,
                }
                with results.open("a") as fh:
                    fh.write(json.dumps(line, default=str) + "\n")
                if "error" in res:
                    failures += 1
                    print(f"    FAILED: {res['error']}", flush=True)
                    if res.get("traceback"):
                        print(res["traceback"], flush=True)
                else:
                    extra = ", ".join(f"{k} {v:.1f} s" for k, v in res.get("phases", {}).items())
                    print(
                        f"    {res['seconds']:.2f} s, peak {res['peak_mb']:,.0f} MB"
                        + (f" ({extra})" if extra else ""),
                        flush=True,
                    )
    print(f"results appended to {results}")
    if not args.no_report:
        from benchmarks import report

        report.main([])
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
