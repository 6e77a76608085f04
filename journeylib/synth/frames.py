"""Turn one simulated chunk (integer codes) into raw-export shaped DataFrames plus truth."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from journeylib.synth import params as P
from journeylib.synth.catalog import Catalog
from journeylib.synth.config import SynthData
from journeylib.synth.labels import (
    CHANNEL_LABELS,
    DEVICE_LABELS,
    EV,
    EVENTS,
    SPEND_RAW,
    UNKNOWN_CHANNEL_LABELS,
    UNKNOWN_DEVICE_LABELS,
    draw_channel_labels,
    draw_device_labels,
)
from journeylib.synth.simulate import (
    CAMPAIGN_NAMES,
    DAY,
    END_GUARD,
    TOUCHPOINTS,
    ChunkArrays,
    epoch_seconds,
)
from journeylib.synth.text import comments, fake_people

SEGMENTS = ("consumer", "reseller", "corporate")
STAGES = ("awareness", "consideration", "decision", "retention", "advocacy")
_ALL_CH_LABELS = np.array(list(CHANNEL_LABELS) + list(UNKNOWN_CHANNEL_LABELS), dtype=object)
_ALL_DEV_LABELS = np.array(list(DEVICE_LABELS) + list(UNKNOWN_DEVICE_LABELS), dtype=object)
_M40 = np.uint64((1 << 40) - 1)


def _mix40(code: np.ndarray, salt: int) -> np.ndarray:
    """A keyed bijection on 40-bit integers: distinct codes give distinct, random-looking ids."""
    x = (code.astype(np.uint64) * np.uint64(0x9E3779B97) + np.uint64(salt)) & _M40
    x ^= x >> np.uint64(17)
    x = (x * np.uint64(0xC2B2AE35)) & _M40
    x ^= x >> np.uint64(19)
    return x


def _hex(x: np.ndarray, upper: bool = False) -> np.ndarray:
    return np.char.mod("%010X" if upper else "%010x", x).astype(object)


def _str(values: np.ndarray) -> pd.Series:
    return pd.Series(values, dtype="str")


def _codes_to_str(codes: np.ndarray, names: np.ndarray | tuple) -> pd.Series:
    """Map integer codes to strings (-1 -> missing)."""
    cat = pd.Categorical.from_codes(codes, categories=list(names))
    return pd.Series(cat).astype("str")


def _ts(t: np.ndarray) -> pd.Series:
    return pd.Series(t.astype("datetime64[s]"))


def _int_or_na(v: np.ndarray) -> pd.Series:
    return pd.Series(pd.array(np.where(v < 0, 0, v), dtype="Int64")).mask(v < 0)


def _refs(g: np.ndarray, width: int) -> np.ndarray:
    return ("C" + pd.Series(g + 1).astype(str).str.zfill(width)).to_numpy(dtype=object)


def build_frames(
    arr: ChunkArrays,
    rng: np.random.Generator,
    *,
    chunk_index: int,
    first: int,
    n_total: int,
    start: dt.date,
    end: dt.date,
    language: str,
    catalog: Catalog,
) -> SynthData:
    """Assemble the raw tables and truth of one chunk (see :class:`SynthData`)."""
    t_end = epoch_seconds(end) + DAY
    c = arr.customers
    n = c["persona"].size
    width = max(6, len(str(n_total)))
    refs = _refs(first + np.arange(n), width)
    people = fake_people(rng, n)

    # ---- raw labels per session / visitor ------------------------------------------------
    s = arr.sessions
    n_s = s["sess"].size
    s_lab = draw_channel_labels(s["ch"], rng.random(n_s))
    unk = rng.random(n_s) < P.NOISE["unknown_channel_label"]
    s_lab = np.where(unk, len(CHANNEL_LABELS) + rng.integers(0, len(UNKNOWN_CHANNEL_LABELS), n_s), s_lab)  # fmt: skip
    v_lab = draw_device_labels(np.tile(np.arange(3), n), rng.random(3 * n)).reshape(n, 3)
    s_dlab = v_lab[s["cust"], s["dev"]]
    s_dlab = np.where(rng.random(n_s) < P.NOISE["unknown_device_label"], len(DEVICE_LABELS), s_dlab)  # fmt: skip

    # ---- web events (identified + anonymous visitors) ------------------------------------
    e = arr.events
    keep = e["t"] < t_end
    e = {k: v[keep] for k, v in e.items()}
    vcode = (first + e["cust"]) * 4 + e["dev"]
    ch_lab = s_lab[e["sess"]]
    dev_lab = s_dlab[e["sess"]]
    n_ids = np.unique(vcode).size
    share = P.NOISE["anonymous_visitor_share"]
    n_anon = min(n, int(round(n_ids * share / (1 - share))))
    host = rng.choice(n, n_anon, replace=False) if n_anon else np.empty(0, dtype=np.int64)
    a_dev = np.minimum((rng.random(n_anon)[:, None] > np.array([0.75, 0.95])).sum(axis=1), 2)
    mix = P.PERSONA_WEIGHTS @ P.PERSONA_CHANNEL_MIX
    mix[P.CH["offline_store"]] = 0
    a_ch = np.minimum(np.searchsorted(np.cumsum(mix / mix.sum()), rng.random(n_anon)), 11)
    a_t = epoch_seconds(start) + (rng.random(n_anon) * (t_end - END_GUARD - epoch_seconds(start))).astype(np.int64)  # fmt: skip
    a_view = rng.random(n_anon) < 0.4
    a_code = (first + host) * 4 + 3
    a_vt = a_t + rng.integers(10, 300, n_anon)
    a_chl = draw_channel_labels(a_ch, rng.random(n_anon))
    a_dvl = draw_device_labels(a_dev, rng.random(n_anon))
    n_view = int(a_view.sum())
    anon = {
        "t": np.r_[a_t, a_vt[a_view]],
        "vcode": np.r_[a_code, a_code[a_view]],
        "ev": np.r_[np.full(n_anon, EV["page_view"]), np.full(n_view, EV["view_item"])],
        "sku": np.r_[
            np.full(n_anon, -1),
            catalog.sample(np.zeros(n_view, dtype=np.int64), rng.random(n_view)),
        ],  # fmt: skip
        "ch_lab": np.r_[a_chl, a_chl[a_view]],
        "dev_lab": np.r_[a_dvl, a_dvl[a_view]],
    }
    n_a = anon["t"].size
    t = np.r_[e["t"], anon["t"]]
    vc = np.r_[vcode, anon["vcode"]]
    evc = np.r_[e["ev"], anon["ev"]]
    sku = np.r_[e["sku"], anon["sku"]]
    val = np.r_[e["value"], np.full(n_a, -1)]
    chl = np.r_[ch_lab, anon["ch_lab"]]
    dvl = np.r_[dev_lab, anon["dev_lab"]]
    camp = np.r_[e["camp"], np.full(n_a, -1)]
    o = np.lexsort((np.arange(t.size), vc, t))
    n_dup = int(round(t.size * P.NOISE["duplicate_rows"]))
    o = o[np.sort(np.r_[np.arange(t.size), rng.choice(t.size, n_dup, replace=False)])]
    uv, vinv = np.unique(vc, return_inverse=True)
    vid = "v" + _hex(_mix40(uv, 0x5DEECE66D))
    web_events = pd.DataFrame(
        {
            "visitor_id": _str(vid[vinv[o]]),
            "event_time": _ts(t[o]),
            "event_name": _codes_to_str(evc[o], EVENTS),
            "traffic_source": _codes_to_str(chl[o], _ALL_CH_LABELS),
            "campaign": _codes_to_str(camp[o], CAMPAIGN_NAMES),
            "device_category": _codes_to_str(dvl[o], _ALL_DEV_LABELS),
            "sku": _codes_to_str(sku[o], catalog.products["sku"].to_numpy()),
            "value": _int_or_na(val[o]),
        }
    )
    ident = np.unique(vcode)
    identity_map = pd.DataFrame(
        {
            "source": _str(np.full(ident.size, "web", dtype=object)),
            "source_id": _str("v" + _hex(_mix40(ident, 0x5DEECE66D))),
            "customer_ref": _str(refs[ident // 4 - first]),
        }
    )

    # ---- orders --------------------------------------------------------------------------
    od = arr.orders
    keep = od["t"] < t_end
    od = {k: v[keep] for k, v in od.items()}
    ocode = (first + od["cust"]) * 256 + np.minimum(od["seq"], 255)
    o = np.lexsort((od["rank"], ocode, od["t"]))
    prefix = np.where(od["offline"].astype(bool), "POS-", "ORD-").astype(object)
    orders = pd.DataFrame(
        {
            "order_id": _str((prefix + _hex(_mix40(ocode, 0x2545F491), upper=True))[o]),
            "customer_ref": _str(refs[od["cust"][o]]),
            "order_time": _ts(od["t"][o]),
            "sku": _codes_to_str(od["sku"][o], catalog.products["sku"].to_numpy()),
            "quantity": od["qty"][o].astype(np.int64),
            "revenue": (od["qty"] * catalog.price[od["sku"]])[o].astype(np.int64),
        }
    )

    # ---- feedback ------------------------------------------------------------------------
    fb = arr.feedback
    keep = fb["t"] < t_end
    fb = {k: v[keep] for k, v in fb.items()}
    o = np.lexsort((fb["kind"], fb["cust"], fb["t"]))
    fb = {k: v[o] for k, v in fb.items()}
    emails = people["email"].to_numpy(dtype=object)
    phones = people["phone"].to_numpy(dtype=object)
    text, _ = comments(
        rng,
        fb["topic"],
        language,
        emails[fb["cust"]],
        phones[fb["cust"]],
        P.FEEDBACK["pii_in_comment"],  # fmt: skip
    )
    text = np.where(fb["topic"] < 0, None, text)
    feedback = pd.DataFrame(
        {
            "customer_ref": _str(refs[fb["cust"]]),
            "email": _str(emails[fb["cust"]]),
            "submitted_at": _ts(fb["t"]),
            "kind": _codes_to_str(fb["kind"], ("nps", "csat", "review", "social")),
            "score": _int_or_na(fb["score"]),
            "comment": pd.Series(text, dtype="str"),
            "touchpoint": _codes_to_str(fb["tp"], TOUCHPOINTS),
        }
    )

    # ---- customers and truth -------------------------------------------------------------
    sch_lab = draw_channel_labels(c["signup_ch"], rng.random(n))
    customers = pd.DataFrame(
        {
            "customer_ref": _str(refs),
            "email": _str(emails),
            "full_name": _str(people["full_name"].to_numpy(dtype=object)),
            "phone": _str(phones),
            "signup_time": _ts(c["signup"]),
            "region": _codes_to_str(c["region"], P.REGIONS),
            "segment": _codes_to_str(c["segment"], SEGMENTS),
            "signup_channel": _codes_to_str(sch_lab, _ALL_CH_LABELS),
        }
    )
    promoter = np.bincount(fb["cust"][(fb["kind"] == 0) & (fb["score"] >= 9)], minlength=n) > 0
    n_ord = c["n_orders"]
    stage = np.select(
        [
            (n_ord > 0) & ((c["n_reviews"] > 0) | (c["n_referrals"] > 0) | promoter),
            n_ord >= 2,
            n_ord >= 1,
            c["n_consider"] > 0,
        ],
        [4, 3, 2, 1],
        0,
    )
    churned = (c["churn_time"] >= 0) & (c["churn_time"] < t_end)
    truth = pd.DataFrame(
        {
            "customer_ref": _str(refs),
            "persona": _codes_to_str(c["persona"], P.PERSONAS),
            "segment": customers["segment"],
            "region": customers["region"],
            "primary_device": _codes_to_str(c["primary_device"], P.DEVICES),
            "signup_channel": _codes_to_str(c["signup_ch"], P.CHANNELS),
            "existing_customer": c["existing"],
            "satisfaction": np.round(c["satisfaction"], 4),
            "propensity": np.round(c["propensity"], 4),
            "n_sessions": c["n_sessions"],
            "n_web_sessions": c["n_web_sessions"],
            "n_orders": n_ord,
            "n_payment_error": c["n_payment_error"],
            "n_checkout_error": c["n_checkout_error"],
            "n_delivery_late": c["n_delivery_late"],
            "n_return_request": c["n_return_request"],
            "incident_exposed": c["n_incident"] > 0,
            "n_reviews": c["n_reviews"],
            "n_referrals": c["n_referrals"],
            "nps_promoter": promoter,
            "furthest_stage": _codes_to_str(stage, STAGES),
            "churned": churned,
            "churn_time": _ts(np.where(churned, c["churn_time"], 0)).where(churned),
            "churn_cause": _codes_to_str(np.where(churned, c["churn_cause"], -1), P.CHURN_CAUSES),
        }
    )

    # ---- truth sessions and spend --------------------------------------------------------
    sessions = pd.DataFrame(
        {
            "session_id": (np.int64(chunk_index) << 32) | s["sess"],
            "customer_ref": _str(refs[s["cust"]]),
            "start": _ts(s["start"]),
            "end": _ts(s["end"]),
            "channel": _codes_to_str(s["ch"], P.CHANNELS),
            "device": _codes_to_str(s["dev"], P.DEVICES),
            "service": _codes_to_str(s["service"] - 1, ("delivery_late", "return_request")),
            "campaign": _codes_to_str(s["camp"], CAMPAIGN_NAMES),
            **{
                k: s[k]
                for k in (
                    "purchase",
                    "cart_abandoned",
                    "checkout_errors",
                    "payment_error",
                    "incident",
                    "offline",
                    "retargeted",
                    "consider",
                )
            },  # fmt: skip
        }
    )
    spend = _spend(s, rng)
    return SynthData(
        customers=customers,
        web_events=web_events,
        identity_map=identity_map.sort_values(["customer_ref", "source_id"], ignore_index=True),
        orders=orders,
        feedback=feedback,
        spend=spend,
        products=catalog.products.copy(),
        truth_customers=truth,
        sessions=sessions,
    )


def _spend(s: dict[str, np.ndarray], rng: np.random.Generator) -> pd.DataFrame:
    """Daily cost per paid channel x campaign: sessions x cost-per-session x noise."""
    paid = np.array([P.CH[c] for c in P.CPC_IDR])
    sel = np.isin(s["ch"], paid) & ~s["offline"] & (s["camp"] >= 0)
    df = pd.DataFrame({"day": s["start"][sel] // DAY, "ch": s["ch"][sel], "camp": s["camp"][sel]})
    g = df.groupby(["day", "ch", "camp"], sort=True).size().reset_index(name="n")
    cpc = np.array([P.CPC_IDR.get(c, 0) for c in P.CHANNELS])
    cost = g["n"].to_numpy() * cpc[g["ch"].to_numpy()] * rng.lognormal(0, 0.15, len(g))
    return pd.DataFrame(
        {
            "date": _str(
                pd.Series((g["day"].to_numpy() * DAY).astype("datetime64[s]"))
                .dt.strftime("%Y-%m-%d")
                .to_numpy(dtype=object)
            ),
            "channel": _str(np.array([SPEND_RAW[P.CHANNELS[i]] for i in g["ch"]], dtype=object)),
            "campaign": _codes_to_str(g["camp"].to_numpy(), CAMPAIGN_NAMES),
            "cost": np.rint(cost).astype(np.int64),
        }
    )
