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
    """Accumulates problems and notices for one file/table.

    A large file is checked chunk by chunk (:mod:`journeylib.ingest_events`): each chunk gets its
    own collector (the chunk's ``ROW`` column carries the file's row numbers) and :meth:`merge`
    folds it into the file's, so the file reports each check once, with the counts added up and
    the first row numbers of the whole file, in the order a single pass would have reported
    them.
    """

    def __init__(self, file: str, table: str, limit: int = 5):
        self.file, self.table, self.limit = file, table, limit
        self.problems: list[Problem] = []
        self.notices: list[Notice] = []
        # every check asked, found or not, in the order asked: how merge() orders the checks
        self._asked: list[tuple] = []

    def _ask(self, key: tuple) -> None:
        if key not in self._asked:
            self._asked.append(key)

    def problem(
        self, column: str | None, check: str, count: int = 0, rows=(), hint: str = ""
    ) -> None:
        self._ask(("problem", column, check))
        self.problems.append(
            Problem(self.file, self.table, column, check, count, tuple(rows), hint)
        )

    def check_rows(
        self, df: pd.DataFrame, mask, column: str | None, check: str, hint: str = ""
    ) -> bool:
        """Record a problem for the rows in ``mask``; True if any failed."""
        self._ask(("problem", column, check))
        count, rows = first_rows(mask, df[ROW], self.limit)
        if count:
            self.problem(column, check, count, rows, hint)
        return bool(count)

    def notice(self, column: str | None, check: str, count: int, action: str, **detail) -> None:
        self._ask(("notice", column, check))
        if count:
            self.notices.append(Notice(self.table, column, check, int(count), action, detail))

    def merge(self, later: Collector) -> None:
        """Fold in the problems and notices of a later chunk of the same file.

        The same check (table, column, check name) is reported once: counts add up, the first
        ``limit`` row numbers are kept (this collector's rows come first: chunks are read in
        file order), label counts of notices add up. A check first seen in ``later`` takes its
        place after the check ``later`` asked just before it, as in one pass over the file.
        """
        order = list(self._asked)
        previous = None
        for key in later._asked:
            if key not in order:
                order.insert(order.index(previous) + 1 if previous is not None else 0, key)
            previous = key
        self._asked = order
        rank = {key: i for i, key in enumerate(order)}

        problems = {("problem", p.column, p.check): p for p in self.problems}
        for p in later.problems:
            key = ("problem", p.column, p.check)
            if key in problems:
                old = problems[key]
                problems[key] = Problem(
                    old.file,
                    old.table,
                    old.column,
                    old.check,
                    old.count + p.count,
                    (old.rows + p.rows)[: self.limit],
                    old.hint,
                )
            else:
                problems[key] = p
        notices = {("notice", n.column, n.check): n for n in self.notices}
        for n in later.notices:
            key = ("notice", n.column, n.check)
            notices[key] = _merge_notice(notices[key], n, self.limit) if key in notices else n
        self.problems = sorted(
            problems.values(), key=lambda p: rank[("problem", p.column, p.check)]
        )
        self.notices = sorted(notices.values(), key=lambda n: rank[("notice", n.column, n.check)])


def _merge_notice(a: Notice, b: Notice, limit: int) -> Notice:
    """One notice for two chunks: counts and label counts added, first rows kept."""
    detail = dict(a.detail)
    for k, v in b.detail.items():
        if k == "labels":
            labels = dict(detail.get(k, {}))
            for label, n in v.items():
                labels[label] = labels.get(label, 0) + n
            detail[k] = dict(sorted(labels.items()))
        elif k == "rows":
            detail[k] = [*detail.get(k, []), *v][:limit]
        else:
            detail.setdefault(k, v)
    return Notice(a.table, a.column, a.check, a.count + b.count, a.action, detail)
