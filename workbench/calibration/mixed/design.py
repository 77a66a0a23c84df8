"""The design side of the mixed-model engine: fixed-effects design, term codes, block structure.

Owns everything that does not depend on the variance parameters: the treatment-coded fixed
design (:func:`design_matrix`), the integer codes of each random term, the choice of the
blocking term whose nested family is eliminated block by block (:func:`_choose_blocking`), and
the cross-products arranged in blocks (:class:`_Structure`) that the dense
(:mod:`workbench.calibration.mixed.dense`) and the iterative
(:mod:`workbench.calibration.mixed.iterative`) engines factor at each ``theta``.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

from workbench.errors import ModelError
from workbench.parallel import resolve_n_jobs

__all__ = ["design_matrix"]

#: The most threads the engine uses for its independent pieces of work (blocks, probe
#: columns): numpy's batched linear algebra, its array arithmetic and scipy's sparse products
#: release the GIL, so the pieces run truly in parallel, but beyond 4 the shares get too small.
MAX_THREADS = 4


def threads() -> int:
    """Threads for the engine: ``n_jobs`` of the enclosing
    :func:`workbench.parallel.parallel_config` (one outside any; ``calibrate_ratings`` and
    ``fit_mixed`` set it from their ``n_jobs``), at most :data:`MAX_THREADS`."""
    return min(MAX_THREADS, resolve_n_jobs(None))


def thread_map(func, items) -> list:
    """``[func(item) for item in items]``, run on :func:`threads` threads when there are
    several items (each item must write only its own part of any shared output)."""
    items = list(items)
    n = threads()
    if n < 2 or len(items) < 2:
        return [func(item) for item in items]
    with ThreadPoolExecutor(min(n, len(items))) as pool:
        return list(pool.map(func, items))


def even_shares(idx: np.ndarray, min_size: int = 2000) -> list:
    """``idx`` split into :func:`threads` parts (one part when it is small)."""
    n = threads()
    if n < 2 or len(idx) < min_size:
        return [idx]
    return [part for part in np.array_split(idx, n) if len(part)]


def _is_categorical(values: pd.Series) -> bool:
    return not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values)


def design_matrix(data: pd.DataFrame, fixed) -> pd.DataFrame:
    """Fixed-effects design: intercept, treatment-coded categoricals, numeric columns as-is.

    Categorical (object, string, category, bool) columns use treatment coding with the first
    level in sorted order as reference (R's default); columns are named patsy-style
    ``"source[T.peer]"``.

    Examples
    --------
    >>> design_matrix(pd.DataFrame({"g": ["b", "a", "b"], "x": [1.0, 2.0, 3.0]}), ["g", "x"])
       Intercept  g[T.b]    x
    0        1.0     1.0  1.0
    1        1.0     0.0  2.0
    2        1.0     1.0  3.0
    """
    columns = {"Intercept": np.ones(len(data))}
    for name in fixed:
        if name not in data:
            raise ModelError(f"fixed effect column {name!r} not found in the data")
        values = data[name]
        if _is_categorical(values):
            if isinstance(values.dtype, pd.CategoricalDtype):
                present = set(values.dropna().unique())
                levels = [lev for lev in values.cat.categories if lev in present]
            else:
                levels = sorted(values.dropna().unique().tolist(), key=lambda v: (str(type(v)), v))
            text = values.astype(object)
            for level in levels[1:]:
                columns[f"{name}[T.{level}]"] = (text == level).to_numpy(dtype=float)
        else:
            columns[name] = values.to_numpy(dtype=float)
    return pd.DataFrame(columns, index=data.index)


def term_codes(data: pd.DataFrame, term: str):
    parts = term.split(":")
    for part in parts:
        if part not in data:
            raise ModelError(f"random term {term!r}: column {part!r} not found in the data")
    if data[parts].isna().any().any():
        raise ModelError(f"random term {term!r} has missing values")
    if len(parts) == 1:
        codes, uniques = pd.factorize(data[parts[0]], sort=True)
        return codes.astype(np.int64), pd.Index(uniques, name=term)
    # Combine the parts' integer codes: much faster than factorising tuples.
    part_codes, part_levels = [], []
    for part in parts:
        c, u = pd.factorize(data[part], sort=True)
        part_codes.append(c.astype(np.int64))
        part_levels.append(u)
    key = np.zeros(len(data), dtype=np.int64)
    for c, u in zip(part_codes, part_levels, strict=True):
        key = key * len(u) + c
    uniq, codes = np.unique(key, return_inverse=True)
    arrays = []
    for u in reversed(part_levels):
        arrays.append(np.asarray(u)[uniq % len(u)])
        uniq = uniq // len(u)
    labels = pd.MultiIndex.from_arrays(arrays[::-1], names=parts)
    return codes.astype(np.int64), labels


# --------------------------------------------------------------------------------------------
# The structured penalised least-squares engine
# --------------------------------------------------------------------------------------------


def levels_by_term(s, values):
    """Per-level arrays of the eliminated (nested) terms from their per-block ``values``.

    ``values`` is laid out like the eliminated blocks (group x position); each eliminated term
    gets an array over its levels. The crossed terms are filled in by the callers.
    """
    out = {}
    for term in s.e_terms:
        sel = s.pos_term == term
        vals = np.zeros(int(s.nlev[term]))
        vals[s.pos_level[sel]] = values[sel]
        out[term] = vals
    return out


def random_effects(s, st, x, d):
    """Spherical random effects per term, given the crossed-and-fixed solution ``x``.

    The eliminated (nested) terms are back-substituted block by block through ``st.Linv``;
    the crossed terms are read off ``x``. Shared by the dense and the iterative engine.
    """
    xpad = np.concatenate([x, [0.0, 0.0]])  # y slot and dummy
    xl = xpad[np.minimum(s.cidx[:, :-1], d)]
    # B = lam_e * Gec * lam_c (see DenseEngine.blocks), formed here on the fly: the states do not
    # keep B (it is as large as W).
    th = np.append(st.theta, 0.0)
    lam_c = th[s.slot_term[:, :-1]]
    lam_c[:, s.kr:] = 1.0
    rhs = s.Gec[:, :, -1] - (s.Gec[:, :, :-1] @ (lam_c * xl)[:, :, None])[:, :, 0]
    rhs *= th[s.pos_term]
    ue = (st.Linv.transpose(0, 2, 1) @ (st.Linv @ rhs[:, :, None]))[:, :, 0]
    u = levels_by_term(s, ue)
    for c in s.c_terms:
        u[c] = x[np.flatnonzero(s.c_term_of == c)]
    return u


@dataclass
class _Structure:
    """Everything that does not depend on theta: cross-products arranged in blocks."""

    n: int
    p: int
    terms: list
    nlev: np.ndarray
    block_term: int  # index of the blocking term g
    e_terms: list  # indices of terms eliminated block-wise (g first)
    c_terms: list  # indices of crossed terms (in the dense Schur complement)
    G: int
    m: int
    kr: int
    pos_term: np.ndarray  # (G, m) term index per local position, -1 padding
    pos_level: np.ndarray  # (G, m) level of that term, -1 padding
    Gee: np.ndarray  # (G, m, m) counts, float32
    Gec: np.ndarray  # (G, m, kc) crossed slots, X, y
    cidx: np.ndarray  # (G, kc) global index into the Schur matrix (dummy = d)
    slot_term: np.ndarray  # (G, kc) term index of slot, -1 for X/y/padding
    Gcc: sp.csr_matrix  # (d, d) [Z_c X y]'[Z_c X y]
    c_term_of: np.ndarray  # (d,) term index per Schur row, -1 for X/y
    qc: int
    scatter: list  # (blocks, slots k, map of their (blocks*k*k) products onto Schur entries)
    scatter_rows: np.ndarray
    scatter_cols: np.ndarray
    level_pos: dict = field(default_factory=dict)  # term -> (block, pos) arrays per level


def _nested_in(codes_u, nu, codes_t):
    parent = np.full(nu, -1, dtype=np.int64)
    parent[codes_u] = codes_t
    return bool((parent[codes_u] == codes_t).all()), parent


def _choose_blocking(codes, nlev, p):
    """Pick the term whose nested family, eliminated block-wise, leaves the cheapest rest."""
    best = None
    k = len(codes)
    for t in range(k):
        family, parents = [t], {}
        for u in range(k):
            if u != t and nlev[u] >= nlev[t]:
                ok, parent = _nested_in(codes[u], nlev[u], codes[t])
                if ok:
                    family.append(u)
                    parents[u] = parent
        m = 1 + sum(int(np.bincount(parents[u], minlength=nlev[t]).max()) for u in family[1:])
        d = sum(int(nlev[c]) for c in range(k) if c not in family) + p + 1
        cost = nlev[t] * (m**3 + m * m * d / max(nlev[t], 1)) + d**3 / 3.0
        if best is None or cost < best[0]:
            best = (cost, t, family, parents, m)
    return best[1:]


def build_structure(y, X, codes, nlev, terms) -> _Structure:
    """The blocked layout of the mixed model's matrices, computed once per fit.

    Chooses a blocking term (usually the ratee) and the terms nested in it (its *family*), so
    the penalised system splits into one small dense block per level of the blocking term plus
    the crossed terms (``c_terms``, e.g. raters). Returns the positions of every level inside
    its block, the cross-products within blocks (``Gee``), between blocks and the crossed part
    (``Gec``), within the crossed part (``Gcc``) and the scatter indices the engines use to
    assemble them for any ``theta``.
    """
    n, p = X.shape
    k = len(codes)
    t, family, parents, m = _choose_blocking(codes, nlev, p)
    G = int(nlev[t])
    c_terms = [c for c in range(k) if c not in family]

    # Local positions of every level of the family within its block.
    pos_term = np.full((G, m), -1, dtype=np.int64)
    pos_level = np.full((G, m), -1, dtype=np.int64)
    pos_term[:, 0] = t
    pos_level[:, 0] = np.arange(G)
    offset = np.ones(G, dtype=np.int64)
    level_pos = {t: (np.arange(G), np.zeros(G, dtype=np.int64))}
    for u in family[1:]:
        parent = parents[u]
        order = np.argsort(parent, kind="stable")
        counts = np.bincount(parent, minlength=G)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        rank = np.empty(nlev[u], dtype=np.int64)
        rank[order] = np.arange(nlev[u]) - starts[parent[order]]
        loc = offset[parent] + rank
        pos_term[parent, loc] = u
        pos_level[parent, loc] = np.arange(nlev[u])
        level_pos[u] = (parent, loc)
        offset += counts

    block = codes[t]
    # Observation-level indicator of family positions: Z_e (n x G*m), one column per slot.
    rows = np.repeat(np.arange(n), len(family))
    cols = np.column_stack([block * m + level_pos[u][1][codes[u]] for u in family]).ravel()
    Ze = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, G * m))
    ZeT = Ze.T.tocsr()
    ee = (ZeT @ Ze).tocoo()
    # Counts of ratings: whole numbers, exact in float32 (half the memory of this array).
    Gee = np.zeros((G, m, m), dtype=np.float32)
    Gee[ee.row // m, ee.row % m, ee.col % m] = ee.data

    # Crossed random terms: global Schur index per level.
    c_off = {}
    qc = 0
    for c in c_terms:
        c_off[c] = qc
        qc += int(nlev[c])
    d = qc + p + 1
    c_term_of = np.full(d, -1, dtype=np.int64)
    for c in c_terms:
        c_term_of[c_off[c]:c_off[c] + nlev[c]] = c

    # Slots: distinct crossed levels touching each block.
    if c_terms:
        gc = np.concatenate([c_off[c] + codes[c] for c in c_terms])
        gb = np.tile(block, len(c_terms))
        keys = np.unique(gb * (qc + 1) + gc)
        kb, kg = keys // (qc + 1), keys % (qc + 1)
        counts = np.bincount(kb, minlength=G)
        kr = int(counts.max())
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        slot = np.arange(len(keys)) - starts[kb]
    else:
        keys = kb = kg = slot = np.zeros(0, dtype=np.int64)
        kr = 0
    kc = kr + p + 1
    cidx = np.full((G, kc), d, dtype=np.int64)
    slot_term = np.full((G, kc), -1, dtype=np.int64)
    cidx[kb, slot] = kg
    slot_term[kb, slot] = c_term_of[kg]
    cidx[:, kr:] = np.arange(qc, d)

    # Gec: random crossed part via Z_e' Z_c, X and y part via Z_e' [X y].
    Gec = np.zeros((G, m, kc))
    if c_terms:
        rows = np.repeat(np.arange(n), len(c_terms))
        cols = np.column_stack([c_off[c] + codes[c] for c in c_terms]).ravel()
        Zc = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, qc))
        ec = (ZeT @ Zc).tocoo()
        eb = (ec.row // m).astype(np.int64)  # int32 from scipy: the key below overflows it
        where = np.searchsorted(keys, eb * (qc + 1) + ec.col)
        Gec[eb, ec.row % m, slot[where]] = ec.data
    else:
        Zc = sp.csr_matrix((n, 0))
    Xy = np.column_stack([X, y])
    Gec[:, :, kr:] = (ZeT @ Xy).reshape(G, m, p + 1)

    W = sp.hstack([Zc, sp.csr_matrix(Xy)]).tocsc()
    Gcc = (W.T @ W).tocsr() if qc else sp.csr_matrix(Xy.T @ Xy)

    # Scatter maps for the crossed-by-crossed part of sum_i W_i'W_i onto the Schur matrix
    # (d+1 square, dummy row d); the parts involving X and y are dense and summed directly.
    # Only pairs of used slots, one map per class of blocks by the number of slots they use:
    # blocks touch very different numbers of crossed levels (students rate 1 to 92 lecturers
    # in InstEval), and padded pairs are most of G*kr*kr.
    slots_used = (cidx[:, :kr] < d).sum(axis=1) if kr else np.zeros(G, dtype=np.int64)
    buckets, keys = [], []
    for idx, k in _buckets(slots_used, kr):
        ok, li, lj = _used_pairs(cidx[idx, :k], slots_used[idx], k)
        buckets.append((idx, k, ok))
        keys.append(li * (d + 1) + lj)
        del li, lj
    uniq, where = _unique_keys(keys, (d + 1) ** 2)
    scatter = []
    for (idx, k, ok), rows in zip(buckets, where, strict=True):
        scatter.append((idx, k, sp.csr_matrix((np.ones(len(ok)), (rows, ok)),
                                              shape=(len(uniq), len(idx) * k * k))))
    del buckets, keys, where
    return _Structure(
        n=n, p=p, terms=terms, nlev=np.asarray(nlev), block_term=t, e_terms=family,
        c_terms=c_terms, G=G, m=m, kr=kr, pos_term=pos_term, pos_level=pos_level, Gee=Gee,
        Gec=Gec, cidx=cidx, slot_term=slot_term, Gcc=Gcc, c_term_of=c_term_of, qc=qc,
        scatter=scatter, scatter_rows=uniq // (d + 1), scatter_cols=uniq % (d + 1),
        level_pos=level_pos,
    )


def _used_pairs(ci: np.ndarray, used: np.ndarray, k: int):
    """Pairs of used slots of each block: flat positions in the blocks' ``k x k`` products
    and the Schur rows and columns they add to.

    A block's used slots are its first ``used`` ones; enumerating their pairs directly
    (``sum used^2`` of them) avoids forming all ``blocks * k^2`` padded pairs and filtering.
    """
    used = used.astype(np.int64)
    sq = used * used
    total = int(sq.sum())
    block = np.repeat(np.arange(len(used)), sq)
    within = np.arange(total) - np.repeat(np.cumsum(sq) - sq, sq)
    width = used[block]
    a, b = within // width, within % width
    del within, width
    ok = (block * k + a) * k + b
    return ok, ci[block, a], ci[block, b]


def _unique_keys(keys: list, bound: int):
    """Sorted distinct values of the arrays ``keys`` (all below ``bound``) and each array's
    positions in them (``np.unique`` plus ``searchsorted``).

    Below about 16 million possible values (about 4,000 Schur rows) a marker array finds
    them in linear time (the sort was a third of the structure's time on InstEval); above, the
    sort. The positions by binary search: a rank array over every possible value would be four
    times the marker's memory, fresh pages that cost more than the search.
    """
    if not keys:
        return np.zeros(0, dtype=np.int64), []
    if bound <= 1 << 24:
        mark = np.zeros(bound, dtype=bool)
        for key in keys:
            mark[key] = True
        uniq = np.flatnonzero(mark)
        del mark
        return uniq, [np.searchsorted(uniq, key) for key in keys]
    uniq = np.unique(np.concatenate(keys))
    return uniq, [np.searchsorted(uniq, key) for key in keys]


def schur_products(s, W):
    """sum_i W_i'W_i split into crossed x crossed (on the scatter maps' entries), crossed x
    [X y] and [X y] x [X y] parts.

    The crossed products are formed per class of blocks by the slots they use (see
    :attr:`_Structure.scatter`), and the classes summed on the threads.
    """
    kr, q = s.kr, s.qc
    Wx = W[:, :, kr:]
    width = Wx.shape[2]

    def part(bucket):
        idx, k, scatter = bucket
        if len(idx) == s.G:  # one class: views, no copies
            idx = slice(None)
        Wr = W[idx, :, :k]
        Wrt = Wr.transpose(0, 2, 1)
        rr = scatter @ (Wrt @ Wr).ravel()
        rx = Wrt @ Wx[idx]
        rows = np.minimum(s.cidx[idx, :k], q)
        flat = (rows[:, :, None] * width + np.arange(width)).ravel()
        RX = np.bincount(flat, weights=rx.ravel(), minlength=(q + 1) * width)
        return rr, RX

    done = thread_map(part, s.scatter)
    rr = sum(r for r, _ in done)
    RX = sum(x for _, x in done).reshape(q + 1, width)[:q]
    XX = np.einsum("gmi,gmj->ij", Wx, Wx)
    return rr, RX, XX


def _buckets(used: np.ndarray, bound: int, n_buckets: int = 4):
    """Groups of blocks by a used size (at most ``n_buckets``), each with its size bound.

    Padding every block to the largest size wastes work when sizes differ widely; each group
    is processed at its own bound instead.
    """
    if len(used) < 2000 or used.max() == used.min():
        return [(np.arange(len(used)), bound)]
    edges = np.unique(np.quantile(used, np.linspace(0, 1, n_buckets + 1)[1:]).astype(int))
    edges[-1] = bound
    out, lower = [], -1
    for edge in edges:
        idx = np.flatnonzero((used > lower) & (used <= edge))
        if len(idx):
            out.append((idx, int(edge)))
        lower = edge
    return out


def size_buckets(s, n_buckets: int = 4):
    """Blocks grouped by the number of nested levels they hold (see :func:`_buckets`)."""
    return _buckets((s.pos_term >= 0).sum(axis=1), s.m, n_buckets)



def rank_deficient(X: np.ndarray) -> bool:
    """Collinear columns, judged on the scaled cross-product (cheap for tall designs)."""
    xtx = X.T @ X
    scale = np.sqrt(np.maximum(np.diagonal(xtx), 1e-300))
    if (np.diagonal(xtx) == 0).any():
        return True
    eig = np.linalg.eigvalsh(xtx / np.outer(scale, scale))
    return bool(eig.min() < 1e-10 * eig.max())




def slot_buckets(s, n_buckets: int = 4):
    """Blocks grouped by the number of crossed slots they use (see :func:`_buckets`)."""
    d = s.qc + s.p + 1
    used = (s.cidx[:, :s.kr] < d).sum(axis=1) if s.kr else np.zeros(s.G, dtype=np.int64)
    return _buckets(used, s.kr, n_buckets)
