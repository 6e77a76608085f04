"""Confidence intervals shared by the analyses: the Wilson interval of a proportion and the
interval of a Net Promoter Score.

Both are vectorised over numpy arrays and give NaN where there is no observation.
"""

from __future__ import annotations

import numpy as np

__all__ = ["nps_stats", "wilson"]


def nps_stats(
    promoters: np.ndarray, passives: np.ndarray, detractors: np.ndarray, z: float
) -> dict[str, np.ndarray]:
    """NPS, its standard error and interval from band counts (vectorised; NaN where n = 0)."""
    p, m, d = (np.asarray(x, dtype=float) for x in (promoters, passives, detractors))
    n = p + m + d
    with np.errstate(divide="ignore", invalid="ignore"):
        pp, pm, pd_ = p / n, m / n, d / n
        var = (pp * (1 - pp) + pd_ * (1 - pd_) + 2 * pp * pd_) / n
    nps = 100 * (pp - pd_)
    se = 100 * np.sqrt(np.maximum(var, 0.0))
    return {
        "n": n,
        "promoters": p,
        "passives": m,
        "detractors": d,
        "promoter_share": pp,
        "passive_share": pm,
        "detractor_share": pd_,
        "nps": nps,
        "nps_se": se,
        "nps_low": np.clip(nps - z * se, -100, 100),
        "nps_high": np.clip(nps + z * se, -100, 100),
    }


def wilson(k: np.ndarray, n: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of the proportion k / n (NaN where n = 0)."""
    k, n = np.asarray(k, dtype=float), np.asarray(n, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = k / n
        denom = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
    return np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)
