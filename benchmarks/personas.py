"""Persona benchmark stages (issue 5, notebook ``30_personas``).

Stages (group ``features_personas``; registered by importing this module, which :mod:`benchmarks.run`
and :mod:`benchmarks.report` do)::

    features   customer_features(engine, as_of=config.effective_as_of, config=config)
    personas   features + persona_inputs + persona_model(...).fit (on a sample) + assign (everyone)

Both read the processed tables of the data set through the config's engine (``ctx.engine()``,
as every other stage and the notebooks do). The personas settings are the config's
``personas`` section (the benchmark config has none: :class:`journeylib.config.PersonaSpec`
defaults, k chosen in 2..8 by stability over 20 bootstrap refits, learned from a sample of
50,000 customers with at least 5 sessions) and the model's seed is :data:`SEED`.

``personas`` is timed as a whole (``seconds``: from the engine query to the last assignment)
and per part (``features``, ``inputs``, ``fit``, ``assign`` phases). Besides the stage's peak
(``peak_mb``, from ``wait4`` in the parent), ``info`` records the process's resident memory
after each part and its high-water mark so far (``rss_mb_after_<part>``, ``hwm_mb_after_<part>``),
which shows which part sets the peak.

    python benchmarks/personas.py profile [--customers 1m] [--top 25] [--threads 1] [--set n_init=1]
    python benchmarks/personas.py feature-groups [--customers 1m] [--repeat 2]

The first runs the fit under cProfile on the feature table (computed once per version of
``journeylib/features.py`` and cached as ``benchmarks/data/synth-<size>/features-<hash>.parquet``)
and prints where its time goes (candidate fits, silhouette, bootstrap refits, labelling every
customer), optionally with capped native threads or other model parameters (what-if timings;
the stage itself always runs the configured model). The second times ``customer_features``
for each feature group alone and for all groups.

This module imports only the standard library at the top: :mod:`benchmarks.run` imports it in
every interpreter, including the comparison venvs, where journeylib is not installed.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

if __name__ == "__main__":  # python benchmarks/personas.py ...: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.stages import Context, _impl, stage  # noqa: E402

#: random_state of the persona model in the benchmark.
SEED = 0


def _memory_mb() -> dict[str, float]:
    """This process's resident memory now (VmRSS) and its high-water mark so far (VmHWM)."""
    out = {}
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    out[line[2:5].lower()] = round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return out


def _mark(ctx: Context, part: str) -> None:
    for key, value in _memory_mb().items():
        ctx.info[f"{key}_mb_after_{part}"] = value


def _features(ctx: Context, engine, config):
    feats, ctx.info["impl_features"] = _impl("journeylib.features", ["customer_features"])
    return feats.customer_features(engine, as_of=config.effective_as_of, config=config)


def _table_summary(df) -> dict:
    import numpy as np

    numeric = df.select_dtypes("number")
    # column by column: one float copy of a 10M-customer table is 5 GB
    total = sum(float(np.nansum(numeric[c].to_numpy(dtype=float))) for c in numeric.columns)
    missing = sum(int(df[c].isna().sum()) for c in df.columns)
    return {
        "rows": int(len(df)),
        "columns": int(df.shape[1]),
        "as_of": df.attrs.get("as_of"),
        "names": [str(c) for c in df.columns],
        # checksum of the numbers, to compare runs and code versions (NaN-safe)
        "numeric_sum": round(total, 3),
        "missing_share": round(missing / max(df.size, 1), 4),
        "memory_mb": round(df.memory_usage(deep=False).sum() / 2**20, 1),
    }


@stage("features", group="features_personas")
def features(ctx: Context) -> dict:
    """customer_features(engine, as_of=config.effective_as_of, config=config): every group."""
    config = ctx.config()
    engine = ctx.engine()
    try:
        with ctx.timed():
            table = _features(ctx, engine, config)
    finally:
        engine.close()
    _mark(ctx, "features")
    return _table_summary(table)


@stage("personas", group="features_personas")
def personas(ctx: Context) -> dict:
    """Feature table + persona_inputs + persona_model(config.personas).fit + assign everyone.

    As notebook 30_personas up to the assignments (learning_spec, persona_inputs,
    persona_model(...).fit, assign), without its tables for the report (cards, stage mix, map).
    """
    import numpy as np

    config = ctx.config()
    spec = config.personas
    pmod, ctx.info["impl_personas"] = _impl(
        "journeylib.personas", ["persona_inputs", "persona_model", "PersonaModel"]
    )
    ctx.info["spec"] = spec.model_dump(mode="json")
    ctx.info["seed"] = SEED
    engine = ctx.engine()
    try:
        with ctx.timed():
            with ctx.timed("features_seconds"):
                table = _features(ctx, engine, config)
            _mark(ctx, "features")
            with ctx.timed("inputs_seconds"):
                n_active = None
                if hasattr(pmod, "learning_spec"):  # as the notebook: fall back when too few
                    spec, n_active = pmod.learning_spec(table, spec)
                X = pmod.persona_inputs(table, spec)
                model = pmod.persona_model(spec, seed=SEED, features=X)
            with ctx.timed("fit_seconds"):
                model.fit(X)
            _mark(ctx, "fit")
            with ctx.timed("assign_seconds"):
                assigned = model.assign(X)
            _mark(ctx, "assign")
    finally:
        engine.close()

    sel = model.selection_
    chosen = sel[sel["chosen"]].iloc[0]
    sizes = assigned["persona"].value_counts().sort_index()
    # the labels fit gives every row of X must be the ones assign gives (same pipeline)
    agree = float(np.mean(model.labels_ == assigned["persona"].to_numpy()))
    return {
        "features": _table_summary(table),
        "inputs": {"rows": int(len(X)), "columns": [str(c) for c in X.columns]},
        "active_customers": n_active,
        "min_activity_used": float(spec.min_activity),
        "learned_from": int(len(model.sample_index_)),
        "clustered_on": len(model.features_),
        "dropped_features": model.dropped_features_,
        "k": int(model.n_personas_),
        "stability": round(float(chosen["stability"]), 4),
        "stability_ari": round(float(chosen["stability_ari"]), 4),
        "silhouette": round(float(chosen["silhouette"]), 4),
        "unstable": bool(model.unstable_),
        "persona_stability": {
            int(p): round(float(v), 4) for p, v in model.persona_stability_.items()
        },
        "selection": [
            {k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.items()}
            for r in sel.astype(object).to_dict(orient="records")
        ],
        "assigned": int(len(assigned)),
        "assigned_per_persona": {int(p): int(n) for p, n in sizes.items()},
        "labels": {int(p): str(s) for p, s in model.persona_names_.items()},
        "fit_labels_agree_with_assign": agree,
        "imputed_share_1": int((assigned["imputed_share"] >= 1).sum()),
    }


# ---------------------------------------------------------------------------------------------
# python benchmarks/personas.py profile: where the fit's time goes
# ---------------------------------------------------------------------------------------------
_PROFILE_CALLS = {
    # label -> (module file suffix, function name) in cProfile's keys
    "PersonaModel.fit": ("personas.py", "fit"),
    "_stability (bootstrap refits + predict)": ("personas.py", "_stability"),
    "_silhouette": ("personas.py", "_silhouette"),
    "KMeans.fit (all)": ("_kmeans.py", "fit"),
    "KMeans.predict (all)": ("_kmeans.py", "predict"),
    "pipeline fit_transform": ("pipeline.py", "fit_transform"),
    "profile()": ("personas.py", "profile"),
    "persona_labels()": ("personas.py", "persona_labels"),
    "predict (labels_ of all rows)": ("personas.py", "predict"),
}


def _cached_features(n: int):
    import hashlib

    import pandas as pd

    from benchmarks import datasets
    from benchmarks.run import REPO_ROOT

    digest = hashlib.sha256((REPO_ROOT / "journeylib" / "features.py").read_bytes()).hexdigest()
    path = datasets.dataset_dir(n) / f"features-{digest[:8]}.parquet"
    if path.is_file():
        return pd.read_parquet(path), path
    ctx = Context(n, datasets.dataset_dir(n))
    engine = ctx.engine()
    try:
        table = _features(ctx, engine, ctx.config())
    finally:
        engine.close()
    table.to_parquet(path, index=False)
    return table, path


def profile_fit(
    n: int, top: int = 25, *, threads: int | None = None, params: dict | None = None
) -> dict:
    """cProfile of ``persona_model(config.personas).fit`` on the cached feature table.

    ``threads`` caps the native thread pools (OpenMP and BLAS, via threadpoolctl) during the
    fit; ``params`` overrides PersonaModel parameters (``set_params``): both are for what-if
    timings, the ``personas`` stage always runs the configured defaults.
    """
    import contextlib
    import cProfile
    import io
    import pstats

    from benchmarks import datasets
    from journeylib.personas import persona_inputs, persona_model

    table, path = _cached_features(n)
    spec = datasets.load_config(n).personas
    X = persona_inputs(table, spec)
    model = persona_model(spec, seed=SEED, features=X).set_params(**(params or {}))
    limit = contextlib.nullcontext()
    if threads:
        from threadpoolctl import threadpool_limits

        limit = threadpool_limits(threads)
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    with limit:
        prof.enable()
        model.fit(X)
        prof.disable()
    wall = time.perf_counter() - t0
    stats = pstats.Stats(prof)
    cum: dict[str, float] = {}
    ncalls: dict[str, int] = {}
    for (file, _line, fn), (_cc, nc, _tt, ct, _callers) in stats.stats.items():
        for label, key in _PROFILE_CALLS.items():
            if file.endswith(key[0]) and fn == key[1]:
                if ct > cum.get(label, -1.0):  # the costliest match (fit: not Log1pSkewed.fit)
                    cum[label], ncalls[label] = ct, nc
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(top)
    return {
        "features_file": str(path),
        "threads": threads,
        "params": params or {},
        "rows": len(X),
        "k": int(model.n_personas_),
        "fit_seconds": round(wall, 2),
        "cumulative_seconds": {k: round(v, 2) for k, v in cum.items()},
        "calls": ncalls,
        "selection": model.selection_.to_string(index=False),
        "pstats": buf.getvalue(),
    }


def feature_group_seconds(n: int, repeat: int = 1) -> dict[str, list[float]]:
    """Wall time of ``customer_features(include=[group])`` for each group alone, then of all of
    them together, on one engine (what each group's SQL costs; the groups share passes over the
    events, so the parts do not add up to the whole)."""
    from benchmarks import datasets
    from journeylib.features import FEATURE_GROUPS, customer_features

    ctx = Context(n, datasets.dataset_dir(n))
    config = ctx.config()
    engine = ctx.engine()
    out: dict[str, list[float]] = {}
    try:
        for group in [*FEATURE_GROUPS, "all"]:
            include = None if group == "all" else [group]
            for _ in range(repeat):
                t0 = time.perf_counter()
                customer_features(
                    engine, as_of=config.effective_as_of, config=config, include=include
                )
                out.setdefault(group, []).append(round(time.perf_counter() - t0, 2))
            print(f"  {group:14} {out[group]} s", flush=True)
    finally:
        engine.close()
    return out


def main(argv: list[str] | None = None) -> int:
    import argparse
    import ast
    import os

    from benchmarks.run import parse_size

    p = argparse.ArgumentParser(description="Persona benchmark helpers")
    sub = p.add_subparsers(dest="cmd", required=True)
    prof = sub.add_parser("profile", help="cProfile of the persona fit on the cached features")
    prof.add_argument("--customers", default="1m")
    prof.add_argument("--top", type=int, default=25, help="functions listed by cumulative time")
    prof.add_argument("--threads", type=int, default=None,
                      help="cap OpenMP/BLAS threads during the fit (threadpoolctl)")  # fmt: skip
    prof.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                      help="override a PersonaModel parameter, e.g. n_init=1 (repeatable)")  # fmt: skip
    groups = sub.add_parser("feature-groups", help="seconds of customer_features per group")
    groups.add_argument("--customers", default="1m")
    groups.add_argument("--repeat", type=int, default=1)
    args = p.parse_args(argv)
    if args.cmd == "feature-groups":
        feature_group_seconds(parse_size(args.customers), args.repeat)
    if args.cmd == "profile":
        params = {}
        for item in args.set:
            name, _, value = item.partition("=")
            params[name] = ast.literal_eval(value)
        out = profile_fit(parse_size(args.customers), args.top, threads=args.threads, params=params)
        print(
            f"fit on {out['rows']:,} customers: {out['fit_seconds']} s, k={out['k']} "
            f"(threads={out['threads']}, params={out['params']}, load {os.getloadavg()[0]:.1f})"
        )
        print(out["selection"])
        for label, s in out["cumulative_seconds"].items():
            print(f"  {label:45} {s:8.2f} s  ({out['calls'][label]} calls)")
        print(out["pstats"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
