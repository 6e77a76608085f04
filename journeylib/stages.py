"""Journey stages: map a raw event log onto awareness -> ... -> advocacy, declaratively.

The client config lists the stages in order (:class:`journeylib.config.StageRule`); each stage is
signalled by events (by name, optionally only on some channels/devices or above a value) and by
derived signals from orders and feedback (every order, a repeat order within N days, NPS 9-10,
4-5 star reviews). From these *stage signals* everything else follows:

* **per event** its stage (``event_stages``); when an event matches several stages the furthest
  one wins, because the event is evidence that the customer got at least that far; events that
  match no stage are counted and listed by :func:`unmapped_events`, never silently dropped;
* **per customer** the signals ordered by time (ties: lower stage first, so the furthest stage is
  the later one) are collapsed into *runs* of the same stage. A run lasts until the next run
  starts; the last run lasts until the customer's last activity (event, order or feedback). Hence: the date each stage was
  first entered, the dwell time in each stage (summed over its runs), the furthest stage reached
  and the current stage (the stage of the last run);
* a customer with no activity in the ``lapse_days`` before ``as_of`` has **exited**;
* the **transition matrix** counts moves between consecutive runs, forward or back (regressions),
  from ``(start)`` into the first stage, and into ``(exit)`` for lapsed customers (customers still
  active end in ``(active)``).

Only activity up to the end of ``as_of`` (UTC) is used. All event-level work is SQL run by the
engine; the results are customer-level or aggregated pandas frames.
"""

from __future__ import annotations

import datetime as dt
import warnings
from dataclasses import dataclass, replace

import pandas as pd

from journeylib.config import Config, EventMatch, StageRule, StageSignal
from journeylib.engine import Engine, as_engine, kept, query_per_customer
from journeylib.sql import days_between, end_of_day, in_list, last_by, literal

#: The default five stages (used when a config lists none).
DEFAULT_STAGES: tuple[StageRule, ...] = (
    StageRule(name="awareness", label_id="Kesadaran", events=["page_view", "view_promotion"]),
    StageRule(
        name="consideration",
        label_id="Pertimbangan",
        events=["view_item", "search", "add_to_wishlist", "compare_products"],
    ),
    StageRule(
        name="decision",
        label_id="Keputusan",
        events=["add_to_cart", "begin_checkout", "add_payment_info", "purchase"],
        signals=[StageSignal(kind="order")],
    ),
    StageRule(
        name="retention",
        label_id="Retensi",
        signals=[StageSignal(kind="repeat_purchase", within_days=90)],
    ),
    StageRule(
        name="advocacy",
        label_id="Advokasi",
        events=["refer_friend"],
        signals=[
            StageSignal(kind="feedback", feedback_kind="nps", min_score=9),
            StageSignal(kind="feedback", feedback_kind="review", min_score=4),
        ],
    ),
)

START, EXIT, ACTIVE = "(start)", "(exit)", "(active)"
#: The pseudo-stages of the transition matrix in Bahasa Indonesia.
_SPECIAL_ID = {START: "(awal)", EXIT: "(keluar)", ACTIVE: "(masih aktif)"}

#: Chart text in each report language.
_TEXT: dict[str, dict[str, str]] = {
    "en": {
        "reach_title": "Customers reaching each stage",
        "customers": "customers",
        "moves_title": "Stage transitions (share of moves out of each stage)",
        "to": "to",
        "from": "from",
    },
    "id": {
        "reach_title": "Pelanggan yang mencapai setiap tahap",
        "customers": "pelanggan",
        "moves_title": "Perpindahan tahap (porsi perpindahan keluar dari setiap tahap)",
        "to": "ke",
        "from": "dari",
    },
}


def _t(language: str, key: str) -> str:
    return _TEXT.get(language, _TEXT["en"])[key]


@dataclass(frozen=True)
class StageModel:
    """The ordered stages of a client and how to recognise them.

    Parameters
    ----------
    rules
        The stages in journey order.
    lapse_days
        No activity for this many days before ``as_of`` means the customer has exited.
    language
        ``en`` or ``id``: which labels :meth:`label` returns.
    """

    rules: tuple[StageRule, ...] = DEFAULT_STAGES
    lapse_days: int = 90
    language: str = "en"

    @classmethod
    def from_config(cls, config: Config) -> StageModel:
        rules = tuple(config.stages) or DEFAULT_STAGES
        return cls(rules=rules, lapse_days=config.lapse_days, language=config.report.language)

    @property
    def names(self) -> list[str]:
        return [r.name for r in self.rules]

    def label(self, name: str) -> str:
        """The display label of a stage (Bahasa Indonesia when the language is ``id``, also for
        the pseudo-stages ``(start)``, ``(exit)`` and ``(active)``)."""
        for r in self.rules:
            if r.name == name:
                if self.language == "id" and r.label_id:
                    return r.label_id
                return r.label or r.name.replace("_", " ").capitalize()
        if self.language == "id":
            return _SPECIAL_ID.get(name, name)
        return name

    def labels(self) -> dict[str, str]:
        return {n: self.label(n) for n in [*self.names, START, EXIT, ACTIVE]}

    # ---- SQL -----------------------------------------------------------------------------
    def _match_sql(self, m: EventMatch) -> str:
        parts = [f"event = {literal(m.event)}"]
        if m.channel:
            parts.append(in_list("channel", m.channel))
        if m.device:
            parts.append(in_list("device", m.device))
        if m.min_value is not None:
            parts.append(f"value >= {float(m.min_value)!r}")
        return "(" + " AND ".join(parts) + ")"

    def event_stage_sql(self) -> str:
        """``CASE`` expression giving an event's stage number (1-based; NULL = unmapped)."""
        whens = []
        for no in range(len(self.rules), 0, -1):  # furthest stage first: it wins
            matches = self.rules[no - 1].matches
            if matches:
                whens.append(f"WHEN {' OR '.join(self._match_sql(m) for m in matches)} THEN {no}")
        if not whens:
            return "CAST(NULL AS INTEGER)"
        return "CASE " + " ".join(whens) + " END"

    def signal_sql(self, no: int, sig: StageSignal, cutoff: str) -> str:
        orders = (
            "SELECT customer_id, order_id, MIN(ts) AS ts FROM orders "
            f"WHERE ts < {cutoff} GROUP BY customer_id, order_id"
        )
        if sig.kind == "order":
            return f"SELECT customer_id, ts, {no} AS stage_no, 'order' AS source FROM ({orders})"
        if sig.kind == "repeat_purchase":
            gap = (
                f"AND ts - prev_ts <= INTERVAL '{int(sig.within_days)} days'"
                if sig.within_days
                else ""
            )
            return (
                f"SELECT customer_id, ts, {no} AS stage_no, 'repeat_purchase' AS source FROM ("
                "SELECT customer_id, ts, "
                "ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY ts, order_id) AS n, "
                "LAG(ts) OVER (PARTITION BY customer_id ORDER BY ts, order_id) AS prev_ts "
                f"FROM ({orders})) WHERE n >= {int(sig.min_orders)} {gap}"
            )
        return (
            f"SELECT customer_id, ts, {no} AS stage_no, 'feedback' AS source FROM feedback "
            f"WHERE kind = {literal(sig.feedback_kind)} AND score >= {float(sig.min_score)!r} "
            f"AND ts < {cutoff}"
        )

    def signals_sql(self, cutoff: str, *, table: str = "events", per_session: bool = False) -> str:
        """All stage signals: one row per (customer_id, ts, stage_no, source).

        With ``per_session`` the event signals are summarised to one per session: the session's
        furthest stage at the session's first signal time (a visit is as far as it got).
        """
        if per_session:
            events = (
                f"SELECT customer_id, MIN(ts) AS ts, MAX(stage_no) AS stage_no, 'session' AS source "
                f"FROM (SELECT customer_id, session_id, ts, {self.event_stage_sql()} AS stage_no "
                f"FROM {table} WHERE ts < {cutoff}) WHERE stage_no IS NOT NULL "
                "GROUP BY customer_id, session_id"
            )
        else:
            events = (
                f"SELECT customer_id, ts, {self.event_stage_sql()} AS stage_no, 'event' AS source "
                f"FROM {table} WHERE ts < {cutoff}"
            )
        parts = [events]
        for no, rule in enumerate(self.rules, start=1):
            parts += [self.signal_sql(no, sig, cutoff) for sig in rule.signals]
        union = " UNION ALL ".join(f"({p})" for p in parts)
        return f"SELECT * FROM ({union}) WHERE stage_no IS NOT NULL"


def _runs_sql(model: StageModel, cutoff: str, table: str) -> str:
    """One row per customer x run of consecutive (session-level) signals of the same stage."""
    return f"""
    WITH sig AS ({model.signals_sql(cutoff, table=table, per_session=True)}),
    ordered AS (
        SELECT customer_id, ts, stage_no,
               CASE WHEN stage_no = LAG(stage_no) OVER w THEN 0 ELSE 1 END AS new_run
        FROM sig
        WINDOW w AS (PARTITION BY customer_id ORDER BY ts, stage_no)
    ),
    numbered AS (
        SELECT customer_id, ts, stage_no,
               SUM(new_run) OVER (PARTITION BY customer_id ORDER BY ts, stage_no
                                  ROWS UNBOUNDED PRECEDING) AS run_no
        FROM ordered
    ),
    runs AS (
        SELECT customer_id, run_no, MIN(stage_no) AS stage_no, MIN(ts) AS start_ts,
               COUNT(*) AS signals
        FROM numbered GROUP BY customer_id, run_no
    ),
    last_seen AS (
        SELECT customer_id, MAX(ts) AS last_ts FROM (
            SELECT customer_id, ts FROM {table} WHERE ts < {cutoff}
            UNION ALL SELECT customer_id, ts FROM orders WHERE ts < {cutoff}
            UNION ALL SELECT customer_id, ts FROM feedback WHERE ts < {cutoff}
        ) GROUP BY customer_id
    )
    SELECT r.customer_id, r.run_no, r.stage_no, r.start_ts, r.signals,
           LEAD(r.stage_no) OVER (PARTITION BY r.customer_id ORDER BY r.run_no) AS next_stage_no,
           COALESCE(LEAD(r.start_ts) OVER (PARTITION BY r.customer_id ORDER BY r.run_no),
                    l.last_ts) AS end_ts,
           l.last_ts
    FROM runs r JOIN last_seen l USING (customer_id)
    """


def _lapse_sql(model: StageModel, as_of: dt.date | str | None, cutoff: str) -> str:
    if as_of is None:
        return "FALSE"
    return f"last_ts < {cutoff} - INTERVAL '{int(model.lapse_days)} days'"


def _names(model: StageModel, col: pd.Series) -> pd.Series:
    lookup = dict(enumerate(model.names, start=1))
    return col.map(lookup).astype("string")


def customer_stages(
    events: Engine | pd.DataFrame,
    model: StageModel | None = None,
    *,
    as_of: dt.date | str | None = None,
    table: str = "events",
) -> pd.DataFrame:
    """Where each customer is in the journey.

    Returns
    -------
    pandas.DataFrame
        One row per customer_id with at least one stage signal: ``furthest_stage`` (and its
        1-based ``furthest_stage_no``), ``current_stage``, ``entered_<stage>`` (first time the
        stage was reached, NaT if never), ``dwell_days_<stage>`` (total time in the stage, over
        all its runs), ``last_seen`` and ``lapsed`` (no activity in the ``lapse_days`` before
        ``as_of``).
    """
    model = model or StageModel()
    engine = as_engine(events)
    if table != "events":  # a derived table: not kept
        return _customer_stages(engine, model, as_of, table)
    # a run's notebooks and the feature, churn and playbook code ask for it up to six times
    return kept(
        engine,
        "customer_stages",
        (model, str(as_of)),
        lambda: _customer_stages(engine, model, as_of, table),
        tables=("events", "orders", "feedback"),
    )


def _customer_stages(
    engine: Engine, model: StageModel, as_of: object, table: str, pass_events: int | None = None
) -> pd.DataFrame:
    cutoff = end_of_day(as_of)
    dwell = ", ".join(
        f"SUM(CASE WHEN stage_no = {no} THEN {days_between('start_ts', 'end_ts')} END)"
        f' AS "dwell_days_{name}"'
        for no, name in enumerate(model.names, start=1)
    )
    entered = ", ".join(
        f'MIN(CASE WHEN stage_no = {no} THEN ts END) AS "entered_{name}"'
        for no, name in enumerate(model.names, start=1)
    )
    # every aggregate is per customer: above CUSTOMER_PASS_EVENTS events it runs in passes over
    # ranges of customers (10M customers: one query sorted 240M events for its windows)
    events = None if table == "events" else 0  # None: query_per_customer counts them
    sql = f"""
        WITH runs AS ({_runs_sql(model, cutoff, table)}),
        per_run AS (
            SELECT customer_id,
                   MAX(stage_no) AS furthest_stage_no,
                   {last_by("stage_no", ("run_no",))} AS current_stage_no,
                   MAX(last_ts) AS last_seen,
                   {_lapse_sql(model, as_of, cutoff).replace("last_ts", "MAX(last_ts)")} AS lapsed,
                   {dwell}
            FROM runs GROUP BY customer_id
        ),
        first_entry AS (
            SELECT customer_id, {entered}
            FROM ({model.signals_sql(cutoff, table=table)}) GROUP BY customer_id
        )
        SELECT * FROM per_run JOIN first_entry USING (customer_id) ORDER BY customer_id
        """
    df = query_per_customer(
        engine, sql, events=events, pass_events=pass_events, tables=("events", "orders", "feedback")
    )
    df.insert(1, "furthest_stage", _names(model, df["furthest_stage_no"]))
    df.insert(2, "current_stage", _names(model, df["current_stage_no"]))
    df = df.drop(columns=["current_stage_no"])
    for name in model.names:
        df[f"dwell_days_{name}"] = df[f"dwell_days_{name}"].astype("float64")
    return df


def event_stages(
    events: Engine | pd.DataFrame, model: StageModel | None = None, *, table: str = "events"
) -> str:
    """Create the temporary view ``journey_event_stages`` (events + ``stage_no`` + ``stage``).

    Returns the view's name, for use as ``table=`` in funnels, paths and device analyses
    (e.g. a stage funnel: ``funnel(engine, model.names, table="journey_stage_events")``).
    Also creates ``journey_stage_events``: the mapped events only, with the stage name in the
    ``event`` column and the original name in ``source_event``.
    """
    model = model or StageModel()
    engine = as_engine(events)
    names = " ".join(
        f"WHEN {no} THEN {literal(name)}" for no, name in enumerate(model.names, start=1)
    )
    engine.execute(
        f"""CREATE OR REPLACE TEMP VIEW journey_event_stages AS
        SELECT *, CASE stage_no {names} END AS stage
        FROM (SELECT e.*, {model.event_stage_sql()} AS stage_no FROM {table} e)"""
    )
    engine.execute(
        """CREATE OR REPLACE TEMP VIEW journey_stage_events AS
        SELECT customer_id, ts, stage AS event, session_id, channel, device, product_id, value,
               campaign, event AS source_event, stage_no
        FROM journey_event_stages WHERE stage_no IS NOT NULL"""
    )
    return "journey_event_stages"


def unmapped_events(
    events: Engine | pd.DataFrame, model: StageModel | None = None, *, table: str = "events"
) -> pd.DataFrame:
    """Events that signal no stage: one row per event name with events, customers, share."""
    model = model or StageModel()
    engine = as_engine(events)
    return engine.query(
        f"""
        SELECT event, COUNT(*) AS events, COUNT(DISTINCT customer_id) AS customers,
               COUNT(*) / (SELECT COUNT(*) FROM {table}) AS share
        FROM {table} WHERE ({model.event_stage_sql()}) IS NULL
        GROUP BY event ORDER BY events DESC, event
        """
    )


def rule_coverage(
    events: Engine | pd.DataFrame,
    model: StageModel | None = None,
    *,
    table: str = "events",
    warn: bool = True,
) -> pd.DataFrame:
    """One row per stage x event rule: how often the rule's event occurs.

    A rule naming an event that never occurs is a configuration smell (a typo, or tracking
    that is not set up); it is reported with a warning, not an error, so the run goes on.
    ``warn=False`` leaves the warning to the caller (a report states it in words instead).
    """
    model = model or StageModel()
    engine = as_engine(events)
    rows = [{"stage": r.name, "event": m.event} for r in model.rules for m in r.matches]
    if not rows:
        return pd.DataFrame(columns=["stage", "event", "events"])
    counts = engine.query(f"SELECT event, COUNT(*) AS events FROM {table} GROUP BY event")
    out = pd.DataFrame(rows).merge(counts, on="event", how="left")
    out["events"] = out["events"].fillna(0).astype("int64")
    missing = out.loc[out["events"] == 0] if warn else out.iloc[:0]
    for row in missing.itertuples():
        warnings.warn(
            f"stage rule '{row.stage}' names event '{row.event}', which never occurs in the data",
            stacklevel=2,
        )
    return out


def stage_transitions(
    events: Engine | pd.DataFrame,
    model: StageModel | None = None,
    *,
    as_of: dt.date | str | None = None,
    table: str = "events",
) -> pd.DataFrame:
    """The stage transition matrix in long form.

    Returns
    -------
    pandas.DataFrame
        One row per (from_stage, to_stage) observed: ``transitions`` (moves), ``customers``
        (distinct customers making the move), ``probability`` (transitions / all moves out of
        ``from_stage``) and ``kind`` (entry, forward, regression, exit, active). ``(start)`` is
        the origin of every journey; ``(exit)`` and ``(active)`` end them.
    """
    model = model or StageModel()
    engine = as_engine(events)
    cutoff = end_of_day(as_of)
    events = None if table == "events" else 0  # None: query_per_customer counts them
    sql = f"""
        WITH runs AS ({_runs_sql(model, cutoff, table)}),
        moves AS (
            SELECT customer_id, 0 AS from_no, stage_no AS to_no FROM runs WHERE run_no = 1
            UNION ALL
            SELECT customer_id, stage_no, next_stage_no FROM runs WHERE next_stage_no IS NOT NULL
            UNION ALL
            SELECT customer_id, stage_no,
                   CASE WHEN {_lapse_sql(model, as_of, cutoff)} THEN -1 ELSE -2 END
            FROM runs WHERE next_stage_no IS NULL
        )
        SELECT from_no, to_no, COUNT(*) AS transitions, COUNT(DISTINCT customer_id) AS customers
        FROM moves GROUP BY from_no, to_no
        """
    # both counts add up over disjoint ranges of customers: in passes above 30M events, as
    # customer_stages (the runs' windows sort every signal of every customer)
    parts = query_per_customer(engine, sql, events=events, tables=("events", "orders", "feedback"))
    df = parts.groupby(["from_no", "to_no"], as_index=False)[["transitions", "customers"]].sum()
    lookup = {0: START, -1: EXIT, -2: ACTIVE, **dict(enumerate(model.names, start=1))}
    df["from_stage"] = df["from_no"].map(lookup).astype("string")
    df["to_stage"] = df["to_no"].map(lookup).astype("string")
    df["probability"] = df["transitions"] / df.groupby("from_no")["transitions"].transform("sum")
    df["kind"] = "forward"
    df.loc[df["from_no"] == 0, "kind"] = "entry"
    df.loc[(df["to_no"] > 0) & (df["to_no"] < df["from_no"]), "kind"] = "regression"
    df.loc[df["to_no"] == -1, "kind"] = "exit"
    df.loc[df["to_no"] == -2, "kind"] = "active"
    order = {START: -1, **{n: i for i, n in enumerate(model.names)}}
    df = df.sort_values(
        ["from_stage", "to_no"],
        key=lambda s: s.map(order).fillna(99) if s.name == "from_stage" else s,
    )
    cols = ["from_stage", "to_stage", "kind", "transitions", "customers", "probability"]
    return df[cols].reset_index(drop=True)


def transition_matrix(transitions: pd.DataFrame, *, value: str = "probability") -> pd.DataFrame:
    """Pivot :func:`stage_transitions` wide: rows from_stage, columns to_stage."""
    wide = transitions.pivot(index="from_stage", columns="to_stage", values=value)
    return wide.fillna(0.0)


def stage_conversion(
    stages: pd.DataFrame, model: StageModel | None = None, *, by: str | None = None
) -> pd.DataFrame:
    """Stage-to-stage conversion from :func:`customer_stages`.

    A customer *reached* a stage if it has an ``entered_<stage>`` date. Conversion to the next
    stage is: reached the next stage / reached this stage (customers can reach a later stage
    without an earlier one, e.g. an offline order with no web visit, so the funnel need not be
    monotone). ``share_of_all`` divides by every customer with a signal.

    Returns
    -------
    pandas.DataFrame
        One row per stage (x ``by`` value): stage_no, stage, reached, share_of_all,
        to_next (customers reaching both this and the next stage), conversion_to_next.
    """
    model = model or StageModel()
    groups = [by] if by else []
    rows = []
    for key, part in stages.groupby(groups, observed=True, dropna=False) if by else [((), stages)]:
        n = len(part)
        for no, name in enumerate(model.names, start=1):
            reached = part[f"entered_{name}"].notna()
            row = {"stage_no": no, "stage": name, "reached": int(reached.sum())}
            if no < len(model.names):
                nxt = part[f"entered_{model.names[no]}"].notna()
                row["to_next"] = int((reached & nxt).sum())
            else:
                row["to_next"] = pd.NA
            row["share_of_all"] = row["reached"] / n if n else float("nan")
            row["conversion_to_next"] = (
                row["to_next"] / row["reached"]
                if row["reached"] and row["to_next"] is not pd.NA
                else float("nan")
            )
            if by:
                row[by] = key[0] if isinstance(key, tuple) else key
            rows.append(row)
    out = pd.DataFrame(rows)
    out["to_next"] = out["to_next"].astype("Int64")
    cols = ([by] if by else []) + [
        "stage_no",
        "stage",
        "reached",
        "share_of_all",
        "to_next",
        "conversion_to_next",
    ]
    return out[cols]


def dwell_summary(stages: pd.DataFrame, model: StageModel | None = None) -> pd.DataFrame:
    """Dwell time per stage over the customers who entered it: one row per stage."""
    model = model or StageModel()
    rows = []
    for name in model.names:
        d = stages.loc[stages[f"entered_{name}"].notna(), f"dwell_days_{name}"].dropna()
        q = d.quantile([0.25, 0.5, 0.75, 0.9]) if len(d) else pd.Series([float("nan")] * 4)
        rows.append(
            {
                "stage": name,
                "customers": int(len(d)),
                "mean_days": d.mean(),
                "p25_days": q.iloc[0],
                "median_days": q.iloc[1],
                "p75_days": q.iloc[2],
                "p90_days": q.iloc[3],
            }
        )
    return pd.DataFrame(rows)


# ---- plots (draw only what the tables hold) ------------------------------------------------
def plot_stage_conversion(  # noqa: ANN201
    conv: pd.DataFrame, model: StageModel | None = None, *, language: str | None = None
):
    """Bar chart of customers reaching each stage, labelled with the share of all customers.

    Text is in ``language`` (default: the model's language, ``en`` or ``id``).
    """
    import plotly.graph_objects as go

    model = model or StageModel()
    language = language or model.language
    model = replace(model, language=language)
    fig = go.Figure(
        go.Bar(
            x=[model.label(s) for s in conv["stage"]],
            y=conv["reached"],
            text=[f"{s:.0%}" for s in conv["share_of_all"]],
            textposition="outside",
        )
    )
    fig.update_layout(
        title=_t(language, "reach_title"),
        yaxis_title=_t(language, "customers"),
        height=380,
        margin={"t": 50, "b": 40},
    )
    return fig


def plot_transition_matrix(  # noqa: ANN201
    transitions: pd.DataFrame, model: StageModel | None = None, *, language: str | None = None
):
    """Heatmap of transition probabilities (rows: from, columns: to).

    Text is in ``language`` (default: the model's language, ``en`` or ``id``).
    """
    import plotly.graph_objects as go

    model = model or StageModel()
    language = language or model.language
    model = replace(model, language=language)
    order_from = [START, *model.names]
    order_to = [*model.names, EXIT, ACTIVE]
    wide = transition_matrix(transitions).reindex(index=order_from, columns=order_to).fillna(0.0)
    labels = model.labels()
    fig = go.Figure(
        go.Heatmap(
            z=wide.to_numpy(),
            x=[labels[c] for c in wide.columns],
            y=[labels[r] for r in wide.index],
            colorscale="Greens",
            zmin=0,
            zmax=1,
            text=[[f"{v:.0%}" for v in row] for row in wide.to_numpy()],
            texttemplate="%{text}",
            hovertemplate="%{y} → %{x}: %{z:.1%}<extra></extra>",
        )
    )
    fig.update_layout(
        title=_t(language, "moves_title"),
        xaxis_title=_t(language, "to"),
        yaxis_title=_t(language, "from"),
        yaxis_autorange="reversed",
        height=420,
        margin={"t": 50},
    )
    return fig
