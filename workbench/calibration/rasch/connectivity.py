"""Rasch connectivity and design checks: which ratings a many-facet Rasch model can calibrate together.

Two ways a design fails to identify the measures (as in FACETS' subset detection):

* the rater-ratee network falls apart into disconnected subsets, whose measures are not on
  one scale: :func:`connected_ratings` keeps the largest subset with a warning naming every
  subset (``connectivity="largest"``) or refuses (``"error"``), like the linear model;
* sources nested in raters (no rater rates under more than one of two groups of sources):
  a source offset cannot be told from the severities of its raters,
  :func:`check_sources` refuses with a ModelError.

Examples
--------
>>> import pandas as pd
>>> ratings = pd.DataFrame({"rater": ["x", "y"], "source": ["peer", "manager"]})
>>> check_sources(ratings)
Traceback (most recent call last):
...
workbench.errors.ModelError: source offsets and rater severities are confounded: no rater rates in more than one of the source groups {peer}; {manager}; drop 'source' from facets (facets=('skill', 'rater'))
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from workbench.calibration.preparation import connectivity_frame, rater_network, subsets_listing
from workbench.calibration.result import CalibrationWarning
from workbench.errors import ModelError

__all__ = ["check_sources", "connected_ratings"]


def check_sources(data: pd.DataFrame) -> None:
    """Refuse sources nested in raters (see the module docstring)."""
    ri, _ = pd.factorize(data["rater"])
    si, sources = pd.factorize(data["source"])
    nr, ns = ri.max() + 1, si.max() + 1
    graph = sp.coo_matrix((np.ones(len(ri)), (ri, nr + si)), shape=(nr + ns, nr + ns))
    n, labels = connected_components(graph, directed=False)
    if n > 1:
        parts = ["{" + ", ".join(sorted(map(str, sources[labels[nr:] == c]))) + "}"
                 for c in range(n) if (labels[nr:] == c).any()]
        raise ModelError("source offsets and rater severities are confounded: no rater rates "
                         f"in more than one of the source groups {'; '.join(parts)}; drop "
                         "'source' from facets (facets=('skill', 'rater'))")


def connected_ratings(data: pd.DataFrame, *, connectivity: str, facets, waves: str):
    """The ratings of the largest connected subset and the connectivity table.

    Returns
    -------
    (DataFrame, DataFrame)
        The ratings kept (with a ``subset`` column) and ``subset``, ``n_ratees``,
        ``n_raters``, ``n_ratings``, ``fitted``.
    """
    data = data.copy()
    if "rater" in facets:
        data["subset"] = rater_network(data, waves=waves).to_numpy()
    else:
        data["subset"] = 1
    conn = connectivity_frame(data)
    if len(conn) > 1:
        listing = subsets_listing(conn)
        if connectivity == "error":
            raise ModelError(f"the rater-ratee network falls apart into {len(conn)} subsets "
                             f"whose measures are not comparable ({listing}); choose "
                             "connectivity='largest'")
        warnings.warn(f"the rater-ratee network falls apart into {len(conn)} subsets; only the "
                      f"largest is calibrated ({listing})", CalibrationWarning, stacklevel=4)
    conn["fitted"] = conn["subset"] == 1
    return data[data["subset"] == 1].reset_index(drop=True), conn
