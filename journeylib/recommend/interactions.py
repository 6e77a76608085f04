"""The customer x product interaction matrix the recommenders learn from.

:func:`interactions` reads the order lines through the engine in one ``GROUP BY`` (one row per
customer x product) and returns a sparse CSR matrix (scipy) with its row and column labels.

* **Window.** Order lines with ``ts`` strictly before the end of the ``as_of`` day (UTC,
  :func:`journeylib.sql.end_of_day`, as :mod:`journeylib.features`) and, with ``since``, on or
  after the start of the ``since`` day. ``as_of=None``: all orders.
* **Rows and columns.** Customers with at least one order line in the window, sorted by
  ``customer_id``; products ordered in the window, sorted by ``product_id`` (or the given
  ``customers``/``products`` index, in its order: lines outside it are dropped and counted).
* **Values** (``value``): ``"binary"`` is 1 for every product the customer bought; ``"orders"``
  is the number of distinct orders holding the product. With ``half_life_days`` a cell is
  multiplied by ``0.5 ** (age / half_life_days)``, the age being the days from the customer's
  last order line of the product to the end of the ``as_of`` day, so recent purchases weigh
  more.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp

from journeylib.sql import as_date, check_choice, days_between, end_of_day, require_columns

if TYPE_CHECKING:  # pragma: no cover
    from journeylib.engine import Engine

Value = Literal["binary", "orders"]

__all__ = ["Interactions", "interactions", "product_categories"]


@dataclass(frozen=True)
class Interactions:
    """A customers x products matrix and its labels.

    Attributes
    ----------
    matrix : scipy.sparse.csr_matrix
        ``(len(customers), len(products))`` float32, sorted indices; zero = no purchase.
    customers, products : numpy.ndarray
        Row and column labels (``customer_id``, ``product_id``), object arrays.
    as_of : datetime.date or None
        The cut-off day (inclusive); ``None`` when all orders were read.
    dropped_lines : int
        Customer x product pairs left out because their customer or product was not in the
        given index.
    """

    matrix: sp.csr_matrix
    customers: np.ndarray
    products: np.ndarray
    as_of: dt.date | None = None
    dropped_lines: int = 0

    @property
    def shape(self) -> tuple[int, int]:
        return self.matrix.shape

    def rows(self, customers: np.ndarray | pd.Series | list) -> np.ndarray:
        """Row number of each given customer_id (``-1`` for customers without a row)."""
        return pd.Index(self.customers).get_indexer(pd.Index(customers, dtype=object))

    def to_frame(self) -> pd.DataFrame:
        """One row per non-zero cell: customer_id, product_id, value."""
        coo = self.matrix.tocoo()
        return pd.DataFrame(
            {
                "customer_id": self.customers[coo.row],
                "product_id": self.products[coo.col],
                "value": coo.data.astype(np.float64),
            }
        )


def _as_day(value: object, what: str) -> dt.date | None:
    return None if value is None else as_date(value, what)


def order_pairs(
    engine: Engine, *, start: dt.date | None = None, end: dt.date | None = None
) -> pd.DataFrame:
    """Customer x product pairs of the order lines from the start of ``start`` to the end of
    ``end`` (UTC days, both inclusive; ``None``: unbounded): customer_id, product_id, orders
    (distinct orders), age_days (from the last line to the end of ``end``; NaN without ``end``).
    """
    require_columns(
        engine, "orders", ["customer_id", "product_id", "order_id", "ts"], timestamp="ts"
    )
    cutoff = end_of_day(end)
    where = [f"ts < {cutoff}", "customer_id IS NOT NULL", "product_id IS NOT NULL"]
    if start is not None:
        where.append(f"ts >= {end_of_day(start - dt.timedelta(days=1))}")
    age = days_between("MAX(ts)", cutoff) if end is not None else "CAST(NULL AS DOUBLE)"
    sql = f"""
        SELECT CAST(customer_id AS VARCHAR) AS customer_id,
               CAST(product_id AS VARCHAR) AS product_id,
               COUNT(DISTINCT order_id) AS orders,
               {age} AS age_days
        FROM orders
        WHERE {" AND ".join(where)}
        GROUP BY customer_id, product_id
    """
    return engine.query(sql)


def _labels(values: pd.Series) -> np.ndarray:
    return np.asarray(np.sort(pd.unique(values.astype(object))), dtype=object)


def pairs_matrix(
    pairs: pd.DataFrame,
    *,
    value: Value = "binary",
    half_life_days: float | None = None,
    customers: np.ndarray | None = None,
    products: np.ndarray | None = None,
    as_of: dt.date | None = None,
) -> Interactions:
    """:class:`Interactions` from :func:`order_pairs` output (see :func:`interactions`)."""
    check_choice("value", value, ("binary", "orders"))
    if half_life_days is not None and not half_life_days > 0:
        raise ValueError(f"half_life_days must be positive, got {half_life_days!r}")
    cust = _labels(pairs["customer_id"]) if customers is None else np.asarray(customers, object)
    prod = _labels(pairs["product_id"]) if products is None else np.asarray(products, object)
    rows = pd.Index(cust).get_indexer(pairs["customer_id"].astype(object))
    cols = pd.Index(prod).get_indexer(pairs["product_id"].astype(object))
    ok = (rows >= 0) & (cols >= 0)
    vals = np.ones(len(pairs)) if value == "binary" else pairs["orders"].to_numpy(np.float64)
    if half_life_days is not None:
        age = pairs["age_days"].to_numpy(np.float64)
        if np.isnan(age[ok]).any():
            raise ValueError("half_life_days needs a cut-off day (as_of) to measure ages from")
        vals = vals * np.power(0.5, age / half_life_days)
    m = sp.csr_matrix(
        (vals[ok].astype(np.float32), (rows[ok], cols[ok])), shape=(len(cust), len(prod))
    )
    m.sum_duplicates()
    return Interactions(m, cust, prod, as_of, int((~ok).sum()))


def interactions(
    engine: Engine,
    *,
    as_of: dt.date | str | None = None,
    since: dt.date | str | None = None,
    value: Value = "binary",
    half_life_days: float | None = None,
    customers: np.ndarray | None = None,
    products: np.ndarray | None = None,
) -> Interactions:
    """The customer x product matrix of the orders up to the end of ``as_of``.

    Parameters
    ----------
    engine
        Engine with the ``orders`` table (customer_id, product_id, order_id, ts).
    as_of
        Last day read (inclusive, UTC); ``None``: every order.
    since
        First day read (inclusive); ``None``: from the first order.
    value
        ``"binary"`` (1 = bought) or ``"orders"`` (distinct orders holding the product).
    half_life_days
        Recency decay ``0.5 ** (age / half_life_days)``; needs ``as_of``.
    customers, products
        Fixed row / column labels (e.g. another matrix's); pairs outside them are dropped and
        counted in ``dropped_lines``.

    Returns
    -------
    Interactions
        One row per customer with an order line in the window (or per given customer), one
        column per product ordered in it (or per given product).

    Examples
    --------
    >>> from journeylib.engine import engine_for
    >>> orders = pd.DataFrame({"order_id": ["o1", "o1", "o2"], "customer_id": ["a", "a", "b"],
    ...     "product_id": ["x", "y", "x"], "ts": pd.to_datetime(["2025-01-01"] * 3, utc=True)})
    >>> interactions(engine_for(orders=orders)).matrix.toarray()
    array([[1., 1.],
           [1., 0.]], dtype=float32)
    """
    day = _as_day(as_of, "as_of")
    start = _as_day(since, "since")
    if day is not None and start is not None and start > day:
        raise ValueError(f"since ({start}) is after as_of ({day})")
    if half_life_days is not None and day is None:
        raise ValueError("half_life_days needs as_of: ages are measured to the end of that day")
    pairs = order_pairs(engine, start=start, end=day)
    return pairs_matrix(
        pairs,
        value=value,
        half_life_days=half_life_days,
        customers=customers,
        products=products,
        as_of=day,
    )


def product_categories(engine: Engine, products: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Category code of each product (``-1``: no ``products`` row or no category) and the
    category labels the codes index.

    An engine without a usable ``products`` table (no table, no rows, no ``category`` column)
    gives every product ``-1``.
    """
    codes = np.full(len(products), -1, dtype=np.int64)
    try:
        require_columns(engine, "products", ["product_id", "category"])
    except ValueError:
        return codes, np.array([], dtype=object)
    table = engine.query(
        "SELECT CAST(product_id AS VARCHAR) AS product_id, CAST(category AS VARCHAR) AS category "
        "FROM products WHERE category IS NOT NULL"
    )
    labels = _labels(table["category"]) if len(table) else np.array([], dtype=object)
    lookup = dict(
        zip(
            table["product_id"].astype(object),
            pd.Index(labels).get_indexer(table["category"].astype(object)),
            strict=True,
        )
    )
    codes[:] = [lookup.get(p, -1) for p in products]
    return codes, labels
