"""Shapley attribution (journeylib.attribution.shapley).

The game: players are channels, v(S) = conversions of the paths whose channel set is a subset of
S; a channel's credit is its marginal contribution averaged over all joining orders. Expected
values are worked out by hand below, or by a brute-force reference written here (every
permutation of the players, v evaluated from Python sets), never by the module's own output.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import ConvergenceWarning

from journeylib.attribution.pathdata import Paths, read_path_table
from journeylib.attribution.shapley import ShapleyAttribution, shapley

# -- independent references ----------------------------------------------------------------------


def brute_force(seqs, amounts) -> dict[str, float]:
    """Textbook Shapley value: average over all n! orders of v(before + j) - v(before)."""
    sets = [frozenset(s) for s in seqs]
    players = sorted(set().union(*(s for s, a in zip(sets, amounts, strict=True) if a > 0)))

    def v(coalition: frozenset) -> float:
        return sum(a for s, a in zip(sets, amounts, strict=True) if s <= coalition)

    credit = dict.fromkeys(players, 0.0)
    orders = list(itertools.permutations(players))
    for order in orders:
        before: frozenset = frozenset()
        for j in order:
            credit[j] += v(before | {j}) - v(before)
            before = before | {j}
    return {j: c / len(orders) for j, c in credit.items()}


def brute_force_by_stage(seqs, amounts) -> dict[tuple[str, int], float]:
    """Ordered Shapley by enumeration: in every order, the channel completing a path gets its
    amount at that channel's stage in the path (1 = first distinct channel)."""
    players = sorted({c for s, a in zip(seqs, amounts, strict=True) if a > 0 for c in s})
    stages = [list(dict.fromkeys(s)) for s in seqs]  # distinct channels, first occurrence order
    credit: dict[tuple[str, int], float] = {}
    orders = list(itertools.permutations(players))
    for order in orders:
        pos = {c: i for i, c in enumerate(order)}
        for st, a in zip(stages, amounts, strict=True):
            if a > 0:
                last = max(st, key=pos.__getitem__)
                key = (last, st.index(last) + 1)
                credit[key] = credit.get(key, 0.0) + a
    return {k: c / len(orders) for k, c in credit.items()}


def closed_form(seqs, amounts) -> dict[str, float]:
    """Zhao et al.'s simplified Shapley: each path's amount split equally over its channels."""
    out: dict[str, float] = {}
    for s, a in zip(seqs, amounts, strict=True):
        for c in set(s):
            out[c] = out.get(c, 0.0) + a / len(set(s))
    return out


def random_paths(n_channels: int, n_paths: int, seed: int) -> tuple[list[list[str]], np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = [f"c{i:02d}" for i in range(n_channels)]
    seqs = [
        [labels[i] for i in rng.integers(0, n_channels, rng.integers(1, 6))] for _ in range(n_paths)
    ]
    conv = rng.poisson(2.0, n_paths).astype(float)
    return seqs, conv


def credit(table: pd.DataFrame, column: str = "conversions") -> dict[str, float]:
    return dict(zip(table["channel"], table[column], strict=True))


# -- exact values by hand -------------------------------------------------------------------------


def test_two_channel_game_by_hand():
    # v({a}) = 2 (path a), v({b}) = 1 (path b), v({a, b}) = 2 + 1 + 3 = 6.
    # Order a,b: a adds 2, b adds 4; order b,a: b adds 1, a adds 5.
    # a = (2 + 5) / 2 = 3.5; b = (4 + 1) / 2 = 2.5. Value game (20, 10, 30): a = (20 + 50) / 2
    # = 35, b = (40 + 10) / 2 = 25.
    p = Paths.from_sequences(
        [["a"], ["b"], ["a", "b"], ["b", "a", "b"]],
        conversions=[2, 1, 3, 0],
        value=[20, 10, 30, 0],
        nulls=[5, 5, 5, 9],
    )
    t = shapley(p)
    assert list(t.columns) == ["channel", "conversions", "value", "share"]
    assert t["channel"].tolist() == ["a", "b"]
    np.testing.assert_allclose(t["conversions"], [3.5, 2.5])
    np.testing.assert_allclose(t["value"], [35.0, 25.0])
    np.testing.assert_allclose(t["share"], [3.5 / 6, 2.5 / 6])


def test_three_channel_game_by_hand():
    # Paths: a > b (4), b > c > b (3, set {b, c}), a > b > c (6), c (1); "a" only has nulls.
    # v: {a}=0 {b}=0 {c}=1 {a,b}=4 {a,c}=1 {b,c}=3+1=4 {a,b,c}=14.
    # Weights |S|!(n-|S|-1)!/n! for n=3: |S|=0 -> 1/3, |S|=1 -> 1/6, |S|=2 -> 1/3.
    # a: {b}: 4/6, {c}: 0, {b,c}: (14-4)/3           -> 2/3 + 10/3 = 4
    # b: {a}: 4/6, {c}: (4-1)/6, {a,c}: (14-1)/3      -> 2/3 + 1/2 + 13/3 = 5.5
    # c: {}: 1/3, {a}: 1/6, {b}: 4/6, {a,b}: 10/3     -> 27/6 = 4.5      (sum 14)
    p = Paths.from_sequences(
        [["a", "b"], ["b", "c", "b"], ["a", "b", "c"], ["c"], ["a"]],
        conversions=[4, 3, 6, 1, 0],
        nulls=[1, 1, 1, 1, 7],
    )
    t = shapley(p)
    np.testing.assert_allclose(t["conversions"], [4.0, 5.5, 4.5])
    assert t["conversions"].sum() == pytest.approx(14.0)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_exact_equals_brute_force_and_closed_form(seed):
    # The exact computation over coalitions must equal the textbook permutation formula and
    # the closed form "split each path's conversions equally among its distinct channels".
    seqs, conv = random_paths(5, 25, seed)
    value = conv * 3.5 + 1.0 * (conv > 0)
    p = Paths.from_sequences(seqs, conversions=conv, value=value)
    t = shapley(p)
    reference = brute_force(seqs, conv)
    simplified = closed_form(seqs, conv)
    for c, got in credit(t).items():
        assert got == pytest.approx(reference.get(c, 0.0), abs=1e-9)
        assert got == pytest.approx(simplified.get(c, 0.0), abs=1e-9)
    for c, got in credit(t, "value").items():
        assert got == pytest.approx(brute_force(seqs, value).get(c, 0.0), abs=1e-9)


def test_exact_on_15_channels_equals_closed_form():
    # 2**15 coalitions: still the exact path (the default limit), and still the closed form.
    seqs, conv = random_paths(15, 300, 11)
    p = Paths.from_sequences(seqs, conversions=conv)
    model = ShapleyAttribution().fit(p)
    assert model.method_ == "exact" and model.n_players_ == 15
    reference = closed_form(seqs, conv)
    for c, got in credit(model.attribution_).items():
        assert got == pytest.approx(reference.get(c, 0.0), abs=1e-8)


# -- order-aware variant --------------------------------------------------------------------------


ORDERED_SEQS = [["b", "a", "b", "c"], ["a", "b"], ["c"], ["a", "a", "c"]]
ORDERED_CONV = [6, 2, 1, 4]


def test_ordered_by_hand():
    # Stage = rank of a channel's first occurrence among the path's distinct channels.
    # b > a > b > c (6): b@1 2, a@2 2, c@3 2.   a > b (2): a@1 1, b@2 1.   c (1): c@1 1.
    # a > a > c (4): a@1 2, c@2 2.
    # a: @1 1+2 = 3, @2 2 (total 5); b: @1 2, @2 1 (3); c: @1 1, @2 2, @3 2 (5).
    p = Paths.from_sequences(ORDERED_SEQS, conversions=ORDERED_CONV, value=[12, 4, 2, 8])
    m = ShapleyAttribution(variant="ordered").fit(p)
    pos = m.by_position_.set_index(["channel", "position"])["conversions"]
    expected = {("a", 1): 3, ("a", 2): 2, ("a", 3): 0, ("b", 1): 2, ("b", 2): 1, ("b", 3): 0,
                ("c", 1): 1, ("c", 2): 2, ("c", 3): 2}  # fmt: skip
    assert pos.to_dict() == pytest.approx(expected)
    assert list(m.by_position_.columns) == ["channel", "position", "conversions", "value", "share"]
    # value is 2 per conversion on every path, so it follows the conversions
    np.testing.assert_allclose(m.by_position_["value"], 2 * m.by_position_["conversions"])
    np.testing.assert_allclose(m.by_position_["share"], m.by_position_["conversions"] / 13)
    # summed over stages it is the set-based value: the channel table is the same
    np.testing.assert_allclose(m.attribution_["conversions"], [5, 3, 5])
    pd.testing.assert_frame_equal(m.attribution_, shapley(p, variant="set"))
    assert ShapleyAttribution(variant="set").fit(p).by_position_ is None


def test_ordered_equals_brute_force_by_stage():
    seqs, conv = random_paths(4, 20, 5)
    p = Paths.from_sequences(seqs, conversions=conv)
    got = ShapleyAttribution(variant="ordered").fit(p).by_position_
    got = got.set_index(["channel", "position"])["conversions"]
    reference = brute_force_by_stage(seqs, conv)
    for key, value in got.items():
        assert value == pytest.approx(reference.get(key, 0.0), abs=1e-9)


# -- sampling -------------------------------------------------------------------------------------


def test_sampled_agrees_with_exact_within_reported_error():
    seqs, conv = random_paths(8, 150, 21)
    value = conv * np.linspace(1, 4, len(conv))
    p = Paths.from_sequences(seqs, conversions=conv, value=value)
    exact = ShapleyAttribution().fit(p)
    sampled = ShapleyAttribution(max_exact_channels=0, tol=0.003, random_state=3).fit(p)
    assert exact.method_ == "exact" and sampled.method_ == "sampled"
    assert sampled.converged_ and 100 <= sampled.n_samples_ <= 20_000
    se = sampled.std_error_
    assert (se["share_se"] <= 0.003).all() and (se["share_se"] > 0).all()
    # every sampled order splits the total exactly, so the estimate does too
    assert sampled.attribution_["conversions"].sum() == pytest.approx(conv.sum())
    assert sampled.attribution_["value"].sum() == pytest.approx(value.sum())
    for col, err in (
        ("conversions", "conversions_se"),
        ("value", "value_se"),
        ("share", "share_se"),
    ):
        diff = (sampled.attribution_[col] - exact.attribution_[col]).abs()
        assert (diff <= 4 * se[err]).all(), col
    # seeded: the same seed gives the same estimate, another seed another one
    again = ShapleyAttribution(max_exact_channels=0, tol=0.003, random_state=3).fit(p)
    pd.testing.assert_frame_equal(again.attribution_, sampled.attribution_)
    other = ShapleyAttribution(max_exact_channels=0, tol=0.003, random_state=4).fit(p)
    assert not np.allclose(other.attribution_["conversions"], sampled.attribution_["conversions"])


def test_sampled_ordered_agrees_with_exact_by_position():
    p = Paths.from_sequences(ORDERED_SEQS, conversions=ORDERED_CONV)
    exact = ShapleyAttribution(variant="ordered").fit(p).by_position_
    sampled = ShapleyAttribution(variant="ordered", max_exact_channels=0, tol=0.005).fit(p)
    assert sampled.converged_
    # shares within 0.005 standard error: 13 conversions x 0.005 x 4 standard errors ~ 0.26
    np.testing.assert_allclose(sampled.by_position_["conversions"], exact["conversions"], atol=0.26)
    assert sampled.by_position_["conversions"].sum() == pytest.approx(13)


def test_more_channels_than_the_limit_are_sampled():
    # 16 channels: beyond the default exact limit of 15. Mostly single-channel paths, so the
    # sampling converges quickly; the closed form gives the truth.
    labels = [f"ch{i:02d}" for i in range(16)]
    seqs = [[c] for c in labels] + [[labels[0], labels[1]], [labels[2], labels[3], labels[2]]]
    conv = [10.0] * 16 + [4.0, 6.0]
    p = Paths.from_sequences(seqs, conversions=conv)
    m = ShapleyAttribution(tol=0.002).fit(p)
    assert m.method_ == "sampled" and m.converged_ and m.n_players_ == 16
    truth = closed_form(seqs, conv)
    for c, got in credit(m.attribution_).items():
        assert abs(got - truth[c]) <= 4 * m.std_error_.set_index("channel").loc[c, "conversions_se"]
    assert ShapleyAttribution(max_exact_channels=16).fit(p).method_ == "exact"


def test_not_converged_warns():
    seqs, conv = random_paths(6, 40, 8)
    p = Paths.from_sequences(seqs, conversions=conv)
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        m = ShapleyAttribution(max_exact_channels=0, n_samples=50, tol=1e-6).fit(p)
    assert not m.converged_ and m.n_samples_ == 50
    assert m.attribution_["conversions"].sum() == pytest.approx(conv.sum())


# -- edge cases -----------------------------------------------------------------------------------


def test_no_conversions_is_a_clear_error():
    p = Paths.from_sequences([["a", "b"], ["b"]], conversions=[0, 0], nulls=[3, 4])
    with pytest.raises(ValueError, match="no conversions"):
        shapley(p)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"variant": "sequence"}, "variant"),
        ({"max_exact_channels": 25}, "max_exact_channels"),
        ({"max_exact_channels": -1}, "max_exact_channels"),
        ({"n_samples": 1}, "n_samples"),
        ({"tol": 0}, "tol"),
    ],
)
def test_bad_parameters(kwargs, match):
    p = Paths.from_sequences([["a"]], conversions=[1])
    with pytest.raises(ValueError, match=match):
        shapley(p, **kwargs)


def test_edge_paths():
    # One channel only: all credit. A channel seen only on non-converting paths: zero credit
    # (a null player). A very long path (300 touches of 3 channels): split in three. Paths of
    # length 1 count for their channel alone.
    long = ["a", "b", "c"] * 100
    p = Paths.from_sequences(
        [long, ["a"], ["z", "a"], ["q"]], conversions=[3, 1, 0, 0], nulls=[0, 0, 5, 2]
    )
    t = shapley(p)
    assert credit(t) == pytest.approx({"a": 2.0, "b": 1.0, "c": 1.0, "q": 0.0, "z": 0.0})
    only = Paths.from_sequences([["x", "x"], ["x"]], conversions=[2, 1], value=[5, 1])
    t = shapley(only, variant="ordered")
    assert t.to_dict("list") == {
        "channel": ["x"],
        "conversions": [3.0],
        "value": [6.0],
        "share": [1.0],
    }


def test_input_not_mutated_and_summary():
    p = Paths.from_sequences([["a", "b"], ["b"]], conversions=[2, 1], value=[4, 1], nulls=[1, 1])
    before = p.to_frame()
    m = ShapleyAttribution().fit(p)
    pd.testing.assert_frame_equal(p.to_frame(), before)
    assert list(m.summary.columns) == ["channel", "conversions", "value", "share", "share_se"]
    assert "exact" in m._repr_html_()
    assert "not fitted" in ShapleyAttribution()._repr_html_()


# -- Data.csv ---------------------------------------------------------------------------------------


@pytest.mark.shared_data
def test_data_csv_credits_sum_to_total(shared_datasets):
    file = shared_datasets / "channelattribution_paths" / "Data.csv"
    p = read_path_table(file)
    raw = pd.read_csv(file, sep=";")
    for variant in ("set", "ordered"):
        t = shapley(p, variant=variant)
        assert t["conversions"].sum() == pytest.approx(19_785)
        assert t["value"].sum() == pytest.approx(raw["total_conversion_value"].sum())
        assert t["share"].sum() == pytest.approx(1.0)
    # independent check of the closed form with pandas on the raw table
    sets = raw["path"].str.split(" > ").map(lambda s: sorted(set(s)))
    each = raw["total_conversions"] / sets.map(len)
    exploded = pd.DataFrame({"channel": sets.explode(), "credit": each.loc[sets.explode().index]})
    reference = exploded.groupby("channel")["credit"].sum()
    t = shapley(p)
    np.testing.assert_allclose(t.set_index("channel")["conversions"], reference.loc[t["channel"]])
    assert math.isclose(float(reference.sum()), 19_785)


def test_set_game_without_bitmasks(monkeypatch):
    # More than 62 channels cannot use one int64 bitmask per path; the sort-based construction
    # of the channel sets must give the same values.
    import journeylib.attribution.shapley as module

    seqs, conv = random_paths(6, 40, 9)
    p = Paths.from_sequences(seqs, conversions=conv, value=conv * 2)
    with_masks = shapley(p)
    monkeypatch.setattr(module, "_MASK_BITS", 0)
    pd.testing.assert_frame_equal(shapley(p), with_masks)
    reference = closed_form(seqs, conv)
    for c, got in credit(with_masks).items():
        assert got == pytest.approx(reference.get(c, 0.0), abs=1e-9)


def test_plot_by_position_in_bahasa_indonesia():
    from journeylib.attribution.shapley import plot_by_position

    table = pd.DataFrame(
        {"channel": ["a", "a", "b"], "position": [1, 2, 1], "share": [0.5, 0.25, 0.25]}
    )
    fig = plot_by_position(table, language="id")
    assert fig.layout.title.text == (
        "Kredit Shapley menurut posisi kanal saat pertama kali masuk ke jalur"
    )
    assert fig.layout.xaxis.title.text == "posisi kemunculan pertama"
    assert fig.data[0].colorbar.title.text == "porsi"
    # b never joins at position 2: a zero cell, not a gap
    assert fig.data[0].z.tolist() == [[0.5, 0.25], [0.25, 0.0]]
    assert plot_by_position(table).layout.xaxis.title.text == "position of first appearance"
