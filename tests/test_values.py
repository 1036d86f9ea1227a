"""Values out of the student's kernel (instructor.grading.values): what crosses from the kernel
into marks, and nothing else.

One small kernel (no TensorFlow, no sandbox: what is tested is the channel, and the sandbox has
tests of its own) answers the grader's calls: arrays and numbers of every kind come back as the
same kinds of Python values, exceptions as the student's, in-place edits as edits, a slow call as
a timeout, and anything the kernel's code could not have sent as a ChannelError.
"""
import nbformat
import numpy as np
import pytest

import lab_submissions  # noqa: F401  (puts the project on sys.path)
from instructor.engine.kernel import CellResult, KernelSession
from instructor.grading import values
from instructor.grading.values import ChannelError, RemoteFunction

NOTEBOOK = '''
import numpy as np
def softmax(z):
    e = np.exp(z - np.max(z))
    return e / e.sum()
def in_place(z):
    z -= 1
    return z
def raises(z):
    raise ZeroDivisionError("division by zero")
def not_implemented(z):
    raise NotImplementedError("write your code here")
def numpy_error(z):
    return np.sum(np.exp(z), axis=3)
def scalar(z):
    return np.float32(z.sum())
def python_number(z):
    return float(z.sum())
def a_list(z):
    return list(z)
def a_tuple(z):
    return tuple(z)
def nothing(z):
    pass
def an_object(z):
    return {"a": 1}
def slow(z):
    import time
    while True:
        time.sleep(0.01)
def loss(z, y):
    return float(np.log(np.sum(np.exp(z))) - z[y])
def huge(z):
    return np.zeros(10_000_000)
def undefined_name(z):
    e = np.exp(z)
    return e / _total
'''


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("kernel")
    with KernelSession(workdir, cell_timeout=60) as running:
        notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(NOTEBOOK)])
        [result] = running.run_cells(notebook)
        assert result.status == "ok", result
        yield running


def test_arrays_of_every_dtype_come_back_as_they_were_returned(session):
    function = RemoteFunction(session, "softmax")
    for z in (np.array([1.0, 2.0, 3.0]), np.array([1, 2, 3]), np.arange(6, dtype=np.float32),
              np.array([1000.0, 1001.0]), np.array([-300.0, -301.0])):
        result = function(z)
        expected = np.exp(z - np.max(z)) / np.exp(z - np.max(z)).sum()
        assert type(result) is np.ndarray and result.dtype == expected.dtype
        np.testing.assert_array_equal(result, expected)
    assert function.calls == 5 and function.seconds > 0


@pytest.mark.parametrize("name, expected_type", [
    ("scalar", np.float32), ("python_number", float), ("a_list", list), ("a_tuple", tuple),
    ("nothing", type(None))])
def test_other_kinds_of_result_keep_their_kind(session, name, expected_type):
    result = RemoteFunction(session, name)(np.array([1.0, 2.0]))
    assert type(result) is expected_type
    if result is not None:
        assert float(np.sum(result)) == 3.0 if name != "scalar" else result == np.float32(3.0)


def test_an_object_comes_back_as_a_stand_in_of_its_type(session):
    result = RemoteFunction(session, "an_object")(np.array([1.0]))
    assert type(result).__name__ == "dict" and type(result).__module__ == "builtins"
    assert not isinstance(result, dict)  # only its type's name crosses, never the object


def test_a_public_check_quotes_the_students_line_not_the_graders(session):
    from instructor.lab.files import instructor_module
    public_tests = instructor_module("public_tests")
    outcome = public_tests.test_my_softmax(RemoteFunction(session, "undefined_name"),
                                           return_outcome=True)
    assert outcome.status == "failed"
    assert "NameError" in outcome.message and "in the line `return e / _total`" in outcome.message


def test_exceptions_come_back_as_the_students(session):
    with pytest.raises(ZeroDivisionError, match="division by zero"):
        RemoteFunction(session, "raises")(np.array([1.0]))
    with pytest.raises(NotImplementedError):
        RemoteFunction(session, "not_implemented")(np.array([1.0]))
    with pytest.raises(Exception) as error:
        RemoteFunction(session, "numpy_error")(np.array([1.0]))
    assert type(error.value).__name__ == "AxisError"
    with pytest.raises(NameError):
        RemoteFunction(session, "not_defined_anywhere")(np.array([1.0]))


def test_an_edit_in_place_is_applied_to_the_callers_array(session):
    z = np.array([5.0, 6.0])
    result = RemoteFunction(session, "in_place")(z)
    np.testing.assert_array_equal(z, [4.0, 5.0])
    np.testing.assert_array_equal(result, [4.0, 5.0])


def test_two_arguments_and_an_int(session):
    assert RemoteFunction(session, "loss")(np.array([1.0, 2.0, 3.0]), 2) == pytest.approx(0.40760596)


def test_a_slow_call_is_a_timeout_and_the_kernel_goes_on(session, monkeypatch):
    monkeypatch.setattr(values, "CALL_SECONDS", 1)
    slow = RemoteFunction(session, "slow")
    with pytest.raises(TimeoutError, match="longer than 1 s"):
        slow(np.array([1.0]))
    assert session.alive
    with pytest.raises(TimeoutError, match="no further calls"):  # not one timeout per input
        slow(np.array([2.0]))
    assert slow.calls == 1
    from instructor.lab.files import instructor_module
    outcome = instructor_module("public_tests").test_my_softmax(slow, return_outcome=True)
    assert "TimeoutError" in outcome.message and "in the line" not in outcome.message
    np.testing.assert_allclose(RemoteFunction(session, "softmax")(np.array([0.0, 0.0])), [0.5, 0.5])


def test_a_result_too_large_is_named_not_sent(session):
    result = RemoteFunction(session, "huge")(np.array([1.0]))
    assert type(result).__name__ == "ndarray" and "too large" in repr(result)


PROBE = np.random.default_rng(0).random((8, 400)).astype(np.float32)


def test_the_model_report_reads_the_config_or_says_why_not(session):
    missing = values.read_model(session, "model", PROBE)
    assert missing["problem"] == "model is not defined after running the notebook"
    not_keras = values.read_model(session, "softmax", PROBE)  # Keras serializes a function too...
    assert not_keras["type"] == "builtins.function"
    from instructor.grading import retrain
    import keras
    with pytest.raises(retrain.ArchitectureError, match="only Keras's own classes|function"):
        retrain.build(not_keras["config"], keras)  # ...which the grader never builds


def answered(reply, status="ok", error=""):
    """A CellResult as the kernel's cell would leave it, displaying ``reply``."""
    outputs = [nbformat.v4.new_output("display_data", data={values.MIME: reply})] \
        if reply is not None else []
    return CellResult(-1, status, 0.01, error, outputs)


@pytest.mark.parametrize("result, message", [
    (answered(None), "0 answers"),
    (answered({"returned": {"kind": "none"}}, "error", "NameError: display"), "NameError"),
    (CellResult(-1, "killed", 0.0, "the kernel died"), "the kernel died"),
    (CellResult(-1, "unreadable", 0.0, "a message the grader could not read"), "could not read"),
])
def test_no_usable_answer_is_a_channel_error(result, message):
    with pytest.raises(ChannelError, match=message):
        values.answer(result)


@pytest.mark.parametrize("description", [
    {"kind": "ndarray", "dtype": "|O", "shape": [1], "hex": "00" * 8},  # objects never cross
    {"kind": "ndarray", "dtype": "<f8", "shape": [3], "hex": "00" * 8},  # size and shape disagree
    {"kind": "ndarray", "dtype": "<f8", "shape": [-1], "hex": ""},
    {"kind": "ndarray", "dtype": "<f8", "shape": [10**9], "hex": "00" * 8},
    {"kind": "python", "type": "float", "dtype": "<i8", "hex": "00" * 8},  # an int posing as float
    {"kind": "python", "type": "eval", "dtype": "<f8", "hex": "00" * 8},
    {"kind": "teleport"},
    {"no kind": 1},
])
def test_a_value_the_kernels_code_never_describes_is_interference(description):
    with pytest.raises(ChannelError) as error:
        values.value(description)
    assert error.value.interfered


def test_a_deep_or_large_answer_is_refused_before_it_is_used():
    deep = nested = {}
    for _ in range(50):
        nested["x"] = {}
        nested = nested["x"]
    with pytest.raises(ChannelError, match="flat dict"):
        values.answer(answered(deep))
    big = {"returned": {"kind": "other", "module": "m" * (values.MAX_REPLY + 1), "qualname": "q"}}
    with pytest.raises(ChannelError, match="at most"):
        values.answer(answered(big))


def test_the_code_sent_to_the_kernel_holds_nothing_but_the_call():
    code = values.call_code("my_softmax", [(np.array([1.0, 2.0]),)])
    assert "my_softmax(*arguments)" in code and "secret" not in code.lower()
    assert np.array([1.0, 2.0]).tobytes().hex() in code
    with pytest.raises(ValueError):
        values.call_code("os.system('x')", [])


def test_a_kernel_that_dies_in_a_call_is_named_as_the_graders_cell(tmp_path):
    with KernelSession(tmp_path, cell_timeout=60) as running:
        notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
            "def dies(z):\n    import os\n    os._exit(0)")])
        running.run_cells(notebook)
        with pytest.raises(ChannelError, match="the kernel died in the grader's own cell"):
            RemoteFunction(running, "dies")(np.array([1.0]))
        assert not running.alive


# Models a notebook could hold: the expected one, and three that compute something else than
# their saved config says (the red team's: each got full marks from the config alone).
MODELS = """
import keras
from keras import Sequential
from keras.layers import Dense

def build(output_activation="linear", last=Dense, units=(25, 15)):
    keras.utils.set_random_seed(1234)
    return Sequential([keras.Input(shape=(400,)), Dense(units[0], activation="relu", name="L1"),
                       Dense(units[1], activation="relu", name="L2"),
                       last(10, activation=output_activation, name="L3")])

honest = build()

def linear(x):  # named like Keras's, a softmax on the output layer
    return keras.ops.softmax(x) if x.shape[-1] == 10 else x
named_linear = build(linear)

class _SoftDense(Dense):
    def call(self, inputs):
        return keras.ops.softmax(super().call(inputs))
_SoftDense.__name__ = _SoftDense.__qualname__ = "Dense"
_SoftDense.__module__ = "keras.layers"
disguised_layer = build(last=_SoftDense)

resized = build(units=(30, 20))
for _layer, _name, _value in ((resized.layers[0], "units", 25), (resized.layers[1], "units", 15),
        (resized.layers[1], "_build_shapes_dict", {"input_shape": (None, 25)}),
        (resized.layers[2], "_build_shapes_dict", {"input_shape": (None, 15)})):
    setattr(_layer, _name, _value)
"""


@pytest.fixture(scope="module")
def models(session):
    [result] = session.run_cells(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(MODELS)]))
    assert result.status == "ok", result
    import keras
    return keras


def test_an_honest_model_computes_what_its_config_says(session, models):
    from instructor.grading.exercises import consistency_problem
    reported = values.read_model(session, "honest", PROBE)
    assert len(reported["weights"]) == 6 and reported["outputs"].shape == (8, 10)
    assert consistency_problem(reported, models) == ""


@pytest.mark.parametrize("name, words", [
    ("named_linear", "computes something other than the architecture it reports"),
    ("disguised_layer", "computes something other than the architecture it reports"),
    ("resized", "weights of your model do not fit the architecture it reports"),
])
def test_a_model_that_is_not_what_its_config_says_is_named(session, models, name, words):
    from instructor.grading.exercises import consistency_problem
    reported = values.read_model(session, name, PROBE)
    assert words in consistency_problem(reported, models)


def test_calls_sent_ahead_answer_the_same_calls_and_no_others(session):
    function = RemoteFunction(session, "in_place")
    first, second = np.array([5.0, 6.0]), np.array([1.0])
    function.prefetch([(first.copy(),), (second.copy(),)])
    np.testing.assert_array_equal(function(first), [4.0, 5.0])  # answered from the batch...
    np.testing.assert_array_equal(first, [4.0, 5.0])  # ...its in-place edit applied too
    other = np.array([10.0])
    np.testing.assert_array_equal(function(other), [9.0])  # not the next one sent: live
    assert function._ahead == [] and function.calls == 2


def test_the_public_checks_agree_with_and_without_calls_sent_ahead(session, monkeypatch):
    """The same verdicts as one cell per call, in one cell per check instead of twenty."""
    from instructor.grading import exercises
    from instructor.lab import spec
    cells = []
    execute = session.execute
    monkeypatch.setattr(session, "execute", lambda *args: cells.append(1) or execute(*args))
    item = spec.exercise("exercise_1")
    ahead = RemoteFunction(session, "softmax")
    ahead.prefetch(exercises.calls_of(lambda f: exercises.run_public_check(item.check_function, f),
                                      item))
    verdict = exercises.run_public_check(item.check_function, ahead)
    cells_ahead = len(cells)
    one_by_one = RemoteFunction(session, "softmax")
    assert verdict == exercises.run_public_check(item.check_function, one_by_one)
    assert ahead._ahead == [] and ahead.calls == one_by_one.calls > 10
    assert cells_ahead == 1 and len(cells) - cells_ahead == one_by_one.calls
