"""Sessionisation: an inactivity gap strictly longer than the timeout starts a new session."""

import numpy as np
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


def _numbered_in_batches(ev: pd.DataFrame, cuts: list[int], timeout: float) -> pd.DataFrame:
    """number_sorted over ``ev`` (sorted by customer and time) cut into batches at ``cuts``."""
    import pyarrow as pa

    from journeylib.sessions import Carry, number_sorted

    carry, sessions, seqs, firsts = Carry(), [], [], []
    bounds = [0, *cuts, len(ev)]
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
        part = ev.iloc[lo:hi]
        session, seq, first, carry = number_sorted(
            pa.array(part["customer_id"].tolist(), pa.string()),
            part["ts"].to_numpy().astype("datetime64[us]").astype("int64"),
            timeout_minutes=timeout,
            carry=carry,
        )
        sessions += session.tolist()
        seqs += seq.tolist()
        firsts += first.tolist()
    return ev.assign(
        session_id=[f"{c}-{n}" for c, n in zip(ev["customer_id"], sessions, strict=True)],
        event_seq=seqs,
        first=firsts,
    )


def test_number_sorted_follows_the_rule_by_hand():
    ev = _events(
        [
            ("a", "2025-01-01 10:00"),
            ("a", "2025-01-01 10:30"),  # exactly 30 min: same session
            ("a", "2025-01-01 11:01"),  # 31 min: new session
            ("b", "2025-01-01 11:02"),  # a new customer starts session 1 whatever the gap
            ("b", "2025-01-01 11:02"),  # same second: same session
        ]
    )
    # cut after the first and the fourth event: a session and a customer go on across batches
    out = _numbered_in_batches(ev, [1, 4], timeout=30)
    assert out["session_id"].tolist() == ["a-1", "a-1", "a-2", "b-1", "b-1"]
    assert out["event_seq"].tolist() == [1, 2, 3, 1, 2]
    assert out["first"].tolist() == [True, False, False, True, False]


def test_number_sorted_equals_sessionize_on_random_events_and_batches():
    rng = np.random.default_rng(7)
    n = 3000
    ev = pd.DataFrame(
        {
            "customer_id": rng.choice([f"c{k:03d}" for k in range(80)], n),
            # minutes apart drawn so that gaps around the 30-minute timeout are common
            "ts": pd.Timestamp("2025-01-01", tz="UTC")
            + pd.to_timedelta(rng.integers(0, 60 * 24 * 5, n), unit="min"),
        }
    )
    want = sessionize(ev, timeout_minutes=30)  # sorted by customer and time
    cuts = sorted(rng.choice(np.arange(1, n), 25, replace=False).tolist())
    got = _numbered_in_batches(want.drop(columns="session_id"), cuts, timeout=30)
    assert got["session_id"].tolist() == want["session_id"].tolist()
    assert got["event_seq"].tolist() == (want.groupby("customer_id").cumcount() + 1).tolist()
