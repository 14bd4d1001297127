"""The row scheduler (train/rows.py, spec 5.3): counts, order, shuffling, importance sampling.

References are hand counts and the weights themselves; the multi-rank facts (ranks' orders
differ, global weight proportionality) are in tests/mpi/test_rows_mpi.py.
"""

import math

import numpy as np
import pytest

from mpidl.comm import SerialComm
from mpidl.train.rows import RowPlan, apportion, auto_shuffle, rank_shares


def chi_square_p(observed: np.ndarray, expected: np.ndarray) -> float:
    """Upper-tail p-value of Pearson's chi-square (Wilson-Hilferty normal approximation)."""
    x = float(((observed - expected) ** 2 / expected).sum())
    k = observed.size - 1
    z = ((x / k) ** (1 / 3) - (1 - 2 / (9 * k))) / math.sqrt(2 / (9 * k))
    return 0.5 * math.erfc(z / math.sqrt(2))


def test_apportion_adds_up_exactly_and_splits_evenly():
    assert apportion(381, np.ones(2)).tolist() == [191, 190]
    assert apportion(7, np.array([0.0, 1.0, 1.0, 1.0])).tolist() == [0, 3, 2, 2]
    counts = apportion(1000, np.array([37.0, 12.0, 51.0]))
    assert counts.sum() == 1000 and counts.tolist() == [370, 120, 510]


def test_one_epoch_of_an_odd_row_count_on_two_replicated_ranks_is_one_epoch():
    """tspi = R = 381 split over 2 replicated ranks: 191 + 190 rows, not 2 x round(190.5)."""
    shares = np.ones(2)
    rows = [RowPlan(381, r, shares, True).local_rows(381) for r in range(2)]
    assert sum(rows) == 381


def test_whole_passes_in_file_order_without_shuffle():
    plan = RowPlan(10, 0, np.ones(1), shuffle=False)
    assert plan.order(20, np.random.default_rng(0)).tolist() == list(range(10)) * 2


def test_whole_passes_shuffled_with_shuffle():
    plan = RowPlan(50, 0, np.ones(1), shuffle=True)
    o = plan.order(100, np.random.default_rng(0))
    assert np.array_equal(np.bincount(o, minlength=50), np.full(50, 2))
    assert o[:50].tolist() != list(range(50))
    assert o[:50].tolist() == o[50:].tolist()   # H2O: one permutation per iteration


def test_a_sampled_subset_is_distinct_rows_in_shuffled_order():
    plan = RowPlan(1000, 0, np.ones(1), shuffle=False)
    o = plan.order(250, np.random.default_rng(1))
    assert o.size == 250 and np.unique(o).size == 250
    assert not np.all(np.diff(o) > 0)          # not file order
    o = plan.order(2500, np.random.default_rng(2))   # 2.5 passes: 3 passes of 834/833/833
    assert o.size == 2500 and np.bincount(o, minlength=1000).max() <= 3


def test_no_rows_for_a_rank_without_rows_or_without_share():
    assert RowPlan(0, 0, np.ones(1), True).local_rows(100) == 0
    assert RowPlan(10, 1, np.array([1.0, 0.0]), True).local_rows(100) == 0
    assert RowPlan(10, 0, np.ones(1), True).order(0, np.random.default_rng(0)).size == 0


def test_importance_sampling_frequencies_follow_the_weights():
    """Chi-square of row counts against counts proportional to the weights (fixed seed)."""
    w = np.r_[np.full(20, 0.5), np.full(20, 2.0), np.linspace(1, 5, 20)]
    plan = RowPlan(60, 0, np.ones(1), False, w)
    counts = np.bincount(plan.order(60000, np.random.default_rng(3)), minlength=60)
    assert chi_square_p(counts, 60000 * w / w.sum()) > 1e-3
    # and a wrong reference is rejected by the same test
    assert chi_square_p(counts, np.full(60, 1000.0)) < 1e-6


def test_shares_by_rows_by_weight_mass_or_equal_when_replicated():
    comm = SerialComm()
    assert rank_shares(comm, 40, None, True, False).tolist() == [40.0]
    assert rank_shares(comm, 40, np.full(40, 2.5), True, False).tolist() == [100.0]
    assert rank_shares(comm, 40, None, True, True).tolist() == [1.0]
    assert rank_shares(comm, 40, None, False, True).tolist() == [0.0]


@pytest.mark.parametrize("user,replicated,nranks,trainers,repro,tspi,expect", [
    (True, False, 1, 1, False, 5, True),       # asked for
    (False, True, 4, 4, False, 400, True),     # replicated, a whole pass on every rank
    (False, True, 4, 1, False, 100, True),     # single_node_mode: rank 0's whole pass
    (False, True, 4, 4, True, 400, False),     # reproducible: never automatic
    (False, True, 4, 4, False, 100, False),    # a quarter pass each: sampled, not whole
    (False, False, 1, 1, True, 100, True),     # one chunk (reproducible, one rank), one epoch
    (False, False, 1, 1, False, 100, False),   # several chunks (threads): file order
])
def test_auto_shuffle_rules(user, replicated, nranks, trainers, repro, tspi, expect):
    assert auto_shuffle(user, replicated, nranks, trainers, repro, tspi, 100) is expect
