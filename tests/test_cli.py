"""The ``journey`` command line: exit codes and readable messages, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from tiny_client import write_tiny_client

from journeylib.cli import main, summarise_manifest

FIXTURES = Path(__file__).parent / "fixtures" / "notebooks"

CSV = {
    "customers.csv": "id\nc1\nc2\n",
    "events.csv": "cid,ts,event\nc1,2025-01-02 10:00:00,page_view\nc2,2025-01-03 09:00:00,page_view\n",
    "orders.csv": "order_id,cid,ts,sku,qty,revenue\no1,c1,2025-01-02 10:10:00,p1,1,100000\n",
    "feedback.csv": "cid,ts,kind,score\nc1,2025-01-05 08:00:00,nps,9\n",
}


def write_config(root: Path, *, extra: str = "") -> Path:
    return write_tiny_client(root, CSV, client="cli-test", tail=extra)


def journey(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the CLI as a user would (a fresh interpreter, stdout and stderr captured)."""
    return subprocess.run(
        [sys.executable, "-m", "journeylib", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


def test_help_lists_subcommands() -> None:
    result = journey("--help")
    assert result.returncode == 0
    for command in ("validate", "run", "synth", "demo"):
        assert command in result.stdout
    assert journey("run", "--help").returncode == 0


def test_validate_broken_config_exits_2_with_readable_message(tmp_path: Path) -> None:
    config = write_config(tmp_path, extra="reprot: {title: typo}\n")
    result = journey("validate", str(config), cwd=tmp_path)
    assert result.returncode == 2
    assert "reprot" in result.stderr and "unknown key" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_validate_missing_config_exits_2(tmp_path: Path) -> None:
    result = journey("validate", str(tmp_path / "nope.yaml"))
    assert result.returncode == 2
    assert "not found" in result.stderr and "Traceback" not in result.stderr


def test_validate_bad_data_exits_2_naming_file_and_column(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    (tmp_path / "raw" / "orders.csv").write_text(
        "order_id,cid,ts,sku,qty,revenue\no1,c1,2025-01-02 10:10:00,p1,1,lots\n", encoding="utf-8"
    )
    assert main(["--log-lines", "validate", str(config)]) == 2


def test_validate_ok_prints_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path)
    assert main(["--log-lines", "validate", str(config)]) == 0
    out = capsys.readouterr().out
    assert "config and data are valid" in out
    assert "customers" in out and "2 rows" in out
    assert "non-fatal issues" in out


def test_run_rejects_unsafe_run_id(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path)
    code = main(["--log-lines", "run", str(config), "--run-id", "../escape"])
    assert code == 2
    assert "safe folder name" in capsys.readouterr().err


def test_bad_date_is_an_argparse_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as err:
        main(["run", "x.yaml", "--as-of", "yesterday"])
    assert err.value.code == 2
    assert "YYYY-MM-DD" in capsys.readouterr().err


def test_summarise_manifest() -> None:
    manifest = {
        "rows": {"customers": 3, "events": 1200},
        "notices": [
            {
                "table": "events",
                "column": "channel",
                "check": "unmapped",
                "count": 4,
                "action": "set to 'other'",
            }
        ],
    }
    lines = summarise_manifest(manifest)
    assert any("events" in line and "1,200 rows" in line for line in lines)
    assert "non-fatal issues: 1" in lines
    assert summarise_manifest({"rows": {}, "notices": []})[-1] == "non-fatal issues: none"


@pytest.mark.slow
def test_run_failing_notebook_exits_1_naming_notebook_and_cell(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    result = journey(
        "run", str(config), "--notebooks-dir", str(FIXTURES), "--only", "02_fail", "--run-id", "r1"
    )
    assert result.returncode == 1, result.stderr
    assert "notebook 02_fail, cell 4" in result.stderr
    assert "RuntimeError: deliberate fixture failure" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    # plain timestamped log lines when stderr is not a terminal
    assert "Z INFO journeylib.runner: [1/1] 02_fail started" in result.stderr
    assert not (tmp_path / "reports" / "cli-test" / "r1").exists()


@pytest.mark.slow
def test_run_prints_index_path_last(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    result = journey(
        "run", str(config), "--notebooks-dir", str(FIXTURES), "--only", "01_beta", "--run-id", "ok"
    )
    assert result.returncode == 0, result.stderr
    index = Path(result.stdout.strip().splitlines()[-1])
    assert index == tmp_path / "reports" / "cli-test" / "ok" / "index.html"
    assert index.is_file()


def test_synth_writes_sample(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "sample"
    code = main(["synth", "--customers", "20", "--seed", "1", "--out", str(out)])
    assert code == 0
    assert (out / "web_events.csv").is_file() and (out / "_truth").is_dir()
    assert str(out) in capsys.readouterr().out


def test_synth_writes_partitioned_parquet(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import pandas as pd

    out = tmp_path / "lake"
    code = main(["synth", "--customers", "120", "--format", "parquet", "--out", str(out)])
    assert code == 0
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith("_")) == [
        "README.md", "customers", "feedback", "identity_map", "orders", "products.parquet",
        "spend.parquet", "web_events",
    ]  # fmt: skip
    customers = pd.read_parquet(out / "customers")
    assert len(customers) == 120 and customers["customer_ref"].is_unique
    assert str(out / "web_events") in capsys.readouterr().out


def test_terminal_progress_is_concise() -> None:
    import io

    from journeylib.log import TerminalProgress

    stream = io.StringIO()
    progress = TerminalProgress(stream)
    progress.start(2, 5, "10_journey_stages")
    progress.finish(2, 5, "10_journey_stages", 12.34, True)
    progress.start(3, 5, "20_funnels")
    progress.finish(3, 5, "20_funnels", 1.0, False)
    assert stream.getvalue() == (
        "[2/5] 10_journey_stages … 12.3 s\n[3/5] 20_funnels … FAILED after 1.0 s\n"
    )


def test_log_lines_are_timestamped_utc() -> None:
    import io
    import logging
    import re

    from journeylib.log import LogProgress, configure_logging, reset_logging

    stream = io.StringIO()
    try:
        assert configure_logging(stream=stream, interactive=False) is False
        LogProgress().finish(2, 5, "10_journey_stages", 12.34, True)
    finally:
        reset_logging()
    line = stream.getvalue().strip()
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ INFO journeylib.runner: "
        r"\[2/5\] 10_journey_stages done in 12.3 s",
        line,
    ), line
    assert not any(
        getattr(h, "_journeylib_cli", False) for h in logging.getLogger("journeylib").handlers
    )
