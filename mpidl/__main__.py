"""``python -m mpidl``: see ``mpidl.cli``."""

from .cli import main

raise SystemExit(main())
