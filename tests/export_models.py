"""Small models of every kind the export tests check, trained from the shared data sets.

``KINDS``: binomial (prostate, Maxout with input and hidden dropout), multinomial (iris, Tanh),
regression (Boston housing, Rectifier), balanced (iris resampled by class_sampling_factors,
its probabilities corrected back), and categoricals with missing values (adult census:
blanked fields, a level the model never saw, a constant and an ignored column, the first
level of each categorical the reference without a slot), and an autoencoder of those adult
census columns (Tanh with input and hidden dropout, every level a slot) and one of prostate's
numerics (Rectifier).  Each gives
a model file and a test CSV; ``numpy_only`` runs a Python file by an interpreter that can
import numpy and nothing of mpidl, numba or h5py.
"""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

from cli_run import mpidl, prostate
from shared_data import need

KINDS = ("binomial", "multinomial", "regression", "categorical", "balanced", "autoencoder",
         "autoencoder_rectifier")


def _job(name: str, frame: Path, response: str | None, **extra) -> str:
    lines = [f'training_frame = "{frame}"', "seed = 11", "export_weights_and_biases = true"]
    lines += [f'response_column = "{response}"'] if response else ["autoencoder = true"]
    return "\n".join(lines + [f"{k} = {v}" for k, v in extra.items()]) + "\n"


def _adult_tables(d: Path) -> tuple[Path, Path]:
    """(train, test) CSVs cut from adult census with missing fields, an unseen level, a
    constant column (train) and a column the job ignores."""
    src_train, src_test = need("adult_census_income/adult_data.csv",
                               "adult_census_income/adult_test.csv")
    out = []
    for src, rows, name in ((src_train, 1500, "train"), (src_test, 300, "test")):
        with open(src, newline="") as f:
            table = [[t.strip() for t in r] for r in csv.reader(f)][:rows + 1]
        header, body = table[0] + ["const"], table[1:]
        for i, r in enumerate(body):
            r.append("1")
            if i % 7 == 3:
                r[header.index("workclass")] = ""          # missing level
            if i % 11 == 5:
                r[header.index("age")] = "NA"              # missing number
            if name == "test" and i % 13 == 2:
                r[header.index("occupation")] = "Astronaut"  # never seen in training
        path = d / f"adult_{name}.csv"
        with open(path, "w", newline="") as f:
            csv.writer(f).writerows([header] + body)
        out.append(path)
    return out[0], out[1]


def train_kind(kind: str, d: Path) -> tuple[Path, Path]:
    """(model file, test CSV) of a small model of ``kind`` trained in folder ``d``."""
    if kind == "binomial":
        data = prostate()
        job = _job(kind, data, "CAPSULE", ignored_columns='["ID"]', distribution='"bernoulli"',
                   hidden="[6, 5]", activation='"MaxoutWithDropout"', epochs=5,
                   input_dropout_ratio=0.1, hidden_dropout_ratios="[0.2, 0.1]")
    elif kind == "multinomial":
        data, = need("iris/iris_wheader.csv")
        job = _job(kind, data, "class", hidden="[5]", activation='"Tanh"', epochs=20)
    elif kind == "balanced":
        data, = need("iris/iris_wheader.csv")
        job = _job(kind, data, "class", hidden="[5]", activation='"Tanh"', epochs=10,
                   balance_classes="true", class_sampling_factors="[1.0, 3.0, 0.5]")
    elif kind == "regression":
        data, = need("boston_housing/BostonHousing.csv")
        job = _job(kind, data, "medv", hidden="[8]", activation='"Rectifier"', epochs=20)
    elif kind == "autoencoder_rectifier":
        data = prostate()
        job = _job(kind, data, None, ignored_columns='["ID"]', hidden="[4, 3]",
                   activation='"Rectifier"', epochs=5)
    elif kind == "autoencoder":
        train, data = _adult_tables(d)
        job = _job(kind, train, None, hidden="[7]", epochs=3, ignored_columns='["fnlwgt"]',
                   activation='"TanhWithDropout"', input_dropout_ratio=0.1,
                   hidden_dropout_ratios="[0.2]")
    else:
        train, data = _adult_tables(d)
        job = _job(kind, train, "income", hidden="[7]", epochs=3,
                   ignored_columns='["fnlwgt"]', use_all_factor_levels="false")
    (d / f"{kind}.toml").write_text(job)
    model = d / f"{kind}.h5"
    proc = mpidl("train", d / f"{kind}.toml", "--threads", "1", "-o", model, cwd=d)
    assert proc.returncode == 0, proc.stderr
    return model, data


def numpy_only(script: Path, *args, cwd: Path) -> subprocess.CompletedProcess:
    """Run ``script ARGS`` by this Python in isolated mode without site-packages (``-I -S``),
    its path the standard library plus a folder holding numpy alone; the script checks
    first that mpidl, numba and h5py cannot be imported."""
    import numpy
    alone = cwd / "numpy_alone"
    if not alone.exists():
        alone.mkdir()
        pkg = Path(numpy.__file__).parent
        for p in pkg.parent.iterdir():   # numpy and its bundled libraries (numpy.libs)
            if p.name == "numpy" or p.name.startswith("numpy.libs"):
                (alone / p.name).symlink_to(p)
    boot = ("import importlib.util, runpy, sys\n"
            f"sys.path.insert(0, {str(alone)!r})\n"
            "for name in ('mpidl', 'numba', 'h5py', 'pandas'):\n"
            "    assert importlib.util.find_spec(name) is None, name\n"
            f"sys.argv = [{str(script)!r}, *sys.argv[1:]]\n"
            f"runpy.run_path({str(script)!r}, run_name='__main__')\n")
    return subprocess.run([sys.executable, "-I", "-S", "-c", boot, *map(str, args)],
                          capture_output=True, text=True, timeout=120, cwd=cwd)
