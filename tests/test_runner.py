"""journeylib.runner: papermill runs into immutable, atomically published report folders.

The slow tests execute the fixture notebooks in tests/fixtures/notebooks against a three-customer
client written into a temporary folder (one successful run shared by the module, then one failing
run in the same reports folder).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from tiny_client import write_tiny_client

from journeylib.config import load_config
from journeylib.report import external_resources, plotly_js
from journeylib.runner import (
    NotebookFailed,
    RunError,
    _source_cell_number,
    default_run_id,
    latest_run,
    run,
    select_notebooks,
    validate_run_id,
)

FIXTURES = Path(__file__).parent / "fixtures" / "notebooks"


def write_project(
    root: Path, *, notebooks: list[str] | None = None, bad_orders: bool = False
) -> Path:
    """A tiny client: raw CSVs and a config whose outputs stay under ``root``."""
    revenue = "not-a-number" if bad_orders else "100000"
    files = {
        "customers.csv": "id,region\nc1,Jakarta\nc2,Bandung\nc3,Surabaya\n",
        "events.csv": (
            "cid,ts,event\n"
            "c1,2025-01-02 10:00:00,page_view\n"
            "c1,2025-01-02 10:05:00,add_to_cart\n"
            "c2,2025-01-03 09:00:00,page_view\n"
            "c3,2025-01-04 12:00:00,page_view\n"
        ),
        "orders.csv": f"order_id,cid,ts,sku,qty,revenue\no1,c1,2025-01-02 10:10:00,p1,1,{revenue}\n",
        "feedback.csv": "cid,ts,kind,score\nc1,2025-01-05 08:00:00,nps,9\n",
    }
    listed = f"notebooks: {json.dumps(notebooks)}\n" if notebooks is not None else ""
    return write_tiny_client(
        root,
        files,
        client="tiny",
        customer_columns="customer_id: id, region: region",
        head='report: {title: "Tiny test report", primary_color: "#AA3366"}\n',
        window="{start: 2025-01-01, end: 2025-01-31}",
        tail=listed,
    )


def staging_leftovers(reports: Path) -> list[str]:
    return [p.name for p in reports.iterdir() if re.match(r"^\..*\.(tmp|old)-", p.name)]


# ---- fast: inputs ---------------------------------------------------------------------------------


def test_default_run_id_is_utc_timestamp() -> None:
    import datetime as dt

    when = dt.datetime(2026, 1, 1, 17, 0, 5, tzinfo=dt.timezone(dt.timedelta(hours=7)))
    assert default_run_id(when) == "20260101T100005Z"
    assert validate_run_id("20260101T100005Z") == "20260101T100005Z"


@pytest.mark.parametrize(
    "bad", ["../x", "a/b", "", ".hidden", "_failed", "latest", "a" * 65, "a b"]
)
def test_unsafe_run_ids_are_rejected(bad: str) -> None:
    with pytest.raises(RunError, match="safe folder name"):
        validate_run_id(bad)


def test_select_notebooks_keeps_pipeline_order(tmp_path: Path) -> None:
    config = load_config(write_project(tmp_path, notebooks=["01_beta", "00_alpha"]))
    assert select_notebooks(config, FIXTURES) == ["01_beta", "00_alpha"]
    assert select_notebooks(config, FIXTURES, ["00_alpha.ipynb", "01_beta"]) == [
        "01_beta",
        "00_alpha",
    ]
    # explicitly requested, though not in the config's list
    assert select_notebooks(config, FIXTURES, ["02_fail"]) == ["02_fail"]
    with pytest.raises(RunError, match="unknown notebook"):
        select_notebooks(config, FIXTURES, ["99_nope"])


def test_select_notebooks_defaults_to_all_on_disk(tmp_path: Path) -> None:
    config = load_config(write_project(tmp_path))
    assert select_notebooks(config, FIXTURES) == ["00_alpha", "01_beta", "02_fail"]


def test_config_listing_a_missing_notebook_is_an_error(tmp_path: Path) -> None:
    config = load_config(write_project(tmp_path, notebooks=["00_alpha", "50_missing"]))
    with pytest.raises(RunError, match="50_missing"):
        select_notebooks(config, FIXTURES)


def test_failing_cell_number_ignores_injected_cell() -> None:
    # 02_fail: markdown, parameters, workbook, raise -> executed index 4 (after injection) is
    # the 4th cell the analyst sees; cells before the parameters cell are not shifted.
    source = FIXTURES / "02_fail.ipynb"
    assert _source_cell_number(source, 4) == 4
    assert _source_cell_number(source, 0) == 1


def test_data_error_fails_before_any_notebook(tmp_path: Path) -> None:
    from journeylib.validation import DataValidationError

    config = write_project(tmp_path, bad_orders=True)
    with pytest.raises(DataValidationError) as err:
        run(config, notebooks_dir=FIXTURES, run_id="r-bad-data")
    assert "orders" in str(err.value)
    reports = tmp_path / "reports" / "tiny"
    assert not (reports / "r-bad-data").exists()
    assert not reports.exists() or staging_leftovers(reports) == []


def test_existing_run_is_never_overwritten(tmp_path: Path) -> None:
    config = write_project(tmp_path)
    (tmp_path / "reports" / "tiny" / "r1").mkdir(parents=True)
    with pytest.raises(RunError, match="already exists"):
        run(config, notebooks_dir=FIXTURES, run_id="r1")


def test_bad_as_of_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(RunError, match="ISO date"):
        run(write_project(tmp_path), notebooks_dir=FIXTURES, as_of="last week")


# ---- slow: a real run -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_project(tmp_path_factory.mktemp("proj"), notebooks=["00_alpha", "01_beta"])


@pytest.fixture(scope="module")
def good_run(project: Path):  # noqa: ANN201 - RunResult
    return run(project, notebooks_dir=FIXTURES, run_id="good-run")


@pytest.mark.slow
def test_run_publishes_pages_index_and_notebooks(good_run) -> None:  # noqa: ANN001
    d = good_run.run_dir
    assert good_run.ok and d.name == "good-run"
    for name in ("index.html", "00_alpha.html", "01_beta.html", "run.json"):
        assert (d / name).is_file(), name
    for name in ("00_alpha", "01_beta"):
        assert (d / "notebooks" / f"{name}.ipynb").is_file()
    assert good_run.index_html == d / "index.html"
    assert [n.name for n in good_run.notebooks] == ["00_alpha", "01_beta"]
    assert [n.title for n in good_run.notebooks] == ["Alpha overview", "Beta details"]


@pytest.mark.slow
def test_outputs_written_under_the_run(good_run) -> None:  # noqa: ANN001
    out = good_run.run_dir / "outputs"
    assert (out / "00_alpha" / "tables" / "customers_seen.parquet").is_file()
    assert (out / "00_alpha" / "tables" / "customers_seen.csv").is_file()
    assert (out / "00_alpha" / "figures" / "customers_by_region.html").is_file()
    assert (out / "01_beta" / "tables" / "orders.parquet").is_file()


@pytest.mark.slow
def test_run_json_records_parameters_versions_and_data(good_run, project: Path) -> None:  # noqa: ANN001
    record = json.loads((good_run.run_dir / "run.json").read_text(encoding="utf-8"))
    assert record["run_id"] == "good-run"
    assert record["status"] == "ok"
    assert record["config_hash"] == load_config(project).config_hash() == good_run.config_hash
    assert record["parameters"]["as_of"] == "2025-01-31"  # data.window.end
    assert record["parameters"]["seed"] == 42
    assert record["parameters"]["config_path"] == str(project)
    for pkg in ("python", "pandas", "duckdb", "papermill", "nbconvert", "journeylib"):
        assert record["versions"][pkg], pkg
    assert record["data"]["fingerprint"]["raw_sha256"]["orders"]
    assert [n["name"] for n in record["notebooks"]] == ["00_alpha", "01_beta"]
    assert all(n["status"] == "ok" and n["seconds"] > 0 for n in record["notebooks"])


@pytest.mark.slow
def test_parameters_reach_the_notebook(good_run) -> None:  # noqa: ANN001
    import nbformat

    nb = nbformat.read(good_run.run_dir / "notebooks" / "01_beta.ipynb", as_version=4)
    text = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
    assert "FIXTURE-PARAMS seed=42 as_of=2025-01-31" in text
    assert nb.metadata["papermill"]["parameters"]["run_id"] == "good-run"


@pytest.mark.slow
def test_latest_points_to_the_run(good_run) -> None:  # noqa: ANN001
    reports = good_run.run_dir.parent
    assert latest_run(reports) == good_run.run_dir.resolve()
    assert "good-run/index.html" in (reports / "latest.html").read_text(encoding="utf-8")
    assert staging_leftovers(reports) == []


@pytest.mark.slow
def test_pages_are_code_free_offline_and_navigable(good_run) -> None:  # noqa: ANN001
    alpha = (good_run.run_dir / "00_alpha.html").read_text(encoding="utf-8")
    beta = (good_run.run_dir / "01_beta.html").read_text(encoding="utf-8")
    for page in (alpha, beta):
        assert 'config_path: str = "configs/demo.yaml"' not in page  # the parameters cell
        assert "open_workbook" not in page
        assert external_resources(page) == []
        rest = page.replace(plotly_js(), "")
        assert not re.search(r"<script[^>]+src\s*=", rest, re.IGNORECASE)
        assert "cdn" not in rest.lower()
    assert "FIXTURE-STDERR-TEXT" not in alpha
    assert "FIXTURE-WARNING-TEXT" not in alpha
    assert "FIXTURE-STDOUT: 3 customers" in alpha
    assert alpha.count(plotly_js()) == 1 and alpha.count("Plotly.newPlot(") == 2
    assert "Plotly" not in beta
    soup = BeautifulSoup(alpha.replace(plotly_js(), ""), "html.parser")
    ids = {t["id"] for t in soup.find_all(id=True)}
    toc = [a["href"] for a in soup.find("nav", id="journey-toc").find_all("a")]
    assert toc and all(h[1:] in ids for h in toc)
    index = BeautifulSoup((good_run.run_dir / "index.html").read_text("utf-8"), "html.parser")
    hrefs = {a["href"] for a in index.find_all("a")}
    assert {"00_alpha.html", "01_beta.html"} <= hrefs


@pytest.mark.slow
def test_failing_notebook_names_cell_and_publishes_nothing(good_run, project: Path) -> None:  # noqa: ANN001
    reports = good_run.run_dir.parent
    before = sorted(p.relative_to(reports) for p in good_run.run_dir.rglob("*"))
    latest_before = (reports / "latest.html").read_text(encoding="utf-8")

    with pytest.raises(NotebookFailed) as err:
        run(project, notebooks_dir=FIXTURES, only=["02_fail"], run_id="bad-run")

    exc = err.value
    assert exc.notebook == "02_fail"
    assert exc.cell == 4 and exc.ename == "RuntimeError"
    message = str(exc)
    assert "02_fail" in message and "cell 4" in message
    assert "deliberate fixture failure" in message
    assert 'raise RuntimeError("deliberate fixture failure")' in message
    # nothing published, previous run and latest untouched, no staging folder left
    assert not (reports / "bad-run").exists()
    assert sorted(p.relative_to(reports) for p in good_run.run_dir.rglob("*")) == before
    assert latest_run(reports) == good_run.run_dir.resolve()
    assert (reports / "latest.html").read_text(encoding="utf-8") == latest_before
    assert staging_leftovers(reports) == []
    # the failed notebook is kept for debugging where the message says
    kept = reports / "_failed" / "bad-run"
    assert str(kept) in message
    assert (kept / "notebooks" / "02_fail.ipynb").is_file()
    assert json.loads((kept / "run.json").read_text(encoding="utf-8"))["status"] == "failed"


# ---- scheduled runs: idempotency, time limit, run log, PII gate, history --------------------------

PARAMETERS_CELL = """config_path: str = "configs/demo.yaml"  # client config
as_of: str | None = None  # observation cut-off
seed: int | None = None  # random seed
output_dir: str | None = None  # set by `journey run`
run_id: str | None = None  # set by `journey run`"""

WORKBOOK_CELL = """from journeylib.workbook import open_workbook

wb = open_workbook("{name}", config_path=config_path, as_of=as_of, seed=seed,
                   output_dir=output_dir, run_id=run_id)"""


def write_notebook(folder: Path, name: str, *code: str) -> None:
    """A pipeline notebook: a title, the standard parameters cell, a workbook, then ``code``."""
    import nbformat

    folder.mkdir(parents=True, exist_ok=True)
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [
        nbformat.v4.new_markdown_cell(f"# {name}"),
        nbformat.v4.new_code_cell(PARAMETERS_CELL, metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(WORKBOOK_CELL.format(name=name)),
        *[nbformat.v4.new_code_cell(c) for c in code],
    ]
    nbformat.write(nb, folder / f"{name}.ipynb")


def pii_project(root: Path, *, report: str = "") -> tuple[Path, Path]:
    """A client whose raw ids are long enough to be looked for, plus its notebooks folder."""
    files = {
        "customers.csv": "id,region\nCUST-0001,Jakarta\nCUST-0002,Bandung\n",
        "events.csv": "cid,ts,event\nCUST-0001,2025-01-02 10:00:00,page_view\n",
        "orders.csv": "order_id,cid,ts,sku,qty,revenue\no1,CUST-0001,2025-01-02 10:10:00,p1,1,100\n",
        "feedback.csv": "cid,ts,kind,score\nCUST-0002,2025-01-05 08:00:00,nps,9\n",
    }
    config = write_tiny_client(
        root,
        files,
        client="pii",
        customer_columns="customer_id: id, region: region",
        head=f"report: {{title: PII test{report}}}\n",
        window="{start: 2025-01-01, end: 2025-01-31}",
    )
    nbs = root / "notebooks"
    write_notebook(nbs, "00_clean", 'print("3 customers, Rp 12.345.678, 2025-01-31")')
    write_notebook(nbs, "01_email", 'print("contact: budi.santoso@example.co.id")')
    write_notebook(
        nbs,
        "02_table",
        "import pandas as pd\n"
        "phone = '+62 822-' + '6147-4435'  # not written out: only the table holds it\n"
        'wb.save_table(pd.DataFrame({"segment": ["A", "B"], "contact": ["none", phone]}), '
        '"contacts")',
    )
    write_notebook(
        nbs,
        "03_raw_id",
        f'import pandas as pd\nprint(pd.read_csv("{root}/raw/customers.csv").id[0])',
    )
    write_notebook(nbs, "04_sleep", "import time\ntime.sleep(120)")
    return config, nbs


def test_published_run_id_is_returned_without_running(tmp_path: Path) -> None:
    config = write_project(tmp_path)
    run_dir = tmp_path / "reports" / "tiny" / "2025-01-31"
    run_dir.mkdir(parents=True)
    record = {
        "run_id": "2025-01-31",
        "status": "ok",
        "seconds": 12.5,
        "config_hash": load_config(config).config_hash(),
        "parameters": {"as_of": "2025-01-31"},
        "notebooks": [{"name": "00_alpha", "title": "Alpha", "status": "ok", "seconds": 3.0}],
    }
    (run_dir / "run.json").write_text(json.dumps(record), encoding="utf-8")
    before = sorted(p.name for p in run_dir.parent.iterdir())
    # no notebook would even exist in this folder: nothing is executed
    result = run(config, notebooks_dir=FIXTURES, run_id="2025-01-31")
    assert result.already_published and result.ok
    assert result.run_dir == run_dir and result.seconds == 12.5
    assert [n.name for n in result.notebooks] == ["00_alpha"]
    assert sorted(p.name for p in run_dir.parent.iterdir()) == before  # nothing written
    # the CLI exits 0 and prints the published index
    from journeylib.cli import main

    assert main(["--log-lines", "run", str(config), "--run-id", "2025-01-31"]) == 0


@pytest.mark.slow
def test_cell_timeout_fails_the_run(tmp_path: Path) -> None:
    # the smallest allowed limit (10 s) against a cell sleeping 120 s
    config, nbs = pii_project(tmp_path, report=", cell_timeout_seconds: 10")
    import time

    t0 = time.perf_counter()
    import nbformat

    with pytest.raises(NotebookFailed) as err:
        run(config, notebooks_dir=nbs, only=["04_sleep"], run_id="slow")
    assert time.perf_counter() - t0 < 60  # stopped, not waited for
    exc = err.value
    # markdown, parameters, workbook, sleep: the 4th cell as the analyst sees it
    assert exc.notebook == "04_sleep" and exc.cell == 4
    assert exc.ename == "CellTimeoutError" and "10 s" in exc.evalue
    assert "cell starts with: import time" in str(exc)
    # the partial notebook is kept: the stopped cell is the last one started
    partial = nbformat.read(
        kept_nb := tmp_path / "reports/pii/_failed/slow/notebooks/04_sleep.ipynb", 4
    )
    assert kept_nb.is_file() and partial.cells[4].metadata.papermill.start_time
    reports = tmp_path / "reports" / "pii"
    assert not (reports / "slow").exists() and staging_leftovers(reports) == []
    kept = reports / "_failed" / "slow"
    assert json.loads((kept / "run.json").read_text("utf-8"))["cell_timeout_seconds"] == 10
    log_text = (kept / "logs" / "run.log").read_text("utf-8")
    assert "[1/1] 04_sleep FAILED" in log_text and "CellTimeoutError" in log_text


@pytest.fixture(scope="module")
def pii_runs(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One clean published run, then attempts that plant personal data (same reports folder)."""
    from journeylib.piiscan import PiiFound

    root = tmp_path_factory.mktemp("pii")
    config, nbs = pii_project(root)
    good = run(config, notebooks_dir=nbs, only=["00_clean"], run_id="good")
    reports = good.run_dir.parent
    latest_page = (reports / "latest.html").read_text("utf-8")
    errors = {}
    for name in ("01_email", "02_table", "03_raw_id"):
        with pytest.raises(PiiFound) as err:
            run(config, notebooks_dir=nbs, only=[name], run_id=f"leak-{name[:2]}")
        errors[name] = err.value
    return {
        "config": config,
        "nbs": nbs,
        "good": good,
        "reports": reports,
        "latest_page": latest_page,
        "errors": errors,
    }


@pytest.mark.slow
def test_planted_email_fails_the_run_and_publishes_nothing(pii_runs: dict) -> None:
    reports, good = pii_runs["reports"], pii_runs["good"]
    exc = pii_runs["errors"]["01_email"]
    files = {(f.file, f.kind) for f in exc.findings}
    # the printed address is in the page and in the executed notebook
    assert ("01_email.html", "email") in files
    assert ("notebooks/01_email.ipynb", "email") in files
    message = str(exc)
    assert "budi.santoso" not in message and "example.co.id" not in message
    assert "b***@e***.id" in message and "01_email.html: email 1" in message
    # nothing published, latest unchanged, no staging folder left
    assert not (reports / "leak-01").exists()
    assert latest_run(reports) == good.run_dir.resolve()
    assert (reports / "latest.html").read_text("utf-8") == pii_runs["latest_page"]
    assert staging_leftovers(reports) == []
    # kept for inspection, with its record and log
    kept = reports / "_failed" / "leak-01"
    assert str(kept) in message
    assert (kept / "01_email.html").is_file()
    record = json.loads((kept / "run.json").read_text("utf-8"))
    assert record["status"] == "failed" and record["failed_stage"] == "pii_scan"
    assert {"file": "01_email.html", "kind": "email", "count": 1} in record["pii_findings"]
    assert "budi.santoso" not in json.dumps(record)
    assert "personal data found" in (kept / "logs" / "run.log").read_text("utf-8")


@pytest.mark.slow
def test_planted_table_row_and_raw_id_are_caught(pii_runs: dict) -> None:
    table = pii_runs["errors"]["02_table"]
    # the contacts table: header on line 1, the phone on line 3 (the CSV is scanned, the
    # Parquet twin is not)
    assert [(f.file, f.line, f.kind) for f in table.findings] == [
        ("outputs/02_table/tables/contacts.csv", 3, "phone")
    ]
    raw = pii_runs["errors"]["03_raw_id"]
    assert ("03_raw_id.html", "customer_id") in {(f.file, f.kind) for f in raw.findings}
    assert "CUST-0001" not in str(raw)


@pytest.mark.slow
def test_cli_exit_code_3_for_personal_data(pii_runs: dict, capsys: pytest.CaptureFixture) -> None:
    from journeylib.cli import main

    code = main(
        [
            "--log-lines",
            "run",
            str(pii_runs["config"]),
            "--notebooks-dir",
            str(pii_runs["nbs"]),
            "--only",
            "01_email",
            "--run-id",
            "cli-leak",
        ]  # fmt: skip
    )
    assert code == 3
    captured = capsys.readouterr()
    assert "personal data found" in captured.err and "budi.santoso" not in captured.err
    assert captured.out == ""


@pytest.mark.slow
def test_failed_run_id_runs_again(pii_runs: dict) -> None:
    from journeylib.piiscan import PiiFound

    reports, config, nbs = pii_runs["reports"], pii_runs["config"], pii_runs["nbs"]
    failed = reports / "_failed" / "retry"
    # first attempt fails in 01_email; the second attempt fails too (02_table) and replaces it
    for name in ("01_email", "02_table"):
        with pytest.raises(PiiFound):
            run(config, notebooks_dir=nbs, only=[name], run_id="retry")
    assert sorted(p.name for p in (failed / "notebooks").iterdir()) == ["02_table.ipynb"]
    # the third attempt succeeds: published, the failed attempt removed
    result = run(config, notebooks_dir=nbs, only=["00_clean"], run_id="retry")
    assert result.ok and not result.already_published
    assert (reports / "retry" / "index.html").is_file()
    assert not failed.exists()
    # and a fourth call with the same id does nothing
    again = run(config, notebooks_dir=nbs, only=["00_clean"], run_id="retry")
    assert again.already_published and again.run_dir == result.run_dir


@pytest.mark.slow
def test_run_log_and_history_page(pii_runs: dict) -> None:
    reports, good = pii_runs["reports"], pii_runs["good"]
    log_text = (good.run_dir / "logs" / "run.log").read_text("utf-8")
    lines = log_text.splitlines()
    stamp = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ (INFO|WARNING|ERROR) journeylib\.\w+: "
    assert all(re.match(stamp, line) for line in lines), lines
    for expected in (
        "run good for client pii: 1 notebook(s)",
        "preparing data for pii",
        "[1/1] 00_clean started",
        "[1/1] 00_clean done in",
        "rendering HTML",
        "PII scan passed",
        f"published {good.run_dir} in",
    ):
        assert any(expected in line for line in lines), expected
    assert (good.run_dir / "logs" / "00_clean.kernel.log").is_file()
    # the index links to the history page, which lists the good run and the failed attempts
    index = BeautifulSoup((good.run_dir / "index.html").read_text("utf-8"), "html.parser")
    assert index.select_one("header nav a")["href"] == "../history.html"
    page = BeautifulSoup((reports / "history.html").read_text("utf-8"), "html.parser")
    cells = [
        (tr.find("td").get_text(" ", strip=True), tr.select("td")[1].get_text())
        for tr in page.select("table.journey-sections tbody tr")
    ]
    runs = {name.removesuffix(" (latest)"): status for name, status in cells}
    assert runs["good"] == "ok"
    assert runs["leak-01"] == runs["leak-02"] == "failed"
    # one run is marked latest, and it is a successful one
    marked = [name for name, _ in cells if name.endswith("(latest)")]
    assert len(marked) == 1 and runs[marked[0].removesuffix(" (latest)")] == "ok"


@pytest.mark.slow
def test_demo_report_passes_the_pii_scan(tmp_path: Path, repo_root: Path) -> None:
    """The real demo report (two fast notebooks) has no false positives."""
    import yaml

    from journeylib.piiscan import raw_customer_ids, scan_report, scan_text

    cfg = yaml.safe_load((repo_root / "configs" / "demo.yaml").read_text("utf-8"))
    cfg["data"]["raw_dir"] = str(repo_root / "data" / "sample")
    cfg["output"] = {"processed_dir": str(tmp_path / "p"), "reports_dir": str(tmp_path / "r")}
    cfg["notebooks"] = ["00_data_quality", "10_journey_stages"]
    assert cfg["report"]["pii_scan"] is True
    config_path = tmp_path / "demo.yaml"
    config_path.write_text(yaml.safe_dump(cfg, sort_keys=False), encoding="utf-8")

    result = run(config_path, run_id="demo-scan")  # scanned before publishing
    assert result.ok
    page = (result.run_dir / "10_journey_stages.html").read_text("utf-8")
    assert plotly_js() in page and "email" in {k for _, k, _ in scan_text(plotly_js())}
    config = load_config(config_path)
    ids = raw_customer_ids(config)
    assert len(ids) >= 300  # the sample's customer refs and visitor ids
    assert scan_report(result.run_dir, raw_ids=ids) == []


def test_data_error_is_kept_with_its_log_and_listed_in_the_history(tmp_path: Path) -> None:
    from journeylib.history import run_history
    from journeylib.validation import DataValidationError

    config = write_project(tmp_path, bad_orders=True)
    with pytest.raises(DataValidationError):
        run(config, notebooks_dir=FIXTURES, run_id="r-bad")
    reports = tmp_path / "reports" / "tiny"
    kept = reports / "_failed" / "r-bad"
    record = json.loads((kept / "run.json").read_text("utf-8"))
    assert record["status"] == "failed" and record["failed_stage"] == "prepare"
    assert "DataValidationError" in record["error"]
    log_text = (kept / "logs" / "run.log").read_text("utf-8")
    assert "preparing data for tiny" in log_text and "DataValidationError" in log_text
    history = run_history(reports)
    assert history[["run_id", "status"]].values.tolist() == [["r-bad", "failed"]]
    assert (reports / "history.html").is_file()
    assert not (reports / "r-bad").exists() and latest_run(reports) is None


def test_scheduler_examples_are_valid(repo_root: Path) -> None:
    import ast
    import shlex

    from journeylib.cli import build_parser

    dag = (repo_root / "examples" / "airflow_journey_dag.py").read_text("utf-8")
    ast.parse(dag)  # compiles without Airflow installed
    assert "--as-of {{ ds }} --run-id {{ ds_nodash }}" in dag
    assert '"retries": 2' in dag and "max_active_runs=1" in dag
    cron = [
        line
        for line in (repo_root / "examples" / "cron.txt").read_text("utf-8").splitlines()
        if line.strip() and not line.startswith("#") and "=" not in line.split()[0]
    ]
    assert len(cron) == 1
    fields = cron[0].split(None, 5)
    assert fields[:5] == ["0", "2", "*", "*", "1"]  # Mondays 02:00
    command = fields[5]
    assert "flock -n" in command
    # the journey arguments parse as the CLI would read them
    args = shlex.split(command.split(".venv/bin/journey", 1)[1].split(">>", 1)[0])
    args = [a.replace("$(date -d yesterday +\\%F)", "2025-06-29") for a in args]
    args = [a.replace("$(date -u +\\%Y\\%m\\%d)", "20250630") for a in args]
    parsed = build_parser().parse_args(args)
    assert (parsed.command, parsed.as_of, parsed.run_id) == ("run", "2025-06-29", "20250630")
    assert parsed.log_lines


# ---- notebooks at once (report.workers) -----------------------------------------------------------


def declare_after(folder: Path, name: str, after: list[str]) -> None:
    import nbformat

    nb = nbformat.read(folder / f"{name}.ipynb", as_version=4)
    nb.metadata["journey"] = {"after": after}
    nbformat.write(nb, folder / f"{name}.ipynb")


def test_notebook_needs_follow_the_declarations_and_wait_for_everything_otherwise(
    tmp_path: Path,
) -> None:
    from journeylib.runner import notebook_needs

    for name in ("00_a", "10_b", "20_c", "30_d", "40_e"):
        write_notebook(tmp_path, name, "pass")
    declare_after(tmp_path, "00_a", [])
    declare_after(tmp_path, "10_b", [])
    declare_after(tmp_path, "20_c", ["00_a", "40_e", "99_gone"])  # a later one never counts
    # 30_d declares nothing: it waits for everything before it, as in a sequential run
    declare_after(tmp_path, "40_e", ["10_b"])
    names = ["00_a", "10_b", "20_c", "30_d", "40_e"]
    assert notebook_needs(tmp_path, names) == {
        "00_a": [],
        "10_b": [],
        "20_c": ["00_a"],
        "30_d": ["00_a", "10_b", "20_c"],
        "40_e": ["10_b"],
    }
    # a run of some of them waits only for those in the run
    assert notebook_needs(tmp_path, ["20_c", "40_e"]) == {"20_c": [], "40_e": []}


MARK = """import json, pathlib, time
marks = pathlib.Path({marks!r})
def mark(what):
    (marks / f"{name}.{{what}}").write_text(json.dumps(time.time()))
mark("start")
seen = sorted(p.name for p in marks.glob("*.end"))
(marks / "{name}.seen").write_text(json.dumps(seen))
time.sleep({sleep})
{extra}
mark("end")"""


def marking_notebooks(root: Path, fail: str | None = None) -> tuple[Path, Path]:
    """00_a and 10_b read only the data, 20_c reads 00_a's, 30_d declares nothing."""
    nbs, marks = root / "notebooks", root / "marks"
    marks.mkdir(parents=True)
    for name, sleep, after in (
        ("00_a", 3, []),
        ("10_b", 3, []),
        ("20_c", 0, ["00_a"]),
        ("30_d", 0, None),
    ):
        extra = 'raise RuntimeError("deliberate fixture failure")' if name == fail else ""
        code = MARK.format(marks=str(marks), name=name, sleep=sleep, extra=extra)
        write_notebook(nbs, name, code)
        if after is not None:
            declare_after(nbs, name, after)
    return nbs, marks


def read_marks(marks: Path) -> dict[str, object]:
    return {p.name: json.loads(p.read_text()) for p in marks.iterdir()}


@pytest.mark.slow
def test_workers_run_independent_notebooks_at_once_and_the_others_after_what_they_read(
    tmp_path: Path,
) -> None:
    config = write_project(tmp_path)
    config.write_text(
        config.read_text().replace("primary_color", "workers: 2, primary_color"), "utf-8"
    )
    assert load_config(config).report.workers == 2
    nbs, marks = marking_notebooks(tmp_path)
    result = run(config, notebooks_dir=nbs, run_id="both")
    assert result.ok and [n.status for n in result.notebooks] == ["ok"] * 4
    m = read_marks(marks)
    # 00_a and 10_b (3 s each) ran at the same time
    assert m["10_b.start"] < m["00_a.end"] and m["00_a.start"] < m["10_b.end"]
    # 20_c started once 00_a had finished; 30_d once all three had
    assert m["20_c.start"] >= m["00_a.end"] and "00_a.end" in m["20_c.seen"]
    assert m["30_d.seen"] == ["00_a.end", "10_b.end", "20_c.end"]
    # the record and the contents page keep pipeline order
    record = json.loads((result.run_dir / "run.json").read_text("utf-8"))
    assert [n["name"] for n in record["notebooks"]] == ["00_a", "10_b", "20_c", "30_d"]
    assert all((result.run_dir / f"{n}.html").is_file() for n in ("00_a", "20_c", "30_d"))


@pytest.mark.slow
def test_a_failure_with_workers_starts_nothing_more_and_publishes_nothing(tmp_path: Path) -> None:
    config = write_project(tmp_path)
    config.write_text(
        config.read_text().replace("primary_color", "workers: 2, primary_color"), "utf-8"
    )
    nbs, marks = marking_notebooks(tmp_path, fail="00_a")
    with pytest.raises(NotebookFailed) as err:
        run(config, notebooks_dir=nbs, run_id="broken")
    assert err.value.notebook == "00_a" and err.value.ename == "RuntimeError"
    assert err.value.cell == 4
    m = read_marks(marks)
    assert "10_b.end" in m  # already running: it finished
    assert "20_c.start" not in m and "30_d.start" not in m  # never started
    reports = tmp_path / "reports" / "tiny"
    assert not (reports / "broken").exists() and staging_leftovers(reports) == []
    record = json.loads((reports / "_failed" / "broken" / "run.json").read_text("utf-8"))
    assert [n["status"] for n in record["notebooks"]] == ["failed", "ok", "skipped", "skipped"]
