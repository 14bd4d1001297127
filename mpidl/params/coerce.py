"""One parameter value: coerced to its kind (int, float, bool, text, lists) and checked against
its range or choices, with a one-line message naming the source and the parameter when it is
wrong ("write 5 without quotes", "did you mean 'Tanh'?")."""

from __future__ import annotations

from typing import Any

from mpidl.errors import UserError

from .declare import PARAM_BY_NAME, UNSUPPORTED_VALUES, Param, Range
from .text import did_you_mean, format_value, show_value

_INT64 = (-(2**63), 2**63 - 1)


def expected(q: Param) -> str:
    """What a value of ``q`` must be, for messages: "an integer >= 0", "one of Tanh, ..."."""
    rng = f" {q.check}" if isinstance(q.check, Range) and str(q.check) else ""
    if q.kind == "enum":
        return "one of " + ", ".join(c for c in q.check if (q.name, c) not in UNSUPPORTED_VALUES)
    each = f" each{rng}" if rng else ""
    return {
        "int": f"an integer{rng}", "float": f"a number{rng}", "bool": "true or false",
        "str": "a string", "path": "a file path (string)",
        "int_list": f"a list of integers{each}", "float_list": f"a list of numbers{each}",
        "str_list": "a list of strings",
    }[q.kind]


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _to_int(v: Any) -> int | None:
    if isinstance(v, int) and not isinstance(v, bool):
        return v
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return None


def coerce(q: Param, v: Any) -> tuple[Any, str | None]:
    """(value, None) in the parameter's kind, or (None, hint) when the type is wrong."""
    if v is None:
        return (None, None) if q.default is None else (None, "")
    k = q.kind
    if k == "int":
        i = _to_int(v)
        return (i, None) if i is not None else (None, _quote_hint(v))
    if k == "float":
        return (float(v), None) if _is_num(v) else (None, _quote_hint(v))
    if k == "bool":
        if isinstance(v, bool):
            return v, None
        return None, ("; write true or false without quotes" if isinstance(v, str) and v.lower() in ("true", "false")
                      else "")
    if k in ("str", "path", "enum"):
        return (v, None) if isinstance(v, str) else (None, "")
    if not isinstance(v, (list, tuple)):
        ex = f"[{format_value(v)}]" if not isinstance(v, str) else f'["{v}"]'
        return None, f"; write {q.name} = {ex} (a list)"
    conv = {"int_list": _to_int, "float_list": lambda e: float(e) if _is_num(e) else None,
            "str_list": lambda e: e if isinstance(e, str) else None}[k]
    out = [conv(e) for e in v]
    return (out, None) if all(e is not None for e in out) else (None, "")


def _quote_hint(v: Any) -> str:
    if isinstance(v, str):
        try:
            float(v)
            return f"; write {v} without quotes"
        except ValueError:
            pass
    return ""


def check_value(q: Param, v: Any, where: str) -> Any:
    """Coerce and range-check one value; raise UserError naming ``where`` and the parameter."""
    val, hint = coerce(q, v)
    if hint is not None:
        raise UserError(f"{where}: parameter '{q.name}': expected {expected(q)}, got {show_value(v)}{hint}")
    if val is None:
        return None
    if q.kind == "enum":
        if val not in q.check:
            raise UserError(f"{where}: parameter '{q.name}': expected {expected(q)}, got {show_value(val)}"
                            f"{did_you_mean(val, q.check)}")
    elif isinstance(q.check, Range):
        items = val if isinstance(val, list) else [val]
        if any(not q.check.contains(float(e)) for e in items):
            raise UserError(f"{where}: parameter '{q.name}': expected {expected(q)}, got {show_value(val)}")
    if q.kind == "int" and not _INT64[0] <= val <= _INT64[1]:
        raise UserError(f"{where}: parameter '{q.name}': expected a 64-bit integer, got {val}")
    return val


_ALIASES = {"y": "response_column", "training_data": "training_frame",
            "validation_data": "validation_frame", "response": "response_column"}


def unknown_parameter(name: str, where: str) -> UserError:
    """The error for a name that is no parameter, with the one meant when it is a known alias
    (``y``, ``training_data``) or close to a parameter's name."""
    hint = f"; did you mean '{_ALIASES[name]}'?" if name in _ALIASES else did_you_mean(name, PARAM_BY_NAME)
    return UserError(f"{where}: unknown parameter '{name}'{hint}")


def check_type(q: Param, v: Any, where: str) -> Any:
    """Coerce one value to the kind of ``q`` (ranges not checked); UserError naming ``where``."""
    val, hint = coerce(q, v)
    if hint is not None:
        raise UserError(f"{where}: parameter '{q.name}': expected {expected(q)}, got {show_value(v)}{hint}")
    return val
