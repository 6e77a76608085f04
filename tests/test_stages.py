"""Journey stages: a hand-worked customer, the planted truth, and bad inputs."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest
from pydantic import ValidationError

from journeylib import stages as st
from journeylib.config import StageRule, StageSignal
from journeylib.engine import engine_for


def _ts(s: str) -> pd.Timestamp:
    return pd.Timestamp(s, tz="UTC")


def _events(rows):
    df = pd.DataFrame(rows, columns=["customer_id", "ts", "event", "session_id"])
    df["ts"] = pd.to_datetime(df["ts"], utc=True)
    df["channel"], df["device"] = "direct", "mobile"
    df["product_id"], df["value"], df["campaign"] = None, None, None
    return df


EVENTS = _events(
    [
        # customer a: a full journey
        ("a", "2025-01-01 10:00", "page_view", "a-1"),
        ("a", "2025-01-01 10:05", "view_item", "a-1"),  # session a-1 reaches consideration
        ("a", "2025-01-03 09:00", "page_view", "a-2"),  # a-2 only lands: awareness
        ("a", "2025-01-05 12:00", "add_to_cart", "a-3"),  # a-3 reaches decision
        ("a", "2025-01-05 12:10", "purchase", "a-3"),
        ("a", "2025-01-06 08:00", "contact_support", "a-4"),  # unmapped: listed, not a stage
        # customer b: one event, recent
        ("b", "2025-06-29 10:00", "page_view", "b-1"),
        # customer c: only an unmapped event
        ("c", "2025-03-01 10:00", "contact_support", "c-1"),
    ]
)
ORDERS = pd.DataFrame(
    {
        "order_id": ["o1", "o2"],
        "customer_id": ["a", "a"],
        "ts": [_ts("2025-01-05 12:10"), _ts("2025-01-20 08:00")],
        "product_id": ["p1", "p2"],
        "quantity": [1.0, 1.0],
        "revenue": [10.0, 20.0],
    }
)
FEEDBACK = pd.DataFrame(
    {
        "customer_id": ["a", "b"],
        "ts": [_ts("2025-01-25 00:00"), _ts("2025-06-29 11:00")],
        "kind": ["nps", "nps"],
        "score": [10.0, 6.0],  # a is a promoter, b is not
    }
)
AS_OF = "2025-06-30"


@pytest.fixture
def engine():
    return engine_for(events=EVENTS, orders=ORDERS, feedback=FEEDBACK)


def test_customer_stages_by_hand(engine):
    cs = st.customer_stages(engine, st.StageModel(), as_of=AS_OF).set_index("customer_id")
    # c has no stage signal at all, so it is not a row (it is counted by unmapped_events)
    assert list(cs.index) == ["a", "b"]
    a = cs.loc["a"]
    # signals of a in time order (session level + orders + feedback):
    #   Jan 1 10:00 consideration (a-1) | Jan 3 09:00 awareness (a-2) | Jan 5 12:00 decision (a-3)
    #   Jan 5 12:10 decision (order o1) | Jan 20 08:00 decision (o2) and retention (o2 is the 2nd
    #   order, 15 days after o1 <= 90) | Jan 25 advocacy (NPS 10)
    assert (a["furthest_stage"], a["current_stage"]) == ("advocacy", "advocacy")
    # entry dates are exact event times: awareness at the first page_view, consideration 10:05
    assert a["entered_awareness"] == _ts("2025-01-01 10:00")
    assert a["entered_consideration"] == _ts("2025-01-01 10:05")
    assert a["entered_decision"] == _ts("2025-01-05 12:00")
    assert a["entered_retention"] == _ts("2025-01-20 08:00")
    # dwell: a run lasts until the next run starts; the last until the last activity (Jan 25)
    assert a["dwell_days_consideration"] == pytest.approx(47 / 24)  # Jan 1 10:00 -> Jan 3 09:00
    assert a["dwell_days_awareness"] == pytest.approx(2 + 3 / 24)  # Jan 3 09:00 -> Jan 5 12:00
    assert a["dwell_days_decision"] == pytest.approx(14 + 20 / 24)  # Jan 5 12:00 -> Jan 20 08:00
    assert a["dwell_days_retention"] == pytest.approx(4 + 16 / 24)  # Jan 20 08:00 -> Jan 25
    assert a["dwell_days_advocacy"] == pytest.approx(0.0)
    # last activity Jan 25 is more than 90 days before the end of Jun 30: a has exited
    assert a["lapsed"]
    b = cs.loc["b"]
    assert (b["furthest_stage"], b["current_stage"], b["lapsed"]) == (
        "awareness",
        "awareness",
        False,
    )
    assert b["dwell_days_awareness"] == pytest.approx(1 / 24)  # page_view 10:00 -> NPS 11:00
    assert pd.isna(b["entered_decision"])


def test_transitions_by_hand(engine):
    tr = st.stage_transitions(engine, st.StageModel(), as_of=AS_OF)
    moves = {(r.from_stage, r.to_stage): (r.kind, r.transitions) for r in tr.itertuples()}
    assert moves == {
        ("(start)", "consideration"): ("entry", 1),  # a
        ("(start)", "awareness"): ("entry", 1),  # b
        ("consideration", "awareness"): ("regression", 1),
        ("awareness", "decision"): ("forward", 1),
        ("decision", "retention"): ("forward", 1),
        ("retention", "advocacy"): ("forward", 1),
        ("advocacy", "(exit)"): ("exit", 1),  # a lapsed
        ("awareness", "(active)"): ("active", 1),  # b still active
    }
    # awareness has two moves out (a -> decision, b -> active): each half
    aw = tr[tr["from_stage"] == "awareness"].set_index("to_stage")["probability"]
    assert aw.to_dict() == {"(active)": 0.5, "decision": 0.5}


def test_stage_conversion_and_dwell(engine):
    cs = st.customer_stages(engine, st.StageModel(), as_of=AS_OF)
    conv = st.stage_conversion(cs).set_index("stage")
    assert conv["reached"].tolist() == [2, 1, 1, 1, 1]  # b is only aware
    assert conv.loc["awareness", "conversion_to_next"] == 0.5
    assert conv.loc["consideration", "conversion_to_next"] == 1.0
    dwell = st.dwell_summary(cs).set_index("stage")
    # awareness dwell: a 2.125 days, b 1/24 day -> median of two = their mean
    assert dwell.loc["awareness", "median_days"] == pytest.approx((2 + 3 / 24 + 1 / 24) / 2)


def test_event_stages_and_unmapped(engine):
    view = st.event_stages(engine, st.StageModel())
    staged = engine.query(f"SELECT event, stage FROM {view} ORDER BY customer_id, ts")
    assert staged["stage"].tolist()[:5] == [
        "awareness",
        "consideration",
        "awareness",
        "decision",
        "decision",
    ]
    un = st.unmapped_events(engine, st.StageModel())
    # contact_support is no stage signal: 2 events from 2 customers, listed, not dropped
    assert un.to_dict("records") == [
        {"event": "contact_support", "events": 2, "customers": 2, "share": 0.25}
    ]
    stage_events = engine.query("SELECT COUNT(*) AS n FROM journey_stage_events")["n"][0]
    assert stage_events == 6


def test_furthest_event_stage_wins_and_conditions():
    # 'view_item' signals consideration, but 'view_item' of value >= 100 on email signals decision
    rules = (
        StageRule(name="awareness", events=["page_view"]),
        StageRule(name="consideration", events=["view_item"]),
        StageRule(
            name="decision", events=[{"event": "view_item", "channel": ["email"], "min_value": 100}]
        ),
    )
    ev = _events([("a", "2025-01-01", "view_item", "s1"), ("b", "2025-01-01", "view_item", "s2")])
    ev["channel"] = ["email", "email"]
    ev["value"] = [150.0, 50.0]
    eng = engine_for(events=ev, orders=ORDERS.iloc[:0], feedback=FEEDBACK.iloc[:0])
    cs = st.customer_stages(eng, st.StageModel(rules=rules)).set_index("customer_id")
    assert cs["furthest_stage"].to_dict() == {"a": "decision", "b": "consideration"}


def test_labels_in_bahasa_indonesia():
    model = st.StageModel(language="id")
    assert [model.label(n) for n in model.names] == [
        "Kesadaran",
        "Pertimbangan",
        "Keputusan",
        "Retensi",
        "Advokasi",
    ]
    assert st.StageModel().label("decision") == "Decision"
    # the pseudo-stages of the transition matrix too; English keeps the machine names
    assert [model.label(n) for n in (st.START, st.EXIT, st.ACTIVE)] == [
        "(awal)",
        "(keluar)",
        "(masih aktif)",
    ]
    assert st.StageModel().label(st.EXIT) == "(exit)"


def test_stage_charts_in_bahasa_indonesia(engine):
    cs = st.customer_stages(engine, st.StageModel(), as_of=AS_OF)
    conv = st.stage_conversion(cs)
    # the chart follows the model's language; an explicit language wins
    fig = st.plot_stage_conversion(conv, st.StageModel(language="id"))
    assert fig.layout.title.text == "Pelanggan yang mencapai setiap tahap"
    assert fig.layout.yaxis.title.text == "pelanggan"
    assert list(fig.data[0].x) == ["Kesadaran", "Pertimbangan", "Keputusan", "Retensi", "Advokasi"]
    en = st.plot_stage_conversion(conv, st.StageModel(language="id"), language="en")
    assert en.layout.title.text == "Customers reaching each stage"
    assert list(en.data[0].x)[:2] == ["Awareness", "Consideration"]
    tr = st.stage_transitions(engine, st.StageModel(), as_of=AS_OF)
    fig = st.plot_transition_matrix(tr, st.StageModel(), language="id")
    assert (fig.layout.xaxis.title.text, fig.layout.yaxis.title.text) == ("ke", "dari")
    assert list(fig.data[0].y)[0] == "(awal)" and list(fig.data[0].x)[-2:] == [
        "(keluar)",
        "(masih aktif)",
    ]


# ---------------------------------------------------------------------------------------------
# planted truth
# ---------------------------------------------------------------------------------------------
TRUTH_RULES = (
    # the synthetic truth's own stage definition (journeylib/synth/frames.py): decision = any
    # order, retention = 2+ orders, advocacy = a buyer who reviewed, referred or promoted
    StageRule(name="awareness", events=["page_view", "view_promotion"]),
    StageRule(
        name="consideration", events=["view_item", "search", "add_to_wishlist", "compare_products"]
    ),
    StageRule(name="decision", signals=[StageSignal(kind="order")]),
    StageRule(name="retention", signals=[StageSignal(kind="repeat_purchase")]),
    StageRule(
        name="advocacy",
        events=["write_review", "refer_friend"],
        signals=[
            StageSignal(kind="feedback", feedback_kind="nps", min_score=9),
            StageSignal(kind="feedback", feedback_kind="review", min_score=0),
        ],
    ),
)


def test_recovers_planted_stages_and_per_persona_hazards(synth_client):
    model = st.StageModel(rules=TRUTH_RULES)
    cs = st.customer_stages(synth_client.engine, model)
    truth = synth_client.truth.merge(cs, on="customer_id", how="left", suffixes=("_true", ""))
    truth["furthest_stage"] = truth["furthest_stage"].fillna("awareness")
    assert (truth["furthest_stage"] == truth["furthest_stage_true"]).all()
    # hazards: P(reach stage k+1 | reached stage k) per persona, estimated from the events
    # (our stage table) and from the simulator's own record; they must be identical
    order = {n: i for i, n in enumerate(model.names)}
    for col in ("furthest_stage", "furthest_stage_true"):
        truth[col + "_no"] = truth[col].map(order)

    def hazards(no: pd.Series) -> list[float]:
        return [(no >= k + 1).sum() / max((no >= k).sum(), 1) for k in range(len(order) - 1)]

    est = truth.groupby("persona")["furthest_stage_no"].apply(hazards)
    true = truth.groupby("persona")["furthest_stage_true_no"].apply(hazards)
    for persona in true.index:
        assert est[persona] == pytest.approx(true[persona], abs=1e-12)
    # and the personas really differ: decision hazard (consideration -> decision) spread
    decision = {p: h[1] for p, h in est.items()}
    assert max(decision.values()) > 2 * min(decision.values())


def test_default_rules_on_synthetic_data(synth_client):
    model = st.StageModel()
    cs = st.customer_stages(synth_client.engine, model, as_of="2025-06-30")
    conv = st.stage_conversion(cs).set_index("stage")
    # every journey starts aware; decision needs a cart or an order; the funnel narrows
    assert conv.loc["awareness", "share_of_all"] > 0.95
    assert conv.loc["decision", "reached"] < conv.loc["consideration", "reached"]
    tr = st.stage_transitions(synth_client.engine, model, as_of="2025-06-30")
    # probabilities out of each stage sum to one
    assert tr.groupby("from_stage")["probability"].sum().tolist() == pytest.approx([1.0] * 6)
    assert {"regression", "exit", "forward", "entry", "active"} <= set(tr["kind"])


# ---------------------------------------------------------------------------------------------
# bad inputs
# ---------------------------------------------------------------------------------------------
def test_rule_naming_an_event_that_never_occurs_warns(engine):
    rules = (*st.DEFAULT_STAGES[:2], StageRule(name="decision", events=["add_to_bag"]))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cov = st.rule_coverage(engine, st.StageModel(rules=rules))
    messages = [str(w.message) for w in caught]
    # the tiny log has no view_promotion, search, ... either: one warning per missing rule event
    assert (
        "stage rule 'decision' names event 'add_to_bag', which never occurs in the data" in messages
    )
    assert len(messages) == int((cov["events"] == 0).sum()) == 5
    assert cov.set_index("event").loc["add_to_bag", "events"] == 0
    # the analysis itself still runs: nobody reaches decision
    cs = st.customer_stages(engine, st.StageModel(rules=rules))
    assert cs["entered_decision"].isna().all()


def test_all_events_on_one_day_and_single_events():
    ev = _events(
        [
            ("a", "2025-02-01 10:00", "page_view", "a-1"),
            ("a", "2025-02-01 10:01", "view_item", "a-1"),
            ("b", "2025-02-01 11:00", "page_view", "b-1"),
        ]
    )
    eng = engine_for(events=ev, orders=ORDERS.iloc[:0], feedback=FEEDBACK.iloc[:0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cs = st.customer_stages(eng, st.StageModel(), as_of="2025-02-01").set_index("customer_id")
    assert cs["furthest_stage"].to_dict() == {"a": "consideration", "b": "awareness"}
    assert cs.loc["b", "dwell_days_awareness"] == 0.0
    assert not cs["lapsed"].any()


def test_config_rejects_bad_stage_rules():
    with pytest.raises(ValidationError, match="needs feedback_kind and min_score"):
        StageSignal(kind="feedback")
    from journeylib.config import Config

    base = {
        "client": "x",
        "data": {
            "raw_dir": ".",
            "sources": {
                t: {"path": f"{t}.csv", "columns": cols}
                for t, cols in {
                    "customers": {"customer_id": "id"},
                    "events": {"customer_id": "id", "ts": "ts", "event": "e"},
                    "orders": {
                        "order_id": "o",
                        "customer_id": "id",
                        "ts": "ts",
                        "product_id": "p",
                        "quantity": "q",
                        "revenue": "r",
                    },
                    "feedback": {"customer_id": "id", "ts": "ts", "kind": "k", "score": "s"},
                }.items()
            },
        },
    }
    with pytest.raises(ValidationError, match="repeated: \\['a'\\]"):
        Config.model_validate({**base, "stages": [{"name": "a"}, {"name": "a"}]})


def test_customer_stages_are_kept_per_processed_folder(synth_client, tmp_path, monkeypatch):
    """A run asks for the same stage table up to six times (notebooks 10, 30, 40, the features,
    the playbook): it is computed once per processed folder, model and cut-off."""
    import dataclasses
    import shutil

    from journeylib.engine import CACHE_DIR, DuckDBEngine

    folder = tmp_path / "processed"
    shutil.copytree(synth_client.config.processed_dir, folder)
    shutil.rmtree(folder / CACHE_DIR, ignore_errors=True)
    model = st.StageModel.from_config(synth_client.config)
    fresh = st.customer_stages(DuckDBEngine(folder), model, as_of="2025-05-31")
    kept = list((folder / CACHE_DIR).glob("customer_stages-*.parquet"))
    assert len(kept) == 1

    def not_again(*args, **kwargs):
        raise AssertionError("computed again")

    monkeypatch.setattr(st, "_customer_stages", not_again)
    again = st.customer_stages(DuckDBEngine(folder), model, as_of="2025-05-31")
    pd.testing.assert_frame_equal(again, fresh, check_exact=True)  # same dtypes too
    monkeypatch.undo()

    # another cut-off, another model, a changed file, or a frame in place of the events:
    # computed, never the kept table
    computed = []
    real = st._customer_stages
    monkeypatch.setattr(st, "_customer_stages", lambda *a: computed.append(1) or real(*a))
    st.customer_stages(DuckDBEngine(folder), model, as_of="2025-04-30")
    longer = dataclasses.replace(model, lapse_days=model.lapse_days + 30)
    st.customer_stages(DuckDBEngine(folder), longer, as_of="2025-05-31")
    (folder / "orders.parquet").touch()
    st.customer_stages(DuckDBEngine(folder), model, as_of="2025-05-31")
    engine = DuckDBEngine(folder)
    engine.register("events", pd.read_parquet(folder / "events.parquet").head(100))
    small = st.customer_stages(engine, model, as_of="2025-05-31")
    assert computed == [1, 1, 1, 1] and len(small) < len(fresh)


def test_customer_stages_in_passes_over_customer_ranges_equal_one_query(synth_client):
    """Above CUSTOMER_PASS_EVENTS the stage table is built per range of customers, each pass
    seeing only its customers' events, orders and feedback; the table is the same."""
    from journeylib.engine import DuckDBEngine

    engine = DuckDBEngine(synth_client.config.processed_dir)
    model = st.StageModel.from_config(synth_client.config)
    events = int(engine.scalar("SELECT COUNT(*) FROM events"))
    one = st._customer_stages(engine, model, "2025-05-31", "events")
    parts = st._customer_stages(engine, model, "2025-05-31", "events", pass_events=events // 6)
    pd.testing.assert_frame_equal(parts, one, check_exact=True)
    assert one["customer_id"].str[0].nunique() == 16  # every range held customers
    # the narrowing views are gone: the engine sees every event again
    assert int(engine.scalar("SELECT COUNT(*) FROM events")) == events
    assert engine.tables() == DuckDBEngine(synth_client.config.processed_dir).tables()


def test_stage_transitions_in_passes_add_up_to_one_query(synth_client, monkeypatch):
    import journeylib.engine as engine_module
    from journeylib.engine import DuckDBEngine

    engine = DuckDBEngine(synth_client.config.processed_dir)
    model = st.StageModel.from_config(synth_client.config)
    one = st.stage_transitions(engine, model, as_of="2025-05-31")
    events = int(engine.scalar("SELECT COUNT(*) FROM events"))
    monkeypatch.setattr(engine_module, "CUSTOMER_PASS_EVENTS", events // 5)
    parts = st.stage_transitions(engine, model, as_of="2025-05-31")
    pd.testing.assert_frame_equal(parts, one, check_exact=False, rtol=1e-12)
    assert one["customers"].sum() > one["customers"].max()  # several moves, several customers
