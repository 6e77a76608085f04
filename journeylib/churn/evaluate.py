"""Honest evaluation of churn probabilities on held-out customers: tables first, charts after.

Every function takes the true labels (churned: bool or 0/1) and the predicted churn
probabilities of the *held-out* customers, and returns a table; each table has a plotly twin
(``plot_*``) that draws only what the table holds.

* :func:`evaluate`: ROC AUC, PR AUC (average precision), Brier score (and its skill against
  always predicting the base rate), base rate vs mean predicted probability (a calibrated model
  predicts as many churners as there are), and precision/recall/net value at the operating
  threshold.
* :func:`calibration_table`: predicted vs observed churn per probability bin, with Wilson 95%
  intervals.
* :func:`lift_table`: customers ranked by probability in equal groups (deciles): churn rate,
  lift over the base rate, cumulative capture of all churners.
* :func:`operating_threshold`, :func:`confusion_table`, :func:`threshold_table`: who gets a
  retention offer, and what it is worth, under stated costs.

**The cost assumption** (``ChurnCosts`` in the config): an offer costs ``offer_cost`` per
contacted customer, whether or not they would have left, and keeps ``save_rate`` of the
would-be churners it reaches, each worth ``churn_value``; it does not change what a customer who
would have stayed is worth, and a missed churner costs nothing beyond what doing nothing costs.
The value of a campaign relative to doing nothing is then ``caught churners x save_rate x
churn_value - contacted x offer_cost``, and contacting a customer pays off on average when
``p x save_rate x churn_value > offer_cost``: the threshold is ``offer_cost / (save_rate x
churn_value)``, valid for calibrated probabilities.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    precision_recall_curve,
    roc_auc_score,
    roc_curve,
)

from journeylib import i18n
from journeylib.churn.labels import ChurnDataError
from journeylib.intervals import wilson

if TYPE_CHECKING:  # pragma: no cover
    import plotly.graph_objects as go

    from journeylib.config import ChurnCosts

__all__ = [
    "calibration_table",
    "confusion_table",
    "curve_table",
    "evaluate",
    "lift_table",
    "operating_threshold",
    "plot_calibration",
    "plot_confusion",
    "plot_curves",
    "plot_lift",
    "plot_thresholds",
    "threshold_table",
]

_Z95 = 1.959963984540054


# ---- inputs ----------------------------------------------------------------------------------
def _inputs(
    y_true: object, p: object, *, where: str, both: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Labels as bool and probabilities as float, checked; with ``both``, a clear error when
    the customers hold a single class."""
    y = np.asarray(y_true)
    prob = np.asarray(p, dtype="float64")
    if y.ndim != 1 or prob.ndim != 1 or len(y) != len(prob):
        raise ValueError(
            f"{where}: y_true and p must be 1-D and of equal length, got {y.shape} and {prob.shape}"
        )
    if len(y) == 0:
        raise ChurnDataError(f"{where}: no customers to evaluate")
    if pd.isna(y).any():
        raise ValueError(f"{where}: {int(pd.isna(y).sum())} missing label(s) in y_true")
    if not np.isin(y, [0, 1, True, False]).all():
        raise ValueError(f"{where}: y_true must be churned yes/no (booleans or 0/1)")
    bad = ~np.isfinite(prob) | (prob < 0) | (prob > 1)
    if bad.any():
        raise ValueError(
            f"{where}: {int(bad.sum())} probability value(s) missing or outside [0, 1]; first "
            f"rows {(np.flatnonzero(bad)[:5] + 1).tolist()}"
        )
    y = y.astype(bool)
    if both:
        churners = int(y.sum())
        if churners in (0, len(y)):
            only = "non-churners" if churners == 0 else "churners"
            raise ChurnDataError(
                f"{where}: all {len(y)} customers are {only}, so ROC AUC and PR AUC are "
                "undefined (they compare churners with non-churners). Use a longer horizon or "
                "an earlier cut-off, a larger test share, or more customers"
            )
    return y, prob


def _costs(costs: object) -> ChurnCosts:
    """A ``ChurnCosts`` from itself, a config, a ``ChurnSpec`` or a mapping."""
    from journeylib.config import ChurnCosts, ChurnSpec, Config

    if isinstance(costs, ChurnCosts):
        return costs
    if isinstance(costs, Config):
        return costs.churn.costs
    if isinstance(costs, ChurnSpec):
        return costs.costs
    if isinstance(costs, Mapping):
        return ChurnCosts(**costs)
    raise TypeError(
        "costs must be a ChurnCosts, a Config, a ChurnSpec or a mapping with offer_cost, "
        f"churn_value and save_rate; got {type(costs).__name__}"
    )


def operating_threshold(costs: object) -> float:
    """The churn probability above which a retention offer pays off on average:
    ``offer_cost / (save_rate x churn_value)`` (see the module docstring).

    A value of 1 or more means the offer never pays off: nobody is contacted.

    Examples
    --------
    >>> operating_threshold({"offer_cost": 10, "churn_value": 100, "save_rate": 0.4})
    0.25
    """
    c = _costs(costs)
    return float(c.offer_cost / (c.save_rate * c.churn_value))


def _threshold(threshold: float | None, costs: object) -> float:
    if threshold is not None:
        t = float(threshold)
        if not np.isfinite(t) or t < 0:
            raise ValueError(f"threshold must be a probability >= 0, got {threshold!r}")
        return t
    return operating_threshold(costs) if costs is not None else 0.5


# ---- metrics ---------------------------------------------------------------------------------
_DESCRIPTIONS = {
    "customers": "held-out customers evaluated",
    "churners": "of them churned",
    "base_rate": "share that churned",
    "mean_probability": "mean predicted churn probability (calibrated: close to the base rate)",
    "roc_auc": "ROC AUC: chance that a random churner is ranked above a random non-churner "
    "(0.5 = guessing, 1 = perfect)",
    "pr_auc": "PR AUC (average precision): precision averaged over the recall levels; "
    "guessing gives the base rate",
    "brier": "Brier score: mean squared error of the probabilities (lower is better)",
    "brier_reference": "Brier score of predicting the base rate for everyone",
    "brier_skill": "1 - brier / brier_reference: improvement over the base rate (0 = none)",
    "threshold": "operating threshold: customers at or above it are contacted",
    "targeted": "customers at or above the threshold",
    "precision": "share of the targeted who churned",
    "recall": "share of all churners who are targeted (capture)",
    "net_value": "value of contacting the targeted vs doing nothing, under the stated costs",
}


def evaluate(
    y_true: object,
    p: object,
    *,
    threshold: float | None = None,
    costs: object = None,
    where: str = "held-out customers",
) -> pd.DataFrame:
    """The headline metrics of churn probabilities on held-out customers.

    Parameters
    ----------
    y_true
        Churned (bool or 0/1), one per customer.
    p
        Predicted churn probabilities in [0, 1], aligned with ``y_true``.
    threshold
        Operating threshold; default :func:`operating_threshold` of ``costs``, else 0.5.
    costs
        ``ChurnCosts`` (or a config, ``ChurnSpec``, mapping) for the threshold and
        ``net_value``; without it ``net_value`` is NaN.
    where
        What the customers are, for error messages (e.g. the test cut-off and window).

    Returns
    -------
    pandas.DataFrame
        One row per metric: ``metric``, ``value``, ``description``, in the order customers,
        churners, base_rate, mean_probability, roc_auc, pr_auc, brier, brier_reference,
        brier_skill, threshold, targeted, precision, recall, net_value.

    Raises
    ------
    ChurnDataError
        The customers are all churners or all non-churners (AUCs are undefined), or none.

    Examples
    --------
    >>> m = evaluate([True, False, True, False], [0.9, 0.1, 0.6, 0.4])
    >>> m.set_index("metric").loc[["roc_auc", "brier"], "value"].round(3).tolist()
    [1.0, 0.085]
    """
    y, prob = _inputs(y_true, p, where=where)
    t = _threshold(threshold, costs)
    n, churners = len(y), int(y.sum())
    base = churners / n
    brier = float(brier_score_loss(y, prob))
    ref = base * (1 - base)
    hit = prob >= t
    targeted, caught = int(hit.sum()), int((hit & y).sum())
    net = np.nan
    if costs is not None:
        c = _costs(costs)
        net = caught * c.save_rate * c.churn_value - targeted * c.offer_cost
    values = {
        "customers": n,
        "churners": churners,
        "base_rate": base,
        "mean_probability": float(prob.mean()),
        "roc_auc": float(roc_auc_score(y, prob)),
        "pr_auc": float(average_precision_score(y, prob)),
        "brier": brier,
        "brier_reference": ref,
        "brier_skill": 1 - brier / ref,
        "threshold": t,
        "targeted": targeted,
        "precision": caught / targeted if targeted else np.nan,
        "recall": caught / churners,
        "net_value": float(net),
    }
    return pd.DataFrame(
        {
            "metric": list(values),
            "value": np.array(list(values.values()), dtype="float64"),
            "description": [_DESCRIPTIONS[k] for k in values],
        }
    )


def calibration_table(
    y_true: object, p: object, *, bins: int = 10, strategy: str = "quantile"
) -> pd.DataFrame:
    """Predicted vs observed churn per probability bin (the calibration curve's table).

    Parameters
    ----------
    bins
        Number of bins.
    strategy
        ``"quantile"``: bins holding equal numbers of customers (edges at the quantiles of
        ``p``; tied edges merge bins); ``"uniform"``: equal-width bins over [0, 1]. A value on
        an inner edge falls in the lower bin (as in :func:`sklearn.calibration.calibration_curve`,
        whose points these are).

    Returns
    -------
    pandas.DataFrame
        One row per non-empty bin, lowest probabilities first: ``bin`` (1-based), ``p_low``,
        ``p_high`` (edges), ``customers``, ``churners``, ``mean_probability``, ``churn_rate``
        (observed), ``ci_low``/``ci_high`` (Wilson 95% interval of the churn rate).
    """
    y, prob = _inputs(y_true, p, where="calibration table", both=False)
    if not isinstance(bins, (int, np.integer)) or bins < 1:
        raise ValueError(f"bins must be a whole number >= 1, got {bins!r}")
    if strategy == "quantile":
        edges = np.percentile(prob, np.linspace(0, 100, bins + 1))
    elif strategy == "uniform":
        edges = np.linspace(0.0, 1.0, bins + 1)
    else:
        raise ValueError(f"strategy must be 'quantile' or 'uniform', got {strategy!r}")
    ids = np.searchsorted(edges[1:-1], prob)
    total = np.bincount(ids, minlength=bins)
    churn = np.bincount(ids, weights=y, minlength=bins)
    psum = np.bincount(ids, weights=prob, minlength=bins)
    keep = total > 0
    lo, hi = wilson(churn[keep], total[keep], _Z95)
    return pd.DataFrame(
        {
            "bin": np.flatnonzero(keep) + 1,
            "p_low": edges[:-1][keep],
            "p_high": edges[1:][keep],
            "customers": total[keep].astype("int64"),
            "churners": churn[keep].astype("int64"),
            "mean_probability": psum[keep] / total[keep],
            "churn_rate": churn[keep] / total[keep],
            "ci_low": lo,
            "ci_high": hi,
        }
    )


def lift_table(y_true: object, p: object, *, groups: int = 10) -> pd.DataFrame:
    """Customers ranked by churn probability, in equal groups (deciles by default).

    Customers are sorted by ``p`` from the highest (ties keep their input order) and customer
    ``i`` (0-based) of ``n`` goes to group ``floor(i x groups / n) + 1``, so group sizes differ
    by at most one and group 1 is the riskiest.

    Returns
    -------
    pandas.DataFrame
        One row per group: ``group``, ``customers``, ``churners``, ``churn_rate``, ``lift``
        (churn_rate / overall churn rate), ``p_min``, ``p_max``, ``mean_probability``,
        ``cum_customers``, ``cum_share`` (share of all customers in groups 1..g),
        ``cum_churners``, ``capture_rate`` (share of all churners in groups 1..g) and
        ``cum_lift`` (capture_rate / cum_share).

    Raises
    ------
    ValueError
        Fewer customers than groups.
    ChurnDataError
        No churner (lift is undefined).
    """
    y, prob = _inputs(y_true, p, where="lift table", both=False)
    if not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ValueError(f"groups must be a whole number >= 1, got {groups!r}")
    n = len(y)
    if n < groups:
        raise ValueError(f"lift table: {n} customers cannot fill {groups} groups")
    if not y.any():
        raise ChurnDataError("lift table: no churner among the customers; lift is undefined")
    order = np.argsort(-prob, kind="stable")
    g = np.arange(n) * groups // n  # 0-based group of each rank
    ys, ps = y[order], prob[order]
    size = np.bincount(g, minlength=groups)
    churn = np.bincount(g, weights=ys, minlength=groups).astype("int64")
    base = ys.mean()
    rate = churn / size
    cum_n, cum_c = np.cumsum(size), np.cumsum(churn)
    out = pd.DataFrame(
        {
            "group": np.arange(1, groups + 1),
            "customers": size.astype("int64"),
            "churners": churn,
            "churn_rate": rate,
            "lift": rate / base,
            "p_min": pd.Series(ps).groupby(g).min().to_numpy(),
            "p_max": pd.Series(ps).groupby(g).max().to_numpy(),
            "mean_probability": np.bincount(g, weights=ps, minlength=groups) / size,
            "cum_customers": cum_n.astype("int64"),
            "cum_share": cum_n / n,
            "cum_churners": cum_c.astype("int64"),
            "capture_rate": cum_c / churn.sum(),
        }
    )
    out["cum_lift"] = out["capture_rate"] / out["cum_share"]
    return out


def confusion_table(
    y_true: object, p: object, *, threshold: float | None = None, costs: object = None
) -> pd.DataFrame:
    """The confusion matrix at the operating threshold, with the value of each cell.

    Parameters
    ----------
    threshold
        Customers with ``p >= threshold`` are contacted; default :func:`operating_threshold`
        of ``costs``, else 0.5.
    costs
        ``ChurnCosts`` (or config/spec/mapping): adds the value per customer of each outcome
        relative to doing nothing (caught churner: ``save_rate x churn_value - offer_cost``;
        contacted non-churner: ``-offer_cost``; not contacted: 0). Without costs these are NaN.

    Returns
    -------
    pandas.DataFrame
        Four rows (caught churner, false alarm, missed churner, left alone): ``outcome``,
        ``churned`` (bool), ``contacted`` (bool), ``customers``, ``share`` (of all),
        ``value_per_customer``, ``value``; ``attrs["threshold"]`` holds the threshold.
    """
    y, prob = _inputs(y_true, p, where="confusion table", both=False)
    t = _threshold(threshold, costs)
    hit = prob >= t
    cells = [
        ("caught churner", True, True),
        ("false alarm", False, True),
        ("missed churner", True, False),
        ("left alone", False, False),
    ]
    counts = [int(((y == a) & (hit == c)).sum()) for _, a, c in cells]
    if costs is not None:
        k = _costs(costs)
        per = [k.save_rate * k.churn_value - k.offer_cost, -k.offer_cost, 0.0, 0.0]
    else:
        per = [np.nan] * 4
    out = pd.DataFrame(
        {
            "outcome": [c[0] for c in cells],
            "churned": [c[1] for c in cells],
            "contacted": [c[2] for c in cells],
            "customers": np.array(counts, dtype="int64"),
            "share": np.array(counts) / len(y),
            "value_per_customer": np.array(per, dtype="float64"),
        }
    )
    out["value"] = out["customers"] * out["value_per_customer"]
    out.attrs["threshold"] = t
    return out


def threshold_table(
    y_true: object,
    p: object,
    *,
    costs: object,
    thresholds: Sequence[float] | None = None,
) -> pd.DataFrame:
    """Who is contacted, and what it is worth, at a range of thresholds (the cost curve).

    Parameters
    ----------
    costs
        ``ChurnCosts`` (or config/spec/mapping).
    thresholds
        Thresholds to tabulate; default 0.05, 0.10, ..., 0.95 plus the operating threshold.

    Returns
    -------
    pandas.DataFrame
        One row per threshold (ascending): ``threshold``, ``targeted``, ``targeted_share``,
        ``churners_caught``, ``precision``, ``recall``, ``offer_cost`` (total),
        ``saved_value`` (caught x save_rate x churn_value), ``net_value``, ``operating``
        (True on the operating threshold's row).
    """
    y, prob = _inputs(y_true, p, where="threshold table", both=False)
    c = _costs(costs)
    op = operating_threshold(c)
    if thresholds is None:
        ts = np.round(np.arange(1, 20) * 0.05, 2).tolist() + [op]
    else:
        ts = [float(t) for t in thresholds]
    ts = sorted(set(ts))
    rows = []
    for t in ts:
        hit = prob >= t
        n_hit, caught = int(hit.sum()), int((hit & y).sum())
        saved = caught * c.save_rate * c.churn_value
        rows.append(
            {
                "threshold": t,
                "targeted": n_hit,
                "targeted_share": n_hit / len(y),
                "churners_caught": caught,
                "precision": caught / n_hit if n_hit else np.nan,
                "recall": caught / y.sum() if y.any() else np.nan,
                "offer_cost": n_hit * c.offer_cost,
                "saved_value": saved,
                "net_value": saved - n_hit * c.offer_cost,
                "operating": bool(np.isclose(t, op)),
            }
        )
    return pd.DataFrame(rows)


def curve_table(y_true: object, p: object, *, kind: str = "roc") -> pd.DataFrame:
    """Points of the ROC curve (``kind="roc"``: ``fpr``, ``tpr``, ``threshold``) or of the
    precision-recall curve (``kind="pr"``: ``recall``, ``precision``, ``threshold``), as
    scikit-learn computes them."""
    y, prob = _inputs(y_true, p, where=f"{kind} curve")
    if kind == "roc":
        fpr, tpr, thr = roc_curve(y, prob)
        return pd.DataFrame({"fpr": fpr, "tpr": tpr, "threshold": thr})
    if kind == "pr":
        precision, recall, thr = precision_recall_curve(y, prob)
        return pd.DataFrame(
            {"recall": recall, "precision": precision, "threshold": np.append(thr, np.nan)}
        )
    raise ValueError(f"kind must be 'roc' or 'pr', got {kind!r}")


# ---- plotly twins ----------------------------------------------------------------------------
# Fixed titles, axis titles and trace names are translated on display (the phrase catalogue of
# journeylib.i18n); the text built here from numbers (hover text, cell labels, a title with the
# threshold) is written in the ``language`` the functions are given.
_CHART_TEXT: dict[str, dict[str, str]] = {
    "en": {
        "calibration_hover": "predicted %{x:.1%}<br>observed %{y:.1%}<br>%{customdata[0]} "
        "customers",
        "lift_hover": "group %{x}<br>churn rate %{y:.1%}<br>lift %{customdata[0]:.2f}",
        "offer": "Who gets an offer",
        "offer_threshold": "Who gets an offer (threshold {t})",
        "caught churner": "caught churner",
        "false alarm": "false alarm",
        "missed churner": "missed churner",
        "left alone": "left alone",
    },
    "id": {
        "calibration_hover": "prediksi %{x:.1%}<br>teramati %{y:.1%}<br>%{customdata[0]} pelanggan",
        "lift_hover": "kelompok %{x}<br>tingkat churn %{y:.1%}<br>lift %{customdata[0]:.2f}",
        "offer": "Siapa yang mendapat penawaran",
        "offer_threshold": "Siapa yang mendapat penawaran (ambang {t})",
        "caught churner": "churn terjangkau",
        "false alarm": "alarm palsu",
        "missed churner": "churn terlewat",
        "left alone": "dibiarkan",
    },
}


def _ct(language: str) -> dict[str, str]:
    return i18n.words(_CHART_TEXT, language)


def plot_calibration(table: pd.DataFrame, *, language: str = "en") -> go.Figure:
    """Observed churn rate (with its 95% interval) against the mean predicted probability per
    bin of :func:`calibration_table`; the diagonal is perfect calibration (hover text in
    ``language``, ``en`` or ``id``)."""
    import plotly.graph_objects as go

    fig = go.Figure()
    top = float(max(table["ci_high"].max(), table["mean_probability"].max(), 0.05))
    fig.add_trace(
        go.Scatter(x=[0, top], y=[0, top], mode="lines", line={"dash": "dash"}, name="perfect")
    )
    fig.add_trace(
        go.Scatter(
            x=table["mean_probability"],
            y=table["churn_rate"],
            error_y={
                "type": "data",
                "symmetric": False,
                "array": table["ci_high"] - table["churn_rate"],
                "arrayminus": table["churn_rate"] - table["ci_low"],
            },
            mode="lines+markers",
            name="model",
            customdata=table[["customers"]],
            hovertemplate=_ct(language)["calibration_hover"],
        )
    )
    fig.update_layout(
        title="Calibration: predicted vs observed churn",
        xaxis_title="mean predicted churn probability",
        yaxis_title="observed churn rate",
        xaxis_tickformat=".0%",
        yaxis_tickformat=".0%",
        height=420,
    )
    return fig


def plot_lift(table: pd.DataFrame, *, language: str = "en") -> go.Figure:
    """Churn rate per group of :func:`lift_table` (bars) and the cumulative capture rate
    (line), riskiest group first (hover text in ``language``, ``en`` or ``id``)."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(
        go.Bar(
            x=table["group"],
            y=table["churn_rate"],
            name="churn rate",
            customdata=table[["lift"]],
            hovertemplate=_ct(language)["lift_hover"],
        ),
        secondary_y=False,
    )
    fig.add_trace(
        go.Scatter(
            x=table["group"],
            y=table["capture_rate"],
            mode="lines+markers",
            name="churners captured",
        ),
        secondary_y=True,
    )
    fig.update_xaxes(title_text="risk group (1 = highest predicted churn)", dtick=1)
    fig.update_yaxes(title_text="churn rate", tickformat=".0%", secondary_y=False)
    fig.update_yaxes(
        title_text="cumulative share of churners", tickformat=".0%", range=[0, 1.02],
        secondary_y=True,
    )  # fmt: skip
    fig.update_layout(title="Lift and capture by risk group", height=420)
    return fig


def plot_curves(roc: pd.DataFrame, pr: pd.DataFrame) -> go.Figure:
    """ROC and precision-recall curves side by side, from :func:`curve_table` tables."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=1, cols=2, subplot_titles=("ROC curve", "Precision-recall curve"))
    fig.add_trace(go.Scatter(x=roc["fpr"], y=roc["tpr"], mode="lines", name="ROC"), 1, 1)
    fig.add_trace(
        go.Scatter(x=[0, 1], y=[0, 1], mode="lines", line={"dash": "dash"}, name="guessing"), 1, 1
    )
    fig.add_trace(go.Scatter(x=pr["recall"], y=pr["precision"], mode="lines", name="PR"), 1, 2)
    fig.update_xaxes(title_text="false positive rate", row=1, col=1)
    fig.update_yaxes(title_text="true positive rate", row=1, col=1)
    fig.update_xaxes(title_text="recall", row=1, col=2)
    fig.update_yaxes(title_text="precision", row=1, col=2, range=[0, 1.02])
    fig.update_layout(height=400)
    return fig


def plot_confusion(table: pd.DataFrame, *, language: str = "en") -> go.Figure:
    """The 2 x 2 matrix of :func:`confusion_table` as a heatmap of customer counts (cell labels
    and title in ``language``, ``en`` or ``id``: Indonesian numbers use a thousands dot)."""
    import plotly.graph_objects as go

    words = _ct(language)

    rows = ["churned", "stayed"]
    cols = ["contacted", "not contacted"]
    z = np.zeros((2, 2), dtype=int)
    text = [["", ""], ["", ""]]
    for r in table.itertuples(index=False):
        i, j = (0 if r.churned else 1), (0 if r.contacted else 1)
        z[i, j] = r.customers
        count = f"{r.customers:,}".replace(",", "." if language == "id" else ",")
        text[i][j] = f"{words.get(r.outcome, r.outcome)}<br>{count} ({r.share:.0%})"
    fig = go.Figure(
        go.Heatmap(z=z, x=cols, y=rows, text=text, texttemplate="%{text}", colorscale="Blues")
    )
    t = table.attrs.get("threshold")
    title = words["offer"] if t is None else words["offer_threshold"].format(t=f"{t:.0%}")
    fig.update_layout(title=title, height=360, yaxis_autorange="reversed")
    return fig


def plot_thresholds(table: pd.DataFrame) -> go.Figure:
    """Net value of the campaign against the threshold (:func:`threshold_table`), the
    operating threshold marked."""
    import plotly.graph_objects as go

    fig = go.Figure(
        go.Scatter(
            x=table["threshold"], y=table["net_value"], mode="lines+markers", name="net value"
        )
    )
    op = table[table["operating"]]
    fig.add_trace(
        go.Scatter(
            x=op["threshold"],
            y=op["net_value"],
            mode="markers",
            marker={"symbol": "star", "size": 16, "color": "crimson"},
            name="operating threshold",
        )
    )
    fig.update_layout(
        title="Value of a retention campaign by threshold",
        xaxis_title="churn probability threshold",
        yaxis_title="net value vs doing nothing",
        xaxis_tickformat=".0%",
        height=400,
    )
    return fig
