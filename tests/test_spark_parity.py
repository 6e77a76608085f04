"""Every event-level output is the same on Spark as on DuckDB (``make test-spark``).

The synthetic client (``synth_client``: 3,000 customers, ~70k events, ingested once) is read by
both engines from the same processed Parquet files; each analysis runs unchanged on each engine
(its SQL is written once, in DuckDB's dialect, and translated for Spark by
``journeylib.spark.to_spark``). Counts, labels and timestamps must be equal exactly, floats
within a relative 1e-9, in the same row order and with the same dtypes.

What it covers: stages (rule coverage, customer stages, stage conversion and transitions), the
funnel on the ingest-time timelines and on gathered lists (stage view, exclusions, repeated
steps, segments, time to convert, drop-off, carts), paths (step matrix, Sankey links, variants,
loops), time lag, devices, retention, attribution paths (session and event grain), the
customer feature table, pain-point session counts and pain points, hand-offs, feedback in the
journey, KPIs, customer value (RFM) and a data-quality table.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def engines(synth_client, spark):  # noqa: ANN001,ANN201
    """(DuckDB, Spark) engines over the synthetic client's processed tables (the ``spark``
    fixture of conftest skips without PySpark or Java)."""
    from journeylib.engine import DuckDBEngine
    from journeylib.spark import SparkEngine

    folder = synth_client.config.processed_dir
    duck = DuckDBEngine(folder, memory_limit="2GB", threads=2)
    spark_engine = SparkEngine(folder, spark=spark)
    yield duck, spark_engine
    duck.close()
    spark_engine.close()


def assert_same(duck: pd.DataFrame, spark: pd.DataFrame, what: str) -> None:
    """Same columns, dtypes, rows and row order; floats within a relative 1e-9, the rest exact."""
    assert list(duck.columns) == list(spark.columns), f"{what}: columns differ"
    assert len(duck) == len(spark), f"{what}: {len(duck)} rows on DuckDB, {len(spark)} on Spark"
    for col in duck.columns:
        a, b = duck[col].reset_index(drop=True), spark[col].reset_index(drop=True)
        assert str(a.dtype) == str(b.dtype), f"{what}.{col}: dtype {a.dtype} vs {b.dtype}"
        if pd.api.types.is_float_dtype(a):
            same = np.isclose(a.to_numpy(float), b.to_numpy(float), rtol=1e-9, equal_nan=True)
            assert same.all(), f"{what}.{col}: {int((~same).sum())} values differ (rel 1e-9)"
            continue
        na = a.isna().to_numpy()
        assert (na == b.isna().to_numpy()).all(), f"{what}.{col}: missing values differ"
        diff = [int(i) for i in np.flatnonzero(~na) if not _equal(a.iloc[i], b.iloc[i])]
        assert not diff, f"{what}.{col}: {len(diff)} values differ, first rows {diff[:5]}"


def _equal(x: object, y: object) -> bool:
    if isinstance(x, np.ndarray | list | tuple):
        return list(x) == list(y)
    if isinstance(x, float) and isinstance(y, float):  # floats inside object columns
        return bool(np.isclose(x, y, rtol=1e-9))
    return bool(x == y)


def test_assert_same_catches_a_difference() -> None:
    """The comparison itself: equal frames pass; a changed count, a float beyond 1e-9, a
    dtype or a row order each fail."""
    a = pd.DataFrame({"n": [1, 2], "x": [0.5, 1.0], "s": ["a", "b"]})
    assert_same(a, a.copy(), "same")
    assert_same(a, a.assign(x=[0.5 * (1 + 1e-12), 1.0]), "float noise")
    for changed in (
        a.assign(n=[1, 3]),
        a.assign(x=[0.5 * (1 + 1e-6), 1.0]),
        a.assign(n=a["n"].astype("float64")),
        a.iloc[::-1],
    ):
        with pytest.raises(AssertionError):
            assert_same(a, changed, "changed")


# ---- the outputs -----------------------------------------------------------------------------
def _cases() -> dict[str, Callable]:
    from journeylib import (
        carts,
        devices,
        dropoff,
        features,
        friction,
        funnels,
        handoffs,
        journeymap,
        kpi,
        painpoints,
        paths,
        quality,
        retention,
        stages,
        timelag,
        voice,
    )
    from journeylib.attribution import journeys
    from journeylib.clv import rfm_summary

    def stage_view_funnel(e, c, m):  # noqa: ANN001,ANN202 - the funnel without a timeline
        stages.event_stages(e, m)
        return funnels.funnel(e, m.names[:3], table="journey_stage_events")

    def feedback(e, c, m):  # noqa: ANN001,ANN202
        days = c.journey_map.feedback_lookback_days
        return voice.feedback_context(e, m, as_of=c.effective_as_of, lookback_days=days)

    def by_path(e, c, m):  # noqa: ANN001,ANN202
        days = c.journey_map.feedback_lookback_days
        return voice.satisfaction_by_path(e, feedback(e, c, m), lookback_days=days)

    def pain(e, c, m):  # noqa: ANN001,ANN202
        settings = painpoints.PainPointSettings.from_config(c)
        return painpoints.pain_points(
            e, model=m, settings=settings, as_of=c.effective_as_of, timezone=c.data.timezone
        )

    def counts(e, c, m):  # noqa: ANN001,ANN202
        settings = painpoints.PainPointSettings.from_config(c)
        return painpoints.session_counts(
            e, model=m, settings=settings, as_of=c.effective_as_of, timezone=c.data.timezone
        )

    def switches(e, c, m):  # noqa: ANN001,ANN202
        tp = handoffs.stage_touchpoints(e, m, as_of=c.effective_as_of)
        return handoffs.switch_outcomes(e, tp, model=m, as_of=c.effective_as_of)

    def window(c):  # noqa: ANN001,ANN202
        days = c.journey.funnel_window_days
        return f"{days}D" if days else None

    return {
        # stages
        "rule_coverage": lambda e, c, m: stages.rule_coverage(e, m, warn=False),
        "customer_stages": lambda e, c, m: stages.customer_stages(e, m, as_of=c.effective_as_of),
        "stage_conversion": lambda e, c, m: stages.stage_conversion(
            stages.customer_stages(e, m, as_of=c.effective_as_of), m
        ),
        "stage_transitions": lambda e, c, m: stages.stage_transitions(
            e, m, as_of=c.effective_as_of
        ),
        "unmapped_events": lambda e, c, m: stages.unmapped_events(e, m),
        # funnels: the timeline path (events), the list path (a stage view), options
        "funnel": lambda e, c, m: funnels.funnel(e, c.journey.funnel, window=window(c)),
        "funnel_stage_view": stage_view_funnel,
        "funnel_exclusions": lambda e, c, m: funnels.funnel(
            e,
            ["view_item", "add_to_cart", "purchase"],
            exclude=["checkout_error", "payment_error"],
            window="3D",
        ),
        "funnel_repeated_step": lambda e, c, m: funnels.funnel(
            e, ["page_view", "view_item", "page_view", "purchase"]
        ),
        "funnel_by_device": lambda e, c, m: funnels.funnel_by_segment(
            e, c.journey.funnel, segment="device", window=window(c)
        ),
        "time_to_convert": lambda e, c, m: funnels.time_to_convert(
            e, c.journey.funnel, window=window(c)
        ),
        "dropoff_summary": lambda e, c, m: (
            dropoff.dropoff(
                e, c.journey.funnel, window=window(c), recovery_days=c.journey.recovery_days
            ).summary
        ),
        "dropoff_next_events": lambda e, c, m: (
            dropoff.dropoff(
                e, c.journey.funnel, window=window(c), recovery_days=c.journey.recovery_days
            ).next_events
        ),
        "cart_abandonment": lambda e, c, m: carts.cart_abandonment(
            e,
            cart_event=c.journey.cart_event,
            purchase_event=c.journey.conversion_event,
            recovery_days=c.journey.recovery_days,
        ),
        # paths
        "step_matrix": lambda e, c, m: paths.step_matrix(e, steps=c.journey.step_matrix_steps),
        "step_matrix_collapsed": lambda e, c, m: paths.step_matrix(
            e, steps=6, collapse_repeats=True
        ),
        "sankey_backward": lambda e, c, m: paths.sankey_links(
            e, anchor=c.journey.conversion_event, direction="backward", steps=c.journey.path_steps
        ),
        "path_variants": lambda e, c, m: paths.path_variants(
            e, conversion_event=c.journey.conversion_event
        ),
        "loops_by_day": lambda e, c, m: friction.loops(e, by="day"),
        "time_lag_by_channel": lambda e, c, m: timelag.time_lag_summary(
            e, conversion_event=c.journey.conversion_event, by="channel"
        ),
        "conversion_by_device": lambda e, c, m: devices.conversion_by_device(e, level="session"),
        "mobile_assisted": lambda e, c, m: devices.mobile_assisted_conversions(
            e, lookback_days=c.journey.lookback_days
        ),
        "cohort_retention": lambda e, c, m: retention.cohort_retention(
            e, period="month", as_of=c.effective_as_of, timezone=c.data.timezone
        ),
        # attribution paths (journeys.build_paths), as tables
        "attribution_paths": lambda e, c, m: journeys.build_paths(e).to_frame(),
        "attribution_paths_event_grain": lambda e, c, m: journeys.build_paths(
            e, grain="event", collapse_repeats=True
        ).to_frame(),
        # customer level
        "customer_features": lambda e, c, m: features.customer_features(
            e, as_of=c.effective_as_of, config=c
        ),
        "rfm_summary": lambda e, c, m: rfm_summary(e, as_of=c.effective_as_of, unit="W"),
        # journey map: pain points, hand-offs, feedback
        "painpoint_session_counts": counts,
        "pain_points": pain,
        "stage_touchpoints": lambda e, c, m: handoffs.stage_touchpoints(
            e, m, as_of=c.effective_as_of
        ),
        "switch_outcomes": switches,
        "feedback_context": feedback,
        "satisfaction_by_path": by_path,
        "stage_channels": lambda e, c, m: journeymap.stage_channels(e, m, as_of=c.effective_as_of),
        "headline_kpis": lambda e, c, m: kpi.headline_kpis(e, c, as_of=c.effective_as_of),
        "daily_volume": lambda e, c, m: quality.daily_volume(e),
    }


CASES = [
    "rule_coverage", "customer_stages", "stage_conversion", "stage_transitions", "unmapped_events",
    "funnel", "funnel_stage_view", "funnel_exclusions", "funnel_repeated_step", "funnel_by_device",
    "time_to_convert", "dropoff_summary", "dropoff_next_events", "cart_abandonment",
    "step_matrix", "step_matrix_collapsed", "sankey_backward", "path_variants", "loops_by_day",
    "time_lag_by_channel", "conversion_by_device", "mobile_assisted", "cohort_retention",
    "attribution_paths", "attribution_paths_event_grain",
    "customer_features", "rfm_summary",
    "painpoint_session_counts", "pain_points", "stage_touchpoints", "switch_outcomes",
    "feedback_context", "satisfaction_by_path", "stage_channels", "headline_kpis", "daily_volume",
]  # fmt: skip


@pytest.mark.parametrize("case", CASES)
def test_spark_equals_duckdb(engines, synth_client, case: str) -> None:  # noqa: ANN001
    from journeylib.stages import StageModel

    duck, spark = engines
    config = synth_client.config
    model = StageModel.from_config(config)
    run = _cases()[case]
    expected = run(duck, config, model)
    got = run(spark, config, model)
    assert len(expected) > 0, f"{case}: the synthetic client gives no rows to compare"
    assert_same(expected, got, case)


def test_every_case_is_listed() -> None:
    assert sorted(CASES) == sorted(_cases())
