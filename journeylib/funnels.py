"""Ordered funnels and time to convert, under one definition of a funnel journey.

A funnel is an ordered list of events (or of stages: pass ``table=`` a view whose ``event``
column holds the stage). Every customer who did step 1 enters the funnel; the definitions below
are used by every function of this module and by the drop-off diagnosis
(:mod:`journeylib.dropoff`, which reuses the journey SQL built here), and tests hold each of them.

**Journey.** A customer's journey starts at their *first* step-1 event (``t1``; the anchor is
never moved to a later step-1 event) and ends at the *journey end*: the earlier of

* the end of the conversion window, ``t1 + window`` (inclusive; ``window=None``: unbounded), and
* the customer's first exclusion event strictly after ``t1`` (an exclusion event at ``t1`` itself
  is ignored). An exclusion event therefore breaks the journey between the last step before it
  and the first step after it. Steps at the *same timestamp* as that exclusion event still count
  (the order of tied events is unknown, and ties resolve in the customer's favour); steps after
  it do not. An exclusion event after the final step changes nothing.

Only funnel events with ``t1 <= ts <= journey end`` count, for both definitions.

**Strict sequence** (``*_strict``). Step ``k`` is reached when the customer did step 1, then
step 2 at or after it, ..., then step ``k`` at or after step ``k-1``. *Equal timestamps count as
in order*: events of one customer are ordered by ``ts``, then by the position of the event's
first occurrence in ``steps`` (so of two tied funnel events the earlier step comes first). Each
step must be matched by a different event row, which only matters when an event appears twice
in ``steps`` (``A -> B -> A`` needs two ``A`` rows); identical tied rows are interchangeable.
Steps are matched greedily (the earliest qualifying event), as Amplitude and Mixpanel do; with
the journey cut above, greedy matching finds a sequence whenever one exists.

**Step attained** (``*_attained``). Step ``k`` is attained when the customer did every event of
steps ``1..k`` during the journey, in any order (an event listed twice in ``steps[:k]`` must
occur twice). Every strictly reached step is attained, so ``disagree`` (customers for whom the
two definitions differ at a step) equals ``customers_attained - customers_strict``.

All event-level work runs as SQL in the engine: the timestamps of each funnel event are gathered
into one list per customer (read from the event timelines ingest writes,
:mod:`journeylib.timelines`, or by one ``GROUP BY``), and the steps are matched on those lists
(list functions and other dialect points from :mod:`journeylib.sql`); only customer-level or
aggregated frames come back. Cart abandonment is in :mod:`journeylib.carts`.
"""

from __future__ import annotations

import datetime as dt
import re
import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from journeylib.engine import Engine, as_engine
from journeylib.sql import (
    bound,
    check_choice,
    collect,
    collect_sorted,
    customer_key,
    date_trunc,
    duration,
    identifier,
    list_at,
    list_concat,
    list_len,
    list_min,
    list_where,
    require_columns,
)
from journeylib.timelines import TIMELINE_TABLE, timeline_columns

if TYPE_CHECKING:  # pragma: no cover
    import plotly.graph_objects as go

__all__ = [
    "DEFAULT_TIME_BINS",
    "bucket_label",
    "funnel",
    "funnel_by_segment",
    "plot_funnel",
    "plot_funnel_by_segment",
    "plot_time_to_convert",
    "time_to_convert",
    "time_to_convert_histogram",
]

#: Bucket edges of the time-to-convert and drop-off dwell histograms (the last is open-ended).
DEFAULT_TIME_BINS: tuple[pd.Timedelta, ...] = tuple(
    pd.Timedelta(x)
    for x in (
        "0s", "1min", "5min", "15min", "30min", "1h", "3h", "6h", "12h",
        "1D", "2D", "3D", "7D", "14D", "30D",
    )
)  # fmt: skip

#: Segment value of customers missing from the ``segments`` frame (or with a null segment).
MISSING_SEGMENT = "(missing)"

FUNNEL_COLUMNS: tuple[str, ...] = (
    "step_no",
    "step",
    "customers_strict",
    "customers_attained",
    "disagree",
    "conversion_from_start_strict",
    "conversion_from_previous_strict",
    "conversion_from_start_attained",
    "conversion_from_previous_attained",
)
SEGMENT_TEST_COLUMNS: tuple[str, ...] = (
    "customers",
    "converted",
    "conversion",
    "ci_low",
    "ci_high",
    "z_vs_rest",
    "p_value_vs_rest",
    "chi2",
    "chi2_dof",
    "chi2_p_value",
)
_BASE_COLUMNS = ("customer_id", "ts", "event")

Window = dt.timedelta | pd.Timedelta | str | None


# ---------------------------------------------------------------------------------------------
# Input checks and the shared journey SQL
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Funnel:
    """A validated funnel request (what every public function builds first)."""

    engine: Engine
    steps: tuple[str, ...]
    window: pd.Timedelta | None
    exclude: tuple[str, ...]
    table: str
    columns: tuple[str, ...]


def _event_list(values: object, what: str) -> tuple[str, ...]:
    if isinstance(values, str):
        raise TypeError(f"{what} must be a list of event names, not a string: use [{values!r}]")
    try:
        out = tuple(values)  # type: ignore[arg-type]
    except TypeError as exc:
        raise TypeError(f"{what} must be a list of event names, got {values!r}") from exc
    bad = [v for v in out if not isinstance(v, str) or not v]
    if bad:
        raise ValueError(f"{what} must be non-empty strings, got {bad}")
    return out


def _prepare(
    events: Engine | pd.DataFrame,
    steps: Sequence[str],
    window: Window,
    exclude: Sequence[str] | str,
    table: str,
    extra_columns: Sequence[str] = (),
) -> _Funnel:
    step_list = _event_list(steps, "steps")
    if not step_list:
        raise ValueError("steps must name at least one event; got an empty list")
    if isinstance(exclude, str):
        exclude = [exclude]
    excl = tuple(dict.fromkeys(_event_list(exclude, "exclude")))
    both = sorted(set(excl) & set(step_list))
    if both:
        raise ValueError(f"events {both} are both funnel steps and exclusion events")
    table = identifier(table, "table")
    engine = as_engine(events, table)
    cols = require_columns(engine, table, (*_BASE_COLUMNS, *extra_columns), timestamp="ts").columns
    return _Funnel(engine, step_list, duration(window), excl, table, tuple(cols))


def _query(f: _Funnel, sql: str, params: dict[str, Any]) -> pd.DataFrame:
    """Run ``sql`` with the ``params`` it uses (the timeline path binds no step names)."""
    return f.engine.query(sql, bound(sql, params))


def _params(f: _Funnel) -> dict[str, Any]:
    params: dict[str, Any] = {f"s{i}": e for i, e in enumerate(f.steps, 1)}
    params.update({f"x{i}": e for i, e in enumerate(f.exclude, 1)})
    if f.window is not None:
        params["window"] = f.window.to_pytimedelta()
    return params


def _journey_sql(
    f: _Funnel, segment_col: str | None = None, cohort: bool = False, keyed: bool = False
) -> str:
    """CTEs ending in ``progress``: one row per customer who did step 1.

    One pass per customer: the timestamps of each funnel event are gathered into one list per
    customer and event (read from the precomputed :mod:`journeylib.timelines` when they cover
    ``f.table``, else by one ``GROUP BY`` over the table), then the steps are matched greedily
    on those lists, step by step, without joining back to the events.

    ``keyed`` replaces customer ids by integer keys (:func:`journeylib.sql.customer_key`) for
    speed; only for callers that aggregate ``progress`` and never return its customer_id.

    ``progress`` columns: customer_id, t1, t_end (journey end, NULL when unbounded), t_<k> (time
    of strict step k, NULL when not reached), strict_reached, attained_reached (furthest step
    number under each definition), and ``seg`` when a segment is asked for.
    """
    n = len(f.steps)
    rank = {e: i for i, e in reversed(list(enumerate(f.steps, 1)))}  # first position in steps
    repeated = len(rank) < n
    ctes = [_lists_cte(f, rank, repeated, segment_col, keyed)]
    # journey end: the window end and/or the first exclusion event strictly after t1
    win_end = "t1 + $window" if f.window is not None else None
    t_cut = list_min(list_where("lx", "x > t1")) if f.exclude else None
    if t_cut and win_end:
        end = f"CASE WHEN {t_cut} < {win_end} THEN {t_cut} ELSE {win_end} END"
    else:
        end = t_cut or win_end or "CASE WHEN 1 = 0 THEN t1 END"  # a typed NULL: unbounded
    lcols = "".join(f", l{r}" for r in rank.values())
    ctes.append(
        f"journey AS (SELECT customer_id, t1, {end} AS t_end, t1 AS t_1"
        f"{', 1 AS i_1' if repeated else ''}{lcols} FROM lists WHERE t1 IS NOT NULL)"
    )

    def inside(x: str) -> str:  # x lies before the journey end (x >= t1 is added where needed)
        if f.exclude:
            return f" AND (t_end IS NULL OR {x} <= t_end)"
        return f" AND {x} <= t_end" if f.window is not None else ""

    in_x = inside("x")
    # Greedy strict matching. Tied timestamps are in order when the later step's event comes
    # later in ``steps`` (its rank is higher): then x >= the previous match, else x > it.
    prev = "journey"
    for k in range(2, n + 1):
        e, e_prev, lst = f.steps[k - 1], f.steps[k - 2], f"l{rank[f.steps[k - 1]]}"
        if not repeated:
            ctes.append(
                f"m{k} AS (SELECT *, {list_min(list_where(lst, f'x >= t_{k - 1}' + in_x))} "
                f"AS t_{k} FROM {prev})"
            )
        else:
            # the i_k-th element of the event's sorted list, so that each step uses its own row
            if e == e_prev:
                idx = f"i_{k - 1} + 1"
            else:
                op = "<=" if rank[e] < rank[e_prev] else "<"
                idx = (
                    f"CASE WHEN t_{k - 1} IS NOT NULL THEN "
                    f"{list_len(list_where(lst, f'x {op} t_{k - 1}'))} + 1 END"
                )
            ctes.append(f"i{k} AS (SELECT *, {idx} AS i_{k} FROM {prev})")
            at = list_at(lst, f"i_{k}")
            keep = f"{at} IS NOT NULL{inside(at)}"
            ctes.append(f"m{k} AS (SELECT *, CASE WHEN {keep} THEN {at} END AS t_{k} FROM i{k})")
        prev = f"m{k}"
    counts = ", ".join(
        f"{list_len(list_where(f'l{r}', 'x >= t1' + in_x))} AS c{r}" for r in rank.values()
    )
    ctes.append(f"att AS (SELECT *, {counts} FROM {prev})")

    def attained(k: int) -> str:
        need = Counter(f.steps[:k])
        return " AND ".join(f"c{rank[e]} >= {m}" for e, m in need.items())

    strict = " ".join(f"WHEN t_{k} IS NOT NULL THEN {k}" for k in range(n, 1, -1))
    attain = " ".join(f"WHEN {attained(k)} THEN {k}" for k in range(n, 1, -1))
    strict = f"CASE {strict} ELSE 1 END" if n > 1 else "1"
    attain = f"CASE {attain} ELSE 1 END" if n > 1 else "1"
    seg_out = ""
    seg_join = ""
    if segment_col:
        ctes.append(
            """seg AS (
            SELECT s.customer_id, MIN(s.seg) AS seg
            FROM src s JOIN journey j ON s.customer_id = j.customer_id AND s.ts = j.t1
            WHERE s.event = $s1 GROUP BY s.customer_id)"""
        )
        seg_out, seg_join = ", seg.seg AS seg", "LEFT JOIN seg ON seg.customer_id = a.customer_id"
    elif cohort:
        seg_out = f", {date_trunc('month', 'a.t1')} AS seg"
    times = "".join(f", a.t_{k}" for k in range(1, n + 1))
    ctes.append(
        f"""progress AS (
        SELECT a.customer_id, a.t1, a.t_end{times},
               {strict} AS strict_reached, {attain} AS attained_reached{seg_out}
        FROM att a {seg_join})"""
    )
    return "WITH " + ",\n".join(ctes)


def _lists_cte(
    f: _Funnel, rank: dict[str, int], repeated: bool, segment_col: str | None, keyed: bool
) -> str:
    """``lists``: one row per customer with t1 (first step-1 event), ``l<r>`` (the timestamps of
    the step event of rank r) and ``lx`` (of every exclusion event); also ``src`` (the funnel's
    events) when the table is read, which the segment needs."""
    timeline = None
    if segment_col is None:
        timeline = timeline_columns(f.engine, f.table, [*rank, *f.exclude])
    if timeline is not None:

        def col(event: str) -> str:  # lists are sorted; an event that never occurs has none
            return timeline[event] or "CAST(NULL AS TIMESTAMPTZ[])"

        lists = "".join(f", {col(e)} AS l{r}" for e, r in rank.items())
        if f.exclude:
            lists += f", {list_concat([col(x) for x in f.exclude])} AS lx"
        t1 = list_at(col(f.steps[0]), "1")
        return f"lists AS (SELECT customer_id, {t1} AS t1{lists} FROM {TIMELINE_TABLE})"
    step_in = ", ".join(f"$s{r}" for r in rank.values())
    excl_in = ", ".join(f"$x{i}" for i in range(1, len(f.exclude) + 1))
    seg_sel = f', "{segment_col}" AS seg' if segment_col else ""
    gather = collect_sorted if repeated else collect  # index arithmetic needs sorted lists
    lists = "".join(f", {gather('ts', f'event = $s{r}')} AS l{r}" for r in rank.values())
    if f.exclude:
        lists += f", {collect('ts', f'event IN ({excl_in})')} AS lx"
    return f"""src AS (
            SELECT {customer_key("customer_id") if keyed else "customer_id"} AS customer_id,
                   ts, event{seg_sel} FROM "{f.table}"
            WHERE event IN ({step_in}{", " + excl_in if excl_in else ""})
              AND customer_id IS NOT NULL AND ts IS NOT NULL),
        lists AS (
            SELECT customer_id, MIN(ts) FILTER (WHERE event = $s1) AS t1{lists}
            FROM src GROUP BY customer_id)"""


def _warn_missing_steps(f: _Funnel, attained_counts: Sequence[int]) -> None:
    """Warn about steps whose event never occurs (only checked when some step has 0 customers)."""
    if all(c > 0 for c in attained_counts):
        return
    step_in = ", ".join(f"$s{i}" for i in range(1, len(f.steps) + 1))
    seen = set(
        _query(
            f,
            f'SELECT DISTINCT event FROM "{f.table}" WHERE event IN ({step_in})',
            {f"s{i}": e for i, e in enumerate(f.steps, 1)},
        )["event"]
    )
    missing = [(k, s) for k, s in enumerate(f.steps, 1) if s not in seen]
    if missing:
        k, s = missing[0]
        names = ", ".join(f"{j} {e!r}" for j, e in missing)
        warnings.warn(
            f"funnel step {k} {s!r} never occurs in table {f.table!r} (missing steps: {names}); "
            f"step {k} and every later step count 0 customers",
            UserWarning,
            stacklevel=3,
        )


# ---------------------------------------------------------------------------------------------
# Segments
# ---------------------------------------------------------------------------------------------
def _segment_counts(f: _Funnel, segment: str | None, segments: pd.DataFrame | None) -> pd.DataFrame:
    """Customers per (seg, strict_reached, attained_reached), column ``n``."""
    params = _params(f)
    if segment is None:
        sql = _journey_sql(f, keyed=True)
        return _query(
            f,
            sql + " SELECT strict_reached, attained_reached, COUNT(*) AS n FROM progress "
            "GROUP BY strict_reached, attained_reached",
            params,
        )
    reserved = set(FUNNEL_COLUMNS) | set(SEGMENT_TEST_COLUMNS)
    if segment in reserved:
        raise ValueError(f"segment {segment!r} clashes with an output column; rename it")
    if segments is not None:
        if not isinstance(segments, pd.DataFrame):
            raise TypeError("segments must be a pandas DataFrame with customer_id and the segment")
        missing = [c for c in ("customer_id", segment) if c not in segments.columns]
        if missing:
            raise ValueError(f"segments frame lacks column(s) {missing}")
        if segments["customer_id"].duplicated().any():
            raise ValueError("segments frame must hold one row per customer_id")
        per = _query(
            f,
            _journey_sql(f) + " SELECT customer_id, strict_reached, attained_reached FROM progress",
            params,
        )
        lookup = segments.set_index("customer_id")[segment]
        per["seg"] = per["customer_id"].map(lookup)
        per["seg"] = per["seg"].astype(object).where(per["seg"].notna(), MISSING_SEGMENT)
        return (
            per.groupby(["seg", "strict_reached", "attained_reached"], sort=True)
            .size()
            .rename("n")
            .reset_index()
        )
    if segment == "cohort":
        sql = _journey_sql(f, cohort=True, keyed=True)
    else:
        identifier(segment, "segment")
        if segment not in f.columns or segment in _BASE_COLUMNS:
            raise ValueError(
                f"segment {segment!r} is not a column of table {f.table!r}, nor 'cohort'; pass "
                "customer attributes as segments=DataFrame(customer_id, <segment>)"
            )
        sql = _journey_sql(f, segment_col=segment, keyed=True)
    out = _query(
        f,
        sql + " SELECT seg, strict_reached, attained_reached, COUNT(*) AS n FROM progress "
        "GROUP BY seg, strict_reached, attained_reached",
        params,
    )
    if segment == "cohort":
        out["seg"] = pd.to_datetime(out["seg"], utc=True).dt.strftime("%Y-%m")
    out["seg"] = out["seg"].astype(object).where(out["seg"].notna(), MISSING_SEGMENT)
    return out


def _steps_table(counts: pd.DataFrame, steps: Sequence[str]) -> pd.DataFrame:
    """One row per step from customer counts per (strict_reached, attained_reached)."""
    s_reach = counts["strict_reached"].to_numpy()
    a_reach = counts["attained_reached"].to_numpy()
    n = counts["n"].to_numpy()
    rows = []
    for k, step in enumerate(steps, 1):
        s, a = s_reach >= k, a_reach >= k
        rows.append(
            {
                "step_no": k,
                "step": step,
                "customers_strict": int(n[s].sum()),
                "customers_attained": int(n[a].sum()),
                "disagree": int(n[s != a].sum()),
            }
        )
    out = pd.DataFrame(rows)
    for d in ("strict", "attained"):
        c = out[f"customers_{d}"].astype("float64")
        start = c.iloc[0] if len(c) else 0.0
        prev = c.shift(1)
        from_prev = c / prev.where(prev > 0)
        if len(c):
            from_prev.iloc[0] = 1.0 if start > 0 else np.nan
        out[f"conversion_from_start_{d}"] = c / start if start > 0 else np.nan
        out[f"conversion_from_previous_{d}"] = from_prev
    return out[list(FUNNEL_COLUMNS)]


# ---------------------------------------------------------------------------------------------
# Funnel
# ---------------------------------------------------------------------------------------------
def funnel(
    events: Engine | pd.DataFrame,
    steps: Sequence[str],
    *,
    window: Window = None,
    exclude: Sequence[str] | str = (),
    table: str = "events",
    segment: str | None = None,
    segments: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Ordered funnel: customers per step under the strict-sequence and step-attained rules.

    Parameters
    ----------
    events
        An engine over the canonical tables, or an events frame (customer_id, ts, event, ...).
    steps
        Event names in funnel order (at least one; an event may appear more than once).
    window
        Conversion window from the customer's first step-1 event (``timedelta``, or a string
        such as ``"7D"``); ``None`` = unbounded. Events at exactly ``t1 + window`` count.
    exclude
        Exclusion events: the first one strictly after ``t1`` ends the customer's journey (see
        the module docstring). Must not overlap ``steps``.
    table
        Table (or view) to read; its ``event`` column may hold stages instead of events.
    segment
        Break the funnel down by: a column of ``table`` (e.g. ``device``, ``channel``), taken
        from the customer's first step-1 event (ties at that timestamp: the smallest value);
        ``"cohort"`` = UTC month (``YYYY-MM``) of the first step-1 event; or a column of
        ``segments``.
    segments
        Customer attributes (``customer_id`` + the ``segment`` column, one row per customer);
        customers absent from it (or with a null value) form the segment ``"(missing)"``.

    Returns
    -------
    pandas.DataFrame
        One row per step (``step_no`` x ``step``), or per segment value x step with the segment
        value in a first column named after ``segment``. Columns: step_no, step,
        customers_strict, customers_attained, disagree (customers for whom the two definitions
        differ at that step), conversion_from_start_strict, conversion_from_previous_strict,
        conversion_from_start_attained, conversion_from_previous_attained. Step 1 converts
        100% by definition; conversions are NaN when the base is 0 customers.

    Warns
    -----
    UserWarning
        When a step's event never occurs in ``table`` (that step and later ones count 0).

    Examples
    --------
    >>> ev = pd.DataFrame({"customer_id": ["a", "a", "b"], "event": ["view", "buy", "view"],
    ...     "ts": pd.to_datetime(["2025-01-01 10:00", "2025-01-01 10:05", "2025-01-02 09:00"], utc=True)})
    >>> funnel(ev, ["view", "buy"])[["step", "customers_strict", "conversion_from_start_strict"]]
       step  customers_strict  conversion_from_start_strict
    0  view                 2                           1.0
    1   buy                 1                           0.5
    """
    f = _prepare(events, steps, window, exclude, table)
    counts = _segment_counts(f, segment, segments)
    if segment is None:
        out = _steps_table(counts, f.steps)
        _warn_missing_steps(f, out["customers_attained"].tolist())
        return out
    parts = [
        _steps_table(g, f.steps).assign(**{segment: value})
        for value, g in counts.groupby("seg", sort=True)
    ]
    if not parts:
        out = _steps_table(counts.iloc[:0], f.steps).iloc[:0].assign(**{segment: []})
    else:
        out = pd.concat(parts, ignore_index=True)
    out = out[[segment, *FUNNEL_COLUMNS]]
    totals = out.groupby("step_no", sort=True)["customers_attained"].sum()
    _warn_missing_steps(f, [int(totals.get(k, 0)) for k in range(1, len(f.steps) + 1)])
    return out


def funnel_by_segment(
    events: Engine | pd.DataFrame,
    steps: Sequence[str],
    *,
    segment: str,
    window: Window = None,
    exclude: Sequence[str] | str = (),
    table: str = "events",
    segments: pd.DataFrame | None = None,
    definition: str = "strict",
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Overall conversion (step 1 -> last step) per segment, with significance tests.

    Segments are resolved as in :func:`funnel`. Tests, all on customers who entered the funnel:

    * **chi-square test of independence** of segment x converted (Pearson, no continuity
      correction, so with two segments ``chi2 == z**2``); NaN when there are fewer than two
      segments or nobody (or everybody) converted;
    * **two-proportion z-test** of each segment against all other segments together (pooled
      variance, two-sided); NaN when the segment holds every customer;
    * **Wilson score interval** for each segment's conversion at ``confidence``.

    Parameters
    ----------
    segment, segments, window, exclude, table
        As in :func:`funnel`.
    definition
        ``"strict"`` or ``"attained"``: which definition of reaching the last step counts.
    confidence
        Confidence level of the Wilson interval.

    Returns
    -------
    pandas.DataFrame
        One row per segment value (first column, named after ``segment``): customers (entered
        step 1), converted, conversion, ci_low, ci_high, z_vs_rest, p_value_vs_rest, and the
        table-wide chi2, chi2_dof, chi2_p_value (the same on every row).
    """
    from scipy import stats

    check_choice("definition", definition, ("strict", "attained"))
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence!r}")
    table_ = funnel(
        events, steps, window=window, exclude=exclude, table=table, segment=segment,
        segments=segments,
    )  # fmt: skip
    n_steps = int(table_["step_no"].max()) if len(table_) else 0
    first = table_[table_["step_no"] == 1].set_index(segment)
    last = table_[table_["step_no"] == n_steps].set_index(segment)
    out = pd.DataFrame(
        {
            "customers": first[f"customers_{definition}"].astype("int64"),
            "converted": last[f"customers_{definition}"].astype("int64"),
        }
    )
    out.index.name = segment
    n = out["customers"].to_numpy(dtype=float)
    x = out["converted"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = x / n
        z_crit = stats.norm.ppf(0.5 + confidence / 2)
        denom = 1 + z_crit**2 / n
        centre = (p + z_crit**2 / (2 * n)) / denom
        half = z_crit * np.sqrt(p * (1 - p) / n + z_crit**2 / (4 * n**2)) / denom
        n_rest, x_rest = n.sum() - n, x.sum() - x
        pooled = x.sum() / n.sum() if n.sum() else np.nan
        se = np.sqrt(pooled * (1 - pooled) * (1 / n + 1 / n_rest))
        z = np.where((n_rest > 0) & (se > 0), (p - x_rest / n_rest) / se, np.nan)
    out["conversion"] = p
    out["ci_low"] = centre - half
    out["ci_high"] = centre + half
    out["z_vs_rest"] = z
    out["p_value_vs_rest"] = 2 * stats.norm.sf(np.abs(z))
    chi2 = dof = pval = np.nan
    obs = np.column_stack([x, n - x])
    if len(out) >= 2 and (obs.sum(axis=0) > 0).all():
        res = stats.chi2_contingency(obs, correction=False)
        chi2, pval, dof = float(res.statistic), float(res.pvalue), int(res.dof)
    out["chi2"] = chi2
    out["chi2_dof"] = dof
    out["chi2_p_value"] = pval
    return out.reset_index()


# ---------------------------------------------------------------------------------------------
# Time to convert
# ---------------------------------------------------------------------------------------------
def _conversion_times(f: _Funnel) -> pd.DataFrame:
    """One row per customer x step_no >= 2 reached strictly: step_no, duration (from t1)."""
    n = len(f.steps)
    if n < 2:
        return pd.DataFrame({"step_no": pd.Series(dtype="int64"), "duration": []})
    cols = ", ".join(f"t_{k}" for k in range(2, n + 1))
    per = _query(f, _journey_sql(f, keyed=True) + f" SELECT t1, {cols} FROM progress", _params(f))
    t1 = pd.to_datetime(per["t1"], utc=True)
    parts = []
    for k in range(2, n + 1):
        t = pd.to_datetime(per[f"t_{k}"], utc=True)
        done = t.notna()
        dur = (t[done] - t1[done]).to_numpy().astype("timedelta64[us]")
        parts.append(
            pd.DataFrame({"step_no": np.full(len(dur), k, dtype="int64"), "duration": dur})
        )
    return pd.concat(parts, ignore_index=True)


def time_to_convert(
    events: Engine | pd.DataFrame,
    steps: Sequence[str],
    *,
    window: Window = None,
    exclude: Sequence[str] | str = (),
    table: str = "events",
) -> pd.DataFrame:
    """Time from the first step-1 event to each later step, strict definition.

    Quantiles interpolate linearly between order statistics (numpy's default).

    Returns
    -------
    pandas.DataFrame
        One row per step_no >= 2 (step 1 takes no time): step_no, step, customers (who reached
        the step strictly), and the durations mean, median, p25, p75, p90, p95 as Timedelta
        (NaT when nobody reached the step). Empty for a one-step funnel.
    """
    f = _prepare(events, steps, window, exclude, table)
    times = _conversion_times(f)
    rows = []
    for k in range(2, len(f.steps) + 1):
        us = times.loc[times["step_no"] == k, "duration"].to_numpy().astype("timedelta64[us]")
        us = us.astype("int64").astype(float)
        row: dict[str, Any] = {"step_no": k, "step": f.steps[k - 1], "customers": len(us)}
        stats = {"mean": float(us.mean()) if len(us) else np.nan}
        for name, q in (("median", 50), ("p25", 25), ("p75", 75), ("p90", 90), ("p95", 95)):
            stats[name] = float(np.percentile(us, q)) if len(us) else np.nan
        rows.append(row | stats)
    cols = ["step_no", "step", "customers", "mean", "median", "p25", "p75", "p90", "p95"]
    out = pd.DataFrame(rows, columns=cols)
    for c in cols[3:]:  # microseconds (float, NaN when nobody) -> Timedelta / NaT
        out[c] = _us_to_timedelta(out[c])
    return out.astype({"step_no": "int64", "customers": "int64"})


def _us_to_timedelta(us: pd.Series) -> pd.Series:
    return pd.to_timedelta(us.astype("float64").round(), unit="us").astype("timedelta64[us]")


def _bucket_labels(bins: Sequence[pd.Timedelta]) -> list[str]:
    def short(td: pd.Timedelta) -> str:
        s = td.total_seconds()
        for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
            if s >= size and s % size == 0:
                return f"{int(s // size)} {unit}"
        return f"{s:g} s"

    labels = [f"{short(a)}–{short(b)}" for a, b in zip(bins[:-1], bins[1:], strict=True)]
    return [*labels, f"≥ {short(bins[-1])}"]


def _parse_bins(bins: Sequence[Window]) -> tuple[pd.Timedelta, ...]:
    out = tuple(duration(b, "bins") for b in bins)
    if (
        not out
        or out[0] != pd.Timedelta(0)
        or any(b >= a for a, b in zip(out[1:], out, strict=False))
    ):
        raise ValueError("bins must start at 0 and increase strictly, e.g. ['0s', '1h', '1D']")
    return out  # type: ignore[return-value]


def _histogram(
    durations: pd.DataFrame, steps: Sequence[str], step_nos: Sequence[int], bins: Sequence[Window]
) -> pd.DataFrame:
    """One row per step_no x bucket: customers and share of that step's customers."""
    edges = _parse_bins(bins)
    labels = _bucket_labels(edges)
    edge_us = np.array([e.value // 1000 for e in edges], dtype="int64")
    rows = []
    for k in step_nos:
        us = durations.loc[durations["step_no"] == k, "duration"].to_numpy()
        us = us.astype("timedelta64[us]").astype("int64")
        idx = np.searchsorted(edge_us, us, side="right") - 1  # left-closed [lower, upper)
        counts = np.bincount(idx, minlength=len(edges)) if len(us) else np.zeros(len(edges), int)
        total = counts.sum()
        for b, label in enumerate(labels):
            rows.append(
                {
                    "step_no": k,
                    "step": steps[k - 1],
                    "bucket": label,
                    "lower": edges[b],
                    "upper": edges[b + 1] if b + 1 < len(edges) else pd.NaT,
                    "customers": int(counts[b]),
                    "share": counts[b] / total if total else np.nan,
                }
            )
    cols = ["step_no", "step", "bucket", "lower", "upper", "customers", "share"]
    out = pd.DataFrame(rows, columns=cols)
    for c in ("lower", "upper"):
        out[c] = pd.to_timedelta(out[c]).astype("timedelta64[us]")
    return out.astype({"step_no": "int64", "customers": "int64", "share": "float64"})


def time_to_convert_histogram(
    events: Engine | pd.DataFrame,
    steps: Sequence[str],
    *,
    window: Window = None,
    exclude: Sequence[str] | str = (),
    table: str = "events",
    bins: Sequence[Window] = DEFAULT_TIME_BINS,
) -> pd.DataFrame:
    """Histogram of the time from the first step-1 event to each later step (strict).

    Parameters
    ----------
    bins
        Bucket edges starting at 0; buckets are left-closed ``[lower, upper)`` and the last one
        is open-ended (``upper`` is NaT).

    Returns
    -------
    pandas.DataFrame
        One row per step_no >= 2 x bucket (every bucket, zeros included): step_no, step,
        bucket (label), lower, upper, customers, share (of the step's converted customers).
    """
    f = _prepare(events, steps, window, exclude, table)
    return _histogram(_conversion_times(f), f.steps, range(2, len(f.steps) + 1), bins)


# ---------------------------------------------------------------------------------------------
# Plots (draw only what the tables hold)
# ---------------------------------------------------------------------------------------------
#: Chart text in each report language.
_TEXT: dict[str, dict[str, str]] = {
    "en": {
        "seg_title": "Funnel conversion from step 1 by {seg} (strict sequence)",
        "seg_y": "share of step-1 customers",
        "strict": "strict sequence",
        "attained": "step attained",
        "title": "Funnel: customers per step",
        "customers": "customers",
        "step": "step",
        "ttc_title": "Time from step 1 to each step (strict sequence)",
        "ttc_x": "time since the first step-1 event",
        "ttc_y": "share of customers reaching the step",
        "by_title": "Funnel conversion by {seg}{note}",
        "by_y": "conversion (step 1 to last step)",
        "note": " (chi-square p = {p})",
    },
    "id": {
        "seg_title": "Konversi funnel dari langkah 1 menurut {seg} (berurutan)",
        "seg_y": "porsi pelanggan langkah 1",
        "strict": "berurutan",
        "attained": "langkah tercapai",
        "title": "Funnel: pelanggan per langkah",
        "customers": "pelanggan",
        "step": "langkah",
        "ttc_title": "Waktu dari langkah 1 ke setiap langkah (berurutan)",
        "ttc_x": "waktu sejak event langkah 1 yang pertama",
        "ttc_y": "porsi pelanggan yang mencapai langkah",
        "by_title": "Konversi funnel menurut {seg}{note}",
        "by_y": "konversi (langkah 1 hingga langkah terakhir)",
        "note": " (chi-square p = {p})",
    },
}
#: Segment names and time units in Indonesian chart text (other names are shown as they are).
_WORDS_ID = {"device": "perangkat", "channel": "kanal", "cohort": "kohort", "segment": "segmen"}
_UNITS_ID = {"d": "hari", "h": "jam", "min": "menit", "s": "detik"}


def _t(language: str, key: str, /, **values: object) -> str:
    return _TEXT.get(language, _TEXT["en"])[key].format(**values)


def _seg_name(seg: object, language: str) -> str:
    return _WORDS_ID.get(str(seg), str(seg)) if language == "id" else str(seg)


def bucket_label(label: str, language: str = "en") -> str:
    """A time bucket label of :func:`time_to_convert_histogram` in ``language``.

    >>> bucket_label("1 h–1 d", "id"), bucket_label("≥ 7 d", "id")
    ('1 jam–1 hari', '≥ 7 hari')
    """
    if language != "id":
        return label
    return re.sub(
        r"(\d(?:\.\d+)?) (d|h|min|s)\b", lambda m: f"{m[1]} {_UNITS_ID[m[2]]}", str(label)
    )


def _step_labels(table: pd.DataFrame) -> list[str]:
    return [f"{k}. {s}" for k, s in zip(table["step_no"], table["step"], strict=True)]


def plot_funnel(table: pd.DataFrame, *, language: str = "en") -> go.Figure:
    """Bars of :func:`funnel`: customers per step, strict vs attained.

    A segmented table (an extra first column) draws one bar series per segment value of the
    strict conversion from the start instead. Text is in ``language`` (``en`` or ``id``).
    """
    import plotly.graph_objects as go

    fig = go.Figure()
    extra = [c for c in table.columns if c not in FUNNEL_COLUMNS]
    if extra:
        seg = extra[0]
        for value, g in table.groupby(seg, sort=True):
            fig.add_bar(
                x=_step_labels(g),
                y=g["conversion_from_start_strict"],
                name=str(value),
                text=[f"{v:.1%}" for v in g["conversion_from_start_strict"]],
                textposition="auto",
            )
        fig.update_layout(
            title=_t(language, "seg_title", seg=_seg_name(seg, language)),
            yaxis={"title": _t(language, "seg_y"), "tickformat": ".0%"},
        )
    else:
        for d in ("strict", "attained"):
            fig.add_bar(
                x=_step_labels(table),
                y=table[f"customers_{d}"],
                name=_t(language, d),
                text=[f"{v:.1%}" for v in table[f"conversion_from_start_{d}"]],
                textposition="auto",
            )
        fig.update_layout(title=_t(language, "title"), yaxis={"title": _t(language, "customers")})
    fig.update_layout(
        barmode="group",
        xaxis={"title": _t(language, "step")},
        legend={"orientation": "h", "y": -0.2},
        margin={"l": 60, "r": 20, "t": 50, "b": 40},
        height=400,
    )
    return fig


def plot_time_to_convert(hist: pd.DataFrame, *, language: str = "en") -> go.Figure:
    """Grouped bars of :func:`time_to_convert_histogram`: share of customers per bucket
    (text, bucket units included, in ``language``: ``en`` or ``id``)."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for (k, step), g in hist.groupby(["step_no", "step"], sort=True):
        buckets = [bucket_label(b, language) for b in g["bucket"]]
        fig.add_bar(x=buckets, y=g["share"], name=f"{k}. {step}")
    fig.update_layout(
        title=_t(language, "ttc_title"),
        barmode="group",
        xaxis={"title": _t(language, "ttc_x"), "type": "category"},
        yaxis={"title": _t(language, "ttc_y"), "tickformat": ".0%"},
        legend={"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 1.0, "xanchor": "right"},
        margin={"l": 60, "r": 20, "t": 70, "b": 90},
        height=420,
    )
    return fig


def plot_funnel_by_segment(table: pd.DataFrame, *, language: str = "en") -> go.Figure:
    """Bars of :func:`funnel_by_segment`: conversion per segment with its Wilson interval
    (text in ``language``: ``en`` or ``id``)."""
    import plotly.graph_objects as go

    seg = table.columns[0]
    fig = go.Figure(
        go.Bar(
            x=table[seg].astype(str),
            y=table["conversion"],
            error_y={
                "type": "data",
                "symmetric": False,
                "array": table["ci_high"] - table["conversion"],
                "arrayminus": table["conversion"] - table["ci_low"],
            },
            text=[f"{v:.1%}" for v in table["conversion"]],
            textposition="auto",
        )
    )
    p = table["chi2_p_value"].iloc[0] if len(table) else np.nan
    if pd.notna(p):
        p_text = f"{p:.3g}" if language == "en" else f"{p:.3g}".replace(".", ",")
        note = _t(language, "note", p=p_text)
    else:
        note = ""
    fig.update_layout(
        title=_t(language, "by_title", seg=_seg_name(seg, language), note=note),
        xaxis={"title": _seg_name(seg, language)},
        yaxis={"title": _t(language, "by_y"), "tickformat": ".0%"},
        margin={"l": 60, "r": 20, "t": 50, "b": 40},
        height=380,
    )
    return fig
