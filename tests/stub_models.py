"""A stand-in for a fitted churn model whose probabilities are a known formula of the features."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin


class Formula(ClassifierMixin, BaseEstimator):
    """A 'fitted' classifier whose churn probability is ``fn(X)`` of the columns ``features``."""

    def __init__(self, fn=None, features=()):
        self.fn = fn
        self.features = features

    def fit(self, X=None, y=None):  # noqa: N803
        self.features_ = list(self.features)
        self.classes_ = np.array([False, True])
        return self

    def predict_proba(self, X):  # noqa: N803
        p = np.asarray(self.fn(X[self.features_]), dtype=float)
        return np.column_stack([1 - p, p])
