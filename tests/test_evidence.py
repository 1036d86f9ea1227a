"""Unit tests of the grader's evidence chain, without a kernel: the kernel probe's encoder,
fingerprint, hook and thread detection, recording and seal (instructor/kernel_probe.py, run here
in-process on stand-in modules), the signed evidence (instructor/evidence.py), the instructor's
check cells (instructor/check_cells.py) and the retraining of Exercise 2 (instructor/retrain.py).
"""
import copy
import json
import math
import re
import sys
import threading
import time
import types

import nbformat
import numpy as np
import pytest

from lab_submissions import source_notebook  # first: it puts the project on sys.path
from instructor import check_cells, evidence, kernel_probe, retrain
from instructor.cells import graded_cells
from instructor.kernel_run import CellResult, KernelRun

NOTEBOOK_CELL = "/tmp/ipykernel_4242/123456.py"  # how ipykernel names a cell's code


def notebook_function(source, name, namespace=None):
    """A function compiled as if typed in a notebook cell."""
    namespace = {} if namespace is None else namespace
    exec(compile(source, NOTEBOOK_CELL, "exec"), namespace)
    return namespace[name]


# ---------------------------------------------------------------------------------------------
# The encoder
# ---------------------------------------------------------------------------------------------

def test_encoded_evidence_decodes_to_the_same_values():
    value = {"text": 'quotes " \\ and \n\x1b[31m control, ünïcode ✓', "int": -12, "big": 2**70,
             "float": 0.1, "nan": math.nan, "inf": -math.inf, "none": None, "flags": [True, False],
             "bytes": b"\x00\xff", "tuple": (1, "a"), "nested": {"": [[{}]]}}
    decoded = evidence.decode(kernel_probe.encode(value))
    assert math.isnan(decoded.pop("nan")) and math.isnan(value.pop("nan"))
    value["tuple"] = list(value["tuple"])
    assert decoded == value


@pytest.mark.parametrize("value, words", [
    (object(), "builtins.object"),
    ({1: "x"}, "dict key of type int"),
    (np.float64(1.0), "numpy.float64"),
    (type("Str", (str,), {})("x"), "Str"),  # a str subclass could lie in its methods
])
def test_the_encoder_refuses_anything_but_plain_data(value, words):
    with pytest.raises(kernel_probe.EncodeError, match=re.escape(words)):
        kernel_probe.encode(value)


def test_the_encoder_refuses_deep_nesting():
    value = []
    for _ in range(100):
        value = [value]
    with pytest.raises(kernel_probe.EncodeError, match="deeper than 64"):
        kernel_probe.encode(value)


# ---------------------------------------------------------------------------------------------
# The probe, in this process, on stand-in modules
# ---------------------------------------------------------------------------------------------

LAB_CHECKS = '''
import numpy as np

def _softmax(z):
    ez = np.exp(np.asarray(z, dtype=np.float64) - np.max(z))
    return ez / np.sum(ez)

# The real checks' contract: with return_outcome=True they return an Outcome instead of raising.
class Outcome:
    def __init__(self, check, status, message):
        self.check, self.status, self.message = check, status, message

def test_my_softmax(target, return_outcome=False):
    for z in ([1.0, 2.0, 3.0], [0.5]):
        a = target(np.array(z))
        if not np.allclose(a, _softmax(z)):
            if return_outcome:
                return Outcome("test_my_softmax", "failed", "wrong")
            raise AssertionError("wrong")
    print("test_my_softmax: All tests passed!")
    if return_outcome:
        return Outcome("test_my_softmax", "passed", "test_my_softmax: All tests passed!")

def test_my_softmax_stable(target, return_outcome=False):
    print("not attempted")
    if return_outcome:
        return Outcome("test_my_softmax_stable", "not attempted", "not attempted")

def test_model(model, *args):
    pass

class Watch:
    def post_run_cell(self, result):
        pass
'''


@pytest.fixture
def lab(monkeypatch):
    """Stand-ins: a watched library ``fake_lib`` and the lab's checks ``fake_public_tests``."""
    library = types.ModuleType("fake_lib")
    library.add = lambda a, b: a + b
    library.limit = 3
    checks = types.ModuleType("fake_public_tests")
    checks.__file__ = "/work/fake_public_tests.py"
    exec(compile(LAB_CHECKS, checks.__file__, "exec"), checks.__dict__)
    monkeypatch.setitem(sys.modules, "fake_lib", library)
    monkeypatch.setitem(sys.modules, "fake_public_tests", checks)
    return library, checks


def make_probe(namespace=None, shell=None):
    settings = dict(evidence.probe_settings(), watched=["fake_lib", "fake_public_tests", "math"],
                    watched_prefixes=[], public_tests="fake_public_tests", per_call=2)
    sent = []
    probe = kernel_probe.Probe(settings, shell, publish=lambda **message: sent.append(message))
    probe.user_ns = namespace if namespace is not None else {}
    return probe, sent


def test_a_replaced_function_is_found_by_identity_and_restored(lab):
    library, _ = lab
    probe, _ = make_probe()
    original = library.add
    forged = notebook_function("def add(a, b):\n    return 0\n", "add")
    # Every attribute a forger controls now says it is the original.
    forged.__module__, forged.__qualname__ = original.__module__, original.__qualname__
    forged.__code__ = forged.__code__.replace(co_filename=original.__code__.co_filename,
                                              co_firstlineno=original.__code__.co_firstlineno)
    library.add = forged
    math.fsum, saved_fsum = max, math.fsum
    try:
        found = probe.inspect("now")
    finally:
        math.fsum = saved_fsum
    changes = {(label, name) for label, name, _ in found["changes"]}
    assert changes == {("fake_lib", "add"), ("math", "fsum")}
    assert library.add is original  # restored before the grader's own code runs
    assert probe.inspect("again")["changes"] == []


def test_library_data_may_change_but_the_checks_may_not(lab):
    library, checks = lab
    probe, _ = make_probe()
    library.limit = 4  # a library's own data changes as it is used: not a finding
    checks._softmax = lambda z: z  # the lab's checks: every attribute is watched
    names = {name for _, name, _ in probe.inspect("now")["changes"]}
    assert names == {"_softmax"}


def test_functions_the_notebook_adds_to_a_library_are_found(lab):
    library, _ = lab
    probe, _ = make_probe()
    library.helper = notebook_function("def helper():\n    pass\n", "helper")
    library.from_a_library = len  # e.g. a lazy attribute a library fills in: not a finding
    found = probe.inspect("now")["changes"]
    assert [(name, what.split(":")[0]) for _, name, what in found] == [("helper", "added")]
    assert not hasattr(library, "helper")


def test_trace_and_profile_functions_are_found_and_removed(lab):
    probe, _ = make_probe()
    spy = notebook_function("def spy(frame, event, arg):\n    return None\n", "spy")
    sys.setprofile(spy)
    try:
        found = probe.inspect("now")
    finally:
        sys.setprofile(None)
    assert len(found["tracers"]) == 1 and "spy from a notebook cell" in found["tracers"][0]
    assert sys.getprofile() is None


def test_threads_are_told_apart_by_where_their_code_was_written(lab):
    probe, _ = make_probe()
    stop = threading.Event()
    loop = notebook_function("def loop(stop):\n    stop.wait()\n", "loop")
    threads = [threading.Thread(target=loop, args=(stop,), name="cell-thread"),
               threading.Thread(target=stop.wait, name="library-thread")]
    for thread in threads:
        thread.start()
    try:
        found = {t["name"]: t["from_notebook"] for t in probe.inspect("now")["threads"]
                 if t["name"] in ("cell-thread", "library-thread")}
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert found == {"cell-thread": True, "library-thread": False}


@pytest.fixture
def shell(lab):
    from IPython.core.interactiveshell import InteractiveShell
    instance = InteractiveShell.instance()
    yield instance
    InteractiveShell.clear_instance()


def test_hooks_and_transformers_added_by_the_notebook_are_removed_the_labs_kept(lab, shell):
    _, checks = lab
    watch = checks.Watch()
    probe, _ = make_probe(shell=shell)
    ours = notebook_function("def ours(info):\n    pass\n", "ours")
    blind = notebook_function("def blind(lines):\n    return lines\n", "blind")
    library_hook = print  # e.g. matplotlib's flush: removed while the grader works, not reported
    shell.events.register("pre_run_cell", ours)
    shell.events.register("post_run_cell", watch.post_run_cell)  # the lab's own (public_tests)
    shell.events.register("post_execute", library_hook)
    shell.input_transformers_cleanup.append(blind)
    try:
        found = probe.inspect("now")
    finally:
        shell.input_transformers_cleanup[:] = [t for t in shell.input_transformers_cleanup
                                               if t is not blind]
    reported = {(hook["what"].split(" from")[0], hook["from_notebook"]) for hook in found["hooks"]}
    assert reported == {("function ours", True), ("function blind", True),
                        ("builtin_function_or_method", False)}
    assert ours not in shell.events.callbacks["pre_run_cell"]
    assert library_hook not in shell.events.callbacks["post_execute"]
    assert any(getattr(c, "__func__", None) is checks.Watch.post_run_cell
               for c in shell.events.callbacks["post_run_cell"])


def test_softmax_answers_taken_from_the_checks_are_named(lab):
    import functools
    _, checks = lab
    honest = notebook_function("import numpy as np\ndef my_softmax(z):\n"
                               "    return np.exp(z) / np.sum(np.exp(z))\n", "my_softmax")
    wrapper = notebook_function("def my_softmax(z):\n    return checks._softmax(z)\n",
                                "my_softmax", {"checks": checks})
    copied_code = types.FunctionType(checks._softmax.__code__, {"np": np}, "my_softmax")
    answers = {"honest": honest, "alias": checks._softmax, "wrapper": wrapper,
               "partial": functools.partial(checks._softmax), "copied code": copied_code}
    verdicts = {}
    for label, answer in answers.items():
        probe, _ = make_probe({"my_softmax": answer})
        probe.extract([[z.dtype.str, list(z.shape), z.tobytes().hex()]
                       for z in (np.array([1.0, 2.0]),)])
        entry = probe.evidence["softmax"]["my_softmax"]
        assert entry["in_kernel_public_check"] == "passed", label
        verdicts[label] = (entry["taken_from_checks"], bool(entry["borrowed_calls"]))
    assert verdicts == {"honest": (False, False), "alias": (True, True), "wrapper": (False, True),
                        "partial": (True, True), "copied code": (True, True)}


def test_the_profiler_works_inside_the_audit_hook_the_stages_run_in(lab):
    # CPython switches profiling off inside audit hooks unless the hook allows it: a wrapper
    # around the checks' answer would then go unseen when the grader calls through the hook.
    # And the grader's own hook, called on every audited event of an honest function (an
    # import, a compile), is not the student's borrowing.
    _, checks = lab
    wrapper = notebook_function("def my_softmax(z):\n    return checks._softmax(z)\n",
                                "my_softmax", {"checks": checks})
    honest = notebook_function("def my_softmax(z):\n    np = __import__('numpy')\n"
                               "    compile('1', 'x', 'eval')\n"
                               "    return np.exp(z) / np.sum(np.exp(z))\n", "my_softmax")
    borrowed = {}
    for label, answer in (("wrapper", wrapper), ("honest", honest)):
        probe, _ = make_probe({"my_softmax": answer})
        token = evidence.ProbePlan(hidden=[]).token
        sys.addaudithook(kernel_probe.audit_hook(token, probe))  # for good: answers ``token`` only
        sys.audit(token, "extract", [])
        assert probe.errors == []
        borrowed[label] = probe.evidence["softmax"]["my_softmax"]["borrowed_calls"]
    assert borrowed["wrapper"] and borrowed["honest"] == []


def test_recorded_calls_hold_inputs_outputs_and_exceptions(lab):
    def mutating(z):
        if z.dtype.kind == "i":
            raise ValueError("integers")
        z += 1.0
        return [0.5, 0.5]

    probe, _ = make_probe({"my_softmax": mutating, "my_softmax_stable": "not a function"})
    hidden = [np.array([1.0, 2.0], dtype=np.float32), np.array([3], dtype=np.int64)]
    probe.extract([[z.dtype.str, list(z.shape), z.tobytes().hex()] for z in hidden])
    arrays = evidence.decode_arrays(evidence.decode(kernel_probe.encode(probe.evidence)))
    first, second = probe.evidence["softmax"]["my_softmax"]["hidden_calls"]
    assert arrays[first["input"]].dtype == np.float32 and arrays[second["input"]].dtype == np.int64
    np.testing.assert_array_equal(arrays[first["input"]], [1.0, 2.0])
    np.testing.assert_array_equal(arrays[first["input_after"]], [2.0, 3.0])  # changed in place
    assert first["kind"] == "list" and arrays[first["output"]].tolist() == [0.5, 0.5]
    assert second["exception"] == {"type": "ValueError", "message": "integers", "builtin": True}
    stable = probe.evidence["softmax"]["my_softmax_stable"]
    assert stable == {"defined": True, "callable": False, "borrowed_calls": [],
                      "profiler_removed": False}


def test_a_call_that_never_returns_is_stopped_and_recorded(lab):
    def stuck(z):
        while True:
            time.sleep(0.01)

    probe, _ = make_probe({"my_softmax": stuck})
    probe.extract([])  # returns: the call was stopped after per_call seconds
    entry = probe.evidence["softmax"]["my_softmax"]
    assert entry["public_calls"][0]["exception"]["type"] == "TimeoutError"
    assert entry["borrowed_calls"] == []  # the grader's own alarm handler is not the student's


def test_a_function_that_removes_the_profiler_is_named(lab):
    def evasive(z):
        sys.setprofile(None)
        return np.exp(z) / np.sum(np.exp(z))

    probe, _ = make_probe({"my_softmax": evasive})
    probe.extract([])
    assert probe.evidence["softmax"]["my_softmax"]["profiler_removed"]


def test_the_seal_signs_what_the_grader_reads_and_nothing_else(lab):
    probe, sent = make_probe({"my_softmax": np.exp})
    plan = evidence.ProbePlan(hidden=[])
    probe.extract([])
    probe.seal(plan.key)
    [message] = sent
    text = message["data"][kernel_probe.MIME_TYPE]

    def run_with(output_text):
        output = nbformat.v4.new_output("display_data",
                                        data={kernel_probe.MIME_TYPE: output_text})
        return KernelRun(probes={"seal": CellResult(-1, "ok", outputs=[output])})

    found, problem = evidence.read_evidence(run_with(text), plan)
    assert problem == "" and found["softmax"]["my_softmax"]["callable"]
    altered = text.replace("true", "false", 1)
    assert evidence.read_evidence(run_with(altered), plan)[1].startswith("the evidence's signature")
    other_key = evidence.ProbePlan(hidden=[])
    assert evidence.read_evidence(run_with(text), other_key)[0] is None
    assert evidence.read_evidence(KernelRun(), plan) == (None, "the grader's probe did not run")


def test_probe_cells_carry_the_secrets_only_after_the_notebook(lab):
    plan = evidence.plan_for("alice")
    [(name, baseline)] = plan.before()
    assert name == "baseline" and plan.token in baseline and plan.key.hex() not in baseline
    stages = [(stage, code() if callable(code) else code) for stage, code in plan.after()]
    assert [stage for stage, _ in stages] == ["inspect", "extract", "seal"]
    assert plan.key.hex() in stages[2][1] and plan.key.hex() not in stages[1][1]
    assert plan.hidden[0].tobytes().hex() in stages[1][1]
    compile(baseline, "baseline", "exec")  # the module's source, sent whole, compiles


def test_hidden_inputs_depend_on_the_name_and_the_secret():
    def flat(inputs):
        return np.concatenate([z.astype(np.float64).ravel() for z in inputs])

    alice = flat(evidence.hidden_inputs("alice", b"s1"))
    assert np.array_equal(alice, flat(evidence.hidden_inputs("alice", b"s1")))
    assert not np.array_equal(alice, flat(evidence.hidden_inputs("bob", b"s1")))
    assert not np.array_equal(alice, flat(evidence.hidden_inputs("alice", b"s2")))


def test_findings_name_the_notebooks_doing_and_leave_libraries_alone():
    found = {"baseline_errors": [], "inspections": [
        {"when": "after", "changes": [["numpy", "allclose", "replaced by function f"]],
         "hooks": [{"where": "event post_execute", "what": "function flush",
                    "from_notebook": False},
                   {"where": "event pre_run_cell", "what": "function spy", "from_notebook": True}],
         "tracers": [], "shell": [],
         "threads": [{"name": "zmq", "from_notebook": False, "code": "function run"},
                     {"name": "t", "from_notebook": True, "code": "function loop"}]},
        {"when": "later", "changes": [["numpy", "allclose", "replaced by function f"]],
         "hooks": [], "tracers": [], "shell": [], "threads": []}],
        "checks": {"test_model": {"defined": False}, "test_my_softmax": {
            "defined": True, "instructors": False, "about": "function f"}},
        "softmax": {"my_softmax": {"taken_from_checks": True, "borrowed_calls": []}}}
    kinds = [(f["kind"], f["severity"]) for f in evidence.evidence_findings(found)]
    assert kinds == [("monkeypatch", "tampering"), ("hook_installed", "tampering"),
                     ("live_thread", "tampering"), ("check_missing", "warning"),
                     ("check_redefined", "tampering"), ("answer_from_checks", "tampering")]


def test_an_answer_taken_from_the_checks_earns_nothing():
    from instructor.grade import _void_borrowed_answers
    finding = {"kind": "answer_from_checks", "severity": "tampering", "exercise": "exercise_1",
               "message": "my_softmax calls code of _softmax (the lab checks)"}
    record = {"findings": [finding, dict(finding, kind="monkeypatch", exercise="exercise_2")],
              "exercises": {name: {"points": 50, "passed": True, "message": "passed"}
                            for name in ("exercise_1", "exercise_2")}}
    _void_borrowed_answers(record)
    assert [(r["points"], r["passed"]) for r in record["exercises"].values()] == [
        (0, False), (50, True)]
    assert "not the student's answer" in record["exercises"]["exercise_1"]["message"]


# ---------------------------------------------------------------------------------------------
# The instructor's check cells
# ---------------------------------------------------------------------------------------------

def _checks(notebook):
    return {exercise: cell.source
            for exercise, (_, cell) in graded_cells(notebook, "check").items()}


def test_the_source_notebook_is_its_own_match():
    source = source_notebook()
    restored = check_cells.restore(source, source)
    assert restored.findings == [] and restored.origin == list(range(len(source.cells)))
    assert _checks(restored.notebook) == _checks(source)


def test_an_edited_check_is_run_as_the_instructor_wrote_it_even_with_its_metadata_moved():
    source = source_notebook()
    submission = copy.deepcopy(source)
    index = graded_cells(submission, "check")["exercise_2"][0]
    check = submission.cells[index]
    decoy = nbformat.v4.new_code_cell("test_model(model, 10, 400)", metadata={
        "lab": dict(check.metadata["lab"])})
    del check.metadata["lab"]
    check.source = 'print("test_model: All tests passed!")'
    submission.cells.insert(4, decoy)
    submission.cells.insert(2, nbformat.v4.new_code_cell("print('scratch')"))
    restored = check_cells.restore(source, submission)
    kinds = {(f["kind"], f["severity"], f["cell"]) for f in restored.findings}
    assert kinds == {("check_cell_edited", "tampering", index + 2),
                     ("check_metadata_moved", "warning", 5)}
    assert restored.notebook.cells[index + 2].source == "test_model(model, 10, 400)"
    assert "lab" not in restored.notebook.cells[5].metadata


def test_a_deleted_check_is_put_back_where_it_was():
    source = source_notebook()
    submission = copy.deepcopy(source)
    index = graded_cells(submission, "check")["exercise_1"][0]
    del submission.cells[index]
    restored = check_cells.restore(source, submission)
    assert [(f["kind"], f["severity"]) for f in restored.findings] == [
        ("check_cell_deleted", "tampering")]
    assert restored.notebook.cells[index].source == source.cells[index].source
    assert restored.origin[index] is None and restored.origin[index + 1] == index


def test_a_check_with_an_added_line_is_a_warning_and_an_edited_answer_no_finding():
    source = source_notebook()
    submission = copy.deepcopy(source)
    solution = graded_cells(submission, "solution")["exercise_1"][1]
    solution.source = solution.source.replace("a = ez / np.sum(ez)", "a = ez / ez.sum()")
    check = graded_cells(submission, "check")["exercise_1"][1]
    check.source = "print(my_softmax(np.array([1.0])))\n" + check.source
    restored = check_cells.restore(source, submission)
    assert [(f["kind"], f["severity"]) for f in restored.findings] == [
        ("check_cell_edited", "warning")]


# ---------------------------------------------------------------------------------------------
# Retraining Exercise 2
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("config, words", [
    ({"module": "builtins", "class_name": "eval", "config": {}}, "only Keras's own classes"),
    ({"module": "keras.layers", "class_name": "Dense", "registered_name": "my>Dense"},
     "registered custom object"),
    ({"module": "keras.layers", "class_name": "Lambda", "config": {}}, "arbitrary code"),
    ({"module": "keras", "class_name": "Sequential", "config": {"layers": [
        {"module": "os", "class_name": "system"}]}}, "model.config.layers[0]"),
    (["not", "a", "dict"], "expected a dict"),
])
def test_configs_naming_anything_but_keras_are_refused(config, words):
    import keras
    with pytest.raises(retrain.ArchitectureError, match=re.escape(words)):
        retrain.build(config, keras)


def test_every_architecture_the_public_check_accepts_is_rebuilt_and_accepted_again():
    import keras
    import model_answers
    from instructor.exercise_checks import run_public_check
    for name, build in model_answers.CORRECT:
        rebuilt = retrain.build(keras.saving.serialize_keras_object(build()), keras)
        assert run_public_check("test_model", rebuilt, 10, 400)[0], name


def test_every_architecture_the_public_check_rejects_earns_nothing(monkeypatch):
    # Graded as the grader does: the model's evidence recorded by the probe (with the real
    # public_tests), then Exercise 2 judged on it. A config keeps an activation's name, not its
    # code, so the in-kernel verdict must catch what the rebuilt model hides.
    import model_answers
    from instructor import exercise_checks
    settings = dict(evidence.probe_settings(), watched=[], watched_prefixes=[])
    probe = kernel_probe.Probe(settings, None, publish=lambda **message: None)
    for name, build, _ in model_answers.WRONG:
        info = probe._record_model(build())
        result = exercise_checks._grade_model("exercise_2", {"model": info}, {})
        assert not result["passed"], name
        if "config" in info:
            assert "retrain" not in result["message"] or "could not" in result["message"], name


def test_retraining_the_lab_solution_gives_the_notebooks_own_losses():
    import keras
    import model_answers
    from instructor.exercise_checks import instructor_module
    training = next(cell for cell in source_notebook().cells
                    if cell.cell_type == "code" and "fit_model(model, X, y" in cell.source)
    stored = "".join(output.get("text", "") for output in training.outputs)
    losses = re.findall(r"\d+\.\d+", stored)  # the losses the cell printed, epoch 1 first
    first, last = float(losses[0]), float(losses[-1])
    X, y = instructor_module("autils").load_data()
    trained = retrain.retrain(keras.saving.serialize_keras_object(
        model_answers.notebook_solution()), keras, X, y)
    assert (round(trained.first_loss, 4), round(trained.last_loss, 4)) == (first, last)


def test_a_renamed_model_trains_to_the_same_weights_and_reuses_the_first_training(monkeypatch):
    # The grader trains each architecture once per process (retrain.train_once): that is only
    # right if the names a student gives the model and its layers change nothing in training.
    import keras
    import model_answers
    from instructor.exercise_checks import instructor_module
    monkeypatch.setattr(retrain, "_done", {})
    X, y = instructor_module("autils").load_data()
    X, y = X[:320], y[:320]  # 10 steps per epoch: the question is bit-identity, not accuracy
    config = keras.saving.serialize_keras_object(model_answers.notebook_solution())
    renamed = json.loads(json.dumps(config).replace('"L1"', '"hidden_a"')
                         .replace('"L2"', '"hidden_b"').replace('"my_model"', '"mine"'))
    assert renamed != config and retrain.training_key(renamed) == retrain.training_key(config)
    wider = json.loads(json.dumps(config).replace('"units": 25', '"units": 26'))
    assert retrain.training_key(wider) != retrain.training_key(config)

    # After Run All the notebook's model is compiled; the key ignores how, since train
    # compiles with the lab's settings: a model rebuilt from that config must train the same.
    compiled = model_answers.notebook_solution()
    compiled.compile(loss="mse", optimizer=keras.optimizers.SGD(learning_rate=0.5))
    compiled = keras.saving.serialize_keras_object(compiled)
    assert compiled.get("compile_config")
    assert retrain.training_key(compiled) == retrain.training_key(config)

    separately = retrain.train(retrain.build(renamed, keras), keras, X, y)
    from_compiled = retrain.train(retrain.build(compiled, keras), keras, X, y)
    first = retrain.train_once(retrain.build(config, keras), config, keras, X, y)
    again = retrain.train_once(retrain.build(renamed, keras), renamed, keras, X, y)
    assert not first.reused and again.reused
    assert [layer.name for layer in again.model.layers][:2] == ["hidden_a", "hidden_b"]
    for weights in zip(separately.model.get_weights(), from_compiled.model.get_weights(),
                       first.model.get_weights(), again.model.get_weights()):
        assert all(np.array_equal(weights[0], other) for other in weights[1:])
    assert (again.first_loss, again.last_loss) == (separately.first_loss, separately.last_loss)


def test_the_grader_warms_up_on_the_architecture_an_honest_notebook_builds():
    # exercise_checks.warm_up trains reference_config while the kernel runs; an honest model
    # reuses that training only if the two have the same training key.
    import keras
    import model_answers
    from instructor import exercise_checks
    reference = retrain.training_key(exercise_checks.reference_config(keras))
    for answer in (model_answers.notebook_solution, model_answers.without_layer_names,
                   model_answers.tf_nn_relu):
        config = keras.saving.serialize_keras_object(answer())
        assert retrain.training_key(config) == reference, answer.__name__
    # The grader reads the model after the notebook's training cell compiled it (Run All).
    compiled = model_answers.notebook_solution()
    compiled.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                     optimizer=keras.optimizers.Adam(learning_rate=0.001),
                     steps_per_execution=157)
    config = keras.saving.serialize_keras_object(compiled)
    assert config.get("compile_config") and retrain.training_key(config) == reference
