"""A column's type, storage and levels from blocks of its rows: the first pass of a streaming
import (``stream_import.py``) tallies each block, tallies merge in file order, and ``decide``
gives what ``coltypes.convert_column`` would give for the whole column at once; ``convert``
then turns each block of the second pass into its stored values.

A column parsed as numbers by pandas in every block stays numeric (``inf`` read as missing
and reported) unless forced categorical (its distinct values become the levels, sorted
numerically).  A column read as text is H2O's guess (``coltypes.guess_numeric``) over the
counts of all blocks; as categorical its levels are its distinct tokens, sorted (numerically
when all are numbers, as ``convert_column`` does).  The distinct number tokens of a text
column are kept up to ``MAX_NUMBER_TOKENS`` (beyond that the column can only be numeric).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:   # pandas (0.15-0.3 s to import) only where a block needs its parser
    import pandas as pd

from mpidl.data.coltypes import (NA_STRINGS, NUMBER, guess_numeric, level_name, odd_line,
                                 text_to_numbers)
from mpidl.data.compact import (NumericSummary, code_storage, numeric_values, storage_type,
                                store, summarize)
from mpidl.data.hdf5 import ColumnSpec
from mpidl.errors import UserError

MAX_NUMBER_TOKENS = 1 << 20
_EXACT = 1 << 24   # integers up to this size are exact in float32


@dataclass
class Tally:
    """What the first pass learned of one column.  ``text``: parsed as strings; ``numbers`` /
    ``zeros``: count of number tokens / of those equal to 0; ``odd``: count of other present
    tokens, ``odd_seen``: their distinct values in file order (text; for a numeric parse:
    ``inf``/``-inf``), ``number_tokens``: distinct number tokens of a text column (None past
    MAX_NUMBER_TOKENS), ``values``: distinct numbers of a numeric parse (forced categorical),
    ``summary``: of the values as numbers (odd tokens missing), ``not_numeric``: a numeric
    parse gave something other than numbers (the column must be re-read as text)."""

    text: bool
    numbers: int = 0
    zeros: int = 0
    odd: int = 0
    odd_seen: dict = field(default_factory=dict)
    number_tokens: set | None = field(default_factory=set)
    values: np.ndarray = field(default_factory=lambda: np.empty(0))
    summary: NumericSummary = field(default_factory=NumericSummary)
    not_numeric: bool = False

    def merge(self, later: "Tally") -> None:
        """Add the tally of the rows that follow this one's (in file order)."""
        self.numbers += later.numbers
        self.zeros += later.zeros
        self.odd += later.odd
        self.odd_seen.update(later.odd_seen)
        if self.number_tokens is None or later.number_tokens is None:
            self.number_tokens = None
        else:
            self.number_tokens |= later.number_tokens
            if len(self.number_tokens) > MAX_NUMBER_TOKENS:
                self.number_tokens = None
        self.values = np.union1d(self.values, later.values)
        self.summary = self.summary.merge(later.summary)
        self.not_numeric = self.not_numeric or later.not_numeric


def stripped_text(series: pd.Series) -> pd.Series:
    """Tokens stripped of spaces, missing spellings as NaN."""
    text = series.str.strip()
    return text.mask(text.isin(NA_STRINGS))


@dataclass
class Piece:
    """One block of one column as the first pass keeps it (and the second pass converts it).

    A column parsed as numbers: ``stored`` holds its values (infinities kept) in the smallest
    exact type of this block (``compact.storage_type``), ``marker`` its missing marker.  A
    column read as text: ``codes`` (int32, -1 = missing) into ``tokens``, its distinct stripped
    tokens in order of first appearance.  ``not_numeric``: pandas did not parse the block as
    numbers (the column must be read as text).  ``summary``: of a numeric piece's values."""

    stored: np.ndarray | None = None
    marker: int | None = None
    summary: NumericSummary | None = None
    codes: np.ndarray | None = None
    tokens: np.ndarray | None = None
    not_numeric: bool = False

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.stored, self.codes) if a is not None)

    def values(self) -> np.ndarray:
        """float64 values of a numeric piece (NaN = missing, infinities kept)."""
        return numeric_values(self.stored, self.marker)


def encode(series: pd.Series, text: bool) -> Piece:
    """The Piece of one parsed block of a column, read as strings (``text``) or inferred."""
    import pandas as pd

    if text:   # strip the distinct raw tokens, not every row's, then merge equal results
        raw_codes, raw_tokens = pd.factorize(series, use_na_sentinel=True)
        codes, tokens = pd.factorize(stripped_text(pd.Series(raw_tokens, dtype=object)),
                                     use_na_sentinel=True)
        codes = np.append(codes, -1).astype(np.int32)[raw_codes]   # raw -1 picks the -1
        return Piece(codes=codes, tokens=np.asarray(tokens, dtype=object))
    if series.dtype.kind not in "iuf":
        return Piece(not_numeric=True)
    return numeric_piece(series.to_numpy())


def numeric_piece(raw: np.ndarray) -> Piece:
    """The Piece of one block of a column parsed as numbers (``raw``: int or float[n], NaN =
    missing)."""
    if raw.dtype.kind in "iu" and raw.size and -_EXACT <= raw.min() and raw.max() <= _EXACT:
        # integers that float32 holds exactly, none missing: the summary from the range
        summary = NumericSummary(True, float(raw.min()), float(raw.max()), False, True, True)
        dtype, marker = storage_type(summary)
        return Piece(stored=raw.astype(dtype), marker=marker, summary=summary)
    values = raw.astype(np.float64, copy=False)
    summary = summarize(values)
    dtype, marker = storage_type(summary)
    return Piece(stored=store(values, dtype, marker), marker=marker, summary=summary)


def tally(piece: Piece, forced: str | None) -> Tally:
    """The Tally of one block's Piece of a column (``forced``: its forced kind or None)."""
    if piece.not_numeric:
        return Tally(False, not_numeric=True)
    if piece.codes is None and piece.stored.dtype.kind in "iu":   # no infinities
        present = piece.stored if piece.marker is None else \
            piece.stored[piece.stored != piece.marker]
        distinct = np.unique(present).astype(np.float64) if forced == "categorical" \
            else np.empty(0)
        return Tally(False, int(present.size), values=distinct, summary=piece.summary)
    if piece.codes is None:
        values = piece.values()
        inf = np.isinf(values)
        finite = np.where(inf, np.nan, values)
        seen = dict.fromkeys(np.where(values[inf] > 0, "inf", "-inf").tolist())
        distinct = np.unique(values[~np.isnan(values)]) if forced == "categorical" else None
        return Tally(False, int(np.count_nonzero(~np.isnan(finite))), 0, int(inf.sum()), seen,
                     values=np.empty(0) if distinct is None else distinct,
                     summary=summarize(finite))
    import pandas as pd
    token_values, odd = text_to_numbers(pd.Series(piece.tokens, dtype=object))
    counts = np.bincount(piece.codes[piece.codes >= 0], minlength=len(piece.tokens))
    is_number = ~np.isnan(token_values)
    number_tokens = set(piece.tokens[is_number].tolist())
    missing = bool((piece.codes < 0).any() or odd.any())
    return Tally(True, int(counts[is_number].sum()), int(counts[token_values == 0].sum()),
                 int(counts[odd].sum()), dict.fromkeys(piece.tokens[odd].tolist()),
                 number_tokens if len(number_tokens) <= MAX_NUMBER_TOKENS else None,
                 summary=summarize(np.append(token_values, np.nan if missing else [])))


@dataclass(frozen=True)
class Decision:
    """How a column is stored: its ``spec``, and for a categorical one the level values of a
    numeric domain (``level_values``, sorted) or None for a domain of strings."""

    spec: ColumnSpec
    level_values: np.ndarray | None = None


def decide(src: str, name: str, t: Tally, forced: str | None, notes: list) -> Decision:
    """The column's Decision from its whole-file Tally (a UserError naming the column when a
    text column would need more levels than the first pass kept); a numeric column with odd
    tokens appends its one line to ``notes``."""
    numeric = forced == "numeric" or (forced is None and (not t.text or guess_numeric(
        t.numbers - t.zeros, t.zeros, t.odd, t.odd_seen)))
    if numeric:
        if t.odd:
            notes.append(odd_line(src, name, t.odd, list(t.odd_seen), t.numbers,
                                  forced == "numeric"))
        dtype, marker = storage_type(t.summary)
        return Decision(ColumnSpec(name, dtype, marker))
    if not t.text:
        levels = t.values
    else:
        if t.number_tokens is None:
            raise UserError(f"{src}: column '{name}' has more than {MAX_NUMBER_TOKENS:,} "
                            "distinct numbers among its strings: too many levels to import "
                            "it as categorical (import it with --numeric)")
        strings = sorted(set(t.odd_seen) | t.number_tokens)
        if not all(NUMBER.match(s) for s in strings):
            return Decision(ColumnSpec(name, code_dtype(len(strings)), None, tuple(strings)))
        levels = np.unique(np.array(strings, dtype=np.float64))
    names = tuple(level_name(v) for v in levels)
    return Decision(ColumnSpec(name, code_dtype(len(names)), None, names), levels)


def code_dtype(nlevels: int) -> np.dtype:
    """The code type of a categorical column of ``nlevels`` levels (``compact.code_storage``)."""
    return code_storage(np.zeros(0, dtype=np.int32), nlevels).dtype


def convert(piece: Piece, decision: Decision) -> np.ndarray:
    """One block's Piece of a column as its stored values."""
    spec = decision.spec
    if piece.codes is not None:
        import pandas as pd
        if spec.domain is not None and decision.level_values is None:
            index = pd.Index(spec.domain).get_indexer(piece.tokens)
        else:
            token_values = text_to_numbers(pd.Series(piece.tokens, dtype=object))[0]
            index = (token_values if spec.domain is None else
                     _level_codes(token_values, decision.level_values))
        lookup = np.append(index, -1 if spec.domain is not None else np.nan)
        values = lookup[piece.codes]   # code -1 picks the missing entry at the end
        return values.astype(spec.dtype) if spec.domain is not None else \
            store(values, spec.dtype, spec.marker)
    values = piece.values()
    if spec.domain is None:
        return store(np.where(np.isinf(values), np.nan, values), spec.dtype, spec.marker)
    return _level_codes(values, decision.level_values).astype(spec.dtype)


def _level_codes(values: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """Codes of ``values`` (float64, NaN = missing -> -1) among the sorted ``levels``."""
    present = ~np.isnan(values)
    codes = np.full(values.size, -1, dtype=np.int64)
    codes[present] = np.searchsorted(levels, values[present])
    return codes
