"""Small generated CSVs that exercise the streaming and parallel import (tests and the MPI
tests share them).

``tricky_csv`` holds, in a few hundred rows: integers with missing values, three-decimal
numbers, a column that needs float64, quoted fields with commas, doubled quotes and newlines,
missing spellings, spaces around fields, CRLF line ends, blank lines, ``inf`` and other
non-numbers in a numeric column, a column of numbers whose strings begin after the first
blocks (``late``), a numeric column to force categorical (``lvl``) and quoted numbers.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

HEADER = "id,f,small,word,late,odd,big,lvl,quoted\n"
FORCED_CATEGORICAL = ["lvl"]


def _word(k: int) -> str:
    words = ["alpha", '"with, comma"', '"multi\nline"', '"say ""hi"""', "beta", "  gamma  ",
             "NA", "", '"two\r\nlines"']
    return words[k % len(words)]


def tricky_csv(path: Path, rows: int = 400, seed: int = 5) -> Path:
    """Write the module's CSV to ``path`` (``rows`` data records; some blank lines between)."""
    rng = np.random.default_rng(seed)
    lines = [HEADER]
    for k in range(rows):
        f = "?" if k % 17 == 0 else f"{rng.normal() * 50:.3f}"
        small = "" if k % 23 == 0 else str(int(rng.integers(-5, 120)))
        late = str(int(rng.integers(0, 9))) if k < rows * 3 // 4 else f"s{k % 7}"
        odd = ["inf", "x", "-inf"][k % 3] if k % 41 == 0 else str(int(rng.integers(0, 9)))
        big = repr(float(rng.normal()) / 3.0)
        lvl = str(int(rng.integers(0, 12)) * 5)
        quoted = f'"{int(rng.integers(0, 1000))}"'
        end = "\r\n" if k % 5 == 0 else "\n"
        lines.append(f"{k}, {f},{small},{_word(k)},{late},{odd},{big},{lvl},{quoted}{end}")
        if k % 97 == 0:
            lines.append("\n")
    path.write_bytes("".join(lines).encode())
    return path


def long_quoted_csv(path: Path, rows: int = 60) -> Path:
    """A CSV whose middle record holds a quoted field of many lines (a nominal split point of
    a parallel import falls inside it)."""
    lines = ["a,b,c\n"]
    for k in range(rows):
        b = '"' + "\n".join(f"line {i}, still quoted" for i in range(200)) + '"' \
            if k == rows // 2 else f"v{k % 4}"
        lines.append(f"{k},{b},{k * 0.5}\n")
    path.write_text("".join(lines))
    return path


def stray_quote_csv(path: Path, rows: int = 300) -> Path:
    """A CSV with a quote inside an unquoted field (a literal character) early on."""
    lines = ["a,b\n"] + [f'{k},{"ab" if k % 3 else "x"}{chr(34) if k == 3 else ""}\n'
                         for k in range(rows)]
    path.write_text("".join(lines))
    return path
