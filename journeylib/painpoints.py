"""Pain points: where the journey hurts, how many customers it hurts and what it costs.

Everything starts from one pass over the events that summarises each **session** (one
customer's visit): its local day and device, which funnel steps it reached and whether it moved
on to the next one, which friction events it met, whether it went back and forth between steps
(a loop), whether it lingered at a step far longer than usual, whether it converted and whether
the customer bought again within ``repeat_days``. The pass returns counts per combination of
these flags (a few thousand rows whatever the volume), and every pain point below is computed
from those counts.

A pain point is a place in the journey where customers do **worse than expected**, and each
kind states its expectation:

``incident``
    A step's conversion on one device falls in a window of days far below that step's own level
    on the other days (stage drop-off above expectation), or a friction event surges. Windows are found with Kulldorff's scan
    statistic on the daily series (Bernoulli model for step conversion, Poisson for friction
    sessions per session), its p-value by Monte Carlo replication with a seed. Expected
    conversions: the step's conversion outside the window times the sessions in it.
``friction``
    Sessions that met a friction event (an error, a support contact, a late delivery) against
    sessions without friction that got as far in the funnel (same deepest step before the
    conversion step) and, for repeat purchases, against sessions of customers in the same
    position (bought before or not).
``loop``
    Sessions going back and forth (A -> B -> A, over funnel steps and friction events) against
    sessions as deep in the funnel without a loop.

Steady differences between devices or channels are not pain points here: they mostly reflect
who uses each device (``10_journey_stages`` compares devices within segments).
``slow_step``
    Sessions that spent more than ``slow_factor`` times the median time at a step before moving
    on or leaving, against the other sessions at that step.
``abandonment``
    Carts lost (not bought in the session nor recovered within the recovery days) beyond the
    published benchmark abandonment rate (``benchmark_abandonment``, 70%: Baymard Institute's
    average of 49 studies).
``negative_sentiment``
    Customers whose feedback at a stage was negative against those whose feedback at that
    stage was not, on buying again within ``repeat_days`` (only with a feedback context).

Each pain point carries its **size** (customers and sessions affected), its **cost**
(``conversions_at_stake``: observed minus expected conversions, and ``revenue_at_stake`` at the
average order value) and its evidence (observed and expected rates, p-value). The list is
ranked by **severity**, the conversions at stake per 30 days while the pain point was active
(the window of an incident, the whole period otherwise): an outage that costs in ten days what
a chronic problem costs in half a year is the more urgent one. Totals are shown beside it.
Each also has a short ``title`` and its ``evidence`` in words, in the report language (``en`` or
``id``) when :func:`pain_points` is given the report; :func:`pain_point_title` rebuilds a title
from the table's fields (the client report uses it, so both pages word it alike).

Grain: :func:`session_counts` one row per combination of session flags; :func:`incidents` one
row per detected window; :func:`pain_points` one row per pain point; :func:`step_conversion_daily`
one row per day x device x step.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import stats

from journeylib import i18n
from journeylib.config import ReportSpec
from journeylib.display import fmt_number, fmt_pct
from journeylib.engine import (
    Engine,
    drop_temp_table,
    query_per_customer,
    temp_table_per_customer,
)
from journeylib.sql import (
    as_date,
    end_of_day,
    epoch_seconds,
    first_by,
    literal,
    local_time,
    require_columns,
    temp_table,
)
from journeylib.stages import StageModel

if TYPE_CHECKING:
    import plotly.graph_objects as go

__all__ = [
    "PAIN_POINT_COLUMNS",
    "PainPointSettings",
    "incidents",
    "pain_point_title",
    "pain_points",
    "plot_pain_points",
    "plot_step_conversion_daily",
    "scan_windows",
    "session_counts",
    "step_conversion_daily",
]

#: Baymard Institute, "Cart Abandonment Rate Statistics" (average of 49 studies, 70.19%).
BENCHMARK_ABANDONMENT = 0.70

PAIN_POINT_COLUMNS = [
    "rank",
    "kind",
    "stage",
    "step",
    "event",
    "device",
    "window_start",
    "window_end",
    "days_active",
    "customers",
    "sessions",
    "observed_rate",
    "expected_rate",
    "conversions_at_stake",
    "revenue_at_stake",
    "severity",
    "p_value",
    "title",
    "evidence",
]


# Titles and evidence of the pain points in the report languages (``report.language``). Titles
# are rebuilt from the table's own fields by :func:`pain_point_title` (the client report does
# that too); event, step and device names are the client's data and stay as they are.
_TEXT: dict[str, dict[str, str]] = {
    "en": {
        "incident_step": "{a} → {b} broke on {device}",
        "incident_event": "{event} surged on {device}",
        "friction": "{event}",
        "loop": "back and forth {pair} → {first}",
        "slow_step": "long time at {step}",
        "abandonment": "carts abandoned",
        "negative_sentiment": "unhappy customers at {stage}",
        "ev_incident_step": "{observed} of {sessions} sessions moved on from {step} between "
        "{start} and {end}, against {expected} on other days{also}",
        "ev_incident_also": "; {event} in {observed} of sessions (usually {expected})",
        "ev_incident_event": "{event} in {observed} of {sessions} sessions between {start} and "
        "{end}, against {expected} on other days",
        "ev_friction": "{sessions} sessions met {event}: {obs} converted against {exp} expected "
        "of sessions as far in the funnel; {robs} bought again within {days} days against {rexp} "
        "expected",
        "ev_loop": "{sessions} sessions went {pair} > {first}: {obs} converted against {exp} "
        "expected of sessions as far in the funnel without a loop",
        "ev_slow_step": "{sessions} sessions spent over {factor}x the median time at {step}: "
        "{observed} converted against {expected}",
        "ev_abandonment": "{lost} of {total} carts lost ({observed}: neither bought in the session "
        "nor within {days} days), against the {benchmark} benchmark",
        "ev_negative_sentiment": "{n} negative answers at {stage}: {observed} bought again within "
        "{days} days against {expected} after other answers",
    },
    "id": {
        "incident_step": "{a} → {b} terganggu di {device}",
        "incident_event": "{event} melonjak di {device}",
        "friction": "{event}",
        "loop": "bolak-balik {pair} → {first}",
        "slow_step": "lama di {step}",
        "abandonment": "keranjang ditinggalkan",
        "negative_sentiment": "pelanggan tidak puas di tahap {stage}",
        "ev_incident_step": "{observed} dari {sessions} sesi berlanjut dari {step} antara {start} "
        "dan {end}, dibanding {expected} pada hari lain{also}",
        "ev_incident_also": "; {event} pada {observed} sesi (biasanya {expected})",
        "ev_incident_event": "{event} pada {observed} dari {sessions} sesi antara {start} dan "
        "{end}, dibanding {expected} pada hari lain",
        "ev_friction": "{sessions} sesi mengalami {event}: {obs} berkonversi dibanding {exp} yang "
        "diharapkan dari sesi yang sama jauhnya di funnel; {robs} membeli lagi dalam {days} hari "
        "dibanding {rexp} yang diharapkan",
        "ev_loop": "{sessions} sesi berjalan {pair} > {first}: {obs} berkonversi dibanding {exp} "
        "yang diharapkan dari sesi yang sama jauhnya di funnel tanpa putaran",
        "ev_slow_step": "{sessions} sesi menghabiskan lebih dari {factor}x waktu median di "
        "{step}: {observed} berkonversi dibanding {expected}",
        "ev_abandonment": "{lost} dari {total} keranjang hilang ({observed}: tidak dibeli dalam "
        "sesi itu maupun dalam {days} hari), dibanding tolok ukur {benchmark}",
        "ev_negative_sentiment": "{n} jawaban negatif di tahap {stage}: {observed} membeli lagi "
        "dalam {days} hari dibanding {expected} setelah jawaban lain",
    },
}


def _t(language: str, key: str, **values: object) -> str:
    """The text ``key`` in ``language`` (English when the language is unknown), filled in."""
    return _TEXT.get(language, _TEXT["en"])[key].format(**values)


def pain_point_title(
    row: Mapping[str, object], *, language: str = "en", labels: Mapping[str, str] | None = None
) -> str:
    """The short title of one pain point, rebuilt from its fields, in ``language``.

    Parameters
    ----------
    row
        One row of :func:`pain_points` (kind, step, event, device, stage; a dict or a Series).
    language
        ``"en"`` or ``"id"`` (unknown languages fall back to English).
    labels
        Stage display labels (``StageModel.labels()``) for the stage a title names; a stage
        without one is shown in words.

    Examples
    --------
    >>> pain_point_title({"kind": "loop", "step": "view_item > add_to_cart"})
    'back and forth view item → add to cart → view item'
    >>> pain_point_title({"kind": "slow_step", "step": "begin_checkout"}, language="id")
    'lama di begin checkout'
    """
    kind = row["kind"]
    step, event, device = row.get("step"), row.get("event"), row.get("device")
    if kind == "incident" and isinstance(step, str) and " > " in step:
        a, b = step.split(" > ", 1)
        return _t(language, "incident_step", a=_w(a), b=_w(b), device=_w(device))
    if kind == "incident":
        return _t(language, "incident_event", event=_w(event), device=_w(device))
    if kind == "friction":
        return _t(language, "friction", event=_w(event))
    if kind == "loop":
        pair = str(step)
        first = pair.split(" > ")[0]
        return _t(language, "loop", pair=_w(pair).replace(" > ", " → "), first=_w(first))
    if kind == "slow_step":
        return _t(language, "slow_step", step=_w(step))
    if kind == "abandonment":
        return _t(language, "abandonment")
    if kind == "negative_sentiment":
        stage = row["stage"]
        return _t(language, "negative_sentiment", stage=(labels or {}).get(stage, _w(stage)))
    return str(row.get("title", kind))


class _Numbers:
    """How the evidence writes its numbers: plain (``12.3%``, the default without a report) or
    in the report's formats (``12,3%``, ``1.234``)."""

    def __init__(self, report: ReportSpec | None) -> None:
        self.report = report

    def pct(self, x: float) -> str:
        return _pct(x) if self.report is None else fmt_pct(x, self.report)

    def count(self, x: float) -> str:
        return str(int(x)) if self.report is None else fmt_number(int(x), self.report)

    def num(self, x: float, decimals: int) -> str:
        if self.report is None:
            return f"{x:.{decimals}f}"
        return fmt_number(x, self.report, decimals=decimals)

    def factor(self, x: float) -> str:
        text = f"{x:g}"
        return text if self.report is None else text.replace(".", self.report.decimal_separator)


@dataclasses.dataclass(frozen=True)
class PainPointSettings:
    """What counts as a pain point (defaults suit daily data of a few months or more).

    Parameters
    ----------
    funnel
        The funnel steps in order; the last is the conversion.
    friction_events
        Events that signal friction.
    repeat_days
        A later purchase within this many days counts as buying again.
    max_window_days
        The longest incident window the scan considers.
    alpha
        Significance level of incidents and device drop-offs.
    replications
        Monte Carlo replications of the scan statistic (p-value resolution 1 / (replications+1)).
    slow_factor
        A session lingering more than this times the step's median time is slow.
    benchmark_abandonment
        Lost-cart rate a shop can expect (carts neither bought in the session nor recovered).
    recovery_days
        Days within which an abandoned cart can still be recovered.
    seed
        Seed of the Monte Carlo replications.
    """

    funnel: tuple[str, ...] = ("view_item", "add_to_cart", "begin_checkout", "purchase")
    friction_events: tuple[str, ...] = (
        "checkout_error",
        "payment_error",
        "contact_support",
        "delivery_late",
        "return_request",
    )
    repeat_days: int = 60
    max_window_days: int = 31
    alpha: float = 0.01
    replications: int = 199
    slow_factor: float = 3.0
    benchmark_abandonment: float = BENCHMARK_ABANDONMENT
    recovery_days: int = 7
    seed: int = 42

    def __post_init__(self) -> None:
        if len(self.funnel) < 2:
            raise ValueError("pain points need a funnel of at least two steps")
        if len(set(self.funnel)) != len(self.funnel):
            raise ValueError("funnel steps must be distinct")
        if not 0 < self.alpha < 1:
            raise ValueError("alpha must be between 0 and 1")
        if self.max_window_days < 1 or self.replications < 19:
            raise ValueError("max_window_days must be >= 1 and replications >= 19")

    @classmethod
    def from_config(cls, config, *, seed: int | None = None) -> PainPointSettings:  # noqa: ANN001
        j, m = config.journey, config.journey_map
        friction = tuple(dict.fromkeys([*j.friction_events, *cls.friction_events]))
        return cls(
            funnel=tuple(j.funnel),
            friction_events=friction,
            recovery_days=j.recovery_days,
            repeat_days=m.repeat_days,
            max_window_days=m.incident_max_days,
            alpha=m.alpha,
            seed=config.seed if seed is None else seed,
        )


# ---------------------------------------------------------------------------------------------
# one pass over the events
# ---------------------------------------------------------------------------------------------
def _col(i: int) -> str:
    return f"s{i}"


def _next_or_end(k: int) -> str:
    return f"COALESCE(CASE WHEN t{k + 1} >= t{k} THEN t{k + 1} END, end_ts)"


def _sessions_sql(
    settings: PainPointSettings,
    model: StageModel,
    cutoff: str,
    last_ts: str,
    timezone: str,
    where: str = "TRUE",
) -> str:
    """One row per session of the customers matching ``where`` (a condition on
    ``customer_id``), with its flags but the slow ones (:func:`_session_table`), and its dwell
    times ``d1..``: every row is worked out from its own customer's events."""
    steps = settings.funnel
    friction = settings.friction_events
    step_case = " ".join(f"WHEN {literal(e)} THEN {i + 1}" for i, e in enumerate(steps))
    conv = literal(steps[-1])
    firsts = ",\n".join(
        f"MIN(CASE WHEN event = {literal(e)} THEN ts END) AS t{i + 1}" for i, e in enumerate(steps)
    )
    fr = ",\n".join(
        f"MAX(CASE WHEN event = {literal(e)} THEN 1 ELSE 0 END) AS f{i}"
        for i, e in enumerate(friction)
    )
    tracked = ", ".join(literal(e) for e in (*steps, *friction))
    n = len(steps)
    # time at step k: from its first occurrence to the first next step, else to the session end
    dwell = ",\n".join(
        f"CASE WHEN t{k} IS NOT NULL THEN "
        f"{epoch_seconds(_next_or_end(k))} - {epoch_seconds(f't{k}')} END AS d{k}"
        for k in range(1, n)
    )
    return f"""
    ev AS (
        SELECT customer_id, session_id, ts, event, device, event_seq,
               CASE event {step_case} END AS step, {model.event_stage_sql()} AS stage_no
        FROM events WHERE ts < {cutoff} AND customer_id IS NOT NULL AND {where}),
    lp AS (
        SELECT customer_id, session_id, event, ts,
               LAG(event, 1) OVER w AS p1, LAG(event, 2) OVER w AS p2
        FROM ev WHERE event IN ({tracked})
        WINDOW w AS (PARTITION BY customer_id, session_id ORDER BY ts, event_seq)),
    loops AS (
        SELECT customer_id, session_id, {first_by("p2 || ' > ' || p1", ("ts",))} AS loop_pair
        FROM lp WHERE p2 = event AND p1 <> event GROUP BY customer_id, session_id),
    s0 AS (
        SELECT customer_id, session_id, MIN(ts) AS start_ts, MAX(ts) AS end_ts,
               {first_by("device", ("ts", "event_seq"))} AS device,
               COALESCE(MAX(stage_no), 0) AS stage_no,
               COALESCE(MAX(CASE WHEN step < {n} THEN step END), 0) AS depth,
               MAX(CASE WHEN event = {conv} THEN 1 ELSE 0 END) AS converted,
               {firsts},
               {fr}
        FROM ev GROUP BY customer_id, session_id),
    s1 AS (
        SELECT s0.*, {dwell},
               CAST({local_time("start_ts", literal(timezone))} AS DATE) AS day,
               MIN(CASE WHEN converted = 1 THEN start_ts END) OVER (
                   PARTITION BY customer_id ORDER BY start_ts, session_id
                   ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING) AS next_buy,
               MAX(converted) OVER (
                   PARTITION BY customer_id ORDER BY start_ts, session_id
                   ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS bought_before,
               MAX(stage_no) OVER (
                   PARTITION BY customer_id ORDER BY start_ts, session_id
                   ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS reach_no
        FROM s0),
    sess AS (
        SELECT s1.*, l.loop_pair,
               CASE WHEN next_buy IS NOT NULL
                         AND next_buy <= start_ts + INTERVAL '{settings.repeat_days} days' THEN 1
                    WHEN start_ts + INTERVAL '{settings.repeat_days} days' <= {last_ts} THEN 0
               END AS repeat_buy
        FROM s1
        LEFT JOIN loops l ON l.customer_id = s1.customer_id AND l.session_id = s1.session_id)
    SELECT customer_id, {", ".join(_flag_columns(settings, slow=False))},
           {", ".join(f"d{k}" for k in range(1, n))}
    FROM sess
    """


def _flag_columns(settings: PainPointSettings, *, slow: bool = True) -> list[str]:
    n = len(settings.funnel)
    reached = [f"CASE WHEN t{k} IS NOT NULL THEN 1 ELSE 0 END AS r{k}" for k in range(1, n + 1)]
    moved = [
        f"CASE WHEN t{k} IS NOT NULL AND t{k + 1} >= t{k} THEN 1 ELSE 0 END AS m{k}"
        for k in range(1, n)
    ]
    fr = [f"f{i}" for i in range(len(settings.friction_events))]
    slowed = [f"slow{k}" for k in range(1, n)] if slow else []
    return [
        "day",
        "COALESCE(device, '(unknown)') AS device",
        "reach_no AS stage_no",
        "depth",
        "converted",
        "COALESCE(bought_before, 0) AS bought_before",
        "repeat_buy",
        "loop_pair",
        *reached,
        *moved,
        *fr,
        *slowed,
    ]


def session_counts(
    engine: Engine,
    *,
    model: StageModel | None = None,
    settings: PainPointSettings | None = None,
    as_of: dt.date | str | None = None,
    timezone: str = "UTC",
) -> pd.DataFrame:
    """Sessions counted per combination of their flags (the input of every pain point).

    Columns: ``day`` (local date of the session start in ``timezone``), ``device``,
    ``stage_no`` (the customer's furthest stage up to and including the session, 0 none), ``depth`` (deepest funnel
    step before the conversion step, 0 none), ``converted``, ``bought_before``, ``repeat_buy``
    (1 / 0, NA when the ``repeat_days`` after the session run past the data), ``loop_pair``
    (first A > B of an A -> B -> A loop, NA none), ``r1..rn`` (step reached), ``m1..m(n-1)``
    (moved on from step k to step k+1 later in the session), ``f0..`` (friction event met, in
    ``settings.friction_events`` order), ``slow1..`` (lingered at step k) and ``sessions``.
    Grain: one row per distinct flag combination.
    """
    model = model or StageModel()
    settings = settings or PainPointSettings()
    require_columns(
        engine, "events", ("customer_id", "session_id", "ts", "event", "device", "event_seq"),
        timestamp="ts",
    )  # fmt: skip
    table = _session_table(engine, settings, model, as_of, timezone)
    names = _plain_names(settings)
    if table is None:
        return pd.DataFrame(columns=[*names, "sessions"])
    out = engine.query(
        f"SELECT {', '.join(names)}, COUNT(*) AS sessions FROM {table} GROUP BY {', '.join(names)}"
    )
    out["day"] = pd.to_datetime(out["day"]).dt.date
    return out.sort_values(names, na_position="first").reset_index(drop=True)


def _session_table(
    engine: Engine,
    settings: PainPointSettings,
    model: StageModel,
    as_of: dt.date | str | None,
    timezone: str,
) -> str | None:
    """The name of a temporary table of the sessions and their flags (``customer_id`` and the
    columns of :func:`session_counts`), built once per engine, settings, stages, cut-off and
    time zone (the name is a hash of its SQL); None when there are no events.

    The sessions are worked out per range of customers (:func:`temp_table_per_customer`: at
    10M customers one query over every event spilled more than 28 GB to disk), then the slow
    flags against the medians of every session's dwell times."""
    cutoff = end_of_day(as_of)
    last = engine.scalar(f"SELECT MAX(ts) FROM events WHERE ts < {cutoff}")
    if last is None:
        return None
    last_ts = f"TIMESTAMPTZ '{pd.Timestamp(last).tz_convert('UTC'):%Y-%m-%d %H:%M:%S.%f}+00'"
    n = len(settings.funnel)

    def sessions(where: str) -> str:
        return f"WITH {_sessions_sql(settings, model, cutoff, last_ts, timezone, where)}"

    spec = f"{sessions('TRUE')} slow {settings.slow_factor}"
    digest = hashlib.sha256(spec.encode()).hexdigest()[:12]
    name = f"_painpoint_sessions_{digest}"
    if engine.has_table(name):
        return name
    dwell = f"_painpoint_dwell_{digest}"
    temp_table_per_customer(engine, dwell, sessions)
    medians = ", ".join(f"MEDIAN(d{k}) AS med{k}" for k in range(1, n))
    slow = ", ".join(
        f"CASE WHEN d{k} > {settings.slow_factor} * med{k} AND med{k} > 0 THEN 1 ELSE 0 END"
        f" AS slow{k}"
        for k in range(1, n)
    )
    kept = ", ".join(_plain_names(settings, slow=False))
    engine.execute(
        temp_table(
            name,
            f"SELECT customer_id, {kept}, {slow} "
            f"FROM {dwell} CROSS JOIN (SELECT {medians} FROM {dwell}) med",
        )
    )
    drop_temp_table(engine, dwell)
    return name


def _plain_names(settings: PainPointSettings, *, slow: bool = True) -> list[str]:
    return [c.split(" AS ")[-1] for c in _flag_columns(settings, slow=slow)]


# ---------------------------------------------------------------------------------------------
# scan statistic
# ---------------------------------------------------------------------------------------------
def _xlogy(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x > 0, x * np.log(np.where(y > 0, y, 1.0)), 0.0)


def _window_sums(values: np.ndarray, max_len: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sums of every window [a, a+L) for L = 1..max_len; leading axis = replications."""
    c = np.concatenate([np.zeros(values.shape[:-1] + (1,)), np.cumsum(values, axis=-1)], axis=-1)
    n = values.shape[-1]
    starts, lengths = [], []
    for length in range(1, min(max_len, n) + 1):
        a = np.arange(0, n - length + 1)
        starts.append(a)
        lengths.append(np.full(len(a), length))
    a = np.concatenate(starts)
    L = np.concatenate(lengths)
    return c[..., a + L] - c[..., a], a, L


def _llr(cases_in: np.ndarray, base_in: np.ndarray, cases: np.ndarray, base: float, model: str):
    """Kulldorff's log-likelihood ratio for a window with a *higher* case rate (0 otherwise)."""
    cases = np.asarray(cases, dtype=float)[..., None] if np.ndim(cases) else float(cases)
    c_out = cases - cases_in
    b_out = base - base_in
    if model == "poisson":
        # base = expected cases under the null (proportional to exposure)
        e_in = cases * base_in / base
        llr = _xlogy(cases_in, cases_in / np.maximum(e_in, 1e-300)) + _xlogy(
            c_out, c_out / np.maximum(cases - e_in, 1e-300)
        )
        higher = cases_in > e_in
    else:  # bernoulli: base = trials
        p_in = np.divide(cases_in, base_in, out=np.zeros_like(cases_in), where=base_in > 0)
        p_out = np.divide(c_out, b_out, out=np.zeros_like(c_out), where=b_out > 0)
        p = cases / base
        llr = (
            _xlogy(cases_in, p_in)
            + _xlogy(base_in - cases_in, 1 - p_in)
            + _xlogy(c_out, p_out)
            + _xlogy(b_out - c_out, 1 - p_out)
            - _xlogy(cases, np.asarray(p))
            - _xlogy(base - cases, np.asarray(1 - p))
        )
        higher = p_in > p_out
    return np.where(higher, np.maximum(llr, 0.0), 0.0)


def scan_windows(
    cases: Sequence[float],
    base: Sequence[float],
    *,
    model: str = "bernoulli",
    max_len: int = 31,
    replications: int = 199,
    alpha: float = 0.05,
    max_windows: int = 3,
    seed: int = 0,
) -> pd.DataFrame:
    """Windows of consecutive periods where the case rate is significantly higher.

    Kulldorff's (1997) scan statistic on a time series. ``model="bernoulli"``: ``cases[i]`` of
    ``base[i]`` trials in period i (e.g. sessions that dropped out of a step, of the sessions
    that reached it). ``model="poisson"``: ``cases[i]`` counts with exposure ``base[i]``. Every
    window of 1..``max_len`` consecutive periods is scored by its log-likelihood ratio (rate
    inside vs outside); the most likely window's p-value is the rank of its ratio among the
    maxima of ``replications`` data sets simulated under the null with the same total (cases
    spread over the trials at random for Bernoulli, over the periods in proportion to exposure
    for Poisson). Further windows that do not overlap earlier ones are tested against the same
    null maxima (Kulldorff's conservative secondary clusters).

    Returns
    -------
    pandas.DataFrame
        One row per significant window (at most ``max_windows``): start, end (inclusive period
        positions), llr, p_value, cases_in, base_in, cases_out, base_out.
    """
    x = np.asarray(cases, dtype=float)
    b = np.asarray(base, dtype=float)
    cols = ["start", "end", "llr", "p_value", "cases_in", "base_in", "cases_out", "base_out"]
    if x.shape != b.shape or x.ndim != 1:
        raise ValueError("cases and base must be 1-D sequences of the same length")
    if np.any(x < 0) or np.any(b < 0) or (model == "bernoulli" and np.any(x > b)):
        raise ValueError("cases and base must be non-negative (and cases <= base for bernoulli)")
    total, exposure = x.sum(), b.sum()
    if len(x) < 3 or total <= 0 or exposure <= 0 or (model == "bernoulli" and total >= exposure):
        return pd.DataFrame(columns=cols)
    sums_c, starts, lengths = _window_sums(x, max_len)
    sums_b, _, _ = _window_sums(b, max_len)
    llr = _llr(sums_c, sums_b, total, exposure, model)
    rng = np.random.default_rng(seed)
    if model == "poisson":
        sims = rng.multinomial(int(round(total)), b / exposure, size=replications).astype(float)
    else:
        sims = rng.multivariate_hypergeometric(
            b.astype(np.int64), int(round(total)), size=replications
        ).astype(float)
    sim_c, _, _ = _window_sums(sims, max_len)
    sim_max = _llr(sim_c, sums_b[None, :], total, exposure, model).max(axis=1)
    rows, taken = [], np.zeros(len(x), dtype=bool)
    order = np.argsort(-llr, kind="stable")
    for i in order:
        if llr[i] <= 0 or len(rows) >= max_windows:
            break
        a, L = int(starts[i]), int(lengths[i])
        if taken[a : a + L].any():
            continue
        p = (1 + int((sim_max >= llr[i]).sum())) / (replications + 1)
        if p > alpha:
            break
        taken[a : a + L] = True
        rows.append(
            (a, a + L - 1, float(llr[i]), p, sums_c[i], sums_b[i], total - sums_c[i],
             exposure - sums_b[i])
        )  # fmt: skip
    return pd.DataFrame(rows, columns=cols)


# ---------------------------------------------------------------------------------------------
# incidents
# ---------------------------------------------------------------------------------------------
def step_conversion_daily(counts: pd.DataFrame, settings: PainPointSettings) -> pd.DataFrame:
    """Per day x device x step: sessions reaching the step, moving on, and the conversion.

    Every day between the first and the last is present (zero sessions on empty days).
    Grain: one row per day x device x step (step k = ``settings.funnel[k-1]``, the last excluded).
    """
    n = len(settings.funnel)
    if counts.empty:
        return pd.DataFrame(columns=["day", "device", "step", "next_step", "reached", "moved_on"])
    days = pd.date_range(min(counts["day"]), max(counts["day"]), freq="D").date
    frames = []
    for k in range(1, n):
        g = (
            counts.assign(
                reached=counts[f"r{k}"] * counts["sessions"],
                moved_on=counts[f"m{k}"] * counts["sessions"],
            )
            .groupby(["device", "day"], as_index=False)[["reached", "moved_on"]]
            .sum()
        )
        full = pd.MultiIndex.from_product(
            [sorted(g["device"].unique()), days], names=["device", "day"]
        )
        g = g.set_index(["device", "day"]).reindex(full, fill_value=0).reset_index()
        g["step"] = settings.funnel[k - 1]
        g["next_step"] = settings.funnel[k]
        frames.append(g)
    out = pd.concat(frames, ignore_index=True)
    out["conversion"] = out["moved_on"] / out["reached"].where(out["reached"] > 0)
    return out[["day", "device", "step", "next_step", "reached", "moved_on", "conversion"]]


def _friction_daily(counts: pd.DataFrame, settings: PainPointSettings) -> pd.DataFrame:
    days = pd.date_range(min(counts["day"]), max(counts["day"]), freq="D").date
    frames = []
    for i, event in enumerate(settings.friction_events):
        g = (
            counts.assign(hit=counts[f"f{i}"] * counts["sessions"])
            .groupby(["device", "day"], as_index=False)[["hit", "sessions"]]
            .sum()
        )
        full = pd.MultiIndex.from_product(
            [sorted(g["device"].unique()), days], names=["device", "day"]
        )
        g = g.set_index(["device", "day"]).reindex(full, fill_value=0).reset_index()
        g["event"] = event
        frames.append(g)
    return pd.concat(frames, ignore_index=True)


def incidents(
    counts: pd.DataFrame,
    *,
    settings: PainPointSettings | None = None,
    min_sessions: int = 30,
) -> pd.DataFrame:
    """Windows of days when a step converted far worse, or friction surged, on one device.

    Step conversion (sessions moving from a funnel step to the next) is scanned per step and
    device with the Bernoulli scan statistic on drop-outs; friction (sessions meeting each
    friction event, per session) with the Poisson one (:func:`scan_windows`). Series with fewer
    than ``min_sessions`` sessions at the step (or friction sessions) are skipped.

    Returns
    -------
    pandas.DataFrame
        One row per window: signal (``conversion`` or ``friction``), step, next_step, event
        (friction), device, window_start, window_end (local dates, inclusive), days, reached /
        sessions inside and outside, observed_rate (inside), expected_rate (outside; for
        friction the rate per session), excess (conversions lost, or friction sessions above
        expectation), llr, p_value.
    """
    settings = settings or PainPointSettings()
    cols = [
        "signal", "step", "next_step", "event", "device", "window_start", "window_end", "days",
        "base_in", "base_out", "observed_rate", "expected_rate", "excess", "llr", "p_value",
    ]  # fmt: skip
    if counts.empty:
        return pd.DataFrame(columns=cols)
    rows = []
    conv = step_conversion_daily(counts, settings)
    for (step, device), g in conv.groupby(["step", "device"], sort=False):
        g = g.sort_values("day")
        if g["reached"].sum() < min_sessions:
            continue
        w = scan_windows(
            (g["reached"] - g["moved_on"]).to_numpy(), g["reached"].to_numpy(),
            model="bernoulli", max_len=settings.max_window_days,
            replications=settings.replications, alpha=settings.alpha, seed=settings.seed,
        )  # fmt: skip
        days = g["day"].to_numpy()
        for r in w.itertuples():
            obs = 1 - r.cases_in / r.base_in
            exp = 1 - r.cases_out / r.base_out if r.base_out else np.nan
            rows.append(
                ("conversion", step, g["next_step"].iat[0], pd.NA, device, days[r.start],
                 days[r.end], r.end - r.start + 1, r.base_in, r.base_out, obs, exp,
                 (exp - obs) * r.base_in, r.llr, r.p_value)
            )  # fmt: skip
    fr = _friction_daily(counts, settings)
    for (event, device), g in fr.groupby(["event", "device"], sort=False):
        g = g.sort_values("day")
        if g["hit"].sum() < 5 or g["sessions"].sum() < min_sessions:
            continue
        w = scan_windows(
            g["hit"].to_numpy(), g["sessions"].to_numpy(), model="poisson",
            max_len=settings.max_window_days, replications=settings.replications,
            alpha=settings.alpha, seed=settings.seed,
        )  # fmt: skip
        days = g["day"].to_numpy()
        for r in w.itertuples():
            obs = r.cases_in / r.base_in
            exp = r.cases_out / r.base_out if r.base_out else np.nan
            rows.append(
                ("friction", pd.NA, pd.NA, event, device, days[r.start], days[r.end],
                 r.end - r.start + 1, r.base_in, r.base_out, obs, exp, (obs - exp) * r.base_in,
                 r.llr, r.p_value)
            )  # fmt: skip
    out = pd.DataFrame(rows, columns=cols)
    return out.sort_values(["p_value", "llr"], ascending=[True, False]).reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# the ranked list
# ---------------------------------------------------------------------------------------------
def _event_stage(model: StageModel, event: str) -> str | None:
    found = None
    for rule in model.rules:
        if any(m.event == event for m in rule.matches):
            found = rule.name  # the furthest matching stage wins, as in event_stage_sql
    return found


def _modal_stage(counts: pd.DataFrame, mask: pd.Series, model: StageModel) -> str | None:
    g = counts.loc[mask & (counts["stage_no"] > 0)].groupby("stage_no")["sessions"].sum()
    if g.empty:
        return None
    return model.names[int(g.idxmax()) - 1]


def _rate(num: float, den: float) -> float:
    return num / den if den else float("nan")


def _by_depth(counts: pd.DataFrame, mask: pd.Series, reference: pd.Series) -> tuple[float, float]:
    """Observed and expected conversions of the sessions in ``mask``: expected from the
    ``reference`` sessions as deep in the funnel (same deepest step before the conversion)."""
    aff = (
        counts.loc[mask]
        .groupby("depth")
        .apply(
            lambda g: pd.Series(
                {"n": g["sessions"].sum(), "x": (g["sessions"] * g["converted"]).sum()}
            ),
            include_groups=False,
        )
    )
    ref = (
        counts.loc[reference]
        .groupby("depth")
        .apply(
            lambda g: pd.Series(
                {"n": g["sessions"].sum(), "x": (g["sessions"] * g["converted"]).sum()}
            ),
            include_groups=False,
        )
    )
    if aff.empty:
        return 0.0, 0.0
    rate = (ref["x"] / ref["n"]).reindex(aff.index)
    ok = rate.notna()
    return float(aff.loc[ok, "x"].sum()), float((aff.loc[ok, "n"] * rate[ok]).sum())


def _repeat_gap(counts: pd.DataFrame, mask: pd.Series, reference: pd.Series) -> tuple[float, float]:
    """Observed and expected later purchases (within ``repeat_days``) of the sessions in
    ``mask`` against ``reference`` sessions of customers in the same position (bought before or
    not); sessions whose follow-up runs past the data are left out."""
    known = counts["repeat_buy"].notna()
    obs = exp = 0.0
    for before in (0, 1):
        a = counts.loc[mask & known & (counts["bought_before"] == before)]
        r = counts.loc[reference & known & (counts["bought_before"] == before)]
        n_a, n_r = a["sessions"].sum(), r["sessions"].sum()
        if n_a == 0 or n_r == 0:
            continue
        obs += float((a["sessions"] * a["repeat_buy"].astype(float)).sum())
        exp += n_a * float((r["sessions"] * r["repeat_buy"].astype(float)).sum()) / n_r
    return obs, exp


def _two_prop_p(x1: float, n1: float, x2: float, n2: float) -> float:
    """One-sided p-value that rate 1 is below rate 2 (pooled two-proportion z-test)."""
    if n1 == 0 or n2 == 0:
        return float("nan")
    p = (x1 + x2) / (n1 + n2)
    se = math.sqrt(p * (1 - p) * (1 / n1 + 1 / n2))
    if se == 0:
        return float("nan")
    return float(stats.norm.cdf((x1 / n1 - x2 / n2) / se))


def _reach_conversion(counts: pd.DataFrame, k: int) -> float:
    """Share of the sessions reaching step k that converted (1 for the conversion step): what a
    session lost before step k would have been worth."""
    at = counts[f"r{k}"] == 1
    n = counts.loc[at, "sessions"].sum()
    return _rate(float((counts.loc[at, "sessions"] * counts.loc[at, "converted"]).sum()), n)


def pain_points(
    engine: Engine,
    *,
    model: StageModel | None = None,
    settings: PainPointSettings | None = None,
    as_of: dt.date | str | None = None,
    timezone: str = "UTC",
    feedback: pd.DataFrame | None = None,
    counts: pd.DataFrame | None = None,
    min_customers: int = 5,
    report: ReportSpec | None = None,
) -> pd.DataFrame:
    """The ranked pain points of the journey (see the module docstring for each kind).

    Parameters
    ----------
    engine
        Engine over the canonical tables (events; orders for the average order value and the
        abandonment benchmark).
    model, settings, as_of, timezone
        Stages, thresholds, cut-off and the zone whose calendar days the incidents use.
    feedback
        Optional feedback context (:func:`journeylib.voice.feedback_context`: customer_id, ts,
        stage, band) for the ``negative_sentiment`` kind.
    counts
        :func:`session_counts` when already computed.
    min_customers
        Pain points affecting fewer customers are left out.
    report
        The report settings: ``title`` and ``evidence`` are written in ``report.language``
        (``en`` or ``id``) with its number formats, and a stage is named by its label. Without
        one they are English with plain numbers (``12.3%``) and stage names.

    Returns
    -------
    pandas.DataFrame
        One row per pain point (:data:`PAIN_POINT_COLUMNS`), ranked by ``severity``
        (conversions at stake per 30 days active), best evidence first among ties.
    """
    model = model or StageModel()
    settings = settings or PainPointSettings()
    lang = "en" if report is None else report.language
    num = _Numbers(report)
    name = str if report is None else _w  # event and step names in the evidence
    stage_name = (
        (lambda stage: str(stage))
        if report is None
        else dataclasses.replace(model, language=lang).label
    )
    if counts is None:
        counts = session_counts(
            engine, model=model, settings=settings, as_of=as_of, timezone=timezone
        )
    if counts.empty:
        return pd.DataFrame(columns=PAIN_POINT_COLUMNS)
    cutoff = end_of_day(as_of)
    aov = engine.scalar(
        f"SELECT SUM(revenue) / NULLIF(COUNT(DISTINCT order_id), 0) FROM orders WHERE ts < {cutoff}"
    )
    aov = float(aov) if aov is not None else float("nan")
    first_day, last_day = min(counts["day"]), max(counts["day"])
    period_days = (last_day - first_day).days + 1
    steps = settings.funnel
    n = len(steps)
    fcols = [f"f{i}" for i in range(len(settings.friction_events))]
    no_friction = counts[fcols].sum(axis=1) == 0
    rows: list[dict] = []
    cond: list[str] = []  # SQL condition of each row's affected sessions (customer counts)

    def add(row: dict, where: str) -> None:
        rows.append(row)
        cond.append(where)

    # -- incidents ------------------------------------------------------------------------------
    found = incidents(counts, settings=settings)
    conv_inc = found[found["signal"] == "conversion"]
    fric_inc = found[found["signal"] == "friction"]
    used_friction: set[int] = set()
    for r in conv_inc.itertuples():
        k = steps.index(r.step) + 1
        factor = _reach_conversion(counts, k + 1)
        lost = r.excess * factor
        overlap = fric_inc[
            (fric_inc["device"] == r.device)
            & (fric_inc["window_start"] <= r.window_end)
            & (fric_inc["window_end"] >= r.window_start)
        ]
        used_friction |= set(overlap.index)
        also = "".join(
            _t(lang, "ev_incident_also", event=_w(f.event), observed=num.pct(f.observed_rate),
               expected=num.pct(f.expected_rate))
            for f in overlap.itertuples()
        )  # fmt: skip
        add(
            {
                "kind": "incident", "stage": _event_stage(model, r.step) or model.names[0],
                "step": f"{r.step} > {r.next_step}",
                "event": overlap["event"].iat[0] if len(overlap) else pd.NA,
                "device": r.device, "window_start": r.window_start, "window_end": r.window_end,
                "days_active": int(r.days), "sessions": int(r.base_in),
                "observed_rate": r.observed_rate, "expected_rate": r.expected_rate,
                "conversions_at_stake": lost, "p_value": r.p_value,
                "evidence": _t(
                    lang, "ev_incident_step", observed=num.pct(r.observed_rate),
                    sessions=num.count(r.base_in), step=name(r.step), start=r.window_start,
                    end=r.window_end, expected=num.pct(r.expected_rate), also=also,
                ),
            },
            f"device = {literal(r.device)} AND day BETWEEN DATE '{r.window_start}' AND "
            f"DATE '{r.window_end}' AND r{k} = 1",
        )  # fmt: skip
    # -- chronic friction (per event, whole period) ---------------------------------------------
    loss_per_session: dict[str, float] = {}
    for i, event in enumerate(settings.friction_events):
        mask = counts[f"f{i}"] == 1
        sessions = int(counts.loc[mask, "sessions"].sum())
        if sessions == 0:
            continue
        obs, exp = _by_depth(counts, mask, no_friction)
        robs, rexp = _repeat_gap(counts, mask, no_friction)
        lost = max(exp - obs, 0.0) + max(rexp - robs, 0.0)
        loss_per_session[event] = lost / sessions
        add(
            {
                "kind": "friction", "stage": _modal_stage(counts, mask, model), "step": pd.NA,
                "event": event, "device": pd.NA, "window_start": first_day,
                "window_end": last_day, "days_active": period_days, "sessions": sessions,
                "observed_rate": _rate(obs + robs, sessions),
                "expected_rate": _rate(exp + rexp, sessions),
                "conversions_at_stake": lost, "p_value": np.nan,
                "evidence": _t(
                    lang, "ev_friction", sessions=num.count(sessions), event=_w(event),
                    obs=num.num(obs, 0), exp=num.num(exp, 1), robs=num.num(robs, 0),
                    days=settings.repeat_days, rexp=num.num(rexp, 1),
                ),
            },
            f"f{i} = 1",
        )  # fmt: skip
    # friction surges that did not show in conversion
    for idx, r in fric_inc.iterrows():
        if idx in used_friction:
            continue
        lost = r["excess"] * loss_per_session.get(r["event"], 0.0)
        i = settings.friction_events.index(r["event"])
        mask = (counts[f"f{i}"] == 1) & (counts["device"] == r["device"])
        add(
            {
                "kind": "incident", "stage": _modal_stage(counts, mask, model), "step": pd.NA,
                "event": r["event"], "device": r["device"], "window_start": r["window_start"],
                "window_end": r["window_end"], "days_active": int(r["days"]),
                "sessions": int(round(r["observed_rate"] * r["base_in"])),
                "observed_rate": r["observed_rate"], "expected_rate": r["expected_rate"],
                "conversions_at_stake": lost, "p_value": r["p_value"],
                "evidence": _t(
                    lang, "ev_incident_event", event=_w(r["event"]),
                    observed=num.pct(r["observed_rate"]), sessions=num.count(r["base_in"]),
                    start=r["window_start"], end=r["window_end"],
                    expected=num.pct(r["expected_rate"]),
                ),
            },
            f"f{i} = 1 AND device = {literal(r['device'])} AND day BETWEEN "
            f"DATE '{r['window_start']}' AND DATE '{r['window_end']}'",
        )  # fmt: skip
    # -- loops -----------------------------------------------------------------------------------
    looped = counts["loop_pair"].notna()
    for pair, g in counts.loc[looped].groupby("loop_pair"):
        mask = counts["loop_pair"] == pair
        sessions = int(g["sessions"].sum())
        obs, exp = _by_depth(counts, mask, ~looped & no_friction)
        first = str(pair).split(" > ")[0]
        add(
            {
                "kind": "loop",
                "stage": _event_stage(model, first) or _modal_stage(counts, mask, model),
                "step": pair, "event": pd.NA, "device": pd.NA, "window_start": first_day,
                "window_end": last_day, "days_active": period_days, "sessions": sessions,
                "observed_rate": _rate(obs, sessions), "expected_rate": _rate(exp, sessions),
                "conversions_at_stake": max(exp - obs, 0.0), "p_value": np.nan,
                "evidence": _t(
                    lang, "ev_loop", sessions=num.count(sessions), pair=name(pair),
                    first=name(first), obs=num.num(obs, 0), exp=num.num(exp, 1),
                ),
            },
            f"loop_pair = {literal(pair)}",
        )  # fmt: skip
    # -- slow steps ------------------------------------------------------------------------------
    for k in range(1, n):
        at = counts[f"r{k}"] == 1
        slow = at & (counts[f"slow{k}"] == 1)
        n1 = float(counts.loc[slow, "sessions"].sum())
        n2 = float(counts.loc[at & ~slow, "sessions"].sum())
        if n1 == 0 or n2 == 0:
            continue
        x1 = float((counts.loc[slow, "sessions"] * counts.loc[slow, "converted"]).sum())
        x2 = float((counts.loc[at & ~slow, "sessions"] * counts.loc[at & ~slow, "converted"]).sum())
        p = _two_prop_p(x1, n1, x2, n2)
        if not (p < settings.alpha):
            continue
        add(
            {
                "kind": "slow_step", "stage": _event_stage(model, steps[k - 1]) or model.names[0],
                "step": steps[k - 1], "event": pd.NA, "device": pd.NA,
                "window_start": first_day, "window_end": last_day, "days_active": period_days,
                "sessions": int(n1), "observed_rate": x1 / n1, "expected_rate": x2 / n2,
                "conversions_at_stake": (x2 / n2 - x1 / n1) * n1, "p_value": p,
                "evidence": _t(
                    lang, "ev_slow_step", sessions=num.count(n1),
                    factor=num.factor(settings.slow_factor), step=name(steps[k - 1]),
                    observed=num.pct(x1 / n1), expected=num.pct(x2 / n2),
                ),
            },
            f"slow{k} = 1",
        )  # fmt: skip
    # -- abandonment against the benchmark --------------------------------------------------------
    _abandonment(engine, settings, model, as_of, first_day, last_day, period_days, add, lang, num)
    # -- negative feedback per stage --------------------------------------------------------------
    if feedback is not None and len(feedback):
        _negative_feedback(
            engine,
            feedback,
            settings,
            as_of,
            first_day,
            last_day,
            period_days,
            add,
            lang,
            num,
            stage_name,
        )

    out = pd.DataFrame(rows)
    table = _session_table(engine, settings, model, as_of, timezone)
    out["customers"] = _customers(engine, table, cond, rows)
    out["revenue_at_stake"] = out["conversions_at_stake"] * aov
    out["severity"] = out["conversions_at_stake"] * 30.0 / out["days_active"].clip(lower=7)
    out = out[(out["customers"] >= min_customers) & (out["conversions_at_stake"] > 0)]
    out = out.sort_values(
        ["severity", "conversions_at_stake"], ascending=[False, False], kind="stable"
    ).reset_index(drop=True)
    out["rank"] = np.arange(1, len(out) + 1)
    labels = {} if report is None else {stage: stage_name(stage) for stage in model.names}
    out["title"] = [
        pain_point_title(r, language=lang, labels=labels) for r in out.to_dict("records")
    ]
    return out.reindex(columns=PAIN_POINT_COLUMNS)


def _w(name: object) -> str:
    """An event name in words (``begin_checkout`` -> ``begin checkout``)."""
    return str(name).replace("_", " ")


def _pct(x: float) -> str:
    return "n/a" if x is None or not np.isfinite(x) else f"{100 * x:.1f}%"


def _customers(engine: Engine, table: str, cond: list[str], rows: list[dict]) -> list[int]:
    """Distinct customers behind each pain point: over the session table (conditions on its flag
    columns), whether each customer has a session meeting each condition, added up over the
    customers (in passes over ranges of them, like :func:`query_per_customer`); or the count the
    row brought. One grouping by customer, where a ``COUNT(DISTINCT ...)`` per pain point held a
    set of customers each."""
    out = [int(r.pop("_customers", 0)) for r in rows]
    sql_rows = [i for i in range(len(rows)) if cond[i]]
    if not sql_rows:
        return out
    hits = ", ".join(f"MAX(CASE WHEN {cond[i]} THEN 1 ELSE 0 END) AS c{i}" for i in sql_rows)
    sums = ", ".join(f"CAST(SUM(c{i}) AS BIGINT) AS c{i}" for i in sql_rows)
    res = query_per_customer(
        engine,
        lambda where: (
            f"SELECT {sums} FROM (SELECT {hits} FROM {table} WHERE {where} GROUP BY customer_id) per"
        ),
    )
    for i in sql_rows:
        out[i] = int(res[f"c{i}"].sum())
    return out


def _abandonment(
    engine, settings, model, as_of, first_day, last_day, period_days, add, lang, num
) -> None:  # noqa: ANN001,E501
    from journeylib.carts import cart_abandonment

    cart_event, buy = settings.funnel[min(1, len(settings.funnel) - 1)], settings.funnel[-1]
    carts = cart_abandonment(
        engine, cart_event=cart_event, purchase_event=buy,
        recovery_days=settings.recovery_days, table=_upto(engine, as_of),
    ).iloc[0]  # fmt: skip
    total, lost = int(carts["carts"]), int(carts["lost"])
    if total == 0:
        return
    excess = lost - settings.benchmark_abandonment * total
    add(
        {
            "kind": "abandonment", "stage": _event_stage(model, cart_event) or model.names[0],
            "step": cart_event, "event": pd.NA, "device": pd.NA, "window_start": first_day,
            "window_end": last_day, "days_active": period_days, "sessions": total,
            "observed_rate": lost / total, "expected_rate": settings.benchmark_abandonment,
            "conversions_at_stake": max(excess, 0.0), "p_value": np.nan,
            "_customers": 0,
            "evidence": _t(
                lang, "ev_abandonment", lost=num.count(lost), total=num.count(total),
                observed=num.pct(lost / total), days=settings.recovery_days,
                benchmark=num.pct(settings.benchmark_abandonment),
            ),
        },
        f"r{min(2, len(settings.funnel))} = 1 AND converted = 0",
    )  # fmt: skip


def _upto(engine: Engine, as_of) -> str:  # noqa: ANN001
    """The name of the events up to the end of ``as_of``: ``events`` itself without a cut-off,
    else a temporary view (nothing is loaded)."""
    if as_of is None:
        return "events"
    name = f"_events_upto_{as_date(as_of):%Y%m%d}"
    engine.execute(
        f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT * FROM events WHERE ts < {end_of_day(as_of)}"
    )
    return name


def _negative_feedback(
    engine, feedback, settings, as_of, first_day, last_day, period_days, add, lang, num, stage_name
) -> None:  # noqa: ANN001,E501
    """Customers with negative feedback at a stage against the others at that stage, on buying
    again within ``repeat_days`` of the feedback (answers whose follow-up runs past the data are
    left out)."""
    fb = feedback.loc[feedback["band"].notna(), ["customer_id", "ts", "stage", "band"]]
    if fb.empty:
        return
    cutoff = end_of_day(as_of)
    orders = engine.query(
        f"SELECT customer_id, MIN(ts) AS ts FROM orders WHERE ts < {cutoff} "
        "GROUP BY customer_id, order_id"
    )
    last = engine.scalar(f"SELECT MAX(ts) FROM events WHERE ts < {cutoff}")
    horizon = pd.Timedelta(days=settings.repeat_days)
    fb = fb[fb["ts"] + horizon <= pd.Timestamp(last)].copy()
    if fb.empty:
        return
    m = fb.reset_index().merge(orders, on="customer_id", how="left", suffixes=("", "_order"))
    m["again"] = (m["ts_order"] > m["ts"]) & (m["ts_order"] <= m["ts"] + horizon)
    fb["again"] = m.groupby("index")["again"].any().reindex(fb.index).fillna(False).to_numpy()
    fb["negative"] = fb["band"].isin(["detractor", "negative"])
    for stage, g in fb.groupby("stage"):
        neg, rest = g[g["negative"]], g[~g["negative"]]
        if len(neg) == 0 or len(rest) == 0:
            continue
        r_neg, r_rest = neg["again"].mean(), rest["again"].mean()
        p = _two_prop_p(neg["again"].sum(), len(neg), rest["again"].sum(), len(rest))
        add(
            {
                "kind": "negative_sentiment", "stage": stage, "step": pd.NA, "event": pd.NA,
                "device": pd.NA, "window_start": first_day, "window_end": last_day,
                "days_active": period_days, "sessions": len(neg),
                "observed_rate": r_neg, "expected_rate": r_rest,
                "conversions_at_stake": (r_rest - r_neg) * len(neg), "p_value": p,
                "_customers": neg["customer_id"].nunique(),
                "evidence": _t(
                    lang, "ev_negative_sentiment", n=num.count(len(neg)), stage=stage_name(stage),
                    observed=num.pct(r_neg), days=settings.repeat_days, expected=num.pct(r_rest),
                ),
            },
            "",
        )  # fmt: skip


# ---------------------------------------------------------------------------------------------
# figures
# ---------------------------------------------------------------------------------------------
# Chart text built from data, in the report language; fixed titles stay English here and are
# translated by the display's phrase catalogue (journeylib.i18n).
_PLOT_TEXT: dict[str, dict[str, str]] = {
    "en": {
        "severity_hover": "%{y}<br>%{x:.1f} conversions per 30 days<br>"
        "%{customdata[0]} customers, %{customdata[1]:.1f} conversions in all<extra></extra>",
        "daily_title": "Daily conversion from {step}",
        "daily_hover": "%{x|%Y-%m-%d}: %{y:.1%} of %{customdata} sessions<extra></extra>",
    },
    "id": {
        "severity_hover": "%{y}<br>%{x:.1f} konversi per 30 hari<br>"
        "%{customdata[0]} pelanggan, %{customdata[1]:.1f} konversi seluruhnya<extra></extra>",
        "daily_title": "Konversi harian dari {step}",
        "daily_hover": "%{x|%Y-%m-%d}: %{y:.1%} dari %{customdata} sesi<extra></extra>",
    },
}


def _pt(language: str, key: str, **values: object) -> str:
    return i18n.template(_PLOT_TEXT, language, key, **values)


def plot_pain_points(
    table: pd.DataFrame,
    *,
    top_n: int = 10,
    language: str = "en",
    labels: Mapping[str, str] | None = None,
) -> go.Figure:
    """Horizontal bars of the top pain points' severity (table twin: :func:`pain_points`).

    ``language`` (``en``/``id``) writes the hover text; ``labels`` names the stages (machine
    names without it). The title and axis title are fixed English phrases.
    """
    import plotly.graph_objects as go

    t = table.head(top_n).iloc[::-1]
    stage = (labels or {}).get
    bars = [f"{r.rank}. {r.title} ({stage(r.stage, r.stage)})" for r in t.itertuples()]
    fig = go.Figure(
        go.Bar(
            x=t["severity"], y=bars, orientation="h",
            customdata=np.c_[t["customers"], t["conversions_at_stake"]],
            hovertemplate=_pt(language, "severity_hover"),
        )
    )  # fmt: skip
    fig.update_layout(
        title="Pain points by severity", xaxis_title="conversions at stake per 30 days active",
        template="plotly_white", height=120 + 32 * len(t), margin={"l": 10},
    )  # fmt: skip
    return fig


def plot_step_conversion_daily(
    daily: pd.DataFrame, *, step: str, found: pd.DataFrame | None = None, language: str = "en"
) -> go.Figure:
    """Daily conversion of one step per device, incident windows shaded (table twin:
    :func:`step_conversion_daily`); title and hover text in ``language`` (``en``/``id``)."""
    import plotly.graph_objects as go

    fig = go.Figure()
    d = daily[daily["step"] == step]
    for device, g in d.groupby("device"):
        fig.add_trace(
            go.Scatter(
                x=pd.to_datetime(g["day"]), y=g["conversion"], mode="lines", name=str(device),
                customdata=g["reached"], connectgaps=False,
                hovertemplate=_pt(language, "daily_hover"),
            )
        )  # fmt: skip
    if found is not None:
        for r in found[found["step"] == step].itertuples():
            fig.add_vrect(
                x0=pd.Timestamp(r.window_start), x1=pd.Timestamp(r.window_end) + pd.Timedelta(days=1),
                fillcolor="crimson", opacity=0.12, line_width=0,
                annotation_text=f"{r.device}", annotation_position="top left",
            )  # fmt: skip
    fig.update_layout(
        title=_pt(language, "daily_title", step=step), yaxis_tickformat=".0%",
        template="plotly_white", yaxis_title="sessions moving on", hovermode="x unified",
    )  # fmt: skip
    return fig
