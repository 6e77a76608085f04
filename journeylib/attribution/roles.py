"""Journey roles of channels: closers and assisters (the old multi-channel funnel reports).

Everything here reads :class:`~journeylib.attribution.pathdata.Paths` (built from events by
:func:`~journeylib.attribution.journeys.build_paths`, or a pre-aggregated path table) except
:func:`channel_stage_matrix` (events) and :func:`spend_efficiency` (credit tables + spend).
Only converting paths count (each path weighted by its ``conversions``). Definitions:

**Last-touch and assisted conversions** (:func:`assisted_conversions`). A channel gets a path's
conversions as *last-touch* conversions when it is the path's last touch, and as *assisted*
conversions when it appears on the path but is **not** its last touch (counted once per path,
however often it appears). So last-touch + assisted = conversions on paths containing the
channel. (Google Analytics also counts a channel that is both the last touch and an earlier
touch as assisting; here it is a closer on that path.) The **assist ratio** is assisted /
last-touch: ``inf`` when a channel only assists, NaN when it has neither. **Role**: ``closer``
when the ratio is below ``closer_below`` (0.8), ``assister`` above ``assister_above`` (1.2,
``inf`` included), ``balanced`` in between, ``none`` for NaN.

**Early / mid / late** (:func:`role_shares`). In a path of length ``L >= 2`` the first
``k = max(1, floor(L / 3))`` touches are *early*, the last ``k`` *late*, the rest *mid*: length 2
is early + late, length 3 early + mid + late, length 4 early + 2 mid + late, length 6 two of
each. The touch of a one-touch path is *sole* (first and last at once), reported apart. A
channel's shares are its conversion-weighted touches in each role over all its
conversion-weighted touches (they sum to 1).

**Time lag and path length at the touchpoint level** (:func:`touch_time_lag`,
:func:`touch_path_length`): the days from a conversion path's *first touch* to the conversion
(from ``lag_days``, so per-journey paths) and the number of touches on it, in the buckets of
:mod:`journeylib.timelag` (:data:`~journeylib.timelag.LAG_BUCKETS`,
:func:`~journeylib.timelag.lag_bucket`, :data:`~journeylib.timelag.PATH_BUCKETS`). They differ from
:func:`journeylib.timelag.time_lag` only in what is measured: touches inside the lookback window
of each conversion (every conversion, not just the first), instead of all events from the very
first one. The tables have the same columns, so ``timelag.plot_time_lag`` and
``timelag.plot_path_length`` draw them.

**Channel x stage** (:func:`channel_stage_matrix`): for each stage of the
:class:`~journeylib.stages.StageModel`, the customers whose *entry* into it (their first event
mapped to the stage by :func:`journeylib.stages.event_stages`; ties by ``event_seq``, else event
name and channel) came through each channel.

**Spend efficiency** (:func:`spend_efficiency`): per model and channel, cost (spend summed over
the period), credited conversions and value, ``cpa = cost / conversions`` (NaN when conversions
are 0) and ``roas = value / cost`` (NaN when cost is 0). ``channel / campaign`` labels count for
their channel; channels with spend but no credit are listed with 0 conversions.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from journeylib.attribution.journeys import LABEL_SEP
from journeylib.attribution.pathdata import Paths
from journeylib.engine import Engine, as_engine
from journeylib.sql import first_by, quote, require_columns
from journeylib.stages import StageModel, event_stages
from journeylib.timelag import LAG_BUCKETS, PATH_BUCKETS, lag_bucket

if TYPE_CHECKING:  # pragma: no cover
    import plotly.graph_objects as go

__all__ = [
    "ASSISTER_ABOVE",
    "CLOSER_BELOW",
    "ROLES",
    "assisted_conversions",
    "channel_stage_matrix",
    "plot_assist_ratio",
    "plot_channel_stage_matrix",
    "plot_role_shares",
    "plot_spend_efficiency",
    "role_shares",
    "spend_efficiency",
    "touch_path_length",
    "touch_time_lag",
]

#: Assist ratio below which a channel is a closer, and above which it is an assister.
CLOSER_BELOW = 0.8
ASSISTER_ABOVE = 1.2
#: The positions of :func:`role_shares`.
ROLES: tuple[str, ...] = ("early", "mid", "late", "sole")
#: Channel of a stage entry whose event has no channel.
UNKNOWN_CHANNEL = "(unknown)"


def _check_paths(paths: object) -> Paths:
    if not isinstance(paths, Paths):
        raise TypeError(f"expected a Paths object, got {type(paths).__name__}")
    return paths


def _converting(paths: Paths) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the paths with conversions, and a touch mask of those paths."""
    keep = paths.conversions > 0
    return np.flatnonzero(keep), keep[paths.touch_path]


def assisted_conversions(
    paths: Paths,
    *,
    closer_below: float = CLOSER_BELOW,
    assister_above: float = ASSISTER_ABOVE,
) -> pd.DataFrame:
    """Last-touch vs assisted conversions per channel, their ratio and the channel's role.

    Parameters
    ----------
    paths
        Any paths (aggregated or per journey); only converting paths count.
    closer_below, assister_above
        Role thresholds on the assist ratio (module doc).

    Returns
    -------
    pandas.DataFrame
        One row per channel in ``paths.channels`` order: ``channel``, ``last_touch_conversions``,
        ``assisted_conversions``, ``assist_ratio`` (``inf``: assists only; NaN: neither),
        ``last_touch_value``, ``assisted_value`` and ``role`` (closer, balanced, assister, none).
    """
    paths = _check_paths(paths)
    if not 0 <= closer_below <= assister_above:
        raise ValueError("need 0 <= closer_below <= assister_above")
    n_ch = paths.n_channels
    conv, value = paths.conversions, paths.value
    last = paths.touches[paths.offsets[1:] - 1] if paths.n_paths else np.zeros(0, np.int32)
    last_conv = np.bincount(last, weights=conv, minlength=n_ch)
    last_value = np.bincount(last, weights=value, minlength=n_ch)
    # distinct (path, channel) pairs of the converting paths, without the path's last channel
    _, touch_mask = _converting(paths)
    pair = np.unique(paths.touch_path[touch_mask] * n_ch + paths.touches[touch_mask])
    path, channel = pair // max(n_ch, 1), pair % max(n_ch, 1)
    assist = channel != last[path]
    path, channel = path[assist], channel[assist]
    assisted = np.bincount(channel, weights=conv[path], minlength=n_ch)
    assisted_value = np.bincount(channel, weights=value[path], minlength=n_ch)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = assisted / last_conv
    role = np.select(
        [np.isnan(ratio), ratio < closer_below, ratio > assister_above],
        ["none", "closer", "assister"],
        "balanced",
    )
    return pd.DataFrame(
        {
            "channel": pd.array(paths.channels, dtype="str"),
            "last_touch_conversions": last_conv,
            "assisted_conversions": assisted,
            "assist_ratio": ratio,
            "last_touch_value": last_value,
            "assisted_value": assisted_value,
            "role": pd.array(role, dtype="str"),
        }
    )


def role_shares(paths: Paths) -> pd.DataFrame:
    """Where each channel sits on conversion paths: early, mid, late or sole (module doc).

    Returns
    -------
    pandas.DataFrame
        One row per channel in ``paths.channels`` order: ``channel``, ``touches``
        (conversion-weighted touches on converting paths), ``early_share``, ``mid_share``,
        ``late_share``, ``sole_share`` (summing to 1; NaN for a channel with no such touch).
    """
    paths = _check_paths(paths)
    n_ch = paths.n_channels
    _, mask = _converting(paths)
    path = paths.touch_path[mask]
    length = paths.lengths[path]
    pos = paths.touch_position[mask]
    k = np.maximum(length // 3, 1)
    role = np.select(
        [length == 1, pos < k, pos >= length - k], [3, 0, 2], 1
    )  # 0 early, 1 mid, 2 late, 3 sole
    weight = paths.conversions[path]
    cells = np.bincount(paths.touches[mask] * 4 + role, weights=weight, minlength=n_ch * 4).reshape(
        n_ch, 4
    )
    total = cells.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        shares = cells / total[:, None]
    out = pd.DataFrame({"channel": pd.array(paths.channels, dtype="str"), "touches": total})
    for i, name in enumerate(ROLES):
        out[f"{name}_share"] = shares[:, i]
    return out


def touch_time_lag(paths: Paths) -> pd.DataFrame:
    """Days from each conversion path's first touch to the conversion, in the time-lag buckets.

    Needs ``lag_days`` (``build_paths(..., per_journey=True)``). With ``collapse_repeats`` the
    first run of a channel keeps the lag of its last touch, so build without it for the exact
    first-touch lag.

    Returns
    -------
    pandas.DataFrame
        One row per bucket of :data:`journeylib.timelag.LAG_BUCKETS` (all included):
        ``bucket`` (ordered categorical), ``conversions``, ``share`` and ``cumulative_share``.
    """
    paths = _check_paths(paths)
    if paths.lag_days is None:
        raise ValueError(
            "touch_time_lag needs lag_days: build the paths per journey "
            "(build_paths(..., per_journey=True))"
        )
    idx, _ = _converting(paths)
    days = np.floor(paths.lag_days[paths.offsets[idx]])
    uniq, inverse = np.unique(days, return_inverse=True)
    labels = np.array([lag_bucket(d) for d in uniq], dtype=object)[inverse]
    return _weighted_buckets(labels, paths.conversions[idx], LAG_BUCKETS)


def touch_path_length(paths: Paths) -> pd.DataFrame:
    """Touches per conversion path, in the path-length buckets ``1`` ... ``12+``.

    Returns
    -------
    pandas.DataFrame
        One row per bucket of :data:`journeylib.timelag.PATH_BUCKETS` (all included):
        ``bucket`` (ordered categorical), ``conversions``, ``share`` and ``cumulative_share``.
    """
    paths = _check_paths(paths)
    idx, _ = _converting(paths)
    lengths = np.minimum(paths.lengths[idx], len(PATH_BUCKETS))
    labels = np.asarray(PATH_BUCKETS, dtype=object)[lengths - 1]
    return _weighted_buckets(labels, paths.conversions[idx], PATH_BUCKETS)


def _weighted_buckets(labels: np.ndarray, weights: np.ndarray, buckets: tuple[str, ...]):
    """Conversions per bucket (all buckets, in order), their share and cumulative share."""
    codes = pd.Categorical(labels, categories=buckets, ordered=True)
    conv = np.bincount(codes.codes, weights=weights, minlength=len(buckets))
    total = conv.sum()
    share = conv / total if total > 0 else np.full(len(buckets), math.nan)
    return pd.DataFrame(
        {
            "bucket": pd.Categorical(buckets, categories=buckets, ordered=True),
            "conversions": conv,
            "share": share,
            "cumulative_share": np.cumsum(share),
        }
    )


def channel_stage_matrix(
    events: Engine | pd.DataFrame,
    model: StageModel | None = None,
    *,
    table: str = "events",
) -> pd.DataFrame:
    """Which channels bring customers into each stage (the touchpoint map).

    Parameters
    ----------
    events
        An engine that can see ``table`` (the events table with the canonical columns), or an
        events frame; never modified.
    model
        The stages (default: :class:`~journeylib.stages.StageModel`'s five).
    table
        Name of the events table.

    Returns
    -------
    pandas.DataFrame
        One row per stage x channel observed: ``stage_no``, ``stage``, ``channel``
        (:data:`UNKNOWN_CHANNEL` when the entry event has none), ``customers`` (whose first
        event of the stage came through the channel) and ``share`` (of the stage's entering
        customers). Sorted by stage, then customers (descending), then channel. Stages entered
        only through order or feedback signals have no events and no rows.
    """
    model = model or StageModel()
    engine = as_engine(events, name=table)
    # event_stages' views select the canonical event columns
    canonical = ("customer_id", "ts", "event", "session_id", "channel", "device", "product_id",
                 "value", "campaign")  # fmt: skip
    cols = require_columns(engine, table, canonical, timestamp="ts").columns
    view = event_stages(engine, model, table=table)
    order = ["ts", "event_seq"] if "event_seq" in cols else ["ts", "event", "channel"]
    df = engine.query(
        f"""
        SELECT stage_no, stage, COALESCE(channel, '{UNKNOWN_CHANNEL}') AS channel,
               COUNT(*) AS customers
        FROM (
            SELECT customer_id, stage_no, MIN(stage) AS stage, {first_by("channel", order)}
                   AS channel
            FROM {quote(view, "table")}
            WHERE stage_no IS NOT NULL AND ts IS NOT NULL AND customer_id IS NOT NULL
            GROUP BY customer_id, stage_no
        )
        GROUP BY stage_no, stage, COALESCE(channel, '{UNKNOWN_CHANNEL}')
        """
    )
    df = df.astype({"stage_no": "int64", "customers": "int64", "stage": "str", "channel": "str"})
    df["share"] = df["customers"] / df.groupby("stage_no")["customers"].transform("sum")
    df = df.sort_values(["stage_no", "customers", "channel"], ascending=[True, False, True])
    return df.reset_index(drop=True)


def spend_efficiency(
    credit_tables: Mapping[str, pd.DataFrame],
    spend: pd.DataFrame | Engine,
    *,
    table: str = "spend",
    start: dt.date | str | None = None,
    end: dt.date | str | None = None,
) -> pd.DataFrame:
    """Cost per acquisition and return on ad spend per channel under each model.

    Parameters
    ----------
    credit_tables
        Model name -> the model's credit table (``channel``, ``conversions``, ``value``).
    spend
        The spend table (``date``, ``channel``, ``cost``) or an engine that can see ``table``.
    table
        Name of the spend table.
    start, end
        Dates bounding the spend that counts (inclusive; ``None``: open), normally the period
        the paths cover.

    Returns
    -------
    pandas.DataFrame
        One row per model x channel (the model's channels, plus spend channels it gives no
        credit): ``model``, ``channel``, ``cost`` (0 without spend), ``conversions``, ``value``,
        ``cpa`` (cost / conversions, NaN when conversions are 0), ``roas`` (value / cost, NaN
        when cost is 0). Models in the given order, channels sorted.
    """
    if not credit_tables:
        raise ValueError("credit_tables is empty: pass at least one model's credit table")
    engine = as_engine(spend, name=table)
    empty = require_columns(engine, table, ("date", "channel", "cost"))
    if not pd.api.types.is_numeric_dtype(empty["cost"]):
        raise ValueError(f"column 'cost' of table {table!r} must be numeric")
    where, params = ["channel IS NOT NULL"], {}
    if start is not None:
        where.append("date >= $start")
        params["start"] = pd.Timestamp(start).to_pydatetime()
    if end is not None:
        where.append("date < $end")
        params["end"] = (pd.Timestamp(end).normalize() + pd.Timedelta(days=1)).to_pydatetime()
    cost = engine.query(
        f"SELECT channel, SUM(cost) AS cost FROM {quote(table, 'table')} "
        f"WHERE {' AND '.join(where)} GROUP BY channel",
        params,
    )
    cost = cost.astype({"channel": "str", "cost": "float64"}).set_index("channel")["cost"]
    parts = []
    for model, credit in credit_tables.items():
        missing = [c for c in ("channel", "conversions", "value") if c not in credit.columns]
        if missing:
            raise ValueError(f"credit table of model {model!r} lacks column(s) {missing}")
        base = credit["channel"].astype("str").str.split(LABEL_SEP, n=1, regex=False).str[0]
        per = (
            credit.assign(channel=base)
            .groupby("channel", sort=True)[["conversions", "value"]]
            .sum()
            .astype("float64")
        )
        per = per.reindex(per.index.union(cost.index), fill_value=0.0)
        per["cost"] = cost.reindex(per.index, fill_value=0.0)
        per.insert(0, "model", model)
        parts.append(per.rename_axis("channel").reset_index())
    out = pd.concat(parts, ignore_index=True)
    conv, val, cst = out["conversions"], out["value"], out["cost"]
    out["cpa"] = (cst / conv).where(conv != 0)
    out["roas"] = (val / cst).where(cst != 0)
    out = out.astype({"model": "str", "channel": "str"})
    return out[["model", "channel", "cost", "conversions", "value", "cpa", "roas"]]


# ---- plots (draw only what the tables hold) --------------------------------------------------
_ROLE_COLOURS = {
    "closer": "#1b7837",
    "balanced": "#999999",
    "assister": "#762a83",
    "none": "#dddddd",
}


#: Chart text in each report language (role and position names included).
_PLOT_TEXT: dict[str, dict[str, str]] = {
    "en": {
        "only_assists": "only assists",
        "assist_hover": "%{y}: %{customdata[0]:,.0f} assisted / %{customdata[1]:,.0f} "
        "last-touch conversions (%{customdata[2]})<extra></extra>",
        "assist_title": "Assisted vs last-touch conversions (ratio > 1: the channel mostly "
        "assists)",
        "assist_x": "assisted / last-touch conversions",
        "channel": "channel",
        "closer": "closer",
        "balanced": "balanced",
        "assister": "assister",
        "none": "none",
        "early": "early",
        "mid": "mid",
        "late": "late",
        "sole": "sole",
        "roles_title": "Where channels sit on conversion paths (share of their touches)",
        "roles_x": "share of touches",
        "stage_hover": "%{y} → %{x}: %{z:.1%} of the stage's entries<extra></extra>",
        "stage_title": "Channels bringing customers into each stage",
        "stage": "stage",
        "entry_channel": "channel of the entry event",
        "roas_hover": "%{x}: %{y:.2f} revenue per unit of spend<extra>",
        "roas_title": "Return on ad spend per channel (revenue credited / cost), by model",
        "model": "model",
    },
    "id": {
        "only_assists": "hanya membantu",
        "assist_hover": "%{y}: %{customdata[0]:,.0f} konversi dibantu / %{customdata[1]:,.0f} "
        "konversi sentuhan terakhir (%{customdata[2]})<extra></extra>",
        "assist_title": "Konversi yang dibantu vs sentuhan terakhir (rasio > 1: kanal lebih "
        "banyak membantu)",
        "assist_x": "konversi dibantu / konversi sentuhan terakhir",
        "channel": "kanal",
        "closer": "penuntas",
        "balanced": "seimbang",
        "assister": "pendukung",
        "none": "tidak ada",
        "early": "awal",
        "mid": "tengah",
        "late": "akhir",
        "sole": "satu-satunya",
        "roles_title": "Posisi kanal pada jalur konversi (porsi sentuhannya)",
        "roles_x": "porsi sentuhan",
        "stage_hover": "%{y} → %{x}: %{z:.1%} dari kedatangan di tahap itu<extra></extra>",
        "stage_title": "Kanal yang membawa pelanggan masuk ke setiap tahap",
        "stage": "tahap",
        "entry_channel": "kanal event masuk",
        "roas_hover": "%{x}: pendapatan %{y:.2f} per satuan biaya iklan<extra>",
        "roas_title": "ROAS per kanal (pendapatan yang dikreditkan / biaya), menurut model",
        "model": "model",
    },
}


def _t(language: str, key: str) -> str:
    return _PLOT_TEXT.get(language, _PLOT_TEXT["en"]).get(key, key)


def plot_assist_ratio(
    table: pd.DataFrame,
    *,
    closer_below: float = CLOSER_BELOW,
    assister_above: float = ASSISTER_ABOVE,
    language: str = "en",
) -> go.Figure:
    """Bars of :func:`assisted_conversions`: assist/last-touch ratio per channel, by role.

    A log axis keeps ratios of 0.2 and 5 equally far from 1; channels that only assist
    (``inf``) are drawn at the right edge and labelled, channels without conversions are left
    out. Text, role names included, is in ``language`` (``en`` or ``id``).
    """
    import plotly.graph_objects as go

    data = table.loc[table["assist_ratio"].notna()].sort_values("assist_ratio", kind="stable")
    finite = data["assist_ratio"].replace([np.inf], np.nan)
    positive = finite[finite > 0]
    top = float(max(positive.max() if len(positive) else 1.0, assister_above)) * 2
    low = float(min(positive.min() if len(positive) else 1.0, closer_below)) / 2
    x = data["assist_ratio"].replace([np.inf], top).clip(lower=low)
    text = [
        _t(language, "only_assists") if np.isinf(r) else f"{r:.2f}" for r in data["assist_ratio"]
    ]
    roles = np.array([_t(language, str(r)) for r in data["role"]], dtype=object)
    fig = go.Figure(
        go.Bar(
            x=x,
            y=data["channel"].astype(str),
            orientation="h",
            marker_color=[_ROLE_COLOURS.get(r, "#999999") for r in data["role"]],
            text=text,
            textposition="auto",
            customdata=np.stack(
                [data["assisted_conversions"], data["last_touch_conversions"], roles], axis=-1
            ),
            hovertemplate=_t(language, "assist_hover"),
        )
    )
    for xline in (closer_below, assister_above):
        fig.add_vline(x=xline, line_dash="dot", line_color="#666666")
    fig.update_layout(
        title=_t(language, "assist_title"),
        xaxis={"title": _t(language, "assist_x"), "type": "log"},
        yaxis={"title": _t(language, "channel")},
        margin={"l": 140, "r": 20, "t": 50, "b": 40},
        height=120 + 26 * len(data),
    )
    return fig


def plot_role_shares(table: pd.DataFrame, *, language: str = "en") -> go.Figure:
    """Stacked bars of :func:`role_shares`: each channel's touches by position on the path
    (text in ``language``: ``en`` or ``id``)."""
    import plotly.graph_objects as go

    data = table.loc[table["touches"] > 0].sort_values("late_share", kind="stable")
    fig = go.Figure()
    colours = {"early": "#762a83", "mid": "#c2a5cf", "late": "#1b7837", "sole": "#a6dba0"}
    for name in ROLES:
        fig.add_bar(
            x=data[f"{name}_share"],
            y=data["channel"].astype(str),
            orientation="h",
            name=_t(language, name),
            marker_color=colours[name],
            hovertemplate="%{y}: %{x:.0%} " + _t(language, name) + "<extra></extra>",
        )
    fig.update_layout(
        title=_t(language, "roles_title"),
        barmode="stack",
        xaxis={"title": _t(language, "roles_x"), "tickformat": ".0%", "range": [0, 1]},
        yaxis={"title": _t(language, "channel")},
        legend={"orientation": "h", "y": -0.15},
        margin={"l": 140, "r": 20, "t": 50, "b": 40},
        height=150 + 26 * len(data),
    )
    return fig


def plot_channel_stage_matrix(table: pd.DataFrame, *, language: str = "en") -> go.Figure:
    """Heatmap of :func:`channel_stage_matrix`: share of each stage's entries per channel (text
    in ``language``: ``en`` or ``id``; stage names are shown as the table holds them)."""
    import plotly.graph_objects as go

    stages = table.drop_duplicates("stage_no").sort_values("stage_no")["stage"].astype(str)
    wide = (
        table.pivot(index="channel", columns="stage", values="share")
        .reindex(columns=list(stages))
        .fillna(0.0)
    )
    wide = wide.loc[wide.sum(axis=1).sort_values().index]
    z = wide.to_numpy()
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=list(wide.columns),
            y=[str(c) for c in wide.index],
            colorscale="Greens",
            zmin=0,
            text=[[f"{v:.0%}" for v in row] for row in z],
            texttemplate="%{text}",
            hovertemplate=_t(language, "stage_hover"),
        )
    )
    fig.update_layout(
        title=_t(language, "stage_title"),
        xaxis={"title": _t(language, "stage")},
        yaxis={"title": _t(language, "entry_channel")},
        margin={"l": 140, "r": 20, "t": 50, "b": 40},
        height=160 + 26 * len(wide),
    )
    return fig


def plot_spend_efficiency(
    table: pd.DataFrame,
    models: Sequence[str] = ("last_touch", "markov", "shapley"),
    *,
    language: str = "en",
) -> go.Figure:
    """Grouped bars of :func:`spend_efficiency`: return on ad spend per channel under a few
    models (channels with spend only); text, model names included, in ``language`` (``en`` or
    ``id``)."""
    import plotly.graph_objects as go

    from journeylib.attribution.suite import model_label

    def shown(model: str) -> str:
        return (
            str(model).replace("_", " ")
            if language == "en"
            else model_label(model, language=language)
        )

    data = table[(table["cost"] > 0) & table["model"].isin(models)]
    fig = go.Figure()
    for model in [m for m in models if m in set(data["model"])]:
        part = data[data["model"] == model]
        fig.add_bar(
            x=part["channel"].astype(str),
            y=part["roas"],
            name=shown(model),
            hovertemplate=_t(language, "roas_hover")
            + (model if language == "en" else shown(model))
            + "</extra>",
        )
    fig.add_hline(y=1.0, line_dash="dot", line_color="#666666")
    fig.update_layout(
        title=_t(language, "roas_title"),
        barmode="group",
        xaxis={"title": _t(language, "channel")},
        yaxis={"title": "ROAS", "rangemode": "tozero"},
        legend={"title": {"text": _t(language, "model")}},
        margin={"l": 60, "r": 20, "t": 50, "b": 40},
        height=400,
    )
    return fig
