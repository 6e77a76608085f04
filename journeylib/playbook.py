"""Next best action: one action per customer from the client's playbook (``50_recommendations``).

The playbook is part of the client config (``playbook:``, :class:`journeylib.config.PlaybookSpec`):
named actions in English and Bahasa Indonesia, and an ordered list of rules. Each rule names an
action and the conditions under which it applies; **the first rule whose conditions all hold
gives a customer's action**, and a customer matching no rule gets none (counted, never hidden).
The default playbook, in priority order:

1. ``win_back``: high churn risk and high value -> win-back offer;
2. ``cart_recovery``: left a cart without buying in the last ``recent_days`` -> cart recovery
   email;
3. ``service_recovery``: hit a friction event (checkout or payment error, late delivery, return,
   support contact) in the last ``recent_days`` -> apology and service follow-up;
4. ``at_risk``: high churn risk -> re-engagement reminder;
5. ``lapsed_buyer``: a buyer with no activity in the ``lapse_days`` before the cut-off ->
   re-engagement reminder (the rule that still works without a churn model);
6. ``advocacy``: a satisfied repeat buyer (promoter, or reviews of 4+ stars), still active ->
   review or referral request;
7. ``new_buyer``: exactly one order -> onboarding and usage tips;
8. ``repeat_buyer``: two or more orders, still active -> loyalty reward;
9. ``considering``: reached consideration or decision without ordering, still active ->
   retargeting with comparison content;
10. ``aware``: active, never ordered -> welcome content and a first-order incentive.

:func:`action_context` gathers what the rules read, one row per customer as of the cut-off:
furthest stage and lapse (:func:`journeylib.stages.customer_stages`), orders and satisfaction
(:func:`journeylib.features.customer_features`), persona (the ``persona_assignments`` table the
personas notebook writes), churn probability and value (the ``churn_at_risk`` table the churn
notebook writes; without it, value is the revenue so far and no customer has a risk band), and
two recent signals computed from the events. Bands: churn probability >= ``high_risk`` is high,
>= ``medium_risk`` medium, else low; the ``high_value_share`` most valuable customers are high
value, the next ``medium_value_share`` medium, the rest low.

:func:`next_best_actions` applies the rules (vectorised, one mask per rule) and writes each
customer's reason in words; :func:`action_summary` counts customers and the value at stake
(churn probability x value) per action. :func:`cart_recovery_uplift` estimates, from the event
history, how much more often abandoned carts are recovered when the customer comes back through
an e-mail or WhatsApp message soon after: an **observational** comparison, not an experiment.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from journeylib.sql import (
    days_between,
    end_of_day,
    first_by,
    in_list,
    literal,
    require_columns,
)

if TYPE_CHECKING:  # pragma: no cover
    import plotly.graph_objects as go

    from journeylib.config import Config, PlaybookRule, PlaybookSpec
    from journeylib.engine import Engine

__all__ = [
    "CONTEXT_COLUMNS",
    "NO_ACTION",
    "action_context",
    "action_summary",
    "cart_recovery_uplift",
    "next_best_actions",
    "plot_action_summary",
]

ID = "customer_id"
NO_ACTION = "(no action)"
#: Columns of :func:`action_context`, in order.
CONTEXT_COLUMNS = (
    "customer_id",
    "stage",
    "lapsed",
    "persona",
    "persona_label",
    "orders",
    "satisfied",
    "abandoned_cart",
    "friction",
    "churn_probability",
    "risk_band",
    "value",
    "value_band",
)
_PROMOTER = 9.0
_GOOD_REVIEW = 4.0


# ---- context ---------------------------------------------------------------------------------
def _recent_signals(engine: Engine, config: Config, as_of: dt.date, days: int) -> pd.DataFrame:
    """Per customer with events in the last ``days``: an abandoned cart not bought since, and
    any friction event."""
    from journeylib.features import DEFAULT_FRICTION_EVENTS

    journey = config.journey
    friction = list(dict.fromkeys([*journey.friction_events, *DEFAULT_FRICTION_EVENTS]))
    cutoff = end_of_day(as_of)
    since = end_of_day(as_of - dt.timedelta(days=days))
    cart, conv = literal(journey.cart_event), literal(journey.conversion_event)
    return engine.query(
        f"""
        WITH s AS (
            SELECT customer_id, session_id,
                   MAX(CASE WHEN event = {cart} THEN ts END) AS cart_ts,
                   MAX(CASE WHEN event = {conv} THEN ts END) AS conv_ts,
                   MAX(CASE WHEN {in_list("event", friction)} THEN 1 ELSE 0 END) AS friction
            FROM events
            WHERE ts >= {since} AND ts < {cutoff} AND customer_id IS NOT NULL
            GROUP BY customer_id, session_id)
        SELECT customer_id,
               MAX(CASE WHEN conv_ts IS NULL THEN cart_ts END) AS last_abandoned,
               MAX(conv_ts) AS last_conversion,
               MAX(friction) AS friction
        FROM s GROUP BY customer_id
        """
    )


def _optional_table(engine: Engine, name: str, columns: Sequence[str]) -> pd.DataFrame | None:
    if name not in engine.tables():
        return None
    cols = require_columns(engine, name, [ID]).columns
    keep = [c for c in (ID, *columns) if c in cols]
    return engine.query(f"SELECT {', '.join(keep)} FROM {name}")


def _bands(values: pd.Series, high: float, medium: float) -> pd.Series:
    """Value bands by rank: the top ``high`` share is high, the next ``medium`` share medium;
    zero or unknown value is low."""
    out = pd.Series("low", index=values.index, dtype="object")
    pos = values.where(values > 0)
    n = int(pos.notna().sum())
    if n:
        rank = pos.rank(ascending=False, method="first")  # 1 = most valuable
        out[rank <= math.ceil(high * n)] = "high"
        out[(rank > math.ceil(high * n)) & (rank <= math.ceil((high + medium) * n))] = "medium"
    return out


#: The feature table's columns the context reads (the kept table is read for these only).
_FEATURE_COLUMNS = (
    "rfm_frequency",
    "rfm_monetary",
    "satisfaction_nps_mean",
    "satisfaction_review_mean",
)


def action_context(
    engine: Engine,
    config: Config,
    *,
    as_of: dt.date | str | None = None,
    features: pd.DataFrame | None = None,
    personas: pd.DataFrame | None = None,
    at_risk: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """What the playbook rules read, one row per customer as of the cut-off.

    Parameters
    ----------
    engine
        Canonical tables; ``persona_assignments`` and ``churn_at_risk`` (written by the personas
        and churn notebooks next to the processed tables) are read when present.
    config
        ``playbook`` (bands, ``recent_days``), ``journey`` (cart, conversion and friction
        events) and the stage rules.
    as_of
        Cut-off day (default ``config.effective_as_of``, else the last day holding data).
    features
        The feature table at ``as_of`` (computed when not given).
    personas, at_risk
        Override the tables read from the engine: ``customer_id, persona, persona_label`` and
        ``customer_id, churn_probability, value``.

    Returns
    -------
    DataFrame
        :data:`CONTEXT_COLUMNS`, one row per customer of the feature table (sorted by id).
        ``stage`` is the furthest stage (NaN without any stage signal); ``orders`` the orders
        before the cut-off; ``satisfied`` a mean NPS of 9+ or a mean review of 4+ stars;
        ``abandoned_cart`` a cart left in the last ``recent_days`` without a purchase since;
        ``friction`` a friction event in the last ``recent_days``; ``churn_probability`` and
        ``risk_band`` are NaN for customers the churn model did not score; ``value`` is the
        churn table's value when present, else the revenue so far.
    """
    from journeylib.features import customer_features
    from journeylib.stages import StageModel, customer_stages

    spec = config.playbook
    cut = as_of or config.effective_as_of
    if features is None:
        # no cut-off anywhere: the feature table measures to the last day holding data. Every
        # group, though only rfm and satisfaction are read: that is the table the personas
        # notebook computed and kept (engine.kept), read back instead of computed again
        features = customer_features(
            engine,
            as_of=cut,
            config=config,
            columns=[ID, *_FEATURE_COLUMNS],
        )
    cut = cut or features.attrs.get("as_of")
    if cut is None:
        raise ValueError(
            "action_context needs a cut-off: set as_of (or data.window) in the config; the data "
            "hold no dated activity to take the last day from"
        )
    day = pd.Timestamp(cut).date()
    ctx = features[[ID]].copy()
    ctx["orders"] = features["rfm_frequency"].to_numpy() if "rfm_frequency" in features else 0
    nps = features.get("satisfaction_nps_mean", pd.Series(np.nan, index=features.index))
    review = features.get("satisfaction_review_mean", pd.Series(np.nan, index=features.index))
    ctx["satisfied"] = ((nps >= _PROMOTER) | (review >= _GOOD_REVIEW)).fillna(False).to_numpy()

    stages = customer_stages(engine, StageModel.from_config(config), as_of=day)
    ctx = ctx.merge(
        stages[[ID, "furthest_stage", "lapsed"]].rename(columns={"furthest_stage": "stage"}),
        on=ID,
        how="left",
    )
    ctx["stage"] = ctx["stage"].astype("object")
    ctx["lapsed"] = ctx["lapsed"].astype("boolean").fillna(True).astype(bool)

    recent = _recent_signals(engine, config, day, spec.recent_days)
    ctx = ctx.merge(recent, on=ID, how="left")
    abandoned = ctx["last_abandoned"].notna() & (
        ctx["last_conversion"].isna() | (ctx["last_conversion"] < ctx["last_abandoned"])
    )
    ctx["abandoned_cart"] = abandoned.to_numpy(dtype=bool)
    ctx["friction"] = (ctx["friction"].fillna(0) > 0).to_numpy(dtype=bool)
    ctx = ctx.drop(columns=["last_abandoned", "last_conversion"])

    if personas is None:
        personas = _optional_table(engine, "persona_assignments", ["persona", "persona_label"])
    if personas is not None:
        ctx = ctx.merge(personas[[ID, "persona", "persona_label"]], on=ID, how="left")
    else:
        ctx["persona"], ctx["persona_label"] = np.nan, None

    if at_risk is None:
        at_risk = _optional_table(engine, "churn_at_risk", ["churn_probability", "value"])
    revenue = features.get("rfm_monetary", pd.Series(0.0, index=features.index))
    if at_risk is not None:
        ctx = ctx.merge(at_risk[[ID, "churn_probability", "value"]], on=ID, how="left")
        # left merges keep the feature table's row order: revenue lines up row by row
        ctx["value"] = ctx["value"].fillna(pd.Series(revenue.to_numpy(float), index=ctx.index))
    else:
        ctx["churn_probability"] = np.nan
        ctx["value"] = revenue.to_numpy(dtype=float)
    p = ctx["churn_probability"]
    ctx["risk_band"] = np.where(
        p >= spec.high_risk, "high", np.where(p >= spec.medium_risk, "medium", "low")
    )
    ctx["risk_band"] = ctx["risk_band"].where(p.notna())
    ctx["value_band"] = _bands(ctx["value"], spec.high_value_share, spec.medium_value_share)
    return ctx[list(CONTEXT_COLUMNS)].sort_values(ID, ignore_index=True)


# ---- rules -----------------------------------------------------------------------------------
def _mask(ctx: pd.DataFrame, rule: PlaybookRule) -> pd.Series:
    w = rule.when
    m = pd.Series(True, index=ctx.index)
    if w.stage:
        m &= ctx["stage"].isin(w.stage)
    if w.persona:
        wanted = {str(v) for v in w.persona}
        m &= ctx["persona"].astype(str).isin(wanted) | ctx["persona_label"].astype(str).isin(wanted)
    if w.churn_risk:
        m &= ctx["risk_band"].isin(w.churn_risk)
    if w.value:
        m &= ctx["value_band"].isin(w.value)
    for flag in ("abandoned_cart", "friction", "satisfied", "lapsed"):
        want = getattr(w, flag)
        if want is not None:
            m &= ctx[flag].astype(bool) == want
    if w.orders_min is not None:
        m &= ctx["orders"] >= w.orders_min
    if w.orders_max is not None:
        m &= ctx["orders"] <= w.orders_max
    return m.fillna(False).astype(bool)


_WORDS = {
    "en": {
        "stage": "furthest stage {v}",
        "persona": "persona {v}",
        "churn_risk": "{v} churn risk ({p})",
        "value": "{v} value",
        "abandoned_cart": ("left a cart in the last {d} days", "no recent abandoned cart"),
        "friction": ("hit a problem in the last {d} days", "no recent problem"),
        "satisfied": ("satisfied (promoter or 4+ star reviews)", "not a promoter"),
        "lapsed": ("inactive for {l} days", "still active"),
        "orders": {1: "one order", "n": "{n} orders", 0: "no order yet"},
        "always": "default action",
        "bands": {"high": "high", "medium": "medium", "low": "low"},
        "no_action": NO_ACTION,
        "hover": "%{y}: %{x:,} customers (%{customdata[0]:.1%}), value at stake "
        "%{customdata[1]:,.0f}<extra></extra>",
    },
    "id": {
        "stage": "tahap terjauh {v}",
        "persona": "persona {v}",
        "churn_risk": "risiko churn {v} ({p})",
        "value": "nilai {v}",
        "abandoned_cart": (
            "meninggalkan keranjang dalam {d} hari terakhir",
            "tidak ada keranjang tertinggal",
        ),
        "friction": ("mengalami kendala dalam {d} hari terakhir", "tidak ada kendala baru"),
        "satisfied": ("puas (promotor atau ulasan bintang 4+)", "bukan promotor"),
        "lapsed": ("tidak aktif selama {l} hari", "masih aktif"),
        "orders": {1: "satu pesanan", "n": "{n} pesanan", 0: "belum pernah memesan"},
        "always": "tindakan bawaan",
        "bands": {"high": "tinggi", "medium": "sedang", "low": "rendah"},
        "no_action": "(tanpa tindakan)",
        "hover": "%{y}: %{x:,} pelanggan (%{customdata[0]:.1%}), nilai yang dipertaruhkan "
        "%{customdata[1]:,.0f}<extra></extra>",
    },
}


def _reasons(
    ctx: pd.DataFrame,
    rule: PlaybookRule,
    words: dict,
    recent_days: int,
    lapse_days: int,
    stage_labels: dict[str, str],
) -> pd.Series:
    """The rule's conditions in words, with each customer's own numbers where they vary."""
    w = rule.when
    parts: list[pd.Series] = []
    const = lambda text: pd.Series(text, index=ctx.index, dtype="object")  # noqa: E731
    if w.stage:
        parts.append(ctx["stage"].map(lambda s: words["stage"].format(v=stage_labels.get(s, s))))
    if w.persona:
        parts.append(
            ctx["persona_label"]
            .fillna(ctx["persona"].astype(str))
            .map(lambda v: words["persona"].format(v=v))
        )
    if w.churn_risk:
        parts.append(
            pd.Series(
                [
                    words["churn_risk"].format(v=words["bands"].get(b, b), p=f"{p:.0%}")
                    for b, p in zip(ctx["risk_band"], ctx["churn_probability"], strict=True)
                ],
                index=ctx.index,
            )
        )
    if w.value:
        parts.append(ctx["value_band"].map(lambda b: words["value"].format(v=words["bands"][b])))
    if w.orders_min is not None or w.orders_max is not None:
        o = words["orders"]
        parts.append(ctx["orders"].map(lambda n: o.get(int(n)) or o["n"].format(n=int(n))))
    for flag in ("abandoned_cart", "friction", "satisfied", "lapsed"):
        want = getattr(w, flag)
        if want is not None:
            yes, no = words[flag]
            parts.append(const((yes if want else no).format(d=recent_days, l=lapse_days)))
    if not parts:
        return const(words["always"])
    out = parts[0].astype(str)
    for p in parts[1:]:
        out = out + ", " + p.astype(str)
    return out


def next_best_actions(
    context: pd.DataFrame,
    spec: PlaybookSpec,
    *,
    language: str = "en",
    stage_labels: dict[str, str] | None = None,
    lapse_days: int = 90,
) -> pd.DataFrame:
    """One action per customer: the first playbook rule whose conditions hold.

    Parameters
    ----------
    context
        :func:`action_context`.
    spec
        The playbook (``config.playbook``).
    language
        ``"en"`` or ``"id"``: the wording of the action labels and reasons.
    stage_labels
        Stage name -> label for the reasons (default: the names).
    lapse_days
        Only for the wording of the ``lapsed`` condition.

    Returns
    -------
    DataFrame
        One row per customer of ``context``: customer_id, action (key, :data:`NO_ACTION` when
        no rule matches), action_label, channel, rule and reason ("" when none matches), stage, persona_label,
        churn_probability, value, value_at_stake (churn probability x value; NaN without a
        churn probability).
    """
    words = _WORDS.get(language, _WORDS["en"])
    labels = stage_labels or {}
    out = pd.DataFrame({ID: context[ID].to_numpy()})
    action = pd.Series(NO_ACTION, index=context.index, dtype="object")
    rule_name = pd.Series("", index=context.index, dtype="object")
    reason = pd.Series("", index=context.index, dtype="object")
    free = pd.Series(True, index=context.index)
    for rule in spec.rules:
        hit = free & _mask(context, rule)
        if not hit.any():
            continue
        action[hit] = rule.action
        rule_name[hit] = rule.name
        sub = context[hit]
        reason[hit] = _reasons(sub, rule, words, spec.recent_days, lapse_days, labels)
        free &= ~hit
    label_key = "label_id" if language == "id" else "label"
    out["action"] = action.to_numpy()
    out["action_label"] = [
        getattr(spec.actions[a], label_key)
        if a in spec.actions
        else (words["no_action"] if a == NO_ACTION else a)
        for a in action
    ]
    out["channel"] = [spec.actions[a].channel if a in spec.actions else "" for a in action]
    out["rule"] = rule_name.to_numpy()
    out["reason"] = reason.to_numpy()
    for col in ("stage", "persona_label", "churn_probability", "value"):
        out[col] = context[col].to_numpy()
    out["value_at_stake"] = out["churn_probability"] * out["value"]
    return out


def action_summary(
    actions: pd.DataFrame, spec: PlaybookSpec, *, language: str = "en"
) -> pd.DataFrame:
    """Customers and value at stake per action, in playbook order, unmatched last.

    One row per action that any customer got, plus :data:`NO_ACTION` (always listed, 0 when
    every customer matched): action, action_label, channel, customers, share, value_at_stake
    (sum of churn probability x value; NaN when nobody has a churn probability),
    mean_churn_probability, rules (the rules that gave it). ``language`` (``en``/``id``) is
    the wording of the :data:`NO_ACTION` row's label when no customer is without an action
    (the other labels come from ``actions``).
    """
    order = {r.action: i for i, r in reversed(list(enumerate(spec.rules)))}
    g = actions.groupby("action", sort=False)
    out = pd.DataFrame(
        {
            "action_label": g["action_label"].first(),
            "channel": g["channel"].first(),
            "customers": g.size(),
            "value_at_stake": g["value_at_stake"].sum(min_count=1),
            "mean_churn_probability": g["churn_probability"].mean(),
            "rules": g["rule"].agg(lambda s: ", ".join(sorted(v for v in s.unique() if v))),
        }
    )
    if NO_ACTION not in out.index:
        no_action = _WORDS.get(language, _WORDS["en"])["no_action"]
        out.loc[NO_ACTION] = [no_action, "", 0, np.nan, np.nan, ""]
    out = out.reset_index(names="action")
    out["share"] = out["customers"] / max(len(actions), 1)
    out["_o"] = out["action"].map(order).fillna(len(spec.rules))
    out = out.sort_values(["_o", "action"], ignore_index=True).drop(columns="_o")
    out["customers"] = out["customers"].astype("int64")
    cols = ["action", "action_label", "channel", "customers", "share", "value_at_stake"]
    return out[[*cols, "mean_churn_probability", "rules"]]


def plot_action_summary(summary: pd.DataFrame, *, language: str = "en") -> go.Figure:
    """Bar chart of :func:`action_summary`: customers per action (value at stake on hover).

    ``language`` (``en``/``id``) words the hover text and the bar of customers without an
    action; the title and axis title are English phrases for the display's catalogue.
    """
    import plotly.graph_objects as go

    words = _WORDS.get(language, _WORDS["en"])
    s = summary[summary["customers"] > 0]
    fig = go.Figure(
        go.Bar(
            x=s["customers"],
            y=s["action_label"].where(s["action"] != NO_ACTION, words["no_action"]),
            orientation="h",
            customdata=np.c_[s["share"], s["value_at_stake"].fillna(0)],
            hovertemplate=words["hover"],
            marker_color="#0B6E4F",
        )
    )
    fig.update_layout(
        title="Next best action: customers per action",
        xaxis_title="customers",
        yaxis={"autorange": "reversed"},
        margin={"l": 260, "r": 20, "t": 50, "b": 40},
        height=140 + 32 * len(s),
    )
    return fig


# ---- observed uplift -------------------------------------------------------------------------
def cart_recovery_uplift(
    engine: Engine,
    *,
    as_of: dt.date | str | None = None,
    cart_event: str = "add_to_cart",
    purchase_event: str = "purchase",
    channels: Sequence[str] = ("email", "whatsapp"),
    contact_days: float = 2.0,
    window_days: float = 7.0,
) -> pd.DataFrame:
    """Abandoned carts recovered with and without a message-driven return visit (observational).

    An **abandoned cart** is a session with a cart event and no purchase; it counts only when
    its whole follow-up window (``window_days`` after the cart) lies before the end of the
    ``as_of`` day. It is **contacted** when the customer starts another session from one of
    ``channels`` (e-mail, WhatsApp: messages the shop sends) within ``contact_days`` after the
    cart, and **recovered** when the customer buys in a later session within ``window_days``.

    This compares carts that happened to be followed by a message-driven visit with carts that
    were not; it is not an experiment. Customers who open a message were more engaged to begin
    with, and a visit is itself a chance to buy, so the difference is an upper bound on what the
    message caused. Treat it as a reason to run a holdout test, not as the effect.

    Returns
    -------
    DataFrame
        Two rows (contacted = True / False): carts, recovered, recovery_rate, and on both rows
        the difference in rates (contacted - not) with a 95% Wald interval.
    """
    require_columns(engine, "events", [ID, "ts", "event", "session_id", "channel"], timestamp="ts")
    cutoff = end_of_day(as_of) if as_of is not None else None
    limit = f"AND ts < {cutoff}" if cutoff else ""
    last = engine.query(f"SELECT MAX(ts) AS t FROM events WHERE TRUE {limit}")["t"].iat[0]
    if pd.isna(last):
        raise ValueError("cart_recovery_uplift: the events table has no rows before the cut-off")
    # carts whose whole follow-up window lies inside the data
    latest = pd.Timestamp(last)
    latest = latest.tz_localize("UTC") if latest.tzinfo is None else latest.tz_convert("UTC")
    latest_cart = (latest - pd.Timedelta(days=window_days)).strftime("%Y-%m-%d %H:%M:%S")
    cart, buy = literal(cart_event), literal(purchase_event)
    df = engine.query(
        f"""
        WITH s AS (
            SELECT customer_id, session_id, MIN(ts) AS start_ts,
                   MAX(CASE WHEN event = {cart} THEN ts END) AS cart_ts,
                   MAX(CASE WHEN event = {buy} THEN ts END) AS buy_ts,
                   {first_by("channel", ("ts", "channel"))} AS channel
            FROM events WHERE customer_id IS NOT NULL {limit}
            GROUP BY customer_id, session_id),
        a AS (
            SELECT customer_id, session_id, cart_ts FROM s
            WHERE cart_ts IS NOT NULL AND buy_ts IS NULL
              AND cart_ts <= TIMESTAMPTZ '{latest_cart}+00'),
        f AS (
            SELECT a.customer_id, a.session_id,
                   MAX(CASE WHEN {in_list("n.channel", channels)}
                             AND {days_between("a.cart_ts", "n.start_ts")} <= {contact_days}
                            THEN 1 ELSE 0 END) AS contacted,
                   MAX(CASE WHEN n.buy_ts IS NOT NULL
                             AND {days_between("a.cart_ts", "n.buy_ts")} <= {window_days}
                            THEN 1 ELSE 0 END) AS recovered
            FROM a LEFT JOIN s n
              ON n.customer_id = a.customer_id AND n.session_id <> a.session_id
             AND n.start_ts > a.cart_ts
            GROUP BY a.customer_id, a.session_id)
        SELECT contacted = 1 AS contacted, COUNT(*) AS carts, SUM(recovered) AS recovered
        FROM f GROUP BY 1 ORDER BY 1 DESC
        """
    )
    out = pd.DataFrame({"contacted": [True, False]}).merge(df, on="contacted", how="left")
    out["carts"] = out["carts"].fillna(0).astype("int64")
    out["recovered"] = out["recovered"].fillna(0).astype("int64")
    out["recovery_rate"] = out["recovered"] / out["carts"].where(out["carts"] > 0)
    p1, p0 = out["recovery_rate"].iat[0], out["recovery_rate"].iat[1]
    n1, n0 = out["carts"].iat[0], out["carts"].iat[1]
    diff = p1 - p0
    se = math.sqrt(p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0) if n1 and n0 else float("nan")
    out["difference"] = diff
    out["difference_low"] = diff - 1.96 * se
    out["difference_high"] = diff + 1.96 * se
    return out
