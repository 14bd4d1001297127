"""Job files: a TOML file whose top-level keys are H2O parameter names, ``--set key=value``
overrides, relative data and checkpoint paths looked up next to the job file; the result is
validated ``Params``."""

from __future__ import annotations

import os
import re
from typing import Any, Iterable

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from mpidl.errors import UserError

from .coerce import unknown_parameter
from .declare import NOTES_WHEN_SET, PARAM_BY_NAME
from .validation import validate
from .values import Params

_PATH_PARAMS = ("training_frame", "validation_frame", "checkpoint")


def _toml_line(err: Exception) -> str:
    """Where a TOML parse error is: "line N", or "somewhere" when it names no line."""
    m = re.search(r"at line (\d+)", str(err))
    return f"line {m.group(1)}" if m else "somewhere"


def parse_override(item: str) -> tuple[str, Any]:
    """``key=value`` as ``--set`` takes it: (parameter name, TOML value); UserError if bad."""
    key, sep, text = item.partition("=")
    key = key.strip()
    if not sep or not key:
        raise UserError(f"--set '{item}': expected key=value, e.g. --set epochs=5")
    q = PARAM_BY_NAME.get(key)
    if q is None:
        raise unknown_parameter(key, "--set")
    text = text.strip()
    if text == "" and q.default is None:
        return key, None
    try:
        value = tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        if text.startswith(("[", "{", '"', "'")):
            raise UserError(f"--set: parameter '{key}': {text} is not a valid TOML value "
                            "(an unclosed bracket or quote?)") from None
        if q.kind == "str_list":
            return key, [s.strip() for s in text.split(",")]
        return key, text
    if q.kind in ("str", "path", "enum") and not isinstance(value, str):
        return key, text  # a model_id like 2024-01-01 is text, not a TOML date
    return key, value


def _resolve_path(value: Any, first: str, second: str) -> Any:
    """A relative path as found under directory ``first``, else ``second`` (kept as given when
    found under "." or nowhere); absolute paths, empty text and non-text are kept."""
    if not isinstance(value, str) or value == "" or os.path.isabs(value):
        return value
    for base in (first, second):
        cand = os.path.normpath(os.path.join(base, value))
        if os.path.exists(cand):
            return cand if base != "." else value
    return value


def read_job(path: str) -> dict[str, Any]:
    """A TOML job file as a dict (its tables, such as a grid's, kept as they are), with relative
    training_frame / validation_frame / checkpoint paths (and initial_weights / initial_biases
    entries) looked up next to the job file first, then in the current directory; UserError naming the file if it cannot be read."""
    try:
        with open(path, "rb") as fh:
            raw = tomllib.load(fh)
    except FileNotFoundError:
        raise UserError(f"{path}: job file not found") from None
    except IsADirectoryError:
        raise UserError(f"{path}: is a directory, not a job file") from None
    except UnicodeDecodeError as e:
        raise UserError(f"{path}: not a UTF-8 text file ({e.reason})") from None
    except tomllib.TOMLDecodeError as e:
        msg = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(e))
        col = re.search(r"column (\d+)", str(e))
        raise UserError(f"{path}: {_toml_line(e)}: invalid TOML: {msg}"
                        f"{' (column ' + col.group(1) + ')' if col else ''}") from None
    jobdir = os.path.dirname(path) or "."
    for name in _PATH_PARAMS:
        if name in raw:
            raw[name] = _resolve_path(raw[name], jobdir, ".")
    for name in ("initial_weights", "initial_biases"):   # lists of frame paths
        if isinstance(raw.get(name), list):
            raw[name] = [_resolve_path(v, jobdir, ".") for v in raw[name]]
    return raw


def load_job(path: str, overrides: Iterable[str] = (), notes: list[str] | None = None) -> Params:
    """Read a TOML job file (top-level keys = H2O parameter names), apply ``--set key=value``
    overrides (values are TOML; a bare word or path is taken as text), validate.  ``notes``,
    when given, receives one line per parameter the job sets that has no effect yet
    (``NOTES_WHEN_SET``; set to true).

    Relative training_frame / validation_frame / checkpoint paths from the file are looked up
    next to the job file first, then in the current directory; paths from ``--set`` are looked
    up in the current directory first. ``--set name=`` (empty) unsets an optional parameter.
    """
    raw = read_job(path)
    jobdir = os.path.dirname(path) or "."
    origins: dict[str, str] = {}
    for item in overrides:
        key, value = parse_override(item)
        if key in _PATH_PARAMS:
            value = _resolve_path(value, ".", jobdir)
        raw[key] = value
        origins[key] = "--set"
    params = validate(raw, path, origins)
    if notes is not None:
        notes.extend(line for name, line in NOTES_WHEN_SET.items() if raw.get(name) is True)
    return params
