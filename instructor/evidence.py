"""The grader's side of :mod:`instructor.kernel_probe`: the probe cells, the secret inputs, and
reading the evidence that comes back.

Per submission the grader draws a random audit-event token (the only way to reach the probe's
state in the kernel) and a random signing key; the hidden softmax inputs come from an HMAC of the
grader's secret and the submission's name (reproducible for the instructor, unknown to the
kernel). The token reaches the kernel in the baseline cell, before the student's first cell; the
hidden inputs in the extract cell and the key in the seal cell, after the student's last one.

Evidence is accepted only from the seal cell's outputs, as one display_data of the probe's MIME
type carrying a valid HMAC-SHA256 signature. Nothing is read from files the notebook could write.
"""
import ast
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from instructor import hidden_checks, kernel_probe
from instructor.spec import EXERCISES
from instructor.tamper import TAMPERING, WARNING, finding

SECRET_VARIABLE = "LAB_GRADER_SECRET"
PROBE_FILENAME = "/lab-grader/kernel_probe.py"  # the name the probe's code gets in tracebacks
PER_CALL_SECONDS = 10  # a student's softmax call that takes longer is stopped and recorded
# Modules whose functions are compared by identity with their state before the student's code.
WATCHED = ("builtins", "sys", "math", "threading", "signal", "io", "contextlib", "functools",
           "importlib", "json", "_hashlib", "hashlib", "hmac", "tensorflow", "tensorflow.nn",
           "tensorflow.math", "keras", "keras.activations", "keras.layers", "keras.losses",
           "keras.models", "keras.ops", "keras.optimizers", "keras.utils", "keras.saving",
           "IPython", "IPython.core.display_functions", "ipykernel.zmqshell",
           "ipykernel.iostream", "jupyter_client.session", "public_tests")
WATCHED_PREFIXES = ("numpy",)  # every NumPy module, its private ones included
ARRAY_KINDS = "biufc"  # booleans, integers and floats: no object arrays come back


def grader_secret():
    """The secret the hidden inputs derive from: ``$LAB_GRADER_SECRET`` if set, else the hidden
    checks' seed (in the grader's package, which never ships and never enters the sandbox)."""
    value = os.environ.get(SECRET_VARIABLE)
    if value:
        return value.encode("utf-8")
    return str(hidden_checks.SECRET_SEED).encode("ascii")


def hidden_inputs(submission_name, secret=None):
    """The hidden softmax inputs for this submission (the same for the same name and secret)."""
    digest = hmac.new(secret or grader_secret(), submission_name.encode("utf-8"),
                      hashlib.sha256).digest()
    return hidden_checks.softmax_inputs(seed=int.from_bytes(digest[:8], "big"))


def check_call_arguments(exercise):
    """The literal arguments after the first in an exercise's check call, e.g. (10, 400) for
    ``test_model(model, 10, 400)``."""
    call = ast.parse(exercise.check_call, mode="eval").body
    return tuple(ast.literal_eval(argument) for argument in call.args[1:])


def probe_settings():
    """What the probe records, read from the lab spec."""
    model = next(item for item in EXERCISES if item.kind == "model")
    return {"watched": list(WATCHED), "watched_prefixes": list(WATCHED_PREFIXES),
            "checks": [item.check_function for item in EXERCISES],
            "softmax": {item.records[0]: item.check_function
                        for item in EXERCISES if item.kind == "softmax"},
            "model": model.records[0], "model_check": model.check_function,
            "model_check_arguments": list(check_call_arguments(model)),
            "per_call": PER_CALL_SECONDS, "public_tests": "public_tests"}


@dataclass
class ProbePlan:
    """The probe cells for one submission and the secrets they carry."""
    hidden: list
    token: str = field(default_factory=lambda: f"lab.grader.{secrets.token_hex(16)}")
    key: bytes = field(default_factory=lambda: secrets.token_bytes(32))

    def before(self):
        """[(name, code)] run before the student's first cell."""
        source = Path(kernel_probe.__file__).read_text(encoding="utf-8")
        source += f"\ninstall({self.token!r}, {probe_settings()!r})\n"
        # Builtins: a private copy taken now, before the student's code could change any.
        return [("baseline", f"exec(compile({source!r}, {PROBE_FILENAME!r}, 'exec'), "
                             f"{{'__name__': '_lab_grader_probe', "
                             f"'__builtins__': dict(vars(__import__('builtins')))}})")]

    def after(self):
        """[(name, code or function)] run after the student's last cell, in this order. The
        hidden inputs and the key are put in the cells only when they run."""
        encoded = [[z.dtype.str, list(z.shape), z.tobytes().hex()] for z in self.hidden]
        return [("inspect", self._trigger("inspect", None)),
                ("extract", lambda: self._trigger("extract", encoded)),
                ("seal", lambda: self._trigger("seal", self.key.hex()))]

    def _trigger(self, stage, payload):
        return f"__import__('sys').audit({self.token!r}, {stage!r}, {payload!r})"


def plan_for(submission_name):
    """A new :class:`ProbePlan` for this submission."""
    return ProbePlan(hidden_inputs(submission_name))


# ---------------------------------------------------------------------------------------------
# Reading the evidence
# ---------------------------------------------------------------------------------------------

def decode(text):
    """The value :func:`instructor.kernel_probe.encode` encoded.

    Raises:
      ValueError: the text is not in that format.
    """
    return _decode_value(json.loads(text))


def _decode_value(value):
    if isinstance(value, list):
        return [_decode_value(item) for item in value]
    if isinstance(value, dict):
        [(tag, content)] = value.items()
        if tag == "s":
            return bytes.fromhex(content).decode("utf-8", "surrogatepass")
        if tag == "b":
            return bytes.fromhex(content)
        if tag == "f":
            return float(content)
        if tag == "d":
            return {bytes.fromhex(content[i]).decode("utf-8", "surrogatepass"):
                    _decode_value(content[i + 1]) for i in range(0, len(content), 2)}
        raise ValueError(f"unknown tag {tag!r}")
    if value is None or isinstance(value, (bool, int)):
        return value
    raise ValueError(f"unexpected {type(value).__name__} in the evidence")


def read_evidence(run, plan):
    """(evidence dict, problem): the signed evidence of the seal cell, or None and why not."""
    probe = run.probes.get("seal")
    if probe is None:
        return None, "the grader's probe did not run"
    for output in probe.outputs:
        text = output.get("data", {}).get(kernel_probe.MIME_TYPE) if output.get(
            "output_type") == "display_data" else None
        if not isinstance(text, str):
            continue
        signature, _, payload = text.partition("\n")
        expected = hmac.new(plan.key, payload.encode("utf-8"), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(signature, expected):
            return None, "the evidence's signature is wrong (it was altered in the kernel)"
        try:
            return decode(payload), ""
        except (ValueError, KeyError) as error:
            return None, f"the signed evidence could not be decoded ({error})"
    return None, "no signed evidence came back from the kernel"


def baseline_status(run):
    """The baseline probe's own status line ("installed", or why not)."""
    probe = run.probes.get("baseline")
    if probe is None:
        return "the baseline probe did not run"
    for output in probe.outputs:
        text = output.get("data", {}).get(kernel_probe.STATUS_MIME_TYPE)
        if isinstance(text, str):
            return text
    return f"the baseline probe reported nothing ({probe.status}: {probe.error})"


def decode_arrays(evidence):
    """{key: ndarray} of the recorded arrays; numbers only, sizes checked."""
    arrays = {}
    for key, (dtype, shape, data) in (evidence.get("arrays") or {}).items():
        dtype = np.dtype(dtype)
        if dtype.kind not in ARRAY_KINDS:
            continue
        raw = bytes.fromhex(data)
        shape = tuple(int(n) for n in shape)
        if len(raw) != dtype.itemsize * int(np.prod(shape, dtype=np.int64)):
            continue
        arrays[key] = np.frombuffer(raw, dtype=dtype).reshape(shape).copy()
    return arrays


# ---------------------------------------------------------------------------------------------
# Findings
# ---------------------------------------------------------------------------------------------

def evidence_findings(evidence):
    """Tampering and warnings from what the probe saw in the kernel (see kernel_probe)."""
    findings, seen = [], set()

    def add(kind, severity, message, exercise=None, same=None):
        # The stages inspect three times: each thing is reported once, when first seen.
        if (kind, same or message) not in seen:
            seen.add((kind, same or message))
            findings.append(finding(kind, severity, message, None, exercise))

    for error in evidence.get("baseline_errors", []) + ([evidence["seal_error"]]
                                                        if evidence.get("seal_error") else []):
        add("grader_probe_failed", WARNING, f"the grader's probe reported: {error}")
    for inspection in evidence.get("inspections", []):
        when = inspection.get("when", "")
        for label, name, what in inspection.get("changes", []):
            target = f"{label}.{name}" if name else label
            add("monkeypatch", TAMPERING, f"{target} {what} ({when}; the grader restored it)",
                same=(target, what))
        for hook in inspection.get("hooks", []):
            # Libraries register hooks too (matplotlib does): only the notebook's own count.
            if hook["from_notebook"]:
                add("hook_installed", TAMPERING,
                    f"the notebook registered an IPython {hook['where']}: {hook['what']} (found "
                    f"{when}; removed before the grader's code ran)", same=hook["what"])
        for tracer in inspection.get("tracers", []):
            add("tracer_installed", TAMPERING, f"a trace or profile function was set: {tracer} "
                                               f"(found {when}; removed)", same=tracer)
        for what in inspection.get("shell", []):
            add("shell_patched", TAMPERING, f"IPython's {what} ({when})", same=what)
        for thread in inspection.get("threads", []):
            # Libraries start threads of their own (pyzmq does): only the notebook's count.
            if thread["from_notebook"]:
                add("live_thread", TAMPERING,
                    f"a thread started from a notebook cell was still running {when}: "
                    f"{thread['name']} ({thread['code']})", same=thread["code"])
    for name, info in evidence.get("checks", {}).items():
        exercise = next((item.id for item in EXERCISES if item.check_function == name), None)
        if not info.get("defined"):
            add("check_missing", WARNING, f"{name} is not defined in the notebook after it ran",
                exercise)
        elif not info.get("instructors"):
            add("check_redefined", TAMPERING, f"{name} in the notebook is not the instructor's "
                                              f"check: it is {info.get('about')}", exercise)
    for name, info in evidence.get("softmax", {}).items():
        exercise = next((item.id for item in EXERCISES if item.records[0] == name), None)
        if info.get("taken_from_checks"):
            add("answer_from_checks", TAMPERING,
                f"{name} is the lab's own check code ({info.get('about')}), not the student's",
                exercise)
        if info.get("borrowed_calls"):
            add("answer_from_checks", TAMPERING,
                f"{name} calls code of {', '.join(sorted(set(info['borrowed_calls'])))} to "
                f"compute its answer", exercise)
        if info.get("profiler_removed"):
            add("probe_evaded", TAMPERING, f"{name} removed the grader's profiler while it ran",
                exercise)
    return findings
