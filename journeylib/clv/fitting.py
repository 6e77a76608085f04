"""Maximum likelihood shared by the CLV models, and their error and warning.

:func:`_maximise` (L-BFGS-B, then a Newton polish to a fixed log-likelihood tolerance) minimises
a total negative log-likelihood given with its analytic gradient; :func:`_summary_table` turns
the estimates and their standard errors into the models' ``summary``; :class:`_Rows` collapses a
summary to its distinct rows so that likelihoods run once per distinct (x, t_x, T).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import expit

if TYPE_CHECKING:
    from collections.abc import Callable

#: The optimiser keeps log-parameters within +-_BOUND; one that ends beyond +-_RUNAWAY (below
#: 3e-7 or above 3e6; spend is fitted in units of its mean) is running off to 0 or infinity,
#: i.e. the data do not identify it (a failure, never returned as an estimate).
_BOUND = 18.0
_RUNAWAY = 15.0
_Z95 = 1.959963984540054
#: A fit has converged when the total log-likelihood is within this of its maximum.
_GAIN = 1e-6


class ClvFitError(RuntimeError):
    """Maximum likelihood did not converge to a proper optimum (no parameters are returned)."""


class ClvAssumptionWarning(UserWarning):
    """A modelling assumption looks doubtful on this data (e.g. Gamma-Gamma independence)."""


@dataclass(frozen=True)
class _Fit:
    """Where an optimisation stopped: internal parameters (log, or logit for a probability),
    total log-likelihood there, standard errors of the internal parameters, and whether it is a
    proper maximum (``problem`` empty) or why not."""

    internal: np.ndarray
    log_likelihood: float
    se: np.ndarray
    problem: str


def _maximise(
    nll: Callable[[np.ndarray], tuple[float, np.ndarray]],
    start: np.ndarray,
    *,
    n: float,
    penalizer: float,
    max_iter: int,
    names: tuple[str, ...],
) -> _Fit:
    """Minimise ``nll`` (total negative log-likelihood and its gradient in the internal
    parameters; the penalty assumes log-parameters).

    L-BFGS-B (internal parameters within +-``_BOUND``) finds the basin; damped Newton steps on the
    Hessian then polish until the Newton decrement says the total log-likelihood is within
    ``_GAIN`` of its maximum (a test that does not loosen with the number of customers, unlike a
    gradient norm). ``max_iter`` caps both together. Not getting there, a Hessian that is not
    positive definite (no maximum) or a parameter running off to 0 or infinity is reported in
    ``problem``.
    """

    def objective(logp: np.ndarray) -> tuple[float, np.ndarray]:
        value, grad = nll(logp)
        p = np.exp(logp)
        # mean log-likelihood keeps the optimiser's tolerances independent of the customer count
        return value / n + penalizer * float(p @ p), grad / n + 2.0 * penalizer * p * p

    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        res = minimize(
            objective,
            start,
            jac=True,
            method="L-BFGS-B",
            bounds=[(-_BOUND, _BOUND)] * len(start),
            options={"maxiter": max_iter, "ftol": 1e-15, "gtol": 1e-10},
        )
        logp, iters, decrement, definite = res.x, int(res.nit), np.inf, False
        while np.all(np.abs(logp) < _BOUND - 1e-6):
            value, grad = objective(logp)
            hess = _hessian(lambda v: objective(v)[1], logp)
            definite = bool(np.all(np.isfinite(hess)) and np.all(np.linalg.eigvalsh(hess) > 0))
            if not (definite and np.isfinite(value) and np.all(np.isfinite(grad))):
                break
            step = np.linalg.solve(hess, grad)
            decrement = n * float(grad @ step) / 2.0  # predicted gain in total log-likelihood
            if decrement < _GAIN or iters >= max_iter:
                break
            iters += 1
            t = 1.0
            while t > 1e-8 and not objective(logp - t * step)[0] <= value:
                t /= 2.0
            logp = logp - t * step
        ll = -nll(logp)[0]
    at_bound = np.abs(logp) >= _RUNAWAY
    problem = ""
    if at_bound.any():
        which = [names[i] for i in np.flatnonzero(at_bound)]
        problem = (
            f"parameter(s) {which} ran off to 0 or infinity: the data do not identify them "
            "(too few customers or repeat purchases?); a small penalizer (e.g. 0.001) keeps "
            "them finite"
        )
    elif not np.isfinite(ll):
        problem = "the log-likelihood is not finite at the optimiser's end point"
    elif not definite:
        problem = (
            f"no maximum found (Hessian not positive definite after {iters} iterations; "
            f"optimiser: {res.message or 'stopped'})"
        )
    elif not decrement < _GAIN:
        problem = f"not converged after {iters} iterations (max_iter={max_iter})"
    se = _standard_errors(nll, logp) if not problem else np.full(len(logp), np.nan)
    return _Fit(logp, ll, se, problem)


def _require(fit: _Fit, model: str) -> _Fit:
    if fit.problem:
        raise ClvFitError(f"{model}: maximum likelihood failed: {fit.problem}; no parameters")
    return fit


def _hessian(gradient: Callable[[np.ndarray], np.ndarray], at: np.ndarray) -> np.ndarray:
    """Symmetric Hessian by central differences of an analytic gradient."""
    k = len(at)
    hess = np.empty((k, k))
    for j in range(k):
        h = 1e-5 * max(1.0, abs(at[j]))
        step = np.zeros(k)
        step[j] = h
        hess[:, j] = (gradient(at + step) - gradient(at - step)) / (2 * h)
    return (hess + hess.T) / 2


def _standard_errors(nll: Callable, logp: np.ndarray) -> np.ndarray:
    """Standard errors of the log-parameters from the observed information (the Hessian of the
    total negative log-likelihood, penalty excluded); NaN when it is singular."""
    hess = _hessian(lambda v: nll(v)[1], logp)
    try:
        cov = np.linalg.inv(hess)
    except np.linalg.LinAlgError:
        return np.full(len(logp), np.nan)
    diag = np.diag(cov)
    return np.where(diag > 0, np.sqrt(np.abs(diag)), np.nan)


def _summary_table(
    names: tuple[str, ...], estimates: np.ndarray, se: np.ndarray, logit: tuple[str, ...] = ()
) -> pd.DataFrame:
    """Estimates with delta-method standard errors and 95% intervals taken on the internal scale
    (log, or logit for the parameters in ``logit``) and transformed back, so they stay in range."""
    est = np.asarray(estimates, dtype=np.float64)
    se = np.asarray(se, dtype=np.float64)
    is_logit = np.isin(np.asarray(names), logit)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        slope = np.where(is_logit, est * (1 - est), est)  # d estimate / d internal
        centre = np.where(is_logit, np.log(est) - np.log1p(-est), np.log(est))
        lo, hi = centre - _Z95 * se, centre + _Z95 * se
        lower = np.where(is_logit, expit(lo), np.exp(lo))
        upper = np.where(is_logit, expit(hi), np.exp(hi))
    return pd.DataFrame(
        {"estimate": est, "std_error": slope * se, "lower_95": lower, "upper_95": upper},
        index=pd.Index(names, name="parameter"),
    )


@dataclass(frozen=True)
class _Rows:
    """Distinct rows (x, y, T) of a summary with their counts ``w``; ``xs`` the distinct x and
    ``at`` each distinct row's position in it (Gamma functions of x run once per distinct x);
    ``codes`` each input row's distinct row (to spread per-row results back)."""

    x: np.ndarray
    y: np.ndarray
    T: np.ndarray
    w: np.ndarray
    xs: np.ndarray
    at: np.ndarray
    codes: np.ndarray

    @classmethod
    def of(cls, x: np.ndarray, y: np.ndarray, T: np.ndarray | None = None) -> _Rows:
        cols = {"x": x, "y": y, "T": np.zeros_like(x) if T is None else T}
        groups = pd.DataFrame(cols).groupby(list(cols), sort=False)
        counts = groups.size()  # in the order of groups.ngroup()
        uniq = counts.index.to_frame(index=False)
        ux, uy, uT = (uniq[c].to_numpy(np.float64) for c in cols)
        xs, at = np.unique(ux, return_inverse=True)
        codes = groups.ngroup().to_numpy()
        return cls(ux, uy, uT, counts.to_numpy(np.float64), xs, at, codes)


def _wsum(w: np.ndarray, *columns: np.ndarray) -> np.ndarray:
    """Weighted sums of equal-length columns. Not ``w @ v``: BLAS threads contend on a busy
    machine and a 30k-row dot product then takes milliseconds instead of microseconds."""
    return np.array([np.add.reduce(w * c) for c in columns])
