"""Voice of the customer: NPS, CSAT and reviews, placed in the journey and joined to behaviour.

Every feedback row (survey answer, review, social post) is put in its journey context at the
moment it was given (:func:`feedback_context`): the stage the customer had reached, the channel
and device of the visit before it, the persona. Satisfaction is then summarised by any of these
(:func:`satisfaction_by`, :func:`satisfaction_over_time`), and joined to what the customer did
before answering: which events precede detractors rather than promoters
(:func:`detractor_drivers`) and how satisfied customers are after each path through their last
visit (:func:`satisfaction_by_path`). Event-level work is SQL run by the engine; everything after
it is vectorised pandas on one row per answer or less. ``plot_*`` functions only draw a table.

Definitions
-----------
NPS (``kind = "nps"``, scores 0-10)
    Promoters score 9-10, passives 7-8, detractors 0-6 (a fractional score is a passive when it
    lies strictly between 6 and 9). NPS = 100 x (promoter share - detractor share), in points
    from -100 to 100. It is the mean of a variable that is +1 for a promoter, 0 for a passive and
    -1 for a detractor (times 100), so its sampling variance is that variable's variance over n:
    ``Var = [p_P (1 - p_P) + p_D (1 - p_D) + 2 p_P p_D] / n = [p_P + p_D - (p_P - p_D)^2] / n``
    (the multinomial variance of ``p_P - p_D``; Rocks, "Interval estimation for the 'Net
    Promoter Score'", The American Statistician 70(4), 2016). The interval is the normal (Wald) one, ``NPS +/- z x 100 sqrt(Var)``,
    clipped to [-100, 100]. It is too narrow for small n or when nearly everyone is in one band
    (zero width when all are promoters): small groups are flagged, never hidden.
CSAT (1-5) and review ratings (1-5 stars)
    The mean score and the *top-2-box* share: answers of 4 or 5 (satisfied / 4-5 stars), with a
    Wilson score interval (good coverage at small n and near 0 or 1, unlike the Wald interval).
Bands
    nps: ``promoter`` / ``passive`` / ``detractor``; csat and review: ``positive`` (>= 4),
    ``neutral`` (between 2 and 4, i.e. 3), ``negative`` (<= 2); social posts carry no score and
    no band.
Normalised satisfaction ``sat`` in [-1, 1]
    nps ``(score - 5) / 5``, csat and review ``(score - 3) / 2``; NaN for social posts. It puts
    every scored kind on one scale for the journey map's emotion row (mean ``sat`` per stage).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

from journeylib import i18n
from journeylib.engine import Engine
from journeylib.intervals import nps_stats, wilson
from journeylib.narrative import MIN_GROUP
from journeylib.paths import OTHER, VARIANT_SEP, _check_steps
from journeylib.sql import (
    check_choice,
    empty_frame,
    end_of_day,
    epoch_seconds,
    first_by,
    in_list,
    last_by,
    ordered_concat,
    quote,
    require_columns,
    table_columns,
)
from journeylib.stages import StageModel

if TYPE_CHECKING:
    import plotly.graph_objects as go

__all__ = [
    "BANDS",
    "BY_CHOICES",
    "CONTEXT_COLUMNS",
    "CUT",
    "NO_EVENTS",
    "NO_SESSION",
    "NO_STAGE",
    "UNKNOWN",
    "csat_summary",
    "detractor_drivers",
    "feedback_bands",
    "feedback_context",
    "normalised_satisfaction",
    "nps_by",
    "nps_summary",
    "plot_detractor_drivers",
    "plot_nps_by",
    "plot_satisfaction_over_time",
    "review_summary",
    "satisfaction_by",
    "satisfaction_by_path",
    "satisfaction_over_time",
]

#: Stage of a feedback row given before the customer's first stage signal.
NO_STAGE = "(none)"
#: Group of rows whose channel, device, touchpoint or persona is not known.
UNKNOWN = "(unknown)"
#: Path variant of an answer with no visit in the look-back window before it.
NO_SESSION = "(no session)"
#: Path variant of an answer whose last visit had none of the chosen events before it.
NO_EVENTS = "(no key events)"
#: Prefix of a path variant cut to its last ``steps`` events.
CUT = "…"

PROMOTER_MIN, DETRACTOR_MAX = 9.0, 6.0  # NPS bands: 9-10 promoters, 0-6 detractors
TOP2_MIN, BOTTOM2_MAX = 4.0, 2.0  # 1-5 scales: 4-5 positive (top-2-box), 1-2 negative
SCORED_KINDS: tuple[str, ...] = ("nps", "csat", "review")
RATING_KINDS: tuple[str, ...] = ("csat", "review")
BANDS: dict[str, tuple[str, ...]] = {
    "nps": ("promoter", "passive", "detractor"),
    "csat": ("positive", "neutral", "negative"),
    "review": ("positive", "neutral", "negative"),
}
_SCALES: dict[str, tuple[float, float]] = {"nps": (0, 10), "csat": (1, 5), "review": (1, 5)}
_ANSWERS = "voice_answers"  # the engine table the answers of a context are registered as

CONTEXT_COLUMNS: tuple[str, ...] = (
    "customer_id",
    "ts",
    "kind",
    "score",
    "band",
    "sat",
    "text",
    "touchpoint",
    "channel",
    "channel_source",
    "device",
    "stage_no",
    "stage",
    "persona",
    "persona_label",
)
_CONTEXT_DTYPES: dict[str, Any] = {
    "customer_id": "string",
    "ts": "datetime64[us, UTC]",
    "kind": "string",
    "score": "float64",
    "band": "string",
    "sat": "float64",
    "text": "string",
    "touchpoint": "string",
    "channel": "string",
    "channel_source": "string",
    "device": "string",
    "stage_no": "int64",
    "stage": "string",
    "persona": "Int64",
    "persona_label": "string",
}
#: Dimensions :func:`satisfaction_by` groups by.
BY_CHOICES: tuple[str, ...] = ("stage", "touchpoint", "channel", "device", "persona")

_NPS_STATS = [
    "n",
    "promoters",
    "passives",
    "detractors",
    "promoter_share",
    "passive_share",
    "detractor_share",
    "nps",
    "nps_se",
    "nps_low",
    "nps_high",
]
_RATING_STATS = ["n", "mean_score", "top2", "top2_share", "top2_low", "top2_high"]
_SAT_METRICS = [
    "n",
    "mean_score",
    "mean_sat",
    "promoters",
    "passives",
    "detractors",
    "promoter_share",
    "detractor_share",
    "nps",
    "nps_low",
    "nps_high",
    "top2",
    "top2_share",
    "top2_low",
    "top2_high",
    "small",
]
_SAT_DTYPES = {
    "n": "int64",
    "promoters": "Int64",
    "passives": "Int64",
    "detractors": "Int64",
    "top2": "Int64",
    "small": "bool",
}
_DRIVER_DTYPES: dict[str, Any] = {
    "event": "string",
    "rank": "Int64",
    "supported": "bool",
    "detractors": "int64",
    "detractors_with": "int64",
    "detractor_share": "float64",
    "promoters": "int64",
    "promoters_with": "int64",
    "promoter_share": "float64",
    "passives_with": "int64",
    "lift": "float64",
    "lift_low": "float64",
    "lift_high": "float64",
    "difference": "float64",
    "p_value": "float64",
    "corrected": "bool",
    "n_with": "int64",
    "nps_with": "float64",
    "n_without": "int64",
    "nps_without": "float64",
}
_PATH_DTYPES: dict[str, Any] = {
    "variant": "string",
    "n_steps": "Int64",
    "n": "int64",
    "share": "float64",
    "mean_sat": "float64",
    "n_nps": "int64",
    "nps": "float64",
    "nps_low": "float64",
    "nps_high": "float64",
    "detractor_share": "float64",
    "small": "bool",
}


# ---- statistics on scores --------------------------------------------------------------------
def _z(confidence: float) -> float:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence!r}")
    return float(stats.norm.ppf(0.5 + confidence / 2))


def _scores(scores: Any, kind: str) -> np.ndarray:
    """The non-missing scores as floats, after checking they lie on the kind's scale."""
    values = pd.to_numeric(pd.Series(scores, dtype="object"), errors="coerce")
    given = pd.Series(scores, dtype="object").notna()
    bad_type = given & values.isna()
    lo, hi = _SCALES[kind]
    bad = bad_type | (values < lo) | (values > hi)
    if bad.any():
        rows = np.flatnonzero(bad.to_numpy())
        raise ValueError(
            f"{kind} scores must be numbers from {lo:g} to {hi:g}: {len(rows)} score(s) are not "
            f"(positions {rows[:5].tolist()})"
        )
    return values.dropna().to_numpy(dtype=float)


def nps_summary(scores: Any, *, confidence: float = 0.95) -> pd.Series:
    """Net Promoter Score of a set of 0-10 answers, with its confidence interval.

    Parameters
    ----------
    scores
        NPS answers (0-10); missing values are ignored, anything else off the scale is an
        error naming the positions.
    confidence
        Level of the interval (normal approximation, see the module docstring).

    Returns
    -------
    pandas.Series
        ``n``, ``promoters`` (9-10), ``passives`` (7-8), ``detractors`` (0-6), their shares,
        ``nps`` (points, -100..100), ``nps_se`` and ``nps_low`` / ``nps_high``; NaN shares and
        NPS when there are no answers.

    Examples
    --------
    >>> s = nps_summary([10, 9, 8, 3])
    >>> float(s["nps"]), int(s["detractors"])
    (25.0, 1)
    """
    x = _scores(scores, "nps")
    p = float((x >= PROMOTER_MIN).sum())
    d = float((x <= DETRACTOR_MAX).sum())
    out = nps_stats(np.array([p]), np.array([len(x) - p - d]), np.array([d]), _z(confidence))
    counts = ("n", "promoters", "passives", "detractors")
    return pd.Series(
        {k: int(v[0]) if k in counts else float(v[0]) for k, v in out.items()}, dtype="object"
    )


def _rating_summary(scores: Any, kind: str, confidence: float) -> pd.Series:
    x = _scores(scores, kind)
    n, k = len(x), int((x >= TOP2_MIN).sum())
    low, high = wilson(np.array([k]), np.array([n]), _z(confidence))
    return pd.Series(
        {
            "n": n,
            "mean_score": float(x.mean()) if n else math.nan,
            "top2": k,
            "top2_share": k / n if n else math.nan,
            "top2_low": float(low[0]),
            "top2_high": float(high[0]),
        },
        dtype="object",
    )


def csat_summary(scores: Any, *, confidence: float = 0.95) -> pd.Series:
    """CSAT of a set of 1-5 answers: mean and top-2-box share (4-5) with a Wilson interval.

    Returns
    -------
    pandas.Series
        ``n``, ``mean_score``, ``top2`` (answers of 4-5), ``top2_share``, ``top2_low``,
        ``top2_high``; NaN means and shares when there are no answers.

    Examples
    --------
    >>> float(csat_summary([5, 4, 2, 3])["top2_share"])
    0.5
    """
    return _rating_summary(scores, "csat", confidence)


def review_summary(scores: Any, *, confidence: float = 0.95) -> pd.Series:
    """Review ratings (1-5 stars): mean rating and share of 4-5 stars with a Wilson interval.

    Same fields as :func:`csat_summary`.
    """
    return _rating_summary(scores, "review", confidence)


def nps_by(
    frame: pd.DataFrame,
    by: str | Sequence[str],
    *,
    score_col: str = "score",
    confidence: float = 0.95,
) -> pd.DataFrame:
    """:func:`nps_summary` per group, vectorised (one ``groupby``, no loop over groups).

    Parameters
    ----------
    frame
        One row per NPS answer (not modified); rows with a missing score are ignored.
    by
        Column(s) to group by; missing group values form their own group.

    Returns
    -------
    pandas.DataFrame
        One row per group (sorted by the group columns): the group columns, then the fields of
        :func:`nps_summary`.
    """
    keys = [by] if isinstance(by, str) else list(by)
    _scores(frame[score_col], "nps")  # the scale check
    s = frame[score_col].astype("float64")
    counts = pd.DataFrame(
        {
            **{k: frame[k] for k in keys},
            "promoters": (s >= PROMOTER_MIN).astype("int64"),
            "passives": ((s > DETRACTOR_MAX) & (s < PROMOTER_MIN)).astype("int64"),
            "detractors": (s <= DETRACTOR_MAX).astype("int64"),
        }
    ).loc[s.notna()]
    g = counts.groupby(keys, dropna=False, sort=True)[["promoters", "passives", "detractors"]]
    agg = g.sum().reset_index()
    out = nps_stats(agg["promoters"], agg["passives"], agg["detractors"], _z(confidence))
    res = agg[keys].copy()
    for k, v in out.items():
        res[k] = v
    for k in ("n", "promoters", "passives", "detractors"):
        res[k] = res[k].astype("int64")
    return res


# ---- bands and normalised satisfaction ------------------------------------------------------
def feedback_bands(kind: pd.Series, score: pd.Series) -> pd.Series:
    """The band of each feedback row (see the module docstring); NA for social posts and
    missing scores. One value per row of the inputs."""
    k = kind.astype("string")
    s = score.astype("float64")
    nps, rating = k.eq("nps").fillna(False), k.isin(RATING_KINDS).fillna(False)
    band = np.select(
        [
            nps & (s >= PROMOTER_MIN),
            nps & (s <= DETRACTOR_MAX),
            nps & s.notna(),
            rating & (s >= TOP2_MIN),
            rating & (s <= BOTTOM2_MAX),
            rating & s.notna(),
        ],
        ["promoter", "detractor", "passive", "positive", "negative", "neutral"],
        default="",
    )
    return pd.Series(band, index=kind.index, dtype="string").replace("", pd.NA)


def normalised_satisfaction(kind: pd.Series, score: pd.Series) -> pd.Series:
    """``sat`` in [-1, 1]: nps ``(score - 5) / 5``, csat and review ``(score - 3) / 2``, NaN
    for social posts and missing scores. One value per row of the inputs."""
    k = kind.astype("string")
    s = score.astype("float64")
    sat = np.where(
        k.eq("nps").fillna(False),
        (s - 5) / 5,
        np.where(k.isin(RATING_KINDS).fillna(False), (s - 3) / 2, np.nan),
    )
    return pd.Series(sat, index=kind.index, dtype="float64")


# ---- feedback in its journey context ----------------------------------------------------------
def _maybe(cols: pd.Index, name: str, alias: str | None = None) -> str:
    """The column if the table has it, else a typed NULL (optional canonical columns)."""
    alias = alias or name
    if name in cols:
        return f"{quote(name)} AS {quote(alias)}"
    return f"CAST(NULL AS VARCHAR) AS {quote(alias)}"


def _lookback_s(lookback_days: float | None) -> float | None:
    if lookback_days is None:
        return None
    if isinstance(lookback_days, bool) or not (
        isinstance(lookback_days, int | float) and 0 < lookback_days < math.inf
    ):
        raise ValueError(f"lookback_days must be a positive number or None, not {lookback_days!r}")
    return float(lookback_days) * 86_400.0


def _within(start: str, end: str, lookback_s: float | None) -> str:
    """``start`` lies in the look-back window before ``end`` (no lower bound when None)."""
    if lookback_s is None:
        return ""
    return f"AND {epoch_seconds(start)} >= {epoch_seconds(end)} - $lookback_s"


def feedback_context(
    engine: Engine,
    model: StageModel | None = None,
    *,
    as_of: dt.date | str | None = None,
    lookback_days: float | None = 30,
) -> pd.DataFrame:
    """Every feedback row in its journey context at the moment it was given.

    Only rows up to the end of ``as_of`` (UTC) are used, and every context value comes from
    activity strictly before the row's ``ts``, so nothing that happened later changes it.

    Parameters
    ----------
    engine
        Engine over the canonical tables ``feedback``, ``events``, ``orders`` (and
        ``persona_assignments`` when the personas notebook wrote it).
    model
        The client's stages (:meth:`StageModel.from_config`); the default five without one.
    as_of
        Last day of data used (None: all).
    lookback_days
        How far back the visit giving ``channel`` and ``device`` may have started (None: no
        limit).

    Returns
    -------
    pandas.DataFrame
        One row per feedback row (sorted by customer_id, ts, kind), columns
        :data:`CONTEXT_COLUMNS`:

        * ``customer_id``, ``ts``, ``kind``, ``score``, ``text``, ``touchpoint`` as given;
        * ``band`` and ``sat`` (:func:`feedback_bands`, :func:`normalised_satisfaction`);
        * ``channel``: the feedback's own channel when it has one (``channel_source`` =
          ``"feedback"``), else the channel of the customer's last visit (session) that started
          before ``ts`` within ``lookback_days`` (``"session"``; a visit's channel is that of its
          first event), else NA; ``device``: the device of that visit (NA without one);
        * ``stage`` / ``stage_no``: the furthest stage reached strictly before ``ts``, from every
          stage signal (events, orders, earlier feedback); :data:`NO_STAGE` / 0 before the first;
        * ``persona`` (Int64) and ``persona_label``: from ``persona_assignments`` when the engine
          has that table; the columns are always present and all NA without it (or for customers
          the table does not list).

    Notes
    -----
    One query: the feedback rows are joined to the stage signals and to the visits of the same
    customers that precede them (hash joins on the customer, so each answering customer's
    history is read once); the result has one row per feedback row.
    """
    model = model or StageModel()
    cutoff = end_of_day(as_of)
    lookback_s = _lookback_s(lookback_days)
    fb_cols = require_columns(engine, "feedback", ["customer_id", "ts", "kind", "score"]).columns
    ev_cols = require_columns(
        engine, "events", ["customer_id", "ts", "event", "session_id"], timestamp="ts"
    ).columns
    personas = ""
    persona_cols = "CAST(NULL AS BIGINT) AS persona, CAST(NULL AS VARCHAR) AS persona_label"
    if "persona_assignments" in engine.tables():
        require_columns(engine, "persona_assignments", ["customer_id", "persona"])
        pa_cols = table_columns(engine, "persona_assignments").columns
        label = "p.persona_label" if "persona_label" in pa_cols else "CAST(NULL AS VARCHAR)"
        persona_cols = f"p.persona AS persona, {label} AS persona_label"
        personas = "LEFT JOIN persona_assignments p ON p.customer_id = fb.customer_id"
    ev_channel = "channel" if "channel" in ev_cols else "CAST(NULL AS VARCHAR)"
    ev_device = "device" if "device" in ev_cols else "CAST(NULL AS VARCHAR)"
    sql = f"""
    WITH fb AS (
        SELECT ROW_NUMBER() OVER (ORDER BY customer_id, ts, kind) AS fid,
               customer_id, ts, CAST(kind AS VARCHAR) AS kind, CAST(score AS DOUBLE) AS score,
               {_maybe(fb_cols, "text")}, {_maybe(fb_cols, "touchpoint")},
               {_maybe(fb_cols, "channel", "fb_channel")}
        FROM feedback
        WHERE ts < {cutoff} AND customer_id IS NOT NULL AND ts IS NOT NULL
    ),
    sig AS ({model.signals_sql(cutoff)}),
    st AS (
        SELECT f.fid, MAX(s.stage_no) AS stage_no
        FROM fb f JOIN sig s ON s.customer_id = f.customer_id AND s.ts < f.ts
        GROUP BY f.fid
    ),
    visits AS (
        SELECT customer_id, session_id, MIN(ts) AS start_ts,
               {first_by(ev_channel, ("ts", "event"))} AS channel,
               {first_by(ev_device, ("ts", "event"))} AS device
        FROM events
        WHERE ts < {cutoff} AND customer_id IN (SELECT customer_id FROM fb)
        GROUP BY customer_id, session_id
    ),
    lv AS (
        SELECT f.fid,
               {last_by("v.channel", ("v.start_ts", "v.session_id"))} AS channel,
               {last_by("v.device", ("v.start_ts", "v.session_id"))} AS device
        FROM fb f JOIN visits v ON v.customer_id = f.customer_id AND v.start_ts < f.ts
             {_within("v.start_ts", "f.ts", lookback_s)}
        GROUP BY f.fid
    )
    SELECT fb.customer_id, fb.ts, fb.kind, fb.score, fb.text, fb.touchpoint,
           COALESCE(fb.fb_channel, lv.channel) AS channel,
           CASE WHEN fb.fb_channel IS NOT NULL THEN 'feedback'
                WHEN lv.channel IS NOT NULL THEN 'session' END AS channel_source,
           lv.device, COALESCE(st.stage_no, 0) AS stage_no, {persona_cols}
    FROM fb LEFT JOIN st ON st.fid = fb.fid LEFT JOIN lv ON lv.fid = fb.fid {personas}
    ORDER BY fb.customer_id, fb.ts, fb.kind
    """
    params = {"lookback_s": lookback_s} if lookback_s is not None else None
    raw = engine.query(sql, params)
    out = raw.copy()
    out["band"] = feedback_bands(out["kind"], out["score"])
    out["sat"] = normalised_satisfaction(out["kind"], out["score"])
    names = {0: NO_STAGE, **dict(enumerate(model.names, start=1))}
    out["stage"] = out["stage_no"].map(names)
    if len(out) == 0:
        return empty_frame(_CONTEXT_DTYPES)
    out = out[list(CONTEXT_COLUMNS)]
    dtypes = dict(_CONTEXT_DTYPES)
    if not pd.api.types.is_numeric_dtype(out["persona"]):  # persona names instead of numbers
        dtypes["persona"] = "string"
    return out.astype(dtypes).reset_index(drop=True)


# ---- satisfaction by group --------------------------------------------------------------------
def _check_context(context: pd.DataFrame, needed: Sequence[str]) -> None:
    missing = [c for c in needed if c not in context.columns]
    if missing:
        raise ValueError(
            f"context lacks column(s) {missing}: pass the table feedback_context returned"
        )


def _satisfaction_table(
    context: pd.DataFrame, keys: list[str], *, min_n: int, confidence: float
) -> pd.DataFrame:
    """One row per kind x keys (kinds nps, csat, review and ``all``; see satisfaction_by),
    with the metric columns and a helper ``_k`` (the kind's order) for sorting."""
    _check_context(context, ["kind", "score", *keys])
    _check_min_n(min_n)
    z = _z(confidence)
    kind = context["kind"].astype("string")
    score = context["score"].astype("float64")
    keep = kind.isin(SCORED_KINDS).fillna(False) & score.notna()
    if keep.any():
        for k in SCORED_KINDS:
            _scores(score[keep & kind.eq(k).fillna(False)], k)  # scale check
    d = pd.DataFrame({key: context[key] for key in keys}).loc[keep]
    k, s = kind[keep], score[keep]
    d["kind"] = k
    d["score"] = s
    d["sat"] = normalised_satisfaction(k, s)
    is_nps = k.eq("nps")
    d["promoters"] = (is_nps & (s >= PROMOTER_MIN)).astype("int64")
    d["detractors"] = (is_nps & (s <= DETRACTOR_MAX)).astype("int64")
    d["passives"] = (is_nps & (s > DETRACTOR_MAX) & (s < PROMOTER_MIN)).astype("int64")
    d["top2"] = (~is_nps & (s >= TOP2_MIN)).astype("int64")
    both = pd.concat([d, d.assign(kind="all")], ignore_index=True)
    agg = (
        both.groupby(["kind", *keys], dropna=False, sort=False)
        .agg(
            n=("score", "size"),
            mean_score=("score", "mean"),
            mean_sat=("sat", "mean"),
            promoters=("promoters", "sum"),
            passives=("passives", "sum"),
            detractors=("detractors", "sum"),
            top2=("top2", "sum"),
        )
        .reset_index()
    )
    nps = nps_stats(agg["promoters"], agg["passives"], agg["detractors"], z)
    for col in ("promoter_share", "detractor_share", "nps", "nps_low", "nps_high"):
        agg[col] = nps[col]
    agg["top2_share"] = agg["top2"] / agg["n"]
    agg["top2_low"], agg["top2_high"] = wilson(agg["top2"], agg["n"], z)
    agg["small"] = agg["n"] < int(min_n)
    agg = agg.astype({c: t for c, t in _SAT_DTYPES.items() if c in agg.columns})
    nps_rows, rating_rows = agg["kind"].eq("nps"), agg["kind"].isin(RATING_KINDS)
    nps_only = ["promoters", "passives", "detractors", "promoter_share", "detractor_share"]
    for col in [*nps_only, "nps", "nps_low", "nps_high"]:
        agg[col] = agg[col].where(nps_rows)
    for col in ("top2", "top2_share", "top2_low", "top2_high"):
        agg[col] = agg[col].where(rating_rows)
    agg.loc[agg["kind"].eq("all"), "mean_score"] = np.nan  # scales differ: only mean_sat
    order = {k: i for i, k in enumerate([*SCORED_KINDS, "all"])}
    agg["_k"] = agg["kind"].map(order)
    return agg


def _check_min_n(min_n: object) -> None:
    if isinstance(min_n, bool) or not isinstance(min_n, int | np.integer) or min_n < 0:
        raise ValueError(f"min_n must be a non-negative integer, not {min_n!r}")


def _empty_satisfaction(key_dtypes: dict[str, Any]) -> pd.DataFrame:
    dtypes = {"kind": "string", **key_dtypes}
    for c in _SAT_METRICS:
        dtypes[c] = _SAT_DTYPES.get(c, "float64")
    return empty_frame(dtypes)


def satisfaction_by(
    context: pd.DataFrame,
    by: str | None,
    *,
    min_n: int = MIN_GROUP,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """NPS, CSAT and review ratings per stage, touchpoint, channel, device or persona.

    Parameters
    ----------
    context
        :func:`feedback_context` (not modified); filter it first for a subset (e.g. a persona).
    by
        One of :data:`BY_CHOICES`, or None for one overall row per kind. Missing channel,
        device, touchpoint or persona form the group :data:`UNKNOWN`; feedback before any stage
        signal is stage :data:`NO_STAGE`.
    min_n
        Groups with fewer answers are flagged ``small`` (kept, not dropped).

    Returns
    -------
    pandas.DataFrame
        One row per kind x group, kinds ``nps``, ``csat``, ``review`` (scored rows only; social
        posts carry no score) and ``all`` (every scored answer, with only ``n`` and ``mean_sat``
        filled: the scales differ). Columns: ``kind``, the group column (named ``by``; with
        ``by="persona"`` also ``persona_label``), ``n``, ``mean_score``, ``mean_sat``, the NPS
        fields (nps rows: ``promoters``, ``passives``, ``detractors``, ``promoter_share``,
        ``detractor_share``, ``nps``, ``nps_low``, ``nps_high``), the top-2-box fields (csat and
        review rows: ``top2``, ``top2_share``, ``top2_low``, ``top2_high``, Wilson interval) and
        ``small``. Sorted by kind, then stage order (by stage) or most answers first.
    """
    if by is not None:
        check_choice("by", by, BY_CHOICES)
    if by is None:
        keys: list[str] = []
    elif by == "persona":
        keys = ["persona", "persona_label"]
    elif by == "stage":
        keys = ["stage_no", "stage"]
    else:
        keys = [by]
    _check_context(context, ["kind", "score", *keys])
    frame = context[[*keys, "kind", "score"]].copy()
    if by in ("touchpoint", "channel", "device"):
        frame[by] = frame[by].astype("string").fillna(UNKNOWN)
    if by == "persona":
        frame["persona_label"] = frame["persona_label"].astype("string").fillna(UNKNOWN)
    agg = _satisfaction_table(frame, keys, min_n=min_n, confidence=confidence)
    if by == "stage":
        agg = agg.sort_values(["_k", "stage_no"], kind="stable")
    elif by is not None:
        agg = agg.sort_values(["_k", "n", keys[-1]], ascending=[True, False, True], kind="stable")
    else:
        agg = agg.sort_values("_k", kind="stable")
    shown = [k for k in keys if k != "stage_no"]
    out = agg[["kind", *shown, *_SAT_METRICS]].reset_index(drop=True)
    if out.empty:
        key_types = {k: ("Int64" if k == "persona" else "string") for k in shown}
        return _empty_satisfaction(key_types)
    return out.astype({"kind": "string"})


def satisfaction_over_time(
    context: pd.DataFrame,
    period: str = "week",
    *,
    tz: str | None = None,
    min_n: int = MIN_GROUP,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """:func:`satisfaction_by` per calendar week (ISO, from Monday) or month.

    Parameters
    ----------
    period
        ``"week"`` or ``"month"``.
    tz
        IANA time zone whose calendar defines the periods (the client's ``data.timezone``);
        None: UTC.

    Returns
    -------
    pandas.DataFrame
        One row per kind x period with answers: ``kind``, ``period`` (the period's first day, a
        naive local timestamp), then the columns of :func:`satisfaction_by`; sorted by kind and
        period.
    """
    check_choice("period", period, ("week", "month"))
    _check_context(context, ["ts", "kind", "score"])
    ts = pd.to_datetime(context["ts"], utc=True)
    local = ts.dt.tz_convert(tz or "UTC").dt.tz_localize(None)
    if period == "week":
        start = local.dt.normalize() - pd.to_timedelta(local.dt.day_of_week, unit="D")
    else:
        start = local.dt.to_period("M").dt.start_time
    frame = pd.DataFrame(
        {
            "period": start.astype("datetime64[us]"),
            "kind": context["kind"],
            "score": context["score"],
        }
    )
    agg = _satisfaction_table(frame, ["period"], min_n=min_n, confidence=confidence)
    out = agg.sort_values(["_k", "period"], kind="stable")[["kind", "period", *_SAT_METRICS]]
    if out.empty:
        return _empty_satisfaction({"period": "datetime64[us]"})
    return out.astype({"kind": "string"}).reset_index(drop=True)


# ---- feedback joined to behaviour ---------------------------------------------------------------
def _register_answers(engine: Engine, answers: pd.DataFrame) -> None:
    """Expose the answers (aid, customer_id, ts[, band]) to the engine as ``voice_answers``."""
    frame = answers.copy()
    frame["customer_id"] = frame["customer_id"].astype(str)
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True).astype("datetime64[us, UTC]")
    engine.register(_ANSWERS, frame)


def _event_filter(events: Sequence[str] | None, column: str) -> str:
    if events is None:
        return ""
    if isinstance(events, str) or not all(isinstance(e, str) and e for e in events):
        raise ValueError(f"events must be a list of event names or None, not {events!r}")
    if not events:
        raise ValueError("events must name at least one event (None: every event)")
    return f"AND {in_list(column, events)}"


def detractor_drivers(
    engine: Engine,
    context: pd.DataFrame,
    *,
    lookback_days: float = 30,
    events: Sequence[str] | None = None,
    min_support: int = 10,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Which events precede detractors rather than promoters: the lift of each preceding event.

    For every NPS answer of ``context`` (rows of kind ``nps`` with a score), an event *precedes*
    the answer when the same customer had it in the ``lookback_days`` before the answer
    (strictly before its ``ts``). Per event, with ``a`` of the ``n_D`` detractors and ``c`` of
    the ``n_P`` promoters having it:

    * ``detractor_share = a / n_D``, ``promoter_share = c / n_P``, ``difference`` = the two
      shares' difference (detractor minus promoter);
    * ``lift = detractor_share / promoter_share``: how many times more common the event is
      before a detractor's answer than before a promoter's (a relative risk, promoters as the
      reference). When any of the four cells (``a``, ``n_D - a``, ``c``, ``n_P - c``) is zero,
      0.5 is added to each (Haldane-Anscombe; ``corrected`` is True), so an event no promoter
      had still gets a finite lift;
    * ``lift_low`` / ``lift_high``: Katz log interval,
      ``exp(log lift +/- z sqrt(1/a - 1/n_D + 1/c - 1/n_P))`` on the (corrected) counts;
      ``p_value``: Fisher's exact test (two-sided) of the raw 2x2 table;
    * ``nps_with`` / ``nps_without``: NPS (points) of all answers, passives included, with and
      without the event before them, over ``n_with`` / ``n_without`` answers.

    Parameters
    ----------
    engine
        Engine over ``events``. The answers are registered with it as the table
        ``voice_answers`` (replaced on each call).
    context
        :func:`feedback_context` (not modified); filter it first for a subset.
    lookback_days
        Window before each answer.
    events
        Events to test; None: every event that precedes some answer. Nothing is excluded by
        default: common events such as ``page_view`` precede promoters and detractors alike,
        so their lift stays near 1, and rare ones are left to the support filter.
    min_support
        Events preceding fewer answers than this are ``supported = False``: listed after the
        supported ones, unranked (their lift is too noisy to rank).

    Returns
    -------
    pandas.DataFrame
        One row per event: ``event``, ``rank`` (1 = highest lift among supported events; NA
        otherwise), ``supported``, ``detractors``, ``detractors_with``, ``detractor_share``,
        ``promoters``, ``promoters_with``, ``promoter_share``, ``passives_with``, ``lift``,
        ``lift_low``, ``lift_high``, ``difference``, ``p_value``, ``corrected``, ``n_with``,
        ``nps_with``, ``n_without``, ``nps_without``. Supported events first by lift
        (descending; ties by p-value, then name), then the others the same way. Lift is NaN when
        there are no detractors or no promoters.
    """
    lookback_s = _lookback_s(lookback_days)
    if isinstance(min_support, bool) or not isinstance(min_support, int) or min_support < 0:
        raise ValueError(f"min_support must be a non-negative integer, not {min_support!r}")
    z = _z(confidence)
    _check_context(context, ["customer_id", "ts", "kind", "score"])
    is_nps = context["kind"].astype("string").eq("nps").fillna(False)
    nps = context.loc[is_nps & context["score"].notna(), ["customer_id", "ts", "score"]]
    _scores(nps["score"], "nps")
    if nps.empty:
        return empty_frame(_DRIVER_DTYPES)
    s = nps["score"].astype("float64").to_numpy()
    band = np.where(s >= PROMOTER_MIN, "P", np.where(s <= DETRACTOR_MAX, "D", "M"))
    answers = pd.DataFrame(
        {"aid": np.arange(len(nps)), "customer_id": nps["customer_id"].to_numpy(), "ts": nps["ts"]}
    )
    answers["band"] = band
    require_columns(engine, "events", ["customer_id", "ts", "event"], timestamp="ts")
    _register_answers(engine, answers)
    sql = f"""
    WITH hit AS (
        SELECT DISTINCT a.aid, a.band, e.event
        FROM {_ANSWERS} a JOIN events e
             ON e.customer_id = a.customer_id AND e.ts < a.ts {_within("e.ts", "a.ts", lookback_s)}
        WHERE e.event IS NOT NULL {_event_filter(events, "e.event")}
    )
    SELECT CAST(event AS VARCHAR) AS event, band, COUNT(*) AS answers
    FROM hit GROUP BY event, band
    """
    counts = engine.query(sql, {"lookback_s": lookback_s} if lookback_s is not None else None)
    wide = (
        counts.pivot_table(index="event", columns="band", values="answers", aggfunc="sum")
        .reindex(columns=["D", "P", "M"])
        .fillna(0)
        .astype("int64")
    )
    if events is not None:  # listed events that never precede an answer still get a row
        wide = wide.reindex(pd.Index(list(dict.fromkeys(events)), name="event"), fill_value=0)
    n_d, n_p, n_m = (int((band == b).sum()) for b in ("D", "P", "M"))
    a, c, m = (wide[b].to_numpy(dtype=float) for b in ("D", "P", "M"))
    cells = np.stack([a, n_d - a, c, n_p - c])
    corrected = (cells == 0).any(axis=0) & (n_d > 0) & (n_p > 0)
    add = np.where(corrected, 0.5, 0.0)
    a2, c2, nd2, np2 = a + add, c + add, n_d + 2 * add, n_p + 2 * add
    with np.errstate(divide="ignore", invalid="ignore"):
        lift = (a2 / nd2) / (c2 / np2)
        se = np.sqrt(1 / a2 - 1 / nd2 + 1 / c2 - 1 / np2)
        d_share = a / n_d if n_d else np.full_like(a, np.nan)
        p_share = c / n_p if n_p else np.full_like(c, np.nan)
    if not (n_d and n_p):
        lift = np.full_like(a, np.nan)
        se = np.full_like(a, np.nan)
    p_values = np.array(
        [
            stats.fisher_exact([[int(ai), n_d - int(ai)], [int(ci), n_p - int(ci)]])[1]
            if n_d and n_p
            else np.nan
            for ai, ci in zip(a, c, strict=True)
        ],
        dtype=float,
    )
    n_with = a + c + m
    p_tot, d_tot = float(n_p), float(n_d)
    nps_with = nps_stats(c, m, a, z)["nps"]
    nps_without = nps_stats(p_tot - c, n_m - m, d_tot - a, z)["nps"]
    out = pd.DataFrame(
        {
            "event": wide.index.astype("string"),
            "detractors": n_d,
            "detractors_with": a.astype("int64"),
            "detractor_share": d_share,
            "promoters": n_p,
            "promoters_with": c.astype("int64"),
            "promoter_share": p_share,
            "passives_with": m.astype("int64"),
            "lift": lift,
            "lift_low": np.exp(np.log(lift) - z * se),
            "lift_high": np.exp(np.log(lift) + z * se),
            "difference": d_share - p_share,
            "p_value": p_values,
            "corrected": corrected,
            "n_with": n_with.astype("int64"),
            "nps_with": nps_with,
            "n_without": (len(nps) - n_with).astype("int64"),
            "nps_without": nps_without,
        }
    )
    out["supported"] = out["n_with"] >= min_support
    out = out.sort_values(
        ["supported", "lift", "p_value", "event"],
        ascending=[False, False, True, True],
        na_position="last",
        kind="stable",
    ).reset_index(drop=True)
    ranked = out["supported"] & out["lift"].notna()
    out["rank"] = pd.array(np.where(ranked, np.cumsum(ranked), 0), dtype="Int64")
    out.loc[~ranked, "rank"] = pd.NA
    return out[list(_DRIVER_DTYPES)].astype(_DRIVER_DTYPES)


def satisfaction_by_path(
    engine: Engine,
    context: pd.DataFrame,
    *,
    steps: int = 5,
    events: Sequence[str] | None = None,
    distinct: bool = True,
    top_n: int = 10,
    lookback_days: float | None = 30,
    kinds: Sequence[str] = SCORED_KINDS,
    min_n: int = MIN_GROUP,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Satisfaction by the path the customer took in the visit before answering.

    For every scored answer of ``context`` (kinds ``kinds``), the *visit* is the customer's last
    session that started before the answer within ``lookback_days`` (the one
    :func:`feedback_context` takes the channel from) and its *path* the events of that session
    strictly before the answer, only ``events`` kept when given: each distinct event once, in
    the order of its first occurrence (ties by name), so ``a b a c`` reads ``a > b > c``
    (``distinct=False``: every event in (ts, event) order with repeats in a row collapsed,
    ``a a b a`` -> ``a > b > a``, which keeps loops visible but splits answers over many more
    variants). The variant shows the last ``steps`` events of the path, joined by ``" > "``; a
    longer path starts with ``"… > "``. An answer
    with no visit in the window is :data:`NO_SESSION`; one whose visit had none of ``events``
    is ``"(no key events)"``. The ``top_n`` variants with most answers are shown, the rest
    pooled as ``"(other)"`` (last).

    Parameters
    ----------
    engine
        Engine over ``events``; the answers are registered as the table ``voice_answers``.
    context
        :func:`feedback_context` (not modified).
    steps
        Events shown per variant (the ones nearest the answer).
    events
        Key events to keep in paths (e.g. the funnel and friction events); None: every event.

    Returns
    -------
    pandas.DataFrame
        One row per variant: ``variant``, ``n_steps`` (events shown; NA for the pooled and
        special variants), ``n`` (answers), ``share`` (of the answers), ``mean_sat`` (mean
        normalised satisfaction, every kind), ``n_nps``, ``nps``, ``nps_low``, ``nps_high``,
        ``detractor_share`` (NPS answers only; NaN without any), ``small`` (n < ``min_n``).
    """
    steps = _check_steps(steps, "steps")
    top_n = _check_steps(top_n, "top_n")
    lookback_s = _lookback_s(lookback_days)
    _check_min_n(min_n)
    z = _z(confidence)
    for k in kinds:
        check_choice("kinds", k, SCORED_KINDS)
    _check_context(context, ["customer_id", "ts", "kind", "score"])
    kind = context["kind"].astype("string")
    keep = kind.isin(list(kinds)).fillna(False) & context["score"].notna()
    rows = context.loc[keep, ["customer_id", "ts", "kind", "score"]].reset_index(drop=True)
    if rows.empty:
        return empty_frame(_PATH_DTYPES)
    rows["sat"] = normalised_satisfaction(rows["kind"], rows["score"])
    answers = rows[["customer_id", "ts"]].assign(aid=np.arange(len(rows)))
    require_columns(engine, "events", ["customer_id", "ts", "event", "session_id"], timestamp="ts")
    _register_answers(engine, answers[["aid", "customer_id", "ts"]])
    if distinct:  # each event once, at its first occurrence in the visit
        seq = "SELECT aid, MIN(ts) AS ts, event FROM visit GROUP BY aid, event"
    else:  # repeats in a row collapsed
        seq = (
            "SELECT aid, ts, event FROM (SELECT aid, ts, event, "
            "LAG(event) OVER (PARTITION BY aid ORDER BY ts, event) AS prev FROM visit) "
            "WHERE prev IS NULL OR prev <> event"
        )
    sql = f"""
    WITH ev AS (
        SELECT customer_id, session_id, ts, CAST(event AS VARCHAR) AS event FROM events
        WHERE customer_id IN (SELECT customer_id FROM {_ANSWERS}) AND event IS NOT NULL
    ),
    visits AS (
        SELECT customer_id, session_id, MIN(ts) AS start_ts FROM ev GROUP BY customer_id, session_id
    ),
    lv AS (
        SELECT a.aid, a.customer_id, a.ts,
               {last_by("v.session_id", ("v.start_ts", "v.session_id"))} AS session_id
        FROM {_ANSWERS} a JOIN visits v ON v.customer_id = a.customer_id AND v.start_ts < a.ts
             {_within("v.start_ts", "a.ts", lookback_s)}
        GROUP BY a.aid, a.customer_id, a.ts
    ),
    visit AS (
        SELECT l.aid, e.ts, e.event
        FROM lv l JOIN ev e
             ON e.customer_id = l.customer_id AND e.session_id = l.session_id AND e.ts < l.ts
        WHERE TRUE {_event_filter(events, "e.event")}
    ),
    seq AS ({seq}),
    kept AS (
        SELECT aid, ts, event,
               ROW_NUMBER() OVER (PARTITION BY aid ORDER BY ts DESC, event DESC) AS back,
               COUNT(*) OVER (PARTITION BY aid) AS n_events
        FROM seq
    ),
    paths AS (
        SELECT aid, {ordered_concat("event", "ts, event", VARIANT_SEP)} AS path,
               COUNT(*) AS n_steps, MAX(n_events) AS n_events
        FROM kept WHERE back <= $steps GROUP BY aid
    )
    SELECT l.aid, p.path, p.n_steps, p.n_events
    FROM lv l LEFT JOIN paths p ON p.aid = l.aid
    """
    params: dict[str, Any] = {"steps": steps}
    if lookback_s is not None:
        params["lookback_s"] = lookback_s
    found = engine.query(sql, params).assign(visit=True)
    rows = rows.assign(aid=np.arange(len(rows))).merge(found, on="aid", how="left")
    visit = rows["visit"].notna().to_numpy()
    path = rows["path"].astype("string")
    cut = rows["n_events"].astype("float64") > rows["n_steps"].astype("float64")
    variant = path.where(~cut, CUT + VARIANT_SEP + path)
    variant = variant.mask(~visit, NO_SESSION).mask(visit & path.isna(), NO_EVENTS)
    rows["variant"] = variant.astype("string")
    rows["n_steps"] = rows["n_steps"].astype("Int64")
    return _variant_table(rows, top_n=top_n, min_n=min_n, z=z)


def _variant_table(rows: pd.DataFrame, *, top_n: int, min_n: int, z: float) -> pd.DataFrame:
    """Aggregate one row per answer (variant, n_steps, kind, score, sat) to the variant table."""
    counts = rows["variant"].value_counts()
    counts = counts.sort_index(kind="stable").sort_values(ascending=False, kind="stable")
    top = list(counts.index[:top_n])
    pooled = ~rows["variant"].isin(top)
    rows = rows.assign(
        variant=rows["variant"].where(~pooled, OTHER),
        n_steps=rows["n_steps"].mask(pooled | rows["variant"].isin([NO_SESSION, NO_EVENTS])),
    )
    s = rows["score"].astype("float64")
    is_nps = rows["kind"].astype("string").eq("nps")
    rows["nps_n"] = is_nps.astype("int64")
    rows["p"] = (is_nps & (s >= PROMOTER_MIN)).astype("int64")
    rows["d"] = (is_nps & (s <= DETRACTOR_MAX)).astype("int64")
    agg = rows.groupby("variant", sort=False).agg(
        n_steps=("n_steps", "max"),
        n=("sat", "size"),
        mean_sat=("sat", "mean"),
        n_nps=("nps_n", "sum"),
        p=("p", "sum"),
        d=("d", "sum"),
    )
    agg = agg.reindex([*top, *([OTHER] if pooled.any() else [])])
    st = nps_stats(agg["p"], agg["n_nps"] - agg["p"] - agg["d"], agg["d"], z)
    out = pd.DataFrame(
        {
            "variant": agg.index.astype("string"),
            "n_steps": agg["n_steps"].to_numpy(),
            "n": agg["n"].to_numpy(),
            "share": agg["n"].to_numpy() / len(rows),
            "mean_sat": agg["mean_sat"].to_numpy(),
            "n_nps": agg["n_nps"].to_numpy(),
            "nps": st["nps"],
            "nps_low": st["nps_low"],
            "nps_high": st["nps_high"],
            "detractor_share": st["detractor_share"],
            "small": agg["n"].to_numpy() < min_n,
        }
    )
    return out.astype(_PATH_DTYPES).reset_index(drop=True)


# ---- plots (draw only what the tables hold) ---------------------------------------------------
def _group_column(table: pd.DataFrame, by: str | None) -> str:
    if by is not None:
        return by
    cols = [c for c in table.columns if c not in ("kind", "persona_label", *_SAT_METRICS)]
    if not cols:
        raise ValueError("the table has no group column: pass by=")
    return cols[0]


# Chart text built from data, in the report language; fixed titles stay English here and are
# translated by the display's phrase catalogue (journeylib.i18n).
_PLOT_TEXT: dict[str, dict[str, str]] = {
    "en": {
        "nps_by": "NPS by {dim} (95% interval; pale: few answers)",
        "nps_hover": "%{x}: NPS %{y:.0f} (%{customdata[1]:.0f} to %{customdata[2]:.0f}), "
        "%{customdata[0]} answers<extra></extra>",
        "trend_nps_hover": "%{x|%Y-%m-%d}: NPS %{y:.0f}, %{customdata} answers<extra></extra>",
        "trend_share_hover": "%{x|%Y-%m-%d}: %{y:.0%}, %{customdata} answers<extra></extra>",
        "drivers_hover": "%{y}: lift %{x:.1f}; before %{customdata[0]:.0%} of detractors vs "
        "%{customdata[1]:.0%} of promoters (%{customdata[2]} answers)<extra></extra>",
    },
    "id": {
        "nps_by": "NPS per {dim} (selang kepercayaan 95%; pucat: sedikit jawaban)",
        "nps_hover": "%{x}: NPS %{y:.0f} (%{customdata[1]:.0f} sampai %{customdata[2]:.0f}), "
        "%{customdata[0]} jawaban<extra></extra>",
        "trend_nps_hover": "%{x|%Y-%m-%d}: NPS %{y:.0f}, %{customdata} jawaban<extra></extra>",
        "trend_share_hover": "%{x|%Y-%m-%d}: %{y:.0%}, %{customdata} jawaban<extra></extra>",
        "drivers_hover": "%{y}: lift %{x:.1f}; sebelum %{customdata[0]:.0%} detraktor vs "
        "%{customdata[1]:.0%} promotor (%{customdata[2]} jawaban)<extra></extra>",
    },
}
#: The dimensions of :func:`satisfaction_by` in words (chart titles and axes).
_DIMENSIONS: dict[str, dict[str, str]] = {
    "en": {},
    "id": {
        "stage": "tahap",
        "touchpoint": "titik sentuh",
        "channel": "kanal",
        "device": "perangkat",
        "persona": "persona",
        "period": "periode",
    },
}


def _plot_text(language: str, key: str, **values: object) -> str:
    return i18n.template(_PLOT_TEXT, language, key, **values)


def _dimension(name: str, language: str) -> str:
    return _DIMENSIONS.get(language, {}).get(name, name)


def plot_nps_by(
    table: pd.DataFrame,
    *,
    by: str | None = None,
    title: str | None = None,
    language: str = "en",
    labels: dict[str, str] | None = None,
) -> go.Figure:
    """Bars of NPS per group with their confidence intervals (the nps rows of
    :func:`satisfaction_by`); small groups drawn pale.

    ``language`` (``en``/``id``) writes the default title, the axis title and the hover text;
    ``labels`` renames groups (e.g. stage names to their labels; the others stay as they are).
    """
    import plotly.graph_objects as go

    col = _group_column(table, by)
    t = table.loc[table["kind"].eq("nps")] if "kind" in table.columns else table
    label = t["persona_label"] if col == "persona" and "persona_label" in t else t[col]
    rename = labels or {}
    groups = [rename.get(v, v) for v in label.astype("string").fillna(UNKNOWN).tolist()]
    small = t["small"].to_numpy(dtype=bool) if "small" in t else np.zeros(len(t), bool)
    fig = go.Figure(
        go.Bar(
            x=groups,
            y=t["nps"],
            error_y={
                "type": "data",
                "symmetric": False,
                "array": (t["nps_high"] - t["nps"]).to_numpy(dtype=float),
                "arrayminus": (t["nps"] - t["nps_low"]).to_numpy(dtype=float),
            },
            marker={"color": np.where(small, "#B8C4BF", "#0B6E4F").tolist()},
            customdata=np.c_[t["n"].to_numpy(), t["nps_low"], t["nps_high"]],
            hovertemplate=_plot_text(language, "nps_hover"),
        )
    )
    dim = _dimension(col, language)
    fig.update_layout(
        title=title or _plot_text(language, "nps_by", dim=dim),
        xaxis_title=dim,
        yaxis={"title": "NPS (points)", "range": [-100, 100], "zeroline": True},
        height=400,
        margin={"l": 60, "r": 20, "t": 50, "b": 60},
    )
    return fig


def plot_satisfaction_over_time(
    table: pd.DataFrame, *, title: str | None = None, language: str = "en"
) -> go.Figure:
    """NPS per period with its interval band (left axis) and the top-2-box share of CSAT and
    reviews (right axis), from :func:`satisfaction_over_time`; hover text in ``language``."""
    import plotly.graph_objects as go

    fig = go.Figure()
    nps = table.loc[table["kind"].eq("nps")]
    if len(nps):
        x = pd.concat([nps["period"], nps["period"][::-1]])
        y = pd.concat([nps["nps_high"], nps["nps_low"][::-1]])
        fig.add_scatter(
            x=x, y=y, fill="toself", mode="lines", line={"width": 0},
            fillcolor="rgba(11,110,79,0.15)", name="NPS 95% interval", hoverinfo="skip",
        )  # fmt: skip
        fig.add_scatter(
            x=nps["period"], y=nps["nps"], mode="lines+markers", name="NPS",
            line={"color": "#0B6E4F"}, customdata=nps["n"],
            hovertemplate=_plot_text(language, "trend_nps_hover"),
        )  # fmt: skip
    for kind, color in (("csat", "#C05621"), ("review", "#2B6CB0")):
        part = table.loc[table["kind"].eq(kind)]
        if len(part):
            fig.add_scatter(
                x=part["period"], y=part["top2_share"], mode="lines+markers", yaxis="y2",
                name=f"{kind.upper() if kind == 'csat' else 'reviews'}: share 4-5",
                line={"color": color, "dash": "dot"}, customdata=part["n"],
                hovertemplate=_plot_text(language, "trend_share_hover"),
            )  # fmt: skip
    fig.update_layout(
        title=title or "Satisfaction over time",
        xaxis={"title": "period"},
        yaxis={"title": "NPS (points)", "range": [-100, 100]},
        yaxis2={
            "title": "share of 4-5 answers",
            "overlaying": "y",
            "side": "right",
            "range": [0, 1],
            "tickformat": ".0%",
        },
        legend={"orientation": "h", "y": -0.2},
        height=420,
        margin={"l": 60, "r": 60, "t": 50, "b": 40},
    )
    return fig


def plot_detractor_drivers(
    table: pd.DataFrame, *, top: int = 10, title: str | None = None, language: str = "en"
) -> go.Figure:
    """Horizontal bars of the lift of the ``top`` supported events of
    :func:`detractor_drivers` with their intervals (log scale; 1 = no difference); hover text
    in ``language``."""
    import plotly.graph_objects as go

    t = table.loc[table["supported"] & table["lift"].notna()].head(top).iloc[::-1]
    fig = go.Figure(
        go.Bar(
            x=t["lift"],
            y=t["event"].astype(str).str.replace("_", " "),
            orientation="h",
            error_x={
                "type": "data",
                "symmetric": False,
                "array": (t["lift_high"] - t["lift"]).to_numpy(dtype=float),
                "arrayminus": (t["lift"] - t["lift_low"]).to_numpy(dtype=float),
            },
            marker={"color": np.where(t["lift_low"] > 1, "#C53030", "#A0AEC0").tolist()},
            customdata=np.c_[t["detractor_share"], t["promoter_share"], t["n_with"]],
            hovertemplate=_plot_text(language, "drivers_hover"),
        )
    )
    fig.add_vline(x=1, line_dash="dash", line_color="#4A5568")
    fig.update_layout(
        title=title or "Events before detractors vs promoters (lift, 95% interval)",
        xaxis={"title": "lift (detractor share / promoter share)", "type": "log"},
        height=max(300, 40 * len(t) + 120),
        margin={"l": 160, "r": 20, "t": 50, "b": 40},
    )
    return fig
