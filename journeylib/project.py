"""Where things live: the project root and atomic writes.

Paths are resolved against the project root (the folder holding ``pyproject.toml`` and
``journeylib/``), so a notebook run from ``notebooks/`` by JupyterLab, papermill or nbval sees
the same files as the CLI run from anywhere. ``JOURNEY_HOME`` overrides the root (for an
installed, non-editable package pointed at a project folder).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Iterator
from functools import cache
from pathlib import Path


@cache
def _discovered_root() -> Path:
    here = Path(__file__).resolve().parent.parent
    if (here / "pyproject.toml").is_file() and (here / "journeylib").is_dir():
        return here
    return Path.cwd().resolve()


def project_root() -> Path:
    """The project root: ``$JOURNEY_HOME`` if set, else the checkout holding this package."""
    env = os.environ.get("JOURNEY_HOME")
    return Path(env).resolve() if env else _discovered_root()


def resolve_path(path: str | os.PathLike[str]) -> Path:
    """Resolve ``path`` against the project root unless it is absolute (``~`` is expanded)."""
    p = Path(path).expanduser()
    return p if p.is_absolute() else project_root() / p


@contextlib.contextmanager
def atomic_directory(target: Path) -> Iterator[Path]:
    """Build a directory in a hidden sibling and move it onto ``target`` only on success.

    Yields the staging folder. If the body raises, the staging folder is deleted and ``target``
    is left exactly as it was. On success an existing ``target`` is swapped out (renamed aside,
    then deleted), so readers see either the old or the new complete folder, never a mix.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f".{target.name}.tmp-{uuid.uuid4().hex[:8]}"
    staging.mkdir()
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    old = None
    if target.exists():
        old = target.parent / f".{target.name}.old-{uuid.uuid4().hex[:8]}"
        target.rename(old)
    try:
        staging.rename(target)
    except BaseException:
        if old is not None:
            old.rename(target)
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary sibling of ``path`` to write to; ``os.replace``-d into place on success and
    removed on failure, so ``path`` is either the old file or the complete new one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.tmp-{uuid.uuid4().hex[:8]}"
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write a file through a temporary sibling and ``os.replace`` it into place."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
