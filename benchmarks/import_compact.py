"""Table format version 2 against version 1: import time, table size, bytes a rank reads, and
equal values and models.

``--before DIR`` is a source tree of the version-1 mpidl (for example
``git archive d2b3031 | tar -x -C DIR``); each import runs ``python -m mpidl import`` with that
tree, then with this one, on PYTHONPATH, alternating, ``--repeats`` times (mean ± sample sd of
the wall time).  For each dataset the two tables must hold equal values (read by this mpidl),
a 4-rank sharded read is counted per rank through ``data/counted.py``, and a small reproducible
MNIST model trained from either table must be bit-identical.

    python benchmarks/import_compact.py --before /tmp/mpidl-v1 --repeats 3 --record
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from common import ROOT, WORKDIR, record, table

from mpidl.data.counted import ReadCount
from mpidl.data.hdf5 import block_range, read_columns, read_info

SHARED = ROOT.parent / "shared" / "data"
DATASETS = {"mnist train": (SHARED / "mnist" / "train.csv.gz", ["C785"]),
            "airlines 2005 (100k)": (SHARED / "airlines_2005_100k" / "year2005.csv.gz", [])}


def _cpu_of_children() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def _import(tree: Path, src: Path, categorical: list[str], out: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of ``python -m mpidl import`` run from source ``tree``."""
    env = dict(os.environ, PYTHONPATH=str(tree),
               NUMBA_CACHE_DIR=str(WORKDIR / f"numba-{tree.name}"))
    cmd = [sys.executable, "-m", "mpidl", "import", str(src), "-o", str(out)]
    cmd += ["--categorical", *categorical] if categorical else []
    t0, c0 = time.perf_counter(), _cpu_of_children()
    subprocess.run(cmd, check=True, capture_output=True, env=env, cwd=WORKDIR)
    return time.perf_counter() - t0, _cpu_of_children() - c0


def _equal_tables(a: Path, b: Path) -> bool:
    ia, ib = read_info(str(a)), read_info(str(b))
    if ia.columns != ib.columns or ia.nrows != ib.nrows:
        return False
    ca, cb = read_columns(str(a), ia.names), read_columns(str(b), ib.names)
    return all(np.array_equal(ca[n], cb[n], equal_nan=ca[n].dtype.kind == "f") for n in ia.names)


def _most_read_by_a_rank(path: Path, ranks: int = 4) -> float:
    """The largest fraction of the file's bytes one of ``ranks`` sharded ranks reads."""
    worst = 0
    for rank in range(ranks):
        count = ReadCount()
        info = read_info(str(path), count)
        lo, hi = block_range(info.nrows, ranks, rank)
        read_columns(str(path), info.names, lo, hi, count)
        worst = max(worst, count.bytes)
    return worst / path.stat().st_size


def _same_model(old: Path, new: Path, work: Path) -> bool:
    """A small reproducible MNIST model from either table: bit-identical weights."""
    from mpidl.checkpoint import read_model
    bufs = []
    for t in (old, new):
        job = work / "job.toml"
        job.write_text(f'training_frame = "{t}"\nresponse_column = "C785"\nhidden = [32]\n'
                       'epochs = 0.05\nseed = 3\nreproducible = true\n')
        subprocess.run([sys.executable, "-m", "mpidl", "train", str(job), "-o",
                        str(work / f"{t.stem}-m.h5")], check=True, capture_output=True, cwd=work)
        bufs.append(read_model(str(work / f"{t.stem}-m.h5")).buf.copy())
    return bool(np.array_equal(bufs[0], bufs[1]))


def _spread(xs: list[float]) -> str:
    sd = statistics.stdev(xs) if len(xs) > 1 else 0.0
    return f"{statistics.mean(xs):.2f} ± {sd:.2f}"


def measure(before: Path, repeats: int) -> list[list]:
    rows = []
    WORKDIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=WORKDIR) as tmp:
        work = Path(tmp)
        for name, (src, categorical) in DATASETS.items():
            times: dict[str, list[float]] = {"v1": [], "v2": []}
            cpu: dict[str, list[float]] = {"v1": [], "v2": []}
            out = {"v1": work / "v1.h5", "v2": work / "v2.h5"}
            for _ in range(repeats):
                for tag, tree in (("v1", before), ("v2", ROOT)):
                    out[tag].unlink(missing_ok=True)
                    wall, used = _import(tree, src, categorical, out[tag])
                    times[tag].append(wall)
                    cpu[tag].append(used)
            equal = _equal_tables(out["v1"], out["v2"])
            model = _same_model(out["v1"], out["v2"], work) if name.startswith("mnist") else None
            for tag in ("v1", "v2"):
                rows.append([name, tag, _spread(times[tag]), _spread(cpu[tag]),
                             f"{out[tag].stat().st_size / 1e6:.1f}",
                             f"{100 * _most_read_by_a_rank(out[tag]):.1f} %",
                             "yes" if equal else "NO",
                             "-" if model is None else ("yes" if model else "NO")])
            print(rows[-2], rows[-1], flush=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", required=True, type=Path, help="source tree of version-1 mpidl")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--record", action="store_true")
    args = ap.parse_args()
    load_before = os.getloadavg()[1]
    rows = measure(args.before.resolve(), args.repeats)
    load = f"{load_before:.1f} before, {os.getloadavg()[1]:.1f} after"
    body = (f"Import: `python -m mpidl import` wall and CPU (user + system) seconds, mean ± "
            f"sample sd over {args.repeats} runs, version 1 and 2 alternating (the CPU seconds "
            "hold better than the wall time on a shared machine; 5-minute load average "
            f"{load} on its 2 cores).  Read: the "
            "largest share of the table's bytes one of 4 sharded ranks reads (schema and its "
            "rows, counted at the read calls).  Equal: the two tables hold equal values; "
            "model: a reproducible [32] MNIST model (0.05 epochs) from either table has "
            "bit-identical weights.\n\n")
    body += table(["data", "format", "import wall s", "import CPU s", "table MB",
                   "read by a rank of 4", "values equal", "same model"], rows)
    if args.record:
        record("import_compact", "Table format version 2 (compact columns) vs version 1", body)
    print(body)


if __name__ == "__main__":
    main()
