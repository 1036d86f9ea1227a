"""Grade submissions: each in a fresh kernel and working directory, several in parallel.

For one submission (:func:`grade_submission`):

1. read the notebook (a broken file is reported, not fatal) and scan it statically for tampering;
2. copy the INSTRUCTOR's helper modules, data and images into a new temporary working directory
   (never the submission's own copies);
3. run the notebook, with the instructor's check cells put back (``check_cells``), in a fresh
   kernel there (per-cell time limit, memory limit): the kernel probe's baseline first, then
   every code cell (errors are recorded and the run goes on; with ``stop_after_checks``, only
   up to the last check cell), then the probe's stages, which receive the hidden inputs and
   the signing key only now (``evidence``, ``kernel_probe``);
4. grade every exercise in this process from the probe's signed evidence (``exercise_checks``;
   Exercise 2's architecture is retrained here, ``retrain``) and look for tampering
   (``evidence``, ``check_cells``, ``tamper``, ``static_scan``, ``output_compare``).

Status: ``passed`` (every graded exercise passed, no tampering), ``failed``, ``tampering`` or
``error`` (the submission could not be graded at all).
"""
import concurrent.futures
import multiprocessing
import os
import shutil
import signal
import tempfile
import time
import traceback
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import nbformat

from instructor import (ASSET_DIRS, DATA_FILES, HELPER_FILES, POINTS, PROJECT_ROOT,
                        SOURCE_NOTEBOOK)
from instructor import (check_cells, evidence, exercise_checks, output_compare, static_scan,
                        tamper)
from instructor import sandbox
from instructor.cells import NotebookError, first_line, graded_cells, read_notebook
from instructor.kernel_run import run_notebook
from instructor.sanitize import load_patterns


@dataclass(frozen=True)
class GradeOptions:
    """Limits for one submission's run."""
    cell_timeout: float = 120.0  # seconds per notebook cell
    memory_limit_mb: int = 3000  # resident memory of every process of the kernel's sandbox
    # CPU seconds of every process of the sandbox, for the whole run: an honest run uses about
    # 30; this stops a notebook of many cells that each stay just under the cell timeout.
    cpu_limit_seconds: float = 900.0
    # Disk the files in the submission's work folder may take (the lab's own: 3 MB); the
    # sandbox's /tmp is a 256 MB tmpfs of its own.
    disk_limit_mb: int = 1000
    probe_timeout: float = 180.0  # the extract probe saves a model and runs the checks' calls
    executed_dir: str = ""  # when set, the grader's own run of each notebook is saved there
    kernel_threads: int = 0  # threads per kernel; 0: the cores shared out between the jobs
    sandbox: bool = True  # each kernel inside bubblewrap (instructor.sandbox); False: --no-sandbox
    # Stop the run after the last check cell (--stop-after-checks): the grader retrains
    # Exercise 2 itself, so the cells after the checks (the trainings, the plots) grade nothing
    # and are about half of an honest run (measured). Off by default: the whole notebook runs,
    # as the student's Run All does, so whatever a later cell does is seen and reported.
    stop_after_checks: bool = False


def grade_submission(submission, options=GradeOptions()):
    """Grade one :class:`~instructor.submissions.Submission`; returns its report record (a dict)."""
    started = time.monotonic()
    record = _empty_record(submission)
    try:
        notebook = read_notebook(submission.notebook)
    except NotebookError as error:
        record["errors"].append({"cell": None, "status": "unreadable", "message": str(error)})
        record["exercises"] = exercise_checks.grade_exercises(None, {}, None,
                                                              "the notebook could not be read")
        record["timings"]["total"] = round(time.monotonic() - started, 2)
        return record

    exercise_checks.warm_up()  # Keras imports and trains the expected model while the kernel works
    findings = (static_scan.static_findings(notebook)
                + tamper.submitted_file_findings(submission.folder))
    record["sandboxed"] = options.sandbox
    # A fresh, randomly named folder per submission, made here and bound alone into the
    # sandbox: no two submissions' kernels share one, and none sees the grader's.
    with tempfile.TemporaryDirectory(prefix="grade-work-") as work:
        findings += _run_and_grade(submission, notebook, Path(work), options, record)
    record["findings"] = findings
    _void_borrowed_answers(record)
    record["score"] = sum(result["points"] for result in record["exercises"].values())
    if any(item["severity"] == tamper.TAMPERING for item in findings):
        record["status"] = "tampering"
    elif all(record["exercises"][exercise]["passed"] for exercise in POINTS):
        record["status"] = "passed"
    else:
        record["status"] = "failed"
    record["timings"]["total"] = round(time.monotonic() - started, 2)
    return record


# Findings that say an exercise's answer is not the student's: that exercise earns nothing.
ANSWER_NOT_THEIRS = ("answer_from_checks", "probe_evaded")


def _void_borrowed_answers(record):
    for item in record["findings"]:
        result = record["exercises"].get(item.get("exercise"))
        if item["kind"] in ANSWER_NOT_THEIRS and result and result["passed"]:
            result.update(points=0, passed=False,
                          message=f"not the student's answer: {item['message']}")


def _empty_record(submission):
    return {"name": submission.name, "notebook": str(submission.notebook),
            "folder": str(submission.folder) if submission.folder else None,
            "status": "error", "score": 0, "max_score": sum(POINTS.values()),
            "exercises": {}, "findings": [], "errors": [], "timings": {}}


def _run_and_grade(submission, notebook, workdir, options, record):
    """Run the notebook in ``workdir`` with the instructor's check cells and the kernel probe,
    grade it from the probe's signed evidence; fills ``record`` and returns the findings of the
    run (check cells, kernel, working directory, stored outputs). Nothing the grader relies on
    passes through files."""
    hashes = _prepare_workdir(workdir)
    plan = evidence.plan_for(submission.name)
    restored = check_cells.restore(read_notebook(SOURCE_NOTEBOOK), notebook)
    fresh = restored.notebook
    last_cell = last_check_cell(fresh) if options.stop_after_checks else None
    record["last_cell_run"] = restored.origin[last_cell] if last_cell is not None else None
    run = run_notebook(fresh, workdir, cell_timeout=options.cell_timeout, last_cell=last_cell,
                       memory_limit_mb=options.memory_limit_mb,
                       cpu_limit_seconds=options.cpu_limit_seconds,
                       disk_limit_mb=options.disk_limit_mb, before=plan.before(),
                       after=plan.after(), probe_timeout=options.probe_timeout,
                       threads=options.kernel_threads, sandboxed=options.sandbox)
    record["timings"]["notebook_run"] = run.seconds
    record["timings"]["probe"] = round(sum(probe.seconds for probe in run.probes.values()), 2)
    record["peak_memory_mb"] = run.peak_memory_mb
    record["errors"] = _cell_errors(fresh, run)
    for error in record["errors"]:  # numbered as in the submission, when the cell is theirs
        if error["cell"] is not None and restored.origin[error["cell"]] is not None:
            error["cell"] = restored.origin[error["cell"]]
    if options.executed_dir:
        Path(options.executed_dir).mkdir(parents=True, exist_ok=True)
        record["executed_notebook"] = str(Path(options.executed_dir) / f"{submission.name}.ipynb")
        nbformat.write(fresh, record["executed_notebook"])

    checks_started = time.monotonic()
    found, problem = evidence.read_evidence(run, plan)
    arrays = evidence.decode_arrays(found) if found is not None else {}
    record["exercises"] = exercise_checks.grade_exercises(
        found, arrays, plan.hidden, run.stopped or ("" if found is not None else problem),
        record["timings"])
    findings = list(restored.findings) + _unreadable_messages(run, restored.origin)
    if found is not None:
        findings += evidence.evidence_findings(found)
    elif not run.stopped:  # a killed kernel sends nothing: that is not the student's doing
        findings.append(_missing_evidence(run, problem))
    findings += tamper.workdir_findings(hashes, workdir)
    findings += output_compare.output_findings(notebook, fresh, run.cells, load_patterns(),
                                               restored.origin)
    record["outputs_compared"] = len(output_compare.compared_cells(notebook, run.cells,
                                                                   restored.origin))
    record["timings"]["checks"] = round(time.monotonic() - checks_started, 2)
    return findings


def last_check_cell(notebook):
    """The index of the last check cell of ``notebook`` (one with the instructor's check cells
    put back), after which no cell is needed for grading."""
    return max(index for index, _ in graded_cells(notebook, "check").values())


def _unreadable_messages(run, origin):
    """Tampering when a message from the kernel failed jupyter_client's checks (kernel_run's
    "unreadable" status): ipykernel encodes and signs every message itself, so only code that
    replaced what does it (json.dumps, the session's packer or key) makes one unreadable."""
    where = [(origin[cell.index], cell.error) for cell in run.cells if cell.status == "unreadable"]
    where += [(None, probe.error) for probe in run.probes.values()
              if probe.status == "unreadable"]
    return [tamper.finding("kernel_messages_unreadable", tamper.TAMPERING,
                           f"{error}; no code of the lab does that, so the exercises could not "
                           f"be graded", cell=cell)
            for cell, error in where[:1]]


def _missing_evidence(run, problem):
    """The finding when no signed evidence came back from a kernel that kept running: the
    notebook intercepted the probe, unless the grader's own probe failed first."""
    status = evidence.baseline_status(run)
    seal = run.probes.get("seal")
    if not status.startswith("installed") or seal is None or seal.status != "ok":
        reason = status if not status.startswith("installed") else (
            f"{seal.status}: {seal.error}" if seal is not None else "the probe did not run")
        return tamper.finding("grader_probe_failed", tamper.WARNING,
                              f"the grader's probe failed ({reason}); the exercises were not "
                              f"graded")
    return tamper.finding("probe_intercepted", tamper.TAMPERING,
                          f"the grader's probe ran but {problem}: something in the notebook "
                          f"intercepted it")


def _prepare_workdir(workdir):
    """Copy the instructor's helpers, data and images; returns {relative path: sha256}."""
    hashes = {}
    for name in HELPER_FILES + DATA_FILES:
        target = workdir / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(PROJECT_ROOT / name, target)
        hashes[name] = tamper.file_hash(target)
    for name in ASSET_DIRS:
        shutil.copytree(PROJECT_ROOT / name, workdir / name)
    return hashes


def _cell_errors(notebook, run):
    """The cells that did not run cleanly, labelled for the report (cells never reached after
    the kernel stopped are summed up in one entry)."""
    graded = {index: f"{exercise} {role}" for role in ("solution", "check")
              for exercise, (index, _) in graded_cells(notebook, role).items()}
    errors, not_run = [], []
    for result in run.cells:
        if result.status in ("ok", "skipped"):
            continue
        if result.status == "not run":
            not_run.append(result.index)
            continue
        errors.append({"cell": result.index, "status": result.status,
                       "graded_cell": graded.get(result.index),
                       "source": first_line(notebook.cells[result.index]),
                       "message": result.error or result.status})
    if not_run:
        errors.append({"cell": not_run[0], "status": "not run", "graded_cell": None, "source": "",
                       "message": f"{len(not_run)} code cells (cells {not_run[0]} to {not_run[-1]})"
                                  f" were not run: {run.stopped}"})
    return errors


def _grade_safely(submission, options):
    """grade_submission, turning a grader crash into an error record (one bad submission must
    not end the run), and a submission that cannot be graded (``submission.problem``) into a
    record that says why."""
    if submission.problem:
        return _error_record(submission, options, "unreadable", submission.problem)
    try:
        record = grade_submission(submission, options)
        record.setdefault("sandboxed", options.sandbox)  # also when no kernel was started
        return record
    except Exception as error:
        return _error_record(submission, options, "grader error", f"{type(error).__name__}: {error}",
                             traceback.format_exc())


def _error_record(submission, options, status, message, details=""):
    """The record of a submission that could not be graded at all."""
    record = _empty_record(submission)
    record["sandboxed"] = options.sandbox
    record["exercises"] = exercise_checks.grade_exercises(None, {}, None,
                                                          f"{status}: {message}")
    record["errors"].append({"cell": None, "status": status, "message": message,
                             **({"traceback": details} if details else {})})
    return record


def grade_all(submissions, options=GradeOptions(), jobs=None, progress=None,
              grade_one=_grade_safely):
    """Grade every submission, ``jobs`` at a time (default: one per CPU core).

    One submission is graded in this process. Several are graded in worker processes started
    with "spawn" (forking a process that may hold TensorFlow's threads is unsafe), each worker
    starting one kernel per submission. A worker that dies (killed, out of memory, a crash in
    native code) breaks the whole pool, so the submissions it left unfinished are graded again,
    each in a process of its own: the one that kills its process again gets an error record,
    the others their marks. ``grade_one(submission, options)`` returns a record; tests replace
    it (a module-level function, so that workers can import it). ``progress`` is called with
    each record as it completes. Returns the records in the order of ``submissions``.

    Raises:
      SandboxUnavailable: ``options.sandbox`` is on and no sandbox can start on this machine.
    """
    if options.sandbox and any(not submission.problem for submission in submissions):
        sandbox.require()  # refuse before any work, with the reason and the opt-out
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(submissions)))
    if not options.kernel_threads:
        options = replace(options, kernel_threads=max(1, (os.cpu_count() or 1) // jobs))
    records = {}

    def finished(submission, record):
        records[submission.name] = record
        if progress:
            progress(record)

    if len(submissions) == 1:
        finished(submissions[0], grade_one(submissions[0], options))
    else:
        unfinished = _grade_in_pool(submissions, options, jobs, grade_one, finished)
        with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as threads:
            futures = {threads.submit(_grade_in_own_process, submission, options, grade_one):
                       submission for submission in unfinished}
            for future in concurrent.futures.as_completed(futures):
                finished(futures[future], future.result())
    return [records[submission.name] for submission in submissions]


def _grade_in_pool(submissions, options, jobs, grade_one, finished):
    """Grade in a pool of ``jobs`` workers; returns the submissions a dead worker left
    unfinished (all those not done when the pool broke)."""
    context = multiprocessing.get_context("spawn")
    unfinished = []
    with concurrent.futures.ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        futures = {pool.submit(grade_one, submission, options): submission
                   for submission in submissions}
        for future in concurrent.futures.as_completed(futures):
            try:
                record = future.result()
            except Exception:  # BrokenProcessPool: some worker died, maybe not this one's
                unfinished.append(futures[future])
                continue
            finished(futures[future], record)
    return sorted(unfinished, key=submissions.index)


def _grade_in_own_process(submission, options, grade_one):
    """Grade one submission in a fresh process; an error record if that process dies."""
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    worker = context.Process(target=_send_record, args=(sender, grade_one, submission, options),
                             daemon=True)
    worker.start()
    sender.close()  # so that the worker's death ends the wait below
    try:
        record = receiver.recv()
    except EOFError:
        record = None
    worker.join()
    if record is not None:
        return record
    code = worker.exitcode
    how = (f"was killed by signal {signal.Signals(-code).name}" if code is not None and code < 0
           else f"exited with code {code}")
    return _error_record(submission, options, "grader error",
                         f"the grading process {how} while grading this submission alone; the "
                         f"other submissions were not affected")


def _send_record(sender, grade_one, submission, options):
    sender.send(grade_one(submission, options))
    sender.close()


def options_dict(options):
    """The options as stored in the report."""
    return asdict(options)
