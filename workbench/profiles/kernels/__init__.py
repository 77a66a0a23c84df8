"""Compiled kernels (numba) for the loops of the profiles stage that numpy cannot vectorise
well, or where numpy's overhead per call outweighs the arithmetic (small matrices, thousands of
EM iterations):

* ``agglomeration``: :func:`hc_merges`, mclust's model-based hierarchical agglomeration (VVV
  criterion), a sequential loop of n merges, each comparing the new group with every other;
  :func:`ward_merges`, Ward's agglomeration by the nearest-neighbour chain; :func:`cut_merges`,
  a tree cut at k groups (union-find);
* ``estep``: :func:`factor_covariances`, :func:`estep_full_t` (:func:`estep_full`),
  :func:`estep_diag`. ``L_k^-1 x_i`` for every component and person is one matrix product
  (BLAS); the squared distances, the log-sum-exp and the posteriors are loops over people,
  which vectorise; :func:`~workbench.profiles.kernels.estep.exp_negligible` gives the
  exponentials within one rounding unit of ``math.exp`` and skips those below ``exp(-40)``
  (:data:`~workbench.profiles.kernels.estep.NEGLIGIBLE`);
* ``mstep``: :func:`moments_full`, :func:`moments_diag`, the M-step's sizes, means and scatters
  from one matrix product of the posteriors with the products of the rows;
  :func:`common_orientation` (:func:`common_orientation_mstep`), :func:`volumes_common_shape`,
  :func:`volumes_common_matrix`: the inner iterations of the EVE/VVE, VEI/VEV and VEE M-steps.

What they buy is measured in ``benchmarks/README.md`` (bench_profiles). numba installs from a
wheel with the package (``pyproject.toml``); the kernels are compiled on first use and cached
next to their modules (``cache=True``), so later processes load them; each is called with one
set of argument types (writable C-contiguous float arrays), so that it is compiled once.
Every kernel releases the GIL (``nogil=True``), so threads can run them side by side.
The statistics are documented where they are used: :mod:`workbench.profiles.initialisation`,
:mod:`workbench.profiles.gaussian_mixture` and :mod:`workbench.profiles.structures`.

Examples
--------
>>> from workbench.profiles.kernels import hc_merges
>>> hc_merges.__module__
'workbench.profiles.kernels.agglomeration'
"""

from __future__ import annotations

from workbench._lazy import lazy_exports

MODULES = ("agglomeration", "estep", "mstep")

__getattr__, __dir__ = lazy_exports(globals(), MODULES)
