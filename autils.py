"""Data loading and figures for the multiclass digits lab.

The notebook imports everything it shows from here, so it stays a narrative; the one place that
knows how an image is stored in a row of ``X`` is :func:`digit_image`.
"""
import math
import sys
import textwrap
from functools import partial
from pathlib import Path

import matplotlib.pyplot as plt
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


# ---------------------------------------------------------------------------------------------
# Figures. Each helper builds its figure with pyplot, closes it and returns the Figure: as the
# last line of a cell it is then shown exactly once (closing keeps the inline backend from
# showing it a second time), and tests can inspect it. No helper changes matplotlib's rcParams.
# ---------------------------------------------------------------------------------------------
# Okabe-Ito: eight colours that stay distinct under the common colour-vision deficiencies.
PALETTE = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}
DIGIT_CMAP = "gray"  # the digits are white on black, as they were drawn
WEIGHTS_CMAP = "PuOr"  # diverging, colour-blind safe; centred at 0 below
CONFUSION_CMAP = "cividis"  # sequential, colour-blind safe, dark to light
GRID_FIGSIZE = (5.5, 6.0)  # an 8x8 grid of digits stays legible at a notebook's default width


def wrap_message(text, width=44):
    """``text`` broken into lines of at most ``width`` characters (for messages inside axes)."""
    return "\n".join(textwrap.fill(paragraph, width) for paragraph in str(text).splitlines() or [""])


def draw_message(ax, text, width=44, color=None):
    """Write ``text`` in the middle of ``ax`` (a figure that has something to say instead of data).

    Returns:
      matplotlib.text.Text: the message, so a caller can change it later with ``set_text``.
    """
    ax.set_xticks([])
    ax.set_yticks([])
    return ax.text(0.5, 0.5, wrap_message(text, width), transform=ax.transAxes, ha="center",
                   va="center", fontsize=10, color=color or PALETTE["black"])


def show_figures_inline():
    """Inside a Jupyter kernel, make a Figure that ends a cell show as a PNG, whatever backend.

    The inline backend registers this PNG formatter itself, but it is never activated when the
    environment picks another backend (``MPLBACKEND=Agg`` is common on servers and CI): every
    figure of the lab then degrades to its text form ``<Figure size ...>``. Registering the same
    formatter the inline backend would (PNG, tight bounding box) shows the figures either way.
    A figure format the user chose (``%config InlineBackend.figure_formats``) is left alone.

    Returns:
      bool: True if this call registered the formatter.
    """
    IPython = sys.modules.get("IPython")  # not imported here: outside IPython there is no kernel
    shell = IPython.get_ipython() if IPython is not None else None
    if shell is None or not hasattr(shell, "kernel"):
        return False
    from IPython.core.pylabtools import print_figure
    from matplotlib.figure import Figure

    formatters = shell.display_formatter.formatters
    if any(Figure in formatter.type_printers for formatter in formatters.values()):
        return False
    formatters["image/png"].for_type(
        Figure, partial(print_figure, fmt="png", base64=True, bbox_inches="tight"))
    return True


show_figures_inline()


# --- checking what a student passes in: fail early, naming the argument -----------------------

def _as_images(X, name="X"):
    """X as a 2-D numeric array, one image per row, or a ValueError saying what is wrong."""
    array = np.asarray(X)
    if array.ndim != 2 or array.shape[1] != N_PIXELS or array.shape[0] == 0:
        hint = (" For a single image use display_digit(x)." if array.ndim == 1 and array.size == N_PIXELS
                else "")
        raise ValueError(f"{name} should have shape (m, {N_PIXELS}), one 20x20 image per row with "
                         f"m >= 1; found shape {array.shape}.{hint}")
    if not np.issubdtype(array.dtype, np.number):
        raise ValueError(f"{name} should hold numbers (pixel values); found dtype {array.dtype}.")
    return array


def _as_digits(values, name, expected_length=None, length_source="X"):
    """Labels or predictions as an int64 array of shape (m,), from shape (m,) or (m, 1)."""
    array = np.asarray(values)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        hint = ""
        if array.ndim == 2 and array.shape[1] == N_CLASSES:
            hint = (" These look like the model's outputs (one value per class): turn them into "
                    "digits with predict_digits(model, X), or np.argmax(..., axis=1).")
        raise ValueError(f"{name} should hold one digit per example, shape (m,) or (m, 1); "
                         f"found shape {array.shape}.{hint}")
    if expected_length is not None and len(array) != expected_length:
        raise ValueError(f"{name} has {len(array)} entries but {length_source} has "
                         f"{expected_length}; they should match one to one.")
    if array.dtype == bool or not np.issubdtype(array.dtype, np.number):
        raise ValueError(f"{name} should hold whole-number digits; found dtype {array.dtype}.")
    if not np.issubdtype(array.dtype, np.integer):
        not_whole = ~np.isfinite(array) | (array != np.round(array))
        if np.any(not_whole):
            raise ValueError(f"{name} should hold whole-number digits; found values such as "
                             f"{array[np.argmax(not_whole)]}.")
    return array.astype(np.int64)


def _check_count(value, name, minimum=1):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} should be a whole number >= {minimum}; found {value!r}.")
    return int(value)


# --- little drawing helpers shared by the figures ----------------------------------------------

def sample_indices(m, n, seed=1234):
    """``n`` distinct row indices out of ``m`` (all of them if ``n >= m``), reproducibly.

    Returns:
      ndarray (min(n, m),) int64: ``np.random.default_rng(seed).choice(m, min(n, m), replace=False)``.
    """
    return np.random.default_rng(seed).choice(m, size=min(n, m), replace=False).astype(np.int64)


MOSAIC_GAP = 2  # blank pixels between two tiles of a mosaic
MOSAIC_LABEL_BAND = 8  # blank pixels above each tile, where its title goes


def tile_mosaic(tiles, n_rows, n_cols):
    """Tiles laid out row by row in one image, with blank (NaN) gaps and a band for titles.

    One image with text on top draws many times faster than one axes per tile (0.1 s against
    about 1 s for 64 digits), which is most of what a grid of digits costs in the notebook.

    Args:
      tiles (array-like (k, h, w)): the tiles, k <= n_rows * n_cols; the rest stays blank.
      n_rows, n_cols (int): the grid.
    Returns:
      ndarray (n_rows * (MOSAIC_LABEL_BAND + h) + (n_rows - 1) * MOSAIC_GAP,
      n_cols * (w + MOSAIC_GAP) - MOSAIC_GAP) float64: NaN wherever there is no tile, so the
      background shows through (any colour map draws NaN as "bad", transparent by default).
    """
    tiles = np.asarray(tiles, dtype=np.float64)
    if tiles.ndim != 3 or len(tiles) > n_rows * n_cols:
        raise ValueError(f"tiles should have shape (k, h, w) with k <= {n_rows * n_cols}; found "
                         f"shape {tiles.shape}.")
    height, width = tiles.shape[1:]
    mosaic = np.full((n_rows * (MOSAIC_LABEL_BAND + height) + (n_rows - 1) * MOSAIC_GAP,
                      n_cols * (width + MOSAIC_GAP) - MOSAIC_GAP), np.nan)
    for k, tile in enumerate(tiles):
        top, left = tile_origin(k, n_cols, height, width)
        mosaic[top:top + height, left:left + width] = tile
    return mosaic


def tile_origin(k, n_cols, height=IMAGE_SIZE, width=IMAGE_SIZE):
    """(row, column) of the top-left pixel of tile ``k`` in a :func:`tile_mosaic`."""
    row, col = divmod(k, n_cols)
    return (row * (MOSAIC_LABEL_BAND + height + MOSAIC_GAP) + MOSAIC_LABEL_BAND,
            col * (width + MOSAIC_GAP))


def _mosaic_axes(mosaic, width_inches, extra_height_inches, width_fraction=0.98):
    """A figure with one frameless axes that shows ``mosaic`` undistorted, ``width_fraction`` of
    the figure wide, with ``extra_height_inches`` above it for the title."""
    image_height = width_inches * width_fraction * mosaic.shape[0] / mosaic.shape[1]
    height_inches = round(image_height + 0.02 * width_inches + extra_height_inches, 1)
    fig = plt.figure(figsize=(width_inches, height_inches))
    # Explicit margins: layout engines cost more than the drawing here.
    ax = fig.add_axes((0.01, 0.01, width_fraction, 1 - 0.01 - extra_height_inches / height_inches))
    ax.set_axis_off()
    return fig, ax


def _tile_titles(ax, titles, mistakes, n_cols):
    """Each tile's title above it; a mistake is marked three ways (cross, bold, colour plus
    frame) so that it never relies on colour alone."""
    from matplotlib.patches import Rectangle

    for k, (title, mistake) in enumerate(zip(titles, mistakes)):
        top, left = tile_origin(k, n_cols)
        colour = PALETTE["vermillion"] if mistake else PALETTE["black"]
        ax.text(left + IMAGE_SIZE / 2 - 0.5, top - 1.5, f"{title} ✗" if mistake else title,
                ha="center", va="bottom", fontsize=8, color=colour,
                fontweight="bold" if mistake else "normal")
        if mistake:
            ax.add_patch(Rectangle((left - 1, top - 1), IMAGE_SIZE + 1, IMAGE_SIZE + 1,
                                   fill=False, edgecolor=colour, linewidth=2))


def _digit_grid(X, indices, titles, mistakes, n_rows, n_cols, suptitle):
    """A grid of digits X[indices], one title each, drawn as one mosaic image.

    Returns:
      matplotlib.figure.Figure: one axes; its image is ``tile_mosaic`` of the digits, its texts
      the titles in the order of ``indices``, its patches the frames of the mistakes.
    """
    mosaic = tile_mosaic([digit_image(X[index]) for index in indices], n_rows, n_cols)
    fig, ax = _mosaic_axes(mosaic, GRID_FIGSIZE[0], 0.45)
    ax.imshow(mosaic, cmap=DIGIT_CMAP, interpolation="nearest")
    _tile_titles(ax, titles, mistakes, n_cols)
    fig.suptitle(suptitle, fontsize=11)
    plt.close(fig)
    return fig


# --- the lab's figures -------------------------------------------------------------------------

def plt_act_trio():
    """Linear, sigmoid and ReLU activations side by side.

    Returns:
      matplotlib.figure.Figure: 3 axes, titled "Linear", "Sigmoid", "ReLU".
    """
    z = np.linspace(-4, 4, 401)
    activations = (("Linear", z, "g(z) = z"),
                   ("Sigmoid", 1 / (1 + np.exp(-z)), "g(z) = 1 / (1 + e$^{-z}$)"),
                   ("ReLU", np.maximum(0, z), "g(z) = max(0, z)"))
    fig, axes = plt.subplots(1, 3, figsize=(7.5, 2.6), layout="constrained")
    for ax, (name, g, formula) in zip(axes, activations):
        ax.axhline(0, color=PALETTE["black"], linewidth=0.6)
        ax.axvline(0, color=PALETTE["black"], linewidth=0.6)
        ax.plot(z, g, color=PALETTE["blue"], linewidth=2)
        ax.set_title(name, fontsize=11)
        ax.set_xlabel("z")
        ax.set_ylabel("g(z)")
        ax.text(0.03, 0.96, formula, transform=ax.transAxes, va="top", fontsize=8)
        ax.grid(True, linewidth=0.4, alpha=0.5)
    fig.suptitle("Activation functions", fontsize=11)
    plt.close(fig)
    return fig


def display_digit(x, label=None):
    """One digit, upright.

    Args:
      x (array-like (400,) or (1, 400)): one row of X.
      label (int, optional): its digit, shown in the title.
    Returns:
      matplotlib.figure.Figure: one axes with the 20x20 image.
    """
    x = np.asarray(x)
    if x.size != N_PIXELS:
        raise ValueError(f"x should be one row of X ({N_PIXELS} values, a 20x20 image); found shape "
                         f"{x.shape}. Pick one row, for example X[0].")
    fig, ax = plt.subplots(figsize=(2.6, 2.8), layout="constrained")
    ax.imshow(digit_image(x), cmap=DIGIT_CMAP, interpolation="nearest")
    ax.set_xticks([0, 5, 10, 15, 19])
    ax.set_yticks([0, 5, 10, 15, 19])
    ax.tick_params(labelsize=7)
    ax.set_xlabel("pixel column", fontsize=8)
    ax.set_ylabel("pixel row", fontsize=8)
    if label is None:
        ax.set_title("A digit", fontsize=10)
    else:
        label = np.asarray(label).ravel()
        ax.set_title(f"Label: {label[0] if label.size == 1 else label}", fontsize=10)
    plt.close(fig)
    return fig


def display_digit_grid(X, y, n_rows=8, n_cols=8, seed=1234):
    """A random sample of digits, each titled with its label.

    Args:
      X (ndarray (m, 400)): images, one per row.
      y (ndarray (m,) or (m, 1)): their digits.
      n_rows, n_cols (int): grid size; the sample is ``sample_indices(m, n_rows * n_cols, seed)``.
      seed (int): the same seed shows the same digits.
    Returns:
      matplotlib.figure.Figure: one mosaic of n_rows x n_cols tiles (see :func:`_digit_grid`).
    """
    X = _as_images(X)
    y = _as_digits(y, "y", len(X))
    n_rows, n_cols = _check_count(n_rows, "n_rows"), _check_count(n_cols, "n_cols")
    indices = sample_indices(len(X), n_rows * n_cols, seed)
    return _digit_grid(X, indices, [str(y[i]) for i in indices], [False] * len(indices), n_rows,
                       n_cols, f"{len(indices)} random digits of {len(X)}, each titled with its label")


def plot_loss_tf(history):
    """Training loss per epoch.

    Args:
      history (keras.callbacks.History or dict): what ``model.fit`` returned, or its
        ``.history`` dict; needs a "loss" list (a "val_loss" list is drawn too).
    Returns:
      matplotlib.figure.Figure: one axes, epochs numbered from 1.
    """
    record = getattr(history, "history", history)
    if not isinstance(record, dict) or "loss" not in record or len(record["loss"]) == 0:
        found = sorted(record) if isinstance(record, dict) else type(history).__name__
        raise ValueError("history should be what model.fit(...) returned (a keras History) or a "
                         f"dict with a non-empty 'loss' list; found {found!r}.")
    fig, ax = plt.subplots(figsize=(6, 3.2), layout="constrained")
    for key, name, colour in (("loss", "training", PALETTE["blue"]),
                              ("val_loss", "validation", PALETTE["orange"])):
        if len(record.get(key, ())):
            values = np.asarray(record[key], dtype=float)
            ax.plot(np.arange(1, len(values) + 1), values, color=colour, linewidth=2, label=name)
    if "val_loss" in record:
        ax.legend()
    ax.set_title("Loss during training", fontsize=11)
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_xlim(left=1)
    ax.grid(True, linewidth=0.4, alpha=0.5)
    plt.close(fig)
    return fig


def predict_digits(model, X):
    """The digit a model predicts for each row of X (argmax of its outputs).

    Args:
      model: anything with Keras' ``predict(X, batch_size=..., verbose=0)`` returning an
        (m, n_classes) array.
      X (ndarray (m, 400)): images, one per row.
    Returns:
      ndarray (m,) int64: the predicted digits.
    """
    X = _as_images(X)
    if not callable(getattr(model, "predict", None)):
        raise ValueError(f"model should be a Keras model (something with .predict); found "
                         f"{type(model).__name__}.")
    # One batch of all m rows: the lab compiles with steps_per_execution, which makes Keras build
    # a new many-step prediction graph for every new input size (1.6 s for 5000 rows, against
    # 0.08 s as a single batch; the outputs are identical). 5000 x 400 values fit easily in memory.
    outputs = np.asarray(model.predict(X, batch_size=len(X), verbose=0))
    if outputs.ndim != 2 or outputs.shape[0] != len(X):
        raise ValueError(f"model.predict(X) should return shape ({len(X)}, n_classes), one row of "
                         f"outputs per image; it returned shape {outputs.shape}.")
    return np.argmax(outputs, axis=1).astype(np.int64)


def display_predictions(X, y, y_pred, n_rows=8, n_cols=8, seed=1234):
    """A random sample of digits titled "label,prediction", mistakes marked.

    Args:
      X (ndarray (m, 400)): images, one per row.
      y, y_pred (ndarray (m,) or (m, 1)): the true and the predicted digits.
      n_rows, n_cols, seed: as in :func:`display_digit_grid` (the same seed samples the same rows).
    Returns:
      matplotlib.figure.Figure: one mosaic of the sample (see :func:`_digit_grid`); a mistake
      has a bold vermillion title ending in "✗" and a vermillion frame, and the figure's title
      says how many mistakes the sample holds ("all 64 correct" when none).
    """
    X = _as_images(X)
    y = _as_digits(y, "y", len(X))
    y_pred = _as_digits(y_pred, "y_pred", len(X))
    n_rows, n_cols = _check_count(n_rows, "n_rows"), _check_count(n_cols, "n_cols")
    indices = sample_indices(len(X), n_rows * n_cols, seed)
    mistakes = [bool(y[i] != y_pred[i]) for i in indices]
    # The title only speaks of marked mistakes when the sample holds one to look for.
    summary = (f"all {len(indices)} correct" if not any(mistakes) else
               f"mistakes marked ✗ ({sum(mistakes)} of these {len(indices)})")
    return _digit_grid(X, indices, [f"{y[i]},{y_pred[i]}" for i in indices], mistakes, n_rows,
                       n_cols, f"Label, prediction: {summary}")


def plot_errors(X, y, y_pred, max_shown=24):
    """The misclassified digits, in index order, titled "label,prediction".

    Args:
      X (ndarray (m, 400)): images, one per row.
      y, y_pred (ndarray (m,) or (m, 1)): the true and the predicted digits.
      max_shown (int): at most this many errors are drawn (8 per row).
    Returns:
      matplotlib.figure.Figure: one mosaic of the errors shown, or an axes saying there are none.
    """
    X = _as_images(X)
    y = _as_digits(y, "y", len(X))
    y_pred = _as_digits(y_pred, "y_pred", len(X))
    max_shown = _check_count(max_shown, "max_shown")
    errors = np.flatnonzero(y != y_pred)
    if len(errors) == 0:
        fig, ax = plt.subplots(figsize=(5.5, 1.6))
        ax.set_title("Misclassified digits", fontsize=11)
        draw_message(ax, f"No errors: all {len(X)} digits are predicted correctly.")
        plt.close(fig)
        return fig
    shown = errors[:max_shown]
    n_cols = max(4, min(8, len(shown)))  # at least 4 columns, so one error is not drawn huge
    n_rows = math.ceil(len(shown) / n_cols)
    more = f", first {len(shown)} shown" if len(shown) < len(errors) else ""
    return _digit_grid(X, shown, [f"{y[i]},{y_pred[i]}" for i in shown], [False] * len(shown),
                       n_rows, n_cols, f"{len(errors)} errors out of {len(X)} images{more} "
                       "(label,prediction)")


def display_errors(model, X, y, y_pred=None):
    """Count the misclassified digits and, in a notebook, show them.

    Args:
      model: a Keras model; its ``predict`` runs once on all of X (not at all if y_pred is given).
      X (ndarray (m, 400)): images, one per row.
      y (ndarray (m,) or (m, 1)): the true digits.
      y_pred (ndarray (m,) or (m, 1), optional): predictions already made with predict_digits.
    Returns:
      int: the number of errors. Inside IPython the :func:`plot_errors` figure is displayed too.
    """
    X = _as_images(X)
    y = _as_digits(y, "y", len(X))
    y_pred = predict_digits(model, X) if y_pred is None else _as_digits(y_pred, "y_pred", len(X))
    n_errors = int(np.count_nonzero(y != y_pred))
    try:
        import IPython  # imported here: the figures work without IPython, only showing needs it
    except ImportError:
        return n_errors
    if IPython.get_ipython() is not None:
        from IPython.display import display

        display(plot_errors(X, y, y_pred))
    return n_errors


def confusion_matrix(y, y_pred, n_classes=N_CLASSES):
    """How often each digit was predicted as each digit.

    Args:
      y, y_pred (array-like (m,) or (m, 1)): true and predicted digits in 0..n_classes-1.
    Returns:
      ndarray (n_classes, n_classes) int64: entry [i, j] counts label i predicted as j.
    """
    n_classes = _check_count(n_classes, "n_classes")
    y = _as_digits(y, "y")
    y_pred = _as_digits(y_pred, "y_pred", len(y), "y")
    for name, values in (("y", y), ("y_pred", y_pred)):
        if len(values) and (values.min() < 0 or values.max() >= n_classes):
            raise ValueError(f"{name} should hold digits 0 to {n_classes - 1}; found values from "
                             f"{values.min()} to {values.max()}.")
    counts = np.bincount(y * n_classes + y_pred, minlength=n_classes * n_classes)
    return counts.reshape(n_classes, n_classes).astype(np.int64)


def plot_confusion_matrix(y, y_pred, n_classes=N_CLASSES, title="Confusion matrix"):
    """The confusion matrix as an image, with the count written in each cell.

    Args:
      y, y_pred (array-like (m,) or (m, 1)): true and predicted digits.
      n_classes (int): number of classes (10 digits).
      title (str): the axes title; the accuracy is added on a second line.
    Returns:
      matplotlib.figure.Figure: the matrix (rows: true digit, columns: predicted digit) and a colorbar.
    """
    matrix = confusion_matrix(y, y_pred, n_classes)
    total = matrix.sum()
    fig, ax = plt.subplots(figsize=(6, 5.2), layout="constrained")
    image = ax.imshow(matrix, cmap=CONFUSION_CMAP, interpolation="nearest")
    cmap, norm = image.get_cmap(), image.norm
    for (true_digit, predicted_digit), count in np.ndenumerate(matrix):
        red, green, blue, _ = cmap(norm(count))
        light_cell = 0.2126 * red + 0.7152 * green + 0.0722 * blue > 0.5
        ax.text(predicted_digit, true_digit, str(count), ha="center", va="center", fontsize=8,
                color=PALETTE["black"] if light_cell else "white")
    ax.set_xticks(range(n_classes))
    ax.set_yticks(range(n_classes))
    ax.set_xlabel("Predicted digit")
    ax.set_ylabel("True digit")
    accuracy = np.trace(matrix) / total if total else float("nan")
    ax.set_title(f"{title}\n{np.trace(matrix)} of {total} correct ({accuracy:.1%})", fontsize=11)
    fig.colorbar(image, ax=ax, shrink=0.8, label="number of images")
    plt.close(fig)
    return fig


def most_confused_pairs(y, y_pred, k=3):
    """The k most frequent mistakes.

    Args:
      y, y_pred (array-like (m,) or (m, 1)): true and predicted digits (0-9).
      k (int): how many pairs at most.
    Returns:
      list of (true_digit, predicted_digit, count) int tuples: off-diagonal, count > 0, largest
      count first, ties in (true_digit, predicted_digit) order.
    """
    k = _check_count(k, "k", minimum=0)
    matrix = confusion_matrix(y, y_pred)
    pairs = [(int(i), int(j), int(matrix[i, j])) for i, j in zip(*np.nonzero(matrix)) if i != j]
    return sorted(pairs, key=lambda pair: (-pair[2], pair[0], pair[1]))[:k]


def plot_first_layer_weights(W1):
    """What each first-layer unit looks for: its 400 weights drawn as a 20x20 image.

    Args:
      W1 (ndarray (400, n_units)): the first Dense layer's kernel (25 units in this lab).
    Returns:
      matplotlib.figure.Figure: one axes showing the units' images as a :func:`tile_mosaic`
      titled "unit 1", ... on a shared colour scale centred at 0 (purple positive, orange
      negative, white 0), plus a colorbar.
    """
    W1 = np.asarray(W1)
    if W1.ndim != 2 or W1.shape[0] != N_PIXELS or W1.shape[1] == 0:
        hint = (" Is it transposed? Pass the kernel as Keras stores it, layer.get_weights()[0]."
                if W1.ndim == 2 and W1.shape[1] == N_PIXELS else "")
        raise ValueError(f"W1 should have shape ({N_PIXELS}, n_units), one column of {N_PIXELS} "
                         f"weights per hidden unit; found shape {W1.shape}.{hint}")
    if not np.issubdtype(W1.dtype, np.number):
        raise ValueError(f"W1 should hold numbers; found dtype {W1.dtype}.")
    n_units = W1.shape[1]
    n_cols = math.ceil(math.sqrt(n_units))
    n_rows = math.ceil(n_units / n_cols)
    limit = float(np.max(np.abs(W1))) or 1.0  # symmetric, so white means a weight of 0
    mosaic = tile_mosaic([digit_image(W1[:, unit]) for unit in range(n_units)], n_rows, n_cols)
    fig, ax = _mosaic_axes(mosaic, 6.2, 0.45, width_fraction=0.84)  # the rest: the colorbar
    image = ax.imshow(mosaic, cmap=WEIGHTS_CMAP, vmin=-limit, vmax=limit, interpolation="nearest")
    _tile_titles(ax, [f"unit {unit + 1}" for unit in range(n_units)], [False] * n_units, n_cols)
    bottom, height = ax.get_position().y0, ax.get_position().height
    colorbar_axes = fig.add_axes((0.88, bottom + 0.1 * height, 0.03, 0.8 * height))
    fig.colorbar(image, cax=colorbar_axes, label="weight")
    fig.suptitle(f"First-layer weights: what each of the {n_units} units responds to", fontsize=11)
    plt.close(fig)
    return fig
