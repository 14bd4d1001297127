"""The scaling model's formulas (benchmarks/model.py, issue 16 point 3) against hand values."""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from mpidl.netmodel import Interconnect

_spec = importlib.util.spec_from_file_location(
    "scaling_model", Path(__file__).resolve().parents[1] / "benchmarks" / "model.py")
model = sys.modules["scaling_model"] = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(model)

# 10 ms per message, free bytes: a 2-rank model allreduce costs 2 x 10 ms (Rabenseifner), the
# small counts allreduce 10 ms (recursive doubling, 72 bytes)
NET = Interconnect(alpha=0.01, beta=0.0, gamma=0.0)
BASE = model.Setup(nbytes=10**6, speed=1000.0, net=NET, rows=60000, epochs=10, target=0.05,
                   fixed=0.0)


def test_model_bytes_counts_weights_biases_and_optimizer_state():
    # [2, 3, 1]: 2x3 + 3 + 3x1 + 1 = 13 parameters, 3 float32 each (ADADELTA)
    assert model.model_bytes([2, 3, 1]) == 13 * 3 * 4
    assert model.model_bytes([717, 1024, 1024, 10]) == 1_795_082 * 12   # 21.5 MB


def test_one_rank_iterates_about_10_seconds_at_full_speed():
    it = model.iteration(BASE, 1)
    # -2 on one rank: (0.01 / 1e-3 - 0.01) s / 1 ms per row
    assert it["tspi"] == 9990 and it["speed"] == pytest.approx(1000.0)


def test_two_ranks_follow_h2os_iteration_rule():
    it = model.iteration(BASE, 2)
    # planned overhead 0.1 + 2 x 0.02 = 0.14 s; tspi = (0.14 / 0.05 - 0.14) / (1 ms / 2)
    assert it["tspi"] == 5320
    # compute 5320 / 2000 = 2.66 s, overhead 0.02 + 0.01 s
    assert it["seconds"] == pytest.approx(2.69)
    assert model.efficiency(BASE, 2) == pytest.approx(5320 / 2.69 / 2000)


def test_a_rank_at_half_speed_halves_blocking_averaging():
    slow = replace(BASE, slowdown=2.0, fill=False)
    it = model.iteration(slow, 2)
    # the waits make -2 plan ever longer iterations, up to a tenth of the run (60,000 rows):
    # 30 s of compute on the fast rank, 60 s on the slow one
    assert it["tspi"] == 60000
    assert model.efficiency(slow, 2) == pytest.approx(60000 / 60.03 / 2000)


def test_training_while_waiting_recovers_the_fast_ranks_time():
    slow = replace(BASE, slowdown=2.0, fill=True)
    it = model.iteration(slow, 2)
    # no idle time: H2O's plan; the fast rank trains its share again while the slow finishes
    assert it["tspi"] == 5320
    assert it["speed"] == pytest.approx((5320 + 2660) / (2 * 2.66 + 0.03))


def test_stragglers_from_a_spread_of_speeds():
    spread = replace(BASE, cv=0.1)
    assert model.slowest(spread, 1024) == pytest.approx(1 + 0.1 * (2 * 6.931471805599453) ** 0.5)
    assert model.slowest(spread, 1) == 1.0


def test_a_simulated_network_charges_its_own_rank_count():
    # 2 ranks computing, the model allreduce of 1,024 ranks: 2 x 10 x 10 ms; the small counts
    # allreduce stays the 2 ranks' 10 ms (the simulation slows the model allreduce only)
    it = model.iteration(BASE, 2, comm_ranks=1024)
    assert it["allreduce"] == pytest.approx(0.2)
    assert it["overhead"] == pytest.approx(0.21)
