"""Executed notebooks -> self-contained, code-free HTML pages for the client.

A report page is the JupyterLab look of an executed notebook with everything a client should
not see taken out and nothing fetched from the network:

* no code input and no prompts; cells tagged ``remove-cell`` (and papermill's ``parameters`` /
  ``injected-parameters`` cells) are dropped, ``remove-output`` / ``remove-input`` are honoured;
* no ``stderr`` stream output (that is where warnings and log records go) and no tracebacks;
* a table of contents built from the markdown headings, linking to their anchors;
* plotly figures render offline: each figure is an HTML fragment without plotly.js, and the page
  inlines plotly.js once, from the installed ``plotly`` package;
* no ``<script src>`` or ``<link href>`` to a CDN: the blocks of nbconvert's ``lab`` template
  that load require.js, MathJax, mermaid and the widget manager are emptied
  (``journeylib/templates/journey/index.html.j2``). LaTeX in markdown therefore shows as source.

Notebooks show figures with :func:`plotly_output` (``fig`` on its own works too: the renderer
turns plotly's JSON output into the same fragment).
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import json
import logging
import mimetypes
import re
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import nbformat

from journeylib.project import atomic_write_bytes, resolve_path

log = logging.getLogger(__name__)

TEMPLATES_DIR = Path(__file__).parent / "templates"
TEMPLATE_NAME = "journey"

PLOTLY_MIME = "application/vnd.plotly.v1+json"
PLOTLYJS_MARKER = "<!--journey:plotlyjs-->"
TOC_MARKER = "<!--journey:toc-->"

#: Cells with these tags are left out of the page altogether.
REMOVE_CELL_TAGS = frozenset({"remove-cell", "parameters", "injected-parameters", "remove_cell"})
#: Cells with these tags keep their input hidden (always) and lose their outputs.
REMOVE_OUTPUT_TAGS = frozenset({"remove-output", "remove_output"})

#: Default figure height when the figure does not set one (plotly's fragment is 100% high,
#: which collapses inside a notebook output area).
FIGURE_HEIGHT = "480px"

_EXTERNAL = re.compile(
    r"""<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""",
    re.IGNORECASE,
)


class PlotlyOutput:
    """A plotly figure as notebook output: an HTML fragment for reports, JSON for JupyterLab.

    ``text/html`` is the figure without plotly.js (the report page supplies it once);
    ``application/vnd.plotly.v1+json`` lets JupyterLab draw it interactively. nbconvert prefers
    ``text/html`` (the plotly MIME type is not in its display priority).
    """

    def __init__(self, fig: Any, *, height: str = FIGURE_HEIGHT) -> None:
        self.fig = fig
        self.height = height

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        fig_json = json.loads(self.fig.to_json())
        return {
            "text/html": figure_fragment(self.fig, height=self.height),
            PLOTLY_MIME: fig_json,
            "text/plain": f"<plotly figure: {len(fig_json.get('data', []))} trace(s)>",
        }


def plotly_output(fig: Any, *, height: str = FIGURE_HEIGHT) -> PlotlyOutput:
    """Wrap a plotly figure for display in a notebook that becomes a report page.

    Parameters
    ----------
    fig
        A ``plotly.graph_objects.Figure``.
    height
        CSS height used when the figure's layout sets none.

    Returns
    -------
    PlotlyOutput
        Displayed by IPython as an offline HTML fragment (plus plotly JSON for JupyterLab).

    Examples
    --------
    >>> import plotly.graph_objects as go
    >>> out = plotly_output(go.Figure(go.Bar(x=["a"], y=[1])))
    >>> "Plotly.newPlot" in out._repr_mimebundle_()["text/html"]
    True
    """
    return PlotlyOutput(fig, height=height)


#: Alias matching ``fig.show()`` habits.
show_plotly = plotly_output


def figure_fragment(fig: Any, *, height: str = FIGURE_HEIGHT) -> str:
    """The figure as an HTML ``<div>`` + ``<script>`` that expects plotly.js on the page."""
    return fig.to_html(full_html=False, include_plotlyjs=False, default_height=height)


@cache
def plotly_js() -> str:
    """The installed plotly.js bundle (inlined once per page that shows a figure)."""
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


def _fragment_from_json(data: Any) -> str | None:
    import plotly.io as pio

    try:
        fig = pio.from_json(
            json.dumps(data) if not isinstance(data, str) else data, skip_invalid=True
        )
    except (ValueError, TypeError) as exc:  # pragma: no cover - malformed figure JSON
        log.warning("could not re-render a plotly figure: %s", exc)
        return None
    return figure_fragment(fig)


def _is_plotly_loader(html: str) -> bool:
    """Output of ``init_notebook_mode`` and similar: plotly.js itself or a loader for it."""
    return "Plotly.newPlot" not in html and (
        "define('plotly'" in html or 'define("plotly"' in html or "cdn.plot.ly" in html
    )


def clean_notebook(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of ``nb`` holding only what a client report shows.

    Drops tagged cells (see :data:`REMOVE_CELL_TAGS`), ``stderr`` streams, tracebacks, plotly
    loader outputs and code cells left without output; gives plotly JSON outputs an offline
    ``text/html`` fragment. The input notebook is not modified.
    """
    nb = copy.deepcopy(nb)
    cells = []
    for cell in nb.cells:
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & REMOVE_CELL_TAGS:
            continue
        if cell.cell_type == "code":
            if tags & REMOVE_OUTPUT_TAGS:
                continue  # inputs are never shown, so nothing of the cell is left
            outputs = []
            for out in cell.get("outputs", []):
                kind = out.get("output_type")
                if kind == "error":
                    continue
                if kind == "stream":
                    if out.get("name") == "stderr":
                        continue
                    outputs.append(out)
                    continue
                data = out.get("data", {})
                html = data.get("text/html")
                if isinstance(html, list):
                    html = "".join(html)
                if PLOTLY_MIME in data and not (html and "Plotly.newPlot" in html):
                    fragment = _fragment_from_json(data[PLOTLY_MIME])
                    if fragment is not None:
                        data["text/html"] = fragment
                elif html and _is_plotly_loader(html):
                    continue
                if PLOTLY_MIME in data:
                    del data[PLOTLY_MIME]
                data.pop("application/vnd.jupyter.widget-view+json", None)
                if data or kind not in ("display_data", "execute_result"):
                    outputs.append(out)
            if not outputs:
                continue
            cell.outputs = outputs
        cells.append(cell)
    nb.cells = cells
    return nb


_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.+?)\s*#*\s*$", re.MULTILINE)


def notebook_title(nb: nbformat.NotebookNode) -> str | None:
    """The text of the first markdown heading of ``nb`` (``None`` if it has none)."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            m = _HEADING.search(cell.source)
            if m:
                return re.sub(r"[*_`]", "", m.group(2)).strip()
    return None


def _data_uri(path: Path) -> str | None:
    if not path.is_file():
        log.warning("report logo %s not found; the header shows no logo", path)
        return None
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def _build_toc(
    html: str, *, label: str = "Contents", levels: tuple[str, ...] = ("h1", "h2", "h3")
) -> str:
    """Give headings unique ids and put a list of links to them in place of the TOC marker."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, features="html.parser")
    main = soup.find("main")
    nav = soup.find("nav", id="journey-toc")
    if main is None or nav is None:
        return html
    seen: set[str] = set()
    items = []
    for i, heading in enumerate(main.find_all(list(levels))):
        anchor = heading.get("id") or f"section-{i + 1}"
        base, n = anchor, 2
        while anchor in seen:
            anchor, n = f"{base}-{n}", n + 1
        seen.add(anchor)
        heading["id"] = anchor
        for link in heading.find_all("a", class_="anchor-link"):
            link["href"] = f"#{anchor}"
        text = " ".join(
            s for s in heading.find_all(string=True) if s.parent.get("class") != ["anchor-link"]
        )
        text = re.sub(r"\s+", " ", text).replace("¶", "").strip()
        if text:
            items.append((heading.name, anchor, text))
    if not items:
        nav.decompose()
        return str(soup)
    nav.clear()
    title = soup.new_tag("h2")
    title.string = label
    nav.append(title)
    ul = soup.new_tag("ul")
    for level, anchor, text in items:
        li = soup.new_tag("li", attrs={"class": f"toc-{level}"})
        a = soup.new_tag("a", href=f"#{anchor}")
        a.string = text
        li.append(a)
        ul.append(li)
    nav.append(ul)
    return str(soup)


def _inline_plotlyjs(html: str) -> str:
    """Put plotly.js in place of the marker if a figure is on the page, else drop the marker."""
    needed = "Plotly.newPlot" in html
    script = f'<script type="text/javascript">{plotly_js()}</script>' if needed else ""
    if PLOTLYJS_MARKER in html:
        return html.replace(PLOTLYJS_MARKER, script, 1)
    if needed:  # pragma: no cover - the marker is in our template
        return html.replace("</head>", f"{script}</head>", 1)
    return html


def external_resources(html: str) -> list[str]:
    """Tags of ``html`` that load something over the network (should be empty)."""
    return [m.group(0) for m in _EXTERNAL.finditer(html)]


def render_html(
    executed_nb_path: str | Path,
    out_html: str | Path,
    *,
    title: str,
    primary_color: str = "#0B6E4F",
    toc: bool = True,
    subtitle: str | None = None,
    language: str = "en",
    logo: str | Path | None = None,
    links: Sequence[tuple[str, str]] = (),
    footer: str | None = None,
) -> Path:
    """Render an executed notebook to one self-contained, code-free HTML page.

    Parameters
    ----------
    executed_nb_path
        The executed ``.ipynb`` (papermill output).
    out_html
        Where to write the page (atomically; parent folders are created).
    title
        Shown in ``<title>`` and in the page header.
    primary_color
        Brand colour (``#RRGGBB``), exposed as the CSS variable ``--journey-primary``.
    toc
        Add a table of contents of the h1–h3 markdown headings.
    subtitle, footer
        Optional header and footer lines (e.g. client, run id, as-of date).
    language
        ISO 639-1 code for ``<html lang>``.
    logo
        Image file embedded as a data URI in the header (relative to the project root).
    links
        ``(label, href)`` pairs shown in the header, e.g. back to the run's index.

    Returns
    -------
    pathlib.Path
        ``out_html``.
    """
    from nbconvert import HTMLExporter

    nb = nbformat.read(str(executed_nb_path), as_version=4)
    page = clean_notebook(nb)
    page.metadata["title"] = title
    page.metadata.pop("widgets", None)
    exporter = HTMLExporter(
        template_name=TEMPLATE_NAME,
        extra_template_basedirs=[str(TEMPLATES_DIR)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
        language_code=language,
        require_js_url="",
        mathjax_url="",
        mermaid_js_url="",
        mermaid_layout_elk_js_url="",
        jquery_url="",
        jupyter_widgets_base_url="",
        widget_renderer_url="",
    )
    resources = {
        "metadata": {"name": title},
        "journey": {
            "title": title,
            "subtitle": subtitle,
            "primary_color": primary_color,
            "toc": toc,
            "logo": _data_uri(resolve_path(logo)) if logo else None,
            "links": list(links),
            "footer": footer,
        },
    }
    html, _ = exporter.from_notebook_node(page, resources=resources)
    if toc:
        html = _build_toc(html, label=labels(language)["contents"])
    html = _inline_plotlyjs(html)
    found = external_resources(html)
    if found:
        log.warning("%s loads %d external resource(s): %s", out_html, len(found), found[:3])
    out = Path(out_html)
    atomic_write_bytes(out, html.encode("utf-8"))
    return out


def render_index(
    out_html: str | Path,
    *,
    title: str,
    client: str,
    run_id: str,
    sections: Sequence[Mapping[str, Any]],
    status: str,
    config_hash: str,
    version: str,
    as_of: str | None = None,
    generated_at: str | None = None,
    primary_color: str = "#0B6E4F",
    language: str = "en",
    logo: str | Path | None = None,
) -> Path:
    """Write a run's contents page linking every section.

    Parameters
    ----------
    sections
        One mapping per notebook: ``name``, ``title``, ``href`` (section page), ``notebook_href``
        (executed notebook), ``status`` and ``seconds``.
    status
        ``"ok"`` or ``"failed"``.

    Returns
    -------
    pathlib.Path
        ``out_html``.
    """
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=True,
        keep_trailing_newline=True,
    )
    generated_at = generated_at or dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    html = env.get_template("run_index.html.j2").render(
        title=title,
        client=client,
        run_id=run_id,
        sections=sections,
        status=status,
        config_hash=config_hash,
        version=version,
        as_of=as_of,
        generated_at=generated_at,
        primary_color=primary_color,
        language=language,
        logo=_data_uri(resolve_path(logo)) if logo else None,
        css=(TEMPLATES_DIR / TEMPLATE_NAME / "journey.css").read_text(encoding="utf-8"),
        labels=labels(language),
        footer=f"journeylib {version} · config {config_hash} · {generated_at}",
    )
    out = Path(out_html)
    atomic_write_bytes(out, html.encode("utf-8"))
    return out


def labels(language: str) -> dict[str, str]:
    """Interface words of report pages in the report language (English fallback)."""
    return _LABELS.get(language, _LABELS["en"])


_LABELS: dict[str, dict[str, str]] = {
    "en": {
        "sections": "Sections",
        "section": "Section",
        "status": "Status",
        "duration": "Run time",
        "notebook": "Executed notebook",
        "about": "About this run",
        "generated": "generated",
        "record": "run record",
        "as_of": "as of",
        "run": "run",
        "contents": "Contents",
        "previous": "Previous",
        "next": "Next",
    },
    "id": {
        "sections": "Bagian",
        "section": "Bagian",
        "status": "Status",
        "duration": "Waktu proses",
        "notebook": "Notebook yang dijalankan",
        "about": "Tentang proses ini",
        "generated": "dibuat",
        "record": "catatan proses",
        "as_of": "per",
        "run": "proses",
        "contents": "Daftar isi",
        "previous": "Sebelumnya",
        "next": "Berikutnya",
    },
}
