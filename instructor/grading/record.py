"""The grading record: one typed record per submission, written by the grader and read by every
report, the merge of shards, the feedback and Gradescope's results.

:meth:`Report.to_json` writes ``report.json``; its JSON Schema is ``report.schema.json`` next to
this module (:data:`SCHEMA_PATH`), versioned by :data:`SCHEMA_VERSION` (the document's
``schema_version``), and the tests validate every report the grader writes against it.
:meth:`Report.from_json` reads one back (the merge reads the shards' reports with it).
"""
import hashlib
import json
import re
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from instructor.findings.registry import TAMPERING, Finding
from instructor.lab import spec

SCHEMA_VERSION = 2
SCHEMA_PATH = Path(__file__).with_name("report.schema.json")
# Characters a record keeps of any one text (a message, a cell's first line, a finding) and of a
# grader's traceback. A submission controls many of these texts (an exception's message, a value
# that nbformat's validation quotes): uncapped, 50 errors of 10,000,000 characters took the
# supervisor to 6.3 GB and wrote a 3 GB report.json (measured by a red team).
MAX_TEXT = 4_000
MAX_TRACEBACK = 20_000


def clip(text, limit=MAX_TEXT):
    """``text`` cut to ``limit`` characters, saying how many more it had; at most ``limit`` +
    64 characters are kept, so that a clipped text is left as it is (records are clipped in the
    grading process and again when they reach the supervisor)."""
    text = str(text)
    if len(text) <= limit + 64:
        return text
    return f"{text[:limit]}... [{len(text) - limit:,} more characters cut by the grader]"

# A submission's status: passed (every graded exercise passed), failed, or error (it could not
# be graded at all: unreadable, refused by a limit, or the grader failed on it).
STATUSES = ("passed", "failed", "error")
# An exercise's status: "not graded" when its values could not be had (the kernel stopped first,
# the notebook interfered with the grader's calls), "not attempted" for an untouched optional
# challenge.
EXERCISE_STATUSES = ("passed", "failed", "not attempted", "not graded")


@dataclass
class ExerciseResult:
    """One exercise of one submission.

    Attributes:
      exercise, title, optional: from the lab spec.
      points, max_points: earned and possible (0 for an optional exercise).
      status: one of :data:`EXERCISE_STATUSES`; ``passed`` says whether it counts as passed.
      message: the verdict, for the instructor (a hidden check's message names its inputs).
      public_check: the public check's own message on the student's values.
      hidden_failures: the hidden checks' messages, one per failure.
      check_cell: how its check cell ended in the grader's run ("ok", "error", "not run", ...).
    """
    exercise: str
    title: str
    points: int
    max_points: int
    passed: bool
    status: str
    message: str
    public_check: str = ""
    hidden_failures: list = field(default_factory=list)
    check_cell: str = ""
    optional: bool = False

    @classmethod
    def make(cls, exercise_id, status, message, public_check="", hidden=(), check_cell=""):
        item = spec.exercise(exercise_id)
        passed = status == "passed"
        return cls(item.id, item.title, item.points if passed else 0, item.points, passed,
                   status, message, public_check, list(hidden), check_cell, item.optional)


@dataclass
class CellError:
    """A cell of the grader's run that did not end normally."""
    cell: object  # the submission's cell index, None for the notebook as a whole
    status: str  # error, timeout, killed, unreadable, not run, or why it could not be graded
    message: str
    graded_cell: object = None  # "exercise_1 check" when the cell is a graded one
    source: str = ""  # its first line
    traceback: str = ""  # the grader's own traceback, for a grader error only


@dataclass
class Timings:
    """Seconds spent on one submission."""
    total: float = 0.0
    notebook_run: float = 0.0  # the kernel, from its start to its stop
    calls: float = 0.0  # the grader's calls to the student's functions in the kernel
    checks: float = 0.0  # judging in the grader's process, the retraining included
    retrain: float = 0.0  # the retraining alone (0 when an earlier one was reused)
    retrain_reused: bool = False


@dataclass
class SubmissionRecord:
    """Everything the grader found out about one submission."""
    name: str
    notebook: str
    folder: object = None
    status: str = "error"
    score: int = 0
    max_score: int = spec.MAX_SCORE
    flagged: bool = False  # a tampering finding: for the instructor to look at; marks stand
    exercises: dict = field(default_factory=dict)  # exercise id -> ExerciseResult
    findings: list = field(default_factory=list)  # Finding
    errors: list = field(default_factory=list)  # CellError
    timings: Timings = field(default_factory=Timings)
    isolation: str = "none"  # "sandbox", "user <name>" or "none"
    refused: str = ""  # the limit that refused the submission, if one did
    peak_memory_mb: float = 0.0  # the kernel's processes together
    last_cell_run: object = None  # with --stop-after-checks, the last cell run
    outputs_compared: int = 0
    executed_notebook: str = ""

    def finish(self, status=None):
        """Set the score, ``flagged``, and the status: ``status`` if given (``"error"`` for a
        submission that could not be graded), else passed when every graded exercise passed.
        Every text is clipped (:meth:`clip_texts`)."""
        self.clip_texts()
        self.score = sum(result.points for result in self.exercises.values())
        self.flagged = any(item.severity == TAMPERING for item in self.findings)
        graded = [self.exercises.get(item.id) for item in spec.GRADED]
        self.status = status or ("passed" if all(result is not None and result.passed
                                                 for result in graded) else "failed")
        return self

    def clip_texts(self):
        """Cut every text the submission can make long to :data:`MAX_TEXT` characters (a
        traceback to :data:`MAX_TRACEBACK`, a cell's first line to 300), and keep at most 600
        findings and cell errors (a notebook has at most 500 cells)."""
        self.name, self.notebook, self.refused = clip(self.name), clip(self.notebook), clip(self.refused)
        for result in self.exercises.values():
            result.message, result.public_check = clip(result.message), clip(result.public_check)
            result.hidden_failures = [clip(text) for text in result.hidden_failures[:100]]
        self.findings = self.findings[:600]
        for item in self.findings:
            item.message = clip(item.message)
        self.errors = self.errors[:600]
        for error in self.errors:
            error.message, error.source = clip(error.message), clip(error.source, 300)
            error.traceback = clip(error.traceback, MAX_TRACEBACK)
        return self

    def to_json(self):
        data = asdict(self)
        data["exercises"] = {key: asdict(value) for key, value in self.exercises.items()}
        return data

    @classmethod
    def from_json(cls, data):
        values = {item.name: data[item.name] for item in fields(cls) if item.name in data}
        values["exercises"] = {key: ExerciseResult(**value)
                               for key, value in data.get("exercises", {}).items()}
        values["findings"] = [Finding(**value) for value in data.get("findings", [])]
        values["errors"] = [CellError(**value) for value in data.get("errors", [])]
        values["timings"] = Timings(**data.get("timings", {}))
        return cls(**values)


@dataclass
class Report:
    """One ``report.json``: a grading run (or the merge of shards) and its records."""
    graded_at: str
    seconds: float
    jobs: int
    options: dict
    submissions: list  # SubmissionRecord, in the order of the run
    shard: object = None  # a shard's own description (grade --shard K/N)
    shards: object = None  # a merged report: one summary per shard
    schema_version: int = SCHEMA_VERSION

    def to_json(self):
        data = {"schema_version": self.schema_version, "graded_at": self.graded_at,
                "seconds": round(self.seconds, 2), "jobs": self.jobs, "options": self.options}
        if self.shard is not None:
            data["shard"] = self.shard
        if self.shards is not None:
            data["shards"] = self.shards
        data["submissions"] = [record.to_json() for record in self.submissions]
        return data

    @classmethod
    def from_json(cls, data):
        return cls(data["graded_at"], data["seconds"], data["jobs"], data["options"],
                   [SubmissionRecord.from_json(item) for item in data["submissions"]],
                   data.get("shard"), data.get("shards"), data.get("schema_version", 1))


def file_stem(name, taken, limit=80):
    """A file name for a submission's files (feedback, the grader's run): the name's safe
    characters, at most ``limit`` of them (a folder name may be 255 characters, and a suffix
    must still fit), unique among ``taken`` (a set of lower-case stems, updated)."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "submission"
    if len(stem) > limit:
        stem = stem[:limit - 9] + "-" + hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    candidate, number = stem, 1
    while candidate.lower() in taken:
        number += 1
        candidate = f"{stem}-{number}"
    taken.add(candidate.lower())
    return candidate


def unique_stem(name):
    """A file name for one submission that no other name shares, with no list of the names
    taken (each submission is graded in a process of its own): :func:`file_stem` and a hash of
    the whole name ("a b" and "a_b" both made a_b.ipynb, one overwriting the other)."""
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return f"{file_stem(name, set(), limit=63)}-{digest}"


def schema():
    """The JSON Schema of ``report.json`` (a dict)."""
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def not_graded(reason, exercises=spec.EXERCISES):
    """{exercise id: result} saying that ``exercises`` could not be graded: the status "not
    graded", the message why."""
    return {item.id: ExerciseResult.make(item.id, "not graded", reason) for item in exercises}


def error_record(submission, isolation, status, message, details="", refused=""):
    """The record of a submission that could not be graded at all (``isolation``: what the
    options describe, e.g. "sandbox")."""
    record = SubmissionRecord(submission.name, str(submission.notebook),
                              str(submission.folder) if submission.folder else None,
                              isolation=isolation, refused=refused)
    record.exercises = not_graded(f"{status}: {message}")
    record.errors.append(CellError(None, status, message, traceback=details))
    return record.finish("error")
