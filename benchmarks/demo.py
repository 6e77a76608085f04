"""The full demo report at a realistic size (issue 9: ~20k customers in under 3 minutes).

Stage (group ``demo``; registered by importing this module, which :mod:`benchmarks.run` and
:mod:`benchmarks.report` do)::

    demo_report   `journey run` of the demo config (every notebook listed there, the client
                  report included: ingest, notebooks, HTML, PII scan, publishing) on
                  --customers synthetic customers (default of the issue: 20k)

The data is generated outside the timing, with the demo's generator settings (seed 42,
2025-01-01 to 2025-06-30), into a temporary folder, and the demo config is copied with its
``data.raw_dir`` and ``output`` folders pointed there; nothing in the repository is touched.
Run it with ``python benchmarks/run.py --customers 20k --stages demo``.

This module imports only the standard library at the top: :mod:`benchmarks.run` imports it in
every interpreter, including the comparison venvs, where journeylib is not installed.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __name__ == "__main__":  # python benchmarks/demo.py ...: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.personas import _mark  # noqa: E402
from benchmarks.stages import Context, stage  # noqa: E402

GROUP = "demo"


@stage("demo_report", group=GROUP, needs="none")
def demo_report(ctx: Context) -> dict:
    """Generate --customers demo customers (not timed), then time `journey run` of the demo
    config on them."""
    import os
    import tempfile

    import yaml

    from benchmarks.run import REPO_ROOT
    from journeylib.runner import run
    from journeylib.synth import SynthConfig, generate, write_raw

    with tempfile.TemporaryDirectory(prefix="journey-demo-") as tmp:
        root = Path(tmp)
        with ctx.timed("generate_seconds"):
            write_raw(generate(SynthConfig(n_customers=ctx.customers, seed=42)), root / "raw")
        _mark(ctx, "generate")
        cfg = yaml.safe_load((REPO_ROOT / "configs" / "demo.yaml").read_text(encoding="utf-8"))
        cfg["data"]["raw_dir"] = str(root / "raw")
        cfg["output"] = {
            "processed_dir": str(root / "processed"),
            "reports_dir": str(root / "reports"),
        }
        config = root / "demo.yaml"
        config.write_text(yaml.safe_dump(cfg), encoding="utf-8")
        os.environ.pop("JOURNEY_ID_KEY", None)  # the demo key, as the demo config allows
        with ctx.timed():
            result = run(config)
        _mark(ctx, "run")
        return {
            "notebooks": {n.name: n.seconds for n in result.notebooks},
            "status": result.status,
        }


class TreeMemory:
    """Peak resident memory of this process plus every descendant (the notebook kernels),
    summed, sampled every ``interval`` seconds by a thread.

    ``os.wait4`` in the harness gives the largest single process of the tree; a report run is a
    runner process plus one kernel per notebook, so the honest peak is the sum at any moment.
    """

    def __init__(self, interval: float = 0.5) -> None:
        import threading

        self.interval = interval
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import psutil

        me = psutil.Process()
        while not self._stop.is_set():
            total = 0
            for proc in [me, *me.children(recursive=True)]:
                try:
                    total += proc.memory_info().rss
                except psutil.Error:
                    pass
            self.peak_mb = max(self.peak_mb, total / 2**20)
            self._stop.wait(self.interval)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


@stage("end_to_end", group="report", needs="raw")
def end_to_end(ctx: Context) -> dict:
    """`journey run` of the benchmark config from the raw exports: ingest, every notebook of
    the demo config (all analyses and the client report), HTML, PII scan and publishing.

    Ingest always runs (the processed tables go to a scratch folder, removed afterwards, so the
    cached ones other stages read are neither reused nor replaced). ``seconds`` is the wall time
    of the whole run; ``tree_peak_mb`` the largest sum of resident memory of the runner and its
    notebook kernels at any moment (sampled every 0.5 s), ``peak_mb`` the largest single process.
    """
    import os
    import shutil
    import tempfile

    import yaml

    from benchmarks import datasets
    from journeylib.runner import run

    doc = yaml.safe_load(datasets.write_config(ctx.customers).read_text())
    scratch = Path(tempfile.mkdtemp(prefix=".e2e-", dir=ctx.dataset_dir))
    doc["output"]["processed_dir"] = str(scratch / "processed")
    if ctx.workers:
        doc["report"]["workers"] = ctx.workers
    ctx.info["workers"] = doc["report"].get("workers", 1)
    config = scratch / "e2e.yaml"
    config.write_text(yaml.safe_dump(doc, sort_keys=False))
    os.environ.pop("JOURNEY_ID_KEY", None)  # the demo key, as the demo config allows
    try:
        with TreeMemory() as tree, ctx.timed():
            result = run(config)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    ctx.info["tree_peak_mb"] = round(tree.peak_mb)
    _mark(ctx, "run")
    return {
        "notebooks": {n.name: n.seconds for n in result.notebooks},
        "status": result.status,
        "tree_peak_mb": round(tree.peak_mb),
    }


if __name__ == "__main__":
    from benchmarks.run import main

    sys.exit(main(["--stages", GROUP, *sys.argv[1:]]))
