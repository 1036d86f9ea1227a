"""Data loading and figures for the multiclass digits lab.

The notebook imports everything it shows from here, so it stays a narrative; the one place that
knows how an image is stored in a row of ``X`` is :func:`digit_image`.
"""
from pathlib import Path

import numpy as np

DATA_PATH = Path(__file__).resolve().parent / "data" / "ex3data1.mat"
REBUILD_COMMAND = "python data/make_ex3data1.py"
IMAGE_SIZE = 20
N_PIXELS = IMAGE_SIZE * IMAGE_SIZE
N_CLASSES = 10


class DataFileError(ValueError):
    """A data file exists but does not hold the digits in the expected layout."""


def load_data(path=None):
    """Load the ex3data1 handwritten digits.

    Data card (the file shipped in ``data/``; see ``data/README.md`` for its provenance):

    =================  ==========================================================
    Classes            10 (the digits 0-9)
    Samples per class  500
    Samples total      5,000, ordered 0s first, then 1s, ... 9s
    Dimensionality     400 (a 20x20 grey image per row)
    Values             float64 in about [-0.132, 1.128] (bicubic resampling
                       overshoots 0 and 1 slightly); 0 is background
    Layout             each row is the image flattened column-major (Fortran
                       order, as Octave stores it): use :func:`digit_image`
    Labels             the file stores 1-10 with 10 for zero; returned as 0-9
    =================  ==========================================================

    Args:
      path (str or Path, optional): a .mat file with ``X`` (m, 400) and ``y`` (m, 1) in the
        original course's format, for example the course's own ex3data1.mat. Defaults to the
        lab's ``data/ex3data1.mat``, found next to this module whatever the working directory.
    Returns:
      X (ndarray (m, 400) float64): one image per row.
      y (ndarray (m, 1) int64): the digit 0-9 each row shows.
    Raises:
      FileNotFoundError: the file is missing (the message names it and how to rebuild it).
      DataFileError: the file cannot be read, or its contents are not what is described above.
    """
    path = DATA_PATH if path is None else Path(path)
    if not path.is_file():
        fix = (f"Rebuild it with:  {REBUILD_COMMAND}" if path == DATA_PATH
               else "Check the path, or call load_data() without a path to use the lab's own data.")
        raise FileNotFoundError(f"Digits data file not found: {path}. {fix}")

    import scipy.io  # imported here: only loading needs SciPy, plotting does not

    try:
        contents = scipy.io.loadmat(path)
    except Exception as error:  # SciPy raises several types for damaged files
        raise DataFileError(
            f"Could not read {path} as a MATLAB .mat file ({type(error).__name__}: {error}). "
            f"The file is damaged or not a .mat file; for the lab's own data run:  {REBUILD_COMMAND}"
        ) from None

    missing = [name for name in ("X", "y") if name not in contents]
    if missing:
        found = sorted(name for name in contents if not name.startswith("__"))
        raise DataFileError(f"{path} has no variable {' or '.join(missing)}: expected X (images) "
                            f"and y (labels), found {found or 'none'}.")
    X, y = contents["X"], contents["y"]
    _check_images(X, path)
    return X.astype(np.float64), _labels_0_to_9(y, len(X), path)


def _check_images(X, path):
    if X.ndim != 2 or X.shape[1] != N_PIXELS or X.shape[0] == 0:
        raise DataFileError(f"{path}: X should have shape (m, {N_PIXELS}), one 20x20 image per "
                            f"row; found shape {X.shape}.")
    if not np.issubdtype(X.dtype, np.number) or not np.all(np.isfinite(X)):
        raise DataFileError(f"{path}: X should hold finite numbers; found dtype {X.dtype}"
                            + ("" if not np.issubdtype(X.dtype, np.number) else " with NaN or inf values"))


def _labels_0_to_9(y, n_images, path):
    if y.shape not in ((n_images, 1), (1, n_images)) and y.shape != (n_images,):
        raise DataFileError(f"{path}: y should have shape ({n_images}, 1), one label per row of "
                            f"X; found shape {y.shape}.")
    y = y.reshape(-1, 1)
    if not np.issubdtype(y.dtype, np.number) or np.any(y != np.round(y)):
        raise DataFileError(f"{path}: y should hold whole-number labels 1-10; found dtype {y.dtype}"
                            " with non-integer values.")
    labels = y.astype(np.int64)
    if labels.min() < 1 or labels.max() > 10:
        raise DataFileError(f"{path}: y should hold labels 1-10 (10 stands for the digit zero); "
                            f"found values from {labels.min()} to {labels.max()}.")
    return np.where(labels == 10, 0, labels)


def digit_image(x):
    """The upright 20x20 image stored in one row of X.

    Rows of X hold the image flattened column-major (the first 20 values are the left-most column,
    top to bottom), as in the original course's data. Every figure of a digit goes through here.

    Args:
      x (array-like (400,) or (1, 400)): one row of X.
    Returns:
      ndarray (20, 20): the image, row 0 at the top.
    """
    x = np.asarray(x)
    if x.size != N_PIXELS:
        raise ValueError(f"digit_image expects one row of X with {N_PIXELS} values (a 20x20 "
                         f"image); got an array of shape {x.shape}.")
    return x.reshape(IMAGE_SIZE, IMAGE_SIZE, order="F")
