"""The Python API in a script started with mpirun: every rank trains together and gets the
same model, predictions of every row and metrics (checked against scikit-learn's)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from cli_run import prostate
from sklearn.metrics import log_loss

from mpidl import DeepLearningEstimator

pytestmark = pytest.mark.timeout(300, method="thread")


@pytest.mark.mpi
def test_every_rank_gets_the_model_and_every_prediction(comm, everywhere):
    frame = pd.read_csv(prostate()).assign(CAPSULE=lambda d: d.CAPSULE.astype(str))
    m = DeepLearningEstimator(hidden=[8], epochs=4, seed=3, reproducible=True, quiet_mode=True,
                              ignored_columns=["ID"])
    everywhere(lambda: m.train(y="CAPSULE", training_frame=frame))
    pred = everywhere(lambda: m.predict(frame))
    perf = everywhere(lambda: m.model_performance(frame))

    def body():
        assert len(pred) == len(frame)
        assert m.model_.nranks == comm.size
        mine = np.concatenate([pred.p1.to_numpy(), [perf["logloss"]], m.model_.buf[:50]])
        for other in comm.allgather_obj(mine):
            np.testing.assert_array_equal(other, mine)
        y = (frame.CAPSULE == "1").to_numpy()
        assert perf["logloss"] == pytest.approx(log_loss(y, pred.p1.to_numpy()), rel=1e-5)
    everywhere(body)
