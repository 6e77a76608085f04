"""Journey paths: Sankey flows, the step matrix and path variants.

Every function reads the event table through an :class:`~journeylib.engine.Engine` (a DataFrame
is wrapped with :func:`~journeylib.engine.as_engine`); the event-level work (ordering, numbering,
collapsing repeats) runs in SQL and only per-step or per-variant counts come back as pandas.
Plots are separate ``plot_*`` functions that only draw a table. Loops and friction over time,
which walk the same numbered paths, are in :mod:`journeylib.friction`.

Definitions shared by every function (and by :mod:`journeylib.friction`)
-------------------------------------------------------------------------
Path
    One customer's events in order of ``ts``; ties are broken by ``order_col`` when given (e.g. a
    row-number column of the export), then by the event name, so the order is deterministic on
    any engine. Rows with a null customer, timestamp or event are ignored.
Collapsing repeats
    With ``collapse_repeats=True`` an event identical to the one just before it in the path is
    dropped (``a a b a`` -> ``a b a``), as retentioneering's ``CollapseLoops`` does.
Anchor and steps
    ``anchor=None`` starts every customer's path at their first event; an event name starts it at
    the customer's *first* occurrence of that event, and only customers with the anchor are
    counted. The start is **step 1** (retentioneering's convention: step 1 is the first event of
    the path), step ``k`` is the ``k``-th event from it. Backward paths (``direction="backward"``)
    count the other way: step 1 is the anchor (default: the customer's last event), step 2 the
    event just before it, and so on.
``(end)`` / ``(start)``
    A path with fewer events than the window reaches :data:`END` (forward) or :data:`START`
    (backward) at the step after its last event.
``(other)``
    Rare nodes grouped together (:data:`OTHER`); the parentheses keep it apart from a real event
    or channel called ``other``.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from journeylib.engine import Engine, as_engine, query_customer_rows
from journeylib.sql import (
    check_choice,
    empty_frame,
    epoch_seconds,
    ordered_concat,
    quote,
    require_columns,
    table_columns,
)

if TYPE_CHECKING:
    import plotly.graph_objects as go

__all__ = [
    "END",
    "OTHER",
    "START",
    "path_variants",
    "plot_sankey",
    "plot_step_matrix",
    "sankey_links",
    "step_matrix",
    "step_matrix_wide",
]

#: Node where forward journeys stop.
END = "(end)"
#: Node where backward journeys stop (the beginning of the customer's path).
START = "(start)"
#: Node collecting the rare events of a step.
OTHER = "(other)"
#: Separator of the events in a path variant.
VARIANT_SEP = " > "

#: Chart text in each report language (the node names above stay as they are: the notebooks'
#: text refers to them).
_TEXT: dict[str, dict[str, str]] = {
    "en": {
        "matrix_title": "Share of customers at each step of their path",
        "share": "share",
        "step": "step",
        "event": "event",
        "matrix_hover": "step %{x}<br>%{y}: %{z:.1%}<extra></extra>",
        "forward": "Journeys from the anchor event",
        "backward": "Journeys before the anchor event",
    },
    "id": {
        "matrix_title": "Porsi pelanggan pada setiap langkah jalurnya",
        "share": "porsi",
        "step": "langkah",
        "event": "event",
        "matrix_hover": "langkah %{x}<br>%{y}: %{z:.1%}<extra></extra>",
        "forward": "Perjalanan sejak event acuan",
        "backward": "Perjalanan menjelang event acuan",
    },
}


def _t(language: str, key: str) -> str:
    return _TEXT.get(language, _TEXT["en"])[key]


Direction = Literal["forward", "backward"]

_STEP_COLUMNS = ["step", "event", "customers", "share"]
_LINK_COLUMNS = ["direction", "step", "source", "target", "customers", "share"]
_VARIANT_COLUMNS = [
    "variant",
    "n_steps",
    "customers",
    "share",
    "converters",
    "conversion_rate",
    "baseline_rate",
    "lift",
    "median_duration",
]
_VARIANT_DTYPES = (
    ["str", "int64", "int64", "float64", "int64"] + ["float64"] * 3 + ["timedelta64[us]"]
)


# ---- SQL building blocks -------------------------------------------------------------------


def _path_ctes(
    table: str,
    *,
    customer_col: str,
    ts_col: str,
    event_col: str,
    order_col: str | None,
    collapse_repeats: bool,
    session_col: str | None = None,
    descending: bool = False,
    leads: bool = False,
) -> str:
    """CTEs ending in ``path(customer_id, session, ts, event, pos)``: the numbered paths.

    ``pos`` numbers each customer's events from 1 in (ts, order_col, event) order (the reverse
    order with ``descending``: pos 1 is the last event), after dropping consecutive repeats when
    asked (with ``session_col``, only repeats inside one session). ``leads`` adds ``next1``,
    ``next2`` (the next two events), ``sess1``, ``sess2`` (their sessions) and ``ts2``, computed
    in the same window (and so the same sort) as ``pos``. Windows are partitioned by customer
    only, which is much faster than by (customer, session) and equivalent when sessions are
    contiguous runs of a customer's events, as :mod:`journeylib.sessions` builds them.
    """
    cust, ts, ev = (quote(c, "column") for c in (customer_col, ts_col, event_col))
    tie = f", {quote(order_col, 'column')} AS tie" if order_col else ""
    sess = f"CAST({quote(session_col, 'column')} AS VARCHAR)" if session_col else "''"
    part = "customer_id"
    keys = ["ts", "tie", "event"] if order_col else ["ts", "event"]
    desc = " DESC" if descending else ""
    window = f"PARTITION BY {part} ORDER BY " + ", ".join(k + desc for k in keys)
    src = f"""
        src AS (
            SELECT {cust} AS customer_id, {sess} AS session, {ts} AS ts,
                   CAST({ev} AS VARCHAR) AS event{tie}
            FROM {quote(table, "table")}
            WHERE {cust} IS NOT NULL AND {ts} IS NOT NULL AND {ev} IS NOT NULL
        )"""
    if collapse_repeats:
        src += f""",
        ordered AS (
            SELECT customer_id, session, ts, event,
                   ROW_NUMBER() OVER ({window}) AS rn, LAG(event) OVER ({window}) AS prev_event,
                   LAG(session) OVER ({window}) AS prev_session
            FROM src
        ),
        kept AS (
            SELECT customer_id, session, ts, event, rn FROM ordered
            WHERE prev_event IS NULL OR prev_event <> event OR prev_session <> session
        )"""
        window, rows = f"PARTITION BY {part} ORDER BY rn", "kept"
    else:
        rows = "src"
    extra = (
        f", LEAD(event, 1) OVER ({window}) AS next1, LEAD(event, 2) OVER ({window}) AS next2,"
        f" LEAD(session, 1) OVER ({window}) AS sess1, LEAD(session, 2) OVER ({window}) AS sess2,"
        f" LEAD(ts, 2) OVER ({window}) AS ts2"
        if leads
        else ""
    )
    return f"""{src},
        path AS (
            SELECT customer_id, session, ts, event, ROW_NUMBER() OVER ({window}) AS pos{extra}
            FROM {rows}
        )"""


def _window_ctes(anchor: str | None, direction: str) -> str:
    """CTEs ``anchor(customer_id, apos)`` and ``rel`` (the columns of ``path`` plus ``step``).

    ``rel`` holds the events at steps 1..$steps from the anchor (step 1 = the anchor itself).
    Backward paths are numbered from the last event (``_path_ctes(descending=True)``), so the
    first occurrence of the anchor in time is its *largest* ``pos`` there and walking back in
    time is walking forward in ``pos``.
    """
    if anchor is None:  # every path starts at pos 1: no aggregation, no join
        return """
        anchor AS (SELECT customer_id, 1 AS apos FROM path WHERE pos = 1),
        rel AS (SELECT *, pos AS step FROM path WHERE pos <= $steps)"""
    first = "MIN(pos)" if direction == "forward" else "MAX(pos)"
    return f"""
        anchor AS (
            SELECT customer_id, {first} AS apos FROM path WHERE event = $anchor
            GROUP BY customer_id
        ),
        rel AS (
            SELECT p.*, p.pos - a.apos + 1 AS step
            FROM path p JOIN anchor a ON p.customer_id = a.customer_id
            WHERE p.pos >= a.apos AND p.pos < a.apos + $steps
        )"""


def _check_steps(steps: int, name: str = "steps", minimum: int = 1) -> int:
    if isinstance(steps, bool) or not isinstance(steps, int | np.integer) or steps < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, not {steps!r}")
    return int(steps)


def _params(anchor: str | None, **extra: Any) -> dict[str, Any]:
    params = dict(extra)
    if anchor is not None:
        if not isinstance(anchor, str) or not anchor:
            raise ValueError(f"anchor must be an event name or None, not {anchor!r}")
        params["anchor"] = anchor
    return params


def _warn_no_anchor(anchor: str | None, table: str) -> None:
    if anchor is None:
        warnings.warn(f"table {table!r} has no events: the result is empty", stacklevel=3)
    else:
        warnings.warn(
            f"anchor event {anchor!r} never occurs in {table!r}: the result is empty",
            stacklevel=3,
        )


# ---- step matrix ---------------------------------------------------------------------------


def _step_counts(
    engine: Engine,
    *,
    table: str,
    anchor: str | None,
    direction: str,
    steps: int,
    collapse_repeats: bool,
    customer_col: str,
    ts_col: str,
    event_col: str,
    order_col: str | None,
) -> pd.DataFrame:
    """One row per step x event: customers whose path has that event at that step."""
    if _can_use_event_seq(
        engine,
        table,
        anchor,
        direction,
        collapse_repeats,
        order_col,
        customer_col,
        ts_col,
        event_col,
    ):
        # the processed events carry each event's path position (ingest numbers them by
        # (ts, event), this module's tie rule): step k is simply event_seq = k, no re-sort
        out = engine.query(
            f'SELECT event_seq AS step, event, COUNT(*) AS customers FROM "{table}" '
            "WHERE event_seq <= $steps GROUP BY event_seq, event",
            {"steps": steps},
        )
        return out.astype({"step": "int64", "customers": "int64"})
    ctes = _path_ctes(
        table,
        customer_col=customer_col,
        ts_col=ts_col,
        event_col=event_col,
        order_col=order_col,
        collapse_repeats=collapse_repeats,
        descending=direction == "backward",
    )
    sql = f"""
        WITH {ctes},
        {_window_ctes(anchor, direction)}
        SELECT step, event, COUNT(*) AS customers FROM rel GROUP BY step, event
    """
    out = query_customer_rows(
        engine, sql, params=_params(anchor, steps=steps), table=table, customer_col=customer_col
    )
    out = out.groupby(["step", "event"], as_index=False)["customers"].sum()
    return out.astype({"step": "int64", "customers": "int64"})


def _can_use_event_seq(
    engine: Engine,
    table: str,
    anchor: str | None,
    direction: str,
    collapse_repeats: bool,
    order_col: str | None,
    customer_col: str,
    ts_col: str,
    event_col: str,
) -> bool:
    """True when the plain forward step matrix can read the ingest-time ``event_seq``.

    Only for the canonical processed ``events`` table (a filtered view would leave gaps in the
    numbering) with the canonical column names and the default ordering.
    """
    if (table, customer_col, ts_col, event_col) != ("events", "customer_id", "ts", "event"):
        return False
    if anchor is not None or direction != "forward" or collapse_repeats or order_col is not None:
        return False
    return "event_seq" in table_columns(engine, table).columns


def step_matrix(
    events: Engine | pd.DataFrame,
    *,
    anchor: str | None = None,
    steps: int = 10,
    collapse_repeats: bool = False,
    direction: Direction = "forward",
    thresh: float = 0.0,
    table: str = "events",
    customer_col: str = "customer_id",
    ts_col: str = "ts",
    event_col: str = "event",
    order_col: str | None = None,
) -> pd.DataFrame:
    """Share of customers at each event at each step of their path (retentioneering StepMatrix).

    The definition is retentioneering's ``StepMatrix`` (weight = customers): each customer's path
    is numbered from step 1 (the anchor, or their first event); the cell (step ``k``, event ``e``)
    counts customers whose ``k``-th event is ``e``. The :data:`END` row counts customers whose
    path has *already ended* by step ``k`` (cumulative, like retentioneering's ``ENDED`` padding),
    so the shares of every step sum to 1. With an anchor, step ``k`` equals retentioneering's
    centered step ``k - 1`` (``occurrence=1``, ``left_gap=0``) and only customers with the anchor
    are counted.

    Parameters
    ----------
    events
        Engine over the canonical tables, or an events frame (not modified).
    anchor
        Event whose first occurrence starts the path; ``None``: each customer's first event.
    steps
        Number of steps (columns), >= 1.
    collapse_repeats
        Drop an event equal to the one just before it (``a a b`` -> ``a b``) before numbering.
    direction
        ``"backward"`` numbers steps back from the anchor (default anchor: the last event);
        the terminal row is then :data:`START`.
    thresh
        Events whose largest share over all steps is below ``thresh`` are summed into
        :data:`OTHER` (retentioneering's ``thresh``); the terminal row is never grouped.
    table, customer_col, ts_col, event_col
        Where the events are (e.g. a derived view with stages as events).
    order_col
        Tie-breaker for equal timestamps before the event name (e.g. a row-number column).

    Returns
    -------
    pandas.DataFrame
        Long table, one row per step x event (only cells with customers, plus the terminal row at
        every step): ``step`` (1..steps), ``event``, ``customers``, ``share`` (of the customers in
        the cohort, i.e. with a path / with the anchor). Empty, with a warning, when no customer
        has the anchor. :func:`step_matrix_wide` pivots it.

    Examples
    --------
    >>> ev = pd.DataFrame({"customer_id": ["a", "a", "b"], "event": ["x", "y", "x"],
    ...     "ts": pd.to_datetime(["2025-01-01 10:00", "2025-01-01 10:01", "2025-01-01 10:00"])})
    >>> step_matrix(ev, steps=2)[["step", "event", "share"]].values.tolist()
    [[1, 'x', 1.0], [1, '(end)', 0.0], [2, 'y', 0.5], [2, '(end)', 0.5]]
    """
    engine = as_engine(events, table)
    steps = _check_steps(steps)
    check_choice("direction", direction, ("forward", "backward"))
    if not 0.0 <= thresh <= 1.0:
        raise ValueError(f"thresh must be a share between 0 and 1, not {thresh!r}")
    require_columns(engine, table, (customer_col, ts_col, event_col, order_col), timestamp=ts_col)
    counts = _step_counts(
        engine,
        table=table,
        anchor=anchor,
        direction=direction,
        steps=steps,
        collapse_repeats=collapse_repeats,
        customer_col=customer_col,
        ts_col=ts_col,
        event_col=event_col,
        order_col=order_col,
    )
    if counts.empty:
        _warn_no_anchor(anchor, table)
        return empty_frame(
            dict(zip(_STEP_COLUMNS, ["int64", "str", "int64", "float64"], strict=True))
        )
    terminal = END if direction == "forward" else START
    cohort = int(counts.loc[counts["step"].eq(1), "customers"].sum())
    # every customer still on their path has exactly one event per step, so the rest have ended
    on_path = counts.groupby("step")["customers"].sum().reindex(range(1, steps + 1), fill_value=0)
    ended = pd.DataFrame(
        {"step": on_path.index, "event": terminal, "customers": cohort - on_path.to_numpy()}
    )
    if thresh > 0:
        max_share = counts.groupby("event")["customers"].max() / cohort
        rare = max_share.index[max_share < thresh]
        counts = counts.assign(event=counts["event"].where(~counts["event"].isin(rare), OTHER))
        counts = counts.groupby(["step", "event"], as_index=False)["customers"].sum()
    counts = counts.assign(_order=counts["event"].eq(OTHER).astype(int))
    ended = ended.assign(_order=2)
    out = pd.concat([counts, ended], ignore_index=True)
    out["share"] = out["customers"] / cohort
    out = out.sort_values(
        ["step", "_order", "customers", "event"], ascending=[True, True, False, True]
    )
    out = out.astype({"step": "int64", "event": "str", "customers": "int64"})
    return out[_STEP_COLUMNS].reset_index(drop=True)


def step_matrix_wide(table: pd.DataFrame, *, value: str = "share") -> pd.DataFrame:
    """Pivot :func:`step_matrix` to one row per event and one column per step (zeros filled).

    Rows are ordered by the step at which the event is most common (then by that share), with
    :data:`OTHER` and the terminal row last, so the matrix reads like retentioneering's heatmap.
    """
    if value not in ("share", "customers"):
        raise ValueError("value must be 'share' or 'customers'")
    wide = table.pivot_table(
        index="event", columns="step", values=value, aggfunc="sum", fill_value=0
    )
    special = [e for e in (OTHER, END, START) if e in wide.index]
    regular = wide.drop(index=special)
    peak = pd.DataFrame({"step": regular.idxmax(axis=1), "top": -regular.max(axis=1)})
    order = peak.sort_values(["step", "top"]).index.tolist() + special
    wide = wide.loc[order]
    wide.columns.name = "step"
    return wide


def plot_step_matrix(
    table: pd.DataFrame, *, title: str | None = None, language: str = "en"
) -> go.Figure:
    """Heatmap of :func:`step_matrix` (events x steps, share of customers written in each cell);
    text in ``language`` (``en`` or ``id``)."""
    import plotly.graph_objects as go

    wide = step_matrix_wide(table)
    fig = go.Figure(
        go.Heatmap(
            z=wide.to_numpy(),
            x=[str(c) for c in wide.columns],
            y=wide.index.tolist(),
            colorscale="Blues",
            zmin=0,
            zmax=1,
            text=[[f"{v:.0%}" if v else "" for v in row] for row in wide.to_numpy()],
            texttemplate="%{text}",
            hovertemplate=_t(language, "matrix_hover"),
            colorbar={"title": _t(language, "share"), "tickformat": ".0%"},
        )
    )
    fig.update_layout(
        title=title or _t(language, "matrix_title"),
        xaxis={"title": _t(language, "step"), "type": "category"},
        yaxis={"title": _t(language, "event"), "autorange": "reversed"},
        margin={"l": 140, "r": 20, "t": 50, "b": 40},
        height=120 + 26 * len(wide),
    )
    return fig


# ---- Sankey --------------------------------------------------------------------------------


def sankey_links(
    events: Engine | pd.DataFrame,
    *,
    anchor: str | None = None,
    direction: Direction = "forward",
    steps: int = 5,
    top_n: int = 8,
    min_share: float = 0.0,
    collapse_repeats: bool = True,
    table: str = "events",
    customer_col: str = "customer_id",
    ts_col: str = "ts",
    event_col: str = "event",
    order_col: str | None = None,
) -> pd.DataFrame:
    """Flows between consecutive steps of the journeys, for a Sankey diagram.

    Forward, from the anchor (default: each customer's first event) over ``steps`` steps (step 1
    is the anchor); backward (``direction="backward"``, e.g. ``anchor="purchase"``), the steps
    before it, step 1 being the anchor. A path that stops inside the window flows into
    :data:`END` (forward) or :data:`START` (backward) at the next step, and stops there.

    Rare nodes: at each step, an event that is not among the ``top_n`` most common at that step
    (by customers; ties by name) or that holds less than ``min_share`` of the cohort becomes
    :data:`OTHER` at that step; the terminal node is never grouped.

    Parameters
    ----------
    events
        Engine over the canonical tables, or an events frame (not modified).
    anchor, direction, steps
        Start event (``None``: first event forward, last event backward), which way to walk, and
        how many steps (node columns, >= 2).
    top_n, min_share
        Nodes kept per step (>= 1) and the smallest share of the cohort a kept node holds.
    collapse_repeats
        Drop an event equal to the one just before it (default True: ``view view cart`` is one
        view then the cart).
    table, customer_col, ts_col, event_col, order_col
        As in :func:`step_matrix`.

    Returns
    -------
    pandas.DataFrame
        One row per step x source x target: ``direction``, ``step`` (of the source node; the
        target is at ``step + 1``), ``source``, ``target``, ``customers`` and ``share`` (of the
        cohort: customers with a path / with the anchor). Empty, with a warning, when no customer
        has the anchor.
    """
    engine = as_engine(events, table)
    steps = _check_steps(steps, minimum=2)
    top_n = _check_steps(top_n, "top_n")
    check_choice("direction", direction, ("forward", "backward"))
    if not 0.0 <= min_share <= 1.0:
        raise ValueError(f"min_share must be a share between 0 and 1, not {min_share!r}")
    require_columns(engine, table, (customer_col, ts_col, event_col, order_col), timestamp=ts_col)
    ctes = _path_ctes(
        table,
        customer_col=customer_col,
        ts_col=ts_col,
        event_col=event_col,
        order_col=order_col,
        collapse_repeats=collapse_repeats,
        descending=direction == "backward",
        leads=True,
    )
    sql = f"""
        WITH {ctes},
        {_window_ctes(anchor, direction)}
        SELECT step, event AS source, next1 AS target, COUNT(*) AS customers
        FROM rel WHERE step < $steps GROUP BY step, event, next1
    """
    # rows of several passes may repeat a link: every use below adds up the rows
    raw = query_customer_rows(
        engine, sql, params=_params(anchor, steps=steps), table=table, customer_col=customer_col
    )
    if raw.empty:
        _warn_no_anchor(anchor, table)
        return empty_frame(
            dict(
                zip(_LINK_COLUMNS, ["str", "int64", "str", "str", "int64", "float64"], strict=True)
            )
        )
    terminal = END if direction == "forward" else START
    raw = raw.astype({"step": "int64", "customers": "int64", "source": "str"})
    raw["target"] = raw["target"].where(raw["target"].notna(), terminal).astype("str")
    cohort = int(raw.loc[raw["step"].eq(1), "customers"].sum())

    # node sizes: every customer at step k < steps leaves by exactly one link
    nodes = pd.concat(
        [
            raw.groupby(["step", "source"], as_index=False)["customers"].sum(),
            raw.loc[raw["step"].eq(steps - 1) & raw["target"].ne(terminal)]
            .groupby("target", as_index=False)["customers"]
            .sum()
            .rename(columns={"target": "source"})
            .assign(step=steps),
        ],
        ignore_index=True,
    ).rename(columns={"source": "event"})
    nodes = nodes.sort_values(["step", "customers", "event"], ascending=[True, False, True])
    nodes["rank"] = nodes.groupby("step").cumcount() + 1
    kept = nodes.loc[(nodes["rank"] <= top_n) & (nodes["customers"] / cohort >= min_share)]
    keep = set(zip(kept["step"], kept["event"], strict=True))

    def group(step: pd.Series, event: pd.Series) -> pd.Series:
        ok = [(s, e) in keep or e == terminal for s, e in zip(step, event, strict=True)]
        return event.where(ok, OTHER)

    links = raw.assign(
        source=group(raw["step"], raw["source"]), target=group(raw["step"] + 1, raw["target"])
    )
    links = links.groupby(["step", "source", "target"], as_index=False)["customers"].sum()
    links["share"] = links["customers"] / cohort
    links.insert(0, "direction", direction)
    links = links.sort_values(
        ["step", "customers", "source", "target"], ascending=[True, False, True, True]
    )
    return links[_LINK_COLUMNS].reset_index(drop=True)


def plot_sankey(
    links: pd.DataFrame, *, title: str | None = None, language: str = "en"
) -> go.Figure:
    """Sankey diagram of :func:`sankey_links`; nodes are labelled ``"k: event"``.

    Time runs left to right: forward journeys start at step 1 on the left; backward journeys end
    at the anchor (step 1) on the right. The default title is in ``language`` (``en``, ``id``).
    """
    import plotly.graph_objects as go

    backward = bool(len(links)) and links["direction"].iloc[0] == "backward"
    # node sizes for the layout only: the larger of the flows into and out of each node
    out_flow = links.groupby(["step", "source"])["customers"].sum()
    in_flow = links.assign(step=links["step"] + 1).groupby(["step", "target"])["customers"].sum()
    out_flow.index.names = in_flow.index.names = ["step", "event"]
    size = pd.concat([out_flow, in_flow], axis=1).max(axis=1).rename("size").reset_index()
    size["special"] = size["event"].isin([END, START, OTHER])
    keys = size.sort_values(
        ["step", "special", "size", "event"], ascending=[True, True, False, True]
    )
    keys = keys.reset_index(drop=True)
    # fixed positions: one column per step, nodes stacked by size (sinks such as "(end)" would
    # otherwise be pushed to the last column)
    last = int(keys["step"].max()) if len(keys) else 1
    x = (keys["step"] - 1) / max(last - 1, 1)
    x = (1 - x) if backward else x
    total = keys.groupby("step")["size"].transform("sum")
    y = (keys.groupby("step")["size"].cumsum() - keys["size"] / 2) / total
    index = {(s, e): i for i, (s, e) in enumerate(zip(keys["step"], keys["event"], strict=True))}
    src = [index[k] for k in zip(links["step"], links["source"], strict=True)]
    dst = [index[k] for k in zip(links["step"] + 1, links["target"], strict=True)]
    if backward:  # draw in time order: the earlier event (higher step) flows into the later one
        src, dst = dst, src
    fig = go.Figure(
        go.Sankey(
            arrangement="fixed",
            node={
                "label": [f"{s}: {e}" for s, e in zip(keys["step"], keys["event"], strict=True)],
                "x": (0.01 + 0.98 * x).tolist(),
                "y": (0.01 + 0.98 * y).tolist(),
                "pad": 10,
            },
            link={"source": src, "target": dst, "value": links["customers"].tolist()},
        )
    )
    default = _t(language, "backward" if backward else "forward")
    fig.update_layout(
        title=title or default, margin={"l": 20, "r": 20, "t": 50, "b": 20}, height=480
    )
    return fig


# ---- path variants -------------------------------------------------------------------------


def path_variants(
    events: Engine | pd.DataFrame,
    *,
    conversion_event: str = "purchase",
    max_steps: int = 8,
    top_n: int = 20,
    anchor: str | None = None,
    window_days: float | None = None,
    collapse_repeats: bool = True,
    table: str = "events",
    customer_col: str = "customer_id",
    ts_col: str = "ts",
    event_col: str = "event",
    order_col: str | None = None,
) -> pd.DataFrame:
    """The most common journeys, with their conversion rate and lift over the baseline.

    A customer's *variant* is their path from the anchor (default: their first event), repeats
    collapsed by default, cut at the first ``conversion_event`` (inclusive) or after ``max_steps``
    events, whichever comes first, written ``"a > b > c"``. A customer *converts* when they
    have ``conversion_event`` at or after the start of the path (within ``window_days`` of the
    start when given; otherwise at any time in the data), so a truncated variant without the
    conversion can still have converters (they bought later). The baseline rate is the
    conversion rate of every customer in the cohort; ``lift = conversion_rate / baseline_rate``.
    The duration of a variant is the time from its first to its last event.

    Parameters
    ----------
    events
        Engine over the canonical tables, or an events frame (not modified).
    conversion_event
        Event that counts as conversion.
    max_steps, top_n
        Longest variant (events) and number of variants returned (most customers first).
    anchor, collapse_repeats, table, customer_col, ts_col, event_col, order_col
        As in :func:`step_matrix`.
    window_days
        Conversion must happen within this many days of the path start (``None``: any time).

    Returns
    -------
    pandas.DataFrame
        One row per variant (the ``top_n`` with most customers; ties by variant): ``variant``,
        ``n_steps``, ``customers``, ``share`` (of the cohort), ``converters``,
        ``conversion_rate``, ``baseline_rate``, ``lift``, ``median_duration`` (Timedelta).
    """
    engine = as_engine(events, table)
    max_steps = _check_steps(max_steps, "max_steps")
    top_n = _check_steps(top_n, "top_n")
    if window_days is not None and not window_days > 0:
        raise ValueError(f"window_days must be positive or None, not {window_days!r}")
    require_columns(engine, table, (customer_col, ts_col, event_col, order_col), timestamp=ts_col)
    # without an anchor every path starts at its first event: no join needed
    after_anchor = (
        "JOIN anchor a ON p.customer_id = a.customer_id AND p.pos >= a.apos" if anchor else ""
    )
    within = (
        f"AND {epoch_seconds('p.ts')} - {epoch_seconds('s.start_ts')} <= $window_s"
        if window_days is not None
        else ""
    )
    ctes = _path_ctes(
        table,
        customer_col=customer_col,
        ts_col=ts_col,
        event_col=event_col,
        order_col=order_col,
        collapse_repeats=collapse_repeats,
    )
    sql = f"""
        WITH {ctes},
        {_window_ctes(anchor, "forward")},
        cut AS (
            SELECT customer_id, MIN(step) AS cut_step FROM rel WHERE event = $conv
            GROUP BY customer_id
        ),
        variant AS (
            SELECT r.customer_id, {ordered_concat("r.event", "r.step", VARIANT_SEP)} AS variant,
                   COUNT(*) AS n_steps, MIN(r.ts) AS start_ts,
                   {epoch_seconds("MAX(r.ts)")} - {epoch_seconds("MIN(r.ts)")} AS duration_s
            FROM rel r LEFT JOIN cut c ON r.customer_id = c.customer_id
            WHERE r.step <= COALESCE(c.cut_step, $steps)
            GROUP BY r.customer_id
        ),
        conv AS (
            SELECT DISTINCT p.customer_id
            FROM path p {after_anchor}
            JOIN variant s ON p.customer_id = s.customer_id
            WHERE p.event = $conv {within}
        )
        SELECT v.variant, v.n_steps, v.duration_s,
               CASE WHEN c.customer_id IS NULL THEN 0 ELSE 1 END AS converted
        FROM variant v LEFT JOIN conv c ON v.customer_id = c.customer_id
    """
    params = _params(anchor, steps=max_steps, conv=conversion_event)
    if window_days is not None:
        params["window_s"] = float(window_days) * 86_400
    # one row per customer, in passes over ranges of customers above 30M events; the variants,
    # their counts and median durations are then worked out here (medians do not add up)
    rows = query_customer_rows(engine, sql, params=params, table=table, customer_col=customer_col)
    if rows.empty:
        _warn_no_anchor(anchor, table)
        return empty_frame(dict(zip(_VARIANT_COLUMNS, _VARIANT_DTYPES, strict=True)))
    rows["duration_s"] = rows["duration_s"].astype("float64")
    grouped = rows.groupby("variant", sort=False)
    raw = pd.DataFrame(
        {
            "n_steps": grouped["n_steps"].min(),
            "customers": grouped.size(),
            "converters": grouped["converted"].sum(),
            "median_s": grouped["duration_s"].median(),
        }
    ).reset_index()
    cohort = float(len(rows))
    baseline = float(rows["converted"].sum()) / cohort
    del rows, grouped
    raw = raw.sort_values(["customers", "variant"], ascending=[False, True], kind="stable")
    out = raw.head(top_n).astype({"n_steps": "int64", "customers": "int64", "converters": "int64"})
    out["share"] = out["customers"] / cohort
    out["conversion_rate"] = out["converters"] / out["customers"]
    out["baseline_rate"] = baseline
    out["lift"] = out["conversion_rate"] / baseline if baseline > 0 else float("nan")
    out["median_duration"] = pd.to_timedelta(
        out["median_s"].astype(float).round(), unit="s"
    ).astype("timedelta64[us]")
    return out[_VARIANT_COLUMNS].reset_index(drop=True)
