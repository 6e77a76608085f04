"""Recommendation sentences of journeylib.narrative: hand-made playbook, action, uplift,
top-N and evaluation tables with the numbers worked out in the comments."""

from __future__ import annotations

import string

import pandas as pd

from journeylib import narrative
from journeylib.config import PlaybookCondition, PlaybookRule, PlaybookSpec, ReportSpec

EN = ReportSpec()  # thousands ".", decimals ",", currency "Rp"
ID = ReportSpec(language="id")
NAN = float("nan")
STAGES = {"consideration": "Consideration", "decision": "Decision"}


def _fields(texts: dict) -> dict:
    return {
        key: {f for _, f, _, _ in string.Formatter().parse(text) if f}
        for key, text in texts.items()
        if isinstance(text, str)
    }


def test_every_recommendation_sentence_exists_in_both_languages_with_the_same_fields():
    text = narrative._RECOMMEND_TEXT
    assert _fields(text["en"]) == _fields(text["id"])
    words = narrative._RULE_WORDS
    assert words["en"].keys() == words["id"].keys()
    assert _fields(words["en"]) == _fields(words["id"])


# ---- the playbook in words ---------------------------------------------------------------------
def test_default_playbook_rules_in_words_in_priority_order():
    table = narrative.playbook_rules(PlaybookSpec(), EN, stage_labels=STAGES, lapse_days=90)
    assert table.columns.tolist() == [
        "priority",
        "rule",
        "conditions",
        "action",
        "action_label",
        "channel",
    ]
    assert table["priority"].tolist() == list(range(1, 11))
    got = table.set_index("rule")["conditions"]
    # every condition of the rule, joined by "; "
    assert got["win_back"] == "high churn risk; high value"
    assert got["cart_recovery"] == "left a cart without buying in the last 14 days"
    assert got["lapsed_buyer"] == "at least one order; inactive for 90 days"
    assert got["new_buyer"] == "exactly one order"
    assert got["repeat_buyer"] == "at least 2 orders; active in the last 90 days"
    assert got["considering"] == (
        "furthest stage Consideration or Decision; no order yet; active in the last 90 days"
    )
    first = table.iloc[0]
    assert (first["action_label"], first["channel"]) == ("Win-back offer", "email")

    # Bahasa Indonesia: the conditions and the action labels
    table = narrative.playbook_rules(PlaybookSpec(), ID, stage_labels=STAGES, lapse_days=60)
    got = table.set_index("rule")
    assert got.loc["win_back", "conditions"] == "risiko churn tinggi; nilai tinggi"
    assert (
        got.loc["lapsed_buyer", "conditions"] == "minimal satu pesanan; tidak aktif selama 60 hari"
    )
    assert got.loc["win_back", "action_label"] == "Penawaran khusus agar kembali berbelanja"


def test_custom_rules_orders_ranges_personas_and_a_catch_all():
    rule, when = PlaybookRule, PlaybookCondition
    spec = PlaybookSpec(
        rules=[
            rule(
                name="mid",
                action="loyalty_reward",
                when=when(persona=[2, "Deal hunters"], orders_min=2, orders_max=4),
            ),
            rule(name="unhappy", action="service_recovery", when=when(satisfied=False)),
            # orders_min 0 holds for everyone: nothing to say beyond the other conditions
            rule(name="cold", action="welcome_content", when=when(orders_min=0, value=["low"])),
            rule(name="rest", action="re_engagement"),
        ]
    )
    got = narrative.playbook_rules(spec, EN).set_index("rule")["conditions"]
    assert got["mid"] == "persona 2 or Deal hunters; 2 to 4 orders"
    assert got["unhappy"] == "not known to be satisfied"
    assert got["cold"] == "low value"
    assert got["rest"] == "every customer not matched by a rule above"


# ---- actions -----------------------------------------------------------------------------------
def test_action_inputs_say_what_the_rules_could_read():
    context = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d"],
            "persona": [1, 2, NAN, NAN],
            "churn_probability": [0.7, NAN, NAN, NAN],
        }
    )
    text = narrative.action_inputs(context, EN, as_of="2025-06-30", recent_days=14, lapse_days=90)
    assert text.startswith("The rules read, as of 2025-06-30, each of the 4 customers'")
    # 2 of 4 with a persona = 50,0%; 1 of 4 scored = 25,0%
    assert "Personas are known for 2 customers (50,0%)." in text
    assert "from the churn page for 1 customers (25,0%)" in text
    text = narrative.action_inputs(
        context.assign(persona=NAN, churn_probability=NAN),
        EN,
        as_of="2025-06-30",
        recent_days=14,
        lapse_days=90,
    )
    assert "No persona assignments were found" in text and "No churn scores were found" in text


def _summary(unmatched=1, stake=(100.0, 300.0)):
    return pd.DataFrame(
        {
            "action": ["a_action", "b_action", "(no action)"],
            "action_label": ["Action A", "Action B", "(no action)"],
            "channel": ["email", "ads", ""],
            "customers": [6, 3, unmatched],
            "share": [0.6, 0.3, 0.1],
            "value_at_stake": [*stake, NAN],
        }
    )


def test_next_best_action_summary_counts_top_action_value_at_stake_and_unmatched():
    text = narrative.next_best_action_summary(_summary(), EN)
    # 10 customers, 9 with an action (90,0%); A is the most common: 6 of 10
    assert text.startswith(
        "9 of 10 customers (90,0%) get an action; the most common is **Action A** (6 customers, "
        "60,0%)."
    )
    # B holds the largest value at stake: Rp 300 of Rp 400 = 75,0%
    assert "is with **Action B**: Rp 300 across 3 customers, 75,0% of the Rp 400 at stake" in text
    assert "**1 customers (10,0%) match no rule**" in text
    # everyone matched, no churn scores: no value at stake, no unmatched customers
    text = narrative.next_best_action_summary(_summary(unmatched=0, stake=(NAN, NAN)), EN)
    assert "value at stake" not in text and text.endswith("Every customer matches a rule.")
    empty = _summary().assign(customers=0)
    assert narrative.next_best_action_summary(empty, EN) == "There are no customers to act on."
    assert "mendapat tindakan" in narrative.next_best_action_summary(_summary(), ID)


def test_unmatched_customers_name_the_largest_group():
    no_rule = pd.DataFrame(
        {
            "stage": ["Consideration", None],
            "lapsed": [True, True],
            "ordered": [False, False],
            "customers": [5, 2],
        }
    )
    text = narrative.unmatched_customers(no_rule, EN, lapse_days=90)
    assert text.startswith(
        "The largest group without an action is customers in the **Consideration** stage who "
        "have never ordered and have been inactive for 90 days: 5 of the 7 customers"
    )
    assert "`playbook.rules`" in text
    text = narrative.unmatched_customers(
        no_rule.iloc[::-1].assign(customers=[9, 1]), EN, lapse_days=30
    )
    assert "customers without a journey stage who have never ordered" in text
    assert narrative.unmatched_customers(no_rule.iloc[:0], EN, lapse_days=90) == (
        "Every customer matches a rule."
    )


def test_action_export_names_the_file_and_the_pseudonymous_ids():
    text = narrative.action_export(223, 309, EN)
    assert text.startswith("**Export for the e-mail tool:** `next_best_actions.csv`")
    assert "lists the 223 customers who get an action" in text
    assert "(86 customers without an action are left out)" in text  # 309 - 223
    assert "pseudonym" in text and "no e-mail address, name or phone number" in text
    assert "left out" not in narrative.action_export(5, 5, EN)  # everyone has an action
    text = narrative.action_export(1223, 1309, ID)
    assert "berisi 1.223 pelanggan" in text and "tidak berisi alamat email" in text


# ---- observed cart-recovery uplift -------------------------------------------------------------
def _uplift(n1=40, n0=100):
    p1, p0 = 14 / 40, 15 / 100
    return pd.DataFrame(
        {
            "contacted": [True, False],
            "carts": [n1, n0],
            "recovered": [14, 15],
            "recovery_rate": [p1, p0],
            "difference": [p1 - p0] * 2,
            "difference_low": [0.036454] * 2,
            "difference_high": [0.363546] * 2,
        }
    )


def test_cart_recovery_uplift_is_stated_as_observational():
    opts = {"channels": ("email", "whatsapp"), "contact_days": 2.0, "window_days": 7}
    text = narrative.cart_recovery_uplift(_uplift(), EN, **opts)
    # 14/40 = 35,0% against 15/100 = 15,0%: +20,0 points, interval +3,6 to +36,4
    assert text.startswith(
        "Of 40 abandoned carts followed within 2 days by a visit from email or whatsapp, 35,0% "
        "were bought within 7 days, against 15,0% of the 100 carts without such a visit: a "
        "difference of +20,0 points (95% interval +3,6 to +36,4)."
    )
    assert "**This is observational, not an experiment:**" in text and "holdout test" in text
    one_sided = narrative.cart_recovery_uplift(_uplift(n1=0), EN, **opts)
    assert "cannot be compared: 0 were followed" in one_sided
    assert "observational, not an experiment" in one_sided
    assert "not estimated" in narrative.cart_recovery_uplift(None, EN, **opts)
    assert "bukan eksperimen" in narrative.cart_recovery_uplift(_uplift(), ID, **opts)


# ---- product recommendations -------------------------------------------------------------------
def _recs():
    # u1: item-kNN then a popularity fill; u2: its persona's best sellers; u3: best sellers
    return pd.DataFrame(
        {
            "customer_id": ["u1", "u1", "u2", "u2", "u3"],
            "rank": [1, 2, 1, 2, 1],
            "product_id": ["p1", "p2", "p1", "p3", "p2"],
            "score": [0.9, NAN, 0.5, 0.4, 0.3],
            "source": pd.Categorical(
                ["item_knn", "popularity", "persona_popularity", "persona_popularity", "popularity"]
            ),
        }
    )


def test_recommendations_made_by_source_fill_and_customers_left_without():
    text = narrative.recommendations_made(_recs(), EN, customers=4, k=2, products=5)
    assert text.startswith("3 of 4 customers get up to 2 products each (5 recommendations).")
    assert (
        "The first product comes from products bought together with the customer's own "
        "purchases (item-kNN) for 1 customers, their persona's most bought products for 1 and "
        "the most bought products overall for 1."
    ) in text
    assert "For 1 customers with orders, the end of the list comes from popularity" in text
    assert "1 customers get no product" in text  # 4 customers, 3 with a list
    assert "single product" not in text
    # only the sources that occur are named; a one-product catalogue is said
    only_popular = _recs().iloc[[4]]
    text = narrative.recommendations_made(only_popular, EN, customers=1, k=2, products=1)
    assert "comes from the most bought products overall for 1." in text
    assert "item-kNN" not in text and "**The catalogue holds a single product**" in text
    assert "dan produk terlaris" in narrative.recommendations_made(
        _recs(), ID, customers=4, k=2, products=5
    )


def test_recommendations_made_counts_the_same_from_categorical_ids_as_topn_table_writes():
    # topn_table's customer_id is a categorical over every customer asked for: u4 has no row.
    # u5's list starts with item-kNN and is not filled; u1's is: 1 filled list of 2 item-kNN
    recs = pd.concat(
        [
            _recs(),
            pd.DataFrame(
                {
                    "customer_id": ["u5"],
                    "rank": [1],
                    "product_id": ["p3"],
                    "score": [0.7],
                    "source": ["item_knn"],
                }
            ),
        ],
        ignore_index=True,
    )
    recs["customer_id"] = pd.Categorical(
        recs["customer_id"], categories=["u5", "u4", "u3", "u2", "u1"]
    )
    recs["source"] = pd.Categorical(
        recs["source"], categories=["item_knn", "popularity", "persona_popularity"]
    )
    text = narrative.recommendations_made(recs, EN, customers=5, k=2, products=5)
    assert text.startswith("4 of 5 customers get up to 2 products each (6 recommendations).")
    assert "(item-kNN) for 2 customers, their persona's most bought products for 1" in text
    assert "For 1 customers with orders, the end of the list comes from popularity" in text
    assert "1 customers get no product" in text


def test_skipped_parts_persona_and_similar_products_sentences():
    assert narrative.recommendations_skipped("no_orders", EN).startswith(
        "**No orders before the cut-off:**"
    )
    text = narrative.recommendations_skipped("not_evaluated", EN, detail="no test orders")
    assert text == "**The recommendations could not be evaluated offline:** no test orders."
    assert "overall" in narrative.recommendations_skipped("personas_missing", EN)
    assert "(weight 0)" in narrative.recommendations_skipped("weight_default", EN)
    assert "`recommend.popularity_weight: 0.3`" in narrative.recommendations_skipped(
        "weight_fixed", EN, detail="0.3"
    )
    by_persona = pd.DataFrame(
        {
            "persona_label": ["Deal hunters", "Deal hunters", "Parents"],
            "rank": [1, 2, 1],
            "product": ["Sandals", "Soap", "Diapers"],
            "share": [0.5, 0.25, 0.8],
        }
    )
    assert narrative.persona_recommendations(by_persona, EN) == (
        "The product recommended to the most customers of each persona: **Deal hunters**: "
        "Sandals (50,0% of its customers); **Parents**: Diapers (80,0% of its customers)."
    )
    similar = pd.DataFrame({"similar_product": ["Case", "Screen protector", "Cable", "Bag"]})
    assert narrative.similar_products(similar, EN, best_seller="Phone") == (
        "Customers who bought **Phone**, the best seller, most often also bought **Case** or "
        "**Screen protector** or **Cable**."
    )
    assert "min_item_support" in narrative.similar_products(similar.iloc[:0], EN, best_seller="x")


# ---- offline evaluation ------------------------------------------------------------------------
def _evaluation(diff_ci=(0.02, 0.10), customers=200, cold=True):
    rows = []
    values = {
        "item_knn": {"precision": 0.08, "recall": 0.30, "ndcg": 0.21, "hit_rate": 0.5},
        "popularity": {"precision": 0.06, "recall": 0.24, "ndcg": 0.17, "hit_rate": 0.4},
    }
    coverage = {"item_knn": 0.6, "popularity": 0.1}
    for model, metrics in values.items():
        for metric, value in metrics.items():
            row = {"model": model, "population": "customers with orders", "metric": metric}
            row.update(k=10, value=value, customers=customers)
            if model == "item_knn":
                lo, hi = diff_ci
                row.update(
                    diff_vs_baseline=value - values["popularity"][metric],
                    diff_ci_low=lo,
                    diff_ci_high=hi,
                )
            rows.append(row)
        rows.append(
            {
                "model": model,
                "population": "customers with orders",
                "metric": "coverage",
                "k": 10,
                "value": coverage[model],
                "customers": customers,
            }
        )
    if cold:
        for model, recall in (("popularity", 0.12), ("persona_popularity", 0.15)):
            rows.append(
                {
                    "model": model,
                    "population": "new customers",
                    "metric": "recall",
                    "k": 10,
                    "value": recall,
                    "customers": 40,
                }
            )
    return pd.DataFrame(rows)


def test_recommend_evaluation_verdict_from_the_paired_interval():
    dates = {"train_end": "2025-05-31", "test_start": "2025-06-01", "test_end": "2025-06-30"}
    text = narrative.recommend_evaluation(_evaluation(), EN, **dates)
    assert text.startswith(
        "Trained on the orders up to 2025-05-31 and tested on what 200 customers with earlier "
        "orders bought from 2025-06-01 to 2025-06-30 (products new to them), item-kNN finds "
        "30,0% of each customer's purchases in its top 10 (recall@10) against 24,0% for the "
        "most popular products: a difference of +6,0 points (95% interval +2,0 to +10,0), "
        "**item-kNN is better**."
    )
    assert "Precision@10 is 8,0% against 6,0%, NDCG@10 0,210 against 0,170" in text
    assert "50,0% of the customers get at least one right product against 40,0%" in text
    assert "shows these customers 60,0% of the catalogue, popularity 10,0%" in text
    assert "Caution" not in text
    # new customers: the persona fallback against global popularity
    assert (
        "their persona's most bought products find 15,0% of their purchases in the top 10, "
        "against 12,0%"
    ) in text

    tie = narrative.recommend_evaluation(_evaluation(diff_ci=(-0.01, 0.13)), EN, **dates)
    assert "**not a significant difference**" in tie
    worse = narrative.recommend_evaluation(_evaluation(diff_ci=(-0.1, -0.02)), EN, **dates)
    assert "**the popularity baseline is better**" in worse
    small = narrative.recommend_evaluation(
        _evaluation(customers=5, cold=False), EN, exclude_bought=False, **dates
    )
    assert "**Caution:** only 5 customers could be evaluated" in small
    assert "(products new to them)" not in small and "new customers" not in small
    plain_cold = _evaluation()
    plain_cold = plain_cold[plain_cold["model"] != "persona_popularity"]
    text = narrative.recommend_evaluation(plain_cold, EN, **dates)
    assert "the popularity fallback finds 12,0% of their purchases in its top 10" in text
    assert "lebih baik" in narrative.recommend_evaluation(_evaluation(), ID, **dates)


def test_popularity_weight_choice_on_the_validation_window():
    curve = pd.DataFrame(
        {
            "popularity_weight": [0.0, 0.5, 1.0],
            "recall": [0.30, 0.35, 0.32],
            "ci_low": [0.25, 0.30, 0.27],
            "ci_high": [0.35, 0.40, 0.37],
            "customers": [100, 100, 100],
            "chosen": [False, True, False],
        }
    )
    text = narrative.popularity_weight_choice(curve, EN, k=10, start="2025-05-02", end="2025-05-31")
    assert "chose a weight of **0,5**" in text
    assert (
        "the best recall@10 (35,0%) for 100 customers in the validation window 2025-05-02 to "
        "2025-05-31"
    ) in text
    assert text.endswith("Across weights recall ranges from 30,0% to 35,0%.")
