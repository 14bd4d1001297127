"""A grid job: the fixed parameters, the ``[hyper_parameters]`` lists and the
``[search_criteria]`` of H2O's grid search, and the grid points they make.

Points are numbered from 0 in H2O's walking order: Cartesian varies the first hyper-parameter
(in job-file order) fastest (``HyperSpaceWalker.CartesianWalker``); RandomDiscrete draws
combinations at random without repeating one (``RandomDiscreteValueWalker``), ``max_models`` of
them at most.  A point's parameters are validated one by one: a value that fails is that
model's failure, not the grid's.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import UserError
from ..params import PARAM_BY_NAME, Params, validate
from ..params.coerce import unknown_parameter
from ..params.declare import STOPPING_METRICS
from ..params.jobfile import read_job

STRATEGIES = ("Cartesian", "RandomDiscrete")
_RANDOM_ONLY = ("max_models", "max_runtime_secs", "seed", "stopping_rounds", "stopping_metric",
                "stopping_tolerance")
_CRITERIA = ("strategy",) + _RANDOM_ONLY
_MAX_UNBOUNDED_SPACE = 100_000   # RandomDiscrete without max_models draws the whole space


@dataclass(frozen=True)
class Criteria:
    """``[search_criteria]`` with H2O's defaults (HyperSpaceSearchCriteria)."""

    strategy: str = "Cartesian"
    max_models: int = 0              # 0: no limit
    max_runtime_secs: float = 0.0    # 0: no limit
    seed: int = -1                   # -1: a random seed
    stopping_rounds: int = 0         # 0: no grid-level early stop
    stopping_metric: str = "AUTO"
    stopping_tolerance: float = 1e-3


@dataclass
class GridJob:
    """A parsed grid job file: ``fixed`` (H2O name -> value, relative paths resolved),
    ``hyper`` (name -> list of values, file order), ``criteria``, ``grid_id`` (the models are
    ``GRID_ID_model_I``), ``path`` (the job file, for messages)."""

    path: str
    grid_id: str
    fixed: dict[str, Any]
    hyper: dict[str, list]
    criteria: Criteria
    points: list[dict[str, Any]] = field(default_factory=list)

    def params_of(self, index: int) -> Params:
        """Validated parameters of grid point ``index`` (UserError: this model is invalid).
        RandomDiscrete with no model seed and a search seed: seed = search seed + index (H2O)."""
        raw = {**self.fixed, **self.points[index]}
        c = self.criteria
        if c.strategy == "RandomDiscrete" and "seed" not in raw and c.seed != -1:
            raw["seed"] = c.seed + index
        return validate(raw, self.path)


def _check_number(name: str, value: Any, kind: type, path: str) -> Any:
    """A non-negative int or float search criterion, else UserError naming it."""
    ok = (isinstance(value, (int, float)) and not isinstance(value, bool)
          and (kind is float or float(value).is_integer()))
    if not ok or (name != "seed" and (math.isnan(value) or value < 0)):
        want = "an integer" if kind is int else "a number"
        raise UserError(f"{path}: [search_criteria] '{name}': expected {want}"
                        f"{'' if name == 'seed' else ' >= 0'}, got {value!r}")
    return kind(value)


def parse_criteria(table: Any, path: str) -> Criteria:
    """``[search_criteria]`` checked: known keys, a known strategy, and the stopping keys only
    with RandomDiscrete (H2O's CartesianSearchCriteria has none)."""
    if not isinstance(table, dict):
        raise UserError(f"{path}: search_criteria must be a table ([search_criteria])")
    values: dict[str, Any] = {}
    for name, value in table.items():
        if name not in _CRITERIA:
            raise UserError(f"{path}: [search_criteria] unknown key '{name}' "
                            f"(H2O's keys: {', '.join(_CRITERIA)})")
        if name == "strategy":
            if value not in STRATEGIES:
                raise UserError(f"{path}: [search_criteria] 'strategy': expected Cartesian or "
                                f"RandomDiscrete, got {value!r}")
        elif name == "stopping_metric":
            if value not in STOPPING_METRICS:
                raise UserError(f"{path}: [search_criteria] 'stopping_metric': expected one of "
                                f"{', '.join(STOPPING_METRICS)}, got {value!r}")
        else:
            kind = float if name in ("max_runtime_secs", "stopping_tolerance") else int
            value = _check_number(name, value, kind, path)
        values[name] = value
    crit = Criteria(**values)
    if crit.strategy == "Cartesian":
        extra = [k for k in _RANDOM_ONLY if k in values]
        if extra:
            raise UserError(f"{path}: [search_criteria] '{extra[0]}' needs strategy = "
                            "\"RandomDiscrete\" (a Cartesian grid trains every combination)")
    return crit


def parse_hyper(table: Any, fixed: dict, path: str) -> dict[str, list]:
    """``[hyper_parameters]`` checked: a non-empty table of known parameter names, each a
    non-empty list of values, none also set as a fixed parameter."""
    if not isinstance(table, dict) or not table:
        raise UserError(f"{path}: a grid needs a [hyper_parameters] table with at least one "
                        "parameter (name = [values])")
    for name, values in table.items():
        if name not in PARAM_BY_NAME:
            raise unknown_parameter(name, f"{path}: [hyper_parameters]")
        if not isinstance(values, list) or not values:
            raise UserError(f"{path}: [hyper_parameters] '{name}': expected a non-empty list "
                            f"of values, got {values!r}")
        if name in fixed:
            raise UserError(f"{path}: parameter '{name}' is both a fixed parameter and a "
                            "hyper-parameter; set it in one place")
        if name == "model_id":
            raise UserError(f"{path}: [hyper_parameters] 'model_id': the grid names its models "
                            "(GRID_model_I); set model_id as a fixed parameter to name the grid")
    return dict(table)


def cartesian_index(index: int, sizes: list[int]) -> list[int]:
    """The value indexes of Cartesian point ``index``: the first dimension varies fastest."""
    out = []
    for n in sizes:
        index, k = divmod(index, n)
        out.append(k)
    return out


def walk(hyper: dict[str, list], crit: Criteria, seed: int, path: str) -> list[dict]:
    """The grid points in walking order (see the module docstring); ``seed`` seeds
    RandomDiscrete's draws (already drawn when the criteria say -1)."""
    names, sizes = list(hyper), [len(v) for v in hyper.values()]
    total = math.prod(sizes)
    if crit.strategy == "Cartesian":
        order = range(total)
    else:
        count = min(total, crit.max_models) if crit.max_models else total
        if count > _MAX_UNBOUNDED_SPACE:
            raise UserError(f"{path}: [search_criteria]: a RandomDiscrete grid of {total} "
                            "combinations needs max_models (at most "
                            f"{_MAX_UNBOUNDED_SPACE})")
        order = np.random.default_rng(seed & (2**63 - 1)).permutation(total)[:count]
    return [{name: hyper[name][k] for name, k in zip(names, cartesian_index(int(i), sizes))}
            for i in order]


def load_grid(path: str, grid_seed: int) -> GridJob:
    """Read and check a grid job file (UserError on bad input, before any training);
    ``grid_seed``: the RandomDiscrete seed to use when the criteria's is -1 (the same on every
    rank)."""
    raw = read_job(path)
    hyper_table = raw.pop("hyper_parameters", None)
    crit = parse_criteria(raw.pop("search_criteria", {}), path)
    hyper = parse_hyper(hyper_table, raw, path)
    for name in raw:
        if name not in PARAM_BY_NAME:
            raise unknown_parameter(name, path)
    seed = crit.seed if crit.seed != -1 else grid_seed
    grid_id = str(raw.get("model_id") or os.path.splitext(os.path.basename(path))[0])
    raw.pop("model_id", None)
    job = GridJob(path, grid_id, raw, hyper, crit)
    job.points = walk(hyper, crit, seed, path)
    return job
