"""Raw (messy) labels as a client's exports spell them, and the canonical event names.

Every raw channel and device label here is a key of :data:`journeylib.schema.DEFAULT_CHANNEL_ALIASES`
/ :data:`journeylib.schema.DEFAULT_DEVICE_ALIASES` after lower-casing and collapsing white space,
except the deliberately unknown ones in :data:`UNKNOWN_CHANNEL_LABELS` / :data:`UNKNOWN_DEVICE_LABELS`.
"""

from __future__ import annotations

import numpy as np

from journeylib.synth.params import CHANNELS, DEVICES

EVENTS: tuple[str, ...] = (
    "page_view",
    "view_promotion",
    "view_item",
    "search",
    "add_to_wishlist",
    "compare_products",
    "add_to_cart",
    "remove_from_cart",
    "begin_checkout",
    "add_payment_info",
    "purchase",
    "payment_error",
    "checkout_error",
    "contact_support",
    "delivery_late",
    "return_request",
    "write_review",
    "refer_friend",
)
EV = {e: i for i, e in enumerate(EVENTS)}

#: Raw spellings per canonical channel (before random re-casing).
CHANNEL_RAW: dict[str, tuple[str, ...]] = {
    "organic_search": ("google / organic", "Organic Search", "organic", "bing / organic", "SEO"),
    "paid_search": ("google / cpc", "Paid Search", "cpc", "Google Ads", "SEM"),
    "social": ("Instagram", "IG", "facebook / social", "TikTok", "Organic Social", "twitter"),
    "paid_social": ("facebook / cpc", "Meta Ads", "Instagram Ads", "TikTok Ads", "Paid Social"),
    "email": ("newsletter", "Email", "e-mail", "EDM"),
    "display": ("gdn", "Display", "banner", "programmatic"),
    "referral": ("referral", "Refer a Friend"),
    "affiliate": ("affiliate", "Affiliates"),
    "direct": ("(direct)", "(direct) / (none)", "Direct", "(none)"),
    "whatsapp": ("WA", "WhatsApp", "WhatsApp Business", "wa"),
    "marketplace": ("Tokopedia", "Shopee", "Lazada", "Blibli", "TikTok Shop"),
    "offline_store": ("Offline Store", "toko", "POS", "store"),
}
#: Raw labels in no alias table: the loader must map them to ``other`` (and count them).
UNKNOWN_CHANNEL_LABELS: tuple[str, ...] = ("tiktok_live_test", "kol_campaign_q2")
DEVICE_RAW: dict[str, tuple[str, ...]] = {
    "mobile": ("Mobile", "mobile", "smartphone", "iPhone", "Android", "mobile web", "App"),
    "desktop": ("Desktop", "desktop", "PC", "laptop", "Computer"),
    "tablet": ("Tablet", "iPad"),
}
UNKNOWN_DEVICE_LABELS: tuple[str, ...] = ("Smart TV",)
#: One raw label per paid channel, as the ad platforms' cost exports name them.
SPEND_RAW: dict[str, str] = {
    "paid_search": "Google Ads",
    "paid_social": "Meta Ads",
    "display": "GDN",
    "affiliate": "Affiliates",
    "email": "EDM",
    "whatsapp": "WhatsApp Business",
}
CAMPAIGNS: dict[str, tuple[str, ...]] = {
    "paid_search": ("search_brand", "search_generic_elektronik", "search_generic_fashion"),
    "paid_social": ("ig_reels_ramadan", "tiktok_ads_gajian", "meta_lookalike"),
    "display": ("gdn_prospecting", "gdn_retargeting"),
    "affiliate": ("affiliate_cashback",),
    "email": ("newsletter_weekly", "promo_gajian"),
    "whatsapp": ("wa_broadcast_promo",),
}
RETARGET_CAMPAIGN: dict[str, str] = {"email": "cart_reminder_email", "whatsapp": "wa_cart_reminder"}

# Re-casing of raw labels, as different export tools and analysts type them.
_CASINGS = (("as_is", 0.6), ("lower", 0.15), ("title", 0.12), ("upper", 0.08), ("spaced", 0.05))


def _recase(label: str, how: str) -> str:
    if how == "lower":
        return label.lower()
    if how == "title":
        return label.title()
    if how == "upper":
        return label.upper()
    if how == "spaced":
        return label.replace(" ", "  ")
    return label


def _table(raw: dict[str, tuple[str, ...]], canon: tuple[str, ...]) -> tuple:
    """Flatten raw variants x casings into (labels, canonical index, cumulative weights)."""
    labels: list[str] = []
    owner: list[int] = []
    weights: list[float] = []
    seen: set[str] = set()
    for ci, c in enumerate(canon):
        variants = raw[c]
        for vi, v in enumerate(variants):
            # the first spelling is the most common one in real exports
            vw = (2.0 if vi == 0 else 1.0) / (len(variants) + 1)
            for how, cw in _CASINGS:
                lab = _recase(v, how)
                if lab in seen:
                    continue
                seen.add(lab)
                labels.append(lab)
                owner.append(ci)
                weights.append(vw * cw)
    owner_a = np.array(owner)
    w = np.array(weights)
    # cumulative weight within each canonical value, normalised to end at 1
    cum = np.zeros_like(w)
    for ci in range(len(canon)):
        m = owner_a == ci
        cum[m] = np.cumsum(w[m]) / w[m].sum()
    return labels, owner_a, cum


CHANNEL_LABELS, CHANNEL_LABEL_OWNER, _CH_CUM = _table(CHANNEL_RAW, CHANNELS)
DEVICE_LABELS, DEVICE_LABEL_OWNER, _DEV_CUM = _table(DEVICE_RAW, DEVICES)


def _draw(owner: np.ndarray, cum: np.ndarray, canon_idx: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Vectorised draw of a raw label index for each canonical index (u uniform in [0, 1))."""
    starts = np.searchsorted(owner, np.arange(owner.max() + 1))
    counts = np.bincount(owner)
    out = np.empty(len(canon_idx), dtype=np.int64)
    for ci in np.unique(canon_idx):
        m = canon_idx == ci
        seg = cum[starts[ci] : starts[ci] + counts[ci]]
        k = np.minimum(np.searchsorted(seg, u[m], side="right"), counts[ci] - 1)
        out[m] = starts[ci] + k
    return out


def draw_channel_labels(ch: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Raw channel label index (into :data:`CHANNEL_LABELS`) per canonical channel index."""
    return _draw(CHANNEL_LABEL_OWNER, _CH_CUM, ch, u)


def draw_device_labels(dev: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Raw device label index (into :data:`DEVICE_LABELS`) per canonical device index."""
    return _draw(DEVICE_LABEL_OWNER, _DEV_CUM, dev, u)
