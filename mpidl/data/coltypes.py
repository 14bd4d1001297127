"""A column's type from its values, as H2O's parser decides it, and what becomes of odd tokens.

H2O (``PreviewParseWriter.guessType``) counts a column's tokens: numbers other than zero,
zeros, strings (any other token that is not a missing marker), and the distinct strings.  The
column is numeric when the non-zero numbers are at least as many as the strings, or when its
strings are all one value that is an NA spelling or rarer than the numbers and zeros together.
It is categorical when strings outnumber the numbers and zeros (H2O's string type when they
seldom repeat: categorical here, mpidl has no string columns), when they repeat and are at
least as many, or when they repeat beside zeros and at most one other number (zeros standing
for NA).  Anything else is numeric.  mpidl counts every row, where H2O counts a preview of
the first chunk.

In a numeric column the strings are missing values (H2O's ``addInvalidCol``); ``inf`` and
``-inf`` are strings to H2O's CSV parser, so they are missing too.  Each column with such
tokens gets one line: how many, a few examples, and the count of numbers that made it numeric.
``--numeric COL`` forces a column numeric (its strings missing, counted the same way);
``--categorical COL`` forces it categorical.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:   # pandas (0.3 s to import) only where a CSV is parsed: convert_column
    import pandas as pd

NA_STRINGS = ("", "NA", "?", "NaN", "nan", "N/A", "null")   # missing, as the importer reads
NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\Z")
_NA_SPELLINGS = ("NA", "na", "Na", "N/A")   # H2O's: a lone such string means numeric
_EXAMPLES = 3


def guess_numeric(nonzero: int, zeros: int, strings: int, distinct: set | list) -> bool:
    """H2O's ``guessType`` for a column of ``nonzero`` numbers other than 0, ``zeros`` zeros,
    ``strings`` other tokens whose distinct values are ``distinct``: numeric or not."""
    if nonzero >= strings:
        return True
    if len(distinct) == 1:
        return next(iter(distinct)) in _NA_SPELLINGS or strings < nonzero + zeros
    numbers = nonzero + zeros
    repeats = len(distinct) <= 0.95 * strings
    if strings > numbers and not repeats:
        return False            # H2O's string type (strings that seldom repeat)
    if zeros > 0 and nonzero <= 1 and repeats:
        return False            # strings, with 0 for NA (H2O: zeros + strings >= lines - 1)
    if strings >= numbers and repeats:
        return False            # mostly strings
    return True                 # H2O: "all guesses failed" -> numeric


def text_to_numbers(text: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(float64 values with NaN where a token is missing or not a number, bool mask of the
    tokens that are present but not numbers) for stripped tokens ``text`` (missing: NaN)."""
    present = text.notna().to_numpy()
    is_number = np.zeros(len(text), dtype=bool)
    is_number[present] = text[present].str.fullmatch(NUMBER.pattern).to_numpy(dtype=bool)
    values = np.full(len(text), np.nan)
    values[is_number] = text[is_number].astype(np.float64).to_numpy()
    return values, present & ~is_number


def is_numeric_text(text: pd.Series) -> bool:
    """H2O's type guess for stripped tokens ``text`` (missing: NaN)."""
    values, odd = text_to_numbers(text)
    numbers = values[~np.isnan(values)]
    strings = text[odd]
    return guess_numeric(int(np.count_nonzero(numbers)), int((numbers == 0).sum()),
                         int(odd.sum()), set(strings.unique()))


def odd_tokens_line(source: str, name: str, tokens: pd.Series, n_numbers: int,
                    forced: bool) -> str:
    """The one line that reports the non-numbers ``tokens`` of numeric column ``name``."""
    examples = list(dict.fromkeys(tokens.tolist()))
    return odd_line(source, name, len(tokens), examples, n_numbers, forced)


def odd_line(source: str, name: str, count: int, examples: list[str], n_numbers: int,
             forced: bool) -> str:
    """The one line that reports ``count`` non-number tokens of numeric column ``name``, whose
    distinct values begin with ``examples`` (in file order; more than 3 shows "...")."""
    shown = ", ".join(repr(t) for t in examples[:_EXAMPLES])
    more = ", ..." if len(examples) > _EXAMPLES else ""
    why = ("--numeric" if forced else
           f"{n_numbers:,} of {n_numbers + count:,} values are numbers")
    return (f"{source}: column '{name}': {count:,} value(s) not a number ({shown}{more}) "
            f"read as missing; the column is numeric ({why})")


def convert_column(series: pd.Series, kind: str | None, report) -> tuple[np.ndarray, list[str] | None]:
    """A parsed column -> (float64 values, None) or (int32 codes, level names).

    ``kind``: None (H2O's guess), "categorical" or "numeric" (forced).  A numeric column's
    non-number tokens are missing: ``report(tokens, n_numbers, forced)`` is called once."""
    import pandas as pd
    if series.dtype.kind in "iuf":
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        if kind == "categorical":
            return numeric_to_categorical(values)
        inf = np.isinf(values)
        if inf.any():   # pandas reads inf as a number, H2O's parser as a string
            report(pd.Series(np.where(values[inf] > 0, "inf", "-inf")),
                   int(np.count_nonzero(~np.isnan(values) & ~inf)), kind == "numeric")
            values = np.where(inf, np.nan, values)
        return values, None
    text = series.str.strip()
    text = text.mask(text.isin(NA_STRINGS))
    if kind == "numeric" or (kind is None and is_numeric_text(text)):
        values, odd = text_to_numbers(text)
        if odd.any():
            report(text[odd], int(np.count_nonzero(~np.isnan(values))), kind == "numeric")
        return values, None
    codes, levels = pd.factorize(text, sort=True)
    levels = [str(x) for x in levels]
    if all(NUMBER.match(t) for t in levels):   # forced categorical, all numbers
        level_values = np.append(np.array(levels, dtype=np.float64), np.nan)
        return numeric_to_categorical(level_values[codes])  # code -1 picks the NaN at the end
    return codes.astype(np.int32), levels


def numeric_to_categorical(values: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """float64 values -> (int32 codes, -1 = missing; the distinct values as levels, sorted
    numerically and named by ``level_name``)."""
    present = ~np.isnan(values)
    levels, inverse = np.unique(values[present], return_inverse=True)
    codes = np.full(len(values), -1, dtype=np.int32)
    codes[present] = inverse
    return codes, [level_name(v) for v in levels]


def level_name(v: float) -> str:
    """H2O's name for a numeric value made a level: integers without '.0', others in their
    shortest round-trip form."""
    return str(int(v)) if float(v).is_integer() else repr(float(v))
