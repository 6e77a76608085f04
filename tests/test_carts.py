"""Cart abandonment and cross-session recovery: hand-computed tiny frames, planted truth."""

from __future__ import annotations

import pandas as pd
import pytest
from event_frames import frame

from journeylib import carts as C


def test_cart_abandonment_same_session_later_session_and_lost():
    day = 24 * 60
    ev = frame(
        [
            ("a", 0, "add_to_cart", "a1"), ("a", 5, "purchase", "a1"),        # not abandoned
            ("b", 0, "add_to_cart", "b1"),                                  # abandoned ...
            ("b", 2 * day, "page_view", "b2", "email"),                     # ... b2 starts by email
            ("b", 2 * day + 1, "purchase", "b2", "direct"),                 # ... recovered
            ("c", 0, "add_to_cart", "c1"), ("c", 8 * day, "purchase", "c2"),  # after 7 days: lost
            ("d", 0, "add_to_cart", "d1"), ("d", 1, "add_to_cart", "d1"),   # one cart, lost
            ("e", 0, "page_view", "e1"), ("e", 1, "purchase", "e1"),        # no cart at all
        ]
    )  # fmt: skip
    before = ev.copy()
    row = C.cart_abandonment(ev).iloc[0]
    # denominator: 4 customer-sessions with add_to_cart (a1, b1, c1, d1)
    assert row[["carts", "purchased_in_session", "abandoned", "recovered", "lost"]].tolist() == [
        4, 1, 3, 1, 2,
    ]  # fmt: skip
    assert row["in_session_abandonment_rate"] == pytest.approx(3 / 4)
    assert row["recovery_rate"] == pytest.approx(1 / 3)
    assert row["abandonment_rate"] == pytest.approx(2 / 4)
    # data ends on day 8: d1's recovery period (to day 7) is complete, so nothing is censored
    assert row["censored"] == 0
    assert C.cart_abandonment(ev, recovery_days=9)["recovered"].item() == 2  # c now in time
    ch = C.cart_recovery_channels(ev)
    # the channel of the recovering session's first event (email), not of the purchase row
    assert ch.to_dict("records") == [
        {"channel": "email", "recovered_carts": 1, "customers": 1, "share": 1.0}
    ]
    pd.testing.assert_frame_equal(ev, before)


def test_cart_abandonment_counts_censored_carts_and_custom_names():
    ev = frame([("a", 0, "cart"), ("b", 0, "cart"), ("b", 60, "x", "b2")])
    # the summary needs no channel column (only cart_recovery_channels does)
    row = C.cart_abandonment(ev.drop(columns="channel"), cart_event="cart", purchase_event="buy")
    row = row.iloc[0]
    assert row["abandoned"] == 2 and row["censored"] == 2  # data ends 1 h later
    with pytest.raises(ValueError, match="must differ"):
        C.cart_abandonment(ev, cart_event="cart", purchase_event="cart")
    with pytest.raises(ValueError, match="recovery_days"):
        C.cart_abandonment(ev, recovery_days=-1)


def test_customers_with_one_event_and_all_events_on_one_day():
    ev = frame([("a", 0, "A"), ("b", 0, "B"), ("c", 0, "A"), ("c", 0, "B"), ("d", 3, "A")])
    assert C.cart_abandonment(ev, cart_event="A", purchase_event="B")["carts"].item() == 3


def test_empty_events_give_zero_rows_not_a_crash():
    ev = frame([("a", 0, "A")]).iloc[:0]
    assert C.cart_abandonment(ev)["carts"].item() == 0
    assert C.cart_recovery_channels(ev).empty


# ---------------------------------------------------------------------------------------------
# Planted truth (synthetic client)
# ---------------------------------------------------------------------------------------------
def test_cart_abandonment_in_planted_range(synth_client):
    row = C.cart_abandonment(synth_client.engine).iloc[0]
    # planted: ~67% of carts abandoned within the session; 45% of those retargeted
    assert 0.60 <= row["in_session_abandonment_rate"] <= 0.75
    assert row["recovered"] > 0 and row["abandonment_rate"] < row["in_session_abandonment_rate"]
    ch = C.cart_recovery_channels(synth_client.engine).set_index("channel")
    assert ch["share"].sum() == pytest.approx(1.0)
    # planted: the retargeting return sessions come by email or whatsapp
    assert ch["share"].reindex(["email", "whatsapp"]).fillna(0).sum() > 0.8


def test_cart_tables_in_passes_over_customer_ranges_equal_one_query(synth_client, same_in_passes):
    """Above 30M events the cart counts run per range of customers (the end of the data, which
    decides the censored carts, is everyone's): they equal one query's, exactly."""
    from journeylib.engine import DuckDBEngine

    engine = DuckDBEngine(synth_client.config.processed_dir)
    parts, calls = same_in_passes(
        engine,
        lambda: [
            C.cart_abandonment(engine, recovery_days=30),
            C.cart_recovery_channels(engine, recovery_days=30),
        ],
    )
    assert len(calls) == 2
    # a 30-day recovery period runs past the end of the data for some carts
    assert parts[0]["censored"].iloc[0] > 0
    carts = engine.scalar(
        "SELECT COUNT(DISTINCT (customer_id, session_id)) FROM events WHERE event = 'add_to_cart'"
    )
    assert parts[0]["carts"].iloc[0] == carts
    assert parts[1]["recovered_carts"].sum() == parts[0]["recovered"].iloc[0]
