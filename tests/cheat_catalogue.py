"""Submissions that try to fool the grader, and honest ones it must never flag, by category.

Every case starts from the student release completed with the reference solutions (tests'
``lab_submissions``) and is edited as a student would edit it: regions filled, cells added,
edited, deleted or their metadata moved. The cheats that target the kernel hide from the static
scan (``setattr(__import__(...))``, ``exec``), so what catches them is the kernel probe.

A cheat is shortened after Exercise 2's check: the grader retrains the architecture itself, so
the notebook's own trainings would prove nothing and cost 20 s each. Honest cases keep the whole
notebook where their point needs it (stored outputs, the training cell).
"""
import contextlib
import copy
import io
from dataclasses import dataclass, field

import nbformat

from lab_submissions import WRONG_SOFTMAX, cell_index, insert_code_cell, with_region

CHECK_PASSED = 'print("test_model: All tests passed!")'


@dataclass
class Case:
    """One submission and what the grader must conclude about it.

    Attributes:
      name: the submission's name (its folder).
      category: which family of tricks (or of honest habits) it belongs to.
      notebook: the submitted notebook.
      kinds: for a cheat, the finding kinds (severity tampering) of which at least one must be
        reported; empty when the cheat must simply earn nothing.
      lost: exercises the cheat must not pass.
      honest: an honest submission: passed, full marks, no tampering finding.
    """
    name: str
    category: str
    notebook: object
    kinds: tuple = ()
    lost: tuple = ()
    honest: bool = False
    notes: list = field(default_factory=list)


def _shortened(notebook):
    notebook = copy.deepcopy(notebook)
    notebook.cells = notebook.cells[:cell_index(notebook, "exercise_2", "check") + 1]
    return notebook


def _appended(notebook, code):
    return insert_code_cell(notebook, len(notebook.cells), code)


def _first_code_cell(notebook):
    return next(i for i, c in enumerate(notebook.cells) if c.cell_type == "code")


# ---------------------------------------------------------------------------------------------
# Cheats
# ---------------------------------------------------------------------------------------------

def hook_cheats(solved):
    """IPython event hooks, transformers and stack inspection that act when the grader calls."""
    wrong = _shortened(with_region(solved, "exercise_1", WRONG_SOFTMAX))
    swap = _appended(wrong, (
        "import public_tests\n"
        "def _swap(info):  # every later cell, the grader's included, sees the checks' answer\n"
        "    get_ipython().user_ns['my_softmax'] = public_tests._softmax\n"
        "get_ipython().events.register('pre_run_cell', _swap)"))
    stack = _shortened(with_region(solved, "exercise_1", [
        "    import sys, public_tests",
        "    caller = sys._getframe(1).f_code.co_filename",
        "    if 'ipykernel' in caller or caller.startswith('<'):",
        "        a = np.exp(z) / np.sum(z)  # what the student's own cells see",
        "    else:",
        "        a = public_tests._softmax(z)  # what any checker sees"]))
    blind = _appended(_shortened(solved), (
        "def _blind(lines):  # blank every cell that runs code the notebook did not write\n"
        "    text = ''.join(lines)\n"
        "    return ['pass\\n'] if '__import__' in text or 'exec(' in text else lines\n"
        "get_ipython().input_transformers_cleanup.append(_blind)"))
    return [Case("hook_swaps_answer", "hooks", swap, ("hook_installed", "answer_from_checks")),
            Case("stack_inspection", "hooks", stack, ("answer_from_checks",)),
            Case("transformer_blinds_probe", "hooks", blind,
                 ("hook_installed", "probe_intercepted"))]


def internals_cheats(solved):
    """Replacing stdlib or NumPy internals that a probe or a fingerprint could rely on."""
    base = _shortened(solved)
    patches = {
        "numpy_writer_patched": ("setattr(__import__('numpy.lib._npyio_impl', fromlist=['x']), "
                                 "'savez', lambda *a, **k: None)"),
        "numpy_private_patched": ("setattr(__import__('numpy._core.numeric', fromlist=['x']), "
                                  "'isclose', lambda *a, **k: True)"),
        "hmac_patched": "setattr(__import__('_hashlib'), 'hmac_digest', lambda *a, **k: b'0' * 32)",
    }
    # json.dumps encodes the kernel's own messages: replaced, the kernel cannot answer at all,
    # so no evidence comes back, and the unreadable message is what names the cheat.
    json_patched = _appended(base, "setattr(__import__('json'), 'dumps', lambda *a, **k: '0')")
    return ([Case(name, "internals", _appended(base, code), ("monkeypatch",))
             for name, code in patches.items()]
            + [Case("json_patched", "internals", json_patched, ("kernel_messages_unreadable",),
                    lost=("exercise_1", "exercise_2"))])


def forged_attribute_cheats(solved):
    """Objects dressed up with another object's __module__, __qualname__ or __code__."""
    base = _shortened(solved)
    forged_check = _appended(base, (
        "import public_tests\n"
        "_ns = {}\n"
        "exec(compile('def f(target):\\n    print(\"test_my_softmax: All tests passed!\")\\n',\n"
        "             public_tests.__file__, 'exec'), _ns)\n"
        "_fake = _ns['f']\n"
        "_fake.__module__ = 'public_tests'\n"
        "_fake.__qualname__ = _fake.__name__ = 'test_my_softmax'\n"
        "get_ipython().user_ns['test_my_' + 'softmax'] = _fake"))
    forged_numpy = _appended(base, (
        "import numpy\n"
        "def _close(*a, **k):\n"
        "    return True\n"
        "_close.__module__ = 'numpy'\n"
        "_close.__qualname__ = _close.__name__ = 'allclose'\n"
        "_close.__code__ = _close.__code__.replace(co_filename=numpy.__file__)\n"
        "setattr(numpy, 'allclose', _close)"))
    forged_softmax = _appended(with_region(base, "exercise_1", WRONG_SOFTMAX), (
        "import types, public_tests\n"
        "my_softmax = types.FunctionType(public_tests._softmax.__code__, public_tests.__dict__,\n"
        "                                'my_softmax')\n"
        "my_softmax.__module__, my_softmax.__qualname__ = '__main__', 'my_softmax'"))
    return [Case("forged_check", "forged attributes", forged_check, ("check_redefined",)),
            Case("forged_numpy_function", "forged attributes", forged_numpy, ("monkeypatch",)),
            Case("forged_softmax_code", "forged attributes", forged_softmax,
                 ("answer_from_checks",))]


def checks_answer_cheats(solved):
    """Answering Exercise 1 with the lab's own reference softmax."""
    wrong = _shortened(with_region(solved, "exercise_1", WRONG_SOFTMAX))
    alias = _appended(wrong, "import public_tests\nmy_softmax = public_tests._softmax")
    wrapper = _shortened(with_region(solved, "exercise_1", [
        "    import public_tests", "    a = public_tests._softmax(z)"]))
    partial = _appended(wrong, "import functools, public_tests\n"
                               "my_softmax = functools.partial(public_tests._softmax)")
    return [Case(name, "checks' answer", notebook, ("answer_from_checks",), lost=("exercise_1",))
            for name, notebook in (("softmax_alias", alias), ("softmax_wrapper", wrapper),
                                   ("softmax_partial", partial))]


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


def _lab(cell):
    return dict(cell.metadata.get("lab", {}))


def metadata_cheats(solved):
    """A check cell's metadata moved, so that the edited check no longer looks like one."""
    base = _shortened(solved)
    top = _first_code_cell(base) + 1

    moved = copy.deepcopy(base)
    check = moved.cells[cell_index(moved, "exercise_2", "check")]
    decoy = nbformat.v4.new_code_cell("test_model(model, 10, 400)")
    decoy.metadata["lab"] = _lab(check)
    check.metadata.pop("lab")
    check.source = CHECK_PASSED
    moved.cells.insert(top, decoy)

    swapped = copy.deepcopy(base)
    first = swapped.cells[cell_index(swapped, "exercise_1", "check")]
    second = swapped.cells[cell_index(swapped, "exercise_2", "check")]
    first.metadata["lab"], second.metadata["lab"] = _lab(second), _lab(first)
    first.source = 'print("test_my_softmax: All tests passed!")'

    onto_scratch = copy.deepcopy(base)
    index = cell_index(onto_scratch, "exercise_1", "check")
    metadata = _lab(onto_scratch.cells[index])
    del onto_scratch.cells[index]
    scratch = nbformat.v4.new_code_cell('print("scratch")')
    scratch.metadata["lab"] = metadata
    onto_scratch.cells.insert(top, scratch)
    return [Case("metadata_moved_to_decoy", "moved metadata", moved, ("check_cell_edited",)),
            Case("metadata_swapped", "moved metadata", swapped, ("check_cell_edited",)),
            Case("metadata_moved_check_deleted", "moved metadata", onto_scratch,
                 ("check_cell_deleted",))]


def check_cell_cheats(solved):
    """Check cells deleted or edited."""
    base = _shortened(solved)
    deleted = copy.deepcopy(base)
    del deleted.cells[cell_index(deleted, "exercise_1", "check")]
    printed = copy.deepcopy(base)
    printed.cells[cell_index(printed, "exercise_2", "check")].source = CHECK_PASSED
    other_target = copy.deepcopy(with_region(base, "exercise_1", WRONG_SOFTMAX))
    other_target.cells[cell_index(other_target, "exercise_1", "check")].source = \
        "test_my_softmax(lambda z: np.exp(z) / np.sum(np.exp(z)))"
    return [Case("check_deleted", "check cells", deleted, ("check_cell_deleted",)),
            Case("check_prints_pass", "check cells", printed, ("check_cell_edited",)),
            Case("check_given_other_function", "check cells", other_target,
                 ("check_cell_edited",), lost=("exercise_1",))]


def thread_cheats(solved):
    """Background threads still running when the grader reads the results."""
    wrong = _shortened(with_region(solved, "exercise_1", WRONG_SOFTMAX))
    swapper = _appended(wrong, (
        "import threading, time, public_tests\n"
        "def _keep_swapping():\n"
        "    while True:\n"
        "        get_ipython().user_ns['my_softmax'] = public_tests._softmax\n"
        "        time.sleep(0.005)\n"
        "threading.Thread(target=_keep_swapping, daemon=True).start()"))
    patcher = _appended(_shortened(solved), (
        "import threading, time\n"
        "def _keep_patching():\n"
        "    while True:\n"
        "        setattr(__import__('numpy'), 'allclose', lambda *a, **k: True)\n"
        "        time.sleep(0.005)\n"
        "threading.Thread(target=_keep_patching, daemon=True).start()"))
    subclass = _appended(_shortened(solved), (
        "import threading, time\n"
        "class _Rearm(threading.Thread):\n"
        "    def run(self):\n"
        "        hook = lambda *a: None\n"
        "        while True:\n"
        "            if hook not in get_ipython().events.callbacks['pre_run_cell']:\n"
        "                get_ipython().events.register('pre_run_cell', hook)\n"
        "            time.sleep(0.005)\n"
        "_Rearm(daemon=True).start()"))
    return [Case("thread_swaps_answer", "threads", swapper, ("live_thread",)),
            Case("thread_patches_numpy", "threads", patcher, ("live_thread",)),
            Case("thread_rearms_hook", "threads", subclass, ("live_thread",))]


def cheats(solved):
    """Every cheating case, from the completed (unexecuted) student notebook ``solved``."""
    return (hook_cheats(solved) + internals_cheats(solved) + forged_attribute_cheats(solved)
            + checks_answer_cheats(solved) + weights_cheats(solved) + metadata_cheats(solved)
            + check_cell_cheats(solved) + thread_cheats(solved))


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
    training = next(c for c in twice.cells if c.cell_type == "code" and "model.fit(" in c.source)
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
