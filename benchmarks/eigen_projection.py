"""Eigen's projection: H2O-3's own code (``LinearAlgebraUtils.multiple``, as ``toEigenArray`` calls
it, run from h2o.jar by ``H2OEigenProjection.java``) beside mpidl's ``leading_eigenvector``.

    pip install h2o                                   # bundles h2o.jar; needs Java 11+
    python benchmarks/eigen_projection.py [--seeds 3] [--record]

Part 1: a few count vectors.  Part 2: adult census's parity split (``parity.py``'s files):
for some columns, H2O's projection from the training frame's counts and from the test
frame's counts, since H2O's in-cluster scoring encodes a new frame with its own counts
(``Model.adaptTestForTrain`` calls ``categoricalEncoder`` on it); mpidl applies the training
projection to both.  Counts as H2O's Gram sees them: per training level, missing rows added
to the most frequent level.  Part 3: H2O's Eigen models (parity.py's settings, ``--seeds``)
scored on the test file alone and on the test rows appended to the training frame (whose
counts are then close to the training frame's), with the training frame's own AUC.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, record, start_h2o  # noqa: E402
from parity import DATASETS, _read, h2o_frames, prepare  # noqa: E402

from mpidl.data.eigen import leading_eigenvector  # noqa: E402

COUNTS = ["98,60,30,12", "90,60,30,12", "60,98,30,12", "50,50,50,50"]
COLUMNS = ("workclass", "relationship", "race")
NOTE = ("H2O's vector is a row of Jama's V at an eigenvalue of I - uu^T with L - 1 equal "
        "copies: 8 rows more or less in one level (98 -> 90) change every value, swapping two "
        "levels' counts does not swap their values, and a test frame's counts give another "
        "projection than the training frame's, which H2O's in-cluster scoring uses for that "
        "frame.  mpidl's is the leading eigenvector of diag(p) - pp^T: the most frequent level "
        "apart from the rest, rarer levels near 0, values that follow the levels, and one "
        "projection (the training frame's) for every frame.")


def h2o_projections(counts: list[str]) -> list[str]:
    """H2O's projection line for each comma-separated count vector."""
    import h2o
    jar = Path(h2o.__file__).parent / "backend" / "bin" / "h2o.jar"
    out = subprocess.run(["java", "-cp", str(jar), str(ROOT / "benchmarks" /
                                                       "H2OEigenProjection.java"), *counts],
                         capture_output=True, text=True, check=True)
    return out.stdout.splitlines()


def mpidl_projection(counts: str) -> str:
    v = leading_eigenvector([int(c) for c in counts.split(",")])
    return f"counts {counts}: projection " + " ".join(f"{x:.4f}" for x in v)


def adult_counts() -> list[tuple[str, str, str, str]]:
    """(column, training counts, test counts, H2O's way; training counts, mpidl's way: missing
    rows not counted) over the training levels."""
    spec = DATASETS["adult_census_income"]
    train_csv, test_csv = prepare("adult_census_income", spec)
    out = []
    for col in COLUMNS:
        frames = [_read(p, True)[col] for p in (train_csv, test_csv)]
        levels = sorted(frames[0].dropna().unique())
        rows = []
        for f in frames:
            c = [int((f == lv).sum()) for lv in levels]
            c[int(np.argmax(c))] += int(f.isna().sum())
            rows.append(",".join(map(str, c)))
        ours = ",".join(str(int((frames[0] == lv).sum())) for lv in levels)
        out.append((col, *rows, ours))
    return out


def h2o_scoring(seeds: int) -> list[str]:
    """AUCs of H2O's Eigen models on adult: the training frame, the test frame scored alone and
    appended to the training frame (one line per seed)."""
    import warnings

    from h2o.estimators import H2ODeepLearningEstimator
    from sklearn.metrics import roc_auc_score
    warnings.simplefilter("ignore")
    spec = DATASETS["adult_census_income"]
    h2o = start_h2o(2, "4g")
    train, test = h2o_frames(h2o, spec, *prepare("adult_census_income", spec))
    both = train.rbind(test)
    truth = (test[spec.response].as_data_frame(use_multi_thread=False).iloc[:, 0] == ">50K")
    out = ["\nH2O Eigen models on adult, AUC: training frame / test frame alone / test rows "
           "appended to the training frame"]
    for seed in range(1, seeds + 1):
        m = H2ODeepLearningEstimator(epochs=spec.epochs, seed=seed, categorical_encoding="Eigen")
        m.train(y=spec.response, training_frame=train)
        alone = m.predict(test).as_data_frame(use_multi_thread=False)[">50K"]
        joint = m.predict(both).as_data_frame(use_multi_thread=False)[">50K"][train.nrows:]
        out.append(f"seed {seed}: {m.model_performance(train).auc():.4f} / "
                   f"{roc_auc_score(truth, alone):.4f} / "
                   f"{roc_auc_score(truth, joint.to_numpy()):.4f}")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--record", action="store_true")
    args = ap.parse_args()
    lines = ["H2O-3:", *h2o_projections(COUNTS), "mpidl:", *map(mpidl_projection, COUNTS)]
    adult = adult_counts()
    theirs = h2o_projections([c for _, tr, te, _ in adult for c in (tr, te)])
    lines.append("\nadult census (parity split), H2O's projection from each frame's counts:")
    for k, (col, _, _, ours) in enumerate(adult):
        lines += [f"{col} train {theirs[2 * k]}", f"{col} test  {theirs[2 * k + 1]}",
                  f"{col} mpidl (both frames) {mpidl_projection(ours)}"]
    lines += h2o_scoring(args.seeds)
    text = "\n".join(lines)
    print(text)
    if args.record:
        record("eigen15", "Eigen's projection: H2O-3's against mpidl's",
               "```text\n" + text + "\n```\n\n" + NOTE)
    return 0


if __name__ == "__main__":
    sys.exit(main())
