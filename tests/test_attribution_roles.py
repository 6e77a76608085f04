"""Journey roles (journeylib.attribution.roles): hand-checked on a small path table, and the
planted closing/assisting channels of the synthetic client."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from journeylib.attribution import roles
from journeylib.attribution.journeys import build_paths
from journeylib.attribution.pathdata import Paths
from journeylib.engine import engine_for
from journeylib.synth.params import ASSISTING_CHANNELS, CLOSING_CHANNELS
from journeylib.timelag import LAG_BUCKETS, PATH_BUCKETS, plot_path_length, plot_time_lag


@pytest.fixture
def paths() -> Paths:
    """Four converting paths and one non-converting (ignored by every role)."""
    return Paths.from_sequences(
        [
            ["a", "b", "c"],
            ["b", "a"],
            ["c"],
            ["a", "b", "a", "c", "b", "a"],
            ["b", "d"],
        ],
        conversions=[2, 1, 3, 1, 0],
        value=[20, 5, 30, 10, 0],
        nulls=[0, 0, 0, 0, 4],
        lag_days=[[10.5, 3, 0], [0.9, 0], [0.0], [45, 40, 30, 12, 1, 0], [2, 0]],
    )


def by_channel(df: pd.DataFrame) -> dict:
    return df.set_index("channel").to_dict("index")


def test_assisted_conversions_by_hand(paths):
    got = by_channel(roles.assisted_conversions(paths))
    # last touch: c on paths 1 (2 conv) and 3 (3), a on paths 2 (1) and 4 (1)
    # assisted (on the path, not its last touch; once per path): path 1 -> a, b (2 each);
    # path 2 -> b (1); path 4 -> b, c (1 each; a is its last touch, though repeated)
    assert got["a"]["last_touch_conversions"] == 2 and got["a"]["assisted_conversions"] == 2
    assert got["b"]["last_touch_conversions"] == 0 and got["b"]["assisted_conversions"] == 4
    assert got["c"]["last_touch_conversions"] == 5 and got["c"]["assisted_conversions"] == 1
    assert (got["a"]["last_touch_value"], got["a"]["assisted_value"]) == (15, 20)
    assert (got["b"]["last_touch_value"], got["b"]["assisted_value"]) == (0, 35)
    assert (got["c"]["last_touch_value"], got["c"]["assisted_value"]) == (50, 10)
    # ratios: a 2/2 = 1 (balanced), b 4/0 = inf (assists only), c 1/5 = 0.2 (closer);
    # d is only on the non-converting path: NaN, no role
    assert got["a"]["assist_ratio"] == 1.0 and got["a"]["role"] == "balanced"
    assert math.isinf(got["b"]["assist_ratio"]) and got["b"]["role"] == "assister"
    assert got["c"]["assist_ratio"] == pytest.approx(0.2) and got["c"]["role"] == "closer"
    assert math.isnan(got["d"]["assist_ratio"]) and got["d"]["role"] == "none"
    # thresholds are options: with closer_below=0.1 c is balanced
    other = by_channel(roles.assisted_conversions(paths, closer_below=0.1))
    assert other["c"]["role"] == "balanced"
    with pytest.raises(ValueError, match="closer_below"):
        roles.assisted_conversions(paths, closer_below=2, assister_above=1)


def test_assisted_plus_last_touch_is_conversions_with_the_channel(paths):
    t = roles.assisted_conversions(paths).set_index("channel")
    conv = paths.conversions
    for code, ch in enumerate(paths.channels):
        on_path = [i for i in range(paths.n_paths) if code in paths.path_codes(i)]
        assert t.loc[ch, "last_touch_conversions"] + t.loc[ch, "assisted_conversions"] == sum(
            conv[on_path]
        )


def test_role_shares_by_hand(paths):
    got = by_channel(roles.role_shares(paths))
    # path 1 (L=3, weight 2): a early, b mid, c late; path 2 (L=2, weight 1): b early, a late;
    # path 3 (L=1, weight 3): c sole; path 4 (L=6: k=2 early and late, weight 1):
    # a early, b early, a mid, c mid, b late, a late
    assert got["a"]["touches"] == 6
    assert [got["a"][f"{r}_share"] for r in roles.ROLES] == pytest.approx([3 / 6, 1 / 6, 2 / 6, 0])
    assert got["b"]["touches"] == 5
    assert [got["b"][f"{r}_share"] for r in roles.ROLES] == pytest.approx([2 / 5, 2 / 5, 1 / 5, 0])
    assert got["c"]["touches"] == 6
    assert [got["c"][f"{r}_share"] for r in roles.ROLES] == pytest.approx([0, 1 / 6, 2 / 6, 3 / 6])
    assert got["d"]["touches"] == 0 and math.isnan(got["d"]["early_share"])


@pytest.mark.parametrize(
    ("length", "early", "mid", "late"),
    [(2, 1, 0, 1), (3, 1, 1, 1), (4, 1, 2, 1), (5, 1, 3, 1), (6, 2, 2, 2), (7, 2, 3, 2)],
)
def test_role_positions_per_length(length, early, mid, late):
    # the first max(1, floor(L/3)) touches are early, as many at the end late, the rest mid
    p = Paths.from_sequences([["x"] * length], conversions=[1])
    row = roles.role_shares(p).iloc[0]
    assert [row[f"{r}_share"] * length for r in roles.ROLES] == pytest.approx([early, mid, late, 0])


def test_touch_time_lag_and_path_length(paths):
    lag = roles.touch_time_lag(paths)
    assert list(lag["bucket"].astype(str)) == list(LAG_BUCKETS)
    got = dict(zip(lag["bucket"].astype(str), lag["conversions"], strict=True))
    # first-touch lags of the converting paths: 10.5 (2 conv) -> "10", 0.9 (1) and 0.0 (3)
    # -> "0", 45 (1) -> "31-60"; the non-converting path is left out
    assert got["0"] == 4 and got["10"] == 2 and got["31-60"] == 1
    assert sum(got.values()) == 7
    assert lag["cumulative_share"].iloc[-1] == pytest.approx(1.0)
    length = roles.touch_path_length(paths)
    assert list(length["bucket"].astype(str)) == list(PATH_BUCKETS)
    got = dict(zip(length["bucket"].astype(str), length["conversions"], strict=True))
    assert (got["1"], got["2"], got["3"], got["6"], got["12+"]) == (3, 1, 2, 1, 0)
    long = Paths.from_sequences([["a"] * 15], conversions=[2])
    assert roles.touch_path_length(long).set_index("bucket").loc["12+", "conversions"] == 2
    # the same table shape as journeylib.timelag, so its charts draw it
    assert len(plot_time_lag(lag).data) == 1 and len(plot_path_length(length).data) == 1
    with pytest.raises(ValueError, match="lag_days"):
        roles.touch_time_lag(paths.aggregate())


def stage_events() -> pd.DataFrame:
    t0 = pd.Timestamp("2025-03-01", tz="UTC")
    rows = [
        ("a", 0, "page_view", "social"),
        ("a", 1, "page_view", "email"),  # a's awareness entry was social, already
        ("a", 2, "view_item", "email"),
        ("a", 3, "purchase", "direct"),
        ("b", 0, "page_view", "email"),
        ("b", 1, "add_to_cart", "email"),
        ("c", 0, "view_item", "social"),  # consideration before awareness
        ("c", 1, "page_view", "display"),
        ("d", 0, "some_other_event", "social"),  # no stage
        ("e", 0, "page_view", "social"),  # tied entry: event name, then channel -> email
        ("e", 0, "page_view", "email"),
    ]
    df = pd.DataFrame(rows, columns=["customer_id", "day", "event", "channel"])
    df["ts"] = (t0 + pd.to_timedelta(df.pop("day"), unit="D")).astype("datetime64[us, UTC]")
    df["session_id"] = df["customer_id"] + "-1"
    df["device"] = "mobile"
    df["product_id"] = None
    df["value"] = np.nan
    df["campaign"] = None
    return df


def test_channel_stage_matrix_by_hand():
    got = roles.channel_stage_matrix(stage_events())
    rows = list(got[["stage", "channel", "customers"]].itertuples(index=False, name=None))
    # awareness entries: a social, b email, c display, e email; consideration: a email,
    # c social; decision: a direct (purchase), b email (add_to_cart)
    assert rows == [
        ("awareness", "email", 2),
        ("awareness", "display", 1),
        ("awareness", "social", 1),
        ("consideration", "email", 1),
        ("consideration", "social", 1),
        ("decision", "direct", 1),
        ("decision", "email", 1),
    ]
    assert got["share"].tolist() == pytest.approx([0.5, 0.25, 0.25, 0.5, 0.5, 0.5, 0.5])
    assert got["stage_no"].tolist() == [1, 1, 1, 2, 2, 3, 3]
    with pytest.raises(ValueError, match="campaign"):
        roles.channel_stage_matrix(stage_events().drop(columns="campaign"))
    fig = roles.plot_channel_stage_matrix(got)
    assert list(fig.data[0].x) == ["awareness", "consideration", "decision"]


def credit(channels, conversions, value) -> pd.DataFrame:
    conv = np.asarray(conversions, dtype=float)
    return pd.DataFrame(
        {"channel": channels, "conversions": conv, "value": value, "share": conv / conv.sum()}
    )


def test_spend_efficiency_by_hand():
    spend = pd.DataFrame(
        {
            "date": pd.to_datetime(["2025-03-01", "2025-03-02", "2025-03-01", "2025-03-01",
                                    "2025-03-01"]),
            "channel": ["a", "a", "b", "e", "c"],
            "cost": [10.0, 10.0, 5.0, 7.0, 0.0],
        }
    )  # fmt: skip
    tables = {
        "last_touch": credit(["a", "b", "c"], [2, 0, 5], [15.0, 0.0, 50.0]),
        # channel / campaign labels count for their channel
        "linear": credit(["(no touch)", "a / x", "a / y", "c"], [1, 1, 1, 4], [2.0, 5, 5, 40]),
    }
    got = roles.spend_efficiency(tables, spend)
    assert list(got.columns) == ["model", "channel", "cost", "conversions", "value", "cpa", "roas"]
    rows = {(r.model, r.channel): r for r in got.itertuples()}
    assert list(got["model"].unique()) == ["last_touch", "linear"]
    assert list(got.loc[got["model"] == "linear", "channel"]) == ["(no touch)", "a", "b", "c", "e"]
    a = rows[("last_touch", "a")]
    assert (a.cost, a.conversions, a.value, a.cpa, a.roas) == (20, 2, 15, 10, 0.75)
    b = rows[("last_touch", "b")]  # spend, no conversions: cpa NaN, roas 0
    assert (b.cost, b.conversions) == (5, 0) and math.isnan(b.cpa) and b.roas == 0
    c = rows[("last_touch", "c")]  # no cost: cpa 0, roas NaN
    assert (c.cost, c.cpa) == (0, 0) and math.isnan(c.roas)
    e = rows[("last_touch", "e")]  # spend without credit is listed
    assert (e.cost, e.conversions, e.value) == (7, 0, 0) and math.isnan(e.cpa)
    la = rows[("linear", "a")]
    assert (la.cost, la.conversions, la.value, la.cpa, la.roas) == (20, 2, 10, 10, 0.5)
    assert rows[("linear", "(no touch)")].cost == 0
    # the period bounds the spend (inclusive), and an engine works like a frame
    with engine_for(spend=spend) as engine:
        day2 = roles.spend_efficiency(tables, engine, start="2025-03-02", end="2025-03-02")
    assert day2.set_index(["model", "channel"]).loc[("last_touch", "a"), "cost"] == 10
    assert day2["cost"].sum() == 20  # a on day 2, in both models
    with pytest.raises(ValueError, match="credit_tables"):
        roles.spend_efficiency({}, spend)
    with pytest.raises(ValueError, match="lacks"):
        roles.spend_efficiency({"m": pd.DataFrame({"channel": ["a"]})}, spend)
    with pytest.raises(ValueError, match="cost"):
        roles.spend_efficiency(tables, spend.drop(columns="cost"))


def test_plots_draw_the_tables(paths):
    fig = roles.plot_assist_ratio(roles.assisted_conversions(paths))
    bars = fig.data[0]
    assert list(bars.y) == ["c", "a", "b"]  # sorted by ratio; d (no conversions) left out
    assert list(bars.text) == ["0.20", "1.00", "only assists"]
    shares = roles.plot_role_shares(roles.role_shares(paths))
    assert [t.name for t in shares.data] == list(roles.ROLES)
    assert list(shares.data[0].y) == ["b", "a", "c"]  # by late share; d has no touches


def test_plots_in_bahasa_indonesia(paths):
    assisted = roles.assisted_conversions(paths)
    fig = roles.plot_assist_ratio(assisted, language="id")
    bars = fig.data[0]
    assert list(bars.text) == ["0.20", "1.00", "hanya membantu"]
    # the roles in the hover text: c closes (0.2), a is balanced (1.0), b only assists
    assert list(bars.customdata[:, 2]) == ["penuntas", "seimbang", "pendukung"]
    assert fig.layout.yaxis.title.text == "kanal"
    shares = roles.plot_role_shares(roles.role_shares(paths), language="id")
    assert [t.name for t in shares.data] == ["awal", "tengah", "akhir", "satu-satunya"]
    assert shares.layout.title.text == "Posisi kanal pada jalur konversi (porsi sentuhannya)"
    matrix = pd.DataFrame(
        {"stage_no": [1], "stage": ["awareness"], "channel": ["email"], "customers": [2],
         "share": [1.0]}
    )  # fmt: skip
    fig = roles.plot_channel_stage_matrix(matrix, language="id")
    assert fig.layout.title.text == "Kanal yang membawa pelanggan masuk ke setiap tahap"
    assert (fig.layout.xaxis.title.text, fig.layout.yaxis.title.text) == (
        "tahap",
        "kanal event masuk",
    )
    eff = pd.DataFrame(
        {"model": ["last_touch", "markov"], "channel": ["email", "email"], "cost": [10.0, 10.0],
         "roas": [2.0, 3.0]}
    )  # fmt: skip
    fig = roles.plot_spend_efficiency(eff, language="id")
    assert [t.name for t in fig.data] == ["Sentuhan terakhir", "Markov"]
    assert fig.layout.legend.title.text == "model"
    en = roles.plot_spend_efficiency(eff)
    assert [t.name for t in en.data] == ["last touch", "markov"]
    assert en.data[0].hovertemplate.endswith("<extra>last_touch</extra>")


def test_inputs_must_be_paths():
    with pytest.raises(TypeError, match="Paths"):
        roles.assisted_conversions(pd.DataFrame())
    with pytest.raises(TypeError, match="Paths"):
        roles.role_shares([["a"]])


# ---- the planted truth of the synthetic client -------------------------------------------------
CLOSING = list(CLOSING_CHANNELS)
ASSISTING = list(ASSISTING_CHANNELS)


@pytest.fixture(scope="module")
def synth_paths(synth_client) -> Paths:
    return build_paths(synth_client.engine)  # sessions, 30-day lookback


def test_planted_groups_are_the_truth_file(synth_client):
    assert sorted(synth_client.effects["closing_channels"]) == sorted(CLOSING)
    assert sorted(synth_client.effects["assisting_channels"]) == sorted(ASSISTING)


def test_assist_ratio_separates_planted_closers_and_assisters(synth_paths):
    ratio = roles.assisted_conversions(synth_paths).set_index("channel")["assist_ratio"]
    # measured (3,000 customers, seed 7, 30 days): closing email 0.60, whatsapp 0.57,
    # direct 1.44, paid_search 1.82; assisting social 4.10, paid_social 4.44, display 5.69
    assert ratio[ASSISTING].min() > ratio[CLOSING].max()
    shares = roles.role_shares(synth_paths).set_index("channel")
    # assisters sit earlier on the paths: mean late share 0.19 vs 0.34 for closers
    assert shares.loc[ASSISTING, "late_share"].mean() < shares.loc[CLOSING, "late_share"].mean()


def test_markov_credit_of_planted_closers_and_assisters(synth_paths):
    from journeylib.attribution.markov import MarkovAttribution

    model = MarkovAttribution(order=1).fit(synth_paths)
    credit = model.attribution_.set_index("channel")
    # What holds (measured: 3,000 customers, seed 7, sessions, 30 days): per channel group, the
    # mean Markov credit per converting journey (= share) is higher for the closing channels
    # (0.131: email 0.159, whatsapp 0.147, direct 0.129, paid_search 0.089) than for the
    # assisting ones (0.078: social 0.097, paid_social 0.078, display 0.058); not channel by
    # channel (paid_search < social).
    assert credit.loc[CLOSING, "share"].mean() > credit.loc[ASSISTING, "share"].mean()
    # Per converting journey *that contains the channel* it reverses: the removal effect spreads
    # credit over the paths a channel is on, and assisters are on fewer, longer ones
    # (closing 0.35-0.37 per journey, assisting 0.41-0.59).
    t = roles.assisted_conversions(synth_paths).set_index("channel")
    on_path = t["last_touch_conversions"] + t["assisted_conversions"]
    per_journey = credit["conversions"] / on_path
    assert per_journey[ASSISTING].mean() > per_journey[CLOSING].mean()


def test_channel_stage_matrix_on_the_synthetic_client(synth_client):
    got = roles.channel_stage_matrix(synth_client.engine)
    assert got.groupby("stage")["share"].sum().to_numpy() == pytest.approx(1.0)
    aware = synth_client.engine.scalar(
        "SELECT COUNT(DISTINCT customer_id) FROM events WHERE event IN ('page_view', "
        "'view_promotion')"
    )
    assert got.loc[got["stage"] == "awareness", "customers"].sum() == aware


@pytest.mark.shared_data
def test_roles_on_the_channelattribution_paths(shared_datasets):
    from journeylib.attribution.pathdata import read_path_table

    p = read_path_table(shared_datasets / "channelattribution_paths" / "Data.csv")
    t = roles.assisted_conversions(p)
    # every conversion has exactly one last touch
    assert t["last_touch_conversions"].sum() == pytest.approx(19785)
    assert t["last_touch_value"].sum() == pytest.approx(p.total_value)
    shares = roles.role_shares(p)
    total = shares[[f"{r}_share" for r in roles.ROLES]].sum(axis=1)
    assert total.to_numpy() == pytest.approx(1.0)
    assert roles.touch_path_length(p)["conversions"].sum() == pytest.approx(19785)
