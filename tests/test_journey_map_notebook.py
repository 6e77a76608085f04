"""Notebook 60_journey_map executed with papermill on the synthetic client (planted incident,
planted friction causes of detractors) and on the same client without any feedback export.

The saved tables and the JSON map are what the report shows and what other tools read, so the
tests assert on them against the planted truth.
"""

from __future__ import annotations

import datetime as dt
import json

import yaml
from notebook_runs import output_table, run_notebook

NOTEBOOK = "60_journey_map"
STAGES = ["awareness", "consideration", "decision", "retention", "advocacy"]


def _cfg(synth_client) -> dict:
    return yaml.safe_load(synth_client.config_path.read_text(encoding="utf-8"))


def _map(out) -> dict:
    return json.loads((out / "journey_map.json").read_text(encoding="utf-8"))


def test_synthetic_journey_map(synth_client, repo_root, tmp_path):
    out, text = run_notebook(repo_root, tmp_path, NOTEBOOK, _cfg(synth_client))
    inc = synth_client.effects["incident"]

    # the planted incident is the top pain point: decision stage, mobile, its 10 days
    points = output_table(out, "pain_points")
    top = points.iloc[0]
    assert (top["kind"], top["stage"], top["device"]) == ("incident", "decision", inc["device"])
    first, last = dt.date.fromisoformat(inc["first_day"]), dt.date.fromisoformat(inc["last_day"])
    assert abs((top["window_start"] - first).days) <= 1
    assert abs((top["window_end"] - last).days) <= 1
    assert "broke on mobile" in text

    # planted NPS penalties: late delivery -3.2, payment error -2.2, return -1.5. Late delivery
    # is the strongest and must lead; the return request also shows on 3,000 customers
    # (payment errors are diluted: half the customers who meet one buy on a later visit).
    drivers = output_table(out, "detractor_drivers").sort_values("rank")
    top3 = drivers.head(3)["event"].tolist()
    assert top3[0] == "delivery_late"
    assert "return_request" in drivers.head(4)["event"].tolist()
    assert drivers.iloc[0]["lift_low"] > 1
    # the themes of unhappy comments name the planted frictions by themselves
    themes = output_table(out, "negative_themes")["term"].head(10).tolist()
    assert "late delivery" in themes and "payment failed" in themes

    # the map: every stage in journey order, an emotion where there are answers, the incident
    # among the decision stage's pain points, an improvement suggested for it
    jmap = _map(out)
    assert [s["name"] for s in jmap["stages"]] == STAGES
    by_name = {s["name"]: s for s in jmap["stages"]}
    assert by_name["decision"]["emotion"]["available"]
    assert not by_name["awareness"]["emotion"]["available"]  # nobody answers before a visit
    assert by_name["decision"]["pain_points"][0]["kind"] == "incident"
    assert by_name["decision"]["opportunities"]
    assert all(s["actions"] for s in jmap["stages"][:3])


def test_journey_map_without_feedback_in_bahasa_indonesia(synth_client, repo_root, tmp_path):
    cfg = _cfg(synth_client)
    del cfg["data"]["sources"]["feedback"]
    cfg.setdefault("report", {})["language"] = "id"
    out, text = run_notebook(repo_root, tmp_path, NOTEBOOK, cfg)
    assert "Tidak ada umpan balik sebelum batas waktu" in text
    jmap = _map(out)
    assert jmap["language"] == "id"
    assert [s["name"] for s in jmap["stages"]] == STAGES
    assert not any(s["emotion"]["available"] for s in jmap["stages"])
    # behaviour alone still gives the pain points, with the incident first
    points = output_table(out, "pain_points")
    assert points.iloc[0]["kind"] == "incident"
    assert not (points["kind"] == "negative_sentiment").any()
    # the pain points' titles and evidence are written in Indonesian with the report's number
    # formats (the kind, stage and step columns keep their machine names)
    top = points.iloc[0]
    assert top["title"].endswith(" terganggu di mobile")
    assert " dari " in top["evidence"] and " sesi berlanjut dari " in top["evidence"]
    assert "Titik masalah paling parah adalah **" in text
    assert "broke on" not in text and "sessions moved on" not in text
