"""Report languages: notebook catalogues, phrase lookups and translated display (journeylib.i18n)."""

from __future__ import annotations

import hashlib

import nbformat
import pandas as pd
import plotly.graph_objects as go
import pytest

from journeylib import display, i18n
from journeylib.config import ReportSpec
from journeylib.project import project_root

NOTEBOOKS = project_root() / "notebooks"


def _notebook(*markdown: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    for i, text in enumerate(markdown):
        nb.cells.append(nbformat.v4.new_markdown_cell(text, id=f"m{i}"))
        nb.cells.append(nbformat.v4.new_code_cell("x = 1", id=f"c{i}"))
    return nb


def test_source_hash_is_sha256_of_the_trimmed_text():
    expected = hashlib.sha256(b"# Title").hexdigest()[:12]
    assert i18n.source_hash("# Title\n\n") == expected


def test_catalogue_round_trip_translates_only_current_cells(tmp_path):
    nb = _notebook("# Stages", "Every customer counts.")
    path = tmp_path / "nb" / "10_x.ipynb"
    path.parent.mkdir()
    nbformat.write(nb, str(path))
    cat_dir = tmp_path / "cat"
    i18n.update_catalogue(path, "id", directory=cat_dir)
    status = i18n.catalogue_status(path.parent, "id", directory=cat_dir)
    assert status["status"].tolist() == ["todo", "todo"]  # new cells are English placeholders

    text = (cat_dir / "10_x.md").read_text()
    text = text.replace(" todo", "").replace("# Stages", "# Tahap")
    text = text.replace("Every customer counts.", "Setiap pelanggan dihitung.")
    (cat_dir / "10_x.md").write_text(text)
    out = i18n.translate_notebook(nb, "id", name="10_x", directory=cat_dir)
    assert [c.source for c in out.cells if c.cell_type == "markdown"] == [
        "# Tahap",
        "Setiap pelanggan dihitung.",
    ]
    assert nb.cells[0].source == "# Stages"  # the input is not modified
    assert [c.source for c in out.cells if c.cell_type == "code"] == ["x = 1", "x = 1"]

    # The English of the second cell changes: its old translation must not be shown.
    nb.cells[2].source = "Every customer counts once."
    nbformat.write(nb, str(path))
    status = i18n.catalogue_status(path.parent, "id", directory=cat_dir)
    assert status["status"].tolist() == ["ok", "stale"]
    out = i18n.translate_notebook(nb, "id", name="10_x", directory=cat_dir)
    assert out.cells[2].source == "Every customer counts once."
    # update keeps the old translation for the translator, marked todo with the new hash
    i18n.update_catalogue(path, "id", directory=cat_dir)
    entries = i18n.read_catalogue(cat_dir / "10_x.md")
    assert entries["m1"] == (
        i18n.source_hash(nb.cells[2].source),
        "Setiap pelanggan dihitung.",
        True,
    )
    assert entries["m0"][1:] == ("# Tahap", False)


def test_english_reports_use_the_notebook_as_it_is():
    nb = _notebook("# Stages")
    assert i18n.translate_notebook(nb, "en", name="10_x").cells[0].source == "# Stages"


def test_every_notebook_has_a_current_indonesian_translation():
    status = i18n.catalogue_status(NOTEBOOKS, "id")
    assert len(status) >= 80
    not_ok = status[status["status"] != "ok"]
    assert not_ok.empty, (
        "Markdown cells without a current Indonesian translation (run "
        "journeylib.i18n.update_catalogue and translate the 'todo' blocks):\n"
        + not_ok.to_string(index=False)
    )


def test_phrase_lookup_keeps_a_capital_and_records_misses():
    assert i18n.phrase("Customers", "en") == "Customers"
    assert i18n.knows("customers", "id")
    assert i18n.phrase("customers", "id") == "pelanggan"
    assert i18n.phrase("Customers", "id") == "Pelanggan"  # found through the lower-case entry
    assert i18n.phrase("zz unknown header", "id") == "zz unknown header"
    assert "zz unknown header" in i18n.misses("id")


def test_vocabulary_columns_are_translated_and_client_data_is_not():
    vocab = pd.Series(["customers", "customers", None], dtype="string")
    assert i18n.translate_values(vocab, "id").tolist()[:2] == ["pelanggan", "pelanggan"]
    mixed = pd.Series(["customers", "Toko Budi"])  # a value the catalogue does not know
    assert i18n.translate_values(mixed, "id").tolist() == ["customers", "Toko Budi"]


def test_figure_text_is_translated_on_a_copy():
    fig = go.Figure(go.Bar(x=["a", "b"], y=[1, 2], name="customers"))
    fig.update_layout(title="customers", xaxis_title="customers", yaxis_title="zz data label")
    out = i18n.translate_figure(go.Figure(fig), "id")
    assert out.layout.title.text == "pelanggan"
    assert out.layout.xaxis.title.text == "pelanggan"
    assert out.layout.yaxis.title.text == "zz data label"
    assert out.data[0].name == "pelanggan"
    assert list(out.data[0].x) == ["a", "b"]  # categories the catalogue does not know stay
    assert fig.layout.title.text == "customers"


def test_headers_and_durations_in_indonesian():
    assert display.humanise("customers", "id") == "Pelanggan"
    assert display.humanise("zz_new_column", "id") == "Zz new column"
    report = ReportSpec(language="id")
    assert display.fmt_duration(pd.Timedelta(days=3, hours=12), report) == "3,5 hari"
    assert display.fmt_duration(pd.Timedelta(hours=2), report) == "2,0 jam"


def test_use_report_sets_the_default_language():
    previous = display.use_report(ReportSpec(language="id"))
    try:
        assert display.current_report().language == "id"
    finally:
        display.use_report(previous)
    assert display.current_report() is previous


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_phrase_catalogue_is_well_formed(language):
    table = i18n.phrases(language)
    if language == "en":
        assert table == {}
        return
    assert len(table) > 100
    assert all(v.strip() for v in table.values()), "empty translations"


def test_workbook_markers_among_client_values_are_translated():
    s = pd.Series(["view_item", "(no further event)", "add_to_cart"])
    assert i18n.translate_values(s, "id").tolist() == [
        "view_item",
        "(tidak ada event berikutnya)",
        "add_to_cart",
    ]


def test_true_false_read_yes_no():
    assert i18n.translate_values(pd.Series([True, False]), "id").tolist() == ["Ya", "Tidak"]
