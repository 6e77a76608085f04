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


if __name__ == "__main__":
    from benchmarks.run import main

    sys.exit(main(["--stages", GROUP, *sys.argv[1:]]))
