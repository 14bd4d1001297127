"""``python -m mpidl.params > docs/parameters.md``: writes the parameter reference."""

from .docs import describe_markdown

print(describe_markdown(), end="")
