"""Configuration and result containers of the synthetic generator."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator


class SynthConfig(BaseModel):
    """What to generate. Equal configs generate byte-identical files.

    Parameters
    ----------
    n_customers : int
        Number of CRM customers (anonymous visitors come on top, ~2.5% of visitor ids).
    seed : int
        Root seed; each chunk of customers gets its own child stream.
    start, end : date
        First and last day (inclusive) of the observation period, local Asia/Jakarta time.
    language : {"en", "id"}
        Language of feedback comments (English or Bahasa Indonesia).
    chunk_size : int
        Customers per independently seeded chunk. Part of the identity of the data: changing it
        changes the random streams (and so the data), like changing the seed.

    Examples
    --------
    >>> SynthConfig(n_customers=10, seed=1).language
    'en'
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    n_customers: int = Field(300, ge=1, le=100_000_000)
    seed: int = Field(42, ge=0)
    start: dt.date = dt.date(2025, 1, 1)
    end: dt.date = dt.date(2025, 6, 30)
    language: Literal["en", "id"] = "en"
    chunk_size: int = Field(50_000, ge=1)

    @model_validator(mode="after")
    def _check_period(self) -> SynthConfig:
        if (self.end - self.start).days < 30:
            raise ValueError("end must be at least 30 days after start")
        return self


@dataclass
class SynthData:
    """Raw-export shaped tables plus the planted truth.

    Timestamps are naive local (Asia/Jakarta) ``datetime64[s]``; :func:`~journeylib.synth.write_raw`
    formats them as ``%Y-%m-%d %H:%M:%S``.

    Attributes
    ----------
    customers, web_events, identity_map, orders, feedback, spend, products : DataFrame
        One frame per raw export file, with exactly the file's columns.
    truth_customers : DataFrame
        One row per customer_ref: persona, churn, satisfaction, furthest stage, ...
    sessions : DataFrame
        Truth per simulated session (not written to disk): channel, device, outcome, incident.
    effects : dict
        Every planted global parameter (written as ``_truth/effects.json``).
    """

    customers: pd.DataFrame
    web_events: pd.DataFrame
    identity_map: pd.DataFrame
    orders: pd.DataFrame
    feedback: pd.DataFrame
    spend: pd.DataFrame
    products: pd.DataFrame
    truth_customers: pd.DataFrame
    sessions: pd.DataFrame
    effects: dict[str, Any] = field(default_factory=dict)
