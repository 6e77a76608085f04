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
from journeylib.display import fmt_number, fmt_pct

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
