"""A generated CSV of numeric and categorical columns, of a given size (for import benchmarks).

One block of ``BLOCK_ROWS`` rows is drawn (seeded) and written again and again until the file
reaches the size asked for, so a 3 GB file takes seconds to write.  Columns: ``id`` (an
integer 0..999,999: int32 storage), ``x1``..``x6`` (three-decimal numbers, 2 % missing),
``small`` (0..200: uint8), ``flag`` (40 levels), ``code`` (2,000 levels, 1 % missing),
``y`` (0/1).

    python benchmarks/gen_csv.py /tmp/big.csv --gigabytes 3
"""

from __future__ import annotations

import argparse
import os

import numpy as np
import pandas as pd

BLOCK_ROWS = 200_000


def block_text(seed: int = 7) -> bytes:
    """``BLOCK_ROWS`` rows of the module's columns as CSV text, without a header line."""
    rng = np.random.default_rng(seed)
    n = BLOCK_ROWS
    cols = {"id": rng.integers(0, 1_000_000, n)}
    for j in range(1, 7):
        x = np.round(rng.normal(0, 100, n), 3)
        x[rng.random(n) < 0.02] = np.nan
        cols[f"x{j}"] = x
    cols["small"] = rng.integers(0, 201, n)
    cols["flag"] = np.array([f"F{k:02d}" for k in range(40)])[rng.integers(0, 40, n)]
    code = np.array([f"c{k}" for k in range(2000)], dtype=object)[rng.integers(0, 2000, n)]
    code[rng.random(n) < 0.01] = ""
    cols["code"] = code
    cols["y"] = rng.integers(0, 2, n)
    return pd.DataFrame(cols).to_csv(index=False, header=False, na_rep="NA").encode()


def write_csv(path: str, target_bytes: int, seed: int = 7) -> int:
    """Write the header and repeated blocks to ``path`` until it holds >= ``target_bytes``;
    returns the number of data rows."""
    block = block_text(seed)
    header = b"id,x1,x2,x3,x4,x5,x6,small,flag,code,y\n"
    rows = 0
    with open(path, "wb") as f:
        f.write(header)
        written = len(header)
        while written < target_bytes:
            f.write(block)
            written += len(block)
            rows += BLOCK_ROWS
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("path")
    ap.add_argument("--gigabytes", type=float, default=3.0)
    args = ap.parse_args()
    rows = write_csv(args.path, int(args.gigabytes * 1e9))
    print(f"{args.path}: {rows} rows, {os.path.getsize(args.path) / 1e9:.2f} GB")


if __name__ == "__main__":
    main()
