"""What one model allreduce costs on a network: the alpha-beta-gamma model of the algorithms
MPI libraries choose, named interconnects, and ``MPIDL_SIMULATE_NETWORK`` (issue 16).

Costs for ``p`` ranks and a message of ``n`` bytes (Thakur, Rabenseifner and Gropp,
"Optimization of Collective Communication Operations in MPICH", IJHPCA 19(1), 2005), with
``alpha`` seconds per message, ``beta`` seconds per byte on the wire and ``gamma`` seconds per
byte of the reduction arithmetic, ``L = ceil(log2 p)``:

- recursive doubling (MPICH for n <= 2,048 bytes):  ``L (alpha + n beta + n gamma)``
- Rabenseifner, reduce-scatter + allgather (MPICH above): ``2 L alpha + 2 (p-1)/p n beta
  + (p-1)/p n gamma``
- ring (Open MPI's large-message choice): ``2 (p-1) alpha + 2 (p-1)/p n beta + (p-1)/p n gamma``

``benchmarks/model.py`` builds the scaling model on these; ``docs/scaling.md`` cites the
interconnect figures.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .errors import UserError

SHORT_MESSAGE_BYTES = 2048   # MPICH's MPIR_CVAR_ALLREDUCE_SHORT_MSG_SIZE default
GAMMA = 7e-11                # s/byte: float32 in-place add of 20 MB here (numpy, one core)


@dataclass(frozen=True)
class Interconnect:
    """alpha: seconds per message (MPI half round trip); beta: seconds per byte (1 /
    achieved bandwidth); gamma: seconds per byte reduced; source: where the figures come from."""

    alpha: float
    beta: float
    gamma: float = GAMMA
    source: str = ""


INTERCONNECTS = {
    # measured here, 2 ranks, MPICH shared memory (benchmarks/allreduce_fit.py): 3.3 us per
    # small message; 10 ms for the 21.5 MB [1024,1024] model on the quiet machine
    # (RESULTS.md 'scaling'); the reduction is folded into beta
    "shm": Interconnect(3.3e-6, 4.6e-10, 0.0, "measured here, MPICH shared memory, 2 ranks"),
    "10gbe": Interconnect(2.5e-5, 1 / 1.17e9, GAMMA,
                          "10 Gb/s line rate (IEEE 802.3ae), 94 % TCP payload; MPI over "
                          "kernel TCP"),
    "25gbe": Interconnect(2.0e-5, 1 / 2.9e9, GAMMA,
                          "25 Gb/s line rate (IEEE 802.3by), 94 % TCP payload; MPI over "
                          "kernel TCP"),
    "100gbe": Interconnect(1.0e-5, 1 / 11.5e9, GAMMA,
                           "100 Gb/s line rate (IEEE 802.3ba), 92 % payload; MPI over "
                           "kernel TCP"),
    "hdr": Interconnect(1.0e-6, 1 / 24.0e9, GAMMA,
                        "InfiniBand HDR 200 Gb/s (ConnectX-6), OSU MPI latency ~1 us, "
                        "bandwidth ~24 GB/s"),
}


def steps(ranks: int) -> int:
    """ceil(log2 ranks): the rounds of recursive doubling / halving."""
    return math.ceil(math.log2(ranks)) if ranks > 1 else 0


def recursive_doubling(nbytes: float, ranks: int, net: Interconnect) -> float:
    """Seconds of a recursive-doubling allreduce of ``nbytes`` over ``ranks``."""
    return steps(ranks) * (net.alpha + nbytes * (net.beta + net.gamma))


def rabenseifner(nbytes: float, ranks: int, net: Interconnect) -> float:
    """Seconds of a reduce-scatter + allgather (Rabenseifner) allreduce."""
    if ranks <= 1:
        return 0.0
    share = (ranks - 1) / ranks * nbytes
    return 2 * steps(ranks) * net.alpha + 2 * share * net.beta + share * net.gamma


def ring(nbytes: float, ranks: int, net: Interconnect) -> float:
    """Seconds of a ring allreduce (reduce-scatter and allgather around a ring)."""
    if ranks <= 1:
        return 0.0
    share = (ranks - 1) / ranks * nbytes
    return 2 * (ranks - 1) * net.alpha + 2 * share * net.beta + share * net.gamma


def allreduce_seconds(nbytes: float, ranks: int, net: Interconnect) -> float:
    """Seconds of one allreduce as MPICH runs it: recursive doubling up to 2,048 bytes,
    Rabenseifner above; 0 on one rank."""
    if ranks <= 1:
        return 0.0
    if nbytes <= SHORT_MESSAGE_BYTES:
        return recursive_doubling(nbytes, ranks, net)
    return rabenseifner(nbytes, ranks, net)


@dataclass(frozen=True)
class SimulatedNetwork:
    """``MPIDL_SIMULATE_NETWORK``: every model allreduce lasts what ``net`` predicts for
    ``ranks`` ranks (comm.py sleeps the difference after the real one)."""

    net: Interconnect
    ranks: int

    def seconds(self, nbytes: int) -> float:
        return allreduce_seconds(nbytes, self.ranks, self.net)


VARIABLE = "MPIDL_SIMULATE_NETWORK"


def _number(key: str, raw: str, text: str) -> float:
    try:
        v = float(raw)
    except ValueError:
        v = math.nan
    if not (math.isfinite(v) and v >= 0):
        raise UserError(f"{VARIABLE}={text!r}: {key}={raw!r} is not a number >= 0")
    return v


def parse_simulation(text: str, default_ranks: int) -> SimulatedNetwork | None:
    """``MPIDL_SIMULATE_NETWORK``'s value: a named interconnect (``hdr``, ``100gbe``, ...)
    and/or ``alpha=S,beta=S_PER_BYTE[,gamma=S_PER_BYTE]``, with ``ranks=N`` (default
    ``default_ranks``), comma-separated; '' is None.  Anything else is a UserError."""
    text = text.strip()
    if not text:
        return None
    fields, name = {}, None
    for item in (s.strip() for s in text.split(",")):
        key, eq, raw = item.partition("=")
        key = key.strip().lower()
        if not eq:
            if key not in INTERCONNECTS or name:
                raise UserError(f"{VARIABLE}={text!r}: unknown network {item!r} (one of "
                                f"{', '.join(INTERCONNECTS)}, or alpha=...,beta=...)")
            name = key
        elif key in ("alpha", "beta", "gamma", "ranks") and key not in fields:
            fields[key] = _number(key, raw.strip(), text)
        else:
            raise UserError(f"{VARIABLE}={text!r}: unknown or repeated key {key!r} "
                            "(alpha, beta, gamma, ranks)")
    base = INTERCONNECTS[name] if name else None
    if base is None and not {"alpha", "beta"} <= fields.keys():
        raise UserError(f"{VARIABLE}={text!r}: give a network name or both alpha and beta")
    ranks = fields.get("ranks", default_ranks)
    if ranks != int(ranks) or ranks < 1:
        raise UserError(f"{VARIABLE}={text!r}: ranks must be a whole number >= 1")
    base = base or Interconnect(fields["alpha"], fields["beta"], GAMMA, "given")
    net = Interconnect(fields.get("alpha", base.alpha), fields.get("beta", base.beta),
                       fields.get("gamma", base.gamma), base.source)
    return SimulatedNetwork(net, int(ranks))
