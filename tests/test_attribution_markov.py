"""Markov-chain attribution (journeylib.attribution.markov).

Business rule: a channel's credit is its removal effect (the relative drop of the conversion
probability of the absorbing chain when every state containing the channel leads to (null)),
normalised over channels and multiplied by the total conversions. Expected values are worked out
by hand in the comments, or by the independent dense reference below (plain Python loops over the
path strings, one dense numpy solve), or by a Monte-Carlo walk of the same chain.
"""

from __future__ import annotations

import csv
from collections import defaultdict

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from journeylib.attribution.markov import MarkovAttribution, select_order
from journeylib.attribution.pathdata import Paths, read_path_table

DATA = ("channelattribution_paths", "Data.csv")


def paths_of(rows: list[tuple[str, float, float, float]]) -> Paths:
    """``(path "a > b", conversions, value, nulls)`` rows -> Paths."""
    return Paths.from_sequences(
        [r[0].split(" > ") for r in rows],
        conversions=[r[1] for r in rows],
        value=[r[2] for r in rows],
        nulls=[r[3] for r in rows],
    )


def credits(model: MarkovAttribution) -> dict[str, float]:
    t = model.attribution_
    return dict(zip(t["channel"], t["conversions"], strict=True))


def effects(model: MarkovAttribution) -> dict[str, float]:
    t = model.removal_effects_
    return dict(zip(t["channel"], t["removal_effect"], strict=True))


# -- the independent reference: plain loops, a dense matrix, numpy.linalg.solve ---------------

START, CONV, NULL = "(start)", "(conversion)", "(null)"


def dense_reference(rows, order: int = 1) -> dict:
    """Removal effects of the order-``order`` chain, written as directly as possible.

    A state is the tuple of the last ``order`` labels, padded with "(start)" while the journey is
    shorter. Removing a channel replaces each state containing it by a row "go to (null)".
    """
    counts: dict[tuple, float] = defaultdict(float)
    for path, conv, _value, null in rows:
        if conv + null == 0:
            continue
        window: list[str] = []
        prev: tuple = (START,) * order
        for label in path.split(">"):
            window = (window + [label.strip()])[-order:]
            state = (START,) * (order - len(window)) + tuple(window)
            counts[(prev, state)] += conv + null
            prev = state
        counts[(prev, CONV)] += conv
        counts[(prev, NULL)] += null
    transient = sorted({a for a, _ in counts}, key=lambda s: (s != (START,) * order, s))
    index = {s: i for i, s in enumerate(transient)}
    n = len(transient)
    total = defaultdict(float)
    for (a, _b), c in counts.items():
        total[a] += c
    a_mat = np.eye(n)
    r = np.zeros(n)
    for (a, b), c in counts.items():
        if b == CONV:
            r[index[a]] += c / total[a]
        elif b != NULL:
            a_mat[index[a], index[b]] -= c / total[a]
    p_full = np.linalg.solve(a_mat, r)[0]
    channels = sorted({ch for s in transient for ch in s if ch != START})
    without = {}
    for ch in channels:
        a_rem, r_rem = a_mat.copy(), r.copy()
        for s, i in index.items():
            if ch in s:  # the state now leads to (null) with probability 1
                a_rem[i, :] = 0.0
                a_rem[i, i] = 1.0
                r_rem[i] = 0.0
        without[ch] = np.linalg.solve(a_rem, r_rem)[0]
    effect = {ch: 1 - without[ch] / p_full for ch in channels}
    total_effect = sum(effect.values())
    total_conv = sum(row[1] for row in rows)
    return {
        "counts": dict(counts),
        "p_full": p_full,
        "without": without,
        "effect": effect,
        "credit": {ch: effect[ch] / total_effect * total_conv for ch in channels},
    }


def label(state: tuple | str) -> str:
    """The model's label of a reference state."""
    if isinstance(state, str):  # (conversion), (null)
        return state
    seen = [s for s in state if s != START]
    if not seen:
        return START
    return " > ".join(seen) if len(seen) == len(state) else f"{START} > " + " > ".join(seen)


# -- tiny chains by hand ------------------------------------------------------------------------

# a > b converts once, a ends without conversion once, b converts once.
TINY = [("a > b", 1, 10.0, 0), ("a", 0, 0.0, 1), ("b", 1, 20.0, 0)]


def test_tiny_chain_by_hand():
    m = MarkovAttribution().fit(paths_of(TINY))
    # transitions: (start)->a 2 (paths 1, 2), (start)->b 1, a->b 1, a->(null) 1, b->(conversion) 2
    tm = m.transition_matrix_
    got = {(f, t): (c, p) for f, t, c, p in tm.itertuples(index=False)}
    assert got == {
        ("(start)", "a"): (2.0, pytest.approx(2 / 3)),
        ("(start)", "b"): (1.0, pytest.approx(1 / 3)),
        ("a", "b"): (1.0, 0.5),
        ("a", "(null)"): (1.0, 0.5),
        ("b", "(conversion)"): (2.0, 1.0),
    }
    # P(conversion) = 2/3 * 1/2 * 1 + 1/3 * 1 = 2/3 (= 2 conversions / 3 journeys)
    assert m.conversion_probability_ == pytest.approx(2 / 3)
    # without a: only (start)->b converts: 1/3, effect 1 - (1/3)/(2/3) = 1/2
    # without b: nothing converts: effect 1. Normalised: a 1/3, b 2/3 of 2 conversions.
    re = m.removal_effects_.set_index("channel")
    assert re["conversion_probability_without"].tolist() == pytest.approx([1 / 3, 0.0])
    assert re["removal_effect"].tolist() == pytest.approx([0.5, 1.0])
    assert re["removal_effect_normalised"].tolist() == pytest.approx([1 / 3, 2 / 3])
    out = m.attribution_
    assert list(out.columns) == ["channel", "conversions", "value", "share"]
    assert out["channel"].tolist() == ["a", "b"]
    assert out["conversions"].tolist() == pytest.approx([2 / 3, 4 / 3])
    # value credited like conversions by default: 1/3 and 2/3 of 30
    assert out["value"].tolist() == pytest.approx([10.0, 20.0])
    assert out["share"].tolist() == pytest.approx([1 / 3, 2 / 3])
    assert m.summary is m.attribution_
    st = m.states_.set_index("state")
    assert st.index.tolist() == ["(start)", "a", "b", "(conversion)", "(null)"]
    assert st["kind"].tolist() == ["start", "channel", "channel", "conversion", "null"]
    assert st["visits"].tolist() == [3.0, 2.0, 2.0, 2.0, 1.0]
    # from a: 1/2 to b, which always converts
    assert st["conversion_probability"].tolist() == pytest.approx([2 / 3, 0.5, 1.0, 1.0, 0.0])
    assert m.n_states_ == 5


def test_value_chain_by_hand():
    # a: 1 conversion worth 100 and 1 null; b: 1 conversion worth 10 and 1 null.
    rows = [("a", 1, 100.0, 1), ("b", 1, 10.0, 1)]
    prop = MarkovAttribution().fit(paths_of(rows))
    # conversions: P = 1/2; without a or without b: 1/4, both effects 1/2 -> 1 conversion each
    assert credits(prop) == pytest.approx({"a": 1.0, "b": 1.0})
    assert prop.attribution_["value"].tolist() == pytest.approx([55.0, 55.0])
    assert prop.value_removal_effects_ is None
    chain = MarkovAttribution(value_credit="chain").fit(paths_of(rows))
    # expected value: 1/2 * (1/2 * 100) + 1/2 * (1/2 * 10) = 27.5; without a: 2.5, without b: 25
    # value effects 1 - 2.5/27.5 = 10/11 and 1 - 25/27.5 = 1/11 -> 100 and 10 of 110
    ve = chain.value_removal_effects_
    assert ve["expected_value_without"].tolist() == pytest.approx([2.5, 25.0])
    assert ve["removal_effect"].tolist() == pytest.approx([10 / 11, 1 / 11])
    assert chain.attribution_["value"].tolist() == pytest.approx([100.0, 10.0])
    assert chain.attribution_["conversions"].tolist() == pytest.approx([1.0, 1.0])


def test_order_two_by_hand():
    # a > c always converts, b > c never does.
    rows = [("a > c", 1, 0.0, 0), ("b > c", 0, 0.0, 1)]
    first = MarkovAttribution(order=1).fit(paths_of(rows))
    # order 1 forgets where c came from: c converts 1/2 of the time, P = 1/2.
    # without a: 1/2 * 1/2 = 1/4 -> 1/2; same for b; without c: 0 -> 1. Shares 1/4, 1/4, 1/2.
    assert effects(first) == pytest.approx({"a": 0.5, "b": 0.5, "c": 1.0})
    assert credits(first) == pytest.approx({"a": 0.25, "b": 0.25, "c": 0.5})
    second = MarkovAttribution(order=2).fit(paths_of(rows))
    # order 2 states: (start) > a -> a > c -> (conversion); (start) > b -> b > c -> (null).
    assert second.states_["state"].tolist() == [
        "(start)", "(start) > a", "(start) > b", "a > c", "b > c", "(conversion)", "(null)",
    ]  # fmt: skip
    # P = 1/2; without a: 0 -> effect 1; without b: 1/2 -> 0; without c: 0 -> 1.
    assert effects(second) == pytest.approx({"a": 1.0, "b": 0.0, "c": 1.0})
    assert credits(second) == pytest.approx({"a": 0.5, "b": 0.0, "c": 0.5})


# repeats, a length-1 path, a path without outcomes, a channel seen once
SMALL = [
    ("a > b > c", 2, 30.0, 3),
    ("a > a > b", 1, 5.0, 4),
    ("c", 1, 7.0, 2),
    ("b > c > a > c", 3, 12.0, 1),
    ("d > b", 0, 0.0, 2),
    ("c > c > c > b", 1, 3.0, 0),
    ("b", 0, 0.0, 5),
    ("e > a", 0, 0.0, 0),  # no outcome: carries no transition, e gets nothing
]


@pytest.mark.parametrize("order", [1, 2, 3])
def test_matches_dense_reference_on_small_table(order):
    m = MarkovAttribution(order=order).fit(paths_of(SMALL))
    ref = dense_reference(SMALL, order)
    assert m.conversion_probability_ == pytest.approx(ref["p_full"], abs=1e-12)
    got = effects(m)
    assert got["e"] == 0.0 and credits(m)["e"] == 0.0
    for ch, eff in ref["effect"].items():
        assert got[ch] == pytest.approx(eff, abs=1e-12)
        assert credits(m)[ch] == pytest.approx(ref["credit"][ch], abs=1e-12)
    tm = m.transition_matrix_
    counted = {
        (f, t): c for f, t, c in zip(tm["from_state"], tm["to_state"], tm["count"], strict=True)
    }
    assert counted == {(label(a), label(b)): c for (a, b), c in ref["counts"].items() if c > 0}
    assert m.n_states_ == len(m.states_) == len({a for a, _ in ref["counts"]}) + 2


@pytest.mark.parametrize("order", [1, 2, 3])
def test_the_suite_credits_the_dense_reference_without_the_state_tables(order):
    # the model suite (and so every bootstrap resample) fits the chain without naming its
    # states and transitions; the credits are still the dense reference's
    from journeylib.attribution.suite import model_suite

    table = model_suite(markov_order=order)["markov"](paths_of(SMALL))
    ref = dense_reference(SMALL, order)
    got = dict(zip(table["channel"], table["conversions"], strict=True))
    for ch, credit in ref["credit"].items():
        assert got[ch] == pytest.approx(credit, abs=1e-12)
    bare = MarkovAttribution(order=order)._fit(paths_of(SMALL), tables=False)
    assert not hasattr(bare, "states_") and not hasattr(bare, "transition_matrix_")


@pytest.mark.parametrize("order", [1, 2, 3])
def test_conversion_probability_is_observed_rate(order):
    # The fitted chain conserves flow, so its absorption probability from (start) is the observed
    # conversion rate: (2 + 1 + 1 + 3 + 1) / (8 + 17) journeys with an outcome.
    m = MarkovAttribution(order=order).fit(paths_of(SMALL))
    assert m.conversion_probability_ == pytest.approx(8 / 25, abs=1e-12)
    probs = m.transition_matrix_.groupby("from_state")["probability"].sum()
    assert np.allclose(probs.to_numpy(), 1.0)


def test_repeats_do_not_change_order_one_effects():
    # A self-transition only delays absorption: collapsing a > a leaves order-1 results unchanged.
    p = paths_of(SMALL)
    full = MarkovAttribution().fit(p).removal_effects_
    collapsed = MarkovAttribution().fit(p.collapse_repeats()).removal_effects_
    pd.testing.assert_frame_equal(full, collapsed, check_exact=False, rtol=1e-12)


# -- Data.csv -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def data_csv(shared_datasets):
    file = shared_datasets.joinpath(*DATA)
    with open(file, newline="", encoding="utf-8") as fh:
        rows = [
            (r["path"], float(r["total_conversions"]), float(r["total_conversion_value"]),
             float(r["total_null"]))
            for r in csv.DictReader(fh, delimiter=";")
        ]  # fmt: skip
    return read_path_table(file), rows


@pytest.mark.shared_data
def test_data_csv_identical_across_runs_and_credits_sum(data_csv):
    paths, _ = data_csv
    one = MarkovAttribution().fit(paths)
    two = MarkovAttribution().fit(paths)
    for attr in ("attribution_", "removal_effects_", "transition_matrix_", "states_"):
        pd.testing.assert_frame_equal(getattr(one, attr), getattr(two, attr), check_exact=True)
    assert one.conversion_probability_ == two.conversion_probability_
    assert one.attribution_["conversions"].sum() == pytest.approx(19785, rel=1e-12)
    assert one.attribution_["value"].sum() == pytest.approx(paths.total_value, rel=1e-12)
    assert one.attribution_["share"].sum() == pytest.approx(1.0)
    assert len(one.attribution_) == 12
    chain = MarkovAttribution(order=2, value_credit="chain").fit(paths)
    assert chain.attribution_["conversions"].sum() == pytest.approx(19785, rel=1e-12)
    assert chain.attribution_["value"].sum() == pytest.approx(paths.total_value, rel=1e-12)


@pytest.mark.shared_data
@pytest.mark.parametrize("order", [1, 2])
def test_data_csv_matches_dense_reference(data_csv, order):
    paths, rows = data_csv
    m = MarkovAttribution(order=order).fit(paths)
    ref = dense_reference(rows, order)
    assert m.conversion_probability_ == pytest.approx(ref["p_full"], abs=1e-9)
    re = m.removal_effects_.set_index("channel")
    for ch in ref["effect"]:
        assert re.at[ch, "conversion_probability_without"] == pytest.approx(
            ref["without"][ch], abs=1e-9
        )
        assert re.at[ch, "removal_effect"] == pytest.approx(ref["effect"][ch], abs=1e-9)
        assert credits(m)[ch] == pytest.approx(ref["credit"][ch], abs=1e-9 * 19785)
    if order == 1:
        tm = m.transition_matrix_
        pairs = zip(tm["from_state"], tm["to_state"], strict=True)
        counted = dict(zip(pairs, tm["count"], strict=True))
        assert counted == {(label(a), label(b)): c for (a, b), c in ref["counts"].items() if c}


def walk(prob: np.ndarray, removed: np.ndarray, n: int, rng: np.random.Generator) -> float:
    """Share of ``n`` walks from state 0 absorbed in the second-to-last state (conversion);
    the last state is (null), and removed states lead to (null)."""
    prob = prob.copy()
    conv, null = len(prob) - 2, len(prob) - 1
    prob[removed] = 0.0
    prob[removed, null] = 1.0
    cum = np.cumsum(prob, axis=1)
    cum[:, -1] = 1.0
    state = np.zeros(n, dtype=np.int64)
    live = np.arange(n)
    converted = 0
    for _ in range(100_000):
        if len(live) == 0:
            break
        nxt = (cum[state[live]] < rng.random(len(live))[:, None]).sum(axis=1)
        state[live] = nxt
        converted += int((nxt == conv).sum())
        live = live[(nxt != conv) & (nxt != null)]
    assert len(live) == 0
    return converted / n


@pytest.mark.shared_data
def test_data_csv_agrees_with_monte_carlo_walk(data_csv):
    paths, _ = data_csv
    m = MarkovAttribution().fit(paths)
    names = m.states_["state"].tolist()
    at = {s: i for i, s in enumerate(names)}
    prob = np.zeros((len(names), len(names)))
    tm = m.transition_matrix_
    prob[tm["from_state"].map(at), tm["to_state"].map(at)] = tm["probability"]
    prob[at["(conversion)"], at["(conversion)"]] = prob[at["(null)"], at["(null)"]] = 1.0
    rng = np.random.default_rng(20240601)
    n = 200_000
    p = m.conversion_probability_
    p_hat = walk(prob, np.zeros(len(names), bool), n, rng)
    assert abs(p_hat - p) < 4 * np.sqrt(p * (1 - p) / n)
    re = m.removal_effects_.sort_values("removal_effect", ascending=False).head(3)
    for ch, p_without, effect in zip(
        re["channel"], re["conversion_probability_without"], re["removal_effect"], strict=True
    ):
        removed = np.array([s == ch for s in names])  # order 1: the state is the channel
        q_hat = walk(prob, removed, n, rng)
        effect_hat = 1 - q_hat / p_hat
        # delta method: both estimates binomial, independent walks
        se = (p_without / p) * np.sqrt((1 - p_without) / (n * p_without) + (1 - p) / (n * p))
        assert abs(effect_hat - effect) < 4 * se, ch


@pytest.mark.shared_data
def test_select_order_on_data_csv_is_valid_and_deterministic(data_csv):
    paths, _ = data_csv
    best, table = select_order(paths, orders=(1, 2, 3), random_state=3)
    best2, table2 = select_order(paths, orders=(1, 2, 3), random_state=3)
    assert best == best2
    pd.testing.assert_frame_equal(table, table2, check_exact=True)
    assert best in (1, 2, 3)
    assert list(table.columns) == [
        "order", "n_states", "test_log_likelihood", "test_transitions",
        "log_likelihood_per_transition", "chosen",
    ]  # fmt: skip
    assert table["chosen"].sum() == 1
    assert table.loc[table["chosen"], "order"].item() == best
    assert table["log_likelihood_per_transition"].idxmax() == table.index[table["chosen"]][0]
    # every order scores the same held-out steps: touches + 1 final step per test journey,
    # 30% of the 88,387 journeys
    assert table["test_transitions"].nunique() == 1
    assert table["n_states"].is_monotonic_increasing
    assert (table["test_log_likelihood"] < 0).all()


# -- choosing the order --------------------------------------------------------------------------


def test_select_order_prefers_the_order_that_predicts():
    # Whether c converts depends on the channel before it: order 2 predicts the end perfectly.
    paths = paths_of([("a > c", 100, 0.0, 0), ("b > c", 0, 0.0, 100)])
    best, table = select_order(paths, orders=(2, 1), test_size=0.5, random_state=1)
    assert best == 2
    assert table["order"].tolist() == [2, 1]
    assert table["chosen"].tolist() == [True, False]
    # 100 test journeys of 2 touches + 1 end = 300 steps
    assert table["test_transitions"].tolist() == [300.0, 300.0]


def test_select_order_held_out_likelihood_by_hand():
    # One path "a" with 2 conversions and 2 nulls; half the 4 journeys are held out. With
    # smoothing 1 and the alphabet {a, (conversion), (null)}, a test step has probability
    # (train count + 1) / (train total + 3). Train always has 2 journeys:
    # (start) -> a: (2 + 1) / (2 + 3) = 3/5 for both test journeys.
    # End steps: train (1 conv, 1 null) leaves test (1, 1): each (1 + 1) / 5 = 2/5;
    # train (2, 0) leaves test (0, 2): each null scores (0 + 1) / 5 = 1/5 (same for (0, 2)).
    paths = paths_of([("a", 2, 0.0, 2)])
    _, table = select_order(paths, orders=(1,), test_size=0.5, random_state=0, smoothing=1.0)
    row = table.iloc[0]
    assert row["test_transitions"] == 4.0  # 2 test journeys x (1 touch + 1 end)
    start = 2 * np.log(3 / 5)
    options = [start + 2 * np.log(2 / 5), start + 2 * np.log(1 / 5)]
    assert min(abs(row["test_log_likelihood"] - o) for o in options) < 1e-12
    assert row["n_states"] == 4  # (start), a, (conversion), (null)


def test_select_order_checks_arguments():
    paths = paths_of(TINY)
    with pytest.raises(ValueError, match="order must be an integer"):
        select_order(paths, orders=(0,))
    with pytest.raises(ValueError, match="at least one order"):
        select_order(paths, orders=())
    with pytest.raises(ValueError, match="each once"):
        select_order(paths, orders=(1, 1))
    with pytest.raises(ValueError, match="test_size"):
        select_order(paths, test_size=1.0)
    with pytest.raises(ValueError, match="smoothing"):
        select_order(paths, smoothing=0)
    with pytest.raises(ValueError, match="whole journey counts"):
        select_order(paths_of([("a", 0.5, 0.0, 1)]))
    with pytest.raises(ValueError, match="cannot be split"):
        select_order(paths_of([("a", 1, 0.0, 0)]), test_size=0.3)
    with pytest.raises(TypeError, match="Paths"):
        select_order(pd.DataFrame())


# -- edge cases ----------------------------------------------------------------------------------


def test_no_conversions_is_a_clear_error():
    with pytest.raises(ValueError, match="nothing to attribute"):
        MarkovAttribution().fit(paths_of([("a > b", 0, 0.0, 3)]))


def test_no_null_paths_explains_why_they_are_needed():
    rows = [("a > b", 1, 0.0, 0), ("b", 1, 0.0, 0)]
    with pytest.raises(ValueError, match="no non-converting journeys") as err:
        MarkovAttribution().fit(paths_of(rows))
    assert "null_required=False" in str(err.value)
    m = MarkovAttribution(null_required=False).fit(paths_of(rows))
    # every walk converts: P = 1. Without a: (start)->a (1/2) leads to (null): P = 1/2, effect
    # 1/2; without b: 0, effect 1. Credits 1/3 and 2/3 of 2.
    assert m.conversion_probability_ == pytest.approx(1.0)
    assert credits(m) == pytest.approx({"a": 2 / 3, "b": 4 / 3})


def test_single_channel_gets_all_credit():
    m = MarkovAttribution().fit(paths_of([("a", 3, 9.0, 2), ("a > a", 1, 1.0, 0)]))
    # removing the only channel leaves nothing that converts: effect 1, all 4 conversions
    assert effects(m) == {"a": 1.0}
    assert m.attribution_["conversions"].tolist() == [4.0]
    assert m.attribution_["value"].tolist() == [10.0]
    assert m.attribution_["share"].tolist() == [1.0]


def test_channel_on_one_path_only_and_channel_never_in_a_transition():
    rows = [("a", 1, 0.0, 1), ("z > a", 1, 0.0, 0), ("q > a", 0, 0.0, 0)]
    m = MarkovAttribution().fit(paths_of(rows))
    # (start)->a 2, (start)->z 1, z->a 1, a->conv 2, a->null 1: from a P = 2/3; P = 2/3.
    # without z: 2/3 * 2/3 = 4/9, effect 1 - (4/9)/(2/3) = 1/3; without a: effect 1.
    # Normalised z 1/4, a 3/4 of 2 conversions. q's only path has no outcome: no state, credit 0.
    assert effects(m) == pytest.approx({"a": 1.0, "q": 0.0, "z": 1 / 3})
    assert credits(m) == pytest.approx({"a": 1.5, "q": 0.0, "z": 0.5})
    assert m.attribution_["channel"].tolist() == ["a", "q", "z"]
    assert "q" not in set(m.states_["state"])
    re = m.removal_effects_.set_index("channel")
    assert re.at["q", "conversion_probability_without"] == m.conversion_probability_


def test_very_long_path():
    long = " > ".join(["a", "b"] * 250 + ["c"])  # 501 touches
    rows = [(long, 2, 4.0, 1), ("b > c", 1, 1.0, 3), ("c", 0, 0.0, 2)]
    for order in (1, 2):
        m = MarkovAttribution(order=order).fit(paths_of(rows))
        ref = dense_reference(rows, order)
        assert effects(m) == pytest.approx(ref["effect"], abs=1e-12)
        assert m.attribution_["conversions"].sum() == pytest.approx(3.0)


def test_reserved_labels_and_bad_parameters():
    with pytest.raises(ValueError, match="reserved"):
        MarkovAttribution().fit(paths_of([("(null) > a", 1, 0.0, 1)]))
    for order in (0, 1.5, "2", True):
        with pytest.raises(ValueError, match="order must be an integer"):
            MarkovAttribution(order=order).fit(paths_of(TINY))
    with pytest.raises(ValueError, match="value_credit"):
        MarkovAttribution(value_credit="revenue").fit(paths_of(TINY))
    with pytest.raises(TypeError, match="Paths"):
        MarkovAttribution().fit(pd.DataFrame({"path": ["a"]}))


def test_estimator_conventions():
    m = MarkovAttribution(order=2, null_required=False)
    assert m.get_params() == {"order": 2, "null_required": False, "value_credit": "proportional"}
    assert not hasattr(m, "attribution_")
    with pytest.raises(NotFittedError):
        _ = m.summary
    assert "<pre>" in m._repr_html_()
    paths = paths_of(TINY)
    before = paths.to_frame()
    fitted = m.fit(paths)
    assert fitted is m
    pd.testing.assert_frame_equal(paths.to_frame(), before)  # input unchanged
    html = m._repr_html_()
    assert "order 2" in html and "removal_effect" in html and "<table" in html
    assert m._repr_mimebundle_()["text/html"] == html  # what Jupyter displays
    twin = clone(m)
    assert twin.get_params() == m.get_params() and not hasattr(twin, "attribution_")


def test_plot_removal_effects_in_bahasa_indonesia():
    from journeylib.attribution.markov import plot_removal_effects

    effects_table = pd.DataFrame({"channel": ["email", "display"], "removal_effect": [0.4, 0.1]})
    fig = plot_removal_effects(effects_table, language="id")
    assert list(fig.data[0].y) == ["display", "email"]  # largest at the top
    assert fig.layout.title.text == (
        "Konversi yang hilang bila kanal dihapus (efek penghapusan Markov)"
    )
    assert fig.layout.xaxis.title.text == "porsi konversi yang hilang"
    assert fig.data[0].hovertemplate.startswith("tanpa %{y}")
    assert plot_removal_effects(effects_table).layout.yaxis.title.text == "channel"


def _large_chain_paths(seed: int = 3, n_paths: int = 3000) -> Paths:
    """Random paths over 9 channels: an order-3 chain of several hundred states."""
    rng = np.random.default_rng(seed)
    channels = [f"c{i}" for i in range(9)]
    seqs = [list(rng.choice(channels, size=rng.integers(1, 9))) for _ in range(n_paths)]
    conv = rng.integers(0, 3, n_paths).astype(float)
    return Paths.from_sequences(
        seqs,
        conversions=conv,
        value=conv * rng.uniform(10, 90, n_paths),
        nulls=rng.integers(0, 5, n_paths),
    )


@pytest.mark.parametrize("value_credit", ["proportional", "chain"])
def test_large_chains_iterate_to_the_factorised_solution(monkeypatch, value_credit):
    """Chains above ITERATE_FROM states are solved by iterating x = Qx + b (a sparse LU of a
    journey chain fills in almost completely); the factorisation is the reference."""
    from journeylib.attribution import markov

    paths = _large_chain_paths()
    fast = MarkovAttribution(order=3, value_credit=value_credit).fit(paths)
    assert fast.n_states_ - 3 > markov._Solver.ITERATE_FROM  # the iterative path was taken
    monkeypatch.setattr(markov._Solver, "ITERATE_FROM", 10**9)
    exact = MarkovAttribution(order=3, value_credit=value_credit).fit(paths)
    for table in ("attribution_", "removal_effects_", "states_"):
        pd.testing.assert_frame_equal(getattr(fast, table), getattr(exact, table), rtol=1e-10)
    assert fast.conversion_probability_ == pytest.approx(exact.conversion_probability_, rel=1e-12)


def test_a_chain_that_does_not_settle_is_factorised(monkeypatch):
    from journeylib.attribution import markov

    paths = _large_chain_paths(seed=4)
    monkeypatch.setattr(markov._Solver, "ITERATE_FROM", 10**9)
    exact = MarkovAttribution(order=3).fit(paths)
    monkeypatch.setattr(markov._Solver, "ITERATE_FROM", 0)
    monkeypatch.setattr(markov._Solver, "MAX_ITER", 2)  # never reaches the bound: LU instead
    calls = []
    real = markov._Solver._iterate
    monkeypatch.setattr(
        markov._Solver, "_iterate", lambda self, keep: calls.append(1) or real(self, keep)
    )
    again = MarkovAttribution(order=3).fit(paths)
    assert calls  # it tried
    pd.testing.assert_frame_equal(again.attribution_, exact.attribution_, check_exact=True)
