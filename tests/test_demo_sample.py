"""The committed demo sample and the demo pipeline, end to end.

* The sample under data/sample is exactly what `journey synth` regenerates with its documented
  defaults (seed 42, 300 customers), so nobody can hand-edit it unnoticed.
* Running the real demo config through ingest and the report never lets a direct identifier
  (e-mail, name, phone) or a raw client id reach data/processed or the HTML.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from journeylib.config import OutputSpec, load_config
from journeylib.io import prepare
from journeylib.synth import SynthConfig, generate, write_raw

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"


def test_sample_is_small_and_regenerates_byte_for_byte(tmp_path):
    files = sorted(p for p in SAMPLE.rglob("*") if p.is_file())
    assert sum(p.stat().st_size for p in files) < 1_000_000, "the sample must stay well under 1 MB"
    out = write_raw(
        generate(
            SynthConfig(
                n_customers=300, seed=42, start="2025-01-01", end="2025-06-30", language="en"
            )
        ),
        tmp_path / "sample",
    )
    regenerated = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    assert regenerated == [p.relative_to(SAMPLE) for p in files]
    for rel in regenerated:
        assert (out / rel).read_bytes() == (SAMPLE / rel).read_bytes(), f"{rel} differs"


def _secrets() -> list[str]:
    """Every direct identifier and raw id in the sample, worked out from the raw files."""
    cust = pd.read_csv(SAMPLE / "customers.csv", dtype=str)
    fb = pd.read_csv(SAMPLE / "feedback.csv", dtype=str)
    ident = pd.read_csv(SAMPLE / "identity_map.csv", dtype=str)
    values = (
        list(cust["email"])
        + list(cust["full_name"])
        + list(cust["phone"])
        + list(fb["email"].dropna())
        + list(cust["customer_ref"])
        + list(ident["source_id"])
    )
    return sorted(set(values))


@pytest.fixture(scope="module")
def demo_config(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo")
    config = load_config("configs/demo.yaml")
    return config.model_copy(
        update={
            "output": OutputSpec(
                processed_dir=str(root / "processed"), reports_dir=str(root / "reports")
            )
        }
    )


def test_demo_sample_loads_and_no_identifier_reaches_processed_data(demo_config):
    result = prepare(demo_config, force=True)
    # the sample plants 300 CRM customers plus anonymous visitors, and ~0.5% duplicate events
    assert result.tables["customers"] >= 300
    notices = {(n["table"], n["check"]) for n in result.manifest["notices"]}
    assert ("events", "duplicate rows") in notices
    assert ("feedback", "e-mail or phone number in free text") in notices
    blob = b"".join(p.read_bytes() for p in demo_config.processed_dir.iterdir())
    text = blob.decode("latin-1")
    leaked = [s for s in _secrets() if s in text]
    assert not leaked, f"{len(leaked)} direct identifiers or raw ids reached data/processed"
    fb = pd.read_parquet(demo_config.processed_dir / "feedback.parquet")
    assert not fb["text"].dropna().str.contains(r"@|\+62", regex=True).any()


@pytest.mark.slow
def test_demo_report_is_private_and_offline(demo_config, tmp_path):
    from journeylib.runner import run

    cfg_path = tmp_path / "demo.yaml"
    import yaml

    cfg_path.write_text(yaml.safe_dump(demo_config.model_dump(mode="json")))
    result = run(cfg_path)
    assert result.ok
    from journeylib.report import plotly_js

    # the inlined plotly.js library is code, not data: scan everything else
    html = "".join(p.read_text(encoding="utf-8") for p in result.run_dir.glob("*.html"))
    html = html.replace(plotly_js(), "")
    tables = "".join(p.read_text(encoding="utf-8") for p in result.run_dir.rglob("*.csv"))
    leaked = [s for s in _secrets() if re.search(rf"(?<!\w){re.escape(s)}(?!\w)", html + tables)]
    assert not leaked, f"{len(leaked)} identifiers in the report, e.g. a {len(leaked[0])}-char one"
    # offline: no script or stylesheet is fetched from elsewhere
    assert not re.search(r"<(script|link)[^>]+(src|href)=[\"']?(https?:)?//", html)
