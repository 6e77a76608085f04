"""Channel and device hand-offs between journey stages: the "gaps between touchpoints".

A journey map asks where customers change channel or device from one stage to the next
(discover on social, compare on organic search, buy on WhatsApp or in store) and whether those
hand-offs cost conversions or satisfaction. Everything here starts from the **touchpoint** of
each stage a customer reached: the first stage signal of that stage (the same signals and the
same entry time as ``entered_<stage>`` of :func:`journeylib.stages.customer_stages`), with the
channel and device that carried it:

* an **event** signal carries its own channel, device and session;
* an **order** (or repeat-purchase) signal carries the order's ``channel`` when the orders
  export has one (``offline_store``, ``whatsapp``, ...); otherwise it takes the channel, device
  and session of the customer's latest event in the ``order_match_minutes`` up to the order
  (the web session that placed it). An order with neither (a store order in an export without
  channels) is ``(unknown)``;
* a **feedback** signal carries the feedback's ``channel`` or ``(unknown)``; it has no device.

When signals of one stage tie on time, events come before orders and orders before feedback
(the event carries channel and device).

A **move** (hand-off) from stage *a* to stage *b* is made by a customer who reached both and
entered *b* at or after entering *a*. ``pairs="adjacent"`` pairs stages next to each other in
the stage model (awareness -> consideration, ...); ``pairs="reached"`` pairs each stage a
customer reached with the next stage (in stage order) the customer reached, so a customer who
skipped consideration makes an awareness -> decision move. Customers who entered *b* before *a*
are counted as ``out_of_order`` and left out of the matrices. A move **switched** when both
values are known and differ; a move with an ``(unknown)`` side is neither switched nor stayed.

Event-level work is one SQL query through the engine (two scans of the events: one for the
stage signals, one to match orders without a channel to their web session); everything after
the touchpoints is vectorised pandas on customer-level frames.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

from journeylib import i18n
from journeylib.engine import Engine, as_engine
from journeylib.intervals import wilson
from journeylib.sql import (
    as_date,
    check_choice,
    empty_frame,
    end_of_day,
    first_by,
    identifier,
    last_by,
    non_negative_days,
    require_columns,
    table_columns,
)
from journeylib.stages import StageModel

if TYPE_CHECKING:  # pragma: no cover
    import plotly.graph_objects as go

__all__ = [
    "UNKNOWN",
    "channel_journeys",
    "handoff_moves",
    "handoff_summary",
    "plot_handoff_outcomes",
    "plot_switch_matrix",
    "stage_touchpoints",
    "switch_matrix",
    "switch_outcomes",
]

#: The value of a channel or device that the data does not say.
UNKNOWN = "(unknown)"

DIMENSIONS = ("channel", "device")
PAIRS = ("adjacent", "reached")

_TOUCHPOINT_DTYPES: dict[str, Any] = {
    "customer_id": "string",
    "stage_no": "int64",
    "stage": "string",
    "entered": "datetime64[us, UTC]",
    "source": "string",
    "channel": "string",
    "device": "string",
    "session_id": "string",
}


# ---- touchpoints (SQL) -----------------------------------------------------------------------
def _col(columns: pd.Index, name: str) -> str:
    """``name`` as a string when the table has the column, else a NULL string."""
    return f"CAST({name} AS VARCHAR)" if name in columns else "CAST(NULL AS VARCHAR)"


def _struct(fields: dict[str, str]) -> str:
    """A named struct of expressions, read back with ``s.field``. DuckDB: ``struct_pack(a := x)``;
    Spark: ``named_struct('a', x)``. Picking several columns of one row with one ``min_by`` of a
    struct is both consistent (one row) and 3x faster than one ``min_by`` per column."""
    return "struct_pack(" + ", ".join(f"{k} := {v}" for k, v in fields.items()) + ")"


_PICKED = ("source", "channel", "device", "session_id")


def _touchpoints_sql(
    model: StageModel, cutoff: str, table: str, *, ev_cols: pd.Index, order_cols: pd.Index | None,
    feedback_cols: pd.Index | None, match_minutes: float,
) -> str:  # fmt: skip
    # ties on time: events before orders before feedback, then the event's path position
    # (event_seq, unique per customer); frames without it fall back to the values themselves
    has_seq = "event_seq" in ev_cols
    tiebreak = ("seq",) if has_seq else ("channel", "device", "session_id")
    seq = "event_seq" if has_seq else "0"
    events = f"""SELECT customer_id, ts, {model.event_stage_sql()} AS stage_no,
                        {_col(ev_cols, "channel")} AS channel, {_col(ev_cols, "device")} AS device,
                        {_col(ev_cols, "session_id")} AS session_id, {seq} AS seq
                 FROM {table} WHERE ts < {cutoff}"""
    parts = [
        f"""SELECT customer_id, ts, stage_no, 0 AS src_rank, seq, 'event' AS source,
                   channel, device, session_id
            FROM ({events}) WHERE stage_no IS NOT NULL"""
    ]
    ctes = []
    if order_cols is not None or feedback_cols is not None:
        joins, channel = [], []
        for name, cols, cond in (
            ("orders", order_cols, "o.source <> 'feedback'"),
            ("feedback", feedback_cols, "o.source = 'feedback'"),
        ):
            if cols is None:
                continue
            ctes.append(
                f"""{name}_ch AS (SELECT customer_id, ts, MAX({_col(cols, "channel")}) AS channel
                    FROM {name} WHERE ts < {cutoff} GROUP BY customer_id, ts)"""
            )
            joins.append(
                f"LEFT JOIN {name}_ch ON {cond} AND {name}_ch.customer_id = o.customer_id "
                f"AND {name}_ch.ts = o.ts"
            )
            channel.append(f"{name}_ch.channel")
        own = f"COALESCE({', '.join(channel)})" if len(channel) > 1 else channel[0]
        # an order without a channel takes the web session that placed it: the customer's
        # latest event in the match window up to the order time
        mkey = ("e.ts", "e.seq") if has_seq else ("e.ts", "e.channel", "e.device", "e.session_id")
        picked = _struct({c: f"e.{c}" for c in ("channel", "device", "session_id")})
        ctes.append(
            f"""other AS (
                SELECT o.customer_id, o.ts, o.stage_no, o.source, {own} AS channel
                FROM (SELECT customer_id, ts, stage_no, source
                      FROM ({model.signals_sql(cutoff, table=table)}) WHERE source <> 'event') o
                {" ".join(joins)}),
            unmatched AS (SELECT DISTINCT customer_id, ts FROM other
                          WHERE source <> 'feedback' AND channel IS NULL),
            matched AS (
                SELECT u.customer_id, u.ts, {last_by(picked, mkey)} AS m
                FROM unmatched u JOIN ({events}) e
                  ON e.customer_id = u.customer_id AND e.ts <= u.ts
                 AND e.ts >= u.ts - INTERVAL '{int(round(match_minutes * 60))} seconds'
                GROUP BY u.customer_id, u.ts)"""
        )
        from_match = "o.channel IS NULL AND o.source <> 'feedback'"
        parts.append(
            f"""SELECT o.customer_id, o.ts, o.stage_no,
                       CASE o.source WHEN 'feedback' THEN 2 ELSE 1 END AS src_rank, 0 AS seq,
                       o.source,
                       CASE WHEN {from_match} THEN m.m.channel ELSE o.channel END AS channel,
                       CASE WHEN {from_match} THEN m.m.device END AS device,
                       CASE WHEN {from_match} THEN m.m.session_id END AS session_id
                FROM other o LEFT JOIN matched m
                  ON o.source <> 'feedback' AND m.customer_id = o.customer_id AND m.ts = o.ts"""
        )
    with_ = ("WITH " + ",\n".join(ctes) + ",\n") if ctes else "WITH "
    union = " UNION ALL ".join(f"({p})" for p in parts)
    pick = first_by(_struct({c: c for c in _PICKED}), ("ts", "src_rank", *tiebreak))
    return f"""
    {with_}sig AS ({union})
    SELECT customer_id, stage_no, entered, {", ".join(f"p.{c} AS {c}" for c in _PICKED)}
    FROM (SELECT customer_id, stage_no, MIN(ts) AS entered, {pick} AS p
          FROM sig GROUP BY customer_id, stage_no)
    """


def _needs(model: StageModel) -> tuple[bool, bool]:
    kinds = {s.kind for r in model.rules for s in r.signals}
    return bool(kinds & {"order", "repeat_purchase"}), "feedback" in kinds


def stage_touchpoints(
    engine: Engine | pd.DataFrame,
    model: StageModel | None = None,
    *,
    as_of: dt.date | str | None = None,
    table: str = "events",
    order_match_minutes: float = 30.0,
) -> pd.DataFrame:
    """The touchpoint through which each customer first entered each stage.

    Parameters
    ----------
    engine
        Engine over the canonical tables (``events``; ``orders`` and ``feedback`` when the stage
        model has order or feedback signals), or an events frame.
    model
        The stages (default :data:`journeylib.stages.DEFAULT_STAGES`).
    as_of
        Only rows strictly before the end of this day (UTC) are used; ``None``: all rows.
    table
        The events table.
    order_match_minutes
        An order signal without a channel takes the channel, device and session of the
        customer's latest event at most this many minutes before the order (the session that
        placed it); none in the window leaves it ``(unknown)``.

    Returns
    -------
    pandas.DataFrame
        One row per customer_id x stage reached: ``stage_no`` (1-based), ``stage``,
        ``entered`` (first signal of the stage, equal to ``entered_<stage>`` of
        :func:`~journeylib.stages.customer_stages`), ``source`` (event, order,
        repeat_purchase, feedback), ``channel`` and ``device`` (``(unknown)`` when the signal
        does not say) and ``session_id`` (the entry's session; missing for orders and feedback
        without one). Sorted by customer_id, stage_no.
    """
    model = model or StageModel()
    engine = as_engine(engine)
    identifier(table, "table")
    minutes = non_negative_days(order_match_minutes, "order_match_minutes")
    ev_cols = require_columns(engine, table, ("customer_id", "ts", "event"), timestamp="ts").columns
    need_orders, need_feedback = _needs(model)
    order_cols = table_columns(engine, "orders").columns if need_orders else None
    feedback_cols = table_columns(engine, "feedback").columns if need_feedback else None
    sql = _touchpoints_sql(
        model,
        end_of_day(as_of),
        table,
        ev_cols=ev_cols,
        order_cols=order_cols,
        feedback_cols=feedback_cols,
        match_minutes=minutes,
    )
    df = engine.query(sql + " ORDER BY customer_id, stage_no")
    names = dict(enumerate(model.names, start=1))
    df.insert(2, "stage", df["stage_no"].map(names))
    for col in ("channel", "device"):
        df[col] = df[col].astype("string").fillna(UNKNOWN)
    df = df[list(_TOUCHPOINT_DTYPES)]
    if df.empty:
        return empty_frame(_TOUCHPOINT_DTYPES)
    return df.astype(_TOUCHPOINT_DTYPES).reset_index(drop=True)


# ---- moves (pandas) --------------------------------------------------------------------------
_TP_COLUMNS = ("customer_id", "stage_no", "stage", "entered", "channel", "device")


def _check_touchpoints(tp: pd.DataFrame, dimension: str | None = None) -> None:
    if not isinstance(tp, pd.DataFrame):
        raise TypeError(f"touchpoints must be a DataFrame, got {type(tp).__name__}")
    missing = [c for c in _TP_COLUMNS if c not in tp.columns]
    if missing:
        raise ValueError(
            f"touchpoints lack column(s) {missing}: pass the frame stage_touchpoints returns"
        )
    if dimension is not None:
        check_choice("dimension", dimension, DIMENSIONS)


def _all_pairs(tp: pd.DataFrame, pairs: str, *, in_order_only: bool = False) -> pd.DataFrame:
    """Every (customer, from stage, to stage) pair, with ``in_order`` (to entered >= from)."""
    check_choice("pairs", pairs, PAIRS)
    codes, _ = pd.factorize(tp["customer_id"])
    no = tp["stage_no"].to_numpy(dtype=np.int64)
    order = np.lexsort((no, codes))  # customers contiguous, stages ascending
    codes, no = codes[order], no[order]
    keep = codes[1:] == codes[:-1]
    if pairs == "adjacent":
        keep &= no[1:] == no[:-1] + 1
    a = order[np.flatnonzero(keep)]
    b = order[np.flatnonzero(keep) + 1]
    entered = tp["entered"].to_numpy(dtype="datetime64[us]")
    in_order = entered[b] >= entered[a]
    if in_order_only:
        a, b, in_order = a[in_order], b[in_order], in_order[in_order]

    def side(rows: np.ndarray, col: str) -> pd.Series:
        if col not in tp.columns:
            return pd.Series(pd.NA, index=range(len(rows)), dtype="string")
        return tp[col].take(rows).reset_index(drop=True)

    out = pd.DataFrame(
        {
            "customer_id": side(a, "customer_id").astype("string"),
            "from_stage_no": side(a, "stage_no").astype("int64"),
            "from_stage": side(a, "stage").astype("string"),
            "to_stage_no": side(b, "stage_no").astype("int64"),
            "to_stage": side(b, "stage").astype("string"),
            "from_entered": side(a, "entered"),
            "to_entered": side(b, "entered"),
            **{f"{s}_{d}": side(r, d).astype("string") for d in DIMENSIONS
               for s, r in (("from", a), ("to", b))},
        }
    )  # fmt: skip
    s_from, s_to = side(a, "session_id"), side(b, "session_id")
    out["same_session"] = (s_from == s_to).fillna(False).to_numpy(bool)
    out["in_order"] = in_order
    return out


def handoff_moves(touchpoints: pd.DataFrame, *, pairs: str = "adjacent") -> pd.DataFrame:
    """The stage-to-stage moves (hand-offs) of every customer.

    Parameters
    ----------
    touchpoints
        :func:`stage_touchpoints`.
    pairs
        ``adjacent`` (stages next to each other in the model) or ``reached`` (each reached
        stage with the next reached stage, skipping stages the customer never reached).

    Returns
    -------
    pandas.DataFrame
        One row per customer_id x move (from_stage -> to_stage) with the to-stage entered at or
        after the from-stage: stage numbers and names, both entry times, ``from_channel``,
        ``to_channel``, ``from_device``, ``to_device`` and ``same_session`` (both entries in one
        session).
    """
    _check_touchpoints(touchpoints)
    return _all_pairs(touchpoints, pairs, in_order_only=True).drop(columns="in_order")


def _switched(frm: pd.Series, to: pd.Series) -> pd.Series:
    """True/False when both values are known, <NA> otherwise."""
    known = (frm != UNKNOWN) & (to != UNKNOWN)
    return (frm != to).astype("boolean").where(known, pd.NA)


_MATRIX_DTYPES = {
    "from_stage_no": "int64",
    "from_stage": "string",
    "to_stage_no": "int64",
    "to_stage": "string",
    "from_value": "string",
    "to_value": "string",
    "customers": "int64",
    "share": "float64",
    "switched": "boolean",
}


def switch_matrix(
    touchpoints: pd.DataFrame, *, dimension: str = "channel", pairs: str = "adjacent"
) -> pd.DataFrame:
    """The switch matrix of every stage pair, in long form.

    Parameters
    ----------
    touchpoints
        :func:`stage_touchpoints`.
    dimension
        ``channel`` or ``device``.
    pairs
        See :func:`handoff_moves`.

    Returns
    -------
    pandas.DataFrame
        One row per (from_stage, to_stage) pair x from_value x to_value observed:
        ``customers`` making that move, ``share`` of the from_value row (customers / all
        customers of the pair entering from_stage via from_value; rows sum to 1) and
        ``switched`` (values differ; <NA> when either is ``(unknown)``). Sorted by pair,
        from_value, customers descending.
    """
    _check_touchpoints(touchpoints, dimension)
    moves = handoff_moves(touchpoints, pairs=pairs)
    keys = ["from_stage_no", "from_stage", "to_stage_no", "to_stage"]
    m = moves.rename(columns={f"from_{dimension}": "from_value", f"to_{dimension}": "to_value"})
    out = m.groupby([*keys, "from_value", "to_value"], observed=True).size()
    out = out.rename("customers").reset_index()
    if out.empty:
        return empty_frame(_MATRIX_DTYPES)
    out["share"] = out["customers"] / out.groupby([*keys, "from_value"])["customers"].transform(
        "sum"
    )
    out["switched"] = _switched(out["from_value"], out["to_value"])
    out = out.sort_values(
        ["from_stage_no", "to_stage_no", "from_value", "customers", "to_value"],
        ascending=[True, True, True, False, True],
        kind="stable",
    )
    return out[list(_MATRIX_DTYPES)].astype(_MATRIX_DTYPES).reset_index(drop=True)


def handoff_summary(
    touchpoints: pd.DataFrame, *, dimension: str = "channel", pairs: str = "adjacent"
) -> pd.DataFrame:
    """How often customers change channel (device) between stages, one row per stage pair.

    Parameters
    ----------
    touchpoints
        :func:`stage_touchpoints`.
    dimension
        ``channel`` or ``device``.
    pairs
        See :func:`handoff_moves`.

    Returns
    -------
    pandas.DataFrame
        One row per (from_stage, to_stage) pair with at least one customer reaching both:
        ``customers`` (making the move in order), ``out_of_order`` (reached both but entered
        to_stage first; not in the matrix), ``same_session`` (moves within one session, where a
        channel rarely changes), ``comparable`` (both values known), ``switched`` and
        ``switch_share`` (switched / comparable), ``cross_session_switch_share`` (the same
        among comparable moves across sessions: how often a return visit comes through another
        channel), ``top_switch`` (the most common switch, e.g. ``social -> organic_search``),
        ``top_switch_customers`` and ``top_switch_share`` (of the switched customers).
    """
    _check_touchpoints(touchpoints, dimension)
    allp = _all_pairs(touchpoints, pairs)
    keys = ["from_stage_no", "from_stage", "to_stage_no", "to_stage"]
    frm, to = allp[f"from_{dimension}"], allp[f"to_{dimension}"]
    sw = _switched(frm, to)
    inn = allp["in_order"]
    allp = allp.assign(
        moved=inn,
        out_of_order=~inn,
        same=inn & allp["same_session"],
        comparable=inn & sw.notna().to_numpy(bool),
        sw=inn & sw.fillna(False).to_numpy(bool),
    )
    allp["cross"] = allp["comparable"] & ~allp["same_session"]
    allp["cross_sw"] = allp["sw"] & ~allp["same_session"]
    counts = ["moved", "out_of_order", "same", "comparable", "sw", "cross", "cross_sw"]
    agg = (
        allp.groupby(keys, observed=True)[counts]
        .sum()
        .reset_index()
        .rename(columns={"moved": "customers", "same": "same_session", "sw": "switched"})
    )
    swm = allp.loc[allp["sw"]]
    top = (
        swm.assign(top_switch=swm[f"from_{dimension}"] + " -> " + swm[f"to_{dimension}"])
        .groupby([*keys, "top_switch"], observed=True)
        .size()
        .rename("top_switch_customers")
        .reset_index()
        .sort_values(
            [*keys, "top_switch_customers", "top_switch"], ascending=[True] * 4 + [False, True]
        )  # fmt: skip
        .drop_duplicates(keys)
    )
    out = agg.merge(top, on=keys, how="left")
    out["switch_share"] = out["switched"] / out["comparable"].where(out["comparable"] > 0)
    out["cross_session_switch_share"] = out["cross_sw"] / out["cross"].where(out["cross"] > 0)
    out["top_switch_customers"] = out["top_switch_customers"].fillna(0).astype("int64")
    out["top_switch_share"] = out["top_switch_customers"] / out["switched"].where(
        out["switched"] > 0
    )
    out["top_switch"] = out["top_switch"].astype("string")
    cols = [
        *keys, "customers", "out_of_order", "same_session", "comparable", "switched",
        "switch_share", "cross_session_switch_share", "top_switch", "top_switch_customers",
        "top_switch_share",
    ]  # fmt: skip
    for c in ("customers", "out_of_order", "same_session", "comparable", "switched"):
        out[c] = out[c].astype("int64")
    return out.sort_values(["from_stage_no", "to_stage_no"])[cols].reset_index(drop=True)


# ---- outcomes --------------------------------------------------------------------------------
def _decision_stage_no(model: StageModel) -> int:
    """The stage where customers buy: the first with an order signal, else one named decision."""
    for no, rule in enumerate(model.rules, start=1):
        if any(s.kind == "order" for s in rule.signals):
            return no
    if "decision" in model.names:
        return model.names.index("decision") + 1
    raise ValueError(
        "switch_outcomes needs a decision stage: give one stage an order signal "
        "(signals: [{kind: order}]) or name it 'decision'"
    )


def _first_at_or_after(
    left_id: pd.Series,
    left_t: pd.Series,
    right_id: pd.Series,
    right_t: pd.Series,
    *,
    strict: bool,
) -> np.ndarray:
    """For each left row, the position in ``right`` of the same customer's first row at (with
    ``strict``: after) the left time; -1 when there is none."""  # fmt: skip
    if len(left_id) == 0 or len(right_id) == 0:
        return np.full(len(left_id), -1, dtype=np.int64)
    codes, _ = pd.factorize(pd.concat([left_id, right_id], ignore_index=True))
    lc, rc = codes[: len(left_id)].astype(np.int64), codes[len(left_id) :].astype(np.int64)
    times = np.concatenate(
        [left_t.to_numpy(dtype="datetime64[us]"), right_t.to_numpy(dtype="datetime64[us]")]
    )
    _, rank = np.unique(times, return_inverse=True)  # dense time ranks: one int64 sort key
    span = np.int64(rank.max() + 1)
    lkey = lc * span + rank[: len(left_id)]
    rkey = rc * span + rank[len(left_id) :]
    order = np.argsort(rkey, kind="stable")
    pos = np.searchsorted(rkey[order], lkey, side="right" if strict else "left")
    found = pos < len(order)
    pos = np.minimum(pos, len(order) - 1)
    found &= rc[order[pos]] == lc
    return np.where(found, order[pos], -1)


def _pair_tests(g: pd.DataFrame) -> dict[str, float]:
    """Switched minus stayed: conversion difference with Newcombe's hybrid score interval,
    two-proportion z-test p-value, mean NPS difference with Welch's t-test p-value."""
    nan = float("nan")
    res = dict.fromkeys(
        ["conversion_difference", "difference_low", "difference_high", "p_value",
         "nps_difference", "nps_p_value"], nan,
    )  # fmt: skip
    rows = {r["group"]: r for r in g.to_dict("records")}
    s, t = rows.get("switched"), rows.get("stayed")
    if s is None or t is None or not s["customers"] or not t["customers"]:
        return res
    p1, p2 = s["conversion"], t["conversion"]
    d = p1 - p2
    res["conversion_difference"] = d
    # Newcombe (1998) method 10: the Wilson limits of each proportion combined
    res["difference_low"] = d - np.sqrt(
        (p1 - s["conversion_low"]) ** 2 + (t["conversion_high"] - p2) ** 2
    )
    res["difference_high"] = d + np.sqrt(
        (s["conversion_high"] - p1) ** 2 + (p2 - t["conversion_low"]) ** 2
    )
    n1, n2 = s["customers"], t["customers"]
    pooled = (s["converted"] + t["converted"]) / (n1 + n2)
    se = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    res["p_value"] = float(2 * stats.norm.sf(abs(d) / se)) if se > 0 else nan
    s_scores, t_scores = s["_scores"], t["_scores"]
    if len(s_scores) and len(t_scores):
        res["nps_difference"] = float(np.mean(s_scores) - np.mean(t_scores))
    if len(s_scores) >= 2 and len(t_scores) >= 2:
        test = stats.ttest_ind(s_scores, t_scores, equal_var=False)
        res["nps_p_value"] = float(test.pvalue) if np.isfinite(test.pvalue) else nan
    return res


_OUTCOME_DTYPES: dict[str, Any] = {
    "from_stage": "string", "to_stage": "string", "group": "string", "outcome": "string",
    "customers": "int64", "converted": "int64", "conversion": "float64",
    "conversion_low": "float64", "conversion_high": "float64", "nps_answers": "int64",
    "mean_nps": "float64", "nps": "float64", "conversion_difference": "float64",
    "difference_low": "float64", "difference_high": "float64", "p_value": "float64",
    "nps_difference": "float64", "nps_p_value": "float64",
}  # fmt: skip


def switch_outcomes(
    engine: Engine,
    touchpoints: pd.DataFrame,
    *,
    model: StageModel | None = None,
    dimension: str = "channel",
    as_of: dt.date | str | None = None,
    pairs: str = "adjacent",
    horizon_days: float | None = None,
    cross_session_only: bool = False,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Conversion and satisfaction after a hand-off, switched vs stayed: the gaps between
    touchpoints.

    Outcome of a move a -> b, counted from the moment the customer entered b (``t_b``), with
    ``d`` the decision stage (the first stage with an order signal, else the one named
    ``decision``):

    * moves into a stage up to ``d`` (b <= d): **ordered**: the customer placed an order at or
      after ``t_b`` (an order that itself signalled b counts: a store purchase is a
      conversion);
    * moves beyond ``d`` (b > d, e.g. decision -> retention, retention -> advocacy):
      **ordered_again**: an order strictly after ``t_b`` (the repeat purchase that signalled
      retention does not count itself).

    Orders count up to the end of ``as_of``; with ``horizon_days`` only within that many days of
    ``t_b``, and moves with less follow-up than that before the cut-off are left out (so recent
    moves do not look like failures). Satisfaction is each customer's first NPS answer at or
    after ``t_b`` (same window): ``mean_nps`` (0-10) and ``nps`` (% promoters 9-10 minus %
    detractors 0-6). Moves with an ``(unknown)`` side are left out.

    The comparison is observational: a channel can only change with a new visit, so "stayed"
    includes moves made within one session (often the keenest customers).
    ``cross_session_only=True`` compares only moves across sessions, the fairer contrast.

    Parameters
    ----------
    engine
        Engine over ``orders`` and ``feedback`` (empty tables are fine).
    touchpoints
        :func:`stage_touchpoints` (with the same ``as_of``).
    model
        The stages (for the decision stage).
    dimension, pairs
        See :func:`switch_matrix`.
    as_of
        Orders and answers strictly before the end of this day; moves entered later are dropped.
    horizon_days
        Follow-up window after ``t_b``; ``None``: up to the cut-off.
    cross_session_only
        Leave out moves whose two entries fall in one session.
    confidence
        Of the intervals.

    Returns
    -------
    pandas.DataFrame
        One row per (from_stage, to_stage) pair x group (``stayed``, ``switched``):
        ``outcome`` (ordered / ordered_again), ``customers``, ``converted``, ``conversion``
        with its Wilson interval (``conversion_low``/``_high``), ``nps_answers``, ``mean_nps``,
        ``nps``; and per pair (the same on both rows) ``conversion_difference`` (switched -
        stayed) with Newcombe's hybrid score interval (``difference_low``/``_high``),
        ``p_value`` of the pooled two-proportion z-test, ``nps_difference`` (mean NPS switched -
        stayed) and ``nps_p_value`` (Welch's t-test).
    """
    model = model or StageModel()
    engine = as_engine(engine)
    _check_touchpoints(touchpoints, dimension)
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie strictly between 0 and 1, got {confidence!r}")
    horizon = None if horizon_days is None else non_negative_days(horizon_days, "horizon_days")
    decision = _decision_stage_no(model)
    cutoff = end_of_day(as_of)
    z = float(stats.norm.ppf(0.5 + confidence / 2))

    moves = handoff_moves(touchpoints, pairs=pairs)
    switched = _switched(moves[f"from_{dimension}"], moves[f"to_{dimension}"])
    keep = switched.notna().to_numpy(bool).copy()
    if cross_session_only:
        keep &= ~moves["same_session"].to_numpy(bool)
    t_b = moves["to_entered"].to_numpy(dtype="datetime64[us]")
    if as_of is not None:
        cut = np.datetime64(as_date(as_of) + dt.timedelta(days=1), "us")
        keep &= t_b < cut
        if horizon is not None:
            keep &= t_b + _days(horizon) <= cut
    moves = moves.loc[keep].reset_index(drop=True)
    moves["switched"] = switched[keep].to_numpy(bool)
    if moves.empty:
        return empty_frame(_OUTCOME_DTYPES)

    table_columns(engine, "orders")
    orders = engine.query(
        f"SELECT customer_id, MIN(ts) AS ts FROM orders WHERE ts < {cutoff} "
        "GROUP BY customer_id, order_id"
    )
    table_columns(engine, "feedback")
    nps_rows = engine.query(
        f"SELECT customer_id, ts, score FROM feedback WHERE ts < {cutoff} "
        "AND kind = 'nps' AND score IS NOT NULL"
    )

    t_b = moves["to_entered"].to_numpy(dtype="datetime64[us]")
    limit = t_b + _days(horizon) if horizon is not None else None
    beyond = (moves["to_stage_no"] > decision).to_numpy()
    order_at = np.full(len(moves), -1, dtype=np.int64)
    for mask, strict in ((~beyond, False), (beyond, True)):
        order_at[mask] = _first_at_or_after(
            moves["customer_id"][mask], moves["to_entered"][mask], orders["customer_id"],
            orders["ts"], strict=strict,
        )  # fmt: skip
    nps_at = _first_at_or_after(
        moves["customer_id"], moves["to_entered"], nps_rows["customer_id"], nps_rows["ts"],
        strict=False,
    )  # fmt: skip
    converted = _within(order_at, orders["ts"], limit)
    answered = _within(nps_at, nps_rows["ts"], limit)
    scores = nps_rows["score"].to_numpy(dtype=float)
    moves["score"] = np.where(answered, scores[np.maximum(nps_at, 0)] if len(scores) else 0, np.nan)
    moves["converted"] = converted
    moves["group"] = np.where(moves["switched"], "switched", "stayed")
    moves["outcome"] = np.where(beyond, "ordered_again", "ordered")

    keys = ["from_stage_no", "from_stage", "to_stage_no", "to_stage", "group", "outcome"]
    g = moves.groupby(keys, observed=True)
    out = g.agg(customers=("converted", "size"), converted=("converted", "sum")).reset_index()
    answers = g["score"].agg(lambda s: s.dropna().to_numpy()).reset_index(name="_scores")
    out = out.merge(answers, on=keys)
    out["conversion"] = out["converted"] / out["customers"]
    out["conversion_low"], out["conversion_high"] = wilson(
        out["converted"].to_numpy(), out["customers"].to_numpy(), z
    )
    out["nps_answers"] = out["_scores"].map(len).astype("int64")
    out["mean_nps"] = out["_scores"].map(lambda a: float(np.mean(a)) if len(a) else np.nan)
    out["nps"] = out["_scores"].map(
        lambda a: 100.0 * (np.mean(a >= 9) - np.mean(a <= 6)) if len(a) else np.nan
    )
    tests = [
        {"from_stage_no": k[0], "to_stage_no": k[1], **_pair_tests(part)}
        for k, part in out.groupby(["from_stage_no", "to_stage_no"])
    ]
    out = out.merge(pd.DataFrame(tests), on=["from_stage_no", "to_stage_no"])
    out = out.sort_values(["from_stage_no", "to_stage_no", "group"]).reset_index(drop=True)
    return out[list(_OUTCOME_DTYPES)].astype(_OUTCOME_DTYPES)


def _days(days: float) -> np.timedelta64:
    return np.timedelta64(int(round(days * 86_400e6)), "us")


def _within(at: np.ndarray, ts: pd.Series, limit: np.ndarray | None) -> np.ndarray:
    """Rows whose match ``at`` exists (>= 0) and, with ``limit``, falls before it."""
    found = at >= 0
    if limit is None or not found.any():
        return found
    t = ts.to_numpy(dtype="datetime64[us]")[np.maximum(at, 0)]
    return found & (t < limit)


# ---- discover -> compare -> buy --------------------------------------------------------------
OTHER_JOURNEYS = "(other)"


def channel_journeys(
    touchpoints: pd.DataFrame,
    *,
    stages: list[str] | None = None,
    top_n: int = 10,
    dimension: str = "channel",
) -> pd.DataFrame:
    """The most common sequences of entry channels (devices) across stages, e.g.
    ``social > organic_search > whatsapp`` for discover -> compare -> buy.

    Parameters
    ----------
    touchpoints
        :func:`stage_touchpoints`.
    stages
        Stage names in journey order (default: the first three stages by stage number, i.e.
        awareness, consideration, decision with the default stages).
    top_n
        Sequences listed; the rest are summed in one ``(other)`` row.
    dimension
        ``channel`` or ``device``.

    Returns
    -------
    pandas.DataFrame
        One row per sequence (the top ``top_n`` by customers, then ``(other)``): ``journey``,
        one column per stage with its entry value, ``switches`` (changes along the sequence;
        unknown values count as changes), ``customers`` and ``share`` of the customers who
        entered every listed stage in that order (entry times non-decreasing).
    """
    _check_touchpoints(touchpoints, dimension)
    if not isinstance(top_n, int) or top_n < 1:
        raise ValueError(f"top_n must be a positive integer, got {top_n!r}")
    order = (
        touchpoints[["stage_no", "stage"]].drop_duplicates().sort_values("stage_no")["stage"]
    ).tolist()
    if stages is None:
        stages = order[:3]
    stages = list(stages)
    unknown = [s for s in stages if s not in order]
    if len(stages) < 2 or unknown or len(set(stages)) != len(stages):
        raise ValueError(
            f"stages must name at least two distinct stages present in the touchpoints "
            f"({order}); got {stages}"
        )
    tp = touchpoints.loc[touchpoints["stage"].isin(stages)]
    ts = tp.pivot(index="customer_id", columns="stage", values="entered").reindex(columns=stages)
    val = tp.pivot(index="customer_id", columns="stage", values=dimension).reindex(columns=stages)
    complete = ts.notna().all(axis=1)
    for a, b in zip(stages[:-1], stages[1:], strict=True):
        complete &= ts[b] >= ts[a]
    val = val.loc[complete.to_numpy()]
    cols = [*stages, "journey", "switches", "customers", "share"]
    if val.empty:
        return empty_frame(
            {
                **dict.fromkeys(stages, "string"),
                "journey": "string",
                "switches": "Int64",
                "customers": "int64",
                "share": "float64",
            }  # fmt: skip
        )
    counts = val.groupby(stages, observed=True).size().rename("customers").reset_index()
    counts = counts.sort_values(["customers", *stages], ascending=[False] + [True] * len(stages))
    total = int(counts["customers"].sum())
    counts["journey"] = counts[stages].astype(str).agg(" > ".join, axis=1)
    sw = np.zeros(len(counts), dtype=np.int64)
    for a, b in zip(stages[:-1], stages[1:], strict=True):
        sw += (counts[a] != counts[b]).to_numpy(bool) | (counts[a] == UNKNOWN).to_numpy(bool)
    counts["switches"] = pd.array(sw, dtype="Int64")
    top, rest = counts.iloc[:top_n], counts.iloc[top_n:]
    if len(rest):
        other = {s: OTHER_JOURNEYS for s in stages}
        other.update(journey=OTHER_JOURNEYS, switches=pd.NA, customers=int(rest["customers"].sum()))
        top = pd.concat([top, pd.DataFrame([other])], ignore_index=True)
    top["share"] = top["customers"] / total
    out = top[cols].reset_index(drop=True)
    for s in [*stages, "journey"]:
        out[s] = out[s].astype("string")
    out["switches"] = out["switches"].astype("Int64")
    out["customers"] = out["customers"].astype("int64")
    return out


# ---- plots (draw only what the tables hold) --------------------------------------------------
# Chart text built from data, in the report language; fixed titles stay English here and are
# translated by the display's phrase catalogue (journeylib.i18n).
_PLOT_TEXT: dict[str, dict[str, str]] = {
    "en": {
        "matrix_title": "Hand-off {a} → {b} (share of each entry value)",
        "matrix_x": "entered {b} via",
        "matrix_y": "entered {a} via (customers)",
        "matrix_hover": "%{y} → %{x}: %{z:.1%} (%{customdata:,} customers)<extra></extra>",
        # formatted with the group's name: plotly's own placeholders are doubled braces
        "conversion_hover": "%{{x}} ({group}): %{{y:.1%}} (%{{customdata[1]:,}} of "
        "%{{customdata[0]:,}})<extra></extra>",
        "nps_hover": "%{{x}} ({group}): %{{y:.1f}} (%{{customdata:,}} answers)<extra></extra>",
        "stayed": "stayed",
        "switched": "switched",
    },
    "id": {
        "matrix_title": "Perpindahan kanal {a} → {b} (porsi tiap nilai masuk)",
        "matrix_x": "masuk {b} melalui",
        "matrix_y": "masuk {a} melalui (pelanggan)",
        "matrix_hover": "%{y} → %{x}: %{z:.1%} (%{customdata:,} pelanggan)<extra></extra>",
        "conversion_hover": "%{{x}} ({group}): %{{y:.1%}} (%{{customdata[1]:,}} dari "
        "%{{customdata[0]:,}})<extra></extra>",
        "nps_hover": "%{{x}} ({group}): %{{y:.1f}} (%{{customdata:,}} jawaban)<extra></extra>",
        "stayed": "tetap",
        "switched": "berganti",
    },
}


def _plot_text(language: str, key: str, **values: object) -> str:
    return i18n.template(_PLOT_TEXT, language, key, **values)


def plot_switch_matrix(
    matrix: pd.DataFrame,
    from_stage: str,
    to_stage: str,
    *,
    language: str = "en",
    labels: dict[str, str] | None = None,
) -> go.Figure:
    """Heatmap of one stage pair of :func:`switch_matrix`: rows the from-stage value, columns the
    to-stage value, colour the share of the row (the diagonal is "stayed").

    ``language`` (``en``/``id``) writes the title, axis titles and hover text; ``labels`` names
    the two stages (their machine names without it).
    """
    import plotly.graph_objects as go

    part = matrix.loc[(matrix["from_stage"] == from_stage) & (matrix["to_stage"] == to_stage)]
    if part.empty:
        raise ValueError(f"the matrix holds no moves {from_stage} -> {to_stage}")
    size = part.groupby("from_value")["customers"].sum().sort_values(ascending=False)
    rows = size.index.tolist()
    cols = rows + sorted(set(part["to_value"]) - set(rows))
    share = part.pivot(index="from_value", columns="to_value", values="share")
    count = part.pivot(index="from_value", columns="to_value", values="customers")
    share = share.reindex(index=rows, columns=cols)
    count = count.reindex(index=rows, columns=cols).fillna(0).astype(int)
    z = share.to_numpy(dtype=float, na_value=np.nan)
    text = [[f"{v:.0%}" if np.isfinite(v) else "" for v in row] for row in z]
    fig = go.Figure(
        go.Heatmap(
            z=np.nan_to_num(z),
            x=cols,
            y=[f"{r} ({size[r]:,})" for r in rows],
            customdata=count.to_numpy(),
            colorscale="Blues",
            zmin=0,
            zmax=1,
            text=text,
            texttemplate="%{text}",
            hovertemplate=_plot_text(language, "matrix_hover"),
            colorbar={"title": "share of row", "tickformat": ".0%"},
        )
    )
    a, b = ((labels or {}).get(s, s) for s in (from_stage, to_stage))
    fig.update_layout(
        title=_plot_text(language, "matrix_title", a=a, b=b),
        xaxis={"title": _plot_text(language, "matrix_x", b=b)},
        yaxis={"title": _plot_text(language, "matrix_y", a=a), "autorange": "reversed"},
        height=max(320, 120 + 28 * len(rows)),
        margin={"l": 160, "r": 20, "t": 60, "b": 60},
    )
    return fig


def plot_handoff_outcomes(
    table: pd.DataFrame, *, language: str = "en", labels: dict[str, str] | None = None
) -> go.Figure:
    """Conversion (with its interval) and mean NPS after each hand-off, stayed vs switched, from
    :func:`switch_outcomes`.

    ``language`` (``en``/``id``) writes the hover text (the fixed titles and the trace names
    ``stayed``/``switched`` are English phrases); ``labels`` names the stages.
    """
    from plotly.subplots import make_subplots

    if table.empty:
        raise ValueError("the outcome table is empty: no hand-offs with known values")
    has_nps = bool(table["nps_answers"].sum() > 0)
    fig = make_subplots(
        rows=1,
        cols=2 if has_nps else 1,
        subplot_titles=["conversion after the hand-off", "mean NPS (0-10)"][: 1 + has_nps],
    )
    colours = {"stayed": "#7F8C8D", "switched": "#D35400"}
    for group in ("stayed", "switched"):
        part = table.loc[table["group"] == group]
        if part.empty:
            continue
        name = (labels or {}).get
        pairs = zip(part["from_stage"], part["to_stage"], strict=True)
        x = [f"{name(a, a)} → {name(b, b)}" for a, b in pairs]
        word = _plot_text(language, group)
        fig.add_bar(
            x=x,
            y=part["conversion"],
            name=group,
            marker_color=colours[group],
            legendgroup=group,
            error_y={
                "type": "data",
                "symmetric": False,
                "array": part["conversion_high"] - part["conversion"],
                "arrayminus": part["conversion"] - part["conversion_low"],
            },
            customdata=np.c_[part["customers"], part["converted"]],
            hovertemplate=_plot_text(language, "conversion_hover", group=word),
            row=1,
            col=1,
        )
        if has_nps:
            fig.add_bar(
                x=x,
                y=part["mean_nps"],
                name=group,
                marker_color=colours[group],
                legendgroup=group,
                showlegend=False,
                customdata=part["nps_answers"],
                hovertemplate=_plot_text(language, "nps_hover", group=word),
                row=1,
                col=2,
            )
    fig.update_yaxes(tickformat=".0%", rangemode="tozero", row=1, col=1)
    if has_nps:
        fig.update_yaxes(range=[0, 10], row=1, col=2)
    fig.update_layout(
        title="Outcomes after a hand-off: stayed vs switched",
        barmode="group",
        height=420,
        margin={"l": 60, "r": 20, "t": 80, "b": 80},
    )
    return fig
