"""The canonical data model: tables, columns, dtypes and vocabularies.

Every analysis reads these tables from ``data/processed/<client>/<table>.parquet``; loaders in
:mod:`journeylib.io` map a client's raw exports onto them. The grain of each table:

========================  =====================================================================
table                     grain (one row per ...)
========================  =====================================================================
``customers``             customer_id
``events``                behavioural event (customer_id x ts x event), deduplicated
``orders``                order line (order_id x product_id)
``feedback``              survey answer, review or social post
``spend``                 date x channel (optional)
``products``              product_id (optional catalogue)
``identity_map``          source x source_id (optional; pseudonymised on both sides)
========================  =====================================================================

Only ``customers`` must come from the client; ``events``, ``orders`` and ``feedback`` are always
written, with zero rows when the client has no such export (:data:`CORE_TABLES`).

Timestamps are timezone-aware UTC (``datetime64[us, UTC]``). ``customer_id`` is always the keyed
pseudonym (see :mod:`journeylib.privacy`), never a raw client identifier.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandera.pandas as pa

#: Canonical channel labels. Raw labels are mapped onto these by :data:`DEFAULT_CHANNEL_ALIASES`
#: plus the client's own ``channels`` mapping; anything unmapped becomes ``other`` (and is counted).
CHANNELS: tuple[str, ...] = (
    "organic_search",
    "paid_search",
    "social",
    "paid_social",
    "email",
    "display",
    "referral",
    "affiliate",
    "direct",
    "whatsapp",
    "marketplace",
    "offline_store",
    "other",
)

DEVICES: tuple[str, ...] = ("mobile", "desktop", "tablet", "other")

FEEDBACK_KINDS: tuple[str, ...] = ("nps", "csat", "review", "social")

#: Common raw spellings (GA-style ``source / medium``, Indonesian market names, shorthands).
#: Keys are compared after lower-casing and collapsing white space.
DEFAULT_CHANNEL_ALIASES: dict[str, str] = {
    # organic search
    "organic_search": "organic_search",
    "organic search": "organic_search",
    "organic": "organic_search",
    "seo": "organic_search",
    "google / organic": "organic_search",
    "bing / organic": "organic_search",
    # paid search
    "paid_search": "paid_search",
    "paid search": "paid_search",
    "cpc": "paid_search",
    "sem": "paid_search",
    "google / cpc": "paid_search",
    "google ads": "paid_search",
    # social
    "social": "social",
    "organic social": "social",
    "facebook / social": "social",
    "instagram": "social",
    "ig": "social",
    "tiktok": "social",
    "twitter": "social",
    "x.com": "social",
    # paid social
    "paid_social": "paid_social",
    "paid social": "paid_social",
    "facebook / cpc": "paid_social",
    "meta ads": "paid_social",
    "instagram ads": "paid_social",
    "tiktok ads": "paid_social",
    # email
    "email": "email",
    "e-mail": "email",
    "newsletter": "email",
    "edm": "email",
    # display
    "display": "display",
    "gdn": "display",
    "banner": "display",
    "programmatic": "display",
    # referral / affiliate
    "referral": "referral",
    "refer a friend": "referral",
    "affiliate": "affiliate",
    "affiliates": "affiliate",
    # direct
    "direct": "direct",
    "(direct)": "direct",
    "(direct) / (none)": "direct",
    "(none)": "direct",
    # whatsapp / chat commerce
    "whatsapp": "whatsapp",
    "wa": "whatsapp",
    "whatsapp business": "whatsapp",
    # marketplaces
    "marketplace": "marketplace",
    "tokopedia": "marketplace",
    "shopee": "marketplace",
    "lazada": "marketplace",
    "blibli": "marketplace",
    "tiktok shop": "marketplace",
    # offline
    "offline_store": "offline_store",
    "offline store": "offline_store",
    "offline": "offline_store",
    "store": "offline_store",
    "toko": "offline_store",
    "pos": "offline_store",
}

DEFAULT_DEVICE_ALIASES: dict[str, str] = {
    "mobile": "mobile",
    "smartphone": "mobile",
    "phone": "mobile",
    "android": "mobile",
    "ios": "mobile",
    "iphone": "mobile",
    "mobile app": "mobile",
    "app": "mobile",
    "mobile web": "mobile",
    "desktop": "desktop",
    "pc": "desktop",
    "laptop": "desktop",
    "web": "desktop",
    "computer": "desktop",
    "tablet": "tablet",
    "ipad": "tablet",
}


@dataclass(frozen=True)
class TableSpec:
    """What the canonical model requires of one table.

    ``required`` columns must be mapped from the raw export; ``optional`` ones are kept when
    mapped and created empty otherwise (so downstream code can rely on them existing).
    ``timestamps`` are parsed to UTC; ``ids`` are pseudonymised; ``key`` defines a duplicate row.
    """

    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    timestamps: tuple[str, ...] = ()
    ids: tuple[str, ...] = ("customer_id",)
    numeric: tuple[str, ...] = ()
    key: tuple[str, ...] = ()
    optional_table: bool = False
    extra_attributes: bool = False  # customers may carry any extra mapped attribute columns
    dates: tuple[str, ...] = field(default=())
    #: activity tables must fall inside data.window; customers' signup dates may predate it
    windowed: bool = True

    @property
    def columns(self) -> tuple[str, ...]:
        return self.required + self.optional


TABLES: dict[str, TableSpec] = {
    "customers": TableSpec(
        "customers",
        required=("customer_id",),
        optional=("first_seen", "region", "segment", "signup_channel"),
        timestamps=("first_seen",),
        key=("customer_id",),
        extra_attributes=True,
        windowed=False,
    ),
    "events": TableSpec(
        "events",
        required=("customer_id", "ts", "event"),
        optional=("session_id", "channel", "device", "product_id", "value", "campaign"),
        timestamps=("ts",),
        numeric=("value",),
        key=("customer_id", "ts", "event", "product_id"),
    ),
    "orders": TableSpec(
        "orders",
        required=("order_id", "customer_id", "ts", "product_id", "quantity", "revenue"),
        optional=("channel",),
        timestamps=("ts",),
        numeric=("quantity", "revenue"),
        key=("order_id", "product_id"),
    ),
    "feedback": TableSpec(
        "feedback",
        required=("customer_id", "ts", "kind", "score"),
        optional=("text", "touchpoint", "channel"),
        timestamps=("ts",),
        numeric=("score",),
        key=("customer_id", "ts", "kind"),
    ),
    "spend": TableSpec(
        "spend",
        required=("date", "channel", "cost"),
        optional=("campaign",),
        ids=(),
        numeric=("cost",),
        key=("date", "channel", "campaign"),
        optional_table=True,
        dates=("date",),
    ),
    "products": TableSpec(
        "products",
        required=("product_id",),
        optional=("category", "price", "name"),
        ids=(),
        numeric=("price",),
        key=("product_id",),
        optional_table=True,
    ),
    "identity_map": TableSpec(
        "identity_map",
        required=("source", "source_id", "customer_id"),
        ids=("customer_id", "source_id"),
        key=("source", "source_id"),
        optional_table=True,
    ),
}

#: Tables every client must supply.
REQUIRED_TABLES: tuple[str, ...] = ("customers",)

#: Tables every processed folder holds: ingest writes them empty (zero rows, canonical columns
#: and dtypes) when the client has no such export, so every analysis sees the same layout.
CORE_TABLES: tuple[str, ...] = ("customers", "events", "orders", "feedback")


def _ts() -> pa.Column:
    return pa.Column("datetime64[us, UTC]", nullable=False)


#: pandera schemas of the *processed* tables: the contract every analysis may rely on.
PROCESSED_SCHEMAS: dict[str, pa.DataFrameSchema] = {
    "customers": pa.DataFrameSchema(
        {
            "customer_id": pa.Column(str, nullable=False, unique=True),
            "first_seen": pa.Column("datetime64[us, UTC]", nullable=True),
        },
        strict=False,
    ),
    "events": pa.DataFrameSchema(
        {
            "customer_id": pa.Column(str, nullable=False),
            "ts": _ts(),
            "event": pa.Column(str, nullable=False),
            "session_id": pa.Column(str, nullable=False),
            "channel": pa.Column(str, pa.Check.isin(CHANNELS), nullable=False),
            "device": pa.Column(str, pa.Check.isin(DEVICES), nullable=False),
            "value": pa.Column(float, nullable=True),
            # 1-based position in the customer's path, ordered by (ts, event); added at ingest
            "event_seq": pa.Column("int64", pa.Check.ge(1), nullable=False),
        },
        strict=False,
    ),
    "orders": pa.DataFrameSchema(
        {
            "order_id": pa.Column(str, nullable=False),
            "customer_id": pa.Column(str, nullable=False),
            "ts": _ts(),
            "product_id": pa.Column(str, nullable=False),
            "quantity": pa.Column(float, pa.Check.ge(0), nullable=False),
            "revenue": pa.Column(float, nullable=False),
        },
        strict=False,
    ),
    "feedback": pa.DataFrameSchema(
        {
            "customer_id": pa.Column(str, nullable=False),
            "ts": _ts(),
            "kind": pa.Column(str, pa.Check.isin(FEEDBACK_KINDS), nullable=False),
            "score": pa.Column(float, nullable=True),
        },
        strict=False,
    ),
}
