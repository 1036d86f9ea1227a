"""Grade each exercise in the grader's own process, from what the extract probe left behind.

The instructor's ``public_tests.py`` is imported here from the instructor's project (never from a
submission), under a private module name, and run on:

- a :class:`~instructor.softmax_replay.RecordedFunction` that replays the student's softmax calls
  recorded in the kernel (Exercise 1 and the optional challenge);
- the student's trained model, loaded from ``model.keras`` with Keras's safe mode (Exercise 2).

The hidden checks of :mod:`instructor.hidden_checks` then run on the same material. An exercise
passes when its public check and all its hidden checks pass.
"""
import contextlib
import importlib.util
import io
import os
import re
import threading

import numpy as np

from instructor import CHECK_FUNCTIONS, EXERCISE_TITLES, OPTIONAL_EXERCISES, POINTS, PROJECT_ROOT
from instructor import hidden_checks
from instructor.probes import MODEL_FILE
from instructor.softmax_replay import RecordedFunction, output_value

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_modules = {}


def instructor_module(name):
    """The instructor's copy of a helper module (public_tests, autils), loaded once per process
    from the project under a private name, so a module of the same name elsewhere never wins."""
    if name not in _modules:
        spec = importlib.util.spec_from_file_location(f"_instructor_{name}",
                                                      PROJECT_ROOT / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _modules[name] = module
    return _modules[name]


_keras_lock = threading.Lock()


def _keras():
    """Keras (and TensorFlow) in the grader's process, imported once."""
    with _keras_lock:  # a warm-up thread may be importing it right now
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # keep TensorFlow's start-up log quiet
        os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
        import keras
        return keras


def warm_up():
    """Start importing Keras in a background thread. TensorFlow takes seconds to import; the
    grader imports it while the kernel runs the notebook, instead of after."""
    threading.Thread(target=_keras, name="import-keras", daemon=True).start()


def run_public_check(check, *args):
    """Run one public check; returns (passed, message without colour codes)."""
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            getattr(instructor_module("public_tests"), check)(*args)
    except AssertionError as error:
        return False, _ANSI.sub("", str(error))
    except Exception as error:  # the check itself stopped: report it, do not crash the grader
        return False, f"{check} stopped on {type(error).__name__}: {error}"
    return True, _ANSI.sub("", printed.getvalue()).strip()


def grade_exercises(extract, arrays, private_dir, hidden_inputs, not_run_reason=""):
    """{exercise id: result} for the graded exercises and the optional challenge.

    Args:
      extract: the extract probe's report (dict), or None if the probe did not finish.
      arrays: the recorded arrays (records.npz as a dict).
      private_dir: the folder holding model.keras.
      hidden_inputs: the hidden softmax inputs passed to the kernel, in order.
      not_run_reason: why the notebook did not run to the end, if it did not.
    """
    results = {}
    if extract is None:
        reason = not_run_reason or "the grader could not read the notebook's results"
        for exercise in list(POINTS) + list(OPTIONAL_EXERCISES):
            results[exercise] = _result(exercise, False, f"not graded: {reason}")
        return results
    results["exercise_1"] = _grade_softmax("exercise_1", "my_softmax", extract, arrays, hidden_inputs)
    results["challenge_stable_softmax"] = _grade_softmax(
        "challenge_stable_softmax", "my_softmax_stable", extract, arrays, None)
    results["exercise_2"] = _grade_model(extract, private_dir)
    return results


def _result(exercise, passed, message, public="", hidden=()):
    points = POINTS.get(exercise, 0)
    return {"exercise": exercise, "title": EXERCISE_TITLES[exercise],
            "points": points if passed else 0, "max_points": points, "passed": passed,
            "message": message, "public_check": public, "hidden_failures": list(hidden)}


def _grade_softmax(exercise, function_name, extract, arrays, hidden_inputs):
    info = extract.get("softmax", {}).get(function_name, {})
    if not info.get("callable"):
        what = "is not defined" if not info.get("defined") else "is not a function"
        return _result(exercise, False, f"{function_name} {what} after running the notebook")
    replay = RecordedFunction(function_name, info.get("public_calls", []), arrays)
    public_passed, public_message = run_public_check(CHECK_FUNCTIONS[exercise], replay)
    if exercise in OPTIONAL_EXERCISES and "not attempted" in public_message:
        return _result(exercise, False, "not attempted", public_message)
    hidden = []
    if hidden_inputs is not None:
        calls = info.get("hidden_calls", [])
        hidden = (hidden_checks.check_softmax_calls(hidden_inputs, calls,
                                                    lambda call: output_value(call, arrays))
                  + hidden_checks.check_softmax_kept_input(calls, arrays))
    passed = public_passed and not hidden
    message = public_message if not public_passed else ("; ".join(hidden) if hidden else public_message)
    return _result(exercise, passed, message, public_message, hidden)


def _grade_model(extract, private_dir):
    info = extract.get("model", {})
    if not info.get("defined"):
        return _result("exercise_2", False, "model is not defined after running the notebook")
    if not info.get("saved"):  # without the file there is nothing to check here
        return _result("exercise_2", False, f"model ({info.get('type')}) could not be saved for "
                                            f"grading: {info.get('save_error', 'unknown error')}")
    keras = _keras()
    try:
        model = keras.models.load_model(private_dir / MODEL_FILE, compile=False, safe_mode=True)
    except Exception as error:
        return _result("exercise_2", False, f"the saved model could not be loaded safely "
                                            f"({type(error).__name__}: {str(error)[:200]}); only "
                                            f"standard Keras layers are accepted")
    public_passed, public_message = run_public_check("test_model", model, 10, 400)
    autils = instructor_module("autils")
    X, y = autils.load_data()
    hidden = hidden_checks.check_model(model, keras, X, y) if public_passed else []
    passed = public_passed and not hidden
    message = public_message if not public_passed else ("; ".join(hidden) if hidden else public_message)
    return _result("exercise_2", passed, message, public_message, hidden)


def load_arrays(path):
    """The recorded arrays, read without pickle (a submission cannot smuggle objects in)."""
    if not path.is_file():
        return {}
    with np.load(path, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}
