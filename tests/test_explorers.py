"""The interactive explorers: redrawing on slider changes, student errors shown in the figure, the
display-handle mechanism, cheap imports, and deterministic headless notebook outputs."""
import matplotlib

matplotlib.use("Agg")  # before pyplot is imported anywhere: no display needed

import json  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import lab_utils_softmax  # noqa: E402
from lab_utils_softmax import ReluExplorer, SoftmaxExplorer, plt_relu_explorer, plt_softmax  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def softmax(z):
    ez = np.exp(z - np.max(z))
    return ez / ez.sum()


def bar_heights(bars):
    return np.array([bar.get_height() for bar in bars])


def shown_texts(ax):
    return [text.get_text() for text in ax.texts if text.get_visible() and text.get_text()]


# --- softmax explorer ----------------------------------------------------------------------------

def test_softmax_explorer_draws_inputs_and_probabilities():
    import ipywidgets

    explorer = plt_softmax(softmax)
    assert isinstance(explorer, SoftmaxExplorer)
    assert len(explorer.sliders) == 5
    assert all(isinstance(slider, ipywidgets.FloatSlider) for slider in explorer.sliders)
    assert [slider.description for slider in explorer.sliders] == ["z0", "z1", "z2", "z3",
                                                                    "c, added to every z"]
    assert explorer.sliders[4].value == 0.0
    np.testing.assert_array_equal(explorer.z, [1.0, 2.0, 0.5, -1.0])
    inputs_ax, outputs_ax = explorer.figure.axes
    np.testing.assert_allclose(bar_heights(inputs_ax.patches), explorer.z)
    np.testing.assert_allclose(bar_heights(outputs_ax.patches), softmax(explorer.z))
    np.testing.assert_allclose(explorer.probabilities, softmax(explorer.z))
    assert explorer.message is None
    assert shown_texts(outputs_ax) == [f"{p:.3f}" for p in softmax(explorer.z)]
    assert outputs_ax.get_ylim() == (0, 1.1) and outputs_ax.get_yticks()[-1] == 1
    assert outputs_ax.get_title() == "softmax(z): sum = 1.000"
    for ax in (inputs_ax, outputs_ax):
        assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()


def test_moving_a_slider_redraws_the_bars():
    explorer = plt_softmax(softmax)
    explorer.sliders[3].value = 3.5  # the observer redraws; no explicit update()
    expected_z = [1.0, 2.0, 0.5, 3.5]
    np.testing.assert_array_equal(explorer.z, expected_z)
    inputs_ax, outputs_ax = explorer.figure.axes
    assert bar_heights(inputs_ax.patches)[3] == 3.5
    np.testing.assert_allclose(bar_heights(outputs_ax.patches), softmax(np.array(expected_z)))
    assert shown_texts(inputs_ax)[3] == "3.5"


def test_the_shift_slider_moves_every_input_and_changes_no_probability():
    explorer = plt_softmax(softmax)
    before = explorer.probabilities.copy()
    for shift in (3.5, -4.0):
        explorer.sliders[4].value = shift
        np.testing.assert_allclose(explorer.z, np.array([1.0, 2.0, 0.5, -1.0]) + shift)
        inputs_ax, outputs_ax = explorer.figure.axes
        np.testing.assert_allclose(bar_heights(inputs_ax.patches), explorer.z)
        low, high = inputs_ax.get_ylim()
        assert low < explorer.z.min() and explorer.z.max() < high  # every bar stays in view
        np.testing.assert_allclose(explorer.probabilities, before)
        np.testing.assert_allclose(bar_heights(outputs_ax.patches), before)
    assert "0.224, 0.609, 0.136, 0.030" in explorer.figure.lab_alt_text


def raises_not_implemented(z):
    raise NotImplementedError("write my_softmax first")


def returns_none(z):
    pass


@pytest.mark.parametrize("my_softmax, message", [
    (raises_not_implemented, "raises_not_implemented raised NotImplementedError: write my_softmax first"),
    (returns_none, "returns_none returned None; expected 4 probabilities"),
    (lambda z: np.exp(z), "my_softmax returned [2.718 7.389 1.649 0.368]: probabilities must lie between 0 and 1"),
    (lambda z: np.ones(3) / 3, "my_softmax returned shape (3,); expected 4 probabilities"),
    (lambda z: z * np.nan, "my_softmax returned [nan nan nan nan], with NaN or infinity"),
    (lambda z: {"a": 1}, "my_softmax returned a dict, not an array of numbers"),
])
def test_an_unusable_softmax_is_reported_in_the_figure_not_raised(my_softmax, message):
    explorer = plt_softmax(my_softmax)
    assert explorer.probabilities is None
    assert explorer.message.startswith(message)
    outputs_ax = explorer.figure.axes[1]
    assert not any(bar.get_visible() for bar in outputs_ax.patches)
    (shown,) = shown_texts(outputs_ax)
    assert " ".join(shown.split()) == explorer.message  # wrapped onto lines, same words
    explorer.sliders[0].value = -2.0  # still usable after a failure
    np.testing.assert_array_equal(explorer.z, [-2.0, 2.0, 0.5, -1.0])


def test_a_fixed_softmax_brings_the_bars_back():
    attempts = []

    def flaky(z):
        attempts.append(z)
        if len(attempts) == 1:
            raise ZeroDivisionError("division by zero")
        return softmax(z)

    explorer = plt_softmax(flaky)
    assert explorer.message == "flaky raised ZeroDivisionError: division by zero"
    explorer.update()
    assert explorer.message is None
    assert all(bar.get_visible() for bar in explorer.figure.axes[1].patches)
    assert len(shown_texts(explorer.figure.axes[1])) == 4


def test_array_likes_such_as_tensors_are_accepted():
    class TensorLike:  # what np.asarray accepts from a tf.Tensor
        def __init__(self, values):
            self.values = values

        def __array__(self, dtype=None, copy=None):
            return np.asarray(self.values, dtype=dtype)

    explorer = plt_softmax(lambda z: TensorLike(softmax(z).reshape(1, 4)))
    assert explorer.message is None
    np.testing.assert_allclose(explorer.probabilities, softmax(explorer.z))


def test_softmax_explorer_passes_a_copy_of_z():
    def edits_in_place(z):
        z -= 100
        return softmax(z)

    explorer = plt_softmax(edits_in_place)
    np.testing.assert_array_equal(bar_heights(explorer.figure.axes[0].patches), [1.0, 2.0, 0.5, -1.0])


def test_plt_softmax_needs_a_function():
    with pytest.raises(ValueError, match=r"plt_softmax\(my_softmax\); found ndarray"):
        plt_softmax(np.ones(4))


# --- ReLU explorer ------------------------------------------------------------------------------

def test_relu_explorer_sums_three_units():
    explorer = plt_relu_explorer()
    assert isinstance(explorer, ReluExplorer)
    assert len(explorer.sliders) == 6
    x = explorer.x
    expected_units = [v * np.maximum(0, x - s) for v, s in zip(explorer.weights, explorer.breakpoints)]
    np.testing.assert_allclose(explorer.unit_outputs, expected_units)
    np.testing.assert_allclose(explorer.output, np.sum(expected_units, axis=0))
    (ax,) = explorer.figure.axes
    # The input is x, as in section 2's text (z = w·x + b is a unit's value, never the axis).
    assert ax.get_title() and ax.get_xlabel() == "x (the input)" and ax.get_ylabel()
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    assert legend[0] == "unit 1: 1.0·max(0, x − 0.0)" and len(legend) == 4
    thick = max(ax.lines, key=lambda line: line.get_linewidth())
    np.testing.assert_allclose(thick.get_ydata(), explorer.output)


def test_relu_slider_labels_use_the_symbols_of_the_text():
    explorer = plt_relu_explorer()
    assert [s.description for s in explorer.weight_sliders] == [f"unit {k} weight v" for k in (1, 2, 3)]
    assert [s.description for s in explorer.breakpoint_sliders] == [
        f"unit {k} on at x = s" for k in (1, 2, 3)]
    # No slider is called b: b is a unit's bias in the text, and the switch-on point is -b/w.
    assert not any(re.search(r"\bb\b", s.description) for s in explorer.sliders)


def test_moving_relu_sliders_redraws():
    explorer = plt_relu_explorer()
    explorer.weight_sliders[1].value = 0.5
    explorer.breakpoint_sliders[1].value = -0.5
    x = explorer.x
    np.testing.assert_allclose(explorer.unit_outputs[1], 0.5 * np.maximum(0, x + 0.5))
    expected = sum(v * np.maximum(0, x - s) for v, s in zip(explorer.weights, explorer.breakpoints))
    np.testing.assert_allclose(explorer.output, expected)
    (ax,) = explorer.figure.axes
    thick = max(ax.lines, key=lambda line: line.get_linewidth())
    np.testing.assert_allclose(thick.get_ydata(), expected)
    assert "unit 2: 0.5·max(0, x + 0.5)" in [t.get_text() for t in ax.get_legend().get_texts()]
    low, high = ax.get_ylim()
    assert low <= explorer.unit_outputs.min() and high >= explorer.output.max()
    assert explorer.output[x <= -0.5].max() == 0  # left of every breakpoint, all units are off


# --- the display-handle mechanism ---------------------------------------------------------------

class FakeHandle:
    def __init__(self):
        self.updates = []

    def update(self, obj):
        self.updates.append(obj)


@pytest.mark.parametrize("make", [lambda: plt_softmax(softmax), plt_relu_explorer])
def test_display_shows_figure_then_controls_and_slider_changes_update_the_handle(make, monkeypatch):
    import IPython.display

    explorer = make()
    displayed, handle = [], FakeHandle()

    def fake_display(obj, display_id=None):
        displayed.append((obj, display_id))
        return handle if display_id else None

    monkeypatch.setattr(IPython.display, "display", fake_display)
    explorer._ipython_display_()
    assert displayed == [(explorer.figure, True), (explorer.controls, None)]
    explorer.sliders[0].value = explorer.sliders[0].value + 0.5
    assert handle.updates == [explorer.figure]


def test_reprs_are_deterministic():
    for explorer in (plt_softmax(softmax), plt_relu_explorer()):
        for shown in (repr(explorer), repr(explorer.controls), repr(explorer.figure)):
            assert not re.search(r"0x[0-9a-fA-F]{4,}", shown)
    assert repr(plt_softmax(softmax)) == "SoftmaxExplorer(z=[1.0, 2.0, 0.5, -1.0])"


# --- imports and headless notebooks ---------------------------------------------------------------

def test_importing_the_modules_is_cheap_and_independent_of_the_working_directory(tmp_path):
    code = (f"import sys; sys.path.insert(0, {str(ROOT)!r}); "
            "import autils, lab_utils_softmax; "
            "print(sorted(m for m in ('ipywidgets', 'tensorflow', 'keras', 'IPython') if m in sys.modules)); "
            "import matplotlib.pyplot as plt; X, y = autils.load_data(); "
            "fig = autils.display_digit_grid(X, y); print(len(fig.axes), plt.get_fignums())")
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                            text=True, env={**os.environ, "MPLBACKEND": "Agg"}, check=True)
    assert result.stdout.splitlines() == ["[]", "1 []"]  # one mosaic axes for 64 digits
    assert result.stderr == ""


NOTEBOOK_CELLS = [
    "from lab_utils_softmax import plt_softmax; import numpy as np; "
    "plt_softmax(lambda z: np.exp(z)/np.exp(z).sum())",
    "from autils import plt_act_trio; plt_act_trio()",
    # A slider moved after display must replace the displayed image (through its display id).
    "explorer = plt_softmax(lambda z: np.exp(z)/np.exp(z).sum()); explorer",
    "explorer.sliders[0].value = 3.0",
]


# What a student's machine or a CI server may export, each set to a value that would change the
# lab if it took effect: the Agg backend stores no figure, another Keras backend changes every
# result (or fails to import), TensorFlow's C++ log floods stderr, oneDNN rounds differently.
HOSTILE_ENVIRONMENT = {"MPLBACKEND": "Agg", "KERAS_BACKEND": "jax", "TF_CPP_MIN_LOG_LEVEL": "0",
                       "TF_ENABLE_ONEDNN_OPTS": "1"}
LAB_PATH = ROOT / "lab2_multiclass.ipynb"


def run_notebook():
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(source) for source in NOTEBOOK_CELLS])
    # MPLBACKEND=Agg as on a CI server: the helpers must show their figures without the inline
    # backend (these cells never run %matplotlib inline).
    NotebookClient(notebook, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(ROOT)}}).execute(
        env={**os.environ, "MPLBACKEND": "Agg"})
    return notebook


def texts(output):
    """Everything textual in one output: text/plain, streams, errors (not images or widget ids)."""
    return {key: value for key, value in {**output, **output.get("data", {})}.items()
            if key in ("text/plain", "text", "name", "output_type", "ename", "evalue")}


@pytest.fixture(scope="module")
def notebook_runs():
    return [run_notebook() for _ in range(2)]


def test_headless_notebook_stores_figures_and_identical_texts(notebook_runs):
    first, second = notebook_runs
    for cell in first.cells:
        assert not [o for o in cell.outputs if o["output_type"] in ("error", "stream")], cell.outputs
    softmax_outputs, trio_outputs = first.cells[0].outputs, first.cells[1].outputs
    assert [sorted(o["data"]) for o in softmax_outputs] == [
        ["image/png", "text/plain"], ["application/vnd.jupyter.widget-view+json", "text/plain"]]
    assert softmax_outputs[0]["data"]["text/plain"] == "<Figure size 750x300 with 2 Axes>"
    assert softmax_outputs[1]["data"]["text/plain"].startswith("VBox(children=(HBox(children=(FloatSlider(")
    assert [sorted(o["data"]) for o in trio_outputs] == [["image/png", "text/plain"]]
    all_text = json.dumps([[texts(o) for o in cell.outputs] for cell in first.cells])
    assert not re.search(r"0x[0-9a-fA-F]{4,}", all_text)
    assert all_text == json.dumps([[texts(o) for o in cell.outputs] for cell in second.cells])


def test_headless_slider_change_updates_the_displayed_figure(notebook_runs):
    for notebook in notebook_runs:
        untouched = notebook.cells[0].outputs[0]["data"]["image/png"]
        moved = notebook.cells[2].outputs[0]["data"]["image/png"]
        assert moved != untouched  # same explorer, z0 moved from 1.0 to 3.0 after display
        assert notebook.cells[3].outputs == []


def test_show_figures_inline_does_nothing_outside_a_kernel():
    import autils

    assert autils.show_figures_inline() is False  # pytest is no Jupyter kernel


def sanitized(text):
    """``text`` after the masks nbval applies (nbval_sanitize.cfg), as the README describes."""
    lines = (ROOT / "nbval_sanitize.cfg").read_text().splitlines()
    rules = [(lines[i][len("regex: "):], lines[i + 1][len("replace: "):])
             for i in range(len(lines) - 1) if lines[i].startswith("regex: ")]
    for pattern, replacement in rules:
        text = re.sub(pattern, replacement, text)
    return text


def output_texts(cell):
    """The cell's textual outputs, sanitized, consecutive stream chunks joined (how a stream is
    cut into messages depends on timing, as nbval knows: it joins them too)."""
    merged = []
    for output in cell.get("outputs", []):
        shown = texts(output)
        if merged and output["output_type"] == "stream" and merged[-1].get("name") == shown.get("name"):
            merged[-1] = {**merged[-1], "text": merged[-1]["text"] + shown["text"]}
        else:
            merged.append(shown)
    return [sanitized(json.dumps(shown, sort_keys=True)) for shown in merged]


def png_count(cells):
    return sum("image/png" in output.get("data", {}) for cell in cells for output in cell.get("outputs", []))


@pytest.fixture(scope="module")
def lab_run_in_hostile_environment():
    """The stored lab and a fresh run of it in a kernel started with HOSTILE_ENVIRONMENT, plus one
    cell at the end that reports what the kernel ended up using."""
    import nbformat
    from nbclient import NotebookClient

    stored = nbformat.read(LAB_PATH, as_version=4)
    fresh = nbformat.read(LAB_PATH, as_version=4)
    fresh.cells.append(nbformat.v4.new_code_cell(
        "import os\nimport matplotlib\n"
        "print(keras.backend.backend(), os.environ['TF_CPP_MIN_LOG_LEVEL'], "
        "os.environ['TF_ENABLE_ONEDNN_OPTS'], matplotlib.get_backend())"))
    # capture_fd_output=False, as under pytest and tools/refresh_outputs.py: C-level writes to the
    # process's stderr are not notebook outputs there either.
    client = NotebookClient(fresh, timeout=600, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(ROOT)}},
                            extra_arguments=["--IPKernelApp.capture_fd_output=False"])
    client.execute(env={**os.environ, **HOSTILE_ENVIRONMENT})
    return stored, fresh


@pytest.mark.acceptance  # a whole run of the lab
def test_lab_overrides_the_environment_it_depends_on(lab_run_in_hostile_environment):
    _, fresh = lab_run_in_hostile_environment
    report = "".join(output.get("text", "") for output in fresh.cells[-1].outputs)
    # The first cell forces these (it runs %matplotlib inline and sets the variables itself).
    keras_backend, log_level, onednn, mpl_backend = report.split()
    assert (keras_backend, log_level, onednn) == ("tensorflow", "3", "0"), report
    assert mpl_backend in ("inline", "module://matplotlib_inline.backend_inline"), report


@pytest.mark.acceptance  # a whole run of the lab
def test_lab_in_a_hostile_environment_stores_what_the_source_stores(lab_run_in_hostile_environment):
    stored, fresh = lab_run_in_hostile_environment
    for index, (before, after) in enumerate(zip(stored.cells, fresh.cells)):
        if before.cell_type != "code":
            continue
        problems = [o for o in after.outputs
                    if o["output_type"] == "error" or o.get("name") == "stderr"]
        assert not problems, f"cell {index}: {problems}"
        assert output_texts(after) == output_texts(before), f"cell {index}: {before.source[:60]}"
    assert png_count(fresh.cells) == png_count(stored.cells) >= 10
