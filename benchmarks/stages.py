"""Benchmark stages: one function per measured step of the pipeline, registered by name.

A stage is ``fn(ctx) -> dict | None``. :mod:`benchmarks.run` runs each stage in a fresh Python
process, so its peak memory is its own. Only the code inside ``with ctx.timed():`` counts as the
stage's ``seconds``; set-up around it (reading a frame, building a tool's object) can be timed as
extra phases with ``ctx.timed("load_seconds")`` and is reported next to it. The returned dict
(row counts, checksums) is stored with the result so runs on both sides can be compared.

This module imports only the standard library at the top: the retentioneering stages run under
``benchmarks/.venv-retentioneering``, where journeylib is not installed.

Adding a stage for a later issue::

    @stage("attribution", group="attribution", needs="processed")
    def attribution(ctx):
        engine = ctx.engine()
        with ctx.timed():
            table = journeylib.attribution.channel_credit(engine, ...)
        return {"rows": len(table)}
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: The funnel and step-matrix settings both sides use.
FUNNEL_STEPS = ["view_item", "add_to_cart", "begin_checkout", "purchase"]
STEP_MATRIX_STEPS = 10
VARIANT_MAX_STEPS = 8
VARIANT_TOP_N = 20


@dataclass
class Stage:
    name: str
    fn: Callable[[Context], dict | None]
    group: str
    needs: str  # "none" | "raw" | "processed"
    python: str = "main"  # "main" (.venv) or the name of a benchmarks/.venv-<name>
    doc: str = ""


REGISTRY: dict[str, Stage] = {}

#: journeylib stage -> the comparison tool's stage computing the same thing on the same data.
COMPARE: dict[str, str] = {
    "funnel": "rete_funnel",
    "step_matrix": "rete_step_matrix",
    "attribution_markov": "ca_markov",  # benchmarks/attribution.py, ChannelAttribution 2.x
    "attribution_markov_500k": "ca_markov_500k",
}


def stage(name: str, *, group: str, needs: str = "processed", python: str = "main"):
    """Register ``fn`` as the stage ``name`` in ``group`` (``--stages`` takes names or groups)."""

    def deco(fn):
        REGISTRY[name] = Stage(name, fn, group, needs, python, (fn.__doc__ or "").strip())
        return fn

    return deco


#: The pipeline of the scale issue, in order: (what it measures, the stage). ``--stages scale``
#: runs them all; the end-to-end row is ``journey run`` of every notebook from the raw files.
SCALE: list[tuple[str, str]] = [
    ("synth (raw exports)", "synth"),
    ("ingest", "ingest"),
    ("stages + funnel", "journey_notebook"),
    ("attribution paths", "attribution_paths"),
    ("features", "features"),
    ("personas", "personas"),
    ("churn", "churn"),
    ("recommendations", "recommend_orders"),
    ("end to end (every notebook, report)", "end_to_end"),
]


def select(spec: str, *, compare: tuple[str, ...] = ()) -> list[Stage]:
    """Stages named by a comma-separated list of stage or group names (in registry order).

    Stages of another interpreter (``python != "main"``) are included only when ``compare`` names
    it, or when they are asked for by stage name.
    """
    wanted = {s.strip() for s in spec.split(",") if s.strip()}
    if "scale" in wanted:  # the pipeline stages of every group
        wanted = (wanted - {"scale"}) | {stage for _, stage in SCALE}
    unknown = wanted - set(REGISTRY) - {s.group for s in REGISTRY.values()} - {"all"}
    if unknown:
        raise SystemExit(f"unknown stage(s) {sorted(unknown)}; known: {sorted(REGISTRY)}")
    out = []
    for s in REGISTRY.values():
        by_name = s.name in wanted
        by_group = s.group in wanted or "all" in wanted
        if by_name or (by_group and (s.python == "main" or s.python in compare)):
            out.append(s)
    return out


@dataclass
class Context:
    """What a stage gets: the data set's paths and a timer."""

    customers: int
    dataset_dir: Path
    threads: int | None = None
    workers: int | None = None  # end_to_end: report.workers
    phases: dict[str, float] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def raw_dir(self) -> Path:
        return self.dataset_dir / "raw"

    @property
    def processed_dir(self) -> Path:
        from benchmarks import datasets

        return datasets.processed_dir(self.customers)

    @contextlib.contextmanager
    def timed(self, phase: str = "seconds") -> Iterator[None]:
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.phases[phase] = self.phases.get(phase, 0.0) + time.perf_counter() - t0

    # -- journeylib helpers (imported lazily: not available under other interpreters) --------
    def config(self):
        from benchmarks import datasets

        return datasets.load_config(self.customers)

    def engine(self, cold: tuple[str, ...] = ("customer_features",)):
        """The config's engine over this size's processed tables. The kept results named in
        ``cold`` (:func:`journeylib.engine.kept`) are removed first, so that a stage times
        their computation, not a read of what an earlier stage kept (a ``journey run``, the
        ``end_to_end`` stage, starts with none kept)."""
        from journeylib.engine import CACHE_DIR, get_engine

        for name in cold:
            for path in (self.processed_dir / CACHE_DIR).glob(f"{name}-*.parquet"):
                path.unlink()
        cfg = self.config()
        if self.threads:
            cfg = cfg.model_copy(
                update={"engine": cfg.engine.model_copy(update={"threads": self.threads})}
            )
        return get_engine(cfg)


def _impl(module: str, names: list[str]) -> tuple[Any, str]:
    """The journeylib module providing ``names``; fails clearly if one is missing.

    (While issue 3 was in progress the harness ran against stand-ins; every function it needs
    has since landed, so a missing one is now an error, never a silent substitute.)
    """
    import importlib

    mod = importlib.import_module(module)
    missing = [n for n in names if not hasattr(mod, n)]
    if missing:
        raise ImportError(f"{module} has no {', '.join(missing)}")
    return mod, "journeylib"


# ---------------------------------------------------------------------------------------------
# data preparation
# ---------------------------------------------------------------------------------------------
@stage("synth", group="data", needs="none")
def synth(ctx: Context) -> dict:
    """Generate the raw exports (journeylib.synth.iter_chunks, appended chunk by chunk to CSV)."""
    from benchmarks import datasets

    ctx.info["cached"] = datasets.raw_ready(ctx.customers)  # then nothing was generated
    with ctx.timed():
        summary = datasets.ensure_raw(ctx.customers)
    return {"rows": summary["rows"], "generated_seconds": summary["seconds"]}


@stage("ingest", group="data", needs="raw")
def ingest(ctx: Context) -> dict:
    """journeylib.io.prepare: raw CSVs -> validated, pseudonymised, sessionised Parquet.

    The seconds of each ingest step (``journeylib.io`` logs them: read and check per source,
    ids, writing the events, the other tables, timelines) go into ``info.steps_seconds``. When
    the data set's processed tables exist already (other stages may be reading them), ingest
    writes into a scratch folder beside them, removed afterwards, instead of replacing them.
    """
    import logging
    import re
    import shutil
    import tempfile

    from benchmarks import datasets
    from journeylib.io import prepare

    steps: dict[str, float] = {}

    class Steps(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            found = re.fullmatch(r"ingest: (.+) in ([0-9.]+) s", record.getMessage())
            if found:
                steps[found[1]] = float(found[2])

    cfg = ctx.config()
    scratch = None
    if datasets.processed_ready(ctx.customers):
        scratch = Path(tempfile.mkdtemp(prefix=".ingest-", dir=ctx.processed_dir.parent.parent))
        output = cfg.output.model_copy(update={"processed_dir": str(scratch)})
        cfg = cfg.model_copy(update={"output": output})
    ctx.info["scratch"] = scratch is not None
    log = logging.getLogger("journeylib.io")
    handler, level = Steps(), log.level
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        with ctx.timed():
            result = prepare(cfg, force=True)
    finally:
        log.removeHandler(handler)
        log.setLevel(level)
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    ctx.info["steps_seconds"] = steps
    ctx.info["engine"] = {
        "memory_limit": cfg.engine.memory_limit,
        "threads": cfg.engine.threads,
        "temp_dir": cfg.engine.temp_dir,
    }
    return {"rows": result.tables}


@stage("timelines", group="data")
def timelines(ctx: Context) -> dict:
    """The event-timeline index that ingest writes last (journeylib.timelines), on its own:
    read the processed events, write the timelines into a scratch folder."""
    import tempfile

    from journeylib.timelines import write_event_timelines

    engine = ctx.engine()
    try:
        with tempfile.TemporaryDirectory(dir=ctx.processed_dir.parent) as scratch:
            with ctx.timed():
                n = write_event_timelines(engine, "events", Path(scratch))
            size = sum(f.stat().st_size for f in Path(scratch).iterdir())
    finally:
        engine.close()
    return {"events": n, "bytes": size}


# ---------------------------------------------------------------------------------------------
# issue 3: journey stages, funnels, paths (notebook 10_journey_stages)
# ---------------------------------------------------------------------------------------------
def _frame_summary(df) -> dict:
    return {"rows": int(len(df)), "columns": [str(c) for c in df.columns][:20]}


def _parts(ctx: Context) -> dict[str, Callable]:
    """The four computations of notebook 10_journey_stages, each ``part(engine) -> dict``.

    Modules are imported and the config is read here, before any timing starts; which
    implementation each part uses (journeylib or a stand-in) is recorded in ``ctx.info``.
    """
    config = ctx.config()
    stages_mod, ctx.info["impl_stages"] = _impl(
        "journeylib.stages",
        ["StageModel", "customer_stages", "stage_transitions", "unmapped_events"],
    )
    funnels_mod, ctx.info["impl_funnel"] = _impl("journeylib.funnels", ["funnel"])
    sm_mod, ctx.info["impl_step_matrix"] = _impl("journeylib.paths", ["step_matrix"])
    pv_mod, ctx.info["impl_variants"] = _impl("journeylib.paths", ["path_variants"])

    def stage_mapping(engine) -> dict:
        model = stages_mod.StageModel.from_config(config)
        return {
            "customer_stages": _frame_summary(stages_mod.customer_stages(engine, model)),
            "stage_transitions": _frame_summary(stages_mod.stage_transitions(engine, model)),
            "unmapped_events": _frame_summary(stages_mod.unmapped_events(engine, model)),
        }

    def funnel(engine) -> dict:
        return {"table": funnels_mod.funnel(engine, FUNNEL_STEPS).to_dict(orient="records")}

    def step_matrix(engine) -> dict:
        return _frame_summary(sm_mod.step_matrix(engine, steps=STEP_MATRIX_STEPS))

    def variants(engine) -> dict:
        table = pv_mod.path_variants(
            engine, conversion_event="purchase", max_steps=VARIANT_MAX_STEPS, top_n=VARIANT_TOP_N
        )
        return _frame_summary(table)

    return {
        "stage_mapping": stage_mapping,
        "funnel": funnel,
        "step_matrix": step_matrix,
        "variants": variants,
    }


def _one(ctx: Context, name: str) -> dict:
    part = _parts(ctx)[name]
    engine = ctx.engine()  # DuckDB views over the Parquet files: cheap, outside the timing
    try:
        with ctx.timed():
            return part(engine)
    finally:
        engine.close()


@stage("stage_mapping", group="journey")
def stage_mapping(ctx: Context) -> dict:
    """StageModel.from_config + customer_stages + stage_transitions + unmapped_events."""
    return _one(ctx, "stage_mapping")


@stage("funnel", group="journey")
def funnel(ctx: Context) -> dict:
    """journeylib.funnels.funnel over the processed events (4 steps, no window)."""
    return _one(ctx, "funnel")


@stage("step_matrix", group="journey")
def step_matrix(ctx: Context) -> dict:
    """journeylib.paths.step_matrix, first 10 steps of every customer's path."""
    return _one(ctx, "step_matrix")


@stage("variants", group="journey")
def variants(ctx: Context) -> dict:
    """journeylib.paths.path_variants: top 20 paths to purchase, up to 8 steps."""
    return _one(ctx, "variants")


@stage("journey_notebook", group="journey")
def journey_notebook(ctx: Context) -> dict:
    """The whole notebook logic in one process: stage mapping + funnel + step matrix + variants.

    Imports and reading the config happen before the timing (``setup`` phase); creating the
    engine and the four computations are inside it, in one process, as in the notebook.
    """
    with ctx.timed("setup_seconds"):
        parts = _parts(ctx)
    out = {}
    with ctx.timed():
        engine = ctx.engine()
        try:
            for name, part in parts.items():
                with ctx.timed(f"{name}_seconds"):
                    out[name] = part(engine)
        finally:
            engine.close()
    return out


# ---------------------------------------------------------------------------------------------
# retentioneering 5.x on the same processed events (benchmarks/.venv-retentioneering)
# ---------------------------------------------------------------------------------------------
def _rete_stream(ctx: Context):
    import os

    os.environ["RETENTIONEERING_NO_TRACK"] = "1"  # no telemetry (and no network) in benchmarks
    import pandas as pd
    import retentioneering
    from retentioneering import Eventstream

    ctx.info["impl"] = f"retentioneering {retentioneering.__version__}"
    with ctx.timed("load_seconds"):
        df = pd.read_parquet(
            ctx.processed_dir / "events.parquet", columns=["customer_id", "event", "ts"]
        )
    ctx.info["events"] = int(len(df))
    with ctx.timed("construct_seconds"):
        stream = Eventstream(
            df, schema={"path_cols": ["customer_id"], "event_col": "event", "timestamp_col": "ts"}
        )
    del df
    return stream


@stage("rete_funnel", group="journey", python="retentioneering")
def rete_funnel(ctx: Context) -> dict:
    """retentioneering Eventstream.funnel_data (the headless Funnel tool), same 4 steps."""
    stream = _rete_stream(ctx)
    with ctx.timed():
        result = stream.funnel_data(steps=FUNNEL_STEPS)
    return {"table": result["steps"]}


@stage("rete_step_matrix", group="journey", python="retentioneering")
def rete_step_matrix(ctx: Context) -> dict:
    """retentioneering Eventstream.step_matrix_data(max_steps=10) (the headless StepMatrix)."""
    stream = _rete_stream(ctx)
    with ctx.timed():
        result = stream.step_matrix_data(max_steps=STEP_MATRIX_STEPS)
    sm = result[0] if isinstance(result, tuple) else result
    return {"rows": int(sm.shape[0]), "columns": int(sm.shape[1])}


# ---------------------------------------------------------------------------------------------
# issue 4: attribution stages (their own module; importing it registers them)
# ---------------------------------------------------------------------------------------------
from benchmarks import attribution as _attribution  # noqa: E402,F401
