"""Large tables written as Parquet a slice at a time, without a dictionary per row group.

``DataFrame.to_parquet`` converts the whole frame to Arrow first (a 10M-customer table is held
twice while written) and writes a categorical column as an Arrow dictionary: every row group
(one per 1M rows) then repeats the whole dictionary. For the product recommendations of 10.3M
customers (103M rows, ``customer_id`` a categorical of 10.3M ids) that was 180 MB per row
group and an 18 GB file. Here ``rows`` rows are converted at a time, and a categorical with
more categories than a sixteenth of a row group is written as its values: Parquet then
dictionary-encodes each row group with only the values it holds. Read back, such a column is
of its categories' type instead of categorical; every other column reads back as written.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

__all__ = ["ROW_GROUP_ROWS", "write_parquet"]

#: Rows per row group (and per slice converted to Arrow): pyarrow's own default.
ROW_GROUP_ROWS = 1 << 20


def write_parquet(df: pd.DataFrame, path: Path, rows: int = ROW_GROUP_ROWS) -> None:
    """``df.to_parquet(path, index=False)``, ``rows`` rows at a time (see the module doc)."""
    wide = {
        c: df[c].cat.categories.dtype
        for c in df.columns
        if isinstance(df[c].dtype, pd.CategoricalDtype) and len(df[c].cat.categories) > rows // 16
    }
    # the types as pandas' own writer infers them: from the first slice (an empty frame gives
    # an object column of dates no type); a column it leaves untyped (missing throughout the
    # slice) is typed from the whole frame by to_parquet, as before
    first = df.iloc[:rows].astype(wide)
    schema = pa.Schema.from_pandas(first, preserve_index=False)
    if len(df) > rows and any(pa.types.is_null(f.type) for f in schema):
        df.to_parquet(path, index=False)
        return
    if df.attrs:  # where and how pandas keeps them (read_parquet restores them)
        schema = schema.with_metadata(
            {**schema.metadata, b"PANDAS_ATTRS": json.dumps(df.attrs).encode()}
        )
    with pq.ParquetWriter(path, schema) as writer:
        for start in range(0, max(len(df), 1), rows):
            part = first if start == 0 else df.iloc[start : start + rows].astype(wide)
            writer.write_table(pa.Table.from_pandas(part, schema=schema, preserve_index=False))
