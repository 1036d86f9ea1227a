"""How long each figure helper and explorer takes on the full data set (5,000 digits).

Two times per helper (median of 5 runs, Agg backend): the call itself, and the call plus rendering
its figure to PNG the way the notebook's inline backend does (``bbox_inches="tight"``), which is
what a student waits for. The model is a fake whose ``predict`` returns precomputed logits, so
the times are the helpers' own, not TensorFlow's.

Run:  python benchmarks/bench_helpers.py
"""
import contextlib
import io
import statistics
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RUNS = 5


class FakeModel:
    def __init__(self, logits):
        self.logits = logits

    def predict(self, X, batch_size=None, verbose="auto"):
        return self.logits[: len(X)]


def one_axes_per_digit(X, y, n_rows=8, n_cols=8):
    """The grid drawn the way autils did before its mosaic: one axes per digit. Kept here only
    to show what the mosaic saves."""
    import autils
    import matplotlib.pyplot as plt

    indices = autils.sample_indices(len(X), n_rows * n_cols)
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(5.5, 6.1))
    for ax, index in zip(axes.flat, indices):
        ax.imshow(autils.digit_image(X[index]), cmap="gray", interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(str(y[index, 0]), fontsize=8, pad=2)
    fig.subplots_adjust(left=0.02, right=0.98, bottom=0.01, top=0.91, wspace=0.12, hspace=0.45)
    plt.close(fig)
    return fig


def render_png(figure):
    figure.canvas.print_figure(io.BytesIO(), format="png", bbox_inches="tight")


def median_time(call, render):
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        result = call()
        if render:
            render(result)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    sys.path.insert(0, str(ROOT))
    import autils
    import lab_utils_softmax

    X, y = autils.load_data()
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(len(X), 10))
    y_pred = y.ravel().copy()
    wrong = rng.choice(len(X), 150, replace=False)  # about what the lab's trained network gets wrong
    y_pred[wrong] = (y_pred[wrong] + 1) % 10
    logits[np.arange(len(X)), y_pred] += 10
    model = FakeModel(logits)
    W1 = rng.normal(size=(400, 25))
    softmax = lambda z: np.exp(z) / np.exp(z).sum()  # noqa: E731
    softmax_explorer = lab_utils_softmax.plt_softmax(softmax)
    relu_explorer = lab_utils_softmax.plt_relu_explorer()

    def move_softmax_slider():
        softmax_explorer.sliders[0].value = 3.0 if softmax_explorer.sliders[0].value != 3.0 else 1.0
        return softmax_explorer.figure

    def move_relu_slider():
        relu_explorer.sliders[0].value = 2.0 if relu_explorer.sliders[0].value != 2.0 else 1.0
        return relu_explorer.figure

    figures = [
        ("plt_act_trio()", autils.plt_act_trio),
        ("display_digit(X[1002], 2)", lambda: autils.display_digit(X[1002], 2)),
        ("display_digit_grid(X, y)", lambda: autils.display_digit_grid(X, y)),
        ("  before: one axes per digit", lambda: one_axes_per_digit(X, y)),
        ("plot_loss_tf(40 epochs)", lambda: autils.plot_loss_tf({"loss": list(np.linspace(2, 0.1, 40))})),
        ("display_predictions(X, y, y_pred)", lambda: autils.display_predictions(X, y, y_pred)),
        ("plot_errors(X, y, y_pred)", lambda: autils.plot_errors(X, y, y_pred)),
        ("plot_confusion_matrix(y, y_pred)", lambda: autils.plot_confusion_matrix(y, y_pred)),
        ("plot_first_layer_weights(W1)", lambda: autils.plot_first_layer_weights(W1)),
        ("plt_softmax(softmax)", lambda: lab_utils_softmax.plt_softmax(softmax).figure),
        ("  slider moved (redraw)", move_softmax_slider),
        ("plt_relu_explorer()", lambda: lab_utils_softmax.plt_relu_explorer().figure),
        ("  slider moved (redraw)", move_relu_slider),
    ]
    numbers = [
        ("predict_digits(model, X)", lambda: autils.predict_digits(model, X)),
        ("confusion_matrix(y, y_pred)", lambda: autils.confusion_matrix(y, y_pred)),
        ("most_confused_pairs(y, y_pred)", lambda: autils.most_confused_pairs(y, y_pred)),
        ("display_errors, outside IPython", lambda: autils.display_errors(model, X, y)),
    ]

    print(f"m = {len(X)} examples, {np.count_nonzero(y.ravel() != y_pred)} errors; "
          f"median of {RUNS} runs, milliseconds")
    print(f"{'helper':<36} {'call':>8} {'call + PNG':>11}")
    for name, call in figures:
        print(f"{name:<36} {1e3 * median_time(call, None):8.1f} {1e3 * median_time(call, render_png):11.1f}")
    for name, call in numbers:
        print(f"{name:<36} {1e3 * median_time(call, None):8.1f}")

    # In a notebook display_errors also builds plot_errors and displays it: run it under an
    # IPython shell with the PNG formatter on, so the PNG is rendered as in Jupyter.
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.core.pylabtools import select_figure_formats

    shell = InteractiveShell.instance()
    select_figure_formats(shell, {"png"})
    with contextlib.redirect_stdout(io.StringIO()):  # the plain shell prints each text/plain
        in_notebook = median_time(lambda: autils.display_errors(model, X, y), None)
    print(f"{'display_errors, inside IPython':<36} {'':>8} {1e3 * in_notebook:11.1f}")


if __name__ == "__main__":
    main()
