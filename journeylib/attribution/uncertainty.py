"""How sure is each channel's credit, and do the models agree?

* :func:`bootstrap`: percentile intervals of every channel's share (and credited conversions)
  under any model, by resampling journeys or customers (:func:`bootstrap_models`: several
  models on the same resamples, drawn once);
* :func:`compare_models`: the credit per channel of several models side by side (long or
  wide), with each channel's rank inside each model;
* :func:`rank_agreement`: how similarly two models order the channels (Kendall's tau-b and
  Spearman's rho of the channel shares, for every pair of models);
* :func:`plot_model_comparison`: grouped bars of the share per channel per model, with the
  bootstrap intervals as error bars when the table has them (the chart twin of
  :func:`compare_models`).

**Resampling.** ``by="journey"`` treats every journey as one draw: the cells of the data are
(path, converted) and (path, did not convert), holding ``conversions`` and ``nulls`` journeys;
a resample draws the same total number of journeys from these cells with replacement (one
multinomial draw: a binomial per cell, or, with one journey per cell, a draw per journey), so a path's conversions and nulls vary independently. A resampled path keeps
its mean value per conversion. This is the right unit for an aggregated table such as
``Data.csv``, where journeys of different customers cannot be told apart. ``by="customer"``
(paths with ``journey_ids``, one row per journey) draws customers with replacement and keeps all
journeys of a drawn customer together, which respects that one customer's journeys are not
independent. Counts that are not whole numbers (weighted journeys) are resampled as
``round(total)`` journeys drawn in proportion to the weights.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
from scipy import stats

from journeylib.attribution.pathdata import Paths
from journeylib.attribution.rules import LinearRule

if TYPE_CHECKING:  # pragma: no cover
    import plotly.graph_objects as go

__all__ = [
    "agreement_matrix",
    "bootstrap",
    "bootstrap_models",
    "bootstrap_paths",
    "compare_models",
    "plot_model_comparison",
    "rank_agreement",
]

log = logging.getLogger(__name__)

BY: tuple[str, ...] = ("journey", "customer")
BOOTSTRAP_COLUMNS: tuple[str, ...] = (
    "channel",
    "share",
    "share_low",
    "share_high",
    "conversions",
    "conversions_low",
    "conversions_high",
    "value",
    "n_boot",
)
COMPARE_COLUMNS: tuple[str, ...] = (
    "channel",
    "model",
    "conversions",
    "value",
    "share",
    "share_low",
    "share_high",
    "rank",
)
AGREEMENT_COLUMNS: tuple[str, ...] = (
    "model_a",
    "model_b",
    "kendall_tau",
    "spearman_rho",
    "n_channels",
)

Model = Callable[[Paths], pd.DataFrame]


def _check_by(paths: Paths, by: str) -> None:
    if not isinstance(paths, Paths):
        raise TypeError(f"bootstrap: expected a Paths object, got {type(paths).__name__}")
    if by not in BY:
        raise ValueError(f"by must be one of {BY}; got {by!r}")
    if by == "customer" and paths.journey_ids is None:
        raise ValueError(
            "bootstrap by='customer' needs Paths.journey_ids (one row per journey with its "
            "customer); these paths have none (e.g. an aggregated path table): use by='journey'"
        )


def bootstrap_paths(
    paths: Paths,
    *,
    n_boot: int = 200,
    random_state: int | None = 0,
    by: Literal["journey", "customer"] = "journey",
) -> Iterator[Paths]:
    """Bootstrap resamples of ``paths`` (see the module notes for the resampling units).

    Parameters
    ----------
    paths
        Touchpoint paths; never modified.
    n_boot
        Number of resamples.
    random_state
        Seed; equal seeds give equal resamples.
    by
        ``"journey"`` (every journey drawn on its own) or ``"customer"`` (all journeys of a
        drawn customer together; needs ``journey_ids``).

    Returns
    -------
    Iterator[Paths]
        ``n_boot`` resamples, each with the same rows, touches, channels, ``lag_days`` and
        ``journey_ids`` as ``paths``; only ``conversions``, ``value`` and ``nulls`` change (rows
        drawn zero times get zero counts). Arguments are checked at the call, not on iteration.
    """
    counts = _resample_counts(paths, n_boot=n_boot, random_state=random_state, by=by)
    return (_with_counts(paths, *c) for c in counts)


def _with_counts(paths: Paths, conv: np.ndarray, value: np.ndarray, nulls: np.ndarray) -> Paths:
    """``paths`` with new per-path counts (touches, lags and ids shared, not copied)."""
    return Paths(
        channels=paths.channels,
        offsets=paths.offsets,
        touches=paths.touches,
        conversions=conv,
        value=value,
        nulls=nulls,
        lag_days=paths.lag_days,
        journey_ids=paths.journey_ids,
    )


_Counts = tuple[np.ndarray, np.ndarray, np.ndarray]


def _resample_counts(
    paths: Paths, *, n_boot: int, random_state: int | None, by: str
) -> Iterator[_Counts]:
    """The ``(conversions, value, nulls)`` per path of every resample of
    :func:`bootstrap_paths` (same draws), without building a ``Paths`` for each."""
    _check_by(paths, by)
    if not isinstance(n_boot, int | np.integer) or n_boot < 1:
        raise ValueError(f"n_boot must be a positive integer; got {n_boot!r}")
    rng = np.random.default_rng(random_state)
    if by == "customer":
        customer, uniques = pd.factorize(np.asarray(paths.journey_ids, dtype=object))
        if (customer < 0).any():
            raise ValueError(
                f"bootstrap by='customer': {int((customer < 0).sum())} journeys have a missing "
                "journey_id"
            )
        return _customer_resamples(paths, customer, len(uniques), n_boot, rng)
    total = paths.total_conversions + paths.total_nulls
    if round(total) < 1:
        raise ValueError(
            f"bootstrap: the paths hold {total:g} journeys (conversions + nulls): nothing to "
            "resample"
        )
    return _journey_resamples(paths, n_boot, rng)


def _customer_resamples(
    paths: Paths, customer: np.ndarray, n_customers: int, n_boot: int, rng: np.random.Generator
) -> Iterator[_Counts]:
    """Customers drawn with replacement; a journey is weighted by its customer's draw count."""
    for _ in range(n_boot):
        draws = np.bincount(rng.integers(0, n_customers, n_customers), minlength=n_customers)
        w = draws[customer].astype(np.float64)
        yield paths.conversions * w, paths.value * w, paths.nulls * w


def _journey_resamples(paths: Paths, n_boot: int, rng: np.random.Generator) -> Iterator[_Counts]:
    """Journeys drawn with replacement over the (path, converted) and (path, not converted)
    cells, as many as the data hold; a path keeps its mean value per conversion."""
    n = paths.n_paths
    cells = np.concatenate([paths.conversions, paths.nulls]).astype(np.float64)
    n_journeys = round(float(cells.sum()))
    held = np.flatnonzero(cells)  # cells that can be drawn
    conv = np.asarray(paths.conversions)
    # mean value per conversion of each path; 0 where the path has no conversions
    per_conversion = np.divide(paths.value, conv, out=np.zeros(n), where=conv > 0)
    whole = bool(np.all(cells[held] == np.round(cells[held])))
    # Two exact ways to make the same multinomial draw. A binomial per held cell costs in
    # proportion to the cells, drawing each journey in proportion to the journeys: one row
    # per journey (time-decay models: 1.2M journeys, 2.5M cells at 1M customers) holds a
    # journey per cell, where drawing journeys is 3x faster.
    cell_of = np.repeat(held, cells[held].astype(np.int64)) if whole else None
    draw_journeys = cell_of is not None and n_journeys <= len(held)
    p = cells[held] / cells[held].sum()
    for _ in range(n_boot):
        if draw_journeys:
            picked = cell_of[rng.integers(0, n_journeys, n_journeys)]
            counts = np.bincount(picked, minlength=2 * n).astype(np.float64)
        else:
            counts = np.zeros(2 * n)
            counts[held] = rng.multinomial(n_journeys, p)
        new_conv = counts[:n]
        yield new_conv, new_conv * per_conversion, counts[n:]


def _credit(table: pd.DataFrame, channels: pd.Index, what: str) -> tuple[np.ndarray, np.ndarray]:
    """Conversions and share of ``table`` aligned on ``channels``."""
    if not isinstance(table, pd.DataFrame) or not {"channel", "conversions", "share"} <= set(
        table.columns
    ):
        raise ValueError(
            f"bootstrap: the model must return a credit table (channel, conversions, value, "
            f"share); got {type(table).__name__} for {what}"
        )
    labels = table["channel"].to_numpy(dtype=object)
    if len(labels) == len(channels) and (labels == channels.values).all():
        return table["conversions"].to_numpy(np.float64), table["share"].to_numpy(np.float64)
    t = table.set_index("channel")
    if not t.index.is_unique:
        raise ValueError(f"bootstrap: the model's table has duplicate channels ({what})")
    missing = ~channels.isin(t.index)
    if missing.any():
        raise ValueError(
            f"bootstrap: the model's table for {what} lacks {int(missing.sum())} channels of "
            "the full-data table"
        )
    t = t.reindex(channels)
    return t["conversions"].to_numpy(np.float64), t["share"].to_numpy(np.float64)


def bootstrap(
    paths: Paths,
    model: Model,
    *,
    n_boot: int = 200,
    ci: float = 0.95,
    random_state: int | None = 0,
    by: Literal["journey", "customer"] = "journey",
) -> pd.DataFrame:
    """Bootstrap percentile intervals of a model's channel shares and credited conversions.

    Parameters
    ----------
    paths
        Touchpoint paths; never modified.
    model
        A function ``Paths -> credit table`` (e.g. :func:`~journeylib.attribution.rules.linear`,
        :func:`~journeylib.attribution.shapley.shapley`, or
        ``lambda p: MarkovAttribution().fit(p).attribution_``); it must be deterministic. A
        :class:`~journeylib.attribution.rules.LinearRule` (the rule models of
        :func:`~journeylib.attribution.suite.model_suite`) is run once on ``paths``; every
        resample is then credited from its weight matrix ``W`` (conversions ``W.T @`` the
        resample's conversions), which gives the same table as running it on each resample,
        up to float rounding, in a fraction of the time.
    n_boot
        Number of resamples (at least 2).
    ci
        Coverage of the interval, e.g. ``0.95`` for the 2.5 % and 97.5 % percentiles.
    random_state
        Seed of the resampling; equal seeds give equal intervals.
    by
        Resampling unit: ``"journey"`` or ``"customer"`` (see the module notes).

    Returns
    -------
    DataFrame
        One row per channel, in the order of the model's table on the full data: ``channel``,
        ``share`` (point estimate on the full data), ``share_low``, ``share_high``,
        ``conversions``, ``conversions_low``, ``conversions_high`` (the same for credited
        conversions), ``value`` (credited value on the full data) and ``n_boot`` (resamples
        used: a resample without any conversion cannot be attributed and is left out, with a
        warning).

    Raises
    ------
    ValueError
        Bad arguments, ``by="customer"`` without ``journey_ids``, or a model that does not
        return a credit table with the full data's channels.

    Examples
    --------
    >>> from journeylib.attribution.rules import linear
    >>> p = Paths.from_sequences([["a", "b"], ["a"]], conversions=[30, 10], nulls=[50, 60])
    >>> t = bootstrap(p, linear, n_boot=50)
    >>> t[["channel", "share"]].to_dict("list")
    {'channel': ['a', 'b'], 'share': [0.625, 0.375]}
    >>> bool((t["share_low"] <= t["share"]).all() and (t["share"] <= t["share_high"]).all())
    True
    """
    if not callable(model):
        raise TypeError(f"model must be a callable Paths -> credit table; got {type(model)}")
    return _bootstrap(paths, {"model": model}, n_boot, ci, random_state, by)["model"]


def bootstrap_models(
    paths: Paths,
    models: Mapping[str, Model],
    *,
    n_boot: int = 200,
    ci: float = 0.95,
    random_state: int | None = 0,
    by: Literal["journey", "customer"] = "journey",
) -> dict[str, pd.DataFrame]:
    """:func:`bootstrap` of several models on the same resamples, drawn once.

    Equal to ``{name: bootstrap(paths, model, ...) for name, model in models.items()}`` (same
    seed, hence the same resamples for every model), but every resample is drawn (and, for the
    models that need it, built as ``Paths``) only once: on large data the multinomial draw of a
    resample costs as much as crediting it.

    Parameters
    ----------
    paths
        Touchpoint paths; never modified.
    models
        Name -> model (as in :func:`bootstrap`).
    n_boot, ci, random_state, by
        As in :func:`bootstrap`.

    Returns
    -------
    dict[str, DataFrame]
        Name -> the :func:`bootstrap` table of that model, in the order of ``models``.
    """
    if not isinstance(models, Mapping) or not models:
        raise ValueError("bootstrap_models: expected a non-empty dict of model name -> model")
    for name, model in models.items():
        if not callable(model):
            raise TypeError(
                f"model {name!r} must be a callable Paths -> credit table; got {type(model)}"
            )
    return _bootstrap(paths, models, n_boot, ci, random_state, by)


class _Fit:
    """One model's full-data table and its resampled conversions and shares."""

    def __init__(self, paths: Paths, model: Model, n_boot: int) -> None:
        self.model = model
        self.point = model(paths)
        if not isinstance(self.point, pd.DataFrame) or "channel" not in self.point.columns:
            raise ValueError(
                "bootstrap: the model must return a credit table with a channel column"
            )
        self.channels = pd.Index(self.point["channel"].astype("str"), dtype=object)
        self.conv0, self.share0 = _credit(self.point, self.channels, "the full data")
        self.conv = np.full((n_boot, len(self.channels)), np.nan)
        self.share = np.full((n_boot, len(self.channels)), np.nan)
        self.w_t = None  # the transposed weight matrix of a linear model
        if isinstance(model, LinearRule):
            pos = pd.Index(paths.channels, dtype=object).get_indexer(self.channels)
            if (pos < 0).any():  # pragma: no cover - a LinearRule table has paths.channels
                raise ValueError("bootstrap: the model's table has channels the paths lack")
            self.w_t = model.matrix(paths).T.tocsr()
            self.pos = pos

    def add(self, b: int, conv: np.ndarray, sample: Paths | None) -> None:
        """Credit resample ``b`` (its per-path conversions, and the resample itself)."""
        if self.w_t is None:
            self.conv[b], self.share[b] = _credit(
                self.model(sample), self.channels, f"resample {b}"
            )
            return
        # as credit_table: share = credited conversions / their total, in paths.channels order
        c = self.w_t @ conv
        total = c.sum()
        share = c / total if total != 0 else np.full(len(c), np.nan)
        self.conv[b], self.share[b] = c[self.pos], share[self.pos]


def _bootstrap(
    paths: Paths,
    models: Mapping[str, Model],
    n_boot: int,
    ci: float,
    random_state: int | None,
    by: str,
) -> dict[str, pd.DataFrame]:
    """:func:`bootstrap_models` after the models are checked (warnings point at its caller)."""
    if not isinstance(n_boot, int | np.integer) or n_boot < 2:
        raise ValueError(f"n_boot must be an integer >= 2; got {n_boot!r}")
    if not (isinstance(ci, float | int) and 0 < ci < 1):
        raise ValueError(f"ci must be a number strictly between 0 and 1; got {ci!r}")
    _check_by(paths, by)
    fits = {name: _Fit(paths, model, n_boot) for name, model in models.items()}
    need_paths = any(f.w_t is None for f in fits.values())
    ok = np.zeros(n_boot, dtype=bool)
    counts = _resample_counts(paths, n_boot=n_boot, random_state=random_state, by=by)
    for b, (conv, value, nulls) in enumerate(counts):
        if not float(conv.sum()) > 0:  # as Paths.total_conversions
            continue
        sample = _with_counts(paths, conv, value, nulls) if need_paths else None
        for f in fits.values():
            f.add(b, conv, sample)
        ok[b] = True
    used = int(ok.sum())
    if used < n_boot:
        if used < 2:
            raise ValueError(
                f"bootstrap: only {used} of {n_boot} resamples have conversions; too few "
                "conversions to bootstrap"
            )
        warnings.warn(
            f"bootstrap: {n_boot - used} of {n_boot} resamples had no conversions and were "
            "left out",
            RuntimeWarning,
            stacklevel=3,
        )
    q = [(1 - ci) / 2, 1 - (1 - ci) / 2]
    out = {}
    for name, f in fits.items():
        share_q = np.quantile(f.share[ok], q, axis=0)
        conv_q = np.quantile(f.conv[ok], q, axis=0)
        out[name] = pd.DataFrame(
            {
                "channel": pd.array(f.channels, dtype="str"),
                "share": f.share0,
                "share_low": share_q[0],
                "share_high": share_q[1],
                "conversions": f.conv0,
                "conversions_low": conv_q[0],
                "conversions_high": conv_q[1],
                "value": _value(f.point, f.channels),
                "n_boot": np.full(len(f.channels), used, dtype=np.int64),
            }
        )
    log.info(
        "bootstrap: %d resamples by %s, %d models (%d credited from their linear form)",
        used,
        by,
        len(fits),
        sum(f.w_t is not None for f in fits.values()),
    )
    return out


def _value(point: pd.DataFrame, channels: pd.Index) -> np.ndarray:
    """The full-data credited value per channel (NaN when the model credits no value)."""
    if "value" not in point.columns:
        return np.full(len(channels), np.nan)
    v = point.assign(channel=point["channel"].astype("str")).set_index("channel")["value"]
    return v.reindex(channels).to_numpy(np.float64)


def _check_tables(tables: Mapping[str, pd.DataFrame], caller: str) -> None:
    if not isinstance(tables, Mapping) or not tables:
        raise ValueError(f"{caller}: expected a non-empty dict of model name -> credit table")
    for name, t in tables.items():
        if not isinstance(t, pd.DataFrame):
            raise ValueError(f"{caller}: the table of model {name!r} is not a DataFrame")
        missing = [c for c in ("channel", "share") if c not in t.columns]
        if missing:
            raise ValueError(f"{caller}: the table of model {name!r} lacks columns {missing}")
        if t["channel"].duplicated().any():
            raise ValueError(f"{caller}: the table of model {name!r} has duplicate channels")


def compare_models(tables: Mapping[str, pd.DataFrame], *, wide: bool = False) -> pd.DataFrame:
    """Credit per channel across models, side by side.

    Parameters
    ----------
    tables
        Model name -> credit table (``channel``, ``share``; ``conversions``, ``value`` and the
        interval columns ``share_low``/``share_high`` of :func:`bootstrap` are used when
        present). A channel missing from a model's table gets zero credit there.
    wide
        ``False``: the long table below. ``True``: one row per channel and one column of shares
        per model (named by the model).

    Returns
    -------
    DataFrame
        Long: one row per channel x model (channels in order of first appearance, models in
        dict order): ``channel``, ``model``, ``conversions``, ``value``, ``share``,
        ``share_low``, ``share_high`` (NaN when the input has no such column) and ``rank`` (1 =
        the channel with the largest share in that model; ties share the best rank).

    Examples
    --------
    >>> a = pd.DataFrame({"channel": ["x", "y"], "conversions": [3.0, 1.0], "share": [0.75, 0.25]})
    >>> b = pd.DataFrame({"channel": ["x", "y"], "conversions": [1.0, 3.0], "share": [0.25, 0.75]})
    >>> compare_models({"first": a, "last": b}, wide=True)
      channel  first  last
    0       x   0.75  0.25
    1       y   0.25  0.75
    """
    _check_tables(tables, "compare_models")
    channels = pd.unique(
        pd.concat([t["channel"].astype("str") for t in tables.values()], ignore_index=True)
    )
    parts = []
    for name, t in tables.items():
        t = t.assign(channel=t["channel"].astype("str")).set_index("channel").reindex(channels)
        absent = t["share"].isna().to_numpy()

        def column(col: str, fill: float, t=t, absent=absent) -> np.ndarray:
            if col not in t.columns:
                return np.full(len(channels), np.nan)
            a = t[col].to_numpy(np.float64, na_value=np.nan)
            return np.where(absent, fill, a)

        share = column("share", 0.0)
        parts.append(
            pd.DataFrame(
                {
                    "channel": pd.array(channels, dtype="str"),
                    "model": pd.array([str(name)] * len(channels), dtype="str"),
                    "conversions": column("conversions", 0.0),
                    "value": column("value", 0.0),
                    "share": share,
                    "share_low": column("share_low", 0.0),
                    "share_high": column("share_high", 0.0),
                    "rank": pd.Series(-share)
                    .rank(method="min", na_option="bottom")
                    .to_numpy(np.int64),
                }
            )
        )
    long = pd.concat(parts, ignore_index=True)
    if not wide:
        return long
    out = long.pivot(index="channel", columns="model", values="share")
    out = out.reindex(index=channels, columns=[str(m) for m in tables]).reset_index()
    out.columns.name = None
    return out


def rank_agreement(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Agreement between models on the order of channels.

    For every pair of models, Kendall's tau-b (:func:`scipy.stats.kendalltau`, which handles
    ties) and Spearman's rho (:func:`scipy.stats.spearmanr`) between their channel shares, over
    the union of channels (a channel missing from a model counts as zero share). Both are 1 when
    the models order the channels identically and -1 when one reverses the other; tau is the
    difference between the shares of concordant and discordant channel pairs. NaN when a model
    gives every channel the same share or there are fewer than two channels.

    Parameters
    ----------
    tables
        Model name -> credit table (as for :func:`compare_models`).

    Returns
    -------
    DataFrame
        One row per ordered pair of models, diagonal included (pivot it for a model x model
        matrix): ``model_a``, ``model_b``, ``kendall_tau``, ``spearman_rho``, ``n_channels``.

    Examples
    --------
    >>> a = pd.DataFrame({"channel": ["x", "y", "z"], "share": [0.5, 0.3, 0.2]})
    >>> b = pd.DataFrame({"channel": ["x", "y", "z"], "share": [0.2, 0.3, 0.5]})
    >>> rank_agreement({"a": a, "b": b})["kendall_tau"].round(6).tolist()
    [1.0, -1.0, -1.0, 1.0]
    """
    _check_tables(tables, "rank_agreement")
    wide = compare_models(tables, wide=True)
    names = [str(m) for m in tables]
    rows = []
    for a in names:
        for b in names:
            x, y = wide[a].to_numpy(np.float64), wide[b].to_numpy(np.float64)
            tau = rho = float("nan")
            if len(x) >= 2 and np.ptp(x) > 0 and np.ptp(y) > 0:
                tau = float(stats.kendalltau(x, y).statistic)
                rho = float(stats.spearmanr(x, y).statistic)
            rows.append((a, b, tau, rho, len(x)))
    out = pd.DataFrame(rows, columns=list(AGREEMENT_COLUMNS))
    return out.astype({"model_a": "str", "model_b": "str", "n_channels": "int64"})


def agreement_matrix(agreement: pd.DataFrame, value: str = "kendall_tau") -> pd.DataFrame:
    """:func:`rank_agreement` as a model x model matrix: a ``model`` column, then one column per
    model, in the order the models were given."""
    order = list(pd.unique(agreement["model_a"]))
    wide = agreement.pivot(index="model_a", columns="model_b", values=value)
    wide = wide.reindex(index=order, columns=order)
    wide.columns.name = None
    return wide.rename_axis("model").reset_index()


#: Chart text in each report language.
_PLOT_TEXT: dict[str, dict[str, str]] = {
    "en": {
        "hover": "%{x}: %{y:.1%} of conversions<extra>",
        "title": "Share of conversions credited to each channel, by model",
        "channel": "channel",
        "share": "share of conversions",
        "model": "model",
    },
    "id": {
        "hover": "%{x}: %{y:.1%} konversi<extra>",
        "title": "Porsi konversi yang dikreditkan ke setiap kanal, menurut model",
        "channel": "kanal",
        "share": "porsi konversi",
        "model": "model",
    },
}


def plot_model_comparison(table: pd.DataFrame, *, language: str = "en") -> go.Figure:
    """Grouped bars of :func:`compare_models` (long): share per channel, one colour per model,
    with the bootstrap interval as error bars where ``share_low``/``share_high`` are given.

    Text is in ``language`` (``en`` or ``id``); model keys and English model names
    (:data:`journeylib.attribution.suite.MODEL_LABELS`) are shown in that language.
    """
    import plotly.graph_objects as go

    from journeylib.attribution.suite import MODEL_LABELS, model_label

    text = _PLOT_TEXT.get(language, _PLOT_TEXT["en"])
    keys = {label: key for key, label in MODEL_LABELS.items()}

    def shown(model: object) -> str:
        if language == "en":
            return str(model)
        return model_label(keys.get(str(model), str(model)), language=language)

    missing = [c for c in ("channel", "model", "share") if c not in table.columns]
    if missing:
        raise ValueError(f"plot_model_comparison: the table lacks columns {missing}")
    fig = go.Figure()
    for model in pd.unique(table["model"]):
        part = table[table["model"] == model]
        share = part["share"].to_numpy(np.float64)
        error = None
        if {"share_low", "share_high"} <= set(part.columns):
            low = part["share_low"].to_numpy(np.float64, na_value=np.nan)
            high = part["share_high"].to_numpy(np.float64, na_value=np.nan)
            if not (np.isnan(low).all() and np.isnan(high).all()):
                error = {
                    "type": "data",
                    "symmetric": False,
                    "array": np.nan_to_num(np.maximum(high - share, 0.0)),
                    "arrayminus": np.nan_to_num(np.maximum(share - low, 0.0)),
                    "visible": True,
                }
        fig.add_bar(
            x=part["channel"].astype(str),
            y=share,
            name=shown(model),
            error_y=error,
            hovertemplate=text["hover"] + shown(model) + "</extra>",
        )
    fig.update_layout(
        title=text["title"],
        barmode="group",
        xaxis={"title": text["channel"]},
        yaxis={"title": text["share"], "tickformat": ".0%", "rangemode": "tozero"},
        legend={"title": {"text": text["model"]}},
        margin={"l": 60, "r": 20, "t": 50, "b": 40},
        height=420,
    )
    return fig
