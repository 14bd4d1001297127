"""Binary encoding's rule for a level unseen in training, compared on the same trained models:
each of parity.py's airlines 2005 Binary models (``--seeds``, trained by
``parity.py --datasets airlines_2005_100k --settings binary``, kept in its work folder) scores
the test file three times, an unseen level's bits (a) missing, mean-imputed (mpidl's rule),
(b) the code 0 of a missing level (H2O's MOJO), (c) the code of the most frequent training
level (the mode, H2O's imputation of a missing categorical); test AUC on all rows, on the rows
whose levels were all seen and on the others, mean over the models.  Paired: only the rule
differs, not the training.

    python benchmarks/parity.py --datasets airlines_2005_100k --settings binary --seeds 5
    python benchmarks/binary_unseen_rules.py --seeds 5
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

sys.path.insert(0, str(Path(__file__).resolve().parent))
from parity import DATASETS, WORKDIR, prepare  # noqa: E402
from parity_unseen import seen_rows  # noqa: E402

import mpidl.data.encodings as enc  # noqa: E402
from mpidl.checkpoint import read_model  # noqa: E402
from mpidl.comm import SerialComm  # noqa: E402
from mpidl.predict import predict_to_csv  # noqa: E402

NAME = "airlines_2005_100k"
_BINARY = enc._ENCODERS["Binary"]


def _rule(rule: str, train: pd.DataFrame):
    """The Binary encoder with ``rule`` ("missing", "zero", "mode") for unseen levels."""
    def encode(entry: dict, codes: np.ndarray):
        codes = np.array(codes, copy=True)
        unseen = codes == enc.UNSEEN
        if rule == "zero":
            codes[unseen] = -1
        elif rule == "mode":
            top = train[entry["name"]].astype(str).value_counts().index[0]
            codes[unseen] = entry["domain"].index(top)
        return _BINARY(entry, codes)
    return encode


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=5)
    args = ap.parse_args()
    spec = DATASETS[NAME]
    train_csv, test_csv = prepare(NAME, spec)
    seen = seen_rows(train_csv, test_csv, spec.response)
    train = pd.read_csv(train_csv, low_memory=False)
    y = (pd.read_csv(test_csv, low_memory=False)[spec.response].astype(str) == "YES").to_numpy()
    aucs = {rule: [] for rule in ("missing", "zero", "mode")}
    for seed in range(1, args.seeds + 1):
        model = read_model(str(WORKDIR / f"parity-{NAME}-binary-{seed}.h5"))
        for rule, out in aucs.items():
            enc._ENCODERS["Binary"] = _rule(rule, train)
            path = str(WORKDIR / f"binary-unseen-{rule}-{seed}.csv")
            predict_to_csv(model, str(test_csv), path, SerialComm(), 2)
            p = pd.read_csv(path).iloc[:, 2].to_numpy()
            out.append([roc_auc_score(y[m], p[m]) for m in (np.ones_like(seen), seen, ~seen)])
    enc._ENCODERS["Binary"] = _BINARY
    print(f"{NAME}: {len(y)} test rows, {int((~seen).sum())} with an unseen level; "
          f"{args.seeds} models; AUC mean over the models")
    print("| unseen level's bits | AUC all rows | AUC seen rows | AUC unseen rows |")
    print("| --- | --- | --- | --- |")
    for rule, values in aucs.items():
        print(f"| {rule} | " + " | ".join(f"{v:.4f}" for v in np.mean(values, axis=0)) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
