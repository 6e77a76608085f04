"""The headline KPIs, each defined once, with its numerator and denominator.

Every KPI is a :class:`KPI` record: the value, what was counted above and below the line, and a
sentence saying so. The report (and any notebook) shows these records instead of recomputing a
rate, so "conversion rate" means the same thing on every page. The computations themselves live
in the analysis modules; this module only chooses the definition.

=========================  ====================================================================
KPI                        definition
=========================  ====================================================================
``conversion_rate``        customers with at least one order / customers with any activity
                           (event or order), up to ``as_of``
``retention_rate``         buyers who ordered again within ``retention_days`` of their first
                           order / buyers whose first order is at least that long before
                           ``as_of`` (later buyers are not yet observable)
``repeat_purchase_rate``   buyers with two or more orders / buyers, up to ``as_of``
``time_to_convert``        median days from a customer's first event to their first conversion
                           event, over converting customers
``abandonment_rate``       carts not bought in their session nor recovered within
                           ``recovery_days`` / carts (customer-sessions with a cart event)
=========================  ====================================================================
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass

import pandas as pd

from journeylib.config import Config, ReportSpec
from journeylib.engine import Engine
from journeylib.sql import end_of_day


@dataclass(frozen=True)
class KPI:
    """One headline number with its denominator and definition."""

    key: str
    label: str
    value: float
    numerator: float | None
    denominator: float | None
    unit: str  # "share" or "days"
    definition: str

    def to_dict(self) -> dict:
        return asdict(self)


def _float(value: object) -> float:
    """A plain float; missing values (NA, None) become NaN."""
    return float("nan") if value is None or pd.isna(value) else float(value)


def _ratio(num: float, den: float) -> float:
    return float(num) / float(den) if den else float("nan")


def conversion_rate(engine: Engine, *, as_of: dt.date | str | None = None) -> KPI:
    """Customers with at least one order / customers with any activity, up to ``as_of``."""
    cutoff = end_of_day(as_of)
    row = engine.query(
        f"""
        WITH active AS (
            SELECT customer_id FROM events WHERE ts < {cutoff}
            UNION SELECT customer_id FROM orders WHERE ts < {cutoff}
        ),
        buyers AS (SELECT DISTINCT customer_id FROM orders WHERE ts < {cutoff})
        SELECT (SELECT COUNT(*) FROM active) AS active, (SELECT COUNT(*) FROM buyers) AS buyers
        """
    ).iloc[0]
    return KPI(
        "conversion_rate",
        "Conversion rate",
        _ratio(row["buyers"], row["active"]),
        int(row["buyers"]),
        int(row["active"]),
        "share",
        "customers with at least one order / customers with any activity (visit or order)",
    )


def retention_rate(
    engine: Engine, *, days: int = 90, as_of: dt.date | str | None = None, timezone: str = "UTC"
) -> KPI:
    """Buyers who ordered again within ``days`` of their first order (observable buyers only)."""
    from journeylib.retention import repeat_purchase_rate

    r = repeat_purchase_rate(engine, within_days=days, as_of=as_of, timezone=timezone).iloc[0]
    return KPI(
        f"retention_rate_{days}d",
        f"{days}-day retention",
        _float(r["rate"]),
        int(r["repeat_buyers"]),
        int(r["buyers"]),
        "share",
        f"buyers who ordered again within {days} days of their first order / buyers whose first "
        f"order is at least {days} days old",
    )


def repeat_purchase_rate(
    engine: Engine, *, as_of: dt.date | str | None = None, timezone: str = "UTC"
) -> KPI:
    """Buyers with two or more orders / buyers, up to ``as_of``."""
    from journeylib.retention import repeat_purchase_rate as _rpr

    r = _rpr(engine, as_of=as_of, timezone=timezone).iloc[0]
    return KPI(
        "repeat_purchase_rate",
        "Repeat purchase rate",
        _float(r["rate"]),
        int(r["repeat_buyers"]),
        int(r["buyers"]),
        "share",
        "buyers with two or more orders / all buyers",
    )


def time_to_convert(engine: Engine, *, conversion_event: str = "purchase") -> KPI:
    """Median days from first event to first conversion event, over converting customers."""
    from journeylib.timelag import conversion_lags

    lags = conversion_lags(engine, conversion_event=conversion_event)
    days = lags["lag_days"] if len(lags) else pd.Series(dtype="float64")
    return KPI(
        "time_to_convert",
        "Time to convert (median)",
        float(days.median()) if len(days) else float("nan"),
        None,
        int(len(days)),
        "days",
        f"median days from a customer's first visit to their first '{conversion_event}', over "
        "converting customers",
    )


def abandonment_rate(
    engine: Engine,
    *,
    cart_event: str = "add_to_cart",
    purchase_event: str = "purchase",
    recovery_days: float = 7,
) -> KPI:
    """Carts neither bought in-session nor recovered within ``recovery_days`` / carts."""
    from journeylib.carts import cart_abandonment

    c = cart_abandonment(
        engine, cart_event=cart_event, purchase_event=purchase_event, recovery_days=recovery_days
    ).iloc[0]
    return KPI(
        "abandonment_rate",
        "Cart abandonment rate",
        _float(c["abandonment_rate"]),
        int(c["lost"]),
        int(c["carts"]),
        "share",
        f"carts not bought in their session nor recovered within {recovery_days:g} days / carts",
    )


def headline_kpis(
    engine: Engine, config: Config, *, as_of: dt.date | str | None = None
) -> pd.DataFrame:
    """Every headline KPI for a client: one row per KPI (see the module table)."""
    j = config.journey
    tz = config.data.timezone
    records = [
        conversion_rate(engine, as_of=as_of),
        retention_rate(engine, days=90, as_of=as_of, timezone=tz),
        repeat_purchase_rate(engine, as_of=as_of, timezone=tz),
        time_to_convert(engine, conversion_event=j.conversion_event),
        abandonment_rate(
            engine,
            cart_event=j.cart_event,
            purchase_event=j.conversion_event,
            recovery_days=j.recovery_days,
        ),
    ]
    return pd.DataFrame([k.to_dict() for k in records])


def formatted(kpis: pd.DataFrame, report: ReportSpec | None = None) -> pd.DataFrame:
    """A display copy of :func:`headline_kpis`: value per unit and its base in words."""
    from journeylib.display import fmt_number, fmt_pct

    rows = []
    for k in kpis.itertuples():
        if k.unit == "share":
            value = fmt_pct(k.value, report)
            base = f"{fmt_number(k.numerator, report)} of {fmt_number(k.denominator, report)}"
        else:
            value = f"{fmt_number(k.value, report, decimals=1)} {k.unit}"
            base = f"{fmt_number(k.denominator, report)} customers"
        rows.append({"kpi": k.label, "value": value, "based_on": base, "definition": k.definition})
    return pd.DataFrame(rows)
