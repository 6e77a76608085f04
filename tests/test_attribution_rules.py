"""journeylib.attribution.rules: rule-based attribution on hand-computed path tables."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from journeylib.attribution import Paths, read_path_table
from journeylib.attribution.rules import (
    RULE_MODELS,
    first_touch,
    inverse_j,
    j_shaped,
    last_non_direct,
    last_touch,
    linear,
    position_based,
    rule_based,
    rule_weights,
    time_decay,
)

CHANNELS = ["a", "b", "c", "direct"]  # paths.channels order (sorted)


def shop() -> Paths:
    """Five paths; total 5 conversions and 38 of value. P4 never converted: it gets no credit."""
    return Paths.from_sequences(
        [
            ["a", "b", "c"],  # P0: 2 conversions, value 20
            ["b"],  # P1: 1 conversion, value 6
            ["c", "direct"],  # P2: 1 conversion, value 10
            ["direct"],  # P3: 1 conversion, value 2
            ["a", "c"],  # P4: no conversion, 3 nulls
        ],
        conversions=[2, 1, 1, 1, 0],
        value=[20, 6, 10, 2, 0],
        nulls=[0, 0, 0, 0, 3],
        lag_days=[[14, 7, 0], [0], [3.5, 0], [10], [30, 20]],
    )


def credits(table: pd.DataFrame, column: str = "conversions") -> list[float]:
    assert table["channel"].tolist() == CHANNELS
    return table[column].tolist()


def test_first_touch():
    out = first_touch(shop())
    # The first touch of each converting path: P0 -> a (2), P1 -> b, P2 -> c, P3 -> direct.
    assert credits(out) == [2, 1, 1, 1]
    assert credits(out, "value") == [20, 6, 10, 2]
    assert out["share"].tolist() == [0.4, 0.2, 0.2, 0.2]


def test_last_touch():
    # The last touch: P0 -> c (2), P1 -> b, P2 -> direct, P3 -> direct; a closes nothing.
    out = last_touch(shop())
    assert credits(out) == [0, 1, 2, 2]
    assert credits(out, "value") == [0, 6, 20, 12]  # direct: P2 10 + P3 2


def test_last_non_direct():
    # P2 "c > direct" skips direct and credits c; P3 is direct only, so direct keeps it.
    out = last_non_direct(shop())
    assert credits(out) == [0, 1, 3, 1]
    assert credits(out, "value") == [0, 6, 30, 2]
    # Another label for direct: "c" is now the direct channel, so P0 credits b and P2 direct.
    out = last_non_direct(shop(), direct="c")
    assert credits(out) == [0, 3, 0, 2]
    # A set of labels: c and direct are both direct; P2 falls back to its last touch (direct).
    out = last_non_direct(shop(), direct={"c", "direct"})
    assert credits(out) == [0, 3, 0, 2]
    # No channel labelled direct: same as last touch.
    assert credits(last_non_direct(shop(), direct="none")) == [0, 1, 2, 2]


def test_linear():
    out = linear(shop())
    # P0 splits 2 in thirds (2/3 each to a, b, c); P2 splits 1 in halves (c, direct).
    # a 2/3; b 2/3 + 1 (P1); c 2/3 + 1/2; direct 1/2 + 1 (P3).
    assert credits(out) == pytest.approx([2 / 3, 5 / 3, 7 / 6, 3 / 2])
    # Value with the same weights: P0 20/3 each; P2 5 each.
    assert credits(out, "value") == pytest.approx([20 / 3, 20 / 3 + 6, 20 / 3 + 5, 5 + 2])


def test_position_based():
    out = position_based(shop())
    # P0 (3 touches): a 0.4, b 0.2, c 0.4 of 2 conversions = 0.8, 0.4, 0.8.
    # P2 (2 touches): 40/40 -> 0.5 / 0.5. P1, P3 (1 touch) get everything.
    assert credits(out) == pytest.approx([0.8, 1.4, 1.3, 1.5])
    # Value: P0 8, 4, 8; P1 b 6; P2 c 5, direct 5; P3 direct 2.
    assert credits(out, "value") == pytest.approx([8, 10, 13, 7])


def test_j_shaped_and_inverse_j():
    # J (first 0.2, last 0.6): P0 a 0.4, b 0.4 (middle 0.2 x 2), c 1.2; P2 splits 0.2 : 0.6,
    # i.e. c 0.25, direct 0.75.
    assert credits(j_shaped(shop())) == pytest.approx([0.4, 1.4, 1.45, 1.75])
    # Inverse J (0.6, 0.2): P0 a 1.2, b 0.4, c 0.4; P2 c 0.75, direct 0.25.
    assert credits(inverse_j(shop())) == pytest.approx([1.2, 1.4, 1.15, 1.25])
    # Custom weights are position-based weights.
    pd.testing.assert_frame_equal(
        j_shaped(shop(), first=0.3, last=0.3), position_based(shop(), first=0.3, last=0.3)
    )


def test_position_based_degenerate_weights():
    p = shop()
    # first = last = 0: the middle touch of P0 (b) takes all; two-touch P2 splits evenly.
    assert credits(position_based(p, first=0, last=0)) == pytest.approx([0, 3, 0.5, 1.5])
    # first + last = 1: middle touches get nothing.
    assert credits(position_based(p, first=0.5, last=0.5)) == pytest.approx([1, 1, 1.5, 1.5])


def test_time_decay_with_lags():
    out = time_decay(shop(), half_life=7)
    # P0 lags 14, 7, 0 days -> raw weights 1/4, 1/2, 1 (sum 7/4) -> 1/7, 2/7, 4/7 of 2.
    # P2 lags 3.5, 0 -> 2**-0.5, 1 -> c gets 1 / (1 + sqrt 2) = sqrt 2 - 1, direct 2 - sqrt 2.
    r2 = math.sqrt(2)
    assert credits(out) == pytest.approx([2 / 7, 4 / 7 + 1, 8 / 7 + r2 - 1, 2 - r2 + 1])
    assert credits(out, "value") == pytest.approx(
        [20 / 7, 40 / 7 + 6, 80 / 7 + 10 * (r2 - 1), 10 * (2 - r2) + 2]
    )


def test_time_decay_without_lags_counts_touches():
    p = shop()
    no_lag = Paths(p.channels, p.offsets, p.touches, p.conversions, p.value, p.nulls)
    out = time_decay(no_lag, half_life=1)
    # Lags in touches: P0 2, 1, 0 -> 1/4, 1/2, 1 -> 1/7, 2/7, 4/7 of 2; P2 1, 0 -> 1/3, 2/3.
    assert credits(out) == pytest.approx([2 / 7, 4 / 7 + 1, 8 / 7 + 1 / 3, 2 / 3 + 1])
    # A huge half-life is linear; a tiny one is last touch.
    assert credits(time_decay(no_lag, half_life=1e12)) == pytest.approx(credits(linear(p)))
    assert credits(time_decay(no_lag, half_life=1e-6)) == pytest.approx([0, 1, 2, 2])


def test_time_decay_far_lags_do_not_underflow():
    # 2**-5000 and 2**-4000 both underflow to 0 (0 / 0 = NaN); weights are taken relative to
    # the most recent touch of each path: a is 1000 half-lives before b, weight 2**-1000.
    p = Paths.from_sequences([["a", "b"]], conversions=[1], lag_days=[[5000, 4000]])
    out = time_decay(p, half_life=1)
    assert out["conversions"].tolist() == pytest.approx([2.0**-1000, 1.0], abs=1e-300)
    assert out["conversions"].notna().all()


def test_rule_based_dispatch_and_errors():
    p = shop()
    assert set(RULE_MODELS) == {
        "first_touch", "last_touch", "last_non_direct", "linear", "time_decay",
        "position_based", "j_shaped", "inverse_j",
    }  # fmt: skip
    pd.testing.assert_frame_equal(rule_based(p, "linear"), linear(p))
    pd.testing.assert_frame_equal(
        rule_based(p, "position_based", first=0.3, last=0.5),
        position_based(p, first=0.3, last=0.5),
    )
    with pytest.raises(ValueError, match="model must be one of"):
        rule_based(p, "u_shaped")
    for bad in (0, -1, math.inf, math.nan, "7"):
        with pytest.raises(ValueError, match="half_life must be a positive number"):
            time_decay(p, half_life=bad)
    with pytest.raises(ValueError, match="first \\+ last must be at most 1"):
        position_based(p, first=0.7, last=0.5)
    with pytest.raises(ValueError, match="last must be a number in"):
        j_shaped(p, last=-0.1)
    with pytest.raises(TypeError, match="expected a Paths"):
        linear(pd.DataFrame({"path": ["a"]}))


# -- invariants and edge cases -----------------------------------------------------------------


@pytest.mark.parametrize("model", sorted(RULE_MODELS))
def test_invariants(model):
    p = shop()
    before = {k: np.array(getattr(p, k)) for k in ("touches", "offsets", "conversions", "value")}
    out = rule_based(p, model)
    assert list(out.columns) == ["channel", "conversions", "value", "share"]
    assert out["channel"].tolist() == list(p.channels)  # one row per channel, in order
    assert out["conversions"].sum() == pytest.approx(p.total_conversions)
    assert out["value"].sum() == pytest.approx(p.total_value)
    assert out["share"].sum() == pytest.approx(1.0)
    assert (out[["conversions", "value", "share"]] >= 0).all().all()
    for k, v in before.items():  # input not mutated
        np.testing.assert_array_equal(getattr(p, k), v)
    w = rule_weights(p, model)
    np.testing.assert_allclose(np.add.reduceat(w, p.offsets[:-1]), 1.0)


@pytest.mark.parametrize("model", sorted(RULE_MODELS))
def test_no_conversions_is_a_clear_error(model):
    p = Paths.from_sequences([["a", "b"], ["b"]], conversions=[0, 0], nulls=[3, 1])
    with pytest.raises(ValueError, match="no conversions.*nothing to attribute"):
        rule_based(p, model)


@pytest.mark.parametrize("model", sorted(RULE_MODELS))
def test_one_channel_only(model):
    # Whatever the rule, a single channel gets every conversion and all the value.
    p = Paths.from_sequences(
        [["x"], ["x", "x", "x"]], conversions=[1, 2], value=[3, 4], lag_days=[[0], [9, 2, 1]]
    )
    out = rule_based(p, model)
    assert out["channel"].tolist() == ["x"]
    assert out["conversions"].tolist() == pytest.approx([3]) and out["share"].tolist() == [1.0]
    assert out["value"].tolist() == pytest.approx([7])


@pytest.mark.parametrize("model", sorted(RULE_MODELS))
def test_length_one_paths_are_first_touch(model):
    # With one touch per path every rule credits that touch.
    p = Paths.from_sequences([["a"], ["b"], ["a"]], conversions=[1, 2, 3], value=[1, 1, 1])
    assert credits_of(rule_based(p, model)) == [4, 2]


def credits_of(table: pd.DataFrame) -> list[float]:
    return [round(x, 12) for x in table["conversions"]]


def test_channel_in_one_path_only():
    # "rare" occurs once, in the middle of a converting path, and "ghost" only in a
    # non-converting path: ghost still has its (zero) row.
    p = Paths.from_sequences(
        [["a", "rare", "b"], ["a", "b"], ["ghost"]], conversions=[1, 1, 0], nulls=[0, 0, 5]
    )
    lin = linear(p).set_index("channel")["conversions"]
    assert lin["rare"] == pytest.approx(1 / 3) and lin["ghost"] == 0
    pos = position_based(p).set_index("channel")["conversions"]
    assert pos["rare"] == pytest.approx(0.2)  # the only middle touch of its path
    assert first_touch(p).set_index("channel")["conversions"]["rare"] == 0


def test_path_of_500_touches():
    seq = ["email"] + ["direct"] * 498 + ["search"]
    p = Paths.from_sequences([seq], conversions=[1], value=[50])
    pos = position_based(p).set_index("channel")["conversions"]
    # email 0.4, search 0.4, the 498 direct touches share 0.2.
    assert pos.to_dict() == pytest.approx({"direct": 0.2, "email": 0.4, "search": 0.4})
    lin = linear(p).set_index("channel")["conversions"]
    assert lin["direct"] == pytest.approx(498 / 500)
    # Time decay in touches, half-life 1: search weighs 1 out of 1 + 1/2 + ... + 2**-499.
    td = time_decay(p, half_life=1).set_index("channel")["conversions"]
    assert td["search"] == pytest.approx(1 / (2 - 2.0**-499))
    assert td["email"] == pytest.approx(2.0**-499 / (2 - 2.0**-499))
    lnd = last_non_direct(
        Paths.from_sequences([["email"] + ["direct"] * 499], conversions=[1])
    ).set_index("channel")["conversions"]
    assert lnd.to_dict() == {"direct": 0.0, "email": 1.0}


def _slow_weights(seq: list[str], lags: list[float], model: str) -> list[float]:
    """Per-path reference written as the business rule reads, one path at a time."""
    n = len(seq)
    if model == "first_touch":
        return [1.0] + [0.0] * (n - 1)
    if model == "last_touch":
        return [0.0] * (n - 1) + [1.0]
    if model == "last_non_direct":
        nd = [i for i, c in enumerate(seq) if c != "direct"]
        k = nd[-1] if nd else n - 1
        return [1.0 if i == k else 0.0 for i in range(n)]
    if model == "linear":
        return [1 / n] * n
    if model == "time_decay":
        raw = [0.5 ** (lag / 7) for lag in lags]
        return [r / sum(raw) for r in raw]
    first, last = {"position_based": (0.4, 0.4), "j_shaped": (0.2, 0.6)}.get(model, (0.6, 0.2))
    if n == 1:
        return [1.0]
    if n == 2:
        return [first / (first + last), last / (first + last)]
    return [first] + [(1 - first - last) / (n - 2)] * (n - 2) + [last]


@pytest.mark.parametrize("model", sorted(RULE_MODELS))
def test_against_slow_reference_on_random_paths(model):
    rng = np.random.default_rng(11)
    labels = ["a", "b", "c", "direct"]
    seqs, lags = [], []
    for _ in range(200):
        n = int(rng.integers(1, 9))
        seqs.append([labels[i] for i in rng.integers(0, 4, n)])
        lags.append(sorted(rng.uniform(0, 60, n).round(1).tolist(), reverse=True))
    conv = rng.integers(0, 4, 200).astype(float)  # a quarter without conversions, as journeys
    value = rng.uniform(0, 100, 200)
    p = Paths.from_sequences(seqs, conversions=conv, value=value, lag_days=lags)
    expected_c = dict.fromkeys(labels, 0.0)
    expected_v = dict.fromkeys(labels, 0.0)
    for seq, lag, c, v in zip(seqs, lags, conv, value, strict=True):
        for ch, w in zip(seq, _slow_weights(seq, lag, model), strict=True):
            expected_c[ch] += w * c
            expected_v[ch] += w * v
    out = rule_based(p, model).set_index("channel")
    assert out["conversions"].to_dict() == pytest.approx(expected_c)
    assert out["value"].to_dict() == pytest.approx(expected_v)


# -- Data.csv ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def data_csv(shared_datasets):
    file = shared_datasets / "channelattribution_paths" / "Data.csv"
    return read_path_table(file), pd.read_csv(file, sep=";")


@pytest.mark.shared_data
@pytest.mark.parametrize("model", sorted(RULE_MODELS))
def test_data_csv_credits_sum_to_total_conversions(data_csv, model):
    p, raw = data_csv
    out = rule_based(p, model)
    assert out["conversions"].sum() == pytest.approx(19_785, rel=1e-12)
    assert out["value"].sum() == pytest.approx(raw["total_conversion_value"].sum(), rel=1e-12)
    assert len(out) == 12


@pytest.mark.shared_data
def test_data_csv_first_and_last_touch_match_pandas(data_csv):
    p, raw = data_csv
    # Independent: split the strings, take the first / last label, group by it.
    touches = raw["path"].str.split(" > ")
    for model, pick in ((first_touch, 0), (last_touch, -1)):
        ref = (
            raw.assign(channel=touches.str[pick])
            .groupby("channel")["total_conversions"]
            .sum()
            .reindex(list(p.channels), fill_value=0)
        )
        got = model(p).set_index("channel")["conversions"]
        np.testing.assert_array_equal(got.to_numpy(), ref.to_numpy(dtype=float))
