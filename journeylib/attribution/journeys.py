"""Touchpoint paths built from events: the input of every attribution model.

:func:`build_paths` turns the event log into :class:`~journeylib.attribution.pathdata.Paths`:
one path per conversion (the touches that led to it) and one per customer that did not convert
(the touches since their last conversion). The definitions below are used by every function of
this module and held by tests.

**Touch.** With ``grain="session"`` (the default) a touch is a *session*: its time is the time
of the session's first event that has a channel, its label that event's channel (a session's
events are ordered by ``event_seq`` when the table has it, else by time, event name, channel). With
``grain="event"`` every event with a channel is a touch. Events without a channel (null or
empty), without a timestamp or without a customer are never touches; in session grain events
without a ``session_id`` are not either. The *label* is the channel, or with
``touchpoint="channel_campaign"`` ``channel / campaign`` (:data:`LABEL_SEP`) when the touch's
campaign is present (not null, not empty) and the plain channel otherwise.

**Conversion.** Every ``conversion_event`` row is a conversion worth its ``value_column`` (a
missing value counts 0). Rows of one customer at the *same timestamp* are one conversion, their
values summed (a multi-line order logged as one row per product is one conversion).

**Conversion path.** A conversion at ``t`` whose customer's previous conversion was at
``t_prev`` gets the customer's touches with ``t_prev < touch time <= t`` and
``touch time >= t - lookback`` (both bounds of the lookback inclusive; no lower bound with
``lookback_days=None``). Ties: a touch at exactly the conversion time belongs to that conversion
(so the converting session's own touch, and in event grain the conversion event itself, count);
a touch at exactly the previous conversion's time belongs to the previous one. Touches are
ordered by time, ties by label. A conversion with *no touch in its window* (typically a second
purchase in the same session, whose session touch already went to the first purchase) gets the
one-touch path of **its own session's touch** (the first event with a channel of the conversion
row's session), even though that touch lies outside the window; when that does not exist either
(no session, or a session without any channel) its path is the single label :data:`NO_TOUCH`,
so the paths always account for every conversion (:func:`conversion_summary` counts them).

**Non-converting path.** A customer's touches after their last conversion (all of them for a
customer who never converted) that fall in the ``lookback`` before the last of those touches
(inclusive). Each is one journey with ``nulls = 1``; ``include_null=False`` leaves them out.

**Lags.** ``lag_days`` of a touch is the fractional days (24-hour days, through
:func:`journeylib.sql.epoch_seconds`) from the touch to its conversion, or to the end of a
non-converting journey (its last touch). For the fallback touch it is the time from the
session's touch to the conversion (0 when that touch comes after a conversion row that has no
channel itself).

``collapse_repeats=True`` then merges consecutive touches with the same label
(:meth:`Paths.collapse_repeats`: ``a > a > b`` -> ``a > b``, the lag of the last touch of each
run kept). ``per_journey=False`` returns one row per distinct path (sorted by the label
sequence), ``per_journey=True`` one row per journey with ``journey_ids`` (the customer) and
``lag_days`` (sorted by customer, then time).

Implementation: one SQL query through the :class:`~journeylib.engine.Engine` does the event-level
work (touches, windows, fallbacks; ANSI SQL apart from :mod:`journeylib.sql`'s dialect helpers)
and returns the assigned touches ordered by journey and time; numpy builds the flat arrays and,
in the aggregated mode, merges identical paths by hashing their code sequences. Times are
compared as epoch seconds with the lookback bound in seconds (interval arithmetic on time-zone
aware timestamps is slow in DuckDB), and the aggregated mode joins customers on
:func:`journeylib.sql.customer_key`. At 1M customers an ordered ``string_agg`` per journey in the
engine cost about 4 s of CPU, the sort of the assigned touches about 1 s.
"""

from __future__ import annotations

import logging
import math
import warnings
from numbers import Real
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from journeylib.attribution.pathdata import Paths, read_path_table
from journeylib.config import AttributionSpec
from journeylib.engine import Engine, as_engine, query_customer_rows
from journeylib.project import resolve_path
from journeylib.sql import (
    check_choice,
    customer_key,
    epoch_seconds,
    first_by,
    identifier,
    literal,
    quote,
    require_columns,
)

__all__ = [
    "GRAINS",
    "LABEL_SEP",
    "NO_TOUCH",
    "TOUCHPOINTS",
    "build_paths",
    "conversion_summary",
    "paths_from_config",
]

log = logging.getLogger(__name__)

#: Label of a conversion without any touch (not even its own session's channel).
NO_TOUCH = "(no touch)"
#: Separator of channel and campaign in ``touchpoint="channel_campaign"`` labels.
LABEL_SEP = " / "
GRAINS: tuple[str, ...] = ("session", "event")
TOUCHPOINTS: tuple[str, ...] = ("channel", "channel_campaign")

_SECONDS_PER_DAY = 86400.0


def build_paths(
    events: Engine | pd.DataFrame,
    *,
    conversion_event: str = "purchase",
    touchpoint: Literal["channel", "channel_campaign"] = "channel",
    grain: Literal["session", "event"] = "session",
    lookback_days: float | None = 30,
    collapse_repeats: bool = False,
    include_null: bool = True,
    value_column: str | None = "value",
    table: str = "events",
    per_journey: bool = False,
) -> Paths:
    """Conversion and non-converting touchpoint paths from the event log (module doc).

    Parameters
    ----------
    events
        An engine that can see ``table``, or an events frame (``customer_id``, ``ts``, ``event``,
        ``channel``; ``session_id`` for session grain and the fallback touch, ``campaign`` for
        ``channel_campaign``, ``event_seq`` used for ordering when present); never modified.
    conversion_event
        Event name of a conversion.
    touchpoint
        ``"channel"`` or ``"channel_campaign"`` (``channel / campaign`` when campaign is present).
    grain
        ``"session"`` (one touch per session) or ``"event"`` (every event with a channel).
    lookback_days
        Days before the conversion (or before the last touch of a non-converting journey) whose
        touches count, inclusive; ``None``: no limit.
    collapse_repeats
        Merge consecutive touches with the same label.
    include_null
        Add the non-converting journeys (``nulls``), which Markov models need.
    value_column
        Numeric column holding the conversion value (``None``: every conversion is worth 0).
    table
        Name of the events table or view.
    per_journey
        ``False``: one row per distinct path with summed outcomes; ``True``: one row per journey
        with ``journey_ids`` and ``lag_days``.

    Returns
    -------
    Paths
        Aggregated: one row per distinct path, sorted by label sequence, ``lag_days`` and
        ``journey_ids`` ``None``. Per journey: one row per conversion (``conversions = 1``) or
        non-converting journey (``nulls = 1``), sorted by customer then time. Channels are the
        labels that occur. No rows (with a warning) when nothing qualifies.

    Examples
    --------
    >>> ts = pd.to_datetime(["2025-01-01", "2025-01-03", "2025-01-03"], utc=True)
    >>> ev = pd.DataFrame({"customer_id": "c", "ts": ts, "event": ["page_view", "page_view",
    ...     "purchase"], "session_id": ["s1", "s2", "s2"], "channel": ["social", "email",
    ...     "email"], "value": [None, None, 50.0]})
    >>> build_paths(ev).to_frame()[["path", "conversions", "value"]].to_dict("records")
    [{'path': 'social > email', 'conversions': 1.0, 'value': 50.0}]
    """
    check_choice("touchpoint", touchpoint, TOUCHPOINTS)
    check_choice("grain", grain, GRAINS)
    if not isinstance(conversion_event, str) or not conversion_event:
        raise ValueError(
            f"conversion_event must be a non-empty event name; got {conversion_event!r}"
        )
    lookback = _lookback_seconds(lookback_days)
    engine = as_engine(events, name=table)
    identifier(table, "table")
    if value_column is not None:
        identifier(value_column, "value_column")
    required = [
        "customer_id",
        "ts",
        "event",
        "channel",
        "session_id" if grain == "session" else None,
        "campaign" if touchpoint == "channel_campaign" else None,
        value_column,
    ]
    cols = set(require_columns(engine, table, required, timestamp="ts").columns)
    sql = _paths_sql(
        table=table,
        cols=cols,
        touchpoint=touchpoint,
        grain=grain,
        lookback=lookback is not None,
        include_null=include_null,
        value_column=value_column,
        per_journey=per_journey,
    )
    params: dict[str, object] = {"conv": conversion_event}
    if lookback is not None:
        params["lookback"] = lookback
    # every row is one customer's: above 30M processed events, in passes over ranges of
    # customers (at 10M customers the query once over everyone ran out of DuckDB's 4 GB)
    rows = query_customer_rows(engine, sql, params=params, table=table)
    if rows.empty:
        warnings.warn(
            f"no touchpoint paths in table {table!r}: no conversion event {conversion_event!r} "
            "and no touch with a channel" + ("" if include_null else " (include_null=False)"),
            stacklevel=2,
        )
    paths = _assemble(rows, per_journey=per_journey, value_column=value_column)
    if collapse_repeats:
        paths = paths.collapse_repeats()
    if not per_journey:
        paths = _aggregate_sorted(paths)
    log.info("built %s from table %s", paths, table)
    return paths


def paths_from_config(engine: Engine, spec: AttributionSpec) -> tuple[Paths | None, Paths]:
    """The paths the config's ``attribution:`` section asks for: ``(per_journey, aggregated)``.

    With ``paths_file`` the pre-aggregated table is read (:func:`read_path_table`) and there are
    no per-journey paths (``None``: no touch times, so time decay counts touches and the
    touch-level time lag is unavailable); otherwise both come from :func:`build_paths` over the
    engine's events with the section's settings.
    """
    if spec.paths_file:
        paths = read_path_table(resolve_path(spec.paths_file), sep=spec.paths_delimiter)
        if spec.collapse_repeats:
            paths = paths.collapse_repeats().aggregate()
        return None, paths
    per_journey = build_paths(
        engine,
        conversion_event=spec.conversion_event,
        touchpoint=spec.touchpoint,
        grain=spec.grain,
        lookback_days=spec.lookback_days,
        collapse_repeats=spec.collapse_repeats,
        per_journey=True,
    )
    return per_journey, _aggregate_sorted(per_journey)


def conversion_summary(paths: Paths) -> pd.DataFrame:
    """Small diagnostics of a set of paths.

    Returns
    -------
    pandas.DataFrame
        One row: ``paths`` (rows), ``journeys`` (conversions + non-converting journeys),
        ``conversions``, ``value``, ``non_converting``, ``no_touch_conversions`` (conversions
        whose path is the single :data:`NO_TOUCH` label), ``single_touch_share`` (share of
        conversions on one-touch paths), ``mean_length_converting`` and
        ``mean_length_non_converting`` (touches per journey, weighted by conversions / nulls;
        NaN without any), ``channels`` (labels, :data:`NO_TOUCH` excluded).
    """
    if not isinstance(paths, Paths):
        raise TypeError(f"expected a Paths object, got {type(paths).__name__}")
    lengths = np.asarray(paths.lengths, dtype=np.float64)
    conv, nulls = paths.conversions, paths.nulls
    no_touch = np.zeros(paths.n_paths, dtype=bool)
    if NO_TOUCH in paths.channels:
        code = paths.channels.index(NO_TOUCH)
        first = paths.touches[paths.offsets[:-1]] if paths.n_paths else np.zeros(0, np.int32)
        no_touch = (lengths == 1) & (first == code)

    def mean(weights: np.ndarray) -> float:
        total = weights.sum()
        return float((lengths * weights).sum() / total) if total > 0 else math.nan

    total_conv = paths.total_conversions
    return pd.DataFrame(
        {
            "paths": [paths.n_paths],
            "journeys": [total_conv + paths.total_nulls],
            "conversions": [total_conv],
            "value": [paths.total_value],
            "non_converting": [paths.total_nulls],
            "no_touch_conversions": [float(conv[no_touch].sum())],
            "single_touch_share": [
                float(conv[lengths == 1].sum() / total_conv) if total_conv > 0 else math.nan
            ],
            "mean_length_converting": [mean(conv)],
            "mean_length_non_converting": [mean(nulls)],
            "channels": [sum(c != NO_TOUCH for c in paths.channels)],
        }
    )


# ---- SQL -------------------------------------------------------------------------------------
def _lookback_seconds(lookback_days: object) -> float | None:
    if lookback_days is None:
        return None
    ok = isinstance(lookback_days, Real) and not isinstance(lookback_days, bool)
    if not ok or not 0 <= float(lookback_days) < math.inf:
        raise ValueError(
            f"lookback_days must be a non-negative number or None, got {lookback_days!r}"
        )
    return float(lookback_days) * _SECONDS_PER_DAY


def _label_sql(channel: str, campaign: str | None) -> str:
    """The touch label: ``channel``, or ``channel / campaign`` when a campaign is present."""
    if campaign is None:
        return channel
    return (
        f"CASE WHEN {campaign} IS NULL OR {campaign} = '' THEN {channel} "
        f"ELSE {channel} || {literal(LABEL_SEP)} || {campaign} END"
    )


def _paths_sql(
    *,
    table: str,
    cols: set[str],
    touchpoint: str,
    grain: str,
    lookback: bool,
    include_null: bool,
    value_column: str | None,
    per_journey: bool,
) -> str:
    """The query returning every assigned touch: one row per journey x touch, in path order.

    Columns: ``ckey`` (customer: the id per journey, else a 64-bit key), ``journey_no`` (the
    customer's conversions 1..n, then n + 1 for the non-converting tail), ``label``,
    ``converted`` (1/0), ``value`` (the journey's conversion value) and, per journey,
    ``lag_days``.
    """
    t = quote(table, "table")
    ckey = "customer_id" if per_journey else customer_key("customer_id")
    campaign = "campaign" if touchpoint == "channel_campaign" else None
    has_session = "session_id" in cols
    session = "session_id" if has_session else "CAST(NULL AS VARCHAR)"
    value = f"COALESCE(CAST({quote(value_column)} AS DOUBLE), 0.0)" if value_column else "0.0"
    # the order of a session's events; event_seq (ingest) is unique per customer and cheapest
    order = ["event_seq"] if "event_seq" in cols else ["ts", "event", "channel"]
    if campaign and "event_seq" not in cols:
        order.append("campaign")
    has_channel = "channel IS NOT NULL AND channel <> ''"
    valid = "ts IS NOT NULL AND customer_id IS NOT NULL"
    label = _label_sql(first_by("channel", order), campaign and first_by("campaign", order))
    sessions = f"""
        SELECT {ckey} AS ckey, session_id, {epoch_seconds("MIN(ts)")} AS t, {label} AS label
        FROM {t} WHERE {valid} AND {has_channel} AND session_id IS NOT NULL {{only}}
        GROUP BY customer_id, session_id"""
    if grain == "session":
        touch = sessions.format(only="")
        session_touch = "touch"
    else:
        touch = f"""
        SELECT {ckey} AS ckey, {epoch_seconds("ts")} AS t,
               {_label_sql("channel", campaign)} AS label
        FROM {t} WHERE {valid} AND {has_channel}"""
        # the session touch of the converting sessions only: the fallback of a conversion
        only = "AND session_id IN (SELECT session_id FROM conv_rows)"
        session_touch = (
            f"({sessions.format(only=only)})"
            if has_session
            else "(SELECT ckey, session_id, t, CAST(NULL AS VARCHAR) AS label FROM conv "
            "WHERE 1 = 0)"
        )
    in_lookback = "AND x.t >= c.t - $lookback" if lookback else ""
    tail_lookback = "AND x.t >= u.end_t - $lookback" if lookback else ""
    tail = (
        f"""
        UNION ALL
        SELECT x.ckey, COALESCE(u.n_conv, 0) + 1 AS journey_no, x.t, x.label, u.end_t,
               0.0 AS value, 0 AS converted
        FROM touch x JOIN (
            SELECT e.ckey, e.end_t, l.t, l.n_conv
            FROM (SELECT ckey, MAX(t) AS end_t FROM touch GROUP BY ckey) e
            LEFT JOIN (SELECT ckey, MAX(t) AS t, COUNT(*) AS n_conv FROM conv GROUP BY ckey) l
              ON l.ckey = e.ckey
        ) u ON u.ckey = x.ckey
        WHERE (u.t IS NULL OR x.t > u.t) {tail_lookback}"""
        if include_null
        else ""
    )
    lag = f", (end_t - t) / {_SECONDS_PER_DAY} AS lag_days" if per_journey else ""
    return f"""
    WITH touch AS ({touch}),
    conv_rows AS (
        SELECT {ckey} AS ckey, {epoch_seconds("ts")} AS t, {value} AS value, {session} AS session_id
        FROM {t} WHERE {valid} AND event = $conv
    ),
    conv_once AS (
        SELECT ckey, t, SUM(value) AS value, MIN(session_id) AS session_id
        FROM conv_rows GROUP BY ckey, t
    ),
    conv AS (
        SELECT ckey, t, value, session_id,
               ROW_NUMBER() OVER (PARTITION BY ckey ORDER BY t) AS journey_no,
               LAG(t) OVER (PARTITION BY ckey ORDER BY t) AS prev_t
        FROM conv_once
    ),
    in_window AS (
        SELECT c.ckey, c.journey_no, x.t, x.label, c.t AS end_t, c.value, 1 AS converted
        FROM conv c JOIN touch x ON x.ckey = c.ckey
        WHERE x.t <= c.t AND (c.prev_t IS NULL OR x.t > c.prev_t) {in_lookback}
    ),
    assigned AS (
        SELECT * FROM in_window
        UNION ALL
        SELECT c.ckey, c.journey_no, COALESCE(s.t, c.t) AS t,
               COALESCE(s.label, {literal(NO_TOUCH)}) AS label, c.t AS end_t, c.value,
               1 AS converted
        FROM conv c LEFT JOIN {session_touch} s ON s.ckey = c.ckey AND s.session_id = c.session_id
        WHERE NOT EXISTS (
            SELECT 1 FROM in_window w WHERE w.ckey = c.ckey AND w.journey_no = c.journey_no
        ) {tail}
    )
    SELECT ckey, journey_no, t, label, converted, value{lag}
    FROM assigned
    ORDER BY ckey, journey_no, t
    """


# ---- numpy -----------------------------------------------------------------------------------
def _arrow(col: pd.Series) -> pa.Array:
    arr = pa.array(col)
    return arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr


def _assemble(rows: pd.DataFrame, *, per_journey: bool, value_column: str | None) -> Paths:
    """One Paths row per journey from the ordered touch rows of :func:`_paths_sql`."""
    n = len(rows)
    if n == 0:
        zeros = np.zeros(0)
        return Paths(
            channels=(),
            offsets=np.zeros(1, np.int64),
            touches=np.zeros(0, np.int32),
            conversions=zeros,
            value=zeros,
            nulls=zeros,
            lag_days=zeros if per_journey else None,
            journey_ids=np.zeros(0, dtype=object) if per_journey else None,
        )
    key = _arrow(rows["ckey"])
    journey = rows["journey_no"].to_numpy(dtype=np.int64)
    new = np.ones(n, dtype=bool)
    same_key = pc.equal(key[1:], key[:-1]).to_numpy(zero_copy_only=False)
    new[1:] = ~same_key | (journey[1:] != journey[:-1])
    starts = np.flatnonzero(new)

    labels = pc.dictionary_encode(_arrow(rows["label"]))
    names = np.asarray(labels.dictionary.to_pylist(), dtype=object)
    order = np.argsort(names.astype(str), kind="stable")
    rank = np.empty(len(order), dtype=np.int32)
    rank[order] = np.arange(len(order), dtype=np.int32)
    touches = _order_ties(
        rank[labels.indices.to_numpy(zero_copy_only=False)], rows["t"].to_numpy(np.float64), new
    )

    converted = rows["converted"].to_numpy(dtype=np.float64)[starts]
    value = rows["value"].to_numpy(dtype=np.float64)[starts]
    bad = value < 0
    if bad.any():
        raise ValueError(
            f"column {value_column!r}: {int(bad.sum())} conversions have a negative value; "
            "conversion values must be >= 0"
        )
    lag = None
    ids = None
    if per_journey:
        # a fallback session touch after its (channel-less) conversion row: lag 0 (module doc)
        lag = np.maximum(rows["lag_days"].to_numpy(dtype=np.float64), 0.0)
        ids = key.take(pa.array(starts)).to_numpy(zero_copy_only=False).astype(object)
    return Paths(
        channels=tuple(str(x) for x in names[order]),
        offsets=np.append(starts, n).astype(np.int64),
        touches=touches,
        conversions=converted,
        value=value,
        nulls=1.0 - converted,
        lag_days=lag,
        journey_ids=ids,
    )


def _order_ties(touches: np.ndarray, t: np.ndarray, new_journey: np.ndarray) -> np.ndarray:
    """``touches`` with each run of tied touches (same journey, same time) ordered by label.

    The engine sorts by journey and time only (a string in the sort key is costly); tied touches
    share their lag, so reordering their codes alone is the label tie-break.
    """
    tie = np.zeros(len(t), dtype=bool)
    tie[1:] = ~new_journey[1:] & (t[1:] == t[:-1])
    if not tie.any():
        return touches
    run = np.cumsum(~tie)
    in_tie = tie.copy()
    in_tie[:-1] |= tie[1:]
    idx = np.flatnonzero(in_tie)
    out = touches.copy()
    out[idx] = touches[idx[np.lexsort((touches[idx], run[idx]))]]
    return out


def _aggregate_sorted(paths: Paths) -> Paths:
    """Merge identical paths (summing outcomes), sorted by their label sequence.

    Each path's codes become one binary string (big-endian, so byte order is code order and
    codes are ranks of the sorted labels): hashing those strings finds the distinct paths and
    sorting them orders the paths by label sequence (a path before its extensions).
    """
    n = paths.n_paths
    if n == 0:
        return paths
    dtype = np.dtype(">u1") if paths.n_channels <= 256 else np.dtype(">u4")
    data = paths.touches.astype(dtype)
    offsets = np.asarray(paths.offsets, dtype=np.int64) * dtype.itemsize
    binary = pa.LargeBinaryArray.from_buffers(
        pa.large_binary(), n, [None, pa.py_buffer(offsets), pa.py_buffer(data.tobytes())]
    )
    encoded = pc.dictionary_encode(binary)
    distinct = encoded.dictionary
    order = pc.sort_indices(distinct).to_numpy(zero_copy_only=False)
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    group = rank[encoded.indices.to_numpy(zero_copy_only=False)]
    sorted_paths = distinct.take(pa.array(order))
    buffers = sorted_paths.buffers()
    start = sorted_paths.offset
    byte_offsets = np.frombuffer(buffers[1], dtype=np.int64)[start : start + len(order) + 1]
    data = np.frombuffer(buffers[2], dtype=np.uint8)[byte_offsets[0] : byte_offsets[-1]]
    codes = data.view(dtype).astype(np.int32)
    out_offsets = (byte_offsets - byte_offsets[0]) // dtype.itemsize

    def total(a: np.ndarray) -> np.ndarray:
        return np.bincount(group, weights=a, minlength=len(order))

    return Paths(
        channels=paths.channels,
        offsets=out_offsets,
        touches=codes,
        conversions=total(paths.conversions),
        value=total(paths.value),
        nulls=total(paths.nulls),
    )
