"""The fast CSV writer (journeylib.csvout) against pandas' to_csv, the reference it must equal
byte for byte, on random tables of every column type the report writes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from journeylib import csvout

TRICKY_FLOATS = [
    0.0, -0.0, 1.0, -1.0, 0.1, 1e-4, 9.999e-5, 1e-5, 2.5e-7, 5e-324, 1e15, 1e16, 9999999999999998.0,
    1234567890123456.0, 12345678901234567.0, 123456789.123, 1e22, 1e100, 0.30000000000000004,
    100.0, 0.00011, float("inf"), float("-inf"), float("nan"),
]  # fmt: skip


def _pandas(df: pd.DataFrame, path) -> bytes:
    df.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")
    return path.read_bytes()


def _fast(df: pd.DataFrame, path) -> bytes:
    csvout._write_fast(df, path)  # the fast path itself, never the fallback
    return path.read_bytes()


def _random_table(rng: np.random.Generator, n: int) -> pd.DataFrame:
    mags = 10.0 ** rng.integers(-9, 20, n)
    floats = rng.standard_normal(n) * mags
    floats[rng.random(n) < 0.1] = np.nan
    floats[:: max(n // 7, 1)] = np.round(floats[:: max(n // 7, 1)])  # whole numbers
    words = np.array(["a", "b b", "kota, besar", 'kata "kutip"', "baris\nbaru", "", "é ü 日本"])
    text = rng.choice(words, n).astype(object)
    text[rng.random(n) < 0.1] = None
    ts = pd.Timestamp("2025-01-01", tz="UTC") + pd.to_timedelta(
        rng.integers(0, 10**13, n), unit="us"
    )
    ts_whole = ts.floor("s")
    ts = pd.Series(ts).where(rng.random(n) > 0.1)
    ints = pd.array(rng.integers(-(10**12), 10**12, n), dtype="Int64")
    ints[rng.random(n) < 0.1] = pd.NA
    bools = pd.array(rng.random(n) < 0.5, dtype="boolean")
    bools[rng.random(n) < 0.1] = pd.NA
    cat = pd.Categorical(rng.choice(["item_knn", "popularity", "x,y"], n))
    return pd.DataFrame(
        {
            "customer_id": pd.array([f"{v:020x}" for v in rng.integers(0, 2**62, n)], dtype="str"),
            "rank": rng.integers(1, 11, n),
            "f": floats,
            "f32_like": np.round(rng.random(n), 3),
            "text": pd.array(text, dtype="str"),
            "obj": text,
            "ts": ts,
            "ts_whole": ts_whole,
            "ints": ints,
            "flag": rng.random(n) < 0.3,
            "maybe": bools,
            "cat": cat,
            "stage": pd.array(rng.choice(["awareness", None], n), dtype="string"),
        }
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fast_csv_equals_to_csv_on_random_tables(tmp_path, seed):
    df = _random_table(np.random.default_rng(seed), 3000)
    assert _fast(df, tmp_path / "a.csv") == _pandas(df, tmp_path / "b.csv")


def test_tricky_floats_and_blocks(tmp_path, monkeypatch):
    monkeypatch.setattr(csvout, "BLOCK_ROWS", 7)  # many blocks
    n = len(TRICKY_FLOATS)
    df = pd.DataFrame({"x": TRICKY_FLOATS, "neg": [-v for v in TRICKY_FLOATS], "i": range(n)})
    assert _fast(df, tmp_path / "a.csv") == _pandas(df, tmp_path / "b.csv")
    rng = np.random.default_rng(5)  # every magnitude Python writes positionally and beyond
    x = rng.standard_normal(20_000) * 10.0 ** rng.uniform(-8, 18, 20_000)
    df = pd.DataFrame({"x": x, "y": np.round(x, 2), "z": np.trunc(x)})
    assert _fast(df, tmp_path / "a.csv") == _pandas(df, tmp_path / "b.csv")


def test_other_types_use_pandas_rendering_of_the_column(tmp_path):
    rng = np.random.default_rng(3)
    n = 500
    df = pd.DataFrame(
        {
            "naive": pd.Timestamp("2025-03-01") + pd.to_timedelta(rng.integers(0, 10**6, n), "s"),
            "days": pd.to_timedelta(rng.integers(0, 10**6, n), "s"),
            "jakarta": pd.Timestamp("2025-03-01", tz="Asia/Jakarta")
            + pd.to_timedelta(rng.integers(0, 10**6, n), "s"),
            "f32": rng.random(n).astype("float32"),
            "mixed": pd.Series([1, "a", 2.5, None] * (n // 4), dtype=object),
        }
    )
    assert _fast(df, tmp_path / "a.csv") == _pandas(df, tmp_path / "b.csv")


def test_tables_it_cannot_promise_go_through_pandas(tmp_path):
    one = pd.DataFrame({"only": ["", "a"] * 40_000})  # csv quotes an empty single field
    cr = pd.DataFrame({"a": ["x\ry", "z"] * 40_000, "b": 1})  # carriage returns
    indexed = pd.DataFrame({"a": range(60_000), "b": 2}, index=np.arange(60_000) * 2)
    for df in (one, cr, indexed):
        with pytest.raises(csvout._Unsupported):
            csvout._write_fast(df, tmp_path / "x.csv")
        csvout.write_csv(df, tmp_path / "a.csv")  # falls back
        assert (tmp_path / "a.csv").read_bytes() == _pandas(df, tmp_path / "b.csv")


def test_small_tables_are_written_by_pandas(tmp_path, monkeypatch):
    called = []
    monkeypatch.setattr(csvout, "_write_fast", lambda df, path: called.append(1))
    df = pd.DataFrame({"a": [1.5, 2.0], "b": ["x", "y"]})
    csvout.write_csv(df, tmp_path / "a.csv")
    assert not called and (tmp_path / "a.csv").read_text() == "a,b\n1.5,x\n2.0,y\n"


def test_a_block_it_cannot_promise_after_blocks_written_restarts_with_pandas(tmp_path, monkeypatch):
    """Blocks are written as they are formatted (the text of a 103M-row table is not held at
    once); a carriage return in a later block sends the whole table to pandas, which writes the
    file afresh: no fast-written line stays."""
    monkeypatch.setattr(csvout, "BLOCK_ROWS", 1_000)
    df = pd.DataFrame({"a": ["x"] * 60_000, "b": range(60_000)})
    df.loc[59_999, "a"] = "late\rreturn"  # in the last block only
    csvout.write_csv(df, tmp_path / "a.csv")
    assert (tmp_path / "a.csv").read_bytes() == _pandas(df, tmp_path / "b.csv")
    # and a table it can write is written block after block, equal to pandas
    ok = df.assign(a="y")
    csvout.write_csv(ok, tmp_path / "c.csv")
    assert (tmp_path / "c.csv").read_bytes() == _pandas(ok, tmp_path / "d.csv")
