"""Customer lifetime value from a fitted BG/NBD and Gamma-Gamma pair.

:func:`customer_lifetime_value`: expected purchases per discount period x expected value per
purchase, discounted period by period.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted

from journeylib.clv.bgnbd import _conditional, _log_alive
from journeylib.clv.fitting import _Rows
from journeylib.clv.summary import SUMMARY_UNITS, _rfm
from journeylib.sql import check_choice

if TYPE_CHECKING:
    from journeylib.clv.bgnbd import BetaGeoModel
    from journeylib.clv.gammagamma import GammaGammaModel

#: Discount periods of :func:`customer_lifetime_value` in days ("M" is 30 days, as in lifetimes).
PERIOD_DAYS: dict[str, float] = {"D": 1.0, "W": 7.0, "M": 30.0}


def customer_lifetime_value(
    bgnbd: BetaGeoModel,
    gg: GammaGammaModel,
    summary: pd.DataFrame,
    *,
    horizon: int,
    unit: str = "M",
    discount_rate_per_period: float = 0.0,
    summary_unit: str | None = None,
) -> pd.DataFrame:
    """Expected purchases, value per purchase and discounted lifetime value over a horizon.

    Grain: one row per row of ``summary`` (same index). The horizon is cut into ``horizon``
    periods of one ``unit`` each; a customer's value is

        CLV = E[value per purchase] x sum_{i=1..horizon} (E[Y(t_i)] - E[Y(t_{i-1})]) / (1+d)^i

    with E[Y(t)] the BG/NBD conditional expected purchases by time t (period i's purchases are
    discounted at its end, as in lifetimes' ``customer_lifetime_value``) and d the
    ``discount_rate_per_period``. With d = 0 it is expected purchases x expected value.

    Parameters
    ----------
    bgnbd, gg
        Fitted models (on a summary in the same time unit as ``summary``).
    summary
        RFM summary (:func:`rfm_summary`), with ``monetary_value``.
    horizon
        Number of discount periods (a positive whole number).
    unit
        Discount period: ``"D"`` (day), ``"W"`` (7 days) or ``"M"`` (30 days, as lifetimes).
    discount_rate_per_period
        Discount rate per period, e.g. 0.01 a month (about 12.7% a year).
    summary_unit
        Time unit of the summary (``"D"``/``"W"``) when neither ``summary.attrs["unit"]`` (set by
        :func:`rfm_summary`) nor the BG/NBD model knows it.

    Returns
    -------
    DataFrame
        ``[customer_id,] probability_alive, expected_purchases, expected_value, clv``.
    """
    check_is_fitted(bgnbd, "params_")
    check_is_fitted(gg, "params_")
    check_choice("unit", unit, tuple(PERIOD_DAYS))
    if isinstance(horizon, bool) or not isinstance(horizon, int | np.integer) or horizon < 1:
        raise ValueError(f"horizon must be a positive whole number of periods, got {horizon!r}")
    d = discount_rate_per_period
    if not isinstance(d, int | float) or not 0 <= d < math.inf:
        raise ValueError(f"discount_rate_per_period must be a number >= 0, got {d!r}")
    known = {
        "summary_unit": summary_unit,
        "summary.attrs['unit']": summary.attrs.get("unit")
        if isinstance(summary, pd.DataFrame)
        else None,
        "the BG/NBD fit": getattr(bgnbd, "unit_", None),
    }
    units = {k: u for k, u in known.items() if u is not None}
    if not units:
        raise ValueError(
            "the time unit of the summary is unknown: pass summary_unit='W' or 'D' (summaries "
            "from rfm_summary() carry it)"
        )
    if len(set(units.values())) > 1:
        raise ValueError(f"the summary's time unit is inconsistent: {units}")
    s_unit = next(iter(units.values()))
    check_choice("summary_unit", s_unit, tuple(SUMMARY_UNITS))
    x, tx, T = _rfm(summary, "customer_lifetime_value")
    step = PERIOD_DAYS[unit] / SUMMARY_UNITS[s_unit]
    value = gg.conditional_expected_value(summary).to_numpy()
    params = bgnbd._p()
    # purchases depend on (x, t_x, T) only: evaluate each distinct triple once
    rows = _Rows.of(x, tx, T)
    codes = rows.codes
    previous = np.zeros_like(rows.x)
    discounted = np.zeros_like(rows.x)
    for i in range(1, int(horizon) + 1):
        current = _conditional(params, np.float64(i * step), rows.x, rows.y, rows.T)
        discounted += (current - previous) / (1.0 + d) ** i
        previous = current
    out = pd.DataFrame(
        {
            "probability_alive": np.exp(_log_alive(params, x, tx, T)),
            "expected_purchases": previous[codes],
            "expected_value": value,
            "clv": value * discounted[codes],
        },
        index=summary.index,
    )
    if "customer_id" in summary.columns:
        out.insert(0, "customer_id", summary["customer_id"])
    return out
