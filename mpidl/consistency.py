"""Every rank must run the same job: ranks that read different job files (a file edited while
the ranks start, an MPMD launch with a different job per rank) would otherwise exchange buffers
of different sizes and die in MPI ("Message truncated").

Each rank hashes its validated parameters; one allgather of the 32-byte digests compares them,
and only on a mismatch are the parameters themselves gathered to name the first that differs.
"""

from __future__ import annotations

import hashlib
import json

from .errors import UserError


def digest(values: dict) -> str:
    """sha256 of ``values`` as canonical JSON (sorted keys; non-JSON values by their str)."""
    text = json.dumps(values, sort_keys=True, allow_nan=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def check_same_on_every_rank(comm, values: dict, source: str) -> None:
    """Collective: raise the same UserError on every rank unless all hold equal ``values``.

    ``source`` names what the values came from (the job file), for the message.
    """
    digests = comm.allgather_obj(digest(values))
    if len(set(digests)) == 1:
        return
    everyone = comm.allgather_obj(values)
    rank = next(r for r, d in enumerate(digests) if d != digests[0])
    name = next(k for k in sorted(set(everyone[0]) | set(everyone[rank]))
                if everyone[0].get(k) != everyone[rank].get(k))
    err = UserError(f"{source}: ranks read different jobs (parameter '{name}' is "
                    f"{json.dumps(everyone[rank].get(name), default=str)} on rank {rank}, "
                    f"{json.dumps(everyone[0].get(name), default=str)} on rank 0); every rank "
                    "must run the same job")
    err.agreed = True
    raise err
