"""load_table: CSV and NPZ files, and the one-line message for every way a file can be wrong."""

import re

import numpy as np
import pytest

from deltaflow.data import load_table, read_table


def write(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_csv_reads_header_features_and_default_target(tmp_path):
    path = write(tmp_path, "x1,x2,label\n1,2,0\n3.5,-4e-1,1\n\n 5 , 6 ,1\n")
    X, y, names = load_table(path, None)
    assert names == ["x1", "x2"]
    np.testing.assert_array_equal(X, [[1, 2], [3.5, -0.4], [5, 6]])
    np.testing.assert_array_equal(y, [0, 1, 1])
    assert X.dtype == np.float64 and y.dtype == np.float64


def test_csv_named_target_in_the_middle(tmp_path):
    path = write(tmp_path, "a,t,b\n1,7,2\n3,8,4\n")
    X, y, names = load_table(path, "t")
    assert names == ["a", "b"]
    np.testing.assert_array_equal(X, [[1, 2], [3, 4]])
    np.testing.assert_array_equal(y, [7, 8])
    assert read_table(path).target_name == "b"


def test_csv_without_target_for_prediction(tmp_path):
    path = write(tmp_path, "a,b,c\n1,2,3\n")
    X, y, names = load_table(path, None, require_target=False)
    assert y is None and names == ["a", "b", "c"] and X.shape == (1, 3)
    X, y, names = load_table(path, "b", require_target=False)
    assert names == ["a", "c"] and y.tolist() == [2.0]
    assert read_table(path, require_target=False).target_name is None


def test_csv_with_byte_order_mark_and_crlf(tmp_path):
    path = tmp_path / "data.csv"
    path.write_bytes(b"\xef\xbb\xbfx,y\r\n1,2\r\n3,4\r\n")
    X, y, names = load_table(path, "y")
    assert names == ["x"] and X.shape == (2, 1)


def message(tmp_path, text, target=None, name="data.csv", **kw):
    path = write(tmp_path, text, name)
    with pytest.raises(ValueError) as info:
        load_table(path, target, **kw)
    text = str(info.value)
    assert "\n" not in text
    return text


def test_non_numeric_cell(tmp_path):
    msg = message(tmp_path, "x1,x2,y\n1,2,0\n3,4,1\n5,abc,0\n")
    assert msg.endswith("data.csv line 4, column 'x2': 'abc' is not a number")


def test_missing_value(tmp_path):
    msg = message(tmp_path, "x1,x2,y\n1,2,0\n,4,1\n")
    assert msg.endswith("data.csv line 3, column 'x1': missing value (empty cell)")


def test_nan_is_refused(tmp_path):
    msg = message(tmp_path, "x1,x2,y\n1,2,0\n3,nan,1\n")
    assert msg.endswith("data.csv line 3, column 'x2': 'nan' is not a finite number")


def test_ragged_row(tmp_path):
    msg = message(tmp_path, "x1,x2,y\n1,2,0\n3,4\n")
    assert msg.endswith("data.csv line 3: expected 3 cells, found 2")


def test_line_numbers_count_blank_lines(tmp_path):
    msg = message(tmp_path, "x1,y\n\n1,0\n\n2,zz\n")
    assert msg.endswith("data.csv line 5, column 'y': 'zz' is not a number")


def test_missing_file(tmp_path):
    with pytest.raises(ValueError, match=r"nope\.csv: no such file"):
        load_table(tmp_path / "nope.csv", None)


def test_empty_file(tmp_path):
    assert message(tmp_path, "").endswith("data.csv is empty")
    assert message(tmp_path, "\n\n").endswith("data.csv is empty")


def test_header_only(tmp_path):
    assert message(tmp_path, "x1,x2,y\n").endswith("data.csv has a header but no data rows")


def test_header_required(tmp_path):
    msg = message(tmp_path, "1,2,0\n3,4,1\n")
    assert msg.endswith("data.csv line 1: expected a header row of column names, found numbers")


def test_bad_header_names(tmp_path):
    assert message(tmp_path, "x1,,y\n1,2,3\n").endswith("line 1: column 2 of the header has no name")
    assert message(tmp_path, "x,x,y\n1,2,3\n").endswith("line 1: column name 'x' appears twice")


def test_unknown_target_lists_columns(tmp_path):
    msg = message(tmp_path, "x1,x2,y\n1,2,0\n", target="label")
    assert msg.endswith("data.csv has no column 'label'; columns: x1, x2, y")


def test_target_only_file(tmp_path):
    assert "needs at least one feature column" in message(tmp_path, "y\n1\n2\n")


def test_size_limit(tmp_path):
    msg = message(tmp_path, "x,y\n1,2\n3,4\n", max_bytes=10)
    assert msg.endswith("data.csv is 12 bytes, over the limit of 10 bytes")


def test_unsupported_suffix(tmp_path):
    msg = message(tmp_path, "x,y\n1,2\n", name="data.txt")
    assert msg.endswith("data.txt: unsupported file type '.txt'; expected .csv or .npz")


def test_not_utf8(tmp_path):
    path = tmp_path / "data.csv"
    path.write_bytes(b"x,y\n1,\xff\n")
    with pytest.raises(ValueError, match="data.csv is not UTF-8 text"):
        load_table(path, None)


def test_directory_is_not_a_file(tmp_path):
    (tmp_path / "d.csv").mkdir()
    with pytest.raises(ValueError, match=r"d\.csv: not a file"):
        load_table(tmp_path / "d.csv", None)


def test_npz_with_X_and_y(tmp_path):
    path = tmp_path / "data.npz"
    X = np.arange(12.0).reshape(4, 3)
    np.savez(path, X=X, y=np.array([0, 1, 0, 1]), feature_names=np.array(["a", "b", "c"]))
    X2, y2, names = load_table(path, None)
    np.testing.assert_array_equal(X2, X)
    np.testing.assert_array_equal(y2, [0, 1, 0, 1])
    assert names == ["a", "b", "c"] and y2.dtype == np.float64
    np.savez(path, X=X, y=np.zeros(4))
    assert load_table(path, "y")[2] == ["x1", "x2", "x3"]


def test_npz_named_columns(tmp_path):
    path = tmp_path / "data.npz"
    np.savez_compressed(path, a=np.array([1.0, 2.0]), t=np.array([5, 6]), b=np.array([3, 4], dtype=np.int32))
    X, y, names = load_table(path, "t")
    assert names == ["a", "b"]
    np.testing.assert_array_equal(X, [[1, 3], [2, 4]])
    np.testing.assert_array_equal(y, [5, 6])
    assert load_table(path, None)[2] == ["a", "t"]


def npz_message(path, target=None, **kw):
    with pytest.raises(ValueError) as info:
        load_table(path, target, **kw)
    assert "\n" not in str(info.value)
    return str(info.value)


def test_npz_that_is_not_a_zip(tmp_path):
    path = write(tmp_path, "this is not a zip archive", "data.npz")
    assert npz_message(path).endswith("data.npz is not a valid .npz file (not a zip archive)")


def test_npz_without_arrays(tmp_path):
    path = tmp_path / "data.npz"
    np.savez(path)
    assert npz_message(path).endswith("data.npz holds no arrays")


def test_npz_object_array_is_never_unpickled(tmp_path):
    path = tmp_path / "data.npz"
    np.savez(path, X=np.array([{"a": 1}, None], dtype=object), y=np.zeros(2))
    assert "object array" in npz_message(path)


def test_npz_bad_shapes_and_values(tmp_path):
    path = tmp_path / "data.npz"
    np.savez(path, X=np.zeros((3, 2)), y=np.zeros(4))
    assert npz_message(path).endswith("X has 3 rows but y has 4")
    np.savez(path, X=np.array([[1.0, np.nan]]), y=np.zeros(1))
    assert npz_message(path).endswith("array 'X' contains NaN or Inf (a missing value?)")
    np.savez(path, a=np.zeros(3), b=np.zeros(2))
    assert npz_message(path).endswith("array 'b' has 2 rows but 'a' has 3")
    np.savez(path, a=np.zeros(3), b=np.zeros(3))
    assert npz_message(path, "c").endswith("data.npz has no column 'c'; columns: a, b")
    np.savez(path, a=np.array(["x", "y"]), b=np.zeros(2))
    assert "array 'a' has dtype <U1; expected numbers" in npz_message(path)


def test_npz_size_limits(tmp_path):
    path = tmp_path / "data.npz"
    np.savez_compressed(path, X=np.zeros((1000, 10)), y=np.zeros(1000))
    msg = npz_message(path, max_bytes=5000)
    assert re.search(r"data\.npz unpacks to [\d,]+ bytes, over the limit of 5,000 bytes", msg)
    assert "over the limit of 10 bytes" in npz_message(path, max_bytes=10)


def test_value_beyond_the_dtype_range_names_line_column_and_dtype(tmp_path):
    path = write(tmp_path, "a,b,y\n1,2,0\n\n3,-1e39,1\n")
    with pytest.raises(ValueError) as info:
        load_table(path, dtype="float32")
    assert str(info.value).endswith(
        "data.csv line 4, column 'b': '-1e39' is beyond the range of float32 (largest magnitude 3.4028235e+38)")
    X, _, _ = load_table(path, dtype="float64")  # within float64's range
    assert X[1, 1] == -1e39
    load_table(path)  # no dtype: no range to check


def test_npz_value_beyond_the_dtype_range(tmp_path):
    path = tmp_path / "data.npz"
    np.savez(path, X=np.array([[1.0, 2.0], [3.0, 5e38]]), y=np.zeros(2))
    with pytest.raises(ValueError, match=r"data\.npz array 'X' at index \(1, 1\): .*5e\+38.* is beyond the range "
                                         r"of float32"):
        load_table(path, dtype=np.float32)


def test_training_on_a_csv_beyond_float32_names_the_cell(tmp_path):
    from deltaflow.data import load_dataset

    path = write(tmp_path, "a,b,y\n" + "".join(f"{i},{i % 3},{i % 2}\n" for i in range(10)) + "1e39,0,1\n")
    with pytest.raises(ValueError, match=r"data\.csv line 12, column 'a': '1e39' is beyond the range of float32"):
        load_dataset("csv", path=path)
    assert load_dataset("csv", path=path, dtype="float64").X_train.dtype == np.float64
