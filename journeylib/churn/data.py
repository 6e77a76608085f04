"""The frames one churn analysis needs, built from the config: train, test and score.

:func:`churn_data` is what the ``40_churn`` notebook calls first. It reads ``config.churn``:

* **Labelled data** (``label_column`` set): :func:`labelled_frame`, split into train and test
  customers by :func:`holdout_split` (stratified by the label, seeded by ``config.seed``); the
  customers to score are those who have not churned.
* **Non-contractual data**: :func:`time_split` of the config's last day (``as_of``, else
  ``data.window.end``; the last day holding activity when that is earlier); the training frame at the training
  cut-off, the test frame at the test cut-off, and with ``by_customer`` each customer on one
  side only (:func:`customer_split`, a seeded hash of the id); the customers to score are those
  eligible on the last day (:func:`scoring_frame`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from journeylib.churn.labelled import holdout_split, labelled_frame
from journeylib.churn.labels import (
    LABEL,
    TimeSplit,
    check_classes,
    customer_split,
    last_data_day,
    report_language,
    scoring_frame,
    time_split,
    training_frame,
)

if TYPE_CHECKING:  # pragma: no cover
    from journeylib.config import Config
    from journeylib.engine import Engine

__all__ = ["ChurnData", "churn_data", "split_xy"]


@dataclass(frozen=True)
class ChurnData:
    """Train, test and score frames of one churn analysis.

    ``train``/``test``: one row per customer, ``customer_id``, features, ``churned``;
    ``score``: the customers to score now (no label); ``kind``: ``"labelled"`` or ``"time"``;
    ``split``: the cut-offs of a time split (``None`` for labelled data); ``notes``: sentences
    for the report (rows left out, the label definition: ``"label: ..."``), in the config's
    report language.
    """

    kind: str
    train: pd.DataFrame
    test: pd.DataFrame
    score: pd.DataFrame
    split: TimeSplit | None = None
    notes: list[str] = field(default_factory=list)

    def sizes(self) -> pd.DataFrame:
        """One row per frame (train, test, score): customers, churners, churn rate."""
        rows = []
        for role, df in (("train", self.train), ("test", self.test), ("score", self.score)):
            churners = int(df[LABEL].sum()) if LABEL in df.columns else np.nan
            rows.append(
                {
                    "role": role,
                    "customers": len(df),
                    "churners": churners,
                    "churn_rate": churners / len(df) if len(df) and LABEL in df.columns else np.nan,
                    "as_of": df.attrs.get("as_of", ""),
                    "label_window": df.attrs.get("window", ""),
                }
            )
        return pd.DataFrame(rows)


def split_xy(frame: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """``(features with customer_id, churned as bool)`` of a train or test frame."""
    if LABEL not in frame.columns:
        raise ValueError(f"the frame has no label column {LABEL!r}")
    return frame.drop(columns=[LABEL]), frame[LABEL].to_numpy(dtype=bool)


#: The notes of :func:`churn_data` per report language.
_NOTES: dict[str, dict[str, str]] = {
    "en": {
        "data_end": "the data end on {actual}, before the configured {end}: the cut-offs are "
        "set from {actual}",
        "label": "label: {definition}",
        "by_customer": "split by time and by customer: about {share} of customers are test "
        "customers (a seeded hash of the id) and never appear in the training frame",
        "sample": "a large client: the model learns and is tested on a random {share} of the "
        "eligible customers (by pseudonym); every customer is scored",
    },
    "id": {
        "data_end": "data berakhir pada {actual}, sebelum {end} yang dikonfigurasi: tanggal "
        "batas ditetapkan dari {actual}",
        "label": "label: {definition}",
        "by_customer": "dibagi menurut waktu dan menurut pelanggan: sekitar {share} pelanggan "
        "menjadi pelanggan uji (hash id dengan seed) dan tidak pernah muncul di data latih",
        "sample": "klien besar: model belajar dan diuji pada sampel acak {share} dari pelanggan "
        "yang memenuhi syarat (menurut pseudonim); semua pelanggan diberi skor",
    },
}


def churn_data(engine: Engine, config: Config) -> ChurnData:
    """Build the train, test and score frames as ``config.churn`` says (module docstring).

    Raises
    ------
    ChurnDataError
        A window or split without churners (or without non-churners), bad label values.
    ValueError
        The horizon does not fit in the data, bad options.
    """
    spec = config.churn
    if spec.label_column:
        frame = labelled_frame(engine, config)
        train, test = holdout_split(frame, test_size=spec.test_size, random_state=config.seed)
        score = frame[~frame[LABEL]].drop(columns=[LABEL]).reset_index(drop=True)
        notes = list(frame.attrs.get("notes", []))
        return ChurnData("labelled", train, test, score, None, notes)

    actual = last_data_day(engine, activity=spec.activity)
    if actual is None:
        raise ValueError("no activity rows (events, orders or feedback): nothing to label")
    end, notes = config.effective_as_of or actual, []
    words = _NOTES.get(report_language(config), _NOTES["en"])
    if actual < end:
        # a window end the data do not reach would turn the missing days into churn
        notes.append(words["data_end"].format(actual=actual, end=end))
        end = actual
    split = time_split(end, horizon_days=spec.horizon_days, gap_days=spec.gap_days)
    train = training_frame(engine, as_of=split.train_as_of, config=config, data_end=end)
    test = training_frame(engine, as_of=split.test_as_of, config=config, data_end=end)
    notes.append(words["label"].format(definition=train.attrs["definition"]))
    share = min(train.attrs["sample_fraction"], test.attrs["sample_fraction"])
    if share < 1:
        notes.append(words["sample"].format(share=f"{share:.0%}"))
    if spec.by_customer:
        train = _side(train, test_side=False, spec=spec, seed=config.seed)
        test = _side(test, test_side=True, spec=spec, seed=config.seed)
        notes.append(words["by_customer"].format(share=f"{spec.test_size:.0%}"))
    check_classes(train[LABEL], where=f"training customers (window {split.train_window})")
    check_classes(test[LABEL], where=f"test customers (window {split.test_window})")
    score = scoring_frame(engine, as_of=split.score_as_of, config=config)
    return ChurnData("time", train, test, score, split, notes)


def _side(frame: pd.DataFrame, *, test_side: bool, spec: object, seed: int) -> pd.DataFrame:
    is_test = customer_split(frame["customer_id"], test_size=spec.test_size, random_state=seed)
    out = frame[is_test == test_side].reset_index(drop=True)
    out.attrs = dict(frame.attrs)
    return out
