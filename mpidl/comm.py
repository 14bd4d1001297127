"""The communicator: the only module that imports mpi4py.

``world()`` returns an :class:`MPIComm` when the process was started by an MPI launcher
(mpirun / mpiexec / srun with PMI) and a :class:`SerialComm` otherwise, so the same code
runs as one rank without MPI.  Every method is a collective unless its docstring says
otherwise; every rank must call collectives in the same order.

Buffer-based calls (``Allreduce``/``Bcast``/``Allgather``/``Send``/``Recv`` on contiguous numpy
arrays) move model state, metric statistics and prediction blocks;
pickled calls (``bcast_obj``/``gather_obj``) carry only small control messages.

A node is the ranks that share memory (``node_comm``: ``MPI_Comm_split_type`` with
``COMM_TYPE_SHARED``, or pretend nodes of ``MPIDL_RANKS_PER_NODE`` consecutive ranks);
``share_array`` puts one array in an MPI-3 shared-memory window that every rank of a node maps.
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np

from .errors import UserError
from .counters import Counter, WindowCounter
from .launch_env import launched_by_mpi


class Finished:
    """A non-blocking collective that has completed (what :class:`SerialComm` returns)."""

    def done(self) -> bool:
        """Whether the collective has completed on this rank (never blocks)."""
        return True

    def wait(self) -> None:
        """Block until the collective has completed on this rank."""


class Pending(Finished):
    """A non-blocking MPI collective in flight (an mpi4py request)."""

    def __init__(self, request):
        self._request = request

    def done(self) -> bool:
        return bool(self._request.Test())

    def wait(self) -> None:
        self._request.Wait()


class SimulatedPending(Finished):
    """A non-blocking collective under ``MPIDL_SIMULATE_NETWORK``: done once the real one is
    and the simulated network's time since its start (``deadline``, perf_counter seconds) has
    passed; compute done meanwhile hides that time."""

    def __init__(self, request: Finished, deadline: float):
        self._request, self._deadline = request, deadline

    def done(self) -> bool:
        return self._request.done() and time.perf_counter() >= self._deadline

    def wait(self) -> None:
        self._request.wait()
        left = self._deadline - time.perf_counter()
        if left > 0:
            time.sleep(left)


def ranks_per_node_setting() -> int | None:
    """``MPIDL_RANKS_PER_NODE`` (pretend nodes of that many consecutive ranks), or None."""
    raw = os.environ.get("MPIDL_RANKS_PER_NODE", "").strip()
    if not raw:
        return None
    if not raw.isdigit() or int(raw) < 1:
        raise UserError(f"MPIDL_RANKS_PER_NODE={raw!r}: expected a whole number of ranks >= 1")
    return int(raw)


class SerialComm:
    """One rank, no MPI: collectives are identities."""

    rank = 0
    size = 1
    network = None   # a netmodel.SimulatedNetwork (MPIDL_SIMULATE_NETWORK), or None
    model_allreduces = 0   # allreduce_model calls on this communicator by this rank

    @property
    def is_root(self) -> bool:
        return self.rank == 0

    def allreduce_sum(self, arr: np.ndarray) -> np.ndarray:
        """In-place elementwise sum over ranks of a contiguous array; returns it."""
        return arr

    def allreduce_max(self, arr: np.ndarray) -> np.ndarray:
        """In-place elementwise max over ranks; returns it."""
        return arr

    def allreduce_min(self, arr: np.ndarray) -> np.ndarray:
        """In-place elementwise min over ranks; returns it."""
        return arr

    def bcast_array(self, arr: np.ndarray, root: int = 0) -> np.ndarray:
        """In-place broadcast of a contiguous array from ``root``; returns it."""
        return arr

    def allgather_array(self, arr: np.ndarray) -> np.ndarray:
        """Every rank's ``arr`` (contiguous, same shape and dtype on all ranks) stacked in rank
        order: shape ``(size, *arr.shape)``, on every rank."""
        return arr[None].copy()

    def send_array(self, arr: np.ndarray, dest: int) -> None:
        """Send a contiguous array to rank ``dest`` (point to point, not a collective)."""
        raise ValueError("send_array: a single rank has no other rank to send to")

    def isend_array(self, arr: np.ndarray, dest: int) -> Finished:
        """Start sending the contiguous ``arr`` to rank ``dest`` (point to point); ``arr`` must
        stay unchanged until the returned request is done."""
        raise ValueError("isend_array: a single rank has no other rank to send to")

    def recv_array(self, arr: np.ndarray, source: int) -> np.ndarray:
        """Receive into the contiguous ``arr`` from rank ``source`` (point to point); returns
        it."""
        raise ValueError("recv_array: a single rank has no other rank to receive from")

    def bcast_obj(self, obj, root: int = 0):
        """Broadcast a small picklable object from ``root``."""
        return obj

    def gather_obj(self, obj, root: int = 0):
        """List of every rank's ``obj`` on ``root`` (None elsewhere)."""
        return [obj]

    def allgather_obj(self, obj):
        """List of every rank's ``obj`` on every rank."""
        return [obj]

    def barrier(self) -> None:
        """Wait for every rank."""

    def ibarrier(self) -> Finished:
        """Start a barrier without waiting for it: the returned request is ``done()`` once
        every rank has started the same barrier (MPI_Ibarrier)."""
        return Finished()

    def abort(self, code: int) -> None:
        """End every rank of the job now with exit status ``code`` (not a collective)."""
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)

    def agree(self, error: UserError | None) -> None:
        """Phase boundary: if any rank has a user error, raise the same one on every rank.

        Each rank passes the error it caught (or None).  The lowest failing rank's message is
        broadcast, and every rank raises ``UserError`` with ``agreed = True`` so the command
        line exits 2 on all ranks while printing the line once.
        """
        flag = np.array([self.rank if error is not None else self.size], dtype=np.int64)
        self.allreduce_min(flag)
        src = int(flag[0])
        if src == self.size:
            return
        msg = self.bcast_obj(str(error) if self.rank == src else None, root=src)
        err = UserError(msg)
        err.agreed = True
        raise err

    def call_agreed(self, fn, *args):
        """``fn(*args)`` on every rank; a UserError on any rank is raised (agreed) on all ranks."""
        err, out = None, None
        try:
            out = fn(*args)
        except UserError as e:
            err = e
        self.agree(err)
        return out

    def call_root_agreed(self, fn, *args):
        """``fn(*args)`` on rank 0 alone (a write, a check); a UserError there is raised (agreed)
        on every rank, so every rank exits 2 and the line is printed once.  Returns ``fn``'s
        value on rank 0, None elsewhere."""
        return self.call_agreed(fn if self.is_root else (lambda *a: None), *args)

    def split(self, color: int) -> "SerialComm":
        """A communicator of the ranks that pass the same ``color`` (MPI_Comm_split, ranks in
        this communicator's order); one rank: a new one-rank communicator."""
        return SerialComm()

    def shared_counter(self) -> "Counter":
        """A counter every rank may advance on its own (``Counter.take``), held by rank 0 of
        this communicator (collective: every rank creates it, and frees it together)."""
        return Counter()

    def node_comm(self) -> SerialComm:
        """The ranks of this node, as a communicator of their own (a collective of this
        communicator); a single rank is its own node."""
        ranks_per_node_setting()
        return self

    def share_array(self, arr: np.ndarray | None) -> np.ndarray:
        """Rank 0's ``arr`` in memory every rank of this (node) communicator maps: a view of
        the same shape and dtype on every rank (the others pass None).  One rank: ``arr``."""
        return arr

    def free_shared(self) -> None:
        """Free the windows of every ``share_array`` of this communicator (their views must
        not be used after)."""

    def free(self) -> None:
        """Free this communicator (one made by ``split``), its shared windows first; it must
        not be used after (a collective of its ranks)."""
        self.free_shared()

    def simulate_network(self, text: str) -> None:
        """Not a collective: model allreduces last what ``MPIDL_SIMULATE_NETWORK``'s value
        ``text`` predicts ('': the real network only); a bad value is a UserError."""
        from .netmodel import parse_simulation
        self.network = parse_simulation(text, self.size)

    def allreduce_model(self, arr: np.ndarray) -> np.ndarray:
        """``allreduce_sum`` of a model buffer; under a simulated network it then sleeps until
        it has lasted what the network model predicts for its bytes and ranks.  Counted in
        ``model_allreduces`` (calls on this communicator, this rank)."""
        self.model_allreduces += 1
        t0 = time.perf_counter()
        self.allreduce_sum(arr)
        if self.network is not None:
            left = self.network.seconds(arr.nbytes) - (time.perf_counter() - t0)
            if left > 0:
                time.sleep(left)
        return arr

    # ---------------------------------------------------------- averaging_overlap (issue 16)
    def iallreduce_model(self, send: np.ndarray, recv: np.ndarray) -> Finished:
        """Start the elementwise sum over ranks of the model buffer ``send`` into ``recv``
        (contiguous, same shape and dtype; MPI_Iallreduce) and return its request: ``recv``
        holds the sum once ``wait()`` returned.  Under a simulated network the simulated time
        runs from this start, so ``wait()`` sleeps only what is left of it."""
        recv[...] = send
        return self._simulated(Finished(), send.nbytes)

    def _simulated(self, request: Finished, nbytes: int) -> Finished:
        """``request``, ending no earlier than the simulated network says (from now)."""
        if self.network is None:
            return request
        return SimulatedPending(request, time.perf_counter() + self.network.seconds(nbytes))

    def timed_allreduce(self, arr: np.ndarray) -> float:
        """Seconds one ``allreduce_model`` of ``arr`` takes (max over ranks); ``arr`` is
        summed."""
        self.barrier()
        t0 = time.perf_counter()
        self.allreduce_model(arr)
        dt = np.array([time.perf_counter() - t0])
        return float(self.allreduce_max(dt)[0])


class MPIComm(SerialComm):
    """COMM_WORLD through mpi4py (or ``c``, a communicator made from it)."""

    def __init__(self, c=None, parent=None):
        from mpi4py import MPI
        self._MPI = MPI
        self._c = MPI.COMM_WORLD if c is None else c
        self._parent = parent        # the communicator ``split`` cut this one from, or None
        self.rank = self._c.Get_rank()
        self.size = self._c.Get_size()
        self._nodes: dict[int | None, MPIComm] = {}   # node communicators by pretend size
        self._windows: list = []                      # shared windows, freed by free_shared

    def node_comm(self):
        """The shared-memory split (``COMM_TYPE_SHARED``), cut into pretend nodes of
        ``MPIDL_RANKS_PER_NODE`` consecutive ranks when it is set.  Pretend nodes still map
        real shared memory: they are cut from a real node, never spanning two."""
        per_node = self.call_agreed(ranks_per_node_setting)
        if per_node not in self._nodes:
            node = self._c.Split_type(self._MPI.COMM_TYPE_SHARED, key=self.rank)
            if per_node is not None:
                cut = node.Split(color=node.Get_rank() // per_node, key=self.rank)
                node.Free()
                node = cut
            self._nodes[per_node] = MPIComm(node)
        return self._nodes[per_node]

    def share_array(self, arr):
        """Rank 0 allocates the window (``MPI.Win.Allocate_shared``) and copies ``arr`` in;
        the others allocate nothing and map rank 0's part (``Shared_query``)."""
        shape, dtype = self.bcast_obj((arr.shape, arr.dtype.str) if self.rank == 0 else None)
        dtype = np.dtype(dtype)
        nbytes = max(1, int(np.prod(shape, dtype=np.int64)) * dtype.itemsize)
        win = self._MPI.Win.Allocate_shared(nbytes if self.rank == 0 else 0, dtype.itemsize,
                                            comm=self._c)
        self._windows.append(win)
        buf, _ = win.Shared_query(0)
        view = np.ndarray(shape, dtype=dtype, buffer=buf)
        win.Fence()
        if self.rank == 0:
            view[...] = arr
        win.Fence()
        return view

    def free_shared(self):
        while self._windows:
            self._windows.pop().Free()

    def split(self, color):
        return MPIComm(self._c.Split(int(color), self.rank), parent=self)

    def _serve_parent(self):
        """A split communicator's collectives first let MPI progress on its parent (one
        ``MPI_Iprobe``): a ``shared_counter`` there is served (passive-target RMA moves only
        inside MPI calls on its target), so another group's ``take`` waits at most one of
        this group's iterations, not its whole model."""
        if self._parent is not None:
            self._parent._c.Iprobe(self._MPI.ANY_SOURCE, self._MPI.ANY_TAG)

    def free(self):
        self.free_shared()
        self._c.Free()

    def shared_counter(self):
        return WindowCounter(self._MPI, self._c)

    def _reduce(self, arr, op):
        if not arr.flags.c_contiguous:
            raise ValueError("allreduce needs a contiguous array")
        self._serve_parent()
        self._c.Allreduce(self._MPI.IN_PLACE, arr, op=op)
        return arr

    def allreduce_sum(self, arr):
        return self._reduce(arr, self._MPI.SUM)

    def allreduce_max(self, arr):
        return self._reduce(arr, self._MPI.MAX)

    def allreduce_min(self, arr):
        return self._reduce(arr, self._MPI.MIN)

    def bcast_array(self, arr, root=0):
        self._c.Bcast(arr, root=root)
        return arr

    def allgather_array(self, arr):
        if not arr.flags.c_contiguous:
            raise ValueError("allgather needs a contiguous array")
        out = np.empty((self.size, *arr.shape), dtype=arr.dtype)
        self._c.Allgather(arr, out)
        return out

    def send_array(self, arr, dest):
        self._c.Send(np.ascontiguousarray(arr), dest=dest)

    def isend_array(self, arr, dest):
        if not arr.flags.c_contiguous:
            raise ValueError("isend needs a contiguous array")
        return Pending(self._c.Isend(arr, dest=dest))

    def recv_array(self, arr, source):
        self._c.Recv(arr, source=source)
        return arr

    def bcast_obj(self, obj, root=0):
        return self._c.bcast(obj, root=root)

    def gather_obj(self, obj, root=0):
        return self._c.gather(obj, root=root)

    def allgather_obj(self, obj):
        return self._c.allgather(obj)

    def barrier(self):
        self._c.Barrier()

    def ibarrier(self):
        return Pending(self._c.Ibarrier())

    def iallreduce_model(self, send, recv):
        if not (send.flags.c_contiguous and recv.flags.c_contiguous):
            raise ValueError("iallreduce needs contiguous arrays")
        request = Pending(self._c.Iallreduce(send, recv, op=self._MPI.SUM))
        return self._simulated(request, send.nbytes)

    def abort(self, code):
        sys.stdout.flush()
        sys.stderr.flush()
        self._c.Abort(code)


_WORLD: SerialComm | None = None


def world() -> SerialComm:
    """The process-wide communicator (created on first use; MPI is never touched at import)."""
    global _WORLD
    if _WORLD is None:
        _WORLD = MPIComm() if launched_by_mpi() else SerialComm()
    return _WORLD
