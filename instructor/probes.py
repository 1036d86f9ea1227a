"""Code the grader runs inside a submission's kernel, and the names of the files it leaves.

Two probes, each a string of Python sent to the kernel as an extra cell that is not part of the
notebook:

- the **baseline** probe runs before the student's first cell: it imports the libraries the lab
  uses and the instructor's ``public_tests``, and writes a fingerprint of every public attribute
  of the watched modules (which object each name is bound to) to ``baseline.json``;
- the **extract** probe runs after the student's last cell. It only reads and records: the same
  fingerprint (``after.json``), where the check functions in the notebook's namespace come from,
  the student's ``my_softmax`` / ``my_softmax_stable`` outputs on the inputs of the public checks
  (a freshly loaded copy of the instructor's ``public_tests.py``, under a unique module name) and
  on hidden inputs the grader wrote to ``hidden_inputs.npz`` just before, and the trained
  ``model`` saved with ``model.save`` to ``model.keras``.

Nothing is judged in the kernel: the student's code may have changed anything in it. The grader's
own process (``exercise_checks``) reads these files: arrays with ``allow_pickle=False``, metadata
as JSON, the model with Keras's safe mode, and decides there.
"""
import json

BASELINE_FILE = "baseline.json"
AFTER_FILE = "after.json"
EXTRACT_FILE = "extract.json"
RECORDS_FILE = "records.npz"
HIDDEN_INPUTS_FILE = "hidden_inputs.npz"
MODEL_FILE = "model.keras"
PUBLIC_TESTS_COPY = "public_tests_reference.py"

# Modules whose public attributes are fingerprinted: (label, module to import, attribute path).
WATCHED_MODULES = [
    ("builtins", "builtins", ""),
    ("math", "math", ""),
    ("numpy", "numpy", ""),
    ("numpy.linalg", "numpy", "linalg"),
    ("numpy.random", "numpy", "random"),
    ("numpy.testing", "numpy.testing", ""),
    ("tensorflow", "tensorflow", ""),
    ("tensorflow.nn", "tensorflow", "nn"),
    ("tensorflow.math", "tensorflow", "math"),
    ("keras", "keras", ""),
    ("keras.activations", "keras", "activations"),
    ("keras.layers", "keras", "layers"),
    ("keras.losses", "keras", "losses"),
    ("keras.models", "keras", "models"),
    ("keras.ops", "keras", "ops"),
    ("keras.optimizers", "keras", "optimizers"),
    ("keras.utils", "keras", "utils"),
    ("public_tests", "public_tests", ""),
]
CHECK_NAMES = ("test_my_softmax", "test_my_softmax_stable", "test_model")
SOFTMAX_FUNCTIONS = {"my_softmax": "test_my_softmax", "my_softmax_stable": "test_my_softmax_stable"}
PER_CALL_SECONDS = 10  # a student's softmax call that takes longer is stopped and recorded

# Shared by both probes: the fingerprint of the watched modules.
_FINGERPRINT_SOURCE = r'''
import importlib as _il, json as _json, types as _types

def _describe(value):
    code = getattr(value, "__code__", None)
    where = ""
    if code is not None:
        where = f"{code.co_filename}:{code.co_firstlineno}"
    return {"type": type(value).__name__,
            "module": str(getattr(value, "__module__", "") or ""),
            "qualname": str(getattr(value, "__qualname__", getattr(value, "__name__", "")) or ""),
            "where": where}

def _fingerprint(watched):
    result = {}
    for label, module_name, attribute in watched:
        try:
            module = _il.import_module(module_name)
            for part in filter(None, attribute.split(".")):
                module = getattr(module, part)
            names = dict(vars(module))
        except Exception as error:
            result[label] = {"__error__": f"{type(error).__name__}: {error}"}
            continue
        # Which module object answers to this name: replacing it in sys.modules replaces all.
        entries = {"__module__": {"id": id(module), "file": str(getattr(module, "__file__", "") or "")}}
        for name, value in names.items():
            if name.startswith("_"):
                continue
            if isinstance(value, _types.ModuleType):  # lazy loaders get replaced by modules
                entries[name] = {"module": getattr(value, "__name__", "")}
                continue
            try:
                # A bound method is a new object at each attribute access (ipykernel rebinds
                # builtins.input for every request): what matters is the function behind it.
                target = getattr(value, "__func__", value) if hasattr(value, "__self__") else value
                code = getattr(target, "__code__", None)
                entries[name] = {"id": id(target), "code": id(code) if code is not None else None,
                                 "defaults": repr(getattr(value, "__defaults__", None))[:200],
                                 "about": _describe(value)}
            except Exception as error:  # an object whose attributes cannot be read: its identity
                entries[name] = {"id": id(value), "code": None, "defaults": "",
                                 "about": {"type": type(value).__name__, "module": "",
                                           "qualname": name, "where": f"unreadable: {error}"}}
        result[label] = entries
    return result
'''

_BASELINE_TEMPLATE = r'''
def _grader_baseline(out_path, watched):
    import importlib
    for module_name in ("numpy", "tensorflow", "keras", "public_tests"):
        try:
            importlib.import_module(module_name)
        except Exception:
            pass
    with open(out_path, "w", encoding="utf-8") as handle:
        _json.dump(_fingerprint(watched), handle)

_grader_baseline(OUT_PATH, WATCHED)
'''

_EXTRACT_TEMPLATE = r'''
import contextlib as _contextlib, io as _io, os as _os, signal as _signal, sys as _sys
import threading as _threading


class _CallTookTooLong(BaseException):
    # BaseException: a student's `except Exception` must not swallow the grader's time limit.
    pass


def _grader_extract(private, user_ns, watched, check_names, softmax_functions, per_call):
    import importlib.util
    import numpy as np

    with open(_os.path.join(private, AFTER_FILE), "w", encoding="utf-8") as handle:
        _json.dump(_fingerprint(watched), handle)

    report = {"checks": {}, "softmax": {}, "model": {}}
    loaded = _sys.modules.get("public_tests")
    report["public_tests_file"] = str(getattr(loaded, "__file__", "") or "")
    for name in check_names:
        value = user_ns.get(name, None)
        report["checks"][name] = {"defined": name in user_ns,
                                  "about": _describe(value) if value is not None else None}

    arrays = {}

    def save(array):
        key = f"a{len(arrays)}"
        arrays[key] = array
        return key

    def on_alarm(signum, frame):
        raise _CallTookTooLong()

    can_time = _threading.current_thread() is _threading.main_thread()

    def record_call(function, calls, phase, z):
        # Call the student's function on z; record input, output or exception; re-raise.
        entry = {"phase": phase, "input": save(np.array(z, copy=True))}
        calls.append(entry)
        if can_time:
            previous = _signal.signal(_signal.SIGALRM, on_alarm)
            _signal.setitimer(_signal.ITIMER_REAL, per_call)
        try:
            output = function(z)
        except _CallTookTooLong:
            entry["exception"] = {"type": "TimeoutError", "builtin": True,
                                  "message": f"the call took longer than {per_call} s"}
            entry["input_after"] = save(np.array(z, copy=True))
            raise TimeoutError(entry["exception"]["message"]) from None
        except Exception as error:
            entry["exception"] = {"type": type(error).__name__, "message": str(error)[:500],
                                  "builtin": type(error).__module__ == "builtins"}
            entry["input_after"] = save(np.array(z, copy=True))
            raise
        finally:
            if can_time:
                _signal.setitimer(_signal.ITIMER_REAL, 0)
                _signal.signal(_signal.SIGALRM, previous)
        entry["input_after"] = save(np.array(z, copy=True))
        entry.update(describe_output(output))
        return output

    def describe_output(output):
        kind = type(output)
        info = {"output_type": f"{kind.__module__}.{kind.__qualname__}"}
        if output is None:
            info["kind"] = "none"
        elif isinstance(output, np.ndarray) and output.dtype != object:
            info.update(kind="ndarray", output=save(np.array(output, copy=True)))
        elif isinstance(output, np.generic):
            info.update(kind="numpy_scalar", output=save(np.asarray(output)))
        elif type(output) in (bool, int, float, complex):
            info.update(kind="python_scalar", output=save(np.asarray(output)))
        elif type(output) in (list, tuple):
            try:
                value = np.asarray(output)
            except Exception:
                value = None
            if value is not None and value.dtype != object:
                info.update(kind=type(output).__name__, output=save(value))
            else:
                info["kind"] = "other"
        else:
            info["kind"] = "other"
            try:
                value = np.asarray(output)
                if value.dtype != object:
                    info["value"] = save(value)
            except Exception:
                pass
        return info

    spec = importlib.util.spec_from_file_location(MODULE_NAME, _os.path.join(private, PUBLIC_COPY))
    reference = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(reference)
    hidden = np.load(_os.path.join(private, HIDDEN_FILE), allow_pickle=False)
    hidden_inputs = [hidden[key] for key in sorted(hidden.files, key=lambda k: int(k[1:]))]

    for function_name, check_name in softmax_functions.items():
        entry = report["softmax"][function_name] = {"defined": function_name in user_ns}
        student = user_ns.get(function_name, None)
        entry["callable"] = callable(student)
        if not callable(student):
            continue
        entry["about"] = _describe(student)
        public_calls, hidden_calls = [], []

        def recorder(z, _student=student, _calls=public_calls):
            return record_call(_student, _calls, "public", z)

        recorder.__name__ = function_name
        printed = _io.StringIO()
        try:
            with _contextlib.redirect_stdout(printed):
                getattr(reference, check_name)(recorder)
            entry["in_kernel_public_check"] = "passed"
        except AssertionError as error:
            entry["in_kernel_public_check"] = f"failed: {str(error)[:300]}"
        except Exception as error:
            entry["in_kernel_public_check"] = f"error: {type(error).__name__}: {str(error)[:300]}"
        entry["public_calls"] = public_calls
        for z in hidden_inputs:
            try:
                record_call(student, hidden_calls, "hidden", z)
            except Exception:
                pass  # recorded; judged by the grader
        entry["hidden_calls"] = hidden_calls

    model = user_ns.get("model", None)
    info = report["model"]
    info["defined"] = "model" in user_ns
    if model is not None:
        kind = type(model)
        info["type"] = f"{kind.__module__}.{kind.__qualname__}"
        try:
            model.save(_os.path.join(private, MODEL_FILE))
            info["saved"] = True
        except Exception as error:
            info["saved"] = False
            info["save_error"] = f"{type(error).__name__}: {str(error)[:300]}"

    np.savez(_os.path.join(private, RECORDS_FILE), **arrays)
    with open(_os.path.join(private, EXTRACT_FILE), "w", encoding="utf-8") as handle:
        _json.dump(report, handle)


_grader_extract(PRIVATE, get_ipython().user_ns, WATCHED, CHECK_NAMES, SOFTMAX_FUNCTIONS, PER_CALL)
'''


def _probe(template, constants):
    """A probe cell: the code runs in a fresh namespace, so it neither reads nor leaves names in
    the notebook's namespace (the student's code may have rebound anything there)."""
    body = _FINGERPRINT_SOURCE + template
    # get_ipython is looked up in the builtins IPython installs, not in the student's namespace.
    namespace = ", ".join(f"{name!r}: {value!r}" for name, value in constants.items())
    return (f"exec(compile({body!r}, '<grader probe>', 'exec'), "
            f"{{'__name__': '__grader_probe__', 'get_ipython': __import__('IPython').get_ipython, "
            f"{namespace}}})")


def baseline_probe(private_dir):
    """The probe run before the student's first cell."""
    return _probe(_BASELINE_TEMPLATE, {"OUT_PATH": str(private_dir / BASELINE_FILE),
                                       "WATCHED": WATCHED_MODULES})


def extract_probe(private_dir, module_name):
    """The probe run after the student's last cell; ``module_name`` is unique per submission."""
    return _probe(_EXTRACT_TEMPLATE, {
        "PRIVATE": str(private_dir), "WATCHED": WATCHED_MODULES, "CHECK_NAMES": CHECK_NAMES,
        "SOFTMAX_FUNCTIONS": SOFTMAX_FUNCTIONS, "PER_CALL": PER_CALL_SECONDS,
        "AFTER_FILE": AFTER_FILE, "EXTRACT_FILE": EXTRACT_FILE, "RECORDS_FILE": RECORDS_FILE,
        "MODEL_FILE": MODEL_FILE, "HIDDEN_FILE": HIDDEN_INPUTS_FILE,
        "PUBLIC_COPY": PUBLIC_TESTS_COPY, "MODULE_NAME": module_name})


def read_json(path):
    """A probe's JSON file, or None when the probe did not write it."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
