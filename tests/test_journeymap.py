"""The journey map (journeylib.journeymap): tables counted by hand, renderings checked for safety.

The tiny shop below uses the default five stages: page_view / view_promotion -> awareness,
view_item / search -> consideration, add_to_cart / purchase and every order -> decision, a
repeat order within 90 days -> retention, NPS 9-10 -> advocacy. contact_support maps to no stage.
"""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pandas as pd
import pytest
from event_frames import at, frame

from journeylib.config import PlaybookAction, PlaybookRule, PlaybookSpec, ReportSpec
from journeylib.engine import engine_for
from journeylib.journeymap import (
    JSON_SCHEMA,
    JSON_VERSION,
    ROWS,
    journey_map,
    opportunities,
    persona_maps,
    plot_emotion,
    stage_actions,
    stage_channels,
    stage_emotion,
)
from journeylib.stages import DEFAULT_STAGES, StageModel

MODEL = StageModel()


def _events() -> pd.DataFrame:
    return frame(
        [
            ("a", 0, "page_view", "a-1", "social", "mobile"),
            ("a", 1, "view_item", "a-1", "social", "mobile"),
            ("a", 2, "view_item", "a-1", "social", "mobile"),
            ("a", 3, "add_to_cart", "a-1", "social", "mobile"),
            ("b", 0, "page_view", "b-1", "organic_search", "desktop"),
            ("b", 1, "search", "b-1", "organic_search", "desktop"),
            ("b", 60, "page_view", "b-2", "email", "desktop"),
            ("c", 0, "view_promotion", "c-1", "paid_social", "mobile"),
            ("c", 1, "view_item", "c-1", "paid_social", "mobile"),
            ("c", 50, "add_to_cart", "c-2", "whatsapp", "mobile"),
            ("c", 51, "purchase", "c-2", "whatsapp", "mobile"),
            ("d", 0, "page_view", "d-1", "social", "tablet"),
            ("d", 5, "contact_support", "d-1", "social", "tablet"),
        ]
    )


def _orders() -> pd.DataFrame:
    # c's web order (two lines, no channel) and b's store order: one decision signal each
    return pd.DataFrame(
        {
            "order_id": ["O1", "O1", "O2"],
            "customer_id": ["c", "c", "b"],
            "ts": [at(51), at(51), at(100)],
            "product_id": ["p1", "p2", "p3"],
            "quantity": [1.0, 1.0, 1.0],
            "revenue": [10.0, 5.0, 7.0],
            "channel": [None, None, "offline_store"],
        }
    )


def _feedback() -> pd.DataFrame:
    # c is a promoter (advocacy signal); b's 5 is no signal
    return pd.DataFrame(
        {
            "customer_id": ["c", "b"],
            "ts": [at(200), at(210)],
            "kind": ["nps", "nps"],
            "score": [10.0, 5.0],
        }
    )


def _personas() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["a", "b", "c"],
            "persona": [1, 1, 2],
            "persona_label": ["Browsers", "Browsers", "Buyers"],
        }
    )


@pytest.fixture
def engine():
    return engine_for(events=_events(), orders=_orders(), feedback=_feedback())


def _row(df: pd.DataFrame, **where) -> pd.Series:
    mask = np.ones(len(df), dtype=bool)
    for k, v in where.items():
        mask &= (df[k] == v).to_numpy()
    assert mask.sum() == 1, where
    return df[mask].iloc[0]


# ---- actions -------------------------------------------------------------------------------------
def test_stage_actions_counted_by_hand(engine):
    acts = stage_actions(engine, MODEL, top_n=None)
    assert not acts.duplicated(["stage", "action"]).any()  # grain: stage x action
    # awareness: a, b, d viewed a page (b twice), c saw a promotion -> 4 customers in the stage
    pv = _row(acts, stage="awareness", action="page_view")
    assert (pv["customers"], pv["events"], pv["stage_customers"], pv["rank"]) == (3, 4, 4, 1)
    assert pv["share"] == pytest.approx(3 / 4)
    vp = _row(acts, stage="awareness", action="view_promotion")
    assert (vp["customers"], vp["share"], vp["rank"]) == (1, 0.25, 2)
    # consideration: a and c viewed items (3 views), b searched
    vi = _row(acts, stage="consideration", action="view_item")
    assert (vi["customers"], vi["events"], vi["stage_customers"]) == (2, 3, 3)
    # decision: a, c added to cart; b and c ordered (order signals); c purchased on the web.
    # Ties (2 customers, 2 events) go by name: add_to_cart before order.
    dec = acts[acts["stage"] == "decision"].set_index("action")
    assert list(dec.index) == ["add_to_cart", "order", "purchase"]
    assert list(dec["customers"]) == [2, 2, 1]
    assert dec.loc["order", "source"] == "order"
    assert dec["share"].tolist() == pytest.approx([2 / 3, 2 / 3, 1 / 3])
    # advocacy: c's NPS 10 is the only promoter signal
    adv = _row(acts, stage="advocacy")
    assert (adv["action"], adv["source"], adv["customers"], adv["share"]) == (
        "nps 9+",
        "feedback",
        1,
        1.0,
    )
    # no repeat order: retention has no actions; contact_support maps to no stage
    assert "retention" not in set(acts["stage"])
    assert "contact_support" not in set(acts["action"])
    # stages in journey order
    assert acts["stage_no"].is_monotonic_increasing


def test_stage_actions_top_n_and_as_of(engine):
    top1 = stage_actions(engine, MODEL, top_n=1)
    assert top1.groupby("stage").size().max() == 1
    assert _row(top1, stage="decision")["action"] == "add_to_cart"
    # as of the day before the data: nothing
    assert stage_actions(engine, MODEL, as_of="2025-02-28").empty
    # without orders/feedback in the engine the signals are skipped, events still counted
    events_only = stage_actions(engine_for(events=_events()), MODEL, top_n=None)
    assert "order" not in set(events_only["action"])
    assert _row(events_only, stage="decision", action="add_to_cart")["share"] == 1.0


def test_stage_actions_by_persona(engine):
    engine.register("persona_assignments", _personas())
    acts = stage_actions(engine, MODEL, top_n=None, by="persona")
    assert not acts.duplicated(["persona", "stage", "action"]).any()
    # persona 1 = a, b: both viewed a page (3 events); d has no persona and is left out
    pv = _row(acts, persona=1, stage="awareness", action="page_view")
    assert (pv["customers"], pv["events"], pv["share"], pv["persona_label"]) == (
        2,
        3,
        1.0,
        "Browsers",
    )
    # persona 2 = c: awareness only through the promotion
    aw2 = acts[(acts["persona"] == 2) & (acts["stage"] == "awareness")]
    assert aw2["action"].tolist() == ["view_promotion"]


def test_by_persona_needs_the_table(engine):
    with pytest.raises(ValueError, match="persona_assignments"):
        stage_actions(engine, MODEL, by="persona")
    with pytest.raises(ValueError, match="by must be one of"):
        stage_channels(engine, MODEL, by="device")


# ---- channels --------------------------------------------------------------------------------
def test_stage_channels_counted_by_hand(engine):
    ch = stage_channels(engine, MODEL, top_n=None)
    assert not ch.duplicated(["stage", "touchpoint"]).any()
    # awareness visits: a-1 social, b-1 organic, b-2 email, c-1 paid social, d-1 social
    aw = ch[ch["stage"] == "awareness"].set_index("touchpoint")
    assert aw.loc["social", "touches"] == 2 and aw.loc["social", "rank"] == 1
    assert aw["share"].to_dict() == pytest.approx(
        {"social": 0.4, "email": 0.2, "organic_search": 0.2, "paid_social": 0.2}
    )
    assert aw["stage_touches"].unique().tolist() == [5]
    # decision: a-1 (social) and c-2 (whatsapp) sessions, plus b's store order; c's web order
    # has no channel and is no extra touch
    dec = ch[ch["stage"] == "decision"].set_index("touchpoint")
    assert dec["share"].to_dict() == pytest.approx(
        {"offline_store": 1 / 3, "social": 1 / 3, "whatsapp": 1 / 3}
    )
    assert dec.loc["offline_store", ["sessions", "orders"]].tolist() == [0, 1]
    assert dec.loc["whatsapp", ["sessions", "orders"]].tolist() == [1, 0]
    # the shares of every stage sum to one
    assert ch.groupby("stage")["share"].sum().to_numpy() == pytest.approx(1.0)


def test_stage_devices_counted_by_hand(engine):
    dev = stage_channels(engine, MODEL, dimension="device", top_n=2)
    aw = dev[dev["stage"] == "awareness"]
    # mobile (a-1, c-1) and desktop (b-1, b-2) tie on 2 visits; mobile reaches 2 customers
    assert aw["touchpoint"].tolist() == ["mobile", "desktop"]
    assert aw["share"].tolist() == pytest.approx([0.4, 0.4])
    assert set(dev["dimension"]) == {"device"}
    assert dev.groupby("stage").size().max() <= 2


# ---- emotion ---------------------------------------------------------------------------------
def _context() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "stage": ["decision"] * 4 + ["consideration"] * 2 + ["advocacy", "(none)"],
            "kind": ["nps", "nps", "nps", "nps", "social", "social", "review", "review"],
            "score": [10, 9, 3, 7, np.nan, np.nan, 5, 1],
            "sat": [1.0, 0.8, -0.4, 0.4, np.nan, np.nan, 1.0, -1.0],
            "sentiment": [np.nan, 0.5, np.nan, np.nan, -0.5, -0.3, np.nan, np.nan],
        }
    )


def test_stage_emotion_by_hand():
    ctx = _context()
    before = ctx.copy()
    emo = stage_emotion(ctx, MODEL, min_n=2)
    pd.testing.assert_frame_equal(ctx, before)  # input not mutated
    assert emo["stage"].tolist() == MODEL.names  # every stage, in order; "(none)" left out
    dec = _row(emo, stage="decision")
    # mean of 1, .8, -.4, .4 = .45; sd = sqrt(1.15 / 3); t(.975, 3) = 3.182446
    assert dec["sat_mean"] == pytest.approx(0.45)
    half = 3.182446 * math.sqrt(1.15 / 3) / 2
    assert dec["sat_low"] == pytest.approx(0.45 - half, abs=1e-5)
    assert dec["sat_high"] == pytest.approx(0.45 + half, abs=1e-5)
    # NPS: 2 promoters (10, 9), 1 detractor (3) of 4 -> +25; var = .75 - .25^2
    assert dec["nps"] == pytest.approx(25.0)
    assert dec["nps_n"] == 4
    assert dec["nps_high"] - dec["nps"] == pytest.approx(196 * math.sqrt(0.6875 / 4))
    assert (dec["emotion"], dec["emotion_source"], dec["available"]) == (0.45, "satisfaction", True)
    assert dec["sentiment_mean"] == pytest.approx(0.5)
    # consideration: social posts only -> the emotion is the text sentiment (-.5 + -.3) / 2
    con = _row(emo, stage="consideration")
    assert con["emotion"] == pytest.approx(-0.4)
    assert (con["emotion_source"], con["n"], con["n_scored"], con["available"]) == (
        "sentiment",
        2,
        0,
        True,
    )
    assert math.isnan(con["nps"])
    # advocacy: one review (5 stars) is below min_n = 2 -> computed but not available
    adv = _row(emo, stage="advocacy")
    assert (adv["emotion"], adv["n"], adv["available"]) == (1.0, 1, False)
    assert math.isnan(adv["sat_low"])
    # awareness, retention: no answer
    for stage in ("awareness", "retention"):
        row = _row(emo, stage=stage)
        assert row["n"] == 0 and not row["available"] and math.isnan(row["emotion"])


def test_stage_emotion_without_feedback():
    for ctx in (None, _context().iloc[:0]):
        emo = stage_emotion(ctx, MODEL)
        assert emo["stage"].tolist() == MODEL.names
        assert not emo["available"].any()
        assert (emo["n"] == 0).all()


def test_stage_emotion_by_persona_and_bad_input():
    ctx = _context().assign(persona=[1, 1, 2, 2, 1, 1, 2, 2])
    emo = stage_emotion(ctx, MODEL, min_n=1, by="persona")
    assert len(emo) == 2 * len(MODEL.names)  # persona x stage
    # persona 1 at decision: 1.0 and 0.8 -> 0.9; both promoters -> NPS +100
    p1 = _row(emo, persona=1, stage="decision")
    assert (p1["sat_mean"], p1["nps"]) == (pytest.approx(0.9), pytest.approx(100.0))
    bad = _context()
    bad.loc[2, "sat"] = 3.0
    with pytest.raises(ValueError, match=r"'sat' must lie in \[-1, 1\]; 1 row"):
        stage_emotion(bad, MODEL)
    with pytest.raises(ValueError, match="lacks column"):
        stage_emotion(_context().drop(columns="sat"), MODEL)


def test_plot_emotion_leaves_gaps():
    emo = stage_emotion(_context(), MODEL, min_n=2)
    fig = plot_emotion(emo, MODEL)
    line = [t for t in fig.data if t.mode == "lines+markers"][0]
    y = np.asarray(line.y, dtype=float)
    assert np.isnan(y[0]) and y[2] == pytest.approx(0.45) and np.isnan(y[4])
    assert list(fig.layout.xaxis.ticktext) == [MODEL.label(s) for s in MODEL.names]


def test_plot_emotion_in_indonesian():
    emo = stage_emotion(_context(), MODEL, min_n=2)
    idn = StageModel(language="id")
    fig = plot_emotion(emo, idn, language="id")
    # the stages by their Indonesian labels, the trace named in Indonesian
    assert list(fig.layout.xaxis.ticktext) == [idn.label(s) for s in idn.names]
    assert list(fig.layout.xaxis.ticktext)[0] != MODEL.label(MODEL.names[0])
    assert "emosi" in {t.name for t in fig.data}
    assert "emosi selang kepercayaan 95%" in {t.name for t in fig.data}
    assert "emotion" in {t.name for t in plot_emotion(emo, MODEL).data}
    with pytest.raises(ValueError, match="language"):
        plot_emotion(emo, MODEL, language="fr")


# ---- opportunities ---------------------------------------------------------------------------
def _pain_points() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "rank": [1, 2, 3, 4, 5, 6],
            "kind": ["incident", "friction", "abandonment", "loop", "friction", "drop_off"],
            "stage": ["decision", "decision", "decision", "decision", "retention", "consideration"],
            "event": ["begin_checkout", "payment_error", "add_to_cart", pd.NA, "delivery_late",
                      "view_item"],
            "device": ["mobile", pd.NA, pd.NA, pd.NA, pd.NA, pd.NA],
            "title": ["Checkout <b>x</b> on mobile", "Payment errors", "Abandoned carts",
                      "Loops", "Late deliveries", "Drop after viewing"],
            "customers": [300, 46, 500, 20, 46, 1200],
            "conversions_at_stake": [95.0, 10.0, 80.0, 2.0, np.nan, 40.0],
            "revenue_at_stake": [12_345_000.0, np.nan, 3e6, np.nan, np.nan, 1e6],
        }
    )  # fmt: skip


def test_opportunities_from_the_playbook():
    opp = opportunities(_pain_points(), PlaybookSpec())
    dec = opp[opp["stage"] == "decision"]
    # top 3 pain points of the decision stage, in rank order
    assert dec["pain_point_rank"].tolist() == [1, 2, 3] and dec["rank"].tolist() == [1, 2, 3]
    inc = dec.iloc[0]
    assert inc["text"].startswith("Fix and monitor begin checkout on mobile; add an alert")
    # the wording of the playbook actions, reused: the friction rule's and the cart rule's
    assert (inc["action"], inc["action_label"]) == (
        "service_recovery",
        "Apology and service follow-up",
    )
    assert "payment methods" in dec.iloc[1]["text"]
    assert dec.iloc[2]["action_label"] == "Cart recovery email"
    assert dec.iloc[0]["value_at_stake"] == 12_345_000.0
    late = _row(opp, stage="retention")
    assert "delivery" in late["text"] and "SLA" in late["text"]
    # a drop-off links to the first rule naming its stage ("considering": comparison content)
    assert _row(opp, stage="consideration")["action"] == "comparison_content"
    # top_n per stage
    assert opportunities(_pain_points(), PlaybookSpec(), top_n=1).groupby("stage").size().max() == 1
    # a loop has no playbook action
    four = opportunities(_pain_points(), PlaybookSpec(), top_n=4)
    assert pd.isna(_row(four, pain_point_rank=4)["action"])


def test_opportunities_in_indonesian_and_a_custom_playbook():
    opp = opportunities(_pain_points(), None, language="id")
    assert _row(opp, pain_point_rank=3)["action_label"] == "Email pengingat keranjang belanja"
    assert "Perbaiki dan pantau" in _row(opp, pain_point_rank=1)["text"]
    spec = PlaybookSpec(
        actions={"nudge": PlaybookAction(label="WhatsApp nudge", label_id="Colekan WhatsApp")},
        rules=[PlaybookRule(name="carts", action="nudge", when={"abandoned_cart": True})],
    )
    custom = opportunities(_pain_points(), spec)
    assert _row(custom, pain_point_rank=3)["action"] == "nudge"
    assert pd.isna(_row(custom, pain_point_rank=1)["action"])  # no friction rule, no fallback


def test_opportunities_bad_and_empty_input():
    bad = _pain_points()
    bad.loc[4, "kind"] = "bad_kind"
    with pytest.raises(
        ValueError, match=r"1 row\(s\) are not \(first row positions, 0-based: \[4\]\)"
    ):
        opportunities(bad, PlaybookSpec())
    assert opportunities(None, PlaybookSpec()).empty
    assert opportunities(_pain_points().iloc[:0], PlaybookSpec()).empty


# ---- the map ---------------------------------------------------------------------------------
def _map(engine, model=MODEL, **kwargs):
    actions = stage_actions(engine, model)
    channels = pd.concat(
        [stage_channels(engine, model), stage_channels(engine, model, dimension="device")]
    )
    pp = _pain_points()
    kwargs.setdefault("emotion", stage_emotion(_context(), model, min_n=2))
    return journey_map(
        model,
        actions=actions,
        channels=channels,
        pain_points=pp,
        opportunities=opportunities(pp, PlaybookSpec(), language=kwargs.get("language", "en")),
        title="Tiny shop",
        **kwargs,
    )


def _assert_safe(html: str) -> None:
    assert "<script" not in html.lower()
    assert not re.search(r"https?://", html)
    assert "<img" not in html and "@import" not in html and "url(" not in html


def test_map_html_is_self_contained_and_escaped(engine):
    rules = (DEFAULT_STAGES[0].model_copy(update={"label": "<b>x</b>"}), *DEFAULT_STAGES[1:])
    m = _map(engine, StageModel(rules=rules))
    html = m.to_html()
    _assert_safe(html)
    assert "<b>x</b>" not in html and "&lt;b&gt;x&lt;/b&gt;" in html  # label and pain title
    assert m._repr_html_() == html
    assert html.count('<tr class="jm-row-') == 6  # five rows; emotion has a curve + values line
    assert "@media print" in html and "A4 landscape" in html
    assert "<svg" in html and html.count("<circle") == 2  # decision and consideration only
    # the pain point numbers, formatted with the report's separators
    assert "12.345.000" in html and "300 customers" in html


def test_map_json_round_trips_with_every_stage(engine):
    m = _map(engine)
    data = json.loads(m.to_json())
    assert (data["schema"], data["version"]) == ("journeylib.journey_map", JSON_VERSION)
    assert [s["name"] for s in data["stages"]] == MODEL.names
    assert [s["position"] for s in data["stages"]] == [1, 2, 3, 4, 5]
    assert [r["key"] for r in data["rows"]] == list(ROWS)
    aw = data["stages"][0]
    assert aw["customers"] == 4 and aw["actions"][0]["action"] == "page_view"
    assert aw["emotion"]["available"] is False and aw["emotion"]["value"] is None  # NaN -> null
    dec = data["stages"][2]
    assert dec["emotion"]["value"] == pytest.approx(0.45)
    assert [p["rank"] for p in dec["pain_points"]] == [1, 2, 3]
    assert dec["pain_points"][1]["revenue_at_stake"] is None
    assert dec["opportunities"][0]["action"] == "service_recovery"
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.validate(data, JSON_SCHEMA)


def test_map_to_frame(engine):
    df = _map(engine).to_frame()
    assert set(df["row"]) <= set(ROWS)
    emo = df[df["row"] == "emotion"]
    assert emo["stage"].tolist() == MODEL.names  # one emotion cell per stage
    assert emo["value"].isna().tolist() == [True, False, False, True, True]
    assert emo["text"].iat[0] == "not available"
    assert emo["text"].iat[4] == "not available (n = 1, fewer than 2)"  # one review, min_n = 2
    first = df[(df["stage"] == "awareness") & (df["row"] == "actions")].iloc[0]
    assert (first["text"], first["value"], first["unit"]) == ("Page view 75%", 0.75, "share")


def test_map_without_feedback_still_renders(engine):
    for emotion in (None, stage_emotion(None, MODEL)):
        m = _map(engine, emotion=emotion)
        html = m.to_html()
        _assert_safe(html)
        assert html.count(">not available<") == 2 * len(MODEL.names)  # curve labels + cells
        assert "<circle" not in html
        data = json.loads(m.to_json())
        assert not any(s["emotion"]["available"] for s in data["stages"])


def test_map_in_indonesian(engine):
    m = _map(engine, language="id", report=ReportSpec(language="id"))
    html = m.to_html()
    for word in ("Kesadaran", "Pertimbangan", "Keputusan", "Retensi", "Advokasi"):
        assert word in html
    for title in ("Aktivitas pelanggan", "Titik kontak", "Emosi", "Peluang perbaikan"):
        assert title in html
    assert "tidak tersedia" in html and "pelanggan" in html
    assert "Email pengingat keranjang belanja" in html
    assert json.loads(m.to_json())["stages"][0]["label"] == "Kesadaran"


def test_persona_maps(engine):
    engine.register("persona_assignments", _personas())
    actions = stage_actions(engine, MODEL, by="persona")
    channels = stage_channels(engine, MODEL, by="persona")
    maps = persona_maps(MODEL, actions=actions, channels=channels, pain_points=_pain_points())
    assert list(maps) == ["Browsers", "Buyers"]
    buyers = maps["Buyers"].to_dict()
    assert buyers["persona"] == "Buyers"
    assert [a["action"] for a in buyers["stages"][0]["actions"]] == ["view_promotion"]
    # shared pain points appear in every persona's map
    assert buyers["stages"][2]["pain_points"][0]["rank"] == 1
    with pytest.raises(ValueError, match="holds 2 personas"):
        journey_map(
            MODEL, actions=actions, channels=None, emotion=None, pain_points=None,
            opportunities=None,
        )  # fmt: skip
    one = journey_map(
        MODEL, actions=actions, channels=channels, emotion=None, pain_points=None,
        opportunities=None, persona=1,
    )  # fmt: skip
    assert one.persona == "Browsers"
    assert set(one.actions["persona"]) == {1}


# ---- real-shaped data ------------------------------------------------------------------------
def test_map_on_synthetic_client(synth_client):
    engine, config = synth_client.engine, synth_client.config
    model = StageModel.from_config(config)
    actions = stage_actions(engine, model, top_n=3)
    # an independent count: customers with a page_view
    page_viewers = engine.scalar("SELECT COUNT(DISTINCT customer_id) FROM events "
                                 "WHERE event = 'page_view'")  # fmt: skip
    assert _row(actions, stage="awareness", action="page_view")["customers"] == page_viewers
    channels = pd.concat(
        [stage_channels(engine, model), stage_channels(engine, model, dimension="device")]
    )
    fb = engine.query("SELECT kind, score FROM feedback")
    # a stand-in for the voice module's context: NPS at decision, reviews at advocacy
    fb["stage"] = fb["kind"].map({"nps": "decision", "review": "advocacy"}).fillna("(none)")
    fb["sat"] = np.where(fb["kind"] == "nps", (fb["score"] - 5) / 5, (fb["score"] - 3) / 2)
    fb["sat"] = fb["sat"].where(fb["kind"] != "social")
    emotion = stage_emotion(fb, model)
    m = journey_map(
        model,
        actions=actions,
        channels=channels,
        emotion=emotion,
        pain_points=_pain_points(),
        opportunities=opportunities(_pain_points(), config.playbook),
        title=config.report.title,
        report=config.report,
    )
    data = json.loads(m.to_json())
    assert len(data["stages"]) == 5 and [s["name"] for s in data["stages"]] == model.names
    assert data["stages"][2]["emotion"]["available"]
    html = m.to_html()
    _assert_safe(html)
    assert html.count('<th scope="col">') == 5


def test_stage_channels_first_touch_and_ties():
    # one visit touches two stages: it counts once in each, with the channel of its first event
    # in that stage. x's first two events share a timestamp: the tie goes to the channel listed
    # first in schema.CHANNELS (organic_search before social), whatever the row order.
    ev = frame(
        [
            ("x", 0, "page_view", "x-1", "social", "mobile"),
            ("x", 0, "page_view", "x-1", "organic_search", "mobile"),
            ("x", 3, "view_item", "x-1", "email", "mobile"),
            ("x", 4, "page_view", "x-1", "email", "mobile"),
        ]
    )
    for df in (ev, ev.iloc[[1, 0, 2, 3]]):  # either row order of the tie
        ch = stage_channels(engine_for(events=df), MODEL, top_n=None)
        assert ch[["stage", "touchpoint", "sessions"]].values.tolist() == [
            ["awareness", "organic_search", 1],
            ["consideration", "email", 1],
        ]


def test_stage_tables_in_passes_over_customer_ranges_equal_one_query(
    synth_client, same_in_passes, tmp_path
):
    """Above CUSTOMER_PASS_EVENTS the stage actions and channels (overall and by persona) are
    counted per range of customers, events, orders, feedback and personas narrowed alike, and
    added up: the same tables, exactly."""
    import shutil

    from journeylib.engine import DuckDBEngine

    folder = tmp_path / "processed"
    shutil.copytree(synth_client.config.processed_dir, folder)
    ids = DuckDBEngine(folder).query("SELECT customer_id FROM customers")["customer_id"]
    persona = ids.map(lambda c: int(c[-1], 16) % 3 + 1).astype("int64")
    pd.DataFrame(
        {"customer_id": ids, "persona": persona, "persona_label": "P" + persona.astype(str)}
    ).to_parquet(folder / "persona_assignments.parquet", index=False)
    engine = DuckDBEngine(folder)
    model = StageModel.from_config(synth_client.config)

    def make():
        return [
            stage_actions(engine, model, top_n=None),
            stage_actions(engine, model, top_n=None, by="persona"),
            stage_channels(engine, model, top_n=None),
            stage_channels(engine, model, top_n=None, by="persona", dimension="device"),
        ]

    (actions, by_persona, *_), calls = same_in_passes(engine, make)
    assert len(calls) == 4  # every table was counted in passes
    assert by_persona["persona"].nunique() == 3
    # each stage's customers are those of its personas, added up
    per_stage = by_persona.drop_duplicates(["persona", "stage_no"])
    summed = per_stage.groupby("stage_no")["stage_customers"].sum()
    overall = actions.drop_duplicates("stage_no").set_index("stage_no")["stage_customers"]
    pd.testing.assert_series_equal(summed, overall, check_names=False)
