"""Sentences that state a finding, computed from an analysis table.

Every figure in a report page carries one sentence saying what it shows, with its numbers and
denominators. The sentence builders live here, not in notebooks: they choose what is worth
saying (small groups are left out, a difference that is not significant is called so), and they
are the one place where report wording can later be translated.

Each function takes the tidy table an analysis returned and the report settings (for number
formatting) and returns Markdown text. None of them computes new statistics.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from journeylib import i18n
from journeylib.config import JourneySpec, PlaybookSpec, ReportSpec
from journeylib.display import fmt_money, fmt_number, fmt_pct

#: Groups smaller than this are not singled out in a sentence (their rates are too noisy).
MIN_GROUP = 30
ALPHA = 0.05


def _words(event: str) -> str:
    return str(event).replace("_", " ")


# ---- journey and attribution (notebooks 10_journey_stages, 20_touchpoints_attribution) --------
# Sentences in the report language (report.language: en or id). Event, channel, device and path
# names are the client's data and stay as they are (in Indonesian text event names are set in
# italics where the English sentence uses them as verbs).
_JOURNEY_TEXT: dict[str, dict[str, str]] = {
    "en": {
        "reach_none": "No customer has a stage signal yet.",
        "reach": "{total} customers entered the journey; {n} of them ({share}) reached {stage}.",
        "unused": "**Check the stage rules:** these rule events never occur in the data: {names}.",
        "exits": "{n} of {total} customers ({share}) have left the journey: no activity in the "
        "{days} days before the cut-off.",
        "funnel_done": "{share} of customers who {first} complete the funnel in sequence.",
        "cart_lost": "{share} of the {n} customers who {cart} do not {last}{window}.",
        "cart_window": " within {days} days of their first {first}",
        "drop_none": "No customer dropped out of the funnel.",
        "drop": "The largest drop is after **{step}**: {n} customers did not go on to {next}; "
        "{share} of them completed the funnel later (within {days} days).",
        "carts_none": "No cart was created in this period.",
        "carts": "{left} of {n} carts are left in their visit; {recovered} of those are bought "
        "in a later visit, so {lost} of carts are lost.",
        "carts_channel": " Recovered buyers came back mostly through **{channel}** ({share}).",
        "segment_few": "Too few customers per {segment} to compare conversion (fewer than {min} "
        "each).",
        "segment_sig": "the difference across {segment} values is statistically significant "
        "(chi-square p = {p})",
        "segment_nosig": "the difference across {segment} values is not statistically "
        "significant (chi-square p = {p})",
        "segment": "By {segment}: **{high}** converts {high_rate} ({n} customers) against "
        "{low_rate} for **{low}**; {verdict}.",
        "variant_none": "No common path converts above the average customer.",
        "variant": "The path **{variant}** ({n} customers) converts {rate}, {lift}× the average "
        "of {base}.",
        "anomaly_none": "No day stands out: friction stays within its usual range.",
        "anomaly": "**{event}** spikes on {n} days between {first} and {last}: look for a broken "
        "step or an outage in that window.",
        "device_sig": "a significant difference (p = {p})",
        "device_nosig": "not a significant difference (p = {p})",
        "device": "A {device} visit converts {rate} against {base} on {baseline}: {verdict}. "
        "Part of a gap can come from who uses which device, not the device itself.",
        "repeat_none": "No cohort has been observed for a full {period} after its first purchase "
        "yet.",
        "repeat": "Of {n} new buyers observed for a {period}, {rate} bought again in the "
        "{period} after their first purchase.",
        "paths_none": "No conversion in the data: there is nothing to attribute.",
        "paths": "{conversions} conversions and {other} journeys without a conversion, on "
        "{paths} distinct paths of touches in the {days} days before each conversion; a "
        "converting path has {length} touches on average and {single} of conversions had a "
        "single touch.",
        "memory_1": "the last touch",
        "memory_k": "the last {k} touches",
        "markov_order": "A Markov chain of order {k} (each step depends on {memory}) predicts "
        "held-out journeys best ({ll} log-likelihood per step), so the removal effects below use "
        "it.",
        "credit_none": "{model} credits no channel.",
        "credit_ci": " (95% interval {lo}–{hi})",
        "credit": "{model} credits {channel} with {share} of conversions{ci}, {n} of {total}.",
        "more": "more",
        "less": "less",
        "disagree": "The models disagree most on {channel}: {b} gives it {b_share} of the "
        "credit, {more} than {a} ({a_share}).",
        "assist_few": "Too few conversions per channel to compare assisting and closing roles.",
        "closer": "{channel} closes more conversions than it assists (ratio {ratio})",
        "lowest": "{channel} has the lowest ratio ({ratio})",
        "assist": "{channel} assists {ratio} conversions for every one it closes; {closer}.",
        "roas_none": "No channel has both spend and credited revenue.",
        "roas": "Under the {name} model, {best} returns {best_roas} in revenue per unit of spend "
        "(cost per conversion {cpa}); {worst} returns {worst_roas}.",
        "the_model": "The {name} model",
    },
    "id": {
        "reach_none": "Belum ada pelanggan yang memiliki sinyal tahap.",
        "reach": "{total} pelanggan memasuki perjalanan pelanggan; {n} di antaranya ({share}) "
        "mencapai tahap {stage}.",
        "unused": "**Periksa aturan tahap:** event (peristiwa) berikut disebut dalam aturan "
        "tahap tetapi tidak pernah muncul dalam data: {names}.",
        "exits": "{n} dari {total} pelanggan ({share}) telah keluar dari perjalanan: tidak ada "
        "aktivitas dalam {days} hari sebelum tanggal batas.",
        "funnel_done": "{share} pelanggan yang melakukan *{first}* menyelesaikan funnel secara "
        "berurutan.",
        "cart_lost": "{share} dari {n} pelanggan yang melakukan *{cart}* tidak melanjutkan ke "
        "*{last}*{window}.",
        "cart_window": " dalam {days} hari sejak *{first}* pertama mereka",
        "drop_none": "Tidak ada pelanggan yang berhenti di tengah funnel.",
        "drop": "Drop-off terbesar terjadi setelah **{step}**: {n} pelanggan tidak melanjutkan "
        "ke *{next}*; {share} di antaranya menyelesaikan funnel kemudian (dalam {days} hari).",
        "carts_none": "Tidak ada keranjang yang dibuat dalam periode ini.",
        "carts": "{left} dari {n} keranjang ditinggalkan dalam kunjungan yang sama; {recovered} "
        "di antaranya dibeli pada kunjungan berikutnya, sehingga {lost} keranjang hilang.",
        "carts_channel": " Pembeli yang kembali paling banyak datang melalui kanal **{channel}** "
        "({share}).",
        "segment_few": "Terlalu sedikit pelanggan per {segment} untuk membandingkan konversi "
        "(kurang dari {min} pelanggan per kelompok).",
        "segment_sig": "perbedaan antarkelompok {segment} signifikan secara statistik "
        "(chi-square p = {p})",
        "segment_nosig": "perbedaan antarkelompok {segment} tidak signifikan secara statistik "
        "(chi-square p = {p})",
        "segment": "Menurut {segment}: **{high}** berkonversi {high_rate} ({n} pelanggan) "
        "dibandingkan {low_rate} pada **{low}**; {verdict}.",
        "variant_none": "Tidak ada jalur umum yang berkonversi di atas rata-rata pelanggan.",
        "variant": "Jalur **{variant}** ({n} pelanggan) berkonversi {rate}, {lift}× rata-rata "
        "{base}.",
        "anomaly_none": "Tidak ada hari yang menonjol: friksi tetap dalam kisaran biasanya.",
        "anomaly": "**{event}** melonjak pada {n} hari antara {first} dan {last}: periksa "
        "apakah ada langkah yang rusak atau gangguan layanan dalam rentang waktu itu.",
        "device_sig": "perbedaannya signifikan (p = {p})",
        "device_nosig": "perbedaannya tidak signifikan (p = {p})",
        "device": "Kunjungan dari perangkat {device} berkonversi {rate} dibandingkan {base} "
        "dari {baseline}: {verdict}. Sebagian selisih dapat berasal dari siapa yang memakai "
        "perangkat tersebut, bukan dari perangkatnya sendiri.",
        "repeat_none": "Belum ada kohort yang teramati selama satu {period} penuh setelah "
        "pembelian pertamanya.",
        "repeat": "Dari {n} pembeli baru yang teramati selama satu {period}, {rate} membeli lagi "
        "pada {period} setelah pembelian pertama mereka.",
        "paths_none": "Tidak ada konversi dalam data: tidak ada yang dapat diatribusikan.",
        "paths": "{conversions} konversi dan {other} perjalanan tanpa konversi, pada {paths} "
        "jalur sentuhan yang berbeda dalam {days} hari sebelum setiap konversi; jalur yang "
        "berkonversi rata-rata memiliki {length} sentuhan dan {single} konversi hanya memiliki "
        "satu sentuhan.",
        "memory_1": "sentuhan terakhir",
        "memory_k": "{k} sentuhan terakhir",
        "markov_order": "Rantai Markov orde {k} (setiap langkah bergantung pada {memory}) paling "
        "baik memprediksi perjalanan yang disisihkan untuk pengujian ({ll} log-likelihood per "
        "langkah), sehingga efek penghapusan di bawah ini memakai orde tersebut.",
        "credit_none": "{model} tidak memberikan kredit kepada kanal mana pun.",
        "credit_ci": " (selang kepercayaan 95%: {lo}–{hi})",
        "credit": "{model} memberikan {share} kredit konversi kepada {channel}{ci}, yaitu {n} "
        "dari {total}.",
        "more": "lebih besar",
        "less": "lebih kecil",
        "disagree": "Perbedaan terbesar antarmodel ada pada {channel}: model {b} memberinya "
        "{b_share} kredit, {more} daripada model {a} ({a_share}).",
        "assist_few": "Terlalu sedikit konversi per kanal untuk membandingkan peran membantu "
        "(assist) dan menuntaskan konversi.",
        "closer": "{channel} lebih banyak menuntaskan konversi daripada membantunya (rasio "
        "{ratio})",
        "lowest": "{channel} memiliki rasio terendah ({ratio})",
        "assist": "{channel} membantu (assist) {ratio} konversi untuk setiap satu konversi yang "
        "dituntaskannya; {closer}.",
        "roas_none": "Tidak ada kanal yang memiliki biaya iklan sekaligus pendapatan yang "
        "dikreditkan.",
        "roas": "Dengan model {name}, {best} menghasilkan pendapatan {best_roas} per satuan "
        "biaya iklan (biaya per konversi {cpa}); {worst} menghasilkan {worst_roas}.",
        "the_model": "Model {name}",
    },
}

#: Segment and period words in Indonesian sentences (other names are shown as they are).
_JOURNEY_WORDS_ID: dict[str, str] = {
    "device": "perangkat",
    "channel": "kanal",
    "cohort": "kohort",
    "segment": "segmen",
    "region": "wilayah",
    "signup_channel": "kanal pendaftaran",
    "persona": "persona",
    "day": "hari",
    "week": "minggu",
    "month": "bulan",
    "quarter": "kuartal",
    "year": "tahun",
}


def _jt(report: ReportSpec | None, key: str, **values: object) -> str:
    language = report.language if report is not None else "en"
    texts = _JOURNEY_TEXT.get(language, _JOURNEY_TEXT["en"])
    return texts[key].format(**values)


def _jw(word: str, report: ReportSpec | None) -> str:
    """A segment or period name in the report language."""
    if report is not None and report.language == "id":
        return _JOURNEY_WORDS_ID.get(str(word), _words(word))
    return str(word)


def _en(report: ReportSpec | None) -> bool:
    return report is None or report.language not in _JOURNEY_TEXT or report.language == "en"


def _g(value: float, spec: str, report: ReportSpec | None) -> str:
    """``format(value, spec)``; in a translated report with the report's decimal separator
    (English keeps the decimal point it always had)."""
    text = format(float(value), spec)
    return text if _en(report) else text.replace(".", report.decimal_separator)


def _model_name(model: str, report: ReportSpec | None, *, article: bool = False) -> str:
    """An attribution model in the report language: a model key (``markov``) or English display
    name (``Last touch``) becomes its display name; ``article`` gives "The Markov model"."""
    from journeylib.attribution.suite import MODEL_LABELS, model_label

    if model in MODEL_LABELS:
        name = model_label(model, language="en" if _en(report) else report.language)
        return _jt(report, "the_model", name=name) if article else name
    if _en(report):
        return model
    key = {v: k for k, v in MODEL_LABELS.items()}.get(model)
    return model if key is None else model_label(key, language=report.language)


def stage_reach(conversion: pd.DataFrame, labels: dict[str, str], report: ReportSpec) -> str:
    """How many customers entered the journey and how many reached the decision stage."""
    total = int(conversion["reached"].iloc[0]) if len(conversion) else 0
    if total == 0:
        return _jt(report, "reach_none")
    row = conversion.iloc[min(2, len(conversion) - 1)]
    n = int(round(row["share_of_all"] * total)) if pd.notna(row["share_of_all"]) else 0
    return _jt(
        report, "reach", total=fmt_number(total, report), n=fmt_number(n, report),
        share=fmt_pct(row["share_of_all"], report), stage=labels.get(row["stage"], row["stage"]),
    )  # fmt: skip


def unused_rules(coverage: pd.DataFrame, report: ReportSpec | None = None) -> str | None:
    """A warning naming stage-rule events that never occur (None when all occur)."""
    unused = coverage[coverage["events"] == 0]
    if unused.empty:
        return None
    names = ", ".join(f"`{e}` ({s})" for e, s in zip(unused["event"], unused["stage"], strict=True))
    return _jt(report, "unused", names=names)


def exits(transitions: pd.DataFrame, customers: int, lapse_days: int, report: ReportSpec) -> str:
    """How many customers have left the journey (lapsed)."""
    n = int(transitions.loc[transitions["kind"] == "exit", "transitions"].sum())
    share = n / customers if customers else float("nan")
    return _jt(
        report, "exits", n=fmt_number(n, report), total=fmt_number(customers, report),
        share=fmt_pct(share, report), days=lapse_days,
    )  # fmt: skip


def cart_to_purchase(funnel: pd.DataFrame, journey: JourneySpec, report: ReportSpec) -> str:
    """Share of customers who reached the cart step but not the last step, within the window."""
    steps = funnel.set_index("step")
    if journey.cart_event not in steps.index:
        last = funnel.iloc[-1]
        return _jt(
            report, "funnel_done", share=fmt_pct(last["conversion_from_start_strict"], report),
            first=_words(journey.funnel[0]),
        )  # fmt: skip
    carts = int(steps.loc[journey.cart_event, "customers_strict"])
    done = int(funnel["customers_strict"].iloc[-1])
    window = ""
    if journey.funnel_window_days:
        days = _g(journey.funnel_window_days, "g", report)
        window = _jt(report, "cart_window", days=days, first=_words(journey.funnel[0]))
    lost = 1 - done / carts if carts else float("nan")
    return _jt(
        report, "cart_lost", share=fmt_pct(lost, report), n=fmt_number(carts, report),
        cart=_words(journey.cart_event), last=_words(funnel["step"].iloc[-1]), window=window,
    )  # fmt: skip


def largest_drop(summary: pd.DataFrame, recovery_days: int, report: ReportSpec) -> str:
    """The funnel step that loses most customers, and how many of them came back."""
    if summary.empty or summary["dropped"].sum() == 0:
        return _jt(report, "drop_none")
    worst = summary.sort_values(["dropped", "step_no"], ascending=[False, True]).iloc[0]
    return _jt(
        report, "drop", step=_words(worst["step"]), n=fmt_number(worst["dropped"], report),
        next=_words(worst["next_step"]), share=fmt_pct(worst["recoverable_share"], report),
        days=recovery_days,
    )  # fmt: skip


def carts(cart: pd.DataFrame, recovery: pd.DataFrame, report: ReportSpec) -> str:
    """Cart abandonment in the visit, later recovery, and the main recovery channel."""
    c = cart.iloc[0]
    if not c["carts"]:
        return _jt(report, "carts_none")
    text = _jt(
        report, "carts", left=fmt_pct(c["in_session_abandonment_rate"], report),
        n=fmt_number(c["carts"], report), recovered=fmt_pct(c["recovery_rate"], report),
        lost=fmt_pct(c["abandonment_rate"], report),
    )  # fmt: skip
    if len(recovery) and recovery["recovered_carts"].sum() > 0:
        top = recovery.sort_values("recovered_carts", ascending=False).iloc[0]
        text += _jt(
            report, "carts_channel", channel=_words(top["channel"]),
            share=fmt_pct(top["share"], report),
        )  # fmt: skip
    return text


def segment_difference(
    by_segment: pd.DataFrame, segment: str, report: ReportSpec, *, min_group: int = MIN_GROUP
) -> str:
    """Best vs worst converting segment (groups of at least ``min_group``), with the test result."""
    big = by_segment[by_segment["customers"] >= min_group]
    words = _jw(segment, report)
    if len(big) < 2:
        return _jt(report, "segment_few", segment=words, min=min_group)
    ranked = big.sort_values(["conversion", "customers"])
    low, high = ranked.iloc[0], ranked.iloc[-1]
    p = float(by_segment["chi2_p_value"].iloc[0])
    verdict = _jt(
        report, "segment_sig" if p < ALPHA else "segment_nosig", segment=words,
        p=_g(p, ".2g", report),
    )  # fmt: skip
    return _jt(
        report, "segment", segment=words, high=high[segment],
        high_rate=fmt_pct(high["conversion"], report), n=fmt_number(high["customers"], report),
        low_rate=fmt_pct(low["conversion"], report), low=low[segment], verdict=verdict,
    )  # fmt: skip


def best_variant(variants: pd.DataFrame, report: ReportSpec, *, min_group: int = MIN_GROUP) -> str:
    """The most common path that converts clearly above average."""
    big = variants[(variants["customers"] >= min_group) & (variants["lift"] > 1)]
    if big.empty:
        big = variants[(variants["customers"] >= report.min_cell_count) & (variants["lift"] > 1)]
    if big.empty:
        return _jt(report, "variant_none")
    best = big.sort_values(["lift", "customers"]).iloc[-1]
    return _jt(
        report, "variant", variant=best["variant"], n=fmt_number(best["customers"], report),
        rate=fmt_pct(best["conversion_rate"], report), lift=_g(best["lift"], ".1f", report),
        base=fmt_pct(best["baseline_rate"], report),
    )  # fmt: skip


def anomalies(frictions: pd.DataFrame, report: ReportSpec | None = None) -> str:
    """Which friction events spiked, and when."""
    flagged = frictions[frictions["anomaly"].fillna(False).astype(bool)]
    if flagged.empty:
        return _jt(report, "anomaly_none")
    top = flagged["event"].value_counts().index[0]
    first, last = flagged["period"].min(), flagged["period"].max()
    return _jt(
        report, "anomaly", event=_words(top), n=len(flagged[flagged["event"] == top]),
        first=f"{first:%Y-%m-%d}", last=f"{last:%Y-%m-%d}",
    )  # fmt: skip


def device_gap(gap: pd.DataFrame, report: ReportSpec) -> str:
    """Desktop vs mobile conversion per visit, with the test and a caveat on composition."""
    g = gap.iloc[0]
    p = _g(g["p_value"], ".2g", report)
    verdict = _jt(report, "device_sig" if g["p_value"] < ALPHA else "device_nosig", p=p)
    return _jt(
        report, "device", device=g["device"], rate=fmt_pct(g["rate"], report),
        base=fmt_pct(g["baseline_rate"], report), baseline=g["baseline"], verdict=verdict,
    )  # fmt: skip


def repeat_next_period(cohorts: pd.DataFrame, period: str, report: ReportSpec) -> str:
    """Pooled share of new buyers who buy again in the period after their first purchase."""
    nxt = cohorts[(cohorts["offset"] == 1) & cohorts["rate"].notna()]
    words = _jw(period, report)
    if nxt.empty or nxt["customers"].sum() == 0:
        return _jt(report, "repeat_none", period=words)
    rate = nxt["retained"].sum() / nxt["customers"].sum()
    return _jt(
        report, "repeat", n=fmt_number(nxt["customers"].sum(), report), period=words,
        rate=fmt_pct(rate, report),
    )  # fmt: skip


# ---- attribution (notebook 20_touchpoints_attribution) -----------------------------------------
def attribution_paths(summary: pd.DataFrame, lookback_days: int, report: ReportSpec) -> str:
    """How many conversions and journeys the attribution models see (one-row summary)."""
    s = summary.iloc[0]
    if not s["conversions"]:
        return _jt(report, "paths_none")
    return _jt(
        report, "paths", conversions=fmt_number(s["conversions"], report),
        other=fmt_number(s["non_converting"], report), paths=fmt_number(s["paths"], report),
        days=lookback_days, length=fmt_number(s["mean_length_converting"], report, decimals=1),
        single=fmt_pct(s["single_touch_share"], report),
    )  # fmt: skip


def markov_order(orders: pd.DataFrame, report: ReportSpec) -> str:
    """Which Markov order predicts held-out journeys best."""
    best = orders[orders["chosen"]].iloc[0]
    k = int(best["order"])
    memory = _jt(report, "memory_1") if k == 1 else _jt(report, "memory_k", k=k)
    return _jt(
        report, "markov_order", k=k, memory=memory,
        ll=fmt_number(best["log_likelihood_per_transition"], report, decimals=3),
    )  # fmt: skip


def top_credit(table: pd.DataFrame, model: str, report: ReportSpec) -> str:
    """The channel a model credits most, with its bootstrap interval when present.

    ``model`` is a name as the sentence should say it ("The Markov model"), or a model key of
    :data:`journeylib.attribution.suite.MODEL_LABELS` (``markov``: "The Markov model", in
    Indonesian "Model Markov").
    """
    name = _model_name(model, report, article=True)
    t = table.sort_values("share", ascending=False)
    if t.empty or not t["share"].notna().any():
        return _jt(report, "credit_none", model=name)
    top = t.iloc[0]
    ci = ""
    if {"share_low", "share_high"} <= set(t.columns) and pd.notna(top.get("share_low")):
        ci = _jt(
            report, "credit_ci", lo=fmt_pct(top["share_low"], report),
            hi=fmt_pct(top["share_high"], report),
        )  # fmt: skip
    return _jt(
        report, "credit", model=name, channel=top["channel"], share=fmt_pct(top["share"], report),
        ci=ci, n=fmt_number(top["conversions"], report),
        total=fmt_number(t["conversions"].sum(), report),
    )  # fmt: skip


def model_disagreement(comparison: pd.DataFrame, a: str, b: str, report: ReportSpec) -> str:
    """The channel whose credit differs most between models ``a`` and ``b`` (long comparison;
    ``a`` and ``b`` are values of its ``model`` column, named in the report language)."""
    wide = comparison.pivot_table(index="channel", columns="model", values="share", aggfunc="sum")
    if a not in wide.columns or b not in wide.columns or wide.empty:
        return ""
    diff = (wide[b] - wide[a]).dropna()
    if diff.empty:
        return ""
    ch = diff.abs().idxmax()
    return _jt(
        report, "disagree", channel=ch, b=_model_name(b, report),
        b_share=fmt_pct(wide.at[ch, b], report), more=_jt(report, "more" if diff[ch] > 0 else "less"),
        a=_model_name(a, report), a_share=fmt_pct(wide.at[ch, a], report),
    )  # fmt: skip


def assist_roles(assisted: pd.DataFrame, report: ReportSpec) -> str:
    """The most assist-heavy channel and the strongest closer."""
    t = assisted[assisted["last_touch_conversions"] + assisted["assisted_conversions"] >= MIN_GROUP]
    t = t[t["assist_ratio"].notna() & (t["assist_ratio"] != float("inf"))]
    if len(t) < 2:
        return _jt(report, "assist_few")
    hi, lo = t.loc[t["assist_ratio"].idxmax()], t.loc[t["assist_ratio"].idxmin()]
    ratio_hi = fmt_number(hi["assist_ratio"], report, decimals=1)
    ratio_lo = fmt_number(lo["assist_ratio"], report, decimals=2)
    closer = _jt(
        report, "closer" if lo["assist_ratio"] < 1 else "lowest", channel=lo["channel"],
        ratio=ratio_lo,
    )  # fmt: skip
    return _jt(report, "assist", channel=hi["channel"], ratio=ratio_hi, closer=closer)


def best_roas(
    efficiency: pd.DataFrame, model: str, report: ReportSpec, *, name: str | None = None
) -> str:
    """The channels with the highest and lowest return on ad spend under ``model`` (shown as
    ``name``; in a translated report a known model is named in the report language)."""
    t = efficiency[(efficiency["model"] == model) & (efficiency["cost"] > 0)]
    t = t[t["roas"].notna()]
    if t.empty:
        return _jt(report, "roas_none")
    best, worst = t.loc[t["roas"].idxmax()], t.loc[t["roas"].idxmin()]
    shown = name or model
    if not _en(report) and _model_name(model, report) != model:
        shown = _model_name(model, report)
    return _jt(
        report, "roas", name=shown, best=best["channel"],
        best_roas=fmt_number(best["roas"], report, decimals=1), cpa=fmt_money(best["cpa"], report),
        worst=worst["channel"], worst_roas=fmt_number(worst["roas"], report, decimals=1),
    )  # fmt: skip


# ---- personas (notebook 30_personas) -----------------------------------------------------------
# Sentences in the report language (report.language: en or id). Persona labels and descriptions
# are generated from feature names and stay as generated.
_PERSONA_TEXT: dict[str, dict[str, str]] = {
    "en": {
        "inputs": "{n} customers, each described by {f} features; the personas are learned "
        "from {c} of them (the feature dictionary at the end of the page lists every feature, "
        "what it means and whether it is used).",
        "k_stability": "**{k} personas**: the largest number between {lo} and {hi} for which "
        "every persona is reproduced when the model is refitted on bootstrap resamples of the "
        "customers.",
        "k_silhouette": "**{k} personas**: the best silhouette score among the numbers between "
        "{lo} and {hi} whose personas are all reproduced by bootstrap refits.",
        "k_bic": "**{k} personas**: the lowest BIC among the numbers between {lo} and {hi} whose "
        "personas are all reproduced by bootstrap refits.",
        "k_fixed": "**{k} personas**, the number set in the configuration.",
        "learned": " They were learned from {n} of {total} customers ({share}){activity}; every "
        "customer is assigned to the nearest persona.",
        "activity": ", those with at least {min} {what}",
        "stable": "**Stability:** every persona is reproduced by the bootstrap refits: the least "
        "stable one keeps a mean Jaccard index of {s} with its best match (threshold {t}; "
        "adjusted Rand index of the whole grouping {ari}).",
        "unstable_auto": "**Warning: these personas are not stable.** For no number of personas "
        "between {lo} and {hi} is every persona reproduced by bootstrap refits; the {k} shown "
        "are the most stable (least stable persona: mean Jaccard index {s}, below the {t} "
        "threshold). Treat them as tentative: another sample of the same customers could group "
        "them differently.",
        "unstable_fixed": "**Warning: these personas are not stable.** Of the {k} personas set "
        "in the configuration, the least stable keeps a mean Jaccard index of only {s} with its "
        "bootstrap refits (threshold {t}). Treat them as tentative, or let the number be chosen "
        "(personas.k: 0).",
        "not_assessed": "**Warning:** the stability of the personas was not assessed "
        "(personas.stability_resamples is 0), so they may not be reproducible.",
        "fallback": "**Note:** only {n} of {total} customers have at least {min} {what}, too "
        "few to learn personas from, so they are learned from every customer; personas of "
        "customers with little activity rest on very little behaviour.",
        "dropped": "{n} feature(s) were left out because they are constant or missing for every "
        "customer learned from: {names}.",
        "largest": "The largest persona, **{label}**, holds {n} customers ({share}). Compared "
        "with all customers: {desc}.",
        "no_persona": "No customer was assigned to a persona.",
        "conversion": "**{hi}** converts best: {hi_rate} of its {hi_n} customers in the "
        "journey have ordered, against {lo_rate} for **{lo}**.",
        "churn": " Churn is highest for **{hi}**: {hi_rate} have had no activity in the "
        "{days} days before the cut-off (lowest: **{lo}**, {lo_rate}).",
        "too_few": "Too few customers per persona to compare outcomes (fewer than {min} in the "
        "journey each).",
    },
    "id": {
        "inputs": "{n} pelanggan, masing-masing dijelaskan oleh {f} fitur; persona dipelajari "
        "dari {c} fitur di antaranya (kamus fitur di akhir halaman mencantumkan setiap fitur, "
        "artinya, dan apakah fitur itu dipakai).",
        "k_stability": "**{k} persona**: jumlah terbesar antara {lo} dan {hi} yang setiap "
        "personanya muncul kembali ketika model dilatih ulang pada sampel bootstrap pelanggan.",
        "k_silhouette": "**{k} persona**: skor silhouette terbaik di antara jumlah {lo} sampai "
        "{hi} yang semua personanya muncul kembali pada pelatihan ulang bootstrap.",
        "k_bic": "**{k} persona**: BIC terendah di antara jumlah {lo} sampai {hi} yang semua "
        "personanya muncul kembali pada pelatihan ulang bootstrap.",
        "k_fixed": "**{k} persona**, sesuai jumlah yang ditetapkan di konfigurasi.",
        "learned": " Persona dipelajari dari {n} dari {total} pelanggan ({share}){activity}; "
        "setiap pelanggan ditempatkan pada persona terdekat.",
        "activity": ", yaitu yang memiliki sedikitnya {min} {what}",
        "stable": "**Stabilitas:** setiap persona muncul kembali pada pelatihan ulang bootstrap: "
        "persona yang paling tidak stabil mempertahankan indeks Jaccard rata-rata {s} dengan "
        "pasangan terbaiknya (ambang {t}; adjusted Rand index seluruh pengelompokan {ari}).",
        "unstable_auto": "**Peringatan: persona ini tidak stabil.** Tidak ada jumlah persona "
        "antara {lo} dan {hi} yang setiap personanya muncul kembali pada pelatihan ulang "
        "bootstrap; {k} persona yang ditampilkan adalah yang paling stabil (persona paling tidak "
        "stabil: indeks Jaccard rata-rata {s}, di bawah ambang {t}). Anggap persona ini "
        "sementara: sampel lain dari pelanggan yang sama dapat mengelompokkannya secara berbeda.",
        "unstable_fixed": "**Peringatan: persona ini tidak stabil.** Dari {k} persona yang "
        "ditetapkan di konfigurasi, persona yang paling tidak stabil hanya mempertahankan indeks "
        "Jaccard rata-rata {s} dengan pelatihan ulang bootstrap (ambang {t}). Anggap persona ini "
        "sementara, atau biarkan jumlahnya dipilih otomatis (personas.k: 0).",
        "not_assessed": "**Peringatan:** stabilitas persona tidak diperiksa "
        "(personas.stability_resamples bernilai 0), sehingga persona mungkin tidak dapat "
        "direproduksi.",
        "fallback": "**Catatan:** hanya {n} dari {total} pelanggan yang memiliki sedikitnya "
        "{min} {what}, terlalu sedikit untuk mempelajari persona, sehingga persona dipelajari "
        "dari semua pelanggan; persona pelanggan yang jarang aktif bertumpu pada sangat sedikit "
        "perilaku.",
        "dropped": "{n} fitur tidak dipakai karena konstan atau kosong pada semua pelanggan yang "
        "dipelajari: {names}.",
        "largest": "Persona terbesar, **{label}**, mencakup {n} pelanggan ({share}). "
        "Dibandingkan dengan semua pelanggan: {desc}.",
        "no_persona": "Tidak ada pelanggan yang ditempatkan pada persona.",
        "conversion": "**{hi}** berkonversi paling baik: {hi_rate} dari {hi_n} pelanggannya "
        "dalam perjalanan pelanggan pernah memesan, dibandingkan {lo_rate} pada **{lo}**.",
        "churn": " Churn tertinggi pada **{hi}**: {hi_rate} tidak aktif dalam {days} hari "
        "sebelum tanggal batas (terendah: **{lo}**, {lo_rate}).",
        "too_few": "Terlalu sedikit pelanggan per persona untuk membandingkan hasil (kurang dari "
        "{min} pelanggan dalam perjalanan per persona).",
    },
}


def _pt(report: ReportSpec, key: str, **values: object) -> str:
    texts = _PERSONA_TEXT.get(report.language, _PERSONA_TEXT["en"])
    return texts[key].format(**values)


def _activity_words(column: str, language: str = "en") -> str:
    """``engagement_sessions`` -> ``sessions``: the column name without its feature group
    (in ``language``: the feature's short name, else the phrase catalogue)."""
    from journeylib.features import FEATURE_GROUPS, feature_short_name

    if language != i18n.SOURCE_LANGUAGE:
        short = feature_short_name(str(column), language=language)
        if short:
            return short
    head, _, rest = str(column).partition("_")
    return i18n.phrase(_words(rest if head in FEATURE_GROUPS and rest else column), language)


def _chosen(selection: pd.DataFrame) -> pd.Series:
    chosen = selection[selection["chosen"].astype(bool)]
    if chosen.empty:
        raise ValueError("the selection table has no chosen k")
    return chosen.iloc[0]


def persona_inputs_summary(
    customers: int, features: int, clustered: int, report: ReportSpec
) -> str:
    """How many customers and features there are, and how many features define the personas."""
    return _pt(
        report,
        "inputs",
        n=fmt_number(customers, report),
        f=fmt_number(features, report),
        c=fmt_number(clustered, report),
    )


def personas_found(
    selection: pd.DataFrame,
    report: ReportSpec,
    *,
    learned: int,
    customers: int,
    method: str = "stability",
    activity_column: str | None = None,
    min_activity: float = 0,
) -> str:
    """How many personas there are, how that number was chosen and whom they were learned from.

    Parameters
    ----------
    selection
        ``PersonaModel.selection_``: one row per candidate k (k, stability, chosen, ...); a
        single row means k was set in the configuration.
    learned, customers
        Customers learned from (``len(model.sample_index_)``) and customers assigned.
    method
        ``personas.selection``: stability, silhouette or bic.
    activity_column, min_activity
        The activity threshold the learners passed (none when ``min_activity`` is 0).
    """
    row = _chosen(selection)
    k, lo, hi = int(row["k"]), int(selection["k"].min()), int(selection["k"].max())
    key = "k_fixed" if len(selection) == 1 else f"k_{method}"
    if key not in _PERSONA_TEXT["en"]:
        key = "k_stability"
    activity = (
        _pt(
            report,
            "activity",
            min=fmt_number(min_activity, report),
            what=_activity_words(activity_column, report.language),
        )
        if activity_column and min_activity > 0
        else ""
    )
    share = fmt_pct(learned / customers if customers else float("nan"), report)
    return _pt(report, key, k=k, lo=lo, hi=hi) + _pt(
        report,
        "learned",
        n=fmt_number(learned, report),
        total=fmt_number(customers, report),
        share=share,
        activity=activity,
    )


def persona_stability(selection: pd.DataFrame, report: ReportSpec) -> str:
    """The stability statement for the chosen k: stable, or a visible warning.

    A k is stable when its least reproducible persona's mean bootstrap Jaccard index reaches
    ``min_stability`` (``PersonaModel.selection_``); an unstable or unassessed solution is
    always announced with a bold warning.
    """
    row = _chosen(selection)
    s, t = row["stability"], float(row["min_stability"])
    if pd.isna(s):
        return _pt(report, "not_assessed")
    values = {
        "k": int(row["k"]),
        "lo": int(selection["k"].min()),
        "hi": int(selection["k"].max()),
        "s": fmt_number(s, report, decimals=2),
        "t": fmt_number(t, report, decimals=2),
        "ari": fmt_number(row.get("stability_ari"), report, decimals=2),
    }
    if s >= t:
        return _pt(report, "stable", **values)
    return _pt(report, "unstable_fixed" if len(selection) == 1 else "unstable_auto", **values)


def persona_learning_fallback(
    n_active: int, customers: int, activity_column: str, min_activity: float, report: ReportSpec
) -> str:
    """Note shown when too few customers pass the activity threshold and everyone is learned
    from (:func:`journeylib.personas.learning_spec`)."""
    return _pt(
        report,
        "fallback",
        n=fmt_number(n_active, report),
        total=fmt_number(customers, report),
        min=fmt_number(min_activity, report),
        what=_activity_words(activity_column, report.language),
    )


def dropped_features(dropped: dict[str, str], report: ReportSpec) -> str | None:
    """The features the model left out (``PersonaModel.dropped_features_``); None if none."""
    if not dropped:
        return None
    names = ", ".join(
        f"`{name}` ({i18n.phrase(why, report.language)})" for name, why in dropped.items()
    )
    return _pt(report, "dropped", n=fmt_number(len(dropped), report), names=names)


def largest_persona(cards: pd.DataFrame, descriptions: dict, report: ReportSpec) -> str:
    """The biggest persona (``persona_cards``: persona, persona_label, customers, share) and
    the numbers that set it apart (``persona_descriptions``)."""
    if cards.empty or cards["customers"].sum() == 0:
        return _pt(report, "no_persona")
    top = cards.sort_values(["customers", "persona"], ascending=[False, True]).iloc[0]
    label = top["persona_label"] if "persona_label" in cards.columns else f"{top['persona']}"
    return _pt(
        report,
        "largest",
        label=label,
        n=fmt_number(top["customers"], report),
        share=fmt_pct(top["share"], report),
        desc=descriptions.get(top["persona"], "–"),
    )


def persona_outcome_extremes(
    outcomes: pd.DataFrame, report: ReportSpec, *, lapse_days: int, min_group: int = MIN_GROUP
) -> str:
    """Best and worst converting persona, and the persona with the most churn
    (``persona_outcomes``; personas with fewer than ``min_group`` customers in the journey
    are not singled out)."""
    big = outcomes[outcomes["in_journey"] >= min_group]
    if len(big) < 2:
        return _pt(report, "too_few", min=fmt_number(min_group, report))
    text = ""
    conv = big[big["conversion_rate"].notna()]
    if len(conv) >= 2:
        ranked = conv.sort_values(["conversion_rate", "persona"], ascending=[False, True])
        hi, lo = ranked.iloc[0], ranked.iloc[-1]
        text += _pt(
            report,
            "conversion",
            hi=hi["persona_label"],
            hi_rate=fmt_pct(hi["conversion_rate"], report),
            hi_n=fmt_number(hi["in_journey"], report),
            lo=lo["persona_label"],
            lo_rate=fmt_pct(lo["conversion_rate"], report),
        )
    churn = big[big["churn_rate"].notna()]
    if len(churn) >= 2:
        ranked = churn.sort_values(["churn_rate", "persona"], ascending=[False, True])
        hi, lo = ranked.iloc[0], ranked.iloc[-1]
        text += _pt(
            report,
            "churn",
            hi=hi["persona_label"],
            hi_rate=fmt_pct(hi["churn_rate"], report),
            days=lapse_days,
            lo=lo["persona_label"],
            lo_rate=fmt_pct(lo["churn_rate"], report),
        )
    return text.strip() or _pt(report, "too_few", min=fmt_number(min_group, report))


# ---- churn (notebook 40_churn) -----------------------------------------------------------------
# Sentences in the report language (report.language: en or id), from the tables of
# journeylib.churn, journeylib.clv and journeylib.survival. Feature names stay as in the data.
_CHURN_TEXT: dict[str, dict[str, str]] = {
    "en": {
        "def_time": "**Who counts as churned:** {definition}. The model learns from {n_train} "
        "customers labelled at the cut-off {train_as_of} ({train_rate} churned in "
        "{train_window}) and is tested on {n_test} customers at the later cut-off {test_as_of} "
        "({test_rate} churned in {test_window}), so every test score predicts a period the model "
        "has not seen. {n_score} customers eligible on {score_as_of} are scored.",
        "def_labelled": "**Who counts as churned:** the customers table says so, in its column "
        "`{label}`: {n} customers have a label and {rate} of them churned. The model learns from "
        "{n_train} customers and is tested on {n_test} others drawn at random with the same "
        "churn share; the {n_score} customers who have not churned are scored.",
        "models": "**{chosen}** is kept: on the validation customers it ranks churners above "
        "non-churners better than {other} ({metric} {a} against {b}).",
        "model_fixed": "**{chosen}** is the configured model (validation {metric} {a}).",
        "cal_auto": " Its probabilities are calibrated with {method}, which gives the lower "
        "validation Brier score ({b}, against {b_other} with {other} and {b_none} uncalibrated).",
        "cal_fixed": " Its probabilities are calibrated with {method}, as configured.",
        "cal_none": " **Its scores are not calibrated** (`churn.calibration: none`): they rank "
        "customers but are not probabilities, so the cost-based threshold below does not apply.",
        "metrics": "On {n} held-out customers, of whom {base} churned, the model ranks a "
        "churner above a non-churner {auc_pct} of the time (**ROC AUC {auc}**, {half} is "
        "guessing): {quality}. **PR AUC {pr}** (guessing scores {base}); **Brier score {brier}**"
        "{skill}. On average it predicts {mean} churn against {base} observed.",
        "skill": ", {skill} lower than predicting {base} for everyone",
        "no_skill": ", no better than predicting {base} for everyone",
        "q_excellent": "an excellent separation",
        "q_good": "a good separation",
        "q_fair": "a fair separation",
        "q_weak": "a weak separation",
        "q_none": "barely better than guessing",
        "small_test": " **Caution:** the test holds only {churners} churners and {stayers} "
        "non-churners, so these figures could differ a lot on other customers.",
        "calibration": "In {inside} of {k} probability bins the predicted churn rate lies "
        "within the 95% interval of the observed one; the largest gap is {gap} points "
        "(predicted {pred}, observed {obs}, {n} customers).",
        "lift": "The riskiest {share1} of held-out customers churn at {rate1}, {lift1} times "
        "the average of {base}; the riskiest {share3} hold {capture3} of all churners.",
        "costs": "**Cost assumptions** (`churn.costs`): a retention offer costs {offer} per "
        "customer contacted, keeps {save} of the would-be churners it reaches, and a churner "
        "kept is worth {value}. An offer pays off on average when churn probability × {save} × "
        "{value} exceeds {offer}, that is from a probability of **{t}**. At that threshold "
        "{contacted} of the {n} held-out customers ({share}) would be contacted, catching "
        "{caught} of {churners} churners ({recall}) with {false} false alarm(s): a net value of "
        "{net} compared with doing nothing.",
        "costs_never": "**Cost assumptions** (`churn.costs`): a retention offer costs {offer} "
        "per customer contacted, keeps {save} of the would-be churners it reaches, and a "
        "churner kept is worth {value}. With these figures an offer never pays off (it would "
        "need a churn probability of {t}), so nobody is contacted.",
        "placeholder": " **These are the configuration's placeholder figures:** set "
        "`churn.costs` to the client's own before acting on the threshold.",
        "value": "Over the next {h} months the {n} customers who have bought are expected to "
        "make {purchases} purchases worth {total} in today's money (discounted); the median "
        "customer is worth {median} and the most valuable 10% hold {top_share} of the value.",
        "limit_no_dropout": " The purchases show no sign of customers dropping out (the BG/NBD "
        "fit reaches its no-dropout limit), so every buyer counts as still active and is "
        "expected to keep buying at their own past rate: the churn model, not the BG/NBD, says "
        "who is leaving.",
        "limit_constant": " The purchases show no spread in how likely customers are to drop "
        "out (the BG/NBD fit reaches its constant-dropout limit): every buyer drops out with "
        "the same probability {p} after each repeat purchase.",
        "skip_labelled": "Customer value (BG/NBD and Gamma-Gamma) needs purchase transactions; "
        "this client's data are a labelled customer table, so it is not estimated.",
        "skip_fit": "**Not enough repeat purchases to estimate customer value** ({buyers} "
        "buyers, {repeat} of them with a repeat purchase): the BG/NBD and Gamma-Gamma models "
        "could not be fitted reliably, so no lifetime value is shown.",
        "skip_orders": "No purchases before the cut-off, so customer value is not estimated.",
        "fallback_value": " The at-risk list uses {what} as each customer's value instead.",
        "fallback_none": " The at-risk list ranks customers by churn probability alone.",
        "at_risk": "{n} customers are scored; {k} of them ({share}) have a churn probability at "
        "or above the operating threshold of {t}.",
        "at_risk_loss": " Ranked by expected loss (churn probability × {value}), the first "
        "{top} ({top_share}) hold {loss_share} of the expected loss of all scored customers ({loss_top} of "
        "{loss_total}).",
        "at_risk_prob": " Without a value per customer, they are ranked by churn probability.",
        "survival": "By {by}: the median lifetime is shortest for **{lo}** ({lo_m}) and longest "
        "for **{hi}** ({hi_m}).",
        "survival_open": " More than half of the customers of {names} are still active at the "
        "end of what is observed, so their median is not reached.",
        "survival_one": "By {by}: the median lifetime of **{g}** is {m}.",
        "survival_all_open": "By {by}: more than half of every group's customers are still "
        "active at the end of what is observed, so no median lifetime is reached.",
        "survival_few": "Too few customers per {by} to compare lifetimes (fewer than {min} each).",
        "median": "{m} {unit}, 95% interval {lo}–{hi}",
        "median_open": "{m} {unit}, 95% interval from {lo}",
    },
    "id": {
        "def_time": "**Siapa yang dihitung churn:** {definition}. Model belajar dari {n_train} "
        "pelanggan yang diberi label pada tanggal batas {train_as_of} ({train_rate} churn dalam "
        "{train_window}) dan diuji pada {n_test} pelanggan pada tanggal batas berikutnya "
        "{test_as_of} ({test_rate} churn dalam {test_window}), sehingga setiap skor uji "
        "memprediksi periode yang belum pernah dilihat model. {n_score} pelanggan yang memenuhi "
        "syarat pada {score_as_of} diberi skor.",
        "def_labelled": "**Siapa yang dihitung churn:** tabel pelanggan menyatakannya di kolom "
        "`{label}`: {n} pelanggan memiliki label dan {rate} di antaranya churn. Model belajar "
        "dari {n_train} pelanggan dan diuji pada {n_test} pelanggan lain yang diambil acak "
        "dengan proporsi churn yang sama; {n_score} pelanggan yang belum churn diberi skor.",
        "models": "**{chosen}** dipilih: pada pelanggan validasi model ini mengurutkan pelanggan "
        "churn di atas yang tidak churn lebih baik daripada {other} ({metric} {a} dibanding "
        "{b}).",
        "model_fixed": "**{chosen}** adalah model yang ditetapkan di konfigurasi ({metric} "
        "validasi {a}).",
        "cal_auto": " Probabilitasnya dikalibrasi dengan {method}, yang memberi skor Brier "
        "validasi lebih rendah ({b}, dibanding {b_other} dengan {other} dan {b_none} tanpa "
        "kalibrasi).",
        "cal_fixed": " Probabilitasnya dikalibrasi dengan {method}, sesuai konfigurasi.",
        "cal_none": " **Skornya tidak dikalibrasi** (`churn.calibration: none`): skor ini "
        "mengurutkan pelanggan tetapi bukan probabilitas, sehingga ambang berbasis biaya di "
        "bawah tidak berlaku.",
        "metrics": "Pada {n} pelanggan uji, {base} di antaranya churn, model mengurutkan "
        "pelanggan churn di atas yang tidak churn pada {auc_pct} kasus (**ROC AUC {auc}**, {half} "
        "berarti menebak): {quality}. **PR AUC {pr}** (menebak memberi {base}); **skor Brier "
        "{brier}**{skill}. Rata-rata model memprediksi churn {mean} dibanding {base} yang "
        "teramati.",
        "skill": ", {skill} lebih rendah daripada memprediksi {base} untuk semua pelanggan",
        "no_skill": ", tidak lebih baik daripada memprediksi {base} untuk semua pelanggan",
        "q_excellent": "pemisahan yang sangat baik",
        "q_good": "pemisahan yang baik",
        "q_fair": "pemisahan yang cukup",
        "q_weak": "pemisahan yang lemah",
        "q_none": "hampir tidak lebih baik daripada menebak",
        "small_test": " **Perhatian:** data uji hanya berisi {churners} pelanggan churn dan "
        "{stayers} yang tidak churn, sehingga angka ini bisa sangat berbeda pada pelanggan lain.",
        "calibration": "Pada {inside} dari {k} kelompok probabilitas, tingkat churn yang "
        "diprediksi berada dalam selang kepercayaan 95% dari yang teramati; selisih terbesar {gap} poin "
        "(prediksi {pred}, teramati {obs}, {n} pelanggan).",
        "lift": "{share1} pelanggan uji paling berisiko churn sebesar {rate1}, {lift1} kali "
        "rata-rata {base}; {share3} paling berisiko mencakup {capture3} dari semua pelanggan "
        "churn.",
        "costs": "**Asumsi biaya** (`churn.costs`): satu penawaran retensi berbiaya {offer} per "
        "pelanggan yang dihubungi, mempertahankan {save} dari calon pelanggan churn yang "
        "dijangkaunya, dan setiap pelanggan yang bertahan bernilai {value}. Penawaran rata-rata "
        "menguntungkan bila probabilitas churn × {save} × {value} melebihi {offer}, yaitu mulai "
        "probabilitas **{t}**. Pada ambang itu {contacted} dari {n} pelanggan uji ({share}) "
        "akan dihubungi, menjangkau {caught} dari {churners} pelanggan churn ({recall}) dengan "
        "{false} alarm palsu: nilai bersih {net} dibanding tidak melakukan apa pun.",
        "costs_never": "**Asumsi biaya** (`churn.costs`): satu penawaran retensi berbiaya "
        "{offer} per pelanggan yang dihubungi, mempertahankan {save} dari calon pelanggan churn "
        "yang dijangkaunya, dan setiap pelanggan yang bertahan bernilai {value}. Dengan angka "
        "ini penawaran tidak pernah menguntungkan (butuh probabilitas churn {t}), sehingga tidak "
        "ada yang dihubungi.",
        "placeholder": " **Ini adalah angka contoh dari konfigurasi:** isi `churn.costs` dengan "
        "angka klien sebelum memakai ambang ini.",
        "value": "Dalam {h} bulan ke depan, {n} pelanggan yang pernah membeli diperkirakan "
        "melakukan {purchases} pembelian senilai {total} dalam nilai sekarang (didiskonto); "
        "pelanggan median bernilai {median} dan 10% pelanggan paling bernilai mencakup "
        "{top_share} dari nilai tersebut.",
        "limit_no_dropout": " Data pembelian tidak menunjukkan tanda pelanggan berhenti (model "
        "BG/NBD mencapai batas tanpa-berhenti), sehingga setiap pembeli dianggap masih aktif "
        "dan diperkirakan terus membeli dengan lajunya sendiri: model churn, bukan BG/NBD, yang "
        "menunjukkan siapa yang akan pergi.",
        "limit_constant": " Data pembelian tidak menunjukkan variasi peluang berhenti (model "
        "BG/NBD mencapai batas peluang-berhenti-konstan): setiap pembeli berhenti dengan "
        "peluang yang sama {p} setelah setiap pembelian ulang.",
        "skip_labelled": "Nilai pelanggan (BG/NBD dan Gamma-Gamma) membutuhkan transaksi "
        "pembelian; data klien ini berupa tabel pelanggan berlabel, sehingga tidak diestimasi.",
        "skip_fit": "**Pembelian ulang terlalu sedikit untuk mengestimasi nilai pelanggan** "
        "({buyers} pembeli, {repeat} di antaranya membeli ulang): model BG/NBD dan Gamma-Gamma "
        "tidak dapat diestimasi dengan andal, sehingga nilai seumur hidup tidak ditampilkan.",
        "skip_orders": "Tidak ada pembelian sebelum tanggal batas, sehingga nilai pelanggan "
        "tidak diestimasi.",
        "fallback_value": " Daftar pelanggan berisiko memakai {what} sebagai nilai setiap "
        "pelanggan.",
        "fallback_none": " Daftar pelanggan berisiko mengurutkan pelanggan hanya menurut "
        "probabilitas churn.",
        "at_risk": "{n} pelanggan diberi skor; {k} di antaranya ({share}) memiliki probabilitas "
        "churn pada atau di atas ambang operasi {t}.",
        "at_risk_loss": " Diurutkan menurut perkiraan kerugian (probabilitas churn × {value}), "
        "{top} pelanggan teratas ({top_share}) mencakup {loss_share} dari perkiraan kerugian semua pelanggan "
        "yang diberi skor ({loss_top} dari {loss_total}).",
        "at_risk_prob": " Tanpa nilai per pelanggan, pelanggan diurutkan menurut probabilitas "
        "churn.",
        "survival": "Menurut {by}: median masa hidup terpendek pada **{lo}** ({lo_m}) dan "
        "terpanjang pada **{hi}** ({hi_m}).",
        "survival_open": " Lebih dari separuh pelanggan {names} masih aktif pada akhir periode "
        "pengamatan, sehingga mediannya belum tercapai.",
        "survival_one": "Menurut {by}: median masa hidup **{g}** adalah {m}.",
        "survival_all_open": "Menurut {by}: lebih dari separuh pelanggan setiap kelompok masih "
        "aktif pada akhir periode pengamatan, sehingga median masa hidup belum tercapai.",
        "survival_few": "Terlalu sedikit pelanggan per {by} untuk membandingkan masa hidup "
        "(kurang dari {min} per kelompok).",
        "median": "{m} {unit}, selang kepercayaan 95% {lo}–{hi}",
        "median_open": "{m} {unit}, selang kepercayaan 95% mulai {lo}",
    },
}
_MODEL_NAMES = {
    "en": {"logistic": "logistic regression", "hgb": "gradient boosting"},
    "id": {"logistic": "regresi logistik", "hgb": "gradient boosting"},
}
_CALIBRATION_NAMES = {
    "en": {"sigmoid": "Platt scaling (sigmoid)", "isotonic": "isotonic regression"},
    "id": {"sigmoid": "Platt scaling (sigmoid)", "isotonic": "regresi isotonik"},
}
_METRIC_NAMES = {"roc_auc": "ROC AUC", "average_precision": "PR AUC"}
#: ROC AUC from which a separation is called excellent, good, fair, weak (else: barely better
#: than guessing); the usual rule of thumb (Hosmer & Lemeshow).
_AUC_WORDS = ((0.9, "q_excellent"), (0.8, "q_good"), (0.7, "q_fair"), (0.6, "q_weak"))


def _ct(report: ReportSpec, key: str, **values: object) -> str:
    texts = _CHURN_TEXT.get(report.language, _CHURN_TEXT["en"])
    return texts[key].format(**values)


def _lang(names: dict[str, dict[str, str]], report: ReportSpec, key: str) -> str:
    return names.get(report.language, names["en"]).get(key, _words(key))


def _num(value: object, report: ReportSpec, decimals: int = 3) -> str:
    return fmt_number(value, report, decimals=decimals)


def _metric(metrics: pd.DataFrame, name: str) -> float:
    """The value of one metric of :func:`journeylib.churn.evaluate` (NaN when absent)."""
    row = metrics.loc[metrics["metric"] == name, "value"]
    return float(row.iloc[0]) if len(row) else float("nan")


def churn_definition(
    sizes: pd.DataFrame,
    report: ReportSpec,
    *,
    kind: str,
    definition: str = "",
    label_column: str | None = None,
) -> str:
    """Who counts as churned, and who the model learns from, is tested on and scores.

    Parameters
    ----------
    sizes
        ``ChurnData.sizes()``: one row per role (train, test, score) with ``customers``,
        ``churners``, ``churn_rate``, ``as_of``, ``label_window``.
    kind
        ``"time"`` (labels from a cut-off and a horizon) or ``"labelled"``.
    definition
        The label definition of a time split (the training frame's ``attrs["definition"]``).
    label_column
        The customers column holding the label (labelled data).
    """
    s = sizes.set_index("role")
    n = {r: fmt_number(s.at[r, "customers"], report) for r in ("train", "test", "score")}
    if kind == "labelled":
        labelled = s.at["train", "customers"] + s.at["test", "customers"]
        churners = s.at["train", "churners"] + s.at["test", "churners"]
        return _ct(
            report,
            "def_labelled",
            label=label_column or "churn",
            n=fmt_number(labelled, report),
            rate=fmt_pct(churners / labelled if labelled else float("nan"), report),
            n_train=n["train"],
            n_test=n["test"],
            n_score=n["score"],
        )
    return _ct(
        report,
        "def_time",
        definition=definition[:1].upper() + definition[1:] if definition else "",
        n_train=n["train"],
        train_as_of=s.at["train", "as_of"],
        train_rate=fmt_pct(s.at["train", "churn_rate"], report),
        train_window=s.at["train", "label_window"],
        n_test=n["test"],
        test_as_of=s.at["test", "as_of"],
        test_rate=fmt_pct(s.at["test", "churn_rate"], report),
        test_window=s.at["test", "label_window"],
        n_score=n["score"],
        score_as_of=s.at["score", "as_of"],
    )


def churn_model_choice(
    summary: pd.DataFrame,
    calibration: pd.DataFrame,
    report: ReportSpec,
    *,
    metric: str = "roc_auc",
) -> str:
    """Which model was kept and how its probabilities were calibrated.

    Parameters
    ----------
    summary
        ``ChurnModel.summary``: one row per candidate (``model``, the validation metrics,
        ``chosen``, ``calibration`` on the chosen row).
    calibration
        ``ChurnModel.calibration_comparison_``: one row per calibration (none, sigmoid,
        isotonic) with the validation ``brier`` and ``chosen``; empty when the calibration was
        configured rather than chosen.
    metric
        The selection metric (``roc_auc`` or ``average_precision``).
    """
    chosen = summary[summary["chosen"].astype(bool)].iloc[0]
    name = _lang(_MODEL_NAMES, report, chosen["model"])
    values = {
        "chosen": name[:1].upper() + name[1:],
        "metric": _METRIC_NAMES.get(metric, metric),
        "a": _num(chosen[metric], report),
    }
    others = summary[~summary["chosen"].astype(bool)]
    if len(others):
        other = others.iloc[0]
        text = _ct(
            report,
            "models",
            other=_lang(_MODEL_NAMES, report, other["model"]),
            b=_num(other[metric], report),
            **values,
        )
    else:
        text = _ct(report, "model_fixed", **values)
    method = str(chosen.get("calibration", "") or "")
    if method == "none":
        return text + _ct(report, "cal_none")
    if len(calibration) and calibration["chosen"].astype(bool).any():
        brier = calibration.set_index("calibration")["brier"]
        other = next((m for m in ("sigmoid", "isotonic") if m != method and m in brier), None)
        if other is not None and "none" in brier:
            return text + _ct(
                report,
                "cal_auto",
                method=_lang(_CALIBRATION_NAMES, report, method),
                b=_num(brier[method], report),
                other=_lang(_CALIBRATION_NAMES, report, other),
                b_other=_num(brier[other], report),
                b_none=_num(brier["none"], report),
            )
    return text + _ct(report, "cal_fixed", method=_lang(_CALIBRATION_NAMES, report, method))


def churn_metrics(metrics: pd.DataFrame, report: ReportSpec, *, min_group: int = MIN_GROUP) -> str:
    """The held-out metrics in words (:func:`journeylib.churn.evaluate`), with a caution when the
    test holds fewer than ``min_group`` churners or non-churners."""
    n, churners = _metric(metrics, "customers"), _metric(metrics, "churners")
    base, auc = _metric(metrics, "base_rate"), _metric(metrics, "roc_auc")
    skill = _metric(metrics, "brier_skill")
    quality = next((k for t, k in _AUC_WORDS if auc >= t), "q_none")
    values = {"base": fmt_pct(base, report)}
    skill_text = (
        _ct(report, "skill", skill=fmt_pct(skill, report), **values)
        if skill > 0
        else _ct(report, "no_skill", **values)
    )
    text = _ct(
        report,
        "metrics",
        n=fmt_number(n, report),
        auc_pct=fmt_pct(auc, report, decimals=0),
        auc=_num(auc, report),
        half=fmt_number(0.5, report, decimals=1),
        quality=_ct(report, quality),
        pr=_num(_metric(metrics, "pr_auc"), report),
        brier=_num(_metric(metrics, "brier"), report),
        skill=skill_text,
        mean=fmt_pct(_metric(metrics, "mean_probability"), report),
        **values,
    )
    stayers = n - churners
    if min(churners, stayers) < min_group:
        text += _ct(
            report,
            "small_test",
            churners=fmt_number(churners, report),
            stayers=fmt_number(stayers, report),
        )
    return text


def churn_calibration(table: pd.DataFrame, report: ReportSpec) -> str:
    """How far predicted and observed churn agree per bin (:func:`journeylib.churn.calibration_table`):
    the bins whose observed 95% interval holds the prediction, and the largest gap."""
    if table.empty:
        return ""
    gap = (table["churn_rate"] - table["mean_probability"]).abs()
    inside = (table["mean_probability"] >= table["ci_low"]) & (
        table["mean_probability"] <= table["ci_high"]
    )
    worst = table.loc[gap.idxmax()]
    return _ct(
        report,
        "calibration",
        inside=fmt_number(int(inside.sum()), report),
        k=fmt_number(len(table), report),
        gap=fmt_number(100 * gap.max(), report, decimals=1),
        pred=fmt_pct(worst["mean_probability"], report),
        obs=fmt_pct(worst["churn_rate"], report),
        n=fmt_number(worst["customers"], report),
    )


def churn_lift(lift: pd.DataFrame, report: ReportSpec) -> str:
    """The riskiest group's churn rate and lift, and the share of churners the riskiest three
    groups capture (:func:`journeylib.churn.lift_table`)."""
    first = lift.iloc[0]
    third = lift.iloc[min(2, len(lift) - 1)]
    base = first["churn_rate"] / first["lift"] if first["lift"] else float("nan")
    return _ct(
        report,
        "lift",
        share1=fmt_pct(first["cum_share"], report, decimals=0),
        rate1=fmt_pct(first["churn_rate"], report),
        lift1=fmt_number(first["lift"], report, decimals=1),
        base=fmt_pct(base, report),
        share3=fmt_pct(third["cum_share"], report, decimals=0),
        capture3=fmt_pct(third["capture_rate"], report),
    )


def churn_costs(
    costs: object, confusion: pd.DataFrame, report: ReportSpec, *, placeholder: bool = False
) -> str:
    """The cost assumptions, the threshold they imply and what contacting the customers at it
    would be worth on the held-out customers.

    Parameters
    ----------
    costs
        ``ChurnCosts`` (``offer_cost``, ``churn_value``, ``save_rate``).
    confusion
        :func:`journeylib.churn.confusion_table` at the operating threshold (its
        ``attrs["threshold"]``), with costs.
    placeholder
        The costs are the configuration's defaults: say so.
    """
    t = float(
        confusion.attrs.get("threshold", costs.offer_cost / (costs.save_rate * costs.churn_value))
    )
    values = {
        "offer": fmt_money(costs.offer_cost, report),
        "save": fmt_pct(costs.save_rate, report, decimals=0),
        "value": fmt_money(costs.churn_value, report),
        "t": fmt_pct(t, report),
    }
    if t >= 1:
        text = _ct(report, "costs_never", **values)
    else:
        cells = confusion.set_index("outcome")["customers"]
        n = int(cells.sum())
        contacted = int(cells["caught churner"] + cells["false alarm"])
        churners = int(cells["caught churner"] + cells["missed churner"])
        text = _ct(
            report,
            "costs",
            contacted=fmt_number(contacted, report),
            n=fmt_number(n, report),
            share=fmt_pct(contacted / n if n else float("nan"), report),
            caught=fmt_number(cells["caught churner"], report),
            churners=fmt_number(churners, report),
            recall=fmt_pct(
                cells["caught churner"] / churners if churners else float("nan"), report
            ),
            false=fmt_number(cells["false alarm"], report),
            net=fmt_money(confusion["value"].sum(), report),
            **values,
        )
    return text + (_ct(report, "placeholder") if placeholder else "")


def bullets(sentences: list[str]) -> str:
    """Sentences as a Markdown bullet list (empty text for none)."""
    return "\n".join(f"* {s}" for s in sentences)


def customer_value(
    value: pd.DataFrame,
    report: ReportSpec,
    *,
    horizon_months: int,
    limit: str | None = None,
    dropout_probability: float | None = None,
) -> str:
    """Expected purchases and lifetime value of the buyers over the horizon
    (:func:`journeylib.clv.customer_lifetime_value`: one row per buyer with
    ``expected_purchases`` and ``clv``), and what a boundary BG/NBD fit (``limit``) means."""
    clv = value["clv"].astype(float)
    total = float(clv.sum())
    k = max(1, int(round(0.1 * len(clv))))
    top = float(clv.nlargest(k).sum()) / total if total > 0 else float("nan")
    text = _ct(
        report,
        "value",
        h=horizon_months,
        n=fmt_number(len(value), report),
        purchases=fmt_number(value["expected_purchases"].sum(), report),
        total=fmt_money(total, report),
        median=fmt_money(clv.median(), report),
        top_share=fmt_pct(top, report),
    )
    if limit == "no dropout":
        text += _ct(report, "limit_no_dropout")
    elif limit == "constant dropout":
        text += _ct(report, "limit_constant", p=fmt_pct(dropout_probability, report))
    return text


def customer_value_skipped(
    reason: str,
    report: ReportSpec,
    *,
    buyers: int | None = None,
    repeat: int | None = None,
    fallback: str | None = None,
) -> str:
    """Why customer value is not shown (``reason``: ``labelled``, ``fit`` or ``orders``) and
    what the at-risk list uses instead (``fallback``: a description such as "revenue to date",
    or ``None``: churn probability alone)."""
    key = {"labelled": "skip_labelled", "fit": "skip_fit"}.get(reason, "skip_orders")
    text = _ct(
        report,
        key,
        buyers=fmt_number(buyers, report),
        repeat=fmt_number(repeat, report),
    )
    if fallback:
        return text + _ct(report, "fallback_value", what=fallback)
    return text + _ct(report, "fallback_none")


def at_risk_summary(
    risk: pd.DataFrame,
    report: ReportSpec,
    *,
    threshold: float,
    value_label: str | None,
    top_share: float = 0.1,
) -> str:
    """How many scored customers reach the operating threshold, and how much of the expected
    loss the first ``top_share`` of the at-risk list holds (``at_risk_list``: one row per scored
    customer with ``churn_probability`` and ``expected_loss``, sorted by expected loss)."""
    n = len(risk)
    k = int((risk["churn_probability"] >= threshold).sum())
    text = _ct(
        report,
        "at_risk",
        n=fmt_number(n, report),
        k=fmt_number(k, report),
        share=fmt_pct(k / n if n else float("nan"), report),
        t=fmt_pct(threshold, report),
    )
    loss = risk["expected_loss"].astype(float)
    total = float(loss.sum())
    if not value_label or not loss.notna().any() or total <= 0:
        return text + _ct(report, "at_risk_prob")
    top = max(1, math.ceil(top_share * n))
    head = float(loss.head(top).sum())
    return text + _ct(
        report,
        "at_risk_loss",
        value=value_label,
        top=fmt_number(top, report),
        top_share=fmt_pct(top / n, report, decimals=0),
        loss_share=fmt_pct(head / total, report),
        loss_top=fmt_money(head, report),
        loss_total=fmt_money(total, report),
    )


def survival_summary(
    medians: pd.DataFrame,
    report: ReportSpec,
    *,
    by: str,
    unit: str | None = None,
    min_group: int = MIN_GROUP,
) -> str:
    """Shortest and longest median lifetime among the groups of at least ``min_group`` customers
    (:func:`journeylib.survival.median_survival`: ``group``, ``n``, ``median``, ``lower``,
    ``upper``); groups whose curve stays above one half are named as such. ``unit`` defaults
    to days in the report language."""
    unit = unit or i18n.phrase("days", report.language)
    big = medians[medians["n"] >= min_group]
    if len(big) < 2:
        return _ct(report, "survival_few", by=by, min=fmt_number(min_group, report))
    reached = big[big["median"].notna()].sort_values(["median", "group"])
    if reached.empty:
        return _ct(report, "survival_all_open", by=by)
    lo, hi = reached.iloc[0], reached.iloc[-1]
    if len(reached) == 1:
        text = _ct(report, "survival_one", by=by, g=lo["group"], m=_median_text(lo, report, unit))
    else:
        text = _ct(
            report,
            "survival",
            by=by,
            lo=lo["group"],
            lo_m=_median_text(lo, report, unit),
            hi=hi["group"],
            hi_m=_median_text(hi, report, unit),
        )
    open_ = big[big["median"].isna()]
    if len(open_):
        names = ", ".join(f"**{g}**" for g in open_["group"].astype(str))
        text += _ct(report, "survival_open", names=names)
    return text


def _median_text(row: pd.Series, report: ReportSpec, unit: str) -> str:
    return _ct(
        report,
        "median_open" if pd.isna(row["upper"]) else "median",
        m=fmt_number(row["median"], report),
        unit=unit,
        lo=fmt_number(row["lower"], report),
        hi=fmt_number(row["upper"], report),
    )


# ---- recommendations (notebook 50_recommendations) ---------------------------------------------
# Sentences in the report language (report.language: en or id), from the tables of
# journeylib.playbook and journeylib.recommend. Action labels come from the playbook in the
# report language; product names and persona labels stay as in the data.
_RECOMMEND_TEXT: dict[str, dict[str, str]] = {
    "en": {
        "inputs": "The rules read, as of {day}, each of the {n} customers' furthest journey "
        "stage, activity in the last {lapse} days, orders, satisfaction, and abandoned carts and "
        "friction events in the last {recent} days.",
        "inputs_personas": " Personas are known for {n} customers ({share}).",
        "inputs_no_personas": " No persona assignments were found (the personas page writes "
        "them next to the processed tables), so rules on personas match nobody.",
        "inputs_churn": " Churn probability and value come from the churn page for {n} "
        "customers ({share}); the others have no churn risk band.",
        "inputs_no_churn": " No churn scores were found (the churn page writes them next to the "
        "processed tables), so no customer has a churn risk band, rules on churn risk match "
        "nobody, value is the revenue so far and no value at stake is computed.",
        "actions": "{matched} of {n} customers ({share}) get an action; the most common is "
        "**{top}** ({top_n} customers, {top_share}).",
        "actions_none": "No customer gets an action.",
        "actions_empty": "There are no customers to act on.",
        "at_stake": " The largest expected value at stake (churn probability × value) is with "
        "**{action}**: {amount} across {k} customers, {share} of the {total} at stake in all.",
        "unmatched": " **{u} customers ({share}) match no rule** and get no action; they are "
        "shown below.",
        "all_matched": " Every customer matches a rule.",
        "unmatched_profile": "The largest group without an action is {who}: {k} of the {u} "
        "customers without one. To reach them, add a rule for them to `playbook.rules`.",
        "who": "customers in the {stage} stage who {orders} and {activity}",
        "who_no_stage": "customers without a journey stage who {orders} and {activity}",
        "ordered": "have ordered",
        "never_ordered": "have never ordered",
        "lapsed": "have been inactive for {lapse} days",
        "active": "are still active",
        "export": "**Export for the e-mail tool:** `next_best_actions.csv`, saved with this "
        "report's tables, lists the {n} customers who get an action, one row each: customer_id, "
        "action, action_label, channel and reason{left_out}. The customer_id is the pseudonym "
        "used throughout this report, never the "
        "client's own id: the client maps it back to their customers with their own key "
        "(pseudonymising their customer list with the same key) or their identity table. The "
        "file holds no e-mail address, name or phone number, and never will: the e-mail tool "
        "adds them from the client's own systems after the mapping.",
        "left_out": " ({skipped} customers without an action are left out)",
        "uplift": "Of {n1} abandoned carts followed within {contact} days by a visit from "
        "{channels}, {r1} were bought within {window} days, against {r0} of the {n0} carts "
        "without such a visit: a difference of {d} points (95% interval {lo} to {hi}).",
        "uplift_one_sided": "Abandoned carts cannot be compared: {n1} were followed within "
        "{contact} days by a visit from {channels} and {n0} were not.",
        "uplift_caveat": " **This is observational, not an experiment:** customers who come back "
        "through a message were more engaged to begin with, and a visit is itself a chance to "
        "buy, so the difference is an upper bound on what the message caused. Only a holdout "
        "test (no message for a random share of abandoned carts) measures the effect.",
        "uplift_none": "No abandoned cart has a complete {window}-day follow-up in the events "
        "before the cut-off, so the cart-recovery uplift is not estimated.",
        "recs": "{n} of {customers} customers get up to {k} products each ({rows} "
        "recommendations).",
        "recs_sources": " The first product comes from {parts}.",
        "src_item_knn": "products bought together with the customer's own purchases (item-kNN) "
        "for {n} customers",
        "src_persona_popularity": "their persona's most bought products for {n}",
        "src_popularity": "the most bought products overall for {n}",
        "and": " and ",
        "recs_fill": " For {f} customers with orders, the end of the list comes from popularity: "
        "their purchases have too few products bought together with them.",
        "recs_none": " {z} customers get no product: they have bought every product already.",
        "recs_one_product": " **The catalogue holds a single product**, so there is nothing to "
        "choose between: everyone who has not bought it yet is shown it.",
        "no_orders": "**No orders before the cut-off:** the recommender learns only from "
        "purchases, so there are no product recommendations, product similarities or offline "
        "evaluation.",
        "personas_missing": "No persona assignments were found (the personas page writes them), "
        "so the table shows the products recommended to most customers overall.",
        "by_persona": "The product recommended to the most customers of each persona: {items}.",
        "by_persona_item": "**{group}**: {product} ({share} of its customers)",
        "similar": "Customers who bought **{product}**, the best seller, most often also bought "
        "{others}.",
        "similar_none": "The best sellers have no products bought together with them often "
        "enough to count as similar (`recommend.min_item_support`).",
        "evaluation": "Trained on the orders up to {train_end} and tested on what {n} "
        "customers with earlier orders bought from {start} to {end}{new}, item-kNN finds "
        "{recall} of each customer's purchases in its top {k} (recall@{k}) against {b_recall} "
        "for the most popular products: a difference of {d} points (95% interval {lo} to {hi}), "
        "{verdict}. Precision@{k} is {precision} against {b_precision}, NDCG@{k} {ndcg} against "
        "{b_ndcg}, and {hit} of the customers get at least one right product against {b_hit}. "
        "Item-kNN shows these customers {coverage} of the catalogue, popularity {b_coverage}.",
        "new_only": " (products new to them)",
        "better": "**item-kNN is better**",
        "worse": "**the popularity baseline is better**",
        "tie": "**not a significant difference**",
        "small_eval": " **Caution:** only {n} customers could be evaluated, so these figures are "
        "very uncertain.",
        "cold": " For the {m} customers whose first order fell in the test window, the "
        "popularity fallback finds {recall} of their purchases in its top {k}.",
        "cold_persona": " For the {m} customers whose first order fell in the test window, "
        "their persona's most bought products find {recall} of their purchases in the top {k}, "
        "against {b_recall} for the most bought products overall.",
        "not_evaluated": "**The recommendations could not be evaluated offline:** {detail}.",
        "weight_default": "`recommend.popularity_weight: auto` chooses the weight on a validation "
        "window, which these data do not have, so the recommendations above use item-kNN alone "
        "(weight 0).",
        "weight_fixed": "The popularity weight is set in the configuration "
        "(`recommend.popularity_weight: {detail}`; 0 = item-kNN only, 1 = best sellers only).",
        "weight": "`recommend.popularity_weight: auto` chose a weight of **{w}** (0 = item-kNN "
        "only, 1 = popularity only): the best recall@{k} ({recall}) for {n} customers in the "
        "validation window {start} to {end}, just before the test window, so the test figures "
        "above were not used to choose it. Across weights recall ranges from {lo} to {hi}.",
    },
    "id": {
        "inputs": "Aturan membaca, per {day}, untuk setiap {n} pelanggan: tahap perjalanan "
        "terjauh, aktivitas dalam {lapse} hari terakhir, pesanan, kepuasan, serta keranjang "
        "tertinggal dan kendala dalam {recent} hari terakhir.",
        "inputs_personas": " Persona diketahui untuk {n} pelanggan ({share}).",
        "inputs_no_personas": " Penetapan persona tidak ditemukan (halaman persona menuliskannya "
        "di samping tabel olahan), sehingga aturan berdasarkan persona tidak berlaku untuk "
        "siapa pun.",
        "inputs_churn": " Probabilitas churn dan nilai pelanggan berasal dari halaman churn "
        "untuk {n} pelanggan ({share}); pelanggan lain tidak memiliki kelompok risiko churn.",
        "inputs_no_churn": " Skor churn tidak ditemukan (halaman churn menuliskannya di samping "
        "tabel olahan), sehingga tidak ada pelanggan dengan kelompok risiko churn, aturan "
        "berdasarkan risiko churn tidak berlaku, nilai pelanggan adalah pendapatan sejauh ini "
        "dan nilai yang dipertaruhkan tidak dihitung.",
        "actions": "{matched} dari {n} pelanggan ({share}) mendapat tindakan; yang paling umum "
        "adalah **{top}** ({top_n} pelanggan, {top_share}).",
        "actions_none": "Tidak ada pelanggan yang mendapat tindakan.",
        "actions_empty": "Tidak ada pelanggan untuk ditindaklanjuti.",
        "at_stake": " Nilai yang dipertaruhkan terbesar (probabilitas churn × nilai) ada pada "
        "**{action}**: {amount} dari {k} pelanggan, {share} dari total {total}.",
        "unmatched": " **{u} pelanggan ({share}) tidak cocok dengan aturan mana pun** dan tidak "
        "mendapat tindakan; mereka ditampilkan di bawah.",
        "all_matched": " Setiap pelanggan cocok dengan salah satu aturan.",
        "unmatched_profile": "Kelompok terbesar tanpa tindakan adalah {who}: {k} dari {u} "
        "pelanggan tanpa tindakan. Untuk menjangkau mereka, tambahkan aturan di "
        "`playbook.rules`.",
        "who": "pelanggan pada tahap {stage} yang {orders} dan {activity}",
        "who_no_stage": "pelanggan tanpa tahap perjalanan yang {orders} dan {activity}",
        "ordered": "pernah memesan",
        "never_ordered": "belum pernah memesan",
        "lapsed": "tidak aktif selama {lapse} hari",
        "active": "masih aktif",
        "export": "**Ekspor untuk alat email:** `next_best_actions.csv`, disimpan bersama tabel "
        "laporan ini, berisi {n} pelanggan yang mendapat tindakan, satu baris per pelanggan: "
        "customer_id, action, action_label, channel dan reason{left_out}. customer_id adalah "
        "pseudonim yang dipakai di seluruh "
        "laporan ini, bukan ID milik klien: klien memetakannya kembali ke pelanggannya dengan "
        "kunci miliknya sendiri (membuat pseudonim dari daftar pelanggannya dengan kunci yang "
        "sama) atau dengan tabel identitasnya. Berkas ini tidak berisi alamat email, nama, atau "
        "nomor telepon, dan tidak akan pernah berisi: alat email menambahkannya dari sistem "
        "klien sendiri setelah pemetaan.",
        "left_out": " ({skipped} pelanggan tanpa tindakan tidak disertakan)",
        "uplift": "Dari {n1} keranjang tertinggal yang dalam {contact} hari diikuti kunjungan dari "
        "{channels}, {r1} dibeli dalam {window} hari, dibanding {r0} dari {n0} keranjang tanpa "
        "kunjungan seperti itu: selisih {d} poin (selang kepercayaan 95% {lo} sampai {hi}).",
        "uplift_one_sided": "Keranjang tertinggal tidak dapat dibandingkan: {n1} diikuti "
        "kunjungan dari {channels} dalam {contact} hari dan {n0} tidak.",
        "uplift_caveat": " **Ini adalah pengamatan, bukan eksperimen:** pelanggan yang kembali "
        "melalui pesan memang lebih terlibat sejak awal, dan kunjungan itu sendiri adalah "
        "kesempatan membeli, sehingga selisih ini adalah batas atas dari efek pesan. Hanya uji "
        "holdout (tanpa pesan untuk sebagian acak keranjang tertinggal) yang mengukur efeknya.",
        "uplift_none": "Tidak ada keranjang tertinggal dengan masa tindak lanjut {window} hari "
        "yang lengkap sebelum tanggal batas, sehingga uplift pemulihan keranjang tidak "
        "diestimasi.",
        "recs": "{n} dari {customers} pelanggan mendapat hingga {k} produk masing-masing ({rows} "
        "rekomendasi).",
        "recs_sources": " Produk pertama berasal dari {parts}.",
        "src_item_knn": "produk yang dibeli bersama pembelian pelanggan sendiri (item-kNN) untuk "
        "{n} pelanggan",
        "src_persona_popularity": "produk terlaris personanya untuk {n}",
        "src_popularity": "produk terlaris secara keseluruhan untuk {n}",
        "and": " dan ",
        "recs_fill": " Untuk {f} pelanggan yang pernah memesan, bagian akhir daftar diisi dari "
        "produk terlaris: pembelian mereka memiliki terlalu sedikit produk yang dibeli bersama.",
        "recs_none": " {z} pelanggan tidak mendapat produk: mereka sudah membeli semua produk.",
        "recs_one_product": " **Katalog hanya berisi satu produk**, sehingga tidak ada yang "
        "perlu dipilih: setiap pelanggan yang belum membelinya ditawari produk itu.",
        "no_orders": "**Tidak ada pesanan sebelum tanggal batas:** sistem rekomendasi hanya "
        "belajar dari pembelian, sehingga tidak ada rekomendasi produk, kemiripan produk, "
        "maupun evaluasi offline.",
        "personas_missing": "Penetapan persona tidak ditemukan (halaman persona menuliskannya), "
        "sehingga tabel menampilkan produk yang paling banyak direkomendasikan secara "
        "keseluruhan.",
        "by_persona": "Produk yang direkomendasikan kepada pelanggan terbanyak di setiap "
        "persona: {items}.",
        "by_persona_item": "**{group}**: {product} ({share} pelanggannya)",
        "similar": "Pelanggan yang membeli **{product}**, produk terlaris, paling sering juga "
        "membeli {others}.",
        "similar_none": "Produk terlaris tidak memiliki produk yang cukup sering dibeli "
        "bersamanya untuk dianggap mirip (`recommend.min_item_support`).",
        "evaluation": "Dilatih dengan pesanan hingga {train_end} dan diuji pada apa yang dibeli "
        "{n} pelanggan dengan pesanan sebelumnya dari {start} sampai {end}{new}, item-kNN "
        "menemukan {recall} pembelian setiap pelanggan dalam {k} teratasnya (recall@{k}) "
        "dibanding {b_recall} untuk produk terlaris: selisih {d} poin (selang kepercayaan 95% {lo} sampai "
        "{hi}), {verdict}. Precision@{k} {precision} dibanding {b_precision}, NDCG@{k} {ndcg} "
        "dibanding {b_ndcg}, dan {hit} pelanggan mendapat setidaknya satu produk yang tepat "
        "dibanding {b_hit}. Item-kNN menampilkan {coverage} katalog kepada pelanggan ini, "
        "produk terlaris {b_coverage}.",
        "new_only": " (produk yang baru bagi mereka)",
        "better": "**item-kNN lebih baik**",
        "worse": "**pembanding produk terlaris lebih baik**",
        "tie": "**bukan perbedaan yang signifikan**",
        "small_eval": " **Perhatian:** hanya {n} pelanggan yang dapat dievaluasi, sehingga angka "
        "ini sangat tidak pasti.",
        "cold": " Untuk {m} pelanggan yang pesanan pertamanya jatuh dalam periode uji, cadangan "
        "produk terlaris menemukan {recall} pembelian mereka dalam {k} teratas.",
        "cold_persona": " Untuk {m} pelanggan yang pesanan pertamanya jatuh dalam periode uji, "
        "produk terlaris personanya menemukan {recall} pembelian mereka dalam {k} teratas, "
        "dibanding {b_recall} untuk produk terlaris secara keseluruhan.",
        "not_evaluated": "**Rekomendasi tidak dapat dievaluasi secara offline:** {detail}.",
        "weight_default": "`recommend.popularity_weight: auto` memilih bobot pada periode "
        "validasi, yang tidak tersedia pada data ini, sehingga rekomendasi di atas hanya memakai "
        "item-kNN (bobot 0).",
        "weight_fixed": "Bobot produk terlaris ditetapkan di konfigurasi "
        "(`recommend.popularity_weight: {detail}`; 0 = hanya item-kNN, 1 = hanya produk "
        "terlaris).",
        "weight": "`recommend.popularity_weight: auto` memilih bobot **{w}** (0 = hanya item-kNN, "
        "1 = hanya produk terlaris): recall@{k} terbaik ({recall}) untuk {n} pelanggan pada "
        "periode validasi {start} sampai {end}, tepat sebelum periode uji, sehingga angka uji di "
        "atas tidak dipakai untuk memilihnya. Di semua bobot, recall berkisar dari {lo} sampai "
        "{hi}.",
    },
}
#: Playbook conditions in words (the rules table); ``{v}`` is a list joined by "or".
_RULE_WORDS: dict[str, dict[str, object]] = {
    "en": {
        "stage": "furthest stage {v}",
        "persona": "persona {v}",
        "churn_risk": "{v} churn risk",
        "value": "{v} value",
        "abandoned_cart": ("left a cart without buying in the last {d} days", "no abandoned cart"),
        "friction": ("hit a friction event in the last {d} days", "no recent friction"),
        "satisfied": ("satisfied (promoter or reviews of 4+ stars)", "not known to be satisfied"),
        "lapsed": ("inactive for {l} days", "active in the last {l} days"),
        "no_order": "no order yet",
        "exactly": "exactly {n}",
        "at_least": "at least {n}",
        "at_most": "at most {n}",
        "between": "{a} to {b} orders",
        "one": "one order",
        "many": "{n} orders",
        "always": "every customer not matched by a rule above",
        "and": "; ",
        "or": " or ",
        "bands": {"high": "high", "medium": "medium", "low": "low"},
    },
    "id": {
        "stage": "tahap terjauh {v}",
        "persona": "persona {v}",
        "churn_risk": "risiko churn {v}",
        "value": "nilai {v}",
        "abandoned_cart": (
            "meninggalkan keranjang tanpa membeli dalam {d} hari terakhir",
            "tidak ada keranjang tertinggal",
        ),
        "friction": ("mengalami kendala dalam {d} hari terakhir", "tidak ada kendala baru"),
        "satisfied": ("puas (promotor atau ulasan bintang 4+)", "tidak diketahui puas"),
        "lapsed": ("tidak aktif selama {l} hari", "aktif dalam {l} hari terakhir"),
        "no_order": "belum pernah memesan",
        "exactly": "tepat {n}",
        "at_least": "minimal {n}",
        "at_most": "maksimal {n}",
        "between": "{a} sampai {b} pesanan",
        "one": "satu pesanan",
        "many": "{n} pesanan",
        "always": "setiap pelanggan yang tidak cocok dengan aturan di atas",
        "and": "; ",
        "or": " atau ",
        "bands": {"high": "tinggi", "medium": "sedang", "low": "rendah"},
    },
}


def _rt(report: ReportSpec, key: str, **values: object) -> str:
    texts = _RECOMMEND_TEXT.get(report.language, _RECOMMEND_TEXT["en"])
    return texts[key].format(**values)


def _points(diff: float, report: ReportSpec) -> str:
    """A difference of two shares in percentage points, signed: ``+1,5``."""
    if diff is None or (isinstance(diff, float) and math.isnan(diff)):
        return "–"
    sign = "+" if diff > 0 else ("−" if diff < 0 else "")
    return sign + fmt_number(abs(100 * diff), report, decimals=1)


def _orders_words(lo: int | None, hi: int | None, words: dict) -> str:
    """An orders condition in words: "no order yet", "at least one order", "2 to 4 orders"."""
    lo = lo or 0

    def orders(n: int) -> str:
        return words["one"] if n == 1 else words["many"].format(n=n)

    if hi == 0:
        return words["no_order"]
    if hi is None:  # orders_min: 0 alone holds for everyone: nothing to say
        return words["at_least"].format(n=orders(lo)) if lo else ""
    if lo == hi:
        return words["exactly"].format(n=orders(lo))
    if lo == 0:
        return words["at_most"].format(n=orders(hi))
    return words["between"].format(a=lo, b=hi)


def playbook_rules(
    spec: PlaybookSpec,
    report: ReportSpec,
    *,
    stage_labels: dict[str, str] | None = None,
    lapse_days: int = 90,
) -> pd.DataFrame:
    """The playbook as a table for the reader: one row per rule, in priority order.

    Columns: priority (1 = checked first), rule, conditions (every condition of the rule in
    words, in the report language), action, action_label (report language), channel. A customer
    gets the action of the first rule whose conditions all hold.
    """
    words = _RULE_WORDS.get(report.language, _RULE_WORDS["en"])
    labels = stage_labels or {}
    bands = words["bands"]
    label_key = "label_id" if report.language == "id" else "label"
    rows = []
    for i, rule in enumerate(spec.rules, start=1):
        w = rule.when
        parts = []
        if w.stage:
            parts.append(
                words["stage"].format(v=words["or"].join(labels.get(s, s) for s in w.stage))
            )
        if w.persona:
            parts.append(words["persona"].format(v=words["or"].join(str(p) for p in w.persona)))
        if w.churn_risk:
            parts.append(
                words["churn_risk"].format(v=words["or"].join(bands[b] for b in w.churn_risk))
            )
        if w.value:
            parts.append(words["value"].format(v=words["or"].join(bands[b] for b in w.value)))
        if w.orders_min is not None or w.orders_max is not None:
            parts.append(_orders_words(w.orders_min, w.orders_max, words))
            parts = [p for p in parts if p]
        for flag in ("abandoned_cart", "friction", "satisfied", "lapsed"):
            want = getattr(w, flag)
            if want is not None:
                yes, no = words[flag]
                parts.append((yes if want else no).format(d=spec.recent_days, l=lapse_days))
        action = spec.actions[rule.action]
        rows.append(
            {
                "priority": i,
                "rule": rule.name,
                "conditions": words["and"].join(parts) if parts else words["always"],
                "action": rule.action,
                "action_label": getattr(action, label_key),
                "channel": action.channel,
            }
        )
    return pd.DataFrame(rows)


def action_inputs(
    context: pd.DataFrame,
    report: ReportSpec,
    *,
    as_of: object,
    recent_days: int,
    lapse_days: int,
) -> str:
    """What the playbook rules could read (:func:`journeylib.playbook.action_context`: one row
    per customer; ``persona`` and ``churn_probability`` missing where unknown): how many
    customers have a persona and a churn score, and what is lost without them."""
    n = len(context)

    def share(k: int) -> str:
        return fmt_pct(k / n if n else float("nan"), report)

    text = _rt(
        report,
        "inputs",
        day=as_of,
        n=fmt_number(n, report),
        lapse=lapse_days,
        recent=recent_days,
    )
    personas = int(context["persona"].notna().sum())
    if personas:
        text += _rt(
            report, "inputs_personas", n=fmt_number(personas, report), share=share(personas)
        )
    else:
        text += _rt(report, "inputs_no_personas")
    scored = int(context["churn_probability"].notna().sum())
    if scored:
        text += _rt(report, "inputs_churn", n=fmt_number(scored, report), share=share(scored))
    else:
        text += _rt(report, "inputs_no_churn")
    return text


def next_best_action_summary(summary: pd.DataFrame, report: ReportSpec) -> str:
    """How many customers get an action, the most common one, where the value at stake is and
    how many match no rule (:func:`journeylib.playbook.action_summary`: one row per action,
    ``(no action)`` included, with customers and value_at_stake)."""
    from journeylib.playbook import NO_ACTION

    n = int(summary["customers"].sum())
    if n == 0:
        return _rt(report, "actions_empty")
    none = summary["action"] == NO_ACTION
    unmatched = int(summary.loc[none, "customers"].sum())
    acted = summary[~none & (summary["customers"] > 0)]
    if acted.empty:
        text = _rt(report, "actions_none")
    else:
        top = acted.sort_values("customers", ascending=False, kind="stable").iloc[0]
        text = _rt(
            report,
            "actions",
            matched=fmt_number(n - unmatched, report),
            n=fmt_number(n, report),
            share=fmt_pct((n - unmatched) / n, report),
            top=top["action_label"],
            top_n=fmt_number(top["customers"], report),
            top_share=fmt_pct(top["customers"] / n, report),
        )
        stake = acted["value_at_stake"].astype(float)
        total = float(stake.sum())
        if stake.notna().any() and total > 0:
            best = acted.loc[stake.idxmax()]
            text += _rt(
                report,
                "at_stake",
                action=best["action_label"],
                amount=fmt_money(best["value_at_stake"], report),
                k=fmt_number(best["customers"], report),
                share=fmt_pct(best["value_at_stake"] / total, report),
                total=fmt_money(total, report),
            )
    if unmatched:
        return text + _rt(
            report,
            "unmatched",
            u=fmt_number(unmatched, report),
            share=fmt_pct(unmatched / n, report),
        )
    return text + _rt(report, "all_matched")


def unmatched_customers(no_rule: pd.DataFrame, report: ReportSpec, *, lapse_days: int) -> str:
    """The largest group of customers without an action (``no_rule``: one row per stage x lapsed
    x ordered with ``customers``; ``stage`` holds the label, missing without a stage)."""
    total = int(no_rule["customers"].sum()) if len(no_rule) else 0
    if total == 0:
        return _rt(report, "all_matched").strip()
    top = no_rule.sort_values("customers", ascending=False, kind="stable").iloc[0]
    values = {
        "orders": _rt(report, "ordered" if bool(top["ordered"]) else "never_ordered"),
        "activity": _rt(report, "lapsed" if bool(top["lapsed"]) else "active", lapse=lapse_days),
    }
    if pd.isna(top["stage"]):
        who = _rt(report, "who_no_stage", **values)
    else:
        who = _rt(report, "who", stage=f"**{top['stage']}**", **values)
    return _rt(
        report,
        "unmatched_profile",
        who=who,
        k=fmt_number(top["customers"], report),
        u=fmt_number(total, report),
    )


def action_export(exported: int, customers: int, report: ReportSpec) -> str:
    """What ``next_best_actions.csv`` holds and how the client maps its pseudonymous ids back."""
    return _rt(
        report,
        "export",
        n=fmt_number(exported, report),
        left_out=_rt(report, "left_out", skipped=fmt_number(customers - exported, report))
        if customers > exported
        else "",
    )


def cart_recovery_uplift(
    uplift: pd.DataFrame | None,
    report: ReportSpec,
    *,
    channels: list[str] | tuple[str, ...],
    contact_days: float,
    window_days: float,
) -> str:
    """Recovery of abandoned carts with and without a message-driven return visit, always with
    the statement that it is observational (:func:`journeylib.playbook.cart_recovery_uplift`:
    two rows, contacted True/False, with carts, recovery_rate and the difference; ``None``: no
    events to estimate it from)."""
    lang_or = _RULE_WORDS.get(report.language, _RULE_WORDS["en"])["or"]
    values = {
        "channels": lang_or.join(str(c).replace("_", " ") for c in channels),
        "contact": fmt_number(contact_days, report),
        "window": fmt_number(window_days, report),
    }
    if uplift is None or int(uplift["carts"].sum()) == 0:
        return _rt(report, "uplift_none", **values)
    rows = uplift.set_index("contacted")
    n1, n0 = int(rows.loc[True, "carts"]), int(rows.loc[False, "carts"])
    if n1 == 0 or n0 == 0:
        text = _rt(
            report,
            "uplift_one_sided",
            n1=fmt_number(n1, report),
            n0=fmt_number(n0, report),
            **values,
        )
    else:
        text = _rt(
            report,
            "uplift",
            n1=fmt_number(n1, report),
            n0=fmt_number(n0, report),
            r1=fmt_pct(rows.loc[True, "recovery_rate"], report),
            r0=fmt_pct(rows.loc[False, "recovery_rate"], report),
            d=_points(float(rows["difference"].iloc[0]), report),
            lo=_points(float(rows["difference_low"].iloc[0]), report),
            hi=_points(float(rows["difference_high"].iloc[0]), report),
            **values,
        )
    return text + _rt(report, "uplift_caveat")


def recommendations_made(
    recommendations: pd.DataFrame,
    report: ReportSpec,
    *,
    customers: int,
    k: int,
    products: int,
) -> str:
    """Who gets how many recommendations and from which source
    (:func:`journeylib.recommend.top_n`: one row per customer x rank with ``source``), for
    ``customers`` customers over a catalogue of ``products``."""
    recs = recommendations
    # counted on masks and customer codes: at 10M customers the table has 103M rows, and
    # turning its columns into text (as labels or sets of ids) took 10 GB
    source_of = recs["source"]
    first = (recs["rank"] == 1).to_numpy()
    source = source_of[first].value_counts()
    n = int(first.sum())
    text = _rt(
        report,
        "recs",
        n=fmt_number(n, report),
        customers=fmt_number(customers, report),
        k=k,
        rows=fmt_number(len(recs), report),
    )
    parts = [
        _rt(report, f"src_{name}", n=fmt_number(int(source[name]), report))
        for name in ("item_knn", "persona_popularity", "popularity")
        if source.get(name, 0)
    ]
    if parts:
        listed = (
            ", ".join(parts[:-1]) + _rt(report, "and") + parts[-1] if len(parts) > 1 else parts[0]
        )
        text += _rt(report, "recs_sources", parts=listed)
    # customers whose list starts with item-kNN and is filled up from popularity
    cust = recs["customer_id"]
    codes = (
        cust.array.codes if isinstance(cust.dtype, pd.CategoricalDtype) else pd.factorize(cust)[0]
    )
    known = codes >= 0  # -1: no customer id
    knn_first = np.zeros(int(codes.max(initial=-1)) + 1, dtype=bool)
    filled = knn_first.copy()
    knn_first[codes[known & first & (source_of == "item_knn").to_numpy()]] = True
    filled[codes[known & (source_of == "popularity").to_numpy()]] = True
    f = int((knn_first & filled).sum())
    if f:
        text += _rt(report, "recs_fill", f=fmt_number(f, report))
    if customers > n:
        text += _rt(report, "recs_none", z=fmt_number(customers - n, report))
    if products == 1:
        text += _rt(report, "recs_one_product")
    return text


def recommendations_skipped(reason: str, report: ReportSpec, *, detail: str = "") -> str:
    """A part of the recommendations page that is skipped or fixed, and why: ``no_orders``
    (nothing to learn from), ``not_evaluated`` (``detail``: what the evaluation lacked),
    ``personas_missing`` (no persona assignments), ``weight_default`` (``auto`` without a
    validation window) or ``weight_fixed`` (``detail``: the configured weight)."""
    return _rt(report, reason, detail=detail)


def persona_recommendations(
    by_persona: pd.DataFrame, report: ReportSpec, *, max_groups: int = 8
) -> str:
    """The product recommended to most customers of each persona (``by_persona``: one row per
    persona x product with ``persona_label``, ``rank`` 1 = most recommended, ``product`` the
    product's display name and ``share`` of the persona's customers)."""
    top = by_persona[by_persona["rank"] == 1].head(max_groups)
    items = [
        _rt(
            report,
            "by_persona_item",
            group=row["persona_label"],
            product=row["product"],
            share=fmt_pct(row["share"], report),
        )
        for _, row in top.iterrows()
    ]
    return _rt(report, "by_persona", items="; ".join(items)) if items else ""


def similar_products(similar: pd.DataFrame, report: ReportSpec, *, best_seller: str) -> str:
    """The products most similar to the best seller (``similar``: rows of
    ``ItemKNN.similar_items`` for it, best first, with the display name in
    ``similar_product``)."""
    if similar.empty:
        return _rt(report, "similar_none")
    sep = _RULE_WORDS.get(report.language, _RULE_WORDS["en"])["or"]
    others = sep.join(f"**{p}**" for p in similar["similar_product"].head(3))
    return _rt(report, "similar", product=best_seller, others=others)


def _eval_value(table: pd.DataFrame, model: str, metric: str, column: str = "value") -> float:
    row = table.loc[(table["model"] == model) & (table["metric"] == metric), column]
    return float(row.iloc[0]) if len(row) else float("nan")


def recommend_evaluation(
    table: pd.DataFrame,
    report: ReportSpec,
    *,
    train_end: object,
    test_start: object,
    test_end: object,
    exclude_bought: bool = True,
    min_group: int = MIN_GROUP,
) -> str:
    """Item-kNN against the popularity baseline on the time split, with the paired difference of
    recall and its 95% interval deciding the verdict
    (:func:`journeylib.recommend.evaluate_topn`: one row per model x metric, populations
    "customers with orders" and, when any, "new customers")."""
    warm = table[table["population"] == "customers with orders"]
    k = int(warm["k"].iloc[0])
    n = int(warm["customers"].iloc[0])
    lo = _eval_value(warm, "item_knn", "recall", "diff_ci_low")
    hi = _eval_value(warm, "item_knn", "recall", "diff_ci_high")
    verdict = "better" if lo > 0 else ("worse" if hi < 0 else "tie")
    values = {}
    for metric in ("recall", "precision", "hit_rate", "coverage"):
        key = "hit" if metric == "hit_rate" else metric
        values[key] = fmt_pct(_eval_value(warm, "item_knn", metric), report)
        values[f"b_{key}"] = fmt_pct(_eval_value(warm, "popularity", metric), report)
    values["ndcg"] = _num(_eval_value(warm, "item_knn", "ndcg"), report)
    values["b_ndcg"] = _num(_eval_value(warm, "popularity", "ndcg"), report)
    text = _rt(
        report,
        "evaluation",
        train_end=train_end,
        start=test_start,
        end=test_end,
        n=fmt_number(n, report),
        new=_rt(report, "new_only") if exclude_bought else "",
        k=k,
        d=_points(_eval_value(warm, "item_knn", "recall", "diff_vs_baseline"), report),
        lo=_points(lo, report),
        hi=_points(hi, report),
        verdict=_rt(report, verdict),
        **values,
    )
    if n < min_group:
        text += _rt(report, "small_eval", n=fmt_number(n, report))
    cold = table[table["population"] == "new customers"]
    if len(cold):
        m = fmt_number(int(cold["customers"].iloc[0]), report)
        if (cold["model"] == "persona_popularity").any():
            text += _rt(
                report,
                "cold_persona",
                m=m,
                k=k,
                recall=fmt_pct(_eval_value(cold, "persona_popularity", "recall"), report),
                b_recall=fmt_pct(_eval_value(cold, "popularity", "recall"), report),
            )
        else:
            text += _rt(
                report,
                "cold",
                m=m,
                k=k,
                recall=fmt_pct(_eval_value(cold, "popularity", "recall"), report),
            )
    return text


def popularity_weight_choice(
    curve: pd.DataFrame, report: ReportSpec, *, k: int, start: object, end: object
) -> str:
    """The weight ``popularity_weight: auto`` chose on the validation window ``start..end``
    (:func:`journeylib.recommend.popularity_weight_curve`: one row per weight with recall and
    ``chosen``)."""
    best = curve[curve["chosen"]].iloc[0]
    return _rt(
        report,
        "weight",
        w=fmt_number(best["popularity_weight"], report, decimals=1),
        k=k,
        recall=fmt_pct(best["recall"], report),
        n=fmt_number(int(best["customers"]), report),
        start=start,
        end=end,
        lo=fmt_pct(curve["recall"].min(), report),
        hi=fmt_pct(curve["recall"].max(), report),
    )


# ---- voice of the customer, pain points, hand-offs (60_journey_map) --------------------------
_VOICE_TEXT: dict[str, dict[str, str]] = {
    "en": {
        "no_feedback": (
            "There is no feedback before the cut-off: satisfaction, comments and the emotion row "
            "of the journey map are not available; the pain points and the map come from "
            "behaviour alone."
        ),
        "overview": (
            "{n} answers from {c} customers: {kinds}. Overall NPS is **{nps}** (95% interval "
            "{lo} to {hi}, {nn} answers)."
        ),
        "overview_no_nps": "{n} answers from {c} customers: {kinds}.",
        "spread": (
            "By {dim}, NPS is highest at **{best}** ({best_nps}, {best_n} answers) and lowest at "
            "**{worst}** ({worst_nps}, {worst_n} answers){sig}."
        ),
        "spread_sig": "; the intervals do not overlap",
        "spread_nosig": "; the intervals overlap, so the difference may be chance",
        "spread_few": "Too few answers per {dim} to compare NPS (fewer than {m} in all but one).",
        "model": (
            "Sentiment comes from a classifier trained on {n} of the client's scored comments: on "
            "comments it did not see it reaches ROC AUC {auc} (95% interval {lo} to {hi}), "
            "against {lex} for the shipped word lists."
        ),
        "lexicon": (
            "Sentiment of {n} comments comes from the shipped English and Indonesian word lists "
            "({m} scored comments, fewer than needed to train a classifier on the client's own "
            "words)."
        ),
        "no_text": "No comments to score.",
        "themes": "The phrases most typical of unhappy comments: {terms}.",
        "themes_none": "No phrase stands out in the unhappy comments (too few of them).",
        "drivers": (
            "**{event}** comes before detractors most clearly: {ds} of detractors had it in the "
            "{d} days before answering against {ps} of promoters (lift {lift}, 95% interval {lo} "
            "to {hi}); NPS after it is {with_} against {without} without it."
        ),
        "drivers_more": " Also significant: {others}.",
        "drivers_none": (
            "No event comes before detractors significantly more often than before promoters "
            "({n} NPS answers)."
        ),
        "top_pain": (
            "The most severe pain point is **{title}** at the {stage} stage{where}: {customers} "
            "customers affected, about {conv} conversions ({rev}) at stake{per}. {evidence}."
        ),
        "where_window": " on {device} from {start} to {end}",
        "per": ", {sev} per 30 days while it lasted",
        "no_pain": "No pain point: no part of the journey does significantly worse than expected.",
        "handoff": (
            "Between {a} and {b}, {share} of {n} customers changed channel (most often "
            "{top}); those who switched converted at {sw} against {st} for those who stayed "
            "({diff} points, p = {p})."
        ),
        "handoff_none": "Too few customers move between stages to compare channel switches.",
    },
    "id": {
        "no_feedback": (
            "Tidak ada umpan balik sebelum batas waktu: kepuasan, komentar dan baris emosi pada "
            "peta perjalanan tidak tersedia; titik masalah dan peta dibuat dari perilaku saja."
        ),
        "overview": (
            "{n} jawaban dari {c} pelanggan: {kinds}. NPS keseluruhan **{nps}** (selang kepercayaan 95% "
            "{lo} sampai {hi}, {nn} jawaban)."
        ),
        "overview_no_nps": "{n} jawaban dari {c} pelanggan: {kinds}.",
        "spread": (
            "Menurut {dim}, NPS tertinggi di **{best}** ({best_nps}, {best_n} jawaban) dan "
            "terendah di **{worst}** ({worst_nps}, {worst_n} jawaban){sig}."
        ),
        "spread_sig": "; intervalnya tidak tumpang tindih",
        "spread_nosig": "; intervalnya tumpang tindih, jadi perbedaannya mungkin kebetulan",
        "spread_few": "Jawaban per {dim} terlalu sedikit untuk membandingkan NPS (kurang dari {m}).",
        "model": (
            "Sentimen berasal dari pengklasifikasi yang dilatih pada {n} komentar berskor milik "
            "klien: pada komentar yang tidak dilihatnya ROC AUC {auc} (selang kepercayaan 95% {lo} sampai "
            "{hi}), dibanding {lex} untuk daftar kata bawaan."
        ),
        "lexicon": (
            "Sentimen {n} komentar berasal dari daftar kata bahasa Inggris dan Indonesia bawaan "
            "({m} komentar berskor, terlalu sedikit untuk melatih pengklasifikasi)."
        ),
        "no_text": "Tidak ada komentar untuk dinilai.",
        "themes": "Frasa paling khas dari komentar yang tidak puas: {terms}.",
        "themes_none": "Tidak ada frasa yang menonjol pada komentar yang tidak puas.",
        "drivers": (
            "**{event}** paling jelas mendahului detraktor: {ds} detraktor mengalaminya dalam "
            "{d} hari sebelum menjawab dibanding {ps} promotor (lift {lift}, selang kepercayaan 95% {lo} "
            "sampai {hi}); NPS setelahnya {with_} dibanding {without} tanpanya."
        ),
        "drivers_more": " Juga signifikan: {others}.",
        "drivers_none": (
            "Tidak ada kejadian yang mendahului detraktor secara signifikan lebih sering daripada "
            "promotor ({n} jawaban NPS)."
        ),
        "top_pain": (
            "Titik masalah paling parah adalah **{title}** pada tahap {stage}{where}: {customers} "
            "pelanggan terdampak, sekitar {conv} konversi ({rev}) dipertaruhkan{per}. {evidence}."
        ),
        "where_window": " di {device} dari {start} sampai {end}",
        "per": ", {sev} per 30 hari selama berlangsung",
        "no_pain": "Tidak ada titik masalah: tidak ada bagian perjalanan yang jauh lebih buruk.",
        "handoff": (
            "Antara {a} dan {b}, {share} dari {n} pelanggan berganti kanal (paling sering "
            "{top}); yang berganti berkonversi {sw} dibanding {st} yang tetap ({diff} poin, "
            "p = {p})."
        ),
        "handoff_none": "Terlalu sedikit pelanggan berpindah tahap untuk membandingkan kanal.",
    },
}


def _vt(report: ReportSpec, key: str, **values: object) -> str:
    texts = _VOICE_TEXT.get(report.language, _VOICE_TEXT["en"])
    return texts[key].format(**values)


def _p_text(p: float, report: ReportSpec | None = None) -> str:
    if p is None or not math.isfinite(p):
        return "–"
    return (
        "< " + fmt_number(0.001, report, decimals=3)
        if p < 0.001
        else fmt_number(p, report, decimals=3)
    )


def feedback_overview(context: pd.DataFrame, report: ReportSpec) -> str:
    """How many answers of each kind, and the overall NPS with its interval
    (``context``: :func:`journeylib.voice.feedback_context`)."""
    from journeylib.voice import nps_summary

    if context is None or context.empty:
        return _vt(report, "no_feedback")
    counts = context["kind"].value_counts()
    kinds = ", ".join(
        f"{fmt_number(int(v), report)} {i18n.phrase(str(k), report.language)}"
        for k, v in counts.items()
    )
    n, c = fmt_number(len(context), report), fmt_number(context["customer_id"].nunique(), report)
    nps = context.loc[context["kind"] == "nps", "score"].dropna()
    if nps.empty:
        return _vt(report, "overview_no_nps", n=n, c=c, kinds=kinds)
    s = nps_summary(nps)
    f = lambda v: fmt_number(v, report, decimals=1)  # noqa: E731
    return _vt(
        report, "overview", n=n, c=c, kinds=kinds, nps=f(s["nps"]), lo=f(s["nps_low"]),
        hi=f(s["nps_high"]), nn=fmt_number(int(s["n"]), report),
    )  # fmt: skip


def nps_spread(
    table: pd.DataFrame, dim: str, report: ReportSpec, *, labels: dict[str, str] | None = None
) -> str:
    """Where NPS is highest and lowest across the groups of one dimension
    (:func:`journeylib.voice.satisfaction_by`); groups under :data:`MIN_GROUP` answers are left
    out."""
    from journeylib.voice import _dimension

    t = table[(table["kind"] == "nps") & (table["n"] >= MIN_GROUP)]
    words = _dimension(dim, report.language)
    if len(t) < 2:
        return _vt(report, "spread_few", dim=words, m=MIN_GROUP)
    best, worst = t.loc[t["nps"].idxmax()], t.loc[t["nps"].idxmin()]
    name = lambda r: (labels or {}).get(str(r[dim]), str(r[dim]))  # noqa: E731
    f = lambda v: fmt_number(v, report, decimals=1)  # noqa: E731
    sig = "spread_sig" if worst["nps_high"] < best["nps_low"] else "spread_nosig"
    return _vt(
        report, "spread", dim=words, best=name(best), best_nps=f(best["nps"]),
        best_n=fmt_number(int(best["n"]), report), worst=name(worst), worst_nps=f(worst["nps"]),
        worst_n=fmt_number(int(worst["n"]), report), sig=_vt(report, sig),
    )  # fmt: skip


def text_sentiment_choice(
    n_texts: int,
    n_labelled: int,
    evaluation: pd.DataFrame | None,
    trained: bool,
    report: ReportSpec,
) -> str:
    """Which scorer gave the comments their sentiment, and how well the classifier did on
    held-out comments (:func:`journeylib.sentiment.evaluate_text_model`)."""
    if n_texts == 0:
        return _vt(report, "no_text")
    if trained and evaluation is not None:
        ev = evaluation.set_index("scorer") if "scorer" in evaluation else evaluation
        row = ev.loc["text_model"]
        f = lambda v: fmt_number(v, report, decimals=3)  # noqa: E731
        return _vt(
            report, "model", n=fmt_number(n_labelled, report), auc=f(row["roc_auc"]),
            lo=f(row["ci_low"]), hi=f(row["ci_high"]), lex=f(ev.loc["lexicon", "roc_auc"]),
        )  # fmt: skip
    return _vt(report, "lexicon", n=fmt_number(n_texts, report), m=fmt_number(n_labelled, report))


def top_themes(themes: pd.DataFrame | None, report: ReportSpec, *, top_n: int = 5) -> str:
    """The most distinctive phrases of unhappy comments
    (:func:`journeylib.sentiment.distinctive_terms`)."""
    if themes is None or themes.empty:
        return _vt(report, "themes_none")
    t = themes.sort_values("rank").head(top_n)
    terms = ", ".join(f"“{r.term}” ({fmt_number(int(r.count), report)}×)" for r in t.itertuples())
    return _vt(report, "themes", terms=terms)


def detractor_drivers(drivers: pd.DataFrame, lookback_days: int, report: ReportSpec) -> str:
    """The event that most clearly precedes detractors, and the other significant ones
    (:func:`journeylib.voice.detractor_drivers`)."""
    sig = drivers[drivers["supported"] & (drivers["lift_low"] > 1) & (drivers["p_value"] < ALPHA)]
    if sig.empty:
        n = int(drivers["detractors"].max() + drivers["promoters"].max()) if len(drivers) else 0
        return _vt(report, "drivers_none", n=fmt_number(n, report))
    top = sig.sort_values("rank").iloc[0]
    f = lambda v: fmt_number(v, report, decimals=1)  # noqa: E731
    text = _vt(
        report, "drivers", event=_words(top["event"]), ds=fmt_pct(top["detractor_share"], report),
        ps=fmt_pct(top["promoter_share"], report), d=lookback_days, lift=f(top["lift"]),
        lo=f(top["lift_low"]), hi=f(top["lift_high"]), with_=f(top["nps_with"]),
        without=f(top["nps_without"]),
    )  # fmt: skip
    rest = sig.sort_values("rank").iloc[1:4]
    if len(rest):
        others = ", ".join(f"{_words(r.event)} (lift {f(r.lift)})" for r in rest.itertuples())
        text += _vt(report, "drivers_more", others=others)
    return text


def top_pain_point(
    points: pd.DataFrame, report: ReportSpec, *, labels: dict[str, str] | None = None
) -> str:
    """The most severe pain point with its size, cost and evidence
    (:func:`journeylib.painpoints.pain_points`)."""
    if points is None or points.empty:
        return _vt(report, "no_pain")
    r = points.iloc[0]
    windowed = r["kind"] == "incident" and pd.notna(r["device"])
    where = (
        _vt(
            report, "where_window", device=r["device"], start=r["window_start"], end=r["window_end"]
        )
        if windowed
        else ""
    )
    f = lambda v: fmt_number(v, report, decimals=1)  # noqa: E731
    return _vt(
        report, "top_pain", title=r["title"], stage=(labels or {}).get(r["stage"], r["stage"]),
        where=where, customers=fmt_number(int(r["customers"]), report),
        conv=f(r["conversions_at_stake"]), rev=fmt_money(r["revenue_at_stake"], report),
        per=_vt(report, "per", sev=f(r["severity"])) if windowed else "",
        evidence=str(r["evidence"])[:1].upper() + str(r["evidence"])[1:],
    )  # fmt: skip


def handoffs(
    summary: pd.DataFrame,
    outcomes: pd.DataFrame,
    report: ReportSpec,
    *,
    labels: dict[str, str] | None = None,
) -> str:
    """The stage move where switching channel goes with the largest conversion gap
    (:func:`journeylib.handoffs.handoff_summary`, :func:`journeylib.handoffs.switch_outcomes`);
    moves with fewer than :data:`MIN_GROUP` customers on either side are left out."""
    if outcomes is None or outcomes.empty:
        return _vt(report, "handoff_none")
    wide = outcomes.pivot_table(
        index=["from_stage", "to_stage"], columns="group", values=["customers", "conversion"],
        aggfunc="first",
    )  # fmt: skip
    ok = (wide["customers"].min(axis=1) >= MIN_GROUP) if len(wide) else pd.Series(dtype=bool)
    wide = wide[ok]
    if wide.empty:
        return _vt(report, "handoff_none")
    gap = (wide["conversion"]["switched"] - wide["conversion"]["stayed"]).abs()
    a, b = gap.idxmax()
    s = summary[(summary["from_stage"] == a) & (summary["to_stage"] == b)].iloc[0]
    o = outcomes[(outcomes["from_stage"] == a) & (outcomes["to_stage"] == b)]
    sw, st = (o.set_index("group").loc[g, "conversion"] for g in ("switched", "stayed"))
    name = lambda x: (labels or {}).get(x, x)  # noqa: E731
    return _vt(
        report, "handoff", a=name(a), b=name(b), share=fmt_pct(s["switch_share"], report),
        n=fmt_number(int(s["comparable"]), report), top=s["top_switch"],
        sw=fmt_pct(sw, report), st=fmt_pct(st, report), diff=_points(sw - st, report),
        p=_p_text(float(o["p_value"].iat[0]), report),
    )  # fmt: skip


# ---- the client report: methods and glossary ---------------------------------------------------
_GLOSSARY: dict[str, dict[str, str]] = {
    "en": {
        "title": "Methods and glossary",
        "stages": (
            "**Journey stages.** Each customer's events, orders and feedback are mapped to the "
            "stages {stages}; the furthest stage reached and the current one come from the first "
            "time each was signalled. A customer with no activity in the {lapse} days before the "
            "cut-off ({as_of}) has left the journey."
        ),
        "funnel": (
            "**Funnel.** The steps {funnel}, counted per customer from the first step within "
            "{window}; conversion is the share of customers reaching the last step. A cart is "
            "abandoned when its visit ends without a purchase and lost when no purchase follows "
            "within {recovery} days."
        ),
        "attribution": (
            "**Attribution.** Credit for each conversion is shared among the channels of the "
            "{grain}s in the {lookback} days before it by rule-based models (first and last "
            "touch, linear, time decay with a {half_life}-day half-life, position-based) and "
            "data-driven ones (Markov removal effects up to order {markov}, Shapley values), with "
            "{boot} bootstrap resamples for the intervals."
        ),
        "personas": (
            "**Personas.** Customers with at least {min_activity:g} {activity} are grouped by k-means "
            "on their behaviour (shares, rates, scores, price levels; log-scaled); the number of "
            "personas is the largest from {k_min} to {k_max} whose every persona is reproduced by "
            "{resamples} bootstrap refits (mean Jaccard >= {stability}); everyone is then assigned."
        ),
        "churn": (
            "**Churn.** A customer active in the period before a cut-off has churned when there "
            "is no activity in the {horizon} days after it. The model is fitted at an earlier "
            "cut-off and judged on a later one with other customers; probabilities are "
            "calibrated. Customer value: BG/NBD and Gamma-Gamma over {clv} months."
        ),
        "recommend": (
            "**Recommendations.** One next best action per customer from the ordered playbook "
            "rules (first match wins); {k} products per customer by item-to-item co-purchase "
            "similarity ({similarity}), evaluated against best sellers on the most recent "
            "{test_days} days."
        ),
        "voice": (
            "**Satisfaction and pain points.** NPS = % promoters (9-10) − % detractors (0-6); "
            "CSAT and ratings as the share of 4-5. Pain points are where customers do worse than "
            "expected (incidents found with a scan statistic at significance {alpha:g}); cost = "
            "conversions at stake, ranked per 30 days active."
        ),
        "privacy": (
            "**Privacy.** Customer ids are pseudonymised with a keyed hash; names, e-mail "
            "addresses and phone numbers never reach the analysis. Table cells resting on fewer "
            "than {min_cell} customers are suppressed."
        ),
    },
    "id": {
        "title": "Metode dan glosarium",
        "stages": (
            "**Tahap perjalanan.** Kejadian, pesanan dan umpan balik setiap pelanggan dipetakan "
            "ke tahap {stages}; tahap terjauh dan tahap saat ini berasal dari saat pertama setiap "
            "tahap terdeteksi. Pelanggan tanpa aktivitas dalam {lapse} hari sebelum batas waktu "
            "({as_of}) dianggap telah keluar dari perjalanan."
        ),
        "funnel": (
            "**Corong.** Langkah {funnel}, dihitung per pelanggan sejak langkah pertama dalam "
            "{window}; konversi adalah bagian pelanggan yang mencapai langkah terakhir. Keranjang "
            "ditinggalkan bila kunjungannya berakhir tanpa pembelian dan hilang bila tidak ada "
            "pembelian dalam {recovery} hari."
        ),
        "attribution": (
            "**Atribusi.** Kredit setiap konversi dibagi ke kanal dari {grain} dalam {lookback} "
            "hari sebelumnya dengan model berbasis aturan (sentuhan pertama dan terakhir, linear, "
            "peluruhan waktu dengan waktu paruh {half_life} hari, berbasis posisi) dan berbasis "
            "data (efek penghapusan Markov hingga orde {markov}, nilai Shapley), dengan {boot} "
            "sampel bootstrap untuk interval."
        ),
        "personas": (
            "**Persona.** Pelanggan dengan minimal {min_activity:g} {activity} dikelompokkan dengan "
            "k-means berdasarkan perilaku; jumlah persona adalah yang terbesar dari {k_min} sampai "
            "{k_max} yang setiap personanya direproduksi oleh {resamples} pengulangan bootstrap "
            "(rata-rata Jaccard >= {stability}); semua pelanggan lalu ditetapkan."
        ),
        "churn": (
            "**Churn.** Pelanggan yang aktif sebelum batas waktu dianggap churn bila tidak ada "
            "aktivitas dalam {horizon} hari setelahnya. Model dilatih pada batas waktu lebih awal "
            "dan dinilai pada batas waktu berikutnya dengan pelanggan lain; probabilitas "
            "dikalibrasi. Nilai pelanggan: BG/NBD dan Gamma-Gamma selama {clv} bulan."
        ),
        "recommend": (
            "**Rekomendasi.** Satu tindakan terbaik per pelanggan dari aturan playbook berurutan "
            "(aturan pertama yang cocok); {k} produk per pelanggan berdasarkan kemiripan "
            "pembelian bersama ({similarity}), dievaluasi terhadap produk terlaris pada {test_days} "
            "hari terakhir."
        ),
        "voice": (
            "**Kepuasan dan titik masalah.** NPS = % promotor (9-10) − % detraktor (0-6); CSAT "
            "dan rating sebagai bagian nilai 4-5. Titik masalah adalah tempat pelanggan berkinerja "
            "lebih buruk dari yang diharapkan (insiden ditemukan dengan statistik pindai pada "
            "signifikansi {alpha:g}); biaya = konversi yang dipertaruhkan, diurutkan per 30 hari."
        ),
        "privacy": (
            "**Privasi.** ID pelanggan disamarkan dengan hash berkunci; nama, alamat e-mail dan "
            "nomor telepon tidak pernah masuk ke analisis. Sel tabel dengan kurang dari "
            "{min_cell} pelanggan disembunyikan."
        ),
    },
}


def methods_glossary(config, as_of: object, stage_labels: list[str]) -> str:  # noqa: ANN001
    """The methods and glossary section of the client report, with the parameters of this run
    (``config``: :class:`journeylib.config.Config`), in the report's language."""
    g = _GLOSSARY.get(config.report.language, _GLOSSARY["en"])
    j, a, p, c, r = (config.journey, config.attribution, config.personas, config.churn,
                     config.recommend)  # fmt: skip
    days = "days" if config.report.language == "en" else "hari"
    window = f"{j.funnel_window_days:g} {days}" if j.funnel_window_days else "—"
    parts = [
        f"## {g['title']}",
        g["stages"].format(stages=" → ".join(stage_labels), lapse=config.lapse_days, as_of=as_of),
        g["funnel"].format(
            funnel=" → ".join(_words(s) for s in j.funnel), window=window, recovery=j.recovery_days
        ),
        g["attribution"].format(
            grain=a.grain, lookback=a.lookback_days, half_life=f"{a.time_decay_half_life_days:g}",
            markov=a.markov_max_order, boot=a.bootstrap_samples,
        ),
        g["personas"].format(
            min_activity=p.min_activity, activity=_words(p.activity_column), k_min=p.k_min,
            k_max=p.k_max, resamples=p.stability_resamples, stability=p.min_stability,
        ),
        g["churn"].format(horizon=c.horizon_days, clv=c.clv_horizon_months),
        g["recommend"].format(k=r.k, similarity=r.similarity, test_days=r.test_days),
        g["voice"].format(alpha=config.journey_map.alpha),
        g["privacy"].format(min_cell=config.report.min_cell_count),
    ]  # fmt: skip
    return "\n\n".join(parts)


# ---- the client report: headings and fixed phrases -------------------------------------------
_REPORT_WORDS: dict[str, dict[str, str]] = {
    "en": {
        "glance": "At a glance",
        "findings": "Five findings",
        "map": "The journey map",
        "pain": "Top pain points",
        "actions": "Recommended actions",
        "sections": "Detailed sections",
        "appendix": "Appendix: data quality",
        "repro": "Reproducibility",
        "no_map": "The journey map is not available: `60_journey_map` did not run.",
        "no_findings": "No finding could be computed: the analysis outputs are missing.",
        "previous": "Compared with the run of {as_of} (run {run_id}).",
        "repro_line": (
            "Run **{run_id}**, config hash `{config_hash}`, seed {seed}, data fingerprint "
            "`{fingerprint}`, journeylib {version}."
        ),
        "suppressed": "Rows resting on fewer than {n} customers are hidden (marked “<{n}”).",
        "00_data_quality": "what the data holds and what was fixed on the way in",
        "10_journey_stages": "stages, funnels, drop-off, paths, retention and devices",
        "20_touchpoints_attribution": "which channels bring and close customers",
        "30_personas": "who the customers are",
        "40_churn": "who is about to leave, why, and what they are worth",
        "50_recommendations": "what to do for whom",
        "60_journey_map": "how the journey feels and where it hurts",
    },
    "id": {
        "glance": "Sekilas",
        "findings": "Lima temuan",
        "map": "Peta perjalanan pelanggan",
        "pain": "Titik masalah utama",
        "actions": "Tindakan yang direkomendasikan",
        "sections": "Bagian rinci",
        "appendix": "Lampiran: kualitas data",
        "repro": "Reproduksibilitas",
        "no_map": "Peta perjalanan tidak tersedia: `60_journey_map` tidak dijalankan.",
        "no_findings": "Tidak ada temuan yang dapat dihitung: keluaran analisis tidak ada.",
        "previous": "Dibandingkan dengan proses tanggal {as_of} (proses {run_id}).",
        "repro_line": (
            "Proses **{run_id}**, hash konfigurasi `{config_hash}`, seed {seed}, sidik jari data "
            "`{fingerprint}`, journeylib {version}."
        ),
        "suppressed": "Baris dengan kurang dari {n} pelanggan disembunyikan (ditandai “<{n}”).",
        "00_data_quality": "isi data dan apa yang diperbaiki saat dimuat",
        "10_journey_stages": "tahap, corong, titik keluar, jalur, retensi dan perangkat",
        "20_touchpoints_attribution": "kanal mana yang membawa dan menutup pelanggan",
        "30_personas": "siapa pelanggannya",
        "40_churn": "siapa yang akan pergi, mengapa, dan berapa nilainya",
        "50_recommendations": "apa yang dilakukan untuk siapa",
        "60_journey_map": "bagaimana perjalanan dirasakan dan di mana masalahnya",
    },
}


def report_words(report: ReportSpec) -> dict[str, str]:
    """The fixed headings and phrases of the client report in the report's language."""
    return _REPORT_WORDS.get(report.language, _REPORT_WORDS["en"])
