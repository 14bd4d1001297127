"""The allreduce cost model and MPIDL_SIMULATE_NETWORK (issue 16 point 4), against hand values."""

from __future__ import annotations

import numpy as np
import pytest

import mpidl.comm as comm_module
from mpidl.comm import SerialComm
from mpidl.errors import UserError
from mpidl.netmodel import (INTERCONNECTS, Interconnect, allreduce_seconds, parse_simulation,
                            rabenseifner, recursive_doubling, ring)

NET = Interconnect(alpha=1e-6, beta=1e-9, gamma=0.0)


def test_recursive_doubling_is_log_p_rounds_of_the_whole_message():
    # 8 ranks: 3 rounds of (1 us + 1,000 bytes x 1 ns)
    assert recursive_doubling(1000, 8, NET) == pytest.approx(3 * (1e-6 + 1e-6))


def test_rabenseifner_and_ring_move_twice_the_message_once():
    # 4 ranks, 1 MB: 2 x 2 latencies + 2 x 3/4 x 1e6 bytes x 1 ns
    assert rabenseifner(1e6, 4, NET) == pytest.approx(4e-6 + 1.5e-3)
    assert ring(1e6, 4, NET) == pytest.approx(6e-6 + 1.5e-3)
    # the reduction's arithmetic: (p-1)/p of the bytes once
    assert rabenseifner(1e6, 4, Interconnect(0, 0, 2e-9)) == pytest.approx(1.5e-3)


def test_mpich_switches_algorithm_above_2048_bytes():
    assert allreduce_seconds(2048, 16, NET) == pytest.approx(4 * (1e-6 + 2048e-9))
    assert allreduce_seconds(4096, 16, NET) == pytest.approx(8e-6 + 2 * 15 / 16 * 4096e-9)
    assert allreduce_seconds(1e9, 1, NET) == 0.0


def test_hdr_model_allreduce_of_20_mb_at_1024_nodes():
    # [1024,1024] MNIST with ADADELTA: 20.5 MB; 10 rounds: 20 us latency, ~1.7 ms wire
    hdr = INTERCONNECTS["hdr"]
    expect = 20 * hdr.alpha + 2 * 1023 / 1024 * 20.5e6 / 24e9 + 1023 / 1024 * 20.5e6 * hdr.gamma
    assert allreduce_seconds(20.5e6, 1024, hdr) == pytest.approx(expect)


def test_simulation_values():
    sim = parse_simulation("alpha=2e-6,beta=8e-11,ranks=1024", 2)
    assert (sim.net.alpha, sim.net.beta, sim.ranks) == (2e-6, 8e-11, 1024)
    named = parse_simulation(" hdr , ranks=64 ", 2)
    assert named.net == INTERCONNECTS["hdr"] and named.ranks == 64
    assert parse_simulation("100gbe", 4).ranks == 4           # the job's own ranks
    assert parse_simulation("hdr,alpha=5e-6", 2).net.alpha == 5e-6
    assert parse_simulation("", 2) is None


@pytest.mark.parametrize("text", ["myrinet", "alpha=1e-6", "alpha=x,beta=1e-9", "hdr,ranks=0",
                                  "hdr,ranks=2.5", "hdr,speed=1", "hdr,alpha=-1", "hdr,hdr",
                                  "alpha=1,alpha=2,beta=1"])
def test_bad_simulation_values_name_the_variable(text):
    with pytest.raises(UserError, match="MPIDL_SIMULATE_NETWORK"):
        parse_simulation(text, 2)


def test_model_allreduce_sleeps_to_the_predicted_seconds(monkeypatch):
    slept = []
    monkeypatch.setattr(comm_module.time, "sleep", slept.append)
    comm = SerialComm()
    comm.simulate_network("alpha=0.05,beta=0,gamma=0,ranks=2")
    buf = comm.allreduce_model(np.zeros(1000, "float32"))
    assert buf.shape == (1000,)
    # 4,000 bytes on 2 ranks: Rabenseifner, 2 x 1 x 0.05 s, less the (tiny) real allreduce
    assert len(slept) == 1 and 0.09 < slept[0] <= 0.1
    comm.simulate_network("")
    comm.allreduce_model(np.zeros(10, "float32"))
    assert len(slept) == 1
