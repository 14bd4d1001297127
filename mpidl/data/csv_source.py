"""Where a streaming import reads its bytes, and the layout sniffed from the first of them.

A ``Source`` opens the decompressed text of a CSV as often as a pass needs it: a plain file
(seekable: ranks of a parallel import read byte ranges of it), a ``.gz`` (gunzipped again on
each open), a ``.zip`` (its data file, chosen as ``importer._unpack`` does), or a pipe / FIFO
(``data/stream.py``: read once, whole, and kept in memory).  A ``Layout`` is what
``importer.read_csv`` decides from the first MiB: separator, header, column names, the
columns whose sample shows strings, the forced kinds, and the byte offset of the first data
record (after a UTF-8 byte-order mark, leading blank lines and the header).  The sample is
read as UTF-8 unless its bytes are not valid UTF-8 (then latin-1).
"""

from __future__ import annotations

import gzip
import io
import os
import zipfile
import zlib
from dataclasses import dataclass

import numpy as np

from mpidl.data import importer as imp
from mpidl.data.csv_scan import record_start
from mpidl.data.stream import read_stream
from mpidl.errors import UserError

SNIFF_BYTES = 1 << 20
_READ_ERRORS = (OSError, EOFError, zlib.error, zipfile.BadZipFile, RuntimeError)


@dataclass
class Source:
    """The CSV ``path``: ``kind`` "plain", "gzip", "zip" or "stream" (then ``data`` holds its
    bytes); ``nbytes``: its size as stored (bytes read per pass); ``temporary``: a decompressed
    copy that the import removes."""

    path: str
    kind: str
    nbytes: int
    data: bytes | None = None
    temporary: bool = False

    @property
    def splittable(self) -> bool:
        return self.kind == "plain"

    def open(self):
        """A binary file object of the decompressed text, at its start."""
        try:
            if self.kind == "stream":
                return io.BytesIO(self.data)
            f = open(self.path, "rb")
            if self.kind == "gzip":
                return gzip.GzipFile(fileobj=f, mode="rb")
            if self.kind == "zip":
                archive = zipfile.ZipFile(f)
                return archive.open(_zip_entry(self.path, archive))
            return f
        except _READ_ERRORS as err:
            raise UserError(f"{self.path}: cannot read ({' '.join(str(err).split())})") from None


def _zip_entry(path: str, z: zipfile.ZipFile) -> zipfile.ZipInfo:
    entries = [i for i in z.infolist() if not i.is_dir()
               and not i.filename.startswith("__MACOSX/")
               and not os.path.basename(i.filename).startswith("._")]
    if not entries:
        raise UserError(f"{path}: zip archive holds no data file")
    return entries[0]


def open_source(src) -> Source:
    """The Source of ``src``; UserError naming it when missing, a folder or unreadable."""
    src = os.fspath(src)
    if not os.path.exists(src):
        raise UserError(f"{src}: no such file")
    if os.path.isdir(src):
        raise UserError(f"{src}: is a directory, not a CSV file")
    try:
        if not os.path.isfile(src):
            data = read_stream(src)
            raw = imp._unpack(src, io.BytesIO(data))
            return Source(src, "stream", len(data), raw)
        with open(src, "rb") as f:
            magic = f.read(4)
            size = os.fstat(f.fileno()).st_size
            if magic[:2] == b"\x1f\x8b":
                return Source(src, "gzip", size)
            f.seek(0)
            if magic == b"PK\x03\x04" or (src.lower().endswith(".zip")
                                          and zipfile.is_zipfile(f)):
                return Source(src, "zip", size)
            return Source(src, "plain", size)
    except UserError:
        raise
    except _READ_ERRORS as err:
        raise UserError(f"{src}: cannot read ({' '.join(str(err).split())})") from None


@dataclass
class Layout:
    """What the first MiB says: ``sep``, ``has_header``, ``names``, ``stringy`` (column
    positions read as strings), ``kinds`` (forced kinds by name), ``data_start`` (byte offset
    of the first data record) and ``lines_before`` (newlines before it)."""

    sep: str
    has_header: bool
    names: list[str]
    stringy: list[int]
    kinds: dict[str, str]
    data_start: int
    lines_before: int

    @property
    def ncols(self) -> int:
        return len(self.names)


def sniff(source: Source, header, categorical, numeric) -> Layout:
    """The Layout of ``source`` (``header``: None to guess, True / False to force); UserError
    naming the file for an empty file, a header without rows or an unknown forced column."""
    src = source.path
    with source.open() as f:
        try:
            head = f.read(SNIFF_BYTES)
            head += f.readline() if head and not head.endswith(b"\n") else b""
        except _READ_ERRORS as err:
            raise UserError(f"{src}: cannot read ({' '.join(str(err).split())})") from None
    bom = 3 if head.startswith(b"\xef\xbb\xbf") else 0
    imp._refuse_nul(src, head)
    if not head[bom:].strip():
        raise UserError(f"{src}: empty file (no rows)")
    lead = imp._LEADING_BLANK_LINES.match(head, bom).end()
    raw = head[lead:]
    encoding = imp._encoding(raw)
    sample = imp._sample_rows(raw, encoding)
    sep = imp._separator(sample)
    if sep != ",":
        sample = imp._sample_rows(raw, encoding, sep)
    first = [t.strip() for t in sample[0]]
    below = imp._sample_columns(sample[1:], len(first))
    has_header = imp._guess_header(first, below) if header is None else bool(header)
    names = imp._column_names(first if has_header else [""] * len(first))
    kinds = imp._forced_kinds(src, names, categorical, numeric)
    data_columns = below if has_header else imp._sample_columns(sample, len(first))
    stringy = [j for j, tokens in enumerate(data_columns) if not imp._all_numbers(tokens)]
    start = lead
    if has_header:
        end = record_start(np.frombuffer(raw, dtype=np.uint8), False, ord(imp._QUOTE))
        start = lead + end if end >= 0 else len(head)
    return Layout(sep, has_header, names, stringy, kinds, start, head.count(b"\n", 0, start))
