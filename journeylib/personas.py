"""Behavioural personas: clusters of customers learned from the customer feature table.

:class:`PersonaModel` is a scikit-learn estimator. ``fit`` takes one row per customer (the
table of :func:`journeylib.features.customer_features`, or any table of numeric customer
attributes; a ``customer_id`` column is carried along, never clustered) and learns:

1. **Which customers it learns from.** At most ``sample_size`` customers, drawn with the seed
   (all of them when there are fewer); with ``activity_column``, only customers whose activity
   is at least ``min_activity`` (the others are assigned, not learned from: the channel share of
   a customer with one session is 0 or 1 by construction, which is noise, not a persona).
2. **Which columns.** Columns that are missing for every learning customer ("all missing") or
   take a single value ("constant") are dropped and listed in ``dropped_features_``.
3. **Preprocessing** (``pipeline_``, a stock :class:`~sklearn.pipeline.Pipeline`):
   ``scaling="log"`` applies ``log1p`` to non-negative columns whose skewness exceeds 1 (counts
   and amounts; ``log_features_``), ``"quantile"`` maps every column to normal scores, and every
   choice then standardises each column with the mean and standard deviation of its *observed*
   values. **Missing values are imputed after scaling, with 0**, the observed mean: a feature
   that is undefined for a customer (average order value without orders) then adds nothing to
   the distances between customers, instead of placing them at a made-up value, and a column
   counts in proportion to the customers it is defined for. (Imputing first and standardising
   afterwards inflates rare columns: with 13% buyers, an order column standardised over everyone
   lets buyer-versus-non-buyer dominate the clustering.) ``missing_indicators=True`` adds a 0/1
   column per feature with missing values; off by default for the same reason. Optional PCA
   (``pca_components``).
4. **The number of personas.** For every ``k`` in ``k_range``: KMeans (or a Gaussian mixture),
   its mean silhouette on a subsample (KMeans) or BIC (mixture), and its **stability**: the model
   is refitted on ``stability_resamples`` bootstrap resamples and each refit's labels are
   compared with the full-sample labels on the customers the two share: every cluster's Jaccard
   index with its best match in the refit, averaged over the resamples (Hennig's clusterwise
   stability, as in R's ``fpc::clusterboot``). A k is as stable as its least reproducible
   cluster; the adjusted Rand index is reported too (``stability_ari``), but a global index
   barely notices one spurious split of a big group, so it does not decide. ``k="auto"`` with ``selection="stability"`` (the default) takes the
   **largest stable k** (mean ARI >= ``min_stability``): the most detailed segmentation that
   refits on resampled customers reproduce. Silhouette is reported but not used by default: on
   behavioural data it nearly always peaks at k=2, at the coarsest real split (mobile versus
   desktop shoppers, say), and hides finer groups that are just as reproducible.
   ``selection="silhouette"`` (``"bic"`` for the mixture) takes the best score among the stable
   k instead. When no ``k`` is stable, the most stable one is kept, ``unstable_`` is set and a
   :class:`PersonaStabilityWarning` is raised, so an unstable solution is never presented
   silently. The curve is ``selection_`` (:func:`plot_selection`).
5. **Persona ids** are ordered by size in the learning sample (largest = 1), so the same data
   and seed give the same ids; ``predict``/``assign`` give every customer the nearest persona.

Tables for the report: :func:`profile` (persona x feature: means and standardised differences),
:func:`persona_labels` and :func:`persona_descriptions` (generated names and their numbers),
:func:`persona_cards` (one row per persona), :func:`persona_map` (2-D PCA coordinates); each
has a plotly twin.

Edge cases: one customer, or an explicit ``k`` above the number of learning customers, raise a
``ValueError``; with ``k="auto"`` the candidates are clipped to at most (distinct customers - 1)
with a warning (silhouette needs fewer clusters than points); constant and all-missing columns
are dropped; a customer missing every feature sits at the centre of the space (all features
imputed), is assigned to the persona nearest the average customer and is flagged by
``imputed_share`` = 1 in :meth:`PersonaModel.assign`.
"""

from __future__ import annotations

import html
import logging
import warnings
from collections.abc import Mapping, Sequence
from numbers import Integral, Real
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.impute import SimpleImputer
from sklearn.metrics import adjusted_rand_score, silhouette_score
from sklearn.mixture import GaussianMixture
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import QuantileTransformer, StandardScaler
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_array, check_is_fitted
from threadpoolctl import threadpool_limits

from journeylib import i18n
from journeylib.features import FEATURE_GROUPS, feature_short_name, group_name

if TYPE_CHECKING:  # pragma: no cover
    import plotly.graph_objects as go

    from journeylib.config import PersonaSpec

__all__ = [
    "PersonaModel",
    "PersonaStabilityWarning",
    "intensive_features",
    "persona_cards",
    "persona_descriptions",
    "persona_labels",
    "persona_inputs",
    "persona_map",
    "persona_model",
    "plot_persona_map",
    "plot_profile_heatmap",
    "plot_selection",
    "profile",
    # personas along the journey
    "MIN_LEARNERS",
    "NO_STAGE",
    "card_attributes",
    "card_row_label",
    "learning_spec",
    "persona_feature_dictionary",
    "persona_outcomes",
    "persona_stage_matrix",
    "persona_stages",
    "plot_persona_outcomes",
    "plot_persona_stages",
]

log = logging.getLogger(__name__)

ID = "customer_id"
ALGORITHMS = ("kmeans", "gmm")
SELECTIONS = ("stability", "silhouette", "bic")
SCALINGS = ("log", "quantile", "standard")
SELECTION_COLUMNS = (
    "k",
    "silhouette",
    "bic",
    "inertia",
    "stability",
    "stability_sd",
    "stability_ari",
    "min_stability",
    "stable",
    "chosen",
)
_CHUNK = 200_000  # rows per block when assigning: bounds memory at millions of customers


def _best_jaccard(ref: np.ndarray, other: np.ndarray, k: int) -> np.ndarray:
    """For each cluster of ``ref`` (0..k-1), the Jaccard index of its best match in ``other``;
    NaN for a cluster with no member among the rows compared."""
    k_other = int(other.max()) + 1 if other.size else 1
    table = np.zeros((k, k_other))
    np.add.at(table, (ref, other), 1)
    union = table.sum(axis=1)[:, None] + table.sum(axis=0)[None, :] - table
    with np.errstate(invalid="ignore", divide="ignore"):
        best = np.max(np.where(union > 0, table / union, 0.0), axis=1)
    best[table.sum(axis=1) == 0] = np.nan
    return best


def _row_means(m: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows stay NaN
        return np.nanmean(m, axis=1)


def _min_mean(m: np.ndarray) -> float:
    """Stability of a k: the mean Jaccard of its least reproducible cluster."""
    means = _row_means(m)
    return float(np.nanmin(means)) if not np.isnan(means).all() else np.nan


class PersonaStabilityWarning(UserWarning):
    """The chosen number of personas is not reproducible under bootstrap resampling."""


# ---- preprocessing ---------------------------------------------------------------------------
class Log1pSkewed(TransformerMixin, BaseEstimator):
    """``log1p`` of the non-negative columns whose skewness exceeds ``threshold``.

    Missing values are ignored when deciding and kept as missing. ``columns_`` holds the
    positions of the transformed columns.
    """

    def __init__(self, threshold: float = 1.0) -> None:
        self.threshold = threshold

    def fit(self, X: np.ndarray, y: object = None) -> Log1pSkewed:  # noqa: N803
        X = np.asarray(X, dtype=float)
        cols = []
        for j in range(X.shape[1]):
            v = X[:, j][~np.isnan(X[:, j])]
            if v.size > 2 and v.min() >= 0 and v.std() > 0:
                skew = float(((v - v.mean()) ** 3).mean() / v.std() ** 3)
                if skew > self.threshold:
                    cols.append(j)
        self.columns_ = np.array(cols, dtype=int)
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:  # noqa: N803
        check_is_fitted(self, "columns_")
        X = np.array(X, dtype=float)
        if self.columns_.size:
            # clip at 0: a negative value of a column that was non-negative when fitted
            X[:, self.columns_] = np.log1p(np.clip(X[:, self.columns_], 0, None))
        return X


def _pipeline(
    scaling: str,
    pca_components: float,
    missing_indicators: bool,
    shape: tuple[int, int],
    random_state: int,
) -> Pipeline:
    n = shape[0]
    steps: list[tuple[str, Any]] = []
    if scaling == "log":
        steps.append(("log1p", Log1pSkewed()))
    elif scaling == "quantile":
        steps.append(
            (
                "quantile",
                QuantileTransformer(
                    output_distribution="normal",
                    n_quantiles=max(2, min(1000, n)),
                    random_state=random_state,
                ),
            )
        )
    # StandardScaler ignores NaN when fitting: each column is scaled by its observed values,
    # then a missing value becomes 0 = the observed mean (see the module notes)
    steps.append(("scale", StandardScaler()))
    steps.append(
        (
            "impute",
            SimpleImputer(strategy="constant", fill_value=0.0, add_indicator=missing_indicators),
        )  # fmt: skip
    )
    if pca_components:
        nc = pca_components if pca_components < 1 else int(min(pca_components, *shape))
        steps.append(("pca", PCA(n_components=nc, random_state=random_state)))
    return Pipeline(steps)


# ---- input -----------------------------------------------------------------------------------
def _split(X: pd.DataFrame | np.ndarray) -> tuple[np.ndarray, pd.DataFrame]:
    """(customer ids, numeric feature frame) of the input; ids are the index without a
    ``customer_id`` column. Arrays (and sparse matrices, which are refused) go through
    scikit-learn's ``check_array``."""
    if not isinstance(X, pd.DataFrame):
        arr = check_array(X, dtype="numeric", ensure_all_finite="allow-nan", ensure_min_samples=1)
        X = pd.DataFrame(arr, columns=[f"x{j}" for j in range(arr.shape[1])])
    ids = X[ID].to_numpy() if ID in X.columns else X.index.to_numpy()
    feats = X.drop(columns=[ID]) if ID in X.columns else X
    if any(not isinstance(c, str) for c in feats.columns):
        feats = feats.set_axis([str(c) for c in feats.columns], axis=1)
    bad = [
        str(c)
        for c in feats.columns
        if not (pd.api.types.is_numeric_dtype(feats[c]) or pd.api.types.is_bool_dtype(feats[c]))
        or pd.api.types.is_complex_dtype(feats[c])
    ]
    if bad:
        raise ValueError(
            f"personas cluster real-valued numeric features only; {len(bad)} column(s) are not: "
            f"{', '.join(bad[:10])} (drop them or encode them first)"
        )
    return ids, feats


def _matrix(feats: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
    missing = [c for c in columns if c not in feats.columns]
    if missing:
        raise ValueError(
            f"{len(missing)} feature(s) the model was fitted on are missing: {', '.join(missing[:10])}"
        )
    M = feats[list(columns)].to_numpy(dtype=float, na_value=np.nan)
    inf = np.isinf(M)
    if inf.any():
        cols = np.flatnonzero(inf.any(axis=0))
        rows = np.flatnonzero(inf.any(axis=1))[:5].tolist()
        raise ValueError(
            f"infinite values in {int(inf.sum())} cell(s) of column(s) "
            f"{', '.join(str(columns[j]) for j in cols[:10])} (first rows {rows}); "
            "features must be finite or missing (NaN)"
        )
    return M


def _check_labels(X: pd.DataFrame, labels: object) -> np.ndarray:
    """Persona per row of X: an array aligned with X, or an assignments table joined on
    customer_id."""
    if isinstance(labels, pd.DataFrame):
        if not {ID, "persona"} <= set(labels.columns):
            raise ValueError("labels as a table needs the columns customer_id and persona")
        if ID not in X.columns:
            raise ValueError("labels as a table needs a customer_id column in X to join on")
        lab = X[[ID]].merge(labels[[ID, "persona"]].drop_duplicates(ID), on=ID, how="left")
        return lab["persona"].to_numpy()
    lab = np.asarray(labels)
    if lab.shape != (len(X),):
        raise ValueError(f"labels must have one value per row of X ({len(X)}), got {lab.shape}")
    return lab


# ---- the estimator ---------------------------------------------------------------------------
class PersonaModel(ClusterMixin, TransformerMixin, BaseEstimator):
    """Customer personas: scaling, optional PCA, KMeans or a Gaussian mixture, k by silhouette
    or BIC with bootstrap stability. See the module notes for every rule.

    Parameters
    ----------
    k : "auto" or int
        Number of personas; ``"auto"`` chooses it over ``k_range``.
    k_range : (int, int)
        Smallest and largest k tried by ``"auto"`` (inclusive).
    selection : {"stability", "silhouette", "bic"}
        How ``"auto"`` chooses k: the largest k whose bootstrap stability reaches
        ``min_stability`` (the most detailed segmentation the data reproduces), the best
        silhouette among the stable k, or the lowest BIC among the stable k (``algorithm="gmm"``).
    algorithm : {"kmeans", "gmm"}
        KMeans (k by silhouette) or a Gaussian mixture with ``covariance_type`` (k by BIC).
    scaling : {"log", "quantile", "standard"}
        ``log1p`` of skewed non-negative columns then standardise; normal scores; standardise.
    pca_components : float
        0: no PCA; below 1: keep this share of the variance; 1 or more: this many components.
    stability_resamples : int
        Bootstrap refits per candidate k (0 skips the stability check, with a warning).
    min_stability : float
        Clusterwise stability below which a k counts as unstable: every persona's mean Jaccard
        index with its best match in bootstrap refits must reach it (0.75 is Hennig's "stable";
        below 0.5 a cluster "dissolves").
    sample_size : int
        Customers learned from (drawn with ``random_state``); everyone is assigned.
    random_state : int
        Seed of the sample, the clusterers, the silhouette subsample and the resamples.
    activity_column : str, optional
        A column of X measuring how much behaviour a customer has (e.g. ``engagement_sessions``);
        with ``min_activity``, customers below it are assigned but not learned from. It only
        picks the learners: it is not clustered on (how much a customer did is exposure, not a
        trait of the persona).
    min_activity : float
        Threshold on ``activity_column``.
    missing_indicators : bool
        Add a 0/1 column per feature with missing values.
    covariance_type : str
        Covariance of the Gaussian mixture (``"diag"``: variances per persona and feature).
    n_init : int
        Restarts of each KMeans / mixture fit.
    silhouette_sample : int
        Customers the silhouette is computed on (it is quadratic in their number).
    stability_sample : int
        Customers the bootstrap resamples are drawn from.
    n_threads : int or None
        Threads of the clusterers' OpenMP/BLAS pools (``threadpoolctl``); None leaves them as
        they are. 1 by default: KMeans' OpenMP threads spin-wait, and on a small machine shared
        with other work (a notebook server, a scheduler, DuckDB) a fit that takes 7 s on one
        thread took 104 s on two (``benchmarks/README.md``).

    Attributes
    ----------
    pipeline_ : Pipeline
        Preprocessing of the ``features_`` columns (in that order) into the model space.
    n_personas_ : int
    labels_ : ndarray
        Persona (1..n_personas_) of every row of the X given to ``fit``.
    cluster_centers_ : ndarray
        Persona centres in the model space, row i = persona i + 1.
    estimator_ : KMeans or GaussianMixture
        The fitted clusterer (its own cluster numbering).
    persona_of_cluster_ : ndarray
        Persona id of each of ``estimator_``'s clusters.
    feature_names_in_ : ndarray
        Numeric input columns (``customer_id`` excluded).
    features_ : list of str
        The columns clustered on (input minus ``dropped_features_``).
    dropped_features_ : dict
        Dropped column -> reason ("all missing", "constant").
    log_features_ : list of str
        Columns log-transformed (``scaling="log"``).
    selection_ : DataFrame
        One row per candidate k: k, silhouette, bic, inertia, stability (mean Jaccard of the
        least reproducible cluster), stability_sd (spread of its per-resample minimum),
        stability_ari (mean adjusted Rand index between refits and the full fit),
        min_stability, stable, chosen.
    stability_ : DataFrame
        One row per candidate k x resample: k, resample, ari, min_jaccard (the worst cluster's
        best-match Jaccard), n_common (customers compared).
    persona_stability_ : Series
        Mean best-match Jaccard of each persona of the chosen k over the resamples.
    unstable_ : bool
        The chosen k's stability is below ``min_stability``.
    sample_index_ : ndarray
        Row positions (in the X given to fit) of the customers learned from.
    n_all_missing_ : int
        Learning customers with every feature missing.
    profile_ : DataFrame
        :func:`profile` of the learning sample.
    persona_names_ : dict
        Persona -> generated label (:func:`persona_labels` of ``profile_``).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"a": np.r_[rng.normal(0, 0.1, 30), rng.normal(5, 0.1, 20)],
    ...                   "b": np.r_[rng.normal(0, 0.1, 30), rng.normal(5, 0.1, 20)]})
    >>> model = PersonaModel(k_range=(2, 4), stability_resamples=5).fit(X)
    >>> model.n_personas_, np.bincount(model.labels_)[1:].tolist()
    (2, [30, 20])
    """

    def __init__(
        self,
        k: int | str = "auto",
        k_range: tuple[int, int] = (2, 8),
        selection: str = "stability",
        algorithm: str = "kmeans",
        scaling: str = "log",
        pca_components: float = 0.0,
        stability_resamples: int = 20,
        min_stability: float = 0.75,
        sample_size: int = 50_000,
        random_state: int = 0,
        activity_column: str | None = None,
        min_activity: float = 0.0,
        missing_indicators: bool = False,
        covariance_type: str = "diag",
        n_init: int = 3,
        silhouette_sample: int = 5_000,
        stability_sample: int = 5_000,
        n_threads: int | None = 1,
    ) -> None:
        self.k = k
        self.k_range = k_range
        self.selection = selection
        self.algorithm = algorithm
        self.scaling = scaling
        self.pca_components = pca_components
        self.stability_resamples = stability_resamples
        self.min_stability = min_stability
        self.sample_size = sample_size
        self.random_state = random_state
        self.activity_column = activity_column
        self.min_activity = min_activity
        self.missing_indicators = missing_indicators
        self.covariance_type = covariance_type
        self.n_init = n_init
        self.silhouette_sample = silhouette_sample
        self.stability_sample = stability_sample
        self.n_threads = n_threads

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # missing features are imputed (module notes)
        return tags

    # -- checks -----------------------------------------------------------------------------
    def _check_params(self) -> None:
        if self.algorithm not in ALGORITHMS:
            raise ValueError(f"algorithm must be one of {ALGORITHMS}, got {self.algorithm!r}")
        if self.selection not in SELECTIONS:
            raise ValueError(f"selection must be one of {SELECTIONS}, got {self.selection!r}")
        if self.selection == "bic" and self.algorithm != "gmm":
            raise ValueError('selection="bic" needs algorithm="gmm" (KMeans has no likelihood)')
        if self.scaling not in SCALINGS:
            raise ValueError(f"scaling must be one of {SCALINGS}, got {self.scaling!r}")
        if not (isinstance(self.k, Integral) and self.k >= 2) and self.k != "auto":
            raise ValueError(f"k must be 'auto' or an integer >= 2, got {self.k!r}")
        lo_hi = tuple(self.k_range) if isinstance(self.k_range, Sequence) else ()
        if not (
            len(lo_hi) == 2
            and all(isinstance(v, Integral) for v in lo_hi)
            and 2 <= lo_hi[0] <= lo_hi[1]
        ):
            raise ValueError(f"k_range must be two integers 2 <= low <= high, got {self.k_range!r}")
        if not (isinstance(self.pca_components, Real) and self.pca_components >= 0):
            raise ValueError(f"pca_components must be >= 0, got {self.pca_components!r}")
        if not (isinstance(self.stability_resamples, Integral) and self.stability_resamples >= 0):
            raise ValueError("stability_resamples must be an integer >= 0")
        if not (isinstance(self.min_stability, Real) and 0 < self.min_stability <= 1):
            raise ValueError(f"min_stability must be in (0, 1], got {self.min_stability!r}")
        if self.n_threads is not None and not (
            isinstance(self.n_threads, Integral) and self.n_threads >= 1
        ):
            raise ValueError(
                f"n_threads must be None or a positive integer, got {self.n_threads!r}"
            )
        for name in ("sample_size", "n_init", "silhouette_sample", "stability_sample"):
            value = getattr(self, name)
            if not (isinstance(value, Integral) and value >= 1):
                raise ValueError(f"{name} must be a positive integer, got {value!r}")

    # -- fit --------------------------------------------------------------------------------
    def fit(self, X: pd.DataFrame, y: object = None) -> PersonaModel:  # noqa: N803
        """Learn the personas from a sample of the rows of X and label every row.

        Parameters
        ----------
        X : DataFrame
            One row per customer: numeric features, optionally ``customer_id``.
        y : ignored

        Returns
        -------
        PersonaModel
            self.
        """
        self._check_params()
        with threadpool_limits(limits=self.n_threads):
            return self._fit(X)

    def _fit(self, X: pd.DataFrame) -> PersonaModel:  # noqa: N803
        _, feats = _split(X)
        n = len(feats)
        if n < 2:
            raise ValueError(f"PersonaModel needs at least 2 customers, got {n} sample")
        if feats.shape[1] == 0:
            raise ValueError(
                f"0 feature(s) (shape=({n}, 0)) while a minimum of 1 is required: X has no "
                "feature column besides customer_id"
            )
        self.feature_names_in_ = np.asarray([str(c) for c in feats.columns], dtype=object)
        self.n_features_in_ = feats.shape[1]
        rng = np.random.default_rng(self.random_state)
        eligible = np.arange(n)
        if self.activity_column is not None:
            if self.activity_column not in feats.columns:
                raise ValueError(f"activity_column {self.activity_column!r} is not a column of X")
            act = feats[self.activity_column].to_numpy(dtype=float, na_value=np.nan)
            eligible = np.flatnonzero(act >= self.min_activity)
            if eligible.size < 2:
                raise ValueError(
                    f"only {eligible.size} customer(s) have {self.activity_column} >= "
                    f"{self.min_activity}; at least 2 are needed to learn personas"
                )
        if eligible.size > self.sample_size:
            eligible = np.sort(rng.choice(eligible, self.sample_size, replace=False))
        self.sample_index_ = eligible
        sample = feats.iloc[eligible]

        self.dropped_features_ = {}
        # the activity column picks who is learned from; it is not a trait of the persona
        candidates_cols = [c for c in sample.columns if c != self.activity_column]
        for c in candidates_cols:
            v = sample[c]
            if v.isna().all():
                self.dropped_features_[c] = "all missing"
            elif v.nunique(dropna=True) <= 1:
                self.dropped_features_[c] = "constant"
        self.features_ = [c for c in candidates_cols if c not in self.dropped_features_]
        if self.dropped_features_:
            log.info("features dropped: %s", self.dropped_features_)
        if not self.features_:
            raise ValueError(
                f"every feature is constant or missing in the {len(sample)} customers learned "
                f"from ({len(self.dropped_features_)} dropped); nothing to cluster on"
            )
        M = _matrix(sample, self.features_)
        all_missing = np.isnan(M).all(axis=1)
        self.n_all_missing_ = int(all_missing.sum())
        if self.n_all_missing_:
            warnings.warn(
                f"{self.n_all_missing_} customer(s) have every feature missing: they are placed "
                "at the centre (all features imputed) and flagged by imputed_share = 1",
                UserWarning,
                stacklevel=2,
            )
        self.pipeline_ = _pipeline(
            self.scaling, self.pca_components, self.missing_indicators, M.shape, self.random_state
        )
        Z = self.pipeline_.fit_transform(M)
        self.log_features_ = (
            [self.features_[j] for j in self.pipeline_.named_steps["log1p"].columns_]
            if self.scaling == "log"
            else []
        )

        candidates = self._candidates(Z)
        rows, stab, fitted = [], [], {}
        for k in candidates:
            est = self._clusterer(k, self.random_state).fit(Z)
            lab = est.predict(Z)
            fitted[k] = est
            rows.append(
                {
                    "k": k,
                    "silhouette": self._silhouette(Z, lab),
                    "bic": float(est.bic(Z)) if self.algorithm == "gmm" else np.nan,
                    "inertia": float(est.inertia_) if self.algorithm == "kmeans" else np.nan,
                }
            )
            stab += self._stability(Z, est, k)
        jac = {}  # k -> clusters x resamples Jaccard (the estimator's own cluster numbering)
        for k in candidates:
            mats = [r["jaccard"] for r in stab if r["k"] == k and r["jaccard"] is not None]
            jac[k] = np.column_stack(mats) if mats else np.full((k, 1), np.nan)
        for r in stab:
            m = r.pop("jaccard")
            r["min_jaccard"] = (
                float(np.nanmin(m)) if m is not None and not np.isnan(m).all() else np.nan
            )
        self.stability_ = pd.DataFrame(
            stab, columns=["k", "resample", "ari", "min_jaccard", "n_common"]
        )
        sel = pd.DataFrame(rows)
        # a k is as stable as its least reproducible cluster (mean Jaccard over the resamples)
        sel["stability"] = [_min_mean(jac[k]) for k in sel["k"]]
        agg = self.stability_.groupby("k")
        sel["stability_sd"] = sel["k"].map(agg["min_jaccard"].std()).astype(float)
        sel["stability_ari"] = sel["k"].map(agg["ari"].mean()).astype(float)
        sel["min_stability"] = float(self.min_stability)
        sel["stable"] = sel["stability"] >= self.min_stability
        chosen = self._choose(sel)
        sel["chosen"] = sel["k"] == chosen
        self.selection_ = sel[list(SELECTION_COLUMNS)]
        stability = float(sel.loc[sel["chosen"], "stability"].iat[0])
        self.unstable_ = bool(self.stability_resamples > 0 and not stability >= self.min_stability)
        if self.unstable_:
            warnings.warn(
                f"the {chosen} personas are unstable: the least reproducible one has a mean Jaccard "
                f"index of {stability:.2f} with its bootstrap refits, below "
                f"min_stability={self.min_stability} "
                f"(no k in {candidates[0]}..{candidates[-1]} reaches it); treat them as tentative",
                PersonaStabilityWarning,
                stacklevel=2,
            )
        elif self.stability_resamples == 0:
            warnings.warn(
                "stability_resamples=0: the stability of the personas was not assessed",
                PersonaStabilityWarning,
                stacklevel=2,
            )

        est = fitted[chosen]
        self.estimator_ = est
        cluster_jaccard = _row_means(jac[chosen])
        raw = est.predict(Z)
        centers = est.cluster_centers_ if self.algorithm == "kmeans" else est.means_
        sizes = np.bincount(raw, minlength=chosen)
        # largest persona first; equal sizes by the centres' coordinates, so the ids never
        # depend on the clusterer's internal numbering
        order = sorted(range(chosen), key=lambda j: (-sizes[j], tuple(np.round(centers[j], 9))))
        self.persona_of_cluster_ = np.empty(chosen, dtype=int)
        self.persona_of_cluster_[order] = np.arange(1, chosen + 1)
        self.cluster_centers_ = centers[order]
        self.n_personas_ = chosen
        self.persona_stability_ = pd.Series(
            cluster_jaccard[order],
            index=pd.RangeIndex(1, chosen + 1, name="persona"),
            name="stability",
        )
        sample_labels = self.persona_of_cluster_[raw]
        self.profile_ = profile(sample[self.features_], sample_labels)
        self.persona_names_ = persona_labels(self.profile_)
        self.labels_ = (
            self.predict(X) if n != len(eligible) else self._full_labels(n, eligible, sample_labels)
        )
        log.info(
            "personas: k=%d of %s (stability %.2f), learned from %d of %d customers",
            chosen,
            candidates,
            stability,
            len(eligible),
            n,
        )
        return self

    @staticmethod
    def _full_labels(n: int, index: np.ndarray, labels: np.ndarray) -> np.ndarray:
        out = np.empty(n, dtype=int)
        out[index] = labels
        return out

    def _candidates(self, Z: np.ndarray) -> list[int]:
        n_distinct = len(np.unique(Z, axis=0)) if len(Z) <= 200_000 else len(Z)
        if self.k != "auto":
            if self.k > len(Z):
                raise ValueError(
                    f"k={self.k} personas need at least {self.k} customers to learn from; "
                    f"got {len(Z)}"
                )
            return [int(self.k)]
        lo, hi = (int(v) for v in self.k_range)
        top = n_distinct - 1  # silhouette needs 2 <= k <= distinct points - 1
        if top < 2:
            raise ValueError(
                f"choosing k needs at least 3 distinct customers, got {n_distinct}; pass an "
                "explicit k"
            )
        if hi > top:
            warnings.warn(
                f"k_range ({lo}, {hi}) clipped to ({min(lo, top)}, {top}): only {n_distinct} "
                "distinct customers to learn from",
                UserWarning,
                stacklevel=3,
            )
            lo, hi = min(lo, top), top
        return list(range(lo, hi + 1))

    def _clusterer(self, k: int, seed: int) -> KMeans | GaussianMixture:
        if self.algorithm == "kmeans":
            return KMeans(n_clusters=k, n_init=self.n_init, random_state=seed)
        return GaussianMixture(
            n_components=k,
            covariance_type=self.covariance_type,
            n_init=self.n_init,
            reg_covar=1e-4,
            random_state=seed,
        )

    def _silhouette(self, Z: np.ndarray, labels: np.ndarray) -> float:
        if len(np.unique(labels)) < 2 or len(np.unique(labels)) >= len(Z):
            return np.nan
        size = self.silhouette_sample if len(Z) > self.silhouette_sample else None
        return float(silhouette_score(Z, labels, sample_size=size, random_state=self.random_state))

    def _stability(self, Z: np.ndarray, est: Any, k: int) -> list[dict[str, Any]]:
        """Refit on bootstrap resamples and compare with the full-sample labels on the customers
        each resample holds: the adjusted Rand index, and for every cluster the Jaccard index
        of its best match among the refit's clusters (Hennig's clusterwise stability)."""
        if self.stability_resamples == 0:
            return [{"k": k, "resample": 0, "ari": np.nan, "n_common": 0, "jaccard": None}]
        rng = np.random.default_rng([self.random_state, k])
        base_idx = (
            np.sort(rng.choice(len(Z), self.stability_sample, replace=False))
            if len(Z) > self.stability_sample
            else np.arange(len(Z))
        )
        S = Z[base_idx]
        ref = est.predict(S)
        out = []
        for b in range(self.stability_resamples):
            boot = rng.integers(0, len(S), len(S))
            common = np.unique(boot)
            with warnings.catch_warnings():
                # a resample may hold fewer distinct points than k: sklearn warns, the ARI shows it
                warnings.simplefilter("ignore")
                refit = self._clusterer(k, self.random_state + 1 + b).fit(S[boot])
            r, q = ref[common], refit.predict(S[common])
            ari = adjusted_rand_score(r, q)
            out.append(
                {
                    "k": k,
                    "resample": b + 1,
                    "ari": float(ari),
                    "n_common": len(common),
                    "jaccard": _best_jaccard(r, q, k),
                }
            )
        return out

    def _choose(self, sel: pd.DataFrame) -> int:
        if len(sel) == 1:
            return int(sel["k"].iat[0])
        if self.selection == "stability" and self.stability_resamples > 0:
            if sel["stable"].any():
                # the finest segmentation that bootstrap refits reproduce
                return int(sel.loc[sel["stable"], "k"].max())
            best = sel["stability"].max()  # none is stable: the least unstable, flagged
            return int(sel.loc[sel["stability"] == best, "k"].min())
        use_bic = self.selection == "bic" or (
            self.selection == "stability" and self.algorithm == "gmm"
        )
        score = -sel["bic"] if use_bic else sel["silhouette"]
        pool = sel[sel["stable"]] if sel["stable"].any() else sel
        score = score.loc[pool.index].fillna(-np.inf)
        best = score.max()
        return int(pool.loc[score == best, "k"].min())  # ties: the fewest personas

    # -- use --------------------------------------------------------------------------------
    def _features(self, X: pd.DataFrame | np.ndarray) -> tuple[np.ndarray, pd.DataFrame]:
        """Ids and features of new rows; arrays must have the fitted number of columns."""
        check_is_fitted(self, "estimator_")
        if not isinstance(X, pd.DataFrame):
            X = check_array(X, dtype="numeric", ensure_all_finite="allow-nan")
            if X.shape[1] != self.n_features_in_:
                raise ValueError(
                    f"X has {X.shape[1]} features, but PersonaModel is expecting "
                    f"{self.n_features_in_} features as input"
                )
        return _split(X)

    def _space(self, feats: pd.DataFrame) -> np.ndarray:
        return self.pipeline_.transform(_matrix(feats, self.features_))

    def _raw_predict(self, Z: np.ndarray) -> np.ndarray:
        return self.persona_of_cluster_[self.estimator_.predict(Z)]

    def predict(self, X: pd.DataFrame) -> np.ndarray:  # noqa: N803
        """Persona (1..n_personas_) of every row of X (the nearest centre for KMeans, the most
        probable component for the mixture)."""
        _, feats = self._features(X)
        out = np.empty(len(feats), dtype=int)
        with threadpool_limits(limits=self.n_threads):
            for start in range(0, len(feats), _CHUNK):
                block = feats.iloc[start : start + _CHUNK]
                out[start : start + len(block)] = self._raw_predict(self._space(block))
        return out

    def fit_predict(self, X: pd.DataFrame, y: object = None) -> np.ndarray:  # noqa: N803
        """``fit(X).labels_``."""
        return self.fit(X).labels_

    def transform(self, X: pd.DataFrame) -> np.ndarray:  # noqa: N803
        """Euclidean distance of every row of X to each persona centre in the model space
        (column i = persona i + 1)."""
        _, feats = self._features(X)
        Z = self._space(feats)
        return np.sqrt(((Z[:, None, :] - self.cluster_centers_[None, :, :]) ** 2).sum(axis=2))

    def _is_mixture(self) -> bool:
        return self.algorithm == "gmm"

    @available_if(_is_mixture)
    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:  # noqa: N803
        """Posterior probability of each persona (column i = persona i + 1); mixture only."""
        _, feats = self._features(X)
        proba = self.estimator_.predict_proba(self._space(feats))
        return proba[:, np.argsort(self.persona_of_cluster_)]

    def assign(self, X: pd.DataFrame, *, labels: Mapping[int, str] | None = None) -> pd.DataFrame:  # noqa: N803
        """Every customer's persona, for the later notebooks.

        Parameters
        ----------
        X : DataFrame
            One row per customer with the fitted features (and ``customer_id``; else the index
            is used as the id).
        labels : mapping, optional
            Persona -> label; default ``persona_names_``.

        Returns
        -------
        DataFrame
            One row per row of X: customer_id, persona (1..n_personas_), persona_label, distance
            (to the persona centre in the model space), probability (mixture posterior of the
            persona; NaN for KMeans), imputed_share (share of the clustered features that were
            missing and imputed; 1 = nothing known about the customer).
        """
        ids, feats = self._features(X)
        names = dict(self.persona_names_ if labels is None else labels)
        parts = []
        for start in range(0, len(feats), _CHUNK):
            block = feats.iloc[start : start + _CHUNK]
            M = _matrix(block, self.features_)
            Z = self.pipeline_.transform(M)
            raw = self.estimator_.predict(Z)
            persona = self.persona_of_cluster_[raw]
            d = np.sqrt(((Z - self.cluster_centers_[persona - 1]) ** 2).sum(axis=1))
            if self.algorithm == "gmm":
                prob = self.estimator_.predict_proba(Z)[np.arange(len(Z)), raw]
            else:
                prob = np.full(len(Z), np.nan)
            imputed = np.isnan(M).mean(axis=1) if M.shape[1] else np.zeros(len(M))
            parts.append((persona, d, prob, imputed))
        persona, dist, prob, imputed = (
            np.concatenate([p[i] for p in parts]) if parts else np.empty(0) for i in range(4)
        )
        return pd.DataFrame(
            {
                ID: ids,
                "persona": persona.astype(int),
                "persona_label": [names.get(int(p), f"Persona {int(p)}") for p in persona],
                "distance": dist.astype(float),
                "probability": prob.astype(float),
                "imputed_share": imputed.astype(float),
            }
        )

    # -- reporting --------------------------------------------------------------------------
    @property
    def summary(self) -> pd.DataFrame:
        """One row per persona: persona, persona_label, customers (in the learning sample),
        share."""
        check_is_fitted(self, "estimator_")
        sizes = self.profile_.drop_duplicates("persona")[["persona", "n"]]
        out = sizes.rename(columns={"n": "customers"}).reset_index(drop=True)
        out.insert(1, "persona_label", out["persona"].map(self.persona_names_))
        out["share"] = out["customers"] / out["customers"].sum()
        return out

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, str]:
        return {"text/plain": repr(self), "text/html": self._repr_html_()}

    def _repr_html_(self) -> str:
        """The chosen k, its stability and the persona sizes (the parameters before fit)."""
        if not hasattr(self, "estimator_"):
            return f"<pre>{html.escape(repr(self))}</pre>"
        row = self.selection_[self.selection_["chosen"]].iloc[0]
        state = "UNSTABLE" if self.unstable_ else "stable"
        head = (
            f"<p><b>Personas</b>: k = {self.n_personas_} ({self.algorithm}), stability "
            f"{row['stability']:.2f} ({state}, threshold {self.min_stability}), learned from "
            f"{len(self.sample_index_)} customers on {len(self.features_)} features</p>"
        )
        return head + self.summary.to_html(index=False, float_format=lambda x: f"{x:.3f}")


# ---- feature choice --------------------------------------------------------------------------
_INTENSIVE_UNITS = ("share", "score", "stars", "ratio", "sentiment")


def intensive_features(dictionary: pd.DataFrame) -> list[str]:
    """The features that describe *how* a customer behaves rather than *how much* or *how long*.

    Personas should group customers who behave alike whether they joined last week or last year;
    counts, totals and durations (sessions, orders, revenue, tenure, recency) mostly measure
    exposure and lifecycle and go on the persona cards instead. A feature counts as intensive
    when its unit is a rate (contains " per "), a share, a score, stars, a ratio or a sentiment.

    Parameters
    ----------
    dictionary : DataFrame
        ``name`` and ``unit`` columns (:func:`journeylib.features.feature_dictionary`).

    Returns
    -------
    list of str
        Names in dictionary order.

    Examples
    --------
    >>> d = pd.DataFrame({"name": ["a", "b", "c"], "unit": ["orders", "share 0-1", "units per order"]})
    >>> intensive_features(d)
    ['b', 'c']
    """
    unit = dictionary["unit"].astype(str).str.lower()
    keep = unit.str.contains(" per ", regex=False) | unit.str.startswith(_INTENSIVE_UNITS)
    return dictionary.loc[keep, "name"].astype(str).tolist()


def persona_inputs(
    features: pd.DataFrame,
    spec: PersonaSpec | None = None,
    *,
    dictionary: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The columns the personas are learned from, as configured by ``spec``.

    Parameters
    ----------
    features
        One row per customer with ``customer_id``: the table of
        :func:`journeylib.features.customer_features` (``spec.features == "behaviour"``) or a
        table of customer attributes (``"attributes"``).
    spec
        :class:`journeylib.config.PersonaSpec` (defaults when ``None``).
    dictionary
        Feature dictionary of ``features`` (default :func:`journeylib.features.feature_dictionary`
        of its columns); only for the behaviour features.

    Returns
    -------
    DataFrame
        ``customer_id``, the clustering columns (``feature_set``: the intensive features or all,
        minus ``exclude_features``; for attributes, ``attribute_columns`` or every numeric
        column), then the activity column when it is used and not already one of them.
    """
    from journeylib.config import PersonaSpec

    spec = spec or PersonaSpec()
    if ID not in features.columns:
        raise ValueError("the feature table needs a customer_id column")
    if spec.features == "attributes":
        cols = list(spec.attribute_columns) or [
            c for c in features.columns if c != ID and pd.api.types.is_numeric_dtype(features[c])
        ]
        missing = [c for c in cols if c not in features.columns]
        if missing:
            raise ValueError(f"personas.attribute_columns not in the customer table: {missing}")
    elif spec.feature_set == "intensive":
        if dictionary is None:
            from journeylib.features import feature_dictionary

            dictionary = feature_dictionary(features.columns)
        cols = intensive_features(dictionary)
    else:
        cols = [c for c in features.columns if c != ID]
    unknown = [c for c in spec.exclude_features if c not in features.columns]
    if unknown:
        raise ValueError(f"personas.exclude_features not in the feature table: {unknown}")
    cols = [c for c in cols if c not in set(spec.exclude_features)]
    if not cols:
        raise ValueError("no feature left to learn personas from (check personas.* in the config)")
    activity = _activity_column(features, spec)
    extra = [activity] if activity and activity not in cols else []
    return features[[ID, *cols, *extra]]


def _activity_column(features: pd.DataFrame, spec: PersonaSpec) -> str | None:
    """The activity column in use: the configured one when the table has it; for behaviour
    features it must be there."""
    col = spec.activity_column or None
    if col is None or spec.min_activity <= 0:
        return None
    if col not in features.columns:
        if spec.features == "behaviour":
            raise ValueError(f"personas.activity_column {col!r} is not a feature column")
        return None
    return col


def persona_model(
    spec: PersonaSpec | None = None, *, seed: int = 0, features: pd.DataFrame | None = None
) -> PersonaModel:
    """An unfitted :class:`PersonaModel` set up from the config's ``personas`` section.

    ``features`` (the table the model will be fitted on) decides whether the activity column is
    used: for attribute tables without it, everyone is learned from.
    """
    from journeylib.config import PersonaSpec

    spec = spec or PersonaSpec()
    activity = (
        _activity_column(features, spec) if features is not None else (spec.activity_column or None)
    )
    return PersonaModel(
        k=spec.k if spec.k else "auto",
        k_range=(spec.k_min, spec.k_max),
        selection=spec.selection,
        algorithm=spec.algorithm,
        scaling=spec.scaling,
        pca_components=spec.pca_components,
        stability_resamples=spec.stability_resamples,
        min_stability=spec.min_stability,
        sample_size=spec.sample_size,
        random_state=seed,
        activity_column=activity,
        min_activity=spec.min_activity if activity else 0.0,
    )


# ---- profiles --------------------------------------------------------------------------------
def profile(
    X: pd.DataFrame,  # noqa: N803
    labels: np.ndarray | pd.DataFrame,
    *,
    features: Sequence[str] | None = None,
) -> pd.DataFrame:
    """What distinguishes each persona: its mean of every feature against everyone else's.

    Parameters
    ----------
    X : DataFrame
        One row per customer (numeric features; ``customer_id`` ignored).
    labels : array-like or DataFrame
        Persona per row of X, or an assignments table (customer_id, persona) joined on
        ``customer_id``; rows without a persona are left out.
    features : list of str, optional
        Columns to profile (default: every numeric column).

    Returns
    -------
    DataFrame
        One row per persona x feature: persona, feature, n (customers in the persona),
        coverage (share of them with the feature defined), mean, overall_mean, std_diff and
        rank. ``std_diff`` is the standardised mean difference between the persona and the other
        customers: (mean in - mean out) / pooled standard deviation (when both groups are
        constant, the overall standard deviation; 0 when that is 0 too). Missing values are left
        out of each mean. ``rank`` orders a persona's features by ``|std_diff|`` (1 = most
        distinctive; ties by feature name).
    """
    lab = _check_labels(X, labels)
    _, feats = _split(X)
    if features is not None:
        feats = feats[list(features)]
    keep = pd.notna(lab)
    feats, lab = feats[keep], lab[keep]
    cols = [str(c) for c in feats.columns]
    M = feats.to_numpy(dtype=float, na_value=np.nan)
    ok = ~np.isnan(M)
    Mz = np.where(ok, M, 0.0)
    total_n, total_s, total_s2 = ok.sum(0), Mz.sum(0), (Mz**2).sum(0)
    overall = np.divide(total_s, total_n, out=np.full(len(cols), np.nan), where=total_n > 0)
    overall_var = _var(total_n, total_s, total_s2)
    rows = []
    for p in sorted(pd.unique(lab)):
        inside = lab == p
        n_in, s_in, s2_in = ok[inside].sum(0), Mz[inside].sum(0), (Mz[inside] ** 2).sum(0)
        n_out, s_out, s2_out = total_n - n_in, total_s - s_in, total_s2 - s2_in
        mean_in = np.divide(s_in, n_in, out=np.full(len(cols), np.nan), where=n_in > 0)
        mean_out = np.divide(s_out, n_out, out=np.full(len(cols), np.nan), where=n_out > 0)
        df = n_in + n_out - 2
        pooled = np.divide(
            (n_in - 1).clip(0) * _var(n_in, s_in, s2_in)
            + (n_out - 1).clip(0) * _var(n_out, s_out, s2_out),
            df,
            out=np.full(len(cols), np.nan),
            where=df > 0,
        )
        sd = np.sqrt(np.where(pooled > 1e-24, pooled, overall_var))
        diff = mean_in - mean_out
        std_diff = np.divide(diff, sd, out=np.zeros(len(cols)), where=sd > 1e-12)
        std_diff = np.where(np.isnan(diff), np.nan, std_diff)
        part = pd.DataFrame(
            {
                "persona": p,
                "feature": cols,
                "n": int(inside.sum()),
                "coverage": n_in / max(int(inside.sum()), 1),
                "mean": mean_in,
                "overall_mean": overall,
                "std_diff": std_diff,
            }
        )
        part = part.assign(_abs=part["std_diff"].abs().fillna(-1)).sort_values(
            ["_abs", "feature"], ascending=[False, True]
        )
        part["rank"] = np.arange(1, len(part) + 1)
        rows.append(part.drop(columns="_abs"))
    out = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()
    return out


def _var(n: np.ndarray, s: np.ndarray, s2: np.ndarray) -> np.ndarray:
    """Sample variance from count, sum and sum of squares (NaN below 2 values)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        v = (s2 - s**2 / np.where(n > 0, n, 1)) / (n - 1)
    return np.where(n > 1, np.clip(v, 0, None), np.nan)


_ACRONYMS = {"nps": "NPS", "csat": "CSAT", "aov": "AOV", "rfm": "RFM"}
_DROP_SUFFIX = ("mean", "days", "avg")


def _readable(feature: str, dictionary: pd.DataFrame | None, language: str = "en") -> str:
    """A short name: the group prefix dropped, shares as '<what> share'.

    In another language, the feature's short name in that language
    (:func:`journeylib.features.feature_short_name`); a column the feature dictionary does not
    document (a client's own attribute) keeps the English name.
    """
    if language != "en":
        short = feature_short_name(feature, language=language)
        if short:
            return short
    tokens = feature.split("_")
    group = None
    if dictionary is not None and "group" in dictionary.columns:
        hit = dictionary.loc[dictionary["name"].astype(str) == feature, "group"]
        group = str(hit.iat[0]) if len(hit) else None
    if group is None and tokens[0] in FEATURE_GROUPS:
        group = tokens[0]
    if group and tokens[0] == group and len(tokens) > 1:
        tokens = tokens[1:]
    if "share" in tokens[:-1]:
        # channel_share_email -> "email share"; an ambiguous member keeps its group
        what = tokens[tokens.index("share") + 1 :]
        tokens = [*what, *([group] if group and what in (["other"], ["blank"]) else []), "share"]
    while len(tokens) > 1 and tokens[-1] in _DROP_SUFFIX:
        tokens = tokens[:-1]
    if _unit(feature, dictionary).startswith("stars"):
        tokens = [*tokens, "rating"]
    if len(tokens) > 1 and tokens[0] == "avg":
        tokens = tokens[1:]
    return " ".join(_ACRONYMS.get(t, t) for t in tokens)


def _unit(feature: str, dictionary: pd.DataFrame | None) -> str:
    if dictionary is not None and "unit" in dictionary.columns:
        hit = dictionary.loc[dictionary["name"].astype(str) == feature, "unit"]
        if len(hit):
            return str(hit.iat[0])
    return "share" if "share" in feature.split("_") else ""


#: The words of generated persona labels and descriptions per language; ``{name}`` is the
#: feature's short name (Indonesian puts the adjective after the noun).
_LABEL_WORDS: dict[str, dict[str, str]] = {
    "en": {
        "high": "high {name}",
        "low": "low {name}",
        "typical": "Typical customers",
        "describe": "{value} {name} (all: {overall})",
        "average": "close to average",
        "n/a": "n/a",
        "days": "{value} days",
        "day": "1 day",
    },
    "id": {
        "high": "{name} tinggi",
        "low": "{name} rendah",
        "typical": "Pelanggan tipikal",
        "describe": "{name} {value} (semua: {overall})",
        "average": "mendekati rata-rata",
        "n/a": "t/a",
        "days": "{value} hari",
        "day": "1 hari",
    },
}


def _words(language: str) -> dict[str, str]:
    return i18n.words(_LABEL_WORDS, language)


def persona_labels(
    profile: pd.DataFrame,
    dictionary: pd.DataFrame | None = None,
    *,
    n_terms: int = 3,
    min_effect: float = 0.2,
    language: str = "en",
) -> dict[int, str]:
    """A descriptive label per persona from its most distinguishing features.

    Parameters
    ----------
    profile : DataFrame
        :func:`profile` output.
    dictionary : DataFrame, optional
        Feature dictionary (name, group, unit): the group prefix is dropped from names.
    n_terms : int
        Features per label ("High items per order, high desktop share, low marketplace share").
    min_effect : float
        Features with ``|std_diff|`` below this are not named; a persona without any is
        "Typical customers".
    language : str
        ``en`` or ``id`` (Bahasa Indonesia: "Porsi mobile tinggi, nilai pesanan rendah", the
        feature names of :func:`journeylib.features.feature_short_name`).

    Returns
    -------
    dict
        Persona -> label. Labels are unique: a persona whose label repeats another's gets more
        terms, and finally its id.

    Examples
    --------
    >>> prof = pd.DataFrame({"persona": [1, 1, 2, 2],
    ...     "feature": ["device_share_mobile", "rfm_avg_order_value"] * 2,
    ...     "std_diff": [1.2, -0.5, -1.2, 0.5], "rank": [1, 2, 1, 2]})
    >>> persona_labels(prof)
    {1: 'High mobile share, low order value', 2: 'Low mobile share, high order value'}
    >>> persona_labels(prof, language="id")[1]
    'Porsi mobile tinggi, nilai pesanan rendah'
    """
    personas = sorted(pd.unique(profile["persona"]))
    vocab = _words(language)

    def label(p: object, n: int) -> str:
        p_rows = profile[(profile["persona"] == p) & profile["std_diff"].notna()]
        p_rows = p_rows.sort_values("rank")
        p_rows = p_rows[p_rows["std_diff"].abs() >= min_effect].head(n)
        if p_rows.empty:
            return vocab["typical"]
        words = [
            vocab["high" if d > 0 else "low"].format(name=_readable(f, dictionary, language))
            for f, d in zip(p_rows["feature"], p_rows["std_diff"], strict=True)
        ]
        text = ", ".join(words)
        return text[0].upper() + text[1:]

    n_feat = int(profile.groupby("persona").size().max()) if len(profile) else 0
    terms = dict.fromkeys(personas, n_terms)
    out = {p: label(p, n_terms) for p in personas}
    while True:
        seen: dict[str, list[object]] = {}
        for p, text in out.items():
            seen.setdefault(text, []).append(p)
        clashes = [ps for ps in seen.values() if len(ps) > 1]
        if not clashes:
            break
        grew = False
        for ps in clashes:
            for p in ps:
                if terms[p] < n_feat:
                    terms[p] += 1
                    out[p] = label(p, terms[p])
                    grew = True
        if not grew:
            for ps in clashes:
                for p in ps:
                    out[p] = f"{out[p]} (persona {p})"
            break
    return {int(p) if isinstance(p, Integral) else p: t for p, t in out.items()}


def _fmt(value: float, unit: str, language: str = "en") -> str:
    """A feature value for a sentence: shares as percentages, whole amounts with thousands
    separators, three significant digits otherwise (Indonesian: ``1.234``, ``0,552``)."""
    vocab = _words(language)
    u = unit.lower()
    if np.isnan(value):
        return vocab["n/a"]
    if u.startswith("share") or u.startswith("flag"):
        text = f"{value:.0%}"
    elif u.startswith("currency"):
        text = f"{value:,.0f}"
    elif u == "days":
        text = vocab["days"].format(value=f"{value:.0f}")
    elif abs(value) >= 100:  # incomes, spend, counts: whole numbers with separators, not 2.68e+04
        text = f"{value:,.0f}"
    else:
        text = f"{value:.3g}"
    if language == "id":  # Indonesian writes 1.234,5: swap the separators
        text = text.translate(str.maketrans(",.", ".,"))
    return text


def persona_descriptions(
    profile: pd.DataFrame,
    dictionary: pd.DataFrame | None = None,
    *,
    n_terms: int = 3,
    min_effect: float = 0.2,
    language: str = "en",
) -> dict[int, str]:
    """The numbers behind each :func:`persona_labels` label: "62% marketplace share (all: 12%),
    1.3 items per order (all: 2.1)". Same features, same order as the label.

    ``language="id"``: "porsi marketplace 62% (semua: 12%), barang per pesanan 1,3 (semua:
    2,1)". ``dictionary`` is the English feature dictionary (its units pick the number format).
    """
    vocab = _words(language)
    out = {}
    for p in sorted(pd.unique(profile["persona"])):
        rows = profile[(profile["persona"] == p) & profile["std_diff"].notna()].sort_values("rank")
        rows = rows[rows["std_diff"].abs() >= min_effect].head(n_terms)
        parts = []
        for r in rows.itertuples():
            unit = _unit(r.feature, dictionary)
            parts.append(
                vocab["describe"].format(
                    value=_fmt(r.mean, unit, language),
                    name=_readable(r.feature, dictionary, language),
                    overall=_fmt(r.overall_mean, unit, language),
                )
            )
        out[int(p) if isinstance(p, Integral) else p] = ", ".join(parts) or vocab["average"]
    return out


#: Persona card column -> feature of :func:`journeylib.features.customer_features`.
CARD_FEATURES: dict[str, str] = {
    "orders": "rfm_frequency",
    "buyers_share": "rfm_has_ordered",
    "revenue": "rfm_monetary",
    "aov": "rfm_avg_order_value",
    "recency_days": "rfm_recency_days",
    "sessions": "engagement_sessions",
    "events_per_session": "engagement_events_per_session",
    "items_per_order": "product_items_per_order",
    "nps": "satisfaction_nps_mean",
    "csat": "satisfaction_csat_mean",
}
#: Card column -> prefix of a family of share columns; the card shows the top member.
CARD_MIXES: dict[str, str] = {
    "channel": "channel_share_",
    "device": "device_share_",
    "category": "product_category_share_",
}


def persona_cards(
    X: pd.DataFrame,  # noqa: N803
    labels: np.ndarray | pd.DataFrame,
    extra: pd.DataFrame | None = None,
    *,
    language: str = "en",
) -> pd.DataFrame:
    """One card per persona: size and the key numbers of its customers.

    Parameters
    ----------
    X : DataFrame
        The feature table (one row per customer).
    labels : array-like or DataFrame
        Persona per row of X, or the :meth:`PersonaModel.assign` table (its ``persona_label``
        is carried onto the cards).
    extra : DataFrame, optional
        More per-customer columns joined on ``customer_id`` (e.g. furthest stage, segment):
        a numeric column gives its mean, any other column ``<col>_top`` (most common value),
        ``<col>_top_share`` and ``<col>_mix`` (the three most common values with shares).
    language : str
        ``en`` or ``id``: the word for a missing ``extra`` value ("(missing)", "(kosong)").

    Returns
    -------
    DataFrame
        One row per persona: persona, [persona_label], customers, share, then the means of the
        :data:`CARD_FEATURES` present in X (missing values left out), ``top_<mix>`` and
        ``top_<mix>_share`` for the :data:`CARD_MIXES` families present (the member with the
        highest mean share), then the ``extra`` columns.
    """
    lab = _check_labels(X, labels)
    keep = pd.notna(lab)
    data = X[keep].reset_index(drop=True)
    lab = lab[keep]
    groups = pd.Series(lab)
    cards = pd.DataFrame({"persona": sorted(pd.unique(lab))})
    if isinstance(labels, pd.DataFrame) and "persona_label" in labels.columns:
        names = labels.drop_duplicates("persona").set_index("persona")["persona_label"]
        cards["persona_label"] = cards["persona"].map(names)
    sizes = groups.value_counts()
    cards["customers"] = cards["persona"].map(sizes).astype(int)
    cards["share"] = cards["customers"] / cards["customers"].sum()
    for name, col in CARD_FEATURES.items():
        if col in data.columns:
            means = pd.to_numeric(data[col], errors="coerce").groupby(groups).mean()
            cards[name] = cards["persona"].map(means).astype(float)
    for name, prefix in CARD_MIXES.items():
        cols = [c for c in data.columns if str(c).startswith(prefix)]
        if not cols:
            continue
        means = data[cols].astype(float).groupby(groups).mean().reindex(cards["persona"])
        top = means.fillna(-1).to_numpy().argmax(axis=1)
        cards[f"top_{name}"] = [cols[j][len(prefix) :] for j in top]
        cards[f"top_{name}_share"] = means.to_numpy()[np.arange(len(top)), top]
    if extra is not None:
        if ID not in extra.columns or ID not in data.columns:
            raise ValueError("extra is joined on customer_id: both X and extra need the column")
        ext = data[[ID]].merge(extra.drop_duplicates(ID), on=ID, how="left")
        for col in [c for c in extra.columns if c != ID]:
            v = ext[col]
            if pd.api.types.is_numeric_dtype(v) and not pd.api.types.is_bool_dtype(v):
                cards[col] = cards["persona"].map(v.astype(float).groupby(groups).mean())
                continue
            counts = (
                v.astype("string")
                .fillna(_chart_words(language)["missing"])
                .groupby(groups)
                .value_counts(normalize=True)
            )
            tops, shares, mixes = [], [], []
            for p in cards["persona"]:
                # most common first; equal shares in alphabetical order
                c = counts.loc[p].sort_index().sort_values(ascending=False, kind="stable")
                tops.append(c.index[0])
                shares.append(float(c.iat[0]))
                mixes.append(", ".join(f"{k} {s:.0%}" for k, s in c.head(3).items()))
            cards[f"{col}_top"], cards[f"{col}_top_share"], cards[f"{col}_mix"] = (
                tops,
                shares,
                mixes,
            )
    return cards


# ---- the map ---------------------------------------------------------------------------------
def persona_map(
    model: PersonaModel,
    X: pd.DataFrame,  # noqa: N803
    *,
    n: int = 5_000,
    random_state: int = 0,
) -> pd.DataFrame:
    """Two-dimensional coordinates of a sample of customers for :func:`plot_persona_map`.

    A PCA of the model space (the fitted ``pipeline_``'s output), fitted on the sample.

    Returns
    -------
    DataFrame
        One row per sampled customer: customer_id, x, y (first two principal components), persona,
        persona_label. ``attrs["explained_variance"]``: the two components' shares of the
        variance.
    """
    check_is_fitted(model, "estimator_")
    rng = np.random.default_rng(random_state)
    idx = np.sort(rng.choice(len(X), n, replace=False)) if len(X) > n else np.arange(len(X))
    part = X.iloc[idx]
    ids, feats = _split(part)
    Z = model._space(feats)
    persona = model._raw_predict(Z)
    if Z.shape[1] >= 2 and len(Z) >= 2:
        pca = PCA(n_components=2, random_state=random_state).fit(Z)
        xy = pca.transform(Z)
        explained = [float(v) for v in pca.explained_variance_ratio_]
    else:
        xy = np.c_[Z[:, :1] if Z.shape[1] else np.zeros((len(Z), 1)), np.zeros(len(Z))]
        explained = [1.0, 0.0]
    out = pd.DataFrame(
        {
            ID: ids,
            "x": xy[:, 0],
            "y": xy[:, 1],
            "persona": persona,
            "persona_label": [model.persona_names_.get(int(p), f"Persona {p}") for p in persona],
        }
    )
    out.attrs["explained_variance"] = explained
    return out


# ---- charts ----------------------------------------------------------------------------------
def plot_selection(selection: pd.DataFrame) -> go.Figure:
    """The k-selection curve of ``PersonaModel.selection_``: silhouette (or BIC for the
    mixture) and bootstrap stability per k, the threshold dashed, the chosen k starred."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    use_bic = selection["bic"].notna().any()
    crit, title = ("bic", "BIC (lower is better)") if use_bic else ("silhouette", "silhouette")
    fig = make_subplots(
        rows=1, cols=2, subplot_titles=(title, "stability (worst persona's mean Jaccard)")
    )
    fig.add_trace(go.Scatter(x=selection["k"], y=selection[crit], mode="lines+markers", name=crit), 1, 1)  # fmt: skip
    err = selection["stability_sd"].fillna(0)
    fig.add_trace(
        go.Scatter(
            x=selection["k"],
            y=selection["stability"],
            error_y={"type": "data", "array": err},
            mode="lines+markers",
            name="stability",
        ),
        1,
        2,
    )
    chosen = selection[selection["chosen"]]
    for col, c in ((1, crit), (2, "stability")):
        fig.add_trace(
            go.Scatter(
                x=chosen["k"],
                y=chosen[c],
                mode="markers",
                marker={"symbol": "star", "size": 16, "color": "crimson"},
                name="chosen k",
                showlegend=col == 1,
            ),
            1,
            col,
        )
    if len(selection):
        fig.add_hline(y=float(selection["min_stability"].iat[0]), line_dash="dash", row=1, col=2)
    fig.update_xaxes(title_text="number of personas k", dtick=1)
    fig.update_yaxes(range=[min(0, float(selection["stability"].min() or 0)), 1.02], row=1, col=2)
    fig.update_layout(
        title="Choosing the number of personas", height=380, margin={"t": 70, "b": 40}
    )
    return fig


_CHART_WORDS: dict[str, dict[str, str]] = {
    "en": {
        "heat_hover": "%{y}, %{x}: %{z:+.2f} sd from the other customers<extra></extra>",
        "component": "component {i} ({share} of variance)",
        "stage_hover": "%{y}<br>furthest stage %{x}: %{z:.1%} (%{customdata} customers)"
        "<extra></extra>",
        "no_stage": "(no stage)",
        "missing": "(missing)",
    },
    "id": {
        "heat_hover": "%{y}, %{x}: %{z:+.2f} sd dari pelanggan lain<extra></extra>",
        "component": "komponen {i} ({share} dari varians)",
        "stage_hover": "%{y}<br>tahap terjauh %{x}: %{z:.1%} (%{customdata} pelanggan)"
        "<extra></extra>",
        "no_stage": "(tanpa tahap)",
        "missing": "(kosong)",
    },
}


def _chart_words(language: str) -> dict[str, str]:
    return i18n.words(_CHART_WORDS, language)


def plot_profile_heatmap(
    profile: pd.DataFrame, *, top: int = 20, language: str = "en"
) -> go.Figure:
    """Heatmap of :func:`profile`: standardised difference per persona (rows) and feature
    (columns), the ``top`` features with the largest difference in any persona. ``language``
    (``en`` or ``id``) is that of the hover text; the fixed titles are translated on display."""
    import plotly.graph_objects as go

    words = _chart_words(language)

    strength = profile.assign(a=profile["std_diff"].abs()).groupby("feature")["a"].max()
    feats = strength.sort_values(ascending=False, kind="stable").head(top).index.tolist()
    wide = profile.pivot(index="persona", columns="feature", values="std_diff")[feats]
    z = wide.to_numpy()
    lim = float(np.nanmax(np.abs(z))) if z.size and np.isfinite(z).any() else 1.0
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=feats,
            y=[f"persona {p}" for p in wide.index],
            colorscale="RdBu",
            reversescale=True,
            zmid=0,
            zmin=-lim,
            zmax=lim,
            text=[[f"{v:+.2f}" for v in row] for row in z],
            texttemplate="%{text}",
            hovertemplate=words["heat_hover"],
            colorbar={"title": "std. diff."},
        )
    )
    fig.update_layout(
        title="What sets each persona apart (standardised difference from the other customers)",
        xaxis={"tickangle": -40},
        height=220 + 40 * len(wide),
        margin={"b": 160, "l": 90},
    )
    return fig


def plot_persona_map(coords: pd.DataFrame, *, language: str = "en") -> go.Figure:
    """Scatter of :func:`persona_map`: customers on the first two principal components,
    coloured by persona (axis titles in ``language``, ``en`` or ``id``)."""
    import plotly.graph_objects as go

    words = _chart_words(language)

    fig = go.Figure()
    for p, part in coords.groupby("persona", sort=True):
        name = f"{p}: {part['persona_label'].iat[0]}" if "persona_label" in part else str(p)
        fig.add_trace(
            go.Scattergl(
                x=part["x"],
                y=part["y"],
                mode="markers",
                name=name,
                marker={"size": 4, "opacity": 0.6},
            )
        )
    ev = coords.attrs.get("explained_variance", [np.nan, np.nan])
    fig.update_layout(
        title="Customers on a map of the persona space (PCA)",
        xaxis={"title": words["component"].format(i=1, share=f"{ev[0]:.0%}")},
        yaxis={"title": words["component"].format(i=2, share=f"{ev[1]:.0%}")},
        legend={"title": "persona"},
        height=480,
    )
    return fig


# ---- personas along the journey ---------------------------------------------------------------
# How each persona moves through the journey stages of :mod:`journeylib.stages`, and the tables
# the persona notebook needs around the model: which settings it learns with, the feature
# dictionary with each column's role, the descriptive columns of the persona cards.
if TYPE_CHECKING:  # pragma: no cover
    from journeylib.stages import StageModel

#: With fewer customers than this at or above ``personas.min_activity``, :func:`learning_spec`
#: learns from every customer instead (a handful of customers cannot show a persona structure).
MIN_LEARNERS = 20
#: Stage of a customer without any stage signal up to the cut-off (:func:`persona_stages`).
NO_STAGE = "(no stage)"


def learning_spec(
    features: pd.DataFrame, spec: PersonaSpec | None = None, *, min_learners: int = MIN_LEARNERS
) -> tuple[PersonaSpec, int]:
    """The persona settings to learn with, and how many customers pass the activity threshold.

    Personas are learned from the customers whose ``personas.activity_column`` is at least
    ``personas.min_activity``. When fewer than ``min_learners`` customers pass (and some do
    not), the returned settings have ``min_activity = 0``: the personas are learned from every
    customer, and the caller should say so.

    Parameters
    ----------
    features
        The table the personas are learned from (one row per customer).
    spec
        :class:`journeylib.config.PersonaSpec` (defaults when ``None``).
    min_learners
        Smallest number of customers worth learning from.

    Returns
    -------
    (PersonaSpec, int)
        The settings (``spec`` itself when it is kept) and the number of customers at or above
        the threshold (every customer when no activity column is in use).

    Examples
    --------
    >>> from journeylib.config import PersonaSpec
    >>> X = pd.DataFrame({"customer_id": list("abc"), "engagement_sessions": [9, 1, 0]})
    >>> spec, n_active = learning_spec(X, PersonaSpec(), min_learners=2)
    >>> spec.min_activity, n_active
    (0.0, 1)
    """
    from journeylib.config import PersonaSpec

    spec = spec or PersonaSpec()
    col = _activity_column(features, spec)
    if col is None:
        return spec, len(features)
    activity = pd.to_numeric(features[col], errors="coerce")
    n_active = int((activity >= spec.min_activity).sum())
    if n_active >= min_learners or n_active >= len(features):
        return spec, n_active
    return spec.model_copy(update={"min_activity": 0.0}), n_active


#: Roles of :func:`persona_feature_dictionary` and reasons of ``dropped_features_`` per language.
_ROLE_WORDS: dict[str, dict[str, str]] = {
    "en": {
        "clustered": "clustered",
        "described": "described",
        "selects learners": "selects learners",
        "dropped": "dropped ({why})",
    },
    "id": {
        "clustered": "dikelompokkan",
        "described": "deskriptif",
        "selects learners": "menentukan pelanggan yang dipelajari",
        "dropped": "tidak dipakai ({why})",
        "constant": "konstan",
        "all missing": "semuanya kosong",
        "a single value": "hanya satu nilai",
    },
}


def persona_feature_dictionary(
    features: pd.DataFrame,
    inputs: pd.DataFrame,
    *,
    dictionary: pd.DataFrame | None = None,
    dropped: Mapping[str, str] | None = None,
    activity_column: str | None = None,
    language: str = "en",
) -> pd.DataFrame:
    """The feature dictionary of a persona run: every column, what it means, what it did.

    Parameters
    ----------
    features
        The full feature (or attribute) table, one row per customer.
    inputs
        The columns the model is fitted on (:func:`persona_inputs`).
    dictionary
        ``name, group, unit, description, missing`` per feature
        (:func:`journeylib.features.feature_dictionary`); ``None`` for an attribute table (the
        group is then ``"attribute"`` and the texts are empty).
    dropped
        ``PersonaModel.dropped_features_``: fitted-on columns the model left out, with the reason.
    activity_column
        ``PersonaModel.activity_column``: in the inputs to pick the customers learned from, not
        clustered on (role ``selects learners``).
    language
        ``en`` or ``id``: the language of ``unit``, ``description``, ``missing``
        (:func:`journeylib.features.localise_dictionary`) and ``role`` ("dikelompokkan",
        "deskriptif", "menentukan pelanggan yang dipelajari", "tidak dipakai (konstan)").

    Returns
    -------
    DataFrame
        One row per column of ``features`` except ``customer_id``, in table order: name, group,
        unit, description, missing (what a missing value means), missing_share (share of the
        customers with it missing) and role: ``clustered``, ``dropped (<reason>)``,
        ``selects learners`` (the activity column) or ``described`` (shown on profiles and
        cards, not clustered on).
    """
    from journeylib.features import localise_dictionary

    roles = _ROLE_WORDS.get(language)
    if roles is None:
        raise ValueError(f"language must be one of {sorted(_ROLE_WORDS)}, got {language!r}")
    if dictionary is not None:
        dictionary = localise_dictionary(dictionary, language)
    cols = [c for c in features.columns if c != ID]
    docs = (
        dictionary.set_index("name").reindex(cols)
        if dictionary is not None
        else pd.DataFrame(index=pd.Index(cols, name="name"))
    )
    out = pd.DataFrame({"name": cols})
    for col, default in (
        ("group", "attribute"),
        ("unit", ""),
        ("description", ""),
        ("missing", ""),
    ):
        values = docs[col].to_numpy(dtype=object) if col in docs.columns else [None] * len(cols)
        out[col] = pd.Series(
            [default if pd.isna(v) else str(v) for v in values],
            dtype="str",
        )
    if language != "en":
        out["group"] = pd.Series(
            [group_name(g, language=language) for g in out["group"]], dtype="str"
        )
    out["missing_share"] = [
        float(features[c].isna().mean()) if len(features) else float("nan") for c in cols
    ]
    fitted, dropped = set(inputs.columns), dict(dropped or {})
    out["role"] = pd.Series(
        [
            roles["dropped"].format(why=roles.get(dropped[c], dropped[c]))
            if c in dropped
            else roles["selects learners"]
            if c == activity_column
            else roles["clustered"]
            if c in fitted
            else roles["described"]
            for c in cols
        ],
        dtype="str",
    )
    return out


def card_attributes(
    customers: pd.DataFrame,
    customer_stages: pd.DataFrame | None = None,
    *,
    max_levels: int = 12,
    stage_labels: Mapping[str, str] | None = None,
    language: str = "en",
) -> pd.DataFrame:
    """Descriptive columns for :func:`persona_cards` (``extra=``): who the personas are.

    Parameters
    ----------
    customers
        The canonical customers table (``customer_id`` and attribute columns).
    customer_stages
        :func:`journeylib.stages.customer_stages`; its ``furthest_stage`` is added, with
        :data:`NO_STAGE` for customers without a stage signal.
    max_levels
        Text and category columns with more distinct values than this are left out (a card
        shows the three most common values; a column with hundreds is an identifier or free
        text, not a description).
    stage_labels
        Stage name -> display label (``StageModel.labels()``): ``furthest_stage`` holds the
        labels instead of the names.
    language
        ``en`` or ``id``: the text of :data:`NO_STAGE` ("(tanpa tahap)" in Indonesian).

    Returns
    -------
    DataFrame
        One row per customer of ``customers``: customer_id, its text/category columns with at
        most ``max_levels`` distinct values (in table order), then ``furthest_stage``.
    """
    if ID not in customers.columns:
        raise ValueError("customers needs a customer_id column")
    keep = [
        c
        for c in customers.columns
        if c != ID
        and (
            isinstance(customers[c].dtype, pd.CategoricalDtype)
            or pd.api.types.is_string_dtype(customers[c])
        )
        and 0 < customers[c].nunique(dropna=True) <= max_levels
    ]
    out = customers[[ID, *keep]].drop_duplicates(ID).reset_index(drop=True)
    if customer_stages is not None:
        _require(customer_stages, "customer_stages", [ID, "furthest_stage"])
        stage = out[[ID]].merge(
            customer_stages[[ID, "furthest_stage"]].drop_duplicates(ID), on=ID, how="left"
        )["furthest_stage"]
        stage = stage.astype("str")
        if stage_labels:
            stage = stage.map(lambda v: stage_labels.get(v, v) if isinstance(v, str) else v)
        no_stage = _chart_words(language)["no_stage"]
        out["furthest_stage"] = stage.where(stage.notna(), no_stage).astype("str")
    return out


#: Persona card columns (:func:`persona_cards`) as row names of the cards, per language.
_CARD_ROWS: dict[str, dict[str, str]] = {
    "id": {
        "customers": "Pelanggan",
        "share": "Porsi",
        "orders": "Pesanan",
        "buyers_share": "Porsi pembeli",
        "revenue": "Pendapatan",
        "aov": "Nilai pesanan rata-rata (AOV)",
        "recency_days": "Hari sejak pesanan terakhir",
        "sessions": "Sesi",
        "events_per_session": "Event per sesi",
        "items_per_order": "Barang per pesanan",
        "nps": "NPS",
        "csat": "CSAT",
        "top_channel": "Kanal teratas",
        "top_channel_share": "Porsi kanal teratas",
        "top_device": "Perangkat teratas",
        "top_device_share": "Porsi perangkat teratas",
        "top_category": "Kategori teratas",
        "top_category_share": "Porsi kategori teratas",
        "{col}_top": "{col}: paling umum",
        "{col}_top_share": "{col}: porsi yang paling umum",
        "{col}_mix": "{col}: komposisi",
        "furthest_stage": "Tahap terjauh",
    },
}


def card_row_label(column: str, *, language: str = "en") -> str:
    """The row name of a persona card column (:func:`persona_cards`) as a reader sees it.

    English: :func:`journeylib.display.humanise` ("Buyers share", "Furthest stage top").
    Indonesian: the card's own words; an ``extra`` attribute column keeps its name, with the
    Indonesian word for what is shown ("Region: paling umum").

    >>> card_row_label("buyers_share", language="id")
    'Porsi pembeli'
    >>> card_row_label("furthest_stage_mix", language="id")
    'Tahap terjauh: komposisi'
    """
    from journeylib.display import humanise

    rows = _CARD_ROWS.get(language)
    if rows is None:
        return humanise(column)
    if column in rows:
        return rows[column]
    for suffix in ("_top_share", "_top", "_mix"):
        if column.endswith(suffix) and len(column) > len(suffix):
            col = column[: -len(suffix)]
            name = rows.get(col, humanise(col, language))
            return rows["{col}" + suffix].format(col=name)
    return humanise(column)


def _require(df: pd.DataFrame, what: str, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{what} needs the column(s) {', '.join(missing)}")


def _persona_frame(
    assignments: pd.DataFrame, customer_stages: pd.DataFrame, stage_cols: list[str]
) -> tuple[pd.DataFrame, list[Any], dict[Any, str]]:
    """Assignments (one row per customer) left-joined with the stage columns; checks grains."""
    _require(assignments, "assignments", [ID, "persona"])
    _require(customer_stages, "customer_stages", [ID, *stage_cols])
    for name, df in (("assignments", assignments), ("customer_stages", customer_stages)):
        repeated = int(df[ID].duplicated().sum())
        if repeated:
            raise ValueError(
                f"{name} must hold one row per customer_id; {repeated} id(s) are repeated"
            )
    left = assignments[assignments["persona"].notna()]
    cols = [ID, "persona"] + (["persona_label"] if "persona_label" in left.columns else [])
    merged = left[cols].merge(
        customer_stages[[ID, *stage_cols]], on=ID, how="left", indicator="in_journey"
    )
    # (the merge's indicator, not Series.isin: pandas' isin on Arrow strings builds its value
    # set in Python, 7 s for a million ids)
    merged["in_journey"] = (merged["in_journey"] == "both").to_numpy()
    names = (
        left.drop_duplicates("persona").set_index("persona")["persona_label"].astype("str")
        if "persona_label" in left.columns
        else pd.Series(dtype="str")
    )
    personas = sorted(pd.unique(left["persona"]))
    labels = {p: str(names.get(p, f"Persona {p}")) for p in personas}
    return merged, personas, labels


def persona_stages(
    assignments: pd.DataFrame,
    customer_stages: pd.DataFrame,
    model: StageModel | None = None,
) -> pd.DataFrame:
    """Persona x furthest journey stage: how far each persona's customers have come.

    Parameters
    ----------
    assignments
        One row per customer: ``customer_id``, ``persona`` and optionally ``persona_label``
        (:meth:`PersonaModel.assign`). Customers without a persona are left out.
    customer_stages
        One row per customer with a stage signal: ``customer_id``, ``furthest_stage``
        (:func:`journeylib.stages.customer_stages`). Assigned customers missing from it have no
        stage signal up to the cut-off and count under :data:`NO_STAGE`.
    model
        The stage model ``customer_stages`` was computed with (default stages when ``None``).

    Returns
    -------
    DataFrame
        One row per persona x stage, every stage listed (zeros included): persona,
        persona_label, stage_no (0 for :data:`NO_STAGE`, then 1.. in journey order), stage,
        customers, share (of the persona's customers; the shares of a persona sum to 1).

    Raises
    ------
    ValueError
        A missing column, a repeated customer_id, or a furthest stage the model does not have.
    """
    from journeylib.stages import StageModel

    model = model or StageModel()
    merged, personas, labels = _persona_frame(assignments, customer_stages, ["furthest_stage"])
    stages = [NO_STAGE, *model.names]
    known = merged["furthest_stage"].isna() | merged["furthest_stage"].isin(model.names)
    if not known.all():
        unknown = sorted(pd.unique(merged.loc[~known, "furthest_stage"].astype("str")))
        raise ValueError(
            f"{int((~known).sum())} customer(s) have a furthest_stage the stage model does not "
            f"list ({', '.join(unknown[:10])}): compute customer_stages with the same model"
        )
    stage = merged["furthest_stage"].astype("str").where(merged["furthest_stage"].notna(), NO_STAGE)
    counts = (
        pd.crosstab(merged["persona"], stage)
        if len(merged)
        else pd.DataFrame(index=pd.Index([], name="persona"))
    )
    counts = counts.reindex(index=personas, columns=stages, fill_value=0)
    out = (
        counts.rename_axis(index="persona", columns="stage")
        .stack()
        .rename("customers")
        .reset_index()
    )
    out.insert(1, "persona_label", pd.Series(out["persona"].map(labels), dtype="str"))
    out.insert(
        2, "stage_no", out["stage"].map({s: i for i, s in enumerate(stages)}).astype("int64")
    )
    out["stage"] = out["stage"].astype("str")
    out["customers"] = out["customers"].astype("int64")
    totals = out.groupby("persona")["customers"].transform("sum")
    out["share"] = out["customers"] / totals.where(totals > 0)
    return out


def _signal_stage(model: StageModel, kind: str) -> str | None:
    """Name of the first stage with a derived signal of ``kind`` (``order``,
    ``repeat_purchase``), or None."""
    for rule in model.rules:
        if any(sig.kind == kind for sig in rule.signals):
            return rule.name
    return None


def persona_outcomes(
    assignments: pd.DataFrame,
    customer_stages: pd.DataFrame,
    model: StageModel | None = None,
    *,
    features: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Per persona: conversion, retention and churn along the journey.

    Every rate counts customers *in the journey*: those with a stage signal up to the cut-off
    (a row in ``customer_stages``), the denominator of the headline conversion KPI.

    * ``converted``: customers in the journey who ordered. With ``features`` (the customer
      feature table), ``rfm_frequency > 0``, the definition of the conversion KPI
      (:mod:`journeylib.kpi`). Without it, customers who entered the stage signalled by every
      order (``decision`` by default); when that stage also has event rules (add_to_cart ...),
      this counts customers who got that far without buying too, so pass ``features``.
      ``conversion_rate = converted / in_journey``.
    * ``retained``: converted customers who entered the stage signalled by a repeat purchase
      (``retention``: a second order within the rule's days); ``retention_rate = retained /
      converted``. Recent first-time buyers have had less time to come back (no censoring).
    * ``lapsed``: customers in the journey with no activity in the stage model's ``lapse_days``
      before the cut-off (``customer_stages.lapsed``); ``churn_rate = lapsed / in_journey``.

    A stage is *entered* when its ``entered_<stage>`` date is set (as in
    :func:`journeylib.stages.stage_conversion`), not when the furthest stage lies beyond it:
    a customer can reach advocacy through a review without a repeat order.

    Parameters
    ----------
    assignments
        One row per customer: ``customer_id``, ``persona`` [, ``persona_label``].
    customer_stages
        :func:`journeylib.stages.customer_stages` computed with ``model``: ``customer_id``,
        ``lapsed`` and the ``entered_<stage>`` columns of the order and repeat-purchase stages.
    model
        The stage model (default stages when ``None``).
    features
        Optional table with ``customer_id`` and ``rfm_frequency`` (orders up to the cut-off).

    Returns
    -------
    DataFrame
        One row per persona: persona, persona_label, customers, in_journey, converted,
        conversion_rate, retained, retention_rate, lapsed, churn_rate. Counts are integers;
        a rate is NaN when its denominator is 0 or the stage model has no such stage (then its
        count is 0 too).
    """
    from journeylib.stages import StageModel

    model = model or StageModel()
    order_stage = _signal_stage(model, "order")
    repeat_stage = _signal_stage(model, "repeat_purchase")
    stage_cols = ["lapsed"] + [f"entered_{s}" for s in (order_stage, repeat_stage) if s]
    merged, personas, labels = _persona_frame(assignments, customer_stages, stage_cols)
    in_journey = merged["in_journey"].to_numpy(dtype=bool)
    if features is not None:
        _require(features, "features", [ID, "rfm_frequency"])
        orders = merged[[ID]].merge(
            features[[ID, "rfm_frequency"]].drop_duplicates(ID), on=ID, how="left"
        )["rfm_frequency"]
        converted = in_journey & (pd.to_numeric(orders).fillna(0).to_numpy(dtype=float) > 0)
        has_conversion = True
    elif order_stage:
        converted = in_journey & merged[f"entered_{order_stage}"].notna().to_numpy()
        has_conversion = True
    else:
        converted, has_conversion = np.zeros(len(merged), dtype=bool), False
    retained = (
        converted & merged[f"entered_{repeat_stage}"].notna().to_numpy()
        if repeat_stage
        else np.zeros(len(merged), dtype=bool)
    )
    lapsed = in_journey & merged["lapsed"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    flags = pd.DataFrame(
        {
            "persona": merged["persona"].to_numpy(),
            "customers": 1,
            "in_journey": in_journey,
            "converted": converted,
            "retained": retained,
            "lapsed": lapsed,
        }
    )
    out = flags.groupby("persona").sum().reindex(personas).astype("int64").reset_index()
    out.insert(1, "persona_label", pd.Series(out["persona"].map(labels), dtype="str"))

    def rate(num: str, den: str, defined: bool) -> pd.Series:
        d = out[den].where(out[den] > 0).astype(float)
        return out[num] / d if defined else pd.Series(np.nan, index=out.index)

    out["conversion_rate"] = rate("converted", "in_journey", has_conversion)
    out["retention_rate"] = rate("retained", "converted", has_conversion and bool(repeat_stage))
    out["churn_rate"] = rate("lapsed", "in_journey", True)
    cols = [
        "persona",
        "persona_label",
        "customers",
        "in_journey",
        "converted",
        "conversion_rate",
        "retained",
        "retention_rate",
        "lapsed",
        "churn_rate",
    ]
    return out[cols]


def _persona_axis(table: pd.DataFrame) -> list[str]:
    rows = table.drop_duplicates("persona").sort_values("persona")
    if "persona_label" not in rows.columns:
        return [f"{p}" for p in rows["persona"]]
    return [f"{p}: {lab}" for p, lab in zip(rows["persona"], rows["persona_label"], strict=True)]


def persona_stage_matrix(table: pd.DataFrame, *, value: str = "share") -> pd.DataFrame:
    """:func:`persona_stages` wide: one row per persona (persona, persona_label), one column
    per stage in journey order holding ``value`` (``share`` or ``customers``)."""
    stages = table.drop_duplicates("stage").sort_values("stage_no")["stage"].tolist()
    index = ["persona", "persona_label"] if "persona_label" in table.columns else ["persona"]
    wide = table.pivot(index=index, columns="stage", values=value).sort_index()
    wide = wide.reindex(columns=stages).reset_index()
    wide.columns.name = None
    return wide


def plot_persona_stages(
    table: pd.DataFrame,
    *,
    stage_labels: Mapping[str, str] | None = None,
    language: str = "en",
) -> go.Figure:
    """Heatmap of :func:`persona_stages`: each persona's customers by furthest stage (row
    shares; persona 1 on top). ``stage_labels`` maps stage names to display labels;
    ``language`` (``en`` or ``id``) is that of the hover text and of :data:`NO_STAGE`."""
    import plotly.graph_objects as go

    words = _chart_words(language)
    stage_labels = {NO_STAGE: words["no_stage"], **(stage_labels or {})}
    stages = table.drop_duplicates("stage").sort_values("stage_no")["stage"].tolist()
    wide = persona_stage_matrix(table)[stages]
    z = wide.to_numpy(dtype=float)
    counts = persona_stage_matrix(table, value="customers")[stages].to_numpy()
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=[stage_labels.get(s, s) for s in stages],
            y=_persona_axis(table),
            colorscale="Greens",
            zmin=0,
            zmax=1,
            text=[["" if np.isnan(v) else f"{v:.0%}" for v in row] for row in z],
            texttemplate="%{text}",
            customdata=counts,
            hovertemplate=words["stage_hover"],
            colorbar={"title": "share of persona"},
        )
    )
    fig.update_layout(
        title="How far each persona has come: furthest journey stage",
        xaxis={"title": "furthest stage"},
        yaxis={"title": "persona", "autorange": "reversed"},
        height=200 + 40 * len(wide),
        margin={"l": 300, "t": 60, "b": 50},
    )
    return fig


def plot_persona_outcomes(outcomes: pd.DataFrame) -> go.Figure:
    """Grouped bars of :func:`persona_outcomes`: conversion, retention and churn per persona."""
    import plotly.graph_objects as go

    rows = outcomes.sort_values("persona")
    names = _persona_axis(rows)
    fig = go.Figure()
    for col, title in (
        ("conversion_rate", "conversion (bought)"),
        ("retention_rate", "retention (bought again, of buyers)"),
        ("churn_rate", "churn (lapsed)"),
    ):
        fig.add_trace(
            go.Bar(
                x=rows[col],
                y=names,
                orientation="h",
                name=title,
                text=[("" if pd.isna(v) else f"{v:.0%}") for v in rows[col]],
                textposition="outside",
            )
        )
    fig.update_layout(
        title="Outcomes by persona (customers in the journey)",
        barmode="group",
        xaxis={"title": "share", "tickformat": ".0%", "rangemode": "tozero"},
        yaxis={"autorange": "reversed"},
        height=220 + 70 * len(rows),
        margin={"l": 300, "t": 60, "b": 50},
        legend={"orientation": "h", "y": -0.15},
    )
    return fig
