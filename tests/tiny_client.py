"""A tiny client on disk for runner and CLI tests: raw CSVs plus a config keeping outputs local.

The CSVs use the minimal mapping (``id``/``cid`` ids, plain ``ts``); each test module passes its
own rows and any extra top-level config keys.
"""

from __future__ import annotations

from pathlib import Path


def write_tiny_client(
    root: Path,
    files: dict[str, str],
    *,
    client: str,
    customer_columns: str = "customer_id: id",
    head: str = "",
    window: str | None = None,
    tail: str = "",
) -> Path:
    """Write ``files`` into ``root/raw`` and a config for them; returns the config path.

    ``head`` is YAML placed after ``client:`` (e.g. a report block), ``window`` the
    ``data.window`` mapping, ``tail`` YAML appended at the end (e.g. ``notebooks:``).
    """
    raw = root / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (raw / name).write_text(text, encoding="utf-8")
    window_line = f"  window: {window}\n" if window else ""
    config = root / f"{client}.yaml"
    config.write_text(
        f"""client: {client}
{head}data:
  raw_dir: {raw}
{window_line}  sources:
    customers: {{path: customers.csv, columns: {{{customer_columns}}}}}
    events: {{path: events.csv, columns: {{customer_id: cid, ts: ts, event: event}}}}
    orders:
      path: orders.csv
      columns: {{order_id: order_id, customer_id: cid, ts: ts, product_id: sku, quantity: qty, revenue: revenue}}
    feedback: {{path: feedback.csv, columns: {{customer_id: cid, ts: ts, kind: kind, score: score}}}}
privacy: {{allow_demo_key: true}}
output: {{processed_dir: {root / "processed"}, reports_dir: {root / "reports"}}}
{tail}""",
        encoding="utf-8",
    )
    return config
