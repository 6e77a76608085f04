"""Drop-off diagnosis of a funnel: who leaves after each step, where they go, who comes back.

The funnel, its journey (first step-1 event to window end or exclusion) and the strict-sequence
definition of reaching a step are those of :mod:`journeylib.funnels`; this module reuses the
journey SQL built there and adds, per customer who dropped, the next event, the dwell time and
the recovery (see :func:`dropoff`). All event-level work runs as SQL in the engine; only
customer-level or per-step frames come back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from journeylib.engine import Engine, query_customer_rows
from journeylib.funnels import (
    DEFAULT_TIME_BINS,
    Window,
    _Funnel,
    _histogram,
    _journey_sql,
    _params,
    _prepare,
    _segment_counts,
    _us_to_timedelta,
)
from journeylib.sql import bound, empty_frame, non_negative_days
from journeylib.timelines import TIMELINE_TABLE

__all__ = ["NO_NEXT_EVENT", "OTHER_EVENTS", "DropOff", "dropoff", "dropped_customers"]

#: ``next_event`` of a dropped customer who has no event after the step they reached.
NO_NEXT_EVENT = "(no further event)"
#: Label of the next events outside the top N in :attr:`DropOff.next_events`.
OTHER_EVENTS = "(other)"


@dataclass(frozen=True)
class DropOff:
    """The drop-off diagnosis of one funnel (see :func:`dropoff`).

    Attributes
    ----------
    summary
        One row per step_no < last: step_no, step, next_step, reached, dropped, dropoff_rate,
        dwell_median, dwell_p75, dwell_p90, recovered, recoverable_share.
    next_events
        One row per step_no x next event (top N by customers, then ``"(other)"``): step_no,
        step, next_event, customers, share (of the step's dropped customers).
    dwell
        One row per step_no x dwell bucket, as in
        :func:`~journeylib.funnels.time_to_convert_histogram`.
    """

    summary: pd.DataFrame
    next_events: pd.DataFrame
    dwell: pd.DataFrame


def _dropped(f: _Funnel, recovery_days: float, step: int | None = None) -> pd.DataFrame:
    """One row per dropped customer (reached a step < last strictly, not the next one).

    ``step`` keeps only the customers who dropped at that step. Every row also carries
    ``converted``: the number of customers who reached the last step.
    """
    n = len(f.steps)
    if n < 2:
        return empty_frame(
            {
                "customer_id": "str",
                "step_no": "int64",
                "reached_at": "datetime64[us, UTC]",
                "last_event_at": "datetime64[us, UTC]",
                "next_event": "str",
                "recovered_at": "datetime64[us, UTC]",
            }
        )
    params = _params(f)
    params["recovery"] = dt.timedelta(days=non_negative_days(recovery_days, "recovery_days"))
    params["final"] = f.steps[-1]
    reached = " ".join(f"WHEN {k} THEN t_{k}" for k in range(1, n))
    only = ""
    if step is not None:
        params["step"] = int(step)
        only = "AND strict_reached = $step"
    sql = (
        _journey_sql(f)
        + f""",
        drops AS (
            SELECT customer_id, strict_reached AS step_no, t_end,
                   CASE strict_reached {reached} END AS t_reached
            FROM progress WHERE strict_reached < {n} {only}),
        drops2 AS (
            SELECT customer_id, step_no, t_end, t_reached,
                   CASE WHEN t_end IS NULL THEN t_reached ELSE t_end END AS t_drop
            FROM drops),
        after AS (
            SELECT d.customer_id,
                   MIN(CASE WHEN e.ts > d.t_reached THEN e.ts END) AS next_ts,
                   MAX(CASE WHEN e.ts >= d.t_reached AND (d.t_end IS NULL OR e.ts <= d.t_end)
                            THEN e.ts END) AS last_ts,
                   MIN(CASE WHEN e.event = $final AND e.ts > d.t_drop
                             AND e.ts <= d.t_drop + $recovery THEN e.ts END) AS recovered_at
            FROM drops2 d JOIN "{f.table}" e ON e.customer_id = d.customer_id
            WHERE e.ts >= d.t_reached
            GROUP BY d.customer_id),
        nxt AS (
            SELECT a.customer_id, MIN(e.event) AS next_event
            FROM after a JOIN "{f.table}" e ON e.customer_id = a.customer_id AND e.ts = a.next_ts
            GROUP BY a.customer_id)
        SELECT d.customer_id, d.step_no, d.t_reached AS reached_at, a.last_ts AS last_event_at,
               n.next_event, a.recovered_at, NULL::BIGINT AS converted
        FROM drops2 d LEFT JOIN after a ON a.customer_id = d.customer_id
             LEFT JOIN nxt n ON n.customer_id = d.customer_id
        UNION ALL
        SELECT NULL, {n}, NULL, NULL, NULL, NULL, COUNT(*) FROM progress WHERE strict_reached = {n}
        ORDER BY step_no, customer_id"""
    )
    # one row per dropped customer, and per pass one row (step_no n) counting the converted:
    # every aggregate is per customer, so above 30M events it runs in passes over customer
    # ranges (one query over 237M events spilled at 10M customers) and the counts add up
    out = query_customer_rows(
        f.engine, sql, params=bound(sql, params), table=f.table, also=[TIMELINE_TABLE]
    )
    last = out["step_no"] == n
    converted = int(out.loc[last, "converted"].sum())
    out = out[~last].sort_values("step_no", kind="stable", ignore_index=True)
    out["converted"] = converted
    out["next_event"] = (
        out["next_event"].astype(object).where(out["next_event"].notna(), NO_NEXT_EVENT)
    )
    return out


def dropped_customers(
    events: Engine | pd.DataFrame,
    steps: Sequence[str],
    *,
    step: int,
    window: Window = None,
    exclude: Sequence[str] | str = (),
    table: str = "events",
    recovery_days: float = 7.0,
) -> pd.DataFrame:
    """The customers who reached ``step`` (strict) but not the next one, for export.

    Parameters
    ----------
    step
        Step number (1-based) the customers reached; must be before the last step.
    recovery_days
        See :func:`dropoff`.

    Returns
    -------
    pandas.DataFrame
        One row per customer_id (sorted): customer_id, step_no, step, reached_at (time of the
        step), last_event_at (last event in the journey), dwell (= last_event_at - reached_at),
        next_event (first event after reached_at; ties: alphabetically first;
        ``"(no further event)"`` if none), recovered_at (NaT unless recovered), recovered.
    """
    f = _prepare(events, steps, window, exclude, table)
    if isinstance(step, bool) or not isinstance(step, int | np.integer):
        raise TypeError(f"step must be a step number (int), got {step!r}")
    if not 1 <= step < len(f.steps):
        raise ValueError(
            f"step must be between 1 and {len(f.steps) - 1} (customers cannot drop after the "
            f"last of {len(f.steps)} steps), got {step}"
        )
    d = _dropped(f, recovery_days, step).drop(columns="converted")
    d = d.sort_values("customer_id", ignore_index=True)
    d.insert(2, "step", f.steps[step - 1])
    d.insert(5, "dwell", d["last_event_at"] - d["reached_at"])
    d["recovered"] = d["recovered_at"].notna()
    return d


def dropoff(
    events: Engine | pd.DataFrame,
    steps: Sequence[str],
    *,
    window: Window = None,
    exclude: Sequence[str] | str = (),
    table: str = "events",
    top_n: int = 5,
    recovery_days: float = 7.0,
    bins: Sequence[Window] = DEFAULT_TIME_BINS,
) -> DropOff:
    """Who leaves after each step, where they go, how long they stay, and who comes back.

    A customer *drops at step k* when they reached step ``k`` but not ``k + 1`` (strict
    definition). For each of them:

    * **next event**: the first event of any kind (in ``table``) strictly after the time they
      reached step ``k``, whether inside the journey or not (ties at that timestamp: the
      alphabetically first event); ``"(no further event)"`` when there is none;
    * **dwell**: time from reaching step ``k`` to their last event of any kind in the journey
      (up to the journey end; unbounded journeys: their last event);
    * **recovered**: they did the *final* step's event after the drop point and at most
      ``recovery_days`` after it. The drop point is the journey end (window end or exclusion
      event); for an unbounded journey it is the time they reached step ``k``.
      ``recoverable_share`` = recovered / dropped.

    Parameters
    ----------
    top_n
        Next events listed per step; the rest are summed into ``"(other)"``.
    recovery_days
        Length of the recovery period, in days.
    bins
        Bucket edges of the dwell histogram, as in :func:`~journeylib.funnels.time_to_convert_histogram`.

    Returns
    -------
    DropOff
        ``summary`` (one row per step before the last), ``next_events`` (one row per step x next
        event) and ``dwell`` (one row per step x bucket).
    """
    f = _prepare(events, steps, window, exclude, table)
    if isinstance(top_n, bool) or not isinstance(top_n, int) or top_n < 1:
        raise ValueError(f"top_n must be a positive integer, got {top_n!r}")
    d = _dropped(f, recovery_days)
    if len(d):
        converted = int(d["converted"].iloc[0])
    else:  # nobody dropped: everyone who entered converted
        converted = int(_segment_counts(f, None, None)["n"].sum())
    dropped_at = d["step_no"].value_counts()
    d["dwell"] = d["last_event_at"] - d["reached_at"]
    rows, nxt_rows = [], []
    for k in range(1, len(f.steps)):
        dk = d[d["step_no"] == k]
        dwell = dk["dwell"].to_numpy().astype("timedelta64[us]").astype("int64").astype(float)

        def q(p: float, dwell: np.ndarray = dwell) -> float:
            return float(np.percentile(dwell, p)) if len(dwell) else np.nan

        # reached step k = dropped at k, k+1, ..., n-1 + converted
        reached = converted + int(dropped_at[dropped_at.index >= k].sum())
        recovered = int(dk["recovered_at"].notna().sum())
        rows.append(
            {
                "step_no": k,
                "step": f.steps[k - 1],
                "next_step": f.steps[k],
                "reached": reached,
                "dropped": len(dk),
                "dropoff_rate": len(dk) / reached if reached else np.nan,
                "dwell_median": q(50),
                "dwell_p75": q(75),
                "dwell_p90": q(90),
                "recovered": recovered,
                "recoverable_share": recovered / len(dk) if len(dk) else np.nan,
            }
        )
        vc = dk["next_event"].value_counts()
        vc = vc.rename_axis("next_event").reset_index(name="customers")
        vc = vc.sort_values(["customers", "next_event"], ascending=[False, True], ignore_index=True)
        top, rest = vc.iloc[:top_n], vc.iloc[top_n:]
        if len(rest):
            other = pd.DataFrame(
                {"next_event": [OTHER_EVENTS], "customers": [rest["customers"].sum()]}
            )
            top = pd.concat([top, other], ignore_index=True)
        for r in top.itertuples(index=False):
            nxt_rows.append(
                {
                    "step_no": k,
                    "step": f.steps[k - 1],
                    "next_event": r.next_event,
                    "customers": int(r.customers),
                    "share": r.customers / len(dk),
                }
            )
    summary = pd.DataFrame(
        rows,
        columns=[
            "step_no", "step", "next_step", "reached", "dropped", "dropoff_rate", "dwell_median",
            "dwell_p75", "dwell_p90", "recovered", "recoverable_share",
        ],
    )  # fmt: skip
    for c in ("dwell_median", "dwell_p75", "dwell_p90"):
        summary[c] = _us_to_timedelta(summary[c])
    next_events = pd.DataFrame(
        nxt_rows, columns=["step_no", "step", "next_event", "customers", "share"]
    ).astype({"step_no": "int64", "customers": "int64", "share": "float64"})
    dwell_hist = _histogram(
        d.rename(columns={"dwell": "duration"}), f.steps, range(1, len(f.steps)), bins
    )
    return DropOff(summary=summary, next_events=next_events, dwell=dwell_hist)
