"""Churn and customer-value benchmark stages (issue 6, notebook ``40_churn``).

Stages (group ``churn_clv``; registered by importing this module, which :mod:`benchmarks.run`
and :mod:`benchmarks.report` do)::

    churn          churn_data + churn_model(config).fit + held-out evaluate + score everyone
    clv            rfm_summary + BetaGeoModel + GammaGammaModel + customer_lifetime_value
    survival       customer_lifetimes + kaplan_meier by customer segment and by region
    churn_drivers  churn as above (phases only), then timed: driver_importance (features and
                   groups, test frame), partial dependence of the top 5, customer_reasons of the
                   10,000 riskiest scored customers, at_risk_list of everyone

All read the processed tables of the data set through the config's engine (``ctx.engine()``,
as the notebooks do) with the benchmark config (``synth.yaml``: ``as_of`` 2025-06-30, engine
memory limit 4 GB, DuckDB threads at the default 2). The config has no ``churn`` section, so the
churn settings are the :class:`journeylib.config.ChurnSpec` defaults (60-day horizon, any
activity, eligible = active in the last ``lapse_days``, time split and split by customer, model
``auto``, calibration ``auto``, ``sample_size`` 100,000) and the model's seed is the config's.

``churn`` is timed as a whole (``seconds``: from the first query to the last score) and per part
(``data``, ``fit``, ``evaluate``, ``score`` phases). ``info`` holds what each part did: inside
``data``, the seconds of every call of ``customer_features``, ``churn_labels``,
``eligible_customers`` and ``last_data_day`` (timing wrappers around the journeylib functions,
:func:`_instrument`; the rest of ``data`` is pandas merges and the split by customer), inside
``fit`` the seconds of model selection, calibration and the conversion to a matrix; and the
process's resident memory and high-water mark after each part (``rss_mb_after_<part>``,
``hwm_mb_after_<part>``), which shows which part sets the peak.

    python benchmarks/churn.py profile [--customers 1m] [--part fit|score|data] [--top 30]

runs one part of ``churn`` under cProfile (the train/test/score frames are computed once per
version of journeylib's churn and feature code and cached as
``benchmarks/data/synth-<size>/churn-<hash>-<role>.parquet``), and

    python benchmarks/churn.py what-if [--customers 1m]

times the configured model against alternatives built outside journeylib (the chosen pipeline
calibrated on the validation part without refits, ``n_threads=2``, ``sample_size=50_000``) with
their held-out ROC AUC, PR AUC and Brier score.

This module imports only the standard library at the top: :mod:`benchmarks.run` imports it in
every interpreter, including the comparison venvs, where journeylib is not installed.
"""

from __future__ import annotations

import contextlib
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

if __name__ == "__main__":  # python benchmarks/churn.py ...: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.personas import _mark  # noqa: E402
from benchmarks.stages import Context, _impl, stage  # noqa: E402

GROUP = "churn_clv"
#: At-risk customers whose reasons the ``churn_drivers`` stage computes.
TOP_AT_RISK = 10_000
#: Summary unit and discount period of the ``clv`` stage (as notebook 40_churn); the horizon
#: and discount rate are the config's ``churn.clv_horizon_months``/``clv_discount_rate``.
CLV_UNIT, CLV_PERIOD = "W", "M"

#: Functions timed inside churn_data: (module, attribute) -> label.
_DATA_CALLS = {
    ("journeylib.features", "customer_features"): "customer_features",
    ("journeylib.churn.labels", "churn_labels"): "churn_labels",
    ("journeylib.churn.labels", "eligible_customers"): "eligible_customers",
    ("journeylib.churn.data", "last_data_day"): "last_data_day",
    ("journeylib.churn.labels", "last_data_day"): "last_data_day",
}
#: Methods timed inside ChurnModel.fit / predict_proba.
_MODEL_CALLS = {
    ("journeylib.churn.model.ChurnModel", "_select"): "select_models",
    ("journeylib.churn.model.ChurnModel", "_calibrate"): "calibrate_and_final_fit",
    ("journeylib.churn.model", "_matrix"): "to_matrix",
}
#: Calls timed inside driver_importance / customer_reasons (model predictions).
_DRIVER_CALLS = {
    ("journeylib.churn.drivers", "churn_probability"): "drivers_predict",
    ("journeylib.churn.risk", "churn_probability"): "reasons_predict",
    ("journeylib.churn.model", "_matrix"): "to_matrix",
}


@contextlib.contextmanager
def _instrument(calls: dict[tuple[str, str], str], into: dict[str, list[float]]) -> Iterator[None]:
    """Wrap functions (or methods, ``module.Class``) with timers for the duration of the block.

    Each call's wall time is appended to ``into[label]``; nested calls of the same label (one
    wrapped function calling another under the same label) count once, at the outermost level.
    The wrapped functions behave exactly as before; the originals are restored on exit.
    """
    import functools
    import importlib

    patched = []
    depth: dict[str, int] = {}
    for (where, attr), label in calls.items():
        if where.endswith(".ChurnModel"):  # a method: patch the class attribute
            module, cls = where.rsplit(".", 1)
            owner = getattr(importlib.import_module(module), cls)
        else:
            owner = importlib.import_module(where)
        original = getattr(owner, attr)

        def wrapper(*args, __f=original, __label=label, **kwargs):
            depth[__label] = depth.get(__label, 0) + 1
            t0 = time.perf_counter()
            try:
                return __f(*args, **kwargs)
            finally:
                depth[__label] -= 1
                if depth[__label] == 0:
                    into.setdefault(__label, []).append(round(time.perf_counter() - t0, 3))

        functools.update_wrapper(wrapper, original)
        setattr(owner, attr, wrapper)
        patched.append((owner, attr, original))
    try:
        yield
    finally:
        for owner, attr, original in reversed(patched):
            setattr(owner, attr, original)


def _records(df) -> list[dict]:
    return [
        {k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.items()}
        for r in df.astype(object).to_dict(orient="records")
    ]


def _churn_run(ctx: Context, engine, config) -> tuple[dict, object, object, object]:
    """The timed body of ``churn``: phases data / fit / evaluate / score. Returns (output,
    data, model, scores)."""
    import numpy as np

    ch, ctx.info["impl_churn"] = _impl(
        "journeylib.churn",
        ["churn_data", "churn_model", "split_xy", "evaluate", "operating_threshold"],
    )
    spec = config.churn
    calls: dict[str, list[float]] = {}
    with ctx.timed("data_seconds"), _instrument(_DATA_CALLS, calls):
        data = ch.churn_data(engine, config)
    ctx.info["data_calls_seconds"] = dict(calls)
    _mark(ctx, "data")
    calls = {}
    with ctx.timed("fit_seconds"), _instrument(_MODEL_CALLS, calls):
        X, y = ch.split_xy(data.train)
        model = ch.churn_model(config).fit(X, y)
    ctx.info["fit_calls_seconds"] = dict(calls)
    _mark(ctx, "fit")
    calls = {}
    with ctx.timed("evaluate_seconds"), _instrument(_MODEL_CALLS, calls):
        Xt, yt = ch.split_xy(data.test)
        p_test = model.predict_proba(Xt)[:, 1]
        metrics = ch.evaluate(yt, p_test, costs=spec.costs, where="test customers")
    ctx.info["evaluate_calls_seconds"] = dict(calls)
    _mark(ctx, "evaluate")
    calls = {}
    with ctx.timed("score_seconds"), _instrument(_MODEL_CALLS, calls):
        scores = model.scores(data.score)
    ctx.info["score_calls_seconds"] = dict(calls)
    _mark(ctx, "score")

    m = metrics.set_index("metric")["value"]
    p = scores["churn_probability"].to_numpy()
    threshold = ch.operating_threshold(spec.costs)
    out = {
        "spec": spec.model_dump(mode="json"),
        "seed": config.seed,
        "split": {k: str(v) for k, v in vars(data.split).items()} if data.split else None,
        "sizes": _records(data.sizes()),
        "feature_columns": int(data.train.shape[1] - 2),
        "notes": data.notes,
        "model_params": {
            k: v for k, v in model.get_params().items() if not isinstance(v, dict | type(None))
        }
        | {"sample_size": model.sample_size, "n_threads": model.n_threads},
        "model": model.model_,
        "calibration": model.calibration_,
        "n_train": int(model.n_train_),
        "n_fit": int(model.n_fit_),
        "base_rate_train": round(float(model.base_rate_), 4),
        "features_used": len(model.features_),
        "dropped_features": _records(model.dropped_features_),
        "comparison": _records(model.comparison_),
        "calibration_comparison": _records(model.calibration_comparison_),
        "test_metrics": {k: round(float(v), 4) for k, v in m.items()},
        "scored": int(len(scores)),
        "score_mean_probability": round(float(np.mean(p)), 4),
        "score_quantiles": {
            q: round(float(v), 4)
            for q, v in zip(
                ("p10", "p50", "p90", "p99"), np.quantile(p, [0.1, 0.5, 0.9, 0.99]), strict=True
            )
        },
        "score_at_or_above_threshold": int((p >= threshold).sum()),
        "threshold": round(float(threshold), 4),
    }
    return out, data, model, scores


@stage("churn", group=GROUP)
def churn(ctx: Context) -> dict:
    """churn_data + churn_model(config).fit (sample) + evaluate on the test cut-off + score all.

    As notebook 40_churn up to the scores: train/test/score frames (labels and features at the
    training and test cut-offs, features of everyone eligible on the last day), the model fitted
    on the training frame (a stratified sample of ``sample_size``), held-out ROC AUC / PR AUC /
    Brier on the test frame, churn probability of every eligible customer.
    """
    config = ctx.config()
    engine = ctx.engine()
    try:
        with ctx.timed():
            out, *_ = _churn_run(ctx, engine, config)
    finally:
        engine.close()
    return out


@stage("clv", group=GROUP)
def clv(ctx: Context) -> dict:
    """rfm_summary (weekly, as of config.as_of) + BG/NBD + Gamma-Gamma + CLV (as 40_churn)."""
    import numpy as np

    cl, ctx.info["impl_clv"] = _impl(
        "journeylib.clv",
        ["rfm_summary", "BetaGeoModel", "GammaGammaModel", "customer_lifetime_value"],
    )
    config = ctx.config()
    spec = config.churn
    engine = ctx.engine()
    try:
        with ctx.timed(), warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with ctx.timed("summary_seconds"):
                summary = cl.rfm_summary(engine, as_of=config.effective_as_of, unit=CLV_UNIT)
            with ctx.timed("bgnbd_seconds"):
                bg = cl.BetaGeoModel().fit(summary)
            with ctx.timed("gammagamma_seconds"):
                gg = cl.GammaGammaModel().fit(summary)
            with ctx.timed("clv_seconds"):
                value = cl.customer_lifetime_value(
                    bg,
                    gg,
                    summary,
                    horizon=spec.clv_horizon_months,
                    unit=CLV_PERIOD,
                    discount_rate_per_period=spec.clv_discount_rate,
                )
    finally:
        engine.close()
    _mark(ctx, "clv")
    v = value["clv"].to_numpy()
    alive = value["probability_alive"].to_numpy()
    return {
        "as_of": summary.attrs.get("as_of"),
        "unit": CLV_UNIT,
        "horizon": f"{spec.clv_horizon_months} x {CLV_PERIOD}, discount "
        f"{spec.clv_discount_rate} per period",
        "customers": int(len(summary)),
        "repeat_customers": int((summary["frequency"] > 0).sum()),
        "distinct_rfm_triples": int(
            summary[["frequency", "recency", "T"]].drop_duplicates().shape[0]
        ),
        "bgnbd_params": {k: float(x) for k, x in bg.params_.items()},
        "bgnbd_std_errors": {k: float(x) for k, x in bg.standard_errors_.items()},
        "bgnbd_limit": bg.limit_,
        "bgnbd_log_likelihood": round(float(bg.log_likelihood_), 2),
        "dropout_probability": round(float(bg.dropout_probability_), 4),
        "gammagamma_params": {k: float(x) for k, x in gg.params_.items()},
        "gammagamma_std_errors": {k: float(x) for k, x in gg.standard_errors_.items()},
        "gammagamma_customers": int(gg.n_customers_),
        "frequency_monetary_corr": round(float(gg.frequency_monetary_corr_), 4),
        "warnings": sorted({f"{w.category.__name__}: {w.message}" for w in caught}),
        "mean_probability_alive": round(float(np.mean(alive)), 4),
        "mean_expected_purchases": round(float(value["expected_purchases"].mean()), 4),
        "clv_sum": round(float(np.nansum(v)), 0),
        "clv_mean": round(float(np.nanmean(v)), 1),
        "clv_quantiles": {
            q: round(float(x), 1)
            for q, x in zip(("p50", "p90", "p99"), np.nanquantile(v, [0.5, 0.9, 0.99]), strict=True)
        },
    }


@stage("survival", group=GROUP)
def survival(ctx: Context) -> dict:
    """customer_lifetimes (as 40_churn: any activity, from first seen, lapse_days) + Kaplan-Meier
    by the customers' segment and region (at every distinct duration, and on a weekly grid)."""
    import numpy as np

    sv, ctx.info["impl_survival"] = _impl(
        "journeylib.survival", ["customer_lifetimes", "kaplan_meier", "lifetime_curves"]
    )
    config = ctx.config()
    spec = config.churn
    engine = ctx.engine()
    out: dict = {}
    try:
        with ctx.timed():
            with ctx.timed("lifetimes_seconds"):
                lt = sv.customer_lifetimes(
                    engine,
                    as_of=config.effective_as_of,
                    inactivity_days=spec.survival_inactivity_days or config.lapse_days,
                    activity=spec.activity,
                    start="first_purchase" if spec.activity == "orders" else "first_seen",
                )
            with ctx.timed("segments_seconds"):
                seg = engine.query("SELECT customer_id, segment, region FROM customers")
            weeks = np.arange(0, lt["duration_days"].max() + 7, 7)  # the notebook's grid
            for by in ("segment", "region"):
                with ctx.timed(f"km_{by}_seconds"):
                    km = sv.lifetime_curves(lt, segments=seg[["customer_id", by]], by=by)
                with ctx.timed(f"km_{by}_weekly_seconds"):
                    weekly = sv.lifetime_curves(
                        lt, segments=seg[["customer_id", by]], by=by, timeline=weeks
                    )
                last = km.groupby("group", observed=True).tail(1)
                out[f"km_{by}"] = {
                    "rows": int(len(km)),
                    "weekly_rows": int(len(weekly)),
                    "groups": int(km["group"].nunique()),
                    "final_survival": {
                        str(g): round(float(s), 4)
                        for g, s in zip(last["group"], last["survival"], strict=True)
                    },
                }
    finally:
        engine.close()
    _mark(ctx, "survival")
    return {
        "as_of": lt.attrs.get("as_of"),
        "inactivity_days": lt.attrs.get("inactivity_days"),
        "lifetimes": int(len(lt)),
        "churned": int(lt["churned"].sum()),
        "distinct_durations": int(lt["duration_days"].nunique()),
        "max_duration_days": round(float(lt["duration_days"].max()), 2),
        **out,
    }


@stage("churn_drivers", group=GROUP)
def churn_drivers(ctx: Context) -> dict:
    """churn as above (phases, not in seconds), then timed as notebook 40_churn: driver_importance
    (features + groups, test frame), partial dependence of the top 5 features, customer_reasons
    of the 10,000 riskiest scored customers, at_risk_list of everyone with their reasons."""
    config = ctx.config()
    ch, ctx.info["impl_drivers"] = _impl(
        "journeylib.churn",
        [
            "split_xy",
            "driver_groups",
            "driver_importance",
            "partial_dependence_table",
            "customer_reasons",
            "at_risk_list",
        ],
    )
    from journeylib.features import feature_dictionary

    spec = config.churn
    engine = ctx.engine()
    try:
        out, data, model, scores = _churn_run(ctx, engine, config)
    finally:
        engine.close()
    calls: dict[str, list[float]] = {}
    with ctx.timed(), _instrument(_DRIVER_CALLS, calls):
        with ctx.timed("importance_seconds"):
            Xt, yt = ch.split_xy(data.test)
            dictionary = feature_dictionary(model.features_)
            imp = ch.driver_importance(
                model,
                Xt,
                yt,
                groups=ch.driver_groups(model.features_, dictionary),
                scoring=spec.selection_metric,
                random_state=config.seed,
            )
        _mark(ctx, "importance")
        with ctx.timed("partial_dependence_seconds"):
            top5 = imp[imp["kind"] == "feature"].nsmallest(5, "rank")["name"].tolist()
            pdp = ch.partial_dependence_table(model, Xt, top5, random_state=config.seed)
        with ctx.timed("reasons_seconds"):
            ranked = ch.at_risk_list(scores)
            ids = ranked["customer_id"].head(TOP_AT_RISK)
            reasons = ch.customer_reasons(model, data.score[data.score["customer_id"].isin(ids)])
        _mark(ctx, "reasons")
        with ctx.timed("at_risk_list_seconds"):
            risk = ch.at_risk_list(scores, reasons=reasons)
    ctx.info["drivers_calls_seconds"] = dict(calls)
    top = {
        kind: [
            {
                "name": r["name"],
                "rank": int(r["rank"]),
                "importance": round(float(r["importance"]), 4),
            }
            for _, r in imp[imp["kind"] == kind].head(10).iterrows()
        ]
        for kind in ("feature", "group")
    }
    planted = [n for n in imp["name"] if n.startswith("friction_") or "satisfaction" in n]
    return {
        "churn": {k: out[k] for k in ("model", "calibration", "n_fit", "scored", "test_metrics")},
        "importance": {
            "rows": int(len(imp)),
            "features": int((imp["kind"] == "feature").sum()),
            "groups": int((imp["kind"] == "group").sum()),
            **{k: (round(v, 4) if isinstance(v, float) else v) for k, v in imp.attrs.items()},
            "top": top,
            "planted_cause_ranks": {
                n: int(r)
                for n, r in zip(imp["name"], imp["rank"], strict=True)
                if n in planted and n in set(imp.loc[imp["kind"] == "feature", "name"])
            },
        },
        "partial_dependence": {"features": top5, "rows": int(len(pdp))},
        "reasons": {
            "at_risk": int(len(ids)),
            "rows": int(len(reasons)),
            "customers": int(reasons["customer_id"].nunique()),
            "top_features": {
                str(k): int(v)
                for k, v in reasons.loc[reasons["reason_rank"] == 1, "feature"]
                .value_counts()
                .head(10)
                .items()
            },
        },
        "at_risk_list": {
            "rows": int(len(risk)),
            "with_reasons": int(risk["reasons"].notna().sum()),
        },
    }


# ---------------------------------------------------------------------------------------------
# python benchmarks/churn.py profile: where a part's time goes
# ---------------------------------------------------------------------------------------------
def _code_digest() -> str:
    import hashlib

    from benchmarks.run import REPO_ROOT

    h = hashlib.sha256()
    lib = REPO_ROOT / "journeylib"
    for path in [lib / "features.py", *sorted((lib / "churn").glob("*.py"))]:
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:8]


def _cached_frames(n: int) -> dict:
    """train/test/score frames of churn_data at size ``n``, cached per code version."""
    import pandas as pd

    from benchmarks import datasets

    base = datasets.dataset_dir(n)
    digest = _code_digest()
    paths = {role: base / f"churn-{digest}-{role}.parquet" for role in ("train", "test", "score")}
    if all(p.is_file() for p in paths.values()):
        return {role: pd.read_parquet(p) for role, p in paths.items()}
    from journeylib.churn import churn_data

    ctx = Context(n, base)
    engine = ctx.engine()
    try:
        data = churn_data(engine, ctx.config())
    finally:
        engine.close()
    frames = {"train": data.train, "test": data.test, "score": data.score}
    for role, df in frames.items():
        df.to_parquet(paths[role], index=False)
    return frames


def profile_part(n: int, part: str, top: int = 30) -> dict:
    """cProfile of one part of the ``churn`` stage (``data``, ``fit`` or ``score``)."""
    import cProfile
    import io
    import pstats

    from benchmarks import datasets
    from journeylib.churn import churn_data, churn_model, split_xy

    config = datasets.load_config(n)
    prof = cProfile.Profile()
    if part == "data":
        ctx = Context(n, datasets.dataset_dir(n))
        engine = ctx.engine()
        try:
            t0 = time.perf_counter()
            prof.enable()
            churn_data(engine, config)
            prof.disable()
            wall = time.perf_counter() - t0
        finally:
            engine.close()
        rows = None
    else:
        frames = _cached_frames(n)
        X, y = split_xy(frames["train"])
        model = churn_model(config)
        if part == "fit":
            t0 = time.perf_counter()
            prof.enable()
            model.fit(X, y)
            prof.disable()
            wall = time.perf_counter() - t0
            rows = len(X)
        else:
            model.fit(X, y)
            t0 = time.perf_counter()
            prof.enable()
            model.scores(frames["score"])
            prof.disable()
            wall = time.perf_counter() - t0
            rows = len(frames["score"])
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(top)
    return {"part": part, "rows": rows, "seconds": round(wall, 2), "pstats": buf.getvalue()}


def what_if(n: int) -> dict:
    """Seconds and held-out metrics of the configured model against alternatives (no change to
    journeylib; the alternatives are built here from the fitted model's parts):

    * ``default``: ``churn_model(config)`` as configured (CalibratedClassifierCV, 3 ensembled
      members refitted on the sample).
    * ``frozen_validation``: the chosen pipeline as fitted on the fitting part
      (``model.pipeline_``), calibrated with the chosen method on the validation part only
      (``CalibratedClassifierCV(FrozenEstimator(pipeline_))``): no refits, one member to score.
    * ``threads_2``: the default with ``n_threads=2`` (fit and predict).
    * ``sample_50k``: the default with ``sample_size=50_000``.
    """
    import numpy as np
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.frozen import FrozenEstimator
    from sklearn.model_selection import train_test_split
    from threadpoolctl import threadpool_limits

    from benchmarks import datasets
    from journeylib.churn import churn_model, evaluate, split_xy
    from journeylib.churn.model import _matrix

    config = datasets.load_config(n)
    frames = _cached_frames(n)
    X, y = split_xy(frames["train"])
    Xt, yt = split_xy(frames["test"])
    out: dict[str, dict] = {}

    def metrics(p) -> dict:
        m = evaluate(yt, p).set_index("metric")["value"]
        return {k: round(float(m[k]), 4) for k in ("roc_auc", "pr_auc", "brier")}

    def run(name: str, model) -> object:
        t0 = time.perf_counter()
        model.fit(X, y)
        fit = time.perf_counter() - t0
        t0 = time.perf_counter()
        p = model.predict_proba(Xt)[:, 1]
        ev = time.perf_counter() - t0
        t0 = time.perf_counter()
        model.scores(frames["score"])
        sc = time.perf_counter() - t0
        out[name] = {"fit": round(fit, 2), "evaluate": round(ev, 2), "score": round(sc, 2)}
        out[name].update(metrics(p))
        print(f"  {name:18} {out[name]}", flush=True)
        return model

    base = run("default", churn_model(config))
    # the alternative: calibrate pipeline_ on the validation part (same split as fit's)
    t0 = time.perf_counter()
    M = _matrix(X, base.numeric_features_, base.categorical_features_)  # noqa: N806
    ys = y.astype(bool)
    if base.sample_size is not None and len(M) > base.sample_size:
        M, _, ys, _ = train_test_split(  # noqa: N806
            M, ys, train_size=base.sample_size, stratify=ys, random_state=base.random_state
        )
    _, M_val, _, y_val = train_test_split(  # noqa: N806
        M, ys, test_size=base.validation_size, stratify=ys, random_state=base.random_state
    )
    with threadpool_limits(limits=base.n_threads):
        cal = CalibratedClassifierCV(FrozenEstimator(base.pipeline_), method=base.calibration_).fit(
            M_val, y_val
        )
    fit_extra = time.perf_counter() - t0

    def proba(frame):
        m = _matrix(frame, base.numeric_features_, base.categorical_features_)
        with threadpool_limits(limits=base.n_threads):
            return cal.predict_proba(m)[:, 1]

    t0 = time.perf_counter()
    p = proba(Xt)
    ev = time.perf_counter() - t0
    t0 = time.perf_counter()
    proba(frames["score"])
    sc = time.perf_counter() - t0
    select = float(base.comparison_["fit_seconds"].sum())
    out["frozen_validation"] = {
        "fit": round(select + fit_extra, 2),
        "fit_note": f"candidate fits {select:.2f} s (from default) + calibrator {fit_extra:.2f} s",
        "evaluate": round(ev, 2),
        "score": round(sc, 2),
        **metrics(p),
    }
    print(f"  {'frozen_validation':18} {out['frozen_validation']}", flush=True)
    run("threads_2", churn_model(config).set_params(n_threads=2))
    run("sample_50k", churn_model(config).set_params(sample_size=50_000))
    out["rows"] = {"train": len(X), "test": len(Xt), "score": len(frames["score"])}
    out["mean_p_default_vs_frozen"] = round(float(np.mean(p)), 4)
    return out


def main(argv: list[str] | None = None) -> int:
    import argparse
    import os

    from benchmarks.run import parse_size

    p = argparse.ArgumentParser(description="Churn benchmark helpers")
    sub = p.add_subparsers(dest="cmd", required=True)
    prof = sub.add_parser("profile", help="cProfile of one part of the churn stage")
    prof.add_argument("--customers", default="1m")
    prof.add_argument("--part", choices=("data", "fit", "score"), default="fit")
    prof.add_argument("--top", type=int, default=30, help="functions listed by cumulative time")
    wi = sub.add_parser("what-if", help="seconds and metrics of alternatives to the default model")
    wi.add_argument("--customers", default="1m")
    args = p.parse_args(argv)
    if args.cmd == "what-if":
        import json

        res = what_if(parse_size(args.customers))
        print(json.dumps(res, indent=1))
        return 0
    out = profile_part(parse_size(args.customers), args.part, args.top)
    print(
        f"{out['part']} ({out['rows'] or ''} rows): {out['seconds']} s "
        f"(load {os.getloadavg()[0]:.1f})"
    )
    print(out["pstats"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
