"""Every H2O Deep Learning parameter, declared once as data, and the rules around them.

One module per job:

- ``declare``: the table ``PARAMS`` (name, kind, H2O's default, meaning, range or choices,
  restart rule, origin, mpidl notes) and the enum choices;
- ``text``: values and names as messages write them; ``coerce``: one value to its kind and
  range; ``values``: ``Params``, the immutable set of all values;
- ``validation``: H2O's ``DeepLearningParameters.validate`` (``validate`` without data,
  ``validate_for_data`` with the response type);
- ``crossval``: the cross-validation parameters' rules that need no data;
- ``auto``: what AUTO / Automatic mean (distribution, loss, stopping metric);
- ``rewrites``: ``sanitize``, H2O's ``Sanity.modifyParms`` (the parameters the trainer uses,
  one note per change), and ``replicates_data``;
- ``restart``: H2O's ``Sanity.checkpoint`` / ``Sanity.update`` (``check_restart``,
  ``restart_params``);
- ``jobfile``: ``load_job`` (TOML job file + ``--set key=value``) and ``parse_override``;
- ``docs``: ``describe_markdown()``, written by ``python -m mpidl.params > docs/parameters.md``.

Every user-facing error is a ``UserError`` whose one-line message names the source (job file,
``--set``, checkpoint) and the parameter.  This package re-exports the names the rest of mpidl,
its tests and benchmarks use.
"""

from .auto import resolve_stopping_metric
from .crossval import cross_validates
from .declare import DEFAULTS, FLOAT_MAX, KINDS, PARAM_BY_NAME, PARAMS
from .docs import describe_markdown
from .jobfile import load_job, parse_override
from .restart import check_restart, restart_params
from .rewrites import replicates_data, sanitize
from .validation import validate, validate_for_data
from .values import Params

__all__ = ["DEFAULTS", "FLOAT_MAX", "KINDS", "PARAMS", "PARAM_BY_NAME", "Params", "check_restart",
           "cross_validates",
           "describe_markdown", "load_job", "parse_override", "replicates_data", "resolve_stopping_metric",
           "restart_params", "sanitize", "validate", "validate_for_data"]
