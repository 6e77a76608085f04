"""Planted parameters of the synthetic generator: personas, channels, devices, friction, churn.

Every number that shapes the synthetic data lives here, so the generator, the package docstring
and ``_truth/effects.json`` can never disagree. All effects on probabilities are log-odds.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from journeylib import schema

#: Canonical channels the simulator draws from (``other`` only arises from unknown raw labels).
CHANNELS: tuple[str, ...] = tuple(c for c in schema.CHANNELS if c != "other")
CH = {c: i for i, c in enumerate(CHANNELS)}

DEVICES: tuple[str, ...] = tuple(d for d in schema.DEVICES if d != "other")
DEV = {d: i for i, d in enumerate(DEVICES)}

CATEGORIES: tuple[str, ...] = (
    "elektronik",
    "fashion",
    "kecantikan",
    "rumah_tangga",
    "makanan_minuman",
    "olahraga",
    "ibu_bayi",
    "otomotif",
)

REGIONS: tuple[str, ...] = (
    "DKI Jakarta",
    "Jawa Barat",
    "Jawa Timur",
    "Jawa Tengah",
    "Banten",
    "Sumatera Utara",
    "Bali",
    "Sulawesi Selatan",
)
REGION_WEIGHTS = np.array([0.22, 0.22, 0.16, 0.12, 0.09, 0.07, 0.05, 0.07])
#: Planted regional logistics effect: probability that a delivery is late.
LATE_DELIVERY_BY_REGION = np.array([0.05, 0.07, 0.07, 0.07, 0.06, 0.14, 0.10, 0.16])
#: Probability that a purchase leads to a return, by the category of the order's first line.
RETURN_BY_CATEGORY = np.array([0.05, 0.12, 0.03, 0.03, 0.02, 0.04, 0.03, 0.03])

# ---------------------------------------------------------------------------------------------
# Personas: one row per persona; arrays below are indexed [persona, ...].
# ---------------------------------------------------------------------------------------------
PERSONAS: tuple[str, ...] = (
    "mobile_bargain_hunter",
    "loyal_premium_desktop",
    "marketplace_casual",
    "social_young_browser",
    "b2b_reseller_bulk",
)
PERSONA_WEIGHTS = np.array([0.30, 0.15, 0.22, 0.23, 0.10])

# channel mix per persona, columns in CHANNELS order
PERSONA_CHANNEL_MIX = np.array(
    [
        [0.18, 0.10, 0.14, 0.10, 0.06, 0.08, 0.03, 0.08, 0.10, 0.08, 0.05, 0.00],
        [0.20, 0.15, 0.03, 0.02, 0.22, 0.06, 0.04, 0.02, 0.24, 0.02, 0.00, 0.00],
        [0.12, 0.05, 0.08, 0.05, 0.03, 0.07, 0.03, 0.04, 0.08, 0.05, 0.40, 0.00],
        [0.08, 0.03, 0.32, 0.28, 0.02, 0.10, 0.06, 0.03, 0.04, 0.04, 0.00, 0.00],
        [0.08, 0.12, 0.02, 0.01, 0.15, 0.02, 0.05, 0.00, 0.20, 0.30, 0.00, 0.05],
    ]
)
# device mix per persona (mobile, desktop, tablet)
PERSONA_DEVICE_MIX = np.array(
    [
        [0.85, 0.10, 0.05],
        [0.30, 0.60, 0.10],
        [0.80, 0.15, 0.05],
        [0.92, 0.05, 0.03],
        [0.35, 0.60, 0.05],
    ]
)
# category preference weights per persona, columns in CATEGORIES order
PERSONA_CATEGORY_PREF = np.array(
    [
        [1.0, 3.0, 3.0, 2.0, 3.0, 1.0, 1.0, 0.5],
        [4.0, 1.5, 1.0, 3.0, 1.0, 2.5, 1.0, 1.5],
        [1.0, 3.0, 2.5, 1.5, 2.0, 1.0, 2.5, 0.5],
        [1.5, 4.0, 4.0, 0.5, 1.5, 2.0, 0.3, 0.3],
        [0.5, 0.5, 1.0, 3.0, 4.0, 0.5, 3.0, 2.0],
    ]
)
_PERSONA_SCALARS: dict[str, list[float]] = {
    # SKU weight within a category ~ price ** -price_elasticity (negative = prefers expensive)
    "price_elasticity": [1.2, -0.6, 0.8, 0.9, 0.4],
    # mean days between sessions (exponential, after a 45-minute floor)
    "mean_gap_days": [9.0, 12.0, 20.0, 6.0, 14.0],
    # session purchase log-odds before channel/device/assist/retention effects
    "purchase_logit": [-5.0, -4.1, -4.6, -5.7, -3.9],
    # log-odds that a non-buying session views products (consideration)
    "consider_logit": [0.3, 0.6, 0.0, -0.3, 0.8],
    # Poisson mean of extra order lines beyond the first
    "extra_lines": [0.3, 0.5, 0.15, 0.2, 1.5],
    # mean of the satisfaction latent (sd 0.8)
    "satisfaction_mean": [-0.1, 0.7, -0.2, 0.0, 0.3],
    # per-session churn log-odds before friction/satisfaction effects
    "churn_logit": [-2.4, -3.1, -2.2, -2.3, -3.0],
    # per-session refer_friend log-odds for customers who have bought
    "refer_logit": [-4.5, -4.0, -5.0, -3.2, -4.2],
    # probability that the customer uses a second device
    "multi_device": [0.20, 0.55, 0.15, 0.25, 0.50],
}
PERSONA_PARAMS: dict[str, np.ndarray] = {k: np.array(v) for k, v in _PERSONA_SCALARS.items()}
B2B = PERSONAS.index("b2b_reseller_bulk")

# ---------------------------------------------------------------------------------------------
# Channel and device effects (log-odds).
# ---------------------------------------------------------------------------------------------
#: Immediate effect on the purchase log-odds of the session the channel brings ("closing").
CHANNEL_CLOSE = np.array([0.0, 0.7, -0.6, -0.4, 0.9, -0.8, 0.3, 0.4, 0.5, 1.0, 0.2, 1.5])
#: Added to the customer's consideration stock after a session from the channel ("assisting");
#: the stock raises purchase and consideration log-odds of *later* sessions, decaying per session.
CHANNEL_ASSIST = np.array([0.05, 0.0, 0.25, 0.40, 0.0, 0.35, 0.10, 0.05, 0.0, 0.0, 0.0, 0.0])
ASSIST_DECAY = 0.8
ASSIST_CAP = 1.0
CLOSING_CHANNELS = ("email", "paid_search", "direct", "whatsapp")
ASSISTING_CHANNELS = ("display", "social", "paid_social")
#: Session purchase log-odds by device (desktop converts better: the planted device gap).
DEVICE_EFFECT = np.array([0.0, 0.45, 0.2])

# ---------------------------------------------------------------------------------------------
# Funnel, retention, friction and churn.
# ---------------------------------------------------------------------------------------------
FUNNEL: dict[str, float] = {
    # non-buying sessions reach add_to_cart with probability abandon_factor * p / (1 - p)
    "abandon_factor": 2.2,
    "abandon_depth_cart": 0.55,  # abandoned carts stopping at add_to_cart
    "abandon_depth_checkout": 0.30,  # ... at begin_checkout
    "abandon_depth_payment": 0.15,  # ... at add_payment_info
    "retarget_prob": 0.45,  # abandoned cart -> quick return session via email/whatsapp
    "retarget_email_share": 0.55,
    "retarget_mean_gap_days": 1.5,
    "cart_return_logit": 1.5,  # purchase log-odds bonus of the retargeted return session
    "repeat_logit": 0.6,  # retention: bonus after a first purchase ...
    "repeat_logit_per_satisfaction": 0.3,  # ... plus this times the satisfaction latent
    "payment_error_prob": 0.045,  # per session reaching add_payment_info
    "payment_error_lost_sale": 0.5,  # buyers hitting payment_error who give up
    "checkout_error_prob": 0.005,  # baseline, outside the incident
    "checkout_error_lost_sale": 0.5,
    "support_after_error": 0.35,  # contact_support after a checkout/payment error
    "support_after_service": 0.5,  # contact_support after delivery_late/return_request
    "late_delay_days_min": 4.0,
    "late_delay_days_max": 9.0,
    "return_delay_days_min": 7.0,
    "return_delay_days_max": 14.0,
    "review_logit": -1.6,  # next session after a purchase writes a review
    "review_logit_per_abs_satisfaction": 0.6,
}
INCIDENT: dict[str, Any] = {
    "device": "mobile",
    "days": 10,
    "error_prob": 0.85,  # sessions reaching begin_checkout in the window that hit checkout_error
    "purchase_kept": 0.1,  # of would-be purchases hitting the bug, share still completed
    "max_loops": 3,  # repeat begin_checkout -> checkout_error loops
}
CHURN: dict[str, float] = {
    "payment_error": 2.5,
    "checkout_error": 1.5,
    "delivery_late": 3.0,
    "return_request": 2.0,
    "satisfaction": -0.6,  # per unit of the satisfaction latent
    "purchase_in_session": -0.6,
    "low_satisfaction_threshold": -0.5,
}
#: Order of precedence when naming the cause of a churn (strongest planted effect first).
CHURN_CAUSES: tuple[str, ...] = (
    "delivery_late",
    "payment_error",
    "return_request",
    "checkout_error",
    "low_satisfaction",
    "baseline",
)
SATISFACTION_SD = 0.8
PROPENSITY_SD = 0.4
FEEDBACK: dict[str, float] = {
    "nps_response_prob": 0.35,
    "nps_response_prob_after_friction": 0.6,
    "nps_intercept": 7.8,
    "nps_per_satisfaction": 1.5,
    "nps_delivery_late": -3.2,
    "nps_payment_error": -2.2,
    "nps_return_request": -1.5,
    "nps_noise_sd": 1.2,
    "csat_response_prob": 0.5,
    "csat_intercept": 3.6,
    "csat_per_satisfaction": 0.8,
    "csat_friction": -0.8,
    "csat_noise_sd": 0.7,
    "review_intercept": 4.1,
    "review_per_satisfaction": 0.9,
    "review_delivery_late": -1.8,
    "review_return_request": -1.2,
    "review_payment_error": -1.0,
    "review_noise_sd": 0.7,
    "social_after_friction": 0.08,
    "social_promoter": 0.03,
    "comment_prob_nps": 0.6,
    "comment_prob_csat": 0.5,
    "pii_in_comment": 0.01,
}
CO_PURCHASE: dict[str, float] = {"same_order_prob": 0.55, "next_order_prob": 0.3}
NOISE: dict[str, float] = {
    "duplicate_rows": 0.005,
    "anonymous_visitor_share": 0.025,
    "unknown_channel_label": 0.003,
    "unknown_device_label": 0.002,
    "existing_customer_share": 0.25,
}
#: Cost per session (IDR) by paid channel, used to build spend.csv from the simulated traffic.
CPC_IDR: dict[str, int] = {
    "paid_search": 2400,
    "paid_social": 1700,
    "display": 3500,
    "affiliate": 4000,
    "email": 150,
    "whatsapp": 450,
}


def effects_table() -> dict[str, Any]:
    """Return every planted global parameter as JSON-serialisable built-in types.

    Returns
    -------
    dict
        Nested mapping (personas, channels, devices, funnel, churn, feedback, noise, ...).
    """
    personas = {}
    for p, name in enumerate(PERSONAS):
        personas[name] = {
            "weight": float(PERSONA_WEIGHTS[p]),
            "channel_mix": dict(
                zip(CHANNELS, (round(float(x), 4) for x in PERSONA_CHANNEL_MIX[p]), strict=True)
            ),
            "device_mix": dict(zip(DEVICES, map(float, PERSONA_DEVICE_MIX[p]), strict=True)),
            "category_preference": dict(
                zip(CATEGORIES, map(float, PERSONA_CATEGORY_PREF[p]), strict=True)
            ),
            **{k: float(v[p]) for k, v in PERSONA_PARAMS.items()},
        }
    return {
        "personas": personas,
        "channel_close_logodds": dict(zip(CHANNELS, map(float, CHANNEL_CLOSE), strict=True)),
        "channel_assist_logodds": dict(zip(CHANNELS, map(float, CHANNEL_ASSIST), strict=True)),
        "assist_decay_per_session": ASSIST_DECAY,
        "assist_cap_logodds": ASSIST_CAP,
        "closing_channels": list(CLOSING_CHANNELS),
        "assisting_channels": list(ASSISTING_CHANNELS),
        "device_purchase_logodds": dict(zip(DEVICES, map(float, DEVICE_EFFECT), strict=True)),
        "funnel": dict(FUNNEL),
        "churn_logodds": dict(CHURN),
        "churn_causes": list(CHURN_CAUSES),
        "satisfaction_sd": SATISFACTION_SD,
        "propensity_sd": PROPENSITY_SD,
        "feedback": dict(FEEDBACK),
        "co_purchase_probs": dict(CO_PURCHASE),
        "noise": dict(NOISE),
        "cpc_idr": dict(CPC_IDR),
        "regions": dict(zip(REGIONS, map(float, REGION_WEIGHTS), strict=True)),
        "late_delivery_prob_by_region": dict(
            zip(REGIONS, map(float, LATE_DELIVERY_BY_REGION), strict=True)
        ),
        "return_prob_by_category": dict(
            zip(CATEGORIES, map(float, RETURN_BY_CATEGORY), strict=True)
        ),
    }
