"""Grade each exercise in the grader's own process, from the kernel probe's signed evidence.

The instructor's ``public_tests.py`` is imported here from the instructor's project (never from a
submission), under a private module name, and run on:

- a :class:`~instructor.softmax_replay.RecordedFunction` that replays the student's softmax calls
  recorded in the kernel (Exercise 1 and the optional challenge);
- the student's architecture, rebuilt from its Keras config and trained here with the lab's own
  settings (:mod:`instructor.retrain`; Exercise 2): weights made outside the notebook's training
  never reach the checks.

The hidden checks of :mod:`instructor.hidden_checks` then run on the same material. An exercise
passes when its public check and all its hidden checks pass.
"""
import contextlib
import importlib.util
import io
import os
import re
import threading

from instructor import CHECK_FUNCTIONS, EXERCISE_TITLES, OPTIONAL_EXERCISES, POINTS, PROJECT_ROOT
from instructor.spec import BY_ID, EXERCISES
from instructor import hidden_checks, retrain
from instructor.evidence import check_call_arguments
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


_warmed_up = threading.Event()


def warm_up():
    """Start, once per process, a background thread that imports Keras and trains the expected
    architecture (:func:`reference_config`): TensorFlow takes seconds to import and the training
    seconds more, and the grader does both while the kernel runs the notebook, instead of after.
    An honest model has that architecture, so its grading reuses the training
    (:func:`~instructor.retrain.train_once`)."""
    if not _warmed_up.is_set():
        _warmed_up.set()
        threading.Thread(target=_train_reference, name="warm-up", daemon=True).start()


def reference_config(keras):
    """The Keras config of the architecture Exercise 2 asks for (hidden_checks.EXPECTED_LAYERS)."""
    layers = [keras.layers.Dense(units, activation=activation)
              for units, activation in hidden_checks.EXPECTED_LAYERS]
    model = keras.Sequential([keras.Input(shape=(hidden_checks.EXPECTED_INPUT_SIZE,)), *layers])
    return keras.saving.serialize_keras_object(model)


def _train_reference():
    keras = _keras()
    config = reference_config(keras)
    X, y = instructor_module("autils").load_data()
    try:
        retrain.train_once(retrain.build(config, keras), config, keras, X, y)
    except retrain.ArchitectureError:  # a Keras that cannot train it fails the grading too
        pass


def run_public_check(check, *args):
    """Run one public check; returns (passed, message without colour codes).

    The check is asked for its Outcome instead of raising: the optional challenge's check never
    raises (so Run All goes on), and only its Outcome tells a failure from a pass.
    """
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            outcome = getattr(instructor_module("public_tests"), check)(*args, return_outcome=True)
    except Exception as error:  # the check itself stopped: report it, do not crash the grader
        return False, f"{check} stopped on {type(error).__name__}: {error}"
    return outcome.status == "passed", _ANSI.sub("", outcome.message).strip()


def grade_exercises(recorded, arrays, hidden_inputs, not_run_reason="", timings=None):
    """{exercise id: result} for the graded exercises and the optional challenge.

    Args:
      recorded: the kernel probe's evidence (dict), or None if none came back.
      arrays: the recorded arrays ({key: ndarray}).
      hidden_inputs: the hidden softmax inputs passed to the kernel, in order.
      not_run_reason: why the notebook did not run to the end, if it did not.
      timings: a dict that receives the retraining's seconds, if given.
    """
    results = {}
    if recorded is None or not_run_reason:
        reason = not_run_reason or "the grader could not read the notebook's results"
        for exercise in list(POINTS) + list(OPTIONAL_EXERCISES):
            results[exercise] = _result(exercise, False, f"not graded: {reason}")
        return results
    for exercise in EXERCISES:
        if exercise.kind == "softmax":
            hidden = None if exercise.optional else hidden_inputs
            results[exercise.id] = _grade_softmax(exercise.id, exercise.records[0], recorded,
                                                  arrays, hidden)
        elif exercise.kind == "model":
            results[exercise.id] = _grade_model(exercise.id, recorded, timings)
        else:
            results[exercise.id] = _result(exercise.id, False, "not graded by this grader")
    return results


def _result(exercise, passed, message, public="", hidden=()):
    points = POINTS.get(exercise, 0)
    return {"exercise": exercise, "title": EXERCISE_TITLES[exercise],
            "points": points if passed else 0, "max_points": points, "passed": passed,
            "message": message, "public_check": public, "hidden_failures": list(hidden)}


def _grade_softmax(exercise, function_name, recorded, arrays, hidden_inputs):
    info = recorded.get("softmax", {}).get(function_name, {})
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


def _grade_model(exercise, recorded, timings):
    info = recorded.get("model", {})
    check = CHECK_FUNCTIONS[exercise]
    if not info.get("defined"):
        return _result(exercise, False, "model is not defined after running the notebook")
    if "config" not in info:
        return _result(exercise, False, f"the architecture of model ({info.get('type')}) could "
                                        f"not be read: {info.get('config_error', 'unknown error')}")
    keras = _keras()
    autils = instructor_module("autils")
    X, y = autils.load_data()
    arguments = check_call_arguments(BY_ID[exercise])
    try:
        model = retrain.build(info["config"], keras)
        # The architecture first: a model the public check rejects is not worth training.
        public_passed, public_message = run_public_check(check, model, *arguments)
        if not public_passed:
            return _result(exercise, False, public_message, public_message)
        in_kernel = info.get("in_kernel_public_check", "")
        if not in_kernel.startswith("passed"):
            # The rebuilt model passes, the notebook's own did not: what a config cannot carry
            # (an activation's code, say) was wrong. The kernel's verdict can only cost marks.
            message = ("the model in the notebook fails the public check: "
                       + _ANSI.sub("", in_kernel))
            return _result(exercise, False, message, message)
        trained = retrain.train_once(model, info["config"], keras, X, y)
    except retrain.ArchitectureError as error:
        return _result(exercise, False, f"the grader could not retrain your architecture: {error}")
    if timings is not None:
        timings["retrain"] = 0.0 if trained.reused else trained.seconds
        timings["retrain_reused"] = trained.reused
    public_passed, public_message = run_public_check(check, model, *arguments)
    hidden = hidden_checks.check_model(model, keras, X, y) if public_passed else []
    passed = public_passed and not hidden
    message = public_message if not public_passed else ("; ".join(hidden) if hidden else public_message)
    return _result(exercise, passed, message, public_message, hidden)
