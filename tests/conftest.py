"""Shared fixtures and marker rules for the whole suite.

Markers (declared in pyproject.toml):

* ``shared_data``: needs ``../shared/datasets``; skipped when that folder is absent.
* ``browser``: needs a headless Chromium; skipped when none is found, unless
  ``JOURNEY_REQUIRE_BROWSER=1`` (set by ``.ci/run`` when it has one), where it fails instead.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

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
