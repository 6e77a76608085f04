"""The demo published in Bahasa Indonesia (``report.language: id``): no English on any page.

The check is independent of the translation tables: every text a reader sees (headings,
paragraphs, list items, table headers and cells, captions, chart titles, axis and legend
titles) is searched for English function words that do not occur in Indonesian ("the", "and",
"of", "which" ...). Client data (the report title from the config, product and channel names,
file names) is allowed through an explicit list.
"""

from __future__ import annotations

import json
import os
import re
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
import yaml

from journeylib import i18n
from journeylib.runner import run

#: Words that mark a text as English (none of them is an Indonesian word).
ENGLISH = re.compile(
    r"\b(the|and|of|with|from|which|than|are|is|was|were|this|that|these|each|every|"
    r"customers?|share|rate|per cent|not|at|on|for|to|or|in|by|when|where|how|who|what|"
    r"above|below|after|before|between|without|only|more|less|most|least|no one|none)\b",
    re.IGNORECASE,
)


class _Text(HTMLParser):
    """Visible text of a page, and the text of the plotly figures in its scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.skip = 0
        self.texts: list[str] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):  # noqa: ANN001
        if tag in ("script", "style", "code", "pre"):
            self.skip += 1
            self._in_script = tag == "script"

    def handle_endtag(self, tag):  # noqa: ANN001
        if tag in ("script", "style", "code", "pre"):
            self.skip -= 1
            self._in_script = False

    def handle_data(self, data):  # noqa: ANN001
        if self._in_script:
            self.scripts.append(data)
        elif not self.skip and data.strip():
            self.texts.append(" ".join(data.split()))


_FIGURE_TEXT = re.compile(
    r'"(?:title|text)":\{"text":"((?:[^"\\]|\\.)*)"|"name":"((?:[^"\\]|\\.)*)"'
)


def page_texts(html: str) -> list[str]:
    """Every text a reader of ``html`` sees, including chart titles, axis titles, trace names."""
    parser = _Text()
    parser.feed(html)
    texts = list(parser.texts)
    for script in parser.scripts:
        if "Plotly.newPlot" not in script or len(script) > 2_000_000:
            continue  # the inlined plotly.js bundle is not report text
        for m in _FIGURE_TEXT.finditer(script):
            raw = m.group(1) if m.group(1) is not None else m.group(2)
            texts.append(json.loads(f'"{raw}"'))
    return texts


def english_texts(texts: list[str], allowed: list[str]) -> list[str]:
    """The texts that still contain an English function word once allowed phrases are removed."""
    out = []
    for text in texts:
        rest = text
        for phrase in allowed:
            rest = rest.replace(phrase, " ")
        if ENGLISH.search(rest):
            out.append(text)
    return out


def test_english_words_are_found_and_indonesian_passes():
    html = (
        "<html><body><h1>Tahap perjalanan</h1><p>Share of customers who bought</p>"
        "<table><tr><th>Pelanggan</th></tr><tr><td>Toko Contoh</td></tr></table>"
        '<script>Plotly.newPlot("x", [{"name":"last touch"}], {"title":{"text":"Konversi per '
        'kanal"},"xaxis":{"title":{"text":"share of conversions"}}})</script></body></html>'
    )
    texts = page_texts(html)
    assert "Konversi per kanal" in texts and "share of conversions" in texts
    assert english_texts(texts, []) == ["Share of customers who bought", "share of conversions"]


@pytest.fixture(scope="module")
def indonesian_run(repo_root: Path, tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("bahasa")
    cfg = yaml.safe_load((repo_root / "configs" / "demo.yaml").read_text(encoding="utf-8"))
    cfg["data"]["raw_dir"] = str(repo_root / "data" / "sample")
    cfg["output"] = {"processed_dir": str(tmp / "processed"), "reports_dir": str(tmp / "reports")}
    cfg["report"]["language"] = "id"
    config = tmp / "demo.yaml"
    config.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    saved = os.environ.pop("JOURNEY_ID_KEY", None)
    try:
        result = run(config, run_id="bahasa")
    finally:
        if saved is not None:
            os.environ["JOURNEY_ID_KEY"] = saved
    return result.run_dir


#: Client data and names that stay as they are in an Indonesian report.
ALLOWED = [
    "Customer Journey Report — Toko Contoh (demo)",  # the report title from the client's config
    "data/sample/customers.csv",  # file names
    "add to cart",  # event names from the client's data (steps of the funnel)
    "Add to cart",
    "add-to-cart",
    "Add to wishlist",
    "not good",  # an English example next to its Indonesian one ("tidak bagus")
    "item-to-item collaborative filtering",  # terms Indonesian practitioners keep in English
    "hit rate",
    "Hit rate",
]
#: Texts that are a canonical table's machine name (as in the data-quality tables).
TABLE_NAMES = {"customers", "events", "orders", "feedback", "spend", "products", "identity_map"}


@pytest.mark.slow
def test_every_page_is_in_indonesian(indonesian_run: Path):
    found = {}
    pages = sorted(indonesian_run.glob("*.html"))
    assert len(pages) >= 9  # index + 8 notebooks
    for page in pages:
        texts = [t for t in page_texts(page.read_text(encoding="utf-8")) if t not in TABLE_NAMES]
        english = english_texts(texts, ALLOWED)
        if english:
            found[page.name] = english
    report = "\n".join(
        f"{name}: {len(texts)} English text(s)\n" + "\n".join(f"    {t[:140]}" for t in texts[:40])
        for name, texts in found.items()
    )
    assert not found, "English text on the Indonesian report:\n" + report


@pytest.mark.slow
def test_executed_notebooks_carry_the_translated_markdown(indonesian_run: Path, repo_root: Path):
    for executed in sorted((indonesian_run / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(str(executed), as_version=4)
        catalogue = i18n.read_catalogue(
            repo_root / "journeylib" / "resources" / "i18n" / "id" / f"{executed.stem}.md"
        )
        markdown = [c for c in nb.cells if c.cell_type == "markdown"]
        assert markdown, executed.name
        for cell in markdown:
            assert cell.source == catalogue[cell.id][1], (executed.name, cell.id)
