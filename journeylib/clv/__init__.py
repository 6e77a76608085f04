"""Customer lifetime value for non-contractual purchases: BG/NBD, Gamma-Gamma and CLV.

In a shop nobody cancels: a customer who stops buying just goes quiet. The BG/NBD model
(Fader, Hardie & Lee 2005, "Counting your customers the easy way") reads each customer's purchase
history as three numbers and separates *how often* someone buys while active from *whether* they
are still active; the Gamma-Gamma model (Fader, Hardie & Lee 2005, "RFM and CLV") adds how much
they spend per purchase. Together they give, per customer, the probability of being alive, the
expected purchases over a horizon, the expected value per purchase and the (discounted) customer
lifetime value.

* :mod:`~journeylib.clv.summary`: :func:`rfm_summary` turns order lines into the model's input,
  one row per customer: ``frequency`` (x: repeat purchase days), ``recency`` (t_x) and ``T`` in
  days or weeks, and ``monetary_value`` (mean value of the repeat purchase days), in one SQL pass
  over ``orders``; and the checks every model runs on a summary it is given.
* :mod:`~journeylib.clv.bgnbd` and :mod:`~journeylib.clv.gammagamma`: :class:`BetaGeoModel` and
  :class:`GammaGammaModel`, scikit-learn style estimators, exact maximum likelihood with scipy
  (log-parameters, analytic gradients, log-space likelihoods; Hessian-based standard errors).
* :mod:`~journeylib.clv.fitting`: the maximum-likelihood machinery both share. A failed
  optimisation is an error (:class:`ClvFitError`), never a silent answer; a doubtful modelling
  assumption is a :class:`ClvAssumptionWarning`.
* :mod:`~journeylib.clv.value`: :func:`customer_lifetime_value`, expected purchases per discount
  period x expected value per purchase, discounted period by period.

Two properties to keep in mind when reading the results: in the BG/NBD a customer can only drop
out right after a repeat purchase, so one-time buyers have P(alive) = 1; and when the data show
no spread in the dropout probability (or no dropout at all) the maximum lies at a boundary of
the parameter space, which :class:`BetaGeoModel` then estimates exactly (``limit_``).

Both models reproduce the published CDNOW estimates (``tests/test_clv.py``). The maintained
libraries were considered first: ``lifetimes`` is archived (and listed under "avoid" in the house
style), ``btyd`` does not resolve against our pins (it needs ``psutil<6``), and
``pymc-marketing`` pulls in pymc, pytensor, numba and arviz, far from a light dependency.

Typical use::

    summary = rfm_summary(engine, as_of="2025-06-30", unit="W")
    bgnbd = BetaGeoModel().fit(summary)
    gg = GammaGammaModel().fit(summary)
    customer_lifetime_value(bgnbd, gg, summary, horizon=12, unit="M")
"""

# The ``_name as _name`` imports re-export private helpers that tests/test_clv.py reaches as
# ``clv._name``; they are not part of the public API (``__all__``).
from journeylib.clv.bgnbd import _NODES as _NODES
from journeylib.clv.bgnbd import BetaGeoModel
from journeylib.clv.bgnbd import _beta_nodes as _beta_nodes
from journeylib.clv.bgnbd import _bgnbd_nll as _bgnbd_nll
from journeylib.clv.bgnbd import _conditional as _conditional
from journeylib.clv.bgnbd import _limit_nll as _limit_nll
from journeylib.clv.bgnbd import _log_alive as _log_alive
from journeylib.clv.fitting import ClvAssumptionWarning, ClvFitError
from journeylib.clv.fitting import _Rows as _Rows
from journeylib.clv.gammagamma import GammaGammaModel
from journeylib.clv.gammagamma import _gg_nll as _gg_nll
from journeylib.clv.summary import SUMMARY_UNITS, rfm_summary
from journeylib.clv.value import PERIOD_DAYS, customer_lifetime_value

__all__ = [
    "PERIOD_DAYS",
    "SUMMARY_UNITS",
    "BetaGeoModel",
    "ClvAssumptionWarning",
    "ClvFitError",
    "GammaGammaModel",
    "customer_lifetime_value",
    "rfm_summary",
]
