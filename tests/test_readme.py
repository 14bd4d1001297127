"""The README says what is true today (issue 18, point 9): the quickstart prints the lines the
README shows, and the "What is where" table names every module of the package."""

from __future__ import annotations

import re
import shutil

from cli_run import REPO, mpidl

README = (REPO / "README.md").read_text()


def _shape(line: str) -> str:
    """A line with every duration as 'T' (8.4s, 3m05s, 2h07m), every other number as '#' and
    runs of spaces as one: what must not change from run to run."""
    line = re.sub(r"\b(\d+h\d\dm|\d+m\d\ds|\d+\.\ds)(?=\s|$)", "T", line)
    return re.sub(r" +", " ", re.sub(r"\d[\d,.]*", "#", line)).strip()


def _quickstart_block() -> list[str]:
    start = README.index("It prints (")
    block = README[start:].split("```text\n", 1)[1].split("```", 1)[0]
    return block.splitlines()


def test_quickstart_prints_what_the_readme_shows(tmp_path):
    jobs = tmp_path / "jobs"
    jobs.mkdir()
    shutil.copy(REPO / "jobs" / "quickstart.toml", jobs)
    (tmp_path / "data").mkdir()
    shutil.copy(REPO / "data" / "prostate.csv", tmp_path / "data")
    proc = mpidl("train", "jobs/quickstart.toml", cwd=tmp_path)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    shown = [_shape(x) for x in _quickstart_block()]
    printed = [_shape(x) for x in proc.stdout.splitlines()]
    is_iter = lambda x: x.startswith("iter ")  # noqa: E731 - how many depends on the clock
    assert [x for x in printed if not is_iter(x)] == [x for x in shown if not is_iter(x)]
    assert {x for x in printed if is_iter(x)} == {x for x in shown if is_iter(x)}
    assert printed[-1] == shown[-1]
    assert (tmp_path / "quickstart.h5").exists()


def test_what_is_where_names_every_module():
    table = README[README.index("## What is where"):].split("\n\n", 2)[1]
    rows = [r.split(" | ")[0] for r in table.splitlines() if r.startswith("| `")]
    missing = []
    for path in sorted((REPO / "mpidl").rglob("*.py")):
        if path.name == "__init__.py":
            continue
        rel = path.relative_to(REPO).as_posix()
        folder = rel.rsplit("/", 1)[0] + "/"
        if not any(f"`{rel}`" in r or (f"`{folder}" in r and f"`{path.name}`" in r)
                   for r in rows):
            missing.append(rel)
    assert missing == []
