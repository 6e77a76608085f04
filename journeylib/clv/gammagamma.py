"""The Gamma-Gamma model of the spend per purchase (Fader, Hardie & Lee 2005, "RFM and CLV").

:class:`GammaGammaModel` is fitted on the repeat customers of an RFM summary and flags, with a
:class:`~journeylib.clv.fitting.ClvAssumptionWarning`, a correlation between frequency and spend
that its independence assumption rules out.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import replace

import numpy as np
import pandas as pd
from scipy.special import digamma, gammaln
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from journeylib.clv.fitting import (
    ClvAssumptionWarning,
    _maximise,
    _require,
    _Rows,
    _summary_table,
    _wsum,
)
from journeylib.clv.summary import _rows, _spend


def _gg_nll(logp: np.ndarray, d: _Rows) -> tuple[float, np.ndarray]:
    """Total negative Gamma-Gamma log-likelihood of mean spends ``d.y`` over ``d.x`` purchases
    and its gradient in log-parameters (Fader, Hardie & Lee 2005, "RFM and CLV", eq. 3 on
    z-bar)."""
    p, q, v = np.exp(logp)
    x, m, w, xs, at = d.x, d.y, d.w, d.xs, d.at
    px = p * x
    log_xm_v = np.log(x * m + v)
    ll = (
        (gammaln(p * xs + q) - gammaln(p * xs) + p * xs * np.log(xs))[at] - gammaln(q)
        + q * np.log(v) + (px - 1.0) * np.log(m) - (px + q) * log_xm_v
    )  # fmt: skip
    psi = digamma(p * xs + q)
    d_p = x * ((psi - digamma(p * xs) + np.log(xs))[at] + np.log(m) - log_xm_v)
    d_q = psi[at] - digamma(q) + np.log(v) - log_xm_v
    d_v = q / v - (px + q) / (x * m + v)
    grad = _wsum(w, d_p, d_q, d_v) * np.exp(logp)
    return -float(_wsum(w, ll)[0]), -grad


class GammaGammaModel(BaseEstimator):
    """Gamma-Gamma model of the spend per purchase (Fader, Hardie & Lee 2005, "RFM and CLV").

    Each purchase value is Gamma(p, nu) with nu ~ Gamma(q, v) across customers; fitted on the
    customers with ``frequency > 0`` of an RFM summary (their ``monetary_value`` is the mean of x
    repeat purchases). The model assumes spend per purchase is independent of purchase frequency:
    ``frequency_monetary_corr_`` reports the Pearson correlation on the fitted customers and a
    :class:`ClvAssumptionWarning` is issued when its magnitude exceeds ``max_abs_corr``.

    Parameters
    ----------
    penalizer
        L2 penalty on (p, q, v / mean spend) added to the mean negative log-likelihood (0: exact
        maximum likelihood). v is penalised in units of the mean spend so that the penalty
        does not depend on the currency.
    max_iter
        Optimiser iterations before the fit is declared failed.
    max_abs_corr
        Correlation above which the independence assumption is flagged.

    Attributes
    ----------
    params_ : Series
        p, q, v.
    log_likelihood_ : float
    n_customers_ : int
        Customers fitted (those with a repeat purchase).
    frequency_monetary_corr_ : float
    standard_errors_ : Series
    """

    _names = ("p", "q", "v")

    def __init__(
        self, penalizer: float = 0.0, max_iter: int = 1000, max_abs_corr: float = 0.3
    ) -> None:
        self.penalizer = penalizer
        self.max_iter = max_iter
        self.max_abs_corr = max_abs_corr

    def fit(self, summary: pd.DataFrame, y: None = None) -> GammaGammaModel:
        """Fit on the repeat customers of an RFM summary (``frequency``, ``monetary_value``)."""
        if not (isinstance(self.penalizer, int | float) and 0 <= self.penalizer < math.inf):
            raise ValueError(f"penalizer must be a non-negative number, got {self.penalizer!r}")
        x, m = _spend(summary, "GammaGammaModel.fit")
        repeat = x > 0
        if not repeat.any():
            raise ValueError(
                "GammaGammaModel.fit: no customer has a repeat purchase (frequency > 0); the "
                "Gamma-Gamma model is fitted on repeat purchases only"
            )
        x, m = x[repeat], m[repeat]
        bad = ~np.isfinite(m) | (m <= 0)
        if bad.any():
            raise ValueError(
                "GammaGammaModel.fit: monetary_value must be positive for customers with "
                f"frequency > 0; missing, zero or negative in {_rows(bad)} of the repeat "
                "customers (returns netted to <= 0? drop or fix them first)"
            )
        if x.size < 2 or np.ptp(m) == 0:
            raise ValueError(
                f"GammaGammaModel.fit: {x.size} repeat customer(s) with "
                f"{'identical' if x.size > 1 else 'one'} mean spend cannot identify p, q, v"
            )
        corr = float(np.corrcoef(x, m)[0, 1]) if np.ptp(x) > 0 else float("nan")
        if abs(corr) > self.max_abs_corr:
            warnings.warn(
                f"frequency and monetary value of the repeat customers correlate ({corr:.2f}); "
                "the Gamma-Gamma model assumes they are independent, so expected values may be "
                "biased",
                ClvAssumptionWarning,
                stacklevel=2,
            )
        # spend in units of its mean: v is a money amount (millions in some currencies), and the
        # optimiser works on log-parameters within fixed bounds; v and the log-likelihood are
        # mapped back exactly (v = scale v', ln L = ln L' - n ln scale)
        scale = float(m.mean())
        rows = _Rows.of(x, m / scale)
        # start where the population mean spend p v / (q - 1) equals the observed mean
        fit = _maximise(
            lambda v: _gg_nll(v, rows),
            np.log([1.0, 3.0, 2.0]),
            n=float(x.size),
            penalizer=float(self.penalizer),
            max_iter=self.max_iter,
            names=self._names,
        )
        _require(fit, "Gamma-Gamma")
        params = np.exp(fit.internal) * np.array([1.0, 1.0, scale])
        fit = replace(fit, log_likelihood=fit.log_likelihood - x.size * math.log(scale))
        self.params_ = pd.Series(params, index=self._names, name="estimate")
        self.log_likelihood_ = fit.log_likelihood
        self.n_customers_ = int(x.size)
        self.frequency_monetary_corr_ = corr
        self._table_ = _summary_table(self._names, params, fit.se)
        self.standard_errors_ = self._table_["std_error"].rename("std_error")
        return self

    @property
    def summary(self) -> pd.DataFrame:
        """One row per parameter: estimate, standard error, 95% interval."""
        check_is_fitted(self, "params_")
        return self._table_.copy()

    def _repr_html_(self) -> str:
        if not hasattr(self, "params_"):
            return f"<pre>{self!r} (not fitted)</pre>"
        caption = (
            f"Gamma-Gamma, {self.n_customers_:,} repeat customers, log-likelihood "
            f"{self.log_likelihood_:.2f}, "
            f"corr(frequency, spend) {self.frequency_monetary_corr_:.2f}"
        )
        return f"<p>{caption}</p>" + self.summary.to_html(float_format="{:.4g}".format)

    def conditional_expected_value(self, summary: pd.DataFrame) -> pd.Series:
        """E[spend per purchase | x, z-bar] = p (v + x z-bar) / (p x + q - 1) per customer (same
        index as ``summary``); customers without a repeat purchase get the population mean
        p v / (q - 1)."""
        check_is_fitted(self, "params_")
        p, q, v = (float(c) for c in self.params_.to_numpy())
        if q <= 1:
            raise ValueError(
                f"the fitted q = {q:.3g} <= 1: the mean spend per purchase is infinite under this "
                "Gamma-Gamma fit (heavy-tailed spend); cap extreme values or add a penalizer"
            )
        x, m = _spend(summary, "conditional_expected_value")
        repeat = x > 0
        bad = repeat & (~np.isfinite(m) | (m <= 0))
        if bad.any():
            raise ValueError(
                "conditional_expected_value: monetary_value must be positive for customers with "
                f"frequency > 0; missing, zero or negative in {_rows(bad)}"
            )
        xm = np.where(repeat, x * np.where(repeat, m, 0.0), 0.0)
        values = p * (v + xm) / (p * x + q - 1.0)
        return pd.Series(values, index=summary.index, name="expected_value")
