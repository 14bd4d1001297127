"""One rank's share of a CSV, read in blocks of whole records and parsed block by block.

``record_blocks`` reads bytes [start, stop) of a ``csv_source.Source`` in reads of
``block_bytes`` and yields each block cut after its last record (``csv_scan.scan``, so a
quoted newline never cuts a record); memory holds one block and one partial record.  A ragged
record, a NUL byte or (for a split file) a stray quote stops it with a ``LineError`` whose line
is counted from ``start``.  ``parse_block`` is pandas' C parser with the options of
``importer._parse``; ``first_pass`` tallies every column of every block (``column_tally``).
"""

from __future__ import annotations

import io
import os
import sys
import warnings
import zlib
from typing import TYPE_CHECKING
from dataclasses import dataclass

import numpy as np

if TYPE_CHECKING:   # pandas (0.15-0.3 s to import) only where a block needs its parser
    import pandas as pd

from mpidl.data import csv_scan as S
from mpidl.data.coltypes import NA_STRINGS
from mpidl.data.column_tally import Tally, encode, numeric_piece, tally
from mpidl.data.csv_source import Layout, Source
from mpidl.data.int_block import parse_integers
from mpidl.data.read_ahead import read_ahead

BLOCK_BYTES = 16 << 20
_QUOTE = ord('"')


class LineError(Exception):
    """A record the import cannot take: ``kind`` "fields" (``fields`` found), "nul" or "stray",
    at ``line`` (1-based, counted from the start of the range read)."""

    def __init__(self, kind: str, line: int, fields: int = 0):
        super().__init__(kind)
        self.kind, self.line, self.fields = kind, line, fields


def _skip(f, nbytes: int) -> None:
    """Move ``f`` forward ``nbytes`` from its start (a seek where it can, else reads)."""
    if f.seekable():
        f.seek(nbytes, os.SEEK_CUR)
        return
    while nbytes > 0:
        got = f.read(min(nbytes, BLOCK_BYTES))
        if not got:
            return
        nbytes -= len(got)


def record_blocks(source: Source, layout: Layout, start: int, stop: int | None,
                  state: np.ndarray, block_bytes: int = BLOCK_BYTES, split: bool = False):
    """Yield (offset, block bytes, records in it) for bytes [start, stop) (``stop`` None: to
    the end; ``offset``: where the block begins in the decompressed text), read and scanned
    a block ahead in a thread (``read_ahead``); ``state`` (``csv_scan.new_state()``) is
    updated and, once the blocks are all out, holds the newlines and records read.  Raises
    LineError as the module docstring says."""
    return read_ahead(_record_blocks(source, layout, start, stop, state, block_bytes, split))


def _record_blocks(source: Source, layout: Layout, start: int, stop: int | None,
                   state: np.ndarray, block_bytes: int, split: bool):
    """``record_blocks`` in the calling thread."""
    sep = ord(layout.sep)
    if stop is not None and stop <= start:
        return
    with source.open() as f:
        _skip(f, start)
        left = None if stop is None else stop - start
        carry, offset = b"", start
        while left is None or left > 0:
            chunk = f.read(block_bytes if left is None else min(block_bytes, left))
            if not chunk:
                break
            left = None if left is None else left - len(chunk)
            nul = chunk.find(b"\0")
            if nul >= 0:
                raise LineError("nul", int(state[S.LINE]) + chunk.count(b"\n", 0, nul))
            before = int(state[S.RECORDS])
            cut = S.scan(np.frombuffer(chunk, dtype=np.uint8), state, sep, _QUOTE,
                         layout.ncols, split)
            _raise_on_bad(state, split)
            if cut < 0:
                carry += chunk
                continue
            block, carry = carry + chunk[:cut], chunk[cut:]
            yield offset, block, int(state[S.RECORDS]) - before
            offset += len(block)
        before = int(state[S.RECORDS])
        S.finish(state, layout.ncols)
        _raise_on_bad(state, split)
        if carry.strip():
            yield offset, carry, int(state[S.RECORDS]) - before


def read_blocks(source: Source, cuts: list[tuple[int, int]]):
    """Yield the bytes of each (offset, length) of ``cuts`` (in increasing order), the blocks
    ``record_blocks`` found, read again without scanning, a block ahead in a thread."""
    return read_ahead(_read_blocks(source, cuts))


def _read_blocks(source: Source, cuts: list[tuple[int, int]]):
    """``read_blocks`` in the calling thread."""
    if not cuts:
        return
    with source.open() as f:
        at = 0
        for offset, length in cuts:
            if f.seekable():
                f.seek(offset)
            else:
                _skip(f, offset - at)
            yield f.read(length)
            at = offset + length


def _raise_on_bad(state: np.ndarray, split: bool) -> None:
    if state[S.BAD_LINE]:
        raise LineError("fields", int(state[S.BAD_LINE]), int(state[S.BAD_FIELDS]))
    if split and state[S.STRAY_LINE]:
        raise LineError("stray", int(state[S.STRAY_LINE]))


def parse_block(block: bytes, layout: Layout, encoding: str, text: set[int],
                usecols: list[int] | None = None) -> pd.DataFrame:
    """The records of ``block`` as a DataFrame with columns numbered from 0; the columns in
    ``text`` as strings, the others inferred (``importer._parse``'s options)."""
    import pandas as pd

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pd.errors.DtypeWarning)
        return pd.read_csv(
            io.BytesIO(block), sep=layout.sep, header=None, usecols=usecols,
            names=list(range(layout.ncols)), dtype={j: str for j in text},
            na_values=list(NA_STRINGS), keep_default_na=False, skipinitialspace=True,
            skip_blank_lines=True, quotechar='"', doublequote=True, encoding=encoding,
            engine="c")


@dataclass
class RankPass:
    """One rank's first pass: ``tallies`` by column position, ``records`` and ``newlines``
    read, and the ``event`` that stopped it early: None, or (kind, line,
    detail) with kind "fields", "nul", "stray", "latin-1" (bytes that are not UTF-8),
    "count" (pandas found other than the records counted) or "parse" (pandas' message)."""

    tallies: dict[int, Tally]
    records: int
    newlines: int
    event: tuple | None


def first_pass(source: Source, layout: Layout, span: tuple[int, int | None], encoding: str,
               text: set[int], columns: list[int], block_bytes: int, split: bool,
               cache_bytes: int = 0) -> tuple[RankPass, list[dict], list[tuple[int, int]]]:
    """Tally ``columns`` over the records of bytes ``span`` (``text``: the columns read as
    strings); stops at the first event (see RankPass).  Also returns the Pieces of the first
    blocks ({column: Piece} per block) while they fit in ``cache_bytes``, and the (offset,
    length) of every block."""
    state = S.new_state()
    tallies = {j: Tally(j in text) for j in columns}
    forced = {j: layout.kinds.get(layout.names[j]) for j in columns}
    blocks, event, cache, cached, cuts = 0, None, [], 0, []
    try:
        for offset, block, nrec in record_blocks(source, layout, *span, state, block_bytes,
                                                 split):
            cuts.append((offset, len(block)))
            pieces, nrows = block_pieces(block, layout, encoding, text, columns)
            if nrows != nrec:
                event = ("count", 0, f"{nrows} {nrec}")
                break
            for j in columns:
                tallies[j].merge(tally(pieces[j], forced[j]))
            cached += sum(p.nbytes for p in pieces.values())
            if cached <= cache_bytes and len(cache) == blocks:
                cache.append(pieces)
            blocks += 1
    except LineError as e:
        event = (e.kind, e.line, e.fields)
    except UnicodeDecodeError:
        event = ("latin-1", 0, 0)
    except ValueError as err:   # pandas' ParserError is one
        if not _pandas_parse_error(err):
            raise
        event = ("parse", 0, " ".join(str(err).split()))
    except (OSError, EOFError, zlib.error) as err:
        event = ("read", 0, " ".join(str(err).split()))
    rank_pass = RankPass(tallies, int(state[S.RECORDS]), int(state[S.LINE]) - 1, event)
    return rank_pass, cache, cuts


def _pandas_parse_error(err: ValueError) -> bool:
    """Whether ``err`` is pandas' ParserError (pandas is imported once a block needs it)."""
    pandas = sys.modules.get("pandas")
    return pandas is not None and isinstance(err, pandas.errors.ParserError)


def block_pieces(block: bytes, layout: Layout, encoding: str, text: set[int],
                 columns: list[int]) -> tuple[dict, int]:
    """({column: Piece}, rows) of one block of records (``columns`` of it, ``text`` as
    strings): a block of plain integers read by ``int_block.parse_integers``, any other by
    pandas (``parse_block``)."""
    if len(columns) == layout.ncols and not text & set(columns):
        integers = parse_integers(block, layout.sep, layout.ncols)
        if integers is not None:
            return {j: numeric_piece(integers[j]) for j in columns}, integers.shape[1]
    frame = parse_block(block, layout, encoding, text & set(columns), columns)
    return {j: encode(frame[j], j in text) for j in columns}, len(frame)
