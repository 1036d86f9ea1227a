"""Grade one submission (in a grading process of :mod:`instructor.grading.pool`, which holds it
to a deadline and a memory limit).

1. check the notebook's size, then read it (a broken file is reported, not fatal), its number
   of cells and of characters of code, and scan it (:mod:`instructor.findings.static_scan`);
2. put the instructor's check cells back (:mod:`instructor.findings.check_cells`) and lay out the
   INSTRUCTOR's helper modules, data and images in a new work folder (never the submission's);
3. run the notebook there in a fresh, isolated kernel (per-cell time limit, memory, CPU, disk and
   process limits; with ``stop_after_checks``, only up to the last check cell);
4. with the kernel still running, judge each function exercise by calling the student's function
   in the kernel on the checks' inputs (:mod:`instructor.grading.exercises`), and ask for the
   model's config; then stop the kernel, rebuild and retrain the model here and judge it;
5. look at what else happened: the lab's files in the work folder, the stored outputs against
   the fresh run.

Marks depend only on the values of step 4 and on each check cell having passed in step 3.
"""
import contextlib
import json
import tempfile
import time
import traceback
from pathlib import Path

import nbformat

from instructor.engine.kernel import KernelSession
from instructor.engine.limits import LimitExceeded, check_size, json_depth
from instructor.engine.watchdog import remove_tree
from instructor.findings import check_cells, files, outputs, static_scan
from instructor.findings.registry import finding
from instructor.grading import exercises, hidden_checks
from instructor.grading.options import (MAX_CELLS, MAX_JSON_DEPTH, MAX_NOTEBOOK_BYTES,
                                        MAX_SOURCE_CHARACTERS)
from instructor.grading.options import isolation_for
from instructor.grading.record import CellError, SubmissionRecord, not_graded, unique_stem
from instructor.grading.record import error_record as record_for_error
from instructor.grading.values import ChannelError
from instructor.lab import spec
from instructor.lab.cells import NotebookError, first_line, graded_cells, notebook_from_text, read_notebook
from instructor.lab.files import SOURCE_NOTEBOOK, lay_out


def grade_submission(submission, options, secret):
    """Grade one :class:`~instructor.grading.submissions.Submission`; returns its
    :class:`~instructor.grading.record.SubmissionRecord`. ``secret`` (bytes) is the grading
    run's: the hidden inputs derive from it and the submission's name."""
    started = time.monotonic()
    record = SubmissionRecord(submission.name, str(submission.notebook),
                              str(submission.folder) if submission.folder else None,
                              isolation=options.describe_isolation())
    try:
        notebook = read_submitted(submission.notebook)
    except (NotebookError, LimitExceeded) as error:
        refused = isinstance(error, LimitExceeded)
        record.refused = str(error) if refused else ""
        record.errors.append(CellError(None, "refused" if refused else "unreadable", str(error)))
        record.exercises = exercises.not_graded("the notebook could not be read" if not refused
                                                else str(error))
        record.timings.total = round(time.monotonic() - started, 2)
        return record.finish("error")

    record.findings = static_scan.static_findings(notebook) + files.submitted_file_findings(
        [submission.folder, Path(submission.notebook).parent])
    restored = check_cells.restore(read_notebook(SOURCE_NOTEBOOK), notebook)
    record.findings += restored.findings
    fresh = restored.notebook
    checks = {exercise: index for exercise, (index, _) in graded_cells(fresh, "check").items()}
    last_cell = max(checks.values()) if options.stop_after_checks else None
    record.last_cell_run = restored.origin[last_cell] if last_cell is not None else None

    with work_folder() as work:
        lay_out(work, "helpers", "data", "images")
        before = files.hashes(work)
        with KernelSession(work, cell_timeout=options.cell_timeout,
                           memory_limit_mb=options.memory_limit_mb,
                           cpu_limit_seconds=options.cpu_limit_seconds,
                           disk_limit_mb=options.disk_limit_mb, threads=options.kernel_threads,
                           isolation=isolation_for(options)) as session:
            if options.warm_up:
                # Keras imported and the expected model trained while the kernel works. Started
                # once the kernel runs: importing TensorFlow holds the interpreter's lock for
                # seconds, and the kernel's start waited on it (about 1 s, measured).
                exercises.warm_up()
            session.run_cells(fresh, last_cell)
            cells = {result.index: result for result in session.run.cells}
            check_cell = {exercise: (cells[index].status, cells[index].error)
                          for exercise, index in checks.items() if index in cells}
            calls_started = time.monotonic()
            results, reported = _judge_in_kernel(session, record, check_cell, secret)
            record.timings.calls = round(time.monotonic() - calls_started, 2)
        record.findings += files.workdir_findings(before, work)
    run = session.run
    record.timings.notebook_run = run.seconds
    record.peak_memory_mb = run.peak_memory_mb

    checks_started = time.monotonic()
    model = next(item for item in spec.EXERCISES if item.kind == "model")
    if reported is not None:
        results[model.id] = exercises.judge_model(model, reported, check_cell.get(model.id),
                                                  record.timings)
    record.exercises = {item.id: results[item.id] for item in spec.EXERCISES if item.id in results}
    record.timings.checks = round(time.monotonic() - checks_started, 2)

    record.errors = _cell_errors(fresh, run, restored.origin)
    record.findings += _unreadable(run, restored.origin)
    compared, record.outputs_compared = outputs.output_findings(
        notebook, fresh, run.cells, outputs.load_patterns(), restored.origin)
    record.findings += compared
    if options.executed_dir:
        Path(options.executed_dir).mkdir(parents=True, exist_ok=True)
        record.executed_notebook = str(Path(options.executed_dir) / f"{unique_stem(record.name)}.ipynb")
        nbformat.write(fresh, record.executed_notebook)
    record.timings.total = round(time.monotonic() - started, 2)
    return record.finish()


def _judge_in_kernel(session, record, check_cell, secret):
    """The function exercises judged and the model read, while the kernel runs; returns
    ({exercise id: result}, the model's report or None).

    In two phases: first every public check and the model's report, then the hidden checks.
    What students see (the public checks' messages, which quote what their code raised) is
    then made before the first hidden input enters the kernel: no feedback can carry one out,
    even from a function that keeps what it is given."""
    results, reported, public = {}, None, {}

    def stopped(item):
        results[item.id] = not_graded(f"the kernel stopped before the grader could call the "
                                      f"notebook's code ({session.run.stopped})", [item])[item.id]

    def interfered(item, error):
        results[item.id] = not_graded(str(error), [item])[item.id]
        if error.interfered:
            record.findings.append(finding("grader_call_interfered", f"{item.title}: {error}",
                                           exercise=item.id))

    for item in spec.EXERCISES:  # phase 1: public checks, the model's report
        if not session.alive:
            stopped(item)
            continue
        try:
            if item.kind == "model":
                reported = exercises.read_architecture(item, session)
            else:
                public[item.id] = exercises.public_phase(item, session)
        except ChannelError as error:
            interfered(item, error)
    for item in spec.EXERCISES:  # phase 2: hidden checks
        if item.id not in public or item.id in results:
            continue
        if not session.alive:
            stopped(item)
            continue
        status, message, function = public[item.id]
        seed = hidden_checks.seed_for(secret, record.name, item.id)
        try:
            results[item.id] = exercises.function_result(item, status, message, function, seed,
                                                         check_cell.get(item.id))
        except ChannelError as error:
            interfered(item, error)
    return results, reported


@contextlib.contextmanager
def work_folder():
    """A new temporary folder for a submission's kernel, deleted afterwards whatever the
    kernel left in it (a tree too deep for shutil.rmtree, see remove_tree)."""
    folder = Path(tempfile.mkdtemp(prefix="grade-work-"))
    try:
        yield folder
    finally:
        remove_tree(folder)


def read_submitted(path):
    """The submitted notebook, its size checked before it is read and its cells before they
    are used.

    Raises:
      LimitExceeded: the file, its cells or its code are larger than the grader reads.
      NotebookError: it is not a readable notebook (see :func:`~instructor.lab.cells.read_notebook`).
    """
    path = Path(path)
    try:
        check_size(path.stat().st_size, MAX_NOTEBOOK_BYTES, path.name, "bytes")
    except FileNotFoundError:
        raise NotebookError(f"{path}: no such file") from None
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise NotebookError(f"{path}: not a notebook (not UTF-8 text)") from None
    except OSError as error:
        raise NotebookError(f"{path}: cannot be read ({error.strerror})") from None
    depth = json_depth(text)
    if depth > MAX_JSON_DEPTH:
        raise LimitExceeded(f"{path.name} nests its JSON {depth} levels deep, too deeply to be a "
                            f"notebook; the grader reads at most {MAX_JSON_DEPTH}")
    try:
        raw = json.loads(text)
    except json.JSONDecodeError:
        raw = None  # notebook_from_text says where
    except ValueError as error:  # e.g. an integer of more digits than Python converts
        raise NotebookError(f"{path.name}: not a notebook ({error})") from None
    version = raw.get("nbformat") if isinstance(raw, dict) else None
    if isinstance(version, int) and not isinstance(version, bool) and version < 4:
        raise NotebookError(
            f"{path}: an nbformat {version} notebook (written by IPython 2 or older); the grader "
            f"reads nbformat 4: open and save it in JupyterLab or Notebook 7, or run `jupyter "
            f"nbconvert --to notebook --nbformat 4 --inplace {path.name}`, and submit it again")
    cells = raw.get("cells") if isinstance(raw, dict) else None
    if isinstance(cells, list):
        check_size(len(cells), MAX_CELLS, path.name, "cells")
        code = sum(len(part) for cell in cells if isinstance(cell, dict)
                   for source in [cell.get("source", "")]
                   for part in ([source] if isinstance(source, str) else
                                source if isinstance(source, list) else [])
                   if isinstance(part, str))
        check_size(code, MAX_SOURCE_CHARACTERS, path.name, "characters of code")
    try:
        json.dumps(raw, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:  # "\ud800" in the JSON: a lone surrogate, not a character
        raise NotebookError(f"{path.name}: not a notebook (it holds an escaped lone surrogate, "
                            f"which is not text: save it again from Jupyter)") from None
    return notebook_from_text(text, str(path))


def _cell_errors(notebook, run, origin):
    """The cells that did not run cleanly, numbered as in the submission where the cell is
    theirs (cells never reached after the kernel stopped are summed up in one entry)."""
    graded = {index: f"{exercise} {role}" for role in ("solution", "check")
              for exercise, (index, _) in graded_cells(notebook, role).items()}
    errors, not_run = [], []
    for result in run.cells:
        if result.status in ("ok", "skipped"):
            continue
        if result.status == "not run":
            not_run.append(result.index)
            continue
        cell = origin[result.index] if origin[result.index] is not None else result.index
        errors.append(CellError(cell, result.status, result.error or result.status,
                                graded.get(result.index), first_line(notebook.cells[result.index])))
    if not_run:
        errors.append(CellError(not_run[0], "not run",
                                f"{len(not_run)} code cells (cells {not_run[0]} to {not_run[-1]}) "
                                f"were not run: {run.stopped}"))
    return errors


def _unreadable(run, origin):
    """Tampering when a message from the kernel failed jupyter_client's checks: ipykernel encodes
    and signs every message itself, so only code that replaced what does it makes one so."""
    for result in run.cells:
        if result.status == "unreadable":
            return [finding("kernel_messages_unreadable", result.error, origin[result.index])]
    if run.stopped and "could not read" in run.stopped:
        return [finding("kernel_messages_unreadable", run.stopped)]
    return []


def grade_safely(submission, options, secret):
    """grade_submission, a submission that cannot be graded (``submission.problem``) turned into
    a record that says why, and a grader failure into an error record with the traceback (one
    bad submission must not end the run)."""
    if submission.problem:
        return error_record(submission, options, "unreadable", submission.problem)
    try:
        return grade_submission(submission, options, secret)
    except Exception as error:
        return error_record(submission, options, "grader error", f"{type(error).__name__}: {error}",
                            traceback.format_exc())


def error_record(submission, options, status, message, details="", refused=""):
    """The record of a submission that could not be graded at all."""
    return record_for_error(submission, options.describe_isolation(), status, message, details,
                            refused)