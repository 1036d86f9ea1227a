"""The checks say so when the exercise's own cell failed, in a real IPython shell.

Inside IPython, public_tests watches the exercise cells (recognised by their first line or their
START/END markers) and remembers whether their last run raised. A check then quotes that error
instead of judging what an earlier run left behind, and a check cell that names a variable the
failed cell never defined explains the NameError the same way. Outside IPython nothing of this
happens. These tests run cells through IPython's InteractiveShell, as a Jupyter kernel does.
"""
import subprocess
import sys
from pathlib import Path

import pytest
from IPython.core.interactiveshell import InteractiveShell

import public_tests as pt

ROOT = Path(__file__).resolve().parents[1]

EXERCISE_1 = '''# GRADED CELL: Exercise 1

def my_softmax(z):
    ### START CODE HERE ###
    {body}
    ### END CODE HERE ###
    return a
'''
CHALLENGE = EXERCISE_1.replace("# GRADED CELL: Exercise 1", "# OPTIONAL CHALLENGE: stable").replace(
    "my_softmax", "my_softmax_stable")
EXERCISE_2 = '''# GRADED CELL: Exercise 2

model = Sequential(
    [
        ### START CODE HERE ###
        keras.Input(shape={shape}),
        Dense(25, activation="relu"),
        Dense(15, activation="relu"),
        Dense(10, activation="linear"),
        ### END CODE HERE ###
    ],
)
'''
GOOD_SOFTMAX = "a = np.exp(z) / np.sum(np.exp(z))"


@pytest.fixture
def shell():
    """An IPython shell with the lab's names and a fresh watch of public_tests registered."""
    import keras
    import numpy as np

    ipython = InteractiveShell.instance()
    watch = pt._watch_exercise_cells(ipython)
    previous, pt._WATCH = pt._WATCH, watch
    ipython.user_ns.update(np=np, keras=keras, Sequential=keras.Sequential,
                           Dense=keras.layers.Dense, test_my_softmax=pt.test_my_softmax,
                           test_my_softmax_stable=pt.test_my_softmax_stable,
                           test_model=pt.test_model)
    for name in ("model", "my_softmax", "my_softmax_stable"):
        ipython.user_ns.pop(name, None)
    yield ipython
    pt._WATCH = previous
    for event in ("pre_run_cell", "post_run_cell"):
        for callback in list(ipython.events.callbacks[event]):
            if getattr(getattr(callback, "__self__", None), "_is_lab_cell_watch", False):
                ipython.events.unregister(event, callback)
    ipython.set_custom_exc((), None)


def _run(shell, source):
    return shell.run_cell(source, store_history=False)


def test_stale_model_after_a_failed_exercise_cell_gets_the_cells_error(shell, capsys):
    assert _run(shell, EXERCISE_2.format(shape="(400,)")).success
    assert _run(shell, "test_model(model, 10, 400)").success
    failed = _run(shell, EXERCISE_2.format(shape="(400)"))
    assert isinstance(failed.error_in_exec, ValueError)
    result = _run(shell, "test_model(model, 10, 400)")
    message = str(result.error_in_exec)
    assert isinstance(result.error_in_exec, AssertionError)
    assert message.startswith("test_model failed: your Exercise 2 cell stopped at the line "
                              "`keras.Input(shape=(400)),` with ValueError: Cannot convert '400' "
                              "to a shape. So `model`")
    assert "`model` may be left over from an earlier run" in message
    assert "shape=(400,), with the comma" in message
    capsys.readouterr()
    assert _run(shell, EXERCISE_2.format(shape="(400,)")).success  # fixed: the check judges again
    assert _run(shell, "test_model(model, 10, 400)").success
    assert "test_model: All tests passed!" in capsys.readouterr().out


def test_name_the_failed_cell_never_defined_is_explained_not_a_bare_name_error(shell, capsys):
    assert isinstance(_run(shell, EXERCISE_2.format(shape="(400)")).error_in_exec, ValueError)
    capsys.readouterr()
    result = _run(shell, "test_model(model, 10, 400)")
    shown = capsys.readouterr().out
    assert isinstance(result.error_in_exec, NameError)  # the cell still fails, as it must
    assert ("test_model failed: your Exercise 2 cell stopped at the line `keras.Input(shape=(400)),` "
            "with ValueError: Cannot convert '400' to a shape. So `model` is not defined.") in shown
    assert "Traceback" not in shown


def test_other_name_errors_show_as_usual(shell, capsys):
    assert isinstance(_run(shell, EXERCISE_2.format(shape="(400)")).error_in_exec, ValueError)
    capsys.readouterr()
    result = _run(shell, "print(modle)")
    shown = capsys.readouterr().out
    assert isinstance(result.error_in_exec, NameError)
    assert "name 'modle' is not defined" in shown and "test_model failed" not in shown


def test_syntax_error_in_exercise_1_is_quoted_by_its_check(shell):
    assert _run(shell, EXERCISE_1.format(body=GOOD_SOFTMAX)).success
    broken = _run(shell, EXERCISE_1.format(body="a = np.exp(z) / np.sum(np.exp(z)"))
    assert isinstance(broken.error_before_exec, SyntaxError)
    result = _run(shell, "test_my_softmax(my_softmax)")
    message = str(result.error_in_exec)
    assert message.startswith("test_my_softmax failed: your Exercise 1 cell stopped at the line "
                              "`a = np.exp(z) / np.sum(np.exp(z)` with SyntaxError")
    assert "`my_softmax` may be left over from an earlier run" in message


def test_failed_challenge_cell_is_reported_without_stopping_run_all(shell, capsys):
    assert _run(shell, CHALLENGE.format(body=GOOD_SOFTMAX)).success
    broken = CHALLENGE.format(body=GOOD_SOFTMAX) + "print(undefined)\n"
    assert isinstance(_run(shell, broken).error_in_exec, NameError)
    capsys.readouterr()
    result = _run(shell, "test_my_softmax_stable(my_softmax_stable)")
    assert result.success
    shown = capsys.readouterr().out
    assert shown.startswith("\033[91mtest_my_softmax_stable failed: your optional challenge cell "
                            "stopped at the line `print(undefined)` with NameError: name "
                            "'undefined' is not defined. So `my_softmax_stable` may be left over")
    outcome = pt.test_my_softmax_stable(shell.user_ns["my_softmax_stable"], return_outcome=True)
    assert outcome.status == "failed"  # the Outcome carries the same verdict


def test_a_cell_is_recognised_by_its_markers_without_the_header(shell):
    source = EXERCISE_1.format(body=GOOD_SOFTMAX).replace("# GRADED CELL: Exercise 1", "")
    assert _run(shell, source).success
    assert not _run(shell, source + "1 / 0\n").success
    message = str(_run(shell, "test_my_softmax(my_softmax)").error_in_exec)
    assert message.startswith("test_my_softmax failed: your exercise cell stopped at the line "
                              "`1 / 0` with ZeroDivisionError")


def test_a_failing_ordinary_cell_changes_nothing(shell, capsys):
    assert _run(shell, EXERCISE_1.format(body=GOOD_SOFTMAX)).success
    assert not _run(shell, "my_softmax = None\n1 / 0").success  # not an exercise cell
    assert _run(shell, EXERCISE_1.format(body=GOOD_SOFTMAX)).success
    assert _run(shell, "test_my_softmax(my_softmax)").success


def test_importing_again_replaces_the_watch_and_keeps_other_handlers(shell):
    def other_handler(self, etype, value, tb, tb_offset=None):
        return None

    pt._watch_exercise_cells(shell)
    ours = [c for c in shell.events.callbacks["post_run_cell"]
            if getattr(getattr(c, "__self__", None), "_is_lab_cell_watch", False)]
    assert len(ours) == 1
    shell.set_custom_exc((ValueError,), other_handler)
    pt._watch_exercise_cells(shell)
    assert shell.custom_exceptions == (ValueError,)  # never displaces another tool's handler


def test_outside_ipython_public_tests_watches_nothing():
    code = ("import sys, public_tests; "
            "print(public_tests._WATCH, 'IPython' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, check=True)
    assert result.stdout.split() == ["None", "False"]
