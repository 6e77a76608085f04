"""Shapley-value attribution: each channel's average marginal contribution to conversions.

**The game.** Players are channels; the worth of a coalition ``S`` (a set of channels) is

    v(S) = conversions of the paths whose channel *set* is a subset of ``S``

i.e. the conversions the channels in ``S`` could have produced on their own (Zhao, Mahboobi &
Bagheri 2018, "Shapley value methods for attribution modeling in online advertising",
arXiv:1804.05327). Value (revenue) is credited by the same game played on ``value``. A channel's
Shapley value is its marginal contribution ``v(S + j) - v(S)`` averaged over all orders in
which the channels can join; the credits sum to the total conversions (efficiency).

Because ``v`` is a sum of one unanimity game per path, the value has a closed form (Zhao et
al.'s "simplified Shapley value"): **each converting path's conversions are split equally among
its distinct channels** (``a > b > a`` gives ``a`` and ``b`` half each). The computation here
follows the game itself, which the tests check against that closed form:

* **exact** (at most ``max_exact_channels`` channels occur in converting paths): the worth of all
  ``2**n`` coalitions from bitmasks of the distinct channel sets (a subset-sum transform), then
  the Shapley formula ``sum_S |S|! (n-|S|-1)! / n! * (v(S + j) - v(S))``;
* **sampled** (more channels): Monte-Carlo over random joining orders. In one order a path's
  conversions go to the channel of its set that joins last (the one completing it), so every
  sampled order splits the total exactly; orders are drawn in batches until the standard error of
  every channel's share is below ``tol`` or ``n_samples`` orders were drawn (a
  :class:`~sklearn.exceptions.ConvergenceWarning` then says so).

**Order-aware variant** (``variant="ordered"``, Zhao et al.'s *ordered Shapley value*). The
same game, with each credit also recorded at the **stage** of the credited channel in the path:
stage ``i`` is the ``i``-th distinct channel of the path in order of first occurrence
(``b > a > b > c``: ``b`` is stage 1, ``a`` stage 2, ``c`` stage 3). The ordered value of channel
``j`` at stage ``i`` is the sum over converting paths where ``j`` first occurs as the ``i``-th
distinct channel of ``conversions / (distinct channels of the path)``. Summed over stages it is
the set-based value, so the channel table of both variants is the same; the order information
is in :attr:`ShapleyAttribution.by_position_` (which channels open journeys and which close
them).

Channels that occur in no converting path are null players and get zero credit. Every model of
:mod:`journeylib.attribution` returns the table of
:func:`~journeylib.attribution.pathdata.credit_table`.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from math import comb
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_is_fitted

from journeylib.attribution.pathdata import Paths, check_has_conversions, credit_table

if TYPE_CHECKING:  # pragma: no cover
    import plotly.graph_objects as go

__all__ = ["MAX_EXACT_LIMIT", "ShapleyAttribution", "plot_by_position", "shapley"]

log = logging.getLogger(__name__)

VARIANTS: tuple[str, ...] = ("set", "ordered")
#: Largest ``max_exact_channels`` accepted: the exact computation holds ``2**n`` coalitions.
MAX_EXACT_LIMIT = 20
DEFAULT_N_SAMPLES = 20_000  # joining orders drawn at most when sampling
MIN_SAMPLES = 100  # orders drawn before the convergence check is trusted
_MASK_BITS = 62  # channels that fit one int64 bitmask per path
_BATCH_ELEMENTS = 2_000_000  # orders x member slots evaluated per batch (about 16 MB of floats)


@dataclass(frozen=True)
class _Game:
    """The converting paths reduced to their distinct channel sets (or first-occurrence
    sequences), grouped by size ``k``: ``members[k]`` is an (m_k, k) array of player indices
    (sorted for sets, in stage order for sequences) and ``weights[k]`` an (m_k, 2) array of
    summed conversions and value."""

    players: np.ndarray  # channel code of each player
    members: dict[int, np.ndarray]
    weights: dict[int, np.ndarray]

    @property
    def n(self) -> int:
        return len(self.players)

    @property
    def max_size(self) -> int:
        return max(self.members)


def _game(paths: Paths, *, ordered: bool) -> _Game:
    """Distinct channel sets (``ordered=False``) or first-occurrence sequences of the paths
    with conversions or value, with their summed conversions and value."""
    conv = np.asarray(paths.conversions)
    val = np.asarray(paths.value)
    keep = (conv > 0) | (val > 0)
    if not ordered and paths.n_channels <= _MASK_BITS:
        return _set_game_from_masks(paths, keep, conv, val)
    path_of_touch = np.asarray(paths.touch_path)
    touch_keep = keep[path_of_touch]
    n_ch = paths.n_channels
    key = path_of_touch[touch_keep] * n_ch + np.asarray(paths.touches)[touch_keep]
    # Sorting (path, channel) keys lists each path's channels by code; the first key of each run
    # is the channel's first touch (stable sort), and sorting those positions restores the
    # order of first occurrence.
    if ordered:
        order = np.argsort(key, kind="stable")
        sorted_key = key[order]
        first = np.r_[True, sorted_key[1:] != sorted_key[:-1]]
        uniq = key[np.sort(order[first])]
    else:
        sorted_key = np.sort(key)
        uniq = sorted_key[np.r_[True, sorted_key[1:] != sorted_key[:-1]]]
    pid, codes = np.divmod(uniq, n_ch)
    present = np.zeros(n_ch, dtype=bool)
    present[codes] = True
    players = np.flatnonzero(present)
    player = (np.cumsum(present) - 1)[codes]
    # rows: converting paths in path order; k: distinct channels of each
    starts = np.flatnonzero(np.r_[True, pid[1:] != pid[:-1]])
    sizes = np.diff(np.r_[starts, len(pid)])
    row_path = pid[starts]
    members: dict[int, np.ndarray] = {}
    weights: dict[int, np.ndarray] = {}
    for k in np.unique(sizes):
        sel = np.flatnonzero(sizes == k)
        rows = player[starts[sel][:, None] + np.arange(k)]
        distinct, inverse = np.unique(rows, axis=0, return_inverse=True)
        inverse = inverse.reshape(-1)
        members[int(k)] = distinct.astype(np.intp)
        weights[int(k)] = _sums(inverse, len(distinct), conv[row_path[sel]], val[row_path[sel]])
    return _Game(players=players, members=members, weights=weights)


def _sums(group: np.ndarray, n: int, conv: np.ndarray, val: np.ndarray) -> np.ndarray:
    """(n, 2) sums of conversions and value per group."""
    return np.column_stack(
        [
            np.bincount(group, weights=conv, minlength=n),
            np.bincount(group, weights=val, minlength=n),
        ]
    )


def _set_game_from_masks(
    paths: Paths, keep: np.ndarray, conv: np.ndarray, val: np.ndarray
) -> _Game:
    """The set game from one bitmask of channels per path (at most 62 channels): no sort of
    the touches, only of the (few) distinct masks."""
    bits = np.left_shift(np.int64(1), np.asarray(paths.touches, dtype=np.int64))
    masks = np.bitwise_or.reduceat(bits, np.asarray(paths.offsets[:-1]))[keep]
    distinct, inverse = np.unique(masks, return_inverse=True)
    w = _sums(inverse.reshape(-1), len(distinct), conv[keep], val[keep])
    member = ((distinct[:, None] >> np.arange(paths.n_channels)) & 1).astype(bool)
    players = np.flatnonzero(member.any(axis=0))
    member = member[:, players]
    sizes = member.sum(axis=1)
    members: dict[int, np.ndarray] = {}
    weights: dict[int, np.ndarray] = {}
    for k in np.unique(sizes):
        sel = sizes == k
        # nonzero walks rows in order and columns ascending: k sorted player indices per row
        members[int(k)] = np.nonzero(member[sel])[1].reshape(-1, int(k)).astype(np.intp)
        weights[int(k)] = w[sel]
    return _Game(players=players, members=members, weights=weights)


def _exact_values(game: _Game) -> np.ndarray:
    """Shapley values (n, 2) of the conversion and value games over all ``2**n`` coalitions."""
    n = game.n
    size = 1 << n
    worth = np.zeros((size, 2))
    for k, mem in game.members.items():
        masks = (np.int64(1) << mem.astype(np.int64)).sum(axis=1)
        for c in range(2):
            worth[:, c] += np.bincount(masks, weights=game.weights[k][:, c], minlength=size)
    # Subset-sum (zeta) transform: afterwards worth[S] = sum of the sets T contained in S = v(S).
    for i in range(n):
        view = worth.reshape(-1, 2, 1 << i, 2)  # axis 1 is bit i of the coalition mask
        view[:, 1] += view[:, 0]
    popcount = np.zeros(size, dtype=np.int64)
    for i in range(n):
        popcount += (np.arange(size) >> i) & 1
    # |S|! (n - |S| - 1)! / n! for a coalition S of size s without j, as 1 / (n * C(n-1, s))
    weight = np.array([1.0 / (n * comb(n - 1, s)) for s in range(n)])
    values = np.empty((n, 2))
    for j in range(n):
        view = worth.reshape(-1, 2, 1 << j, 2)
        w = weight[popcount.reshape(-1, 2, 1 << j)[:, 0]]
        values[j] = np.einsum("ab,abc->c", w, view[:, 1] - view[:, 0])
    return values


def _closed_form_by_stage(game: _Game) -> np.ndarray:
    """Ordered Shapley values (n, stages, 2): each path's amounts split equally among its
    distinct channels, recorded at the stage of each (``game`` built with ``ordered=True``)."""
    out = np.zeros((game.n, game.max_size, 2))
    for k, mem in game.members.items():
        share = game.weights[k] / k
        for stage in range(k):
            for c in range(2):
                out[:, stage, c] += np.bincount(
                    mem[:, stage], weights=share[:, c], minlength=game.n
                )
    return out


@dataclass(frozen=True)
class _Sampled:
    mean: np.ndarray  # (n, 2) estimated values
    se: np.ndarray  # (n, 2) standard errors of the values
    share_se: np.ndarray  # (n,) standard errors of the conversion shares
    by_stage: np.ndarray  # (n, stages, 2) estimated ordered values
    n_samples: int
    converged: bool


def _sampled_values(
    game: _Game, *, total: float, tol: float, max_samples: int, rng: np.random.Generator
) -> _Sampled:
    """Monte-Carlo Shapley values over random joining orders (see the module notes).

    A random order is represented by i.i.d. uniform arrival keys per player: the member of a
    set with the largest key joins last and completes it.
    """
    n, stages = game.n, game.max_size
    slots = sum(m.size for m in game.members.values())
    batch = int(np.clip(_BATCH_ELEMENTS // max(slots, 1), 1, 1000))
    sum1 = np.zeros((n, 2))
    sum2 = np.zeros((n, 2))
    by_stage = np.zeros((n * stages, 2))
    drawn = 0
    share_se = np.full(n, np.inf)
    while drawn < max_samples:
        b = min(batch, max_samples - drawn)
        keys = rng.random((b, n))
        credit = np.zeros((b * n, 2))
        for k, mem in game.members.items():
            last = keys[:, mem].argmax(axis=2)  # (b, m_k): stage of the completing member
            winner = np.take_along_axis(mem[None, :, :], last[:, :, None], axis=2)[..., 0]
            flat = (winner + n * np.arange(b)[:, None]).ravel()
            stage_flat = (winner * stages + last).ravel()
            for c in range(2):
                w = np.broadcast_to(game.weights[k][:, c], winner.shape).ravel()
                credit[:, c] += np.bincount(flat, weights=w, minlength=b * n)
                by_stage[:, c] += np.bincount(stage_flat, weights=w, minlength=n * stages)
        credit = credit.reshape(b, n, 2)
        sum1 += credit.sum(axis=0)
        sum2 += (credit**2).sum(axis=0)
        drawn += b
        mean = sum1 / drawn
        var = np.maximum(sum2 / drawn - mean**2, 0.0) * drawn / max(drawn - 1, 1)
        se = np.sqrt(var / drawn)
        # each order's credits sum to the total, so a share's error is the conversions' / total
        share_se = se[:, 0] / total
        if drawn >= MIN_SAMPLES and share_se.max() <= tol:
            break
    return _Sampled(
        mean=sum1 / drawn,
        se=se,
        share_se=share_se,
        by_stage=(by_stage / drawn).reshape(n, stages, 2),
        n_samples=drawn,
        converged=bool(share_se.max() <= tol),
    )


class ShapleyAttribution(BaseEstimator):
    """Shapley-value attribution of conversions and value to channels (see the module notes).

    Parameters
    ----------
    variant
        ``"set"``: the Shapley value of the coalition game on channel sets. ``"ordered"``: the
        ordered Shapley value of Zhao et al. (2018), the same channel credits also split by the
        stage at which each channel first occurs in the path (:attr:`by_position_`).
    max_exact_channels
        Exact computation over all coalitions when at most this many channels occur in
        converting paths (cost ``2**n``; at most :data:`MAX_EXACT_LIMIT`); sampling beyond.
        ``0`` always samples.
    n_samples
        Largest number of random joining orders drawn when sampling (default 20,000).
    tol
        Sampling stops once the standard error of every channel's conversion share is at most
        ``tol`` (shares are fractions: ``0.002`` is 0.2 percentage points).
    random_state
        Seed of the sampling (results are identical for equal seeds).

    Attributes
    ----------
    attribution_ : DataFrame
        The common credit table: one row per channel of the paths, ``channel``,
        ``conversions``, ``value``, ``share``.
    std_error_ : DataFrame
        One row per channel: ``channel``, ``conversions_se``, ``value_se``, ``share_se``, the
        Monte-Carlo standard errors (zeros when exact).
    by_position_ : DataFrame or None
        ``variant="ordered"``: one row per channel x position (1 = the first distinct channel of
        a path, up to the most distinct channels in a converting path), ``conversions``,
        ``value`` and ``share`` (of all conversions); ``None`` for ``"set"``.
    method_ : str
        ``"exact"`` or ``"sampled"``.
    n_players_ : int
        Channels occurring in converting paths (the players of the game).
    n_samples_ : int
        Joining orders drawn (0 when exact).
    converged_ : bool
        Whether sampling met ``tol`` (always ``True`` when exact).

    Examples
    --------
    >>> from journeylib.attribution.pathdata import Paths
    >>> p = Paths.from_sequences([["a", "b"], ["a"]], conversions=[2, 1])
    >>> ShapleyAttribution().fit(p).attribution_["conversions"].tolist()
    [2.0, 1.0]
    """

    def __init__(
        self,
        *,
        variant: Literal["set", "ordered"] = "set",
        max_exact_channels: int = 15,
        n_samples: int | None = None,
        tol: float = 0.002,
        random_state: int | None = 0,
    ) -> None:
        self.variant = variant
        self.max_exact_channels = max_exact_channels
        self.n_samples = n_samples
        self.tol = tol
        self.random_state = random_state

    def _check_params(self) -> int:
        if self.variant not in VARIANTS:
            raise ValueError(f"variant must be one of {VARIANTS}; got {self.variant!r}")
        m = self.max_exact_channels
        if not isinstance(m, int | np.integer) or not 0 <= m <= MAX_EXACT_LIMIT:
            raise ValueError(
                f"max_exact_channels must be an integer from 0 to {MAX_EXACT_LIMIT} (the exact "
                f"computation holds 2**n coalitions); got {m!r}"
            )
        n = DEFAULT_N_SAMPLES if self.n_samples is None else self.n_samples
        if not isinstance(n, int | np.integer) or n < 2:
            raise ValueError(f"n_samples must be an integer >= 2 or None; got {n!r}")
        if not (isinstance(self.tol, int | float) and self.tol > 0):
            raise ValueError(f"tol must be a positive number; got {self.tol!r}")
        return int(n)

    def fit(self, paths: Paths, y: None = None) -> ShapleyAttribution:
        """Compute the Shapley credits of ``paths``.

        Parameters
        ----------
        paths
            Touchpoint paths (aggregated or one row per journey); never modified.
        y
            Ignored (scikit-learn convention).

        Returns
        -------
        ShapleyAttribution
            ``self``, fitted.

        Raises
        ------
        ValueError
            Bad parameters, or no conversions at all (nothing to attribute).
        """
        max_samples = self._check_params()
        check_has_conversions(paths, model="shapley")
        ordered = self.variant == "ordered"
        game = _game(paths, ordered=ordered)
        n_ch = paths.n_channels
        total = paths.total_conversions
        values = np.zeros((n_ch, 2))
        se = np.zeros((n_ch, 2))
        share_se = np.zeros(n_ch)
        stages = np.zeros((n_ch, game.max_size, 2))
        if game.n <= self.max_exact_channels:
            self.method_, self.n_samples_, self.converged_ = "exact", 0, True
            values[game.players] = _exact_values(game)
            if ordered:
                stages[game.players] = _closed_form_by_stage(game)
        else:
            rng = np.random.default_rng(self.random_state)
            res = _sampled_values(game, total=total, tol=self.tol, max_samples=max_samples, rng=rng)
            self.method_, self.n_samples_, self.converged_ = "sampled", res.n_samples, res.converged
            values[game.players] = res.mean
            se[game.players] = res.se
            share_se[game.players] = res.share_se
            stages[game.players] = res.by_stage
            log.info(
                "shapley: %d channels, sampled %d orders, largest share standard error %.4g",
                game.n, res.n_samples, res.share_se.max(),
            )  # fmt: skip
            if not res.converged:
                warnings.warn(
                    f"shapley: sampling did not converge: after {res.n_samples} joining orders "
                    f"the largest standard error of a channel share is {res.share_se.max():.4g} "
                    f"> tol={self.tol:g}; raise n_samples or tol (std_error_ has the errors)",
                    ConvergenceWarning,
                    stacklevel=2,
                )
        self.n_players_ = game.n
        self.attribution_ = credit_table(paths, values[:, 0], values[:, 1])
        self.std_error_ = pd.DataFrame(
            {
                "channel": pd.array(paths.channels, dtype="str"),
                "conversions_se": se[:, 0],
                "value_se": se[:, 1],
                "share_se": share_se,
            }
        )
        self.by_position_ = _position_table(paths.channels, stages, total) if ordered else None
        return self

    @property
    def summary(self) -> pd.DataFrame:
        """The credit table with the share's standard error (one row per channel)."""
        check_is_fitted(self, "attribution_")
        return self.attribution_.assign(share_se=self.std_error_["share_se"].to_numpy())

    def _repr_html_(self) -> str:
        if not hasattr(self, "attribution_"):
            return f"<pre>{self!r} (not fitted)</pre>"
        how = (
            "exact over all coalitions"
            if self.method_ == "exact"
            else f"sampled, {self.n_samples_} orders, "
            + ("converged" if self.converged_ else "NOT converged")
        )
        head = f"<p>Shapley attribution ({self.variant}; {self.n_players_} channels; {how})</p>"
        return head + self.summary.to_html(index=False, float_format=lambda x: f"{x:.4g}")


def _position_table(channels: tuple[str, ...], stages: np.ndarray, total: float) -> pd.DataFrame:
    n_ch, n_pos, _ = stages.shape
    return pd.DataFrame(
        {
            "channel": pd.array(np.repeat(np.asarray(channels, dtype=object), n_pos), dtype="str"),
            "position": np.tile(np.arange(1, n_pos + 1, dtype=np.int64), n_ch),
            "conversions": stages[:, :, 0].ravel(),
            "value": stages[:, :, 1].ravel(),
            "share": stages[:, :, 0].ravel() / total,
        }
    )


def shapley(
    paths: Paths,
    *,
    variant: Literal["set", "ordered"] = "set",
    max_exact_channels: int = 15,
    n_samples: int | None = None,
    tol: float = 0.002,
    random_state: int | None = 0,
) -> pd.DataFrame:
    """Shapley-value credit per channel (the common credit table).

    Exact over all coalitions for at most ``max_exact_channels`` channels in converting paths,
    sampled beyond; see the module notes for the game and :class:`ShapleyAttribution` for the
    parameters, the standard errors of sampling and the by-position table of the ordered
    variant.

    Parameters
    ----------
    paths
        Touchpoint paths; never modified.
    variant, max_exact_channels, n_samples, tol, random_state
        As in :class:`ShapleyAttribution`.

    Returns
    -------
    DataFrame
        One row per channel in ``paths.channels`` order: ``channel``, ``conversions``,
        ``value``, ``share``; credits sum to the total conversions and value.

    Raises
    ------
    ValueError
        No conversions at all, or bad parameters.

    Examples
    --------
    >>> from journeylib.attribution.pathdata import Paths
    >>> p = Paths.from_sequences([["a", "b", "a"], ["c"]], conversions=[4, 1])
    >>> shapley(p)["conversions"].tolist()  # a > b > a: 4 split over {a, b}; c alone: 1
    [2.0, 2.0, 1.0]
    """
    model = ShapleyAttribution(
        variant=variant,
        max_exact_channels=max_exact_channels,
        n_samples=n_samples,
        tol=tol,
        random_state=random_state,
    )
    return model.fit(paths).attribution_


#: Chart text in each report language.
_PLOT_TEXT: dict[str, dict[str, str]] = {
    "en": {
        "share": "share",
        "hover": "%{y}, position %{x}: %{z:.1%} of conversions<extra></extra>",
        "title": "Shapley credit by the position where the channel joins the path",
        "x": "position of first appearance",
        "channel": "channel",
    },
    "id": {
        "share": "porsi",
        "hover": "%{y}, posisi %{x}: %{z:.1%} konversi<extra></extra>",
        "title": "Kredit Shapley menurut posisi kanal saat pertama kali masuk ke jalur",
        "x": "posisi kemunculan pertama",
        "channel": "kanal",
    },
}


def plot_by_position(by_position: pd.DataFrame, *, language: str = "en") -> go.Figure:
    """Heatmap of ``ShapleyAttribution(variant="ordered").by_position_``: each channel's
    share of conversions by the position where it first joins the path (text in ``language``:
    ``en`` or ``id``)."""
    text = _PLOT_TEXT.get(language, _PLOT_TEXT["en"])
    import plotly.graph_objects as go

    wide = by_position.pivot_table(
        index="channel", columns="position", values="share", aggfunc="sum", fill_value=0.0
    )
    fig = go.Figure(
        go.Heatmap(
            z=wide.to_numpy(),
            x=[str(c) for c in wide.columns],
            y=wide.index.astype(str).tolist(),
            colorscale="Greens",
            colorbar={"title": text["share"], "tickformat": ".0%"},
            hovertemplate=text["hover"],
        )
    )
    fig.update_layout(
        title=text["title"],
        xaxis={"title": text["x"]},
        yaxis={"title": text["channel"]},
        margin={"l": 110, "r": 20, "t": 50, "b": 40},
        height=max(300, 28 * len(wide) + 100),
    )
    return fig
