"""Report languages: the translation catalogues of the notebooks' text and of shown labels.

The notebooks are written in English and stay English in JupyterLab. When a client's config
says ``report.language: id``, ``journey run`` executes a copy whose Markdown cells come from the
catalogue ``resources/i18n/<language>/<notebook>.md``, and the display helpers
(:mod:`journeylib.display`) look every column header, caption, chart title, axis title, legend
entry and fixed sentence up in ``resources/i18n/<language>/phrases.tsv``. Sentences computed
from the data are written in the report language by :mod:`journeylib.narrative` itself.

Notebook catalogue format (one file per notebook, readable and editable like a ``.po`` file)::

    <!-- cell js-03 en:9f86d081884c -->
    ## KPI utama

    Setiap KPI dengan jumlah pelanggan di atas dan di bawah garis.

Each block is the translation of the Markdown cell with that id; ``en:`` is the start of the
SHA-256 of the English text it translates. When the English cell changes, the hash no longer
matches and the cell is shown in English (with a warning) until the translation is updated:
a stale translation never reaches a client. :func:`catalogue_status` lists missing and stale
cells (a test keeps it empty) and :func:`update_catalogue` adds the missing ones as English
placeholders marked ``todo``.

Phrase catalogue format: ``English<TAB>translation`` per line, ``#`` comments. Lookups are exact
(after trimming), so a sentence with numbers in it belongs in :mod:`journeylib.narrative`.
"""

from __future__ import annotations

import atexit
import copy
import csv
import hashlib
import logging
import os
import re
from functools import cache
from importlib import resources
from pathlib import Path

import nbformat
import pandas as pd

log = logging.getLogger(__name__)

#: Languages a report can be written in (``en`` is the source language of every text).
LANGUAGES = ("en", "id")
SOURCE_LANGUAGE = "en"

_HEADER = re.compile(r"^<!-- cell (?P<id>\S+) en:(?P<hash>[0-9a-f]{12})(?P<todo> todo)? -->$")
_MISSES: set[tuple[str, str]] = set()
#: Set this environment variable to a file path to collect the phrases a run looked up without
#: finding them (one ``language<TAB>phrase`` line each, appended when each kernel exits): the
#: translators' to-do list for a new report page.
MISSES_ENV = "JOURNEY_I18N_MISSES"


def _write_misses() -> None:
    target = os.environ.get(MISSES_ENV)
    if target and _MISSES:
        with open(target, "a", encoding="utf-8") as fh:
            fh.writelines(f"{lang}\t{text}\n" for lang, text in sorted(_MISSES))


atexit.register(_write_misses)


def source_hash(text: str) -> str:
    """The first 12 hex digits of the SHA-256 of a cell's English text (trailing space ignored).

    >>> source_hash("# Title")
    '79aeaf7ba450'
    """
    return hashlib.sha256(text.rstrip().encode("utf-8")).hexdigest()[:12]


def words(table: dict[str, dict[str, str]], language: str) -> dict[str, str]:
    """The ``language`` entry of a module's en/id word table; a clear error for another language.

    >>> words({"en": {"day": "day"}, "id": {"day": "hari"}}, "id")["day"]
    'hari'
    """
    if language not in table:
        raise ValueError(f"language must be one of {sorted(table)}, got {language!r}")
    return table[language]


def template(table: dict[str, dict[str, str]], language: str, key: str, **values: object) -> str:
    """Template ``key`` of a module's en/id text table in ``language`` (English when the language
    has no table), filled with ``values``.

    >>> template({"en": {"n": "{n} days"}, "id": {"n": "{n} hari"}}, "id", "n", n=3)
    '3 hari'
    """
    text = table.get(language, table[SOURCE_LANGUAGE])[key]
    return text.format(**values) if values else text


def _catalogue_dir(language: str) -> Path:
    return Path(str(resources.files("journeylib") / "resources" / "i18n" / language))


# --------------------------------------------------------------------------------------------
# Notebook text
# --------------------------------------------------------------------------------------------


def read_catalogue(path: str | Path) -> dict[str, tuple[str, str, bool]]:
    """Parse a notebook catalogue: ``{cell_id: (english_hash, translation, todo)}``."""
    entries: dict[str, tuple[str, str, bool]] = {}
    current: tuple[str, str, bool] | None = None
    lines: list[str] = []

    def close() -> None:
        if current is not None:
            cell_id, digest, todo = current
            entries[cell_id] = (digest, "\n".join(lines).strip("\n"), todo)

    for line in Path(path).read_text(encoding="utf-8").splitlines():
        m = _HEADER.match(line.strip())
        if m:
            close()
            current, lines = (m["id"], m["hash"], bool(m["todo"])), []
        elif current is not None:
            lines.append(line)
    close()
    return entries


def _catalogue_path(name: str, language: str, directory: Path | None = None) -> Path:
    return (Path(directory) if directory else _catalogue_dir(language)) / f"{name}.md"


def translate_notebook(
    nb: nbformat.NotebookNode, language: str, *, name: str, directory: Path | None = None
) -> nbformat.NotebookNode:
    """A copy of ``nb`` with its Markdown cells in ``language`` (the input is not modified).

    A cell without a current translation (missing, marked ``todo``, or translated from an older
    English text) keeps its English text and is logged as a warning, so a run never fails or
    shows a stale translation because of the catalogue. ``directory`` overrides the shipped
    catalogue folder ``resources/i18n/<language>``.
    """
    out = nbformat.from_dict(copy.deepcopy(dict(nb)))
    if language == SOURCE_LANGUAGE:
        return out
    path = _catalogue_path(name, language, directory)
    entries = read_catalogue(path) if path.exists() else {}
    untranslated = []
    for cell in out.cells:
        if cell.cell_type != "markdown":
            continue
        entry = entries.get(cell.get("id", ""))
        if entry is None or entry[2] or entry[0] != source_hash(cell.source):
            untranslated.append(cell.get("id", "?"))
            continue
        cell.source = entry[1]
    if untranslated:
        log.warning(
            "%s: %d Markdown cell(s) have no current %s translation and stay in English "
            "(cells %s); see journeylib.i18n.catalogue_status",
            name,
            len(untranslated),
            language,
            ", ".join(untranslated[:5]),
        )
    return out


def catalogue_status(
    notebooks_dir: str | Path, language: str, *, directory: Path | None = None
) -> pd.DataFrame:
    """Every Markdown cell of every notebook and the state of its translation.

    Grain: one row per (notebook, Markdown cell), plus one row per catalogue entry whose cell no
    longer exists. ``status`` is ``ok``, ``missing``, ``todo``, ``stale`` (the English text
    changed since it was translated) or ``orphan``.
    """
    rows = []
    for nb_path in sorted(Path(notebooks_dir).glob("[0-9][0-9]_*.ipynb")):
        name = nb_path.stem
        nb = nbformat.read(str(nb_path), as_version=4)
        path = _catalogue_path(name, language, directory)
        entries = read_catalogue(path) if path.exists() else {}
        seen = set()
        for cell in nb.cells:
            if cell.cell_type != "markdown":
                continue
            cell_id = cell.get("id", "")
            seen.add(cell_id)
            entry = entries.get(cell_id)
            if entry is None:
                status = "missing"
            elif entry[2]:
                status = "todo"
            elif entry[0] != source_hash(cell.source):
                status = "stale"
            else:
                status = "ok"
            rows.append({"notebook": name, "cell_id": cell_id, "status": status})
        rows += [
            {"notebook": name, "cell_id": cell_id, "status": "orphan"}
            for cell_id in entries
            if cell_id not in seen
        ]
    return pd.DataFrame(rows, columns=["notebook", "cell_id", "status"])


def update_catalogue(nb_path: str | Path, language: str, *, directory: Path | None = None) -> Path:
    """Bring a notebook's catalogue in line with the notebook, keeping every translation.

    Cells are written in notebook order. A new cell gets its English text marked ``todo``; a
    stale one keeps its old translation, marked ``todo`` with the new hash, so the translator
    sees what to revise; cells no longer in the notebook are dropped.
    """
    nb_path = Path(nb_path)
    nb = nbformat.read(str(nb_path), as_version=4)
    path = _catalogue_path(nb_path.stem, language, directory)
    entries = read_catalogue(path) if path.exists() else {}
    blocks = []
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        digest = source_hash(cell.source)
        old = entries.get(cell.id)
        if old is None:
            text, todo = cell.source.strip("\n"), True
        else:
            text, todo = old[1], old[2] or old[0] != digest
        blocks.append(f"<!-- cell {cell.id} en:{digest}{' todo' if todo else ''} -->\n{text}\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(blocks), encoding="utf-8")
    return path


# --------------------------------------------------------------------------------------------
# Phrases (labels, headers, chart text, fixed sentences)
# --------------------------------------------------------------------------------------------


@cache
def phrases(language: str) -> dict[str, str]:
    """The phrase catalogue of ``language``: ``{english: translation}`` (empty for English)."""
    if language == SOURCE_LANGUAGE:
        return {}
    path = _catalogue_dir(language) / "phrases.tsv"
    if not path.exists():
        return {}
    out: dict[str, str] = {}
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
            if not row or row[0].startswith("#") or len(row) < 2:
                continue
            out[row[0].strip()] = row[1].strip()
    return out


def phrase(text: str, language: str) -> str:
    """``text`` in ``language`` if the phrase catalogue has it, else ``text`` unchanged.

    The lookup is exact after trimming, then with the first letter lower-cased (the
    translation's first letter is then upper-cased), so ``"Customers"`` finds ``"customers"``.
    A phrase not found is remembered (:func:`misses`) for the translators.
    """
    if language == SOURCE_LANGUAGE or not isinstance(text, str) or not text.strip():
        return text
    table = phrases(language)
    key = text.strip()
    found = table.get(key)
    if found is None and key[:1].isupper():
        lower = table.get(key[:1].lower() + key[1:])
        if lower is not None:
            found = lower[:1].upper() + lower[1:]
    if found is None:
        _MISSES.add((language, key))
        return text
    return found


def knows(text: str, language: str) -> bool:
    """Whether the phrase catalogue of ``language`` translates ``text`` (no miss recorded)."""
    if not isinstance(text, str):
        return False
    key = text.strip()
    table = phrases(language)
    return key in table or (key[:1].isupper() and key[:1].lower() + key[1:] in table)


def misses(language: str | None = None) -> list[str]:
    """Phrases looked up in this process that the catalogue does not have, sorted."""
    return sorted(k for lang, k in _MISSES if language in (None, lang))


def translate_figure(fig, language: str):  # noqa: ANN001, ANN201 - plotly Figure
    """Translate a plotly figure's fixed text in place and return it.

    Covers the title, axis titles (every axis), legend title, colour-bar titles, trace names
    and annotations (subplot titles). Category labels on the axes are data (channel, stage and
    product names), so they are left as they are unless the catalogue knows them all.
    """
    if language == SOURCE_LANGUAGE:
        return fig
    layout = fig.layout

    def fix_title(obj) -> None:  # noqa: ANN001
        title = getattr(obj, "title", None)
        if title is not None and getattr(title, "text", None):
            title.text = phrase(title.text, language)

    fix_title(layout)
    for key in list(layout.to_plotly_json()):
        if re.fullmatch(r"[xy]axis\d*|scene|polar", key):
            fix_title(layout[key])
    if layout.legend is not None:
        fix_title(layout.legend)
    if layout.coloraxis is not None and layout.coloraxis.colorbar is not None:
        fix_title(layout.coloraxis.colorbar)
    for ann in layout.annotations or ():
        if ann.text:
            ann.text = phrase(ann.text, language)
    for trace in fig.data:
        name = getattr(trace, "name", None)
        if name and knows(name, language):
            trace.name = phrase(name, language)
        marker = getattr(trace, "marker", None)
        colorbar = getattr(marker, "colorbar", None) if marker is not None else None
        if colorbar is not None:
            fix_title(colorbar)
        if hasattr(trace, "colorbar") and trace.colorbar is not None:
            fix_title(trace.colorbar)
        for axis in ("x", "y"):
            values = getattr(trace, axis, None)
            if values is not None and _all_known(values, language):
                setattr(trace, axis, [phrase(v, language) for v in values])
        if getattr(trace, "type", None) == "sankey" and trace.node is not None:
            labels = trace.node.label
            if labels is not None and _all_known(labels, language):
                trace.node.label = [phrase(v, language) for v in labels]
    return fig


def _all_known(values, language: str) -> bool:  # noqa: ANN001
    texts = [v for v in values if isinstance(v, str)]
    return bool(texts) and len(texts) == len(values) and all(knows(v, language) for v in texts)


def translate_values(s: pd.Series, language: str) -> pd.Series:
    """A text column in ``language`` when the catalogue knows every value, else unchanged.

    Vocabulary columns (stage directions, model names, KPI names) are translated; a column with
    any value the catalogue does not know (channel, product or campaign names) is client data
    and is shown as it is, except for the workbook's own markers in parentheses among its
    values (``"(no further event)"``) that the catalogue knows. True/False columns read yes/no
    in the language.
    """
    if language == SOURCE_LANGUAGE:
        return s
    if pd.api.types.is_bool_dtype(s):
        return s.map({True: phrase("Yes", language), False: phrase("No", language)})
    values = [v for v in pd.unique(s.dropna()) if isinstance(v, str) and v.strip()]
    if values and all(knows(v, language) for v in values):
        return s.map(lambda v: phrase(v, language) if isinstance(v, str) and v.strip() else v)
    # Markers the workbook writes among client values, such as "(no further event)"
    markers = {v for v in values if _is_marker(v) and knows(v, language)}
    if not markers:
        return s
    return s.map(lambda v: phrase(v, language) if v in markers else v)


def _is_marker(value: str) -> bool:
    text = value.strip()
    return text.startswith("(") and text.endswith(")")
