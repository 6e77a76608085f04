"""Deterministic synthetic customer journeys with known truth (demo data and test oracle).

Indonesian e-commerce: IDR prices, eight provinces, Tokopedia/Shopee traffic, WhatsApp commerce,
~70% mobile sessions, timestamps in naive Asia/Jakarta local time. ::

    from journeylib.synth import SynthConfig, generate, write_raw
    data = generate(SynthConfig(n_customers=300, seed=42))
    write_raw(data, "data/sample/demo")  # raw export CSVs + _truth/ + README.md

:func:`iter_chunks` yields the same kind of data per chunk of customers (own random stream per
chunk) for streaming large volumes. Equal configurations give byte-identical files.

Planted effects (all recorded in ``_truth/effects.json``; log-odds unless stated; the numbers live
in :mod:`journeylib.synth.params`):

1. **Personas** (weight): mobile_bargain_hunter (0.30), loyal_premium_desktop (0.15),
   marketplace_casual (0.22), social_young_browser (0.23), b2b_reseller_bulk (0.10), each with its
   own channel mix (e.g. marketplace 40% for marketplace_casual, whatsapp 30% for b2b, social +
   paid_social 60% for social_young_browser), device mix (mobile 30-92%), mean gap between
   sessions (6-20 days), base session purchase log-odds (-5.7 to -3.9), basket size (0.15-1.5
   extra lines; resellers buy 3-24 units a line), category preferences, price elasticity
   (-0.6 premium to 1.2 bargain) and satisfaction mean (-0.2 to 0.7, sd 0.8).
2. **Stages**: awareness -> consideration -> decision (purchase) -> retention (repeat purchase,
   +0.6 + 0.3 x satisfaction after a first purchase) -> advocacy (review, refer_friend, NPS >= 9).
   Non-buying sessions add a cart with probability 2.2 p / (1 - p), p the session purchase
   probability, so ~67% of carts are abandoned; 45% of abandoned carts trigger a retargeting
   return session via email/whatsapp within ~1.5 days with +1.5 log-odds, buying the same SKU.
   Realised: ~3.4% of web sessions and ~15% of customers buy.
3. **Channels**: closing effects on the session they bring: whatsapp +1.0, email +0.9,
   paid_search +0.7, direct +0.5, affiliate +0.4, referral +0.3, marketplace +0.2,
   offline_store +1.5, organic_search 0 (reference), paid_social -0.4, social -0.6, display
   -0.8. Assisting effects add to a consideration stock used by *later* sessions (decay 0.8 per
   session, cap 1.0): paid_social +0.40, display +0.35, social +0.25, referral +0.10.
4. **Devices**: desktop +0.45, tablet +0.2 vs mobile.
5. **Catalogue**: 96 SKUs in 8 categories; 10 co-purchase groups (e.g. smartphone + case +
   screen protector, shampoo + conditioner, diapers + baby wipes): each partner joins the order
   with probability 0.55, a left-out partner joins the next order with probability 0.3.
6. **Churn**: per-session hazard, persona base (-3.1 to -2.2) + delivery_late 3.0 +
   payment_error 2.5 + return_request 2.0 + checkout_error 1.5 - 0.6 x satisfaction - 0.6 if the
   session bought; after the churn time the customer has no events, orders or feedback. Late
   delivery probability by region (5% DKI Jakarta to 16% Sulawesi Selatan); returns by category
   (12% fashion). The truth names the cause (strongest friction in the last session, else
   low_satisfaction below -0.5, else baseline).
7. **Incident**: 10 days centred in the period, device mobile: 85% of sessions reaching
   begin_checkout hit 1-3 begin_checkout -> checkout_error loops and only 10% of would-be
   purchases complete (baseline checkout_error rate 0.5%).
8. **Feedback**: NPS after 35% of purchases (60% after friction) = 7.8 + 1.5 x satisfaction -
   3.2 late - 2.2 payment_error - 1.5 return (+ N(0, 1.2)); CSAT after contact_support; reviews
   in the next session after ~20-40% of purchases; social posts after 8% of friction sessions.
   Comment topics follow the score and the friction ("late delivery" / "pengiriman terlambat",
   "payment failed" / "pembayaran gagal"); ~1% of comments carry the customer's e-mail or phone.

Noise for the loader: ~0.5% exact duplicate web event rows, ~2.5% anonymous visitor ids, one
visitor id per device (cross-device customers), messy raw channel/device labels from the schema's
alias tables plus ~0.3% unknown channel labels (``tiktok_live_test``, ``kol_campaign_q2``) and
~0.2% unknown device labels (``Smart TV``). Offline-store visits create orders (order ids
``POS-...``) without web events; web orders (``ORD-...``) match a ``purchase`` event to the second
with ``value`` = order total.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd

from journeylib.synth import params as P
from journeylib.synth.catalog import CO_PURCHASE_GROUPS, build_catalog
from journeylib.synth.config import SynthConfig, SynthData
from journeylib.synth.frames import build_frames
from journeylib.synth.labels import EVENTS, UNKNOWN_CHANNEL_LABELS, UNKNOWN_DEVICE_LABELS
from journeylib.synth.simulate import incident_window, simulate_chunk
from journeylib.synth.writer import RAW_COLUMNS, write_raw, write_raw_stream

__all__ = [
    "RAW_COLUMNS",
    "SynthConfig",
    "SynthData",
    "effects",
    "generate",
    "iter_chunks",
    "write_raw",
    "write_raw_stream",
]

logger = logging.getLogger(__name__)


def effects(cfg: SynthConfig) -> dict[str, Any]:
    """Every planted global parameter of a configuration (``_truth/effects.json``).

    Parameters
    ----------
    cfg : SynthConfig
        The generator configuration.

    Returns
    -------
    dict
        JSON-serialisable mapping; ``config`` echoes ``cfg``.
    """
    first, last = incident_window(cfg.start, cfg.end, P.INCIDENT["days"])
    out = P.effects_table()
    out["config"] = {
        "n_customers": cfg.n_customers,
        "seed": cfg.seed,
        "start": cfg.start.isoformat(),
        "end": cfg.end.isoformat(),
        "language": cfg.language,
        "chunk_size": cfg.chunk_size,
    }
    out["incident"] = {
        **P.INCIDENT,
        "first_day": first.isoformat(),
        "last_day": last.isoformat(),
        "event": "checkout_error",
    }
    out["co_purchase_groups"] = [list(g) for g in CO_PURCHASE_GROUPS]
    out["event_names"] = list(EVENTS)
    out["unknown_channel_labels"] = list(UNKNOWN_CHANNEL_LABELS)
    out["unknown_device_labels"] = list(UNKNOWN_DEVICE_LABELS)
    out["timezone"] = "Asia/Jakarta (timestamps are naive local time)"
    out["min_session_gap_minutes"] = 45
    out["max_event_gap_minutes"] = 20
    out["orders_without_web_session"] = (
        "offline_store visits produce orders (order_id prefix 'POS-') with no web events"
    )
    return out


def iter_chunks(cfg: SynthConfig, chunk_size: int | None = None) -> Iterator[SynthData]:
    """Generate the data chunk by chunk of customers, in bounded memory.

    Chunk ``i`` covers customers ``i * chunk_size + 1 ...`` and draws from its own random stream
    ``SeedSequence(cfg.seed, spawn_key=(i,))``, so chunks are independent and can be produced in
    parallel or streamed to partitioned files. Spend rows of different chunks may share a
    ``date x channel x campaign`` key and must be summed when combined.

    Parameters
    ----------
    cfg : SynthConfig
        The configuration.
    chunk_size : int, optional
        Customers per chunk; defaults to ``cfg.chunk_size`` (changing it changes the data).

    Yields
    ------
    SynthData
        One chunk, with ``effects`` set to the global planted parameters.
    """
    size = chunk_size or cfg.chunk_size
    catalog = build_catalog()
    eff = effects(cfg if chunk_size is None else cfg.model_copy(update={"chunk_size": size}))
    for i, first in enumerate(range(0, cfg.n_customers, size)):
        n = min(size, cfg.n_customers - first)
        rng = np.random.default_rng(np.random.SeedSequence(cfg.seed, spawn_key=(i,)))
        arr = simulate_chunk(rng, n, cfg.start, cfg.end, catalog)
        data = build_frames(
            arr,
            rng,
            chunk_index=i,
            first=first,
            n_total=cfg.n_customers,
            start=cfg.start,
            end=cfg.end,
            language=cfg.language,
            catalog=catalog,
        )
        data.effects = eff
        logger.debug("synth chunk %d: %d customers, %d events", i, n, len(data.web_events))
        yield data


def generate(cfg: SynthConfig) -> SynthData:
    """Generate the whole synthetic data set in memory.

    Parameters
    ----------
    cfg : SynthConfig
        The configuration; equal configurations give identical data.

    Returns
    -------
    SynthData
        Raw-export shaped tables, truth, and ``effects`` (with a ``realized`` summary).

    Examples
    --------
    >>> data = generate(SynthConfig(n_customers=50, seed=1))
    >>> list(data.orders.columns)
    ['order_id', 'customer_ref', 'order_time', 'sku', 'quantity', 'revenue']
    """
    chunks = list(iter_chunks(cfg))
    if len(chunks) == 1:
        data = chunks[0]
    else:
        cat = {
            name: pd.concat([getattr(c, name) for c in chunks], ignore_index=True)
            for name in (
                "customers", "web_events", "identity_map", "orders", "feedback", "spend",
                "truth_customers", "sessions",
            )
        }  # fmt: skip
        cat["web_events"] = cat["web_events"].sort_values(["event_time", "visitor_id"], ignore_index=True)  # fmt: skip
        cat["orders"] = cat["orders"].sort_values(["order_time", "order_id"], ignore_index=True)
        cat["feedback"] = cat["feedback"].sort_values(["submitted_at", "customer_ref", "kind"], ignore_index=True)  # fmt: skip
        cat["spend"] = cat["spend"].groupby(["date", "channel", "campaign"], as_index=False, sort=True)["cost"].sum()  # fmt: skip
        data = SynthData(products=chunks[0].products, effects=chunks[0].effects, **cat)
    data.effects = {**data.effects, "realized": _realized(data)}
    return data


def _realized(data: SynthData) -> dict[str, float]:
    """Summary statistics of the generated data (for the report, not used by tests)."""
    s = data.sessions
    web = s[~s["offline"] & (s["service"].isna())]
    carts = int(web["cart_abandoned"].sum() + web["purchase"].sum())
    t = data.truth_customers
    return {
        "n_customers": len(t),
        "n_web_events": len(data.web_events),
        "n_order_lines": len(data.orders),
        "n_orders": int(data.orders["order_id"].nunique()),
        "n_feedback": len(data.feedback),
        "n_sessions": len(s),
        "session_purchase_rate": round(float(web["purchase"].mean()), 4),
        "cart_abandonment_rate": round(float(web["cart_abandoned"].sum() / max(carts, 1)), 4),
        "customer_buyer_rate": round(float((t["n_orders"] > 0).mean()), 4),
        "churn_rate": round(float(t["churned"].mean()), 4),
        "mobile_session_share": round(float((web["device"] == "mobile").mean()), 4),
    }
