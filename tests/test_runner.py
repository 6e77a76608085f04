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
