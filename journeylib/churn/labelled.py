"""Labelled (contractual) churn data: a customers table that already says who left.

A subscription or telecom export usually holds one row per customer with a churn flag and the
customer's attributes (contract, tenure, charges, services). The config names the label column
and the feature columns (``churn.label_column``, ``churn.feature_columns``); the loader has
already typed them through the source mapping (``types:`` ``boolean`` for a Yes/No flag,
``money``/``number`` for charges with blank cells, ``category`` for labels), so this module only
selects and checks. Categorical columns stay text; :class:`journeylib.churn.ChurnModel`
recognises them by their dtype.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from journeylib.churn.labels import LABEL, ChurnDataError, check_classes, report_language
from journeylib.coltypes import parse_column
from journeylib.sql import quote, require_columns

if TYPE_CHECKING:  # pragma: no cover
    from journeylib.config import ChurnSpec, Config
    from journeylib.engine import Engine

__all__ = ["holdout_split", "label_values", "labelled_frame"]

log = logging.getLogger(__name__)

#: Columns ingest adds to every customers table; they describe the record, not the customer.
_BOOKKEEPING = ("identified",)
_MAX_SHOWN_VALUES = 10  # distinct unexpected label values named in an error
_MAX_VALUE_CHARS = 20  # longer values are not shown (a label value is a short word)
_MAX_ROWS = 5  # row numbers named in an error


def _kind(dtype: object) -> str | None:
    if pd.api.types.is_bool_dtype(dtype) or (
        pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_complex_dtype(dtype)
    ):
        return "numeric"
    if pd.api.types.is_string_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype):
        return "categorical"
    return None


def label_values(values: pd.Series, *, column: str = "label") -> tuple[pd.Series, int]:
    """A churn label read as booleans: True/False, 1/0 or yes/no text (any case, as the loader's
    ``boolean`` type reads them).

    Parameters
    ----------
    values
        The label column, in table order.
    column
        Its name, for messages.

    Returns
    -------
    labels, missing
        The labels (``boolean``, missing where blank) and the number of blank rows.

    Raises
    ------
    ChurnDataError
        Values that are not a yes/no answer: how many rows, which values (when they are short
        labels, at most 10 of them) and the first row numbers (1-based, table order).

    Examples
    --------
    >>> label_values(pd.Series(["Yes", "no", None]))[0].tolist()
    [True, False, <NA>]
    """
    parsed, bad = parse_column(values, "boolean")
    bad = bad.to_numpy(dtype=bool)
    if bad.any():
        shown = values[bad].astype("string").str.strip()
        counts = shown.value_counts()
        rows = (np.flatnonzero(bad)[:_MAX_ROWS] + 1).tolist()
        if len(counts) <= _MAX_SHOWN_VALUES and counts.index.str.len().max() <= _MAX_VALUE_CHARS:
            which = ", ".join(f"{v!r} ({n} rows)" for v, n in counts.items())
        else:
            which = f"{len(counts)} distinct values (not shown: too many or too long for a label)"
        raise ChurnDataError(
            f"label column {column!r}: {int(bad.sum())} of {len(values)} rows are not a yes/no "
            f"churn value: {which}; first rows {rows}. Expected true/false, yes/no, 1/0 (type "
            "the column boolean in the source mapping, and fix or blank the other values)"
        )
    missing = int(parsed.isna().sum())
    return parsed.astype("boolean"), missing


def _spec(config: Config | ChurnSpec) -> ChurnSpec:
    from journeylib.config import ChurnSpec, Config

    if isinstance(config, Config):
        return config.churn
    if isinstance(config, ChurnSpec):
        return config
    raise TypeError(f"expected a Config or a ChurnSpec, got {type(config).__name__}")


def labelled_frame(engine: Engine, spec: Config | ChurnSpec) -> pd.DataFrame:
    """The labelled churn table: the customers table's feature columns and its churn label.

    Parameters
    ----------
    engine
        Engine with a ``customers`` table holding ``customer_id``, the label column and the
        feature columns.
    spec
        The config (its ``churn`` section) or the ``ChurnSpec``: ``label_column`` (required)
        and ``feature_columns`` (empty: every numeric, boolean, text or category column except
        ``customer_id``, the label, dates and timestamps such as ``first_seen``, and ingest's
        ``identified``).

    Returns
    -------
    pandas.DataFrame
        One row per customer_id with a label (sorted): ``customer_id``, the feature columns in
        the order asked (numbers as float, booleans as 0/1 float, text/categories as strings;
        missing values kept), then ``churned`` (bool). ``attrs``: ``label_column``,
        ``notes`` (list of sentences: rows dropped for a blank label, date columns left out).

    Raises
    ------
    ChurnDataError
        Unexpected label values (see :func:`label_values`); only one class.
    ValueError
        No label column configured, unknown columns, a requested feature that is a date, the
        label listed as a feature, repeated or missing customer ids.
    """
    churn = _spec(spec)
    if not churn.label_column:
        raise ValueError(
            "churn.label_column is not set: labelled churn data need the customers column "
            "holding the churn flag (non-contractual data use training_frame instead)"
        )
    label = churn.label_column
    empty = require_columns(engine, "customers", ["customer_id", label])
    notes: list[str] = []
    words = _NOTES.get(report_language(spec), _NOTES["en"])
    features = _feature_columns(empty, label, churn.feature_columns, notes, words)
    select = ", ".join(quote(c, "customers column") for c in ["customer_id", *features, label])
    df = engine.query(f"SELECT {select} FROM customers")
    n_missing = int(df["customer_id"].isna().sum())
    n_repeated = int(df["customer_id"].dropna().duplicated().sum())
    if n_missing or n_repeated:
        raise ValueError(
            "the customers table must hold one row per customer: "
            f"{n_missing} row(s) without customer_id, {n_repeated} repeated customer_id row(s)"
        )
    y, blank = label_values(df[label], column=label)
    if blank:
        notes.append(words["blank"].format(blank=blank, n=len(df), label=repr(label)))
        log.info(notes[-1])
    keep = y.notna().to_numpy()
    out = df.loc[keep, ["customer_id"]].copy()
    for c in features:
        out[c] = _feature_values(df.loc[keep, c])
    out[LABEL] = y[keep].astype(bool).to_numpy()
    check_classes(out[LABEL], where=f"label column {label!r}")
    out = out.sort_values("customer_id", ignore_index=True)
    out.attrs = {"label_column": label, "notes": notes}
    return out


#: The notes of :func:`labelled_frame` per report language.
_NOTES: dict[str, dict[str, str]] = {
    "en": {
        "blank": "{blank} of {n} customers have a blank {label} and are left out (they can be "
        "scored, not learned from)",
        "dates": "left out (dates or other non-feature types): {dates}; derive a number such "
        "as tenure in days if it matters",
    },
    "id": {
        "blank": "{blank} dari {n} pelanggan memiliki {label} kosong dan tidak diikutkan "
        "(mereka dapat diberi skor, tetapi tidak dipelajari)",
        "dates": "tidak diikutkan (tanggal atau tipe lain yang bukan fitur): {dates}; turunkan "
        "angka seperti lama berlangganan dalam hari bila perlu",
    },
}


def _feature_columns(
    empty: pd.DataFrame,
    label: str,
    wanted: Sequence[str],
    notes: list[str],
    words: dict[str, str] | None = None,
) -> list[str]:
    dtypes = empty.dtypes
    if not wanted:
        cols, dates = [], []
        for c in empty.columns:
            if c in ("customer_id", label, *_BOOKKEEPING):
                continue
            if _kind(dtypes[c]) is None:
                dates.append(c)
            else:
                cols.append(c)
        if dates:
            notes.append((words or _NOTES["en"])["dates"].format(dates=dates))
        if not cols:
            raise ValueError("the customers table has no feature columns besides the label")
        return cols
    problems = []
    repeated = sorted({c for c in wanted if list(wanted).count(c) > 1})
    if repeated:
        problems.append(f"listed more than once: {repeated}")
    if "customer_id" in wanted:
        problems.append("customer_id is an identifier, not a feature")
    if label in wanted:
        problems.append(f"the label column {label!r} cannot be a feature")
    unknown = [c for c in wanted if c not in empty.columns]
    if unknown:
        problems.append(f"not columns of the customers table: {unknown}")
    for c in wanted:
        if c in empty.columns and c != "customer_id" and _kind(dtypes[c]) is None:
            problems.append(
                f"column {c!r} is of type {dtypes[c]}, not a number, yes/no or category "
                "(derive a number such as tenure in days, or leave it out)"
            )
    if problems:
        raise ValueError("churn.feature_columns: " + "; ".join(problems))
    return list(dict.fromkeys(wanted))


def _feature_values(s: pd.Series) -> pd.Series:
    if _kind(s.dtype) == "numeric":
        return s.astype("float64")
    return s.astype("string")


def holdout_split(
    frame: pd.DataFrame,
    *,
    test_size: float = 0.3,
    random_state: int = 0,
    label: str = LABEL,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A stratified held-out split of a labelled frame: the churn share is the same in both parts.

    Parameters
    ----------
    frame
        One row per customer with the ``label`` column.
    test_size
        Share of customers held out, in (0, 1).
    random_state
        Seed of the split.

    Returns
    -------
    train, test
        Two frames with the columns of ``frame``, index reset; every customer in exactly one.

    Raises
    ------
    ChurnDataError
        Too few churners or non-churners to put at least one of each on each side.
    """
    from sklearn.model_selection import train_test_split

    if label not in frame.columns:
        raise ValueError(f"the frame has no label column {label!r}")
    y = frame[label].to_numpy(dtype=bool)
    churners, stayers = check_classes(y, where="held-out split")
    if min(churners, stayers) < 2:
        raise ChurnDataError(
            f"held-out split: {churners} churner(s) and {stayers} non-churner(s); each side needs "
            "at least one of both"
        )
    train, test = train_test_split(
        frame, test_size=test_size, stratify=y, random_state=random_state
    )
    return train.reset_index(drop=True), test.reset_index(drop=True)
