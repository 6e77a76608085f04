"""Churn labels without leakage, and the time split of non-contractual data.

Definitions (the cut-off instant is the end of the ``as_of`` day in UTC,
:func:`journeylib.sql.end_of_day`, the same instant :func:`journeylib.features.customer_features`
stops reading at):

* **Activity.** ``activity="orders"``: rows of ``orders``; ``"any"``: rows of ``events``,
  ``orders`` and ``feedback`` (whichever the engine has).
* **Eligible customers.** ``eligible="active"``: at least one activity in the ``lookback_days``
  days up to the cut-off (the days ``as_of - lookback_days + 1`` .. ``as_of``; default
  :data:`DEFAULT_LOOKBACK_DAYS`, the config's ``lapse_days``: a customer silent for longer is
  already *exited* in the stage model, not about to leave). ``eligible="buyers"``: at least one
  order before the cut-off (within ``lookback_days`` when given; default all history).
* **Churned.** An eligible customer with no activity in the ``horizon_days`` days after the
  cut-off (``as_of + 1`` .. ``as_of + horizon_days``, i.e. ``cut-off <= ts < cut-off + H``).
  Rows after that window are never read, so the label of a cut-off is fixed once its horizon
  has passed; the horizon must end by the last day holding data, else days without data would
  count as churn (a clear error).

The time split (:func:`time_split`) fits on an earlier cut-off and evaluates on a later one: the
test cut-off is ``data end - H`` (its horizon ends on the last day of data) and the training
cut-off ``test cut-off - gap`` with ``gap >= H``, so the training labels end by the test cut-off
and never read the test window. :func:`customer_split` adds a split by customer (a seeded hash of
the id, so the same customer is on the same side at every cut-off).

Event-level work is one SQL statement through the engine per call.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from journeylib.sql import as_date, check_choice, days_between, end_of_day, require_columns

if TYPE_CHECKING:  # pragma: no cover
    from journeylib.config import ChurnSpec, Config
    from journeylib.engine import Engine

__all__ = [
    "DEFAULT_LOOKBACK_DAYS",
    "LABEL",
    "ChurnDataError",
    "TimeSplit",
    "check_classes",
    "churn_labels",
    "customer_split",
    "eligible_customers",
    "last_data_day",
    "scoring_frame",
    "time_split",
    "training_frame",
]

#: Name of the label column in every frame this package builds (True = churned).
LABEL = "churned"
#: Eligibility window of ``eligible="active"`` when none is given (the config's default
#: ``lapse_days``: silent longer than this, a customer is already exited).
DEFAULT_LOOKBACK_DAYS = 90

Activity = Literal["orders", "any"]
Eligible = Literal["active", "buyers"]
_ACTIVITY_TABLES = {"orders": ("orders",), "any": ("events", "orders", "feedback")}


class ChurnDataError(ValueError):
    """The data cannot give an honest churn model (no churners, one class, bad label values...).

    The message names the window or column and the counts; never customer ids or personal
    values."""


# ---- options ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class _LabelOptions:
    horizon_days: int
    activity: str
    eligible: str
    lookback_days: int | None  # None: all history (buyers only)


def _positive_days(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{what} must be a whole number of days >= 1, got {value!r}")
    return int(value)


def _label_options(
    config: Config | None,
    horizon_days: int | None,
    activity: str | None,
    eligible: str | None,
    lookback_days: int | None,
) -> _LabelOptions:
    """Explicit arguments, else the config's ``churn`` section, else its defaults
    (:class:`journeylib.config.ChurnSpec`)."""
    from journeylib.config import ChurnSpec

    spec = config.churn if config is not None else ChurnSpec()
    horizon = horizon_days if horizon_days is not None else spec.horizon_days
    act = activity or spec.activity
    elig = eligible or spec.eligible
    check_choice("activity", act, tuple(_ACTIVITY_TABLES))
    check_choice("eligible", elig, ("active", "buyers"))
    if lookback_days is None:
        lookback_days = spec.lookback_days
    if lookback_days is None and elig == "active":
        lookback_days = config.lapse_days if config is not None else DEFAULT_LOOKBACK_DAYS
    look = None if lookback_days is None else _positive_days(lookback_days, "lookback_days")
    return _LabelOptions(_positive_days(horizon, "horizon_days"), act, elig, look)


def _day(value: object, what: str = "as_of") -> dt.date:
    return as_date(value, what)


def _activity_tables(engine: Engine, activity: str) -> list[str]:
    """The activity tables the engine has, each checked for customer_id and a timestamp ts."""
    available = set(engine.tables())
    tables = [t for t in _ACTIVITY_TABLES[activity] if t in available]
    if activity == "orders" and not tables:
        raise ValueError("activity='orders' needs an orders table")
    if not tables:
        raise ValueError("the engine has none of the activity tables events, orders, feedback")
    for t in tables:
        require_columns(engine, t, ["customer_id", "ts"], timestamp="ts")
    return tables


def _activity_sql(tables: list[str], upto: str) -> str:
    """One row per activity (customer_id, ts) before ``upto`` (a SQL timestamp literal)."""
    return " UNION ALL ".join(
        f"SELECT customer_id, ts FROM {t} WHERE customer_id IS NOT NULL AND ts < {upto}"
        for t in tables
    )


def _eligible_sql(engine: Engine, opt: _LabelOptions, as_of: dt.date) -> str:
    """Subquery: one row per eligible customer_id at the end of ``as_of``."""
    cut = end_of_day(as_of)
    since = ""
    if opt.lookback_days is not None:
        since = f" AND ts >= {end_of_day(as_of - dt.timedelta(days=opt.lookback_days))}"
    if opt.eligible == "buyers":
        source = _activity_sql(_activity_tables(engine, "orders"), cut)
    else:
        source = _activity_sql(_activity_tables(engine, opt.activity), cut)
    return f"SELECT DISTINCT customer_id FROM ({source}) a WHERE TRUE{since}"


def last_data_day(engine: Engine, *, activity: Activity = "any") -> dt.date | None:
    """The last UTC day holding an activity row (``None`` when there is none).

    Parameters
    ----------
    engine
        Engine with the activity tables.
    activity
        ``"orders"`` or ``"any"`` (events, orders and feedback).
    """
    check_choice("activity", activity, tuple(_ACTIVITY_TABLES))
    tables = _activity_tables(engine, activity)
    last = engine.scalar(f"SELECT MAX(ts) FROM ({_activity_sql(tables, end_of_day(None))}) a")
    return None if last is None else pd.Timestamp(last).tz_convert("UTC").date()


def _window(as_of: dt.date, horizon: int) -> str:
    start = as_of + dt.timedelta(days=1)
    return f"{start.isoformat()}..{(as_of + dt.timedelta(days=horizon)).isoformat()}"


# ---- labels ----------------------------------------------------------------------------------
def eligible_customers(
    engine: Engine,
    *,
    as_of: dt.date | str,
    activity: Activity | None = None,
    eligible: Eligible | None = None,
    lookback_days: int | None = None,
    config: Config | None = None,
) -> pd.DataFrame:
    """The customers eligible for a churn label (or a churn score) at the end of ``as_of``.

    Options as in :func:`churn_labels` (no horizon needed: this is who gets *scored* on the
    last day of data, when no future is known).

    Returns
    -------
    pandas.DataFrame
        One row per eligible customer_id (sorted), the single column ``customer_id``.
    """
    opt = _label_options(config, 1, activity, eligible, lookback_days)
    day = _day(as_of)
    return engine.query(f"{_eligible_sql(engine, opt, day)} ORDER BY customer_id")


def churn_labels(
    engine: Engine,
    *,
    as_of: dt.date | str,
    horizon_days: int | None = None,
    activity: Activity | None = None,
    eligible: Eligible | None = None,
    lookback_days: int | None = None,
    config: Config | None = None,
    data_end: dt.date | str | None = None,
) -> pd.DataFrame:
    """Churn labels at a cut-off: who of the eligible customers shows no activity in the horizon.

    Parameters
    ----------
    engine
        Engine over ``orders`` (customer_id, ts) and, for ``activity="any"``, ``events`` and
        ``feedback``.
    as_of
        Cut-off day (UTC): eligibility reads rows before the end of this day, the label the
        ``horizon_days`` days after it.
    horizon_days
        Length of the label window in days. Default: ``config.churn.horizon_days`` (60).
    activity
        ``"orders"`` (churn = no purchase) or ``"any"`` (no event, order or feedback). Default:
        ``config.churn.activity`` (``"any"``).
    eligible
        ``"buyers"`` (an order before the cut-off) or ``"active"`` (an activity of the chosen
        kind within ``lookback_days``). Default: ``config.churn.eligible`` (``"active"``).
    lookback_days
        Eligibility window before the cut-off. Default: the config's ``churn.lookback_days``,
        else for ``"active"`` the config's ``lapse_days`` (:data:`DEFAULT_LOOKBACK_DAYS`
        without a config) and for ``"buyers"`` all history.
    config
        Supplies the defaults above (its ``as_of`` is not applied).
    data_end
        Last day the data covers (default: the last day holding an activity row). The horizon
        must end by it.

    Returns
    -------
    pandas.DataFrame
        One row per eligible customer_id (sorted): ``churned`` (bool) and
        ``next_activity_days``, the days from the cut-off to the first activity in the window
        (NaN for churners). Both are *outcomes*: never use them as features.
        ``attrs`` holds ``as_of``, ``horizon_days``, ``window`` (first..last day of the label
        window), ``activity``, ``eligible`` and ``lookback_days``.

    Raises
    ------
    ValueError
        The horizon ends after ``data_end``; a bad option; missing tables or columns.

    Examples
    --------
    >>> from journeylib.engine import engine_for
    >>> orders = pd.DataFrame({"customer_id": ["a", "a", "b"],
    ...     "ts": pd.to_datetime(["2025-01-05", "2025-02-10", "2025-01-20"], utc=True)})
    >>> lab = churn_labels(engine_for(orders=orders), as_of="2025-01-31", horizon_days=28,
    ...     activity="orders", eligible="buyers", data_end="2025-02-28")
    >>> lab[["customer_id", "churned"]].to_dict("records")
    [{'customer_id': 'a', 'churned': False}, {'customer_id': 'b', 'churned': True}]
    """
    opt = _label_options(config, horizon_days, activity, eligible, lookback_days)
    day = _day(as_of)
    horizon_end = day + dt.timedelta(days=opt.horizon_days)
    end = _day(data_end, "data_end") if data_end is not None else None
    if end is None:
        end = last_data_day(engine, activity=opt.activity)
    if end is None or horizon_end > end:
        last = "no activity rows" if end is None else f"the last day of data is {end}"
        raise ValueError(
            f"the churn window {_window(day, opt.horizon_days)} (horizon {opt.horizon_days} days "
            f"after as_of {day}) ends after the data: {last}. Choose an earlier as_of or a "
            "shorter horizon; days without data would otherwise count as churn"
        )
    cut, stop = end_of_day(day), end_of_day(horizon_end)
    tables = _activity_tables(engine, opt.activity)
    sql = f"""
    WITH el AS ({_eligible_sql(engine, opt, day)}),
    nx AS (
        SELECT customer_id, MIN(ts) AS next_ts FROM ({_activity_sql(tables, stop)}) a
        WHERE ts >= {cut} GROUP BY customer_id)
    SELECT el.customer_id, nx.next_ts IS NULL AS churned,
           {days_between(cut, "nx.next_ts")} AS next_activity_days
    FROM el LEFT JOIN nx ON nx.customer_id = el.customer_id
    ORDER BY el.customer_id"""
    out = engine.query(sql)
    out[LABEL] = out[LABEL].astype(bool)
    out["next_activity_days"] = out["next_activity_days"].astype("float64")
    out.attrs.update(_label_attrs(day, opt))
    return out


def _label_attrs(day: dt.date, opt: _LabelOptions) -> dict[str, Any]:
    return {
        "as_of": day.isoformat(),
        "horizon_days": opt.horizon_days,
        "window": _window(day, opt.horizon_days),
        "activity": opt.activity,
        "eligible": opt.eligible,
        "lookback_days": opt.lookback_days,
    }


#: The words of the label definition (:func:`_describe`) per report language.
_DEFINITION_WORDS: dict[str, dict[str, str]] = {
    "en": {
        "order": "an order",
        "no_order": "no order",
        "activity": "any activity (event, order or feedback)",
        "no_activity": "no activity",
        "buyers": "customers with an order before the cut-off",
        "buyers_lookback": " (in the last {days} days)",
        "active": "customers with {what} in the last {days} days before the cut-off",
        "definition": "{who}; churned = {none} in the {horizon} days after it",
    },
    "id": {
        "order": "pesanan",
        "no_order": "tidak ada pesanan",
        "activity": "aktivitas apa pun (event, pesanan, atau umpan balik)",
        "no_activity": "tidak ada aktivitas",
        "buyers": "pelanggan dengan pesanan sebelum tanggal batas",
        "buyers_lookback": " (dalam {days} hari terakhir)",
        "active": "pelanggan dengan {what} dalam {days} hari terakhir sebelum tanggal batas",
        "definition": "{who}; churn = {none} dalam {horizon} hari setelahnya",
    },
}


def report_language(config: object) -> str:
    """The report language of a config (``config.report.language``), ``en`` without one."""
    report = getattr(config, "report", None)
    return getattr(report, "language", "en") or "en"


def _describe(opt: _LabelOptions, language: str = "en") -> str:
    """The label definition in one sentence, in ``language`` (``en`` or ``id``)."""
    w = _DEFINITION_WORDS.get(language, _DEFINITION_WORDS["en"])
    if opt.activity == "orders":
        what, none = w["order"], w["no_order"]
    else:
        what, none = w["activity"], w["no_activity"]
    if opt.eligible == "buyers":
        who = w["buyers"]
        if opt.lookback_days is not None:
            who += w["buyers_lookback"].format(days=opt.lookback_days)
    else:
        who = w["active"].format(what=what, days=opt.lookback_days)
    return w["definition"].format(who=who, none=none, horizon=opt.horizon_days)


def check_classes(y: object, *, where: str) -> tuple[int, int]:
    """Counts of (churners, non-churners); a :class:`ChurnDataError` naming ``where`` when
    either is zero."""
    arr = np.asarray(y, dtype=bool)
    churners = int(arr.sum())
    stayers = int(arr.size - churners)
    if arr.size == 0:
        raise ChurnDataError(f"{where}: no customers")
    if churners == 0:
        raise ChurnDataError(
            f"{where}: no churners (0 of {arr.size} customers churned), so there is nothing to "
            "learn or evaluate. Choose a longer horizon, an earlier cut-off or a wider "
            "eligibility"
        )
    if stayers == 0:
        raise ChurnDataError(
            f"{where}: every one of the {arr.size} customers churned (no one stayed), so there "
            "is nothing to learn or evaluate. Choose a shorter horizon or check that the data "
            "cover the window"
        )
    return churners, stayers


#: Eligible customers above which the training and test frames keep a random sample (see
#: :func:`training_frame`).
TRAIN_CUSTOMERS_MAX = 2_000_000


def training_frame(
    engine: Engine,
    *,
    as_of: dt.date | str,
    horizon_days: int | None = None,
    config: Config | None = None,
    activity: Activity | None = None,
    eligible: Eligible | None = None,
    lookback_days: int | None = None,
    data_end: dt.date | str | None = None,
    require_both: bool = True,
    max_customers: int | None = TRAIN_CUSTOMERS_MAX,
) -> pd.DataFrame:
    """Features as of a cut-off joined with the churn label of its horizon.

    The features are :func:`journeylib.features.customer_features` at ``as_of`` (rows strictly
    before the end of that day; the config's journey settings); the label is
    :func:`churn_labels` (options as there). Only eligible customers are kept.

    Parameters
    ----------
    require_both
        Raise :class:`ChurnDataError` when the window has no churner (or no one stayed),
        naming the window and the counts.
    max_customers
        Above this many eligible customers only a random sample of about this many is kept
        (by pseudonym, :func:`journeylib.sql.pseudonym_sample`): the model learns from a
        sample anyway (``churn.sample_size``) and the held-out metrics need no more, while
        the features of every customer of a 10M-customer client at two cut-offs take 10 GB.
        ``None`` keeps everyone. ``attrs["sample_fraction"]`` is the share kept.

    Returns
    -------
    pandas.DataFrame
        One row per eligible customer_id (sorted): ``customer_id``, the feature columns, then
        ``churned`` (bool). ``attrs`` as in :func:`churn_labels`, plus ``definition`` (a
        sentence, in the config's report language) and ``features_as_of``.
    """
    from journeylib.features import customer_features

    labels = churn_labels(
        engine,
        as_of=as_of,
        horizon_days=horizon_days,
        activity=activity,
        eligible=eligible,
        lookback_days=lookback_days,
        config=config,
        data_end=data_end,
    )
    opt = _label_options(config, labels.attrs["horizon_days"], activity, eligible, lookback_days)
    if require_both:
        check_classes(
            labels[LABEL],
            where=f"churn window {labels.attrs['window']} ({_describe(opt)}; "
            f"{len(labels)} eligible)",
        )
    fraction = 1.0
    if max_customers is not None and len(labels) > max_customers:
        fraction = max_customers / len(labels)
    feats = customer_features(engine, as_of=labels.attrs["as_of"], config=config, fraction=fraction)
    out = _sorted(feats.merge(labels[["customer_id", LABEL]], on="customer_id", how="inner"))
    out.attrs = {
        **labels.attrs,
        "definition": _describe(opt, report_language(config)),
        "features_as_of": feats.attrs["as_of"],
        "sample_fraction": fraction,
    }
    return out


def _sorted(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` by customer_id (an inner merge keeps the sorted feature table's order: then no
    copy is made, which at 10M customers is 4 GB)."""
    if df["customer_id"].is_monotonic_increasing:
        return df.reset_index(drop=True)
    return df.sort_values("customer_id", ignore_index=True)


def scoring_frame(
    engine: Engine,
    *,
    as_of: dt.date | str,
    config: Config | None = None,
    activity: Activity | None = None,
    eligible: Eligible | None = None,
    lookback_days: int | None = None,
) -> pd.DataFrame:
    """Features of the customers eligible at ``as_of``, without a label (the future is unknown):
    who the fitted model scores on the last day of data.

    Returns
    -------
    pandas.DataFrame
        One row per eligible customer_id (sorted): ``customer_id`` and the feature columns.
    """
    from journeylib.features import customer_features

    ids = eligible_customers(
        engine,
        as_of=as_of,
        activity=activity,
        eligible=eligible,
        lookback_days=lookback_days,
        config=config,
    )
    feats = customer_features(engine, as_of=as_of, config=config)
    day = feats.attrs["as_of"]
    out = _sorted(feats.merge(ids, on="customer_id", how="inner"))
    del feats
    out.attrs = {"as_of": day}
    return out


# ---- splits ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class TimeSplit:
    """Cut-offs of a time split: fit on ``train_as_of``, evaluate on ``test_as_of``, score
    everyone on ``score_as_of`` (the last day of data)."""

    train_as_of: dt.date
    test_as_of: dt.date
    score_as_of: dt.date
    horizon_days: int

    @property
    def train_window(self) -> str:
        """First..last day of the training labels' window."""
        return _window(self.train_as_of, self.horizon_days)

    @property
    def test_window(self) -> str:
        """First..last day of the test labels' window."""
        return _window(self.test_as_of, self.horizon_days)

    def to_frame(self) -> pd.DataFrame:
        """One row per role (train, test, score): cut-off day and label window."""
        return pd.DataFrame(
            {
                "role": ["train", "test", "score"],
                "as_of": [self.train_as_of, self.test_as_of, self.score_as_of],
                "label_window": [self.train_window, self.test_window, ""],
            }
        )


def time_split(
    end: dt.date | str | Config,
    *,
    horizon_days: int | None = None,
    gap_days: int | None = None,
) -> TimeSplit:
    """Training, test and scoring cut-offs whose label windows fit in the data.

    ``test = end - horizon`` (the test labels' window ends on ``end``), ``train = test - gap``
    (``gap >= horizon``, default ``horizon``: the training labels end by the test cut-off),
    ``score = end``.

    Parameters
    ----------
    end
        The last day of data, or a config: its ``effective_as_of`` (``as_of``, else
        ``data.window.end``), ``churn.horizon_days`` and ``churn.gap_days`` are the defaults.
        Without either, pass :func:`last_data_day` of the engine.
    horizon_days, gap_days
        Label window and distance between the training and test cut-offs, in days (default:
        the config's, else 60 and the horizon).

    Examples
    --------
    >>> s = time_split("2025-06-30", horizon_days=60)
    >>> (str(s.train_as_of), str(s.test_as_of), str(s.score_as_of))
    ('2025-03-02', '2025-05-01', '2025-06-30')
    """
    from journeylib.config import Config

    if isinstance(end, Config):
        spec: ChurnSpec = end.churn
        horizon_days = horizon_days if horizon_days is not None else spec.horizon_days
        gap_days = gap_days if gap_days is not None else spec.gap_days
        if end.effective_as_of is None:
            raise ValueError(
                "the config sets neither as_of nor data.window.end: pass the last day of data "
                "instead (last_data_day(engine))"
            )
        last = end.effective_as_of
    else:
        last = _day(end, "end")
    if horizon_days is None:
        from journeylib.config import ChurnSpec

        horizon_days = ChurnSpec().horizon_days
    horizon = _positive_days(horizon_days, "horizon_days")
    gap = horizon if gap_days is None else _positive_days(gap_days, "gap_days")
    if gap < horizon:
        raise ValueError(
            f"gap_days ({gap}) must be at least horizon_days ({horizon}): otherwise the training "
            "labels read days after the test cut-off"
        )
    test = last - dt.timedelta(days=horizon)
    return TimeSplit(test - dt.timedelta(days=gap), test, last, horizon)


def customer_split(
    customer_ids: object, *, test_size: float = 0.3, random_state: int = 0
) -> np.ndarray:
    """Which customers are test customers: a seeded hash of each id, so a customer falls on the
    same side at every cut-off and in every call (the share is ``test_size`` on average).

    Parameters
    ----------
    customer_ids
        The ids (array-like of strings).
    test_size
        Expected share of test customers, in (0, 1).
    random_state
        Seed of the hash.

    Returns
    -------
    numpy.ndarray
        Boolean, True for test customers, aligned with ``customer_ids``.
    """
    if not 0 < float(test_size) < 1:
        raise ValueError(f"test_size must be between 0 and 1, got {test_size!r}")
    ids = pd.Series(np.asarray(customer_ids, dtype=object)).astype("string")
    key = f"churn{int(random_state):011d}"[-16:]
    h = pd.util.hash_pandas_object(ids, index=False, hash_key=key).to_numpy()
    return (h % np.uint64(1_000_000)) < np.uint64(round(float(test_size) * 1_000_000))
