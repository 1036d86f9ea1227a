"""Every kind of finding, once: its severity, what it means for the instructor, and the text a
student sees. Detectors only name a kind (:func:`finding`); this table decides the rest.

Findings describe behaviour; they never decide marks. Marks come from the values the student's
own functions return on the grader's inputs and from the architecture the model reports, judged
in the grader's process (:mod:`instructor.grading.exercises`): code that forges those values
has to compute them, which is what the exercises ask. So no kind takes points away. Severity:

- ``tampering``: behaviour aimed at the lab's checks or at the grader (a check cell deleted, a
  library patched, a hook installed, the interpreter's state walked). The submission is
  *flagged* for the instructor to look at; its marks stand.
- ``warning``: unusual, but honest work does it too (a scratch cell with random numbers, a
  progress thread, moved cell metadata); listed for the instructor, never shown to the student.
"""
from dataclasses import asdict, dataclass

TAMPERING, WARNING = "tampering", "warning"


@dataclass(frozen=True)
class Kind:
    """One kind of finding.

    Attributes:
      name: its id in reports (``report.json``'s ``findings[].kind``).
      severity: ``tampering`` or ``warning`` (see the module).
      means: one sentence for the instructor: what was seen, and what the grader did about it.
      student_text: what a student's feedback says about it (only tampering reaches students).
    """
    name: str
    severity: str
    means: str
    student_text: str = ""


_UNCHANGED = "This does not change your marks, which come from what your own code computes"
KINDS = {kind.name: kind for kind in (
    # -- the lab's checks and files ---------------------------------------------------------------
    Kind("check_cell_deleted", TAMPERING,
         "a graded check cell was deleted; the grader ran the instructor's in its place",
         f"A check cell of the lab was deleted; the grader ran the lab's own. {_UNCHANGED}."),
    Kind("check_cell_edited", TAMPERING,
         "a check cell's call was changed; the grader ran the instructor's cell",
         f"A check cell of the lab was changed; the grader ran the lab's own. {_UNCHANGED}."),
    Kind("check_cell_kept_and_extended", WARNING,
         "a check cell still makes its call but has other lines too; the grader ran the "
         "instructor's cell"),
    Kind("optional_check_changed", WARNING,
         "the check cell of an optional challenge was deleted or changed (it never costs "
         "points); the grader ran the instructor's"),
    Kind("check_cell_moved", WARNING,
         "a check cell was found at another place than the source notebook's; the grader ran it "
         "where the submission has it"),
    Kind("check_metadata_moved", WARNING,
         "a cell carries the check metadata of an exercise without being its check cell (a "
         "copied cell keeps its metadata); the grader ignored that metadata"),
    Kind("check_redefined", TAMPERING,
         "the notebook defines, assigns, imports under another name or deletes a name of the "
         "lab's public checks",
         f"Your notebook redefines one of the lab's checks. {_UNCHANGED}: the grader runs the "
         f"lab's own checks on your functions' results."),
    Kind("public_tests_modified", TAMPERING,
         "public_tests.py beside the notebook differs from the instructor's, or the notebook "
         "changed it while it ran; the grader used its own copy",
         f"The lab's public_tests.py was changed. {_UNCHANGED}: the grader uses its own copy."),
    Kind("helper_file_written", TAMPERING,
         "a cell writes one of the lab's helper files (%%writefile, open for writing)",
         f"A cell of your notebook writes one of the lab's helper files. {_UNCHANGED}: the "
         f"grader uses its own copies."),
    Kind("helper_file_changed", TAMPERING,
         "a helper or data file in the grader's work folder was changed or removed while the "
         "notebook ran (the grader's copy, not the student's)",
         f"Your notebook changed one of the lab's files while it ran. {_UNCHANGED}."),
    Kind("helper_file_shell", WARNING,
         "a shell command in a cell names one of the lab's helper files"),
    Kind("submitted_file_differs", WARNING,
         "a helper or data file beside the notebook differs from the instructor's; the grader "
         "used its own copy"),
    # -- code that aims at the grader or at the checks ------------------------------------------------
    Kind("monkeypatch", TAMPERING,
         "the notebook assigns, deletes or setattr()s an attribute of a library the lab relies "
         "on (NumPy, TensorFlow, Keras, IPython, public_tests, builtins, ...) or of its objects",
         f"Your notebook changes a library the lab relies on. {_UNCHANGED}, judged outside your "
         f"notebook."),
    Kind("hook_installed", TAMPERING,
         "the notebook installs a hook that runs its code when other code runs: an IPython event "
         "callback, input or AST transformer or exception handler, an audit hook, a trace or "
         "profile function",
         f"Your notebook installs a hook into Python or IPython. {_UNCHANGED}, judged outside "
         f"your notebook."),
    Kind("introspection", TAMPERING,
         "the notebook walks the interpreter's own state: the garbage collector's objects, "
         "stack frames, ctypes",
         f"Your notebook inspects the interpreter's internal state. {_UNCHANGED}, judged "
         f"outside your notebook."),
    Kind("answer_uses_checks", WARNING,
         "an answer is, or calls, the lab's own reference code in public_tests.py: it earns the "
         "marks its values earn (a copied formula cannot be told apart from one written)"),
    Kind("thread_started", WARNING,
         "the notebook starts a thread or a process (honest progress bars do too)"),
    Kind("suspicious_call", WARNING,
         "the notebook calls exec, eval, compile, __import__, globals, setattr, delattr or "
         "reload (nothing in the lab needs them)"),
    Kind("builtins_access", WARNING, "the notebook uses __builtins__ or imports builtins"),
    Kind("star_import", WARNING, "a `from ... import *` that could replace a check's name"),
    Kind("namespace_write", WARNING, "the notebook assigns through globals() or vars()"),
    # -- the run ----------------------------------------------------------------------------------------
    Kind("kernel_messages_unreadable", TAMPERING,
         "a message from the kernel failed jupyter_client's decoding or signature check: code "
         "in the notebook replaced how the kernel encodes or signs messages; the kernel was "
         "stopped and nothing after that cell could be graded",
         "Your notebook changed how the kernel talks to the grader, so the grader could not "
         "read its results: the exercises after that point were not graded."),
    Kind("grader_call_interfered", TAMPERING,
         "the kernel did not answer the grader's call for an exercise's values as it answers "
         "any cell (the answer was missing or malformed): code in the notebook intercepted it; "
         "that exercise was not graded",
         "Your notebook interfered with how the grader calls your functions, so an exercise "
         "could not be graded."),
    # -- stored outputs (never evidence: the grader runs the notebook itself) -------------------------
    Kind("outputs_edited", WARNING,
         "stored outputs differ from the grader's fresh run beyond what a platform changes (a "
         "scratch cell with random numbers, a cell run twice, or an edit)"),
    Kind("outputs_numbers_differ", WARNING,
         "numbers in the stored outputs differ slightly from the grader's fresh run (another "
         "platform or library version)"),
    Kind("outputs_not_compared", WARNING,
         "some stored outputs were too large to compare (a line over the grader's bound), so "
         "they were not"),
)}


@dataclass
class Finding:
    """One finding, as reports store it (``report.json``'s ``findings[]``)."""
    kind: str
    severity: str
    message: str
    cell: object = None  # the submission's cell index, when there is one
    exercise: object = None  # the exercise it concerns, when there is one

    def to_json(self):
        return asdict(self)


def finding(kind, message, cell=None, exercise=None):
    """A :class:`Finding` of ``kind``, its severity taken from :data:`KINDS`.

    Raises:
      KeyError: an unknown kind (the message lists the known ones).
    """
    if kind not in KINDS:
        raise KeyError(f"no finding kind {kind!r}; the kinds are {', '.join(sorted(KINDS))}")
    return Finding(kind, KINDS[kind].severity, message, cell, exercise)


def flagged(findings):
    """Whether any finding is of a tampering kind."""
    return any(item.severity == TAMPERING for item in findings)
