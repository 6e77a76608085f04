"""The BG/NBD model of repeat purchases (Fader, Hardie & Lee 2005): :class:`BetaGeoModel`.

Its likelihoods (the full model, and its constant-dropout and no-dropout limits), P(alive) and the
conditional expected purchases, whose expectation over the Beta-distributed dropout probability
is taken by Gauss-Jacobi quadrature (:func:`_beta_nodes`).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy.linalg import eigh_tridiagonal
from scipy.special import digamma, expit, gammaln
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from journeylib.clv.fitting import (
    ClvFitError,
    _Fit,
    _maximise,
    _require,
    _Rows,
    _summary_table,
    _wsum,
)
from journeylib.clv.summary import _rfm, _rows

#: Gauss-Jacobi nodes for expectations over the Beta-distributed dropout probability.
_NODES = 64


def _bgnbd_nll(logp: np.ndarray, d: _Rows) -> tuple[float, np.ndarray]:
    """Total negative BG/NBD log-likelihood and its gradient in log-parameters.

    ln L = A1 + A2 + ln(exp(A3) + [x > 0] exp(A4)) (Fader, Hardie & Lee 2005, "Implementing the
    BG/NBD model"), the last term by log-add-exp. Gamma functions run once per distinct x.
    """
    r, alpha, a, b = np.exp(logp)
    x, tx, T, w, xs, at = d.x, d.y, d.T, d.w, d.xs, d.at
    pos = x > 0
    xm1 = np.where(pos, x - 1.0, 0.0)
    a1 = (gammaln(r + xs) - gammaln(r))[at] + r * np.log(alpha)
    a2 = (gammaln(a + b) + gammaln(b + xs) - gammaln(b) - gammaln(a + b + xs))[at]
    log_at, log_atx = np.log(alpha + T), np.log(alpha + tx)
    a3 = -(r + x) * log_at
    a4 = np.where(pos, np.log(a) - np.log(b + xm1) - (r + x) * log_atx, -np.inf)
    lse = np.logaddexp(a3, a4)
    w3, w4 = np.exp(a3 - lse), np.exp(a4 - lse)
    ll = a1 + a2 + lse
    d_r = (digamma(r + xs) - digamma(r))[at] + np.log(alpha) - w3 * log_at - w4 * log_atx
    d_alpha = r / alpha - (r + x) * (w3 / (alpha + T) + w4 / (alpha + tx))
    d_ab = (digamma(a + b) - digamma(a + b + xs))[at]
    d_a = d_ab + w4 / a
    d_b = d_ab + (digamma(b + xs) - digamma(b))[at] - w4 / (b + xm1)
    grad = _wsum(w, d_r, d_alpha, d_a, d_b) * np.exp(logp)
    return -float(_wsum(w, ll)[0]), -grad


def _limit_nll(theta: np.ndarray, d: _Rows) -> tuple[float, np.ndarray]:
    """The BG/NBD as a, b -> infinity with a / (a + b) -> p: one dropout probability p for
    everyone. ``theta`` = (ln r, ln alpha, logit p); returns the total negative log-likelihood
    and its gradient:

    ln L = ln G(r+x) - ln G(r) + r ln alpha
           + ln((1-p)^x (alpha+T)^-(r+x) + [x > 0] p (1-p)^(x-1) (alpha+t_x)^-(r+x)).
    """
    r, alpha = np.exp(theta[:2])
    p = float(expit(theta[2]))
    x, tx, T, w, xs, at = d.x, d.y, d.T, d.w, d.xs, d.at
    pos = x > 0
    log_p, log_q = np.log(p), np.log1p(-p)
    a1 = (gammaln(r + xs) - gammaln(r))[at] + r * np.log(alpha)
    log_at, log_atx = np.log(alpha + T), np.log(alpha + tx)
    a3 = x * log_q - (r + x) * log_at
    a4 = np.where(pos, log_p + (x - 1.0) * log_q - (r + x) * log_atx, -np.inf)
    lse = np.logaddexp(a3, a4)
    w3, w4 = np.exp(a3 - lse), np.exp(a4 - lse)
    d_r = (digamma(r + xs) - digamma(r))[at] + np.log(alpha) - w3 * log_at - w4 * log_atx
    d_alpha = r / alpha - (r + x) * (w3 / (alpha + T) + w4 / (alpha + tx))
    d_logit = -w3 * x * p + w4 * ((1.0 - p) - (x - 1.0) * p)  # d/dp times p (1 - p)
    grad = _wsum(w, d_r, d_alpha, d_logit) * np.array([r, alpha, 1.0])
    return -float(_wsum(w, a1 + lse)[0]), -grad


def _nbd_nll(theta: np.ndarray, d: _Rows) -> tuple[float, np.ndarray]:
    """The BG/NBD without dropout (a -> 0): the NBD. ``theta`` = (ln r, ln alpha);
    ln L = ln G(r+x) - ln G(r) + r ln alpha - (r+x) ln(alpha+T)."""
    r, alpha = np.exp(theta)
    x, T, w, xs, at = d.x, d.T, d.w, d.xs, d.at
    log_at = np.log(alpha + T)
    ll = (gammaln(r + xs) - gammaln(r))[at] + r * np.log(alpha) - (r + x) * log_at
    d_r = (digamma(r + xs) - digamma(r))[at] + np.log(alpha) - log_at
    d_alpha = r / alpha - (r + x) / (alpha + T)
    return -float(_wsum(w, ll)[0]), -_wsum(w, d_r, d_alpha) * np.array([r, alpha])


class BetaGeoModel(BaseEstimator):
    """BG/NBD model of repeat purchases (Fader, Hardie & Lee 2005), fitted by maximum likelihood.

    While active, a customer buys at rate lambda ~ Gamma(r, alpha); after each repeat purchase
    they become inactive with probability p ~ Beta(a, b). Fitted on an RFM summary
    (:func:`rfm_summary`: one row per customer); predictions are in the summary's time unit.

    Customers without a repeat purchase have P(alive) = 1: in the BG/NBD, dropout happens only
    right after a repeat purchase (a known property of the model; churn scores for one-time
    buyers must come from elsewhere, e.g. the churn classifier).

    Two boundaries are common on real data, where the maximum lies at infinity and plain
    optimisation returns arbitrary points on a ridge. When the data show no spread in the
    dropout probability, the likelihood keeps rising as a and b grow together (the Beta
    collapses onto its mean): the fit is then the limit a = b = inf with one dropout probability
    p for everyone (``limit_ = "constant dropout"``). When nobody seems to drop out, a runs to 0:
    the fit is then the NBD (``limit_ = "no dropout"``, a = 0, b undefined). Without a penalizer
    these limits are estimated exactly and used by every prediction (see ``_limit``); other
    runaway parameters are a :class:`ClvFitError`.

    Parameters
    ----------
    penalizer
        L2 penalty on the parameters (r, alpha, a, b) added to the mean negative log-likelihood
        (lifetimes' ``penalizer_coef``); 0 gives the exact maximum-likelihood estimates.
    max_iter
        Optimiser iterations (L-BFGS-B, then Newton polish) before the fit is declared failed.

    Attributes
    ----------
    params_ : Series
        r, alpha, a, b (a = b = inf in the constant-dropout limit; a = 0, b = NaN without
        dropout).
    dropout_probability_ : float
        Mean dropout probability after a repeat purchase, a / (a + b) (p, or 0, in a limit).
    limit_ : str or None
        ``None`` (a proper BG/NBD), ``"constant dropout"`` or ``"no dropout"``.
    log_likelihood_ : float
        Total log-likelihood at the estimates (penalty excluded).
    n_customers_ : int
    standard_errors_ : Series
        Delta-method standard errors (observed information), NaN if singular or infinite.
    unit_ : str or None
        The summary's time unit (``summary.attrs["unit"]`` when set by :func:`rfm_summary`).
    """

    _names = ("r", "alpha", "a", "b")

    def __init__(self, penalizer: float = 0.0, max_iter: int = 1000) -> None:
        self.penalizer = penalizer
        self.max_iter = max_iter

    def fit(self, summary: pd.DataFrame, y: None = None) -> BetaGeoModel:
        """Fit on an RFM summary (columns ``frequency``, ``recency``, ``T``)."""
        if not (isinstance(self.penalizer, int | float) and 0 <= self.penalizer < math.inf):
            raise ValueError(f"penalizer must be a non-negative number, got {self.penalizer!r}")
        x, tx, T = _rfm(summary, "BetaGeoModel.fit")
        rows = _Rows.of(x, tx, T)
        n = float(rows.w.sum())
        start = np.log([1.0, max(float(_wsum(rows.w, rows.T)[0]) / n, 1e-3), 1.0, 1.0])
        options = {"n": n, "max_iter": self.max_iter}
        fit = _maximise(
            lambda v: _bgnbd_nll(v, rows),
            start,
            penalizer=float(self.penalizer),
            names=self._names,
            **options,
        )
        limit, kind = self._limit(fit, rows, options)
        if limit is None:
            _require(fit, "BG/NBD")
            r, alpha, a, b = np.exp(fit.internal)
            p, table = a / (a + b), _summary_table(self._names, np.exp(fit.internal), fit.se)
        else:
            r, alpha = np.exp(limit.internal[:2])
            if kind == "constant dropout":
                a, b, p, se_p = math.inf, math.inf, float(expit(limit.internal[2])), limit.se[2]
            else:
                a, b, p, se_p = 0.0, math.nan, 0.0, math.nan
            table = _summary_table(
                (*self._names, "p"),
                np.array([r, alpha, a, b, p]),
                np.array([*limit.se[:2], np.nan, np.nan, se_p]),
                logit=("p",),
            )
            fit = limit
        self.params_ = pd.Series([r, alpha, a, b], index=self._names, name="estimate", dtype=float)
        self.dropout_probability_ = float(p)
        self.limit_ = kind
        self.log_likelihood_ = float(fit.log_likelihood)
        self.n_customers_ = int(n)
        self.standard_errors_ = table["std_error"].rename("std_error")
        self._table_ = table
        self.unit_ = summary.attrs.get("unit")
        return self

    def _limit(self, fit: _Fit, rows: _Rows, options: dict) -> tuple[_Fit | None, str | None]:
        """The boundary model the BG/NBD fit runs to, when it runs to one and fits as well.

        * a and b growing together (both > 100): no spread in the dropout probability; the limit
          has one p for everyone (``_limit_nll``).
        * a running to 0 (< 0.001) with a failed fit: nobody drops out; the limit is the NBD.

        A limit is taken when it converges and its log-likelihood is at most 0.5 below the
        4-parameter fit's (a likelihood-ratio statistic below 1: no evidence against it; the
        slack also absorbs rounding of ln Gamma at huge a + b). Never with a penalizer.
        """
        if self.penalizer != 0:
            return None, None
        log_a, log_b = fit.internal[2:]
        kinds = []
        if min(log_a, log_b) > math.log(100.0):
            kinds.append("constant dropout")
        if fit.problem and (log_a < math.log(1e-3) or kinds):
            kinds.append("no dropout")
        for kind in kinds:
            if kind == "constant dropout":
                log_p = log_a - np.logaddexp(log_a, log_b)
                start = np.array([*fit.internal[:2], log_p - np.log1p(-np.exp(log_p))])
                nll, names = (lambda v: _limit_nll(v, rows)), ("r", "alpha", "p")
            else:
                start = fit.internal[:2].copy()
                nll, names = (lambda v: _nbd_nll(v, rows)), ("r", "alpha")
            limit = _maximise(nll, start, penalizer=0.0, names=names, **options)
            if not limit.problem and limit.log_likelihood >= fit.log_likelihood - 0.5:
                return limit, kind
        return None, None

    @property
    def summary(self) -> pd.DataFrame:
        """One row per parameter: estimate, standard error, 95% interval (plus p, the dropout
        probability, in a limit case)."""
        check_is_fitted(self, "params_")
        return self._table_.copy()

    def _repr_html_(self) -> str:
        if not hasattr(self, "params_"):
            return f"<pre>{self!r} (not fitted)</pre>"
        caption = (
            f"BG/NBD{f' ({self.limit_} limit)' if self.limit_ else ''}, "
            f"{self.n_customers_:,} customers, log-likelihood {self.log_likelihood_:.2f}"
        )
        return f"<p>{caption}</p>" + self.summary.to_html(float_format="{:.4g}".format)

    def _p(self) -> tuple[float, float, float, float, float]:
        check_is_fitted(self, "params_")
        r, alpha, a, b = (float(v) for v in self.params_.to_numpy())
        return r, alpha, a, b, self.dropout_probability_

    def expected_purchases(self, t: float | np.ndarray) -> np.ndarray:
        """E[X(t)]: expected repeat purchases in (0, t] of a customer who just made a first
        purchase (unconditional)."""
        return _conditional(self._p(), _times(t), 0.0, 0.0, 0.0)

    def conditional_expected_purchases(
        self, t: float | np.ndarray, summary: pd.DataFrame
    ) -> pd.Series:
        """E[Y(t) | x, t_x, T]: expected purchases in the next ``t`` units of each customer of
        ``summary`` (one value per row, same index); ``t`` a number or one per row."""
        x, tx, T = _rfm(summary, "conditional_expected_purchases")
        t = _times(t)
        if t.ndim and t.shape != x.shape:
            raise ValueError(f"t must be a number or one value per summary row ({x.size})")
        values = _conditional(self._p(), t, x, tx, T)
        return pd.Series(values, index=summary.index, name="expected_purchases")

    def probability_alive(self, summary: pd.DataFrame) -> pd.Series:
        """P(still active at T | x, t_x, T) for each customer of ``summary`` (same index)."""
        x, tx, T = _rfm(summary, "probability_alive")
        values = np.exp(_log_alive(self._p(), x, tx, T))
        return pd.Series(values, index=summary.index, name="probability_alive")


def _times(t: float | np.ndarray) -> np.ndarray:
    arr = np.asarray(t, dtype=np.float64)
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError("t must be finite and non-negative")
    return arr


def _log_alive(params: tuple, x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> np.ndarray:
    """ln P(alive) = -ln(1 + [x > 0] a / (b + x - 1) ((alpha + T) / (alpha + t_x))^(r + x)),
    with p / (1 - p) for a / (b + x - 1) in the constant-dropout limit (0 without dropout)."""
    r, alpha, a, b, p = params
    x = np.asarray(x, dtype=np.float64)
    pos = x > 0
    if a == 0 or p == 0:
        return np.zeros(np.broadcast(x, tx, T).shape)
    if math.isinf(a):
        log_ratio = np.full(x.shape, math.log(p) - math.log1p(-p))
    else:
        log_ratio = math.log(a) - np.log(b + np.where(pos, x - 1, 0.0))
    odds = np.where(pos, log_ratio + (r + x) * (np.log(alpha + T) - np.log(alpha + tx)), -np.inf)
    return -np.logaddexp(0.0, odds)


def _beta_nodes(a: float, b: float, n: int = _NODES) -> tuple[np.ndarray, np.ndarray]:
    """Gauss quadrature nodes and weights (summing to 1) for expectations under Beta(a, b).

    Golub-Welsch on the recurrence of the Jacobi polynomials for the weight
    (1-u)^(b-1) (1+u)^(a-1) on [-1, 1] (Gautschi 2004, Table 1.1), mapped to p = (1 + u) / 2.
    Unlike ``scipy.special.roots_jacobi``, whose weights overflow for a or b in the thousands,
    only the eigenvectors' first components are needed here, so any a, b > 0 work.
    """
    al, be = b - 1.0, a - 1.0
    k = np.arange(1, n, dtype=np.float64)
    s2 = 2.0 * k + al + be
    diag = np.empty(n)
    diag[0] = (be - al) / (al + be + 2.0)
    diag[1:] = (be * be - al * al) / (s2 * (s2 + 2.0))
    off2 = 4.0 * k * (k + al) * (k + be) * (k + al + be) / (s2 * s2 * (s2 + 1.0) * (s2 - 1.0))
    # n = 1 written without the factor (1 + al + be) / (1 + al + be), which is 0/0 at -1
    off2[0] = 4.0 * (1.0 + al) * (1.0 + be) / ((2.0 + al + be) ** 2 * (3.0 + al + be))
    u, vectors = eigh_tridiagonal(diag, np.sqrt(off2))
    weight = vectors[0] ** 2
    return np.clip((1.0 + u) / 2.0, 0.0, 1.0), weight / weight.sum()


def _conditional(params: tuple, t: np.ndarray, x: object, tx: object, T: object) -> np.ndarray:
    """E[Y(t) | x, t_x, T] of the BG/NBD (eq. 10 of Fader, Hardie & Lee 2005), with x = t_x =
    T = 0 the unconditional E[X(t)].

    Given the customer is alive, lambda ~ Gamma(r + x, alpha + T) and p ~ Beta(a, b + x)
    independently, and a customer with known (lambda, p) makes (1 - exp(-lambda p t)) / p
    purchases in expectation; so

        E[Y(t)] = P(alive) E_p[(1 - ((alpha + T) / (alpha + T + p t))^(r + x)) / p],

    which is eq. 10's hypergeometric closed form by Euler's integral. The expectation over p is
    taken by Gauss quadrature on Beta(a, b + x) (:func:`_beta_nodes`, ``_NODES`` nodes; the
    integrand is analytic on [0, 1], so the error is far below 1e-10): scipy's ``hyp2f1`` loses
    all accuracy for large a and b, which real fits reach (``tests/test_clv.py`` holds the two
    equal on CDNOW). In the constant-dropout limit the expectation is at the single p, and
    without dropout (a = 0) it is (r + x) t / (alpha + T).
    """
    r, alpha, a, b, p = params
    x, tx, T = (np.asarray(v, dtype=np.float64) for v in (x, tx, T))
    x, tx, T, t = np.broadcast_arrays(x, tx, T, np.asarray(t, dtype=np.float64))
    alive = np.exp(_log_alive(params, x, tx, T))
    s, k = t / (alpha + T), r + x
    if a == 0 or p == 0:
        given_alive = k * s
    elif math.isinf(a):
        given_alive = -np.expm1(-k * np.log1p(p * s)) / p
    else:
        given_alive = np.empty(x.shape)
        xs, at = np.unique(x, return_inverse=True)
        for j, xv in enumerate(xs):
            node, weight = _beta_nodes(a, b + xv)
            idx = np.flatnonzero(at.ravel() == j)
            for chunk in np.array_split(idx, max(1, idx.size // 50_000)):
                ks, ss = k.ravel()[chunk, None], s.ravel()[chunk, None]
                f = -np.expm1(-ks * np.log1p(node * ss)) / node
                given_alive.ravel()[chunk] = np.add.reduce(f * weight, axis=1)
    values = alive * given_alive
    if not np.all(np.isfinite(values)):
        raise ClvFitError(
            f"BG/NBD expected purchases are not finite for {_rows(~np.isfinite(values))}"
        )
    return values
