"""Each exercise judged in the grader's own process, from values the student's kernel returned.

The instructor's ``public_tests.py`` is loaded here from the instructor's project (never from a
submission), under a private name, and run in this process:

- on a :class:`~instructor.grading.values.RemoteFunction` for a function exercise: every call the
  check makes runs the student's function in the kernel on the check's own input, and the check
  judges what came back; then the hidden checks (:mod:`instructor.grading.hidden_checks`) do the
  same on inputs drawn for this submission from the grading run's secret;
- on the student's architecture for the model: the config the kernel reported, rebuilt with
  Keras's classes only and retrained here with the lab's settings (:mod:`instructor.grading.retrain`),
  so weights made outside the notebook's training never reach the checks.

An exercise passes when its public check and all its hidden checks pass, and its check cell ran
without an error in the grader's own run of the notebook (what the student saw in a Run All:
a check cell that failed there cannot be a pass here).
"""
import contextlib
import io
import os
import re
import threading
import time

import numpy as np

from instructor.grading import hidden_checks, retrain
from instructor.grading.record import ExerciseResult, not_graded  # noqa: F401  (re-exported)
from instructor.grading.values import ChannelError, RemoteFunction, read_model
from instructor.lab import spec
from instructor.lab.files import instructor_module

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_keras_lock = threading.Lock()


def keras():
    """Keras (and TensorFlow) in the grader's process, imported once."""
    with _keras_lock:  # a warm-up thread may be importing it right now
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # keep TensorFlow's start-up log quiet
        os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
        import keras as module
        return module


_warmed_up = threading.Event()


def warm_up():
    """Start, once per process, a background thread that imports Keras and trains the expected
    architecture (:func:`reference_config`): TensorFlow takes seconds to import and the training
    seconds more, and the grader does both while the kernel runs the notebook, instead of
    after. An honest model has that architecture, so its grading reuses the training
    (:func:`~instructor.grading.retrain.train_once`)."""
    if not _warmed_up.is_set():
        _warmed_up.set()
        threading.Thread(target=_train_reference, name="warm-up", daemon=True).start()


def reference_config(module):
    """The Keras config of the architecture Exercise 2 asks for (hidden_checks.EXPECTED_LAYERS)."""
    layers = [module.layers.Dense(units, activation=activation)
              for units, activation in hidden_checks.EXPECTED_LAYERS]
    model = module.Sequential([module.Input(shape=(hidden_checks.EXPECTED_INPUT_SIZE,)), *layers])
    return module.saving.serialize_keras_object(model)


def _train_reference():
    module = keras()
    config = reference_config(module)
    X, y = instructor_module("autils").load_data()
    try:
        retrain.train_once(retrain.build(config, module), config, module, X, y)
    except retrain.ArchitectureError:  # a Keras that cannot train it fails the grading too
        pass


def run_public_check(check, *args):
    """Run one public check in this process; returns (status, message without colour codes),
    status "passed", "failed" or "not attempted" (the check's Outcome: the optional challenges'
    checks never raise, and only the Outcome tells their failure from a pass).

    Raises:
      ChannelError: the kernel stopped answering while the check called the student's function.
    """
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            outcome = getattr(instructor_module("public_tests"), check)(*args, return_outcome=True)
    except ChannelError:
        raise
    except Exception as error:  # the check itself stopped: report it, do not crash the grader
        return "failed", f"{check} stopped on {type(error).__name__}: {error}"
    return outcome.status, _ANSI.sub("", outcome.message).strip()


def check_cell_problem(check_cell):
    """Why an exercise cannot pass because of its check cell in the grader's run, or "".

    ``check_cell``: (status, error) of the check cell's CellResult, or None when the run had no
    such cell (it never does: the grader puts the instructor's check cells back).
    """
    if check_cell is None:
        return "its check cell was not in the grader's run"
    status, error = check_cell
    if status == "ok":
        return ""
    if status in ("not run", "skipped"):
        return f"its check cell did not run in the grader's run ({status})"
    return f"its check cell failed in the grader's run: {_ANSI.sub('', error)}"


def _result(item, status, message, public="", hidden=(), check_cell=None):
    return ExerciseResult.make(item.id, status, message, public, hidden,
                               check_cell[0] if check_cell else "")


def _softmax_reference(z):
    ez = np.exp(np.asarray(z, dtype=np.float64) - np.max(z))
    return ez / np.sum(ez)


def _cross_entropy_reference(z, y):
    z = np.asarray(z, dtype=np.float64)
    return float(np.max(z) + np.log(np.sum(np.exp(z - np.max(z)))) - z[y])


# A right answer of each kind of function exercise, to learn the calls a check makes of a
# function that passes it (see :func:`calls_of`).
REFERENCES = {"softmax": _softmax_reference, "cross_entropy": _cross_entropy_reference}


class _Recorder:
    """Stands in for the student's function: answers as the reference does, and notes each
    call's arguments as they were given."""

    def __init__(self, reference, name):
        self.reference, self.calls = reference, []
        self.__name__ = self.__qualname__ = name

    def __call__(self, *arguments):
        self.calls.append(tuple(np.array(a, copy=True) if isinstance(a, np.ndarray) else a
                                for a in arguments))
        return self.reference(*arguments)


def calls_of(check, item):
    """The argument tuples ``check`` (a function of the function to check) calls a right answer
    of ``item``'s kind with, in order: what the student's function will most likely be called
    with, sent to the kernel ahead in one cell (RemoteFunction.prefetch)."""
    recorder = _Recorder(REFERENCES[item.kind], item.answer)
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            check(recorder)
        except Exception:  # a check that stops on the reference: its calls so far
            pass
    return recorder.calls


def public_phase(item, session):
    """The public check of a function exercise (kind softmax or cross_entropy) on the student's
    function, called in ``session``'s kernel: (status, message, RemoteFunction).

    Every public check runs before the first hidden input enters the kernel (see
    :func:`~instructor.grading.grade.grade_submission`): the messages students see are then
    made before their code could have seen a hidden input, so no feedback can carry one out."""
    function = RemoteFunction(session, item.answer)
    function.prefetch(calls_of(lambda target: run_public_check(item.check_function, target), item))
    status, public = run_public_check(item.check_function, function)
    return status, public, function


def function_result(item, status, public, function, seed, check_cell):
    """The exercise's result once its public check gave ``status``: the hidden checks (on the
    kernel's function, on inputs from ``seed``) when it passed, then its check cell's rule."""
    if item.optional and status == "not attempted":
        return _result(item, "not attempted", "not attempted", public, check_cell=check_cell)
    hidden = []
    if status == "passed":
        function.prefetch(calls_of(lambda target: hidden_checks.check_function(item.kind, target,
                                                                               seed), item))
        hidden = hidden_checks.check_function(item.kind, function, seed)
    problem = check_cell_problem(check_cell) if status == "passed" and not hidden else ""
    passed = status == "passed" and not hidden and not problem
    message = public if status != "passed" else "; ".join(hidden) or problem or public
    return _result(item, "passed" if passed else "failed", message, public, hidden, check_cell)


def judge_function(item, session, seed, check_cell):
    """Both phases at once, for one exercise: (ExerciseResult, RemoteFunction)."""
    status, public, function = public_phase(item, session)
    return function_result(item, status, public, function, seed, check_cell), function


def model_probe():
    """The inputs the kernel's model is called on (see :func:`read_architecture`): eight of the
    lab's digits, float32."""
    X, _ = instructor_module("autils").load_data()
    return np.ascontiguousarray(X[::625][:8], dtype=np.float32)


def read_architecture(item, session):
    """What the kernel reports of the model: its config, its weights and its outputs on
    :func:`model_probe` (see :func:`~instructor.grading.values.read_model`)."""
    return read_model(session, item.answer, model_probe())


# The kernel's model and the model its config describes, given the kernel's weights, must agree
# on the probe's logits to this tolerance (the same ops on the same CPU: they agree to the last
# digits; thread counts may change the order of a sum).
CONSISTENCY_RTOL, CONSISTENCY_ATOL = 1e-4, 1e-4


def consistency_problem(reported, module):
    """Why the model the kernel reported is not the one its config describes, or "".

    Keras saves a layer by its class's name and an activation by its function's name: a layer
    class or an activation of the student's own, named like Keras's, would be rebuilt (and
    graded) as Keras's. So the config is rebuilt here, given the kernel's weights, and must
    compute the kernel's outputs on the probe.
    """
    weights, outputs = reported.get("weights"), reported.get("outputs")
    if weights is None or outputs is None:
        return ""  # too large to send, or not callable: the checks that follow fail it anyway
    model = retrain.build(reported["config"], module)
    if not model.weights:
        return ""  # a config without an input size: the public check names that mistake
    try:
        model.set_weights(weights)
    except Exception as error:
        return (f"the weights of your model do not fit the architecture it reports "
                f"({type(error).__name__}: {str(error)[:200]}): a layer was changed after it was "
                f"built. Hint: build the model once, in the Exercise 2 cell, and change nothing "
                f"of it afterwards.")
    expected = np.asarray(model(reported["probe"], training=False))
    if expected.shape != np.shape(outputs) or not np.allclose(
            outputs, expected, rtol=CONSISTENCY_RTOL, atol=CONSISTENCY_ATOL):
        return ("your model computes something other than the architecture it reports: a layer "
                "class or an activation function of your own, named like Keras's, is saved (and "
                "rebuilt by the grader) as Keras's own. Hint: use Keras's Dense layers and give "
                "each activation by its name, activation=\"relu\" or activation=\"linear\".")
    return ""


def judge_model(item, reported, check_cell, timings=None):
    """Judge the model exercise from the architecture the kernel ``reported``, rebuilt and
    retrained here; ``timings`` (a record's Timings) receives the retraining's seconds."""
    if "problem" in reported:
        return _result(item, "failed", reported["problem"], check_cell=check_cell)
    module = keras()
    X, y = instructor_module("autils").load_data()
    arguments = spec.check_call_arguments(item)
    try:
        problem = consistency_problem(reported, module)
        if problem:
            return _result(item, "failed", problem, check_cell=check_cell)
        model = retrain.build(reported["config"], module)
        # The architecture first: a model the public check rejects is not worth training.
        status, public = run_public_check(item.check_function, model, *arguments)
        if status != "passed":
            return _result(item, "failed", public, public, check_cell=check_cell)
        started = time.monotonic()
        trained = retrain.train_once(model, reported["config"], module, X, y)
    except retrain.ArchitectureError as error:
        return _result(item, "failed", f"the grader could not rebuild and train your "
                                       f"architecture: {error}", check_cell=check_cell)
    if timings is not None:
        timings.retrain = 0.0 if trained.reused else round(time.monotonic() - started, 2)
        timings.retrain_reused = trained.reused
    status, public = run_public_check(item.check_function, model, *arguments)
    hidden = hidden_checks.check_model(model, module, X, y) if status == "passed" else []
    problem = check_cell_problem(check_cell) if status == "passed" and not hidden else ""
    passed = status == "passed" and not hidden and not problem
    message = public if status != "passed" else "; ".join(hidden) or problem or public
    return _result(item, "passed" if passed else "failed", message, public, hidden, check_cell)
