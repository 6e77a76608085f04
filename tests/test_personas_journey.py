"""Personas along the journey (journeylib.personas, last section): persona x stage, outcomes,
the learning settings, the feature dictionary of a run and the descriptive card columns.

Hand-made tables with the expected numbers worked out in the comments, then the synthetic client
with its planted personas as the assignments: conversion and churn per persona are checked
against the planted truth.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from journeylib.config import PersonaSpec, StageRule, StageSignal
from journeylib.personas import (
    NO_STAGE,
    card_attributes,
    learning_spec,
    persona_feature_dictionary,
    persona_outcomes,
    persona_stage_matrix,
    persona_stages,
    plot_persona_outcomes,
    plot_persona_stages,
)
from journeylib.stages import StageModel

T = pd.Timestamp("2025-03-01", tz="UTC")
NAT = pd.NaT
STAGES = ["awareness", "consideration", "decision", "retention", "advocacy"]


@pytest.fixture
def assignments() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["c1", "c2", "c3", "c4", "c5", "c6"],
            "persona": [1, 1, 1, 2, 2, 2],
            "persona_label": ["Browsers"] * 3 + ["Buyers"] * 3,
            "distance": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6],
        }
    )


@pytest.fixture
def journey() -> pd.DataFrame:
    """customer_stages for the default stage model (decision: cart events or any order;
    retention: a repeat order; advocacy: NPS 9-10, 4-5 star reviews, refer_friend).

    c1 added to cart, never bought (decision entered, no order); c2 bought once, then lapsed;
    c3 has no stage signal (no row); c4 wrote a 5-star review without ordering (advocacy only);
    c5 bought twice (retention); c6 bought once, then gave NPS 10, lapsed; c7 has no persona.
    """
    rows = [
        # id,  furthest,     decision, retention, lapsed
        ("c1", "decision", T, NAT, False),
        ("c2", "decision", T, NAT, True),
        ("c4", "advocacy", NAT, NAT, False),
        ("c5", "retention", T, T, False),
        ("c6", "advocacy", T, NAT, True),
        ("c7", "awareness", NAT, NAT, True),
    ]
    df = pd.DataFrame(
        rows,
        columns=[
            "customer_id",
            "furthest_stage",
            "entered_decision",
            "entered_retention",
            "lapsed",
        ],
    )
    df.insert(2, "furthest_stage_no", df["furthest_stage"].map(STAGES.index) + 1)
    return df


@pytest.fixture
def orders() -> pd.DataFrame:
    # orders up to the cut-off: c1 0 (cart only), c2 1, c3 2 (offline, but no stage row), c4 0,
    # c5 2, c6 1
    return pd.DataFrame(
        {"customer_id": ["c1", "c2", "c3", "c4", "c5", "c6"], "rfm_frequency": [0, 1, 2, 0, 2, 1]}
    )


def test_persona_stages_counts_furthest_stage_per_persona(assignments, journey):
    before = (assignments.copy(), journey.copy())
    out = persona_stages(assignments, journey)
    pd.testing.assert_frame_equal(assignments, before[0])
    pd.testing.assert_frame_equal(journey, before[1])
    # grain: every persona x (no stage + 5 stages), in journey order
    assert len(out) == 2 * 6
    assert out["stage"].tolist()[:6] == [NO_STAGE, *STAGES]
    assert out["stage_no"].tolist()[:6] == [0, 1, 2, 3, 4, 5]
    wide = out.pivot(index="persona", columns="stage", values="customers")
    # persona 1: c3 has no stage signal, c1 and c2 got to decision
    assert wide.loc[1, [NO_STAGE, "awareness", "decision", "advocacy"]].tolist() == [1, 0, 2, 0]
    # persona 2: c5 retention, c4 and c6 advocacy; c7 (no persona) is left out
    assert wide.loc[2, ["retention", "advocacy", NO_STAGE]].tolist() == [1, 2, 0]
    assert out["customers"].sum() == 6
    shares = out.pivot(index="persona", columns="stage", values="share")
    assert shares.loc[1, "decision"] == pytest.approx(2 / 3)
    assert shares.loc[2, "advocacy"] == pytest.approx(2 / 3)
    assert np.allclose(shares.sum(axis=1), 1.0)
    assert out.loc[out["persona"] == 2, "persona_label"].unique().tolist() == ["Buyers"]


def test_persona_stage_matrix_is_the_wide_table(assignments, journey):
    wide = persona_stage_matrix(persona_stages(assignments, journey), value="customers")
    assert wide.columns.tolist() == ["persona", "persona_label", NO_STAGE, *STAGES]
    assert wide.iloc[0].tolist() == [1, "Browsers", 1, 0, 0, 2, 0, 0]
    assert wide.iloc[1].tolist() == [2, "Buyers", 0, 0, 0, 0, 1, 2]


def test_persona_outcomes_from_the_stages(assignments, journey):
    out = persona_outcomes(assignments, journey).set_index("persona")
    # persona 1: in the journey c1, c2 (c3 has no stage); entered decision: both -> 2/2;
    # retained: none of the 2; lapsed: c2 -> 1/2
    assert out.loc[1, ["customers", "in_journey", "converted", "retained", "lapsed"]].tolist() == [
        3,
        2,
        2,
        0,
        1,
    ]
    assert out.loc[1, "conversion_rate"] == pytest.approx(1.0)
    assert out.loc[1, "retention_rate"] == pytest.approx(0.0)
    assert out.loc[1, "churn_rate"] == pytest.approx(0.5)
    # persona 2: c4 reached advocacy through a review without an order: not converted, not
    # retained (a furthest-stage rule would count it as both); converted c5, c6 -> 2/3;
    # retained c5 -> 1/2 of the converted; lapsed c6 -> 1/3
    assert out.loc[2, ["in_journey", "converted", "retained", "lapsed"]].tolist() == [3, 2, 1, 1]
    assert out.loc[2, "conversion_rate"] == pytest.approx(2 / 3)
    assert out.loc[2, "retention_rate"] == pytest.approx(1 / 2)
    assert out.loc[2, "churn_rate"] == pytest.approx(1 / 3)
    assert out.loc[2, "persona_label"] == "Buyers"


def test_persona_outcomes_conversion_counts_orders_with_features(assignments, journey, orders):
    out = persona_outcomes(assignments, journey, features=orders).set_index("persona")
    # the KPI definition: at least one order, among customers in the journey. Persona 1: c1 only
    # added to cart (0 orders), c2 ordered; c3 ordered but has no stage row -> 1 of 2
    assert out.loc[1, "converted"] == 1
    assert out.loc[1, "conversion_rate"] == pytest.approx(0.5)
    # retention over buyers: c2 did not come back -> 0 of 1
    assert out.loc[1, "retention_rate"] == pytest.approx(0.0)
    # persona 2: c5 and c6 ordered -> 2 of 3; c5 retained -> 1 of 2
    assert out.loc[2, ["converted", "retained"]].tolist() == [2, 1]
    assert out.loc[2, "retention_rate"] == pytest.approx(0.5)


def test_persona_outcomes_without_order_or_repeat_stages(assignments, journey):
    # a stage model without derived signals: nothing says who bought or came back
    model = StageModel(
        rules=(
            StageRule(name="awareness", events=["page_view"]),
            StageRule(name="decision", events=["add_to_cart"]),
        )
    )
    out = persona_outcomes(assignments, journey, model)
    assert out["conversion_rate"].isna().all() and out["retention_rate"].isna().all()
    assert out["converted"].tolist() == [0, 0]
    assert out["churn_rate"].tolist() == pytest.approx([0.5, 1 / 3])
    # with orders but no repeat-purchase stage: conversion defined, retention not
    model = StageModel(
        rules=(
            StageRule(name="awareness", events=["page_view"]),
            StageRule(name="decision", signals=[StageSignal(kind="order")]),
        )
    )
    out = persona_outcomes(assignments, journey, model)
    assert out["conversion_rate"].tolist() == pytest.approx([1.0, 2 / 3])
    assert out["retention_rate"].isna().all()


def test_persona_journey_tables_refuse_bad_input(assignments, journey):
    doubled = pd.concat([journey, journey.iloc[[0]]])
    with pytest.raises(ValueError, match="one row per customer_id; 1 id"):
        persona_stages(assignments, doubled)
    with pytest.raises(ValueError, match="customer_stages needs the column"):
        persona_outcomes(assignments, journey.drop(columns="lapsed"))
    with pytest.raises(ValueError, match="assignments needs the column"):
        persona_stages(assignments.drop(columns="persona"), journey)
    other = journey.assign(furthest_stage=journey["furthest_stage"].replace("advocacy", "fans"))
    with pytest.raises(ValueError, match="2 customer"):
        persona_stages(assignments, other)
    with pytest.raises(ValueError, match="rfm_frequency"):
        persona_outcomes(assignments, journey, features=pd.DataFrame({"customer_id": ["c1"]}))


def test_persona_stages_without_labels_and_without_stage_rows(assignments, journey):
    out = persona_stages(assignments.drop(columns="persona_label"), journey.iloc[0:0])
    # nobody has a stage signal: every customer counts under (no stage)
    assert out.loc[out["stage"] == NO_STAGE, "customers"].tolist() == [3, 3]
    assert out["persona_label"].unique().tolist() == ["Persona 1", "Persona 2"]


def test_learning_spec_falls_back_to_everyone_when_too_few_are_active():
    spec = PersonaSpec()  # engagement_sessions >= 5
    sessions = [9] * 19 + [1] * 6
    X = pd.DataFrame({"customer_id": [f"c{i}" for i in range(25)], "engagement_sessions": sessions})
    relaxed, n_active = learning_spec(X, spec)
    # 19 of 25 pass: fewer than 20, so everyone is learned from
    assert n_active == 19 and relaxed.min_activity == 0 and spec.min_activity == 5
    X.loc[19, "engagement_sessions"] = 5  # now 20 pass (the threshold itself counts)
    kept, n_active = learning_spec(X, spec)
    assert kept is spec and n_active == 20
    # everyone passes (a tiny table): nothing to relax
    tiny = X.iloc[:3]
    assert learning_spec(tiny, spec) == (spec, 3)
    # an attribute table without the activity column learns from everyone
    attrs = pd.DataFrame({"customer_id": ["a", "b"], "income": [1.0, 2.0]})
    assert learning_spec(attrs, PersonaSpec(features="attributes")) == (
        PersonaSpec(features="attributes"),
        2,
    )


def test_persona_feature_dictionary_roles_and_missing_shares():
    X = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d"],
            "rfm_frequency": [0, 1, 2, 0],
            "rfm_avg_order_value": [np.nan, 10.0, 20.0, np.nan],
            "device_share_tablet": [0.0, 0.0, 0.0, 0.0],
        }
    )
    from journeylib.features import feature_dictionary

    d = persona_feature_dictionary(
        X,
        X[["customer_id", "rfm_avg_order_value", "device_share_tablet"]],
        dictionary=feature_dictionary(X.columns),
        dropped={"device_share_tablet": "constant"},
    ).set_index("name")
    assert d.index.tolist() == ["rfm_frequency", "rfm_avg_order_value", "device_share_tablet"]
    assert d["role"].tolist() == ["described", "clustered", "dropped (constant)"]
    # average order value is missing for the 2 of 4 customers without orders
    assert d["missing_share"].tolist() == [0.0, 0.5, 0.0]
    assert d.loc["rfm_frequency", "group"] == "rfm" and d.loc["rfm_frequency", "unit"] == "orders"
    # an attribute table has no dictionary: group "attribute", empty texts
    a = persona_feature_dictionary(X[["customer_id", "rfm_frequency"]], X[["customer_id"]])
    assert a.loc[0, ["group", "unit", "role"]].tolist() == ["attribute", "", "described"]


def test_persona_feature_dictionary_in_indonesian():
    # units, meanings, groups and roles in Indonesian; names stay the column names; a client's
    # own attribute column keeps empty texts and the group "atribut"
    X = pd.DataFrame(
        {
            "customer_id": ["a", "b"],
            "rfm_frequency": [0, 1],
            "engagement_sessions": [1, 9],
            "device_share_tablet": [0.0, 0.0],
            "income": [1.0, 2.0],
        }
    )
    from journeylib.features import feature_dictionary

    d = persona_feature_dictionary(
        X,
        X[["customer_id", "engagement_sessions", "device_share_tablet"]],
        dictionary=feature_dictionary(X.columns[:-1]),
        dropped={"device_share_tablet": "constant"},
        activity_column="engagement_sessions",
        language="id",
    ).set_index("name")
    assert d["role"].tolist() == [
        "deskriptif",
        "menentukan pelanggan yang dipelajari",
        "tidak dipakai (konstan)",
        "deskriptif",
    ]
    assert d.loc["rfm_frequency"][["group", "unit"]].tolist() == ["RFM", "pesanan"]
    assert d.loc["rfm_frequency", "missing"] == "tidak pernah kosong; 0 = tidak ada pesanan"
    assert d.loc["device_share_tablet", "group"] == "perangkat"
    assert d.loc["device_share_tablet", "description"].startswith("porsi sesi pelanggan di tablet")
    assert d.loc["income"][["group", "unit", "description"]].tolist() == ["atribut", "", ""]
    assert d["missing_share"].tolist() == [0.0, 0.0, 0.0, 0.0]


def test_card_attributes_with_stage_labels_in_indonesian(journey):
    customers = pd.DataFrame({"customer_id": ["c1", "c3"]})
    out = card_attributes(customers, journey, stage_labels={"decision": "Keputusan"}, language="id")
    # c1 reached decision (shown by its label), c3 has no stage signal
    assert out["furthest_stage"].tolist() == ["Keputusan", "(tanpa tahap)"]
    assert card_attributes(customers, journey)["furthest_stage"].tolist() == ["decision", NO_STAGE]


def test_card_attributes_keeps_few_level_text_columns_and_adds_the_stage(journey):
    customers = pd.DataFrame(
        {
            "customer_id": ["c1", "c2", "c3"],
            "region": pd.array(["Bali", "Bali", "Jawa"], dtype="string"),
            "segment": pd.Categorical(["b2b", "consumer", None]),
            "code": pd.array(["x1", "x2", "x3"], dtype="string"),  # 3 levels > max_levels
            "income": [1.0, 2.0, 3.0],  # numeric: not a description column
            "first_seen": pd.to_datetime(["2025-01-01"] * 3, utc=True),
        }
    )
    out = card_attributes(customers, journey, max_levels=2)
    assert out.columns.tolist() == ["customer_id", "region", "segment", "furthest_stage"]
    # c3 has no stage signal
    assert out["furthest_stage"].tolist() == ["decision", "decision", NO_STAGE]
    assert card_attributes(customers, max_levels=3).columns.tolist() == [
        "customer_id",
        "region",
        "segment",
        "code",
    ]


def test_plots_draw_the_tables(assignments, journey):
    table = persona_stages(assignments, journey)
    fig = plot_persona_stages(table, stage_labels={"decision": "Keputusan"})
    heat = fig.data[0]
    assert np.asarray(heat.z).shape == (2, 6)
    assert list(heat.y) == ["1: Browsers", "2: Buyers"]
    assert "Keputusan" in list(heat.x)
    assert np.asarray(heat.z)[0][list(heat.x).index("Keputusan")] == pytest.approx(2 / 3)
    assert list(heat.x)[0] == NO_STAGE and "furthest stage" in heat.hovertemplate
    heat = plot_persona_stages(table, stage_labels={"decision": "Keputusan"}, language="id").data[0]
    assert list(heat.x)[0] == "(tanpa tahap)" and "tahap terjauh" in heat.hovertemplate
    out = persona_outcomes(assignments, journey)
    bars = plot_persona_outcomes(out)
    assert [len(b.x) for b in bars.data] == [2, 2, 2]
    assert list(bars.data[2].x) == pytest.approx([0.5, 1 / 3])  # churn


def test_outcomes_of_the_planted_personas(synth_client):
    """Assign every customer its planted persona: buyers per persona equal the planted orders,
    and the personas with most and least planted churn and purchase propensity come out so."""
    from journeylib.features import customer_features

    cfg, engine, truth = synth_client.config, synth_client.engine, synth_client.truth
    model = StageModel.from_config(cfg)
    from journeylib.stages import customer_stages

    journey = customer_stages(engine, model, as_of=cfg.effective_as_of)
    X = customer_features(engine, as_of=cfg.effective_as_of, config=cfg)
    planted = truth[["customer_id"]].assign(persona=truth["persona"])
    out = persona_outcomes(planted, journey, model, features=X).set_index("persona")
    # independent count: customers with at least one planted order (every buyer has a stage)
    buyers = truth.assign(b=truth["n_orders"] > 0).groupby("persona")["b"].sum()
    assert out["converted"].to_dict() == buyers.to_dict()
    assert out["customers"].to_dict() == truth["persona"].value_counts().to_dict()
    # social_young_browser: lowest purchase log-odds (-5.7) and highest churn; b2b and loyal
    # premium: highest purchase log-odds (-3.9, -4.1) and lowest churn (-3.0, -3.1)
    assert out["conversion_rate"].idxmin() == "social_young_browser"
    assert set(out["conversion_rate"].nlargest(2).index) == {
        "b2b_reseller_bulk",
        "loyal_premium_desktop",
    }
    assert out["churn_rate"].idxmax() == "social_young_browser"
    assert set(out["churn_rate"].nsmallest(2).index) == {
        "b2b_reseller_bulk",
        "loyal_premium_desktop",
    }
    stages_ = persona_stages(planted, journey, model)
    per_persona = stages_.groupby("persona")["customers"].sum()
    assert per_persona.to_dict() == out["customers"].to_dict()
    # every buyer got at least to decision
    reached = stages_[stages_["stage"].isin(["decision", "retention", "advocacy"])]
    assert (reached.groupby("persona")["customers"].sum() >= buyers).all()
