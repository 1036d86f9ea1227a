"""load_data on bad input: every failure names the file, what was expected and what was found."""
import numpy as np
import pytest
import scipy.io

import autils
from autils import DataFileError, load_data


def write_mat(path, **arrays):
    scipy.io.savemat(path, arrays)
    return path


def good_arrays(m=10):
    return {"X": np.zeros((m, 400)), "y": np.arange(m).reshape(-1, 1) % 10 + 1}


def test_custom_path_in_the_original_format_loads(tmp_path):
    X, y = load_data(write_mat(tmp_path / "mine.mat", **good_arrays()))
    assert X.shape == (10, 400) and y.shape == (10, 1)
    assert y.ravel().tolist() == [1, 2, 3, 4, 5, 6, 7, 8, 9, 0]  # 10 -> 0


def test_custom_path_accepts_str(tmp_path):
    X, _ = load_data(str(write_mat(tmp_path / "mine.mat", **good_arrays())))
    assert X.shape == (10, 400)


def test_missing_default_file_names_it_and_the_rebuild_command(tmp_path, monkeypatch):
    monkeypatch.setattr(autils, "DATA_PATH", tmp_path / "data" / "ex3data1.mat")
    with pytest.raises(FileNotFoundError) as error:
        load_data()
    assert str(tmp_path / "data" / "ex3data1.mat") in str(error.value)
    assert "python data/make_ex3data1.py" in str(error.value)


def test_missing_custom_file_names_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere.mat"):
        load_data(tmp_path / "nowhere.mat")


def test_a_directory_is_not_a_data_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=str(tmp_path)):
        load_data(tmp_path)


@pytest.mark.parametrize("content", [b"", b"this is not a mat file at all" * 10, "truncated"])
def test_unreadable_or_truncated_file(tmp_path, content):
    path = tmp_path / "bad.mat"
    if content == "truncated":
        whole = (autils.DATA_PATH).read_bytes()
        content = whole[: len(whole) // 2]
    path.write_bytes(content)
    with pytest.raises(DataFileError) as error:
        load_data(path)
    message = str(error.value)
    assert "bad.mat" in message and "Could not read" in message


@pytest.mark.parametrize("keep, missing", [("X", "y"), ("y", "X")])
def test_missing_variable(tmp_path, keep, missing):
    arrays = good_arrays()
    path = write_mat(tmp_path / "partial.mat", **{keep: arrays[keep], "other": np.ones(3)})
    with pytest.raises(DataFileError, match=f"no variable {missing}") as error:
        load_data(path)
    assert str(sorted([keep, "other"])) in str(error.value)


@pytest.mark.parametrize("X, found", [
    (np.zeros((10, 784)), r"\(10, 784\)"),
    (np.zeros((10, 20, 20)), r"\(10, 20, 20\)"),
    (np.zeros((0, 400)), r"\(0, 400\)"),
])
def test_wrong_image_shape(tmp_path, X, found):
    arrays = good_arrays()
    arrays["X"] = X
    with pytest.raises(DataFileError, match=f"shape \\(m, 400\\).*found shape {found}"):
        load_data(write_mat(tmp_path / "shape.mat", **arrays))


def test_images_with_nan(tmp_path):
    arrays = good_arrays()
    arrays["X"][3, 7] = np.nan
    with pytest.raises(DataFileError, match="NaN or inf"):
        load_data(write_mat(tmp_path / "nan.mat", **arrays))


def test_images_that_are_not_numbers(tmp_path):
    arrays = good_arrays(2)
    arrays["X"] = np.array([["a" * 400], ["b" * 400]])
    with pytest.raises(DataFileError):
        load_data(write_mat(tmp_path / "text.mat", **arrays))


def test_label_count_must_match_images(tmp_path):
    arrays = good_arrays()
    arrays["y"] = arrays["y"][:7]
    with pytest.raises(DataFileError, match=r"y should have shape \(10, 1\).*found shape \(7, 1\)"):
        load_data(write_mat(tmp_path / "count.mat", **arrays))


@pytest.mark.parametrize("bad_label, shown", [(0, "from 0 to 10"), (11, "from 1 to 11"), (-3, "from -3 to 10")])
def test_labels_out_of_range(tmp_path, bad_label, shown):
    arrays = good_arrays()
    arrays["y"][4] = bad_label
    with pytest.raises(DataFileError, match=f"labels 1-10.*found values {shown}"):
        load_data(write_mat(tmp_path / "labels.mat", **arrays))


def test_labels_must_be_whole_numbers(tmp_path):
    arrays = good_arrays()
    arrays["y"] = arrays["y"] + 0.5
    with pytest.raises(DataFileError, match="whole-number labels"):
        load_data(write_mat(tmp_path / "float_labels.mat", **arrays))


def test_zero_based_labels_are_reported_not_silently_shifted(tmp_path):
    """A file with labels 0-9 would mislabel every digit if accepted: it is refused."""
    arrays = good_arrays()
    arrays["y"] = np.arange(10).reshape(-1, 1)
    with pytest.raises(DataFileError, match="10 stands for the digit zero"):
        load_data(write_mat(tmp_path / "zero_based.mat", **arrays))
