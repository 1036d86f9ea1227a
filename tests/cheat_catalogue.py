"""Submissions that try to fool the grader, and honest ones it must never flag, by category.

Every case starts from the student release completed with the reference solutions (tests'
``lab_submissions``) and is edited as a student would edit it: regions filled, cells added,
edited, deleted or their metadata moved.

What the grader must conclude follows from its design (README, "What a mark means"): marks come
from the values the student's functions return on the grader's inputs and from the architecture
the model reports, judged in the grader's process; findings describe, and never decide. So:

- a cheat that keeps a wrong answer must earn nothing for that exercise, whatever its process
  does (``lost``); the findings it should leave (``kinds``, at least one) are named where the
  static reading can see the trick;
- a copied reference (the checks' own softmax, however disguised) computes the right values:
  it earns the marks, and is named for the instructor (``kinds``) where it is visible;
- honest work gets full marks and is never flagged (no finding of severity tampering).

A case is shortened after Exercise 2's check: the grader retrains the architecture itself, so
the notebook's own trainings would prove nothing and cost 20 s each. Honest cases keep the whole
notebook where their point needs it (stored outputs, the training cell).
"""
import contextlib
import copy
import io
from dataclasses import dataclass

import nbformat

from lab_submissions import WRONG_MODEL, WRONG_SOFTMAX, cell_index, insert_code_cell, with_region

CHECK_PASSED = 'print("test_model: All tests passed!")'
GRADER_MIME = "application/vnd.lab-grader.value+json"  # the public code of the grader's calls
# What a forger without a softmax can answer: a uniform "probability" vector, which sums to 1.
UNIFORM = "lambda z, *a, **k: np.ones_like(np.asarray(z, dtype=float)) / np.size(z)"


@dataclass
class Case:
    """One submission and what the grader must conclude about it.

    Attributes:
      name: the submission's name (its folder).
      category: which family of tricks (or of honest habits) it belongs to.
      notebook: the submitted notebook.
      kinds: finding kinds of which at least one must be reported (any severity).
      lost: exercises that must not pass.
      earns: exercises that must pass (a copied reference computes the right values).
      honest: an honest submission: passed, full marks, not flagged.
      refused: words the record's ``refused`` or first error must contain (the grader's limits).
    """
    name: str
    category: str
    notebook: object
    kinds: tuple = ()
    lost: tuple = ()
    earns: tuple = ()
    honest: bool = False
    refused: str = ""


def _shortened(notebook):
    notebook = copy.deepcopy(notebook)
    notebook.cells = notebook.cells[:cell_index(notebook, "exercise_2", "check") + 1]
    return notebook


def _appended(notebook, code):
    return insert_code_cell(notebook, len(notebook.cells), code)


def _first_code_cell(notebook):
    return next(i for i, c in enumerate(notebook.cells) if c.cell_type == "code")


def _wrong(solved):
    """Shortened, with the wrong softmax: what every forgery of Exercise 1 starts from."""
    return _shortened(with_region(solved, "exercise_1", WRONG_SOFTMAX))


def _before_checks(notebook, code):
    """``code`` in a new cell just before Exercise 1's check cell (after the imports and the
    solution): it then acts on the check cells and on the grader's calls after them."""
    return insert_code_cell(notebook, cell_index(notebook, "exercise_1", "check"), code)


# ---------------------------------------------------------------------------------------------
# Cheats that keep a wrong answer: they must earn nothing for it
# ---------------------------------------------------------------------------------------------

def hook_cheats(solved):
    """IPython hooks, input transformers and audit hooks that act when the grader's cells run."""
    fake_answer = _before_checks(_wrong(solved), (
        "from IPython.display import display\n"
        "_one = {'kind': 'ndarray', 'dtype': '<f8', 'shape': [1],\n"
        "        'hex': np.float64(1.0).tobytes().hex()}\n"
        "def _answer(result):  # a second answer, in the grader's format, after every cell\n"
        f"    display({{{GRADER_MIME!r}: {{'returned': _one, 'after': []}}}}, raw=True)\n"
        "get_ipython().events.register('post_run_cell', _answer)"))
    blind = _before_checks(_wrong(solved), (
        "def _blind(lines):  # blank every cell of the grader's\n"
        "    return ['pass\\n'] if '__lab_grader' in ''.join(lines) else lines\n"
        "get_ipython().input_transformers_cleanup.append(_blind)"))
    rebind = _before_checks(_wrong(solved), (
        "def _rebind(info):  # before each cell, the answer becomes a uniform vector\n"
        f"    get_ipython().user_ns['my_softmax'] = {UNIFORM}\n"
        "get_ipython().events.register('pre_run_cell', _rebind)"))
    audit = _before_checks(_wrong(solved), (
        "import sys\n"
        "def _audit(event, args):  # sees every compile, the grader's cells' included\n"
        "    if event == 'compile' and args and '__lab_grader' in str(args[0])[:5000]:\n"
        f"        get_ipython().user_ns['my_softmax'] = {UNIFORM}\n"
        "sys.addaudithook(_audit)"))
    return [Case("hook_displays_fake_answer", "hooks", fake_answer, ("hook_installed",),
                 lost=("exercise_1",)),
            Case("transformer_blinds_grader", "hooks", blind, ("hook_installed",),
                 lost=("exercise_1", "exercise_2")),
            Case("hook_rebinds_answer", "hooks", rebind, ("hook_installed",), lost=("exercise_1",)),
            Case("audit_hook_rebinds_answer", "hooks", audit, ("hook_installed",),
                 lost=("exercise_1",))]


def introspection_cheats(solved):
    """Walks through the kernel's state for the grader's expected values or secrets: the
    garbage collector's objects, stack frames, IPython's history and line cache."""
    gc_walk = _shortened(with_region(solved, "exercise_1", [
        "    import gc",
        "    found = None",
        "    for obj in gc.get_objects():  # the grader's expected values, if they were here",
        "        if isinstance(obj, dict) and found is None:",
        "            for key in ('expected', 'wanted', 'secret', 'hidden'):",
        "                if key in obj and isinstance(obj[key], np.ndarray):",
        "                    found = obj[key]",
        "    a = found if found is not None else np.exp(z) / np.sum(z)"]))
    frames = _shortened(with_region(solved, "exercise_1", [
        "    import sys",
        "    frame, a = sys._getframe(1), None",
        "    while frame is not None and a is None:",
        "        a = frame.f_locals.get('expected', frame.f_locals.get('wanted'))",
        "        frame = frame.f_back",
        "    a = np.exp(z) / np.sum(z) if a is None else a"]))
    history = _shortened(with_region(solved, "exercise_1", [
        "    import linecache, re",
        "    text = ' '.join(''.join(lines) for _, _, lines, _ in linecache.cache.values())",
        "    text += ' '.join(get_ipython().user_ns.get('In', []))",
        "    found = re.findall(r'expected = (\\[[^\\]]*\\])', text)",
        "    a = np.array(eval(found[-1])) if found else np.exp(z) / np.sum(z)"]))
    return [Case("gc_search", "introspection", gc_walk, ("introspection",), lost=("exercise_1",)),
            Case("frame_walk", "introspection", frames, ("introspection",), lost=("exercise_1",)),
            Case("history_search", "introspection", history, lost=("exercise_1",))]


def thread_cheats(solved):
    """Threads still running while the grader calls: one the threading module does not list,
    one that keeps NumPy patched so the kernel's own check passes, one that keeps a hook armed."""
    hidden_thread = _before_checks(_wrong(solved), (
        "import _thread, time\n"
        "def _keep_rebinding():\n"
        "    while True:\n"
        f"        get_ipython().user_ns['my_softmax'] = {UNIFORM}\n"
        "        time.sleep(0.005)\n"
        "_thread.start_new_thread(_keep_rebinding, ())"))
    patcher = _before_checks(_wrong(solved), (
        "import threading, time\n"
        "def _keep_patching():\n"
        "    while True:\n"
        "        setattr(__import__('numpy'), 'allclose', lambda *a, **k: True)\n"
        "        time.sleep(0.005)\n"
        "threading.Thread(target=_keep_patching, daemon=True).start()"))
    rearm = _before_checks(_wrong(solved), (
        "import threading, time\n"
        "def _blind(lines):\n"
        "    return ['pass\\n'] if '__lab_grader' in ''.join(lines) else lines\n"
        "class _Rearm(threading.Thread):\n"
        "    def run(self):\n"
        "        hooks = get_ipython().input_transformers_cleanup\n"
        "        while True:\n"
        "            if _blind not in hooks:\n"
        "                hooks.append(_blind)\n"
        "            time.sleep(0.005)\n"
        "_Rearm(daemon=True).start()"))
    return [Case("thread_unlisted_rebinds", "threads", hidden_thread, ("thread_started",),
                 lost=("exercise_1",)),
            Case("thread_patches_numpy", "threads", patcher, ("monkeypatch",), lost=("exercise_1",)),
            Case("thread_rearms_transformer", "threads", rearm, ("hook_installed",),
                 lost=("exercise_1", "exercise_2"))]


def internals_cheats(solved):
    """Library internals replaced so that the kernel's own check cell passes a wrong answer."""
    patches = {
        "numpy_isclose_patched": ("setattr(__import__('numpy._core.numeric', fromlist=['x']), "
                                  "'isclose', lambda *a, **k: True)"),
        "numpy_allclose_patched": "np.allclose = lambda *a, **k: True",
        "public_tests_patched": ("import public_tests\n"
                                 "public_tests.softmax_output_problem = lambda *a, **k: None"),
    }
    cases = [Case(name, "internals", _before_checks(_wrong(solved), code), ("monkeypatch",),
                  lost=("exercise_1",)) for name, code in patches.items()]
    # json.dumps encodes the kernel's own messages: replaced, the kernel cannot answer at all.
    json_patched = _before_checks(_wrong(solved),
                                  "setattr(__import__('json'), 'dumps', lambda *a, **k: '0')")
    return cases + [Case("json_patched", "internals", json_patched, ("kernel_messages_unreadable",),
                         lost=("exercise_1", "exercise_2"))]


def forged_attribute_cheats(solved):
    """Objects dressed up with another object's __module__, __qualname__ or __code__."""
    forged_check = _before_checks(_wrong(solved), (
        "import public_tests\n"
        "_ns = {}\n"
        "exec(compile('def f(target, **k):\\n    print(\"test_my_softmax: All tests passed!\")\\n',\n"
        "             public_tests.__file__, 'exec'), _ns)\n"
        "_fake = _ns['f']\n"
        "_fake.__module__ = 'public_tests'\n"
        "_fake.__qualname__ = _fake.__name__ = 'test_my_softmax'\n"
        "get_ipython().user_ns['test_my_' + 'softmax'] = _fake"))
    forged_numpy = _before_checks(_wrong(solved), (
        "import numpy\n"
        "def _close(*a, **k):\n"
        "    return True\n"
        "_close.__module__ = 'numpy'\n"
        "_close.__qualname__ = _close.__name__ = 'allclose'\n"
        "_close.__code__ = _close.__code__.replace(co_filename=numpy.__file__)\n"
        "setattr(numpy, 'allclose', _close)"))
    forged_answer = _before_checks(_wrong(solved), (
        "import public_tests\n"
        f"_uniform = {UNIFORM}\n"
        "_uniform.__module__, _uniform.__qualname__ = 'public_tests', '_softmax'\n"
        "_uniform.__code__ = _uniform.__code__.replace(co_filename=public_tests.__file__)\n"
        "my_softmax = _uniform"))
    return [Case("forged_check", "forged attributes", forged_check, ("suspicious_call",),
                 lost=("exercise_1",)),
            Case("forged_numpy_function", "forged attributes", forged_numpy, ("monkeypatch",),
                 lost=("exercise_1",)),
            Case("forged_answer_names", "forged attributes", forged_answer, lost=("exercise_1",))]


# A donor network trained in a scratch cell; its weights then replace the graded model's.
_DONOR = (
    "keras.utils.set_random_seed(1234)\n"
    "_donor = Sequential([keras.Input(shape=(400,)), Dense(25, activation='relu'),\n"
    "                     Dense(15, activation='relu'), Dense(10)])\n"
    "_donor.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),\n"
    "               optimizer=keras.optimizers.Adam(learning_rate=0.001),\n"
    "               steps_per_execution=157)\n"
    "_donor.fit(X, y, epochs=20, verbose=0)\n"
    "model.set_weights(_donor.get_weights())")


def weights_cheats(solved):
    """Architectures that cannot learn, given weights set by hand (not learned by them)."""
    def variant(layers):
        return _appended(_shortened(with_region(solved, "exercise_2", layers)), _DONOR)

    frozen = variant(["        keras.Input(shape=(400,)),",
                      '        Dense(25, activation="relu", name="L1", trainable=False),',
                      '        Dense(15, activation="relu", name="L2", trainable=False),',
                      '        Dense(10, activation="linear", name="L3", trainable=False),'])
    zeros = variant(["        keras.Input(shape=(400,)),",
                     '        Dense(25, activation="relu", name="L1", kernel_initializer="zeros"),',
                     '        Dense(15, activation="relu", name="L2", kernel_initializer="zeros"),',
                     '        Dense(10, activation="linear", name="L3",',
                     '              kernel_initializer="zeros"),'])
    dead_output = variant(["        keras.Input(shape=(400,)),",
                           '        Dense(25, activation="relu", name="L1"),',
                           '        Dense(15, activation="relu", name="L2"),',
                           '        Dense(10, activation="linear", name="L3", trainable=False,',
                           '              kernel_initializer="zeros"),'])
    return [Case(name, "substituted weights", notebook, lost=("exercise_2",))
            for name, notebook in (("weights_frozen_layers", frozen),
                                   ("weights_zero_initialised", zeros),
                                   ("weights_frozen_output", dead_output))]


def disguised_model_cheats(solved):
    """Models that compute something other than their saved config says (the red team's): an
    output activation of one's own named "linear", a layer class of one's own named Dense, and
    hidden layers resized after they were built. Each config alone describes the right model."""
    def with_model(cell_before, region, cell_after=""):
        notebook = with_region(solved, "exercise_2", region)
        index = cell_index(notebook, "exercise_2", "solution")
        if cell_after:
            notebook.cells[index].source += "\n" + cell_after
        return _shortened(insert_code_cell(notebook, index, cell_before) if cell_before
                          else notebook)

    named_linear = with_model(
        "def linear(x):  # my output activation\n"
        "    return keras.ops.softmax(x) if x.shape[-1] == 10 else x",
        ["        keras.Input(shape=(400,)),",
         '        Dense(25, activation="relu", name="L1"),',
         '        Dense(15, activation="relu", name="L2"),',
         '        Dense(10, activation=linear, name="L3"),'])
    layer_class = with_model(
        "class _SoftDense(Dense):\n"
        "    def call(self, inputs):\n"
        "        return keras.ops.softmax(super().call(inputs))\n"
        "_SoftDense.__name__ = _SoftDense.__qualname__ = 'Dense'\n"
        "_SoftDense.__module__ = 'keras.layers'",
        ["        keras.Input(shape=(400,)),",
         '        Dense(25, activation="relu", name="L1"),',
         '        Dense(15, activation="relu", name="L2"),',
         '        _SoftDense(10, activation="linear", name="L3"),'])
    resized = with_model(
        "", ["        keras.Input(shape=(400,)),",
             '        Dense(30, activation="relu", name="L1"),',
             '        Dense(20, activation="relu", name="L2"),',
             '        Dense(10, activation="linear", name="L3"),'],
        "for _layer, _name, _value in ((model.layers[0], 'units', 25), (model.layers[1], 'units', 15),\n"
        "        (model.layers[1], '_build_shapes_dict', {'input_shape': (None, 25)}),\n"
        "        (model.layers[2], '_build_shapes_dict', {'input_shape': (None, 15)})):\n"
        "    setattr(_layer, _name, _value)")
    return [Case("model_linear_named_softmax", "disguised models", named_linear,
                 lost=("exercise_2",)),
            Case("model_layer_class_named_dense", "disguised models", layer_class,
                 lost=("exercise_2",)),
            Case("model_resized_after_building", "disguised models", resized,
                 lost=("exercise_2",))]


def _lab(cell):
    return dict(cell.metadata.get("lab", {}))


def metadata_cheats(solved):
    """A check cell's metadata moved, so that the edited check no longer looks like one."""
    base = _shortened(with_region(solved, "exercise_2", WRONG_MODEL))
    top = _first_code_cell(base) + 1

    moved = copy.deepcopy(base)
    check = moved.cells[cell_index(moved, "exercise_2", "check")]
    decoy = nbformat.v4.new_code_cell("test_model(model, 10, 400)")
    decoy.metadata["lab"] = _lab(check)
    check.metadata.pop("lab")
    check.source = CHECK_PASSED
    moved.cells.insert(top, decoy)

    swapped = copy.deepcopy(_wrong(solved))
    first = swapped.cells[cell_index(swapped, "exercise_1", "check")]
    second = swapped.cells[cell_index(swapped, "exercise_2", "check")]
    first.metadata["lab"], second.metadata["lab"] = _lab(second), _lab(first)
    first.source = 'print("test_my_softmax: All tests passed!")'

    onto_scratch = _wrong(solved)
    index = cell_index(onto_scratch, "exercise_1", "check")
    metadata = _lab(onto_scratch.cells[index])
    del onto_scratch.cells[index]
    scratch = nbformat.v4.new_code_cell('print("scratch")')
    scratch.metadata["lab"] = metadata
    onto_scratch.cells.insert(top, scratch)
    return [Case("metadata_moved_to_decoy", "moved metadata", moved, ("check_cell_edited",),
                 lost=("exercise_2",)),
            Case("metadata_swapped", "moved metadata", swapped, ("check_cell_edited",),
                 lost=("exercise_1",)),
            Case("metadata_moved_check_deleted", "moved metadata", onto_scratch,
                 ("check_cell_deleted", "check_cell_moved"), lost=("exercise_1",))]


def check_cell_cheats(solved):
    """Check cells deleted or edited, over wrong answers."""
    deleted = _wrong(solved)
    del deleted.cells[cell_index(deleted, "exercise_1", "check")]
    printed = _shortened(with_region(solved, "exercise_2", WRONG_MODEL))
    printed.cells[cell_index(printed, "exercise_2", "check")].source = CHECK_PASSED
    other_target = _wrong(solved)
    other_target.cells[cell_index(other_target, "exercise_1", "check")].source = \
        "test_my_softmax(lambda z: np.exp(z) / np.sum(np.exp(z)))"
    return [Case("check_deleted", "check cells", deleted, ("check_cell_deleted",),
                 lost=("exercise_1",)),
            Case("check_prints_pass", "check cells", printed, ("check_cell_edited",),
                 lost=("exercise_2",)),
            Case("check_given_other_function", "check cells", other_target,
                 ("check_cell_edited",), lost=("exercise_1",))]


def interference_cheats(solved):
    """Answers the grader's calls cannot get: the display replaced, a call that never returns,
    a call that ends the kernel. None may stop the grading of the rest."""
    no_display = _before_checks(_wrong(solved), (
        "import IPython.display\n"
        "IPython.display.display = lambda *args, **kwargs: None"))
    # The grader's calls are public code: a function can tell when it is the caller.
    sleeps = _shortened(with_region(solved, "exercise_1", [
        "    import inspect, time",
        "    if any('__lab_grader' in frame.function for frame in inspect.stack()):",
        "        time.sleep(10_000)  # only when the grader calls",
        "    a = np.exp(z) / np.sum(z)"]))
    exits = _shortened(with_region(solved, "exercise_1", [
        "    import inspect, os",
        "    if any('__lab_grader' in frame.function for frame in inspect.stack()):",
        "        os._exit(0)  # only when the grader calls",
        "    a = np.exp(z) / np.sum(z)"]))
    return [Case("display_replaced", "interference", no_display, ("grader_call_interfered",),
                 lost=("exercise_1", "exercise_2")),
            Case("call_never_returns", "interference", sleeps, lost=("exercise_1",)),
            Case("call_ends_kernel", "interference", exits, lost=("exercise_1",))]


def limit_cheats(solved):
    """Files and answers built to stall or exhaust the grader's own process: each must end in a
    record that says what was refused, within the grader's limits."""
    huge = _shortened(with_region(solved, "exercise_2", [
        "        keras.Input(shape=(400,)),",
        '        Dense(1_500_000, activation="relu", name="L1"),',
        '        Dense(15, activation="relu", name="L2"),',
        '        Dense(10, activation="linear", name="L3"),']))
    long_line = _shortened(solved)
    first = long_line.cells[_first_code_cell(long_line)]
    first.outputs = [nbformat.v4.new_output("stream", name="stdout",
                                            text="/site-packages" + "x" * 400_000 + "\n")]
    first.execution_count = 1
    many = _shortened(solved)
    many.cells += [nbformat.v4.new_code_cell("pass") for _ in range(600)]
    return [Case("layer_of_a_million_units", "grader limits", huge, lost=("exercise_2",)),
            Case("output_line_of_400k_characters", "grader limits", long_line,
                 ("outputs_edited", "outputs_not_compared")),
            Case("six_hundred_cells", "grader limits", many, lost=("exercise_1", "exercise_2"),
                 refused="the grader reads at most 500")]


def cheats(solved):
    """Every case whose answer is wrong, from the completed (unexecuted) notebook ``solved``."""
    return (hook_cheats(solved) + introspection_cheats(solved) + thread_cheats(solved)
            + internals_cheats(solved) + forged_attribute_cheats(solved) + weights_cheats(solved)
            + disguised_model_cheats(solved)
            + metadata_cheats(solved) + check_cell_cheats(solved) + interference_cheats(solved)
            + limit_cheats(solved))


# ---------------------------------------------------------------------------------------------
# Copied references: right values, named for the instructor
# ---------------------------------------------------------------------------------------------

def copied_references(solved):
    """Exercise 1 answered with the checks' own reference softmax: alias, wrapper, partial, a
    clone of its code object. The values are right, so the marks are earned; the README says
    why the grader cannot tell them from the student's own (and the finding names them)."""
    wrong = _wrong(solved)
    alias = _before_checks(wrong, "import public_tests\nmy_softmax = public_tests._softmax")
    wrapper = _shortened(with_region(solved, "exercise_1", [
        "    import public_tests", "    a = public_tests._softmax(z)"]))
    partial = _before_checks(wrong, "import functools, public_tests\n"
                                    "my_softmax = functools.partial(public_tests._softmax)")
    clone = _before_checks(wrong, "import types, public_tests\n"
                                  "my_softmax = types.FunctionType(public_tests._softmax.__code__,\n"
                                  "                                public_tests.__dict__, 'my_softmax')")
    return [Case(name, "copied reference", notebook, ("answer_uses_checks",), earns=("exercise_1",))
            for name, notebook in (("softmax_alias", alias), ("softmax_wrapper", wrapper),
                                   ("softmax_partial", partial), ("softmax_code_clone", clone))]


# ---------------------------------------------------------------------------------------------
# Honest work
# ---------------------------------------------------------------------------------------------

SCRATCH = ("import os\nimport numpy as np\n"
           "print(np.random.default_rng().random(3))  # different at every run\n"
           "print(os.getcwd())")
# What the training cell printed when an honest student ran it a second time before saving:
# the model goes on from where the first run left it (measured once with the lab's settings).
TRAINED_TWICE_OUTPUT = ("epoch  1: loss 0.0283\nepoch 10: loss 0.0115\nepoch 20: loss 0.0040\n"
                        "epoch 30: loss 0.0015\nepoch 40: loss 0.0006\n")


def _run_here(code):
    """What ``code`` prints when run now, in this process: a real run's output."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code, "<scratch>", "exec"), {})
    return printed.getvalue()


def _last_count(notebook):
    return max(c.get("execution_count") or 0 for c in notebook.cells if c.cell_type == "code")


def honest_executed(executed):
    """Honest submissions that carry stored outputs, from the executed solution ``executed``."""
    solution = copy.deepcopy(executed)
    scratch = insert_code_cell(executed, cell_index(executed, "exercise_2", "solution"), SCRATCH)
    cell = scratch.cells[cell_index(executed, "exercise_2", "solution")]
    cell.execution_count = _last_count(executed) + 1
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=_run_here(SCRATCH))]
    twice = copy.deepcopy(executed)
    training = next(c for c in twice.cells if c.cell_type == "code" and "fit_model(" in c.source)
    training.execution_count = _last_count(twice) + 1
    training.outputs = [nbformat.v4.new_output("stream", name="stdout", text=TRAINED_TWICE_OUTPUT)]
    return [Case("honest_solution", "honest", solution, honest=True),
            Case("honest_scratch_cell", "honest", scratch, honest=True),
            Case("honest_trained_twice", "honest", twice, honest=True)]


def honest_unexecuted(solved):
    """Honest submissions handed in without outputs."""
    relu_layers = _shortened(with_region(solved, "exercise_2", [
        "        keras.Input(shape=(400,)),",
        '        Dense(25, activation=keras.layers.ReLU(), name="L1"),',
        '        Dense(15, activation=keras.layers.ReLU(), name="L2"),',
        '        Dense(10, activation="linear", name="L3"),']))
    check_with_extra_line = _shortened(solved)
    check = check_with_extra_line.cells[cell_index(check_with_extra_line, "exercise_1", "check")]
    check.source = "print(my_softmax(np.array([1.0, 2.0])))\n" + check.source
    copied_check = copy.deepcopy(_shortened(solved))
    source_cell = copied_check.cells[cell_index(copied_check, "exercise_1", "check")]
    pasted = copy.deepcopy(source_cell)  # copy and paste keeps the metadata, not the id
    pasted.id = nbformat.v4.new_code_cell().id
    pasted.source = "my_softmax(np.array([3.0, 1.0]))"
    copied_check.cells.insert(len(copied_check.cells), pasted)
    return [Case("honest_relu_layer_objects", "honest", relu_layers, honest=True),
            Case("honest_check_with_extra_line", "honest", check_with_extra_line, honest=True),
            Case("honest_copied_check_cell", "honest", copied_check, honest=True)]


def honest_habits(solved):
    """Habits that use the same machinery as the cheats, for honest reasons: a progress thread
    left running, a timing magic and a look at the function's signature, the garbage
    collector asked for memory back."""
    progress = _appended(_shortened(solved), (
        "import threading, time\n"
        "def _progress():  # a progress indicator a student forgot to stop\n"
        "    while True:\n"
        "        time.sleep(0.5)\n"
        "threading.Thread(target=_progress, daemon=True).start()"))
    timing = _appended(_shortened(solved), (
        "import inspect\n"
        "print(inspect.signature(my_softmax))\n"
        "%timeit my_softmax(np.array([1.0, 2.0, 3.0]))"))
    memory = _appended(_shortened(solved), "import gc\nprint(gc.collect() >= 0)")
    return [Case("honest_progress_thread", "honest habits", progress, honest=True),
            Case("honest_timing_and_signature", "honest habits", timing, honest=True),
            Case("honest_garbage_collection", "honest habits", memory, honest=True)]
