"""CSV (plain, .gz, .zip) -> columnar table, with H2O-style header and type guessing.

Reading a source
    ``.gz`` is gunzipped; ``.zip`` yields its single data file (with several entries:
    the first that is neither a folder nor a ``__MACOSX`` / ``._*`` entry); anything else
    is read as text. A pipe, FIFO, ``/dev/stdin`` or ``<(...)`` is read once, whole, before
    it is sniffed (``data/stream.py``). UTF-8 unless the bytes are not valid UTF-8, then latin-1.
    Separator: ``,`` unless the first line has no comma and tab, ``;`` or ``|`` splits
    every sampled line into the same number (> 1) of fields.
    Every field is stripped of surrounding whitespace; CRLF line ends and ``"``-quoted
    fields (``""`` inside is a quote) are handled; blank lines are skipped.
    Missing: an empty field, ``NA``, ``?``, ``NaN``, ``nan``, ``N/A``, ``null``.

Header guess (``header=None``), on the first line and a sample of the rows below it
    The first line is a header iff
    (a) some field of it is a non-numeric, non-missing string while its column is
        numeric in the sampled rows below (e.g. ``age`` over ``39, 50, ...``), or
    (b) all its fields are non-numeric, non-missing and distinct, and none of them
        occurs in its own column in the sampled rows (an all-string file whose first
        line names the columns; a first line of data repeats its column's levels).
    ``header=True`` / ``False`` forces. Without a header the columns are named
    ``C1..Cn`` as in H2O. Empty header names become ``C{i}`` (1-based position); a
    repeated name gets a suffix ``_2``, ``_3``, ... to make it unique.

Types
    H2O's guess by the majority of a column's values (``coltypes.py``): numeric (float64,
    NaN = missing; its few non-number tokens, ``inf`` included, become missing and are
    reported in one line per column through ``notes``), or categorical: int32 codes, -1 =
    missing, levels = the distinct strings sorted lexicographically (as H2O does). Quoted
    numbers count as numbers.  A column named in ``numeric=`` is made numeric whatever its
    values.  A column named in ``categorical=`` is made categorical even when numeric: its
    levels are the distinct values sorted numerically, written as H2O writes them ("2",
    "10"; no ".0" for integers; shortest round-trip form otherwise).

Errors (UserError, one line naming the file): missing / unreadable file, empty file,
a NUL byte (naming its line), header without rows, a row with a different number of
fields than the first line (naming its line number), an unknown name in ``categorical=``
/ ``numeric=``, a name in both.
"""

from __future__ import annotations

import csv
import gzip
import io
import os
import re
import warnings
import zipfile
import zlib
from typing import TYPE_CHECKING

import numba
import numpy as np

if TYPE_CHECKING:   # pandas (0.15-0.3 s to import) only where a block needs its parser
    import pandas as pd

from mpidl.data.coltypes import NA_STRINGS, NUMBER, convert_column, odd_tokens_line
from mpidl.data.hdf5 import TableInfo
from mpidl.data.stream import read_stream
from mpidl.errors import UserError

_NA_SET = frozenset(NA_STRINGS)
_OTHER_SEPARATORS = ("\t", ";", "|")
_SAMPLE_BYTES = 1 << 20
_SAMPLE_ROWS = 2000
_QUOTE = '"'
_LEADING_BLANK_LINES = re.compile(rb"(?:[ \t\r]*\n)*")


def read_csv(src, categorical=(), header=None, numeric=(), notes=None, count=None
             ) -> tuple[dict[str, np.ndarray], dict[str, list[str]]]:
    """Parse the CSV ``src`` into columns (in file order) and categorical domains.

    Returns (columns, domains) as ``write_table`` takes them: ``columns[name]`` is
    float64[nrows] (numeric, NaN = missing) or int32[nrows] codes (categorical, -1 =
    missing) with the level names in ``domains[name]``.  ``notes``: a list that receives
    one line per numeric column with non-number tokens read as missing.  ``count``: a
    ``ReadCount`` that receives the bytes read from ``src`` (before decompression).
    """
    import pandas as pd

    src = os.fspath(src)
    raw = _read_bytes(src, count)
    _refuse_nul(src, raw)
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    if not raw.strip():
        raise UserError(f"{src}: empty file (no rows)")
    lead = _LEADING_BLANK_LINES.match(raw).end()
    skipped_lines = raw.count(b"\n", 0, lead)
    if lead:
        raw = raw[lead:]  # so that the first line is the header candidate
    encoding = _encoding(raw)
    sample = _sample_rows(raw, encoding)
    sep = _separator(sample)
    if sep != ",":
        sample = _sample_rows(raw, encoding, sep)
    first = [f.strip() for f in sample[0]]
    ncols = len(first)
    below = _sample_columns(sample[1:], ncols)
    has_header = _guess_header(first, below) if header is None else bool(header)
    nrecords = _check_fields(src, raw, sep, ncols, skipped_lines)
    nrows = nrecords - (1 if has_header else 0)
    if nrows <= 0:
        raise UserError(f"{src}: no data rows (only a header line)")
    names = _column_names(first if has_header else [""] * ncols)
    kinds = _forced_kinds(src, names, categorical, numeric)
    data_columns = below if has_header else _sample_columns(sample, ncols)
    stringy = [j for j, tokens in enumerate(data_columns) if not _all_numbers(tokens)]
    try:
        frame = _parse(raw, encoding, sep, has_header, ncols, stringy)
    except pd.errors.ParserError as err:
        raise UserError(f"{src}: cannot parse ({' '.join(str(err).split())})") from None
    if len(frame) != nrows:
        raise UserError(f"{src}: parsed {len(frame)} rows but counted {nrows} "
                        "(unbalanced quotes?)")
    del raw
    columns: dict[str, np.ndarray] = {}
    domains: dict[str, list[str]] = {}
    notes = [] if notes is None else notes
    for j, name in enumerate(names):
        report = (lambda tokens, n, forced, name=name:
                  notes.append(odd_tokens_line(src, name, tokens, n, forced)))
        values, domain = convert_column(frame[j], kinds.get(name), report)
        columns[name] = values
        if domain is not None:
            domains[name] = domain
    del frame
    return columns, domains


def import_csv(src, dst, categorical=(), header=None, numeric=(), notes=None,
               compression=None, comm=None, block_bytes=None) -> TableInfo | None:
    """Import the CSV ``src`` as the HDF5 table ``dst`` (``compression``: None, "lzf" or
    "gzip", see ``hdf5.write_table``) in bounded memory, on every rank of ``comm`` (one rank
    when None): ``stream_import.import_table``, which writes the table ``read_csv`` reads.
    Returns its TableInfo on rank 0."""
    from mpidl.data.stream_import import import_table
    options = {} if block_bytes is None else {"block_bytes": block_bytes}
    return import_table(src, dst, comm, categorical=categorical, header=header,
                        numeric=numeric, notes=notes, compression=compression, **options)


def _read_bytes(src: str, count=None) -> bytes:
    """The decompressed bytes of ``src``, which is opened and read exactly once (the bytes
    read from it are added to ``count``, a ``ReadCount``, when given).

    A pipe, FIFO or ``/dev/stdin`` cannot be read twice: it is read whole into memory first
    (see ``data/stream.py`` for how long a FIFO without a writer is waited for) and sniffed
    from there.
    """
    if not os.path.exists(src):
        raise UserError(f"{src}: no such file")
    if os.path.isdir(src):
        raise UserError(f"{src}: is a directory, not a CSV file")
    try:
        if os.path.isfile(src):
            with open(src, "rb") as f:
                raw = _unpack(src, f)
                size = os.fstat(f.fileno()).st_size
        else:
            source = read_stream(src)
            raw, size = _unpack(src, io.BytesIO(source)), len(source)
        if count is not None:
            count.bytes += size
        return raw
    except UserError:
        raise
    except (OSError, EOFError, zlib.error, zipfile.BadZipFile, RuntimeError) as err:
        raise UserError(f"{src}: cannot read ({' '.join(str(err).split())})") from None


def _refuse_nul(src: str, raw: bytes) -> None:
    """A NUL byte cannot be stored in a level name or column name (nor is it text: a UTF-16
    file?); UserError naming the file and the line of the first one."""
    pos = raw.find(b"\0")
    if pos >= 0:
        line = raw.count(b"\n", 0, pos) + 1
        raise UserError(f"{src}: line {line} holds a NUL byte (not a text CSV; UTF-16?)")


def _unpack(src: str, f) -> bytes:
    """Plain, gzip or zip content of the seekable binary file ``f`` (named ``src``)."""
    magic = f.read(4)
    f.seek(0)
    if magic[:2] == b"\x1f\x8b":
        with gzip.GzipFile(fileobj=f, mode="rb") as g:
            return g.read()
    if magic == b"PK\x03\x04" or (src.lower().endswith(".zip") and zipfile.is_zipfile(f)):
        f.seek(0)
        with zipfile.ZipFile(f) as z:
            entries = [i for i in z.infolist() if not i.is_dir()
                       and not i.filename.startswith("__MACOSX/")
                       and not os.path.basename(i.filename).startswith("._")]
            if not entries:
                raise UserError(f"{src}: zip archive holds no data file")
            return z.read(entries[0])
    return f.read()


def _encoding(raw: bytes) -> str:
    if raw.isascii():
        return "utf-8"
    try:
        raw.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        return "latin-1"


def _sample_rows(raw: bytes, encoding: str, sep: str = ",") -> list[list[str]]:
    """The first records of the file (at most _SAMPLE_ROWS, about 1 MiB), blank lines out."""
    end = len(raw)
    if end > _SAMPLE_BYTES:
        first_nl = raw.find(b"\n", _SAMPLE_BYTES)
        end = first_nl + 1 if first_nl >= 0 else end
    text = raw[:end].decode(encoding, errors="replace")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, quotechar=_QUOTE,
                        skipinitialspace=True, strict=False)
    rows = []
    try:
        for row in reader:
            if row and any(f.strip() for f in row):
                rows.append(row)
                if len(rows) > _SAMPLE_ROWS:
                    break
    except csv.Error:
        pass
    if end < len(raw) and len(rows) > 1:
        rows.pop()  # may be cut in the middle
    return rows or [[""]]


def _separator(sample: list[list[str]]) -> str:
    if len(sample[0]) > 1:
        return ","
    lines = [",".join(r) for r in sample[:50]]
    for sep in _OTHER_SEPARATORS:
        counts = {line.count(sep) for line in lines}
        if len(counts) == 1 and counts.pop() > 0:
            return sep
    return ","


def _is_number(token: str) -> bool:
    return NUMBER.match(token) is not None


def _sample_columns(rows: list[list[str]], ncols: int) -> list[set[str]]:
    """The distinct stripped, non-missing tokens of each column in the sampled rows."""
    rows = [r for r in rows if len(r) == ncols]
    out = []
    for column in zip(*rows) if rows else [()] * ncols:
        out.append({t.strip() for t in set(column)} - _NA_SET)
    return out


def _all_numbers(tokens) -> bool:
    return all(NUMBER.match(t) for t in tokens)


def _guess_header(first: list[str], columns: list[set[str]]) -> bool:
    """Rules (a) and (b) of the module docstring; ``columns`` = _sample_columns(rows below)."""
    wordy = [t not in _NA_SET and not _is_number(t) for t in first]
    for j, tokens in enumerate(columns):
        if wordy[j] and tokens and _all_numbers(tokens):
            return True  # (a)
    if all(wordy) and len(set(first)) == len(first):
        return all(first[j] not in tokens for j, tokens in enumerate(columns))  # (b)
    return False


def _column_names(header: list[str]) -> list[str]:
    names = [h if h else f"C{i + 1}" for i, h in enumerate(header)]
    seen: set[str] = set()
    out = []
    for name in names:
        unique, k = name, 1
        while unique in seen:
            k += 1
            unique = f"{name}_{k}"
        seen.add(unique)
        out.append(unique)
    return out


def _preview(names: list[str], limit: int = 8) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f", ... {len(names)} in all" if len(names) > limit else "")


@numba.njit(cache=True)
def _count_records(buf, sep, quote, ncols):  # pragma: no cover - compiled
    """Scan uint8 ``buf``: return (records, 0, 0), or (records so far, line, fields) for
    the first non-blank record whose field count is not ``ncols`` (line is 1-based).
    Quotes open only at the start of a field (leading spaces allowed), as in pandas."""
    n = buf.size
    line = 1
    rec_line = 1
    fields = 1
    records = 0
    blank = True
    at_start = True
    in_quotes = False
    i = 0
    while i < n:
        c = buf[i]
        if in_quotes:
            if c == quote:
                if i + 1 < n and buf[i + 1] == quote:
                    i += 1
                else:
                    in_quotes = False
            elif c == 10:
                line += 1
        elif c == 10:
            if not blank:
                if fields != ncols:
                    return records, rec_line, fields
                records += 1
            line += 1
            rec_line = line
            fields = 1
            blank = True
            at_start = True
        elif c == sep:
            fields += 1
            blank = False
            at_start = True
        elif c == quote and at_start:
            in_quotes = True
            blank = False
            at_start = False
        elif c == 32 or c == 9 or c == 13:
            pass
        else:
            blank = False
            at_start = False
        i += 1
    if not blank:
        if fields != ncols:
            return records, rec_line, fields
        records += 1
    return records, 0, 0


def _check_fields(src: str, raw: bytes, sep: str, ncols: int, skipped_lines: int) -> int:
    """Count the records of the file; UserError on the first one with a wrong field count.
    ``skipped_lines``: blank lines cut from the start of ``raw`` (for the line number)."""
    buf = np.frombuffer(raw, dtype=np.uint8)
    records, line, fields = _count_records(buf, ord(sep), ord(_QUOTE), ncols)
    if line:
        raise UserError(f"{src}: line {line + skipped_lines} has {fields} fields, "
                        f"expected {ncols} (as on the first line)")
    return records


def _parse(raw: bytes, encoding: str, sep: str, has_header: bool, ncols: int,
           stringy: list[int]) -> pd.DataFrame:
    """pandas' C parser; columns the sample shows as strings are read as str, the rest
    are inferred, and any of those that does not come back numeric is re-read as str."""
    import pandas as pd

    def read(usecols=None, as_str=()):
        with warnings.catch_warnings():
            # mixed types in a column are expected here and handled by the re-read below
            warnings.simplefilter("ignore", pd.errors.DtypeWarning)
            return pd.read_csv(
                io.BytesIO(raw), sep=sep, header=None, skiprows=1 if has_header else 0,
                usecols=usecols, dtype={j: str for j in as_str}, na_values=list(NA_STRINGS),
                keep_default_na=False, skipinitialspace=True, skip_blank_lines=True,
                quotechar=_QUOTE, doublequote=True, encoding=encoding, engine="c")

    frame = read(as_str=stringy)
    redo = [j for j in range(ncols) if j not in stringy and frame[j].dtype.kind not in "iuf"]
    if redo:
        again = read(usecols=redo, as_str=redo)
        for j in redo:
            frame[j] = again[j]
    return frame


def _forced_kinds(src: str, names: list[str], categorical, numeric) -> dict[str, str]:
    """{column: "categorical" or "numeric"} as forced by the caller; UserError if unknown."""
    kinds: dict[str, str] = {}
    for kind, wanted in (("categorical", categorical), ("numeric", numeric)):
        for name in wanted:
            if name not in names:
                raise UserError(f"{src}: no column '{name}' to make {kind} "
                                f"(columns: {_preview(names)})")
            if kinds.get(name, kind) != kind:
                raise UserError(f"{src}: column '{name}' is named both categorical and numeric")
            kinds[name] = kind
    return kinds
