"""The staged real data sets (``../shared/data``) and what a test does when one is missing.

``MPIDL_DATA_DIR`` points elsewhere (default: ``shared/data`` beside the repository).  A missing
file skips the test, except with ``MPIDL_REQUIRE_DATA=1`` (set by ``.ci/run``), where it fails
it: real-data tests must not pass by skipping in CI.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

DATA = Path(os.environ.get("MPIDL_DATA_DIR") or
            Path(__file__).resolve().parents[1].parent / "shared" / "data")


def missing(what: str) -> None:
    """Skip (or, with MPIDL_REQUIRE_DATA=1, fail) the calling test: ``what`` is not staged."""
    message = f"real data not staged: {what}"
    if os.environ.get("MPIDL_REQUIRE_DATA") == "1":
        pytest.fail(f"{message} (MPIDL_REQUIRE_DATA=1)", pytrace=False)
    pytest.skip(message)


def need(*rel: str) -> list[Path]:
    """The paths ``DATA/rel`` for each ``rel``; ``missing`` when any is absent."""
    paths = [DATA / r for r in rel]
    absent = [str(p) for p in paths if not p.exists()]
    if absent:
        missing(", ".join(absent))
    return paths
