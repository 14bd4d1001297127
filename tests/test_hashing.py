"""``max_categorical_features`` (issue 15, point 1; spec 1.2 "Hashing"): H2O's hashing trick.

The hash values below are H2O's own: ``hex/deeplearning/MurmurHash.java`` (H2O-3 3.46),
compiled with javac 17 and called as ``Neurons.Input.setInput`` calls it,
``hash(ByteBuffer.allocate(4).putInt(j).array(), 4, (int) seed)`` and ``Math.abs(h % 13)``.
"""

from __future__ import annotations

import numpy as np
import pytest
from cli_run import mpidl
from export_models import _adult_tables

from mpidl.checkpoint import read_model
from mpidl.data.datainfo import DataInfo
from mpidl.data.hashing import hashed_slots, java_int, murmur2_of_int
from mpidl.data.hdf5 import ColumnInfo, TableInfo
from mpidl.kernels.forward import set_input

# (seed as a Java long, j, MurmurHash.hash, Math.abs(hash % 13)) printed by the Java program
JAVA = [(42, 0, -1484120197, 1), (42, 1, -396541046, 5), (42, 2, 1445017854, 7),
        (42, 7, 1419830052, 4), (42, 100, -729817374, 0), (42, 123456789, 784765336, 4),
        (-1, 0, 1042515891, 1), (-1, 65537, 1611181220, 12), (-1, 123456789, -773861968, 9),
        (1234567890123, 1, -116853042, 7), (1234567890123, 15, -19606697, 6),
        (1234567890123, 65537, -2002836890, 2)]


@pytest.mark.parametrize("seed, j, h, slot", JAVA)
def test_murmur_hash_and_slot_equal_h2os_java(seed, j, h, slot):
    assert int(murmur2_of_int(np.array([j]), seed)[0]) == h
    assert int(hashed_slots(np.array([j], dtype=np.int32), seed, 13)[0]) == slot


def test_java_int_keeps_the_low_32_bits_signed():
    assert java_int(1234567890123) == 1912276171 and java_int(-1) == -1
    assert java_int(2**31) == -2**31


def test_transform_hashes_the_one_hot_slots():
    """Blocks g (6 levels + NA: slots 0..6) and h (3 levels + NA: 7..10); seed 42, M = 13:
    slots 0, 1, 2, 7 hash to 1, 5, 7, 4 (the Java table); numerics follow at slot 13."""
    d = DataInfo(response="y", response_domain=None, resp_sub=0.0, resp_mul=1.0,
                 cat_names=["g", "h"], cat_domains=[list("abcdef"), list("pqr")],
                 num_names=["x"], num_sub=[0.0], num_mul=[1.0], num_fill=[0.0],
                 use_all_levels=True, weights_column=None, skip_missing=False,
                 hash_slots=13, hash_seed=42)
    info = TableInfo("t", 3, (ColumnInfo("g", "categorical", tuple("abcdef")),
                              ColumnInfo("h", "categorical", tuple("pqr")),
                              ColumnInfo("x", "numeric")))
    cols = {"g": np.array([0, 1, 2], np.int32), "h": np.array([0, 0, 0], np.int32),
            "x": np.array([0.5, 1.0, 2.0])}
    nums, cats, _, _, _ = d.transform(cols, info, "t", False)
    assert cats.tolist() == [[1, 4], [5, 4], [7, 4]]
    assert d.num_start == 13 and d.full_n == 14
    assert d.coef_names()[:2] == ["hash_0", "hash_1"] and d.coef_names()[-1] == "x"


def test_two_columns_hashed_into_one_slot_add_up():
    """H2O adds 1.0 per hashed categorical: a shared slot holds 2."""
    a0, nz = np.zeros(5), np.zeros(5, dtype=np.int64)
    cats = np.array([[3, 3]], dtype=np.int32)
    set_input(a0, nz, np.array([[0.5]], np.float32), cats, 0, 4, True, 0.0,
              np.ones(1, dtype=np.uint64))
    assert a0.tolist() == [0.0, 0.0, 0.0, 2.0, 0.5]


@pytest.mark.parametrize("m, hashed", [(20, True), (200, False)])
def test_adult_trains_and_predicts_with_hashing(tmp_path, m, hashed):
    """adult's categorical slots (about 100) hashed into 20; 200 leaves them one-hot."""
    train, test = _adult_tables(tmp_path)
    job = tmp_path / "job.toml"
    job.write_text(f'training_frame = "{train}"\nresponse_column = "income"\n'
                   f'max_categorical_features = {m}\nhidden = [10]\nepochs = 2\nseed = 7\n'
                   'quiet_mode = true\n')
    r = mpidl("train", job, "-o", tmp_path / "m.h5", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    model = read_model(tmp_path / "m.h5")
    d = model.dinfo
    assert (d.hash_slots, d.hash_seed) == ((m, 7) if hashed else (0, 0))
    assert model.layout.units[0] == (m if hashed else int(d.cat_offsets[-1])) + len(d.num_names)
    r = mpidl("predict", tmp_path / "m.h5", test, "-o", tmp_path / "p.csv", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert len((tmp_path / "p.csv").read_text().splitlines()) == 301
