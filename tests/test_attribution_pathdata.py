"""journeylib.attribution.pathdata: the flat path container, path tables and the credit table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from journeylib.attribution import Paths, credit_table, read_path_table
from journeylib.attribution.pathdata import check_has_conversions
from journeylib.validation import DataValidationError


def small() -> Paths:
    return Paths.from_sequences(
        [["b", "a", "a"], ["c"], ["a", "b"], ["b", "a", "a"]],
        conversions=[1, 0, 2, 3],
        value=[10.0, 0.0, 5.0, 1.5],
        nulls=[0, 4, 1, 2],
        lag_days=[[5, 3, 1], [0], [2, 0], [9, 8, 7]],
        journey_ids=["u1", "u2", "u3", "u4"],
    )


def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "path": ["b > a > a", "c", "a > b", "b > a > a"],
            "total_conversions": [1, 0, 2, 3],
            "total_conversion_value": [10.0, 0.0, 5.0, 1.5],
            "total_null": [0, 4, 1, 2],
        }
    )


# -- construction ------------------------------------------------------------------------------


def test_from_sequences_layout():
    p = small()
    # Channels are sorted; code i means channels[i]: a=0, b=1, c=2.
    assert p.channels == ("a", "b", "c")
    assert p.touches.tolist() == [1, 0, 0, 2, 0, 1, 1, 0, 0]
    assert p.touches.dtype == np.int32 and p.offsets.dtype == np.int64
    assert p.offsets.tolist() == [0, 3, 4, 6, 9]
    assert p.n_paths == 4 == len(p)
    assert p.lengths.tolist() == [3, 1, 2, 3]
    assert p.path_codes(2).tolist() == [0, 1]
    assert p.path_codes(-1).tolist() == [1, 0, 0]
    assert p.touch_path.tolist() == [0, 0, 0, 1, 2, 2, 3, 3, 3]
    assert p.touch_position.tolist() == [0, 1, 2, 0, 0, 1, 0, 1, 2]
    assert (p.total_conversions, p.total_value, p.total_nulls) == (6.0, 16.5, 7.0)
    with pytest.raises(IndexError):
        p.path_codes(4)


def test_from_frame_matches_from_sequences_and_keeps_input():
    df = frame()
    before = df.copy()
    p = Paths.from_frame(df)
    pd.testing.assert_frame_equal(df, before)  # input never mutated
    q = small()
    assert p.channels == q.channels
    np.testing.assert_array_equal(p.touches, q.touches)
    np.testing.assert_array_equal(p.offsets, q.offsets)
    for name in ("conversions", "value", "nulls"):
        np.testing.assert_array_equal(getattr(p, name), getattr(q, name))
    assert p.lag_days is None and p.journey_ids is None


def test_from_frame_strips_labels_and_optional_columns():
    # Whitespace around labels is not part of the label: " a" and "a" are one channel.
    df = pd.DataFrame({"path": [" a>b ", "b >a", "c"], "conv": [1, 2, 0]})
    p = Paths.from_frame(df, conversions="conv", value=None, nulls=None, sep=">")
    assert p.channels == ("a", "b", "c")
    assert p.touches.tolist() == [0, 1, 1, 0, 2]
    assert p.value.tolist() == [0, 0, 0] and p.nulls.tolist() == [0, 0, 0]


def test_from_frame_numeric_labels_are_strings():
    df = pd.DataFrame({"path": ["10 > 2", "2"], "total_conversions": [1, 1]})
    p = Paths.from_frame(df, value=None, nulls=None)
    assert p.channels == ("10", "2")  # sorted as text


def test_useless_path_is_kept():
    # No conversions and no nulls: carries no information but is a valid row.
    p = Paths.from_sequences([["a"], ["b"]], conversions=[1, 0], nulls=[0, 0])
    assert p.n_paths == 2 and p.channels == ("a", "b")


@pytest.mark.parametrize(
    ("column", "values", "check", "rows"),
    [
        ("total_conversions", [1, -1, 0, -2], "negative", "(rows 2, 4)"),
        ("total_null", [1, np.nan, 0, 1], "missing", "(rows 2)"),
        ("total_conversion_value", ["1", "x", "2", "3"], "not a number", "(rows 2)"),
        ("total_conversion_value", [1, np.inf, 0, 1], "infinite", "(rows 2)"),
    ],
)
def test_from_frame_bad_numbers(column, values, check, rows):
    df = frame()
    df[column] = values
    with pytest.raises(DataValidationError) as err:
        Paths.from_frame(df)
    msg = str(err.value)
    assert column in msg and check in msg and rows in msg


def test_from_frame_bad_paths_name_rows_never_values():
    df = frame()
    df["path"] = ["secret > a", "", None, "a > b"]
    with pytest.raises(DataValidationError) as err:
        Paths.from_frame(df)
    msg = str(err.value)
    assert "empty path: 2 rows (rows 2, 3)" in msg
    assert "secret" not in msg

    df["path"] = ["a > ", "c", "a >  > b", "a"]  # separator at the end / doubled
    with pytest.raises(DataValidationError, match=r"empty touchpoint label.*rows 1, 3"):
        Paths.from_frame(df)


def test_from_frame_missing_columns_and_no_rows():
    with pytest.raises(DataValidationError, match="total_null.*column missing"):
        Paths.from_frame(frame().drop(columns="total_null"))
    # A column set to None is not required.
    assert Paths.from_frame(frame().drop(columns="total_null"), nulls=None).total_nulls == 0
    with pytest.raises(DataValidationError, match="no rows"):
        Paths.from_frame(frame().iloc[:0])


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"offsets": [1, 3, 4, 6, 9]}, "must start with 0"),
        ({"offsets": [0, 3, 4, 6, 8]}, "last offset 8 != number of touches 9"),
        ({"offsets": [0, 3, 3, 6, 9]}, "1 paths with no touch.*paths 1"),
        ({"touches": [1, 0, 0, 3, 0, 1, 1, 0, 0]}, "1 codes outside 0..2"),
        ({"touches": [1.5, 0, 0, 2, 0, 1, 1, 0, 0]}, "codes must be integers"),
        ({"channels": ("b", "a", "c")}, "sorted and unique"),
        ({"channels": ("a", "a", "c")}, "sorted and unique"),
        ({"conversions": [1, -1, 0, 0]}, r"conversions: negative in 1 paths \(paths 1\)"),
        ({"value": [1, np.nan, 0, 0]}, r"value: missing \(NaN\) in 1 paths"),
        ({"nulls": [1, 0, 0]}, "nulls: length 3 but there are 4 paths"),
        ({"lag_days": np.zeros(8)}, "lag_days: length 8 but there are 9 touches"),
        ({"lag_days": -np.ones(9)}, "lag_days: negative in 9 touches"),
        ({"journey_ids": ["u1"]}, "expected 4 ids"),
    ],
)
def test_constructor_checks(change, match):
    p = small()
    fields = {
        "channels": p.channels,
        "offsets": p.offsets,
        "touches": p.touches,
        "conversions": p.conversions,
        "value": p.value,
        "nulls": p.nulls,
        "lag_days": p.lag_days,
        "journey_ids": p.journey_ids,
    }
    with pytest.raises(ValueError, match=match):
        Paths(**{**fields, **change})


def test_from_sequences_checks():
    with pytest.raises(ValueError, match=r"1 empty paths \(paths 1\)"):
        Paths.from_sequences([["a"], []], conversions=[1, 1])
    with pytest.raises(ValueError, match="one value per touch"):
        Paths.from_sequences([["a", "b"]], conversions=[1], lag_days=[[1]])
    with pytest.raises(ValueError, match="non-empty str"):
        Paths.from_sequences([["a", ""]], conversions=[1])


def test_arrays_are_read_only_and_callers_arrays_untouched():
    conv = np.array([1.0, 2.0])
    p = Paths.from_sequences([["a"], ["b"]], conversions=conv)
    with pytest.raises(ValueError):
        p.conversions[0] = 5
    with pytest.raises(ValueError):
        p.touches[0] = 1
    conv[0] = 7.0  # the caller's own array stays writeable
    assert conv.flags.writeable


# -- transforms --------------------------------------------------------------------------------


def test_to_frame_round_trip():
    p = small()
    out = p.to_frame()
    assert list(out.columns) == ["path", "conversions", "value", "nulls", "length"]
    assert out["path"].tolist() == ["b > a > a", "c", "a > b", "b > a > a"]
    assert out["length"].tolist() == [3, 1, 2, 3]
    assert p.to_frame(sep="|")["path"].iloc[0] == "b|a|a"
    back = Paths.from_frame(out, conversions="conversions", value="value", nulls="nulls")
    np.testing.assert_array_equal(back.touches, p.touches)
    np.testing.assert_array_equal(back.conversions, p.conversions)


def test_aggregate_merges_identical_paths_in_first_appearance_order():
    p = small().aggregate()
    # "b > a > a" occurs twice (rows 0 and 3): conversions 1 + 3, value 10 + 1.5, nulls 0 + 2.
    assert p.to_frame()["path"].tolist() == ["b > a > a", "c", "a > b"]
    assert p.conversions.tolist() == [4, 0, 2]
    assert p.value.tolist() == [11.5, 0, 5]
    assert p.nulls.tolist() == [2, 4, 1]
    assert p.lag_days is None and p.journey_ids is None


def test_aggregate_same_labels_different_order_stay_apart():
    # a > b and b > a are different paths; a > a > b and a > b are too (no collapsing here).
    p = Paths.from_sequences(
        [["a", "b"], ["b", "a"], ["a", "b"], ["a", "a", "b"]], conversions=[1, 1, 1, 1]
    ).aggregate()
    assert p.to_frame()["path"].tolist() == ["a > b", "b > a", "a > a > b"]
    assert p.conversions.tolist() == [2, 1, 1]


def test_collapse_repeats_keeps_last_lag_of_each_run():
    p = small().collapse_repeats()
    # b > a > a -> b > a; the run "a a" keeps the lag of its last touch (1, resp. 7).
    assert p.to_frame()["path"].tolist() == ["b > a", "c", "a > b", "b > a"]
    assert p.lag_days.tolist() == [5, 1, 0, 2, 0, 9, 7]
    assert p.journey_ids.tolist() == ["u1", "u2", "u3", "u4"]
    assert p.conversions.tolist() == [1, 0, 2, 3]
    # Runs never span two paths: "... > a" followed by a path starting with "a" stays.
    q = Paths.from_sequences([["b", "a"], ["a", "a"]], conversions=[1, 1]).collapse_repeats()
    assert q.to_frame()["path"].tolist() == ["b > a", "a"]


def test_reweight():
    p = small()
    q = p.reweight(np.array([2, 0, 1, 0.5]))
    assert q.conversions.tolist() == [2, 0, 2, 1.5]
    assert q.value.tolist() == [20, 0, 5, 0.75]
    assert q.nulls.tolist() == [0, 0, 1, 1]
    assert p.conversions.tolist() == [1, 0, 2, 3]  # original untouched
    assert q.touches is not None and q.lag_days.tolist() == p.lag_days.tolist()
    with pytest.raises(ValueError, match="negative"):
        p.reweight(np.array([1, -1, 1, 1]))
    with pytest.raises(ValueError, match="length 2"):
        p.reweight(np.ones(2))


def test_long_path():
    seq = ["a"] + ["b"] * 498 + ["c"]
    p = Paths.from_sequences([seq, ["a"]], conversions=[1, 1])
    assert p.lengths.tolist() == [500, 1]
    assert p.collapse_repeats().lengths.tolist() == [3, 1]
    assert p.aggregate().n_paths == 2


# -- credit table ------------------------------------------------------------------------------


def test_credit_table():
    p = small()
    out = credit_table(p, np.array([4.5, 1.5, 0.0]), np.array([10.0, 6.5, 0.0]))
    assert list(out.columns) == ["channel", "conversions", "value", "share"]
    assert out["channel"].tolist() == ["a", "b", "c"]  # paths.channels order, zero credit kept
    assert out["share"].tolist() == [0.75, 0.25, 0.0]  # 4.5 / 6, 1.5 / 6
    assert out["conversions"].dtype == np.float64 and out["share"].dtype == np.float64
    with pytest.raises(ValueError, match="shape"):
        credit_table(p, np.ones(2), np.ones(3))
    with pytest.raises(ValueError, match="non-finite"):
        credit_table(p, np.array([1, np.nan, 0]), np.ones(3))


def test_check_has_conversions():
    p = Paths.from_sequences([["a"], ["b"]], conversions=[0, 0], nulls=[1, 2])
    with pytest.raises(ValueError, match="nothing to attribute"):
        check_has_conversions(p, model="linear")
    check_has_conversions(small(), model="linear")


# -- CSV path tables ---------------------------------------------------------------------------


def test_read_path_table(tmp_path):
    f = tmp_path / "paths.csv"
    f.write_text(
        "path;total_conversions;total_conversion_value;total_null\na > b;1;2.5;3\nb;0;0;1\n"
    )
    p = read_path_table(f)
    assert p.channels == ("a", "b") and p.conversions.tolist() == [1, 0]
    bad = tmp_path / "bad.csv"
    bad.write_text("path;total_conversions;total_conversion_value;total_null\na;1;2;3\nb;-1;0;x\n")
    with pytest.raises(DataValidationError) as err:
        read_path_table(bad)
    msg = str(err.value)
    assert "bad.csv" in msg and "2 problems" in msg
    assert "total_conversions'] negative: 1 row (rows 2)" in msg
    assert "total_null'] not a number: 1 row (rows 2)" in msg
    with pytest.raises(FileNotFoundError):
        read_path_table(tmp_path / "absent.csv")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(DataValidationError, match="empty file"):
        read_path_table(empty)


@pytest.mark.shared_data
def test_data_csv(shared_datasets):
    file = shared_datasets / "channelattribution_paths" / "Data.csv"
    p = read_path_table(file)
    raw = pd.read_csv(file, sep=";")
    assert p.n_paths == 10_000
    assert p.total_conversions == 19_785 and p.total_nulls == 68_602
    assert p.total_value == pytest.approx(raw["total_conversion_value"].sum())
    labels = raw["path"].str.split(" > ")
    assert p.channels == tuple(sorted({x for seq in labels for x in seq}))
    assert p.lengths.tolist() == labels.map(len).tolist()
    assert p.to_frame()["path"].tolist() == raw["path"].tolist()
    # aggregate() against a plain pandas group-by of the path strings.
    agg = p.aggregate().to_frame().set_index("path").sort_index()
    ref = raw.groupby("path")[["total_conversions", "total_null"]].sum().sort_index()
    assert agg.index.tolist() == ref.index.tolist()
    np.testing.assert_array_equal(agg["conversions"], ref["total_conversions"])
    np.testing.assert_array_equal(agg["nulls"], ref["total_null"])
    # collapse_repeats() against collapsing the strings in Python.
    collapsed = [" > ".join(x for i, x in enumerate(s) if i == 0 or s[i - 1] != x) for s in labels]
    assert p.collapse_repeats().to_frame()["path"].tolist() == collapsed
