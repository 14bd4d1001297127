"""The smallest exact storage type of a column (mpidl.data.compact) and the table on disk."""

import h5py
import numpy as np
import pytest

from mpidl.data.compact import code_storage, numeric_storage, numeric_values
from mpidl.data.hdf5 import read_columns, write_table

NAN = np.nan


@pytest.mark.parametrize("values,dtype,marker", [
    ([0, 1, 255], np.uint8, None),                       # MNIST pixels
    ([0, 254, NAN], np.uint8, 255),                      # 255 is given up as the marker
    ([0, 255, NAN], np.int16, -32768),                   # 255 taken: the next type
    ([-128, 127], np.int8, None),
    ([-127, 127, NAN], np.int8, -128),
    ([-128, 0, NAN], np.int16, -32768),
    ([-32768, 32767], np.int16, None),
    ([40000, -1], np.int32, None),
    ([2**31 - 1, -(2**31) + 1, NAN], np.int32, -(2**31)),
    ([NAN, NAN], np.uint8, 255),                         # nothing present
    ([0.5, -2.25, NAN, np.inf], np.float32, None),      # binary fractions: float32 exactly
    ([1e10, 3.0], np.float32, None),                     # 1e10 = 2**10 * 9765625 < 2**24
    ([2.0**40 + 1], np.float64, None),                   # an integer past int32 and float32
    ([0.1, 1.0], np.float64, None),                      # 0.1 is not a float32
    ([-0.0, 1.0], np.float32, None),                     # -0.0 is not an integer value
])
def test_smallest_exact_type_and_marker(values, dtype, marker):
    stored, got_marker = numeric_storage(np.array(values, dtype=np.float64))
    assert stored.dtype == dtype
    assert got_marker == marker
    back = numeric_values(stored, got_marker)
    np.testing.assert_array_equal(back, np.array(values, dtype=np.float64))  # NaN == NaN
    assert np.array_equal(np.signbit(back), np.signbit(np.array(values)))


@pytest.mark.parametrize("nlevels,dtype", [(0, np.int8), (128, np.int8), (129, np.int16),
                                           (32768, np.int16), (32769, np.int32)])
def test_codes_in_the_smallest_signed_type(nlevels, dtype):
    codes = np.array([-1, max(nlevels - 1, -1)])
    stored = code_storage(codes, nlevels)
    assert stored.dtype == dtype
    assert stored.tolist() == codes.tolist()


def test_table_on_disk_holds_compact_columns_that_read_back_exactly(tmp_path):
    """A uint8 column with a missing value needs a wider type; what is written reads back
    equal, as float64 with NaN and int32 codes, whatever the stored types."""
    rng = np.random.default_rng(1)
    pixels = rng.integers(0, 256, 5000).astype(np.float64)
    holes = pixels.copy()
    holes[[3, 4000]] = NAN
    age = rng.integers(17, 91, 5000).astype(np.float64)
    age[10] = NAN
    columns = {"pixel": pixels, "holes": holes, "age": age, "half": pixels / 2,
               "real": rng.normal(size=5000), "k": rng.integers(-1, 3, 5000)}
    path = tmp_path / "t.h5"
    write_table(path, columns, {"k": ["a", "b", "c"]})
    with h5py.File(path, "r") as f:
        stored = {f["table"][k].attrs["name"]: f["table"][k] for k in f["table"]}
        assert {n: ds.dtype for n, ds in stored.items()} == {
            "pixel": np.uint8, "holes": np.int16, "age": np.uint8, "half": np.float32,
            "real": np.float64, "k": np.int8}
        assert stored["holes"].attrs["missing"] == -32768
        assert stored["age"].attrs["missing"] == 255
        assert "missing" not in stored["pixel"].attrs
    got = read_columns(path, list(columns))
    for name, values in columns.items():
        assert got[name].dtype == (np.int32 if name == "k" else np.float64)
        np.testing.assert_array_equal(got[name], values)


@pytest.mark.parametrize("compression", ["lzf", "gzip"])
def test_compressed_table_reads_back_exactly_and_is_smaller(tmp_path, compression):
    zeros = np.zeros(200_000)
    zeros[::97] = 7
    write_table(tmp_path / "plain.h5", {"z": zeros}, {})
    write_table(tmp_path / "packed.h5", {"z": zeros}, {}, compression)
    with h5py.File(tmp_path / "packed.h5", "r") as f:
        assert f["table"]["c0000"].compression == compression
    assert (tmp_path / "packed.h5").stat().st_size < (tmp_path / "plain.h5").stat().st_size / 4
    got = read_columns(tmp_path / "packed.h5", ["z"], 1000, 150_000)["z"]
    np.testing.assert_array_equal(got, zeros[1000:150_000])
