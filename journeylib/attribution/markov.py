"""Markov-chain attribution: channel removal effects solved exactly from the absorbing chain.

The paths are read as walks of a Markov chain of order ``k``. Its states are

* ``(start)``, where every journey begins;
* one **channel state** per observed window of the last ``k`` touches (at order 1 the channel
  itself). While a journey has fewer than ``k`` touches the window is padded from the start, so
  the state ``(start) > a`` at order 2 means "the journey so far is ``a``";
* the absorbing ``(conversion)`` and ``(null)`` (the journey ended without converting).

A path with ``c`` conversions and ``n`` nulls contributes each of its steps ``c + n`` times and
its final step ``c`` times into ``(conversion)`` and ``n`` times into ``(null)``. The transition
probabilities are the row-normalised counts (the maximum-likelihood estimate).

The conversion probability is the probability of absorption in ``(conversion)`` from
``(start)``: the solution ``x`` of ``(I - Q) x = r`` (``Q``: transient-to-transient
probabilities, ``r``: transient-to-conversion probabilities), solved directly by a sparse LU
factorisation, never simulated. (For the maximum-likelihood chain it always equals the observed
conversion rate, conversions / journeys, at every order: a check, not a finding.) Removing channel
``c`` redirects every state whose window contains ``c`` to ``(null)`` (one more solve per
channel); its **removal effect** is ``1 - p_without_c / p``. Credits are the removal effects
normalised to sum 1, times the total conversions.

Two choices differ from ChannelAttribution's ``markov_model`` and are deliberate:

* Repeated touches are kept (``a > a`` is a self-transition). Self-transitions never change
  absorption probabilities, so at order 1 the conversion probability and removal effects equal
  those of the collapsed paths (ChannelAttribution drops repeated states); at higher orders the
  window ``a > a`` is a state of its own. Call ``Paths.collapse_repeats()`` first to drop them.
* Every path starts with padded windows (``(start) > a``, then ``a > b`` ...), so every touch is
  one transition and the out-of-sample likelihood of :func:`select_order` compares orders on the
  same predicted steps. ChannelAttribution jumps from ``(start)`` to the first full window.
"""

from __future__ import annotations

import html
import logging
from numbers import Integral, Real
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from journeylib.attribution.pathdata import Paths, check_has_conversions, credit_table

if TYPE_CHECKING:  # pragma: no cover
    import plotly.graph_objects as go

__all__ = ["MarkovAttribution", "plot_removal_effects", "select_order"]

log = logging.getLogger(__name__)

START, CONVERSION, NULL = "(start)", "(conversion)", "(null)"
_VALUE_CREDIT = ("proportional", "chain")
_DIRECT_KEYS = 1 << 22  # window keys up to this many: a lookup table instead of a sort


# -- states and transitions --------------------------------------------------------------------


def _window_matrix(touches: np.ndarray, offsets: np.ndarray, order: int) -> np.ndarray:
    """The last ``order`` channel codes at every touch, oldest first, ``-1`` before the start.

    One row per touch (aligned with ``touches``), ``order`` columns, int32. Built by shifting
    the flat touch array and blanking the first ``lag`` touches of every path, so the cost is
    ``order`` passes over the touches plus ``order**2 / 2`` passes over the path starts.
    """
    n = len(touches)
    if order == 1:
        return touches.reshape(n, 1)  # a view: no copy of millions of touches
    starts, lengths = offsets[:-1], np.diff(offsets)
    w = np.empty((n, order), dtype=np.int32)
    w[:, order - 1] = touches
    for lag in range(1, order):
        col = np.full(n, -1, dtype=np.int32)
        col[lag:] = touches[: n - lag]
        for j in range(lag):
            col[starts[lengths > j] + j] = -1
        w[:, order - 1 - lag] = col
    return w


def _index_windows(w: np.ndarray, n_channels: int) -> tuple[np.ndarray, np.ndarray]:
    """Distinct windows (rows of ``w``) in lexicographic order, and each row's index into them."""
    order = w.shape[1]
    base = n_channels + 1  # digit 0 is the padding before the start
    if order * np.log2(base) >= 62:  # many channels at a high order: keys would overflow
        states, ids = np.unique(w, axis=0, return_inverse=True)
        return states, ids.reshape(-1)
    keys = w[:, 0].astype(np.int64)
    keys += 1
    for j in range(1, order):
        keys *= base
        keys += w[:, j]
        keys += 1
    size = base**order
    if size <= max(_DIRECT_KEYS, 2 * len(w)):  # a lookup table instead of a sort
        present = np.bincount(keys, minlength=size) > 0
        uniq = np.flatnonzero(present)
        ids = (np.cumsum(present) - 1)[keys]
    else:
        uniq, ids = np.unique(keys, return_inverse=True)
    states = np.empty((len(uniq), order), dtype=np.int32)
    rest = uniq.copy()
    for j in range(order - 1, -1, -1):
        states[:, j] = rest % base - 1
        rest //= base
    return states, ids.reshape(-1)


class _Walks:
    """The paths as walks through the states of an order-``order`` chain, unweighted.

    States are numbered ``0`` = ``(start)`` and ``1 + i`` = window ``windows[i]``; per touch,
    ``state`` is the state the touch enters and ``prev`` the one it leaves; ``last`` is each
    path's final state. With ``keep`` (a mask of paths) only those paths are walked.
    """

    def __init__(self, paths: Paths, order: int, keep: np.ndarray | None = None):
        lengths = np.asarray(paths.lengths)
        touches = paths.touches
        self.kept = None
        if keep is not None and not keep.all():
            touches = touches[np.repeat(keep, lengths)]
            lengths = lengths[keep]
            self.kept = np.flatnonzero(keep)
        offsets = np.concatenate([[0], np.cumsum(lengths)])
        self.windows, idx = _index_windows(
            _window_matrix(touches, offsets, order), paths.n_channels
        )
        state = idx.astype(np.int64, copy=False)
        state += 1
        prev = np.empty_like(state)
        prev[1:] = state[:-1]
        prev[offsets[:-1]] = 0
        self.touches, self.lengths = touches, lengths
        self.state, self.prev, self.last = state, prev, state[offsets[1:] - 1]

    @property
    def n_states(self) -> int:
        """``(start)`` plus the channel states (the transient states)."""
        return len(self.windows) + 1

    def per_path(self, a: np.ndarray) -> np.ndarray:
        """``a`` (one value per path of the input) restricted to the walked paths."""
        return np.asarray(a) if self.kept is None else np.asarray(a)[self.kept]

    def steps(
        self, conv: np.ndarray, nulls: np.ndarray, next_code: np.ndarray, width: int
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """Weighted steps as ``(from_state * width + next, weight)`` parts: one per touch
        (``next`` = ``next_code`` of the touch), then each path's end into ``(conversion)``
        (``next`` = ``width - 2``) and into ``(null)`` (``width - 1``)."""
        conv, nulls = self.per_path(conv), self.per_path(nulls)
        end = self.last * width
        key = self.prev * width
        key += next_code
        return [
            (key, np.repeat(conv + nulls, self.lengths)),
            (end + (width - 2), conv),
            (end + (width - 1), nulls),
        ]


def _sum_by_key(parts: list[tuple[np.ndarray, np.ndarray]], size: int) -> tuple[np.ndarray, ...]:
    """Total weight per key (keys in ``0..size-1``): the sorted keys with a positive total and
    their totals."""
    n = sum(len(k) for k, _ in parts)
    if size <= max(_DIRECT_KEYS, 2 * n):
        total = np.zeros(size)
        for key, weight in parts:
            total += np.bincount(key, weights=weight, minlength=size)
        keys = np.flatnonzero(total > 0)
        return keys, total[keys]
    key = np.concatenate([k for k, _ in parts])
    weight = np.concatenate([w for _, w in parts])
    keys, inv = np.unique(key, return_inverse=True)
    total = np.bincount(inv.reshape(-1), weights=weight, minlength=len(keys))
    pos = total > 0
    return keys[pos], total[pos]


def _state_labels(windows: np.ndarray, channels: tuple[str, ...]) -> list[str]:
    names = np.asarray(channels, dtype=object)
    labels = [START]
    for row in windows:
        seen = " > ".join(names[row[row >= 0]])
        labels.append(seen if row[0] >= 0 else f"{START} > {seen}")
    return labels + [CONVERSION, NULL]


def _effects_table(
    channels: tuple[str, ...], column: str, without: np.ndarray, effect: np.ndarray
) -> pd.DataFrame:
    total = effect.sum()
    return pd.DataFrame(
        {
            "channel": pd.array(channels, dtype="str"),
            column: without,
            "removal_effect": effect,
            "removal_effect_normalised": effect / total if total > 0 else np.zeros(len(effect)),
        }
    )


class _Solver:
    """Absorption in ``(conversion)`` of the transient chain ``I - Q``, for any set of kept states.

    ``rhs`` columns: probability of the step into ``(conversion)``, and (optionally) that times
    the mean conversion value of the journeys ending in the state.

    Solved by iterating ``x = Q x + rhs`` (the expected value after one more step), which
    converges because every walk is absorbed; on journey data the values are exact to machine
    precision after a few dozen steps (69 at 1M customers, order 3), far cheaper than the LU
    of a chain that fills in almost completely (1,871 states: 0.05 s per LU, 4 ms iterating).
    Small chains (up to ``ITERATE_FROM`` states), and a chain that mixes slowly (long loops),
    are factorised with a sparse LU instead.
    """

    #: Iterations before the LU fallback, and the relative error bound the iteration must reach.
    MAX_ITER = 2000
    TOL = 1e-14
    #: Chains up to this many states are factorised (exact, and as fast at that size).
    ITERATE_FROM = 500

    def __init__(self, a: sp.csr_matrix, rhs: np.ndarray):
        self.a, self.rhs = a, rhs
        self.q = (sp.identity(a.shape[0], format="csr") - a).tocsr()

    def solve(self, keep: np.ndarray | None = None) -> np.ndarray:
        """Absorption values from each kept state (all states when ``keep`` is None); the states
        left out are redirected to ``(null)`` (their value is 0)."""
        x = self._iterate(keep) if self.a.shape[0] > self.ITERATE_FROM else None
        if x is not None:
            return x if keep is None else x[keep]
        idx = np.arange(self.a.shape[0]) if keep is None else np.flatnonzero(keep)
        # A sparse LU even for a dozen states: as fast as a dense solve there, and it does not
        # depend on the BLAS thread pool (dense solves of a few hundred states took from 0.01 s
        # to 3 s on a busy two-core machine).
        sub = self.a[idx][:, idx].tocsc()
        return spla.splu(sub).solve(self.rhs[idx])

    def _iterate(self, keep: np.ndarray | None) -> np.ndarray | None:
        mask = None if keep is None else keep.astype(np.float64)[:, None]
        b = self.rhs if mask is None else self.rhs * mask
        x, last = b.copy(), np.inf
        for _ in range(self.MAX_ITER):
            nxt = self.q @ x
            nxt += b
            if mask is not None:
                nxt *= mask
            diff = float(np.max(np.abs(nxt - x), initial=0.0))
            x = nxt
            if diff == 0.0:
                return x
            # the error left is at most diff * rate / (1 - rate), rate the contraction per step
            rate, last = diff / last, diff  # inf on the first step: no rate yet
            scale = max(float(np.max(np.abs(x), initial=0.0)), 1e-300)
            if 0.0 < rate < 1.0 and diff * rate / (1.0 - rate) <= self.TOL * scale:
                return x
        return None


# -- the estimator -----------------------------------------------------------------------------


def _check_order(order: object, where: str) -> int:
    if isinstance(order, bool) or not isinstance(order, Integral) or order < 1:
        raise ValueError(f"{where}: order must be an integer >= 1")
    return int(order)


class MarkovAttribution(BaseEstimator):
    """Markov-chain removal-effect attribution of order ``order``, solved exactly.

    Parameters
    ----------
    order
        Order of the chain: a state is the window of the last ``order`` touches (padded from the
        journey start while it is shorter).
    null_required
        Refuse paths without non-converting journeys (the default): then every walk converts and
        removal effects only measure how often walks pass through a channel. ``False`` accepts
        them and computes that degenerate removal effect.
    value_credit
        ``"proportional"`` (default): a channel's value credit is its conversion share times the
        total value. ``"chain"``: removal effects of the expected conversion value instead (each
        step into ``(conversion)`` carries the mean value per conversion of the journeys ending
        in that state, as ChannelAttribution's value model), normalised over the total value.

    Attributes
    ----------
    states_ : DataFrame
        One row per state: ``state`` (label), ``kind`` (start, channel, conversion, null),
        ``visits`` (weighted journeys leaving the state, entering it for absorbing states) and
        ``conversion_probability`` (of absorption in ``(conversion)`` from the state).
    transition_matrix_ : DataFrame
        One row per observed transition: ``from_state``, ``to_state``, ``count`` (weighted
        journeys) and ``probability`` (count over the from-state's total; sums to 1 per state).
    conversion_probability_ : float
        Probability of absorption in ``(conversion)`` from ``(start)``.
    removal_effects_ : DataFrame
        One row per channel (``paths.channels`` order): ``channel``,
        ``conversion_probability_without``, ``removal_effect`` and
        ``removal_effect_normalised`` (sums to 1). A channel no journey with an outcome touches
        has removal effect 0.
    value_removal_effects_ : DataFrame or None
        With ``value_credit="chain"``: the same for the expected conversion value
        (``expected_value_without`` instead of the probability); else ``None``.
    attribution_ : DataFrame
        The common credit table (``channel``, ``conversions``, ``value``, ``share``), credits
        summing to the total conversions and value.
    n_states_ : int
        Number of states, ``(start)``, ``(conversion)`` and ``(null)`` included.

    Examples
    --------
    >>> p = Paths.from_sequences([["a", "b"], ["a"], ["b"]], conversions=[1, 0, 1], nulls=[0, 1, 0])
    >>> m = MarkovAttribution().fit(p)
    >>> round(m.conversion_probability_, 4), m.summary["conversions"].round(4).tolist()
    (0.6667, [0.6667, 1.3333])
    """

    def __init__(
        self, order: int = 1, *, null_required: bool = True, value_credit: str = "proportional"
    ):
        self.order = order
        self.null_required = null_required
        self.value_credit = value_credit

    def fit(self, paths: Paths, y: None = None) -> MarkovAttribution:
        """Estimate the chain from ``paths`` and solve every removal effect.

        Parameters
        ----------
        paths
            Touchpoint paths with conversions and nulls (see :class:`Paths`); not modified.
        y
            Ignored (scikit-learn convention).

        Returns
        -------
        MarkovAttribution
            ``self``, fitted.

        Raises
        ------
        ValueError
            No conversions (nothing to attribute); no non-converting journeys while
            ``null_required``; a channel label equal to a reserved state name; bad parameters.
        """
        return self._fit(paths, tables=True)

    def _fit(self, paths: Paths, *, tables: bool) -> MarkovAttribution:
        """:meth:`fit`; without ``tables`` only the credits (``attribution_``, the removal
        effects, ``conversion_probability_``, ``n_states_``), not the labelled ``states_`` and
        ``transition_matrix_`` (a bootstrap refits the chain hundreds of times and reads only
        the credits: naming every state and transition took a fifth of each fit)."""
        order = _check_order(self.order, "MarkovAttribution")
        if self.value_credit not in _VALUE_CREDIT:
            raise ValueError(f"MarkovAttribution: value_credit must be one of {_VALUE_CREDIT}")
        check_has_conversions(paths, model="MarkovAttribution")
        reserved = sorted({START, CONVERSION, NULL} & set(paths.channels))
        if reserved:
            raise ValueError(
                f"MarkovAttribution: channel labels {reserved} are reserved for the chain's states"
            )
        if paths.total_nulls == 0 and self.null_required:
            raise ValueError(
                "MarkovAttribution: the paths have no non-converting journeys (total nulls 0). "
                "A Markov removal effect compares conversion with and without a channel; when "
                "every journey converts the chain converts with probability 1 and the only way "
                "not to convert is the removal itself, so the removal effect degenerates into "
                "how often walks pass through the channel. Add the non-converting paths (nulls), "
                "or pass null_required=False to accept that degenerate removal effect."
            )

        conv = np.asarray(paths.conversions, dtype=np.float64)
        nulls = np.asarray(paths.nulls, dtype=np.float64)
        walks = _Walks(paths, order, keep=(conv + nulls) > 0)  # paths without outcomes: no steps
        s = walks.n_states
        width = s + 2  # every state: (conversion) = s, (null) = s + 1
        keys, counts = _sum_by_key(walks.steps(conv, nulls, walks.state, width), s * width)
        src, dst = np.divmod(keys, width)
        out = np.bincount(src, weights=counts, minlength=s)
        prob = counts / out[src]

        transient, to_conv = dst < s, dst == s
        q = sp.csr_matrix((prob[transient], (src[transient], dst[transient])), shape=(s, s))
        rhs = [np.bincount(src[to_conv], weights=prob[to_conv], minlength=s)]
        if self.value_credit == "chain":  # step into (conversion) x mean value per conversion
            end_value = walks.per_path(np.where(conv > 0, paths.value, 0.0))
            rhs.append(np.bincount(walks.last, weights=end_value, minlength=s) / out)
        solver = _Solver((sp.identity(s, format="csr") - q).tocsr(), np.column_stack(rhs))
        full = solver.solve()
        p_full = float(full[0, 0])

        contains = np.zeros((s, paths.n_channels), dtype=bool)  # state x channel in its window
        for col in walks.windows.T:
            rows = np.flatnonzero(col >= 0)
            contains[rows + 1, col[rows]] = True
        without = np.tile(full[0], (paths.n_channels, 1))  # unseen channels: nothing changes
        for c in np.flatnonzero(contains.any(axis=0)):
            without[c] = solver.solve(~contains[:, c])[0]

        effect = np.clip(1.0 - without[:, 0] / p_full, 0.0, 1.0)
        share = effect / effect.sum()  # > 0: every converting walk passes through a channel
        self.removal_effects_ = _effects_table(
            paths.channels, "conversion_probability_without", without[:, 0], effect
        )
        value_share = share
        self.value_removal_effects_ = None
        if self.value_credit == "chain":
            v_full = float(full[0, 1])
            v_effect = np.zeros(paths.n_channels)
            if v_full > 0:
                v_effect = np.clip(1.0 - without[:, 1] / v_full, 0.0, 1.0)
            self.value_removal_effects_ = _effects_table(
                paths.channels, "expected_value_without", without[:, 1], v_effect
            )
            if v_effect.sum() > 0:  # else no value reaches (conversion): credit as conversions
                value_share = v_effect / v_effect.sum()

        if tables:
            self._tables(walks, paths, out, src, dst, transient, counts, prob, full)
        self.conversion_probability_ = p_full
        self.n_states_ = s + 2
        self.attribution_ = credit_table(
            paths, share * paths.total_conversions, value_share * paths.total_value
        )
        log.debug(
            "Markov order %d: %d states, %d transitions, conversion probability %.6f",
            order, self.n_states_, len(counts), p_full,
        )  # fmt: skip
        return self

    def _tables(self, walks, paths, out, src, dst, transient, counts, prob, full) -> None:  # noqa: ANN001, PLR0913
        """``states_`` and ``transition_matrix_``: every state and transition, labelled."""
        s = walks.n_states
        labels = np.asarray(_state_labels(walks.windows, paths.channels), dtype=object)
        kinds = np.array(["start"] + ["channel"] * (s - 1) + ["conversion", "null"], dtype=object)
        visits = np.concatenate(
            [out, np.bincount(dst[~transient] - s, weights=counts[~transient], minlength=2)]
        )
        self.states_ = pd.DataFrame(
            {
                "state": pd.array(labels, dtype="str"),
                "kind": pd.array(kinds, dtype="str"),
                "visits": visits,
                "conversion_probability": np.concatenate([full[:, 0], [1.0, 0.0]]),
            }
        )
        self.transition_matrix_ = pd.DataFrame(
            {
                "from_state": pd.array(labels[src], dtype="str"),
                "to_state": pd.array(labels[dst], dtype="str"),
                "count": counts,
                "probability": prob,
            }
        )

    @property
    def summary(self) -> pd.DataFrame:
        """The credit table (``channel``, ``conversions``, ``value``, ``share``)."""
        check_is_fitted(self, "attribution_")
        return self.attribution_

    def _repr_mimebundle_(self, **kwargs) -> dict[str, str]:
        # Jupyter asks for the bundle before _repr_html_: without this it would show
        # scikit-learn's estimator diagram instead of the fitted summary.
        return {"text/plain": repr(self), "text/html": self._repr_html_()}

    def _repr_html_(self) -> str:
        """The removal effects and credits as an HTML table (the parameters before fit)."""
        if not hasattr(self, "attribution_"):
            return f"<pre>{html.escape(repr(self))}</pre>"
        table = self.removal_effects_.merge(self.attribution_, on="channel")
        head = (
            f"<p><b>Markov attribution</b>, order {self.order}: {self.n_states_} states, "
            f"{len(self.transition_matrix_)} transitions, conversion probability "
            f"{self.conversion_probability_:.4f}</p>"
        )
        return head + table.to_html(index=False, float_format=lambda x: f"{x:.4f}")


# -- choosing the order ------------------------------------------------------------------------


def _whole(name: str, a: np.ndarray) -> np.ndarray:
    rounded = np.round(a)
    bad = np.abs(a - rounded) > 1e-9
    if bad.any():
        first = ", ".join(str(i) for i in np.flatnonzero(bad)[:5])
        raise ValueError(
            f"select_order: {name} must be whole journey counts to split journeys into train and "
            f"test; {int(bad.sum())} paths are not (paths {first})"
        )
    return rounded.astype(np.int64)


def select_order(
    paths: Paths,
    orders: tuple[int, ...] = (1, 2, 3),
    *,
    test_size: float = 0.3,
    random_state: int = 0,
    smoothing: float = 0.5,
) -> tuple[int, pd.DataFrame]:
    """Choose the chain order by the likelihood of held-out journeys.

    The journeys (each conversion and each null of each path is one journey) are split at
    random without replacement: ``round(test_size * journeys)`` go to the test set (a
    multivariate hypergeometric draw over the path x outcome counts, seeded by
    ``random_state``). Each order's chain is estimated on the training journeys and scores
    every step of the test journeys (each touch and the final conversion/null step) by its
    log probability, with additive smoothing:
    ``P(next | state) = (count + smoothing) / (state total + smoothing * (n_channels + 2))``, so
    unseen steps and unseen states (uniform) keep a finite likelihood. Every order scores the
    same steps (padded windows make each touch one step), so the log-likelihoods compare
    directly. The order with the highest log-likelihood per transition wins (ties: the lowest
    order).

    Parameters
    ----------
    paths
        Paths with whole-number conversions and nulls; not modified.
    orders
        Candidate orders (integers >= 1).
    test_size
        Share of journeys held out, strictly between 0 and 1.
    random_state
        Seed of the split.
    smoothing
        Additive smoothing constant (> 0); 0.5 is the Krichevsky-Trofimov estimator.

    Returns
    -------
    tuple of (int, DataFrame)
        The chosen order, and one row per candidate order (in the given order): ``order``,
        ``n_states`` (states of the chain fitted on the training journeys, the start and
        absorbing states included), ``test_log_likelihood`` (natural log), ``test_transitions``,
        ``log_likelihood_per_transition`` and ``chosen`` (bool).

    Raises
    ------
    ValueError
        Bad orders, ``test_size`` or ``smoothing``; non-whole counts; too few journeys to split.
    """
    if not isinstance(paths, Paths):
        raise TypeError(f"select_order: expected a Paths object, got {type(paths).__name__}")
    orders = tuple(_check_order(k, "select_order") for k in orders)
    if not orders or len(set(orders)) != len(orders):
        raise ValueError("select_order: give at least one order, each once")
    if not isinstance(test_size, Real) or not 0 < test_size < 1:
        raise ValueError("select_order: test_size must be strictly between 0 and 1")
    if not isinstance(smoothing, Real) or not smoothing > 0:
        raise ValueError("select_order: smoothing must be > 0")
    conv = _whole("conversions", np.asarray(paths.conversions))
    nulls = _whole("nulls", np.asarray(paths.nulls))
    n = paths.n_paths
    colors = np.concatenate([conv, nulls])
    journeys = int(colors.sum())
    n_test = round(test_size * journeys)
    if not 0 < n_test < journeys:
        raise ValueError(
            f"select_order: {journeys} journeys cannot be split with test_size={test_size} "
            "(train and test must both be non-empty)"
        )
    rng = np.random.default_rng(random_state)
    test = rng.multivariate_hypergeometric(colors, n_test)
    train = colors - test
    train_conv, train_null = train[:n].astype(np.float64), train[n:].astype(np.float64)
    test_conv, test_null = test[:n].astype(np.float64), test[n:].astype(np.float64)

    m = paths.n_channels
    alphabet = m + 2  # next symbol: a channel, (conversion) or (null)
    rows = []
    for order in orders:
        walks = _Walks(paths, order)
        codes = walks.touches.astype(np.int64)
        train_keys, train_counts = _sum_by_key(
            walks.steps(train_conv, train_null, codes, alphabet), walks.n_states * alphabet
        )
        state_total = np.bincount(
            train_keys // alphabet, weights=train_counts, minlength=walks.n_states
        )
        loglik = n_steps = 0.0
        for key, weight in walks.steps(test_conv, test_null, codes, alphabet):
            key, weight = key[weight > 0], weight[weight > 0]
            at = np.minimum(np.searchsorted(train_keys, key), len(train_keys) - 1)
            count = np.where(train_keys[at] == key, train_counts[at], 0.0)
            p = (count + smoothing) / (state_total[key // alphabet] + smoothing * alphabet)
            loglik += float(np.dot(weight, np.log(p)))
            n_steps += float(weight.sum())
        trained_states = int(np.count_nonzero(state_total[1:])) + 3
        rows.append((order, trained_states, loglik, n_steps, loglik / n_steps))

    table = pd.DataFrame(
        rows,
        columns=[
            "order",
            "n_states",
            "test_log_likelihood",
            "test_transitions",
            "log_likelihood_per_transition",
        ],
    )
    score = table["log_likelihood_per_transition"].to_numpy()
    tied = np.flatnonzero(score == score.max())
    best = int(tied[np.argmin(table["order"].to_numpy()[tied])])  # ties: the lowest order
    table["chosen"] = np.arange(len(table)) == best
    return int(table["order"].iat[best]), table


#: Chart text in each report language.
_PLOT_TEXT: dict[str, dict[str, str]] = {
    "en": {
        "hover": "without %{y}: %{x:.1%} of conversions lost<extra></extra>",
        "title": "Conversions lost if the channel were removed (Markov removal effect)",
        "x": "share of conversions lost",
        "channel": "channel",
    },
    "id": {
        "hover": "tanpa %{y}: %{x:.1%} konversi hilang<extra></extra>",
        "title": "Konversi yang hilang bila kanal dihapus (efek penghapusan Markov)",
        "x": "porsi konversi yang hilang",
        "channel": "kanal",
    },
}


def plot_removal_effects(effects: pd.DataFrame, *, language: str = "en") -> go.Figure:
    """Bars of ``MarkovAttribution.removal_effects_``: the share of conversions lost without
    each channel, largest first (text in ``language``: ``en`` or ``id``)."""
    text = _PLOT_TEXT.get(language, _PLOT_TEXT["en"])
    import plotly.graph_objects as go

    t = effects.sort_values("removal_effect", ascending=True)
    fig = go.Figure(
        go.Bar(
            x=t["removal_effect"],
            y=t["channel"].astype(str),
            orientation="h",
            hovertemplate=text["hover"],
        )
    )
    fig.update_layout(
        title=text["title"],
        xaxis={"title": text["x"], "tickformat": ".0%", "rangemode": "tozero"},
        yaxis={"title": text["channel"]},
        margin={"l": 110, "r": 20, "t": 50, "b": 40},
        height=max(300, 28 * len(t) + 100),
    )
    return fig
