"""Row-level checks of raw exports, collected into one readable error.

Every check returns :class:`Problem` records (fatal) or :class:`Notice` records (non-fatal, shown
in the data-quality section). A problem names the file, the canonical table and column, the
check, how many rows failed and the first row numbers — never the raw values, which can be
personal data. Row numbers count data rows from 1 (in a CSV with a header, row *n* is on line
*n + 1*).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

ROW = "_row"  # carried through cleaning so problems can point at the source rows


@dataclass(frozen=True)
class Problem:
    """A fatal data problem."""

    file: str
    table: str
    column: str | None
    check: str
    count: int
    rows: tuple[int, ...] = ()
    hint: str = ""

    def __str__(self) -> str:
        col = f", column '{self.column}'" if self.column else ""
        rows = ""
        if self.rows:
            more = "" if self.count <= len(self.rows) else ", ..."
            rows = f" (rows {', '.join(map(str, self.rows))}{more})"
        noun = "row" if self.count == 1 else "rows"
        size = f": {self.count} {noun}{rows}" if self.count else ""
        hint = f" — {self.hint}" if self.hint else ""
        return f"{self.file} [{self.table}{col}] {self.check}{size}{hint}"


@dataclass(frozen=True)
class Notice:
    """A non-fatal data issue, counted and reported (e.g. duplicates dropped)."""

    table: str
    column: str | None
    check: str
    count: int
    action: str
    detail: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


class DataValidationError(ValueError):
    """Raw data failed validation; ``problems`` lists every failure found in the run."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        n = len(self.problems)
        lines = [f"Data validation failed with {n} problem{'s' if n != 1 else ''}:"]
        lines += [f"  - {p}" for p in self.problems]
        super().__init__("\n".join(lines))


def first_rows(
    mask: pd.Series | np.ndarray, rows: pd.Series, limit: int
) -> tuple[int, tuple[int, ...]]:
    """Count of ``mask`` and the first ``limit`` row numbers where it holds."""
    m = np.asarray(mask, dtype=bool)
    count = int(m.sum())
    picked = rows.to_numpy()[m][:limit]
    return count, tuple(int(r) for r in picked)


class Collector:
    """Accumulates problems and notices for one file/table."""

    def __init__(self, file: str, table: str, limit: int = 5):
        self.file, self.table, self.limit = file, table, limit
        self.problems: list[Problem] = []
        self.notices: list[Notice] = []

    def problem(
        self, column: str | None, check: str, count: int = 0, rows=(), hint: str = ""
    ) -> None:
        self.problems.append(
            Problem(self.file, self.table, column, check, count, tuple(rows), hint)
        )

    def check_rows(
        self, df: pd.DataFrame, mask, column: str | None, check: str, hint: str = ""
    ) -> bool:
        """Record a problem for the rows in ``mask``; True if any failed."""
        count, rows = first_rows(mask, df[ROW], self.limit)
        if count:
            self.problem(column, check, count, rows, hint)
        return bool(count)

    def notice(self, column: str | None, check: str, count: int, action: str, **detail) -> None:
        if count:
            self.notices.append(Notice(self.table, column, check, int(count), action, detail))
