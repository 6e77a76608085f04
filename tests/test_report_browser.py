"""A rendered report page works in a real browser with the network off: plotly.js runs offline.

Uses headless Chromium (``chromium`` fixture in conftest.py: skipped when absent, a failure under
``JOURNEY_REQUIRE_BROWSER=1``). The page is rendered from a notebook whose outputs are written
in the test, so no kernel is needed.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import nbformat
import plotly.graph_objects as go
import pytest

from journeylib.report import PLOTLY_MIME, plotly_output, render_html

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def _page(tmp_path: Path) -> Path:
    fig = go.Figure(go.Bar(x=["web", "app", "store"], y=[3, 5, 2]), layout={"title": "Orders"})
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    out = nbformat.v4.new_output
    nb = nbformat.v4.new_notebook(
        cells=[
            md("# Browser check\n\n## Orders by channel"),
            code(
                "show(fig)",
                outputs=[out("display_data", data=plotly_output(fig)._repr_mimebundle_())],
            ),
            md("## Plain figure"),
            code("fig", outputs=[out("display_data", data={PLOTLY_MIME: fig.to_plotly_json()})]),
        ]
    )
    src = tmp_path / "executed.ipynb"
    nbformat.write(nb, src)
    return render_html(src, tmp_path / "page.html", title="Browser check", primary_color="#AA3366")


def _chromium(chromium: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    profile = tmp_path / "profile"
    return subprocess.run(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.browser
def test_plotly_renders_offline_in_chromium(chromium: str, tmp_path: Path) -> None:
    page = _page(tmp_path)
    dom = _chromium(chromium, tmp_path, "--virtual-time-budget=5000", "--dump-dom", page.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    # plotly.js only adds these when it actually drew the figures
    assert dom.stdout.count('class="plot-container') == 2 or dom.stdout.count("main-svg") >= 2
    assert "main-svg" in dom.stdout

    shot = tmp_path / "page.png"
    result = _chromium(
        chromium, tmp_path, "--window-size=1280,1400", f"--screenshot={shot}", page.as_uri()
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert shot.is_file() and shot.stat().st_size > 10_000
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.browser
def test_journey_map_renders_offline_in_chromium(chromium: str, synth_client, tmp_path: Path):
    """The journey map of the synthetic client, as the report page shows it: a table with one
    column per stage and the emotion curve drawn as inline SVG, no script needed."""
    from journeylib import journeymap, painpoints, voice
    from journeylib.stages import StageModel

    cfg, engine = synth_client.config, synth_client.engine
    model = StageModel.from_config(cfg)
    context = voice.feedback_context(engine, model)
    points = painpoints.pain_points(
        engine, model=model, settings=painpoints.PainPointSettings.from_config(cfg),
        timezone=cfg.data.timezone,
    )  # fmt: skip
    jmap = journeymap.journey_map(
        model,
        actions=journeymap.stage_actions(engine, model),
        channels=journeymap.stage_channels(engine, model),
        emotion=journeymap.stage_emotion(context, model),
        pain_points=points,
        opportunities=journeymap.opportunities(points, cfg.playbook),
        title="Journey map",
    )
    out = nbformat.v4.new_output
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell("# Journey map"),
            nbformat.v4.new_code_cell(
                "display(HTML(jmap.to_html()))",
                outputs=[out("display_data", data={"text/html": jmap.to_html()})],
            ),
        ]
    )
    src = tmp_path / "executed.ipynb"
    nbformat.write(nb, src)
    page = render_html(src, tmp_path / "map.html", title="Journey map", primary_color="#0B6E4F")
    html = page.read_text(encoding="utf-8")
    assert "http://" not in html.split("<body", 1)[1].replace("http://www.w3.org", "")
    dom = _chromium(chromium, tmp_path, "--virtual-time-budget=3000", "--dump-dom", page.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert dom.stdout.count('class="jm-grid') == 1
    for stage in ("Awareness", "Consideration", "Decision", "Retention", "Advocacy"):
        assert stage in dom.stdout
    assert "<svg" in dom.stdout and "<polyline" in dom.stdout or "<path" in dom.stdout
    shot = tmp_path / "journey_map.png"
    result = _chromium(
        chromium, tmp_path, "--window-size=1400,1200", f"--screenshot={shot}", page.as_uri()
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert shot.is_file() and shot.stat().st_size > 20_000
