"""Large tables written as Parquet a slice at a time (journeylib.parquetout)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from journeylib.parquetout import write_parquet


def _table(n_customers: int = 5_000, k: int = 10) -> pd.DataFrame:
    rng = np.random.default_rng(11)
    ids = [f"{i:020x}" for i in rng.permutation(n_customers)]
    return pd.DataFrame(
        {
            "customer_id": pd.Categorical(np.repeat(ids, k)),  # one category per customer
            "rank": np.tile(np.arange(1, k + 1), n_customers),
            "source": pd.Categorical(rng.choice(["item_knn", "popularity"], n_customers * k)),
            "score": rng.random(n_customers * k),
        }
    )


def _id_bytes(path) -> int:
    """Bytes of the customer_id column, over every row group."""
    meta = pq.ParquetFile(path).metadata
    return sum(
        meta.row_group(i).column(0).total_compressed_size for i in range(meta.num_row_groups)
    )


def test_a_categorical_of_many_ids_is_written_as_values_not_a_dictionary_per_row_group(tmp_path):
    df = _table()
    write_parquet(df, tmp_path / "ours.parquet", rows=1_000)  # 50 row groups
    # the reference: pyarrow's writer with the same row groups repeats the 5,000-id dictionary
    df.to_parquet(tmp_path / "naive.parquet", index=False, row_group_size=1_000)
    ours, naive = (_id_bytes(tmp_path / f) for f in ("ours.parquet", "naive.parquet"))
    assert pq.ParquetFile(tmp_path / "ours.parquet").metadata.num_row_groups == 50
    # each row group holds 100 of the 5,000 ids: about 1/50 of the dictionary each time
    assert ours * 20 < naive
    back = pd.read_parquet(tmp_path / "ours.parquet")
    assert back["customer_id"].tolist() == df["customer_id"].astype(str).tolist()
    assert isinstance(back["source"].dtype, pd.CategoricalDtype)  # two categories: kept
    pd.testing.assert_frame_equal(back.drop(columns="customer_id"), df.drop(columns="customer_id"))


def test_attrs_and_an_empty_table_round_trip(tmp_path):
    df = _table(50, 2)
    df.attrs = {"as_of": "2025-06-30", "k": 2}
    write_parquet(df, tmp_path / "a.parquet")
    back = pd.read_parquet(tmp_path / "a.parquet")
    assert back.attrs == df.attrs
    pd.testing.assert_frame_equal(back, df)  # 50 categories: under the cut, still categorical
    write_parquet(df.iloc[:0], tmp_path / "empty.parquet")
    assert list(pd.read_parquet(tmp_path / "empty.parquet").columns) == list(df.columns)


def test_object_columns_are_typed_as_pandas_types_them(tmp_path):
    """An object column of dates (a DuckDB DATE) reads back as dates, from one slice or many;
    a column missing throughout the first slice is typed from the whole table."""
    days = pd.date_range("2025-01-01", periods=2_500, freq="D")
    df = pd.DataFrame({"day": days.date, "events": range(2_500)})
    for rows in (1 << 20, 1_000):
        write_parquet(df, tmp_path / "d.parquet", rows=rows)
        pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "d.parquet"), df)
    late = df.assign(note=[None] * 2_000 + ["x"] * 500)
    write_parquet(late, tmp_path / "late.parquet", rows=1_000)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "late.parquet"), late)
