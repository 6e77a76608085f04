"""Tiny hand-written event frames for the journey-analysis tests.

``frame`` builds the funnel, drop-off and cart examples (minutes after ``FUNNEL_T0``, with
session, channel and device defaults); ``journeys`` the path and friction examples (minutes after
``PATHS_T0``, a Monday, so ISO weeks are easy to read).
"""

from __future__ import annotations

import pandas as pd

FUNNEL_T0 = pd.Timestamp("2025-03-01 10:00", tz="UTC")


def at(minutes: float) -> pd.Timestamp:
    return FUNNEL_T0 + pd.Timedelta(minutes=minutes)


def frame(rows: list[tuple], **extra: list) -> pd.DataFrame:
    """Events from (customer_id, minutes after FUNNEL_T0, event[, session_id[, channel[, device]]])."""
    cols = ["customer_id", "ts", "event", "session_id", "channel", "device"]
    full = []
    for r in rows:
        c, m, e, *rest = r
        rest += [None] * (3 - len(rest))
        full.append((c, at(m), e, rest[0] or f"{c}-1", rest[1] or "direct", rest[2] or "mobile"))
    df = pd.DataFrame(full, columns=cols)
    df["ts"] = df["ts"].astype("datetime64[us, UTC]")
    for k, v in extra.items():
        df[k] = v
    return df


PATHS_T0 = pd.Timestamp("2025-01-06 10:00", tz="UTC")  # a Monday


def journeys(rows: list[tuple[str, int, str]], session: str | None = None) -> pd.DataFrame:
    """Events frame from (customer, minutes after PATHS_T0, event) triples."""
    cust, minutes, event = zip(*rows, strict=True)
    df = pd.DataFrame(
        {
            "customer_id": list(cust),
            "ts": [PATHS_T0 + pd.Timedelta(minutes=m) for m in minutes],
            "event": list(event),
        }
    )
    df["session_id"] = df["customer_id"] + "-1" if session is None else session
    return df


def timeline_engine(df: pd.DataFrame, folder):  # noqa: ANN001, ANN201 - Path -> DuckDBEngine
    """An engine over ``df`` written as a processed folder with its event timelines, the way
    ingest leaves it (so funnels read the timelines instead of grouping the events)."""
    from pathlib import Path

    from journeylib.engine import DuckDBEngine
    from journeylib.timelines import write_event_timelines

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    df.to_parquet(folder / "events.parquet", index=False)
    with DuckDBEngine(folder, threads=1) as engine:
        write_event_timelines(engine, "events", folder)
    return DuckDBEngine(folder, threads=1)
