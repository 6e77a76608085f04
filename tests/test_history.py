"""journeylib.history: the run table, the comparison base, and the run-history page.

Run folders are written by hand here (a run.json and, for some, the KPI tiles of the client
report), so every expected row follows from the records below.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from bs4 import BeautifulSoup

from journeylib.config import Config
from journeylib.history import (
    HISTORY_COLUMNS,
    KPI_TILES,
    newest_run,
    previous_run,
    render_history_page,
    run_history,
    sparkline_svg,
    write_history_page,
)
from journeylib.report import external_resources


def make_run(
    reports: Path,
    run_id: str,
    *,
    as_of: str | None,
    started_at: str,
    status: str = "ok",
    seconds: float = 60.0,
    notebooks: tuple[str, ...] = ("ok", "ok"),
    kpis: dict[str, float] | None = None,
    failed_notebook: str | None = None,
) -> Path:
    """A run folder as the runner leaves it: published, or in _failed/ when status is failed."""
    folder = reports / run_id if status == "ok" else reports / "_failed" / run_id
    folder.mkdir(parents=True)
    record = {
        "run_id": run_id,
        "client": "acme",
        "status": status,
        "started_at": started_at,
        "finished_at": started_at,
        "seconds": seconds,
        "config_hash": "abc123def456",
        "parameters": {"as_of": as_of, "seed": 42, "run_id": run_id},
        "notebooks": [
            {"name": f"{i:02d}_nb", "title": "t", "status": s} for i, s in enumerate(notebooks)
        ],
    }
    if status != "ok":
        record["error"] = f"notebook {failed_notebook} failed: KeyError: 'x'\n  more detail"
        record["failed_notebook"] = failed_notebook
    (folder / "run.json").write_text(json.dumps(record), encoding="utf-8")
    if status == "ok":
        (folder / "index.html").write_text("<html></html>", encoding="utf-8")
    else:
        (folder / "logs").mkdir()
        (folder / "logs" / "run.log").write_text("log\n", encoding="utf-8")
    if kpis is not None:
        tiles = folder / KPI_TILES
        tiles.parent.mkdir(parents=True)
        pd.DataFrame(
            {
                "kpi": list(kpis),
                "label": [k.replace("_", " ").title() for k in kpis],
                "value": list(kpis.values()),
                "target": [0.03 if k == "conversion" else 40.0 for k in kpis],
                "direction": ">=",
                "met": True,
                "previous": float("nan"),
                "change": float("nan"),
            }
        ).to_parquet(tiles)
    return folder


@pytest.fixture
def reports(tmp_path: Path) -> Path:
    """Four weekly runs, one failed, one backfill of an earlier week, one run without KPIs."""
    r = tmp_path / "reports" / "acme"
    make_run(r, "20250601", as_of="2025-06-01", started_at="2025-06-02T02:00:00Z",
             kpis={"conversion": 0.020, "nps": 30.0})  # fmt: skip
    make_run(r, "20250608", as_of="2025-06-08", started_at="2025-06-09T02:00:00Z",
             kpis={"conversion": 0.025, "nps": 35.0})  # fmt: skip
    make_run(r, "20250615", as_of="2025-06-15", started_at="2025-06-16T02:00:00Z",
             status="failed", notebooks=("ok", "failed"), failed_notebook="01_nb")  # fmt: skip
    make_run(r, "20250622", as_of="2025-06-22", started_at="2025-06-23T02:00:00Z", seconds=150.0,
             kpis={"conversion": 0.031, "nps": 41.0})  # fmt: skip
    # a backfill of an earlier week, run after all the others, without the client report
    make_run(r, "20250525", as_of="2025-05-25", started_at="2025-06-30T09:00:00Z")
    (r / ".20250629.tmp-1234abcd").mkdir()  # a staging folder: never a run
    (r / "latest").symlink_to("20250622")  # the pointer: never a second row
    return r


def config(tmp_path: Path, language: str = "en") -> Config:
    return Config.model_validate(
        {
            "client": "acme",
            "report": {"title": "Acme journeys", "language": language, "primary_color": "#AA3366"},
            "data": {
                "raw_dir": str(tmp_path),
                "sources": {"customers": {"path": "c.csv", "columns": {"customer_id": "id"}}},
            },  # fmt: skip
        }
    )


# ---- the table ----------------------------------------------------------------------------------


def test_run_history_one_row_per_run_ordered_by_as_of(reports: Path) -> None:
    h = run_history(reports)
    # ordered by as_of (the backfill first although it ran last)
    assert h["run_id"].tolist() == ["20250525", "20250601", "20250608", "20250615", "20250622"]
    assert h["status"].tolist() == ["ok", "ok", "ok", "failed", "ok"]
    assert list(h.columns) == HISTORY_COLUMNS + ["kpi_conversion", "kpi_nps"]
    assert h["as_of"].iloc[1] == "2025-06-01"  # printed as is in the report's sentences
    assert h["started_at"].iloc[1] == pd.Timestamp("2025-06-02T02:00:00Z")
    assert h["seconds"].tolist() == [60.0, 60.0, 60.0, 60.0, 150.0]
    failed = h.set_index("run_id").loc["20250615"]
    assert (failed["notebooks_ok"], failed["notebooks_failed"]) == (1, 1)
    assert failed["failed_notebook"] == "01_nb"
    assert failed["error"] == "notebook 01_nb failed: KeyError: 'x'"  # first line only
    assert failed["path"].endswith("_failed/20250615")
    # KPI values of runs with the client report; NaN for the others
    assert h["kpi_conversion"].tolist()[1:3] == [0.020, 0.025]
    assert h["kpi_nps"].iloc[-1] == 41.0
    assert h["kpi_conversion"].iloc[[0, 3]].isna().all()


def test_run_history_of_a_client_without_runs(tmp_path: Path) -> None:
    h = run_history(tmp_path / "nothing")
    assert h.empty and list(h.columns) == HISTORY_COLUMNS


def test_failed_folder_with_an_ok_record_counts_as_failed(tmp_path: Path) -> None:
    # the PII scan fails after run.json said "ok": the kept copy must not read as a success
    r = tmp_path / "r"
    folder = make_run(r, "x", as_of="2025-06-01", started_at="2025-06-02T02:00:00Z")
    (r / "_failed").mkdir()
    folder.rename(r / "_failed" / "x")
    assert run_history(r)["status"].tolist() == ["failed"]
    assert newest_run(r) is None


# ---- previous and newest run --------------------------------------------------------------------


def test_previous_run_is_the_newest_success_strictly_before(reports: Path) -> None:
    # 06-22 compares with 06-08: 06-15 failed
    assert previous_run(reports, as_of="2025-06-22") == reports / "20250608"
    assert previous_run(reports, as_of="2025-06-15") == reports / "20250608"
    # strictly before: a run with the same as_of is not its own comparison base
    assert previous_run(reports, as_of="2025-06-08") == reports / "20250601"
    # the backfill is the base for 06-01, and nothing precedes it
    assert previous_run(reports, as_of=pd.Timestamp("2025-06-01").date()) == reports / "20250525"
    assert previous_run(reports, as_of="2025-05-25") is None
    assert previous_run(reports, as_of="2025-06-22", exclude="20250608") == reports / "20250601"


def test_ties_on_as_of_go_to_the_later_start(tmp_path: Path) -> None:
    r = tmp_path / "r"
    make_run(r, "a", as_of="2025-06-01", started_at="2025-06-02T02:00:00Z")
    make_run(r, "b", as_of="2025-06-01", started_at="2025-06-02T05:00:00Z")  # a re-run
    assert previous_run(r, as_of="2025-06-08") == r / "b"
    assert newest_run(r) == r / "b"


def test_newest_run_is_by_as_of_not_by_start(reports: Path) -> None:
    # the backfill 20250525 started last but observes an earlier date
    assert newest_run(reports) == reports / "20250622"
    assert newest_run(reports.parent / "none") is None


# ---- the page -----------------------------------------------------------------------------------


def test_sparkline_geometry() -> None:
    # width 100, height 20, padding 4: x from 4 to 96, y from 16 (min) to 4 (max)
    svg = sparkline_svg([1.0, 3.0, float("nan"), 2.0], width=100, height=20, color="#123456")
    points = re.search(r'points="([^"]+)"', svg).group(1)
    # x = 4 + 92 * i / 3 for i = 0, 1, 3; the NaN run leaves a gap in x, not a point
    assert points == "4.0,16.0 34.7,4.0 96.0,10.0"
    assert svg.count("<circle") == 1 and 'cx="96.0" cy="10.0"' in svg
    # a dashed target line, inside the scale: target 5 becomes the top
    svg = sparkline_svg([1.0, 3.0], target=5.0, width=100, height=20)
    assert 'y1="4.0"' in svg and "stroke-dasharray" in svg
    assert "<polyline" not in sparkline_svg([2.0]) and "<circle" in sparkline_svg([2.0])
    assert "<circle" not in sparkline_svg([])


def test_history_page_lists_runs_newest_first_with_links(reports: Path, tmp_path: Path) -> None:
    path = write_history_page(reports, config(tmp_path))
    assert path == reports / "history.html"
    page = path.read_text(encoding="utf-8")
    assert "<script" not in page and external_resources(page) == []
    soup = BeautifulSoup(page, "html.parser")
    rows = soup.select("table.journey-sections tbody tr")
    first_cells = [r.find("td").get_text(" ", strip=True) for r in rows]
    # newest first by as_of; the latest run is marked
    assert first_cells == [
        "20250622 (latest)",
        "20250615",
        "20250608",
        "20250601",
        "20250525",
    ]
    hrefs = [r.find("a")["href"] for r in rows]
    assert hrefs[0] == "20250622/index.html"
    assert hrefs[1] == "_failed/20250615/logs/run.log"  # the failed run has no index page
    for href in hrefs:
        assert (reports / href).is_file(), href
    failed_row = rows[1].get_text(" ", strip=True)
    assert "failed" in failed_row and "01_nb" in failed_row
    assert "1 / 1" in failed_row  # notebooks ok / failed
    assert "2.5 min" in rows[0].get_text(" ", strip=True)  # 150 s
    assert soup.select_one(".journey-header nav a")["href"] == "20250622/index.html"


def test_history_page_kpi_trend(reports: Path, tmp_path: Path) -> None:
    page = render_history_page(reports, config(tmp_path))
    soup = BeautifulSoup(page, "html.parser")
    conversion = soup.select_one("#kpi-conversion")
    assert conversion.find("h3").get_text() == "Conversion"
    # latest value 3.1% in the report's number format (decimal comma by default)
    assert conversion.select_one(".value").get_text() == "3,1%"
    assert "2,0% – 3,1%" in conversion.select_one(".range").get_text()
    assert "target 3,0%" in conversion.select_one(".range").get_text()
    # one point per successful run, oldest first: the backfill has no KPIs (a gap), the failed
    # run is not on the line, so three points over four successful runs
    points = conversion.find("polyline")["points"].split()
    assert len(points) == 3
    nps = soup.select_one("#kpi-nps")
    assert nps.select_one(".value").get_text() == "41,0"


def test_history_page_in_bahasa_indonesia(reports: Path, tmp_path: Path) -> None:
    page = render_history_page(reports, config(tmp_path, language="id"))
    assert '<html lang="id">' in page
    assert "Riwayat proses" in page and "gagal" in page and "terbaru" in page


def test_history_page_without_runs(tmp_path: Path) -> None:
    page = render_history_page(tmp_path / "none", config(tmp_path))
    assert "No runs yet." in page
