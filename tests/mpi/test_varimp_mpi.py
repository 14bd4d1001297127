"""Variable importances' one collective: whether any rank's training rows hit a categorical's
NA slot (H2O's ``checkMissingCats``), the same answer on every rank."""

from __future__ import annotations

import numpy as np
import pytest

from mpidl.data.datainfo import DataInfo
from mpidl.varimp import saw_missing_cats

pytestmark = pytest.mark.timeout(120, method="thread")


@pytest.mark.mpi(min_size=2)
def test_na_slot_hit_on_the_last_rank_only_is_seen_everywhere(comm, everywhere):
    dinfo = DataInfo(response="y", response_domain=["a", "b"], resp_sub=0.0, resp_mul=1.0,
                     cat_names=["c1", "c2"], cat_domains=[["p", "q"], ["r", "s", "t"]],
                     num_names=[], num_sub=[], num_mul=[], num_fill=[], use_all_levels=True,
                     weights_column=None, skip_missing=False)
    # blocks: c1 slots 0, 1, NA 2; c2 slots 3, 4, 5, NA 6
    cats = np.array([[0, 3], [1, 5]], dtype=np.int32)
    if comm.rank == comm.size - 1:
        cats = np.vstack([cats, [[2, 4]]]).astype(np.int32)     # c1 missing in one row
    seen = saw_missing_cats(cats, dinfo, comm)

    def body():
        assert seen == [True, False], seen
    everywhere(body)
