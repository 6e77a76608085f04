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

Scheduled runs (``docs/scheduling.md``):

* idempotent per run id: a run id that is already published is not run again (the published run
  is returned); a run id whose earlier attempt failed runs again, and its ``_failed`` folder is
  replaced by the new failure or removed on success;
* every cell has a time limit (``report.cell_timeout_seconds``); a cell running longer fails the
  run like any notebook error;
* ``logs/run.log`` holds the run's timestamped progress lines (kept in ``_failed`` too);
* before publishing, the rendered report is scanned for e-mail addresses, phone numbers and raw
  customer ids (``report.pii_scan``, :mod:`journeylib.piiscan`); a finding fails the run;
* ``latest`` points at the successful run with the latest ``as_of`` (a backfill of an earlier
  date does not move it), and ``history.html`` lists every run (:mod:`journeylib.history`).

Layout of one run::

    reports/<client>/<run_id>/
        index.html                 # contents page linking every section
        <notebook>.html            # one code-free page per notebook
        notebooks/<notebook>.ipynb # executed notebooks (parameters in their metadata)
        outputs/<notebook>/tables/*.parquet|csv, figures/*.html
        logs/run.log               # the run's progress lines; logs/<notebook>.kernel.log
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
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import IO, Any

import nbformat

from journeylib.config import Config, load_config
from journeylib.log import DATE_FORMAT, LOG_FORMAT, LogProgress, Progress, UTCFormatter
from journeylib.piiscan import PiiFound
from journeylib.project import atomic_directory, atomic_write_bytes, project_root, resolve_path

log = logging.getLogger(__name__)

RUN_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
NOTEBOOK_PATTERN = re.compile(r"^[0-9]{2}_[a-z0-9_]+$")
KERNEL_NAME = "python3"
FAILED_DIR = "_failed"
LATEST_LINK = "latest"
LATEST_PAGE = "latest.html"
RUN_LOG = "run.log"

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
    already_published: bool = False  # the run id was published before; nothing was run

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


def _timed_out_cell(executed: Path) -> int | None:
    """Index of the cell that was running when the time limit hit (the last one started)."""
    try:
        nb = nbformat.read(str(executed), as_version=4)
    except (OSError, ValueError):
        return None
    started = [
        i
        for i, cell in enumerate(nb.cells)
        if cell.get("metadata", {}).get("papermill", {}).get("start_time")
    ]
    return started[-1] if started else None


def _failure(
    name: str,
    exc: BaseException,
    source: Path,
    failed_dir: Path | None,
    *,
    executed: Path | None = None,
    timeout: int | None = None,
) -> NotebookFailed:
    from nbclient.exceptions import CellTimeoutError
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
    if isinstance(exc, CellTimeoutError):
        index = _timed_out_cell(executed) if executed is not None else None
        source_line = None
        if index is not None:
            cells = nbformat.read(str(executed), as_version=4).cells
            source_line = _first_line(cells[index].get("source"))
        return NotebookFailed(
            name,
            cell=_source_cell_number(source, index) if index is not None else None,
            exec_count=None,
            ename="CellTimeoutError",
            evalue=f"the cell ran longer than {timeout} s (report.cell_timeout_seconds) and was "
            "stopped",
            source_line=source_line,
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


def _keep_failed(
    staging: Path | None, reports_dir: Path, run_id: str, record: dict, run_log: _RunLog
) -> Path | None:
    """Keep a failed run in ``_failed/<run_id>/`` for debugging, replacing an earlier attempt.

    With a staging folder (a notebook or the PII scan failed) the whole folder is copied;
    without one (the data failed before any notebook) only ``run.json`` and ``logs/run.log``.
    Later lines of the run log go to the kept copy.
    """
    target = reports_dir / FAILED_DIR / run_id
    try:
        if target.exists():
            shutil.rmtree(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        if staging is not None:
            shutil.copytree(staging, target)
        else:
            target.mkdir()
        run_log.move_to(target / "logs" / RUN_LOG)
        atomic_write_bytes(target / "run.json", _json_bytes(record))
    except OSError as exc:  # pragma: no cover - disk full, permissions
        log.warning("could not keep the failed run in %s: %s", target, exc)
        return None
    return target


def _update_history(reports_dir: Path, config: Config) -> None:
    """Rewrite ``history.html``; a problem there is logged, never fails the run."""
    from journeylib.history import write_history_page

    try:
        write_history_page(reports_dir, config)
    except Exception as exc:  # noqa: BLE001 - the history page is a convenience
        log.warning("could not update %s: %s", reports_dir / "history.html", exc)


# ---- run log ------------------------------------------------------------------------------------


class _RunLog(logging.Handler):
    """The run's own log: progress lines and ``journeylib`` log records, timestamped (UTC).

    Lines are kept in memory until :meth:`move_to` names the file (the staging folder does not
    exist while the data is prepared); from then on every line is appended as it happens, so a
    hanging run can be followed with ``tail -f``.
    """

    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self.setFormatter(UTCFormatter(LOG_FORMAT, DATE_FORMAT))
        # LogProgress records are written by _TeeProgress already
        self.addFilter(lambda r: not (r.name == "journeylib.runner" and r.module == "log"))
        self.lines: list[str] = []
        self.path: Path | None = None

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._add(self.format(record))
        except Exception:  # pragma: no cover - logging must not break the run
            self.handleError(record)

    def note(self, level: int, message: str) -> None:
        """Write one line without passing through the loggers (progress, final errors)."""
        record = logging.LogRecord("journeylib.runner", level, __file__, 0, message, None, None)
        self._add(self.format(record))

    def _add(self, line: str) -> None:
        self.lines.append(line)
        if self.path is not None:
            try:
                with self.path.open("a", encoding="utf-8") as fh:
                    fh.write(line + "\n")
            except OSError:  # pragma: no cover - the folder was removed under us
                self.path = None

    def move_to(self, path: Path) -> None:
        """Write everything so far to ``path`` and append there from now on."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(line + "\n" for line in self.lines), encoding="utf-8")
        self.path = path

    def follow(self, path: Path) -> None:
        """Append to ``path`` from now on (it already holds the lines so far)."""
        self.path = path


class _TeeProgress:
    """Forward progress to the caller's display and write it to the run log as well."""

    def __init__(self, inner: Progress, run_log: _RunLog) -> None:
        self.inner = inner
        self.run_log = run_log

    def step(self, message: str) -> None:
        self.inner.step(message)
        self.run_log.note(logging.INFO, message)

    def start(self, index: int, total: int, name: str) -> None:
        self.inner.start(index, total, name)
        self.run_log.note(logging.INFO, f"[{index}/{total}] {name} started")

    def finish(self, index: int, total: int, name: str, seconds: float, ok: bool) -> None:
        self.inner.finish(index, total, name, seconds, ok)
        if ok:
            self.run_log.note(logging.INFO, f"[{index}/{total}] {name} done in {seconds:.1f} s")
        else:
            self.run_log.note(
                logging.ERROR, f"[{index}/{total}] {name} FAILED after {seconds:.1f} s"
            )


# ---- idempotency --------------------------------------------------------------------------------


def _published_run(
    reports_dir: Path, run_id: str, config: Config, as_of: dt.date | None
) -> RunResult | None:
    """The published run ``run_id`` (``None`` if there is none); a folder without a successful
    record is an error (never overwritten, never taken for a published run)."""
    run_dir = reports_dir / run_id
    if not run_dir.exists():
        return None
    try:
        record = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        record = None
    if not isinstance(record, dict) or record.get("status") != "ok":
        raise RunError(
            f"run folder {run_dir} already exists but holds no successful run record "
            "(run.json); runs are never overwritten: move it away or choose another --run-id"
        )
    if record.get("config_hash") != config.config_hash():
        log.warning(
            "run %s was published with config %s; the config is now %s (use a new --run-id to "
            "run with it)",
            run_id,
            record.get("config_hash"),
            config.config_hash(),
        )
    published_as_of = (record.get("parameters") or {}).get("as_of")
    if as_of is not None and published_as_of not in (None, as_of.isoformat()):
        log.warning(
            "run %s was published as of %s, not %s (use a new --run-id for another date)",
            run_id,
            published_as_of,
            as_of.isoformat(),
        )
    fields = set(NotebookRun.__dataclass_fields__)
    notebooks = [
        NotebookRun(**{k: v for k, v in n.items() if k in fields})
        for n in record.get("notebooks") or []
        if isinstance(n, dict) and "name" in n
    ]
    return RunResult(
        run_id=run_id,
        client=config.client,
        status="ok",
        run_dir=run_dir,
        index_html=run_dir / "index.html",
        notebooks=notebooks,
        config_hash=str(record.get("config_hash") or ""),
        seconds=float(record.get("seconds") or 0.0),
        already_published=True,
    )


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


ENGINE_NAME = "journeylib"


@cache
def _register_engine() -> str:
    """Register (once) a papermill engine that keeps the partial notebook of a stopped run.

    papermill writes the executed notebook itself when a cell raises, but not when execution
    stops otherwise (a cell past the time limit, a dead kernel); without saving on every cell
    (slow for notebooks holding figures) the partial notebook would be lost. This engine writes
    it to ``journey_save_to`` in those cases, so ``_failed/<run_id>/`` shows how far it got.
    """
    from papermill.engines import NBClientEngine, papermill_engines
    from papermill.iorw import write_ipynb

    class KeepPartialEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man: Any, kernel_name: str, **kwargs: Any) -> Any:
            save_to = kwargs.pop("journey_save_to", None)
            try:
                return super().execute_managed_notebook(nb_man, kernel_name, **kwargs)
            except Exception:
                if save_to:
                    try:
                        write_ipynb(nb_man.nb, save_to)
                    except Exception as exc:  # noqa: BLE001 - the original error matters more
                        log.warning("could not save the partial notebook %s: %s", save_to, exc)
                raise

    papermill_engines.register(ENGINE_NAME, KeepPartialEngine)
    return ENGINE_NAME


def _execute(
    source: Path,
    executed: Path,
    parameters: dict[str, Any],
    cwd: Path,
    kernel_log: Path,
    timeout: int | None = None,
    language: str = "en",
) -> None:
    import nbformat
    import papermill as pm

    from journeylib.i18n import SOURCE_LANGUAGE, translate_notebook

    notebook: Any = str(source)
    if language != SOURCE_LANGUAGE:  # the Markdown in the report language (journeylib.i18n)
        nb = nbformat.read(str(source), as_version=4)
        notebook = translate_notebook(nb, language, name=source.stem)

    noise = _PapermillNoise()
    loggers = [logging.getLogger("papermill"), logging.getLogger("papermill.translators")]
    for lg in loggers:
        lg.addFilter(noise)
    kernel_log.parent.mkdir(parents=True, exist_ok=True)
    try:
        with kernel_log.open("wb") as log_file:
            pm.execute_notebook(
                notebook,
                str(executed),
                parameters=parameters,
                kernel_name=KERNEL_NAME,
                cwd=str(cwd),
                log_output=False,
                progress_bar=False,
                execution_timeout=timeout,
                engine_name=_register_engine(),
                journey_save_to=str(executed),
                request_save_on_cell_execute=False,
                kernel_manager_class=_kernel_manager_class(log_file),
            )
    finally:
        for lg in loggers:
            lg.removeFilter(noise)


def notebook_needs(nb_dir: Path, names: Sequence[str]) -> dict[str, list[str]]:
    """For each notebook of a run, the notebooks of the run that must finish before it starts.

    A notebook declares what it reads from earlier notebooks in its metadata,
    ``{"journey": {"after": ["30_personas"]}}`` (``[]``: only the processed tables). A notebook
    that declares nothing (a client's own notebook) waits for every notebook before it in the
    pipeline, as in a sequential run. Only earlier notebooks count, so the pipeline order
    stays a valid order; a named notebook that is not in the run is not waited for (its
    outputs of an earlier run are read, as when the run had only this notebook).
    """
    needs: dict[str, list[str]] = {}
    for i, name in enumerate(names):
        meta = nbformat.read(str(nb_dir / f"{name}.ipynb"), as_version=4).metadata
        after = meta.get("journey", {}).get("after")
        before = list(names[:i])
        needs[name] = before if after is None else [n for n in before if n in set(after)]
    return needs


def _execute_all(
    jobs: dict[str, tuple[Any, ...]],
    needs: dict[str, list[str]],
    workers: int,
    runs: list[NotebookRun],
    progress: _TeeProgress,
) -> list[BaseException | None]:
    """Execute the notebooks (``jobs``: name -> :func:`_execute` arguments), at most ``workers``
    at once, each once the notebooks it ``needs`` have succeeded; records status and seconds
    in ``runs``. Returns each notebook's exception (None: succeeded or not run) in run order.
    After a failure no further notebook starts (those running finish); the rest stay skipped.

    One worker runs the notebooks in this process in pipeline order. More run each notebook
    in a worker process (papermill and its kernel client are not thread-safe), the ready
    notebook first in pipeline order: a notebook that reads only the processed tables
    (attribution) runs beside a long one (stages, churn) and uses the second core through
    their single-threaded steps.
    """
    names = list(jobs)
    total = len(names)
    index = {name: i for i, name in enumerate(names, start=1)}
    by_name = {r.name: r for r in runs}
    outcomes: dict[str, BaseException | None] = {}

    def record(name: str, exc: BaseException | None, seconds: float) -> None:
        nb_run = by_name[name]
        nb_run.status = "ok" if exc is None else "failed"
        nb_run.seconds = round(seconds, 2)
        executed = jobs[name][1]
        nb_run.executed = f"notebooks/{name}.ipynb" if exc is None or executed.exists() else None
        progress.finish(index[name], total, name, nb_run.seconds, exc is None)
        outcomes[name] = exc

    if workers <= 1 or total <= 1:
        for name in names:
            progress.start(index[name], total, name)
            t0 = time.perf_counter()
            try:
                _execute(*jobs[name])
            except Exception as exc:  # noqa: BLE001 - reported by the caller
                record(name, exc, time.perf_counter() - t0)
                break
            record(name, None, time.perf_counter() - t0)
        return [outcomes.get(n) for n in names]

    import concurrent.futures as cf
    import multiprocessing

    waiting = list(names)
    running: dict[cf.Future[None], tuple[str, float]] = {}
    stop = False
    # spawn, not fork: the runner holds threads (DuckDB) that a fork would copy mid-state
    context = multiprocessing.get_context("spawn")
    with cf.ProcessPoolExecutor(max_workers=min(workers, total), mp_context=context) as pool:
        while waiting or running:
            done_ok = {n for n, exc in outcomes.items() if exc is None}
            ready = [] if stop else [n for n in waiting if set(needs[n]) <= done_ok]
            for name in ready[: max(0, workers - len(running))]:
                waiting.remove(name)
                progress.start(index[name], total, name)
                running[pool.submit(_execute, *jobs[name])] = (name, time.perf_counter())
            if not running:
                break
            finished, _ = cf.wait(running, return_when=cf.FIRST_COMPLETED)
            for future in finished:
                name, t0 = running.pop(future)
                exc = future.exception()
                record(name, exc, time.perf_counter() - t0)
                stop = stop or exc is not None
    return [outcomes.get(n) for n in names]


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
        Folder name of the run; default the UTC start time ``YYYYMMDDTHHMMSSZ``. A run id that
        is already published is not run again: the published run is returned
        (``already_published=True``). A run id whose earlier attempt failed runs again.
    notebooks_dir
        Where the notebooks live; default ``<project root>/notebooks``.
    progress
        Receives progress events; default plain log records (:class:`journeylib.log.LogProgress`).
        The same lines are written to the run's ``logs/run.log``.

    Returns
    -------
    RunResult
        ``status == "ok"``, with the published run folder and its ``index.html``.

    Raises
    ------
    journeylib.config.ConfigError
        The config is invalid.
    journeylib.validation.DataValidationError
        The raw data failed validation (raised by ``prepare`` before any notebook runs); the
        record and log are kept in ``_failed/<run_id>/``.
    RunError
        Bad run id, as-of date or notebook name, or a run folder that exists without a
        successful record. Nothing was written.
    NotebookFailed
        A notebook raised or a cell ran past ``report.cell_timeout_seconds``; the message names
        notebook, cell and error, and where the executed notebooks were kept. Nothing was
        published.
    journeylib.piiscan.PiiFound
        The rendered report holds e-mail addresses, phone numbers or raw customer ids (only
        when ``report.pii_scan``); the message lists files, kinds and counts (values masked).
        Nothing was published; the report is kept in ``_failed/<run_id>/``.
    """
    started = time.perf_counter()
    started_at = dt.datetime.now(dt.UTC)

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
        done = _published_run(reports_dir, run_id, config, as_of_date)
        if done is not None:
            (progress or LogProgress()).step(
                f"run {run_id} for client {config.client} is already published in "
                f"{done.run_dir}; nothing to do"
            )
            return done

    run_log = _RunLog()
    package_logger = logging.getLogger("journeylib")
    package_logger.addHandler(run_log)
    try:
        return _run(
            config,
            config_file,
            names=names,
            only=only,
            as_of_date=as_of_date,
            run_id=run_id,
            nb_dir=nb_dir,
            progress=_TeeProgress(progress or LogProgress(), run_log),
            run_log=run_log,
            started=started,
            started_at=started_at,
        )
    finally:
        package_logger.removeHandler(run_log)


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _run(
    config: Config,
    config_file: Path,
    *,
    names: list[str],
    only: Sequence[str] | None,
    as_of_date: dt.date | None,
    run_id: str,
    nb_dir: Path,
    progress: _TeeProgress,
    run_log: _RunLog,
    started: float,
    started_at: dt.datetime,
) -> RunResult:
    """The body of :func:`run` once inputs are checked and the run log is attached."""
    reports_dir = config.reports_dir
    run_dir = reports_dir / run_id
    failed_dir = reports_dir / FAILED_DIR / run_id
    timeout = config.report.cell_timeout_seconds
    version = _journeylib_version()
    params_common = {
        "config_path": str(config_file),
        "as_of": as_of_date.isoformat() if as_of_date else None,
        "seed": config.seed,
        "run_id": run_id,
    }
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
        "cell_timeout_seconds": timeout,
        "pii_scan": config.report.pii_scan,
        "versions": package_versions(),
        "platform": platform.platform(),
        "data": None,
        "notebooks": [],
    }
    runs = [NotebookRun(name=n, title=n, status="skipped") for n in names]

    def snapshot() -> dict[str, Any]:
        return {**record, "notebooks": [asdict(r) for r in runs]}

    def failed(stage: str, message: str, **extra: Any) -> None:
        record.update(
            status="failed",
            failed_stage=stage,
            seconds=round(time.perf_counter() - started, 2),
            finished_at=_now(),
            error=message,
            **extra,
        )
        run_log.note(logging.ERROR, message)

    progress.step(f"run {run_id} for client {config.client}: {len(names)} notebook(s)")
    progress.step(f"preparing data for {config.client}")
    from journeylib import io as jio

    try:
        record["data"] = jio.prepare(config).manifest
    except Exception as exc:
        failed("prepare", f"{type(exc).__name__}: {exc}")
        _keep_failed(None, reports_dir, run_id, snapshot(), run_log)
        _update_history(reports_dir, config)
        raise

    cwd = project_root()
    with atomic_directory(run_dir) as staging:
        (staging / "notebooks").mkdir()
        run_log.move_to(staging / "logs" / RUN_LOG)
        jobs = {
            name: (
                nb_dir / f"{name}.ipynb",
                staging / "notebooks" / f"{name}.ipynb",
                {**params_common, "output_dir": str(staging / "outputs" / name)},
                cwd,
                staging / "logs" / f"{name}.kernel.log",
                timeout,
                config.report.language,
            )
            for name in names
        }
        outcomes = _execute_all(
            jobs, notebook_needs(nb_dir, names), config.report.workers, runs, progress
        )
        for nb_run, exc in zip(runs, outcomes, strict=True):
            if exc is None:
                continue
            name = nb_run.name
            source, executed = jobs[name][0], jobs[name][1]
            details = {"executed": executed, "timeout": timeout}
            failure = _failure(name, exc, source, failed_dir, **details)
            failed("notebook", str(failure), failed_notebook=name)
            if _keep_failed(staging, reports_dir, run_id, snapshot(), run_log) is None:
                failure = _failure(name, exc, source, None, **details)
            _update_history(reports_dir, config)
            raise failure from exc

        progress.step("rendering HTML")
        _render_pages(config, staging, runs, run_id, as_of_date, version)
        record.update(
            status="ok",
            seconds=round(time.perf_counter() - started, 2),
            finished_at=_now(),
        )
        _render_index(config, staging, runs, run_id, as_of_date, version, "ok")
        atomic_write_bytes(staging / "run.json", _json_bytes(snapshot()))

        if config.report.pii_scan:
            _pii_gate(
                config,
                staging,
                runs,
                run_id,
                as_of_date,
                version,
                record,
                snapshot,
                failed,
                run_log,
                progress,
            )
        if run_dir.exists():  # another process published this run id meanwhile
            raise RunError(
                f"run {run_dir} was published by another process while this one ran; "
                "it was left as it is (serialise runs of one client, e.g. with flock)"
            )

    run_log.follow(run_dir / "logs" / RUN_LOG)
    if failed_dir.exists():
        shutil.rmtree(failed_dir, ignore_errors=True)
        log.info("removed %s, the earlier failed attempt of run %s", failed_dir, run_id)
    _publish_latest(reports_dir, run_dir)
    _update_history(reports_dir, config)
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


def _pii_gate(
    config: Config,
    staging: Path,
    runs: list[NotebookRun],
    run_id: str,
    as_of: dt.date | None,
    version: str,
    record: dict[str, Any],
    snapshot: Any,
    failed: Any,
    run_log: _RunLog,
    progress: _TeeProgress,
) -> None:
    """Scan the staged report; on a finding keep it in ``_failed`` and raise :class:`PiiFound`."""
    from collections import Counter

    from journeylib.piiscan import raw_customer_ids, scan_report

    progress.step("scanning the report for e-mail addresses, phone numbers and raw ids")
    findings = scan_report(staging, raw_ids=raw_customer_ids(config))
    if not findings:
        progress.step("PII scan passed: no e-mail address, phone number or raw customer id")
        return
    reports_dir = config.reports_dir
    failure = PiiFound(findings, run_id=run_id, failed_dir=reports_dir / FAILED_DIR / run_id)
    counts = Counter((f.file, f.kind) for f in findings)
    failed(
        "pii_scan",
        str(failure),
        pii_findings=[{"file": f, "kind": k, "count": n} for (f, k), n in counts.items()],
    )
    _render_index(config, staging, runs, run_id, as_of, version, "failed")
    if _keep_failed(staging, reports_dir, run_id, snapshot(), run_log) is None:
        failure = PiiFound(findings, run_id=run_id, failed_dir=None)
    _update_history(reports_dir, config)
    raise failure


def _publish_latest(reports_dir: Path, run_dir: Path) -> None:
    """Point ``latest`` at the newest successful run by ``as_of`` (a backfill does not move it)."""
    from journeylib.history import newest_run

    newest = newest_run(reports_dir) or run_dir
    _point_latest(reports_dir, newest.name)
    if newest != run_dir:
        log.info("'latest' stays at %s, which is observed later than %s", newest.name, run_dir.name)


def _subtitle(config: Config, run_id: str, as_of: dt.date | None) -> str:
    from journeylib.report import labels

    words = labels(config.report.language)
    parts = [config.client, f"{words['run']} {run_id}"]
    if as_of:
        parts.append(f"{words['as_of']} {as_of.isoformat()}")
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
    _link_history(staging / "index.html", config.report.language)


def _link_history(index: Path, language: str) -> None:
    """Add a link to the client's ``history.html`` (one folder up) to a run's index header."""
    from journeylib.history import HISTORY_PAGE, WORDS

    label = WORDS.get(language, WORDS["en"])["history"]
    page = index.read_text(encoding="utf-8")
    nav = f'<nav class="journey-links"><a href="../{HISTORY_PAGE}">{label}</a></nav>'
    if "</header>" in page and HISTORY_PAGE not in page:
        page = page.replace("</header>", nav + "</header>", 1)
        atomic_write_bytes(index, page.encode("utf-8"))
