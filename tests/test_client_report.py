"""The demo published twice, a month apart, as a weekly job would: the client report compares the
second run with the first, the history page lists both, and the published pages work offline in
a real browser (no console errors, no network requests, the Sankey and the journey map drawn).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import pandas as pd
import pytest
import yaml

from journeylib.runner import run

FIRST, SECOND = "2025-05-31", "2025-06-30"


@pytest.fixture(scope="module")
def two_runs(repo_root: Path, tmp_path_factory) -> dict:
    tmp = tmp_path_factory.mktemp("two_runs")
    cfg = yaml.safe_load((repo_root / "configs" / "demo.yaml").read_text(encoding="utf-8"))
    cfg["data"]["raw_dir"] = str(repo_root / "data" / "sample")
    cfg["output"] = {"processed_dir": str(tmp / "processed"), "reports_dir": str(tmp / "reports")}
    config = tmp / "demo.yaml"
    config.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    saved = os.environ.pop("JOURNEY_ID_KEY", None)  # the demo key, as the demo config allows
    try:
        first = run(config, as_of=FIRST, run_id="may")
        second = run(config, as_of=SECOND, run_id="june")
    finally:
        if saved is not None:
            os.environ["JOURNEY_ID_KEY"] = saved
    return {"first": first, "second": second, "reports": tmp / "reports" / "demo"}


def _tiles(result) -> pd.DataFrame:
    path = result.run_dir / "outputs" / "90_client_report" / "tables" / "kpi_tiles.parquet"
    return pd.read_parquet(path).set_index("kpi")


@pytest.mark.slow
def test_second_run_compares_with_the_first(two_runs):
    first, second = _tiles(two_runs["first"]), _tiles(two_runs["second"])
    assert {"conversion", "retention", "nps"} <= set(second.index)
    for kpi in second.index.intersection(first.index):
        prev, now = first.loc[kpi, "value"], second.loc[kpi, "value"]
        if pd.isna(prev) or pd.isna(now):
            continue
        # the second run's "previous" is the first run's value, the change their difference
        assert second.loc[kpi, "previous"] == pytest.approx(prev)
        assert second.loc[kpi, "change"] == pytest.approx(now - prev)
        rel = (now - prev) / abs(prev) if prev else math.inf
        assert bool(second.loc[kpi, "notable"]) == (abs(rel) > 0.1)
    # the first run had nothing to compare with
    assert first["previous"].isna().all()
    # a KPI tile shows the number its analysis saved: conversion from 10_journey_stages
    kpis = pd.read_parquet(
        two_runs["second"].run_dir / "outputs" / "10_journey_stages" / "tables" / "kpis.parquet"
    )
    conv = kpis[kpis["key"] == "conversion_rate"]["value"].iat[0]
    assert second.loc["conversion", "value"] == pytest.approx(conv)
    # the client's goals: NPS target 40 in the demo config
    assert second.loc["nps", "target"] == 40
    assert bool(second.loc["nps", "met"]) == (second.loc["nps", "value"] >= 40)


@pytest.mark.slow
def test_history_page_lists_both_runs(two_runs):
    page = (two_runs["reports"] / "history.html").read_text(encoding="utf-8")
    for run_id, as_of in (("may", FIRST), ("june", SECOND)):
        assert run_id in page and as_of in page
        assert f"{run_id}/index.html" in page
    assert "<script" not in page.lower()
    assert os.readlink(two_runs["reports"] / "latest") == "june"


@pytest.mark.slow
@pytest.mark.browser
def test_published_report_works_offline_in_chromium(two_runs, chromium, tmp_path):
    from cdp import inspect_page

    run_dir = two_runs["second"].run_dir
    checks = {
        "plots": "document.querySelectorAll('.js-plotly-plot').length",
        "drawn": "document.querySelectorAll('.js-plotly-plot .main-svg').length",
        "sankey": "document.querySelectorAll('.js-plotly-plot .sankey').length",
        "map": "document.querySelectorAll('table.jm-grid').length",
        "tiles": "document.querySelectorAll('[aria-label=\"Key figures against the goals\"]').length",
    }
    seen = {}
    for page in ("index", "90_client_report", "10_journey_stages", "60_journey_map"):
        shot = tmp_path / f"{page}.png"
        res = inspect_page(
            chromium, (run_dir / f"{page}.html").as_uri(), screenshot=shot, checks=checks
        )
        assert res["errors"] == [], (page, res["errors"][:3])
        assert res["requests"] == [], (page, res["requests"][:3])
        assert shot.is_file() and shot.stat().st_size > 10_000
        seen[page] = res["checks"]
    assert seen["10_journey_stages"]["sankey"] >= 1
    assert seen["10_journey_stages"]["drawn"] >= seen["10_journey_stages"]["plots"] > 0
    assert seen["60_journey_map"]["map"] >= 1
    assert seen["90_client_report"]["map"] == 1 and seen["90_client_report"]["tiles"] == 1
