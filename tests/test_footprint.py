"""The training memory estimate and the memory rule, against hand counts."""

import pytest

from mpidl.data.datainfo import DataInfo
from mpidl.errors import UserError
from mpidl.memory import human_bytes, memory_limit_setting, require
from mpidl.model.footprint import culprit, training_bytes
from mpidl.model.network import Layout
from mpidl.params import validate


def test_training_bytes_by_hand():
    lay = Layout(units=(10, 20, 3), activation="Rectifier", classification=True, slots=2)
    n_params = 10 * 20 + 20 + 20 * 3 + 3                    # 283
    assert training_bytes(lay, 1, 4, False) == (283 * 3 * 4 * 4, 0)
    assert training_bytes(lay, 1, 1, True) == (283 * 3 * 4 * 6, 0)
    # B = 8 rows, 2 threads: activations + errors (2 x 33 units) and z + g (2 x 23 outputs)
    # per row in float32, a uint8 dropout mask per unit, and a weight gradient per thread
    per_thread = 4 * (n_params + 8 * (2 * 33 + 2 * 23)) + 8 * 33
    assert training_bytes(lay, 8, 2, False) == (283 * 3 * 4 * 4, 2 * per_thread)


def _dinfo(levels, classes, nums=2):
    return DataInfo(response="y", response_domain=[f"k{i}" for i in range(classes)],
                    resp_sub=0.0, resp_mul=1.0, cat_names=["c"],
                    cat_domains=[[f"l{i}" for i in range(levels)]],
                    num_names=[f"x{i}" for i in range(nums)], num_sub=[0.0] * nums,
                    num_mul=[1.0] * nums, num_fill=[0.0] * nums, use_all_levels=False,
                    weights_column=None, skip_missing=False)


@pytest.mark.parametrize("levels,hidden,classes,name", [
    (5000, [100], 2, "column 'c' of training_frame (5000 levels)"),
    (3, [100, 7000], 2, "hidden=[100, 7000]"),
    (3, [100], 9000, "response_column 'y' (9000 classes)"),
])
def test_culprit_is_the_larger_side_of_the_largest_layer(levels, hidden, classes, name):
    d = _dinfo(levels, classes)
    p = validate({"training_frame": "t.h5", "response_column": "y", "hidden": hidden}, "job")
    lay = Layout(units=(d.full_n, *hidden, classes), activation="Rectifier",
                 classification=True, slots=2)
    assert culprit(lay, d, p) == name


@pytest.mark.parametrize("raw,value", [("512M", 512 * 2**20), ("1.5G", 3 * 2**29),
                                       ("1000", 1000), ("2t", 2 * 2**40)])
def test_memory_limit_setting(monkeypatch, raw, value):
    monkeypatch.setenv("MPIDL_MEMORY_LIMIT", raw)
    assert memory_limit_setting() == value


def test_require_names_what_sized_the_allocation(monkeypatch):
    monkeypatch.setenv("MPIDL_MEMORY_LIMIT", "1T")
    require(2**20, "small")                                  # fits: no error
    with pytest.raises(UserError, match=r"^hidden=\[9\] needs 2 TB of memory"):
        require(2 * 2**40, "hidden=[9]")
    assert human_bytes(1536) == "1.5 KB"
