"""Grade many submissions, each in a grading process the caller's process supervises.

The caller's process never reads a submission: grading processes do (started with "spawn",
since forking a process that may hold TensorFlow's threads is unsafe), one submission at a time,
``jobs`` of them side by side. The supervisor gives each submission a wall-clock deadline
(``deadline_seconds``) and watches each grading process's own memory (``grader_memory_mb``);
past either, it stops that process and everything it started (the submission's kernel
included), records what was refused, and starts a new process for the next submission. A
grading process that dies (killed, out of memory, a crash in native code) costs only its own
submission. Records come back as plain data and are rebuilt here.

The grading run's secret is drawn here (``LAB_GRADER_SECRET``, or 32 random bytes): the hidden
inputs of each submission derive from it, so they differ from run to run unless the instructor
fixes the secret to reproduce a run.
"""
import multiprocessing
import os
import secrets
import signal
import sys
import tempfile
import time
from dataclasses import replace
from multiprocessing.connection import wait
from pathlib import Path

import psutil

from instructor.engine.watchdog import remove_tree
from instructor.grading.options import isolation_for
from instructor.grading.record import SubmissionRecord, error_record

SECRET_VARIABLE = "LAB_GRADER_SECRET"
POLL_SECONDS = 0.2
GRADER_TENSORFLOW = {"TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1",
                     "TF_CPP_MIN_LOG_LEVEL": "3", "TF_ENABLE_ONEDNN_OPTS": "0"}
# How long a new grading process may take to start and import the grader (about 3 s; a minute on
# a machine thrashing under other work) before the submission it was sent is given up.
STARTUP_SECONDS = 300


def grading_secret():
    """The grading run's secret: ``$LAB_GRADER_SECRET`` (to reproduce a run's hidden inputs),
    else 32 random bytes drawn now. Never written to a report."""
    value = os.environ.get(SECRET_VARIABLE)
    return value.encode("utf-8") if value else secrets.token_bytes(32)


def grade_all(submissions, options, jobs=None, progress=None, grade_one=None):
    """Grade every submission, ``jobs`` at a time (default: one per CPU core); returns the
    records (SubmissionRecord) in the order of ``submissions``.

    ``grade_one(submission, options, secret)`` grades one submission in a grading process and
    returns its record; None is the grader's own (tests replace it: a module-level function, so
    that the process can import it). ``progress`` is called with each record as it completes.

    Raises:
      SandboxUnavailable, UserUnavailable: the isolation the options ask for cannot start here
        (checked once, before any work).
    """
    if any(not submission.problem for submission in submissions):
        isolation_for(options)  # refuse before any work, with the reason and the fix
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(submissions) or 1))
    if not options.kernel_threads:
        options = replace(options, kernel_threads=max(1, (os.cpu_count() or 1) // jobs))
    secret = grading_secret()
    records = {}
    pending = list(enumerate(submissions))
    # Each grading process makes its temporary folders (work folders, kernel sockets) inside a
    # folder of its own, which the supervisor deletes when it stops or kills that process: a
    # process killed at its deadline cannot delete what its kernel left. Traversable, not
    # listable: a kernel run as another user reaches its own folders by their paths.
    run_folder = Path(tempfile.mkdtemp(prefix="lab-grading-"))
    os.chmod(run_folder, 0o711)
    workers = [_Worker(options, secret, grade_one, run_folder / f"worker-{number}")
               for number in range(min(jobs, len(pending)))]
    try:
        while pending or any(worker.busy for worker in workers):
            for worker in workers:
                if not worker.busy and pending:
                    worker.start(*pending.pop(0))
            ready = wait([worker.connection for worker in workers if worker.busy],
                         timeout=POLL_SECONDS)
            for worker in workers:
                if not worker.busy:
                    continue
                record = worker.collect(ready)
                if record is not None:
                    records[worker.position] = record
                    worker.done()
                    if progress:
                        progress(record)
    finally:
        for worker in workers:
            worker.stop()
        remove_tree(run_folder)
        _stop_resource_tracker()
    return [records[position] for position in range(len(submissions))]


def _stop_resource_tracker():
    """End the helper process multiprocessing starts beside the first spawned process. Left to
    itself it ends only when this process has ended, as an orphan: ``grade`` left a process behind
    it (seen by a benchmark that watches the process group). Stopping waits until no process
    holds its pipe: skipped while a grading process is somehow still alive. A later spawn starts
    another."""
    import multiprocessing
    from multiprocessing import resource_tracker
    stop = getattr(resource_tracker._resource_tracker, "_stop", None)  # Python 3.11 and later
    if stop is not None and not multiprocessing.active_children():
        stop()


class _Worker:
    """One grading process and the submission it holds."""

    def __init__(self, options, secret, grade_one, folder):
        self.options, self.secret, self.grade_one = options, secret, grade_one
        self.folder = folder
        self.process = self.connection = None
        self.submission, self.position, self.started, self.sent = None, None, None, 0.0

    @property
    def busy(self):
        return self.submission is not None

    def start(self, position, submission):
        if self.process is None or not self.process.is_alive():
            self._spawn()
        # The deadline runs from the moment the grading process has the submission (its own
        # start, imports included, is not the submission's time); until then, STARTUP_SECONDS.
        self.position, self.submission, self.started = position, submission, None
        self.sent = time.monotonic()
        self.connection.send(submission)

    def _spawn(self):
        remove_tree(self.folder)  # what a killed predecessor left
        self.folder.mkdir()
        os.chmod(self.folder, 0o711)
        context = multiprocessing.get_context("spawn")
        self.connection, theirs = context.Pipe()
        self.process = context.Process(target=_serve, name="grader",
                                       args=(theirs, self.options, self.secret, self.grade_one,
                                             str(self.folder)),
                                       daemon=True)
        self.process.start()
        theirs.close()

    def collect(self, ready):
        """The submission's record if it is done, its deadline or memory limit was passed, or
        its process died; else None."""
        if self.connection in ready:
            try:
                kind, content = self.connection.recv()
            except (EOFError, OSError):
                return self._lost(self._death())
            if kind == "started":
                self.started = time.monotonic()
                return None
            return SubmissionRecord.from_json(content).clip_texts()  # whatever the process sent
        limit = self._limit_passed()
        if limit:
            self._kill()
            return error_record(self.submission, self.options.describe_isolation(), "refused",
                                f"{limit}: its grading was stopped", refused=limit)
        if not self.process.is_alive():
            return self._lost(self._death())
        return None

    def _limit_passed(self):
        if self.started is None:
            if time.monotonic() - self.sent > STARTUP_SECONDS:
                return f"the grading process did not start within {STARTUP_SECONDS} s"
            return ""
        elapsed = time.monotonic() - self.started
        if elapsed > self.options.deadline_seconds:
            return (f"the grading took longer than the deadline of "
                    f"{self.options.deadline_seconds:g} s")
        try:
            used = psutil.Process(self.process.pid).memory_info().rss
        except psutil.NoSuchProcess:
            return ""
        if used > self.options.grader_memory_mb * 2**20:
            return (f"the grading process used {used / 2**20:,.0f} MB, more than its limit of "
                    f"{self.options.grader_memory_mb} MB")
        return ""

    def _death(self):
        self.process.join(timeout=5)
        code = self.process.exitcode
        return (f"was killed by signal {signal.Signals(-code).name}" if code is not None and code < 0
                else f"exited with code {code}")

    def _lost(self, how):
        self._kill()
        return error_record(self.submission, self.options.describe_isolation(), "grader error",
                            f"the grading process {how} while grading this submission; the other "
                            f"submissions were not affected")

    def _kill(self):
        """Stop the grading process and everything it started (the submission's kernel)."""
        try:
            parent = psutil.Process(self.process.pid)
            family = parent.children(recursive=True) + [parent]
        except psutil.NoSuchProcess:
            family = []
        for member in family:
            try:
                member.kill()
            except psutil.NoSuchProcess:
                pass
        self.process.join(timeout=10)
        if self.options.isolation == "user":
            from instructor.engine.unprivileged import kill_all, lookup
            kill_all(lookup(self.options.run_as))
        remove_tree(self.folder)
        self.process = None

    def done(self):
        self.submission = self.position = None

    def stop(self):
        if self.process is not None and self.process.is_alive():
            if self.busy:
                self._kill()
            else:
                try:
                    self.connection.send(None)
                except OSError:
                    pass
                self.process.join(timeout=30)
                if self.process.is_alive():
                    self._kill()


def _serve(connection, options, secret, grade_one, folder):
    """A grading process: grade each submission it is sent, send its record back as plain data;
    None ends it. ``grade_one`` None: the grader's own (imported here, in the grading process:
    the supervisor never imports the kernel machinery, and starts its workers sooner)."""
    tempfile.tempdir = folder  # every temporary folder of this process goes there
    # nbformat validates with jsonschema, which imports rfc3987_syntax, when installed, for two
    # string formats (iri, iri-reference) that no notebook schema uses; building its grammar
    # took 1.6 s of each grading process's start, about a tenth of a grading (measured).
    sys.modules.setdefault("rfc3987_syntax", None)
    # This process's own TensorFlow (the retraining, Keras's loss in a check) runs beside the
    # kernel: one thread, so that it takes a core from the kernel at most; and quiet.
    for name, setting in GRADER_TENSORFLOW.items():
        os.environ.setdefault(name, setting)
    if grade_one is None:
        from instructor.grading.grade import grade_safely as grade_one
    while True:
        try:
            submission = connection.recv()
        except EOFError:
            return
        if submission is None:
            # Every record is sent: end now, without the interpreter's teardown (TensorFlow's
            # threads make it take seconds, and nothing is left to flush).
            connection.close()
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(0)
        connection.send(("started", None))
        connection.send(("record", grade_one(submission, options, secret).to_json()))
