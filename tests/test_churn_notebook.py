"""Notebook 40_churn executed with papermill: the synthetic client (transactions, personas next
to the processed tables), the IBM Telco table (labelled data, config only) and the demo sample
(too small for customer value: the page says so and carries on).

The saved tables are what the report, the export and the recommendations notebook read, so the
tests assert on them: their grains, the held-out metrics, and an at-risk list with one row per
scored customer, sorted by expected loss, that agrees with independent queries.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from notebook_runs import output_table, run_notebook
from pydantic import ValidationError

from journeylib.config import ChurnSpec

NOTEBOOK = "40_churn"
_table = output_table


def _metric(out: Path, name: str) -> float:
    metrics = _table(out, "churn_metrics").set_index("metric")["value"]
    return float(metrics[name])


def _check_model_tables(out: Path) -> None:
    """Grains and internal agreement of the model and evaluation tables."""
    comparison = _table(out, "churn_model_comparison")
    assert comparison["model"].is_unique and comparison["chosen"].sum() == 1
    test = _table(out, "churn_split").set_index("role").loc["test"]
    n = int(test["customers"])
    assert _metric(out, "customers") == n
    assert _metric(out, "churners") == test["churners"]
    calibration = _table(out, "churn_calibration")
    assert calibration["customers"].sum() == n
    lift = _table(out, "churn_lift")
    assert lift["group"].tolist() == list(range(1, 11)) and lift["customers"].sum() == n
    assert lift["capture_rate"].iat[-1] == pytest.approx(1.0)
    thresholds = _table(out, "churn_thresholds")
    assert thresholds["threshold"].is_monotonic_increasing and thresholds["operating"].sum() == 1
    confusion = _table(out, "churn_confusion")
    assert len(confusion) == 4 and confusion["customers"].sum() == n
    for name in ("churn_roc_curve", "churn_pr_curve"):
        assert len(_table(out, name)) >= 2


def _check_drivers(out: Path, features: list[str], *, every: bool = True) -> pd.DataFrame:
    """One row per feature (all of ``features``, or some with ``every=False``) and group."""
    importance = _table(out, "churn_drivers")
    assert not importance.duplicated(["kind", "name"]).any()
    learned = set(importance.loc[importance["kind"] == "feature", "name"])
    assert learned == set(features) if every else learned <= set(features)
    assert (importance.groupby("kind")["rank"].min() == 1).all()
    pdp = _table(out, "churn_partial_dependence")
    top = importance[importance["kind"] == "feature"].nsmallest(5, "rank")["name"]
    assert set(pdp["feature"]) <= set(top) and not pdp.duplicated(["feature", "value"]).any()
    assert pdp["mean_probability"].between(0, 1).all()
    return importance


def _check_at_risk(out: Path, processed: Path, scored: set[str]) -> pd.DataFrame:
    """One row per scored customer, ranked by expected loss (then probability), saved for the
    recommendations next to the processed tables and as CSV for export."""
    risk = _table(out, "churn_at_risk")
    assert risk["customer_id"].is_unique and set(risk["customer_id"]) == scored
    assert risk["rank"].tolist() == list(range(1, len(risk) + 1))
    assert risk["churn_probability"].between(0, 1).all()
    known = risk["expected_loss"].notna().to_numpy()
    # customers with a value come first, by expected loss; the rest by probability
    assert not (~known[:-1] & known[1:]).any()
    assert risk.loc[known, "expected_loss"].is_monotonic_decreasing
    assert risk.loc[~known, "churn_probability"].is_monotonic_decreasing
    np.testing.assert_allclose(
        risk.loc[known, "expected_loss"],
        risk.loc[known, "churn_probability"] * risk.loc[known, "value"],
    )
    pd.testing.assert_frame_equal(pd.read_parquet(processed / "churn_at_risk.parquet"), risk)
    assert (out / "tables" / "churn_at_risk.csv").is_file()
    return risk


def _check_curves(out: Path, name: str) -> pd.DataFrame:
    curves = _table(out, name)
    assert not curves.duplicated(["group", "time"]).any()
    s = curves["survival"].dropna()
    assert s.between(0, 1).all()
    # a survival curve never rises
    assert (
        curves.groupby("group")["survival"]
        .apply(lambda v: v.dropna().is_monotonic_decreasing)
        .all()
    )
    return curves


# ---- config ------------------------------------------------------------------------------------
def test_churn_config_fields_for_value_risk_and_survival():
    spec = ChurnSpec()
    assert (spec.clv_horizon_months, spec.clv_discount_rate, spec.at_risk_top_n) == (12, 0.01, 1000)
    assert spec.survival_inactivity_days is None and spec.tenure_column is None
    with pytest.raises(ValidationError, match="survival_by needs churn.tenure_column"):
        ChurnSpec(survival_by="contract")
    with pytest.raises(ValidationError, match="clv_discount_rate"):
        ChurnSpec(clv_discount_rate=-0.1)


# ---- the synthetic client ----------------------------------------------------------------------
@pytest.mark.slow
def test_notebook_on_the_synthetic_client(synth_client, repo_root, tmp_path):
    from journeylib.churn import eligible_customers, time_split
    from journeylib.config import load_config
    from journeylib.features import customer_features
    from journeylib.io import prepare, write_table

    cfg = yaml.safe_load(Path(synth_client.config_path).read_text())
    cfg["output"] = {
        "processed_dir": str(tmp_path / "processed"),
        "reports_dir": str(tmp_path / "reports"),
    }
    # the personas page's output, here the planted personas: the notebook joins what it finds
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(cfg))
    config = load_config(tmp_path / "config.yaml")
    prepare(config)
    truth = synth_client.truth
    names = sorted(truth["persona"].unique())
    personas = pd.DataFrame(
        {
            "customer_id": truth["customer_id"],
            "persona": truth["persona"].map({p: i + 1 for i, p in enumerate(names)}),
            "persona_label": truth["persona"],
        }
    )
    write_table(personas, config.processed_dir / "persona_assignments.parquet")

    out, text = run_notebook(repo_root, tmp_path, NOTEBOOK, cfg)
    engine = synth_client.engine
    split = time_split(synth_client.config)

    sizes = _table(out, "churn_split")
    assert sizes["role"].tolist() == ["train", "test", "score"]
    assert sizes["as_of"].astype(str).tolist() == [
        str(split.train_as_of),
        str(split.test_as_of),
        str(split.score_as_of),
    ]
    # acceptance: the later cut-off's held-out customers are ranked well
    assert _metric(out, "roc_auc") >= 0.80
    assert 0 < _metric(out, "brier") < _metric(out, "brier_reference")
    _check_model_tables(out)
    assert "**Who counts as churned:**" in text and "held-out customers" in text

    columns = customer_features(engine, as_of=split.score_as_of, config=synth_client.config).columns
    importance = _check_drivers(out, list(columns), every=False)
    groups = importance[importance["kind"] == "group"]
    assert {"friction", "engagement"} <= set(groups["name"])

    # customer value of every buyer before the last day (the planted data have repeat buyers)
    value = _table(out, "customer_value")
    buyers = engine.query(
        "SELECT DISTINCT customer_id FROM orders WHERE ts < TIMESTAMPTZ '2025-07-01 00:00:00+00'"
    )
    assert value["customer_id"].is_unique and set(value["customer_id"]) == set(
        buyers["customer_id"]
    )
    assert (value["clv"] >= 0).all() and value["probability_alive"].between(0, 1).all()
    params = _table(out, "clv_parameters")
    assert set(params["model"]) == {"BG/NBD", "Gamma-Gamma"}
    assert "expected to make" in text

    scored = set(
        eligible_customers(engine, as_of=split.score_as_of, config=synth_client.config)[
            "customer_id"
        ]
    )
    risk = _check_at_risk(out, tmp_path / "processed" / config.client, scored)
    # value = CLV for buyers; the persona and stage of every customer that has them
    clv = value.set_index("customer_id")["clv"]
    with_value = risk[risk["value"].notna()]
    np.testing.assert_allclose(with_value["value"], with_value["customer_id"].map(clv))
    label = personas.set_index("customer_id")["persona_label"]
    expected = risk["customer_id"].map(label)
    assert (risk["persona_label"].astype(object).fillna("") == expected.fillna("")).all()
    assert risk["stage"].notna().mean() > 0.99
    # reasons for the first churn.at_risk_top_n (1,000) customers only; a customer none of whose
    # features is riskier than typical has none
    assert risk["reasons"].head(1000).notna().mean() > 0.5
    assert risk["reasons"].iloc[1000:].isna().all()

    for name in ("survival_by_persona", "survival_by_stage"):
        curves = _check_curves(out, name)
        medians = _table(out, name.replace("survival_by", "survival_medians_by"))
        assert set(medians["group"]) == set(curves["group"])
    assert set(names) <= set(_table(out, "survival_by_persona")["group"])
    lifetimes = _table(out, "customer_lifetimes")
    assert lifetimes["customer_id"].is_unique
    assert "By persona:" in text and "By furthest stage reached:" in text


# ---- labelled data: the IBM Telco table, through the config only -------------------------------
@pytest.mark.slow
@pytest.mark.shared_data
def test_notebook_on_the_telco_table(shared_datasets, repo_root, tmp_path):
    cfg = yaml.safe_load((repo_root / "configs" / "examples" / "telco_churn.yaml").read_text())
    cfg["data"]["raw_dir"] = str(shared_datasets / "ibm_telco_churn")
    # the optional labelled-data views: value per customer and retention curves by contract
    cfg["churn"].update(
        value_column="monthly_charges", tenure_column="tenure_months", survival_by="contract"
    )
    out, text = run_notebook(repo_root, tmp_path, NOTEBOOK, cfg)

    sizes = _table(out, "churn_split").set_index("role")
    # 7,043 customers, 1,869 churned; 30% held out, stratified
    assert sizes.loc["train", "customers"] + sizes.loc["test", "customers"] == 7043
    assert sizes.loc["train", "churners"] + sizes.loc["test", "churners"] == 1869
    assert sizes.loc["score", "customers"] == 7043 - 1869
    # acceptance: ROC AUC >= 0.84 on the stratified held-out split, Brier score reported
    assert _metric(out, "roc_auc") >= 0.84
    assert 0 < _metric(out, "brier") < _metric(out, "brier_reference")
    _check_model_tables(out)
    assert "in its column `churn`" in text and "**Brier score" in text
    _check_drivers(out, cfg["churn"]["feature_columns"])
    assert "labelled customer table, so it is not estimated" in text
    assert not (out / "tables" / "customer_value.parquet").exists()

    customers = pd.read_parquet(tmp_path / "processed" / "telco_churn" / "customers.parquet")
    stayed = customers[~customers["churn"].astype(bool)]
    risk = _check_at_risk(out, tmp_path / "processed" / "telco_churn", set(stayed["customer_id"]))
    charges = stayed.set_index("customer_id")["monthly_charges"]
    np.testing.assert_allclose(risk["value"], risk["customer_id"].map(charges))
    assert risk["persona"].isna().all() and risk["stage"].isna().all()

    curves = _check_curves(out, "survival_by_tenure")
    assert set(curves["group"]) == {"Month-to-month", "One year", "Two year"}
    medians = _table(out, "survival_medians").set_index("group")
    assert medians["n"].sum() == 7043
    assert "By contract:" in text


# ---- the demo sample: too small for customer value ---------------------------------------------
@pytest.mark.slow
def test_notebook_on_the_demo_sample_says_what_it_cannot_estimate(repo_root, tmp_path):
    cfg = yaml.safe_load((repo_root / "configs" / "demo.yaml").read_text())
    out, text = run_notebook(repo_root, tmp_path, NOTEBOOK, cfg)
    assert "**Not enough repeat purchases to estimate customer value**" in text
    assert "uses revenue to date as each customer's value instead" in text
    assert "**Caution:** the test holds only" in text
    assert "No persona assignments were found" in text
    risk = _table(out, "churn_at_risk")
    assert risk["customer_id"].is_unique and risk["persona"].isna().all()
    _check_model_tables(out)


def test_notebook_in_indonesian_on_the_demo_sample(repo_root, tmp_path):
    # report.language: id: the label definition, the notes, the driver sentences, the value
    # words and the reasons of the at-risk list are written in Indonesian
    cfg = yaml.safe_load((repo_root / "configs" / "demo.yaml").read_text())
    cfg["report"]["language"] = "id"
    out, text = run_notebook(repo_root, tmp_path, NOTEBOOK, cfg)
    assert "**Siapa yang dihitung churn:** Pelanggan dengan aktivitas apa pun" in text
    assert "dibagi menurut waktu dan menurut pelanggan" in text
    assert "memakai pendapatan sampai saat ini sebagai nilai setiap pelanggan" in text
    assert "* Menurut kelompok fitur, model paling bergantung pada" in text
    assert "customers" not in text and "the model" not in text
    reasons = _table(out, "churn_at_risk")["reasons"].dropna()
    assert len(reasons) and reasons.str.contains("(umumnya ", regex=False).all()
