"""The usual alternatives to latent profile analysis: k-means and Ward clustering.

``find_profiles(method="kmeans" | "ward")`` fits k = 1..k_max with scikit-learn and picks k by
the silhouette (sampled on 5,000 people for larger data); Calinski-Harabasz is reported too.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> x = np.vstack([rng.normal(0, 1, (30, 2)), rng.normal(6, 1, (30, 2))])
>>> table, solutions = hard_grid("kmeans", x, 3, 4, 0)
>>> int(table.loc[table["silhouette"].idxmax(), "k"])
2
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.profiles.result import Solution

__all__ = ["cluster_labels", "hard_solution", "hard_grid"]


def hard_solution(method, x, labels, k):
    proba = np.zeros((len(x), k))
    proba[np.arange(len(x)), labels] = 1.0
    means = np.array([x[labels == j].mean(axis=0) for j in range(k)])
    d = x.shape[1]
    cov = np.array([np.cov(x[labels == j].T) if np.sum(labels == j) > 1 else np.eye(d) * 0
                    for j in range(k)]).reshape(k, d, d)
    return Solution(method, method, k, proba, means, cov, proba.mean(axis=0))


def cluster_labels(method, x, k, *, n_starts, seed):
    from sklearn.cluster import AgglomerativeClustering, KMeans

    if k == 1:
        return np.zeros(len(x), dtype=int)
    if method == "kmeans":
        return KMeans(n_clusters=k, n_init=n_starts, random_state=seed).fit_predict(x)
    return AgglomerativeClustering(n_clusters=k, linkage="ward").fit_predict(x)


def hard_grid(method, x, k_max, n_starts, seed):
    from sklearn.metrics import calinski_harabasz_score, silhouette_score

    rows, sols = [], {}
    n = len(x)
    for k in range(1, k_max + 1):
        labels = cluster_labels(method, x, k, n_starts=n_starts, seed=seed)
        sol = hard_solution(method, x, labels, k)
        within = float(sum(((x[labels == j] - sol.means[j]) ** 2).sum() for j in range(k)))
        row = {"model": method, "k": k, "within_ss": within, "silhouette": np.nan,
               "calinski_harabasz": np.nan}
        if k > 1 and len(np.unique(labels)) > 1:
            sample = 5000 if n > 5000 else None
            row["silhouette"] = float(silhouette_score(x, labels, sample_size=sample,
                                                       random_state=seed))
            row["calinski_harabasz"] = float(calinski_harabasz_score(x, labels))
        counts = np.bincount(labels, minlength=k)
        row["smallest_n"] = int(counts.min())
        row["smallest_share"] = counts.min() / n
        rows.append(row)
        sols[k] = sol
    return pd.DataFrame(rows), sols
