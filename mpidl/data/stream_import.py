"""``mpidl import`` in bounded memory, on one rank or many: CSV -> HDF5 table in two passes.

Pass 1 (``csv_blocks.first_pass``) reads the records in blocks of ``block_bytes`` and tallies
every column (type counts, numeric ranges for the compact type, distinct levels); the tallies
of all ranks are gathered in rank order (file order) and every rank decides the same types,
storage and levels (``column_tally.decide``).  Pass 2 reads the same blocks again, converts
them and writes them into the preallocated table at the rank's row offset.  Memory holds one
block per rank (and the levels), whatever the file size.

Under ``mpirun -n N`` a plain file is split into N byte ranges at record boundaries (rank
0's smaller, as it also writes: ``nominal_shares``): each rank counts the quotes of its
nominal range, and starts at the first newline outside quotes given the parity of the quotes
before it (``csv_scan``), so quoted newlines are respected.  A quote
inside an unquoted field breaks that parity: such a file is imported by rank 0 alone.  A
compressed file or a pipe cannot be split: rank 0 first writes its text into a temporary file
beside the table (removed at the end), which the ranks split.  HDF5 is not built parallel
here, so rank 0 alone writes: in rounds of one batch of converted rows per rank, it writes its
own and receives the others' in rank order, into the preallocated table in a temporary file
that it renames when every row is in (``atomic.atomic_path``).

Pass 1 is repeated when it must be: with latin-1 when some bytes are not UTF-8 (the table then
holds what ``importer.read_csv`` gives), on rank 0 alone after a stray quote, and for the
columns that pandas read as numbers in one block but not in another (re-read as text).
Errors are one line naming the file, on every rank: a ragged record or a NUL byte with its line
number in the file, as ``importer.read_csv`` words them.
"""

from __future__ import annotations

import os
import zlib
from contextlib import ExitStack, nullcontext

import h5py
import numpy as np

from mpidl.atomic import atomic_path, recording_h5, removed_on_error
from mpidl.comm import SerialComm
from mpidl.data import csv_scan as S
from mpidl.data.column_tally import Decision, convert, decide
from mpidl.data.csv_blocks import BLOCK_BYTES, block_pieces, first_pass, read_blocks
from mpidl.data.csv_source import Layout, Source, open_source, sniff
from mpidl.data.import_gather import send_batches, write_batches
from mpidl.destination import reason, temp_name
from mpidl.data.hdf5 import (_LIBVER, TableInfo, create_columns, open_columns, read_info,
                             write_rows)
from mpidl.errors import UserError

_SCAN_BYTES = 16 << 20
CACHE_MB = 256
WRITE_BYTES = 16 << 20
MEMORY_TABLE_BYTES = 128 << 20
# rank 0's writing per byte of CSV, as a fraction of the parse's (2 ranks, the generated 1 GB
# CSV of benchmarks/gen_csv.py, benchmarks/import_profile.py: rank 0's write and close 0.9 s,
# both ranks' parse, tally and convert 14.7 s)
WRITE_PER_PARSE = 0.06


def env_bytes(name: str, default_mib: float) -> int:
    """Bytes from the environment variable ``name`` in MiB (``default_mib`` when unset); a
    value that is not a number > 0 is a UserError naming the variable (the same on every
    rank)."""
    raw = os.environ.get(name, "")
    try:
        value = float(raw) if raw else default_mib
    except ValueError:
        value = -1.0
    if not value >= 0 or (value == 0 and name != "MPIDL_IMPORT_CACHE_MB"):
        raise _agreed(f"{name}={raw!r}: expected a number of MiB > 0")
    return int(value * (1 << 20))


def import_table(src, dst, comm=None, categorical=(), header=None, numeric=(), notes=None,
                 compression=None, block_bytes: int | None = None) -> TableInfo | None:
    """Import the CSV ``src`` into the table ``dst`` on every rank of ``comm`` (collective);
    returns its TableInfo on rank 0 (None elsewhere).  Arguments as ``importer.import_csv``;
    ``notes`` receives the odd-token lines (on every rank); ``block_bytes``: bytes read per
    block (default ``MPIDL_IMPORT_BLOCK_MB``, 16 MiB)."""
    comm = comm or SerialComm()
    block_bytes = block_bytes or env_bytes("MPIDL_IMPORT_BLOCK_MB", BLOCK_BYTES / (1 << 20))
    src, dst = os.fspath(src), os.fspath(dst)
    source = comm.call_root_agreed(open_source, src)
    layout = comm.bcast_obj(comm.call_root_agreed(sniff, source, header, categorical, numeric))
    if comm.size > 1:
        S.warm_up()   # every rank loads the compiled scans now, not one after another later
        source = _splittable(source, dst, comm)
    try:
        return _import(src, dst, comm, source, layout, (notes, compression, block_bytes))
    finally:
        if comm.is_root and source.temporary:
            os.unlink(source.path)


def _import(src: str, dst: str, comm, source: Source, layout: Layout, options):
    """Both passes and the table; ``options``: notes, compression, block bytes."""
    notes, compression, block_bytes = options
    spans, encoding, text, passes, blocks = _first_passes(src, source, layout, comm,
                                                          block_bytes)
    decisions = _decide(src, layout, passes, notes if notes is not None else [])
    counts = [p.records for p in passes]
    if sum(counts) == 0:
        raise _agreed(f"{src}: no data rows (only a header line)")
    with atomic_path(dst, [src], interruptible=True) if comm.is_root else nullcontext() \
            as tmp:
        tmp = comm.bcast_obj(tmp)
        table = (decisions, sum(counts), compression)
        if not in_memory(decisions, sum(counts)):
            comm.call_root_agreed(_create, dst, tmp, *table)
        err = None
        try:
            _second_pass(source, layout, blocks, (encoding, text), table, tmp,
                         (comm, sum(counts[:comm.rank])))
        except OSError as e:
            err = UserError(f"{dst}: cannot write ({reason(e)})")
        comm.agree(err)
    return read_info(dst) if comm.is_root else None


def _splittable(source: Source | None, dst: str, comm) -> Source:
    """The Source every rank reads: a plain file as it is; a gz / zip / pipe decompressed by
    rank 0 into a temporary file beside ``dst`` (removed at the end), so ranks can split it."""
    kind = comm.bcast_obj(source.kind if comm.is_root else None)
    if kind != "plain":
        source = comm.call_root_agreed(_plain_copy, source, dst)
    return comm.bcast_obj(source if comm.is_root else None)


def _plain_copy(source: Source, dst: str) -> Source:
    """The decompressed text of ``source`` in a new temporary file beside ``dst``; UserError
    naming the source (cannot read) or ``dst`` (cannot write) on failure."""
    tmp = temp_name(os.path.abspath(dst))
    with removed_on_error(tmp, dst):
        with source.open() as f, open(tmp, "xb") as out:
            while True:
                chunk = _read_or_refuse(source, f)
                if not chunk:
                    break
                out.write(chunk)
        return Source(tmp, "plain", os.path.getsize(tmp), temporary=True)


def _read_or_refuse(source: Source, f) -> bytes:
    try:
        return f.read(_SCAN_BYTES)
    except (OSError, EOFError, zlib.error) as err:
        raise UserError(f"{source.path}: cannot read ({' '.join(str(err).split())})") from None


def _agreed(message: str) -> UserError:
    """A UserError every rank raises alike (so the command line prints it once)."""
    err = UserError(message)
    err.agreed = True
    return err


def _first_passes(src: str, source: Source, layout: Layout, comm, block_bytes: int):
    """(spans by rank, encoding, text columns, RankPass of every rank, this rank's blocks:
    (cached Pieces, (offset, length) of each)) after pass 1 and the repeats the module
    docstring lists."""
    split = source.splittable and comm.size > 1
    encoding, text = "utf-8", set(layout.stringy)
    columns = list(range(layout.ncols))
    while True:
        spans = _spans(source, layout, comm) if split else _serial_spans(layout, comm.size)
        mine, cache, cuts = first_pass(source, layout, spans[comm.rank], encoding, text,
                                       columns, block_bytes, split,
                                       env_bytes("MPIDL_IMPORT_CACHE_MB", CACHE_MB))
        passes = comm.allgather_obj(mine)
        rank, event = next(((r, p.event) for r, p in enumerate(passes) if p.event),
                           (None, None))
        if event is None:
            break
        if event[0] == "stray":
            split = False
        elif event[0] == "latin-1" and encoding != "latin-1":
            encoding = "latin-1"
        else:
            raise _agreed(_event_line(src, layout, passes, rank, event))
    redo = [j for j in columns if any(p.tallies[j].not_numeric for p in passes)]
    if redo:
        text |= set(redo)
        mine, cache, _ = first_pass(source, layout, spans[comm.rank], encoding, text, redo,
                                    block_bytes, split)
        for p, q in zip(passes, comm.allgather_obj(mine)):
            p.tallies.update(q.tallies)
    return spans, encoding, text, passes, (cache, cuts)


def _event_line(src: str, layout: Layout, passes, rank: int, event: tuple) -> str:
    """The one error line of the first event (in file order) of pass 1."""
    kind, line, detail = event
    line += layout.lines_before + sum(p.newlines for p in passes[:rank])
    if kind == "fields":
        return (f"{src}: line {line} has {detail} fields, expected {layout.ncols} "
                "(as on the first line)")
    if kind == "nul":
        return f"{src}: line {line} holds a NUL byte (not a text CSV; UTF-16?)"
    if kind == "read":
        return f"{src}: cannot read ({detail})"
    if kind == "count":
        parsed, counted = detail.split()
        return f"{src}: parsed {parsed} rows but counted {counted} (unbalanced quotes?)"
    return f"{src}: cannot parse ({detail})"


def _decide(src: str, layout: Layout, passes, notes: list) -> list[Decision]:
    """Every column's Decision from the tallies of all ranks, merged in file order."""
    out = []
    for j, name in enumerate(layout.names):
        total = passes[0].tallies[j]
        for p in passes[1:]:
            total.merge(p.tallies[j])
        try:
            out.append(decide(src, name, total, layout.kinds.get(name), notes))
        except UserError as e:   # decided alike on every rank
            raise _agreed(str(e)) from None
    return out


def _serial_spans(layout: Layout, size: int) -> list[tuple[int, int | None]]:
    """Rank 0 reads everything, the other ranks nothing."""
    return [(layout.data_start, None)] + [(0, 0)] * (size - 1)


def nominal_shares(ranks: int) -> list[float]:
    """The fraction of the file's bytes each of ``ranks`` ranks parses.  Rank 0 also writes
    every rank's rows, so its share is smaller by that work: equal finishing times when
    writing a byte's rows costs ``WRITE_PER_PARSE`` of parsing it; from 18 ranks on it only
    writes (and parses the first record)."""
    if ranks == 1:
        return [1.0]
    first = max(0.0, (1.0 - (ranks - 1) * WRITE_PER_PARSE) / ranks)
    return [first] + [(1.0 - first) / (ranks - 1)] * (ranks - 1)


def _spans(source: Source, layout: Layout, comm) -> list[tuple[int, int]]:
    """The byte range of each rank: its nominal share moved to the next record start."""
    first, size = layout.data_start, source.nbytes
    ends = np.cumsum(nominal_shares(comm.size))
    # rank r looks for its first record from byte lo[r] (one before its nominal share, so a
    # share that begins a record keeps it), with the parity of the quotes in [first, lo[r])
    lo = [first] + [max(first, first + int((size - first) * ends[r - 1]) - 1)
                    for r in range(1, comm.size)] + [size]
    quotes = _read_fold(source, lo[comm.rank], lo[comm.rank + 1],
                        lambda buf, acc: acc + S.count_quotes(buf, ord('"')), 0)
    before = comm.allgather_array(np.array([quotes], dtype=np.int64))[:comm.rank].sum()
    start = first if comm.rank == 0 else _record_start(source, lo[comm.rank], bool(before % 2))
    starts = [int(s) for s in comm.allgather_array(np.array([start], dtype=np.int64))[:, 0]]
    starts.append(size)
    return [(starts[r], max(starts[r], starts[r + 1])) for r in range(comm.size)]


def _read_fold(source: Source, start: int, stop: int, fold, acc):
    """``fold(uint8 block, acc)`` over bytes [start, stop) of a plain file, read in blocks."""
    with open(source.path, "rb") as f:
        f.seek(start)
        while start < stop:
            buf = f.read(min(_SCAN_BYTES, stop - start))
            if not buf:
                break
            acc = fold(np.frombuffer(buf, dtype=np.uint8), acc)
            start += len(buf)
    return acc


def _record_start(source: Source, lo: int, in_quotes: bool) -> int:
    """The first record start after byte ``lo`` (inside quotes if ``in_quotes``), or the
    file's size when none follows."""
    with open(source.path, "rb") as f:
        f.seek(lo)
        pos = lo
        while True:
            buf = f.read(_SCAN_BYTES)
            if not buf:
                return source.nbytes
            arr = np.frombuffer(buf, dtype=np.uint8)
            found = S.record_start(arr, in_quotes, ord('"'))
            if found >= 0:
                return pos + found
            in_quotes = bool((in_quotes + S.count_quotes(arr, ord('"'))) % 2)
            pos += len(buf)


def in_memory(decisions: list[Decision], nrows: int) -> bool:
    """Whether the table of ``nrows`` rows is built in memory and written in one piece (its
    stored bytes at most ``MEMORY_TABLE_BYTES``) rather than chunk by chunk into the file:
    HDF5 writes a chunk at a time (MNIST: 785 columns of 118 chunks), each a call through
    ``atomic.recording_h5``'s file object."""
    return nrows * sum(d.spec.dtype.itemsize for d in decisions) <= MEMORY_TABLE_BYTES


def _create(dst: str, tmp: str, decisions: list[Decision], nrows: int, compression) -> None:
    """The empty table in ``tmp``: every column's dataset of ``nrows`` values."""
    try:
        with recording_h5(tmp, "w", libver=_LIBVER) as f:
            create_columns(f, [d.spec for d in decisions], nrows, compression)
    except OSError as e:
        raise UserError(f"{dst}: cannot write ({reason(e)})") from None


def _second_pass(source: Source, layout: Layout, blocks, how, table, tmp: str,
                 where) -> None:
    """Convert this rank's blocks and write them at its row offset (``blocks``: the cached
    Pieces and every block's (offset, length); ``how``: encoding, text columns; ``table``:
    the Decisions, rows and compression of the table; ``where``: communicator, first row).
    Blocks go in batches of about ``WRITE_BYTES``; rank 0 alone holds the table open and
    writes them all, the other ranks send theirs (``import_gather.py``)."""
    comm, row = where
    decisions = table[0]
    batches = _batches(_stored_blocks(source, layout, blocks, how, decisions))
    if not comm.is_root:
        send_batches(comm, batches, row)
        return
    with _Writer(tmp, table) as writer:
        write_batches(comm, writer, batches, row, [d.spec.dtype for d in decisions])


def _stored_blocks(source: Source, layout: Layout, blocks, how, decisions):
    """Each block's stored columns, from the cached Pieces or by parsing it again."""
    cache, cuts = blocks
    columns = list(range(layout.ncols))
    for pieces in cache:
        yield [convert(pieces[j], d) for j, d in enumerate(decisions)]
    for raw in read_blocks(source, cuts[len(cache):]):
        pieces = block_pieces(raw, layout, *how, columns)[0]
        yield [convert(pieces[j], d) for j, d in enumerate(decisions)]


def _batches(stored_blocks):
    """Consecutive blocks joined column by column into batches of about ``WRITE_BYTES``."""
    batch, nbytes = [], 0
    for stored in stored_blocks:
        batch.append(stored)
        nbytes += sum(a.nbytes for a in stored)
        if nbytes >= WRITE_BYTES:
            yield [np.concatenate(column) for column in zip(*batch)]
            batch, nbytes = [], 0
    if batch:
        yield [np.concatenate(column) for column in zip(*batch)]


class _Writer:
    """Writes batches of stored columns into the table ``tmp`` (``table``: its Decisions,
    rows and compression): into the file, opened once, or, for a table ``in_memory``, into
    an HDF5 file in memory whose image is written to ``tmp`` in one piece at the end."""

    def __init__(self, tmp: str, table):
        self.tmp, self._stack, self._columns = tmp, ExitStack(), None
        self._memory = in_memory(*table[:2])
        if self._memory:
            decisions, nrows, compression = table
            self._file = self._stack.enter_context(h5py.File(
                tmp, "w", driver="core", backing_store=False, libver=_LIBVER))
            self._columns = create_columns(self._file, [d.spec for d in decisions], nrows,
                                           compression)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        with self._stack:
            if self._memory and exc[0] is None:
                self._file.flush()
                image = self._file.id.get_file_image()
                self._columns = self._file = None
                with open(self.tmp, "wb") as out:
                    out.write(image)

    def write(self, stored: list[np.ndarray], row: int) -> None:
        """Write one batch's stored columns at rows [row, row + len)."""
        if self._columns is None:
            self._columns = open_columns(self._stack.enter_context(recording_h5(self.tmp, "r+")))
        for ds, values in zip(self._columns, stored):
            write_rows(ds, values, row)
