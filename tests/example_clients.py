"""An example config of ``configs/examples/`` ingested like a new user would, into a temp folder."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from journeylib.config import Config, load_config
from journeylib.io import PrepareResult, prepare


def ingest_example(
    repo_root: Path, example: Path, raw_dir: Path, tmp: Path
) -> tuple[Config, Path, PrepareResult]:
    """Load ``example`` (relative to the repo), check that its ``raw_dir`` is ``raw_dir``, point
    its outputs into ``tmp`` and ingest with the demo key (as the examples allow).

    Returns the config, the path of the rewritten YAML and the ingest result.
    """
    assert load_config(repo_root / example).raw_dir.resolve() == raw_dir.resolve()
    cfg = yaml.safe_load((repo_root / example).read_text(encoding="utf-8"))
    cfg["data"]["raw_dir"] = str(raw_dir)
    cfg["output"] = {"processed_dir": str(tmp / "processed"), "reports_dir": str(tmp / "reports")}
    path = tmp / Path(example).name
    path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("JOURNEY_ID_KEY", raising=False)  # the demo key, as the example allows
        config = load_config(path)
        result = prepare(config)
    return config, path, result
