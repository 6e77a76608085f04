"""Shared fixtures and marker rules for the whole suite.

Markers (declared in pyproject.toml):

* ``shared_data``: needs ``../shared/datasets``; skipped when that folder is absent.
* ``browser``: needs a headless Chromium; skipped when none is found, unless
  ``JOURNEY_REQUIRE_BROWSER=1`` (set by ``.ci/run`` when it has one), where it fails instead.
"""

from __future__ import annotations

import functools
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATASETS = REPO_ROOT.parent / "shared" / "datasets"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome-stable", "google-chrome")


def _find_chromium() -> str | None:
    return next((p for p in map(shutil.which, CHROMIUM_NAMES) if p), None)


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("shared_data") and not SHARED_DATASETS.is_dir():
        pytest.skip(f"shared datasets not found at {SHARED_DATASETS}")
    if item.get_closest_marker("browser") and _find_chromium() is None:
        if os.environ.get("JOURNEY_REQUIRE_BROWSER") == "1":
            pytest.fail("JOURNEY_REQUIRE_BROWSER=1 but no Chromium executable is on PATH")
        pytest.skip("no Chromium executable on PATH (set JOURNEY_REQUIRE_BROWSER=1 to fail)")


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The checkout holding pyproject.toml (tests never depend on the working directory)."""
    return REPO_ROOT


@pytest.fixture(scope="session")
def shared_datasets() -> Path:
    """``../shared/datasets``: real data sets nobody here designed. Skips when absent."""
    if not SHARED_DATASETS.is_dir():
        pytest.skip(f"shared datasets not found at {SHARED_DATASETS}")
    return SHARED_DATASETS


@pytest.fixture(scope="session")
def chromium() -> str:
    """Path of a Chromium executable; skips (or fails under JOURNEY_REQUIRE_BROWSER=1)."""
    path = _find_chromium()
    if path is None:
        if os.environ.get("JOURNEY_REQUIRE_BROWSER") == "1":
            pytest.fail("JOURNEY_REQUIRE_BROWSER=1 but no Chromium executable is on PATH")
        pytest.skip("no Chromium executable on PATH")
    return path


class SynthClient:
    """A synthetic client, ingested like real data, with its planted truth joined on.

    ``config``, ``engine`` (DuckDB over the processed tables), ``truth`` (one row per CRM
    customer with the processed ``customer_id`` pseudonym added) and ``effects`` (the planted
    global parameters from ``_truth/effects.json``).
    """

    def __init__(self, root: Path, n_customers: int, seed: int):
        import json

        import pandas as pd
        import yaml

        from journeylib.config import load_config
        from journeylib.engine import get_engine
        from journeylib.io import prepare
        from journeylib.privacy import DEMO_KEY, pseudonymise
        from journeylib.synth import SynthConfig, generate, write_raw

        raw = write_raw(generate(SynthConfig(n_customers=n_customers, seed=seed)), root / "raw")
        cfg = yaml.safe_load((REPO_ROOT / "configs" / "demo.yaml").read_text())
        cfg["client"] = f"synth{seed}"
        cfg["data"]["raw_dir"] = str(raw)
        cfg["output"] = {
            "processed_dir": str(root / "processed"),
            "reports_dir": str(root / "reports"),
        }
        path = root / "synth.yaml"
        path.write_text(yaml.safe_dump(cfg))
        os.environ.pop("JOURNEY_ID_KEY", None)  # the demo key: pseudonyms are recomputable here
        self.config = load_config(path)
        self.config_path = path
        self.manifest = prepare(self.config).manifest
        self.engine = get_engine(self.config)
        truth = pd.read_csv(raw / "_truth" / "customers.csv", dtype={"customer_ref": str})
        truth["customer_id"] = pseudonymise(truth["customer_ref"], DEMO_KEY.encode())
        self.truth = truth
        self.effects = json.loads((raw / "_truth" / "effects.json").read_text())


@pytest.fixture(scope="session")
def synth_client(tmp_path_factory) -> SynthClient:
    """3,000 synthetic customers (seed 7, ~70k events), ingested once per test session."""
    return SynthClient(tmp_path_factory.mktemp("synth_client"), n_customers=3000, seed=7)


@pytest.fixture(scope="session")
def synth_client_40k(tmp_path_factory) -> SynthClient:
    """40,000 synthetic customers (seed 7, ~0.9M events) for the slow tests whose planted
    effects need more than the 3,000 of ``synth_client`` to show; ingested once per session."""
    return SynthClient(tmp_path_factory.mktemp("synth_40k"), n_customers=40_000, seed=7)


@pytest.fixture
def dropoff_events() -> pd.DataFrame:
    """The funnel A -> B -> C of five customers (journeylib.funnels and journeylib.dropoff)."""
    from event_frames import frame

    day = 24 * 60
    return frame(
        [
            ("a", 0, "A"), ("a", 5, "B"), ("a", 9, "C"),                    # converts
            ("b", 0, "A"), ("b", 3, "search"), ("b", 20, "page"),           # drops at A
            ("c", 0, "A"), ("c", 4, "B"), ("c", 6, "help"), ("c", 2 * day, "C"),  # drops at B
            ("d", 0, "A"), ("d", 1, "B"),                                   # drops at B, no more
            ("e", 0, "A"), ("e", 2, "search"), ("e", 9 * day, "C"),         # drops at A
        ]
    )  # fmt: skip


# ---- Spark (tests marked `spark`; make test-spark) -------------------------------------------
@functools.cache
def _session():  # noqa: ANN202 - one local session per test run (getOrCreate shares it)
    from journeylib.spark import spark_session

    session = spark_session(
        master="local[2]",
        conf={"spark.sql.shuffle.partitions": "4", "spark.driver.memory": "1g"},
        app_name="journeylib-tests",
    )
    session.sparkContext.setLogLevel("ERROR")
    return session


@pytest.fixture(scope="session")
def spark():  # noqa: ANN201
    """Local Spark (local[2], 4 shuffle partitions, no UI, loopback only); skips without PySpark
    or Java, fails instead under JOURNEY_REQUIRE_SPARK=1 (make test-spark)."""
    reason = None
    try:
        import pyspark  # noqa: F401
        import sqlglot  # noqa: F401
    except ImportError:
        reason = "PySpark/sqlglot are not installed (pip install -c constraints.txt '.[spark]')"
    if reason is None and shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        reason = "no java on PATH (PySpark needs Java 17+)"
    if reason is not None:
        if os.environ.get("JOURNEY_REQUIRE_SPARK") == "1":
            pytest.fail(f"JOURNEY_REQUIRE_SPARK=1 but {reason}")
        pytest.skip(reason)
    return _session()


@pytest.fixture
def in_passes(monkeypatch):
    """``in_passes(events)``: per-customer queries run in passes of about ``events`` events
    (``engine.CUSTOMER_PASS_EVENTS``); returns the list of pass counts asked for, one per query."""
    import journeylib.engine as engine_module

    def setup(events: int) -> list[int]:
        monkeypatch.setattr(engine_module, "CUSTOMER_PASS_EVENTS", events)
        calls: list[int] = []
        real = engine_module.pseudonym_ranges
        monkeypatch.setattr(
            engine_module, "pseudonym_ranges", lambda n, **k: calls.append(n) or real(n, **k)
        )
        return calls

    return setup


@pytest.fixture
def same_in_passes(in_passes):
    """``same_in_passes(engine, make)``: ``make()`` (a list of frames) once over everyone, then
    with per-customer queries in passes of a fifth of the events each; asserts every frame is
    the same, exactly, and returns the frames of the passes and the pass counts asked for."""

    def check(engine, make) -> tuple[list[pd.DataFrame], list[int]]:
        one = make()
        calls = in_passes(int(engine.scalar("SELECT COUNT(*) FROM events")) // 5)
        parts = make()
        assert calls and min(calls) >= 5  # each query ran in five passes or more
        for got, want in zip(parts, one, strict=True):
            pd.testing.assert_frame_equal(got, want, check_exact=True)
        return parts, calls

    return check
