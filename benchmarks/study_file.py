"""A scaling study file (TOML) for ``benchmarks/scaling.py --slurm``: what it may hold, its
checks, and the points it expands to (issue 16 point 2).

    job = "../jobs/mnist.toml"       # the mpidl job file every point trains (next to this file)
    ranks_per_node = [1, 2]           # each combined with each threads_per_rank (default [1])
    threads_per_rank = [1]
    samples = 600000                  # or: seconds = 120 (max_runtime_secs of every point)
    partition = "debug"               # optional: sbatch -p (else the default partition)
    time_limit = "30"                 # optional: sbatch -t
    sbatch_options = ["--account=x"]  # optional: more sbatch options, as given
    network = "hdr,ranks=1024"        # optional: MPIDL_SIMULATE_NETWORK of every point
    set = ["hidden=[200,200]"]        # optional: --set overrides of the job file
    repeats = 3                       # optional: every point N times, in interleaved rounds
    [strong]                          # fixed data: the whole training frame at every count
    nodes = [1, 2, 4, 8]
    [weak]                            # fixed rows per rank: the frame's first ranks x rows_per_rank
    nodes = [1, 2, 4, 8]
    rows_per_rank = 10000

``samples``: samples per point in strong scaling, per rank in weak scaling (the work of a rank
stays the same).  Every check here runs before anything is submitted; a bad study is a
``UserError`` naming the file and the key.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from mpidl.errors import UserError
from mpidl.netmodel import VARIABLE, parse_simulation

TOP_KEYS = {"job", "ranks_per_node", "threads_per_rank", "samples", "seconds", "partition",
            "time_limit", "sbatch_options", "network", "set", "repeats", "strong", "weak"}
SERIES_KEYS = {"strong": {"nodes"}, "weak": {"nodes", "rows_per_rank"}}
# what the study sets on every point itself; a `set` entry naming one of these is refused
STUDY_PARAMS = ("epochs", "max_runtime_secs", "training_frame", "replicate_training_data",
                "stopping_rounds", "classification_stop", "regression_stop",
                "overwrite_with_best_model")


@dataclass(frozen=True)
class Study:
    """A checked study file.  ``job``: absolute path of the job file; ``series``: {"strong" or
    "weak": sorted node counts}; ``samples`` or ``seconds`` (the other None)."""

    path: str
    job: str
    series: dict
    ranks_per_node: tuple[int, ...]
    threads_per_rank: tuple[int, ...]
    samples: int | None
    seconds: float | None
    rows_per_rank: int | None
    partition: str | None
    time_limit: str | None
    sbatch_options: tuple[str, ...]
    network: str | None
    overrides: tuple[str, ...]
    repeats: int = 1


@dataclass(frozen=True)
class Point:
    """One SLURM job of a study: ``scaling`` is "strong" or "weak"; ``repeat`` counts from 1;
    ``tag`` names its files."""

    scaling: str
    nodes: int
    ranks_per_node: int
    threads_per_rank: int
    repeat: int = 1

    @property
    def ranks(self) -> int:
        return self.nodes * self.ranks_per_node

    @property
    def cores(self) -> int:
        return self.ranks * self.threads_per_rank

    @property
    def tag(self) -> str:
        return (f"{self.scaling}-n{self.nodes}-r{self.ranks_per_node}-t{self.threads_per_rank}"
                f"-k{self.repeat}")

    @property
    def config(self) -> tuple[str, int, int, int]:
        """What the repeats of one point share: (scaling, nodes, ranks/node, threads/rank)."""
        return self.scaling, self.nodes, self.ranks_per_node, self.threads_per_rank


def _counts(path: str, key: str, value, default=None) -> tuple[int, ...]:
    """A non-empty list of whole numbers >= 1, sorted, without repeats."""
    if value is None and default is not None:
        return default
    if (not isinstance(value, list) or not value
            or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in value)):
        raise UserError(f"{path}: {key} must be a non-empty list of whole numbers >= 1, "
                        f"not {value!r}")
    return tuple(sorted(set(value)))


def _positive(path: str, key: str, value, kind=(int, float)):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, kind) or not value > 0:
        raise UserError(f"{path}: {key} must be a number > 0, not {value!r}")
    return value


def _texts(path: str, key: str, value) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise UserError(f"{path}: {key} must be a list of strings, not {value!r}")
    return tuple(value)


def _text(path: str, key: str, value) -> str | None:
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise UserError(f"{path}: {key} must be a non-empty string, not {value!r}")
    return value


def _unknown(path: str, where: str, keys, allowed) -> None:
    extra = sorted(set(keys) - set(allowed))
    if extra:
        raise UserError(f"{path}: unknown key {where}{extra[0]!r} (known: "
                        f"{', '.join(sorted(allowed))})")


def _load_toml(path: str) -> dict:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise UserError(f"{path}: study file not found") from None
    except (IsADirectoryError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise UserError(f"{path}: not a TOML study file ({' '.join(str(e).split())})") from None


def _series(path: str, raw: dict) -> tuple[dict, int | None]:
    """({kind: node counts}, rows_per_rank) from the [strong] / [weak] tables."""
    series, rows = {}, None
    for kind, allowed in SERIES_KEYS.items():
        table = raw.get(kind)
        if table is None:
            continue
        if not isinstance(table, dict):
            raise UserError(f"{path}: {kind} must be a table ([{kind}])")
        _unknown(path, f"[{kind}] ", table, allowed)
        if "nodes" not in table:
            raise UserError(f"{path}: [{kind}] needs nodes = [1, 2, 4, ...]")
        series[kind] = _counts(path, f"[{kind}] nodes", table["nodes"])
        if kind == "weak":
            if "rows_per_rank" not in table:
                raise UserError(f"{path}: [weak] needs rows_per_rank")
            rows = _positive(path, "[weak] rows_per_rank", table["rows_per_rank"], int)
    if not series:
        raise UserError(f"{path}: no [strong] or [weak] table: nothing to run")
    return series, rows


def read_study(path: str) -> Study:
    """The study file at ``path``, checked without SLURM (see ``check_cluster``)."""
    raw = _load_toml(path)
    _unknown(path, "", raw, TOP_KEYS)
    series, rows = _series(path, raw)
    if ("samples" in raw) == ("seconds" in raw):
        raise UserError(f"{path}: give either samples (per point) or seconds (per point)")
    job = _text(path, "job", raw.get("job"))
    if job is None:
        raise UserError(f"{path}: job = \"JOB.toml\" is missing (the mpidl job every point trains)")
    job = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(path)), job))
    overrides = _texts(path, "set", raw.get("set"))
    for item in overrides:
        if item.partition("=")[0].strip() in STUDY_PARAMS:
            raise UserError(f"{path}: set: {item!r}: the study sets "
                            f"{item.partition('=')[0].strip()} on every point itself")
    network = _text(path, "network", raw.get("network"))
    if network is not None:
        try:
            parse_simulation(network, 1)
        except UserError as e:
            raise UserError(f"{path}: network: {e}") from None
    return Study(path, job, series,
                 _counts(path, "ranks_per_node", raw.get("ranks_per_node"), (1,)),
                 _counts(path, "threads_per_rank", raw.get("threads_per_rank"), (1,)),
                 _positive(path, "samples", raw.get("samples"), int),
                 _positive(path, "seconds", raw.get("seconds")), rows,
                 _text(path, "partition", raw.get("partition")),
                 _text(path, "time_limit", raw.get("time_limit")),
                 _texts(path, "sbatch_options", raw.get("sbatch_options")), network, overrides,
                 _positive(path, "repeats", raw.get("repeats", 1), int))


def points(study: Study) -> list[Point]:
    """Every job, in rounds (each round every point once: a slow minute of the cluster then
    falls on every point alike); within a round strong before weak, then by ranks per node,
    threads per rank, nodes."""
    return [Point(kind, n, r, t, k) for k in range(1, study.repeats + 1)
            for kind in ("strong", "weak") if kind in study.series
            for r in study.ranks_per_node for t in study.threads_per_rank
            for n in study.series[kind]]


def partition_nodes(partition: str | None) -> tuple[str, int]:
    """(partition name, its node count) from ``sinfo``; None: the default partition."""
    if shutil.which("sinfo") is None:
        raise UserError("sinfo not found on PATH: --slurm needs a SLURM cluster")
    r = subprocess.run(["sinfo", "-h", "-N", "-o", "%N %P"], capture_output=True, text=True,
                       timeout=60)
    if r.returncode != 0:
        raise UserError(f"sinfo failed: {' '.join(r.stderr.split()) or r.returncode}")
    nodes: dict[str, set] = {}
    default = None
    for line in r.stdout.splitlines():
        node, _, part = line.strip().partition(" ")
        if part.endswith("*"):
            part = default = part[:-1]
        nodes.setdefault(part, set()).add(node)
    name = partition or default
    if name not in nodes:
        raise UserError(f"partition {partition or '(default)'} not found: sinfo lists "
                        f"{', '.join(sorted(nodes)) or 'none'}")
    return name, len(nodes[name])


def check_cluster(study: Study, environ=os.environ) -> None:
    """What needs the cluster and the environment: every node count fits the partition, and
    an ``MPIDL_SIMULATE_NETWORK`` that sbatch would export to every point can be read."""
    if environ.get(VARIABLE):
        parse_simulation(environ[VARIABLE], 1)
    try:
        name, count = partition_nodes(study.partition)
    except UserError as e:
        raise UserError(f"{study.path}: {e}") from None
    most = max(max(n) for n in study.series.values())
    if most > count:
        raise UserError(f"{study.path}: nodes: {most} nodes asked, partition {name} has "
                        f"{count} (sinfo)")


def job_overrides(study: Study, point: Point, train_rows: int, frame: str | None) -> list[str]:
    """The ``--set key=value`` items of ``point``: the study's own after the file's ``set``.
    ``train_rows``: rows the point trains on (the weak frame's, ``frame``, for weak points)."""
    out = list(study.overrides)
    out += ["stopping_rounds=0", "classification_stop=-1", "regression_stop=-1",
            "overwrite_with_best_model=false"]
    if study.samples is not None:
        per_point = study.samples * (point.ranks if point.scaling == "weak" else 1)
        out.append(f"epochs={per_point / train_rows!r}")
    else:
        out += ["epochs=1000000.0", f"max_runtime_secs={float(study.seconds)!r}"]
    if point.scaling == "weak":
        out += [f"training_frame={frame}", "replicate_training_data=false"]
    return out


def study_folder(path: str, out: str | None) -> Path:
    """The results folder: ``out``, else STUDY (the study file's name) in the current
    directory; created when missing (its parent must exist)."""
    folder = Path(out) if out else Path(Path(path).stem)
    if not folder.parent.resolve().is_dir():
        raise UserError(f"{folder}: its folder {folder.parent} does not exist")
    if folder.exists() and not folder.is_dir():
        raise UserError(f"{folder}: exists and is not a folder")
    folder.mkdir(exist_ok=True)
    return folder.resolve()
