"""Rule-based attribution: fixed rules that split each path's conversions among its touches.

Every model gives each touch of a path a weight, the weights of a path summing to 1, and credits
the path's conversions **and** its conversion value to the touched channels with those weights
(a channel touched twice gets both touches' weights). Computed on the flat arrays of
:class:`~journeylib.attribution.pathdata.Paths` with ``np.bincount`` (no loop over paths).

=================  ==========================================================================
model              weight of a touch in a path of ``n`` touches
=================  ==========================================================================
first_touch        1 for the first touch
last_touch         1 for the last touch
last_non_direct    1 for the last touch whose channel is not ``direct``; a path made only of
                   direct touches credits its last touch (direct)
linear             ``1 / n``
time_decay         ``2 ** (-lag / half_life)``, normalised per path; ``lag`` is
                   ``paths.lag_days`` (days before conversion or journey end, ``half_life`` in
                   days); without lags it is the touch's distance from the end counted in
                   touches (last 0, previous 1, ...) and ``half_life`` is in touches
position_based     U-shaped: ``first`` (0.4) to the first touch, ``last`` (0.4) to the last,
                   the rest shared equally by the middle touches; ``n == 1`` gets everything,
                   ``n == 2`` splits ``first : last`` (0.5/0.5 for 40/40)
j_shaped           position-based with ``first=0.2, last=0.6``
inverse_j          position-based with ``first=0.6, last=0.2``
=================  ==========================================================================

All return the common credit table (:func:`~journeylib.attribution.pathdata.credit_table`): one
row per channel in ``paths.channels`` order with ``conversions``, ``value`` and ``share``; credits
sum to ``paths.total_conversions`` and ``paths.total_value``. Paths without conversions carry no
credit (they only matter to Markov); a table with no conversions at all raises ``ValueError``.

**Linear form.** A path's weights depend only on its touches (and lags, the direct label, the
options), never on its conversions or value, so every model is linear in them: with ``W`` the
paths x channels matrix of the weights summed per channel (:func:`rule_matrix`), the credited
conversions are ``W.T @ paths.conversions`` and the credited value ``W.T @ paths.value``.
:class:`LinearRule` is a model with its options that exposes ``W``;
:func:`~journeylib.attribution.uncertainty.bootstrap` uses it to credit every resample (same
touches, new counts) with one sparse product instead of running the model again.
"""

from __future__ import annotations

import inspect
import logging
import math
from collections.abc import Callable, Collection

import numpy as np
import pandas as pd
import scipy.sparse as sp

from journeylib.attribution.pathdata import Paths, check_has_conversions, credit_table

__all__ = [
    "RULE_MODELS",
    "LinearRule",
    "first_touch",
    "inverse_j",
    "j_shaped",
    "last_non_direct",
    "last_touch",
    "linear",
    "position_based",
    "rule_based",
    "rule_matrix",
    "rule_weights",
    "time_decay",
]

log = logging.getLogger(__name__)


# -- per-touch weights (each path's weights sum to 1) ------------------------------------------
# A weight function returns either ("one", index): weight 1 on the touch at flat position
# index[i] of path i, 0 elsewhere (first/last-touch rules, no per-touch array needed), or
# ("dense", w): one weight per touch.

_Weights = tuple[str, np.ndarray]


def _first_weights(paths: Paths) -> _Weights:
    return "one", paths.offsets[:-1]


def _last_weights(paths: Paths) -> _Weights:
    return "one", paths.offsets[1:] - 1


def _direct_codes(paths: Paths, direct: str | Collection[str]) -> np.ndarray:
    labels = {direct} if isinstance(direct, str) else set(direct)
    if not labels or not all(isinstance(x, str) for x in labels):
        raise ValueError("last_non_direct: direct must be a channel label or a set of labels")
    codes = np.array([i for i, c in enumerate(paths.channels) if c in labels], dtype=np.int64)
    if len(codes) == 0:
        log.info("last_non_direct: no channel is labelled direct; same as last touch")
    return codes


def _last_non_direct_weights(paths: Paths, direct: str | Collection[str] = "direct") -> _Weights:
    codes = _direct_codes(paths, direct)
    last = paths.offsets[1:] - 1
    if len(codes) == 0:
        return "one", last
    is_direct = np.zeros(paths.n_channels, dtype=bool)
    is_direct[codes] = True
    candidate = np.where(is_direct[paths.touches], -1, np.arange(len(paths.touches)))
    last_nd = np.maximum.reduceat(candidate, paths.offsets[:-1])  # -1: only direct touches
    return "one", np.where(last_nd >= 0, last_nd, last)


def _linear_weights(paths: Paths) -> _Weights:
    return "dense", (1.0 / paths.lengths)[paths.touch_path]


def _time_decay_weights(paths: Paths, half_life: float = 7.0) -> _Weights:
    if isinstance(half_life, bool) or not isinstance(half_life, int | float):
        raise ValueError(f"time_decay: half_life must be a positive number, got {half_life!r}")
    if not 0 < half_life < math.inf:
        raise ValueError(f"time_decay: half_life must be a positive number, got {half_life!r}")
    tp = paths.touch_path
    if paths.lag_days is not None:
        lag = np.asarray(paths.lag_days, dtype=np.float64)
    else:  # touches before the end of the path: last touch 0, previous 1, ...
        lag = (paths.offsets[1:][tp] - 1 - np.arange(len(tp))).astype(np.float64)
    # Measure from the path's most recent touch so the largest weight is 1: no underflow to an
    # all-zero path however long the lags (the per-path normalisation cancels the shift).
    nearest = np.minimum.reduceat(lag, paths.offsets[:-1])
    raw = np.exp2((nearest[tp] - lag) / half_life)
    return "dense", raw / np.bincount(tp, weights=raw, minlength=paths.n_paths)[tp]


def _check_position_weights(model: str, first: float, last: float) -> None:
    for name, x in (("first", first), ("last", last)):
        if isinstance(x, bool) or not isinstance(x, int | float) or not 0 <= x <= 1:
            raise ValueError(f"{model}: {name} must be a number in [0, 1], got {x!r}")
    if first + last > 1 + 1e-12:
        raise ValueError(f"{model}: first + last must be at most 1, got {first + last:g}")


def _position_weights(paths: Paths, first: float, last: float, model: str) -> _Weights:
    _check_position_weights(model, first, last)
    n = paths.lengths
    ends = first + last
    # Per path: n >= 3 gives the ends first/last and shares the rest equally in the middle;
    # n == 2 splits first : last (evenly when both are 0); n == 1 gives the touch everything.
    middle = max(0.0, 1.0 - ends) / np.maximum(n - 2, 1)
    two_first, two_last = (first / ends, last / ends) if ends > 0 else (0.5, 0.5)
    w_first = np.select([n == 1, n == 2], [1.0, two_first], first)
    w_last = np.where(n == 2, two_last, last)
    w = middle[paths.touch_path]
    w[paths.offsets[1:] - 1] = w_last
    w[paths.offsets[:-1]] = w_first  # last: a one-touch path's only touch is its first
    return "dense", w


_WEIGHTS: dict[str, Callable[..., _Weights]] = {
    "first_touch": _first_weights,
    "last_touch": _last_weights,
    "last_non_direct": _last_non_direct_weights,
    "linear": _linear_weights,
    "time_decay": _time_decay_weights,
    "position_based": lambda p, first=0.4, last=0.4: _position_weights(
        p, first, last, "position_based"
    ),
    "j_shaped": lambda p, first=0.2, last=0.6: _position_weights(p, first, last, "j_shaped"),
    "inverse_j": lambda p, first=0.6, last=0.2: _position_weights(p, first, last, "inverse_j"),
}


def _weights(paths: Paths, model: str, params: dict) -> _Weights:
    if model not in _WEIGHTS:
        raise ValueError(f"model must be one of {', '.join(map(repr, _WEIGHTS))}; got {model!r}")
    if not isinstance(paths, Paths):
        raise TypeError(f"{model}: expected a Paths object, got {type(paths).__name__}")
    return _WEIGHTS[model](paths, **params)


def rule_weights(paths: Paths, model: str, **params) -> np.ndarray:
    """Per-touch weights of a rule-based model.

    Parameters
    ----------
    paths
        The paths (never modified).
    model
        One of :data:`RULE_MODELS`.
    **params
        The model's options (``direct``, ``half_life``, ``first``/``last``).

    Returns
    -------
    numpy.ndarray
        float64 aligned with ``paths.touches``; the weights of each path sum to 1.
    """
    kind, a = _weights(paths, model, params)
    if kind == "dense":
        return a
    w = np.zeros(len(paths.touches))
    w[a] = 1.0
    return w


def rule_matrix(paths: Paths, model: str, **params) -> sp.csr_array:
    """The linear form of a rule-based model: its per-path channel weights as a sparse matrix.

    Grain: one row per path (all paths, converting or not), one column per channel.

    Parameters
    ----------
    paths
        The paths (never modified); only the touches, ``lag_days`` and channels are read.
    model
        One of :data:`RULE_MODELS`.
    **params
        The model's options (``direct``, ``half_life``, ``first``/``last``).

    Returns
    -------
    scipy.sparse.csr_array
        float64, shape ``(paths.n_paths, paths.n_channels)``, columns in ``paths.channels``
        order: ``W[i, c]`` is the summed weight of the touches of path ``i`` on channel ``c``
        (the weights of :func:`rule_weights`; each row sums to 1). The model's credited
        conversions are ``W.T @ paths.conversions`` and its credited value
        ``W.T @ paths.value``, for these paths and any others with the same touches.

    Examples
    --------
    >>> p = Paths.from_sequences([["a", "b", "a"], ["b"]], conversions=[3, 1])
    >>> rule_matrix(p, "linear").toarray().round(3)
    array([[0.667, 0.333],
           [0.   , 1.   ]])
    """
    kind, a = _weights(paths, model, params)
    n = paths.n_paths
    if kind == "one":  # weight 1 on touch a[i] of path i
        rows, cols, data = np.arange(n), paths.touches[a], np.ones(n)
    else:  # duplicates (a channel touched twice in a path) are summed
        rows, cols, data = paths.touch_path, paths.touches, np.asarray(a, dtype=np.float64)
    return sp.csr_array((data, (rows, cols)), shape=(n, paths.n_channels))


def _converting(paths: Paths) -> Paths:
    """Only the paths with conversions or value: the others carry no credit. Journey-level
    paths are mostly non-converting, so this shrinks the arrays every rule works on."""
    active = (paths.conversions > 0) | (paths.value > 0)
    if active.mean() > 0.8:
        return paths
    keep = active[paths.touch_path]
    return Paths(
        channels=paths.channels,
        offsets=np.concatenate([[0], np.cumsum(paths.lengths[active])]),
        touches=paths.touches[keep],
        conversions=paths.conversions[active],
        value=paths.value[active],
        nulls=paths.nulls[active],
        lag_days=None if paths.lag_days is None else paths.lag_days[keep],
    )


def _credit(paths: Paths, model: str, **params) -> pd.DataFrame:
    check_has_conversions(paths, model=model)
    sub = _converting(paths)
    kind, a = _weights(sub, model, params)
    n = sub.n_channels
    if kind == "one":  # weight 1 on touch a[i] of path i
        codes = sub.touches[a]
        conv = np.bincount(codes, weights=sub.conversions, minlength=n)
        value = np.bincount(codes, weights=sub.value, minlength=n)
    else:
        tp = sub.touch_path
        conv = np.bincount(sub.touches, weights=a * sub.conversions[tp], minlength=n)
        value = np.bincount(sub.touches, weights=a * sub.value[tp], minlength=n)
    return credit_table(paths, conv, value)


# -- the models --------------------------------------------------------------------------------

_RETURNS = """
    Returns
    -------
    DataFrame
        One row per channel in ``paths.channels`` order: ``channel``, ``conversions``,
        ``value``, ``share``; credits sum to the paths' total conversions and value.

    Raises
    ------
    ValueError
        When the paths have no conversions (nothing to attribute) or an option is invalid.
"""


def first_touch(paths: Paths) -> pd.DataFrame:
    """First-touch attribution: each path's conversions go to its first touch.

    Parameters
    ----------
    paths
        The paths (never modified).
    """
    return _credit(paths, "first_touch")


def last_touch(paths: Paths) -> pd.DataFrame:
    """Last-touch attribution: each path's conversions go to its last touch.

    Parameters
    ----------
    paths
        The paths (never modified).
    """
    return _credit(paths, "last_touch")


def last_non_direct(paths: Paths, *, direct: str | Collection[str] = "direct") -> pd.DataFrame:
    """Last non-direct touch: the last touch whose channel is not direct gets the conversions.

    A path of direct touches only credits direct (its last touch).

    Parameters
    ----------
    paths
        The paths (never modified).
    direct
        The label (or labels) of direct traffic, matched exactly; when no channel has it the
        model equals last touch.
    """
    return _credit(paths, "last_non_direct", direct=direct)


def linear(paths: Paths) -> pd.DataFrame:
    """Linear attribution: every touch of a path gets an equal share of its conversions.

    Parameters
    ----------
    paths
        The paths (never modified).
    """
    return _credit(paths, "linear")


def time_decay(paths: Paths, *, half_life: float = 7.0) -> pd.DataFrame:
    """Time-decay attribution: touches closer to the conversion get exponentially more credit.

    A touch's weight is ``2 ** (-lag / half_life)``, normalised over its path, so a touch
    ``half_life`` earlier than another gets half its credit. ``lag`` is ``paths.lag_days`` (days
    from the touch to the conversion or journey end; ``half_life`` in days). When the paths have
    no lags (pre-aggregated tables) ``lag`` counts touches back from the end of the path (last
    touch 0, the one before 1, ...) and ``half_life`` is in touches.

    Parameters
    ----------
    paths
        The paths (never modified).
    half_life
        Positive; days (or touches when ``paths.lag_days`` is None).
    """
    return _credit(paths, "time_decay", half_life=half_life)


def position_based(paths: Paths, *, first: float = 0.4, last: float = 0.4) -> pd.DataFrame:
    """Position-based (U-shaped) attribution.

    ``first`` of each path's conversions go to its first touch, ``last`` to its last touch and
    the rest is shared equally by the touches in between. A one-touch path gives it everything;
    a two-touch path splits ``first : last`` (0.5/0.5 for 40/40).

    Parameters
    ----------
    paths
        The paths (never modified).
    first, last
        Shares of the first and last touch, each in [0, 1], summing to at most 1.
    """
    return _credit(paths, "position_based", first=first, last=last)


def j_shaped(paths: Paths, *, first: float = 0.2, last: float = 0.6) -> pd.DataFrame:
    """J-shaped attribution: position-based with most credit on the last touch (20/20/60).

    Parameters
    ----------
    paths
        The paths (never modified).
    first, last
        Shares of the first and last touch (see :func:`position_based`).
    """
    return _credit(paths, "j_shaped", first=first, last=last)


def inverse_j(paths: Paths, *, first: float = 0.6, last: float = 0.2) -> pd.DataFrame:
    """Inverse-J attribution: position-based with most credit on the first touch (60/20/20).

    Parameters
    ----------
    paths
        The paths (never modified).
    first, last
        Shares of the first and last touch (see :func:`position_based`).
    """
    return _credit(paths, "inverse_j", first=first, last=last)


_MODELS = (first_touch, last_touch, last_non_direct, linear, time_decay, position_based)
for _f in (*_MODELS, j_shaped, inverse_j):  # the shared Returns/Raises sections
    _f.__doc__ = (_f.__doc__ or "") + _RETURNS

#: Model name -> function; every function takes ``(paths, **params)`` and returns the credit table.
RULE_MODELS: dict[str, Callable[..., pd.DataFrame]] = {
    "first_touch": first_touch,
    "last_touch": last_touch,
    "last_non_direct": last_non_direct,
    "linear": linear,
    "time_decay": time_decay,
    "position_based": position_based,
    "j_shaped": j_shaped,
    "inverse_j": inverse_j,
}


class LinearRule:
    """A rule-based model with its options: a callable ``Paths -> credit table`` that also
    gives its linear form.

    ``LinearRule("time_decay", half_life=3)(paths)`` equals ``time_decay(paths, half_life=3)``;
    :meth:`matrix` gives the matrix ``W`` of :func:`rule_matrix`, which lets
    :func:`~journeylib.attribution.uncertainty.bootstrap` credit its resamples without running
    the model on each.

    Parameters
    ----------
    model
        One of :data:`RULE_MODELS`.
    **params
        The model's keyword options (checked for their names here, for their values on use).

    Examples
    --------
    >>> p = Paths.from_sequences([["a", "b"], ["b"]], conversions=[2, 1])
    >>> m = LinearRule("position_based", first=0.6, last=0.4)
    >>> m
    LinearRule('position_based', first=0.6, last=0.4)
    >>> m(p)["conversions"].tolist(), (m.matrix(p).T @ p.conversions).tolist()
    ([1.2, 1.8], [1.2, 1.8])
    """

    def __init__(self, model: str, **params) -> None:
        if model not in _WEIGHTS:
            raise ValueError(
                f"model must be one of {', '.join(map(repr, _WEIGHTS))}; got {model!r}"
            )
        try:
            inspect.signature(_WEIGHTS[model]).bind(None, **params)
        except TypeError as exc:
            raise TypeError(f"{model}: bad options {sorted(params)}: {exc}") from None
        self.model = model
        self.params = dict(params)

    def __call__(self, paths: Paths) -> pd.DataFrame:
        """The credit table of the model on ``paths`` (as :func:`rule_based`)."""
        return _credit(paths, self.model, **self.params)

    def matrix(self, paths: Paths) -> sp.csr_array:
        """The paths x channels weight matrix ``W`` (:func:`rule_matrix`) on ``paths``."""
        return rule_matrix(paths, self.model, **self.params)

    def __repr__(self) -> str:
        options = "".join(f", {k}={v!r}" for k, v in self.params.items())
        return f"LinearRule({self.model!r}{options})"


def rule_based(paths: Paths, model: str, **params) -> pd.DataFrame:
    """Run the rule-based model called ``model`` (a key of :data:`RULE_MODELS`).

    Parameters
    ----------
    paths
        The paths (never modified).
    model
        ``first_touch``, ``last_touch``, ``last_non_direct``, ``linear``, ``time_decay``,
        ``position_based``, ``j_shaped`` or ``inverse_j``.
    **params
        The model's keyword options.

    Returns
    -------
    DataFrame
        The credit table (one row per channel).

    Examples
    --------
    >>> p = Paths.from_sequences([["a", "b"], ["b"]], conversions=[2, 1], value=[10, 5])
    >>> rule_based(p, "first_touch")[["channel", "conversions", "value"]]
      channel  conversions  value
    0       a          2.0   10.0
    1       b          1.0    5.0
    """
    if model not in RULE_MODELS:
        raise ValueError(f"model must be one of {', '.join(map(repr, RULE_MODELS))}; got {model!r}")
    return RULE_MODELS[model](paths, **params)
