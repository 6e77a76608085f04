"""Cart abandonment and cross-session cart recovery.

A **cart** is a customer-session with at least one cart event; it is **abandoned** when that
session has no purchase, and an abandoned cart is **recovered** when the customer buys in another
session within ``recovery_days`` (the full rules are in :func:`cart_abandonment`). The headline
``abandonment_rate`` is lost carts / carts. Event-level work runs as SQL in the engine; one
summary row, or one row per channel, comes back.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from journeylib.engine import Engine, as_engine, query_customer_sums
from journeylib.sql import identifier, non_negative_days, require_columns

__all__ = ["cart_abandonment", "cart_recovery_channels"]

_CART_COLUMNS = ("customer_id", "ts", "event", "session_id")


def _cart_sql(table: str, *, channels: bool = False) -> str:
    """CTEs ``sess``, ``abandoned`` and ``rec`` (one row per recovered cart); with ``channels``
    also ``recovered`` (recovered cart + the channel that started the recovering session)."""
    sql = f"""
    WITH sess AS (
        SELECT customer_id, session_id,
               SUM(CASE WHEN event = $cart THEN 1 ELSE 0 END) AS n_cart,
               MAX(CASE WHEN event = $cart THEN ts END) AS cart_ts,
               SUM(CASE WHEN event = $purchase THEN 1 ELSE 0 END) AS n_purchase
        FROM "{table}"
        WHERE event IN ($cart, $purchase) AND customer_id IS NOT NULL
          AND session_id IS NOT NULL AND ts IS NOT NULL
        GROUP BY customer_id, session_id),
    abandoned AS (
        SELECT customer_id, session_id, cart_ts FROM sess WHERE n_cart > 0 AND n_purchase = 0),
    rec AS (
        SELECT a.customer_id, a.session_id, a.cart_ts, MIN(p.ts) AS recovered_at
        FROM abandoned a JOIN "{table}" p
          ON p.customer_id = a.customer_id AND p.event = $purchase
         AND p.session_id <> a.session_id AND p.ts > a.cart_ts AND p.ts <= a.cart_ts + $recovery
        GROUP BY a.customer_id, a.session_id, a.cart_ts)"""
    if not channels:
        return sql
    return (
        sql
        + f""",
    rec_session AS (
        SELECT r.customer_id, r.session_id, MIN(p.session_id) AS purchase_session
        FROM rec r JOIN "{table}" p
          ON p.customer_id = r.customer_id AND p.event = $purchase AND p.ts = r.recovered_at
         AND p.session_id <> r.session_id
        GROUP BY r.customer_id, r.session_id),
    session_start AS (
        SELECT e.customer_id, e.session_id, MIN(e.ts) AS start_ts
        FROM "{table}" e JOIN rec_session s
          ON e.customer_id = s.customer_id AND e.session_id = s.purchase_session
        GROUP BY e.customer_id, e.session_id),
    session_channel AS (
        SELECT e.customer_id, e.session_id, MIN(e.channel) AS channel
        FROM "{table}" e JOIN session_start s
          ON e.customer_id = s.customer_id AND e.session_id = s.session_id AND e.ts = s.start_ts
        GROUP BY e.customer_id, e.session_id),
    recovered AS (
        SELECT s.customer_id, s.session_id, c.channel
        FROM rec_session s LEFT JOIN session_channel c
          ON c.customer_id = s.customer_id AND c.session_id = s.purchase_session)"""
    )


def _cart_params(cart_event: str, purchase_event: str, recovery_days: float) -> dict[str, Any]:
    for name, value in (("cart_event", cart_event), ("purchase_event", purchase_event)):
        if not isinstance(value, str) or not value:
            raise ValueError(f"{name} must be a non-empty event name, got {value!r}")
    if cart_event == purchase_event:
        raise ValueError("cart_event and purchase_event must differ")
    return {
        "cart": cart_event,
        "purchase": purchase_event,
        "recovery": dt.timedelta(days=non_negative_days(recovery_days, "recovery_days")),
    }


def cart_abandonment(
    events: Engine | pd.DataFrame,
    *,
    cart_event: str = "add_to_cart",
    purchase_event: str = "purchase",
    recovery_days: float = 7.0,
    table: str = "events",
) -> pd.DataFrame:
    """Cart abandonment with cross-session recovery.

    * A **cart** is a customer-session (customer_id x session_id) with at least one
      ``cart_event``: the denominator of every rate.
    * It is **abandoned** when that session has no ``purchase_event`` (anywhere in it).
    * An abandoned cart is **recovered** when the same customer does ``purchase_event`` in a
      *different* session strictly after the session's last cart event and at most
      ``recovery_days`` after it; otherwise it is **lost**. Lost carts whose recovery period
      runs past the last event in ``table`` are also counted as ``censored`` (they may still be
      recovered after the data ends).

    Returns
    -------
    pandas.DataFrame
        One row: carts, purchased_in_session, abandoned, recovered, lost, censored,
        in_session_abandonment_rate (abandoned / carts), recovery_rate (recovered / abandoned),
        abandonment_rate (lost / carts: the headline KPI), recovery_days.
    """
    params = _cart_params(cart_event, purchase_event, recovery_days)
    table = identifier(table, "table")
    engine = as_engine(events, table)
    require_columns(engine, table, _CART_COLUMNS, timestamp="ts")
    # the end of the data is everyone's: read first, so that the counts, each one customer's,
    # add up over passes of customers (above 30M events)
    data_end = engine.scalar(f'SELECT MAX(ts) FROM "{table}"')
    if data_end is not None and not pd.isna(data_end):
        params["data_end"] = data_end
    end = "$data_end" if "data_end" in params else "NULL"
    row = (
        query_customer_sums(
            engine,
            _cart_sql(table)
            + f"""
        SELECT (SELECT COUNT(*) FROM sess WHERE n_cart > 0) AS carts,
               (SELECT COUNT(*) FROM abandoned) AS abandoned,
               (SELECT COUNT(*) FROM rec) AS recovered,
               (SELECT COUNT(*) FROM abandoned a
                 WHERE a.cart_ts + $recovery > {end}
                   AND NOT EXISTS (SELECT 1 FROM rec r WHERE r.customer_id = a.customer_id
                                   AND r.session_id = a.session_id)) AS censored""",
            params=params,
            table=table,
        )
        .fillna(0)
        .iloc[0]
    )
    carts, abandoned, recovered = int(row["carts"]), int(row["abandoned"]), int(row["recovered"])
    lost = abandoned - recovered
    return pd.DataFrame(
        {
            "carts": [carts],
            "purchased_in_session": [carts - abandoned],
            "abandoned": [abandoned],
            "recovered": [recovered],
            "lost": [lost],
            "censored": [int(row["censored"])],
            "in_session_abandonment_rate": [abandoned / carts if carts else np.nan],
            "recovery_rate": [recovered / abandoned if abandoned else np.nan],
            "abandonment_rate": [lost / carts if carts else np.nan],
            "recovery_days": [float(recovery_days)],
        }
    )


def cart_recovery_channels(
    events: Engine | pd.DataFrame,
    *,
    cart_event: str = "add_to_cart",
    purchase_event: str = "purchase",
    recovery_days: float = 7.0,
    table: str = "events",
) -> pd.DataFrame:
    """Which channel brought recovered carts back (definitions as in :func:`cart_abandonment`).

    The channel of a recovery is the channel of the first event of the session in which the
    recovering purchase happened (ties: the alphabetically first channel).

    Returns
    -------
    pandas.DataFrame
        One row per channel, most recovered carts first: channel, recovered_carts, customers
        (distinct), share (of all recovered carts).
    """
    params = _cart_params(cart_event, purchase_event, recovery_days)
    table = identifier(table, "table")
    engine = as_engine(events, table)
    require_columns(engine, table, (*_CART_COLUMNS, "channel"), timestamp="ts")
    out = query_customer_sums(
        engine,
        _cart_sql(table, channels=True)
        + """
        SELECT channel, COUNT(*) AS recovered_carts, COUNT(DISTINCT customer_id) AS customers
        FROM recovered GROUP BY channel""",
        keys=["channel"],
        params=params,
        table=table,
    )
    total = out["recovered_carts"].sum()
    out["share"] = out["recovered_carts"] / total if total else np.nan
    out = out.sort_values(
        ["recovered_carts", "channel"], ascending=[False, True], ignore_index=True
    )
    return out.astype({"recovered_carts": "int64", "customers": "int64", "share": "float64"})
