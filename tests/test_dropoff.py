"""Drop-off diagnosis: who leaves a funnel after each step, where they go, who comes back.

Hand-computed tiny frames (``dropoff_events`` in conftest: the funnel A -> B -> C of five
customers); the funnel journey and the strict sequence are those of journeylib.funnels.
"""

from __future__ import annotations

import pandas as pd
import pytest
from event_frames import frame

from journeylib import dropoff as D


def test_dropoff_next_events_dwell_and_recovery(dropoff_events):
    res = D.dropoff(dropoff_events, ["A", "B", "C"], window="1D", recovery_days=7)
    s = res.summary.set_index("step_no")
    assert s.loc[1, ["reached", "dropped"]].tolist() == [5, 2]  # b, e
    assert s.loc[2, ["reached", "dropped"]].tolist() == [3, 2]  # c, d
    assert s.loc[1, "dropoff_rate"] == pytest.approx(0.4)
    # dwell = last event in the 1-day journey - time of the step: b 20 min, e 2 min
    assert s.loc[1, "dwell_median"] == pd.Timedelta(minutes=11)
    # c: 6 - 4 = 2 min (C two days later is outside the window), d: 0
    assert s.loc[2, "dwell_median"] == pd.Timedelta(minutes=1)
    # recovered = C within 7 days after the window end (t1 + 1 day): c (day 2) yes, e (day 9) no
    assert s["recovered"].tolist() == [0, 1]
    assert s["recoverable_share"].tolist() == pytest.approx([0.0, 0.5])
    nxt = res.next_events
    assert nxt[nxt["step_no"] == 1][["next_event", "customers"]].values.tolist() == [["search", 2]]
    step2 = nxt[nxt["step_no"] == 2].set_index("next_event")["customers"].to_dict()
    assert step2 == {D.NO_NEXT_EVENT: 1, "help": 1}
    assert nxt.groupby("step_no")["share"].sum().tolist() == pytest.approx([1.0, 1.0])
    dwell = res.dwell
    assert set(dwell["step_no"]) == {1, 2}
    assert dwell.groupby("step_no")["customers"].sum().tolist() == [2, 2]


def test_dropoff_top_n_folds_the_rest_into_other(dropoff_events):
    res = D.dropoff(dropoff_events, ["A", "B", "C"], window="1D", top_n=1)
    step2 = res.next_events[res.next_events["step_no"] == 2]
    # tie of 1 and 1: alphabetical order keeps "(no further event)", "help" becomes "(other)"
    assert step2["next_event"].tolist() == [D.NO_NEXT_EVENT, D.OTHER_EVENTS]


def test_dropped_customers_list_and_unbounded_recovery(dropoff_events):
    out = D.dropped_customers(dropoff_events, ["A", "B", "C"], step=2, window="1D")
    assert out["customer_id"].tolist() == ["c", "d"]
    assert out["recovered"].tolist() == [True, False]
    assert out["dwell"].tolist() == [pd.Timedelta(minutes=2), pd.Timedelta(0)]
    assert out["next_event"].tolist() == ["help", D.NO_NEXT_EVENT]
    # unbounded: the strict sequence has no window, so c converts; e's C on day 9 comes more
    # than 7 days after it reached A (the drop point of an unbounded journey): not recovered
    unb = D.dropped_customers(dropoff_events, ["A", "B", "C"], step=1, recovery_days=10)
    assert unb["customer_id"].tolist() == ["b", "e"]
    assert unb["recovered"].tolist() == [False, True]  # 9 days <= 10
    with pytest.raises(ValueError, match="between 1 and 2"):
        D.dropped_customers(dropoff_events, ["A", "B", "C"], step=3)


def test_empty_events_give_zero_rows_not_a_crash():
    ev = frame([("a", 0, "A")]).iloc[:0]
    assert D.dropoff(ev, ["A", "B"]).summary["dropped"].tolist() == [0]


def test_inputs_not_mutated_and_grain_holds(dropoff_events):
    before = dropoff_events.copy()
    steps = ["A", "B", "C"]
    res = D.dropoff(dropoff_events, steps)
    assert not res.next_events.duplicated(["step_no", "next_event"]).any()
    assert not res.dwell.duplicated(["step_no", "bucket"]).any()
    assert not D.dropped_customers(dropoff_events, steps, step=1)["customer_id"].duplicated().any()
    pd.testing.assert_frame_equal(dropoff_events, before)


def test_dropoff_in_passes_over_customer_ranges_equals_one_query(synth_client, same_in_passes):
    """Above 30M events the drop-off rows run per range of customers (from the timelines and the
    events): the summary, next events, dwell and the exported customers equal one query's."""
    from journeylib.engine import DuckDBEngine

    engine = DuckDBEngine(synth_client.config.processed_dir)
    steps = ["view_item", "add_to_cart", "begin_checkout", "purchase"]

    def tables() -> list[pd.DataFrame]:
        d = D.dropoff(engine, steps, window="7D", exclude=["remove_from_cart"])
        listed = D.dropped_customers(engine, steps, step=2, window="7D")
        return [d.summary, d.next_events, d.dwell, listed]

    parts, calls = same_in_passes(engine, tables)
    assert len(calls) == 2
    assert parts[0]["dropped"].min() > 10 and len(parts[3]) > 10
    # the reached counts chain: reached at k + 1 = reached at k - dropped at k
    s = parts[0]
    assert (s["reached"].iloc[1:].to_numpy() == (s["reached"] - s["dropped"]).iloc[:-1]).all()
