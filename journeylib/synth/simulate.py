"""The session-by-session simulation of one chunk of customers (vectorised across customers).

The loop runs over the customers' session index: at step ``k`` every still-active customer has
their ``k``-th session, whose channel, device, funnel depth, friction and order are drawn for all
of them at once with numpy. Events get their in-session timestamps from cumulative gaps
(< 20 minutes each); consecutive sessions of a customer are at least 45 minutes apart, so a
30-minute inactivity sessionisation recovers the simulated sessions exactly.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from journeylib.synth import params as P
from journeylib.synth.catalog import Catalog
from journeylib.synth.labels import CAMPAIGNS, EV, RETARGET_CAMPAIGN
from journeylib.synth.text import TOPICS

DAY = 86_400
HOUR = 3_600
MIN_SESSION_GAP = 45 * 60
#: No session starts within this many seconds of the period end, so sessions end inside it.
END_GUARD = 6 * HOUR

#: Flat campaign list; sessions store an index into it (-1 = no campaign).
CAMPAIGN_NAMES: tuple[str, ...] = tuple(
    sorted({c for cs in CAMPAIGNS.values() for c in cs} | set(RETARGET_CAMPAIGN.values()))
)
_CAMPAIGN_IDX = {c: i for i, c in enumerate(CAMPAIGN_NAMES)}
_FB_KINDS = ("nps", "csat", "review", "social")
TOUCHPOINTS: tuple[str, ...] = ("checkout", "delivery", "customer_service", "product", "app")
_TP = {t: i for i, t in enumerate(TOUCHPOINTS)}


def epoch_seconds(day: dt.date) -> int:
    """Seconds since 1970-01-01 of local midnight starting ``day`` (naive local clock)."""
    return (day - dt.date(1970, 1, 1)).days * DAY


def incident_window(start: dt.date, end: dt.date, days: int) -> tuple[dt.date, dt.date]:
    """First and last day (inclusive) of the incident: ``days`` days centred in the period."""
    mid = start + (end - start) / 2
    first = mid - dt.timedelta(days=days // 2)
    return first, first + dt.timedelta(days=days - 1)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _pick_rows(cum: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Inverse-CDF draw per row from a per-row cumulative distribution matrix."""
    return np.minimum((cum < u[:, None]).sum(axis=1), cum.shape[1] - 1)


class _Buffer:
    """Collects equally long column arrays and concatenates them once."""

    def __init__(self, *names: str) -> None:
        self.names = names
        self.parts: dict[str, list[np.ndarray]] = {n: [] for n in names}

    def add(self, **cols: np.ndarray | int | float) -> None:
        n = max((np.size(v) for v in cols.values() if np.ndim(v) > 0), default=1)
        for name in self.names:
            v = cols.get(name, -1)
            self.parts[name].append(np.broadcast_to(np.asarray(v), (n,)).copy())

    def arrays(self) -> dict[str, np.ndarray]:
        return {
            n: (np.concatenate(v) if v else np.empty(0, dtype=np.int64))
            for n, v in self.parts.items()
        }


@dataclass
class ChunkArrays:
    """Integer-coded output of one chunk (turned into DataFrames by :mod:`.frames`)."""

    customers: dict[str, np.ndarray]
    events: dict[str, np.ndarray]
    orders: dict[str, np.ndarray]
    feedback: dict[str, np.ndarray]
    sessions: dict[str, np.ndarray]
    extra: dict[str, object] = field(default_factory=dict)


def simulate_chunk(
    rng: np.random.Generator,
    n: int,
    start: dt.date,
    end: dt.date,
    catalog: Catalog,
) -> ChunkArrays:
    """Simulate ``n`` customers' sessions, events, orders and feedback.

    Parameters
    ----------
    rng : numpy.random.Generator
        The chunk's own random stream.
    n : int
        Customers in the chunk.
    start, end : date
        Observation period (inclusive days, local time).
    catalog : Catalog
        Products and persona SKU preferences.

    Returns
    -------
    ChunkArrays
        Integer-coded tables; customer indices are local to the chunk.
    """
    t_start = epoch_seconds(start)
    t_end = epoch_seconds(end) + DAY
    inc_first, inc_last = incident_window(start, end, P.INCIDENT["days"])
    inc_lo, inc_hi = epoch_seconds(inc_first), epoch_seconds(inc_last) + DAY
    inc_dev = P.DEV[P.INCIDENT["device"]]
    F, C, FB = P.FUNNEL, P.CHURN, P.FEEDBACK
    pp = P.PERSONA_PARAMS

    # ---- customers ------------------------------------------------------------------------
    persona = _pick_rows(np.cumsum(P.PERSONA_WEIGHTS)[None, :].repeat(n, 0), rng.random(n))
    region = _pick_rows(np.cumsum(P.REGION_WEIGHTS)[None, :].repeat(n, 0), rng.random(n))
    sat = rng.normal(pp["satisfaction_mean"][persona], P.SATISFACTION_SD)
    prop = rng.normal(0.0, P.PROPENSITY_SD, n)
    primary = _pick_rows(np.cumsum(P.PERSONA_DEVICE_MIX, axis=1)[persona], rng.random(n))
    secondary = np.where(primary == 0, np.where(rng.random(n) < 0.8, 1, 2), 0)
    multi = rng.random(n) < pp["multi_device"][persona]
    existing = rng.random(n) < P.NOISE["existing_customer_share"]
    span = t_end - t_start
    t0 = t_start + np.where(
        existing, rng.random(n) * 30 * DAY, rng.random(n) * (span - 3 * DAY)
    ).astype(np.int64)
    t0 += (((t0 % DAY) < 6 * HOUR) & (rng.random(n) < 0.75)) * 7 * HOUR
    signup = np.where(
        existing,
        t_start - (30 * DAY + rng.random(n) * 510 * DAY).astype(np.int64),
        t0 + rng.integers(20, 300, n),
    )
    segment = np.where(persona == P.B2B, np.where(rng.random(n) < 0.7, 1, 2), 0)
    ch_cum = np.cumsum(P.PERSONA_CHANNEL_MIX, axis=1)
    ch_cum /= ch_cum[:, -1:]
    signup_ch = _pick_rows(ch_cum[persona], rng.random(n))

    # ---- state ----------------------------------------------------------------------------
    t_next = t0.copy()
    active = np.ones(n, dtype=bool)
    stock = np.zeros(n)
    n_orders = np.zeros(n, dtype=np.int64)
    open_cart = np.full(n, -1)
    retarget = np.zeros(n, dtype=bool)
    pending = np.zeros(n, dtype=np.int8)  # 0 none, 1 delivery_late, 2 return_request
    pending_sku = np.full(n, -1)
    review_sku = np.full(n, -1)
    review_fric = np.zeros((n, 3), dtype=bool)  # late, return, payment error of reviewed order
    next_partner = np.full(n, -1)
    fb_last = np.zeros(n, dtype=np.int64)
    churn_time = np.full(n, -1, dtype=np.int64)
    churn_cause = np.full(n, -1)
    first_ch = np.full(n, -1)
    cnt = {
        k: np.zeros(n, dtype=np.int64)
        for k in (
            "sessions", "web_sessions", "consider", "payment_error", "checkout_error",
            "delivery_late", "return_request", "incident", "reviews", "referrals", "promoter",
        )
    }  # fmt: skip

    ev = _Buffer("sess", "order", "sub", "ev", "sku", "value")
    orders = _Buffer("cust", "t", "sku", "qty", "seq", "offline", "rank")
    fbk = _Buffer("cust", "t", "kind", "score", "topic", "tp")
    sess_parts: list[dict[str, np.ndarray]] = []
    ev_done: list[dict[str, np.ndarray]] = []
    n_sess_total = 0

    while True:
        active &= t_next < t_end - END_GUARD
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        m = idx.size
        sid = n_sess_total + np.arange(m)
        n_sess_total += m
        p = persona[idx]
        st = t_next[idx]
        svc = pending[idx]
        is_svc = svc > 0
        sat_i = sat[idx]

        # channel and device
        dev = np.where(multi[idx] & (rng.random(m) < 0.25), secondary[idx], primary[idx])
        ch = _pick_rows(ch_cum[p], rng.random(m))
        rt = retarget[idx] & ~is_svc
        ch = np.where(rt, np.where(rng.random(m) < F["retarget_email_share"], P.CH["email"], P.CH["whatsapp"]), ch)  # fmt: skip
        ch = np.where(is_svc, P.CH["direct"], ch)
        first_ch[idx] = np.where(first_ch[idx] < 0, ch, first_ch[idx])
        offline = ch == P.CH["offline_store"]
        web = ~offline

        # purchase outcome first (the planted log-odds model), then the path leading to it
        has_bought = n_orders[idx] > 0
        logit = (
            pp["purchase_logit"][p]
            + P.CHANNEL_CLOSE[ch]
            + P.DEVICE_EFFECT[dev]
            + np.minimum(stock[idx], P.ASSIST_CAP)
            + prop[idx]
            + has_bought * (F["repeat_logit"] + F["repeat_logit_per_satisfaction"] * sat_i)
            + rt * F["cart_return_logit"]
        )
        pb = _sigmoid(logit)
        buy = ~is_svc & (rng.random(m) < pb)
        p_ab = np.minimum(0.95, F["abandon_factor"] * pb / (1 - pb))
        ab = ~is_svc & ~buy & web & (rng.random(m) < p_ab)
        u = rng.random(m)
        depth = np.where(u < F["abandon_depth_cart"], 1, np.where(u < F["abandon_depth_cart"] + F["abandon_depth_checkout"], 2, 3))  # fmt: skip

        in_win = (st >= inc_lo) & (st < inc_hi) & (dev == inc_dev) & web
        reach_ck = (buy & web) | (ab & (depth >= 2))
        u = rng.random(m)
        inc_hit = in_win & reach_ck & (u < P.INCIDENT["error_prob"])
        base_hit = ~in_win & reach_ck & (u < F["checkout_error_prob"])
        n_err = np.where(inc_hit, rng.integers(1, P.INCIDENT["max_loops"] + 1, m), base_hit.astype(np.int64))  # fmt: skip
        keep = np.where(inc_hit, P.INCIDENT["purchase_kept"], 1 - F["checkout_error_lost_sale"])
        lost = buy & (n_err > 0) & (rng.random(m) >= keep)
        buy &= ~lost
        ab |= lost
        depth = np.where(lost, 2, depth)
        reach_pay = (buy & web) | (ab & (depth == 3))
        pay_err = reach_pay & (rng.random(m) < F["payment_error_prob"])
        lost = buy & pay_err & (rng.random(m) < F["payment_error_lost_sale"])
        buy &= ~lost
        ab |= lost
        depth = np.where(lost, 3, depth)
        ck_err = n_err > 0
        consider = buy | ab | (~is_svc & web & (rng.random(m) < _sigmoid(pp["consider_logit"][p] + np.minimum(stock[idx], P.ASSIST_CAP))))  # fmt: skip

        # campaign and order lines
        camp = np.full(m, -1)
        for cname, cs in CAMPAIGNS.items():
            sel = ch == P.CH[cname]
            pick = rng.integers(0, len(cs), m)
            camp = np.where(sel, np.array([_CAMPAIGN_IDX[c] for c in cs])[pick], camp)
        for cname, cmp in RETARGET_CAMPAIGN.items():
            camp = np.where(rt & (ch == P.CH[cname]), _CAMPAIGN_IDX[cmp], camp)

        cart_sku = np.where(
            rt & (open_cart[idx] >= 0), open_cart[idx], catalog.sample(p, rng.random(m))
        )
        bi = np.flatnonzero(buy)
        first = cart_sku[bi]
        line_s = [bi]
        line_k = [first]
        line_r = [np.zeros(bi.size, dtype=np.int64)]
        part_in = np.zeros((bi.size, 2), dtype=bool)
        for j in range(2):
            pr = catalog.partners[first, j]
            part_in[:, j] = (pr >= 0) & (rng.random(bi.size) < P.CO_PURCHASE["same_order_prob"])
            line_s.append(bi[part_in[:, j]])
            line_k.append(pr[part_in[:, j]])
            line_r.append(np.full(part_in[:, j].sum(), 1 + j))
        npart = next_partner[idx[bi]]
        line_s.append(bi[npart >= 0])
        line_k.append(npart[npart >= 0])
        line_r.append(np.full((npart >= 0).sum(), 3))
        n_extra = np.minimum(rng.poisson(pp["extra_lines"][p[bi]]), 4)
        es = np.repeat(bi, n_extra)
        line_s.append(es)
        line_k.append(catalog.sample(p[es], rng.random(es.size)))
        line_r.append(4 + np.arange(es.size) - np.repeat(np.cumsum(n_extra) - n_extra, n_extra))
        ls, lk, lr = (np.concatenate(x) for x in (line_s, line_k, line_r))
        o = np.lexsort((lr, lk, ls))
        ls, lk, lr = ls[o], lk[o], lr[o]
        dup = np.r_[
            np.zeros(min(ls.size, 1), dtype=bool), (ls[1:] == ls[:-1]) & (lk[1:] == lk[:-1])
        ]
        ls, lk, lr = ls[~dup], lk[~dup], lr[~dup]
        o = np.lexsort((lr, ls))
        ls, lk, lr = ls[o], lk[o], lr[o]
        line_no = np.arange(ls.size) - np.searchsorted(ls, ls)
        b2b_line = persona[idx[ls]] == P.B2B
        qty = np.where(
            b2b_line,
            rng.integers(3, 25, ls.size),
            1 + (rng.random(ls.size) < 0.18) + (rng.random(ls.size) < 0.05),
        )
        total = np.bincount(ls, weights=qty * catalog.price[lk], minlength=m).astype(np.int64)
        # a planted partner left out of the order comes back in the next order
        leftover = np.where(~part_in[:, 0], catalog.partners[first, 0], np.where(~part_in[:, 1], catalog.partners[first, 1], -1))  # fmt: skip
        leftover = np.where(rng.random(bi.size) < P.CO_PURCHASE["next_order_prob"], leftover, -1)

        # ---- events of web sessions --------------------------------------------------------
        u = rng.random(m)
        land = np.where((camp >= 0) & (u < 0.6), EV["view_promotion"], EV["page_view"])
        ws = np.flatnonzero(web)
        ev.add(sess=sid[ws], order=0, sub=0, ev=land[ws])
        n_pv = np.where(web & ~is_svc, rng.poisson(0.5, m), 0)
        s = np.repeat(sid, n_pv)
        ev.add(sess=s, order=1, sub=np.arange(s.size), ev=EV["page_view"])
        cw = consider & web  # offline visits leave no web events
        sel = cw & (rng.random(m) < 0.4)
        ev.add(sess=sid[sel], order=2, sub=0, ev=EV["search"])
        n_view = np.where(cw & ~buy & ~ab, 1 + rng.poisson(0.8, m), np.where(cw, rng.poisson(0.6, m), 0))  # fmt: skip
        r = np.repeat(np.arange(m), n_view)
        ev.add(sess=sid[r], order=3, sub=np.arange(r.size), ev=EV["view_item"], sku=catalog.sample(p[r], rng.random(r.size)))  # fmt: skip
        sel = cw & (rng.random(m) < 0.06)
        ev.add(sess=sid[sel], order=3, sub=10_000, ev=EV["add_to_wishlist"], sku=cart_sku[sel])
        sel = cw & (rng.random(m) < np.where(dev == 1, 0.12, 0.04))
        ev.add(sess=sid[sel], order=3, sub=10_001, ev=EV["compare_products"])
        web_lines = web[ls]
        wl = np.flatnonzero(web_lines)
        ev.add(sess=sid[ls[wl]], order=4, sub=2 * line_no[wl], ev=EV["view_item"], sku=lk[wl])
        ev.add(sess=sid[ls[wl]], order=4, sub=2 * line_no[wl] + 1, ev=EV["add_to_cart"], sku=lk[wl])  # fmt: skip
        ai = np.flatnonzero(ab)
        ev.add(sess=sid[ai], order=4, sub=0, ev=EV["view_item"], sku=cart_sku[ai])
        ev.add(sess=sid[ai], order=4, sub=1, ev=EV["add_to_cart"], sku=cart_sku[ai])
        sel = ab & (rng.random(m) < 0.1)
        ev.add(sess=sid[sel], order=5, sub=0, ev=EV["remove_from_cart"], sku=cart_sku[sel])
        past_ck = (buy & web) | (ab & (depth == 3))
        n_begin = np.where(reach_ck, np.where(ck_err & ~past_ck, n_err, n_err + 1), 0)
        r = np.repeat(np.arange(m), n_begin)
        j = np.arange(r.size) - np.repeat(np.cumsum(n_begin) - n_begin, n_begin)
        ev.add(sess=sid[r], order=6, sub=2 * j, ev=EV["begin_checkout"])
        r = np.repeat(np.arange(m), n_err)
        j = np.arange(r.size) - np.repeat(np.cumsum(n_err) - n_err, n_err)
        ev.add(sess=sid[r], order=6, sub=2 * j + 1, ev=EV["checkout_error"])
        ev.add(sess=sid[reach_pay], order=7, sub=0, ev=EV["add_payment_info"])
        ev.add(sess=sid[pay_err], order=7, sub=1, ev=EV["payment_error"])
        sel = pay_err & buy
        ev.add(sess=sid[sel], order=7, sub=2, ev=EV["add_payment_info"])
        wb = buy & web
        ev.add(sess=sid[wb], order=8, sub=0, ev=EV["purchase"], value=total[wb])
        support = (ck_err | pay_err) & (rng.random(m) < F["support_after_error"])
        ev.add(sess=sid[svc == 1], order=1, sub=0, ev=EV["delivery_late"], sku=pending_sku[idx[svc == 1]])  # fmt: skip
        ev.add(sess=sid[svc == 2], order=1, sub=0, ev=EV["return_request"], sku=pending_sku[idx[svc == 2]])  # fmt: skip
        support |= is_svc & (rng.random(m) < F["support_after_service"])
        ev.add(sess=sid[support], order=9, sub=0, ev=EV["contact_support"])
        rev = web & (review_sku[idx] >= 0)
        ev.add(sess=sid[rev], order=10, sub=0, ev=EV["write_review"], sku=review_sku[idx[rev]])
        ref = web & ~is_svc & has_bought & (rng.random(m) < _sigmoid(pp["refer_logit"][p] + 0.8 * sat_i))  # fmt: skip
        ev.add(sess=sid[ref], order=10, sub=1, ev=EV["refer_friend"])

        # ---- timestamps (this step's events only) ------------------------------------------
        step = ev.arrays()
        ev = _Buffer(*ev.names)
        o = np.lexsort((step["sub"], step["order"], step["sess"]))
        step = {k: v[o] for k, v in step.items()}
        loc = step["sess"] - sid[0]
        first_ev = np.r_[np.ones(min(loc.size, 1), dtype=bool), loc[1:] != loc[:-1]]
        gap = np.clip(rng.lognormal(4.0, 0.9, loc.size), 5, 1_200).astype(np.int64)
        gap[first_ev] = 0
        cs = np.cumsum(gap)
        grp0 = np.maximum.accumulate(np.where(first_ev, np.arange(loc.size), 0))
        t_ev = st[loc] + cs - cs[grp0]
        step["t"] = t_ev
        step["cust"] = idx[loc]
        step["dev"] = dev[loc]
        step["ch"] = ch[loc]
        step["camp"] = camp[loc]
        ev_done.append(step)
        last_ev = np.r_[loc[1:] != loc[:-1], np.ones(min(loc.size, 1), dtype=bool)]
        s_end = st.copy()
        s_end[loc[last_ev]] = t_ev[last_ev]
        is_p = step["ev"] == EV["purchase"]
        t_buy = s_end.copy()
        t_buy[loc[is_p]] = t_ev[is_p]
        off_b = offline & buy
        t_buy[off_b] = st[off_b] + rng.integers(300, 2_400, off_b.sum())
        s_end = np.where(off_b, t_buy, s_end)
        sup_t = np.full(m, -1, dtype=np.int64)
        is_sup = step["ev"] == EV["contact_support"]
        sup_t[loc[is_sup]] = t_ev[is_sup]
        rev_t = np.full(m, -1, dtype=np.int64)
        is_rev = step["ev"] == EV["write_review"]
        rev_t[loc[is_rev]] = t_ev[is_rev]

        # ---- orders -----------------------------------------------------------------------
        seq = n_orders[idx[ls]]
        orders.add(cust=idx[ls], t=t_buy[ls], sku=lk, qty=qty, seq=seq, offline=offline[ls], rank=line_no)  # fmt: skip

        # ---- state updates ------------------------------------------------------------------
        ci = idx
        cnt["sessions"][ci] += 1
        cnt["web_sessions"][ci] += web
        cnt["consider"][ci] += consider
        cnt["payment_error"][ci] += pay_err
        cnt["checkout_error"][ci] += ck_err
        cnt["delivery_late"][ci] += svc == 1
        cnt["return_request"][ci] += svc == 2
        cnt["incident"][ci] += inc_hit
        cnt["reviews"][ci] += rev
        cnt["referrals"][ci] += ref
        stock[ci] = stock[ci] * P.ASSIST_DECAY + P.CHANNEL_ASSIST[ch]
        n_orders[ci] += buy
        open_cart[ci] = np.where(buy, -1, np.where(ab, cart_sku, open_cart[ci]))
        retarget[ci] = ab & (rng.random(m) < F["retarget_prob"])
        nb = next_partner[ci]
        nb[bi] = leftover
        next_partner[ci] = nb
        review_sku[ci[rev]] = -1

        late = buy & (rng.random(m) < P.LATE_DELIVERY_BY_REGION[region[ci]])
        first_cat = np.full(m, 0)
        first_cat[bi] = catalog.category[first]
        fsku = np.full(m, -1)
        fsku[bi] = first
        ret = buy & ~late & (rng.random(m) < P.RETURN_BY_CATEGORY[first_cat])
        delay = np.where(
            late,
            F["late_delay_days_min"] + rng.random(m) * (F["late_delay_days_max"] - F["late_delay_days_min"]),
            F["return_delay_days_min"] + rng.random(m) * (F["return_delay_days_max"] - F["return_delay_days_min"]),
        )  # fmt: skip
        pend_t = t_buy + (delay * DAY).astype(np.int64)
        pending[ci] = np.where(late, 1, np.where(ret, 2, 0))
        pending_sku[ci] = np.where(late | ret, fsku, -1)
        wr = buy & (rng.random(m) < _sigmoid(F["review_logit"] + F["review_logit_per_abs_satisfaction"] * np.abs(sat_i)))  # fmt: skip
        review_sku[ci[wr]] = fsku[wr]
        review_fric[ci[wr]] = np.c_[late, ret, pay_err][wr]

        # ---- feedback -----------------------------------------------------------------------
        fl = np.full(m, -1, dtype=np.int64)  # latest feedback time scheduled this step
        # unhappy customers answer surveys more often
        p_nps = np.where(late | ret | pay_err, FB["nps_response_prob_after_friction"], FB["nps_response_prob"])  # fmt: skip
        nps_sel = buy & (rng.random(m) < p_nps)
        nps_t = np.where(
            late | ret,
            pend_t + rng.integers(2 * HOUR, 30 * HOUR, m),
            t_buy + rng.integers(DAY, 3 * DAY, m),
        )
        nps = np.clip(np.rint(
            FB["nps_intercept"] + FB["nps_per_satisfaction"] * sat_i
            + FB["nps_delivery_late"] * late + FB["nps_payment_error"] * pay_err
            + FB["nps_return_request"] * ret + rng.normal(0, FB["nps_noise_sd"], m)
        ), 0, 10).astype(np.int64)  # fmt: skip
        topic = _topic(nps >= 9, nps <= 6, late, pay_err, ret, ck_err, rng.random(m))
        tp = np.select([late, pay_err], [_TP["delivery"], _TP["checkout"]], _TP["product"])
        fbk.add(cust=ci[nps_sel], t=nps_t[nps_sel], kind=0, score=nps[nps_sel], topic=np.where(rng.random(nps_sel.sum()) < FB["comment_prob_nps"], topic[nps_sel], -1), tp=tp[nps_sel])  # fmt: skip
        fl = np.where(nps_sel, nps_t, fl)
        cnt["promoter"][ci] += nps_sel & (nps >= 9)

        fric = ck_err | pay_err | is_svc
        cs_sel = (sup_t >= 0) & (rng.random(m) < FB["csat_response_prob"])
        cs_t = sup_t + rng.integers(20 * 60, 3 * HOUR, m)
        csat = np.clip(np.rint(FB["csat_intercept"] + FB["csat_per_satisfaction"] * sat_i + FB["csat_friction"] * fric + rng.normal(0, FB["csat_noise_sd"], m)), 1, 5).astype(np.int64)  # fmt: skip
        topic = _topic(csat >= 4, csat <= 2, svc == 1, pay_err, svc == 2, ck_err, rng.random(m), bad_topic="support_bad")  # fmt: skip
        fbk.add(cust=ci[cs_sel], t=cs_t[cs_sel], kind=1, score=csat[cs_sel], topic=np.where(rng.random(cs_sel.sum()) < FB["comment_prob_csat"], topic[cs_sel], -1), tp=_TP["customer_service"])  # fmt: skip
        fl = np.maximum(fl, np.where(cs_sel, cs_t, -1))

        rf = review_fric[ci]
        rv = np.clip(np.rint(FB["review_intercept"] + FB["review_per_satisfaction"] * sat_i + FB["review_delivery_late"] * rf[:, 0] + FB["review_return_request"] * rf[:, 1] + FB["review_payment_error"] * rf[:, 2] + rng.normal(0, FB["review_noise_sd"], m)), 1, 5).astype(np.int64)  # fmt: skip
        topic = _topic(rv >= 4, rv <= 2, rf[:, 0], rf[:, 2], rf[:, 1], np.zeros(m, bool), rng.random(m))  # fmt: skip
        fbk.add(cust=ci[rev], t=rev_t[rev], kind=2, score=rv[rev], topic=topic[rev], tp=np.where(rf[rev, 0], _TP["delivery"], _TP["product"]))  # fmt: skip
        review_fric[ci[rev]] = False

        soc = fric & (rng.random(m) < FB["social_after_friction"])
        soc_t = s_end + rng.integers(HOUR, 10 * HOUR, m)
        topic = _topic(np.zeros(m, bool), np.ones(m, bool), svc == 1, pay_err, svc == 2, ck_err, rng.random(m))  # fmt: skip
        soc_tp = np.select([ck_err, pay_err, svc == 1], [_TP["app"], _TP["checkout"], _TP["delivery"]], _TP["product"])  # fmt: skip
        fbk.add(cust=ci[soc], t=soc_t[soc], kind=3, score=-1, topic=topic[soc], tp=soc_tp[soc])
        pos = nps_sel & (nps >= 9) & (rng.random(m) < FB["social_promoter"])
        pos_t = nps_t + rng.integers(HOUR, 10 * HOUR, m)
        fbk.add(cust=ci[pos], t=pos_t[pos], kind=3, score=-1, topic=P_TOPIC["social_positive"], tp=_TP["product"])  # fmt: skip
        fl = np.maximum(fl, np.where(soc, soc_t, -1))
        fl = np.maximum(fl, np.where(pos, pos_t, -1))
        fb_last[ci] = np.maximum(fb_last[ci], fl)

        # ---- next session or churn ----------------------------------------------------------
        gap = MIN_SESSION_GAP + rng.exponential(pp["mean_gap_days"][p] * DAY).astype(np.int64)
        gap_rt = MIN_SESSION_GAP + rng.exponential(F["retarget_mean_gap_days"] * DAY, m).astype(np.int64)  # fmt: skip
        nxt = np.where(pending[ci] > 0, pend_t, s_end + np.where(retarget[ci], gap_rt, gap))
        night = ((nxt % DAY) < 6 * HOUR) & (rng.random(m) < 0.75)  # few sessions at night
        t_next[ci] = nxt + night * 7 * HOUR

        hz = (
            pp["churn_logit"][p] + C["payment_error"] * pay_err + C["checkout_error"] * ck_err
            + C["delivery_late"] * (svc == 1) + C["return_request"] * (svc == 2)
            + C["satisfaction"] * sat_i + C["purchase_in_session"] * buy
        )  # fmt: skip
        fire = (pending[ci] == 0) & (rng.random(m) < _sigmoid(hz))
        cause = np.stack(
            [
                svc == 1,
                pay_err,
                svc == 2,
                ck_err,
                sat_i < C["low_satisfaction_threshold"],
                np.ones(m, bool),
            ],  # fmt: skip
            axis=1,
        ).argmax(axis=1)
        cf = ci[fire]
        churn_time[cf] = np.maximum(s_end, fb_last[ci])[fire]
        churn_cause[cf] = cause[fire]
        active[cf] = False

        sess_parts.append(
            {
                "sess": sid, "cust": ci, "start": st, "end": s_end, "ch": ch, "dev": dev, "camp": camp,
                "service": svc.astype(np.int64), "purchase": buy, "cart_abandoned": ab,
                "checkout_errors": n_err, "payment_error": pay_err, "incident": in_win,
                "offline": offline, "retargeted": rt, "consider": consider,
            }
        )  # fmt: skip

    events = _concat(ev_done)
    sessions = _concat(sess_parts)
    customers = {
        "persona": persona, "region": region, "segment": segment, "satisfaction": sat,
        "propensity": prop, "primary_device": primary, "signup": signup, "signup_ch": np.where(existing, signup_ch, first_ch),  # fmt: skip
        "existing": existing, "churn_time": churn_time, "churn_cause": churn_cause,
        "n_orders": n_orders, **{f"n_{k}": v for k, v in cnt.items()},
    }  # fmt: skip
    return ChunkArrays(customers, events, orders.arrays(), fbk.arrays(), sessions)


P_TOPIC = {name: i for i, name in enumerate(TOPICS)}


def _topic(
    good: np.ndarray,
    bad: np.ndarray,
    late: np.ndarray,
    pay: np.ndarray,
    ret: np.ndarray,
    ck: np.ndarray,
    u: np.ndarray,
    bad_topic: str = "product_bad",
) -> np.ndarray:
    """Comment topic: the friction cause for unhappy answers, praise for happy ones."""
    cause = np.select(
        [late, pay, ret, ck],
        [P_TOPIC["delivery_late"], P_TOPIC["payment_error"], P_TOPIC["return_request"], P_TOPIC["checkout_error"]],
        P_TOPIC[bad_topic],
    )  # fmt: skip
    praise = np.where(~late & (u < 0.3), P_TOPIC["positive_delivery"], P_TOPIC["positive"])
    return np.where(bad, cause, np.where(good, praise, P_TOPIC["neutral"]))


def _concat(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    if not parts:
        return {}
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
