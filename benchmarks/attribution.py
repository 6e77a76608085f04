"""Attribution benchmark stages (issue 4, notebook ``20_touchpoints_attribution``).

Stages (group ``attribution``; registered in :mod:`benchmarks.stages` by importing this module)::

    attribution_paths        journeys.build_paths(engine) on the processed 1M-customer events
    attribution_markov       MarkovAttribution(order=1).fit(paths) on those aggregated paths
    attribution_rules        every model of rules.RULE_MODELS on the same paths
    attribution_markov_500k  exact Markov on a synthetic table of 500,000 distinct paths
    ca_markov                ChannelAttribution 2.x markov_model on the same paths (its own venv)
    ca_markov_500k           ChannelAttribution markov_model on the 500k table

The aggregated paths are exchanged as a CSV in ChannelAttribution's ``Data.csv`` format
(``path;total_conversions;total_conversion_value;total_null``, channels joined by ``" > "``):
``attribution_paths`` writes ``benchmarks/data/synth-<size>/attribution_paths.csv`` after its
timed section, and both Markov stages read that file before theirs. The 500k table is made
once, deterministically (numpy, seed :data:`SYNTH_SEED`), by :func:`ensure_synthetic_paths`,
cached under ``benchmarks/data/attribution-500k/`` and shared by both sides; each result records
the SHA-256 of the file it read, so both sides provably saw the same bytes.

ChannelAttribution is GPL-3: it is installed only in ``benchmarks/.venv-channelattribution``
(``benchmarks/setup_channelattribution.sh``), never imported by journeylib. This module imports
only the standard library at the top: its ChannelAttribution stages run in that venv, where
journeylib is not installed.

    python benchmarks/attribution.py synth-500k   # write the 500k table now (else on first use)
    python benchmarks/attribution.py compare      # CA vs exact: speed and credit gaps
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import re
import sys
import time
from pathlib import Path

if __name__ == "__main__":  # python benchmarks/attribution.py ...: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.stages import Context, _impl, stage  # noqa: E402

BENCH_DIR = Path(__file__).resolve().parent
PATHS_FILE = "attribution_paths.csv"  # in benchmarks/data/synth-<size>/
SYNTH_DIR = BENCH_DIR / "data" / "attribution-500k"
SYNTH_FILE = SYNTH_DIR / "paths.csv"
SYNTH_SEED = 20_261_123
SYNTH_PATHS = 500_000  # distinct paths
SYNTH_CHANNELS = 12
SYNTH_MAX_LEN = 15

#: The Markov order both sides fit.
MARKOV_ORDER = 1

#: ChannelAttribution.markov_model settings: its defaults (2.2.5), spelled out, plus
#: ``out_more=True`` so it also returns the transition matrix and removal effects, as
#: journeylib's model does. It estimates by simulation: ``nsim_start`` random walks of at most
#: ``max_step`` steps (None: the longest path in the data) split into ``nfold`` folds, repeated
#: with ``rate_step_sim`` times more walks until the folds agree within ``conv_par``.
CA_SETTINGS: dict = {
    "order": MARKOV_ORDER,
    "nsim_start": 100_000,
    "max_step": None,
    "out_more": True,
    "sep": ">",  # one character; CA strips the spaces around each label
    "ncore": 1,
    "nfold": 10,
    "seed": 0,
    "conv_par": 0.05,
    "rate_step_sim": 1.5,
}


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:16]


def _paths_csv(ctx: Context) -> Path:
    return ctx.dataset_dir / PATHS_FILE


def _require(path: Path, how: str) -> Path:
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: {how}")
    return path


def _shares(channels, conversions) -> dict[str, float]:
    channels, conversions = list(channels), [float(x) for x in conversions]
    total = sum(conversions)
    return {str(c): round(x / total, 6) for c, x in zip(channels, conversions, strict=True)}


# ---------------------------------------------------------------------------------------------
# the data exchanged by both sides
# ---------------------------------------------------------------------------------------------
def write_path_csv(paths, file: Path) -> dict:
    """Write a journeylib ``Paths`` in the ``Data.csv`` format (integer counts, as CA needs)."""
    import numpy as np

    df = paths.to_frame(sep=" > ")
    out = df.rename(
        columns={
            "conversions": "total_conversions",
            "value": "total_conversion_value",
            "nulls": "total_null",
        }
    )[["path", "total_conversions", "total_conversion_value", "total_null"]]
    for col in ("total_conversions", "total_null"):
        x = out[col].to_numpy()
        if not np.array_equal(x, np.round(x)):  # CA reads counts as unsigned integers
            raise ValueError(f"{col}: non-integer counts cannot be passed to ChannelAttribution")
        out[col] = x.astype(np.int64)
    tmp = file.with_name(file.name + ".tmp")
    out.to_csv(tmp, sep=";", index=False, lineterminator="\n")
    tmp.replace(file)
    return {"file": str(file), "rows": int(len(out)), "sha256": _sha256(file)}


def make_synthetic_paths(
    n_paths: int = SYNTH_PATHS,
    *,
    n_channels: int = SYNTH_CHANNELS,
    max_len: int = SYNTH_MAX_LEN,
    seed: int = SYNTH_SEED,
):
    """A deterministic aggregated path table with exactly ``n_paths`` distinct paths.

    Journeys are drawn with lengths uniform in 1..``max_len``; each touch is a fresh channel
    (drawn by a Dirichlet popularity) or, with probability 0.25, a repeat of the previous one.
    Identical draws are merged, and the first ``n_paths`` distinct paths (in draw order) kept.
    Per distinct path: journeys = its number of draws + Poisson(1); conversions ~
    Binomial(journeys, p) with logit(p) = -2.5 + 0.06 * length + the sum of per-channel effects
    (Normal(0, 0.4) per channel) over its touches; nulls = journeys - conversions; value =
    conversions x a LogNormal(4.2, 0.5) order value rounded to cents.

    Returns
    -------
    DataFrame
        ``path`` (labels ``ch01``..``ch12`` joined by ``" > "``), ``total_conversions``,
        ``total_conversion_value``, ``total_null``; one row per distinct path.
    """
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    names = np.array([f"ch{i + 1:02d}" for i in range(n_channels)])
    popularity = rng.dirichlet(np.full(n_channels, 2.0))
    effect = rng.normal(0.0, 0.4, n_channels)
    n_draw = int(n_paths * 1.6)  # short paths repeat often: 1.6x draws give 500k distinct
    lengths = rng.integers(1, max_len + 1, n_draw)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    total = int(offsets[-1])
    fresh = rng.choice(n_channels, size=total, p=popularity)
    start = np.zeros(total, dtype=bool)
    start[offsets[:-1]] = True
    repeat = (rng.random(total) < 0.25) & ~start
    src = np.maximum.accumulate(np.where(repeat, 0, np.arange(total)))
    touches = fresh[src]
    # a path's key: its codes + 1 as base-(k+1) digits, first touch lowest (13**15 < 2**63)
    pos = (np.arange(total) - np.repeat(offsets[:-1], lengths)).astype(np.int64)
    digits = (touches + 1).astype(np.int64) * np.int64(n_channels + 1) ** pos
    key = np.add.reduceat(digits, offsets[:-1])
    _, first, draws = np.unique(key, return_index=True, return_counts=True)
    if len(first) < n_paths:
        raise ValueError(f"only {len(first)} distinct paths drawn; raise n_draw")
    order = np.argsort(first, kind="stable")[:n_paths]  # distinct paths in draw order
    rows = first[order]
    draws = draws[order]
    logit = -2.5 + 0.06 * lengths[rows] + np.add.reduceat(effect[touches], offsets[:-1])[rows]
    p = 1.0 / (1.0 + np.exp(-logit))
    journeys = draws + rng.poisson(1.0, n_paths)
    conversions = rng.binomial(journeys, p)
    nulls = journeys - conversions
    value = np.round(conversions * np.round(rng.lognormal(4.2, 0.5, n_paths), 2), 2)
    labels = names[touches]
    path = [" > ".join(labels[offsets[r] : offsets[r + 1]]) for r in rows]
    return pd.DataFrame(
        {
            "path": path,
            "total_conversions": conversions.astype(np.int64),
            "total_conversion_value": value,
            "total_null": nulls.astype(np.int64),
        }
    )


def ensure_synthetic_paths() -> Path:
    """Write the 500k-path table once (``SYNTH_FILE`` + a manifest); later calls reuse it."""
    manifest = SYNTH_DIR / "_manifest.json"
    if SYNTH_FILE.is_file() and manifest.is_file():
        return SYNTH_FILE
    SYNTH_DIR.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    df = make_synthetic_paths()
    tmp = SYNTH_FILE.with_name(SYNTH_FILE.name + ".tmp")
    df.to_csv(tmp, sep=";", index=False, lineterminator="\n")
    tmp.replace(SYNTH_FILE)
    info = {
        "seed": SYNTH_SEED,
        "distinct_paths": int(len(df)),
        "channels": SYNTH_CHANNELS,
        "max_length": SYNTH_MAX_LEN,
        "conversions": int(df["total_conversions"].sum()),
        "nulls": int(df["total_null"].sum()),
        "touches": int(df["path"].str.count(">").sum() + len(df)),
        "sha256": _sha256(SYNTH_FILE),
        "seconds": round(time.perf_counter() - t0, 1),
    }
    manifest.write_text(json.dumps(info, indent=2) + "\n")
    return SYNTH_FILE


# ---------------------------------------------------------------------------------------------
# journeylib
# ---------------------------------------------------------------------------------------------
def _summary(paths) -> dict:
    return {
        "paths": int(paths.n_paths),
        "channels": len(paths.channels),
        "touches": int(len(paths.touches)),
        "conversions": float(paths.total_conversions),
        "nulls": float(paths.total_nulls),
        "value": round(float(paths.total_value), 2),
        "max_length": int(paths.lengths.max()),
    }


@stage("attribution_paths", group="attribution")
def attribution_paths(ctx: Context) -> dict:
    """journeys.build_paths(engine): converting and non-converting paths, default settings."""
    journeys, ctx.info["impl"] = _impl("journeylib.attribution.journeys", ["build_paths"])
    engine = ctx.engine()
    try:
        with ctx.timed():
            paths = journeys.build_paths(engine)
    finally:
        engine.close()
    out = {"returned": _summary(paths), "per_journey": paths.journey_ids is not None}
    agg = paths
    if paths.journey_ids is not None:  # one row per journey: distinct paths for the models
        with ctx.timed("aggregate_seconds"):
            agg = paths.aggregate()
    out["aggregated"] = _summary(agg)
    out["journeys"] = float(agg.total_conversions + agg.total_nulls)
    out["csv"] = write_path_csv(agg, _paths_csv(ctx))  # untimed: the Markov stages' input
    return out


def _removal_effects(re_) -> dict[str, float]:
    """Removal effects as {channel: effect}, from a Series or a table with a channel column."""
    import pandas as pd

    if isinstance(re_, pd.DataFrame):
        col = "removal_effect" if "removal_effect" in re_.columns else re_.columns[1]
        re_ = re_.set_index("channel")[col]
    return {str(k): round(float(v), 6) for k, v in re_.items()}


def _markov_fit(ctx: Context, file: Path) -> dict:
    from journeylib.attribution.pathdata import read_path_table

    markov, ctx.info["impl"] = _impl("journeylib.attribution.markov", ["MarkovAttribution"])
    with ctx.timed("read_paths_seconds"):
        paths = read_path_table(file, sep=";")
    with ctx.timed():
        model = markov.MarkovAttribution(order=MARKOV_ORDER).fit(paths)
        table = model.attribution_
    # Information only: the same fit again in the same process (warm: allocator, caches and
    # lazy imports already paid); the stage's seconds are the first, cold fit.
    t0 = time.perf_counter()
    markov.MarkovAttribution(order=MARKOV_ORDER).fit(paths)
    ctx.info["warm_fit_seconds"] = round(time.perf_counter() - t0, 3)
    out = {"input": {**_summary(paths), "sha256": _sha256(file)}, "order": MARKOV_ORDER}
    out["n_states"] = int(getattr(model, "n_states_", 0))
    out["conversion_probability"] = float(getattr(model, "conversion_probability_", float("nan")))
    out["shares"] = _shares(table["channel"], table["conversions"])
    out["conversions"] = {
        str(c): float(x) for c, x in zip(table["channel"], table["conversions"], strict=True)
    }
    if getattr(model, "removal_effects_", None) is not None:
        out["removal_effects"] = _removal_effects(model.removal_effects_)
    return out


@stage("attribution_markov", group="attribution", needs="none")
def attribution_markov(ctx: Context) -> dict:
    """MarkovAttribution(order=1).fit on the aggregated paths of attribution_paths."""
    file = _require(_paths_csv(ctx), "run the attribution_paths stage first")
    return _markov_fit(ctx, file)


@stage("attribution_rules", group="attribution", needs="none")
def attribution_rules(ctx: Context) -> dict:
    """Every model of rules.RULE_MODELS on the aggregated paths (per-model seconds as phases)."""
    from journeylib.attribution.pathdata import read_path_table

    rules, ctx.info["impl"] = _impl("journeylib.attribution.rules", ["RULE_MODELS"])
    file = _require(_paths_csv(ctx), "run the attribution_paths stage first")
    with ctx.timed("read_paths_seconds"):
        paths = read_path_table(file, sep=";")
    tables = {}
    with ctx.timed():
        for name, model in rules.RULE_MODELS.items():
            with ctx.timed(f"{name}_seconds"):
                tables[name] = model(paths)
    return {
        "input": {**_summary(paths), "sha256": _sha256(file)},
        "models": list(tables),
        "shares": {n: _shares(t["channel"], t["conversions"]) for n, t in tables.items()},
        "credited": {n: round(float(t["conversions"].sum()), 6) for n, t in tables.items()},
    }


@stage("attribution_markov_500k", group="attribution", needs="none")
def attribution_markov_500k(ctx: Context) -> dict:
    """MarkovAttribution(order=1).fit on the synthetic table of 500,000 distinct paths."""
    return _markov_fit(ctx, ensure_synthetic_paths())


# ---------------------------------------------------------------------------------------------
# ChannelAttribution 2.x (benchmarks/.venv-channelattribution)
# ---------------------------------------------------------------------------------------------
def _ca_call(ca, df, **settings):
    return ca.markov_model(
        df,
        "path",
        "total_conversions",
        var_value="total_conversion_value",
        var_null="total_null",
        flg_pro=False,
        **settings,
    )


def _ca_markov(ctx: Context, file: Path) -> dict:
    from importlib import metadata

    import pandas as pd

    with contextlib.redirect_stdout(io.StringIO()):  # its import prints an advert
        import ChannelAttribution as ca

    version = metadata.version("ChannelAttribution")
    ctx.info["impl"] = f"ChannelAttribution {version}"
    t0 = time.perf_counter()
    df = pd.read_csv(file, sep=";")
    # Reading the CSV is kept out of the phases on purpose: report.py adds a comparison stage's
    # phases to its "from Parquet" ratio, and journeylib's side reads the same file untimed.
    ctx.info["read_csv_seconds"] = round(time.perf_counter() - t0, 3)
    log = io.StringIO()
    with ctx.timed(), contextlib.redirect_stdout(log):
        res = _ca_call(ca, df, verbose=True, **CA_SETTINGS)
    result, removal = res["result"], res["removal_effects"]

    # Information only, not the stage's seconds (which use CA's defaults, ncore=1):
    # with both cores (same seeds, so the same estimate) ...
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        res2 = _ca_call(ca, df, verbose=False, **{**CA_SETTINGS, "ncore": 2})
    ctx.info["ncore2_seconds"] = round(time.perf_counter() - t0, 3)
    ctx.info["ncore2_same_result"] = bool(
        (res2["result"]["total_conversions"] == result["total_conversions"]).all()
    )
    # ... and its floor: one round of 1,000 walks, nearly all parsing the path strings and
    # building the chain.
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        _ca_call(ca, df, verbose=False, **{**CA_SETTINGS, "nsim_start": 1_000, "conv_par": 1.0})
    ctx.info["nsim1000_seconds"] = round(time.perf_counter() - t0, 3)

    text = log.getvalue()
    messages = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return {
        "input": {
            "paths": int(len(df)),
            "conversions": float(df["total_conversions"].sum()),
            "nulls": float(df["total_null"].sum()),
            "sha256": _sha256(file),
        },
        "version": version,
        "settings": dict(CA_SETTINGS),
        "simulations_per_iteration": [int(m) for m in re.findall(r"simulations: (\d+)", text)],
        "messages": messages[-3:],
        "shares": _shares(result["channel_name"], result["total_conversions"]),
        "conversions": {
            str(c): float(x)
            for c, x in zip(result["channel_name"], result["total_conversions"], strict=True)
        },
        "removal_effects": {
            str(c): round(float(x), 6)
            for c, x in zip(
                removal["channel_name"], removal["removal_effects_conversion"], strict=True
            )
        },
        "transitions": int(len(res["transition_matrix"])),
    }


@stage("ca_markov", group="attribution", needs="none", python="channelattribution")
def ca_markov(ctx: Context) -> dict:
    """ChannelAttribution markov_model(order=1, its default simulation) on the same paths."""
    file = _require(_paths_csv(ctx), "run the attribution_paths stage first")
    return _ca_markov(ctx, file)


@stage("ca_markov_500k", group="attribution", needs="none", python="channelattribution")
def ca_markov_500k(ctx: Context) -> dict:
    """ChannelAttribution markov_model(order=1) on the synthetic 500,000-path table."""
    return _ca_markov(ctx, ensure_synthetic_paths())


# ---------------------------------------------------------------------------------------------
# comparison of the recorded results (not a stage)
# ---------------------------------------------------------------------------------------------
PAIRS = {"attribution_markov": "ca_markov", "attribution_markov_500k": "ca_markov_500k"}


def compare() -> list[dict]:
    """Each Markov pair's newest run per size (``report.latest``: median seconds of repeats).

    Speed tool only and from the same CSV file (read + fit on both sides), and the gaps between
    CA's simulated and the exact shares and removal effects (outputs of the newest repeat; CA
    is seeded, so its repeats agree).
    """
    from benchmarks import report

    rows = report.load()
    summary = report.latest(rows)
    newest: dict[tuple[str, int], dict] = {}
    for r in rows:
        key = (r["stage"], r["customers"])
        if r["stage"] in {*PAIRS, *PAIRS.values()} and not r.get("error"):
            if key not in newest or r["run_started"] >= newest[key]["run_started"]:
                newest[key] = r
    out = []
    for n in sorted({k[1] for k in newest}):
        for ours, theirs in PAIRS.items():
            if (ours, n) not in newest or (theirs, n) not in newest:
                continue
            a_sum, b_sum = summary[(ours, n)], summary[(theirs, n)]
            a, b = newest[(ours, n)]["output"], newest[(theirs, n)]["output"]
            a_read = a_sum["phases"].get("read_paths_seconds", 0.0)
            b_read = newest[(theirs, n)]["info"].get("read_csv_seconds", 0.0)
            a_csv, b_csv = a_read + a_sum["seconds"], b_read + b_sum["seconds"]
            gap = {c: b["shares"].get(c, float("nan")) - s for c, s in a["shares"].items()}
            re_a, re_b = a.get("removal_effects", {}), b.get("removal_effects", {})
            re_gap = [abs(re_b[c] - v) for c, v in re_a.items() if c in re_b]
            out.append(
                {
                    "pair": f"{ours} vs {theirs}",
                    "customers": n,
                    "runs": [a_sum["runs"], b_sum["runs"]],
                    "same_input": a["input"]["sha256"] == b["input"]["sha256"],
                    "paths": a["input"]["paths"],
                    "seconds": [a_sum["seconds"], b_sum["seconds"]],
                    "speedup_tool_only": round(b_sum["seconds"] / a_sum["seconds"], 1),
                    "seconds_from_csv": [round(a_csv, 3), round(b_csv, 3)],
                    "speedup_from_csv": round(b_csv / a_csv, 1),
                    "ca_info": newest[(theirs, n)]["info"],
                    "ca_simulations": b.get("simulations_per_iteration"),
                    "ca_messages": b.get("messages"),
                    "max_abs_share_gap": round(max(abs(v) for v in gap.values()), 5),
                    "max_rel_share_gap": round(
                        max(abs(v) / a["shares"][c] for c, v in gap.items()), 4
                    ),
                    "max_abs_removal_effect_gap": round(max(re_gap), 5) if re_gap else None,
                    "share_gap": {c: round(v, 5) for c, v in gap.items()},
                    "exact_shares": a["shares"],
                    "exact_removal_effects": re_a,
                    "ca_removal_effects": re_b,
                }
            )
    return out


if __name__ == "__main__":
    cmd = sys.argv[1] if len(sys.argv) > 1 else "compare"
    if cmd == "synth-500k":
        print(ensure_synthetic_paths())
        print((SYNTH_DIR / "_manifest.json").read_text())
    elif cmd == "compare":
        print(json.dumps(compare(), indent=2))
    else:
        raise SystemExit("usage: python benchmarks/attribution.py [synth-500k | compare]")
