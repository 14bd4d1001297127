"""CSV -> table import (mpidl.data.importer): synthetic files and the staged real data."""

import gzip
import zipfile

import numpy as np
import pytest
from shared_data import need

from mpidl.data.counted import ReadCount
from mpidl.data.hdf5 import block_range, read_columns
from mpidl.data.importer import import_csv, read_csv
from mpidl.errors import UserError


def _write(tmp_path, text, name="t.csv"):
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


def _nan_equal(a, b):
    np.testing.assert_array_equal(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))


# ---------------------------------------------------------------- header and names

def test_header_detected_and_types(tmp_path):
    cols, doms = read_csv(_write(tmp_path, "x,y,label\n1,2.5,b\n3,-4e1,a\n5,,b\n"))
    assert list(cols) == ["x", "y", "label"]
    _nan_equal(cols["x"], [1, 3, 5])
    _nan_equal(cols["y"], [2.5, -40, np.nan])
    assert doms == {"label": ["a", "b"]}
    assert cols["label"].dtype == np.int32
    np.testing.assert_array_equal(cols["label"], [1, 0, 1])


def test_no_header_names_c1_to_cn(tmp_path):
    cols, doms = read_csv(_write(tmp_path, "5.1,3.5,Iris-setosa\n4.9,3.0,Iris-virginica\n"))
    assert list(cols) == ["C1", "C2", "C3"]
    assert doms == {"C3": ["Iris-setosa", "Iris-virginica"]}


def test_all_string_file_with_and_without_header(tmp_path):
    cols, _ = read_csv(_write(tmp_path, "color,size\nred,small\nblue,big\nred,big\n"))
    assert list(cols) == ["color", "size"]
    cols, doms = read_csv(_write(tmp_path, "red,small\nblue,big\nred,big\n"))
    assert list(cols) == ["C1", "C2"] and doms["C1"] == ["blue", "red"]


def test_header_forced(tmp_path):
    path = _write(tmp_path, "1,2\n3,4\n")
    cols, _ = read_csv(path, header=True)
    assert list(cols) == ["1", "2"]
    _nan_equal(cols["1"], [3])
    path = _write(tmp_path, "a,b\nc,d\n")
    cols, doms = read_csv(path, header=False)
    assert list(cols) == ["C1", "C2"] and doms["C1"] == ["a", "c"]


def test_empty_and_duplicate_header_names(tmp_path):
    cols, _ = read_csv(_write(tmp_path, "a,,a,b, a\n1,2,3,4,5\n"))
    assert list(cols) == ["a", "C2", "a_2", "b", "a_3"]


# ---------------------------------------------------------------- field syntax

def test_missing_tokens(tmp_path):
    text = "n,s\n1,x\n,y\n?,?\nNA,NA\n NaN ,nan\nN/A,N/A\nnull, null\n2,\n"
    cols, doms = read_csv(_write(tmp_path, text))
    _nan_equal(cols["n"], [1] + [np.nan] * 6 + [2])
    assert doms["s"] == ["x", "y"]
    np.testing.assert_array_equal(cols["s"], [0, 1, -1, -1, -1, -1, -1, -1])


def test_whitespace_is_stripped(tmp_path):
    text = "age, workclass ,w\n39, State-gov ,1\n50,  Private,2 \n38, ,3\n"
    cols, doms = read_csv(_write(tmp_path, text))
    assert list(cols) == ["age", "workclass", "w"]
    assert doms == {"workclass": ["Private", "State-gov"]}
    np.testing.assert_array_equal(cols["workclass"], [1, 0, -1])
    _nan_equal(cols["w"], [1, 2, 3])


def test_crlf_and_quoted_fields(tmp_path):
    text = ('"name","v","note"\r\n"Allen, Miss",1.5,"say ""hi"""\r\n'
            '"Bob",2,"two\r\nlines"\r\n"x",3,plain\r\n')
    cols, doms = read_csv(_write(tmp_path, text))
    assert list(cols) == ["name", "v", "note"]
    assert doms["name"] == ["Allen, Miss", "Bob", "x"]
    _nan_equal(cols["v"], [1.5, 2, 3])
    assert sorted(doms["note"]) == sorted(['say "hi"', "two\r\nlines", "plain"])


def test_quote_inside_unquoted_field_is_literal(tmp_path):
    # two strings and one number: categorical by H2O's majority rule
    cols, doms = read_csv(_write(tmp_path, 'h,w\n5\'3",x\n6,y\n5\'11",z\n'))
    assert doms["h"] == ['5\'11"', '5\'3"', "6"]


def test_unbalanced_quote(tmp_path):
    with pytest.raises(UserError, match=r"t\.csv: cannot parse"):
        read_csv(_write(tmp_path, 'a,b\n1,"x\n2,3\n'))


def test_quoted_numbers_are_numbers(tmp_path):
    cols, doms = read_csv(_write(tmp_path, '"District","Age"\n"1","<25"\n"2","25-29"\n'))
    assert doms == {"Age": ["25-29", "<25"]}
    _nan_equal(cols["District"], [1, 2])


def test_blank_lines_and_no_final_newline(tmp_path):
    cols, _ = read_csv(_write(tmp_path, "\n\na,b\n1,2\n\n3,4\n   \n5,6"))
    _nan_equal(cols["a"], [1, 3, 5])


def test_tab_separated(tmp_path):
    cols, doms = read_csv(_write(tmp_path, "a\tb\n1\tx y\n2\tz\n", "t.tsv"))
    assert list(cols) == ["a", "b"] and doms == {"b": ["x y", "z"]}


def test_latin1_bytes(tmp_path):
    cols, doms = read_csv(_write(tmp_path, b"id,tail\n1,N700\xe4\xe6\n2,N1\n"))
    assert doms["tail"] == ["N1", "N700\u00e4\u00e6"]


def test_column_strings_late_in_file(tmp_path):
    """Text far below the sample is read too; H2O's majority rule then decides the type
    (one number, one string: numeric, the string missing; it was categorical before)."""
    lines = ["a,b"] + [f"{i}," for i in range(5000)] + ["5000,X", "5001,1", "5002,Y"]
    notes = []
    cols, doms = read_csv(_write(tmp_path, "\n".join(lines) + "\n"), notes=notes)
    assert doms == {"b": ["1", "X", "Y"]}                 # 2 strings > 1 number: categorical
    assert (cols["b"] == -1).sum() == 5000 and notes == []


# ---------------------------------------------------------------- containers

def test_gzip_and_zip(tmp_path):
    text = "a,b\n1,x\n2,y\n"
    gz = tmp_path / "t.csv.gz"
    gz.write_bytes(gzip.compress(text.encode()))
    zp = tmp_path / "t.csv.zip"
    with zipfile.ZipFile(zp, "w") as z:
        z.writestr("__MACOSX/._t.csv", "junk")
        z.writestr("dir/", "")
        z.writestr("t.csv", text)
        z.writestr("other.csv", "q\n1\n")
    for path in (gz, zp):
        cols, doms = read_csv(path)
        assert list(cols) == ["a", "b"] and doms == {"b": ["x", "y"]}


# ---------------------------------------------------------------- categorical=

def test_categorical_integer_column_sorted_numerically(tmp_path):
    path = _write(tmp_path, "y,x\n10,1\n2,2\n,3\n2.0,4\n0,5\n")
    cols, doms = read_csv(path, categorical=["y"])
    assert doms == {"y": ["0", "2", "10"]}
    np.testing.assert_array_equal(cols["y"], [2, 1, -1, 1, 0])
    cols, doms = read_csv(_write(tmp_path, "y\n0.5\n2\n-1.25\n"), categorical=["y"])
    assert doms["y"] == ["-1.25", "0.5", "2"]


def test_categorical_unknown_name(tmp_path):
    path = _write(tmp_path, "a,b\n1,2\n")
    with pytest.raises(UserError, match=r"t\.csv.*'C785'"):
        read_csv(path, categorical=["C785"])


# ---------------------------------------------------------------- errors

def test_empty_file(tmp_path):
    for text in ("", "\n\n  \n"):
        with pytest.raises(UserError, match=r"t\.csv: empty file"):
            read_csv(_write(tmp_path, text))


def test_header_only(tmp_path):
    with pytest.raises(UserError, match=r"t\.csv: no data rows"):
        read_csv(_write(tmp_path, "a,b,c\n"))


@pytest.mark.parametrize("bad,line", [("1,2,3,4", 4), ("1,2", 4)])
def test_ragged_row(tmp_path, bad, line):
    text = "a,b,c\n1,2,3\n4,5,6\n" + bad + "\n7,8,9\n"
    with pytest.raises(UserError) as err:
        read_csv(_write(tmp_path, text))
    message = str(err.value)
    assert "t.csv" in message and f"line {line}" in message and "\n" not in message


def test_ragged_row_line_counts_quoted_newlines_and_blank_lines(tmp_path):
    text = '\na,b\n"x\ny",1\n\n1,2,3\n'
    with pytest.raises(UserError, match="line 6 has 3 fields"):
        read_csv(_write(tmp_path, text))


def test_missing_and_unreadable_file(tmp_path):
    with pytest.raises(UserError, match=r"nope\.csv: no such file"):
        read_csv(tmp_path / "nope.csv")
    bad = _write(tmp_path, b"\x1f\x8b\x08\x00garbage", "bad.csv.gz")
    with pytest.raises(UserError, match=r"bad\.csv\.gz: cannot read"):
        read_csv(bad)
    badzip = _write(tmp_path, b"PK\x03\x04garbage", "bad.zip")
    with pytest.raises(UserError, match=r"bad\.zip: cannot read"):
        read_csv(badzip)


def test_import_csv_writes_table(tmp_path):
    src = _write(tmp_path, "x,k\n1,b\n,a\n3,\n")
    info = import_csv(src, tmp_path / "t.h5")
    assert info.nrows == 3 and info.names == ("x", "k")
    assert info.column("k").domain == ("a", "b")
    got = read_columns(tmp_path / "t.h5", ["x", "k"])
    _nan_equal(got["x"], [1, np.nan, 3])
    np.testing.assert_array_equal(got["k"], [1, 0, -1])


# ---------------------------------------------------------------- the staged real data

REAL = [
    # (path under shared/data, rows, cols, first name, last name, slow)
    ("iris/iris.csv", 150, 5, "C1", "C5", False),
    ("iris/iris_wheader.csv", 150, 5, "sepal_len", "class", False),
    ("prostate/prostate.csv", 380, 9, "ID", "GLEASON", False),
    ("weather/weather.csv", 355, 24, "Date", "RainTomorrow", False),
    ("boston_housing/BostonHousing.csv", 506, 14, "crim", "medv", False),
    ("california_housing/cal_housing.data", 20640, 9, "longitude", "medianHouseValue", False),
    ("covtype_20k/covtype.20k.data", 20000, 55, "C1", "C55", False),
    ("ecg_discord/ecg_discord_train.csv", 20, 210, "C1", "C210", False),
    ("ecg_discord/ecg_discord_test.csv", 23, 210, "C1", "C210", False),
    ("higgs_10k/higgs_train_10k.csv", 10000, 29, "response", "x28", False),
    ("higgs_10k/higgs_test_5k.csv", 5000, 29, "response", "x28", False),
    ("adult_census_income/adult_data.csv", 32561, 15, "age", "income", False),
    ("adult_census_income/adult_test.csv", 16281, 15, "age", "income", False),
    ("airlines_allyears2k/AirlinesTrain.csv.zip", 24421, 12, "fYear", "IsDepDelayed_REC", False),
    ("airlines_allyears2k/AirlinesTest.csv.zip", 2691, 12, "fYear", "IsDepDelayed_REC", False),
    ("airlines_allyears2k/allyears2k_headers.zip", 43978, 31, "Year", "IsDepDelayed", False),
    ("h2o_dl_tests_misc/titanic_alt.csv", 1309, 14, "pclass", "home.dest", False),
    ("h2o_dl_tests_misc/two_spiral.csv", 192, 3, "X", "Class", False),
    ("h2o_dl_tests_misc/cars.csv", 406, 8, "name", "year", False),
    ("h2o_dl_tests_misc/cars_20mpg.csv", 406, 9, "name", "economy_20mpg", False),
    ("h2o_dl_tests_misc/insurance.csv", 64, 5, "District", "Claims", False),
    ("h2o_dl_tests_misc/ecology_model.csv", 1000, 14, "Site", "LocSed", False),
    ("h2o_dl_tests_misc/ecology_eval.csv", 500, 13, "Angaus", "LocSed", False),
    ("mnist/test.csv.gz", 10000, 785, "C1", "C785", False),
    ("airlines_2005_100k/year2005.csv.gz", 100000, 31, "Year", "IsDepDelayed", True),
    ("kddcup99_10pct/corrected.gz", 311029, 42, "C1", "C42", True),
    ("kddcup99_10pct/kddcup.data_10_percent.gz", 494021, 42, "C1", "C42", True),
    ("mnist/train.csv.gz", 60000, 785, "C1", "C785", True),
]


def _real(rel):
    (path,) = need(rel)
    return path


def _rows(cols):
    return len(next(iter(cols.values())))


@pytest.mark.parametrize("rel,nrows,ncols,first,last", [
    pytest.param(*r[:5], id=r[0], marks=[pytest.mark.slow] if r[5] else []) for r in REAL])
def test_real_file_shape(rel, nrows, ncols, first, last):
    cols, _ = read_csv(_real(rel))
    names = list(cols)
    assert (_rows(cols), len(names)) == (nrows, ncols)
    assert (names[0], names[-1]) == (first, last)


def test_adult_spot_checks():
    cols, doms = read_csv(_real("adult_census_income/adult_data.csv"))
    assert "workclass" in doms and len(doms["workclass"]) == 8
    assert "State-gov" in doms["workclass"]  # leading space stripped
    assert (cols["workclass"] == -1).sum() == 1836
    assert (cols["occupation"] == -1).sum() == 1843
    assert len(doms["native-country"]) == 41
    assert doms["income"] == ["<=50K", ">50K"]
    assert set(doms) == {"workclass", "education", "marital-status", "occupation",
                         "relationship", "race", "sex", "native-country", "income"}
    assert cols["age"].dtype == np.float64


def test_weather_spot_checks():
    cols, doms = read_csv(_real("weather/weather.csv"))
    assert np.isnan(cols["Sunshine"]).sum() == 3
    assert np.isnan(cols["WindSpeed9am"]).sum() == 5
    assert (cols["MaxWindPeriod"] == -1).sum() == 4
    assert {"ChangeTempDir", "ChangeTempMag", "ChangeWindDirect", "MaxWindPeriod",
            "PressureChange"} <= set(doms)
    assert "RainTomorrow" not in doms


def test_iris_and_covtype_have_no_header():
    cols, doms = read_csv(_real("iris/iris.csv"))
    assert doms == {"C5": ["Iris-setosa", "Iris-versicolor", "Iris-virginica"]}
    assert cols["C1"][0] == 5.1
    cols, doms = read_csv(_real("covtype_20k/covtype.20k.data"), categorical=["C55"])
    assert doms == {"C55": ["1", "2", "3", "4", "5", "6", "7"]}
    assert cols["C1"][0] == 2596


def test_airlines_spot_checks():
    cols, doms = read_csv(_real("airlines_allyears2k/allyears2k_headers.zip"))
    assert np.isnan(cols["DepTime"]).sum() == 1086
    assert (cols["CancellationCode"] == -1).sum() == 43757
    assert len(doms["Origin"]) == 132 and len(doms["Dest"]) == 134
    assert any("\u00e4" in level for level in doms["TailNum"])  # latin-1 byte kept
    cols, doms = read_csv(_real("airlines_allyears2k/AirlinesTrain.csv.zip"))
    assert doms["IsDepDelayed"] == ["NO", "YES"]
    assert "f1987" in doms["fYear"]
    assert "IsDepDelayed_REC" not in doms


def test_mnist_test_names_and_label(tmp_path):
    info = import_csv(_real("mnist/test.csv.gz"), tmp_path / "m.h5", categorical=["C785"])
    assert info.names == tuple(f"C{i}" for i in range(1, 786))
    assert info.column("C785").domain == tuple(str(d) for d in range(10))
    label = read_columns(tmp_path / "m.h5", ["C785"])["C785"]
    assert np.bincount(label).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    # one byte per pixel and label (uint8 / int8 on disk), + 25 % for HDF5's own structures
    assert (tmp_path / "m.h5").stat().st_size <= 1.25 * 10000 * 785


@pytest.mark.slow
def test_mnist_train_import(tmp_path):
    """MNIST's training file whole: shape and one class count from PROVENANCE (import speed is
    measured by benchmarks, not asserted here)."""
    path = _real("mnist/train.csv.gz")
    info = import_csv(path, tmp_path / "m.h5", categorical=["C785"])
    assert (info.nrows, len(info.columns)) == (60000, 785)
    label = read_columns(tmp_path / "m.h5", ["C785"])["C785"]
    assert np.bincount(label)[1] == 6742
    size = (tmp_path / "m.h5").stat().st_size
    assert 60000 * 785 <= size <= 60e6            # one byte per value; issue 15: <= 60 MB
    for rank in range(4):                          # a rank of a 4-rank sharded run
        count = ReadCount()
        lo, hi = block_range(60000, 4, rank)
        read_columns(tmp_path / "m.h5", info.names, lo, hi, count)
        assert count.bytes <= 0.30 * size


@pytest.mark.slow
def test_kdd_categoricals():
    cols, doms = read_csv(_real("kddcup99_10pct/kddcup.data_10_percent.gz"))
    assert set(doms) == {"C2", "C3", "C4", "C42"}
    assert (len(doms["C2"]), len(doms["C3"]), len(doms["C4"]), len(doms["C42"])) == (3, 66, 11, 23)
    assert (cols["C42"] == doms["C42"].index("normal.")).sum() == 97278
