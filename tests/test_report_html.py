"""journeylib.report: code-free, offline HTML pages from executed notebooks.

These tests build executed notebooks in memory (outputs written by hand, no kernel), so they run
in a second or two; tests/test_runner.py checks the same properties on pages of a real run.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import nbformat
import plotly.graph_objects as go
import pytest
from bs4 import BeautifulSoup

from journeylib.report import (
    PLOTLY_MIME,
    clean_notebook,
    external_resources,
    notebook_title,
    plotly_js,
    plotly_output,
    render_html,
    render_index,
)

PARAM_SOURCE = 'config_path: str = "PARAM-SOURCE-MARKER"  # client config'


def _figure() -> go.Figure:
    return go.Figure(go.Bar(x=["web", "app"], y=[3, 5]), layout={"title": "FIGURE-TITLE"})


def _stream(name: str, text: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_output("stream", name=name, text=text)


def _display(data: dict) -> nbformat.NotebookNode:
    return nbformat.v4.new_output("display_data", data=data)


def executed_notebook(*, with_figures: bool = True) -> nbformat.NotebookNode:
    """What papermill leaves behind, outputs included."""
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    cells = [
        md("# Journey overview\n\nWho comes back?"),
        code(PARAM_SOURCE, metadata={"tags": ["parameters"]}),
        code('config_path = "INJECTED-MARKER"', metadata={"tags": ["injected-parameters"]}),
        code(
            "SOURCE-MARKER = compute()",
            outputs=[
                _stream("stdout", "VISIBLE-STDOUT\n"),
                _stream("stderr", "HIDDEN-STDERR\n"),
                _stream("stderr", "<ipython>:3: UserWarning: HIDDEN-WARNING\n"),
            ],
        ),
        md("## Returning customers"),
        code(
            "x",
            outputs=[_stream("stdout", "HIDDEN-REMOVED-OUTPUT\n")],
            metadata={"tags": ["remove-output"]},
        ),
        code(
            "y",
            outputs=[_stream("stdout", "HIDDEN-REMOVED-CELL\n")],
            metadata={"tags": ["remove-cell"]},
        ),
        md("## Returning customers"),  # a duplicate heading still gets its own anchor
        md("### By channel"),
    ]
    if with_figures:
        bundle = plotly_output(_figure())._repr_mimebundle_()
        plain = {PLOTLY_MIME: _figure().to_plotly_json(), "text/plain": "Figure(...)"}
        cells += [
            code("show(fig)", outputs=[_display(bundle)]),
            code("fig", outputs=[_display(plain)]),
        ]
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return nb


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("report")
    src = folder / "executed.ipynb"
    nbformat.write(executed_notebook(), src)
    out = render_html(
        src,
        folder / "page.html",
        title="Acme journeys: Overview",
        primary_color="#AA3366",
        subtitle="acme · run r1",
        links=[("Contents", "index.html")],
    )
    return out.read_text(encoding="utf-8")


def without_plotlyjs(html: str) -> str:
    """The page minus the inlined plotly.js bundle (which mentions CDN URLs in its config)."""
    return html.replace(plotly_js(), "")


def test_no_code_input_no_prompts(page: str) -> None:
    assert "PARAM-SOURCE-MARKER" not in page
    assert "INJECTED-MARKER" not in page
    assert "SOURCE-MARKER" not in page
    soup = BeautifulSoup(without_plotlyjs(page), "html.parser")
    for css_class in ("jp-InputPrompt", "jp-OutputPrompt", "jp-InputArea-editor", "highlight"):
        assert soup.find(class_=css_class) is None, css_class
    assert "VISIBLE-STDOUT" in page


def test_no_stderr_or_warnings(page: str) -> None:
    assert "HIDDEN-STDERR" not in page
    assert "HIDDEN-WARNING" not in page
    assert "UserWarning" not in page


def test_remove_tags_are_honoured(page: str) -> None:
    assert "HIDDEN-REMOVED-OUTPUT" not in page
    assert "HIDDEN-REMOVED-CELL" not in page


def test_plotlyjs_inlined_exactly_once_for_two_figures(page: str) -> None:
    assert page.count(plotly_js()) == 1
    # both figures (the explicit fragment and plotly's JSON-only output) are drawn
    assert page.count("Plotly.newPlot(") == 2


def test_no_external_resources(page: str) -> None:
    assert external_resources(page) == []
    rest = without_plotlyjs(page)
    assert not re.search(r"<script[^>]+src\s*=", rest, re.IGNORECASE)
    assert not re.search(r"<link[^>]+href\s*=\s*[\"']?(https?:)?//", rest, re.IGNORECASE)
    assert "cdn" not in rest.lower()
    assert "require.js" not in rest and "mathjax" not in rest.lower()


def test_toc_links_resolve_to_unique_heading_ids(page: str) -> None:
    soup = BeautifulSoup(without_plotlyjs(page), "html.parser")
    toc = soup.find("nav", id="journey-toc")
    assert toc is not None
    targets = [a["href"] for a in toc.find_all("a")]
    assert len(targets) == 4  # h1, two h2 with the same text, h3
    assert len(set(targets)) == 4
    ids = {tag["id"] for tag in soup.find_all(id=True)}
    for href in targets:
        assert href.startswith("#") and href[1:] in ids
    assert [a.get_text() for a in toc.find_all("a")][0] == "Journey overview"


def test_title_header_and_brand_colour(page: str) -> None:
    soup = BeautifulSoup(without_plotlyjs(page), "html.parser")
    assert soup.title.get_text() == "Acme journeys: Overview"
    assert soup.find("h1", class_="journey-title").get_text() == "Acme journeys: Overview"
    assert "--journey-primary: #AA3366" in page
    assert soup.find("a", href="index.html") is not None


def test_page_without_figures_has_no_plotlyjs(tmp_path: Path) -> None:
    src = tmp_path / "plain.ipynb"
    nbformat.write(executed_notebook(with_figures=False), src)
    html = render_html(src, tmp_path / "plain.html", title="t").read_text(encoding="utf-8")
    assert "Plotly" not in html
    assert len(html) < 600_000  # the lab CSS only; plotly.js alone is several MB


def test_toc_can_be_switched_off(tmp_path: Path) -> None:
    src = tmp_path / "plain.ipynb"
    nbformat.write(executed_notebook(with_figures=False), src)
    html = render_html(src, tmp_path / "plain.html", title="t", toc=False).read_text("utf-8")
    assert 'id="journey-toc"' not in html


def test_plotly_output_bundle() -> None:
    bundle = plotly_output(_figure())._repr_mimebundle_()
    assert "Plotly.newPlot" in bundle["text/html"]
    assert "<script src" not in bundle["text/html"]
    assert len(bundle["text/html"]) < 100_000  # no plotly.js inside the fragment
    assert bundle[PLOTLY_MIME]["data"][0]["type"] == "bar"


def test_clean_notebook_does_not_mutate_its_input() -> None:
    nb = executed_notebook()
    before = copy.deepcopy(nb)
    cleaned = clean_notebook(nb)
    assert nb == before
    sources = [c.source for c in cleaned.cells]
    assert PARAM_SOURCE not in sources
    assert all(o.get("name") != "stderr" for c in cleaned.cells for o in c.get("outputs", []))


def test_notebook_title_is_first_heading() -> None:
    assert notebook_title(executed_notebook()) == "Journey overview"
    assert notebook_title(nbformat.v4.new_notebook()) is None


def test_index_links_every_section(tmp_path: Path) -> None:
    sections = [
        {
            "name": "00_a",
            "title": "A <b>",
            "href": "00_a.html",
            "notebook_href": "notebooks/00_a.ipynb",
            "status": "ok",
            "seconds": 1.25,
        },
        {
            "name": "10_b",
            "title": "B",
            "href": "10_b.html",
            "notebook_href": "notebooks/10_b.ipynb",
            "status": "ok",
            "seconds": 2.0,
        },
    ]
    out = render_index(
        tmp_path / "index.html",
        title="Report",
        client="acme",
        run_id="r1",
        sections=sections,
        status="ok",
        config_hash="abc123",
        version="0.1.0",
        as_of="2025-06-30",
        primary_color="#AA3366",
    )
    html = out.read_text(encoding="utf-8")
    soup = BeautifulSoup(html, "html.parser")
    hrefs = {a["href"] for a in soup.find_all("a")}
    assert {"00_a.html", "10_b.html", "notebooks/00_a.ipynb", "run.json"} <= hrefs
    assert "A &lt;b&gt;" in html  # titles are escaped
    for text in ("acme", "r1", "2025-06-30", "abc123", "0.1.0"):
        assert text in html
    assert external_resources(html) == []
