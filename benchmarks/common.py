"""What every benchmark script shares: MNIST in HDF5, running an mpidl job, recording results.

Benchmarks run mpidl through its command line (``python -m mpidl train``, under ``mpirun``
for several ranks), exactly as a user does, so numba's thread count and MPI start fresh per
run.  Figures come from the model file's scoring history: ``training_speed`` is samples per
second of training time excluding scoring (H2O's definition).

Results go to ``benchmarks/RESULTS.md`` in named sections (``record``): re-running a script
replaces its own section, with the machine, the date and the exact command above the table.
"""

from __future__ import annotations

import atexit
import json
import os
import platform
import re
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "RESULTS.md"
MNIST = ROOT.parent / "shared" / "data" / "mnist"
WORKDIR = Path(os.environ.get("MPIDL_BENCH_DIR", "/tmp/mpidl-bench"))
sys.path.insert(0, str(ROOT / "tests"))
from launcher import mpirun_argv  # noqa: E402  (the launcher of mpi4py's MPI family)


def machine() -> str:
    """One line naming this machine's CPU and core count."""
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}"


def mnist_h5(train_csv: str | None = None, test_csv: str | None = None) -> tuple[str, str]:
    """(train.h5, test.h5): MNIST imported once into WORKDIR (response column C785), again
    when the table there is of an older format version than this mpidl writes."""
    from mpidl.data import hdf5
    from mpidl.data.importer import import_csv
    WORKDIR.mkdir(parents=True, exist_ok=True)
    srcs = {"train": train_csv or str(MNIST / "train.csv.gz"),
            "test": test_csv or str(MNIST / "test.csv.gz")}
    out = {}
    for name, src in srcs.items():
        if not os.path.exists(src):
            sys.exit(f"{src}: MNIST not found (pass --train/--test)")
        out[name] = str(WORKDIR / f"mnist_{name}.h5")
        if not os.path.exists(out[name]) or _table_version(out[name]) < hdf5.VERSION:
            import_csv(src, out[name], categorical=["C785"])
    return out["train"], out["test"]


def _table_version(path: str) -> int:
    """The format version of the mpidl table at ``path`` (1 when it has none)."""
    import h5py

    from mpidl.data import hdf5
    with h5py.File(path, "r") as f:
        return int(f[hdf5.GROUP].attrs.get("version", 1))


def toml_value(v) -> str:
    """A Python value as a TOML literal (bool, number, string, list)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    return json.dumps(str(v))


def prepare_run(params: dict, threads: int, ranks: int, tag: str, launcher_args=()):
    """(command, model path, environment) to train ``params`` as WORKDIR/``tag``.toml.

    Writes the job file and removes an old model of that name, so a failed run never leaves
    a stale model to be read.  ``launcher_args`` go to mpirun (with more than one rank), after
    the options tests/launcher.py gives its MPI family.
    """
    WORKDIR.mkdir(parents=True, exist_ok=True)
    job, model = WORKDIR / f"{tag}.toml", WORKDIR / f"{tag}.h5"
    job.write_text("".join(f"{k} = {toml_value(v)}\n" for k, v in params.items()))
    model.unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "mpidl", "train", str(job), "-o", str(model),
           "--threads", str(threads)]
    if ranks > 1:
        cmd = mpirun_argv(ranks, *launcher_args) + cmd
    return cmd, model, dict(os.environ, OMP_NUM_THREADS="1")


def run_mpidl(params: dict, threads: int, ranks: int = 1, timeout: float = 3600,
              tag: str = "run", launcher_args=()) -> dict:
    """Train ``params`` (job-file keys) with ``ranks`` MPI ranks x ``threads`` threads.

    Returns the model's ``inspect --json`` object plus ``wall`` (seconds of the whole command,
    start-up and data loading included) and ``speed`` (samples/s of training time excluding
    scoring, from the last scoring-history row).  Raises RuntimeError when the job fails.
    """
    cmd, model, env = prepare_run(params, threads, ranks, tag, launcher_args)
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT)
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        raise RuntimeError(f"{shlex.join(cmd)} failed ({r.returncode}): "
                           f"{(r.stderr or r.stdout).strip()[-800:]}")
    info = inspect(str(model))
    info["wall"] = wall
    info["speed"] = info["scoring_history"][-1]["training_speed"]
    info["log"] = r.stdout
    return info


def inspect(model_path: str) -> dict:
    """The ``python -m mpidl inspect --json`` object of a model file."""
    r = subprocess.run([sys.executable, "-m", "mpidl", "inspect", model_path, "--json"],
                       capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(r.stdout)


def command_line() -> str:
    """The command that is running, as a user would type it from the repository root."""
    script = os.path.relpath(os.path.abspath(sys.argv[0]), ROOT)
    return shlex.join(["python", script] + sys.argv[1:])


def record(key: str, title: str, body: str) -> None:
    """Put section ``key`` (title, machine, date, command, then ``body``) into RESULTS.md.

    A section already there under the same key is replaced; otherwise it is appended.  The
    file is rewritten through a temporary name, so it is never left half-written.
    """
    begin, end = f"<!-- begin {key} -->", f"<!-- end {key} -->"
    section = (f"{begin}\n## {title}\n\n`{command_line()}`\n\n"
               f"Machine: {machine()}. Date: {time.strftime('%Y-%m-%d %H:%M')}.\n\n"
               f"{body.rstrip()}\n{end}\n")
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        text = head + section + rest.split(end, 1)[1].lstrip("\n")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    fd, tmp = tempfile.mkstemp(dir=HERE, prefix=".RESULTS.", suffix=".md")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, RESULTS)


def table(header: list[str], rows: list[list]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def mem_bytes(spec: str) -> int:
    """'4g', '512m', '1048576k' or a plain byte count, as bytes."""
    m = re.fullmatch(r"\s*(\d+)\s*([kKmMgG]?)\s*", spec)
    if not m:
        sys.exit(f"--mem {spec!r}: give a size such as 4g or 512m")
    return int(m.group(1)) * {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}[m.group(2).lower()]


def start_h2o(threads: int, mem: str):
    """A local H2O JVM (``threads`` nthreads, ``mem`` max memory such as '2g') on a fresh port,
    connected; shut down at exit.  Returns the ``h2o`` module."""
    import h2o
    from h2o.backend import H2OLocalServer
    server = H2OLocalServer.start(nthreads=threads, max_mem_size=mem_bytes(mem),
                                  enable_assertions=False, port="54721+", verbose=False)

    def close():
        try:
            h2o.cluster().shutdown()
        except Exception:  # noqa: BLE001 - best effort at exit
            pass
        server.shutdown()
    atexit.register(close)
    h2o.connect(server=server, verbose=False, strict_version_check=False)
    h2o.no_progress()
    return h2o
