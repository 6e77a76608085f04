"""The data-driven customer journey map (``60_journey_map``): stages across, five rows down.

A journey map is the artefact a consultant hands a client: for every stage, what customers do,
where they do it, how they feel, where they struggle and what to improve. This module builds it
from data, from four tables (each with its grain stated) and one assembly step:

* :func:`stage_actions`: one row per [persona x] stage x action. The top events of each stage
  (events are mapped to stages by :meth:`~journeylib.stages.StageModel.event_stage_sql`, so the
  furthest matching stage wins) and the stage's derived signals (``order``, ``repeat_purchase``,
  ``nps 9+``, ``review 4+``): customers doing it, share of the stage's customers, events.
* :func:`stage_channels`: one row per [persona x] stage x channel (or device). A *touch* is a
  session's visit to a stage (attributed to the channel/device of the session's first event in
  that stage) or, for channels, an order carrying a channel (marketplace, store) in the stage of
  the model's ``order`` signal.
* :func:`stage_emotion`: one row per [persona x] stage, from the feedback context (one row per
  answer with its stage, normalised satisfaction ``sat`` in [-1, 1] and optional text
  ``sentiment``): mean satisfaction with a 95% t interval, NPS with a normal interval, mean text
  sentiment and the ``emotion`` the map draws.
* :func:`opportunities`: one row per opportunity, an improvement in words (en/id) for each of the
  top pain points of a stage, linked to the client's playbook action where one fits.

:func:`journey_map` assembles a :class:`JourneyMap`: a tidy frame (:meth:`JourneyMap.to_frame`),
versioned JSON for other renderers (:meth:`JourneyMap.to_dict`, :data:`JSON_SCHEMA`), and a
self-contained HTML fragment (:meth:`JourneyMap.to_html`: inline CSS, an inline SVG emotion curve,
no scripts, no external resources; printable on A4 landscape) that JupyterLab shows directly.

**Per persona.** :func:`stage_actions` and :func:`stage_channels` take ``by="persona"`` (the
engine table ``persona_assignments``), :func:`stage_emotion` ``by="persona"`` (a ``persona``
column of the context). :func:`persona_maps` splits such tables into one map per persona;
``journey_map(..., persona=p)`` does it for one. Tables without a ``persona`` column (typically
the pain points) are shared by every persona's map.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from journeylib.config import PlaybookSpec, ReportSpec
from journeylib.display import fmt_money, fmt_number, fmt_pct
from journeylib.engine import query_customer_sums
from journeylib.intervals import nps_stats
from journeylib.sql import (
    check_choice,
    customer_key,
    end_of_day,
    epoch_seconds,
    first_by,
    literal,
    require_columns,
    table_columns,
)

if TYPE_CHECKING:  # pragma: no cover
    import plotly.graph_objects as go

    from journeylib.engine import Engine
    from journeylib.stages import StageModel

__all__ = [
    "JSON_SCHEMA",
    "JSON_VERSION",
    "PAIN_POINT_KINDS",
    "ROWS",
    "JourneyMap",
    "journey_map",
    "opportunities",
    "persona_maps",
    "plot_emotion",
    "stage_actions",
    "stage_channels",
    "stage_emotion",
]

ID = "customer_id"
NO_STAGE = "(none)"
#: The five rows of the map, top to bottom.
ROWS: tuple[str, ...] = ("actions", "touchpoints", "emotion", "pain_points", "opportunities")
#: Version of the JSON layout of :meth:`JourneyMap.to_dict` (bump on any incompatible change).
JSON_VERSION = 1
#: Kinds of pain point :func:`opportunities` knows how to answer.
PAIN_POINT_KINDS: tuple[str, ...] = (
    "incident",
    "drop_off",
    "friction",
    "loop",
    "abandonment",
    "slow_step",
    "negative_sentiment",
)
_PERSONA = ("persona", "persona_label")


# ---- words --------------------------------------------------------------------------------------
_WORDS: dict[str, dict[str, str]] = {
    "en": {
        "actions": "Customer actions",
        "touchpoints": "Touchpoints",
        "emotion": "Emotion",
        "pain_points": "Pain points",
        "opportunities": "Opportunities",
        "stage": "Stage",
        "customers": "customers",
        "conversions": "conversions",
        "at_stake": "at stake",
        "not_available": "not available",
        "too_few": "not available (n = {n}, fewer than {min_n})",
        "none": "–",
        "devices": "Devices",
        "sat": "satisfaction {v}",
        "ci": "95% CI {lo} to {hi}",
        "sentiment": "text sentiment {v}",
        "nps": "NPS {v} (n = {n})",
        "answers": "n = {n}",
        "playbook": "Playbook: {v}",
        "scale": "Emotion: mean satisfaction (−1 very unhappy … +1 very happy; NPS, CSAT and "
        "review scores rescaled), or text sentiment where no score exists. Whiskers: 95% CI.",
        "curve": "Emotion per stage",
        "order": "Order",
        "repeat_purchase": "Repeat order",
        "review": "Review",
    },
    "id": {
        "actions": "Aktivitas pelanggan",
        "touchpoints": "Titik kontak",
        "emotion": "Emosi",
        "pain_points": "Titik masalah",
        "opportunities": "Peluang perbaikan",
        "stage": "Tahap",
        "customers": "pelanggan",
        "conversions": "konversi",
        "at_stake": "berisiko hilang",
        "not_available": "tidak tersedia",
        "too_few": "tidak tersedia (n = {n}, kurang dari {min_n})",
        "none": "–",
        "devices": "Perangkat",
        "sat": "kepuasan {v}",
        "ci": "IK 95% {lo} s.d. {hi}",
        "sentiment": "sentimen teks {v}",
        "nps": "NPS {v} (n = {n})",
        "answers": "n = {n}",
        "playbook": "Playbook: {v}",
        "scale": "Emosi: rata-rata kepuasan (−1 sangat kecewa … +1 sangat puas; skor NPS, CSAT "
        "dan ulasan diskalakan ulang), atau sentimen teks bila tidak ada skor. Garis: IK 95%.",
        "curve": "Emosi per tahap",
        "order": "Pesanan",
        "repeat_purchase": "Pesanan ulang",
        "review": "Ulasan",
    },
}


def _words(language: str) -> dict[str, str]:
    check_choice("language", language, tuple(_WORDS))
    return _WORDS[language]


def _humanise(name: object) -> str:
    """``add_to_cart`` -> ``Add to cart``: event, channel and device names as a reader sees them."""
    text = str(name).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def _missing(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


# ---- shared SQL pieces -------------------------------------------------------------------------
def _persona_join(engine: Engine, by: str | None) -> tuple[str, str, list[str]]:
    """(join clause, select prefix, group columns) for ``by``; refuses a missing persona table."""
    check_choice("by", by, (None, "persona"))
    if by is None:
        return "", "", []
    if "persona_assignments" not in engine.tables():
        raise ValueError(
            "by='persona' needs the engine table persona_assignments (customer_id, persona, "
            "persona_label), which the personas notebook (30_personas) writes; it is absent"
        )
    cols = require_columns(engine, "persona_assignments", [ID, "persona"]).columns
    label = "p.persona_label" if "persona_label" in cols else "CAST(p.persona AS VARCHAR)"
    # joined on the integer key the aggregate-only queries group by (sql.customer_key)
    join = (
        f"JOIN (SELECT {customer_key(ID)} AS ck, persona, {label} AS persona_label "
        "FROM persona_assignments p WHERE persona IS NOT NULL) p USING (ck)"
    )
    return join, "p.persona, p.persona_label, ", ["persona", "persona_label"]


#: The other tables keyed by customer the stage queries read (narrowed per pass with events).
_CUSTOMER_TABLES = ("orders", "feedback", "persona_assignments")


def _signal_label(sig: Any) -> str:
    if sig.kind == "feedback":
        return f"{sig.feedback_kind} {float(sig.min_score):g}+"
    return sig.kind


def _signal_actions_sql(engine: Engine, model: StageModel, cutoff: str) -> list[str]:
    """One ``SELECT ck, action, source, stage_no`` per derived stage signal whose
    table (orders, feedback) the engine has."""
    have = set(engine.tables())
    parts = []
    for no, rule in enumerate(model.rules, start=1):
        for sig in rule.signals:
            if ("feedback" if sig.kind == "feedback" else "orders") not in have:
                continue
            # the signal's own SQL, defined once in stages (the source there is coarser)
            inner = model.signal_sql(no, sig, cutoff)
            parts.append(
                f"SELECT {customer_key(ID)} AS ck, {literal(_signal_label(sig))} AS action, "
                f"{literal(sig.kind)} AS source, stage_no FROM ({inner})"
            )
    return parts


def _stage_names(model: StageModel, df: pd.DataFrame) -> pd.DataFrame:
    names = dict(enumerate(model.names, start=1))
    df.insert(df.columns.get_loc("stage_no") + 1, "stage", df["stage_no"].map(names))
    df["stage"] = df["stage"].astype("str")
    return df


def _rank(df: pd.DataFrame, groups: list[str], order: list[str], top_n: int | None) -> pd.DataFrame:
    """Rank rows within ``groups`` by ``order`` (descending counts, then name), keep ``top_n``."""
    asc = [False] * (len(order) - 1) + [True]
    df = df.sort_values([*groups, *order], ascending=[True] * len(groups) + asc, kind="stable")
    df["rank"] = df.groupby(groups, sort=False).cumcount().astype("int64") + 1
    if top_n is not None:
        if not isinstance(top_n, int) or top_n < 1:
            raise ValueError(f"top_n must be a positive integer or None, got {top_n!r}")
        df = df[df["rank"] <= top_n]
    return df.reset_index(drop=True)


def _first_touch(dimension: str) -> str:
    """Aggregate: the channel (device) of the earliest row, ties broken by the vocabulary order.

    One integer key (microseconds x 16 + position in :data:`~journeylib.schema.CHANNELS` /
    ``DEVICES``, 15 for labels outside it) instead of a ``(ts, channel)`` struct: half the time
    over 8M sessions x stages.
    """
    from journeylib.schema import CHANNELS, DEVICES

    vocab = CHANNELS if dimension == "channel" else DEVICES
    position = " ".join(f"WHEN {literal(v)} THEN {i}" for i, v in enumerate(vocab))
    micros = f"CAST(ROUND({epoch_seconds('ts')} * 1000000) AS BIGINT)"
    return first_by(dimension, (f"{micros} * 16 + CASE {dimension} {position} ELSE 15 END",))


# ---- 1. what customers do ----------------------------------------------------------------------
def stage_actions(
    engine: Engine,
    model: StageModel,
    *,
    as_of: dt.date | str | None = None,
    top_n: int | None = 3,
    by: str | None = None,
    signals: bool = True,
    table: str = "events",
) -> pd.DataFrame:
    """The top things customers do in each stage.

    Parameters
    ----------
    engine
        Canonical tables (``events``; ``orders`` and ``feedback`` for the derived signals;
        ``persona_assignments`` for ``by="persona"``).
    model
        The stage model (events -> stages, derived signals).
    as_of
        Only activity up to the end of this day (UTC); ``None``: everything.
    top_n
        Actions kept per [persona x] stage (``None``: all).
    by
        ``None`` or ``"persona"`` (customers without a persona are left out).
    signals
        Also count the model's derived signals (``order``, ``repeat_purchase``, feedback
        ``nps 9+`` ...) as actions of their stage, so stages signalled only by orders or
        feedback (retention, advocacy) have actions too.
    table
        The events table or view.

    Returns
    -------
    DataFrame
        One row per [persona x] stage x action, stages in journey order, ``rank`` 1 = most
        customers: [persona, persona_label,] stage_no, stage, rank, action (event name or signal
        label), source (``event`` or the signal kind), customers (distinct customers doing it),
        share (customers / stage_customers), events (occurrences), stage_customers (distinct
        customers with any action of the stage). One SQL pass over the events.
    """
    require_columns(engine, table, [ID, "ts", "event"], timestamp="ts")
    join, sel, groups = _persona_join(engine, by)
    cutoff = end_of_day(as_of)
    ck = customer_key(ID)
    parts = [
        f"SELECT {ck} AS ck, event AS action, 'event' AS source, stage_no FROM ("
        f"SELECT customer_id, event, {model.event_stage_sql()} AS stage_no FROM {table} "
        f"WHERE ts < {cutoff}) WHERE stage_no IS NOT NULL"
    ]
    if signals:
        parts += _signal_actions_sql(engine, model, cutoff)
    union = " UNION ALL ".join(f"({p})" for p in parts)
    key = [f"p.{g}" for g in groups]
    # per customer first (a few rows per customer), then persona and the two groupings; every
    # count is a sum over customers, so above 30M events it runs per range of customers
    # (query_customer_sums: by persona at 10M customers, once over everyone ran out of DuckDB's
    # 4 GB)
    df = query_customer_sums(
        engine,
        f"""
        WITH a AS (
            SELECT ck, stage_no, action, source, COUNT(*) AS n FROM ({union})
            GROUP BY ck, stage_no, action, source)
        SELECT {sel}a.stage_no, a.action, a.source, SUM(a.n) AS events,
               COUNT(DISTINCT a.ck) AS customers, GROUPING(a.action) AS total
        FROM a {join}
        GROUP BY GROUPING SETS (({", ".join([*key, "a.stage_no", "a.action", "a.source"])}),
                                ({", ".join([*key, "a.stage_no"])}))
        """,
        keys=[*groups, "stage_no", "action", "source", "total"],
        table=table,
        also=_CUSTOMER_TABLES,
    )
    totals = df.loc[df["total"] == 1, [*groups, "stage_no", "customers"]]
    totals = totals.rename(columns={"customers": "stage_customers"})
    out = df.loc[df["total"] == 0].drop(columns="total").merge(totals, on=[*groups, "stage_no"])
    for col in ("events", "customers", "stage_customers", "stage_no"):
        out[col] = out[col].astype("int64")
    out["share"] = out["customers"] / out["stage_customers"]
    out = _rank(out, [*groups, "stage_no"], ["customers", "events", "action"], top_n)
    out = _stage_names(model, out)
    out["action"] = out["action"].astype("str")
    out["source"] = out["source"].astype("str")
    cols = [*groups, "stage_no", "stage", "rank", "action", "source", "customers", "share"]
    return out[[*cols, "events", "stage_customers"]]


# ---- 2. where they do it -----------------------------------------------------------------------
def stage_channels(
    engine: Engine,
    model: StageModel,
    *,
    as_of: dt.date | str | None = None,
    top_n: int | None = 3,
    by: str | None = None,
    dimension: str = "channel",
    table: str = "events",
) -> pd.DataFrame:
    """The channels (or devices) through which customers touch each stage.

    A **touch** is a session's visit to a stage: the session's mapped events of that stage,
    attributed to the channel (device) of the first of them. With ``dimension="channel"``, an
    order that carries a channel (a marketplace or store order) is a touch too, in the stage of
    the model's ``order`` signal (the furthest one if several stages have it).

    Parameters
    ----------
    engine, model, as_of, by, table
        As in :func:`stage_actions`.
    top_n
        Channels (devices) kept per [persona x] stage (``None``: all; the shares of all sum to 1).
    dimension
        ``"channel"`` or ``"device"``.

    Returns
    -------
    DataFrame
        One row per [persona x] stage x touchpoint, stages in journey order, ``rank`` 1 = most
        touches: [persona, persona_label,] stage_no, stage, dimension, rank, touchpoint,
        sessions, orders, touches (sessions + orders), share (of the stage's touches), customers
        (distinct customers with such a touch), stage_touches. One SQL pass over the events.
    """
    check_choice("dimension", dimension, ("channel", "device"))
    require_columns(engine, table, [ID, "ts", "event", "session_id", dimension], timestamp="ts")
    join, sel, groups = _persona_join(engine, by)
    cutoff = end_of_day(as_of)
    ck = customer_key(ID)
    # a session is keyed by one integer hash of (customer_id, session_id): grouping ~8M
    # sessions x stages on two strings takes twice as long at 24M events (sql.customer_key)
    parts = [
        f"""SELECT ck, stage_no, {_first_touch(dimension)} AS touchpoint,
                   1 AS is_session
            FROM (SELECT {ck} AS ck, {customer_key(f"{ID}, session_id")} AS sk, ts, {dimension},
                         {model.event_stage_sql()} AS stage_no
                  FROM {table} WHERE ts < {cutoff})
            WHERE stage_no IS NOT NULL
            GROUP BY ck, sk, stage_no"""
    ]
    order_stages = [
        no for no, r in enumerate(model.rules, start=1) if any(s.kind == "order" for s in r.signals)
    ]
    if (
        dimension == "channel"
        and order_stages
        and "orders" in engine.tables()
        and "channel" in table_columns(engine, "orders").columns
    ):
        parts.append(
            f"""SELECT {ck} AS ck, {max(order_stages)} AS stage_no,
                       {first_by("channel", ("channel",))} AS touchpoint, 0 AS is_session
                FROM orders WHERE ts < {cutoff} AND channel IS NOT NULL
                GROUP BY customer_id, order_id"""
        )
    union = " UNION ALL ".join(f"({p})" for p in parts)
    key = [f"p.{g}" for g in groups]
    df = query_customer_sums(  # as in stage_actions
        engine,
        f"""
        SELECT {sel}t.stage_no, CAST(t.touchpoint AS VARCHAR) AS touchpoint,
               SUM(t.is_session) AS sessions, COUNT(*) - SUM(t.is_session) AS orders,
               COUNT(DISTINCT t.ck) AS customers
        FROM ({union}) t {join}
        GROUP BY {", ".join([*key, "t.stage_no", "t.touchpoint"])}
        """,
        keys=[*groups, "stage_no", "touchpoint"],
        table=table,
        also=_CUSTOMER_TABLES,
    )
    df["touchpoint"] = df["touchpoint"].fillna("(unknown)").astype("str")
    for col in ("sessions", "orders", "customers", "stage_no"):
        df[col] = df[col].astype("int64")
    df["touches"] = df["sessions"] + df["orders"]
    df["stage_touches"] = df.groupby([*groups, "stage_no"])["touches"].transform("sum")
    df["share"] = df["touches"] / df["stage_touches"]
    df = _rank(df, [*groups, "stage_no"], ["touches", "customers", "touchpoint"], top_n)
    df = _stage_names(model, df)
    df.insert(df.columns.get_loc("stage") + 1, "dimension", dimension)
    cols = [*groups, "stage_no", "stage", "dimension", "rank", "touchpoint", "sessions", "orders"]
    return df[[*cols, "touches", "share", "customers", "stage_touches"]]


# ---- 3. how they feel --------------------------------------------------------------------------
_EMOTION_COLUMNS = (
    "stage_no stage n n_scored sat_mean sat_low sat_high nps nps_low nps_high nps_n "
    "sentiment_mean sentiment_n emotion emotion_source emotion_n available"
).split()
#: The emotion numbers a map cell carries (besides available, value, source, text).
_EMOTION_KEYS = (
    "n emotion_n sat_mean sat_low sat_high nps nps_low nps_high nps_n sentiment_mean sentiment_n"
).split()


def _check_unit_range(df: pd.DataFrame, col: str) -> None:
    bad = df[col].notna() & ~df[col].between(-1.0, 1.0)
    if bad.any():
        rows = np.flatnonzero(bad.to_numpy())[:5].tolist()
        raise ValueError(
            f"context column {col!r} must lie in [-1, 1]; {int(bad.sum())} row(s) do not "
            f"(first row positions, 0-based: {rows})"
        )


def stage_emotion(
    context: pd.DataFrame | None,
    model: StageModel,
    *,
    min_n: int = 10,
    by: str | None = None,
) -> pd.DataFrame:
    """How customers feel in each stage, from their feedback.

    Parameters
    ----------
    context
        One row per feedback answer: ``stage`` (a stage name, or ``"(none)"``: answers outside
        the model's stages are left out), ``kind`` (nps, csat, review, social), ``score``,
        ``sat`` (satisfaction rescaled to [-1, 1], NaN for social posts) and optionally
        ``sentiment`` (text sentiment in [-1, 1], NaN allowed) and ``persona``
        [``persona_label``]. ``None`` or empty: no feedback.
    model
        The stage model (the stages listed, in order).
    min_n
        An emotion resting on fewer answers is marked not available.
    by
        ``None``, or a context column to split by (``"persona"``).

    Returns
    -------
    DataFrame
        One row per [by x] stage, stages in journey order (every stage listed; per ``by``
        value, the values present in the context): stage_no, stage, n (answers), n_scored
        (answers with a ``sat``), sat_mean with its 95% t interval sat_low/sat_high (NaN below
        two scored answers), nps (promoters 9-10 minus detractors 0-6 among the nps answers, in
        points) with a 95% normal interval nps_low/nps_high and its base nps_n, sentiment_mean
        and sentiment_n (answers with a text sentiment), and

        * ``emotion``: ``sat_mean``; when no answer of the stage has a score but some have a
          text sentiment, ``sentiment_mean``; else NaN. ``emotion_source`` says which
          (``satisfaction``, ``sentiment``, NA) and ``emotion_n`` how many answers it rests on;
        * ``available``: the emotion rests on at least ``min_n`` answers (so False when n <
          ``min_n`` and for every stage when there is no feedback).
    """
    from scipy import stats

    if not isinstance(min_n, int) or min_n < 1:
        raise ValueError(f"min_n must be a positive integer, got {min_n!r}")
    keys = [] if by is None else [by]
    if by == "persona" and context is not None and "persona_label" in context.columns:
        keys.append("persona_label")
    if context is None:
        context = pd.DataFrame(columns=["stage", "kind", "score", "sat", *keys])
    missing = [c for c in ("stage", "kind", "score", "sat", *keys) if c not in context.columns]
    if missing:
        raise ValueError(f"context lacks column(s) {missing} (it has {list(context.columns)})")
    from journeylib.schema import FEEDBACK_KINDS

    bad_kind = context["kind"].notna() & ~context["kind"].isin(FEEDBACK_KINDS)
    if bad_kind.any():
        rows = np.flatnonzero(bad_kind.to_numpy())[:5].tolist()
        raise ValueError(
            f"context column 'kind' must be one of {FEEDBACK_KINDS}; {int(bad_kind.sum())} "
            f"row(s) are not (first row positions, 0-based: {rows})"
        )
    ctx = pd.DataFrame(
        {
            "stage": context["stage"].astype("object"),
            "sat": pd.to_numeric(context["sat"], errors="raise").astype("float64"),
            "sentiment": (
                pd.to_numeric(context["sentiment"], errors="raise").astype("float64")
                if "sentiment" in context.columns
                else np.nan
            ),
            "nps": (context["kind"] == "nps").fillna(False).astype(bool),
            "score": pd.to_numeric(context["score"], errors="raise").astype("float64"),
            **{k: context[k] for k in keys},
        }
    )
    _check_unit_range(ctx, "sat")
    _check_unit_range(ctx, "sentiment")
    ctx = ctx[ctx["stage"].isin(model.names)]
    ctx["promoter"] = ctx["nps"] & (ctx["score"] >= 9)
    ctx["detractor"] = ctx["nps"] & (ctx["score"] <= 6)
    ctx["stage_no"] = ctx["stage"].map({s: i for i, s in enumerate(model.names, start=1)})

    g = ctx.groupby([*keys, "stage_no"], dropna=False)
    agg = pd.DataFrame(
        {
            "n": g.size(),
            "n_scored": g["sat"].count(),
            "sat_mean": g["sat"].mean(),
            "sat_sd": g["sat"].std(ddof=1),
            "nps_n": g["nps"].sum(),
            "promoters": g["promoter"].sum(),
            "detractors": g["detractor"].sum(),
            "sentiment_mean": g["sentiment"].mean(),
            "sentiment_n": g["sentiment"].count(),
        }
    ).reset_index()
    # every stage, for every group value present
    if keys:
        grid_keys = ctx[keys].drop_duplicates().sort_values(keys, ignore_index=True)
    else:
        grid_keys = pd.DataFrame(index=[0])
    grid = grid_keys.merge(pd.DataFrame({"stage_no": range(1, len(model.names) + 1)}), how="cross")
    out = grid.merge(agg, on=[*keys, "stage_no"], how="left")
    for col in ("n", "n_scored", "nps_n", "promoters", "detractors", "sentiment_n"):
        out[col] = out[col].fillna(0).astype("int64")
    out["stage"] = out["stage_no"].map(dict(enumerate(model.names, start=1))).astype("str")

    k = out["n_scored"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        half = stats.t.ppf(0.975, np.maximum(k - 1, 1)) * out["sat_sd"].to_numpy() / np.sqrt(k)
        half = np.where(k >= 2, half, np.nan)
        m = out["nps_n"].to_numpy(dtype=float)
        st = nps_stats(
            out["promoters"], m - out["promoters"] - out["detractors"], out["detractors"], 1.96
        )
        nps, se = st["nps"], np.where(m >= 2, st["nps_se"], np.nan)
    out["sat_low"] = out["sat_mean"] - half
    out["sat_high"] = out["sat_mean"] + half
    out["nps"] = np.where(m > 0, nps, np.nan)
    out["nps_low"] = out["nps"] - 1.96 * se
    out["nps_high"] = out["nps"] + 1.96 * se

    scored = out["n_scored"] > 0
    by_text = ~scored & (out["sentiment_n"] > 0)
    out["emotion"] = out["sat_mean"].where(scored, out["sentiment_mean"].where(by_text))
    source = np.where(scored, "satisfaction", np.where(by_text, "sentiment", None))
    out["emotion_source"] = pd.Series(source, index=out.index, dtype="str")
    out["emotion_n"] = np.where(scored, out["n_scored"], np.where(by_text, out["sentiment_n"], 0))
    out["emotion_n"] = out["emotion_n"].astype("int64")
    out["available"] = (out["emotion_n"] >= min_n) & out["emotion"].notna()
    for col in ("sat_mean", "sentiment_mean", "emotion"):
        out[col] = out[col].astype("float64")
    out = out[[*keys, *_EMOTION_COLUMNS]].reset_index(drop=True)
    out.attrs["min_n"] = min_n  # so the map can say why a stage is not available
    return out


_PLOT_WORDS: dict[str, dict[str, str]] = {
    "en": {"emotion": "emotion", "band": "{name} 95% CI"},
    "id": {"emotion": "emosi", "band": "{name} selang kepercayaan 95%"},
}


def plot_emotion(
    emotion: pd.DataFrame, model: StageModel | None = None, *, language: str = "en"
) -> go.Figure:
    """Line chart of :func:`stage_emotion`: emotion per stage with its 95% band.

    Stages whose emotion is not available are gaps; one line per ``persona`` when the table has
    that column. The table twin is ``emotion`` itself. Stages are named by ``model``'s labels
    (machine names without a model); ``language`` (``en``/``id``) names the traces. The title
    and axis title are English phrases for the display's catalogue.
    """
    import plotly.graph_objects as go

    check_choice("language", language, tuple(_PLOT_WORDS))
    words = _PLOT_WORDS[language]
    names = list(dict.fromkeys(emotion["stage"]))
    labels = [model.label(s) if model is not None else s for s in names]
    fig = go.Figure()
    groups = (
        list(emotion.groupby("persona", sort=True)) if "persona" in emotion else [(None, emotion)]
    )
    for key, part in groups:
        part = part.set_index("stage").reindex(names)
        ok = part["available"].fillna(False).astype(bool).to_numpy()
        y = part["emotion"].where(ok).to_numpy(dtype=float)
        lo = part["sat_low"].where(ok).to_numpy(dtype=float)
        hi = part["sat_high"].where(ok).to_numpy(dtype=float)
        x = np.arange(1, len(names) + 1, dtype=float)
        name = words["emotion"] if key is None else str(key)
        if key is not None and "persona_label" in part and part["persona_label"].notna().any():
            name = str(part["persona_label"].dropna().iat[0])
        band = np.isfinite(lo) & np.isfinite(hi)
        # one closed polygon per run of consecutive stages with an interval
        for run in np.split(
            np.flatnonzero(band), np.flatnonzero(np.diff(np.flatnonzero(band)) > 1) + 1
        ):
            if len(run) == 0:
                continue
            fig.add_trace(
                go.Scatter(
                    x=np.r_[x[run], x[run][::-1]],
                    y=np.r_[hi[run], lo[run][::-1]],
                    fill="toself",
                    mode="lines",
                    line={"width": 0},
                    opacity=0.25,
                    hoverinfo="skip",
                    showlegend=False,
                    name=words["band"].format(name=name),
                )
            )
        fig.add_trace(
            go.Scatter(
                x=x,
                y=y,
                mode="lines+markers",
                name=name,
                connectgaps=False,
                customdata=np.c_[part["n"].fillna(0).to_numpy(), part["nps"].to_numpy(float)],
                hovertemplate="%{y:.2f} (n = %{customdata[0]}, NPS %{customdata[1]:.0f})"
                "<extra></extra>",
            )
        )
    fig.update_layout(
        title="Emotion per stage (mean satisfaction, −1 to +1)",
        xaxis={"tickvals": list(range(1, len(names) + 1)), "ticktext": labels},
        yaxis={"range": [-1.05, 1.05], "zeroline": True, "title": "emotion"},
        height=380,
        margin={"t": 50, "b": 40},
        showlegend="persona" in emotion,
    )
    return fig


# ---- 4. what to improve ------------------------------------------------------------------------
# kind or friction event -> (en, id, playbook role). Roles find the client's action by what its
# rule reacts to, so a custom playbook is linked too: cart_recovery = the rule on abandoned carts,
# service_recovery = the rule on friction, stage = the first rule naming the stage.
_IMPROVE: dict[str, tuple[str, str, str | None]] = {
    "incident": (
        "Fix and monitor {event}{on_device}; add an alert on daily step conversion",
        "Perbaiki dan pantau {event}{on_device}; pasang peringatan pada konversi harian langkah "
        "ini",
        "service_recovery",
    ),
    "drop_off": (
        "Make it easier to go on from {event}: fewer steps, clear prices and shipping costs, "
        "a reminder for those who stop",
        "Permudah pelanggan melanjutkan dari {event}: langkah lebih sedikit, harga dan ongkir "
        "yang jelas, pengingat bagi yang berhenti",
        "stage",
    ),
    "abandonment": (
        "Bring back customers who leave a cart: a reminder within a day, shipping costs shown "
        "early",
        "Ajak kembali pelanggan yang meninggalkan keranjang: pengingat dalam sehari, ongkir "
        "ditampilkan sejak awal",
        "cart_recovery",
    ),
    "loop": (
        "Simplify {event}: customers go back and forth; clearer errors and fewer steps",
        "Sederhanakan {event}: pelanggan bolak-balik; pesan kesalahan lebih jelas dan langkah "
        "lebih sedikit",
        None,
    ),
    "slow_step": (
        "Shorten {event}: fewer fields, saved details, faster pages",
        "Persingkat {event}: isian lebih sedikit, data tersimpan, halaman lebih cepat",
        None,
    ),
    "negative_sentiment": (
        "Address the top complaint theme ({title}) and follow up with unhappy customers",
        "Tangani tema keluhan utama ({title}) dan tindak lanjuti pelanggan yang kecewa",
        "service_recovery",
    ),
    "friction": (
        "Remove the cause of {event} at this step",
        "Hilangkan penyebab {event} pada langkah ini",
        "service_recovery",
    ),
}
_FRICTION: dict[str, tuple[str, str, str | None]] = {
    "payment_error": (
        "Offer more payment methods and an easy retry when a payment fails",
        "Sediakan lebih banyak metode pembayaran dan coba ulang yang mudah saat pembayaran gagal",
        "service_recovery",
    ),
    "checkout_error": (
        "Fix the checkout errors and keep the cart so customers can retry",
        "Perbaiki kesalahan checkout dan simpan keranjang agar pelanggan bisa mencoba lagi",
        "cart_recovery",
    ),
    "delivery_late": (
        "Set delivery expectations, send proactive updates, hold couriers to a delivery SLA",
        "Tetapkan ekspektasi waktu kirim, kirim kabar proaktif, terapkan SLA kurir",
        "service_recovery",
    ),
    "return_request": (
        "Improve product information (sizes, photos) and make returns painless",
        "Perjelas informasi produk (ukuran, foto) dan permudah retur",
        "service_recovery",
    ),
    "contact_support": (
        "Answer the most common questions in the flow (FAQ, chat) before customers need support",
        "Jawab pertanyaan yang paling sering muncul langsung di alur (FAQ, chat) sebelum "
        "pelanggan butuh bantuan",
        "service_recovery",
    ),
}
_CART_EVENTS = ("add_to_cart", "begin_checkout", "add_payment_info")
_FALLBACK_ACTIONS = {"cart_recovery": "cart_recovery_email", "service_recovery": "service_recovery"}


def _playbook_action(spec: PlaybookSpec, role: str | None, stage: object) -> str | None:
    """The playbook action answering ``role`` (see ``_IMPROVE``), or None."""
    if role is None:
        return None
    for rule in spec.rules:
        w = rule.when
        if (
            (role == "cart_recovery" and w.abandoned_cart is True)
            or (role == "service_recovery" and w.friction is True)
            or (role == "stage" and not _missing(stage) and stage in w.stage)
        ):
            return rule.action
    fallback = _FALLBACK_ACTIONS.get(role)
    return fallback if fallback in spec.actions else None


def opportunities(
    pain_points: pd.DataFrame | None,
    playbook: PlaybookSpec | None = None,
    *,
    language: str = "en",
    top_n: int = 3,
) -> pd.DataFrame:
    """An improvement for each of the top pain points of every stage, in words.

    Parameters
    ----------
    pain_points
        The ranked pain points: rank (1 = worst), kind (:data:`PAIN_POINT_KINDS`), stage, event
        (may be NA), device (may be NA), title, customers, conversions_at_stake,
        revenue_at_stake (may be NA); optionally step (named when event is NA, e.g. a loop's
        ``a > b``) and persona [, persona_label].
    playbook
        The client's playbook (``config.playbook``; default: the default playbook). Each
        improvement names the playbook action that serves it where one fits, in the playbook's
        own wording: the rule on abandoned carts for cart problems, the rule on friction for
        errors, late deliveries and complaints, the first rule naming the stage for drop-offs.
    language
        ``"en"`` or ``"id"``.
    top_n
        Pain points answered per [persona x] stage (lowest ranks first; pain points that lead to
        the same improvement in a stage are answered once).

    Returns
    -------
    DataFrame
        One row per opportunity, stages as given, ``rank`` 1.. within [persona x] stage:
        [persona, persona_label,] stage, rank, pain_point_rank, kind, event, device, action
        (playbook action key, NA when none fits), action_label, text (the improvement),
        customers, conversions_at_stake, value_at_stake (the revenue at stake).
    """
    words_index = 1 if _words(language) is _WORDS["id"] else 0
    spec = playbook or PlaybookSpec()
    if not isinstance(top_n, int) or top_n < 1:
        raise ValueError(f"top_n must be a positive integer, got {top_n!r}")
    need = ["rank", "kind", "stage", "event", "device", "title", "customers"]
    need += ["conversions_at_stake", "revenue_at_stake"]
    pp = pd.DataFrame(columns=need) if pain_points is None else pain_points
    missing = [c for c in need if c not in pp.columns]
    if missing:
        raise ValueError(f"pain_points lacks column(s) {missing} (it has {list(pp.columns)})")
    unknown = ~pp["kind"].isin(PAIN_POINT_KINDS)
    if unknown.any():
        rows = np.flatnonzero(unknown.to_numpy())[:5].tolist()
        raise ValueError(
            f"pain_points column 'kind' must be one of {PAIN_POINT_KINDS}; {int(unknown.sum())} "
            f"row(s) are not (first row positions, 0-based: {rows})"
        )
    groups = [c for c in _PERSONA if c in pp.columns]
    pp = pp.sort_values("rank", kind="stable")
    label_key = "label_id" if language == "id" else "label"
    rows = []
    for r in pp.to_dict("records"):
        event, device = r["event"], r["device"]
        # what the text names: the event, else the step (a loop's "a > b"), else "this step"
        target = r.get("step") if _missing(event) else event
        entry = _FRICTION.get(str(event)) if r["kind"] in ("friction", "incident") else None
        if entry is None or r["kind"] == "incident":
            entry = _IMPROVE[r["kind"]]
        text, role = entry[words_index], entry[2]
        if r["kind"] == "drop_off" and not _missing(event) and event in _CART_EVENTS:
            role = "cart_recovery"
        this_step = "langkah ini" if language == "id" else "this step"
        on = " di " if language == "id" else " on "
        text = text.format(
            event=this_step if _missing(target) else str(target).replace("_", " "),
            on_device="" if _missing(device) else on + str(device),
            title=str(r["title"]),
        )
        action = _playbook_action(spec, role, r["stage"])
        rows.append(
            {
                **{g: r[g] for g in groups},
                "stage": r["stage"],
                "pain_point_rank": r["rank"],
                "kind": r["kind"],
                "event": event,
                "device": device,
                "action": action,
                "action_label": getattr(spec.actions[action], label_key) if action else None,
                "text": text,
                "customers": r["customers"],
                "conversions_at_stake": r["conversions_at_stake"],
                "value_at_stake": r["revenue_at_stake"],
            }
        )
    cols = [*groups, "stage", "rank", "pain_point_rank", "kind", "event", "device", "action"]
    cols += ["action_label", "text", "customers", "conversions_at_stake", "value_at_stake"]
    if not rows:
        return pd.DataFrame(columns=cols)
    out = pd.DataFrame(rows)
    keys = [*groups, "stage"]
    out = out.drop_duplicates([*keys, "text"], keep="first")
    out["rank"] = out.groupby(keys, dropna=False, sort=False).cumcount().astype("int64") + 1
    out = out[out["rank"] <= top_n]
    for col in ("action", "action_label"):
        out[col] = out[col].astype("str").where(out[col].notna(), pd.NA)
    return out[cols].reset_index(drop=True)


# ---- 5. the map --------------------------------------------------------------------------------
def _json_value(v: object) -> Any:
    """A JSON-safe scalar: numpy scalars to Python, NaN/NA to None."""
    if _missing(v):
        return None
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, bool | int | float | str):
        return v
    return str(v)


def _signed(v: float, report: ReportSpec, decimals: int = 2) -> str:
    if _missing(v):
        return "–"
    sign = "+" if v > 0 else "−" if v < 0 else ""
    return sign + fmt_number(abs(float(v)), report, decimals=decimals)


@dataclass(frozen=True, eq=False)
class JourneyMap:
    """A journey map: one column per stage, the five :data:`ROWS` down.

    Built by :func:`journey_map`; the frames are the inputs restricted to the map's persona and
    the model's stages. Export with :meth:`to_frame`, :meth:`to_dict` / :meth:`to_json` and
    :meth:`to_html`; JupyterLab shows the HTML.
    """

    model: StageModel
    actions: pd.DataFrame
    channels: pd.DataFrame
    emotion: pd.DataFrame
    pain_points: pd.DataFrame
    opportunities: pd.DataFrame
    title: str = ""
    persona: str | None = None
    language: str = "en"
    report: ReportSpec = ReportSpec()
    max_items: int = 3
    min_n: int | None = None

    # ---- items per stage, the single source of every export -----------------------------------
    @property
    def stages(self) -> list[str]:
        return list(self.model.names)

    def _rows_of(self, df: pd.DataFrame, stage: str, sort: str = "rank") -> pd.DataFrame:
        if df.empty or "stage" not in df.columns:
            return df.iloc[:0]
        part = df[df["stage"].astype("object") == stage]
        return part.sort_values(sort, kind="stable") if sort in part.columns else part

    def _emotion_of(self, stage: str) -> dict[str, Any]:
        w = _words(self.language)
        part = self._rows_of(self.emotion, stage, sort="stage_no")
        row = part.iloc[0].to_dict() if len(part) else {}
        available = bool(row.get("available", False)) and not _missing(row.get("emotion"))
        out = {
            "available": available,
            "value": _json_value(row.get("emotion")) if available else None,
            "source": _json_value(row.get("emotion_source")) if available else None,
            **{k: _json_value(row.get(k)) for k in _EMOTION_KEYS},
        }
        out["n"] = out["n"] or 0
        if not available:
            n = out["emotion_n"] or 0
            out["text"] = (
                w["too_few"].format(n=n, min_n=self.min_n)
                if self.min_n and n > 0
                else w["not_available"]
            )
            return out
        rep = self.report
        if out["source"] == "sentiment":
            parts = [w["sentiment"].format(v=_signed(out["value"], rep))]
        else:
            parts = [w["sat"].format(v=_signed(out["value"], rep))]
            if out["sat_low"] is not None:
                parts.append(
                    w["ci"].format(
                        lo=_signed(out["sat_low"], rep), hi=_signed(out["sat_high"], rep)
                    )
                )
        if out["nps_n"]:
            parts.append(w["nps"].format(v=_signed(out["nps"], rep, 0), n=out["nps_n"]))
        if out["nps_n"] != out["n"]:
            parts.append(w["answers"].format(n=fmt_number(out["n"], rep)))
        out["text"] = " · ".join(parts)
        return out

    def _action_label(self, action: str, source: str) -> str:
        w = _words(self.language)
        if source == "event":
            return _humanise(action)
        if source in ("order", "repeat_purchase"):
            return w[source]
        kind, _, score = action.partition(" ")
        name = kind.upper() if kind in ("nps", "csat") else w.get(kind, _humanise(kind))
        return f"{name} {score}".strip()

    def _stage_items(self, stage: str) -> dict[str, Any]:
        rep, w, k = self.report, _words(self.language), self.max_items
        acts = self._rows_of(self.actions, stage).head(k)
        actions = []
        for r in acts.to_dict("records"):
            label = self._action_label(str(r["action"]), str(r.get("source", "event")))
            item = {
                "rank": _json_value(r.get("rank")),
                "action": _json_value(r["action"]),
                "label": label,
                "source": _json_value(r.get("source", "event")),
                "customers": _json_value(r.get("customers")),
                "share": _json_value(r.get("share")),
                "events": _json_value(r.get("events")),
            }
            item["text"] = f"{label} {fmt_pct(r.get('share'), rep, decimals=0)}"
            actions.append(item)
        touch = []
        chan = self._rows_of(self.channels, stage)
        dims = (
            chan["dimension"] if "dimension" in chan.columns else pd.Series("channel", chan.index)
        )
        for dim in ("channel", "device"):
            part = chan[dims == dim].head(k)
            for r in part.to_dict("records"):
                label = _humanise(r["touchpoint"])
                touch.append(
                    {
                        "rank": _json_value(r.get("rank")),
                        "dimension": dim,
                        "touchpoint": _json_value(r["touchpoint"]),
                        "label": label,
                        "share": _json_value(r.get("share")),
                        "touches": _json_value(r.get("touches")),
                        "customers": _json_value(r.get("customers")),
                        "text": f"{label} {fmt_pct(r.get('share'), rep, decimals=0)}",
                    }
                )
        pains = []
        for r in self._rows_of(self.pain_points, stage).head(k).to_dict("records"):
            nums = [f"{fmt_number(r.get('customers'), rep)} {w['customers']}"]
            if not _missing(r.get("conversions_at_stake")):
                conv = fmt_number(r["conversions_at_stake"], rep)
                nums.append(f"{conv} {w['conversions']}")
            if not _missing(r.get("revenue_at_stake")):
                nums.append(f"{fmt_money(r['revenue_at_stake'], rep)} {w['at_stake']}")
            item = {
                c: _json_value(r.get(c))
                for c in ("rank", "kind", "title", "event", "device", "customers")
            }
            item["conversions_at_stake"] = _json_value(r.get("conversions_at_stake"))
            item["revenue_at_stake"] = _json_value(r.get("revenue_at_stake"))
            item["numbers"] = " · ".join(nums)
            item["text"] = f"#{item['rank']} {item['title']} ({item['numbers']})"
            pains.append(item)
        opps = []
        for r in self._rows_of(self.opportunities, stage).head(k).to_dict("records"):
            item = {
                c: _json_value(r.get(c))
                for c in ("rank", "pain_point_rank", "kind", "action", "action_label", "text")
            }
            item["conversions_at_stake"] = _json_value(r.get("conversions_at_stake"))
            item["value_at_stake"] = _json_value(r.get("value_at_stake"))
            opps.append(item)
        stage_customers = None
        if len(acts) and "stage_customers" in acts.columns:
            stage_customers = _json_value(acts["stage_customers"].iat[0])
        return {
            "customers": stage_customers,
            "actions": actions,
            "touchpoints": touch,
            "emotion": self._emotion_of(stage),
            "pain_points": pains,
            "opportunities": opps,
        }

    # ---- exports --------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The map as plain data: JSON-serialisable, NaN as ``None`` (:data:`JSON_SCHEMA`).

        Layout (version :data:`JSON_VERSION`)::

            {"schema": "journeylib.journey_map", "version": 1, "title", "persona" (label|null),
             "language": "en"|"id", "currency", "currency_symbol",
             "rows": [{"key": "actions"|"touchpoints"|"emotion"|"pain_points"|"opportunities",
                       "title"}],                               # top to bottom
             "stages": [{                                       # journey order
                "name", "label", "position" (1-based), "customers" (in the stage, or null),
                "actions": [{"rank", "action", "label", "source", "customers", "share",
                             "events", "text"}],
                "touchpoints": [{"rank", "dimension": "channel"|"device", "touchpoint",
                                 "label", "share", "touches", "customers", "text"}],
                "emotion": {"available", "value" (null unless available),
                            "source": "satisfaction"|"sentiment"|null, "n", "emotion_n",
                            "sat_mean", "sat_low", "sat_high", "nps", "nps_low", "nps_high",
                            "nps_n", "sentiment_mean", "sentiment_n", "text"},
                "pain_points": [{"rank", "kind", "title", "event", "device", "customers",
                                 "conversions_at_stake", "revenue_at_stake", "numbers",
                                 "text"}],
                "opportunities": [{"rank", "pain_point_rank", "kind", "action",
                                   "action_label", "text", "conversions_at_stake",
                                   "value_at_stake"}]}]}

        Shares are fractions (0..1), money in the report currency, ``text`` as the HTML shows it.
        """
        w = _words(self.language)
        stages = []
        for no, name in enumerate(self.stages, start=1):
            stages.append(
                {"name": name, "label": self.model.label(name), "position": no}
                | self._stage_items(name)
            )
        return {
            "schema": "journeylib.journey_map",
            "version": JSON_VERSION,
            "title": self.title,
            "persona": self.persona,
            "language": self.language,
            "currency": self.report.currency,
            "currency_symbol": self.report.currency_symbol,
            "rows": [{"key": r, "title": w[r]} for r in ROWS],
            "stages": stages,
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        """:meth:`to_dict` as JSON text (strict: no NaN literals)."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False, allow_nan=False)

    def to_frame(self) -> pd.DataFrame:
        """The map in long form: one row per stage x row x item.

        Columns: stage_no, stage, label, row (:data:`ROWS`), rank, text (as shown), value (the
        item's main number) and unit (``share`` for actions and touchpoints, ``score`` for the
        emotion in [-1, 1], ``customers`` for pain points, ``money`` for opportunities: the
        revenue at stake). The emotion row is present for every stage (``value`` NaN and text
        "not available" when it is).
        """
        out = []
        units = {"actions": ("share", "share"), "touchpoints": ("share", "share")}
        units |= {"pain_points": ("customers", "customers")}
        units |= {"opportunities": ("value_at_stake", "money")}
        for st in self.to_dict()["stages"]:
            base = {"stage_no": st["position"], "stage": st["name"], "label": st["label"]}
            for row in ROWS:
                if row == "emotion":
                    emo = st["emotion"]
                    out.append(base | _tidy(row, 1, emo["text"], emo["value"], "score"))
                    continue
                key, unit = units[row]
                for i, item in enumerate(st[row], start=1):
                    out.append(base | _tidy(row, i, item["text"], item[key], unit))
        df = pd.DataFrame(
            out, columns=["stage_no", "stage", "label", "row", "rank", "text", "value", "unit"]
        )
        df["value"] = pd.to_numeric(df["value"], errors="coerce").astype("float64")
        df["rank"] = df["rank"].astype("int64")
        return df

    def to_html(self) -> str:
        """A self-contained HTML fragment: inline CSS, inline SVG, no scripts, no URLs."""
        return _render_html(self)

    def _repr_html_(self) -> str:
        return self.to_html()


def _tidy(row: str, rank: Any, text: str, value: Any, unit: str) -> dict[str, Any]:
    return {"row": row, "rank": rank, "text": text, "value": value, "unit": unit}


#: JSON Schema (draft 2020-12) of :meth:`JourneyMap.to_dict`, version :data:`JSON_VERSION`.
#: Stages are in journey order; every number is a plain JSON number or null (NaN, missing).
JSON_SCHEMA: dict[str, Any] = {
    "title": "journeylib journey map",
    "type": "object",
    "required": ["schema", "version", "title", "persona", "language", "rows", "stages"],
    "properties": {
        "schema": {"const": "journeylib.journey_map"},
        "version": {"const": JSON_VERSION},
        "title": {"type": "string"},
        "persona": {"type": ["string", "null"]},
        "language": {"enum": ["en", "id"]},
        "currency": {"type": "string"},
        "currency_symbol": {"type": "string"},
        "rows": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["key", "title"],
                "properties": {"key": {"enum": list(ROWS)}, "title": {"type": "string"}},
            },
        },
        "stages": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "label", "position", "customers", *ROWS],
                "properties": {
                    "name": {"type": "string"},
                    "label": {"type": "string"},
                    "position": {"type": "integer", "minimum": 1},
                    "customers": {"type": ["integer", "null"]},
                    "actions": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["rank", "action", "label", "source", "customers", "share"],
                        },
                    },
                    "touchpoints": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["dimension", "touchpoint", "label", "share", "touches"],
                            "properties": {"dimension": {"enum": ["channel", "device"]}},
                        },
                    },
                    "emotion": {
                        "type": "object",
                        "required": ["available", "value", "source", "n", "nps", "text"],
                        "properties": {
                            "available": {"type": "boolean"},
                            "value": {"type": ["number", "null"]},
                            "source": {"enum": ["satisfaction", "sentiment", None]},
                        },
                    },
                    "pain_points": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": [
                                "rank",
                                "kind",
                                "title",
                                "customers",
                                "conversions_at_stake",
                                "revenue_at_stake",
                            ],
                        },
                    },
                    "opportunities": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["rank", "pain_point_rank", "action", "text"],
                        },
                    },
                },
            },
        },
    },
}


def _restrict(df: pd.DataFrame | None, persona: object, what: str) -> pd.DataFrame:
    """``df`` limited to ``persona`` when it has a persona column (else as is)."""
    if df is None:
        return pd.DataFrame(columns=["stage"])
    if "persona" not in df.columns:
        return df
    if persona is None:
        n = df["persona"].nunique(dropna=True)
        if n > 1:
            raise ValueError(
                f"{what} holds {n} personas: pass persona= for one persona's map, or use "
                "persona_maps() for all of them"
            )
        return df
    match = df["persona"].astype("str") == str(persona)
    if "persona_label" in df.columns:
        match |= df["persona_label"].astype("str") == str(persona)
    return df[match.fillna(False).to_numpy()]


def journey_map(
    model: StageModel,
    *,
    actions: pd.DataFrame | None,
    channels: pd.DataFrame | None,
    emotion: pd.DataFrame | None,
    pain_points: pd.DataFrame | None,
    opportunities: pd.DataFrame | None,
    title: str = "",
    persona: str | int | None = None,
    language: str = "en",
    report: ReportSpec | None = None,
    max_items: int = 3,
    min_n: int | None = None,
) -> JourneyMap:
    """Assemble the journey map from its tables.

    Parameters
    ----------
    model
        The stage model: the columns (every stage, in order, even one without data) and their
        labels (``model.label``, in ``language``).
    actions, channels, emotion, pain_points, opportunities
        :func:`stage_actions`, :func:`stage_channels` (one dimension or both concatenated),
        :func:`stage_emotion`, the ranked pain points (rank, kind, stage, title, customers,
        conversions_at_stake, revenue_at_stake [, event, device]) and :func:`opportunities`.
        ``None`` or empty: that row is blank (the emotion row reads "not available"). Rows for
        stages the model does not have are ignored.
    title
        Caption of the map.
    persona
        Restrict every table that has a ``persona`` column to this persona (its id or label);
        tables without one are used whole. ``None`` with a table holding several personas is an
        error (see :func:`persona_maps`).
    language
        ``"en"`` or ``"id"``: stage labels, row titles and fixed words.
    report
        Number formats and currency (``config.report``; default :class:`ReportSpec`).
    max_items
        Items shown per cell (actions, channels, devices, pain points, opportunities).
    min_n
        The ``min_n`` the emotion table was computed with (default: the one
        :func:`stage_emotion` recorded in ``emotion.attrs``), only to say why a stage's emotion
        is not available.
    """
    _words(language)
    if min_n is None and emotion is not None:
        min_n = emotion.attrs.get("min_n")
    if not isinstance(max_items, int) or max_items < 1:
        raise ValueError(f"max_items must be a positive integer, got {max_items!r}")
    model = replace(model, language=language)
    label = None
    frames = {}
    for what, df in (
        ("actions", actions),
        ("channels", channels),
        ("emotion", emotion),
        ("pain_points", pain_points),
        ("opportunities", opportunities),
    ):
        part = _restrict(df, persona, what)
        if persona is not None and label is None and "persona_label" in part.columns and len(part):
            label = str(part["persona_label"].iat[0])
        if len(part) and "stage" not in part.columns:
            raise ValueError(f"{what} needs a 'stage' column (it has {list(part.columns)})")
        frames[what] = part.copy()
    return JourneyMap(
        model=model,
        title=title,
        persona=None if persona is None else (label or str(persona)),
        language=language,
        report=report or ReportSpec(),
        max_items=max_items,
        min_n=min_n,
        **frames,
    )


def persona_maps(
    model: StageModel,
    *,
    actions: pd.DataFrame,
    channels: pd.DataFrame | None = None,
    emotion: pd.DataFrame | None = None,
    pain_points: pd.DataFrame | None = None,
    opportunities: pd.DataFrame | None = None,
    title: str = "",
    **kwargs: Any,
) -> dict[str, JourneyMap]:
    """One :class:`JourneyMap` per persona of ``actions`` (computed with ``by="persona"``).

    The other tables are split by their ``persona`` column when they have one and shared
    otherwise; ``kwargs`` go to :func:`journey_map`. Keys are the persona labels, in persona
    order; each map's title is ``"<title> — <label>"``.
    """
    if "persona" not in actions.columns:
        raise ValueError("persona_maps needs actions computed with by='persona' (a persona column)")
    keys = actions[[c for c in _PERSONA if c in actions.columns]].drop_duplicates("persona")
    keys = keys.sort_values("persona", kind="stable")
    out: dict[str, JourneyMap] = {}
    for r in keys.to_dict("records"):
        label = str(r.get("persona_label", r["persona"]))
        out[label] = journey_map(
            model,
            actions=actions,
            channels=channels,
            emotion=emotion,
            pain_points=pain_points,
            opportunities=opportunities,
            title=f"{title} — {label}" if title else label,
            persona=r["persona"],
            **kwargs,
        )
    return out


# ---- HTML --------------------------------------------------------------------------------------
_CSS = """
.jm{--jm-ink:#1f2933;--jm-muted:#5f6b7a;--jm-rule:#d5dbe1;color:var(--jm-ink);
font-family:-apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;
font-size:13px;line-height:1.35;margin:8px 0 16px;max-width:100%}
.jm table.jm-grid{border-collapse:collapse;table-layout:fixed;width:100%;font-size:inherit;
color:inherit}
.jm caption{caption-side:top;text-align:left;font-weight:600;font-size:15px;padding:0 0 6px}
.jm table.jm-grid th,.jm table.jm-grid td{border:1px solid var(--jm-rule);padding:6px 7px;
vertical-align:top;text-align:left;overflow-wrap:anywhere}
.jm thead th{background:var(--jm-primary);color:#fff;font-weight:600}
.jm thead th .jm-sub{display:block;font-weight:400;font-size:11px;opacity:.9}
.jm thead th.jm-corner{background:#fff;color:var(--jm-muted);
border-color:#fff #fff var(--jm-rule) #fff}
.jm tbody th{background:#f4f6f8;font-weight:600;width:9em}
.jm col.jm-head{width:9em}
.jm ol,.jm ul{margin:0;padding:0;list-style:none}
.jm li{margin:0 0 4px}
.jm .jm-num{color:var(--jm-muted);font-variant-numeric:tabular-nums;white-space:nowrap}
.jm .jm-small{display:block;color:var(--jm-muted);font-size:11px}
.jm .jm-sep{border-top:1px dotted var(--jm-rule);margin-top:4px;padding-top:4px}
.jm .jm-na{color:var(--jm-muted);font-style:italic}
.jm td.jm-curve{padding:2px 0}
.jm svg{display:block;width:100%;height:auto}
.jm .jm-rank{display:inline-block;min-width:1.6em;font-weight:600;color:#b42318}
.jm .jm-opp{color:#0b6e4f;font-weight:600}
.jm p.jm-note{color:var(--jm-muted);font-size:11px;margin:4px 0 0}
@page jm-landscape{size:A4 landscape;margin:10mm}
@media print{.jm{page:jm-landscape;font-size:7.5pt;break-inside:avoid}
.jm caption{font-size:10pt}.jm tbody th,.jm col.jm-head{width:8.5em}
.jm th,.jm td{padding:3px 4px}.jm tr{break-inside:avoid}.jm li{margin:0 0 2px}
.jm .jm-small,.jm thead th .jm-sub{font-size:6.5pt}
.jm .jm-row-actions .jm-small{display:inline;margin-left:4px}
.jm *{-webkit-print-color-adjust:exact;print-color-adjust:exact}}
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _emotion_svg(stages: list[dict[str, Any]], language: str) -> str:
    """The emotion curve: points at the column centres, 95% whiskers, gaps for missing stages."""
    w = _words(language)
    k = len(stages)
    width, height, mid, amp = 100 * k, 64, 32.0, 25.0

    def y(v: float) -> float:
        return round(mid - amp * max(-1.0, min(1.0, float(v))), 2)

    parts = [
        f'<svg viewBox="0 0 {width} {height}" role="img" aria-label="{_e(w["curve"])}">',
        f"<title>{_e(w['curve'])}</title>",
        f'<line x1="0" y1="{mid}" x2="{width}" y2="{mid}" stroke="#c5ccd3" '
        'stroke-dasharray="3 3" stroke-width="0.8"/>',
        f'<text x="3" y="{mid - amp + 3}" font-size="7" fill="#5f6b7a">+1</text>',
        f'<text x="3" y="{mid + 2.5}" font-size="7" fill="#5f6b7a">0</text>',
        f'<text x="3" y="{mid + amp + 2}" font-size="7" fill="#5f6b7a">−1</text>',
    ]
    runs: list[list[tuple[float, float]]] = [[]]
    points = []
    for i, st in enumerate(stages):
        x = 100 * i + 50
        emo = st["emotion"]
        if not emo["available"]:
            runs.append([])
            parts.append(
                f'<text x="{x}" y="{mid - 4}" font-size="7.5" fill="#8a94a0" '
                f'text-anchor="middle" font-style="italic">{_e(w["not_available"])}</text>'
            )
            continue
        v = emo["value"]
        runs[-1].append((x, y(v)))
        lo, hi = emo.get("sat_low"), emo.get("sat_high")
        if emo.get("source") == "satisfaction" and lo is not None and hi is not None:
            parts.append(
                f'<line x1="{x}" y1="{y(hi)}" x2="{x}" y2="{y(lo)}" stroke="#8a94a0" '
                'stroke-width="1.2"/>'
            )
        colour = "#0b6e4f" if v >= 0.2 else "#b42318" if v <= -0.2 else "#b7791f"
        points.append(
            f'<circle cx="{x}" cy="{y(v)}" r="4" fill="{colour}" stroke="#fff" '
            f'stroke-width="1"><title>{_e(st["label"])}: {_e(emo["text"])}</title></circle>'
        )
    for run in runs:
        if len(run) >= 2:
            pts = " ".join(f"{a},{b}" for a, b in run)
            parts.append(
                f'<polyline points="{pts}" fill="none" stroke="#1f2933" stroke-width="1.6"/>'
            )
    parts += points
    parts.append("</svg>")
    return "".join(parts)


def _render_html(m: JourneyMap) -> str:
    d = m.to_dict()
    w = _words(m.language)
    rep = m.report
    stages = d["stages"]
    k = len(stages)
    titles = {r["key"]: r["title"] for r in d["rows"]}
    caption = " — ".join(t for t in (d["title"], d["persona"]) if t)
    if d["title"] and d["persona"] and d["persona"] in d["title"]:
        caption = d["title"]
    out = [
        f'<div class="jm" lang="{_e(m.language)}" style="--jm-primary:{_e(rep.primary_color)}">',
        f"<style>{_CSS}</style>",
        '<table class="jm-grid">',
    ]
    if caption:
        out.append(f"<caption>{_e(caption)}</caption>")
    out.append(f'<colgroup><col class="jm-head"><col span="{k}"></colgroup>')
    head = [f'<th scope="col" class="jm-corner">{_e(w["stage"])}</th>']
    for st in stages:
        sub = ""
        if st["customers"] is not None:
            n = fmt_number(st["customers"], rep)
            sub = f'<span class="jm-sub">{_e(n)} {_e(w["customers"])}</span>'
        head.append(f'<th scope="col">{st["position"]}. {_e(st["label"])}{sub}</th>')
    out.append(f"<thead><tr>{''.join(head)}</tr></thead><tbody>")

    def cell(items: list[str]) -> str:
        if not items:
            return f'<td><span class="jm-na">{_e(w["none"])}</span></td>'
        return "<td><ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul></td>"

    def row(key: str, cells: list[str]) -> None:
        out.append(
            f'<tr class="jm-row-{key}"><th scope="row">{_e(titles[key])}</th>{"".join(cells)}</tr>'
        )

    def named(label: str, num: str) -> str:
        return f'{_e(label)} <span class="jm-num">{_e(num)}</span>'

    row(
        "actions",
        [
            cell(
                [
                    named(a["label"], fmt_pct(a["share"], rep, decimals=0))
                    + f'<span class="jm-small">{_e(fmt_number(a["customers"], rep))} '
                    f"{_e(w['customers'])}</span>"
                    for a in st["actions"]
                ]
            )
            for st in stages
        ],
    )
    tcells = []
    for st in stages:
        ch = [t for t in st["touchpoints"] if t["dimension"] == "channel"]
        dv = [t for t in st["touchpoints"] if t["dimension"] == "device"]
        items = [named(t["label"], fmt_pct(t["share"], rep, decimals=0)) for t in ch]
        if dv:
            devs = " · ".join(
                f"{_e(t['label'])} {_e(fmt_pct(t['share'], rep, decimals=0))}" for t in dv
            )
            items.append(f'<span class="jm-small jm-sep">{_e(w["devices"])}: {devs}</span>')
        tcells.append(cell(items))
    row("touchpoints", tcells)
    out.append(
        f'<tr class="jm-row-emotion"><th scope="row" rowspan="2">{_e(titles["emotion"])}</th>'
        f'<td class="jm-curve" colspan="{k}">{_emotion_svg(stages, m.language)}</td></tr>'
    )
    ecells = []
    for st in stages:
        emo = st["emotion"]
        if not emo["available"]:
            ecells.append(f'<td><span class="jm-na">{_e(emo["text"])}</span></td>')
            continue
        first, *rest = emo["text"].split(" · ")
        small = "".join(f'<span class="jm-small">{_e(t)}</span>' for t in rest)
        ecells.append(f"<td><strong>{_e(first)}</strong>{small}</td>")
    out.append(f'<tr class="jm-row-emotion-values">{"".join(ecells)}</tr>')
    row(
        "pain_points",
        [
            cell(
                [
                    f'<span class="jm-rank">#{_e(p["rank"])}</span>{_e(p["title"])}'
                    f'<span class="jm-small">{_e(p["numbers"])}</span>'
                    for p in st["pain_points"]
                ]
            )
            for st in stages
        ],
    )
    ocells = []
    for st in stages:
        items = []
        for o in st["opportunities"]:
            extra = []
            if o["action_label"]:
                extra.append(w["playbook"].format(v=o["action_label"]))
            if o["value_at_stake"] is not None:
                extra.append(f"{fmt_money(o['value_at_stake'], rep)} {w['at_stake']}")
            small = f'<span class="jm-small">{_e(" · ".join(extra))}</span>' if extra else ""
            items.append(f'<span class="jm-opp">→</span> {_e(o["text"])}{small}')
        ocells.append(cell(items))
    row("opportunities", ocells)
    out.append("</tbody></table>")
    out.append(f'<p class="jm-note">{_e(w["scale"])}</p></div>')
    return "\n".join(out)
