"""Notebook 20_touchpoints_attribution on a pre-aggregated path table (Data.csv), via config.

A consultant with only a path export (ChannelAttribution's format) sets ``attribution.paths_file``
and the same notebook attributes it: every model's credit sums to the file's 19,785
conversions, and the journey-level parts that need touch times say so instead of failing.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml
from notebook_runs import run_notebook

pytestmark = [pytest.mark.slow, pytest.mark.shared_data]


def test_notebook_runs_on_a_path_table_from_the_config(repo_root, shared_datasets, tmp_path):
    cfg = yaml.safe_load((repo_root / "configs" / "demo.yaml").read_text())
    cfg["client"] = "pathtable"
    cfg["attribution"] = {
        "paths_file": str(shared_datasets / "channelattribution_paths" / "Data.csv"),
        "bootstrap_samples": 20,
        "markov_max_order": 2,
    }
    out, text = run_notebook(repo_root, tmp_path, "20_touchpoints_attribution", cfg)
    credit = pd.read_parquet(out / "tables" / "credit_by_model.parquet")
    per_model = credit.groupby("model")["conversions"].sum()
    assert len(per_model) == 10
    assert np.allclose(per_model.to_numpy(), 19_785)  # Data.csv: 19,785 conversions
    summary = pd.read_parquet(out / "tables" / "path_summary.parquet")
    assert summary.loc[0, "paths"] == 10_000 and summary.loc[0, "non_converting"] == 68_602
    assert "no touch times, so the time lag is not shown" in text
