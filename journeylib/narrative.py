"""Sentences that state a finding, computed from an analysis table.

Every figure in a report page carries one sentence saying what it shows, with its numbers and
denominators. The sentence builders live here, not in notebooks: they choose what is worth
saying (small groups are left out, a difference that is not significant is called so), and they
are the one place where report wording can later be translated.

Each function takes the tidy table an analysis returned and the report settings (for number
formatting) and returns Markdown text. None of them computes new statistics.
"""

from __future__ import annotations

import pandas as pd

from journeylib.config import JourneySpec, ReportSpec
from journeylib.display import fmt_money, fmt_number, fmt_pct

#: Groups smaller than this are not singled out in a sentence (their rates are too noisy).
MIN_GROUP = 30
ALPHA = 0.05


def _words(event: str) -> str:
    return str(event).replace("_", " ")


def stage_reach(conversion: pd.DataFrame, labels: dict[str, str], report: ReportSpec) -> str:
    """How many customers entered the journey and how many reached the decision stage."""
    total = int(conversion["reached"].iloc[0]) if len(conversion) else 0
    if total == 0:
        return "No customer has a stage signal yet."
    row = conversion.iloc[min(2, len(conversion) - 1)]
    n = int(round(row["share_of_all"] * total)) if pd.notna(row["share_of_all"]) else 0
    return (
        f"{fmt_number(total, report)} customers entered the journey; "
        f"{fmt_number(n, report)} of them ({fmt_pct(row['share_of_all'], report)}) reached "
        f"{labels.get(row['stage'], row['stage'])}."
    )


def unused_rules(coverage: pd.DataFrame) -> str | None:
    """A warning naming stage-rule events that never occur (None when all occur)."""
    unused = coverage[coverage["events"] == 0]
    if unused.empty:
        return None
    names = ", ".join(f"`{e}` ({s})" for e, s in zip(unused["event"], unused["stage"], strict=True))
    return f"**Check the stage rules:** these rule events never occur in the data: {names}."


def exits(transitions: pd.DataFrame, customers: int, lapse_days: int, report: ReportSpec) -> str:
    """How many customers have left the journey (lapsed)."""
    n = int(transitions.loc[transitions["kind"] == "exit", "transitions"].sum())
    share = n / customers if customers else float("nan")
    return (
        f"{fmt_number(n, report)} of {fmt_number(customers, report)} customers "
        f"({fmt_pct(share, report)}) have left the journey: no activity in the {lapse_days} days "
        "before the cut-off."
    )


def cart_to_purchase(funnel: pd.DataFrame, journey: JourneySpec, report: ReportSpec) -> str:
    """Share of customers who reached the cart step but not the last step, within the window."""
    steps = funnel.set_index("step")
    if journey.cart_event not in steps.index:
        last = funnel.iloc[-1]
        return (
            f"{fmt_pct(last['conversion_from_start_strict'], report)} of customers who "
            f"{_words(journey.funnel[0])} complete the funnel in sequence."
        )
    carts = int(steps.loc[journey.cart_event, "customers_strict"])
    done = int(funnel["customers_strict"].iloc[-1])
    window = (
        f" within {journey.funnel_window_days:g} days of their first {_words(journey.funnel[0])}"
        if journey.funnel_window_days
        else ""
    )
    lost = 1 - done / carts if carts else float("nan")
    return (
        f"{fmt_pct(lost, report)} of the {fmt_number(carts, report)} customers who "
        f"{_words(journey.cart_event)} do not {_words(funnel['step'].iloc[-1])}{window}."
    )


def largest_drop(summary: pd.DataFrame, recovery_days: int, report: ReportSpec) -> str:
    """The funnel step that loses most customers, and how many of them came back."""
    if summary.empty or summary["dropped"].sum() == 0:
        return "No customer dropped out of the funnel."
    worst = summary.sort_values(["dropped", "step_no"], ascending=[False, True]).iloc[0]
    return (
        f"The largest drop is after **{_words(worst['step'])}**: {fmt_number(worst['dropped'], report)} "
        f"customers did not go on to {_words(worst['next_step'])}; "
        f"{fmt_pct(worst['recoverable_share'], report)} of them completed the funnel later "
        f"(within {recovery_days} days)."
    )


def carts(cart: pd.DataFrame, recovery: pd.DataFrame, report: ReportSpec) -> str:
    """Cart abandonment in the visit, later recovery, and the main recovery channel."""
    c = cart.iloc[0]
    if not c["carts"]:
        return "No cart was created in this period."
    text = (
        f"{fmt_pct(c['in_session_abandonment_rate'], report)} of {fmt_number(c['carts'], report)} "
        f"carts are left in their visit; {fmt_pct(c['recovery_rate'], report)} of those are bought "
        f"in a later visit, so {fmt_pct(c['abandonment_rate'], report)} of carts are lost."
    )
    if len(recovery) and recovery["recovered_carts"].sum() > 0:
        top = recovery.sort_values("recovered_carts", ascending=False).iloc[0]
        text += (
            f" Recovered buyers came back mostly through **{_words(top['channel'])}** "
            f"({fmt_pct(top['share'], report)})."
        )
    return text


def segment_difference(
    by_segment: pd.DataFrame, segment: str, report: ReportSpec, *, min_group: int = MIN_GROUP
) -> str:
    """Best vs worst converting segment (groups of at least ``min_group``), with the test result."""
    big = by_segment[by_segment["customers"] >= min_group]
    if len(big) < 2:
        return (
            f"Too few customers per {segment} to compare conversion (fewer than {min_group} each)."
        )
    ranked = big.sort_values(["conversion", "customers"])
    low, high = ranked.iloc[0], ranked.iloc[-1]
    p = float(by_segment["chi2_p_value"].iloc[0])
    verdict = (
        f"the difference across {segment} values is statistically significant (chi-square p = {p:.2g})"
        if p < ALPHA
        else f"the difference across {segment} values is not statistically significant "
        f"(chi-square p = {p:.2g})"
    )
    return (
        f"By {segment}: **{high[segment]}** converts {fmt_pct(high['conversion'], report)} "
        f"({fmt_number(high['customers'], report)} customers) against "
        f"{fmt_pct(low['conversion'], report)} for **{low[segment]}**; {verdict}."
    )


def best_variant(variants: pd.DataFrame, report: ReportSpec, *, min_group: int = MIN_GROUP) -> str:
    """The most common path that converts clearly above average."""
    big = variants[(variants["customers"] >= min_group) & (variants["lift"] > 1)]
    if big.empty:
        big = variants[(variants["customers"] >= report.min_cell_count) & (variants["lift"] > 1)]
    if big.empty:
        return "No common path converts above the average customer."
    best = big.sort_values(["lift", "customers"]).iloc[-1]
    return (
        f"The path **{best['variant']}** ({fmt_number(best['customers'], report)} customers) "
        f"converts {fmt_pct(best['conversion_rate'], report)}, {best['lift']:.1f}× the average of "
        f"{fmt_pct(best['baseline_rate'], report)}."
    )


def anomalies(frictions: pd.DataFrame) -> str:
    """Which friction events spiked, and when."""
    flagged = frictions[frictions["anomaly"].fillna(False).astype(bool)]
    if flagged.empty:
        return "No day stands out: friction stays within its usual range."
    top = flagged["event"].value_counts().index[0]
    first, last = flagged["period"].min(), flagged["period"].max()
    return (
        f"**{_words(top)}** spikes on {len(flagged[flagged['event'] == top])} days between "
        f"{first:%Y-%m-%d} and {last:%Y-%m-%d}: look for a broken step or an outage in that window."
    )


def device_gap(gap: pd.DataFrame, report: ReportSpec) -> str:
    """Desktop vs mobile conversion per visit, with the test and a caveat on composition."""
    g = gap.iloc[0]
    verdict = (
        f"a significant difference (p = {g['p_value']:.2g})"
        if g["p_value"] < ALPHA
        else f"not a significant difference (p = {g['p_value']:.2g})"
    )
    return (
        f"A {g['device']} visit converts {fmt_pct(g['rate'], report)} against "
        f"{fmt_pct(g['baseline_rate'], report)} on {g['baseline']}: {verdict}. Part of a gap can "
        "come from who uses which device, not the device itself."
    )


def repeat_next_period(cohorts: pd.DataFrame, period: str, report: ReportSpec) -> str:
    """Pooled share of new buyers who buy again in the period after their first purchase."""
    nxt = cohorts[(cohorts["offset"] == 1) & cohorts["rate"].notna()]
    if nxt.empty or nxt["customers"].sum() == 0:
        return f"No cohort has been observed for a full {period} after its first purchase yet."
    rate = nxt["retained"].sum() / nxt["customers"].sum()
    return (
        f"Of {fmt_number(nxt['customers'].sum(), report)} new buyers observed for a {period}, "
        f"{fmt_pct(rate, report)} bought again in the {period} after their first purchase."
    )


# ---- attribution (notebook 20_touchpoints_attribution) -----------------------------------------
def attribution_paths(summary: pd.DataFrame, lookback_days: int, report: ReportSpec) -> str:
    """How many conversions and journeys the attribution models see (one-row summary)."""
    s = summary.iloc[0]
    if not s["conversions"]:
        return "No conversion in the data: there is nothing to attribute."
    return (
        f"{fmt_number(s['conversions'], report)} conversions and "
        f"{fmt_number(s['non_converting'], report)} journeys without a conversion, on "
        f"{fmt_number(s['paths'], report)} distinct paths of touches in the {lookback_days} days "
        f"before each conversion; a converting path has "
        f"{fmt_number(s['mean_length_converting'], report, decimals=1)} touches on average and "
        f"{fmt_pct(s['single_touch_share'], report)} of conversions had a single touch."
    )


def markov_order(orders: pd.DataFrame, report: ReportSpec) -> str:
    """Which Markov order predicts held-out journeys best."""
    best = orders[orders["chosen"]].iloc[0]
    k = int(best["order"])
    memory = "the last touch" if k == 1 else f"the last {k} touches"
    return (
        f"A Markov chain of order {k} (each step depends on {memory}) predicts held-out "
        f"journeys best "
        f"({fmt_number(best['log_likelihood_per_transition'], report, decimals=3)} "
        "log-likelihood per step), "
        f"so the removal effects below use it."
    )


def top_credit(table: pd.DataFrame, model: str, report: ReportSpec) -> str:
    """The channel a model credits most, with its bootstrap interval when present."""
    t = table.sort_values("share", ascending=False)
    if t.empty or not t["share"].notna().any():
        return f"{model} credits no channel."
    top = t.iloc[0]
    ci = ""
    if {"share_low", "share_high"} <= set(t.columns) and pd.notna(top.get("share_low")):
        ci = f" (95% interval {fmt_pct(top['share_low'], report)}–{fmt_pct(top['share_high'], report)})"
    return (
        f"{model} credits {top['channel']} with {fmt_pct(top['share'], report)} of conversions"
        f"{ci}, {fmt_number(top['conversions'], report)} of "
        f"{fmt_number(t['conversions'].sum(), report)}."
    )


def model_disagreement(comparison: pd.DataFrame, a: str, b: str, report: ReportSpec) -> str:
    """The channel whose credit differs most between models ``a`` and ``b`` (long comparison)."""
    wide = comparison.pivot_table(index="channel", columns="model", values="share", aggfunc="sum")
    if a not in wide.columns or b not in wide.columns or wide.empty:
        return ""
    diff = (wide[b] - wide[a]).dropna()
    if diff.empty:
        return ""
    ch = diff.abs().idxmax()
    more = "more" if diff[ch] > 0 else "less"
    return (
        f"The models disagree most on {ch}: {b} gives it {fmt_pct(wide.at[ch, b], report)} of "
        f"the credit, {more} than {a} ({fmt_pct(wide.at[ch, a], report)})."
    )


def assist_roles(assisted: pd.DataFrame, report: ReportSpec) -> str:
    """The most assist-heavy channel and the strongest closer."""
    t = assisted[assisted["last_touch_conversions"] + assisted["assisted_conversions"] >= MIN_GROUP]
    t = t[t["assist_ratio"].notna() & (t["assist_ratio"] != float("inf"))]
    if len(t) < 2:
        return "Too few conversions per channel to compare assisting and closing roles."
    hi, lo = t.loc[t["assist_ratio"].idxmax()], t.loc[t["assist_ratio"].idxmin()]
    ratio_hi = fmt_number(hi["assist_ratio"], report, decimals=1)
    ratio_lo = fmt_number(lo["assist_ratio"], report, decimals=2)
    closer = (
        f"{lo['channel']} closes more conversions than it assists (ratio {ratio_lo})"
        if lo["assist_ratio"] < 1
        else f"{lo['channel']} has the lowest ratio ({ratio_lo})"
    )
    return f"{hi['channel']} assists {ratio_hi} conversions for every one it closes; {closer}."


def best_roas(
    efficiency: pd.DataFrame, model: str, report: ReportSpec, *, name: str | None = None
) -> str:
    """The channels with the highest and lowest return on ad spend under ``model`` (shown as
    ``name``)."""
    t = efficiency[(efficiency["model"] == model) & (efficiency["cost"] > 0)]
    t = t[t["roas"].notna()]
    if t.empty:
        return "No channel has both spend and credited revenue."
    best, worst = t.loc[t["roas"].idxmax()], t.loc[t["roas"].idxmin()]
    return (
        f"Under the {name or model} model, {best['channel']} returns "
        f"{fmt_number(best['roas'], report, decimals=1)} in revenue per unit of spend (cost per "
        f"conversion {fmt_money(best['cpa'], report)}); {worst['channel']} returns "
        f"{fmt_number(worst['roas'], report, decimals=1)}."
    )


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


def _activity_words(column: str) -> str:
    """``engagement_sessions`` -> ``sessions``: the column name without its feature group."""
    from journeylib.features import FEATURE_GROUPS

    head, _, rest = str(column).partition("_")
    return _words(rest if head in FEATURE_GROUPS and rest else column)


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
            what=_activity_words(activity_column),
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
        what=_activity_words(activity_column),
    )


def dropped_features(dropped: dict[str, str], report: ReportSpec) -> str | None:
    """The features the model left out (``PersonaModel.dropped_features_``); None if none."""
    if not dropped:
        return None
    names = ", ".join(f"`{name}` ({why})" for name, why in dropped.items())
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
