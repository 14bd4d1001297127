"""H2O's AUC histogram (``hex/AUC2.java``: ``AUCBuilder.perRow`` and ``reduce``) as kernels.

A histogram is four float64 arrays over bins sorted by centre: ``ths`` (the centre, the mean
probability of the bin's rows), ``sqe`` (the rows' squared error around it), ``tps`` / ``fps``
(weights of the positive / negative rows).  H2O merges, one pair at a time, the adjacent pair
whose merge adds the least squared error (the first such pair on ties), until at most ``nbins``
bins remain and no two neighbours are equal in float32 (a "dup", merged first, leftmost first).
The merge cost of bins (a, b) is ``sqe_a + sqe_b + d^2 n_a n_b / (n_a + n_b)``, d the float32
difference of the centres and n the bin weights; a cost term of exactly 0 marks a dup.

``stream_bins`` builds one rank's histogram row by row (H2O's perRow, per chunk); ``merge_bins``
merges histograms (H2O's reduce).  H2O finds each pair by a linear scan; ``merge_bins`` keeps a
heap of pair costs with stale entries skipped, which gives the same sequence of merges in
O(n log n).  Helpers take scalars, not arrays: numba
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
def _find_smallest(ths, sqe, tps, fps, n):
    """H2O's find_smallest_impl: the first dup pair, else the first pair of least cost, else
    (costs not finite) the pair of nearest centres."""
    if n == 1:
        return 0
    best, best_i = np.inf, -1
    for i in range(n - 1):
        derr = _delta_error(ths[i + 1], tps[i + 1] + fps[i + 1], ths[i], tps[i] + fps[i])
        if derr == 0.0:
            return i
        c = sqe[i] + sqe[i + 1] + derr
        if c < best:
            best, best_i = c, i
    if best_i == -1:
        best_i, dist = 0, ths[1] - ths[0]
        for i in range(1, n - 1):
            if ths[i + 1] - ths[i] < dist:
                best_i, dist = i, ths[i + 1] - ths[i]
    return best_i


@njit(cache=True)
def _merge_one_bin(ths, sqe, tps, fps, n, i):
    """H2O's mergeOneBin on the pair (i, i + 1) of the first ``n`` bins; the rest slides left."""
    k0, k1 = tps[i] + fps[i], tps[i + 1] + fps[i + 1]
    sqe[i] = sqe[i] + sqe[i + 1] + _delta_error(ths[i + 1], k1, ths[i], k0)
    ths[i] = _centre(ths[i], k0, ths[i + 1], k1)
    tps[i] += tps[i + 1]
    fps[i] += fps[i + 1]
    for j in range(i + 1, n - 1):
        ths[j], sqe[j], tps[j], fps[j] = ths[j + 1], sqe[j + 1], tps[j + 1], fps[j + 1]


@njit(cache=True)
def _first_not_below(ths, n, x):
    """Binary search: the first of the ``n`` ascending centres that is >= x (n if none)."""
    lo, hi = 0, n
    while lo < hi:
        mid = (lo + hi) >> 1
        if ths[mid] < x:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True)
def _insert(ths, sqe, tps, fps, n, idx, pred, wr, pos, nbins):
    """A bin of its own for one row at ``idx``; when that makes ``nbins + 1`` bins, the
    cheapest pair merges (H2O's perRow tail).  Returns the new bin count."""
    for j in range(n, idx, -1):
        ths[j], sqe[j], tps[j], fps[j] = ths[j - 1], sqe[j - 1], tps[j - 1], fps[j - 1]
    ths[idx], sqe[idx] = pred, 0.0
    tps[idx], fps[idx] = (wr, 0.0) if pos else (0.0, wr)
    n += 1
    if n > nbins:
        _merge_one_bin(ths, sqe, tps, fps, n, _find_smallest(ths, sqe, tps, fps, n))
        n -= 1
    return n


@njit(cache=True)
def stream_bins(p1, y, w, nbins):
    """H2O's AUCBuilder.perRow over rows in order: the histogram (ths, sqe, tps, fps, ascending,
    <= ``nbins`` bins) of probabilities ``p1`` float64[n] (finite) with classes ``y`` int64[n]
    in {0, 1} and weights ``w`` float64[n].

    Each row joins the bin of an equal centre, or (histogram full) folds into a neighbour when
    that adds less squared error than the cheapest merge of two bins, or becomes a bin of its
    own, after which the cheapest pair is merged.  The cheapest pair is cached between rows
    as H2O does (``ssx``), so most rows cost a binary search.
    """
    ths, sqe = np.zeros(nbins + 1), np.zeros(nbins + 1)
    tps, fps = np.zeros(nbins + 1), np.zeros(nbins + 1)
    n, ssx = 0, -1
    for r in range(p1.shape[0]):
        pred, wr, pos = p1[r], w[r], y[r] == 1
        idx = _first_not_below(ths, n, pred)
        if idx < n and ths[idx] == pred:          # an equal centre: one more count
            if pos:
                tps[idx] += wr
            else:
                fps[idx] += wr
            ssx = -1
            continue
        if n == nbins and 0 < idx < n and ths[idx - 1] != ths[idx]:
            if ssx == -1:
                ssx = _find_smallest(ths, sqe, tps, fps, n)
            dssx = sqe[ssx] + sqe[ssx + 1] + _delta_error(
                ths[ssx + 1], tps[ssx + 1] + fps[ssx + 1], ths[ssx], tps[ssx] + fps[ssx])
            d0 = sqe[idx - 1] + _delta_error(pred, wr, ths[idx - 1], tps[idx - 1] + fps[idx - 1])
            d1 = sqe[idx] + _delta_error(ths[idx], tps[idx] + fps[idx], pred, wr)
            if d0 < dssx or d1 < dssx:                # fold into the cheaper neighbour
                if d0 <= d1:
                    idx -= 1
                if ssx == idx - 1 or ssx == idx:
                    ssx = -1
                k = tps[idx] + fps[idx]
                if pos:
                    tps[idx] += wr
                else:
                    fps[idx] += wr
                sqe[idx] = sqe[idx] + _delta_error(pred, wr, ths[idx], k)
                ths[idx] = _centre(ths[idx], k, pred, wr)
                continue
        if idx == 0 or idx == n or idx == ssx:
            ssx = -1
        elif idx < ssx:
            ssx += 1
        if n == nbins:                                # the insert merges a pair
            ssx = -1
        n = _insert(ths, sqe, tps, fps, n, idx, pred, wr, pos, nbins)
    return ths[:n].copy(), sqe[:n].copy(), tps[:n].copy(), fps[:n].copy()
