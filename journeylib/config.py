"""One YAML file per client, validated by pydantic.

Unknown keys are errors (``extra="forbid"``), so a typo never silently falls back to a default.
Relative paths in the file are resolved against the project root (see
:func:`journeylib.project.project_root`), never against the working directory.

The smallest useful file names the client and its raw exports::

    client: acme
    data:
      raw_dir: data/raw/acme
      sources:
        customers: {path: crm.csv, columns: {customer_id: id}}
        ...

``configs/demo.yaml`` is the documented, complete example.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from pathlib import Path
from typing import Annotated, ClassVar, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from journeylib.project import resolve_path
from journeylib.schema import CHANNELS, DEVICES, TABLES


class ConfigError(ValueError):
    """A client config file is missing, unreadable or invalid. The message lists every problem."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


#: Value types a source may declare for its columns (``SourceSpec.types``).
ColumnType = Literal["number", "integer", "money", "boolean", "date", "text", "category"]

#: Which declared types suit each kind of canonical column (extra customer attributes take any).
_CANONICAL_TYPES: dict[str, tuple[str, ...]] = {
    "numeric": ("number", "integer", "money"),
    "timestamp": ("date",),
    "text": ("text", "category"),
}


class SourceSpec(_Model):
    """How to read one raw export and map it onto a canonical table.

    ``types`` declares how the loader parses mapped columns (see :mod:`journeylib.io` for the
    exact rules): ``number``/``money`` strip currency symbols and codes, spaces and thousands
    separators (which separator is the decimal one is ``decimal``), ``integer`` also requires whole
    numbers, ``boolean`` reads yes/no, true/false, y/n, t/f, 1/0 and ya/tidak (any case), ``date``
    reads calendar dates with ``date_format`` (default ``ts_format``), ``category`` is a label
    and ``text`` free text (e-mails and phone numbers redacted). Blank cells are missing values;
    values that cannot be parsed are errors unless ``on_bad_values: missing``.
    """

    path: str = Field(
        description="file path, relative to data.raw_dir (or absolute); a folder is read as "
        "partitioned Parquet: every *.parquet file under it in path order (hidden and _-prefixed "
        "entries such as _SUCCESS skipped), key=value folder names added as text columns"
    )
    format: Literal["auto", "csv", "parquet"] = Field(
        default="auto",
        description="auto: parquet for .parquet/.pq files and folders, else csv",
    )
    columns: dict[str, str] = Field(
        default_factory=dict,
        description="canonical column -> raw column name; unmapped raw columns are dropped. Raw "
        "names are matched exactly as written (quote names with spaces: ' Income '), then "
        "ignoring white space around the file's header names",
    )
    types: dict[str, ColumnType] = Field(
        default_factory=dict,
        description="canonical (or extra customer attribute) column -> number | integer | money "
        "| boolean | date | text | category; how the loader parses it. Untyped canonical columns "
        "keep their canonical type, untyped extra attributes stay text",
    )
    decimal: Literal[".", ","] = Field(
        default=".",
        description="decimal separator of numbers in this file; the other of '.' and ',' is the "
        "thousands separator of number/integer/money columns (Indonesian exports: ',')",
    )
    on_bad_values: Literal["error", "missing"] = Field(
        default="error",
        description="typed values that cannot be parsed: fail (error), or read them as missing "
        "and count them in the data-quality notices (missing)",
    )
    ts_format: str | None = Field(
        default=None, description="strftime format of timestamp columns; None lets pandas infer"
    )
    date_format: str | None = Field(
        default=None,
        description="strftime format of columns typed date (e.g. '%m/%d/%y'); None: ts_format, "
        "or inferred (month first) when that is unset too",
    )
    timezone: str | None = Field(
        default=None,
        description="zone of naive timestamps (overrides data.timezone); aware ones are converted",
    )
    encoding: str = "utf-8"
    delimiter: str = ","
    id_source: str | None = Field(
        default=None,
        description="resolve customer_id through identity_map rows with this source name",
    )
    constants: dict[str, str] = Field(
        default_factory=dict, description="canonical column -> constant value, e.g. channel"
    )

    @property
    def resolved_format(self) -> str:
        if self.format != "auto":
            return self.format
        return "parquet" if self.path.lower().endswith((".parquet", ".pq")) else "csv"


class SourcesSpec(_Model):
    """The raw exports of one client. Only ``customers`` is required.

    A client without web/app events, orders or feedback (a plain customer attribute table, e.g.
    a CRM extract for personas or churn) leaves those sources out; ingest then writes them as
    empty canonical tables, so every analysis sees the same folder layout.
    """

    customers: SourceSpec = Field(description="the CRM customer table (one row per customer)")
    events: SourceSpec | None = Field(
        default=None, description="web/app analytics events; absent: an empty events table"
    )
    orders: SourceSpec | None = Field(
        default=None, description="order lines; absent: an empty orders table"
    )
    feedback: SourceSpec | None = Field(
        default=None, description="surveys, reviews, social posts; absent: an empty table"
    )
    spend: SourceSpec | None = None
    products: SourceSpec | None = None
    identity_map: SourceSpec | None = None

    def items(self) -> list[tuple[str, SourceSpec]]:
        return [(name, spec) for name in TABLES if (spec := getattr(self, name)) is not None]

    @model_validator(mode="after")
    def _mappings_complete(self) -> SourcesSpec:
        problems = []
        for name, spec in self.items():
            table = TABLES[name]
            if not table.extra_attributes:
                unknown = sorted(set(spec.columns) - set(table.columns))
                if unknown:
                    problems.append(f"{name}.columns: unknown canonical column(s) {unknown}")
            missing = [
                c for c in table.required if c not in spec.columns and c not in spec.constants
            ]
            if missing:
                problems.append(
                    f"{name}.columns: required canonical column(s) {missing} not mapped"
                )
            problems += _type_problems(name, spec)
        if problems:
            raise ValueError("; ".join(problems))
        return self


def _type_problems(name: str, spec: SourceSpec) -> list[str]:
    """Declared types must name mapped columns and suit canonical columns."""
    table = TABLES[name]
    problems = []
    unmapped = sorted(set(spec.types) - set(spec.columns))
    if unmapped:
        problems.append(f"{name}.types: column(s) {unmapped} are typed but not mapped in columns")
    for column, kind in sorted(spec.types.items()):
        if column not in table.columns:
            continue  # an extra customer attribute: any type
        if column in table.numeric:
            allowed = _CANONICAL_TYPES["numeric"]
        elif column in table.timestamps or column in table.dates:
            allowed = _CANONICAL_TYPES["timestamp"]
        else:
            allowed = _CANONICAL_TYPES["text"]
        if kind not in allowed:
            problems.append(
                f"{name}.types.{column}: the canonical column cannot be {kind}; "
                f"choose from {list(allowed)}"
            )
    return problems


class WindowSpec(_Model):
    start: dt.date | None = None
    end: dt.date | None = None

    @model_validator(mode="after")
    def _ordered(self) -> WindowSpec:
        if self.start and self.end and self.start > self.end:
            raise ValueError("window.start is after window.end")
        return self


Policy = Literal["error", "drop"]


class QualitySpec(_Model):
    """What to do with rows that fail a non-structural check."""

    on_duplicates: Policy = Field(
        default="drop",
        description="exact duplicate rows (by the table key): drop and count, or fail",
    )
    on_out_of_window: Policy = Field(
        default="error", description="timestamps outside data.window: fail, or drop and count"
    )
    future_tolerance_hours: float = Field(
        default=24.0, ge=0, description="timestamps later than now + this are an error"
    )
    max_error_rows: int = Field(default=5, ge=1, le=50, description="row numbers shown per problem")


class DataSpec(_Model):
    raw_dir: str = Field(description="folder of the raw exports (relative to the project root)")
    timezone: str = Field(default="UTC", description="zone of naive timestamps in the exports")
    window: WindowSpec = WindowSpec()
    sources: SourcesSpec

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value


class PrivacySpec(_Model):
    key_env: str = Field(
        default="JOURNEY_ID_KEY", description="environment variable holding the HMAC key"
    )
    allow_demo_key: bool = Field(
        default=False,
        description="use the documented public demo key when the variable is unset (demo only)",
    )
    redact_text: bool = Field(
        default=True, description="replace e-mail addresses and phone numbers in free text"
    )


class SessionSpec(_Model):
    timeout_minutes: float = Field(
        default=30.0, gt=0, description="inactivity gap that ends a session"
    )


class EventMatch(_Model):
    """An event that signals a stage, optionally only on some channels or devices."""

    event: str
    channel: list[str] | None = Field(default=None, description="only on these channels")
    device: list[str] | None = Field(default=None, description="only on these devices")
    min_value: float | None = Field(default=None, description="only when value >= this")


class StageSignal(_Model):
    """A derived stage signal computed from orders or feedback rather than events.

    * ``order``: every order (covers offline and marketplace orders without web events);
    * ``repeat_purchase``: the ``min_orders``-th and later orders, each placed within
      ``within_days`` of the previous one (``None``: any gap);
    * ``feedback``: answers of ``feedback_kind`` with ``score >= min_score`` (NPS 9-10 promoters,
      4-5 star reviews).
    """

    kind: Literal["order", "repeat_purchase", "feedback"]
    within_days: int | None = Field(default=None, ge=1)
    min_orders: int = Field(default=2, ge=2)
    feedback_kind: Literal["nps", "csat", "review"] | None = None
    min_score: float | None = None

    @model_validator(mode="after")
    def _complete(self) -> StageSignal:
        if self.kind == "feedback" and (self.feedback_kind is None or self.min_score is None):
            raise ValueError("a feedback signal needs feedback_kind and min_score")
        return self


class StageRule(_Model):
    """One journey stage and what signals it. Stages are ordered as listed in the config."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    label: str | None = Field(default=None, description="English label; default: the name")
    label_id: str | None = Field(default=None, description="Bahasa Indonesia label")
    events: list[str | EventMatch] = Field(default_factory=list)
    signals: list[StageSignal] = Field(default_factory=list)

    @property
    def matches(self) -> list[EventMatch]:
        return [EventMatch(event=e) if isinstance(e, str) else e for e in self.events]


class JourneySpec(_Model):
    """Event names and windows of the journey analysis (``10_journey_stages``)."""

    funnel: list[str] = Field(
        default_factory=lambda: ["view_item", "add_to_cart", "begin_checkout", "purchase"],
        min_length=1,
        description="the main funnel, in order (event names)",
    )
    funnel_window_days: float | None = Field(
        default=7, gt=0, description="conversion window from the first step; null: unbounded"
    )
    conversion_event: str = "purchase"
    cart_event: str = "add_to_cart"
    recovery_days: int = Field(default=7, ge=1, description="abandoned carts recovered within")
    segments: list[Literal["device", "channel", "cohort"]] = Field(
        default_factory=lambda: ["device", "channel"],
        description="funnel breakdowns (persona is added when personas exist)",
    )
    path_steps: int = Field(default=5, ge=2, le=20, description="Sankey depth")
    step_matrix_steps: int = Field(default=10, ge=2, le=30)
    friction_events: list[str] = Field(
        default_factory=lambda: ["checkout_error", "payment_error", "contact_support"],
        description="events counted as friction over time",
    )
    cohort_period: Literal["week", "month"] = "month"
    lookback_days: int = Field(default=30, ge=1, description="mobile-assist lookback")


class AttributionSpec(_Model):
    """Touchpoint paths and attribution models (notebook ``20_touchpoints_attribution``)."""

    paths_file: str | None = Field(
        default=None,
        description="pre-aggregated path table (CSV: path;total_conversions;"
        "total_conversion_value;total_null) to attribute instead of paths built from events; "
        "relative to the project root",
    )
    paths_delimiter: str = Field(default=";", description="field delimiter of paths_file")
    conversion_event: str = "purchase"
    touchpoint: Literal["channel", "channel_campaign"] = Field(
        default="channel", description="touchpoint label: the channel, or channel / campaign"
    )
    grain: Literal["session", "event"] = Field(
        default="session", description="one touch per session (its channel) or per event"
    )
    lookback_days: int = Field(default=30, ge=1, description="touches counted before a conversion")
    collapse_repeats: bool = Field(
        default=False, description="a > a > b counts as a > b (consecutive repeats merged)"
    )
    direct_channel: str = Field(default="direct", description="skipped by last non-direct")
    time_decay_half_life_days: float = Field(default=7.0, gt=0)
    position_first: float = Field(default=0.4, ge=0, le=1, description="U-shaped: first touch")
    position_last: float = Field(default=0.4, ge=0, le=1, description="U-shaped: last touch")
    markov_max_order: int = Field(
        default=3, ge=1, le=6, description="Markov orders 1..this compared out of sample"
    )
    shapley_max_exact_channels: int = Field(default=15, ge=2, le=20)
    bootstrap_samples: int = Field(default=200, ge=0, le=5000, description="0: no intervals")
    confidence: float = Field(default=0.95, gt=0.5, lt=1)

    @model_validator(mode="after")
    def _positions(self) -> AttributionSpec:
        if self.position_first + self.position_last > 1:
            raise ValueError("position_first + position_last must be at most 1")
        return self


class PersonaSpec(_Model):
    """Behavioural personas (notebook ``30_personas``)."""

    features: Literal["behaviour", "attributes"] = Field(
        default="behaviour",
        description="behaviour: the feature table computed from events, orders and feedback; "
        "attributes: the customers table's own attribute columns (bring-your-own features)",
    )
    attribute_columns: list[str] = Field(
        default_factory=list,
        description="with features: attributes, the customer columns to cluster on (empty: every "
        "numeric attribute)",
    )
    feature_set: Literal["intensive", "all"] = Field(
        default="intensive",
        description="behaviour features clustered on: intensive = how customers behave (shares, "
        "rates, scores, price level), leaving counts and durations for the persona cards; all = "
        "every column of the feature table",
    )
    exclude_features: list[str] = Field(
        default_factory=list, description="feature names left out of the clustering"
    )
    k: int = Field(default=0, ge=0, le=30, description="number of personas; 0 = choose it")
    selection: Literal["stability", "silhouette", "bic"] = Field(
        default="stability",
        description="how k is chosen: the largest k whose every persona is reproduced by "
        "bootstrap refits (stability), or the best silhouette / BIC among the stable k",
    )
    algorithm: Literal["kmeans", "gmm"] = "kmeans"
    k_min: int = Field(default=2, ge=2, le=30)
    k_max: int = Field(default=8, ge=2, le=30)
    scaling: Literal["log", "quantile", "standard"] = Field(
        default="log", description="log1p of skewed counts and amounts, then standardise"
    )
    pca_components: float = Field(
        default=0.0,
        ge=0,
        description="0: no PCA; < 1: keep this share of variance; >= 1: this many components",
    )
    activity_column: str = Field(
        default="engagement_sessions",
        description="personas are learned from customers with at least min_activity of this "
        "column (everyone is assigned); empty: learn from everyone",
    )
    min_activity: float = Field(
        default=5,
        ge=0,
        description="a customer with fewer sessions shows too little behaviour to reveal a "
        "persona (a single session's channel share is 0 or 1)",
    )
    stability_resamples: int = Field(default=20, ge=0, le=500, description="bootstrap refits")
    min_stability: float = Field(
        default=0.75,
        gt=0,
        le=1,
        description="mean Jaccard index (best match in bootstrap refits) every persona must "
        "reach for a k to count as stable",
    )
    sample_size: int = Field(
        default=50_000, ge=100, description="customers the model is fitted on; all are assigned"
    )

    @model_validator(mode="after")
    def _k_range(self) -> PersonaSpec:
        if self.k_min > self.k_max:
            raise ValueError("k_min must not exceed k_max")
        if self.k == 1:
            raise ValueError("k must be 0 (choose it) or at least 2")
        if self.selection == "bic" and self.algorithm != "gmm":
            raise ValueError("selection: bic needs algorithm: gmm")
        return self


class ChurnCosts(_Model):
    """The money behind the operating threshold of the churn model (``churn.costs``).

    A retention offer goes to every customer whose churn probability is at least the threshold;
    it costs ``offer_cost`` per customer contacted, whether or not they would have left, and keeps
    ``save_rate`` of the would-be churners it reaches, each worth ``churn_value``. Contacting a
    customer pays off when ``probability x save_rate x churn_value > offer_cost``, so the
    threshold is ``offer_cost / (save_rate x churn_value)``. The defaults are placeholders: state
    the client's figures (in the report currency).
    """

    offer_cost: float = Field(default=10.0, ge=0, description="cost of one retention offer")
    churn_value: float = Field(
        default=100.0, gt=0, description="value lost when a customer churns (e.g. margin of a year)"
    )
    save_rate: float = Field(
        default=0.3, gt=0, le=1, description="share of contacted would-be churners the offer keeps"
    )


class ChurnSpec(_Model):
    """Churn labels and models (notebook ``40_churn``).

    Two kinds of data. **Labelled** (contractual) data name a ``label_column`` of the customers
    table (e.g. a yes/no ``churn`` typed boolean in the mapping) and the ``feature_columns`` to
    learn from. **Non-contractual** data (events/orders; ``label_column`` unset) get labels from a
    cut-off and a horizon: customers ``eligible`` at the cut-off churn when they show no
    ``activity`` in the ``horizon_days`` after it; features come from the feature table.
    """

    label_column: str | None = Field(
        default=None,
        description="labelled data: the customers column holding churn (yes/no); unset: labels "
        "from a cut-off and horizon_days",
    )
    feature_columns: list[str] = Field(
        default_factory=list,
        description="labelled data: customers columns to learn from (empty: every attribute "
        "column except the label, customer_id, dates and ingest's bookkeeping)",
    )
    horizon_days: int = Field(
        default=60, ge=1, le=730, description="churned = no activity in this many days after as_of"
    )
    activity: Literal["orders", "any"] = Field(
        default="any",
        description="what counts as activity: orders only, or any event, order or feedback",
    )
    eligible: Literal["active", "buyers"] = Field(
        default="active",
        description="who is labelled: active = activity within lookback_days before the cut-off; "
        "buyers = at least one order before it (within lookback_days when set)",
    )
    lookback_days: int | None = Field(
        default=None,
        ge=1,
        description="eligibility window before the cut-off; unset: lapse_days for active, all "
        "history for buyers",
    )
    gap_days: int | None = Field(
        default=None,
        ge=1,
        description="days between the training and the test cut-off (at least horizon_days, so "
        "training labels never read the test window); unset: horizon_days",
    )
    by_customer: bool = Field(
        default=True,
        description="non-contractual data: test customers are never training customers (on top "
        "of the time split)",
    )
    test_size: float = Field(
        default=0.3, gt=0, lt=1, description="share of customers held out for the test"
    )
    model: Literal["auto", "logistic", "hgb"] = Field(
        default="auto",
        description="logistic regression, histogram gradient boosting, or the better of the two "
        "on a validation split (auto)",
    )
    calibration: Literal["auto", "isotonic", "sigmoid", "none"] = Field(
        default="auto", description="probability calibration; auto: the lower validation Brier"
    )
    selection_metric: Literal["roc_auc", "average_precision"] = Field(
        default="roc_auc", description="how model: auto compares the models"
    )
    sample_size: int = Field(
        default=100_000, ge=100, description="customers the model is fitted on; all are scored"
    )
    costs: ChurnCosts = ChurnCosts()
    clv_horizon_months: int = Field(
        default=12,
        ge=1,
        le=120,
        description="customer value (transaction data): months of expected future purchases in "
        "the CLV (periods of 30 days)",
    )
    clv_discount_rate: float = Field(
        default=0.01,
        ge=0,
        lt=1,
        description="customer value: discount rate per month (0.01 = about 12.7% a year)",
    )
    value_column: str | None = Field(
        default=None,
        description="a numeric customers column used as each customer's value in the at-risk "
        "list when no CLV is estimated (labelled data, e.g. monthly_charges); unset: the CLV, "
        "else revenue to date for transaction data, else none (ranked by probability)",
    )
    at_risk_top_n: int = Field(
        default=1000,
        ge=1,
        description="at-risk customers given per-customer reasons (the report shows the first "
        "20); every scored customer is saved",
    )
    survival_inactivity_days: int | None = Field(
        default=None,
        ge=1,
        description="survival view (transaction data): days without activity after which a "
        "customer counts as gone; unset: lapse_days",
    )
    tenure_column: str | None = Field(
        default=None,
        description="survival view (labelled data): customers column holding each customer's "
        "tenure (e.g. months); unset: no survival view for labelled data",
    )
    survival_by: str | None = Field(
        default=None,
        description="survival view (labelled data): customers column to draw one curve per "
        "value of (e.g. contract)",
    )

    @model_validator(mode="after")
    def _windows(self) -> ChurnSpec:
        if self.gap_days is not None and self.gap_days < self.horizon_days:
            raise ValueError(
                "churn.gap_days must be at least churn.horizon_days: otherwise the training "
                "labels read days after the test cut-off"
            )
        if self.label_column is not None and self.label_column in self.feature_columns:
            raise ValueError("churn.label_column must not be one of churn.feature_columns")
        if self.survival_by is not None and self.tenure_column is None:
            raise ValueError("churn.survival_by needs churn.tenure_column (the curves' durations)")
        return self


class RecommendSpec(_Model):
    """Product recommendations from orders (notebook ``50_recommendations``).

    Item-to-item collaborative filtering (:class:`journeylib.recommend.ItemKNN`): each product a
    customer bought votes for its ``neighbours`` most similar products (similarity from customers
    buying both); popularity (by persona when personas exist) for customers without orders and
    to fill short lists. Evaluated offline on a time split: trained on orders before the last
    ``test_days`` days, tested on what customers bought in them.
    """

    k: int = Field(default=10, ge=1, le=100, description="products recommended per customer")
    similarity: Literal["cosine", "bm25", "jaccard"] = Field(
        default="cosine",
        description="item-item similarity from co-purchases: cosine, BM25-weighted dot product "
        "(down-weights heavy buyers and very popular items) or Jaccard",
    )
    neighbours: int = Field(
        default=50, ge=1, le=1000, description="most similar products kept per product"
    )
    exclude_bought: bool = Field(
        default=True,
        description="never recommend a product the customer already bought (and evaluate on "
        "products new to each customer)",
    )
    min_item_support: int = Field(
        default=2,
        ge=1,
        description="products bought by fewer customers get no similar products (their "
        "similarities rest on one basket)",
    )
    popularity_weight: float | Literal["auto"] = Field(
        default=0.0,
        description="blend of the item-kNN score (each customer's scores divided by their "
        "largest) with product popularity (share of the most popular): 0 = item-kNN only, "
        "1 = popularity only; auto = the best of 0, 0.1, ..., 1 by recall@k on a validation "
        "window just before the test window",
    )
    interaction: Literal["binary", "orders"] = Field(
        default="binary",
        description="what a customer x product cell holds: 1 if bought (binary) or the number of "
        "orders containing the product",
    )
    half_life_days: float | None = Field(
        default=None,
        gt=0,
        description="recency weighting: a purchase counts 0.5 ** (age in days / half_life_days) "
        "at the cut-off (its last purchase); unset: no decay",
    )
    lookback_days: int | None = Field(
        default=None, ge=1, description="learn from orders in this many days before the cut-off"
    )
    max_per_category: int | None = Field(
        default=None,
        ge=1,
        description="diversity: at most this many products of one category in a top-k (filled "
        "from other categories in score order; back-filled when too few categories); unset: off",
    )
    test_days: int = Field(
        default=30, ge=1, le=365, description="evaluation: the last days of data held out"
    )
    popularity_by_persona: bool = Field(
        default=True,
        description="customers without orders get their persona's most bought products (global "
        "popularity without personas)",
    )
    min_persona_customers: int = Field(
        default=30,
        ge=1,
        description="a persona with fewer buyers uses the global popularity instead of its own",
    )

    @field_validator("popularity_weight")
    @classmethod
    def _weight_range(cls, value: float | str) -> float | str:
        if value != "auto" and not 0 <= float(value) <= 1:
            raise ValueError("popularity_weight must be between 0 and 1, or auto")
        return value


RiskBand = Literal["high", "medium", "low"]


class PlaybookCondition(_Model):
    """When a playbook rule applies; every condition given must hold (unset = any)."""

    stage: list[str] = Field(
        default_factory=list, description="furthest journey stage, any of these (stage names)"
    )
    persona: list[str | int] = Field(
        default_factory=list, description="persona ids or labels, any of these"
    )
    churn_risk: list[RiskBand] = Field(default_factory=list, description="churn risk band")
    value: list[RiskBand] = Field(default_factory=list, description="customer value band")
    abandoned_cart: bool | None = Field(
        default=None, description="left a cart without buying in the last recent_days"
    )
    friction: bool | None = Field(
        default=None, description="hit a friction event in the last recent_days"
    )
    satisfied: bool | None = Field(
        default=None, description="a promoter (mean NPS >= 9) or mean review >= 4"
    )
    lapsed: bool | None = Field(
        default=None, description="no activity in the lapse_days before the cut-off"
    )
    orders_min: int | None = Field(default=None, ge=0, description="at least this many orders")
    orders_max: int | None = Field(default=None, ge=0, description="at most this many orders")


class PlaybookAction(_Model):
    """An action the client can take, in the report languages."""

    label: str = Field(description="English wording")
    label_id: str = Field(description="Bahasa Indonesia wording")
    channel: str = Field(default="email", description="where it is delivered")


class PlaybookRule(_Model):
    """One rule: the first rule whose conditions hold gives a customer's action."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    action: str
    when: PlaybookCondition = PlaybookCondition()


def _default_actions() -> dict[str, PlaybookAction]:
    a = PlaybookAction
    return {
        "win_back_offer": a(
            label="Win-back offer", label_id="Penawaran khusus agar kembali berbelanja"
        ),
        "cart_recovery_email": a(
            label="Cart recovery email", label_id="Email pengingat keranjang belanja"
        ),
        "service_recovery": a(
            label="Apology and service follow-up",
            label_id="Permintaan maaf dan tindak lanjut layanan",
            channel="customer_service",
        ),
        "re_engagement": a(label="Re-engagement reminder", label_id="Pengingat untuk kembali"),
        "review_referral_request": a(
            label="Review or referral request", label_id="Permintaan ulasan atau referensi"
        ),
        "onboarding_tips": a(
            label="Onboarding and usage tips", label_id="Tips penggunaan untuk pembeli baru"
        ),
        "loyalty_reward": a(
            label="Loyalty reward for repeat buyers",
            label_id="Hadiah loyalitas untuk pelanggan setia",
        ),
        "comparison_content": a(
            label="Retarget with comparison content",
            label_id="Retargeting dengan konten perbandingan produk",
            channel="ads",
        ),
        "welcome_content": a(
            label="Welcome content and first-order incentive",
            label_id="Konten sambutan dan insentif pembelian pertama",
            channel="ads",
        ),
    }


def _default_rules() -> list[PlaybookRule]:
    r, w = PlaybookRule, PlaybookCondition
    return [
        r(name="win_back", action="win_back_offer", when=w(churn_risk=["high"], value=["high"])),
        r(name="cart_recovery", action="cart_recovery_email", when=w(abandoned_cart=True)),
        r(name="service_recovery", action="service_recovery", when=w(friction=True)),
        r(name="at_risk", action="re_engagement", when=w(churn_risk=["high"])),
        r(name="lapsed_buyer", action="re_engagement", when=w(orders_min=1, lapsed=True)),
        r(
            name="advocacy",
            action="review_referral_request",
            when=w(orders_min=2, satisfied=True, lapsed=False),
        ),
        r(name="new_buyer", action="onboarding_tips", when=w(orders_min=1, orders_max=1)),
        r(name="repeat_buyer", action="loyalty_reward", when=w(orders_min=2, lapsed=False)),
        r(
            name="considering",
            action="comparison_content",
            when=w(stage=["consideration", "decision"], orders_max=0, lapsed=False),
        ),
        r(name="aware", action="welcome_content", when=w(orders_max=0, lapsed=False)),
    ]


class PlaybookSpec(_Model):
    """Next best action (notebook ``50_recommendations``): ordered rules, first match wins."""

    recent_days: int = Field(
        default=14, ge=1, le=365, description="abandoned carts and friction count this recently"
    )
    high_risk: float = Field(default=0.5, gt=0, lt=1, description="churn probability >= high")
    medium_risk: float = Field(default=0.25, gt=0, lt=1, description="churn probability >= medium")
    high_value_share: float = Field(
        default=0.2, gt=0, lt=1, description="the most valuable share of customers is high value"
    )
    medium_value_share: float = Field(
        default=0.3, gt=0, lt=1, description="the next share is medium value"
    )
    actions: dict[str, PlaybookAction] = Field(default_factory=_default_actions)
    rules: list[PlaybookRule] = Field(default_factory=_default_rules, min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> PlaybookSpec:
        if self.medium_risk >= self.high_risk:
            raise ValueError("playbook.medium_risk must be below playbook.high_risk")
        if self.high_value_share + self.medium_value_share >= 1:
            raise ValueError("playbook.high_value_share + medium_value_share must be below 1")
        names = [r.name for r in self.rules]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"playbook rule names must be unique; repeated: {dupes}")
        for rule in self.rules:
            if rule.action not in self.actions:
                raise ValueError(
                    f"playbook rule {rule.name!r}: unknown action {rule.action!r}; "
                    f"define it under playbook.actions (known: {sorted(self.actions)})"
                )
            lo, hi = rule.when.orders_min, rule.when.orders_max
            if lo is not None and hi is not None and lo > hi:
                raise ValueError(f"playbook rule {rule.name!r}: orders_min exceeds orders_max")
        return self


class JourneyMapSpec(_Model):
    """Voice of the customer, pain points and the journey map (notebook ``60_journey_map``)."""

    feedback_lookback_days: int = Field(
        default=30, ge=1, le=365, description="events this long before an answer count as before it"
    )
    min_responses: int = Field(
        default=10, ge=1, description="fewer answers than this: a stage's emotion is not shown"
    )
    text_model: Literal["auto", "lexicon", "trained"] = Field(
        default="auto",
        description="text sentiment: the shipped lexicon, a classifier trained on the client's "
        "scored comments, or auto (trained when min_training_texts scored comments exist)",
    )
    min_training_texts: int = Field(default=300, ge=50)
    repeat_days: int = Field(
        default=60, ge=1, description="a purchase this soon after friction counts as kept"
    )
    incident_max_days: int = Field(default=31, ge=1, le=120, description="longest incident window")
    alpha: float = Field(default=0.01, gt=0, lt=0.5, description="significance of incidents")
    top_pain_points: int = Field(
        default=3, ge=1, le=10, description="pain points per stage on the map"
    )


KpiName = Literal[
    "conversion", "retention", "repeat_rate", "nps", "churn_risk", "revenue_at_risk",
    "cart_abandonment", "csat",
]  # fmt: skip


class Objective(_Model):
    """A client goal: a KPI and its target (``conversion >= 0.03``, ``nps >= 40``)."""

    kpi: KpiName
    target: float = Field(description="shares as fractions (0.03 = 3%), NPS in points")
    direction: Literal[">=", "<="] = Field(
        default=">=", description=">= : higher is better; <= : lower is better"
    )
    label: str | None = Field(default=None, description="the goal in the client's words")


class ReportSpec(_Model):
    title: str = "Customer Journey Report"
    language: Literal["en", "id"] = "en"
    currency: str = "IDR"
    currency_symbol: str = "Rp"
    thousands_separator: str = "."
    decimal_separator: str = ","
    logo: str | None = None
    primary_color: str = "#0B6E4F"
    min_cell_count: int = Field(default=5, ge=1, description="small-cell suppression threshold")
    change_threshold: float = Field(
        default=0.1,
        gt=0,
        description="run-over-run: a KPI or persona size changing by more than this share (10%) "
        "of its previous value is called out in the summary",
    )
    cell_timeout_seconds: int | None = Field(
        default=1800, ge=10, description="a notebook cell running longer fails the run; null: none"
    )
    workers: int = Field(
        default=1,
        ge=1,
        le=16,
        description="notebooks run at once, each in its own process, once the notebooks it "
        "reads have finished (1: one after another); each holds its own kernel and DuckDB "
        "memory_limit",
    )
    pii_scan: bool = Field(
        default=True,
        description="scan the report for e-mail addresses, phone numbers and raw customer ids "
        "before publishing; any hit fails the run",
    )

    @field_validator("primary_color")
    @classmethod
    def _hex_colour(cls, value: str) -> str:
        if not re.fullmatch(r"#[0-9A-Fa-f]{6}", value):
            raise ValueError("primary_color must look like #1A2B3C")
        return value


class EngineSpec(_Model):
    """Where the event-level queries run (``journeylib.engine.get_engine``).

    ``duckdb`` (the default) runs them embedded over the Parquet files of ``processed_dir``;
    ``spark`` runs the same SQL on Apache Spark (``pip install .[spark]``; ``docs/spark.md``).
    Ingest (``journey prepare``) always runs on DuckDB with ``memory_limit``/``threads``.

    >>> EngineSpec(kind="spark", master="spark://head:7077").master
    'spark://head:7077'
    """

    #: The settings only the Spark engine reads.
    SPARK_ONLY: ClassVar[tuple[str, ...]] = ("master", "processed_path", "tables", "conf")

    kind: Literal["duckdb", "spark"] = "duckdb"
    memory_limit: str = Field(
        default="4GB",
        description="DuckDB memory_limit (spills beyond it); Spark in local mode: driver memory",
    )
    threads: int | None = Field(
        default=None, ge=1, description="None = all cores (Spark in local mode: local[threads])"
    )
    temp_dir: str | None = Field(
        default=None,
        description="spill folder (Spark in local mode: spark.local.dir); None = system temp",
    )
    master: str | None = Field(
        default=None,
        description="Spark master URL (spark://host:7077, yarn, k8s://..., local[4]); None: "
        "the active Spark session if there is one, else local mode on this machine",
    )
    processed_path: str | None = Field(
        default=None,
        description="Spark: folder or URI (s3a://, abfss://, hdfs://) holding the processed "
        "<table>.parquet; None = this client's processed folder",
    )
    tables: dict[str, str] = Field(
        default_factory=dict,
        description="Spark: canonical table -> catalog table (db.events) or Parquet path; "
        "replaces that table of processed_path",
    )
    conf: dict[str, str | int | float | bool] = Field(
        default_factory=dict,
        description="Spark settings for a session journeylib starts (spark.executor.memory: 8g)",
    )

    @field_validator("tables")
    @classmethod
    def _table_names(cls, value: dict[str, str]) -> dict[str, str]:
        bad = [k for k in value if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", k)]
        if bad:
            raise ValueError(f"engine.tables: {bad} must be plain table names (letters, digits, _)")
        empty = [k for k, v in value.items() if not str(v).strip()]
        if empty:
            raise ValueError(f"engine.tables: {empty} name no Spark table or path")
        return value

    @model_validator(mode="after")
    def _spark_settings_need_spark(self) -> EngineSpec:
        if self.kind != "spark":
            # a value other than the default (a dumped config repeats the defaults: null, {})
            given = [k for k in self.SPARK_ONLY if getattr(self, k)]
            if given:
                raise ValueError(
                    f"engine.{', engine.'.join(given)}: Spark setting(s), but engine.kind is "
                    f"{self.kind!r}; set kind: spark or remove them"
                )
        return self


class OutputSpec(_Model):
    processed_dir: str = "data/processed"
    reports_dir: str = "reports"


NotebookName = Annotated[str, Field(pattern=r"^[0-9]{2}_[a-z0-9_]+$")]


class Config(_Model):
    """A validated client configuration."""

    client: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$", description="folder-safe client id")
    report: ReportSpec = ReportSpec()
    data: DataSpec
    privacy: PrivacySpec = PrivacySpec()
    quality: QualitySpec = QualitySpec()
    sessions: SessionSpec = SessionSpec()
    channels: dict[str, str] = Field(
        default_factory=dict, description="extra raw channel label -> canonical channel"
    )
    devices: dict[str, str] = Field(
        default_factory=dict, description="extra raw device label -> canonical device"
    )
    stages: list[StageRule] = Field(
        default_factory=list, description="journey stages in order; empty: the default five"
    )
    journey: JourneySpec = JourneySpec()
    attribution: AttributionSpec = AttributionSpec()
    personas: PersonaSpec = PersonaSpec()
    churn: ChurnSpec = ChurnSpec()
    recommend: RecommendSpec = RecommendSpec()
    playbook: PlaybookSpec = PlaybookSpec()
    journey_map: JourneyMapSpec = JourneyMapSpec()
    objectives: list[Objective] = Field(
        default_factory=list, description="the client's goals as KPI targets, shown first"
    )
    lapse_days: int = Field(
        default=90, ge=1, description="no activity for this many days before as_of = exited"
    )
    as_of: dt.date | None = Field(default=None, description="analysis cut-off; default window end")
    seed: int = 42
    engine: EngineSpec = EngineSpec()
    output: OutputSpec = OutputSpec()
    notebooks: list[NotebookName] | None = Field(
        default=None, description="notebooks to run in order; None = all in notebooks/"
    )

    @model_validator(mode="after")
    def _playbook_stages(self) -> Config:
        from journeylib.stages import DEFAULT_STAGES  # stages imports this module

        known = [r.name for r in self.stages or DEFAULT_STAGES]
        for rule in self.playbook.rules:
            unknown = [st for st in rule.when.stage if st not in known]
            if unknown:
                raise ValueError(
                    f"playbook rule {rule.name!r}: unknown stage(s) {unknown}; the journey "
                    f"stages are {known}"
                )
        return self

    @field_validator("stages")
    @classmethod
    def _unique_stages(cls, value: list[StageRule]) -> list[StageRule]:
        names = [r.name for r in value]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"stage names must be unique; repeated: {dupes}")
        return value

    @field_validator("channels", "devices")
    @classmethod
    def _known_labels(cls, value: dict[str, str], info) -> dict[str, str]:  # noqa: ANN001
        vocabulary, noun = (
            (CHANNELS, "channel") if info.field_name == "channels" else (DEVICES, "device")
        )
        bad = sorted({v for v in value.values() if v not in vocabulary})
        if bad:
            raise ValueError(f"unknown canonical {noun}(s) {bad}; choose from {list(vocabulary)}")
        return value

    # ---- derived values -------------------------------------------------------------------
    @property
    def raw_dir(self) -> Path:
        return resolve_path(self.data.raw_dir)

    @property
    def processed_dir(self) -> Path:
        return resolve_path(self.output.processed_dir) / self.client

    @property
    def reports_dir(self) -> Path:
        return resolve_path(self.output.reports_dir) / self.client

    def source_path(self, table: str) -> Path:
        spec: SourceSpec = getattr(self.data.sources, table)
        path = Path(spec.path)
        return path if path.is_absolute() else self.raw_dir / path

    @property
    def effective_as_of(self) -> dt.date | None:
        return self.as_of or self.data.window.end

    #: The settings ingest reads: only these decide the processed tables, so changing an
    #: analysis setting (personas, churn, report, ...) never rebuilds them (nor deletes the
    #: persona and churn outputs written next to them).
    INGEST_SETTINGS: ClassVar[tuple[str, ...]] = (
        "client", "data", "privacy", "quality", "sessions", "channels", "devices",
    )  # fmt: skip

    def ingest_hash(self) -> str:
        """A short, stable hash of the settings ingest reads (:attr:`INGEST_SETTINGS`)."""
        dump = self.model_dump(mode="json", include=set(self.INGEST_SETTINGS))
        blob = json.dumps(dump, sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:12]

    def config_hash(self) -> str:
        """A short, stable hash of the validated settings (key order and comments do not matter)."""
        blob = json.dumps(self.model_dump(mode="json"), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:12]


def _format_validation_error(path: Path, exc: ValidationError) -> str:
    lines = [f"{path}: {exc.error_count()} problem(s) in the config:"]
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "(top level)"
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown key (check the spelling; see configs/demo.yaml for every key)"
        elif err["type"] == "missing":
            msg = "required key is missing"
        lines.append(f"  - {where}: {msg}")
    return "\n".join(lines)


def load_config(path: str | Path) -> Config:
    """Read and validate a client YAML config.

    Parameters
    ----------
    path
        Path to the YAML file, relative to the project root or absolute.

    Raises
    ------
    ConfigError
        With every problem listed (file, key path, message); never a raw traceback.
    """
    resolved = resolve_path(path)
    if not resolved.is_file():
        raise ConfigError(f"{resolved}: config file not found")
    try:
        raw = yaml.safe_load(resolved.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{resolved}: not valid YAML ({type(exc).__name__})") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{resolved}: the top level must be a mapping of keys")
    try:
        return Config.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_format_validation_error(resolved, exc)) from None
