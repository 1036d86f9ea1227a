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
        submission that could not be graded), else passed when every graded exercise passed."""
        self.score = sum(result.points for result in self.exercises.values())
        self.flagged = any(item.severity == TAMPERING for item in self.findings)
        graded = [self.exercises.get(item.id) for item in spec.GRADED]
        self.status = status or ("passed" if all(result is not None and result.passed
                                                 for result in graded) else "failed")
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
        stem = stem[:limit - 9] + "-" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]
    candidate, number = stem, 1
    while candidate.lower() in taken:
        number += 1
        candidate = f"{stem}-{number}"
    taken.add(candidate.lower())
    return candidate


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
