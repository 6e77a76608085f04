"""Sessions: derive them from inactivity gaps when the source has none.

A session is a run of one customer's events in which no two consecutive events are more than
``timeout`` apart (the web-analytics convention; 30 minutes by default). Events of one customer
at the same timestamp stay in one session. The session id is ``<customer_id>-<n>`` with ``n``
counting that customer's sessions from 1 in time order, so it is stable for the same data.

Two implementations of that one rule: :func:`sessionize` on a pandas frame (an analyst's events,
tests) and :func:`number_sorted`, which ingest applies batch by batch to the millions of events
it streams out of DuckDB sorted by customer and time (:mod:`journeylib.ingest_events`);
``tests/test_sessions.py`` holds them equal.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def sessionize(
    events: pd.DataFrame,
    *,
    timeout_minutes: float = 30.0,
    customer_col: str = "customer_id",
    ts_col: str = "ts",
    session_col: str = "session_id",
) -> pd.DataFrame:
    """Add a session id to every event.

    Parameters
    ----------
    events
        One row per event; needs ``customer_col`` and ``ts_col``. Not modified.
    timeout_minutes
        An inactivity gap strictly longer than this starts a new session.

    Returns
    -------
    pandas.DataFrame
        The same rows (one per event) sorted by customer and time, with ``session_col`` added
        (replaced if present).

    Examples
    --------
    >>> ev = pd.DataFrame({"customer_id": ["a", "a", "a", "b"],
    ...     "ts": pd.to_datetime(["2025-01-01 10:00", "2025-01-01 10:20",
    ...                           "2025-01-01 11:00", "2025-01-01 10:00"], utc=True)})
    >>> sessionize(ev)["session_id"].tolist()
    ['a-1', 'a-1', 'a-2', 'b-1']
    """
    if events.empty:
        out = events.copy()
        out[session_col] = pd.Series(dtype="string")
        return out
    out = events.sort_values([customer_col, ts_col], kind="stable").reset_index(drop=True)
    cust = out[customer_col].astype("string")
    codes = pd.factorize(cust)[0]
    ts = out[ts_col].to_numpy()
    new_session = np.ones(len(out), dtype=bool)
    gap = np.diff(ts) > np.timedelta64(int(timeout_minutes * 60_000_000), "us")
    new_session[1:] = (codes[1:] != codes[:-1]) | gap
    number = pd.Series(new_session.astype("int64")).groupby(codes, sort=False).cumsum()
    out[session_col] = (cust + "-" + number.astype("string")).astype("string")
    return out


@dataclass(frozen=True)
class Carry:
    """Where the previous batch of a sorted event stream ended (see :func:`number_sorted`)."""

    customer: str | None = None
    ts_us: int = 0
    session: int = 0
    seq: int = 0


def number_sorted(
    customers: pa.Array,
    ts_us: np.ndarray,
    *,
    timeout_minutes: float = 30.0,
    carry: Carry = Carry(),
) -> tuple[np.ndarray, np.ndarray, np.ndarray, Carry]:
    """Session number and path position of each event of a stream sorted by customer and time.

    The rule of :func:`sessionize` without a sort or a ``GROUP BY``: ingest streams the events
    out of the engine sorted by ``customer_id, ts, event`` in batches, and numbers them here.

    Parameters
    ----------
    customers
        The batch's customer ids (Arrow strings), sorted; a customer may go on from the
        previous batch.
    ts_us
        The batch's timestamps in microseconds (int64), ascending within each customer.
    carry
        The :class:`Carry` the previous batch returned (the default: the stream's start).

    Returns
    -------
    session, seq, first, carry
        Per event: the session number (1, 2, ... per customer), the position in the customer's
        events (1, 2, ...), and whether it is the customer's first event; then the carry for
        the next batch.
    """
    m = len(ts_us)
    if m == 0:
        return np.empty(0, "int64"), np.empty(0, "int64"), np.empty(0, bool), carry
    first = np.empty(m, dtype=bool)
    first[0] = carry.customer is None or customers[0].as_py() != carry.customer
    if m > 1:
        first[1:] = pc.not_equal(customers.slice(1), customers.slice(0, m - 1)).to_numpy(
            zero_copy_only=False
        )
    gap = np.empty(m, dtype=bool)
    limit = int(timeout_minutes * 60_000_000)  # whole microseconds, as sessionize
    gap[0] = ts_us[0] - carry.ts_us > limit
    gap[1:] = np.diff(ts_us) > limit
    new_session = first | gap
    idx = np.arange(m)
    # index of the row where the row's customer starts in this batch; -1: from the last batch
    start = np.maximum.accumulate(np.where(first, idx, -1))
    going_on = start < 0
    seq = np.where(going_on, carry.seq + idx + 1, idx - start + 1)
    sessions_so_far = np.cumsum(new_session)
    at_start = sessions_so_far[np.maximum(start, 0)]
    session = np.where(going_on, carry.session + sessions_so_far, sessions_so_far - at_start + 1)
    carry = Carry(customers[m - 1].as_py(), int(ts_us[-1]), int(session[-1]), int(seq[-1]))
    return session.astype("int64"), seq.astype("int64"), first, carry
