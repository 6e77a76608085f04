"""The customer feature table: one row per customer, behaviour as of a cut-off day.

:func:`customer_features` is the single place where customer-level behaviour is computed; the
personas, churn and recommendation analyses all read its table instead of computing their own.
Every column is documented in :data:`FEATURE_DICTIONARY` (:func:`feature_dictionary`).

Rules every feature follows:

* **Cut-off.** Only rows with ``ts`` strictly before the end of the ``as_of`` day (UTC,
  :func:`journeylib.sql.end_of_day`) are read, so rows *on* ``as_of`` count and rows after it
  can never leak in (issue 6 computes features at several cut-offs and tests exactly this).
  Durations ("days since ...") are measured to that same instant, the end of the ``as_of`` day.
  ``as_of=None`` means all data, measured to the end of the last day holding any event, order,
  feedback or ``customers.first_seen`` (so it equals ``as_of=<that day>``).
* **Customers.** One row per customer of the ``customers`` table whose ``first_seen`` is before
  the cut-off (or unknown), plus every customer with an event, order or feedback row before it
  (anonymous visitors, orders from outside the CRM). Sorted by ``customer_id``.
* **Missing values are explicit.** A count is 0 only when zero is the true count (no orders
  means ``rfm_frequency`` 0); a quantity that is undefined is NaN: recency and average order
  value without orders, shares without a denominator (channel shares without sessions, category
  shares without orders), satisfaction without answers. A friction event that never occurs before
  the cut-off in the whole data is treated as *not tracked*: its column is NaN for everyone, not
  0. :data:`FEATURE_DICTIONARY` says for each column what NaN means.
* **Fixed columns.** The column set depends only on the options and the catalogue (channel and
  device vocabularies of :mod:`journeylib.schema`, the configured friction events, the
  ``products`` categories), never on which values happen to occur before the cut-off, so tables
  computed at different cut-offs line up.

Funnel depth is the furthest step of the configured funnel (``config.journey.funnel``; default
view_item -> add_to_cart -> begin_checkout -> purchase) that any of the customer's events reached,
0..len(funnel), computed in the same pass over the events as everything else. With a
``stage_model`` the furthest journey stage of :func:`journeylib.stages.customer_stages` is added
as ``funnel_stage_no``; that is a second, costlier pass (stage runs need window functions), so it
is opt-in.

Browsing (the ``browse`` group) reads the events that carry a ``product_id`` (views, cart adds):
what a customer looks at says more about taste and price level than the few orders most
customers place. It needs ``events.product_id`` and a ``products`` table with ``category``;
without them the group's columns are left out (not filled with made-up values).

All event-level work is four aggregates (events by session then by customer, product events with
the catalogue, order lines with the catalogue, feedback), joined on ``customer_id`` in one SQL
statement through the engine; the result comes back as one pandas frame. At 1M customers / 24M events this takes 10-25 s on two
cores (``benchmarks/``), almost all of it the one pass over the events.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING

import pandas as pd

from journeylib.engine import kept, query_per_customer
from journeylib.schema import CHANNELS, DEVICES
from journeylib.sql import (
    as_date,
    check_choice,
    date_trunc,
    days_between,
    end_of_day,
    first_by,
    literal,
    pseudonym_sample,
    require_columns,
    table_columns,
)

if TYPE_CHECKING:  # pragma: no cover
    from journeylib.config import Config
    from journeylib.engine import Engine
    from journeylib.stages import StageModel

__all__ = [
    "DEFAULT_FRICTION_EVENTS",
    "DEFAULT_FUNNEL",
    "FEATURE_DICTIONARY",
    "FEATURE_GROUPS",
    "FeatureDoc",
    "attribute_features",
    "customer_features",
    "feature_dictionary",
    "feature_short_name",
    "group_name",
    "localise_dictionary",
]

#: Feature groups, in column order; ``include=`` picks a subset.
FEATURE_GROUPS: tuple[str, ...] = (
    "rfm",
    "engagement",
    "channel",
    "device",
    "funnel",
    "product",
    "browse",
    "satisfaction",
    "friction",
)
#: Friction events counted when neither ``friction_events`` nor a config names them; with a
#: config these are added after ``config.journey.friction_events``.
DEFAULT_FRICTION_EVENTS: tuple[str, ...] = (
    "checkout_error",
    "payment_error",
    "contact_support",
    "delivery_late",
    "return_request",
)
DEFAULT_FUNNEL: tuple[str, ...] = ("view_item", "add_to_cart", "begin_checkout", "purchase")

_EVENT_GROUPS = frozenset({"engagement", "channel", "device", "funnel", "friction", "browse"})
_PROMOTER_MIN = 9  # NPS 9-10 are promoters (the NPS convention)


# ---- the dictionary --------------------------------------------------------------------------
@dataclass(frozen=True)
class FeatureDoc:
    """One feature (or one family of features: ``<category>``/``<event>`` in ``name``)."""

    name: str
    group: str
    description: str
    unit: str
    missing: str


# name | group | unit | missing (what NaN means, or why 0 is a real zero) | description.
# <channel> and <device> expand over the schema vocabularies; <category> (products.category) and
# <event> (friction events) stay families, resolved by feature_dictionary(columns).
_DICTIONARY_TABLE = """
rfm_recency_days | rfm | days | NaN: no orders before the cut-off | days from the last order to the end of the as_of day
rfm_frequency | rfm | orders | never missing; 0 = no orders | distinct orders (order_id)
rfm_monetary | rfm | currency | never missing; 0 = no orders, nothing spent | total revenue of the customer's order lines
rfm_avg_order_value | rfm | currency per order | NaN: no orders | rfm_monetary / rfm_frequency
rfm_has_ordered | rfm | flag 0/1 | never missing | 1 if the customer ordered at least once, else 0
engagement_sessions | engagement | sessions | never missing; 0 = no events | distinct sessions (session_id)
engagement_events | engagement | events | never missing; 0 = no events | behavioural events
engagement_events_per_session | engagement | events per session | NaN: no sessions | engagement_events / engagement_sessions
engagement_active_days | engagement | days | never missing; 0 = no events | distinct calendar days (UTC) on which a session started (a visit across midnight counts for its first day)
engagement_tenure_days | engagement | days | NaN: a CRM customer with no first_seen and no activity | days from first seen (earliest of customers.first_seen, first event, first order, first feedback) to the end of the as_of day
engagement_days_since_last_activity | engagement | days | NaN: no event, order or feedback | days from the last event, order or feedback to the end of the as_of day
engagement_days_between_sessions | engagement | days per session gap | NaN: fewer than 2 sessions | mean days between the starts of consecutive sessions: (last session start - first session start) / (sessions - 1)
channel_share_<channel> | channel | share 0-1 | NaN: no sessions; 0 = sessions, none from this channel | share of the customer's sessions from <channel> (a session's channel is that of its first event)
device_share_<device> | device | share 0-1 | NaN: no sessions; 0 = sessions, none on this device | share of the customer's sessions on <device> (the device of the session's first event)
funnel_depth | funnel | step number | never missing; 0 = no funnel event | furthest step of the funnel (config.journey.funnel; default view_item, add_to_cart, begin_checkout, purchase = 1..4) reached by any event, in any order
funnel_cart_sessions | funnel | sessions | never missing; 0 = no cart | sessions with a cart event (add_to_cart)
funnel_abandoned_carts | funnel | sessions | never missing; 0 = no abandoned cart | sessions with a cart event and no conversion event (purchase) in the same session
funnel_stage_no | funnel | stage number | never missing; 0 = no stage signal | furthest journey stage reached, 1-based in the stage model (only with stage_model=)
product_category_share_<category> | product | share 0-1 | NaN: no order line with a known category | share of the customer's order lines (those whose product has a category) in this category of the products table
product_distinct_products | product | products | never missing; 0 = no orders | distinct products ordered
product_items_per_order | product | units per order | NaN: no orders | units (sum of quantity) per order
product_lines_per_order | product | lines per order | NaN: no orders | order lines (products in an order) per order
product_price_index | product | ratio | NaN: no order line with a positive unit price in a priced category (or no products table) | price level: geometric mean over order lines of the unit price paid (revenue / quantity) divided by the geometric mean list price of its category; 1 = typical prices for the categories bought, below 1 = cheaper products or discounts, above 1 = premium products
browse_product_events | browse | events | never missing; 0 = no event with a product | events carrying a product_id (product views, cart adds, ...): interest shown before, or without, buying (only when events have product_id and the products table has category)
browse_category_share_<category> | browse | share 0-1 | NaN: no product event with a known category | share of the customer's product events whose product is in this category
browse_price_index | browse | ratio | NaN: no product event for a product with a positive list price in a priced category | price level of the products looked at: geometric mean over product events of the product's list price divided by the geometric mean list price of its category (1 = typical, below 1 = cheaper products, above 1 = premium)
satisfaction_responses | satisfaction | answers | never missing; 0 = never answered | scored survey answers and reviews (feedback kinds nps, csat, review)
satisfaction_nps_mean | satisfaction | score 0-10 | NaN: no NPS answer | mean NPS score
satisfaction_nps_promoter_share | satisfaction | share 0-1 | NaN: no NPS answer | share of the customer's NPS answers that are 9-10 (promoters)
satisfaction_csat_mean | satisfaction | score 1-5 | NaN: no CSAT answer | mean CSAT score
satisfaction_review_mean | satisfaction | stars 1-5 | NaN: no review | mean review rating
satisfaction_sentiment_mean | satisfaction | sentiment score | NaN: no feedback with a sentiment | mean of the feedback table's numeric sentiment column (only when it has one)
friction_<event> | friction | events | NaN for everyone: the event never occurs before the cut-off (not tracked); 0 = tracked, not experienced | occurrences of the friction event (config.journey.friction_events, then checkout_error, payment_error, contact_support, delivery_late, return_request)
"""


def _docs() -> tuple[FeatureDoc, ...]:
    docs = []
    for line in _DICTIONARY_TABLE.strip().splitlines():
        name, group, unit, missing, description = (part.strip() for part in line.split(" | "))
        values = {"<channel>": CHANNELS, "<device>": DEVICES}
        for token, vocab in values.items():
            if token in name:
                docs += [
                    FeatureDoc(
                        name.replace(token, v), group, description.replace(token, v), unit, missing
                    )
                    for v in vocab
                ]
                break
        else:
            docs.append(FeatureDoc(name, group, description, unit, missing))
    return tuple(docs)


#: Every feature :func:`customer_features` can return; ``<category>`` and ``<event>`` in a name
#: stand for one column per products category and per friction event.
FEATURE_DICTIONARY: tuple[FeatureDoc, ...] = _docs()

# The dictionary in Bahasa Indonesia: name | short name (persona labels, driver sentences) |
# unit | missing | description. Same names as _DICTIONARY_TABLE; <member> in a short name is the
# family member's name (channel, device, category or event) with spaces for underscores.
_DICTIONARY_TABLE_ID = """
rfm_recency_days | hari sejak pesanan terakhir | hari | NaN: tidak ada pesanan sebelum tanggal batas | hari dari pesanan terakhir sampai akhir hari as_of
rfm_frequency | frekuensi pesanan | pesanan | tidak pernah kosong; 0 = tidak ada pesanan | jumlah pesanan berbeda (order_id)
rfm_monetary | total belanja | mata uang | tidak pernah kosong; 0 = tidak ada pesanan, tidak ada belanja | total pendapatan dari baris pesanan pelanggan
rfm_avg_order_value | nilai pesanan | mata uang per pesanan | NaN: tidak ada pesanan | rfm_monetary / rfm_frequency
rfm_has_ordered | pernah memesan | penanda 0/1 | tidak pernah kosong | 1 jika pelanggan pernah memesan setidaknya sekali, selain itu 0
engagement_sessions | jumlah sesi | sesi | tidak pernah kosong; 0 = tidak ada event | jumlah sesi berbeda (session_id)
engagement_events | jumlah event | event | tidak pernah kosong; 0 = tidak ada event | event perilaku
engagement_events_per_session | event per sesi | event per sesi | NaN: tidak ada sesi | engagement_events / engagement_sessions
engagement_active_days | hari aktif | hari | tidak pernah kosong; 0 = tidak ada event | hari kalender berbeda (UTC) saat sebuah sesi dimulai (kunjungan yang melewati tengah malam dihitung pada hari pertamanya)
engagement_tenure_days | lama menjadi pelanggan | hari | NaN: pelanggan CRM tanpa first_seen dan tanpa aktivitas | hari sejak pertama terlihat (paling awal dari first_seen di tabel pelanggan, event pertama, pesanan pertama, umpan balik pertama) sampai akhir hari as_of
engagement_days_since_last_activity | hari sejak aktivitas terakhir | hari | NaN: tidak ada event, pesanan, atau umpan balik | hari dari event, pesanan, atau umpan balik terakhir sampai akhir hari as_of
engagement_days_between_sessions | hari antar-sesi | hari per jeda sesi | NaN: kurang dari 2 sesi | rata-rata hari antara awal sesi yang berurutan: (awal sesi terakhir - awal sesi pertama) / (sesi - 1)
channel_share_<channel> | porsi <member> | porsi 0-1 | NaN: tidak ada sesi; 0 = ada sesi, tidak satu pun dari kanal ini | porsi sesi pelanggan dari <channel> (kanal sebuah sesi adalah kanal event pertamanya)
device_share_<device> | porsi <member> | porsi 0-1 | NaN: tidak ada sesi; 0 = ada sesi, tidak satu pun di perangkat ini | porsi sesi pelanggan di <device> (perangkat event pertama sesi itu)
funnel_depth | kedalaman funnel | nomor langkah | tidak pernah kosong; 0 = tidak ada event funnel | langkah funnel terjauh (config.journey.funnel; default view_item, add_to_cart, begin_checkout, purchase = 1..4) yang dicapai oleh event mana pun, dalam urutan apa pun
funnel_cart_sessions | sesi dengan keranjang | sesi | tidak pernah kosong; 0 = tidak ada keranjang | sesi dengan event keranjang (add_to_cart)
funnel_abandoned_carts | keranjang ditinggalkan | sesi | tidak pernah kosong; 0 = tidak ada keranjang ditinggalkan | sesi dengan event keranjang dan tanpa event konversi (purchase) dalam sesi yang sama
funnel_stage_no | tahap terjauh | nomor tahap | tidak pernah kosong; 0 = tidak ada sinyal tahap | tahap perjalanan pelanggan terjauh yang dicapai, mulai dari 1 dalam model tahap (hanya dengan stage_model=)
product_category_share_<category> | porsi <member> | porsi 0-1 | NaN: tidak ada baris pesanan dengan kategori yang dikenal | porsi baris pesanan pelanggan (yang produknya memiliki kategori) dalam kategori ini pada tabel produk
product_distinct_products | produk berbeda | produk | tidak pernah kosong; 0 = tidak ada pesanan | jumlah produk berbeda yang dipesan
product_items_per_order | barang per pesanan | unit per pesanan | NaN: tidak ada pesanan | unit (jumlah quantity) per pesanan
product_lines_per_order | baris per pesanan | baris per pesanan | NaN: tidak ada pesanan | baris pesanan (produk dalam satu pesanan) per pesanan
product_price_index | indeks harga | rasio | NaN: tidak ada baris pesanan dengan harga satuan positif dalam kategori yang memiliki harga (atau tidak ada tabel produk) | tingkat harga: rata-rata geometris atas baris pesanan dari harga satuan yang dibayar (revenue / quantity) dibagi rata-rata geometris harga daftar kategorinya; 1 = harga yang umum untuk kategori yang dibeli, di bawah 1 = produk lebih murah atau diskon, di atas 1 = produk premium
browse_product_events | event produk | event | tidak pernah kosong; 0 = tidak ada event dengan produk | event yang membawa product_id (melihat produk, menambah ke keranjang, ...): minat yang ditunjukkan sebelum, atau tanpa, membeli (hanya bila event memiliki product_id dan tabel produk memiliki category)
browse_category_share_<category> | porsi <member> | porsi 0-1 | NaN: tidak ada event produk dengan kategori yang dikenal | porsi event produk pelanggan yang produknya berada dalam kategori ini
browse_price_index | indeks harga | rasio | NaN: tidak ada event produk untuk produk dengan harga daftar positif dalam kategori yang memiliki harga | tingkat harga produk yang dilihat: rata-rata geometris atas event produk dari harga daftar produk dibagi rata-rata geometris harga daftar kategorinya (1 = umum, di bawah 1 = produk lebih murah, di atas 1 = produk premium)
satisfaction_responses | jumlah jawaban | jawaban | tidak pernah kosong; 0 = tidak pernah menjawab | jawaban survei dan ulasan yang memiliki skor (jenis umpan balik nps, csat, review)
satisfaction_nps_mean | NPS | skor 0-10 | NaN: tidak ada jawaban NPS | rata-rata skor NPS
satisfaction_nps_promoter_share | porsi promotor NPS | porsi 0-1 | NaN: tidak ada jawaban NPS | porsi jawaban NPS pelanggan yang bernilai 9-10 (promotor)
satisfaction_csat_mean | CSAT | skor 1-5 | NaN: tidak ada jawaban CSAT | rata-rata skor CSAT
satisfaction_review_mean | rating ulasan | bintang 1-5 | NaN: tidak ada ulasan | rata-rata rating ulasan
satisfaction_sentiment_mean | sentimen | skor sentimen | NaN: tidak ada umpan balik dengan sentimen | rata-rata kolom sentimen numerik pada tabel umpan balik (hanya bila tabel itu memilikinya)
friction_<event> | <member> | event | NaN untuk semua: event ini tidak pernah terjadi sebelum tanggal batas (tidak dilacak); 0 = dilacak, tidak dialami | jumlah kejadian event friksi (config.journey.friction_events, lalu checkout_error, payment_error, contact_support, delivery_late, return_request)
"""
#: Feature groups (:data:`FEATURE_GROUPS`) in words, per language other than English (where the
#: group is its name); a client's own attribute columns form the group ``attribute``.
_GROUP_NAMES: dict[str, dict[str, str]] = {
    "id": {
        "rfm": "RFM",
        "engagement": "keterlibatan",
        "channel": "kanal",
        "device": "perangkat",
        "funnel": "funnel",
        "product": "produk",
        "browse": "penjelajahan produk",
        "satisfaction": "kepuasan",
        "friction": "friksi",
        "attribute": "atribut",
    },
}


def group_name(group: str, *, language: str = "en") -> str:
    """A feature group as a reader sees it in ``language``; unknown groups (a churn driver group
    named after a client's column) are returned unchanged.

    >>> group_name("engagement", language="id")
    'keterlibatan'
    >>> group_name("engagement")
    'engagement'
    """
    return _GROUP_NAMES.get(language, {}).get(group, group)


#: Family members named in words in the Indonesian short names: ``other`` and ``blank`` (no
#: category) are not names, so the family's word is added.
_MEMBER_WORDS_ID = {"other": "{family} lainnya", "blank": "{family} tanpa nama"}
_FAMILY_WORDS_ID = {
    "channel_share_": "kanal",
    "device_share_": "perangkat",
    "product_category_share_": "kategori",
    "browse_category_share_": "kategori",
}


def _texts_id() -> dict[str, dict[str, str]]:
    """``{name or family pattern: {short, unit, missing, description}}`` in Bahasa Indonesia,
    ``<channel>``/``<device>`` expanded as in :func:`_docs`."""
    out: dict[str, dict[str, str]] = {}
    for line in _DICTIONARY_TABLE_ID.strip().splitlines():
        name, short, unit, missing, description = (part.strip() for part in line.split(" | "))
        row = {"short": short, "unit": unit, "missing": missing, "description": description}
        for token, vocab in {"<channel>": CHANNELS, "<device>": DEVICES}.items():
            if token in name:
                for v in vocab:
                    text = row["description"].replace(token, v)
                    out[name.replace(token, v)] = {**row, "description": text}
                break
        else:
            out[name] = row
    return out


_TEXTS: dict[str, dict[str, dict[str, str]]] = {"id": _texts_id()}


def _text(name: str, language: str) -> tuple[dict[str, str], str] | None:
    """The ``language`` texts documenting column ``name`` and its family member ("" for an
    exact entry); None when undocumented."""
    texts = _TEXTS.get(language, {})
    if name in texts:
        prefix = next((p for p in _FAMILY_WORDS_ID if name.startswith(p)), None)
        return texts[name], name[len(prefix) :] if prefix else ""
    for pattern, row in texts.items():
        if "<" in pattern and name.startswith(pattern.split("<")[0]):
            return row, name[len(pattern.split("<")[0]) :]
    return None


def feature_short_name(name: str, *, language: str = "id") -> str | None:
    """A short readable name of a documented feature in ``language`` (persona labels, churn
    drivers), or None when the language or the feature has none.

    English names are derived from the column name by :mod:`journeylib.personas`; this gives
    the names in another language, in its own word order.

    >>> feature_short_name("device_share_mobile")
    'porsi mobile'
    >>> feature_short_name("channel_share_other")
    'porsi kanal lainnya'
    >>> feature_short_name("friction_payment_error")
    'payment error'
    >>> feature_short_name("shoe_size") is None
    True
    """
    found = _text(name, language)
    if found is None:
        return None
    row, member = found
    family = next((w for p, w in _FAMILY_WORDS_ID.items() if name.startswith(p)), "")
    words = _MEMBER_WORDS_ID.get(member, "{member}").format(
        family=family, member=member.replace("_", " ")
    )
    return row["short"].replace("<member>", words)


def localise_dictionary(dictionary: pd.DataFrame, language: str = "en") -> pd.DataFrame:
    """A copy of a feature dictionary with ``unit``, ``missing`` and ``description`` in
    ``language`` (``en`` or ``id``) for every documented name; other rows (a client's own
    attribute columns) and the other columns are kept as they are. The input is not modified.
    """
    out = dictionary.copy()
    if language == "en" or "name" not in out.columns:
        return out
    for i, name in enumerate(out["name"].astype(str)):
        found = _text(name, language)
        if found is None:
            continue
        row, _ = found
        for col in ("unit", "missing", "description"):
            if col in out.columns:
                out.iloc[i, out.columns.get_loc(col)] = row[col]
    return out


def feature_dictionary(
    columns: Iterable[str] | None = None, *, language: str = "en"
) -> pd.DataFrame:
    """The feature dictionary as a table: name, group, description, unit, missing.

    Parameters
    ----------
    columns
        The columns of a feature table (``customer_id`` is skipped): one row per column, the
        ``<category>``/``<event>`` families resolved to the actual names. ``None``: one row per
        entry of :data:`FEATURE_DICTIONARY`.
    language
        ``en`` or ``id``: the language of ``description``, ``unit`` and ``missing``
        (:func:`localise_dictionary`); names and groups stay the machine names. Code that reads
        the units (persona labels) takes the English table.

    Raises
    ------
    KeyError
        A column that no entry documents.

    Examples
    --------
    >>> feature_dictionary(["customer_id", "friction_payment_error"])["group"].tolist()
    ['friction']
    """
    check_choice("language", language, ("en", *_TEXTS))
    records = [asdict(d) for d in FEATURE_DICTIONARY]
    if columns is None:
        return localise_dictionary(pd.DataFrame(records), language)
    exact = {r["name"]: r for r in records}
    families = [(r["name"].split("<")[0], r) for r in records if "<" in r["name"]]
    rows = []
    for col in columns:
        if col == "customer_id":
            continue
        doc = exact.get(col) or next((r for p, r in families if col.startswith(p)), None)
        if doc is None:
            raise KeyError(f"feature {col!r} is not in the feature dictionary")
        rows.append({**doc, "name": col})
    out = pd.DataFrame(rows, columns=list(exact[next(iter(exact))]))
    return localise_dictionary(out, language)


# ---- options ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Options:
    cutoff: str  # SQL literal of the end of the as_of day
    as_of: dt.date | None
    groups: tuple[str, ...]
    funnel: tuple[str, ...]
    cart: str
    conversion: str
    friction: tuple[str, ...]
    #: SQL condition on ``customer_id``: the customers of this pass (see query_per_customer)
    where: str = "TRUE"
    #: SQL condition on ``customer_id``: the sampled customers (``fraction``)
    sample: str = "TRUE"


def _bound(sample: str) -> str:
    """The hex bound of a :func:`pseudonym_sample` condition (``customer_id < 'bound'``)."""
    return sample.rsplit("'", 2)[1]


def _fraction(sample: str) -> float:
    """The share of customers a :func:`pseudonym_sample` condition keeps."""
    return int(_bound(sample), 16) / 16**4


def _and(*conditions: str) -> str:
    kept = [c for c in conditions if c != "TRUE"]
    return " AND ".join(f"({c})" for c in kept) if kept else "TRUE"


def _names(value: object, what: str) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValueError(f"{what} must be a list of event names, got {value!r}")
    names = tuple(dict.fromkeys(value))
    if any(not isinstance(n, str) or not n for n in names):
        raise ValueError(f"{what} must hold non-empty event names, got {list(value)!r}")
    return names


def _event(value: object, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{what} must be a non-empty event name, got {value!r}")
    return value


def _groups(include: Iterable[str] | None) -> tuple[str, ...]:
    if include is None:
        return FEATURE_GROUPS
    if isinstance(include, str):
        include = [include]
    wanted = list(include)
    for g in wanted:
        check_choice("include", g, FEATURE_GROUPS)
    if not wanted:
        raise ValueError(f"include must name at least one group of {FEATURE_GROUPS}")
    return tuple(g for g in FEATURE_GROUPS if g in wanted)


def _as_of_date(as_of: object) -> dt.date:
    return as_date(as_of)


def _last_day(engine: Engine, columns: Sequence[tuple[str, str]]) -> dt.date | None:
    """The last UTC day holding a timestamp in any of the (table, column) pairs."""
    if not columns:
        return None
    parts = " UNION ALL ".join(f"SELECT MAX({c}) AS ts FROM {t}" for t, c in columns)
    last = engine.scalar(f"SELECT MAX(ts) FROM ({parts})")
    return None if last is None else pd.Timestamp(last).tz_convert("UTC").date()


# ---- SQL -------------------------------------------------------------------------------------
def _events_sql(opt: _Options, seq: bool) -> str:
    """CTEs ``sess`` (customer x session) and ``ev`` (one row per customer with events)."""
    # the first event of a session decides its channel and device; ties at one timestamp go
    # to event_seq (unique per customer, written at ingest) or else the smaller label
    chan = first_by("channel", ("event_seq",) if seq else ("ts", "channel"))
    dev = first_by("device", ("event_seq",) if seq else ("ts", "device"))
    steps = " ".join(f"WHEN {literal(s)} THEN {i}" for i, s in enumerate(opt.funnel, start=1))
    g = set(opt.groups)
    friction = [e for e in opt.friction if "friction" in g]
    f_counts = "".join(
        f", COUNT(*) FILTER (WHERE event = {literal(e)}) AS f_{i}" for i, e in enumerate(friction)
    )
    f_sums = "".join(f", SUM(f_{i}) AS f_{i}" for i in range(len(friction)))
    per_channel = "".join(
        f", COUNT(*) FILTER (WHERE channel = {literal(c)}) AS ch_{i}"
        for i, c in enumerate(CHANNELS if "channel" in g else ())
    )
    per_device = "".join(
        f", COUNT(*) FILTER (WHERE device = {literal(d)}) AS dv_{i}"
        for i, d in enumerate(DEVICES if "device" in g else ())
    )
    chan = f", {chan} AS channel" if "channel" in g else ""
    dev = f", {dev} AS device" if "device" in g else ""
    return f"""
    sess AS (
        SELECT customer_id, session_id, MIN(ts) AS start_ts, MAX(ts) AS end_ts,
               COUNT(*) AS n_events{chan}{dev},
               MAX(CASE event {steps} ELSE 0 END) AS depth,
               COUNT(*) FILTER (WHERE event = {literal(opt.cart)}) AS n_cart,
               COUNT(*) FILTER (WHERE event = {literal(opt.conversion)}) AS n_conv
               {f_counts}
        FROM events
        WHERE ts < {opt.cutoff} AND customer_id IS NOT NULL AND {opt.where}
        GROUP BY customer_id, session_id),
    ev AS (
        SELECT customer_id, COUNT(*) AS sessions, SUM(n_events) AS n_events,
               MIN(start_ts) AS first_ts, MAX(end_ts) AS last_ts, MAX(start_ts) AS last_start,
               COUNT(DISTINCT {date_trunc("day", "start_ts")}) AS active_days,
               MAX(depth) AS depth, COUNT(*) FILTER (WHERE n_cart > 0) AS carts,
               COUNT(*) FILTER (WHERE n_cart > 0 AND n_conv = 0) AS abandoned
               {per_channel}{per_device}{f_sums}
        FROM sess GROUP BY customer_id)"""


def _orders_sql(opt: _Options, categories: Sequence[str], priced: bool) -> str:
    """CTEs ``ol`` (order lines with their category and the category's typical list price) and
    ``ord`` (one row per ordering customer)."""
    cols = "o.customer_id, o.order_id, o.ts, o.product_id, o.quantity, o.revenue"
    where = f"WHERE o.ts < {opt.cutoff} AND o.customer_id IS NOT NULL"
    orders = f"(SELECT * FROM orders WHERE {opt.where})" if opt.where != "TRUE" else "orders"
    if not categories:
        lines = (
            f"SELECT {cols}, CAST(NULL AS VARCHAR) AS category, CAST(NULL AS DOUBLE) AS cat_price "
            f"FROM {orders} o {where}"
        )
    elif not priced:
        lines = (
            f"SELECT {cols}, p.category, CAST(NULL AS DOUBLE) AS cat_price FROM {orders} o "
            f"LEFT JOIN products p ON p.product_id = o.product_id {where}"
        )
    else:
        # the category's typical price is the geometric mean of its list prices: prices within
        # a category are skewed (a phone and its case), and the index is a ratio of prices
        lines = f"""
        SELECT {cols}, p.category, c.cat_price FROM {orders} o
        LEFT JOIN products p ON p.product_id = o.product_id
        LEFT JOIN {_category_prices()} c ON c.category = p.category
        {where}"""
    per_category = "".join(
        f", SUM(CASE WHEN category = {literal(c)} THEN 1 ELSE 0 END) AS cat_{i}"
        for i, c in enumerate(categories)
    )
    return f"""
    ol AS ({lines}),
    ord AS (
        SELECT customer_id, COUNT(DISTINCT order_id) AS orders, SUM(revenue) AS revenue,
               SUM(quantity) AS units, COUNT(*) AS lines, COUNT(DISTINCT product_id) AS products,
               MIN(ts) AS first_ts, MAX(ts) AS last_ts, COUNT(category) AS known_lines,
               AVG(CASE WHEN quantity > 0 AND revenue > 0 AND cat_price > 0
                        THEN LN(revenue / quantity / cat_price) END) AS log_price_index
               {per_category}
        FROM ol GROUP BY customer_id)"""


def _category_prices() -> str:
    """Subquery: each category's typical list price, the geometric mean of its positive prices
    (prices within a category are skewed: a phone and its case, and the indexes are ratios)."""
    return (
        "(SELECT category, EXP(AVG(LN(price))) AS cat_price FROM products "
        "WHERE price > 0 AND category IS NOT NULL GROUP BY category)"
    )


def _browse_sql(opt: _Options, categories: Sequence[str], priced: bool) -> str:
    """CTE ``br``: one row per customer with an event carrying a product_id."""
    price = (
        f"LEFT JOIN {_category_prices()} c ON c.category = p.category"
        if priced
        else "LEFT JOIN (SELECT CAST(NULL AS VARCHAR) AS category, "
        "CAST(NULL AS DOUBLE) AS cat_price) c ON c.category = p.category"
    )
    list_price = "p.price" if priced else "CAST(NULL AS DOUBLE)"
    events = f"(SELECT * FROM events WHERE {opt.where})" if opt.where != "TRUE" else "events"
    per_category = "".join(
        f", SUM(CASE WHEN p.category = {literal(c)} THEN 1 ELSE 0 END) AS bc_{i}"
        for i, c in enumerate(categories)
    )
    return f"""
    br AS (
        SELECT e.customer_id, COUNT(*) AS n, COUNT(p.category) AS known,
               AVG(CASE WHEN {list_price} > 0 AND c.cat_price > 0
                        THEN LN({list_price} / c.cat_price) END) AS log_price_index
               {per_category}
        FROM {events} e
        LEFT JOIN products p ON p.product_id = e.product_id
        {price}
        WHERE e.ts < {opt.cutoff} AND e.customer_id IS NOT NULL AND e.product_id IS NOT NULL
        GROUP BY e.customer_id)"""


def _feedback_sql(opt: _Options, sentiment: bool) -> str:
    """CTE ``fb``: one row per customer with feedback."""
    nps = "kind = 'nps' AND score IS NOT NULL"
    sent = ", AVG(sentiment) AS sentiment" if sentiment else ""
    return f"""
    fb AS (
        SELECT customer_id, MIN(ts) AS first_ts, MAX(ts) AS last_ts,
               COUNT(CASE WHEN kind IN ('nps', 'csat', 'review') THEN score END) AS responses,
               AVG(CASE WHEN {nps} THEN score END) AS nps,
               AVG(CASE WHEN {nps} THEN CASE WHEN score >= {_PROMOTER_MIN} THEN 1.0 ELSE 0.0 END
                   END) AS promoters,
               AVG(CASE WHEN kind = 'csat' THEN score END) AS csat,
               AVG(CASE WHEN kind = 'review' THEN score END) AS review
               {sent}
        FROM feedback WHERE ts < {opt.cutoff} AND customer_id IS NOT NULL AND {opt.where}
        GROUP BY customer_id)"""


def _ratio(num: str, den: str) -> str:
    return f"CAST({num} AS DOUBLE) / NULLIF({den}, 0)"


def _count(expr: str) -> str:
    return f"CAST(COALESCE({expr}, 0) AS BIGINT)"


# ---- the table -------------------------------------------------------------------------------
def customer_features(
    engine: Engine,
    *,
    as_of: dt.date | str | None = None,
    config: Config | None = None,
    stage_model: StageModel | None = None,
    friction_events: Sequence[str] | None = None,
    cart_event: str | None = None,
    conversion_event: str | None = None,
    funnel: Sequence[str] | None = None,
    include: Iterable[str] | None = None,
    fraction: float = 1.0,
    pass_events: int | None = None,
    columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The customer feature table: behaviour as of the end of ``as_of``, one row per customer.

    Parameters
    ----------
    engine
        Engine over the canonical tables: ``events`` (customer_id, ts, event, session_id,
        channel, device; ``event_seq`` used when present), ``orders``, ``feedback`` (each only
        when a group needs it), optional ``customers`` (customer_id, first_seen) and ``products``
        (product_id, category, price).
    as_of
        Cut-off day (UTC): rows with ``ts`` before the end of this day are used, later rows never
        are. ``None``: all data, durations measured to the end of the last day holding data.
    config
        Supplies ``journey.funnel``, ``journey.cart_event``, ``journey.conversion_event`` and
        ``journey.friction_events`` (unless given here). Its ``as_of`` is *not* applied: pass
        ``as_of=config.effective_as_of`` for the client's cut-off.
    stage_model
        Adds ``funnel_stage_no`` (with the funnel group), the furthest stage of
        :func:`journeylib.stages.customer_stages`: a second, costlier query (about 70% more time
        at 100k customers), hence opt-in.
    friction_events
        Events counted as friction, one ``friction_<event>`` column each. Default: the config's
        ``journey.friction_events`` followed by :data:`DEFAULT_FRICTION_EVENTS`.
    cart_event, conversion_event
        Define abandoned carts (default: config, else ``add_to_cart`` / ``purchase``).
    funnel
        Funnel steps in order for ``funnel_depth`` (default: config, else :data:`DEFAULT_FUNNEL`).
    include
        Feature groups to compute (:data:`FEATURE_GROUPS`); ``None`` computes all. The rows do
        not depend on it.
    fraction
        Only about this share of the customers, a random sample by pseudonym
        (:func:`journeylib.sql.pseudonym_sample`; meaningful for the pseudonymised ids of a
        processed folder): what a model learns from on a very large client.
    pass_events
        Above this many events (default :data:`journeylib.engine.CUSTOMER_PASS_EVENTS`) DuckDB
        builds the table in passes over ranges of customers, each within its memory limit
        (:func:`journeylib.engine.query_per_customer`); the table is the same.
    columns
        Return only these columns (those the table has, in its order; list ``customer_id`` to
        keep it). The whole table is computed and kept as without it, but a kept table is read
        for these columns only: at 10M customers the 65 columns take 5.2 GB, the five the
        playbook reads 0.58 GB.

    Returns
    -------
    pandas.DataFrame
        One row per customer_id (sorted), ``customer_id`` first, then the features of each group
        in :data:`FEATURE_GROUPS` order; every column is documented by :func:`feature_dictionary`.
        ``attrs["as_of"]`` holds the cut-off day used (ISO string).

    Examples
    --------
    >>> from journeylib.engine import engine_for
    >>> ev = pd.DataFrame({"customer_id": ["a", "a"], "event": ["page_view", "purchase"],
    ...     "ts": pd.to_datetime(["2025-01-01 10:00", "2025-01-01 10:05"], utc=True),
    ...     "session_id": ["a1", "a1"], "channel": ["email"] * 2, "device": ["mobile"] * 2})
    >>> f = customer_features(engine_for(events=ev), include=["engagement", "funnel"])
    >>> f[["customer_id", "engagement_events", "funnel_depth"]].to_dict("records")
    [{'customer_id': 'a', 'engagement_events': 2, 'funnel_depth': 4}]
    """
    opt = _options(
        config,
        include,
        friction_events,
        cart_event,
        conversion_event,
        funnel,
        cutoff="",
        as_of=None,
    )
    tables = _inspect(engine, opt.groups)
    if as_of is None:
        # all data: measured to the end of the last day holding a dated row (None if none)
        day = _last_day(engine, tables.dated)
    else:
        day = _as_of_date(as_of)
    opt = replace(opt, cutoff=end_of_day(day), as_of=day, sample=pseudonym_sample(fraction))

    stage_model = stage_model if "funnel" in opt.groups else None
    # notebooks 30 and 40 and the playbook ask for the same table: kept per processed folder
    return kept(
        engine,
        "customer_features",
        (opt, stage_model),
        lambda: _table(engine, opt, tables, stage_model, pass_events),
        columns=columns,
    )


def _table(
    engine: Engine,
    opt: _Options,
    tables: _Tables,
    stage_model: StageModel | None,
    pass_events: int | None,
) -> pd.DataFrame:
    # events read: sizes the passes (only DuckDB runs in passes; a count costs Spark a job)
    counted = tables.events and engine.name == "duckdb"
    events = int(engine.scalar("SELECT COUNT(*) FROM events") or 0) if counted else 0
    if opt.sample != "TRUE":  # the sample's share of the events (pseudonyms are uniform)
        events = round(events * _fraction(opt.sample))
    df = query_per_customer(
        engine,
        lambda where: _table_sql(replace(opt, where=_and(where, opt.sample)), tables),
        events=events,
        pass_events=pass_events,
        below=None if opt.sample == "TRUE" else _bound(opt.sample),
    )
    df = _finish(df, opt, tables.categories, tables.browse_categories)
    if stage_model is not None:
        df = _with_stage(df, engine, stage_model, opt)
    df.attrs["as_of"] = opt.as_of.isoformat()  # a string: to_parquet stores attrs as JSON
    return df


def _table_sql(opt: _Options, tables: _Tables) -> str:
    """The query of the feature table for the customers of ``opt.where``."""
    ctes = []
    if tables.events == "full":
        ctes.append(_events_sql(opt, tables.seq))
    elif tables.events == "dates":  # no event group asked for: only who was seen, and when
        ctes.append(
            "ev AS (SELECT customer_id, MIN(ts) AS first_ts, MAX(ts) AS last_ts FROM events "
            f"WHERE ts < {opt.cutoff} AND customer_id IS NOT NULL AND {opt.where} "
            "GROUP BY customer_id)"
        )
    if tables.orders:
        ctes.append(_orders_sql(opt, tables.categories, tables.priced))
    if tables.browse:
        ctes.append(_browse_sql(opt, tables.browse_categories, tables.priced))
    if tables.feedback:
        ctes.append(_feedback_sql(opt, tables.sentiment))
    universe = [f"SELECT customer_id FROM {s}" for s in tables.sources]
    joins = "".join(f" LEFT JOIN {s} ON {s}.customer_id = ids.customer_id" for s in tables.sources)
    if tables.browse:  # its customers all have events: no new ids
        joins += " LEFT JOIN br ON br.customer_id = ids.customer_id"
    if tables.customers:
        since = f"(first_seen IS NULL OR first_seen < {opt.cutoff})" if tables.first_seen else ""
        where = " AND ".join(w for w in (since, opt.where) if w and w != "TRUE")
        universe.insert(0, f"SELECT customer_id FROM customers{' WHERE ' + where if where else ''}")
    if not universe:
        raise ValueError("the engine has none of the tables customers, events, orders, feedback")
    if tables.first_seen and "engagement" in opt.groups:
        joins += (
            " LEFT JOIN (SELECT customer_id, MIN(first_seen) AS first_seen FROM customers "
            f"WHERE first_seen < {opt.cutoff} AND {opt.where} GROUP BY customer_id) cu "
            "ON cu.customer_id = ids.customer_id"
        )
    ctes.append(f"ids AS ({' UNION '.join(universe)})")
    select = ", ".join(["ids.customer_id AS customer_id", *_select(opt, tables)])
    return f"WITH {','.join(ctes)}\nSELECT {select} FROM ids{joins} ORDER BY ids.customer_id"


def _options(
    config: Config | None,
    include: Iterable[str] | None,
    friction_events: Sequence[str] | None,
    cart_event: str | None,
    conversion_event: str | None,
    funnel: Sequence[str] | None,
    **cut: object,
) -> _Options:
    """The checked options: explicit arguments, else the config's journey, else the defaults."""
    journey = config.journey if config is not None else None
    if friction_events is None:
        friction_events = [*(journey.friction_events if journey else []), *DEFAULT_FRICTION_EVENTS]
    if funnel is None:
        funnel = journey.funnel if journey else DEFAULT_FUNNEL
    if cart_event is None:
        cart_event = journey.cart_event if journey else "add_to_cart"
    if conversion_event is None:
        conversion_event = journey.conversion_event if journey else "purchase"
    cart = _event(cart_event, "cart_event")
    conv = _event(conversion_event, "conversion_event")
    if cart == conv:
        raise ValueError("cart_event and conversion_event must differ")
    return _Options(
        groups=_groups(include),
        funnel=_names(funnel, "funnel"),
        cart=cart,
        conversion=conv,
        friction=_names(friction_events, "friction_events"),
        **cut,
    )


@dataclass(frozen=True)
class _Tables:
    """What the engine offers: which queries run and which optional columns exist."""

    events: str | None  # "full" (event groups asked for), "dates" (only to find customers), None
    seq: bool
    orders: bool
    feedback: bool
    sentiment: bool
    customers: bool
    first_seen: bool
    categories: tuple[str, ...]
    priced: bool
    browse: bool = False
    browse_categories: tuple[str, ...] = ()

    @property
    def sources(self) -> list[str]:
        """The per-customer CTEs, each with first_ts and last_ts."""
        have = (("ev", self.events is not None), ("ord", self.orders), ("fb", self.feedback))
        return [name for name, there in have if there]

    @property
    def dated(self) -> list[tuple[str, str]]:
        """(table, timestamp column) of every dated table read."""
        tables = {"ev": "events", "ord": "orders", "fb": "feedback"}
        out = [(tables[s], "ts") for s in self.sources]
        return out + ([("customers", "first_seen")] if self.first_seen else [])


def _inspect(engine: Engine, groups: Sequence[str]) -> _Tables:
    """Check the tables the groups need (a clear error if one is missing or malformed); the
    other activity tables are read, when the engine has them, only to find every customer and
    their first and last activity, so the rows do not depend on ``include``."""
    available = set(engine.tables())
    wanted = set(groups)
    event_groups = bool(_EVENT_GROUPS & wanted)
    events = "full" if event_groups else ("dates" if "events" in available else None)
    seq = False
    if events:
        cols = ["customer_id", "ts"]
        if event_groups:
            cols += ["event", "session_id", *[c for c in ("channel", "device") if c in wanted]]
        seq = "event_seq" in require_columns(engine, "events", cols, timestamp="ts").columns
    orders = bool({"rfm", "product"} & wanted) or "orders" in available
    if orders:
        cols = ["customer_id", "order_id", "ts", "product_id", "quantity", "revenue"]
        require_columns(engine, "orders", cols, timestamp="ts")
    feedback = "satisfaction" in wanted or "feedback" in available
    sentiment = False
    if feedback:
        cols = ["customer_id", "ts", "kind", "score"]
        fb = require_columns(engine, "feedback", cols, timestamp="ts")
        sentiment = "sentiment" in fb.columns and pd.api.types.is_numeric_dtype(fb["sentiment"])
    customers = "customers" in available
    first_seen = customers and "first_seen" in require_columns(engine, "customers", []).columns
    if first_seen:
        require_columns(engine, "customers", ["customer_id", "first_seen"], timestamp="first_seen")
    elif customers:
        require_columns(engine, "customers", ["customer_id"])
    categories: tuple[str, ...] = ()
    priced = False
    catalogue: tuple[str, ...] = ()
    if "products" in available and {"product", "browse"} & wanted:
        prod = table_columns(engine, "products")
        if {"product_id", "category"} <= set(prod.columns):
            catalogue = tuple(_categories(engine))
            priced = "price" in prod.columns and bool(catalogue)
    if orders and "product" in wanted:
        categories = catalogue
    # browsing needs events that name the product and a catalogue that names its category
    browse = (
        "browse" in wanted
        and events == "full"
        and bool(catalogue)
        and "product_id" in table_columns(engine, "events").columns
    )
    return _Tables(
        events,
        seq,
        orders,
        feedback,
        sentiment,
        customers,
        first_seen,
        categories,
        priced,
        browse,
        catalogue if browse else (),
    )


def _categories(engine: Engine) -> list[str]:
    cats = engine.query(
        "SELECT DISTINCT CAST(category AS VARCHAR) AS category FROM products "
        "WHERE category IS NOT NULL ORDER BY 1"
    )
    return [str(c) for c in cats["category"]]


def _slug(value: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", value.lower()).strip("_") or "blank"


def _select(opt: _Options, tables: _Tables) -> list[str]:
    """The feature columns, computed from the per-customer CTEs joined on ``ids``."""
    g = set(opt.groups)
    sources, categories = tables.sources, tables.categories
    cut = opt.cutoff
    out: list[str] = []
    if "rfm" in g:
        out += [
            f"CASE WHEN ord.orders > 0 THEN {days_between('ord.last_ts', cut)} END "
            "AS rfm_recency_days",
            f"{_count('ord.orders')} AS rfm_frequency",
            "CAST(COALESCE(ord.revenue, 0) AS DOUBLE) AS rfm_monetary",
            f"{_ratio('ord.revenue', 'ord.orders')} AS rfm_avg_order_value",
            "CAST(CASE WHEN ord.orders > 0 THEN 1 ELSE 0 END AS BIGINT) AS rfm_has_ordered",
        ]
    if "engagement" in g:
        firsts = [f"{s}.first_ts" for s in sources]
        firsts += ["cu.first_seen"] if tables.first_seen else []
        lasts = [f"{s}.last_ts" for s in sources]
        out += [
            f"{_count('ev.sessions')} AS engagement_sessions",
            f"{_count('ev.n_events')} AS engagement_events",
            f"{_ratio('ev.n_events', 'ev.sessions')} AS engagement_events_per_session",
            f"{_count('ev.active_days')} AS engagement_active_days",
            f"{days_between(_least(firsts), cut)} AS engagement_tenure_days",
            f"{days_between(_greatest(lasts), cut)} AS engagement_days_since_last_activity",
            f"CASE WHEN ev.sessions > 1 THEN {days_between('ev.first_ts', 'ev.last_start')} "
            "/ (ev.sessions - 1) END AS engagement_days_between_sessions",
        ]
    if "channel" in g:
        out += [
            f"{_ratio(f'ev.ch_{i}', 'ev.sessions')} AS channel_share_{_slug(c)}"
            for i, c in enumerate(CHANNELS)
        ]
    if "device" in g:
        out += [
            f"{_ratio(f'ev.dv_{i}', 'ev.sessions')} AS device_share_{_slug(d)}"
            for i, d in enumerate(DEVICES)
        ]
    if "funnel" in g:
        out += [
            f"{_count('ev.depth')} AS funnel_depth",
            f"{_count('ev.carts')} AS funnel_cart_sessions",
            f"{_count('ev.abandoned')} AS funnel_abandoned_carts",
        ]
    if "product" in g:
        out += [
            f"{_ratio(f'ord.cat_{i}', 'ord.known_lines')} AS cat_{i}"
            for i in range(len(categories))
        ]
        out += [
            f"{_count('ord.products')} AS product_distinct_products",
            f"{_ratio('ord.units', 'ord.orders')} AS product_items_per_order",
            f"{_ratio('ord.lines', 'ord.orders')} AS product_lines_per_order",
            "EXP(ord.log_price_index) AS product_price_index",
        ]
    if tables.browse:
        out.append(f"{_count('br.n')} AS browse_product_events")
        out += [
            f"{_ratio(f'br.bc_{i}', 'br.known')} AS bc_{i}"
            for i in range(len(tables.browse_categories))
        ]
        out.append("EXP(br.log_price_index) AS browse_price_index")
    if "satisfaction" in g:
        out += [
            f"{_count('fb.responses')} AS satisfaction_responses",
            "fb.nps AS satisfaction_nps_mean",
            "fb.promoters AS satisfaction_nps_promoter_share",
            "fb.csat AS satisfaction_csat_mean",
            "fb.review AS satisfaction_review_mean",
        ]
        if tables.sentiment:
            out.append("fb.sentiment AS satisfaction_sentiment_mean")
    if "friction" in g:
        out += [f"{_count(f'ev.f_{i}')} AS f_{i}" for i in range(len(opt.friction))]
    return out


def _least(exprs: list[str]) -> str:
    return exprs[0] if len(exprs) == 1 else f"LEAST({', '.join(exprs)})"


def _greatest(exprs: list[str]) -> str:
    return exprs[0] if len(exprs) == 1 else f"GREATEST({', '.join(exprs)})"


def _finish(
    df: pd.DataFrame,
    opt: _Options,
    categories: Sequence[str],
    browse_categories: Sequence[str] = (),
) -> pd.DataFrame:
    """Real column names for the category and friction columns; untracked friction events NaN."""
    renames = {f"cat_{i}": f"product_category_share_{_slug(c)}" for i, c in enumerate(categories)}
    renames |= {
        f"bc_{i}": f"browse_category_share_{_slug(c)}" for i, c in enumerate(browse_categories)
    }
    renames |= {f"f_{i}": f"friction_{_slug(e)}" for i, e in enumerate(opt.friction)}
    if len(set(renames.values())) < len(renames):
        raise ValueError(
            "two categories or friction events give the same column name after lower-casing and "
            "replacing non-alphanumerics with _; rename one in the products table or config"
        )
    df = df.rename(columns=renames)
    for e in opt.friction:
        col = f"friction_{_slug(e)}"
        if col in df.columns and not (df[col] > 0).any():
            # nobody has the event before the cut-off: it is not tracked, and 0 would claim that
            # everyone was free of it
            df[col] = float("nan")
    return df


def _with_stage(
    df: pd.DataFrame, engine: Engine, stage_model: StageModel, opt: _Options
) -> pd.DataFrame:
    from journeylib.stages import customer_stages

    st = customer_stages(engine, stage_model, as_of=opt.as_of)[["customer_id", "furthest_stage_no"]]
    stage = df[["customer_id"]].merge(st, on="customer_id", how="left")["furthest_stage_no"]
    pos = df.columns.get_loc("funnel_abandoned_carts") + 1
    df.insert(pos, "funnel_stage_no", stage.fillna(0).astype("int64").to_numpy())
    return df


# ---- customer attributes ---------------------------------------------------------------------
#: Columns ingest adds to every customers table; they describe the record, not the customer.
_BOOKKEEPING_COLUMNS = ("identified",)


def _attribute_kind(dtype: object) -> str | None:
    """The kind of a numeric attribute column ("number" or "boolean"); None for any other."""
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_complex_dtype(dtype):
        return "number"
    return None


def _type_name(dtype: object) -> str:
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "a date or timestamp"
    if pd.api.types.is_timedelta64_dtype(dtype):
        return "a duration"
    if pd.api.types.is_string_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype):
        return "text or a category"
    return f"of type {dtype}"


def attribute_features(engine: Engine, *, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """The customers table's own numeric attributes (bring-your-own features).

    A client whose customer behaviour arrives as a plain attribute table (a CRM extract with
    income, spend per category, purchases per channel, ...) rather than as events and orders
    clusters on these columns instead of :func:`customer_features` (``personas.features:
    attributes``). Declare the column types in the source mapping (``types:``, e.g. ``money``
    for an income written ``"$84,835.00 "``) so they arrive here as numbers; this function
    only selects and checks, it never parses text.

    Parameters
    ----------
    engine
        Engine with a ``customers`` table: ``customer_id`` plus attribute columns.
    columns
        Attribute columns to return, in this order. ``None``: every numeric or boolean column in
        table order, except ``customer_id``, dates and timestamps (``first_seen``), text and
        category columns, and ingest's bookkeeping column ``identified``.

    Returns
    -------
    pandas.DataFrame
        One row per customer_id of ``customers`` (sorted), ``customer_id`` first, then the
        attributes. Numbers keep their values with NaN where missing (an integer column with
        missing values comes back as float); booleans become 0/1 (NaN where missing). No value
        is filled in: a missing income stays missing, for the persona model to handle.

    Raises
    ------
    ValueError
        A requested column is unknown, not numeric or boolean (its type is named; values never
        are), listed twice or is ``customer_id``; or ``customers`` has missing or repeated
        customer ids (counted).

    Examples
    --------
    >>> from journeylib.engine import engine_for
    >>> cust = pd.DataFrame({"customer_id": ["b", "a"], "income": [52.0, None],
    ...     "vip": [True, False], "tier": ["gold", "silver"]})
    >>> attribute_features(engine_for(customers=cust)).to_dict("records")
    [{'customer_id': 'a', 'income': nan, 'vip': 0}, {'customer_id': 'b', 'income': 52.0, 'vip': 1}]
    """
    from journeylib.sql import quote

    empty = require_columns(engine, "customers", ["customer_id"])
    dtypes = empty.dtypes
    if columns is None:
        wanted = [
            c
            for c in empty.columns
            if c != "customer_id"
            and c not in _BOOKKEEPING_COLUMNS
            and _attribute_kind(dtypes[c]) is not None
        ]
    else:
        if isinstance(columns, str) or not isinstance(columns, Iterable):
            raise ValueError("columns must be a list of column names")
        wanted = list(columns)
        if any(not isinstance(c, str) or not c for c in wanted):
            raise ValueError("columns must hold non-empty column names (strings)")
        problems = []
        if "customer_id" in wanted:
            problems.append("customer_id is always returned; do not list it")
        repeated = sorted({c for c in wanted if wanted.count(c) > 1})
        if repeated:
            problems.append(f"listed more than once: {repeated}")
        unknown = [c for c in wanted if c != "customer_id" and c not in empty.columns]
        if unknown:
            problems.append(f"not columns of the customers table: {unknown}")
        for c in wanted:
            if c != "customer_id" and c in empty.columns and _attribute_kind(dtypes[c]) is None:
                problems.append(
                    f"column {c!r} is {_type_name(dtypes[c])}, not a number or yes/no value "
                    "(declare its type in the source mapping, or leave it out)"
                )
        if problems:
            raise ValueError("attribute columns: " + "; ".join(problems))
    select = ["customer_id"]
    for c in wanted:
        q = quote(c, "attribute column")
        # 0/1 instead of True/False: a boolean attribute is then a share when averaged
        select.append(
            f"CAST({q} AS INTEGER) AS {q}" if _attribute_kind(dtypes[c]) == "boolean" else q
        )
    df = engine.query(f"SELECT {', '.join(select)} FROM customers ORDER BY customer_id")
    n_missing = int(df["customer_id"].isna().sum())
    n_repeated = int(df["customer_id"].dropna().duplicated().sum())
    if n_missing or n_repeated:
        raise ValueError(
            "the customers table must hold one row per customer: "
            f"{n_missing} row(s) without customer_id, {n_repeated} repeated customer_id row(s)"
        )
    return df
