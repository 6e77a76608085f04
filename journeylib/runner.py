"""Run the analysis notebooks for one client and publish an immutable report folder.

``run(config_path)`` is what ``journey run`` does:

1. load and validate the config, then :func:`journeylib.io.prepare` the data (a data error stops
   the run before any notebook starts);
2. execute each notebook with papermill into a hidden staging folder next to the run folder;
3. render each executed notebook to a code-free HTML page, write ``index.html`` and ``run.json``;
4. move the staging folder onto ``reports/<client>/<run_id>/`` in one rename and point
   ``reports/<client>/latest`` (symlink) and ``latest.html`` (redirect page) at it.

A failed run publishes nothing: previous runs and ``latest`` stay as they were, no staging folder
is left behind, and the executed notebooks of the failed run are kept for debugging in
``reports/<client>/_failed/<run_id>/`` (the error message says where).

Layout of one run::

    reports/<client>/<run_id>/
        index.html                 # contents page linking every section
        <notebook>.html            # one code-free page per notebook
        notebooks/<notebook>.ipynb # executed notebooks (parameters in their metadata)
        outputs/<notebook>/tables/*.parquet|csv, figures/*.html
        run.json                   # parameters, versions, config hash, data fingerprints, timings
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import platform
import re
import shutil
import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import IO, Any

import nbformat

from journeylib.config import Config, load_config
from journeylib.log import LogProgress, Progress
from journeylib.project import atomic_directory, atomic_write_bytes, project_root, resolve_path

log = logging.getLogger(__name__)

RUN_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
NOTEBOOK_PATTERN = re.compile(r"^[0-9]{2}_[a-z0-9_]+$")
KERNEL_NAME = "python3"
FAILED_DIR = "_failed"
LATEST_LINK = "latest"
LATEST_PAGE = "latest.html"

#: Packages whose versions go into run.json.
RECORDED_PACKAGES = (
    "journeylib",
    "pandas",
    "numpy",
    "duckdb",
    "pyarrow",
    "plotly",
    "scikit-learn",
    "papermill",
    "nbconvert",
    "nbclient",
    "ipykernel",
)


class RunError(ValueError):
    """The run cannot start: bad run id, unknown notebook, unreadable date. Nothing was written."""


class NotebookFailed(RuntimeError):
    """A notebook raised while executing; the run was not published.

    Attributes
    ----------
    notebook
        Notebook name, e.g. ``"10_journey_stages"``.
    cell
        1-based position of the failing cell in the source notebook (as seen in JupyterLab), or
        ``None`` when the failure was not in a cell (kernel died, timeout before a cell).
    exec_count
        The ``In [n]`` execution count of the failing cell.
    ename, evalue
        Exception type and message raised in the notebook.
    source_line
        First non-blank line of the failing cell's source.
    failed_dir
        Where the failed run's executed notebooks were kept for debugging.
    """

    def __init__(
        self,
        notebook: str,
        *,
        cell: int | None,
        exec_count: int | None,
        ename: str,
        evalue: str,
        source_line: str | None,
        failed_dir: Path | None,
    ) -> None:
        self.notebook = notebook
        self.cell = cell
        self.exec_count = exec_count
        self.ename = ename
        self.evalue = evalue
        self.source_line = source_line
        self.failed_dir = failed_dir
        super().__init__(self._message())

    def _message(self) -> str:
        where = f"notebook {self.notebook}"
        if self.cell is not None:
            where += f", cell {self.cell}"
            if self.exec_count is not None:
                where += f" (In [{self.exec_count}])"
        lines = [f"{where} failed: {self.ename}: {self.evalue}".rstrip(": ")]
        if self.source_line:
            lines.append(f"  cell starts with: {self.source_line}")
        if self.failed_dir is not None:
            lines.append(f"  executed notebooks kept in {self.failed_dir}")
            lines.append(f"  open {self.failed_dir / 'notebooks' / (self.notebook + '.ipynb')}")
        lines.append("  no report was published; previous runs and 'latest' are unchanged")
        return "\n".join(lines)


@dataclass
class NotebookRun:
    """The outcome of one notebook in a run (paths are final, inside the published run)."""

    name: str
    title: str
    status: str  # "ok" | "failed" | "skipped"
    seconds: float | None = None
    executed: str | None = None  # relative to the run folder
    html: str | None = None  # relative to the run folder


@dataclass
class RunResult:
    """What :func:`run` produced."""

    run_id: str
    client: str
    status: str
    run_dir: Path
    index_html: Path
    notebooks: list[NotebookRun] = field(default_factory=list)
    config_hash: str = ""
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status == "ok"


# ---- inputs -------------------------------------------------------------------------------------


def default_run_id(now: dt.datetime | None = None) -> str:
    """A UTC timestamp ``YYYYMMDDTHHMMSSZ``: sortable, folder-safe, unique per second."""
    now = now or dt.datetime.now(dt.UTC)
    return now.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def validate_run_id(run_id: str) -> str:
    """Return ``run_id`` if it is a safe folder name, else raise :class:`RunError`."""
    if not RUN_ID_PATTERN.fullmatch(run_id) or run_id in {LATEST_LINK, FAILED_DIR}:
        raise RunError(
            f"run id {run_id!r} is not a safe folder name: use 1-64 letters, digits, '.', '_' "
            "or '-', starting with a letter or digit (and not 'latest')"
        )
    return run_id


def _parse_as_of(as_of: str | dt.date | None) -> dt.date | None:
    if as_of is None or isinstance(as_of, dt.date):
        return as_of
    try:
        return dt.date.fromisoformat(str(as_of))
    except ValueError:
        raise RunError(f"as_of {as_of!r} is not an ISO date (YYYY-MM-DD)") from None


def available_notebooks(notebooks_dir: Path) -> list[str]:
    """Pipeline notebooks in ``notebooks_dir`` (``NN_name.ipynb``), in order."""
    return sorted(
        p.stem for p in notebooks_dir.glob("[0-9][0-9]_*.ipynb") if NOTEBOOK_PATTERN.match(p.stem)
    )


def select_notebooks(
    config: Config, notebooks_dir: Path, only: Sequence[str] | None = None
) -> list[str]:
    """The notebooks a run executes, in order.

    ``config.notebooks`` (or every ``NN_*.ipynb`` when it is ``None``) is the pipeline; ``only``
    narrows it to the named notebooks, keeping pipeline order. A name in ``only`` that is not in
    the config's list but exists on disk is run too (an explicit request).
    """
    on_disk = available_notebooks(notebooks_dir)
    pipeline = list(config.notebooks) if config.notebooks is not None else on_disk
    missing = [n for n in pipeline if n not in on_disk]
    if config.notebooks is not None and missing:
        raise RunError(
            f"config lists notebook(s) {missing} that are not in {notebooks_dir}; "
            f"available: {on_disk}"
        )
    if not only:
        selected = pipeline
    else:
        wanted = [n.strip().removesuffix(".ipynb") for n in only if n.strip()]
        unknown = [n for n in wanted if n not in on_disk]
        if unknown:
            raise RunError(f"unknown notebook(s) {unknown}; available: {on_disk}")
        order = {n: i for i, n in enumerate(pipeline)}
        selected = sorted(dict.fromkeys(wanted), key=lambda n: (order.get(n, len(order)), n))
    if not selected:
        raise RunError(f"no notebooks to run in {notebooks_dir}")
    return selected


# ---- the record ---------------------------------------------------------------------------------


def package_versions() -> dict[str, str | None]:
    """Python and the versions of :data:`RECORDED_PACKAGES` (``None`` when not installed)."""
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for name in RECORDED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def _journeylib_version() -> str:
    from journeylib import __version__

    return __version__


def _json_bytes(obj: Any) -> bytes:
    return (json.dumps(obj, indent=2, sort_keys=False, default=str) + "\n").encode("utf-8")


# ---- failure details ----------------------------------------------------------------------------


def _first_line(source: str | None) -> str | None:
    for line in (source or "").splitlines():
        if line.strip():
            return line.strip()[:160]
    return None


def _source_cell_number(source: Path, cell_index: int) -> int:
    """1-based position in the source notebook of cell ``cell_index`` of the executed one.

    papermill inserts an ``injected-parameters`` cell after the ``parameters`` cell (or at the
    top); the analyst's notebook does not have it, so it is not counted.
    """
    try:
        nb = nbformat.read(str(source), as_version=4)
    except (OSError, ValueError):
        return cell_index + 1
    injected_at = 0
    for i, cell in enumerate(nb.cells):
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            injected_at = i + 1
            break
    return cell_index if cell_index > injected_at else cell_index + 1


def _failure(
    name: str, exc: BaseException, source: Path, failed_dir: Path | None
) -> NotebookFailed:
    from papermill.exceptions import PapermillExecutionError

    if isinstance(exc, PapermillExecutionError):
        return NotebookFailed(
            name,
            cell=_source_cell_number(source, exc.cell_index),
            exec_count=exc.exec_count,
            ename=exc.ename,
            evalue=exc.evalue,
            source_line=_first_line(exc.source),
            failed_dir=failed_dir,
        )
    return NotebookFailed(
        name,
        cell=None,
        exec_count=None,
        ename=type(exc).__name__,
        evalue=str(exc).strip().splitlines()[0] if str(exc).strip() else "",
        source_line=None,
        failed_dir=failed_dir,
    )


def _keep_failed(staging: Path, reports_dir: Path, run_id: str, record: dict) -> Path | None:
    """Copy the failed run's staging folder to ``_failed/<run_id>/`` for debugging."""
    target = reports_dir / FAILED_DIR / run_id
    try:
        if target.exists():
            shutil.rmtree(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(staging, target)
        atomic_write_bytes(target / "run.json", _json_bytes(record))
    except OSError as exc:  # pragma: no cover - disk full, permissions
        log.warning("could not keep the failed run in %s: %s", target, exc)
        return None
    return target


# ---- latest pointer -----------------------------------------------------------------------------


def _point_latest(reports_dir: Path, run_id: str) -> None:
    """Point ``latest`` (symlink, where supported) and ``latest.html`` at ``run_id``, atomically."""
    page = (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
        f'<meta http-equiv="refresh" content="0; url={run_id}/index.html">'
        f"<title>Latest report: {run_id}</title></head>"
        f'<body><a href="{run_id}/index.html">Latest report: {run_id}</a></body></html>\n'
    )
    atomic_write_bytes(reports_dir / LATEST_PAGE, page.encode("utf-8"))
    link = reports_dir / LATEST_LINK
    tmp = reports_dir / f".{LATEST_LINK}.tmp-{uuid.uuid4().hex[:8]}"
    try:
        os.symlink(run_id, tmp, target_is_directory=True)
        os.replace(tmp, link)  # rename(2) over the old link: readers never see it missing
    except OSError as exc:  # pragma: no cover - e.g. Windows without symlink rights
        log.info("no 'latest' symlink (%s); use %s", exc, LATEST_PAGE)
        if tmp.is_symlink():
            tmp.unlink()


def latest_run(reports_dir: Path) -> Path | None:
    """The folder ``reports/<client>/latest`` points at (``None`` if there is none yet)."""
    link = reports_dir / LATEST_LINK
    if link.is_symlink() or link.is_dir():
        target = link.resolve()
        return target if target.is_dir() else None
    return None


# ---- execution ----------------------------------------------------------------------------------


class _PapermillNoise(logging.Filter):
    """Drop papermill's false alarms about our parameters.

    papermill's parameter parser does not understand ``str | None`` annotations, so it reports
    every such parameter as "unknown" although it injects it correctly; the notebook validates
    its parameters itself (:class:`journeylib.workbook.NotebookParams`).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.getMessage()
        return not msg.startswith(("Passed unknown parameter", "Unable to parse line"))


def _kernel_manager_class(log_file: IO[bytes]) -> type:
    """An ``AsyncKernelManager`` whose kernel writes its own stdout/stderr to ``log_file``.

    Without it the kernel process inherits the terminal and interleaves ipykernel's start-up
    and shutdown chatter with the progress display. (Cell output is unaffected: it travels
    over the Jupyter protocol into the notebook.)
    """
    from jupyter_client.manager import AsyncKernelManager

    class KernelWithLog(AsyncKernelManager):
        async def start_kernel(self, **kw: Any) -> None:  # type: ignore[override]
            kw.setdefault("stdout", log_file)
            kw.setdefault("stderr", log_file)
            await super().start_kernel(**kw)

    return KernelWithLog


def _execute(
    source: Path, executed: Path, parameters: dict[str, Any], cwd: Path, kernel_log: Path
) -> None:
    import papermill as pm

    noise = _PapermillNoise()
    loggers = [logging.getLogger("papermill"), logging.getLogger("papermill.translators")]
    for lg in loggers:
        lg.addFilter(noise)
    kernel_log.parent.mkdir(parents=True, exist_ok=True)
    try:
        with kernel_log.open("wb") as log_file:
            pm.execute_notebook(
                str(source),
                str(executed),
                parameters=parameters,
                kernel_name=KERNEL_NAME,
                cwd=str(cwd),
                log_output=False,
                progress_bar=False,
                request_save_on_cell_execute=False,
                kernel_manager_class=_kernel_manager_class(log_file),
            )
    finally:
        for lg in loggers:
            lg.removeFilter(noise)


def run(
    config_path: str | Path,
    *,
    only: Sequence[str] | None = None,
    as_of: str | dt.date | None = None,
    run_id: str | None = None,
    notebooks_dir: str | Path | None = None,
    progress: Progress | None = None,
) -> RunResult:
    """Execute the client's notebooks and publish ``reports/<client>/<run_id>/``.

    Parameters
    ----------
    config_path
        Client YAML (relative to the project root or absolute).
    only
        Notebook names to run (``"10_journey_stages"``; ``.ipynb`` optional), in pipeline order.
    as_of
        Observation cut-off (ISO date) passed to every notebook; default the config's
        ``as_of`` or ``data.window.end``.
    run_id
        Folder name of the run; default the UTC start time ``YYYYMMDDTHHMMSSZ``. An existing
        run is never overwritten.
    notebooks_dir
        Where the notebooks live; default ``<project root>/notebooks``.
    progress
        Receives progress events; default plain log records (:class:`journeylib.log.LogProgress`).

    Returns
    -------
    RunResult
        ``status == "ok"``, with the published run folder and its ``index.html``.

    Raises
    ------
    journeylib.config.ConfigError
        The config is invalid.
    journeylib.validation.DataValidationError
        The raw data failed validation (raised by ``prepare`` before any notebook runs).
    RunError
        Bad run id, as-of date or notebook name.
    NotebookFailed
        A notebook raised; the message names notebook, cell and error, and where the executed
        notebooks were kept. Nothing was published.
    """
    started = time.perf_counter()
    started_at = dt.datetime.now(dt.UTC)
    progress = progress or LogProgress()

    config = load_config(config_path)
    config_file = resolve_path(config_path)
    as_of_date = _parse_as_of(as_of) or config.effective_as_of
    nb_dir = (
        resolve_path(notebooks_dir) if notebooks_dir is not None else project_root() / "notebooks"
    )
    if not nb_dir.is_dir():
        raise RunError(f"notebooks folder {nb_dir} does not exist")
    names = select_notebooks(config, nb_dir, only)

    reports_dir = config.reports_dir
    if run_id is None:
        run_id = default_run_id(started_at)
        n = 2
        while (reports_dir / run_id).exists():  # two runs in one second
            run_id, n = f"{default_run_id(started_at)}-{n}", n + 1
    else:
        validate_run_id(run_id)
        if (reports_dir / run_id).exists():
            raise RunError(
                f"run {reports_dir / run_id} already exists; runs are never overwritten "
                "(choose another --run-id)"
            )
    run_dir = reports_dir / run_id

    progress.step(f"run {run_id} for client {config.client}: {len(names)} notebook(s)")
    progress.step(f"preparing data for {config.client}")
    from journeylib import io as jio

    manifest = jio.prepare(config).manifest

    params_common = {
        "config_path": str(config_file),
        "as_of": as_of_date.isoformat() if as_of_date else None,
        "seed": config.seed,
        "run_id": run_id,
    }
    version = _journeylib_version()
    record: dict[str, Any] = {
        "run_id": run_id,
        "client": config.client,
        "status": "running",
        "started_at": started_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "finished_at": None,
        "seconds": None,
        "config_path": str(config_file),
        "config_hash": config.config_hash(),
        "parameters": {**params_common, "only": list(only) if only else None},
        "notebooks_dir": str(nb_dir),
        "versions": package_versions(),
        "platform": platform.platform(),
        "data": manifest,
        "notebooks": [],
    }
    runs = [NotebookRun(name=n, title=n, status="skipped") for n in names]

    def snapshot() -> dict[str, Any]:
        return {**record, "notebooks": [asdict(r) for r in runs]}

    cwd = project_root()
    total = len(names)
    with atomic_directory(run_dir) as staging:
        (staging / "notebooks").mkdir()
        for i, (name, nb_run) in enumerate(zip(names, runs, strict=True), start=1):
            executed = staging / "notebooks" / f"{name}.ipynb"
            parameters = {**params_common, "output_dir": str(staging / "outputs" / name)}
            progress.start(i, total, name)
            t0 = time.perf_counter()
            try:
                _execute(
                    nb_dir / f"{name}.ipynb",
                    executed,
                    parameters,
                    cwd,
                    staging / "logs" / f"{name}.kernel.log",
                )
            except Exception as exc:
                nb_run.status = "failed"
                nb_run.seconds = round(time.perf_counter() - t0, 2)
                progress.finish(i, total, name, nb_run.seconds, False)
                record.update(
                    status="failed",
                    seconds=round(time.perf_counter() - started, 2),
                    finished_at=dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    failed_notebook=name,
                )
                source = nb_dir / f"{name}.ipynb"
                failure = _failure(name, exc, source, reports_dir / FAILED_DIR / run_id)
                record["error"] = str(failure)
                if _keep_failed(staging, reports_dir, run_id, snapshot()) is None:
                    failure = _failure(name, exc, source, None)
                raise failure from exc
            nb_run.status = "ok"
            nb_run.seconds = round(time.perf_counter() - t0, 2)
            nb_run.executed = f"notebooks/{name}.ipynb"
            progress.finish(i, total, name, nb_run.seconds, True)

        progress.step("rendering HTML")
        _render_pages(config, staging, runs, run_id, as_of_date, version)
        record.update(
            status="ok",
            seconds=round(time.perf_counter() - started, 2),
            finished_at=dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        )
        _render_index(config, staging, runs, run_id, as_of_date, version, "ok")
        atomic_write_bytes(staging / "run.json", _json_bytes(snapshot()))

    _point_latest(reports_dir, run_id)
    seconds = round(time.perf_counter() - started, 2)
    progress.step(f"published {run_dir} in {seconds:.1f} s")
    return RunResult(
        run_id=run_id,
        client=config.client,
        status="ok",
        run_dir=run_dir,
        index_html=run_dir / "index.html",
        notebooks=runs,
        config_hash=config.config_hash(),
        seconds=seconds,
    )


def _subtitle(config: Config, run_id: str, as_of: dt.date | None) -> str:
    parts = [config.client, f"run {run_id}"]
    if as_of:
        parts.append(f"as of {as_of.isoformat()}")
    return " · ".join(parts)


def _render_pages(
    config: Config,
    staging: Path,
    runs: list[NotebookRun],
    run_id: str,
    as_of: dt.date | None,
    version: str,
) -> None:
    from journeylib.report import labels, notebook_title, render_html

    words = labels(config.report.language)
    for i, nb_run in enumerate(runs):
        executed = staging / "notebooks" / f"{nb_run.name}.ipynb"
        nb_run.title = notebook_title(nbformat.read(str(executed), as_version=4)) or nb_run.name
        links = [(words["contents"], "index.html")]
        if i > 0:
            links.insert(0, (f"← {words['previous']}", f"{runs[i - 1].name}.html"))
        if i + 1 < len(runs):
            links.append((f"{words['next']} →", f"{runs[i + 1].name}.html"))
        render_html(
            executed,
            staging / f"{nb_run.name}.html",
            title=f"{config.report.title}: {nb_run.title}",
            primary_color=config.report.primary_color,
            subtitle=_subtitle(config, run_id, as_of),
            language=config.report.language,
            logo=config.report.logo,
            links=links,
            footer=f"journeylib {version} · config {config.config_hash()} · {nb_run.name}",
        )
        nb_run.html = f"{nb_run.name}.html"


def _render_index(
    config: Config,
    staging: Path,
    runs: list[NotebookRun],
    run_id: str,
    as_of: dt.date | None,
    version: str,
    status: str,
) -> None:
    from journeylib.report import render_index

    render_index(
        staging / "index.html",
        title=config.report.title,
        client=config.client,
        run_id=run_id,
        sections=[
            {
                "name": r.name,
                "title": r.title,
                "href": r.html,
                "notebook_href": r.executed,
                "status": r.status,
                "seconds": r.seconds,
            }
            for r in runs
        ],
        status=status,
        config_hash=config.config_hash(),
        version=version,
        as_of=as_of.isoformat() if as_of else None,
        primary_color=config.report.primary_color,
        language=config.report.language,
        logo=config.report.logo,
    )
