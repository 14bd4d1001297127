"""H2O's AUC histogram merge rule (``hex/AUC2.java``: ``AUCBuilder.reduce``), as one kernel.

A histogram is four float64 arrays over bins sorted by centre: ``ths`` (the centre, the mean
probability of the bin's rows), ``sqe`` (the rows' squared error around it), ``tps`` / ``fps``
(weights of the positive / negative rows).  H2O merges, one pair at a time, the adjacent pair
whose merge adds the least squared error (the first such pair on ties), until at most ``nbins``
bins remain and no two neighbours are equal in float32 (a "dup", merged first, leftmost first).
The merge cost of bins (a, b) is ``sqe_a + sqe_b + d^2 n_a n_b / (n_a + n_b)``, d the float32
difference of the centres and n the bin weights; a cost term of exactly 0 marks a dup.

H2O finds each pair by a linear scan; here a heap of pair costs with stale entries skipped
gives the same sequence of merges in O(n log n).  Helpers take scalars, not arrays: numba
counts references on every array passed to a function, which cost more than the heap itself.
"""

import numpy as np
from numba import njit


@njit(cache=True)
def _delta_error(th1, n1, th0, n0):
    delta = np.float64(np.float32(th1) - np.float32(th0))
    if delta == 0.0:
        return 0.0
    return delta * delta * n0 * n1 / (n0 + n1)


@njit(cache=True)
def _pair_cost(th_a, n_a, sqe_a, th_b, n_b, sqe_b):
    """H2O's find_smallest cost of merging bins a, b; -1 for a dup (merged first)."""
    derr = _delta_error(th_b, n_b, th_a, n_a)
    if derr == 0.0:
        return -1.0
    return sqe_a + sqe_b + derr


@njit(cache=True)
def _centre(th_a, k_a, th_b, k_b):
    """H2O's combine_centers: the weighted mean, or the plain mean if that overflows; equal
    centres stay exactly equal (the rounded mean could move a threshold by an ulp, and rows at
    it would change side)."""
    if th_a == th_b:
        return th_a
    centre = (th_a * k_a + th_b * k_b) / (k_a + k_b)
    return centre if np.isfinite(centre) else (th_a + th_b) / 2.0


@njit(cache=True)
def _less(cost_i, left_i, cost_j, left_j):
    return cost_i < cost_j or (cost_i == cost_j and left_i < left_j)


@njit(cache=True)
def _push(cost, left, entry, size, c, a, e):
    """Add (cost c, left bin a, entry e) to the heap of ``size`` items; returns the new size."""
    i = size
    cost[i], left[i], entry[i] = c, a, e
    while i > 0:
        parent = (i - 1) // 2
        if not _less(cost[i], left[i], cost[parent], left[parent]):
            break
        cost[i], cost[parent] = cost[parent], cost[i]
        left[i], left[parent] = left[parent], left[i]
        entry[i], entry[parent] = entry[parent], entry[i]
        i = parent
    return size + 1


@njit(cache=True)
def _pop(cost, left, entry, size):
    """Remove the heap's top item; returns the new size."""
    size -= 1
    cost[0], left[0], entry[0] = cost[size], left[size], entry[size]
    i = 0
    while True:
        lo = i
        c1 = 2 * i + 1
        if c1 < size and _less(cost[c1], left[c1], cost[lo], left[lo]):
            lo = c1
        if c1 + 1 < size and _less(cost[c1 + 1], left[c1 + 1], cost[lo], left[lo]):
            lo = c1 + 1
        if lo == i:
            return size
        cost[i], cost[lo] = cost[lo], cost[i]
        left[i], left[lo] = left[lo], left[i]
        entry[i], entry[lo] = entry[lo], entry[i]
        i = lo


@njit(cache=True)
def merge_bins(ths, sqe, tps, fps, nbins):
    """Merge sorted bins (float64[n] each, ascending ``ths``) down to <= ``nbins`` without dups.

    Returns the four arrays of the remaining bins (new arrays, ascending).  The inputs are
    modified.  The heap orders pairs by (cost, left bin): a dup's cost is -1, below any real
    cost, and the left bin's original position orders ties as H2O's left-to-right scan does.
    """
    n = ths.shape[0]
    nxt = np.arange(1, n + 1)
    prv = np.arange(-1, n - 1)
    alive = np.ones(n, dtype=np.bool_)
    ver = np.zeros(n, dtype=np.int64)
    cap = 3 * n + 1
    cost, left, entry = np.empty(cap), np.empty(cap, np.int64), np.empty(cap, np.int64)
    # entry e: the pair (left bin, right[e]) when the bins had versions vl[e], vr[e]
    right, vl, vr = np.empty(cap, np.int64), np.zeros(cap, np.int64), np.zeros(cap, np.int64)
    size = 0
    for a in range(n - 1):
        right[a] = a + 1
        c = _pair_cost(ths[a], tps[a] + fps[a], sqe[a], ths[a + 1], tps[a + 1] + fps[a + 1],
                       sqe[a + 1])
        size = _push(cost, left, entry, size, c, a, a)
    made = n - 1
    count = n
    while size > 0:
        a, e = left[0], entry[0]
        b = right[e]
        if not (alive[a] and alive[b] and ver[a] == vl[e] and ver[b] == vr[e]):
            size = _pop(cost, left, entry, size)
            continue
        if count <= nbins and cost[0] >= 0.0:
            break
        size = _pop(cost, left, entry, size)
        # bin b folds into bin a (H2O's mergeOneBin)
        k_a, k_b = tps[a] + fps[a], tps[b] + fps[b]
        sqe[a] = sqe[a] + sqe[b] + _delta_error(ths[b], k_b, ths[a], k_a)
        ths[a] = _centre(ths[a], k_a, ths[b], k_b)
        tps[a] += tps[b]
        fps[a] += fps[b]
        alive[b] = False
        ver[a] += 1
        nxt[a] = nxt[b]
        if nxt[b] < n:
            prv[nxt[b]] = a
        count -= 1
        for x, y in ((prv[a], a), (a, nxt[a])):
            if x >= 0 and y < n:
                right[made], vl[made], vr[made] = y, ver[x], ver[y]
                c = _pair_cost(ths[x], tps[x] + fps[x], sqe[x], ths[y], tps[y] + fps[y], sqe[y])
                size = _push(cost, left, entry, size, c, x, made)
                made += 1
    keep = np.flatnonzero(alive)
    return ths[keep].copy(), sqe[keep].copy(), tps[keep].copy(), fps[keep].copy()


@njit(cache=True)
def reduce_sorted_bins(ths, sqe, tps, fps, nbins):
    """``merge_bins`` as a tree of H2O reduces: the sorted bins are cut into consecutive blocks
    of ``8 * nbins``, each block merged to <= ``nbins``, and again, until one block remains
    (H2O reduces per-chunk histograms the same way).  Keeps each heap small enough for the
    cache: a heap over a million bins costs a cache miss per level."""
    block = 8 * nbins
    while ths.shape[0] > block:
        n = ths.shape[0]
        out = np.empty((4, n))
        w = 0
        for start in range(0, n, block):
            stop = min(n, start + block)
            parts = merge_bins(ths[start:stop].copy(), sqe[start:stop].copy(),
                               tps[start:stop].copy(), fps[start:stop].copy(), nbins)
            k = parts[0].shape[0]
            for i in range(4):
                out[i, w:w + k] = parts[i]
            w += k
        ths, sqe, tps, fps = out[0, :w].copy(), out[1, :w].copy(), out[2, :w].copy(), \
            out[3, :w].copy()
    return merge_bins(ths, sqe, tps, fps, nbins)
