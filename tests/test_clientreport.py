"""Executive-summary numbers (journeylib.clientreport) on tiny hand-made run folders.

Every folder below is written by the test with the real table and column names the analysis
notebooks save; the expected KPI values, changes, scores and masks are worked out by hand in the
comments.
"""

from __future__ import annotations

import re
import string
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from journeylib import clientreport as cr
from journeylib.config import Objective, ReportSpec

EN = ReportSpec()  # Indonesian-style separators: 1.234,5
ID = ReportSpec(language="id")


def _write(root: Path, notebook: str, name: str, df: pd.DataFrame) -> None:
    folder = root / notebook / "tables"
    folder.mkdir(parents=True, exist_ok=True)
    df.to_parquet(folder / f"{name}.parquet", index=False)


def _kpis(conv=(25, 100), retention=(8, 20), repeat=(6, 20)) -> pd.DataFrame:
    """The 10_journey_stages ``kpis`` table (kpi.headline_kpis columns)."""
    rows = [
        ("conversion_rate", "Conversion rate", *conv, "share"),
        ("retention_rate_90d", "90-day retention", *retention, "share"),
        ("repeat_purchase_rate", "Repeat purchase rate", *repeat, "share"),
    ]
    df = pd.DataFrame(rows, columns=["key", "label", "numerator", "denominator", "unit"])
    df["value"] = df["numerator"] / df["denominator"]
    df["numerator"] = df["numerator"].astype("float64")
    extra = pd.DataFrame(
        {"key": ["time_to_convert"], "label": ["Time to convert (median)"], "value": [4.5],
         "numerator": [np.nan], "denominator": [20], "unit": ["days"]}
    )  # fmt: skip
    out = pd.concat([df, extra], ignore_index=True)
    out["definition"] = "..."
    return out[["key", "label", "value", "numerator", "denominator", "unit", "definition"]]


def _satisfaction(nps_counts=(10, 4, 6), csat=(2, 3)) -> pd.DataFrame:
    """60_journey_map ``satisfaction_overall``: promoters, passives, detractors; csat top2 of n."""
    p, pa, d = nps_counts
    n = p + pa + d
    top2, m = csat
    return pd.DataFrame(
        {
            "kind": ["nps", "csat", "all"],
            "n": [n, m, n + m],
            "promoters": pd.array([p, pd.NA, pd.NA], dtype="Int64"),
            "passives": pd.array([pa, pd.NA, pd.NA], dtype="Int64"),
            "detractors": pd.array([d, pd.NA, pd.NA], dtype="Int64"),
            "nps": [100 * (p - d) / n, np.nan, np.nan],
            "top2": pd.array([pd.NA, top2, pd.NA], dtype="Int64"),
            "top2_share": [np.nan, top2 / m, np.nan],
            "small": [False, True, False],
        }
    )


def _at_risk(probabilities, values) -> pd.DataFrame:
    """40_churn ``churn_at_risk`` (churn.at_risk_list columns)."""
    p = np.asarray(probabilities, dtype="float64")
    v = np.asarray(values, dtype="float64")
    n = len(p)
    return pd.DataFrame(
        {
            "rank": np.arange(1, n + 1),
            "customer_id": [f"c{i:02d}" for i in range(n)],
            "churn_probability": p,
            "value": v,
            "expected_loss": p * v,
            "persona": pd.array([1] * n, dtype="Int64"),
            "persona_label": "A",
            "stage": "decision",
            "reasons": pd.array([pd.NA] * n, dtype="string"),
        }
    )


@pytest.fixture
def kpi_run(tmp_path: Path) -> cr.Outputs:
    root = tmp_path / "outputs"
    _write(root, "10_journey_stages", "kpis", _kpis())
    _write(
        root,
        "10_journey_stages",
        "cart_abandonment",
        pd.DataFrame(
            {"carts": [40], "purchased_in_session": [20], "abandoned": [20], "recovered": [10],
             "lost": [10], "censored": [0], "in_session_abandonment_rate": [0.5],
             "recovery_rate": [0.5], "abandonment_rate": [0.25], "recovery_days": [7.0]}
        ),
    )  # fmt: skip
    _write(root, "60_journey_map", "satisfaction_overall", _satisfaction())
    # probabilities 0.8 0.6 0.2 0.1 0.3 0.0; the fifth customer has no known value
    _write(
        root,
        "40_churn",
        "churn_at_risk",
        _at_risk([0.8, 0.6, 0.2, 0.1, 0.3, 0.0], [100, 50, 200, 10, np.nan, 30]),
    )
    (root / "90_client_report").mkdir()  # the report's own folder: not an analysis
    return cr.load_outputs(root)


# ------------------------------------------------------------------------------------------
# Outputs
# ------------------------------------------------------------------------------------------


def test_outputs_reads_lazily_and_records_what_is_missing(tmp_path: Path) -> None:
    root = tmp_path / "outputs"
    _write(root, "10_journey_stages", "kpis", _kpis())
    (root / "60_journey_map" / "tables").mkdir(parents=True)  # ran, saved nothing we need
    out = cr.load_outputs(root)
    assert out.notebooks() == ["10_journey_stages"]
    assert out.has("10_journey_stages", "kpis") and not out.has("40_churn", "churn_at_risk")
    first = out.table("10_journey_stages", "kpis")
    first["value"] = 0.0  # changing the returned frame does not change what is read next
    assert out.table("10_journey_stages", "kpis")["value"].iat[0] == pytest.approx(0.25)
    assert out.table("40_churn", "churn_at_risk") is None
    assert out.table("60_journey_map", "pain_points") is None
    assert out.missing.to_dict("records") == [
        {"notebook": "40_churn", "table": "churn_at_risk", "reason": "notebook_not_run"},
        {"notebook": "60_journey_map", "table": "pain_points", "reason": "table_not_saved"},
    ]
    text = cr.missing_sentence(out, EN)
    assert "40_churn (the notebook did not run)" in text
    assert "pain_points of 60_journey_map (not saved)" in text
    assert "tidak dijalankan" in cr.missing_sentence(out, ID)


def test_outputs_refuses_paths_and_a_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="run outputs folder not found"):
        cr.load_outputs(tmp_path / "nope")
    out = cr.load_outputs(tmp_path)
    with pytest.raises(ValueError, match="table name"):
        out.table("10_journey_stages", "../../secrets")
    assert cr.missing_sentence(out, EN) == "Every analysis this summary reads is present."


# ------------------------------------------------------------------------------------------
# KPI values and tiles
# ------------------------------------------------------------------------------------------


def test_kpi_values_by_hand(kpi_run: cr.Outputs) -> None:
    v = cr.kpi_values(kpi_run).set_index("kpi")
    assert list(v.index) == [
        "conversion", "retention", "repeat_rate", "nps", "csat", "cart_abandonment",
        "churn_risk", "revenue_at_risk",
    ]  # fmt: skip
    # conversion 25 buyers / 100 active customers; retention 8/20; repeat 6/20
    assert v.loc["conversion", ["value", "numerator", "denominator"]].tolist() == [0.25, 25, 100]
    assert v.loc["retention", "value"] == pytest.approx(0.4)
    assert v.loc["retention", "label"] == "90-day retention"
    assert v.loc["repeat_rate", "value"] == pytest.approx(0.3)
    # NPS: (10 promoters - 6 detractors) / 20 answers = 20 points
    assert v.loc["nps", ["value", "numerator", "denominator"]].tolist() == [20.0, 4.0, 20.0]
    assert v.loc["nps", "unit"] == "points"
    # CSAT: 2 of 3 answers are 4-5
    assert v.loc["csat", "value"] == pytest.approx(2 / 3)
    # cart abandonment: 10 lost of 40 carts
    assert v.loc["cart_abandonment", ["value", "numerator", "denominator"]].tolist() == [
        0.25, 10, 40,
    ]  # fmt: skip
    assert "7 days" in v.loc["cart_abandonment", "definition"]
    # churn risk: mean probability (0.8+0.6+0.2+0.1+0.3+0)/6 = 1/3; 2.0 customers expected to leave
    assert v.loc["churn_risk", "value"] == pytest.approx(1 / 3)
    assert v.loc["churn_risk", "numerator"] == pytest.approx(2.0)
    assert v.loc["churn_risk", "denominator"] == 6
    # revenue at risk: 0.8*100 + 0.6*50 + 0.2*200 + 0.1*10 + 0*30 = 151 over 5 valued customers
    assert v.loc["revenue_at_risk", "value"] == pytest.approx(151.0)
    assert v.loc["revenue_at_risk", "denominator"] == 5
    assert v.loc["revenue_at_risk", "unit"] == "money"
    assert v.loc["nps", "source"] == "60_journey_map/satisfaction_overall"


def test_kpi_values_in_indonesian(kpi_run: cr.Outputs) -> None:
    v = cr.kpi_values(kpi_run, language="id").set_index("kpi")
    assert v.loc["conversion", "label"] == "Tingkat konversi"
    assert v.loc["retention", "label"] == "Retensi 90 hari"
    assert v.loc["revenue_at_risk", "label"] == "Pendapatan berisiko"
    assert "pelanggan" in v.loc["conversion", "definition"]


OBJECTIVES = [
    Objective(kpi="conversion", target=0.3),  # 0.25 < 0.30: missed
    Objective(kpi="nps", target=10, label="NPS of at least 10"),  # 20 >= 10: met
    Objective(kpi="churn_risk", target=0.5, direction="<="),  # 1/3 <= 0.5: met
    Objective(kpi="csat", target=0.8),  # 3 answers < min_count 5: suppressed
    Objective(kpi="revenue_at_risk", target=100, direction="<="),  # 151 > 100: missed
]
PREVIOUS = pd.DataFrame(
    {
        "kpi": ["conversion", "nps", "churn_risk", "retention", "repeat_rate", "revenue_at_risk"],
        "value": [0.2, 20.0, 0.5, 0.38, 0.0, 151.0],
    }
)


def test_kpi_tiles_targets_changes_and_order_by_hand(kpi_run: cr.Outputs) -> None:
    values = cr.kpi_values(kpi_run)
    tiles = cr.kpi_tiles(values, OBJECTIVES, previous=PREVIOUS, change_threshold=0.1, min_count=5)
    # missed goals first, then suppressed, met, no target; KPI order within each
    assert tiles["kpi"].tolist() == [
        "conversion", "revenue_at_risk", "csat", "nps", "churn_risk", "retention",
        "repeat_rate", "cart_abandonment",
    ]  # fmt: skip
    assert tiles["status"].tolist() == [
        "missed", "missed", "suppressed", "met", "met", "no_target", "no_target", "no_target",
    ]  # fmt: skip
    t = tiles.set_index("kpi")
    assert tiles["met"].tolist() == [False, False, pd.NA, True, True, pd.NA, pd.NA, pd.NA]
    assert t.loc["nps", "objective"] == "NPS of at least 10"
    # conversion 0.20 -> 0.25: +0.05, +25% (> 10%: notable), higher is better
    assert t.loc["conversion", "change"] == pytest.approx(0.05)
    assert t.loc["conversion", "relative_change"] == pytest.approx(0.25)
    assert bool(t.loc["conversion", "notable"]) and bool(t.loc["conversion", "better"])
    # churn risk 0.5 -> 1/3: -1/6, -33.3% notable; the goal says lower is better
    assert t.loc["churn_risk", "relative_change"] == pytest.approx(-1 / 3)
    assert bool(t.loc["churn_risk", "notable"]) and bool(t.loc["churn_risk", "better"])
    # retention 0.38 -> 0.40: +5.3%, under the threshold
    assert t.loc["retention", "relative_change"] == pytest.approx(0.02 / 0.38)
    assert not t.loc["retention", "notable"] and bool(t.loc["retention", "better"])
    # repeat rate 0 -> 0.3: no relative change, but any change from 0 is notable
    assert pd.isna(t.loc["repeat_rate", "relative_change"]) and t.loc["repeat_rate", "notable"]
    # NPS unchanged: not notable, neither better nor worse
    assert t.loc["nps", "change"] == 0 and pd.isna(t.loc["nps", "better"])
    # cart abandonment has no previous value
    assert pd.isna(t.loc["cart_abandonment", "previous"])
    assert not t.loc["cart_abandonment", "notable"]
    # CSAT over 3 answers is masked
    assert t.loc["csat", ["value", "numerator", "denominator"]].isna().all()


def test_kpi_tiles_without_previous_or_objectives_and_with_an_unmeasured_goal(
    tmp_path: Path,
) -> None:
    root = tmp_path / "outputs"
    _write(root, "10_journey_stages", "kpis", _kpis())  # the other notebooks were skipped
    values = cr.kpi_values(cr.load_outputs(root))
    assert values["kpi"].tolist() == ["conversion", "retention", "repeat_rate"]
    tiles = cr.kpi_tiles(
        values, [{"kpi": "nps", "target": 40}, {"kpi": "conversion", "target": 0.2}]
    )
    assert tiles[["kpi", "status"]].values.tolist() == [
        ["nps", "not_measured"], ["conversion", "met"], ["retention", "no_target"],
        ["repeat_rate", "no_target"],
    ]  # fmt: skip
    assert tiles["label"].iat[0] == "Net Promoter Score (NPS)"
    assert tiles["previous"].isna().all() and not tiles["notable"].any()
    # a goal whose definition names a number of days, unmeasured (it raised KeyError: 'days')
    carts = cr.kpi_tiles(values, [{"kpi": "cart_abandonment", "target": 0.6}]).iloc[0]
    assert carts["status"] == "not_measured"
    assert "recovered within 7 days" in carts["definition"]
    sentence = cr.goals_missed_sentence(tiles, EN)
    assert sentence.startswith("No goal is missed; 1 of 2 are met.")
    assert "Not measured in this run: Net Promoter Score (NPS)." in sentence
    assert cr.goals_missed_sentence(cr.kpi_tiles(values, []), EN).startswith("No goals are set")
    assert "previous run" in cr.changes_sentence(tiles, None, EN)
    with pytest.raises(ValueError, match="objective kpi"):
        cr.kpi_tiles(values, [{"kpi": "bounce_rate", "target": 1}])
    with pytest.raises(ValueError, match="change_threshold"):
        cr.kpi_tiles(values, [], change_threshold=0)


def test_saved_tiles_serve_as_the_previous_run(kpi_run: cr.Outputs, tmp_path: Path) -> None:
    first = cr.kpi_tiles(cr.kpi_values(kpi_run), OBJECTIVES, min_count=5)
    first.to_parquet(tmp_path / "kpi_tiles.parquet")
    previous = pd.read_parquet(tmp_path / "kpi_tiles.parquet")
    again = cr.kpi_tiles(cr.kpi_values(kpi_run), OBJECTIVES, previous=previous, min_count=5)
    measured = again[again["value"].notna()]
    assert (measured["change"] == 0).all() and not again["notable"].any()
    assert again.loc[again["kpi"] == "csat", "previous"].isna().all()  # masked then, too


def test_lead_sentences_by_hand(kpi_run: cr.Outputs) -> None:
    tiles = cr.kpi_tiles(
        cr.kpi_values(kpi_run), OBJECTIVES, previous=PREVIOUS, change_threshold=0.1, min_count=5
    )
    goals = cr.goals_missed_sentence(tiles, EN)
    assert goals.startswith(
        "2 of 5 goals are missed: Conversion rate at 25,0% against a target of ≥ 30,0%; "
        "Revenue at risk at Rp 151 against a target of ≤ Rp 100."
    )
    assert "Met: NPS of at least 10 at 20,0 against a target of ≥ 10,0" in goals
    assert "Too few to show (fewer than 5): Customer satisfaction (CSAT)." in goals
    cards_now = pd.DataFrame({"persona_label": ["A", "B"], "customers": [60, 40]})
    cards_then = pd.DataFrame({"persona_label": ["A", "B"], "customers": [50, 40]})
    personas = cr.persona_size_changes(cards_now, cards_then, threshold=0.1)
    changes = cr.changes_sentence(tiles, personas, EN)
    assert changes == (
        "Since the previous run: Conversion rate rose from 20,0% to 25,0% (+25,0%); "
        "Churn risk fell from 50,0% to 33,3% (−33,3%); Repeat purchase rate rose from 0,0% to "
        "30,0% (+30,0 pp); persona **A** grew from 50 to 60 customers (+20,0%)."
    )
    calm = cr.kpi_tiles(cr.kpi_values(kpi_run), [], previous=cr.kpi_values(kpi_run))
    unchanged = cr.persona_size_changes(cards_now, cards_now, threshold=0.1)
    assert cr.changes_sentence(calm, unchanged, EN) == (
        "No KPI and no persona size changed by more than 10,0% since the previous run."
    )


def test_lead_sentences_in_indonesian(kpi_run: cr.Outputs) -> None:
    tiles = cr.kpi_tiles(
        cr.kpi_values(kpi_run, language="id"), OBJECTIVES, previous=PREVIOUS, min_count=5,
        language="id",
    )  # fmt: skip
    goals = cr.goals_missed_sentence(tiles, ID)
    assert goals.startswith(
        "2 dari 5 target tidak tercapai: Tingkat konversi sebesar 25,0% dibanding target ≥ 30,0%"
    )
    assert "Terlalu sedikit untuk ditampilkan (kurang dari 5): Kepuasan pelanggan (CSAT)." in goals
    changes = cr.changes_sentence(tiles, None, ID)
    assert changes.startswith("Sejak laporan sebelumnya: Tingkat konversi naik dari 20,0% menjadi")
    assert "Risiko churn turun dari 50,0% menjadi 33,3% (−33,3%)" in changes


def test_tiles_html_is_escaped_script_free_and_branded(kpi_run: cr.Outputs) -> None:
    hostile = [
        *OBJECTIVES,
        Objective(kpi="retention", target=0.5, label="<script>alert(1)</script>"),
    ]
    tiles = cr.kpi_tiles(cr.kpi_values(kpi_run), hostile, previous=PREVIOUS, min_count=5)
    report = ReportSpec(primary_color="#123ABC")
    page = cr.kpi_tiles_html(tiles, report)
    assert "<script" not in page.lower() and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert not re.search(r"<style|<link|<img|src=|href=|url\(|https?:|on\w+=", page, re.I)
    assert "#123ABC" in page and "break-inside:avoid" in page
    assert page.count('role="listitem"') == len(tiles) == 8  # one tile per KPI here
    assert "25,0%" in page and "Target ≥ 30,0%" in page and "✗ missed" in page
    assert "✓ met" in page and "fewer than 5: not shown" in page
    assert "▲ +5,0 pp (+25,0%)" in page  # conversion 20% -> 25%
    assert "▼ −16,7 pp (−33,3%)" in page  # churn risk 50% -> 33.3%
    page_id = cr.kpi_tiles_html(tiles, ID)
    assert "tidak tercapai" in page_id and "dibanding laporan sebelumnya" in page_id


# ------------------------------------------------------------------------------------------
# Persona sizes
# ------------------------------------------------------------------------------------------


def test_persona_size_changes_by_hand() -> None:
    now = pd.DataFrame(
        {
            "persona": [1, 2, 3, 4],
            "persona_label": ["A", "B", "C", "A"],
            "customers": [40, 30, 10, 20],
        }
    )  # fmt: skip  (two personas labelled A: 40 + 20 = 60)
    then = pd.DataFrame({"persona_label": ["A", "B", "D"], "customers": [50, 40, 10]})
    before = now.copy()
    out = cr.persona_size_changes(now, then, threshold=0.1)
    pd.testing.assert_frame_equal(now, before)
    assert out["persona_label"].tolist() == ["A", "B", "C", "D"]
    assert out["status"].tolist() == ["matched", "matched", "new", "gone"]
    a, b = out.iloc[0], out.iloc[1]
    # A: 50 -> 60, +10, +20%, share 0.5 -> 0.6
    assert (a["customers"], a["previous_customers"], a["change"]) == (60, 50, 10)
    assert a["relative_change"] == pytest.approx(0.2) and a["share_change"] == pytest.approx(0.1)
    # B: 40 -> 30, -25%
    assert b["relative_change"] == pytest.approx(-0.25)
    assert out["notable"].tolist() == [True, True, True, True]
    # with a 30% threshold only the new and the gone persona are notable
    assert cr.persona_size_changes(now, then, threshold=0.3)["notable"].tolist() == [
        False, False, True, True,
    ]  # fmt: skip
    first = cr.persona_size_changes(now, None, threshold=0.1)
    assert (first["status"] == "no_previous").all() and not first["notable"].any()
    text = cr.changes_sentence(pd.DataFrame({"kpi": [], "previous": [], "notable": []}), out, EN)
    assert "persona **C** is new (10 customers)" in text
    assert "persona **D** no longer appears (it had 10 customers)" in text
    assert "persona **B** shrank from 40 to 30 customers (−25,0%)" in text


# ------------------------------------------------------------------------------------------
# Findings
# ------------------------------------------------------------------------------------------


@pytest.fixture
def findings_run(tmp_path: Path) -> cr.Outputs:
    root = tmp_path / "outputs"
    _write(root, "10_journey_stages", "kpis", _kpis())  # 100 customers in the analysis
    _write(
        root, "60_journey_map", "pain_points",
        pd.DataFrame(
            {"rank": [1, 2], "kind": ["friction", "loop"], "stage": ["decision", "consideration"],
             "step": [pd.NA, "view_item > add_to_cart"], "event": ["payment_error", pd.NA],
             "device": [pd.NA, pd.NA], "window_start": ["2025-01-01"] * 2,
             "window_end": ["2025-06-30"] * 2, "days_active": [181, 181], "customers": [12, 30],
             "sessions": [20, 40], "observed_rate": [0.1, 0.2], "expected_rate": [0.4, 0.25],
             "conversions_at_stake": [6.0, 2.0], "revenue_at_stake": [600.0, 200.0],
             "severity": [1.0, 0.3], "p_value": [np.nan, np.nan],
             "title": ["payment error", "back and forth"], "evidence": ["...", "..."]}
        ),
    )  # fmt: skip
    _write(
        root, "10_journey_stages", "dropoff_summary",
        pd.DataFrame(
            {"step_no": [1, 2], "step": ["view_item", "add_to_cart"],
             "next_step": ["add_to_cart", "purchase"], "reached": [80, 20], "dropped": [60, 10],
             "dropoff_rate": [0.75, 0.5], "recovered": [0, 0], "recoverable_share": [0.0, 0.0]}
        ),
    )  # fmt: skip
    _write(
        root, "10_journey_stages", "funnel",
        pd.DataFrame(
            {"step_no": [1, 2, 3], "step": ["view_item", "add_to_cart", "purchase"],
             "customers_strict": [80, 20, 10], "customers_attained": [80, 20, 10]}
        ),
    )  # fmt: skip
    _write(
        root, "30_personas", "persona_cards",
        pd.DataFrame(
            {"persona": [1, 2], "persona_label": ["Browsers", "Big spenders"],
             "customers": [70, 30], "share": [0.7, 0.3], "revenue": [10.0, 100.0]}
        ),
    )  # fmt: skip
    probabilities = [0.9, 0.8, 0.7, 0.6, 0.5, 0.2, 0.2, 0.1, 0.1, 0.1]
    _write(root, "40_churn", "churn_at_risk", _at_risk(probabilities, [100.0] * 10))
    _write(
        root, "50_recommendations", "action_summary",
        pd.DataFrame(
            {"action": ["cart_recovery_email", "loyalty_reward", "(no action)"],
             "action_label": ["Cart recovery email", "Loyalty reward", "(no action)"],
             "channel": ["email", "email", ""], "customers": [10, 8, 50],
             "share": [0.1, 0.08, 0.5], "value_at_stake": [500.0, 900.0, np.nan],
             "mean_churn_probability": [0.3, 0.25, np.nan], "rules": ["a", "b", ""]}
        ),
    )  # fmt: skip
    _write(
        root,
        "60_journey_map",
        "detractor_drivers",
        pd.DataFrame(
            {
                "event": ["coupon_error", "checkout_error"],
                "rank": pd.array([1, 2], dtype="Int64"),
                "supported": [True, True],
                "detractors": [10, 10],
                "detractors_with": [9, 8],
                "detractor_share": [0.9, 0.8],
                "promoters": [10, 10],
                "promoters_with": [3, 4],
                "promoter_share": [0.3, 0.4],
                "lift": [3.0, 2.0],
                "lift_low": [0.9, 1.2],
                "lift_high": [9.0, 3.5],
                "p_value": [0.2, 0.01],
                "n_with": [14, 12],
                "nps_with": [-40.0, -30.0],
                "n_without": [6, 8],
                "nps_without": [50.0, 40.0],
            }
        ),
    )  # fmt: skip  (coupon_error has the higher lift but its interval includes 1)
    credit = pd.DataFrame(
        {"channel": ["email", "search", "social"] * 2,
         "model": ["Last touch"] * 3 + ["Markov"] * 3,
         "conversions": [2.0, 8.0, 0.0, 6.0, 3.0, 1.0],
         "value": [20.0, 80.0, 0.0, 60.0, 30.0, 10.0]}
    )  # fmt: skip
    _write(root, "20_touchpoints_attribution", "credit_by_model", credit)
    return cr.load_outputs(root)


def test_findings_ranking_by_hand(findings_run: cr.Outputs) -> None:
    f = cr.findings(findings_run, EN, top_n=7)
    # at stake (customer outcomes) / 100 customers:
    #   dropoff: 60 dropped x (10 at purchase / 20 at add_to_cart) = 30          -> 0.30
    #   persona: Big spenders 30 x (3000/3700 revenue share - 0.3) = 15.324      -> 0.153
    #   pain point: 6 conversions at stake                                       -> 0.06
    #   detractor driver: checkout_error 8 x (1 - 1/2) = 4                       -> 0.04
    #   churn: 5 customers >= 0.5, 0.9+0.8+0.7+0.6+0.5 = 3.5 expected to leave   -> 0.035
    #   channel: Markov email 6 - 10/3 = 2.667                                   -> 0.0267
    #   action: loyalty (900 at stake) 8 x 0.25 = 2                              -> 0.02
    assert f["kind"].tolist() == [
        "dropoff", "persona", "pain_point", "detractor_driver", "churn", "channel", "action",
    ]  # fmt: skip
    assert f["rank"].tolist() == list(range(1, 8))
    assert f["score"].tolist() == pytest.approx(
        [0.30, 30 * (3000 / 3700 - 0.3) / 100, 0.06, 0.04, 0.035, (6 - 10 / 3) / 100, 0.02]
    )
    row = f.set_index("kind")
    assert row.loc["dropoff", ["number", "denominator", "size"]].tolist() == [0.75, 80, 60]
    assert row.loc["churn", ["number", "denominator", "size"]].tolist() == [0.5, 10, 5]
    assert row.loc["churn", "value_at_stake"] == pytest.approx(350.0)
    assert row.loc["action", "value_at_stake"] == 900.0
    assert row.loc["pain_point", "size"] == 12
    assert row.loc["dropoff", "sentence"] == (
        "The largest drop in the funnel is after **view item**: 60 of 80 customers (75,0%) did "
        "not go on to add to cart; had they gone on like the others, up to 30 more would have "
        "completed the funnel."
    )
    assert row.loc["churn", "sentence"] == (
        "5 of 10 scored customers (50,0%) are at high churn risk (probability 50% or more); "
        "about 4 of them are expected to leave, with Rp 350 of customer value at stake."
    )
    assert "**Checkout error**" in row.loc["detractor_driver", "sentence"]
    assert "under the Markov model: 6,0 of 10 conversions (60,0%)" in row.loc["channel", "sentence"]
    assert "**payment error** at the decision stage" in row.loc["pain_point", "sentence"]
    assert "**Loyalty reward** (email)" in row.loc["action", "sentence"]
    assert "**Big spenders** is 30,0% of customers (30 of 100)" in row.loc["persona", "sentence"]
    # default: the five best
    assert cr.findings(findings_run, EN)["kind"].tolist() == f["kind"].tolist()[:5]


def test_findings_leave_out_small_groups_and_missing_tables(
    findings_run: cr.Outputs, tmp_path: Path
) -> None:
    # min 12: churn (5 customers), channel (6 conversions) and action (8) go; the pain point
    # (12 customers) and the detractor driver (12 answers) stay
    f = cr.findings(findings_run, ReportSpec(min_cell_count=12), top_n=7)
    assert f["kind"].tolist() == ["dropoff", "persona", "pain_point", "detractor_driver"]
    # a higher high-risk band: 0.9 and 0.8 only -> 2 customers, under min 5
    assert "churn" not in cr.findings(findings_run, EN, top_n=7, high_risk=0.75)["kind"].tolist()
    only_stages = tmp_path / "stages_only"
    _write(only_stages, "10_journey_stages", "kpis", _kpis())
    empty = cr.findings(cr.load_outputs(only_stages), EN)
    assert empty.empty and list(empty.columns) == [
        "rank", "kind", "sentence", "number", "unit", "denominator", "size", "at_stake",
        "value_at_stake", "score", "source",
    ]  # fmt: skip
    with pytest.raises(ValueError, match="top_n"):
        cr.findings(findings_run, EN, top_n=0)


def test_findings_in_indonesian(findings_run: cr.Outputs) -> None:
    f = cr.findings(findings_run, ID, top_n=7).set_index("kind")
    assert f.loc["dropoff", "sentence"].startswith(
        "Penurunan terbesar di funnel terjadi setelah **view item**: 60 dari 80 pelanggan (75,0%)"
    )
    assert f.loc["churn", "sentence"].startswith("5 dari 10 pelanggan yang dinilai (50,0%)")
    assert "**payment error** pada tahap decision" in f.loc["pain_point", "sentence"]
    english = re.compile(r"\b(customers|the|of|stage|against|expected)\b")
    for sentence in f["sentence"]:
        assert not english.search(sentence), sentence


def test_pain_point_finding_titles_in_indonesian(tmp_path: Path) -> None:
    # the title is rebuilt from the row's fields with the templates of journeylib.painpoints
    # (one set for the detailed page and the summary): an incident on a funnel step
    root = tmp_path / "outputs"
    _write(root, "10_journey_stages", "kpis", _kpis())
    _write(
        root, "60_journey_map", "pain_points",
        pd.DataFrame(
            {"rank": [1], "kind": ["incident"], "stage": ["decision"],
             "step": ["add_to_cart > begin_checkout"], "event": [pd.NA], "device": ["mobile"],
             "window_start": ["2025-04-23"], "window_end": ["2025-05-03"], "days_active": [11],
             "customers": [20], "sessions": [40], "observed_rate": [0.1],
             "expected_rate": [0.6], "conversions_at_stake": [20.0],
             "revenue_at_stake": [2000.0], "severity": [54.5], "p_value": [0.001],
             "title": ["(whatever the page wrote)"], "evidence": ["..."]}
        ),
    )  # fmt: skip
    out = cr.load_outputs(root)
    labels = {"decision": "Keputusan"}
    f = cr.findings(out, ID, labels=labels).set_index("kind")
    assert f.loc["pain_point", "sentence"].startswith(
        "Titik masalah paling berat adalah **add to cart → begin checkout terganggu di mobile** "
        "pada tahap Keputusan: 20 pelanggan (40 sesi) terdampak, dengan 10,0% dibanding 60,0%"
    )
    f = cr.findings(out, EN).set_index("kind")
    assert "**add to cart → begin checkout broke on mobile**" in f.loc["pain_point", "sentence"]


def test_every_text_exists_in_both_languages_with_the_same_fields() -> None:
    en, id_ = cr._TEXT["en"], cr._TEXT["id"]
    assert en.keys() == id_.keys()
    fields = lambda s: {f for _, f, _, _ in string.Formatter().parse(s) if f}  # noqa: E731
    for key in en:
        assert fields(en[key]) == fields(id_[key]), key


# ------------------------------------------------------------------------------------------
# Small-cell suppression
# ------------------------------------------------------------------------------------------


def test_suppress_small_cells_by_hand() -> None:
    table = pd.DataFrame(
        {
            "step_no": [1, 2, 3],
            "channel": ["email", "sms", "push"],
            "customers": [40, 3, 0],
            "conversion_rate": [0.1, 2 / 3, np.nan],
            "revenue": [100.0, 30.0, 0.0],
            "dwell": pd.to_timedelta([60, 30, 0], unit="s"),
            "flagged": [True, False, False],
        }
    )
    before = table.copy()
    out = cr.suppress_small_cells(table, 5)
    pd.testing.assert_frame_equal(table, before)  # input not modified
    # sms: 3 customers < 5 -> its count, rate, revenue and dwell are masked; label and step stay
    assert out["suppressed"].tolist() == ["", "<5", ""]
    assert out.loc[1, ["customers", "conversion_rate", "revenue"]].isna().all()
    assert pd.isna(out.loc[1, "dwell"])
    assert out.loc[1, "channel"] == "sms" and out.loc[1, "step_no"] == 2
    assert out.loc[0, ["customers", "conversion_rate", "revenue"]].tolist() == [40, 0.1, 100.0]
    # a zero names nobody: kept, unless asked
    assert out.loc[2, "customers"] == 0
    strict = cr.suppress_small_cells(table, 5, keep_zero=False)
    assert strict["suppressed"].tolist() == ["", "<5", "<5"]
    # only the columns asked for
    narrow = cr.suppress_small_cells(table, 5, columns_to_mask=["conversion_rate"])
    assert narrow.loc[1, "revenue"] == 30.0 and pd.isna(narrow.loc[1, "conversion_rate"])
    assert pd.isna(narrow.loc[1, "customers"])  # the count itself is always masked


def test_suppress_small_cells_detects_count_columns() -> None:
    # funnel: customers_strict is a count; persona cards: sessions is a mean (float), not a count
    funnel = pd.DataFrame(
        {"step_no": [1, 2], "customers_strict": [50, 4], "conversion_from_start_strict": [1, 0.08]}
    )
    assert cr.suppress_small_cells(funnel, 5)["suppressed"].tolist() == ["", "<5"]
    cards = pd.DataFrame(
        {"persona": [1, 2], "persona_label": ["A", "B"], "customers": [90, 6],
         "sessions": [2.5, 3.0], "share": [0.94, 0.06]}
    )  # fmt: skip
    out = cr.suppress_small_cells(cards, 5)
    assert out["suppressed"].tolist() == ["", ""] and out["sessions"].tolist() == [2.5, 3.0]
    # satisfaction: n; detractor drivers: n_with / n_without
    sat = pd.DataFrame({"kind": ["nps", "csat"], "n": [31, 2], "top2_share": [np.nan, 0.5]})
    assert cr.suppress_small_cells(sat, 5)["suppressed"].tolist() == ["", "<5"]
    drivers = pd.DataFrame({"event": ["a"], "n_with": [30], "n_without": [1], "lift": [1.2]})
    assert pd.isna(cr.suppress_small_cells(drivers, 5).loc[0, "lift"])
    with pytest.raises(ValueError, match="no count column found"):
        cr.suppress_small_cells(pd.DataFrame({"kpi": ["x"], "value": [0.1]}), 5)
    same = cr.suppress_small_cells(
        pd.DataFrame({"kpi": ["x"], "value": [0.1]}), 5, count_columns=[]
    )
    assert same["value"].tolist() == [0.1] and same["suppressed"].tolist() == [""]
    with pytest.raises(ValueError, match="min_count"):
        cr.suppress_small_cells(funnel, 0)
