"""Persona sentences of journeylib.narrative: hand-made selection, card and outcome tables."""

from __future__ import annotations

import numpy as np
import pandas as pd

from journeylib import narrative
from journeylib.config import ReportSpec

EN = ReportSpec()  # thousands ".", decimals ","
ID = ReportSpec(language="id")


def _selection(stability, chosen_k, *, min_stability=0.75):
    ks = list(range(2, 2 + len(stability)))
    return pd.DataFrame(
        {
            "k": ks,
            "silhouette": [0.2] * len(ks),
            "bic": [np.nan] * len(ks),
            "stability": stability,
            "stability_ari": [0.9] * len(ks),
            "min_stability": min_stability,
            "stable": [s >= min_stability for s in stability],
            "chosen": [k == chosen_k for k in ks],
        }
    )


def test_personas_found_names_k_the_rule_and_the_learners():
    # k = 2..5; 4 is the largest stable one
    sel = _selection([0.95, 0.9, 0.8, 0.6], 4)
    text = narrative.personas_found(
        sel,
        EN,
        learned=1761,
        customers=3092,
        activity_column="engagement_sessions",
        min_activity=5,
    )
    assert text.startswith("**4 personas**: the largest number between 2 and 5")
    # 1761 / 3092 = 56.95%; report separators: 1.761, 3.092, 57,0%
    assert "learned from 1.761 of 3.092 customers (57,0%), those with at least 5 sessions" in text
    sil = narrative.personas_found(sel, EN, learned=10, customers=10, method="silhouette")
    assert "best silhouette score" in sil and "at least" not in sil
    fixed = narrative.personas_found(_selection([0.9], 2), EN, learned=5, customers=5)
    assert fixed.startswith("**2 personas**, the number set in the configuration.")


def test_persona_stability_statement_and_visible_warnings():
    stable = narrative.persona_stability(_selection([0.95, 0.82, 0.6], 3), EN)
    assert stable.startswith("**Stability:**")
    assert "mean Jaccard index of 0,82" in stable and "threshold 0,75" in stable
    # no k reaches 0.75: the most stable (k=3, 0.7) is chosen and flagged
    unstable = narrative.persona_stability(_selection([0.6, 0.7, 0.5], 3), EN)
    assert unstable.startswith("**Warning: these personas are not stable.**")
    assert "between 2 and 4" in unstable and "0,70" in unstable and "tentative" in unstable
    fixed = narrative.persona_stability(_selection([0.5], 2), EN)
    assert "set in the configuration" in fixed and fixed.startswith("**Warning")
    unassessed = narrative.persona_stability(_selection([np.nan], 2), EN)
    assert unassessed.startswith("**Warning:**") and "not assessed" in unassessed
    indonesian = narrative.persona_stability(_selection([0.6, 0.7, 0.5], 3), ID)
    assert indonesian.startswith("**Peringatan: persona ini tidak stabil.**")


def test_inputs_summary():
    text = narrative.persona_inputs_summary(3092, 64, 45, EN)
    assert text.startswith("3.092 customers, each described by 64 features; the personas are ")
    assert "learned from 45 of them" in text
    assert narrative.persona_inputs_summary(3092, 64, 45, ID).startswith("3.092 pelanggan")


def test_fallback_and_dropped_features():
    text = narrative.persona_learning_fallback(12, 300, "engagement_sessions", 5, EN)
    assert text.startswith("**Note:** only 12 of 300 customers have at least 5 sessions")
    assert narrative.dropped_features({}, EN) is None
    dropped = narrative.dropped_features({"a": "constant", "b": "all missing"}, EN)
    assert dropped.startswith("2 feature(s)") and "`a` (constant), `b` (all missing)" in dropped


def test_largest_persona_uses_the_cards_and_descriptions():
    cards = pd.DataFrame(
        {
            "persona": [1, 2, 3],
            "persona_label": ["Bargain hunters", "Premium", "Bulk buyers"],
            "customers": [1200, 1500, 300],
            "share": [0.4, 0.5, 0.1],
        }
    )
    descriptions = {1: "x", 2: "62% desktop share (all: 20%)", 3: "z"}
    text = narrative.largest_persona(cards, descriptions, EN)
    assert text == (
        "The largest persona, **Premium**, holds 1.500 customers (50,0%). Compared with all "
        "customers: 62% desktop share (all: 20%)."
    )
    assert narrative.largest_persona(cards, descriptions, ID).startswith(
        "Persona terbesar, **Premium**, mencakup 1.500 pelanggan"
    )


def test_outcome_extremes_skip_small_personas():
    outcomes = pd.DataFrame(
        {
            "persona": [1, 2, 3, 4],
            "persona_label": ["A", "B", "C", "Tiny"],
            "in_journey": [100, 200, 50, 10],
            "conversion_rate": [0.10, 0.30, 0.05, 0.90],
            "churn_rate": [0.40, 0.20, 0.30, 0.99],
        }
    )
    text = narrative.persona_outcome_extremes(outcomes, EN, lapse_days=90)
    # Tiny (10 < 30 customers) is not singled out although its rates are the extremes
    assert "**B** converts best: 30,0% of its 200 customers" in text
    assert "against 5,0% for **C**" in text
    assert "Churn is highest for **A**: 40,0%" in text and "90 days" in text
    assert "(lowest: **B**, 20,0%)" in text
    few = narrative.persona_outcome_extremes(outcomes, EN, lapse_days=90, min_group=150)
    assert few.startswith("Too few customers per persona")
    no_conv = outcomes.assign(conversion_rate=np.nan)
    text = narrative.persona_outcome_extremes(no_conv, ID, lapse_days=60)
    assert text.startswith("Churn tertinggi pada **A**") and "60 hari" in text
