"""Per-customer churn reasons and the at-risk list, on tiny frames worked out by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from stub_models import Formula

from journeylib.churn import ChurnModel, at_risk_list, customer_reasons, value_description


def _customers() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d", "e"],
            "silent_days": [0.0, 10.0, 20.0, 30.0, 100.0],
            "plan": pd.array(["basic", "basic", "basic", "trial", "trial"], dtype="string"),
            "errors": [0.0, 0.0, 0.0, 0.0, 2.0],
        }
    )


# churn probability: 0.002 per silent day, +0.2 on a trial plan, +0.1 per error
_MODEL = Formula(
    lambda d: (
        0.002 * d["silent_days"]
        + 0.2 * d["plan"].eq("trial").to_numpy(dtype=float)
        + 0.1 * d["errors"]
    ),
    ["silent_days", "plan", "errors"],
).fit()


def test_reasons_are_what_a_typical_value_would_remove():
    X = _customers()
    before = X.copy()
    r = customer_reasons(_MODEL, X, top=3)
    pd.testing.assert_frame_equal(X, before)  # the input is not modified
    # typical values over the five: median silent days 20, most common plan basic, median
    # errors 0. Customer e: 100 -> 20 days lowers p by 0.002 x 80 = 0.16, trial -> basic by
    # 0.2, 2 -> 0 errors by 0.2 (a tie, kept in column order: plan before errors).
    e = r[r["customer_id"] == "e"]
    assert e["feature"].tolist() == ["plan", "errors", "silent_days"]
    np.testing.assert_allclose(e["effect"], [0.2, 0.2, 0.16])
    assert e["reason_rank"].tolist() == [1, 2, 3]
    # d: trial (0.2) and 30 silent days (0.02); its 0 errors are typical: no reason
    d = r[r["customer_id"] == "d"]
    assert d["feature"].tolist() == ["plan", "silent_days"]
    np.testing.assert_allclose(d["effect"], [0.2, 0.02])
    # a and b are below the typical silence: a typical value would *raise* their risk, so
    # they have no reason; c is typical in everything
    assert set(r["customer_id"]) == {"d", "e"}
    assert r.columns.tolist() == [
        "customer_id", "reason_rank", "feature", "value", "typical_value", "effect"
    ]  # fmt: skip
    # a categorical feature makes the value columns text (one Parquet type per column)
    assert e["value"].tolist() == ["trial", "2.0", "100.0"]
    assert e["typical_value"].tolist() == ["basic", "0.0", "20.0"]
    assert r.attrs["typical"] == {"silent_days": 20.0, "plan": "basic", "errors": 0.0}


def test_reason_options():
    X = _customers()
    # one reason each, only for the riskiest customer (e: p = 0.2 + 0.2 + 0.2 = 0.6)
    r = customer_reasons(_MODEL, X, top=1, sample_size=1)
    assert r[["customer_id", "feature"]].values.tolist() == [["e", "plan"]]
    # a typical value given by the caller (e.g. the medians of customers who stayed)
    r = customer_reasons(_MODEL, X, top=1, reference={"silent_days": 5.0})
    c = r[r["customer_id"] == "c"]  # 20 -> 5 days: 0.03 lower
    assert c["feature"].tolist() == ["silent_days"] and c["effect"].iat[0] == pytest.approx(0.03)
    # a drop of less than min_effect is no reason: d keeps its plan (0.2), not its 30 silent
    # days (0.02); e keeps all three (0.2, 0.2, 0.16)
    r = customer_reasons(_MODEL, X, min_effect=0.1)
    assert r.groupby("customer_id")["feature"].agg(list).to_dict() == {
        "d": ["plan"],
        "e": ["plan", "errors", "silent_days"],
    }
    # explain only d and e, but "typical" stays typical of all five (median silence 20 days):
    # among d and e alone it would be 65 days, and e's 100 days would weigh 0.07, not 0.16
    r = customer_reasons(_MODEL, X, customers=["e", "d"])
    assert set(r["customer_id"]) == {"d", "e"}
    e = r[r["customer_id"] == "e"].set_index("feature")
    assert e.loc["silent_days", "effect"] == pytest.approx(0.16)
    assert customer_reasons(_MODEL, X, customers=["a"]).empty
    with pytest.raises(ValueError, match="does not use"):
        customer_reasons(_MODEL, X, reference={"age": 30})
    with pytest.raises(ValueError, match="'customer_id'"):
        customer_reasons(_MODEL, X.drop(columns="customer_id"))
    # numbers only: the value columns stay numbers; a missing value is a reason too
    num = Formula(lambda d: 0.1 + 0.2 * d["errors"].fillna(1), ["errors"]).fit()
    Y = pd.DataFrame({"customer_id": ["a", "b", "c"], "errors": [0.0, np.nan, 0.0]})
    r = customer_reasons(num, Y)
    assert r["customer_id"].tolist() == ["b"] and r["value"].dtype == "float64"
    assert np.isnan(r["value"].iat[0]) and r["typical_value"].iat[0] == 0.0
    assert r["effect"].iat[0] == pytest.approx(0.2)


def test_reasons_of_a_churn_model():
    rng = np.random.default_rng(0)
    n = 1500
    silent = rng.exponential(20, n)
    noise = rng.normal(size=n)
    y = rng.random(n) < 1 / (1 + np.exp(-(silent - 20) / 8))
    X = pd.DataFrame({"customer_id": [f"c{i}" for i in range(n)], "silent": silent, "x": noise})
    model = ChurnModel(model="hgb", random_state=0).fit(X, y)
    r = customer_reasons(model, X.iloc[:300], top=2)
    # the model learned that long silence means churn: for every customer silent for much
    # longer than typical, the silence is the first reason and removing it lowers the risk
    long = X.iloc[:300].loc[lambda d: d["silent"] > 60, "customer_id"]
    first = r[r["reason_rank"] == 1].set_index("customer_id")
    assert len(long) > 10 and (first.loc[long, "feature"] == "silent").all()
    assert (first.loc[long, "effect"] > 0.2).all()
    typical = float(np.median(X["silent"].iloc[:300]))
    assert first.loc[long, "typical_value"].eq(typical).all()


def test_at_risk_list_ranks_by_expected_loss():
    scores = pd.DataFrame(
        {"customer_id": ["a", "b", "c", "d", "e"], "churn_probability": [0.9, 0.5, 0.2, 0.8, 0.6]}
    )
    clv = pd.DataFrame({"customer_id": ["a", "b", "c", "x"], "clv": [100.0, 300.0, 1000.0, 5.0]})
    personas = pd.DataFrame(
        {"customer_id": ["a", "b", "d"], "persona": [1, 2, 1], "persona_label": ["p1", "p2", "p1"]}
    )
    stages = pd.DataFrame(
        {
            "customer_id": ["a", "c"],
            "furthest_stage": ["retention", "decision"],
            "current_stage": ["decision", "decision"],
        }  # fmt: skip
    )
    reasons = pd.DataFrame(
        {
            "customer_id": ["a", "a", "d"],
            "reason_rank": [2, 1, 1],
            "feature": ["friction_delivery_late", "engagement_days_since_last_activity", "x"],
            "value": [1.0, 45.0, 3.0],
            "typical_value": [0.0, 12.0, 1.0],
            "effect": [0.1, 0.3, 0.2],
        }
    )
    out = at_risk_list(scores, value=clv, personas=personas, stages=stages, reasons=reasons)
    # expected loss = probability x value: c 0.2 x 1000 = 200, b 150, a 90; d and e have no
    # value (NaN loss) and follow, by probability (d 0.8, e 0.6); x was not scored
    assert out["customer_id"].tolist() == ["c", "b", "a", "d", "e"]
    assert out["rank"].tolist() == [1, 2, 3, 4, 5]
    np.testing.assert_allclose(out["expected_loss"], [200, 150, 90, np.nan, np.nan])
    assert out.columns.tolist() == [
        "rank", "customer_id", "churn_probability", "value", "expected_loss", "persona",
        "persona_label", "stage", "reasons",
    ]  # fmt: skip
    row = out.set_index("customer_id")
    assert row.loc["a", "stage"] == "decision"  # the current stage, not the furthest
    assert pd.isna(row.loc["b", "stage"]) and pd.isna(row.loc["e", "persona"])
    assert row.loc["d", "persona_label"] == "p1"
    # reasons in rank order, readable: name, the customer's value, the typical value
    assert row.loc["a", "reasons"] == (
        "days since last activity 45 days (typical 12 days); delivery late 1 (typical 0)"
    )
    assert row.loc["d", "reasons"] == "x 3 (typical 1)"  # not in the dictionary: its name
    assert pd.isna(row.loc["c", "reasons"])
    assert at_risk_list(scores, value=clv, top_n=2)["customer_id"].tolist() == ["c", "b"]


def test_at_risk_reasons_and_value_words_in_indonesian():
    scores = pd.DataFrame({"customer_id": ["a", "b"], "churn_probability": [0.9, 0.5]})
    reasons = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b"],
            "reason_rank": [1, 2, 1],
            "feature": ["engagement_days_since_last_activity", "browse_price_index", "x"],
            "value": [45.0, 1.25, np.nan],
            "typical_value": [1.0, 0.875, 2.0],
            "effect": [0.3, 0.1, 0.2],
        }
    )
    row = at_risk_list(scores, reasons=reasons, language="id").set_index("customer_id")
    # Indonesian names and "umumnya" (typical); 1 day in the singular; decimal commas; a
    # missing value is "kosong"; a column the dictionary does not know keeps its name
    assert row.loc["a", "reasons"] == (
        "hari sejak aktivitas terakhir 45 hari (umumnya 1 hari); indeks harga 1,25 (umumnya 0,875)"
    )
    assert row.loc["b", "reasons"] == "x kosong (umumnya 2)"
    assert at_risk_list(scores, reasons=reasons).set_index("customer_id").loc["b", "reasons"] == (
        "x missing (typical 2)"
    )
    assert value_description("clv", horizon_months=6, language="id") == (
        "nilai seumur hidup pelanggan (CLV) selama 6 bulan"
    )
    assert value_description("revenue") == "revenue to date"
    assert value_description("column", column="arpu", language="id") == "`arpu`"
    with pytest.raises(ValueError, match="source"):
        value_description("margin")


def test_at_risk_list_without_value_ranks_by_probability():
    scores = pd.DataFrame({"customer_id": ["a", "b", "c"], "churn_probability": [0.2, 0.7, 0.7]})
    out = at_risk_list(scores)
    assert out["customer_id"].tolist() == ["b", "c", "a"]  # ties: by customer_id
    assert out["value"].isna().all() and out["reasons"].isna().all()
    # a value Series indexed by customer_id works too
    out = at_risk_list(scores, value=pd.Series({"a": 10.0, "b": 1.0}))
    assert out["customer_id"].tolist() == ["a", "b", "c"]  # 2.0, 0.7, unknown
    with pytest.raises(ValueError, match="1 duplicate customer_id"):
        at_risk_list(pd.concat([scores, scores.iloc[:1]]))
    with pytest.raises(ValueError, match=r"value lacks the column\(s\) \['clv'\]"):
        at_risk_list(scores, value=pd.DataFrame({"customer_id": ["a"], "revenue": [1.0]}))
