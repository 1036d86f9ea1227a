"""Run a notebook in a fresh kernel, cell by cell, with a time limit and a memory limit.

One cell that loops forever is interrupted after ``cell_timeout`` seconds and the run goes on
with the next cell (the kernel keeps its state). A kernel whose memory (resident set, children
included) exceeds ``memory_limit_mb`` is killed by a watchdog thread; a kernel that dies, or does
not recover from an interrupt, ends the run: the remaining cells are marked "not run". Either way
only this notebook is affected, never the grader.

The grader can run its own code ("probes") in the same kernel before the first cell and after the
last one; they are not part of the notebook and do not count as executions.
"""
import os
import subprocess
import threading
import time
from dataclasses import dataclass, field

import nbformat
import psutil  # a dependency of ipykernel, so always installed next to it
from jupyter_core.utils import run_sync
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError

# TensorFlow's C++ log goes to the kernel's file descriptor 2; with fd capture on, ipykernel
# would store it as stderr output (see stack-facts: it breaks strict output comparison).
KERNEL_ARGUMENTS = ["--IPKernelApp.capture_fd_output=False"]
KERNEL_ENVIRONMENT = {"TF_CPP_MIN_LOG_LEVEL": "3", "TF_ENABLE_ONEDNN_OPTS": "0"}
# Dropped from the kernel's environment: the instructor's helper modules, copied into the
# working directory, must be the only ones a submission can import by name.
DROPPED_ENVIRONMENT = ("PYTHONPATH", "PYTHONSTARTUP", "MPLBACKEND")
THREAD_VARIABLES = ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS",
                    "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
RECOVERY_SECONDS = 15  # how long an interrupted kernel gets to answer again
WATCHDOG_INTERVAL = 0.05


@dataclass
class CellResult:
    """What happened to one notebook cell: status is ok, error, timeout, killed or not run."""
    index: int
    status: str
    seconds: float = 0.0
    error: str = ""
    outputs: list = field(default_factory=list)  # probes only: what the probe printed


@dataclass
class KernelRun:
    """The outcome of running one notebook: per-cell results, probe outputs and limits hit."""
    cells: list = field(default_factory=list)
    probes: dict = field(default_factory=dict)  # probe name -> CellResult
    stopped: str = ""  # why the kernel stopped early ("" when it ran to the end)
    peak_memory_mb: float = 0.0
    seconds: float = 0.0


class MemoryWatchdog(threading.Thread):
    """Polls a process's resident memory (children included) and kills it above a limit."""

    def __init__(self, pid, limit_mb):
        super().__init__(daemon=True)
        self.pid, self.limit_bytes = pid, limit_mb * 2**20
        self.peak_bytes = 0
        self.exceeded = False
        self._stop_event = threading.Event()

    def run(self):
        try:
            process = psutil.Process(self.pid)
        except psutil.NoSuchProcess:
            return
        while not self._stop_event.wait(WATCHDOG_INTERVAL):
            try:
                family = [process] + process.children(recursive=True)
                used = sum(p.memory_info().rss for p in family)
            except psutil.NoSuchProcess:
                return
            self.peak_bytes = max(self.peak_bytes, used)
            if used > self.limit_bytes:
                self.exceeded = True
                for member in family:
                    try:
                        member.kill()
                    except psutil.NoSuchProcess:
                        pass
                return

    def stop(self):
        self._stop_event.set()


def kernel_environment(threads=0):
    """The environment a grading kernel starts with.

    ``threads`` > 0 caps TensorFlow's and the BLAS libraries' thread pools: kernels graded in
    parallel then share the cores instead of each starting one busy thread per core (TensorFlow's
    pool spins while it waits, so oversubscribed kernels waste much of the machine). The lab's
    results do not depend on it: the same notebook gives the same outputs with 1 or 2 threads.
    """
    env = {key: value for key, value in os.environ.items() if key not in DROPPED_ENVIRONMENT}
    env.update(KERNEL_ENVIRONMENT)
    if threads > 0:
        for name in THREAD_VARIABLES:
            env[name] = str(threads)
    return env


def run_notebook(notebook, workdir, *, cell_timeout, memory_limit_mb, before=(), after=(),
                 probe_timeout=None, threads=0):
    """Run ``notebook``'s code cells in order in a new kernel started in ``workdir``.

    The notebook's cells receive the fresh outputs and execution counts (the grader passes a
    copy). ``before`` and ``after`` are sequences of (name, code) probes run before the first and
    after the last cell; ``code`` may be a function returning the code, called just before the
    probe runs (so the grader can prepare files the student's cells must not see). ``threads``:
    see :func:`kernel_environment`. Returns a :class:`KernelRun`.
    """
    started = time.monotonic()
    result = KernelRun()
    client = NotebookClient(
        notebook, timeout=cell_timeout, kernel_name="python3", allow_errors=True,
        interrupt_on_timeout=True, extra_arguments=list(KERNEL_ARGUMENTS),
        error_on_timeout={"ename": "CellTimeoutError", "evalue": f"cell exceeded {cell_timeout} s",
                          "traceback": []},
        record_timing=False, resources={"metadata": {"path": str(workdir)}})
    replies = {}
    client.on_cell_executed = lambda cell, cell_index, execute_reply: replies.__setitem__(
        id(cell), execute_reply)

    client.km = client.create_kernel_manager()
    client.start_new_kernel(env=kernel_environment(threads), stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    watchdog = MemoryWatchdog(client.km.provisioner.pid, memory_limit_mb)
    watchdog.start()
    try:
        client.start_new_kernel_client()
        alive = _run_probes(client, before, result, replies, probe_timeout or cell_timeout)
        for index, cell in enumerate(notebook.cells):
            if cell.cell_type != "code":
                continue
            if not alive:
                result.cells.append(CellResult(index, "not run"))
                continue
            outcome = _run_cell(client, cell, index, replies, watchdog, memory_limit_mb)
            result.cells.append(outcome)
            if outcome.status in ("killed", "timeout") and not _responsive(client, outcome):
                result.stopped = outcome.error
                alive = False
        if alive:
            alive = _run_probes(client, after, result, replies, probe_timeout or cell_timeout)
            if not alive and not result.stopped:
                result.stopped = "the kernel stopped while the grader was reading the results"
    finally:
        watchdog.stop()
        result.peak_memory_mb = round(watchdog.peak_bytes / 2**20, 1)
        _shut_down(client, watchdog.pid)
    result.seconds = round(time.monotonic() - started, 2)
    return result


def _run_cell(client, cell, index, replies, watchdog, memory_limit_mb):
    """Execute one cell; returns its CellResult (never raises for the cell's own failures)."""
    started = time.monotonic()
    try:
        client.execute_cell(cell, index)
    except DeadKernelError:
        seconds = round(time.monotonic() - started, 2)
        if watchdog.exceeded:
            return CellResult(index, "killed", seconds,
                              f"memory limit of {memory_limit_mb} MB exceeded in cell {index}: "
                              f"the kernel was stopped")
        return CellResult(index, "killed", seconds, f"the kernel died in cell {index}")
    except CellTimeoutError as error:  # only when an interrupt is not possible
        return CellResult(index, "timeout", round(time.monotonic() - started, 2), str(error))
    seconds = round(time.monotonic() - started, 2)
    reply = (replies.pop(id(cell), None) or {}).get("content", {})
    if reply.get("ename") == "CellTimeoutError":
        return CellResult(index, "timeout", seconds,
                          f"cell {index} ran longer than {client.timeout} s and was interrupted")
    if reply.get("status") == "error":
        return CellResult(index, "error", seconds, f"{reply.get('ename')}: {reply.get('evalue')}")
    return CellResult(index, "ok", seconds)


def _responsive(client, outcome):
    """After a timeout, whether the interrupted kernel answers again (it may be stuck in C)."""
    if outcome.status == "killed":
        return False
    check = nbformat.v4.new_code_cell("pass")
    saved, client.timeout = client.timeout, RECOVERY_SECONDS
    client.interrupt_on_timeout = False
    try:
        _execute_transient(client, check)
        return True
    except (CellTimeoutError, DeadKernelError):
        outcome.error += "; the kernel did not recover from the interrupt and was stopped"
        return False
    finally:
        client.timeout, client.interrupt_on_timeout = saved, True


def _run_probes(client, probes, result, replies, timeout):
    """Run the grader's probes; returns False if the kernel died meanwhile."""
    saved, client.timeout = client.timeout, timeout
    try:
        for name, code in probes:
            cell = nbformat.v4.new_code_cell(code() if callable(code) else code)
            started = time.monotonic()
            try:
                _execute_transient(client, cell)
            except (DeadKernelError, CellTimeoutError) as error:
                result.probes[name] = CellResult(-1, "killed", round(time.monotonic() - started, 2),
                                                 f"{type(error).__name__}: {error}")
                return False
            reply = (replies.pop(id(cell), None) or {}).get("content", {})
            status = "ok" if reply.get("status") == "ok" else "error"
            error = "" if status == "ok" else f"{reply.get('ename')}: {reply.get('evalue')}"
            result.probes[name] = CellResult(-1, status, round(time.monotonic() - started, 2),
                                             error, cell.outputs)
    finally:
        client.timeout = saved
    return True


def _execute_transient(client, cell):
    """Execute a grader cell that is not part of the notebook and leaves no trace in it.

    nbclient writes an executed cell back to ``nb.cells[index]``, so the cell is appended for the
    time of its execution and removed afterwards (an index of -1 would overwrite the last cell).
    It runs with store_history=False: the student's cells keep their execution counts.
    """
    client.nb.cells.append(cell)
    try:
        client.execute_cell(cell, len(client.nb.cells) - 1, store_history=False)
    finally:
        client.nb.cells.pop()


def _shut_down(client, pid):
    """Stop the kernel and its channels whatever state it is in, and every process the
    notebook started (a background process must not outlive its submission)."""
    try:
        descendants = psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        descendants = []
    try:
        if client.kc is not None:
            client.kc.stop_channels()
    except Exception:  # the channels of a killed kernel may already be gone
        pass
    try:
        if client.km is not None:
            run_sync(client.km.shutdown_kernel)(now=True)
    except Exception:
        pass
    try:
        if client.km is not None:
            run_sync(client.km.cleanup_resources)()
    except Exception:
        pass
    for process in descendants:
        try:
            process.kill()
        except psutil.NoSuchProcess:
            pass
