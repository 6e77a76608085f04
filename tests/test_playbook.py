"""Next best action: the playbook rules on a hand-made context, its validation, observed uplift."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError
from tiny_client import write_tiny_client

from journeylib.config import PlaybookSpec, load_config
from journeylib.engine import engine_for
from journeylib.playbook import (
    CONTEXT_COLUMNS,
    NO_ACTION,
    action_context,
    action_summary,
    cart_recovery_uplift,
    next_best_actions,
    plot_action_summary,
)

NAN = float("nan")


def _context() -> pd.DataFrame:
    # one customer per default rule, in playbook order, plus k who matches none
    rows = [
        # id, stage, lapsed, orders, satisfied, cart, friction, p, risk, value, value band
        ("a", "retention", False, 3, False, True, False, 0.7, "high", 1000.0, "high"),
        ("b", "decision", False, 0, False, True, False, 0.1, "low", 0.0, "low"),
        ("c", "decision", False, 1, False, False, True, NAN, None, 50.0, "low"),
        ("d", "decision", False, 1, False, False, False, 0.8, "high", 10.0, "low"),
        ("e", "retention", True, 3, False, False, False, NAN, None, 300.0, "medium"),
        ("f", "advocacy", False, 2, True, False, False, 0.2, "low", 200.0, "medium"),
        ("g", "decision", False, 1, False, False, False, 0.3, "medium", 40.0, "low"),
        ("h", "retention", False, 4, False, False, False, NAN, None, 500.0, "high"),
        ("i", "consideration", False, 0, False, False, False, NAN, None, 0.0, "low"),
        ("j", "awareness", False, 0, False, False, False, NAN, None, 0.0, "low"),
        ("k", "consideration", True, 0, False, False, False, NAN, None, 0.0, "low"),
    ]
    cols = [
        "customer_id", "stage", "lapsed", "orders", "satisfied", "abandoned_cart", "friction",
        "churn_probability", "risk_band", "value", "value_band",
    ]  # fmt: skip
    df = pd.DataFrame(rows, columns=cols)
    df["persona"], df["persona_label"] = 1, "Mobile bargain hunters"
    return df[list(CONTEXT_COLUMNS)]


def test_first_matching_rule_wins_in_playbook_order():
    # a is high risk AND has an abandoned cart: win_back comes first in the playbook.
    # d is high risk but low value: not win_back, the next rule that holds is at_risk.
    # e (lapsed buyer) would match repeat_buyer's order count, but repeat_buyer needs activity.
    # k is a lapsed non-buyer: no rule applies, and the customer is still listed.
    actions = next_best_actions(_context(), PlaybookSpec())
    assert actions.set_index("customer_id")["rule"].to_dict() == {
        "a": "win_back",
        "b": "cart_recovery",
        "c": "service_recovery",
        "d": "at_risk",
        "e": "lapsed_buyer",
        "f": "advocacy",
        "g": "new_buyer",
        "h": "repeat_buyer",
        "i": "considering",
        "j": "aware",
        "k": "",
    }
    got = actions.set_index("customer_id")
    assert got.loc["k", "action"] == NO_ACTION and got.loc["k", "reason"] == ""
    assert got.loc["d", "action"] == "re_engagement" == got.loc["e", "action"]
    # value at stake = churn probability x value: a 0.7 x 1000, d 0.8 x 10; unknown p -> NaN
    assert got.loc["a", "value_at_stake"] == pytest.approx(700.0)
    assert got.loc["d", "value_at_stake"] == pytest.approx(8.0)
    assert np.isnan(got.loc["c", "value_at_stake"])


def test_reasons_are_words_with_the_customers_numbers_in_both_languages():
    ctx = _context()
    en = next_best_actions(ctx, PlaybookSpec(), stage_labels={"consideration": "Considering"})
    en = en.set_index("customer_id")
    assert en.loc["a", "reason"] == "high churn risk (70%), high value"
    assert en.loc["a", "action_label"] == "Win-back offer"
    assert en.loc["b", "reason"] == "left a cart in the last 14 days"
    assert en.loc["g", "reason"] == "one order"
    assert en.loc["h", "reason"] == "4 orders, still active"
    assert en.loc["i", "reason"] == "furthest stage Considering, no order yet, still active"
    idn = next_best_actions(ctx, PlaybookSpec(), language="id").set_index("customer_id")
    assert idn.loc["a", "action_label"] == "Penawaran khusus agar kembali berbelanja"
    assert idn.loc["a", "reason"] == "risiko churn tinggi (70%), nilai tinggi"


def test_summary_counts_every_customer_and_the_value_at_stake():
    spec = PlaybookSpec()
    actions = next_best_actions(_context(), spec)
    summary = action_summary(actions, spec)
    assert summary["customers"].sum() == 11
    by = summary.set_index("action")
    # re_engagement comes from two rules (d: at_risk, e: lapsed_buyer); value at stake only
    # where a churn probability is known: d 0.8 x 10 = 8
    assert by.loc["re_engagement", "customers"] == 2
    assert by.loc["re_engagement", "rules"] == "at_risk, lapsed_buyer"
    assert by.loc["re_engagement", "value_at_stake"] == pytest.approx(8.0)
    assert by.loc[NO_ACTION, "customers"] == 1
    assert summary["action"].iloc[-1] == NO_ACTION  # unmatched listed last
    assert summary["action"].iloc[0] == "win_back_offer"  # playbook order
    assert by["share"].sum() == pytest.approx(1.0)
    fig = plot_action_summary(summary)
    assert list(fig.data[0].x) == summary.loc[summary["customers"] > 0, "customers"].tolist()


def test_customers_without_an_action_in_indonesian():
    spec = PlaybookSpec()
    # k matches no rule: its label is "(tanpa tindakan)" in Indonesian, its key stays NO_ACTION
    actions = next_best_actions(_context(), spec, language="id")
    got = actions.set_index("customer_id")
    assert got.loc["k", "action"] == NO_ACTION
    assert got.loc["k", "action_label"] == "(tanpa tindakan)"
    summary = action_summary(actions, spec, language="id")
    assert summary.set_index("action").loc[NO_ACTION, "action_label"] == "(tanpa tindakan)"
    fig = plot_action_summary(summary, language="id")
    bars = dict(zip(fig.data[0].y, fig.data[0].x, strict=True))
    assert bars["(tanpa tindakan)"] == 1
    assert "pelanggan" in fig.data[0].hovertemplate
    assert "nilai yang dipertaruhkan" in fig.data[0].hovertemplate
    # every customer matched: the summary still lists the empty row, worded in the language
    matched = actions[actions["action"] != NO_ACTION]
    row = action_summary(matched, spec, language="id").set_index("action").loc[NO_ACTION]
    assert (row["action_label"], row["customers"]) == ("(tanpa tindakan)", 0)
    row = action_summary(matched, spec).set_index("action").loc[NO_ACTION]
    assert row["action_label"] == NO_ACTION  # English: "(no action)", as before


def test_a_custom_rule_by_persona_and_band():
    spec = PlaybookSpec.model_validate(
        {
            "rules": [
                {"name": "vip", "action": "loyalty_reward", "when": {"value": ["high"]}},
                {"name": "bargain", "action": "welcome_content", "when": {"persona": [1]}},
            ]
        }
    )
    got = next_best_actions(_context(), spec).set_index("customer_id")["rule"]
    assert got[["a", "h"]].tolist() == ["vip", "vip"]
    assert (got.drop(["a", "h"]) == "bargain").all()


def test_playbook_validation_names_the_rule():
    with pytest.raises(ValidationError, match="playbook rule 'oops': unknown action 'fly_to_moon'"):
        PlaybookSpec.model_validate({"rules": [{"name": "oops", "action": "fly_to_moon"}]})
    with pytest.raises(ValidationError, match="rule names must be unique"):
        PlaybookSpec.model_validate({"rules": [{"name": "x", "action": "win_back_offer"}] * 2})
    with pytest.raises(ValidationError, match="orders_min exceeds orders_max"):
        PlaybookSpec.model_validate(
            {
                "rules": [
                    {
                        "name": "x",
                        "action": "win_back_offer",
                        "when": {"orders_min": 3, "orders_max": 1},
                    }
                ]
            }  # fmt: skip
        )


def test_a_rule_with_an_unknown_stage_is_a_config_error_naming_it(tmp_path):
    files = {
        "customers.csv": "id\nc1\n",
        "events.csv": "cid,ts,event\nc1,2025-01-02 10:00:00,page_view\n",
        "orders.csv": "oid,cid,ts,pid,qty,rev\n",
    }
    tail = (
        "playbook:\n  rules:\n    - name: browsers\n      action: comparison_content\n"
        "      when: {stage: [browsing]}\n"
    )
    path = write_tiny_client(tmp_path, files, client="pb", tail=tail)
    with pytest.raises(
        Exception, match=r"playbook rule 'browsers': unknown stage\(s\) \['browsing'\]"
    ):
        load_config(path)


def _events(rows):
    df = pd.DataFrame(rows, columns=["customer_id", "session_id", "ts", "event", "channel"])
    df["ts"] = pd.to_datetime(df["ts"], utc=True).astype("datetime64[us, UTC]")
    return df


UPLIFT_EVENTS = _events(
    [
        # x abandons a cart on 1 March, comes back from an e-mail that evening, buys on 2 March
        ("x", "x1", "2025-03-01 10:00", "add_to_cart", "organic_search"),
        ("x", "x2", "2025-03-01 20:00", "page_view", "email"),
        ("x", "x3", "2025-03-02 09:00", "purchase", "direct"),
        # y abandons, returns by search on 5 March and buys: recovered, not contacted
        ("y", "y1", "2025-03-01 10:00", "add_to_cart", "social"),
        ("y", "y2", "2025-03-05 10:00", "purchase", "organic_search"),
        # z abandons and never returns; an e-mail visit 3 days later is outside contact_days
        ("z", "z1", "2025-03-01 10:00", "add_to_cart", "social"),
        ("z", "z2", "2025-03-04 11:00", "page_view", "email"),
        # v buys in the cart's own session: not abandoned
        ("v", "v1", "2025-03-01 10:00", "add_to_cart", "direct"),
        ("v", "v1", "2025-03-01 10:05", "purchase", "direct"),
        # w abandons on 28 March: the data end on 30 March, so its 7-day window is incomplete
        ("w", "w1", "2025-03-28 10:00", "add_to_cart", "direct"),
        ("u", "u1", "2025-03-30 12:00", "page_view", "direct"),
    ]
)


def test_cart_recovery_uplift_by_hand():
    # complete carts: x (contacted, recovered), y (not contacted, recovered), z (neither)
    # -> contacted 1/1 = 100%, not contacted 1/2 = 50%: difference +50 points
    got = cart_recovery_uplift(engine_for(events=UPLIFT_EVENTS)).set_index("contacted")
    assert got.loc[True, ["carts", "recovered"]].tolist() == [1, 1]
    assert got.loc[False, ["carts", "recovered"]].tolist() == [2, 1]
    assert got.loc[False, "recovery_rate"] == pytest.approx(0.5)
    assert got["difference"].iat[0] == pytest.approx(0.5)
    # a cut-off on 3 March keeps only rows before 4 March: the data then end on 2 March, and no
    # cart has a complete 7-day window
    early = cart_recovery_uplift(engine_for(events=UPLIFT_EVENTS), as_of="2025-03-03")
    assert early["carts"].tolist() == [0, 0]


def test_synthetic_context_actions_and_the_planted_retargeting(synth_client):
    c = synth_client
    ctx = action_context(c.engine, c.config)
    assert ctx.columns.tolist() == list(CONTEXT_COLUMNS)
    assert ctx["customer_id"].is_unique
    actions = next_best_actions(ctx, c.config.playbook)
    assert len(actions) == len(ctx)
    # an abandoned cart in the last 14 days is the second rule: every such customer without a
    # high-risk, high-value profile gets the cart recovery e-mail
    carts = ctx["abandoned_cart"] & (ctx["risk_band"] != "high")
    assert (actions.loc[carts.to_numpy(), "action"] == "cart_recovery_email").all()
    # planted: 45% of abandoned carts trigger an e-mail/WhatsApp return visit with +1.5
    # log-odds of buying, so contacted carts are recovered far more often (observational)
    up = cart_recovery_uplift(c.engine, as_of=c.config.effective_as_of).set_index("contacted")
    assert up.loc[True, "recovery_rate"] > 2 * up.loc[False, "recovery_rate"]
    assert up["difference_low"].iat[0] > 0
