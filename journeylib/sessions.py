"""Sessions: derive them from inactivity gaps when the source has none.

A session is a run of one customer's events in which no two consecutive events are more than
``timeout`` apart (the web-analytics convention; 30 minutes by default). Events of one customer
at the same timestamp stay in one session. The session id is ``<customer_id>-<n>`` with ``n``
counting that customer's sessions from 1 in time order, so it is stable for the same data.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


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
