"""Voice of the customer, pain points, hand-offs and journey map stages (issue 8, notebook
``60_journey_map``).

Stages (group ``journey_map``; registered by importing this module, which :mod:`benchmarks.run`
and :mod:`benchmarks.report` do)::

    voice         feedback context (stage, channel, device at each answer), satisfaction by
                  stage, detractor drivers, satisfaction by path, lexicon sentiment of every
                  comment and the themes of unhappy ones
    pain_points   session flags in one pass, incidents (scan statistic, Monte Carlo p-values),
                  the ranked pain points
    handoffs      stage touchpoints, switch matrices, summary, outcomes, channel journeys
    journey_map   stage actions, channels, emotion and the assembled map (HTML and JSON)

Each reads the data set's processed tables through the benchmark config's engine
(``ctx.engine()``; ``as_of`` 2025-06-30, ``journey_map`` defaults). ``journey_map`` computes its
own feedback context (not timed) and times only the map's queries and rendering.

This module imports only the standard library at the top: :mod:`benchmarks.run` imports it in
every interpreter, including the comparison venvs, where journeylib is not installed.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __name__ == "__main__":  # python benchmarks/journeymap.py ...: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.personas import _mark  # noqa: E402
from benchmarks.stages import Context, _impl, stage  # noqa: E402

GROUP = "journey_map"


def _setup(ctx: Context):
    from journeylib.stages import StageModel

    config = ctx.config()
    return config, ctx.engine(), StageModel.from_config(config)


@stage("voice", group=GROUP)
def voice(ctx: Context) -> dict:
    """Feedback context + satisfaction by stage + detractor drivers + paths + sentiment +
    themes."""
    v, ctx.info["impl_voice"] = _impl(
        "journeylib.voice", ["feedback_context", "detractor_drivers", "satisfaction_by_path"]
    )
    s, _ = _impl("journeylib.sentiment", ["lexicon_scores", "distinctive_terms"])
    config, engine, model = _setup(ctx)
    spec = config.journey_map
    with ctx.timed():
        with ctx.timed("context_seconds"):
            context = v.feedback_context(
                engine, model, as_of=config.effective_as_of,
                lookback_days=spec.feedback_lookback_days,
            )  # fmt: skip
        _mark(ctx, "context")
        with ctx.timed("satisfaction_seconds"):
            by_stage = v.satisfaction_by(context, "stage")
        with ctx.timed("drivers_seconds"):
            drivers = v.detractor_drivers(
                engine, context, lookback_days=spec.feedback_lookback_days
            )
        _mark(ctx, "drivers")
        with ctx.timed("paths_seconds"):
            paths = v.satisfaction_by_path(
                engine, context, lookback_days=spec.feedback_lookback_days
            )
        _mark(ctx, "paths")
        texts = context.loc[context["text"].notna(), ["text", "band"]]
        with ctx.timed("sentiment_seconds"):
            scores = s.lexicon_scores(texts["text"])
        _mark(ctx, "sentiment")
        with ctx.timed("themes_seconds"):
            unhappy = (
                texts["band"].isin(["detractor", "negative"]).map({True: "unhappy", False: "other"})
            )
            themes = s.distinctive_terms(texts["text"], unhappy)
        _mark(ctx, "themes")
    top = themes[themes["group"] == "unhappy"].head(3)["term"].tolist()
    return {
        "answers": len(context),
        "comments": len(texts),
        "stages_with_answers": int((by_stage["kind"] == "nps").sum()),
        "top_driver": str(drivers["event"].iat[0]) if len(drivers) else None,
        "path_variants": len(paths),
        "mean_sentiment": round(float(scores.mean()), 4),
        "top_themes": top,
    }


@stage("pain_points", group=GROUP)
def pain_points(ctx: Context) -> dict:
    """Session flags (one pass) + incidents + the ranked pain points."""
    pp, ctx.info["impl_painpoints"] = _impl(
        "journeylib.painpoints", ["session_counts", "incidents", "pain_points"]
    )
    config, engine, model = _setup(ctx)
    settings = pp.PainPointSettings.from_config(config)
    tz = config.data.timezone
    with ctx.timed():
        with ctx.timed("counts_seconds"):
            counts = pp.session_counts(
                engine, model=model, settings=settings, as_of=config.effective_as_of, timezone=tz
            )
        _mark(ctx, "counts")
        with ctx.timed("incidents_seconds"):
            found = pp.incidents(counts, settings=settings)
        _mark(ctx, "incidents")
        with ctx.timed("pain_points_seconds"):
            points = pp.pain_points(
                engine, model=model, settings=settings, as_of=config.effective_as_of,
                timezone=tz, counts=counts,
            )  # fmt: skip
        _mark(ctx, "pain_points")
    top = points.iloc[0] if len(points) else None
    return {
        "flag_rows": len(counts),
        "sessions": int(counts["sessions"].sum()),
        "incidents": len(found),
        "pain_points": len(points),
        "top": None
        if top is None
        else {
            "kind": top["kind"],
            "stage": top["stage"],
            "device": top["device"],
            "window": [str(top["window_start"]), str(top["window_end"])],
        },  # fmt: skip
    }


@stage("handoffs", group=GROUP)
def handoffs(ctx: Context) -> dict:
    """Stage touchpoints + switch matrices + summary + outcomes + channel journeys."""
    h, ctx.info["impl_handoffs"] = _impl(
        "journeylib.handoffs", ["stage_touchpoints", "switch_matrix", "switch_outcomes"]
    )
    config, engine, model = _setup(ctx)
    with ctx.timed():
        with ctx.timed("touchpoints_seconds"):
            tp = h.stage_touchpoints(engine, model, as_of=config.effective_as_of)
        _mark(ctx, "touchpoints")
        with ctx.timed("tables_seconds"):
            h.switch_matrix(tp, dimension="channel")
            h.switch_matrix(tp, dimension="device")
            summary = h.handoff_summary(tp)
            h.channel_journeys(tp)
        with ctx.timed("outcomes_seconds"):
            h.switch_outcomes(engine, tp, model=model, as_of=config.effective_as_of)
        _mark(ctx, "outcomes")
    return {"stage_entries": len(tp), "moves": int(summary["customers"].sum())}


@stage("journey_map", group=GROUP)
def journey_map(ctx: Context) -> dict:
    """Stage actions + channels + emotion + the map rendered to HTML and JSON (the feedback
    context and pain points it takes are computed before the timing)."""
    jm, ctx.info["impl_journeymap"] = _impl(
        "journeylib.journeymap", ["stage_actions", "stage_channels", "journey_map"]
    )
    from journeylib import painpoints, voice

    config, engine, model = _setup(ctx)
    as_of = config.effective_as_of
    with ctx.timed("inputs_seconds"):
        context = voice.feedback_context(engine, model, as_of=as_of)
        points = painpoints.pain_points(
            engine, model=model, settings=painpoints.PainPointSettings.from_config(config),
            as_of=as_of, timezone=config.data.timezone,
        )  # fmt: skip
    _mark(ctx, "inputs")
    with ctx.timed():
        actions = jm.stage_actions(engine, model, as_of=as_of)
        channels = jm.stage_channels(engine, model, as_of=as_of)
        emotion = jm.stage_emotion(context, model, min_n=config.journey_map.min_responses)
        ideas = jm.opportunities(points, config.playbook)
        m = jm.journey_map(
            model, actions=actions, channels=channels, emotion=emotion, pain_points=points,
            opportunities=ideas,
        )  # fmt: skip
        html, data = m.to_html(), m.to_json()
        _mark(ctx, "map")
    return {"html_bytes": len(html), "json_bytes": len(data)}


if __name__ == "__main__":
    from benchmarks.run import main

    sys.exit(main(["--stages", GROUP, *sys.argv[1:]]))
