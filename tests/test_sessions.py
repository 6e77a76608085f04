"""Sessionisation: an inactivity gap strictly longer than the timeout starts a new session."""

import pandas as pd

from journeylib.sessions import sessionize


def _events(rows):
    return pd.DataFrame(rows, columns=["customer_id", "ts"]).assign(
        ts=lambda d: pd.to_datetime(d["ts"], utc=True)
    )


def test_gaps_split_sessions_per_customer():
    ev = _events(
        [
            ("b", "2025-01-01 10:00"),
            ("a", "2025-01-01 10:31"),  # 31 min after a's first event -> new session
            ("a", "2025-01-01 10:00"),
            ("a", "2025-01-01 11:01"),  # exactly 30 min after 10:31 -> same session
            ("a", "2025-01-02 09:00"),
        ]
    )
    out = sessionize(ev, timeout_minutes=30)
    assert out[["customer_id", "session_id"]].values.tolist() == [
        ["a", "a-1"],
        ["a", "a-2"],
        ["a", "a-2"],
        ["a", "a-3"],
        ["b", "b-1"],
    ]
    # grain: one row per input event, input not mutated
    assert len(out) == len(ev) and "session_id" not in ev.columns


def test_same_timestamp_and_custom_timeout():
    ev = _events([("a", "2025-01-01 10:00"), ("a", "2025-01-01 10:00"), ("a", "2025-01-01 10:06")])
    assert sessionize(ev, timeout_minutes=5)["session_id"].tolist() == ["a-1", "a-1", "a-2"]


def test_empty_input():
    out = sessionize(_events([]))
    assert out.empty and "session_id" in out.columns
