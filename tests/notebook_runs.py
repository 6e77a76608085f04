"""Executing a notebook on a config in a test: the one papermill call the notebook tests share."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml


def run_notebook(
    repo_root: Path, tmp_path: Path, notebook: str, cfg: dict, **parameters: object
) -> tuple[Path, str]:
    """Execute ``notebooks/<notebook>.ipynb`` on the config ``cfg`` with papermill.

    The config's processed and report folders are moved into ``tmp_path`` and the notebook's
    output tables go to ``tmp_path / "out"``. Returns that output folder and the Markdown the
    notebook displayed (its narrative), joined by newlines.
    """
    import papermill

    cfg = {
        **cfg,
        "output": {
            "processed_dir": str(tmp_path / "processed"),
            "reports_dir": str(tmp_path / "reports"),
        },
    }
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    out = tmp_path / "out"
    nb = papermill.execute_notebook(
        str(repo_root / "notebooks" / f"{notebook}.ipynb"),
        str(tmp_path / "executed.ipynb"),
        parameters={"config_path": str(config), "output_dir": str(out), **parameters},
        cwd=str(repo_root / "notebooks"),
        kernel_name="python3",
        progress_bar=False,
    )
    text = "\n".join(
        "".join(o.get("data", {}).get("text/markdown", ""))
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
    )
    return out, text


def output_table(out: Path, name: str) -> pd.DataFrame:
    """A table the notebook saved (``out/tables/<name>.parquet``)."""
    return pd.read_parquet(out / "tables" / f"{name}.parquet")
