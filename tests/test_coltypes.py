"""Column types at import by H2O's majority rule (issue 18, point 7).

The rule is H2O's ``PreviewParseWriter.guessType`` (checked here on hand-made counts); the
odd tokens of a numeric column become missing and are reported in one line per column;
``--numeric`` / ``--categorical`` force a type.
"""

from __future__ import annotations

import numpy as np
import pytest
from cli_run import mpidl

from mpidl.data.coltypes import guess_numeric
from mpidl.data.importer import read_csv
from mpidl.errors import UserError


@pytest.mark.parametrize("nonzero, zeros, strings, distinct, numeric", [
    (4999, 0, 1, {"oops"}, True),      # one stray token: numeric
    (3, 0, 3, {"a", "b"}, True),       # ties go to numbers (nnums >= nstrings)
    (2, 0, 3, {"a", "b", "c"}, False),  # mostly strings, all distinct: H2O's string type
    (1, 5, 3, {"x"}, True),            # one string, rarer than numbers and zeros
    (0, 1, 4, {"x"}, False),           # one string, commoner: categorical
    (0, 0, 7, {"NA"}, True),           # a lone NA spelling: numeric
    (0, 4, 4, {"a", "b"}, False),      # strings with zeros for NA: categorical
    (1, 3, 3, {"a", "b"}, False),      # the same with one non-zero number (H2O's lines - 1)
    (2, 3, 4, {"a", "b"}, True),       # fewer strings than numbers, repeated: numeric
    (1, 0, 5, {"a", "b", "c"}, False),  # mostly strings, repeated: categorical
    (1, 9, 2, {"a", "b"}, True),       # H2O's "all guesses failed": numeric
])
def test_guess_numeric_is_h2os_rule(nonzero, zeros, strings, distinct, numeric):
    assert guess_numeric(nonzero, zeros, strings, distinct) is numeric


def _stray_csv(path, token="oops", row=1234):
    rng = np.random.default_rng(0)
    x = [f"{v:.4f}" for v in rng.normal(size=5000)]
    x[row] = token
    path.write_text("x,k\n" + "".join(f"{v},{i % 3}\n" for i, v in enumerate(x)))
    return path, np.array([np.nan if i == row else float(v) for i, v in enumerate(x)])


@pytest.mark.parametrize("token", ["oops", "inf", "-inf"])
def test_stray_token_in_5000_numbers_stays_numeric(tmp_path, token):
    path, expected = _stray_csv(tmp_path / "s.csv", token)
    notes = []
    cols, doms = read_csv(path, notes=notes)
    assert doms == {}
    np.testing.assert_array_equal(cols["x"], expected)       # the token is missing
    assert notes == [f"{path}: column 'x': 1 value(s) not a number ('{token}') read as "
                     "missing; the column is numeric (4,999 of 5,000 values are numbers)"]


def test_import_command_reports_the_count_line(tmp_path):
    path, _ = _stray_csv(tmp_path / "s.csv")
    proc = mpidl("import", path, "-o", tmp_path / "s.h5", cwd=tmp_path)
    assert proc.returncode == 0
    assert proc.stderr.splitlines() == [
        f"mpidl: warning: {path}: column 'x': 1 value(s) not a number ('oops') read as missing; "
        "the column is numeric (4,999 of 5,000 values are numbers)"]
    assert proc.stdout.startswith(f"imported {path} -> {tmp_path / 's.h5'}: 5000 rows x "
                                  "2 columns (0 categorical) in ")


def test_forced_numeric_and_categorical(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("a,b\nx,1\ny,2\nz,3\n4,4\n")
    notes = []
    cols, doms = read_csv(path, numeric=["a"], categorical=["b"], notes=notes)
    np.testing.assert_array_equal(cols["a"], [np.nan, np.nan, np.nan, 4.0])
    assert doms == {"b": ["1", "2", "3", "4"]}
    assert notes == [f"{path}: column 'a': 3 value(s) not a number ('x', 'y', 'z') read as "
                     "missing; the column is numeric (--numeric)"]
    cols, doms = read_csv(path)
    assert doms == {"a": ["4", "x", "y", "z"]}                # left to the guess: categorical


def test_forcing_unknown_or_both_is_an_error(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(UserError, match=r"m\.csv: no column 'c' to make numeric"):
        read_csv(path, numeric=["c"])
    with pytest.raises(UserError, match=r"m\.csv: column 'a' is named both categorical and "
                                        "numeric"):
        read_csv(path, numeric=["a"], categorical=["a"])
