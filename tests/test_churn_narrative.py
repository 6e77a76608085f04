"""Churn sentences of journeylib.narrative: hand-made metric, lift, cost, value, at-risk and
survival tables with the numbers worked out in the comments."""

from __future__ import annotations

import string

import numpy as np
import pandas as pd
import pytest

from journeylib import narrative
from journeylib.churn import confusion_table
from journeylib.config import ChurnCosts, ReportSpec

EN = ReportSpec()  # thousands ".", decimals ",", currency "Rp"
ID = ReportSpec(language="id")


def _sizes(kind="time"):
    as_of = ["2025-03-02", "2025-05-01", "2025-06-30"] if kind == "time" else [""] * 3
    window = (
        ["2025-03-03..2025-05-01", "2025-05-02..2025-06-30", ""] if kind == "time" else [""] * 3
    )
    churners = [250.0, 100.0, np.nan] if kind == "time" else [186.0, 80.0, np.nan]
    customers = [1000, 400, 2000] if kind == "time" else [700, 300, 734]
    return pd.DataFrame(
        {
            "role": ["train", "test", "score"],
            "customers": customers,
            "churners": churners,
            "churn_rate": [c / n for c, n in zip(churners, customers, strict=True)],
            "as_of": as_of,
            "label_window": window,
        }
    )


def test_every_churn_sentence_exists_in_both_languages_with_the_same_fields():
    fields = {
        lang: {
            key: {f for _, f, _, _ in string.Formatter().parse(text) if f}
            for key, text in texts.items()
        }
        for lang, texts in narrative._CHURN_TEXT.items()
    }
    assert fields["en"] == fields["id"]


def test_churn_definition_of_a_time_split_and_of_labelled_data():
    text = narrative.churn_definition(
        _sizes("time"),
        EN,
        kind="time",
        definition="customers with an order in the last 90 days before the cut-off; churned = "
        "no order in the 60 days after it",
    )
    assert text.startswith("**Who counts as churned:** Customers with an order in the last 90")
    # 250 of 1,000 training customers churned: 25.0%; 100 of 400 test customers: 25.0%
    assert (
        "learns from 1.000 customers labelled at the cut-off 2025-03-02 (25,0% churned in "
        "2025-03-03..2025-05-01)"
    ) in text
    assert "tested on 400 customers at the later cut-off 2025-05-01" in text
    assert "2.000 customers eligible on 2025-06-30 are scored." in text
    # labelled: 700 + 300 = 1,000 customers with a label, 186 + 80 = 266 churned = 26.6%
    text = narrative.churn_definition(_sizes("labelled"), EN, kind="labelled", label_column="churn")
    assert "in its column `churn`: 1.000 customers have a label and 26,6% of them churned" in text
    assert "learns from 700 customers and is tested on 300 others" in text
    assert "the 734 customers who have not churned are scored" in text
    assert "kolom `churn`" in narrative.churn_definition(
        _sizes("labelled"), ID, kind="labelled", label_column="churn"
    )


def _summary(chosen="hgb", calibration="isotonic"):
    return pd.DataFrame(
        {
            "model": ["logistic", "hgb"],
            "roc_auc": [0.82, 0.85],
            "average_precision": [0.55, 0.6],
            "brier": [0.2, 0.19],
            "chosen": [chosen == "logistic", chosen == "hgb"],
            "calibration": [
                calibration if chosen == "logistic" else "",
                calibration if chosen == "hgb" else "",
            ],
        }
    )


def test_model_choice_names_the_kept_model_and_the_calibration():
    calibration = pd.DataFrame(
        {
            "calibration": ["none", "sigmoid", "isotonic"],
            "brier": [0.2, 0.15, 0.14],
            "chosen": [False, False, True],
        }
    )
    text = narrative.churn_model_choice(_summary(), calibration, EN)
    assert text == (
        "**Gradient boosting** is kept: on the validation customers it ranks churners above "
        "non-churners better than logistic regression (ROC AUC 0,850 against 0,820). Its "
        "probabilities are calibrated with isotonic regression, which gives the lower validation "
        "Brier score (0,140, against 0,150 with Platt scaling (sigmoid) and 0,200 uncalibrated)."
    )
    pr = narrative.churn_model_choice(_summary(), calibration, EN, metric="average_precision")
    assert "(PR AUC 0,600 against 0,550)" in pr
    # one configured model, configured calibration: no comparison to report
    single = _summary("logistic", "sigmoid").iloc[[0]]
    empty = pd.DataFrame(columns=["calibration", "brier", "chosen"])
    assert narrative.churn_model_choice(single, empty, EN) == (
        "**Logistic regression** is the configured model (validation ROC AUC 0,820). Its "
        "probabilities are calibrated with Platt scaling (sigmoid), as configured."
    )
    raw = narrative.churn_model_choice(_summary("hgb", "none"), empty, EN)
    assert "**Its scores are not calibrated**" in raw
    assert narrative.churn_model_choice(_summary(), calibration, ID).startswith(
        "**Gradient boosting** dipilih"
    )


def _metrics(**values):
    base = {
        "customers": 200,
        "churners": 50,
        "base_rate": 0.25,
        "mean_probability": 0.24,
        "roc_auc": 0.83,
        "pr_auc": 0.6,
        "brier": 0.15,
        "brier_skill": 0.2,  # 1 - 0.15 / (0.25 x 0.75)
    }
    base.update(values)
    return pd.DataFrame({"metric": list(base), "value": list(base.values())})


def test_metric_sentence_with_the_quality_word_and_a_caution_on_small_tests():
    text = narrative.churn_metrics(_metrics(), EN)
    assert text == (
        "On 200 held-out customers, of whom 25,0% churned, the model ranks a churner above a "
        "non-churner 83% of the time (**ROC AUC 0,830**, 0,5 is guessing): a good separation. "
        "**PR AUC 0,600** (guessing scores 25,0%); **Brier score 0,150**, 20,0% lower than "
        "predicting 25,0% for everyone. On average it predicts 24,0% churn against 25,0% "
        "observed."
    )
    assert "an excellent separation" in narrative.churn_metrics(_metrics(roc_auc=0.93), EN)
    assert "barely better than guessing" in narrative.churn_metrics(_metrics(roc_auc=0.55), EN)
    assert "no better than predicting" in narrative.churn_metrics(_metrics(brier_skill=-0.01), EN)
    # 20 churners < 30: the figures are flagged as uncertain
    small = narrative.churn_metrics(_metrics(churners=20), EN)
    assert small.endswith(
        "**Caution:** the test holds only 20 churners and 180 non-churners, so these figures "
        "could differ a lot on other customers."
    )


def test_calibration_sentence_counts_bins_that_hold_the_prediction():
    table = pd.DataFrame(
        {
            "customers": [50, 50, 20],
            "mean_probability": [0.1, 0.3, 0.6],
            "churn_rate": [0.12, 0.28, 0.8],
            "ci_low": [0.05, 0.2, 0.7],
            "ci_high": [0.2, 0.4, 0.88],
        }
    )
    # 0.1 is in [0.05, 0.2] and 0.3 in [0.2, 0.4], 0.6 is not in [0.7, 0.88]; largest gap 0.2
    assert narrative.churn_calibration(table, EN) == (
        "In 2 of 3 probability bins the predicted churn rate lies within the 95% interval of "
        "the observed one; the largest gap is 20,0 points (predicted 60,0%, observed 80,0%, "
        "20 customers)."
    )


def test_lift_sentence_reads_the_first_and_third_group():
    lift = pd.DataFrame(
        {
            "group": [1, 2, 3, 4],
            "churn_rate": [0.6, 0.3, 0.2, 0.1],
            "lift": [3.0, 1.5, 1.0, 0.5],  # average churn rate 0.6 / 3 = 20%
            "cum_share": [0.1, 0.2, 0.3, 1.0],
            "capture_rate": [0.3, 0.5, 0.7, 1.0],
        }
    )
    assert narrative.churn_lift(lift, EN) == (
        "The riskiest 10% of held-out customers churn at 60,0%, 3,0 times the average of 20,0%; "
        "the riskiest 30% hold 70,0% of all churners."
    )


def test_cost_sentence_states_the_assumptions_and_the_outcome_at_the_threshold():
    costs = ChurnCosts(offer_cost=10, churn_value=100, save_rate=0.5)  # threshold 10/50 = 0.2
    # p >= 0.2: 0.9 and 0.3 are churners (caught), 0.25 stayed (false alarm); 0.05 is missed.
    # value: 2 x (0.5 x 100 - 10) - 1 x 10 = 70
    confusion = confusion_table([1, 1, 0, 0, 1], [0.9, 0.3, 0.25, 0.1, 0.05], costs=costs)
    text = narrative.churn_costs(costs, confusion, EN)
    assert text.startswith(
        "**Cost assumptions** (`churn.costs`): a retention offer costs Rp 10 per customer "
        "contacted, keeps 50% of the would-be churners it reaches, and a churner kept is worth "
        "Rp 100."
    )
    assert "from a probability of **20,0%**" in text
    assert (
        "3 of the 5 held-out customers (60,0%) would be contacted, catching 2 of 3 churners "
        "(66,7%) with 1 false alarm(s): a net value of Rp 70 compared with doing nothing."
    ) in text
    assert "placeholder" not in text
    assert "placeholder figures" in narrative.churn_costs(costs, confusion, EN, placeholder=True)
    # an offer that costs more than the saved value of a certain churner never pays off
    dear = ChurnCosts(offer_cost=100, churn_value=100, save_rate=0.5)
    never = narrative.churn_costs(dear, confusion_table([1, 0], [0.9, 0.1], costs=dear), EN)
    assert "never pays off (it would need a churn probability of 200,0%)" in never


def test_customer_value_sentence_and_the_bgnbd_limits():
    value = pd.DataFrame(
        {
            "customer_id": list("abcdefghij"),
            "expected_purchases": [1.5] * 10,
            "clv": np.arange(1, 11) * 100.0,
        }
    )
    # total 5,500; median (500 + 600) / 2 = 550; the top 10% is one customer: 1,000 / 5,500
    text = narrative.customer_value(value, EN, horizon_months=12)
    assert text == (
        "Over the next 12 months the 10 customers who have bought are expected to make 15 "
        "purchases worth Rp 5.500 in today's money (discounted); the median customer is worth "
        "Rp 550 and the most valuable 10% hold 18,2% of the value."
    )
    assert "no-dropout limit" in narrative.customer_value(
        value, EN, horizon_months=12, limit="no dropout"
    )
    constant = narrative.customer_value(
        value, EN, horizon_months=12, limit="constant dropout", dropout_probability=0.04
    )
    assert "the same probability 4,0% after each repeat purchase" in constant


def test_customer_value_skipped_says_why_and_what_replaces_it():
    fit = narrative.customer_value_skipped(
        "fit", EN, buyers=49, repeat=17, fallback="revenue to date"
    )
    assert fit.startswith(
        "**Not enough repeat purchases to estimate customer value** (49 buyers, 17 of them "
        "with a repeat purchase)"
    )
    assert fit.endswith("The at-risk list uses revenue to date as each customer's value instead.")
    labelled = narrative.customer_value_skipped("labelled", EN)
    assert "labelled customer table" in labelled
    assert labelled.endswith("ranks customers by churn probability alone.")
    assert "No purchases before the cut-off" in narrative.customer_value_skipped("orders", EN)


def test_at_risk_summary_reads_the_threshold_and_the_concentration_of_loss():
    p = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05])
    risk = pd.DataFrame({"churn_probability": p, "value": 100.0, "expected_loss": 100 * p})
    # 5 customers at or above 0.5; expected loss 455 in all, the first 10% (one customer) 90
    text = narrative.at_risk_summary(risk, EN, threshold=0.5, value_label="CLV")
    assert text == (
        "10 customers are scored; 5 of them (50,0%) have a churn probability at or above the "
        "operating threshold of 50,0%. Ranked by expected loss (churn probability × CLV), the "
        "first 1 (10%) hold 19,8% of the expected loss of all scored customers (Rp 90 of "
        "Rp 455)."
    )
    unknown = risk.assign(value=np.nan, expected_loss=np.nan)
    assert narrative.at_risk_summary(unknown, EN, threshold=0.5, value_label=None).endswith(
        "Without a value per customer, they are ranked by churn probability."
    )


def test_survival_summary_compares_medians_of_large_groups_only():
    medians = pd.DataFrame(
        {
            "group": ["A", "B", "C", "D"],
            "n": [100, 80, 50, 10],  # D is too small to be singled out
            "events": [60, 45, 10, 9],
            "median": [30.0, 60.0, np.nan, 5.0],
            "lower": [20.0, 50.0, np.nan, 2.0],
            "upper": [40.0, np.nan, np.nan, 9.0],
        }
    )
    text = narrative.survival_summary(medians, EN, by="persona")
    assert text == (
        "By persona: the median lifetime is shortest for **A** (30 days, 95% interval 20–40) and "
        "longest for **B** (60 days, 95% interval from 50). More than half of the customers of "
        "**C** are still active at the end of what is observed, so their median is not reached."
    )
    one = narrative.survival_summary(medians.iloc[[0, 2]], EN, by="stage", unit="months")
    assert one.startswith("By stage: the median lifetime of **A** is 30 months")
    none = narrative.survival_summary(medians.iloc[[2, 2]], EN, by="stage")
    assert "no median lifetime is reached" in none
    assert "Too few customers per stage" in narrative.survival_summary(
        medians.iloc[[0, 3]], EN, by="stage"
    )


@pytest.mark.parametrize(("sentences", "text"), [([], ""), (["a.", "b."], "* a.\n* b.")])
def test_bullets(sentences, text):
    assert narrative.bullets(sentences) == text
