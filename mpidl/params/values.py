"""``Params``: the immutable set of every parameter's value, in table order."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .coerce import check_type, unknown_parameter
from .declare import DEFAULTS, PARAM_BY_NAME
from .text import did_you_mean, show_value


class Params(Mapping):
    """Immutable set of all parameters, in table order. ``p.hidden``, ``p["hidden"]``.

    ``Params(**values)`` fills in defaults and checks types (not ranges; see ``validate``).
    List values are handed out as fresh lists, so callers cannot change a Params.
    """

    __slots__ = ("_values",)

    def __init__(self, _source: str = "parameters", **values: Any) -> None:
        vals = dict(DEFAULTS)
        for name, v in values.items():
            q = PARAM_BY_NAME.get(name)
            if q is None:
                raise unknown_parameter(name, _source)
            vals[name] = check_type(q, v, _source)
        object.__setattr__(self, "_values", vals)

    @classmethod
    def _trusted(cls, vals: dict[str, Any]) -> Params:
        """A Params holding ``vals`` as they are: for this package's modules, whose values are
        already checked (validate, sanitize)."""
        self = object.__new__(cls)
        object.__setattr__(self, "_values", vals)
        return self

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            v = self._values[name]
        except KeyError:
            raise AttributeError(f"no parameter '{name}'{did_you_mean(name, PARAM_BY_NAME)}") from None
        return list(v) if isinstance(v, list) else v

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Params is immutable; use p.replace(name=value)")

    def __getitem__(self, name: str) -> Any:
        v = self._values[name]
        return list(v) if isinstance(v, list) else v

    def __iter__(self):
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        changed = ", ".join(f"{k}={show_value(v)}" for k, v in self._values.items() if v != DEFAULTS[k])
        return f"Params({changed})"

    def __reduce__(self):
        return (Params._trusted, (self.to_dict(),))

    def to_dict(self) -> dict[str, Any]:
        """All parameters as a JSON-serializable dict (lists copied; max_w2 may be inf)."""
        return {k: (list(v) if isinstance(v, list) else v) for k, v in self._values.items()}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], source: str = "model file") -> Params:
        """Rebuild from ``to_dict()`` output (e.g. a model file). Missing keys take their default;
        unknown keys and wrong types raise UserError. Ranges are not checked: sanitized
        parameters (rate = 0 with adaptive_rate) are legal here."""
        return cls(source, **d)

    def replace(self, **changes: Any) -> Params:
        """A copy with some values changed (types checked, ranges not)."""
        vals = dict(self._values)
        for name, v in changes.items():
            q = PARAM_BY_NAME.get(name)
            if q is None:
                raise unknown_parameter(name, "replace")
            vals[name] = check_type(q, v, "replace")
        return Params._trusted(vals)
