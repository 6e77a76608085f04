"""Notebook 30_personas executed with papermill: the synthetic client, and the demo sample with
an explicit number of personas (the attribute-table run is in test_personas_attributes.py).

The saved tables are what the report and the later notebooks read, so the tests assert on them:
one assignment per customer, one chosen k, tables whose grains hold, and counts that agree with
independent queries of the processed data.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from notebook_runs import output_table, run_notebook

pytestmark = pytest.mark.slow

NOTEBOOK = "30_personas"


def _run(repo_root: Path, tmp_path: Path, cfg: dict, **parameters) -> tuple[Path, str]:
    return run_notebook(repo_root, tmp_path, NOTEBOOK, cfg, **parameters)


_table = output_table


def test_notebook_on_the_synthetic_client(synth_client, repo_root, tmp_path):
    from journeylib.features import customer_features
    from journeylib.sql import end_of_day

    cfg = yaml.safe_load(Path(synth_client.config_path).read_text())  # default personas
    out, text = _run(repo_root, tmp_path, cfg)
    config, engine = synth_client.config, synth_client.engine
    features = customer_features(engine, as_of=config.effective_as_of, config=config)

    selection = _table(out, "persona_selection")
    assert selection["k"].tolist() == list(range(2, 9))
    assert selection["chosen"].sum() == 1
    chosen = selection[selection["chosen"]].iloc[0]
    k = int(chosen["k"])
    # the stability statement is always there; the warning exactly when the chosen k is unstable
    if chosen["stability"] >= chosen["min_stability"]:
        assert "**Stability:** every persona is reproduced" in text
        assert "Warning: these personas are not stable" not in text
    else:
        assert "**Warning: these personas are not stable.**" in text

    # assignments: one row per customer of the feature table, for the later notebooks too
    assignments = _table(out, "persona_assignments")
    assert {"customer_id", "persona", "persona_label", "distance", "probability"} <= set(
        assignments.columns
    )
    assert assignments["customer_id"].is_unique
    assert set(assignments["customer_id"]) == set(features["customer_id"])
    assert set(assignments["persona"]) == set(range(1, k + 1))
    assert (assignments["distance"] >= 0).all()
    assert assignments.groupby("persona")["persona_label"].nunique().eq(1).all()
    processed = pd.read_parquet(tmp_path / "processed" / "synth7" / "persona_assignments.parquet")
    pd.testing.assert_frame_equal(processed, assignments)

    labels = _table(out, "persona_labels")
    assert labels["persona"].tolist() == list(range(1, k + 1))
    assert labels["persona_label"].is_unique and labels["description"].str.len().gt(0).all()
    assert labels["stability"].between(0, 1).all()
    names = dict(zip(labels["persona"], labels["persona_label"], strict=True))
    assert assignments["persona"].map(names).equals(assignments["persona_label"])

    profile = _table(out, "persona_profile")
    assert not profile.duplicated(["persona", "feature"]).any()
    assert profile.groupby("persona").size().nunique() == 1  # every persona x every feature

    dictionary = _table(out, "feature_dictionary")
    assert dictionary["name"].tolist() == [c for c in features.columns if c != "customer_id"]
    assert (dictionary["role"] == "clustered").sum() >= 10

    cards = _table(out, "persona_cards")
    assert cards["persona"].tolist() == list(range(1, k + 1))
    assert cards["customers"].sum() == len(assignments)
    assert {"orders", "top_channel", "top_device", "furthest_stage_mix"} <= set(cards.columns)

    by_stage = _table(out, "persona_stages")
    assert len(by_stage) == k * 6  # (no stage) + the 5 stages of the demo config
    assert np.allclose(by_stage.groupby("persona")["share"].sum(), 1.0)
    assert by_stage["customers"].sum() == len(assignments)

    outcomes = _table(out, "persona_outcomes")
    assert outcomes["persona"].tolist() == list(range(1, k + 1))
    # independent count: distinct customers with an order before the end of the as_of day
    buyers = engine.scalar(
        "SELECT COUNT(DISTINCT customer_id) FROM orders "
        f"WHERE ts < {end_of_day(config.effective_as_of)}"
    )
    assert outcomes["converted"].sum() == buyers
    for col in ("conversion_rate", "retention_rate", "churn_rate"):
        assert outcomes[col].between(0, 1).all()

    coords = _table(out, "persona_map")
    assert len(coords) == min(5000, len(assignments))
    assert {"customer_id", "x", "y", "persona", "persona_label"} <= set(coords.columns)
    merged = coords.merge(assignments, on="customer_id", suffixes=("", "_assigned"))
    assert (merged["persona"] == merged["persona_assigned"]).all()
    centres = _table(out, "persona_map_centres")
    assert centres["customers"].sum() == len(coords)


def test_notebook_with_an_explicit_k_on_the_demo_sample(repo_root, tmp_path):
    cfg = yaml.safe_load((repo_root / "configs" / "demo.yaml").read_text())
    cfg["client"] = "demo_k"
    out, text = _run(repo_root, tmp_path, cfg, k=3)
    selection = _table(out, "persona_selection")
    assert selection["k"].tolist() == [3] and bool(selection["chosen"].iat[0])
    assert "**3 personas**, the number set in the configuration." in text
    stable = selection["stability"].iat[0] >= selection["min_stability"].iat[0]
    assert ("Warning: these personas are not stable" in text) == (not stable)
    assert set(_table(out, "persona_assignments")["persona"]) == {1, 2, 3}


def test_notebook_in_indonesian_on_the_demo_sample(repo_root, tmp_path):
    # report.language: id: generated labels, descriptions and the feature dictionary are
    # written in Indonesian (fixed labels and headers are translated on display)
    cfg = yaml.safe_load((repo_root / "configs" / "demo.yaml").read_text())
    cfg["client"] = "demo_id"
    cfg["report"]["language"] = "id"
    out, text = _run(repo_root, tmp_path, cfg, k=2)
    named = _table(out, "persona_labels")
    words = {"tinggi", "rendah", "tipikal"}
    assert all(words & set(label.replace(",", " ").split()) for label in named["persona_label"])
    assert named["description"].str.contains(r"\(semua: ").all()
    roles = set(_table(out, "feature_dictionary")["role"])
    assert roles <= {"dikelompokkan", "deskriptif", "menentukan pelanggan yang dipelajari"} | {
        r for r in roles if r.startswith("tidak dipakai (")
    }
    assert "Persona terbesar, **" in text
