"""The notebook side of the contract: validate parameters, prepare data, save outputs.

Every analysis notebook has a tagged ``parameters`` cell of literals and then one call::

    wb = open_workbook("00_data_quality", config_path=config_path, as_of=as_of,
                       seed=seed, output_dir=output_dir, run_id=run_id)

which validates the parameters (papermill passes YAML dates as strings and only warns about
unknown names, so validation happens here), loads the client config, makes sure the processed
tables exist and are current (ingesting the raw exports if not), and gives the notebook a place
to write its outputs. Notebooks exchange data only through these files.

Output layout (one folder per notebook)::

    <output_dir>/tables/<name>.parquet   # tidy table, the twin of a chart
    <output_dir>/tables/<name>.csv       # the same, for the client's BI tool
    <output_dir>/figures/<name>.html     # plotly figures, self-contained fragment

``output_dir`` is set by ``journey run`` to the run's staging folder; interactively it defaults to
``reports/<client>/_interactive/<notebook>``.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from journeylib.config import Config, load_config
from journeylib.project import resolve_path

log = logging.getLogger(__name__)


class NotebookParams(BaseModel):
    """The parameters every notebook accepts (its papermill interface)."""

    model_config = ConfigDict(extra="forbid")

    notebook: str = Field(pattern=r"^[0-9]{2}_[a-z0-9_]+$")
    config_path: str = "configs/demo.yaml"
    as_of: dt.date | None = None
    seed: int | None = None
    output_dir: str | None = None
    run_id: str | None = None


@dataclass
class Workbook:
    """What a notebook works with: config, processed tables, engine and an output folder."""

    params: NotebookParams
    config: Config
    output_dir: Path
    manifest: dict = field(default_factory=dict)

    @property
    def as_of(self) -> dt.date | None:
        return self.params.as_of or self.config.effective_as_of

    @property
    def seed(self) -> int:
        return self.params.seed if self.params.seed is not None else self.config.seed

    @cached_property
    def engine(self):  # noqa: ANN201 - returns journeylib.engine.Engine
        from journeylib.engine import get_engine

        return get_engine(self.config)

    def table(self, name: str, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """A processed canonical table as pandas (customer-level or small tables only), or only
        its ``columns``."""
        from journeylib.io import read_processed

        return read_processed(self.config, name, columns=columns)

    def save_table(self, df: pd.DataFrame, name: str, *, csv: bool = True) -> Path:
        """Write an output table as Parquet (and CSV), atomically; returns the Parquet path."""
        from journeylib.io import write_table

        folder = self.output_dir / "tables"
        path = write_table(df, folder / f"{name}.parquet")
        if csv:
            write_table(df, folder / f"{name}.csv")
        return path

    def save_figure(self, fig, name: str) -> Path:  # noqa: ANN001 - plotly Figure
        """Write a plotly figure as a self-contained HTML fragment (plotly.js not included)."""
        from journeylib.project import atomic_write_bytes

        path = self.output_dir / "figures" / f"{name}.html"
        html = fig.to_html(full_html=False, include_plotlyjs=False)
        atomic_write_bytes(path, html.encode("utf-8"))
        return path


def open_workbook(
    notebook: str,
    *,
    config_path: str = "configs/demo.yaml",
    as_of: str | dt.date | None = None,
    seed: int | None = None,
    output_dir: str | None = None,
    run_id: str | None = None,
    prepare: bool = True,
) -> Workbook:
    """Validate a notebook's parameters and return its :class:`Workbook`.

    Empty strings (and ``seed=-1``) mean "not set": the parameters cell holds literals only, and
    papermill's parser does not read ``str | None`` annotations, so notebooks use sentinels.

    Raises
    ------
    pydantic.ValidationError
        A parameter has the wrong type (e.g. ``as_of="last week"``).
    journeylib.config.ConfigError, journeylib.io.DataValidationError
        The config or the raw data is invalid; the message names file, column and rows.
    """
    params = NotebookParams(
        notebook=notebook,
        config_path=config_path,
        as_of=as_of or None,
        seed=None if seed is None or seed == -1 else seed,
        output_dir=output_dir or None,
        run_id=run_id or None,
    )
    config = load_config(params.config_path)
    out = (
        resolve_path(params.output_dir)
        if params.output_dir
        else config.reports_dir / "_interactive" / notebook
    )
    out.mkdir(parents=True, exist_ok=True)
    manifest: dict = {}
    if prepare:
        from journeylib.io import prepare as _prepare

        manifest = _prepare(config).manifest
    from journeylib.display import use_report

    use_report(config.report)  # display helpers write in the client's language and formats
    return Workbook(params=params, config=config, output_dir=out, manifest=manifest)
