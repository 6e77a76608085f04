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
import re
from dataclasses import asdict, dataclass

import pandas as pd

from journeylib.config import Config, ReportSpec
from journeylib.engine import Engine, query_customer_sums
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


#: Names and definitions of the KPIs in each report language, by kind (the key without its
#: parameter: ``retention_rate_90d`` is of kind ``retention_rate``). The records are written in
#: English; :func:`formatted` shows them in the report language.
_TEXT: dict[str, dict[str, tuple[str, str]]] = {
    "en": {
        "conversion_rate": (
            "Conversion rate",
            "customers with at least one order / customers with any activity (visit or order)",
        ),
        "retention_rate": (
            "{days}-day retention",
            "buyers who ordered again within {days} days of their first order / buyers whose "
            "first order is at least {days} days old",
        ),
        "repeat_purchase_rate": (
            "Repeat purchase rate",
            "buyers with two or more orders / all buyers",
        ),
        "time_to_convert": (
            "Time to convert (median)",
            "median days from a customer's first visit to their first '{event}', over "
            "converting customers",
        ),
        "abandonment_rate": (
            "Cart abandonment rate",
            "carts not bought in their session nor recovered within {days} days / carts",
        ),
    },
    "id": {
        "conversion_rate": (
            "Tingkat konversi",
            "pelanggan dengan sedikitnya satu pesanan / pelanggan dengan aktivitas apa pun "
            "(kunjungan atau pesanan)",
        ),
        "retention_rate": (
            "Retensi {days} hari",
            "pembeli yang memesan lagi dalam {days} hari setelah pesanan pertamanya / pembeli "
            "yang pesanan pertamanya sudah berumur sedikitnya {days} hari",
        ),
        "repeat_purchase_rate": (
            "Tingkat pembelian ulang",
            "pembeli dengan dua pesanan atau lebih / semua pembeli",
        ),
        "time_to_convert": (
            "Waktu hingga konversi (median)",
            "median jumlah hari dari kunjungan pertama pelanggan hingga '{event}' pertamanya, "
            "pada pelanggan yang berkonversi",
        ),
        "abandonment_rate": (
            "Tingkat keranjang ditinggalkan",
            "keranjang yang tidak dibeli dalam sesinya dan tidak dipulihkan dalam {days} hari / "
            "keranjang",
        ),
    },
}

#: Units of the KPI values (``unit`` column) in each report language.
_UNITS: dict[str, dict[str, str]] = {"en": {"days": "days"}, "id": {"days": "hari"}}
_BASE: dict[str, dict[str, str]] = {
    "en": {"of": "{n} of {d}", "customers": "{d} customers"},
    "id": {"of": "{n} dari {d}", "customers": "{d} pelanggan"},
}


def _text(kind: str, language: str = "en", **params: object) -> tuple[str, str]:
    """The (label, definition) of a KPI kind in ``language``, parameters filled in."""
    label, definition = _TEXT.get(language, _TEXT["en"])[kind]
    return label.format(**params), definition.format(**params)


def _kind(key: str) -> str | None:
    if key in _TEXT["en"]:
        return key
    m = re.fullmatch(r"(retention_rate)_\d+d", str(key))
    return m.group(1) if m else None


def _template_regex(template: str) -> re.Pattern[str]:
    """A regex matching text written from ``template``; each ``{name}`` is a group (a name
    used twice must match the same text twice)."""
    parts, seen = re.split(r"\{(\w+)\}", template), set()
    pattern = []
    for i, part in enumerate(parts):
        if i % 2 == 0:
            pattern.append(re.escape(part))
        elif part in seen:
            pattern.append(f"(?P={part})")
        else:
            seen.add(part)
            pattern.append(f"(?P<{part}>.+?)")
    return re.compile("".join(pattern))


def translated(label: str, definition: str, key: str, language: str) -> tuple[str, str]:
    """A KPI record's English ``label`` and ``definition`` in ``language``.

    The parameters (days, event) are read back from the English definition; a KPI this module
    does not define, or a definition it did not write, is returned unchanged.

    >>> translated("90-day retention", "buyers who ordered again within 90 days of their first "
    ...     "order / buyers whose first order is at least 90 days old", "retention_rate_90d",
    ...     "id")[0]
    'Retensi 90 hari'
    """
    kind = _kind(key)
    if language == "en" or language not in _TEXT or kind is None:
        return label, definition
    m = _template_regex(_TEXT["en"][kind][1]).fullmatch(str(definition))
    if m is None:
        return label, definition
    return _text(kind, language, **m.groupdict())


def _float(value: object) -> float:
    """A plain float; missing values (NA, None) become NaN."""
    return float("nan") if value is None or pd.isna(value) else float(value)


def _ratio(num: float, den: float) -> float:
    return float(num) / float(den) if den else float("nan")


def conversion_rate(engine: Engine, *, as_of: dt.date | str | None = None) -> KPI:
    """Customers with at least one order / customers with any activity, up to ``as_of``."""
    cutoff = end_of_day(as_of)
    # distinct customers add up over ranges of customers: in passes above 30M events
    row = (
        query_customer_sums(
            engine,
            f"""
        WITH active AS (
            SELECT customer_id FROM events WHERE ts < {cutoff}
            UNION SELECT customer_id FROM orders WHERE ts < {cutoff}
        ),
        buyers AS (SELECT DISTINCT customer_id FROM orders WHERE ts < {cutoff})
        SELECT (SELECT COUNT(*) FROM active) AS active, (SELECT COUNT(*) FROM buyers) AS buyers
        """,
            also=["orders"],
        )
        .fillna(0)
        .iloc[0]
    )
    return KPI(
        "conversion_rate",
        _text("conversion_rate")[0],
        _ratio(row["buyers"], row["active"]),
        int(row["buyers"]),
        int(row["active"]),
        "share",
        _text("conversion_rate")[1],
    )


def retention_rate(
    engine: Engine, *, days: int = 90, as_of: dt.date | str | None = None, timezone: str = "UTC"
) -> KPI:
    """Buyers who ordered again within ``days`` of their first order (observable buyers only)."""
    from journeylib.retention import repeat_purchase_rate

    r = repeat_purchase_rate(engine, within_days=days, as_of=as_of, timezone=timezone).iloc[0]
    return KPI(
        f"retention_rate_{days}d",
        _text("retention_rate", days=days)[0],
        _float(r["rate"]),
        int(r["repeat_buyers"]),
        int(r["buyers"]),
        "share",
        _text("retention_rate", days=days)[1],
    )


def repeat_purchase_rate(
    engine: Engine, *, as_of: dt.date | str | None = None, timezone: str = "UTC"
) -> KPI:
    """Buyers with two or more orders / buyers, up to ``as_of``."""
    from journeylib.retention import repeat_purchase_rate as _rpr

    r = _rpr(engine, as_of=as_of, timezone=timezone).iloc[0]
    return KPI(
        "repeat_purchase_rate",
        _text("repeat_purchase_rate")[0],
        _float(r["rate"]),
        int(r["repeat_buyers"]),
        int(r["buyers"]),
        "share",
        _text("repeat_purchase_rate")[1],
    )


def time_to_convert(engine: Engine, *, conversion_event: str = "purchase") -> KPI:
    """Median days from first event to first conversion event, over converting customers."""
    from journeylib.timelag import conversion_lags

    lags = conversion_lags(engine, conversion_event=conversion_event)
    days = lags["lag_days"] if len(lags) else pd.Series(dtype="float64")
    return KPI(
        "time_to_convert",
        _text("time_to_convert", event=conversion_event)[0],
        float(days.median()) if len(days) else float("nan"),
        None,
        int(len(days)),
        "days",
        _text("time_to_convert", event=conversion_event)[1],
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
        _text("abandonment_rate", days=f"{recovery_days:g}")[0],
        _float(c["abandonment_rate"]),
        int(c["lost"]),
        int(c["carts"]),
        "share",
        _text("abandonment_rate", days=f"{recovery_days:g}")[1],
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
    """A display copy of :func:`headline_kpis`: value per unit and its base in words, with the
    KPI names and definitions in the report language (``report.language``).

    Grain: one row per KPI; columns kpi, value, based_on, definition (all text).
    """
    from journeylib.display import fmt_number, fmt_pct

    language = report.language if report is not None else "en"
    units, base_text = _UNITS.get(language, _UNITS["en"]), _BASE.get(language, _BASE["en"])
    rows = []
    for k in kpis.itertuples():
        if k.unit == "share":
            value = fmt_pct(k.value, report)
            base = base_text["of"].format(
                n=fmt_number(k.numerator, report), d=fmt_number(k.denominator, report)
            )
        else:
            value = f"{fmt_number(k.value, report, decimals=1)} {units.get(k.unit, k.unit)}"
            base = base_text["customers"].format(d=fmt_number(k.denominator, report))
        label, definition = translated(k.label, k.definition, k.key, language)
        rows.append({"kpi": label, "value": value, "based_on": base, "definition": definition})
    return pd.DataFrame(rows)
