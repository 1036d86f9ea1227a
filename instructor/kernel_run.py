"""The one kernel runner: a notebook in a fresh kernel, cell by cell, with limits.

It serves the grader (sandboxed, with limits and probes), ``tools/refresh_outputs.py``, the
tests' notebook runs and the benchmarks (:func:`execute_notebook`: the instructor's own
notebook, no sandbox). Every kernel starts with ``capture_fd_output=False``, so TensorFlow's C++
log is never stored as output.

One cell that loops forever is interrupted after ``cell_timeout`` seconds and the run goes on
with the next cell (the kernel keeps its state); a cell stores at most :data:`MAX_CELL_OUTPUT`
characters of output, so one that prints without end costs the grader neither memory nor time.
A watchdog thread sums the resident memory, the CPU time and the number of every process of the
kernel's process tree (with the sandbox: every process in the sandbox, since nothing can leave
its PID namespace), and the disk the work folder takes, and kills them all above
``memory_limit_mb``, ``cpu_limit_seconds``, :data:`MAX_PROCESSES` or ``disk_limit_mb``; a kernel
that dies, or does not recover from an interrupt, ends the run: the remaining cells are marked
"not run". Either way only this notebook is affected, never the grader.

``sandboxed=True`` starts the kernel inside bubblewrap (:mod:`instructor.sandbox`) and reaches it
over IPC sockets in a private folder bound into the sandbox (the sandbox has no network).

The grader can run its own code ("probes") in the same kernel before the first cell and after the
last one; they are not part of the notebook and do not count as executions.
"""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import psutil  # a dependency of ipykernel, so always installed next to it
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError

from instructor import sandbox as sandboxing

# TensorFlow's C++ log goes to the kernel's file descriptor 2; with fd capture on, ipykernel
# would store it as stderr output (see stack-facts: it breaks strict output comparison).
KERNEL_ARGUMENTS = ["--IPKernelApp.capture_fd_output=False"]
KERNEL_ENVIRONMENT = {"TF_CPP_MIN_LOG_LEVEL": "3", "TF_ENABLE_ONEDNN_OPTS": "0"}
# Dropped from the kernel's environment: the instructor's helper modules, copied into the
# working directory, must be the only ones a submission can import by name.
DROPPED_ENVIRONMENT = ("PYTHONPATH", "PYTHONSTARTUP", "MPLBACKEND")
THREAD_VARIABLES = ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS",
                    "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
# Characters of output (text, data and tracebacks together) the grader stores per cell; the rest
# is counted and dropped. The lab's largest cell stores 0.1 MB. Without a cap, a cell printing in
# an endless loop until its timeout sent the grader hundreds of MB, and merging them took nbclient
# minutes (measured: a run with a 20 s cell timeout still busy after 300 s).
MAX_CELL_OUTPUT = 2_000_000
RECOVERY_SECONDS = 15  # how long an interrupted kernel gets to answer again
WATCHDOG_INTERVAL = 0.05
# A fork bomb is stopped long before it starves the machine; the lab itself starts one process.
MAX_PROCESSES = 64
# The work folder is on the grader's disk: its size and number of entries are checked every
# DISK_INTERVAL seconds (a walk of the lab's few dozen files takes well under a millisecond).
DISK_INTERVAL = 0.5
MAX_FOLDER_ENTRIES = 10_000


@dataclass
class CellResult:
    """What happened to one notebook cell: status is ok, error, timeout, killed, unreadable (a
    message the kernel sent meanwhile failed jupyter_client's decoding or signature check: the
    kernel can no longer be talked to), not run (the kernel had stopped) or skipped (after the
    run's ``last_cell``)."""
    index: int
    status: str
    seconds: float = 0.0
    error: str = ""
    outputs: list = field(default_factory=list)  # probes only: what the probe printed
    dropped_output: int = 0  # characters of output past MAX_CELL_OUTPUT, not stored


@dataclass
class KernelRun:
    """The outcome of running one notebook: per-cell results, probe outputs and limits hit."""
    cells: list = field(default_factory=list)
    probes: dict = field(default_factory=dict)  # probe name -> CellResult
    stopped: str = ""  # why the kernel stopped early ("" when it ran to the end)
    peak_memory_mb: float = 0.0
    cpu_seconds: float = 0.0  # CPU time of every process of the kernel's tree
    seconds: float = 0.0
    sandboxed: bool = False


class Watchdog(threading.Thread):
    """Polls a process tree's memory, CPU time and size, and kills the whole tree above a limit.

    ``pid`` is the tree's root (the kernel, or the sandbox around it). Memory is the sum of every
    member's resident set; CPU time adds each member's own and that of its finished children, so
    work done in short-lived subprocesses counts too. ``folder`` is the kernel's work folder: the
    disk its files take (allocated blocks) may not pass ``disk_limit_mb``, nor its entries
    :data:`MAX_FOLDER_ENTRIES`. ``None`` disables a limit. After a kill, ``exceeded`` says which
    limit, in words.
    """

    def __init__(self, pid, memory_limit_mb=None, cpu_limit_seconds=None,
                 max_processes=MAX_PROCESSES, folder=None, disk_limit_mb=None):
        super().__init__(daemon=True)
        self.pid = pid
        self.memory_limit_mb, self.cpu_limit_seconds = memory_limit_mb, cpu_limit_seconds
        self.max_processes = max_processes
        self.folder, self.disk_limit_mb = folder, disk_limit_mb
        self._next_disk_check = 0.0
        self.peak_bytes = 0
        self.cpu_seconds = 0.0
        self.exceeded = ""
        self._stop_event = threading.Event()

    def run(self):
        try:
            root = psutil.Process(self.pid)
        except psutil.NoSuchProcess:
            return
        while not self._stop_event.wait(WATCHDOG_INTERVAL):
            try:
                family = [root] + root.children(recursive=True)
            except psutil.NoSuchProcess:
                return
            used, cpu = 0, 0.0
            for member in family:
                try:
                    used += member.memory_info().rss
                    times = member.cpu_times()
                    cpu += times.user + times.system + times.children_user + times.children_system
                except psutil.NoSuchProcess:
                    pass  # ended between the listing and the reading
            self.peak_bytes = max(self.peak_bytes, used)
            self.cpu_seconds = max(self.cpu_seconds, cpu)
            self.exceeded = self._limit_exceeded(used, cpu, len(family)) or self._disk_exceeded()
            if self.exceeded:
                for member in family:
                    try:
                        member.kill()
                    except psutil.NoSuchProcess:
                        pass
                return

    def _limit_exceeded(self, used_bytes, cpu_seconds, processes):
        if self.memory_limit_mb is not None and used_bytes > self.memory_limit_mb * 2**20:
            return f"memory limit of {self.memory_limit_mb} MB exceeded"
        if self.cpu_limit_seconds is not None and cpu_seconds > self.cpu_limit_seconds:
            return f"CPU time limit of {self.cpu_limit_seconds:g} s exceeded"
        if self.max_processes is not None and processes > self.max_processes:
            return f"more than {self.max_processes} processes started"
        return ""

    def _disk_exceeded(self):
        if self.folder is None or self.disk_limit_mb is None \
                or time.monotonic() < self._next_disk_check:
            return ""
        self._next_disk_check = time.monotonic() + DISK_INTERVAL
        limit = self.disk_limit_mb * 2**20
        used, entries = folder_usage(self.folder, limit, MAX_FOLDER_ENTRIES)
        if used > limit:
            return f"disk limit of {self.disk_limit_mb} MB exceeded in the work folder"
        if entries > MAX_FOLDER_ENTRIES:
            return f"more than {MAX_FOLDER_ENTRIES} files and folders in the work folder"
        return ""

    def stop(self):
        self._stop_event.set()


def folder_usage(folder, stop_above_bytes=None, stop_above_entries=None):
    """(bytes of disk allocated, number of files and folders) under ``folder``, symbolic links
    not followed; the walk stops early once either passes its ``stop_above`` bound.

    Allocated blocks, not sizes: a sparse file (``truncate`` to a terabyte) takes no disk.
    """
    used, entries, pending = 0, 0, [folder]
    while pending:
        try:
            with os.scandir(pending.pop()) as listing:
                for entry in listing:
                    entries += 1
                    try:
                        used += entry.stat(follow_symlinks=False).st_blocks * 512
                        if entry.is_dir(follow_symlinks=False):
                            pending.append(entry.path)
                    except OSError:
                        continue  # removed meanwhile
                    if (stop_above_bytes is not None and used > stop_above_bytes) or (
                            stop_above_entries is not None and entries > stop_above_entries):
                        return used, entries
        except OSError:
            continue
    return used, entries


class OutputCappedClient(NotebookClient):
    """nbclient's client, storing at most :data:`MAX_CELL_OUTPUT` characters of output per cell.

    What a cell prints past the cap is counted in ``dropped[cell index]`` and thrown away as it
    arrives, so neither the grader's memory nor its time grows with it. A clear_output frees the
    cell's allowance again (a progress display that redraws itself is not a flood). ``capped``
    is False while the grader's own probes run: then only streams are capped (a thread the
    notebook left printing writes into the probe's cell), never the display data that carry the
    evidence (0.5 MB for the lab solution; it grows with what the student's functions return).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.stored, self.dropped = {}, {}
        self.capped = True

    def forget(self, cell_index):
        """Start counting afresh for the next execution at ``cell_index``."""
        self.stored.pop(cell_index, None)
        self.dropped.pop(cell_index, None)

    def output(self, outs, msg, display_id, cell_index):
        if not self.capped and msg.get("msg_type") != "stream":
            return super().output(outs, msg, display_id, cell_index)
        if self.clear_before_next_output:  # a clear_output(wait=True) takes effect now
            self.stored[cell_index] = 0
        content, stored = msg.get("content"), self.stored.get(cell_index, 0)
        size = output_size(content)
        room = MAX_CELL_OUTPUT - stored
        if size > room:
            text = content.get("text") if msg.get("msg_type") == "stream" else None
            if not isinstance(text, str) or room <= 0:
                self.dropped[cell_index] = self.dropped.get(cell_index, 0) + size
                return None
            # A print loop's text arrives in large chunks: keep what fits of this one.
            content["text"] = text[:room]
            self.dropped[cell_index] = self.dropped.get(cell_index, 0) + size - room
            size = room
        self.stored[cell_index] = stored + size
        return super().output(outs, msg, display_id, cell_index)

    def clear_output(self, outs, msg, cell_index):
        super().clear_output(outs, msg, cell_index)
        if not outs:
            self.stored[cell_index] = 0


def output_size(content):
    """Characters in one output message's content: its text, data and traceback."""
    if not isinstance(content, dict):
        return 0
    parts = [content.get("text"), *(content.get("data") or {}).values(),
             *(content.get("traceback") or [])]
    return sum(len(part) if isinstance(part, str) else len(json.dumps(part, default=str))
               for part in parts if part is not None)


def coalesce_streams(outputs):
    """One stream output per stream name, where its first part was; returns the new list.

    nbclient's ``coalesce_streams`` rules, in linear time: the parts of a stream are joined, on
    each line whatever comes before the last carriage return followed by more of the line is
    dropped (what a terminal shows of a progress line), and a stdout right after a stderr moves
    before it (the two arrive asynchronously). nbclient's own version applies a regular
    expression that is quadratic in the length of a line.
    """
    merged, parts = [], {}
    for output in outputs:
        if output.get("output_type") == "stream" and isinstance(output.get("text"), str):
            if output.get("name") in parts:
                parts[output["name"]].append(output["text"])
                continue
            parts[output.get("name")] = [output["text"]]
        merged.append(output)
    for output in merged:
        if output.get("output_type") == "stream" and output.get("name") in parts:
            output["text"] = drop_overwritten("".join(parts.pop(output["name"])))
    for i, output in enumerate(merged[:-1]):
        following = merged[i + 1]
        if (output.get("output_type"), output.get("name")) == ("stream", "stderr") \
                and (following.get("output_type"), following.get("name")) == ("stream", "stdout"):
            merged[i], merged[i + 1] = following, output
    return merged


def drop_overwritten(text):
    """``text`` without what a carriage return overwrites: on each line, everything up to and
    including its last carriage return that is followed by more of the line."""
    if "\r" not in text:
        return text
    lines = text.split("\n")
    for i, line in enumerate(lines):
        last = line.rfind("\r", 0, len(line) - 1)
        if last >= 0:
            lines[i] = line[last + 1:]
    return "\n".join(lines)


def _finish_outputs(client, cell, index):
    """Merge the cell's streams and note what was dropped; returns the dropped characters."""
    cell.outputs = coalesce_streams(cell.outputs)
    dropped = client.dropped.get(index, 0)
    if dropped:
        cell.outputs.append(nbformat.v4.new_output(
            "stream", name="stdout",
            text=f"\n[grader: this cell's output was cut off after {MAX_CELL_OUTPUT:,} "
                 f"characters; {dropped:,} more were not stored]\n"))
    return dropped


class SandboxedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernel command runs inside ``self.sandbox`` (a
    :class:`~instructor.sandbox.Sandbox`); set it before starting the kernel."""
    sandbox = None

    def format_kernel_cmd(self, extra_arguments=None):
        return self.sandbox.command(super().format_kernel_cmd(extra_arguments))

    async def _async_signal_kernel(self, signum):
        # jupyter_client signals the whole process group, bwrap's included: an interrupt would
        # end bwrap, and the kernel with it. The kernel alone receives it.
        kernel = self._kernel_process()
        if signum == signal.SIGINT and kernel is not None:
            try:
                kernel.send_signal(signum)
            except psutil.NoSuchProcess:
                pass
            return
        await super()._async_signal_kernel(signum)

    def _kernel_process(self):
        """The kernel: the first process bwrap started that is not bwrap itself (bwrap runs
        as the sandbox's PID 1, whose other children are orphans adopted later)."""
        try:
            process = psutil.Process(self.provisioner.pid)
            while process.name() == "bwrap":
                children = process.children()
                if not children:
                    return None
                process = min(children, key=lambda child: child.create_time())
            return process
        except (AttributeError, psutil.NoSuchProcess):
            return None


def kernel_environment(threads=0, inherit=True):
    """The environment a kernel starts with: the caller's (``inherit``) or nothing, plus the
    settings of :data:`KERNEL_ENVIRONMENT`.

    ``threads`` > 0 caps TensorFlow's and the BLAS libraries' thread pools: kernels graded in
    parallel then share the cores instead of each starting one busy thread per core (TensorFlow's
    pool spins while it waits, so oversubscribed kernels waste much of the machine). The lab's
    results do not depend on it: the same notebook gives the same outputs with 1 or 2 threads.
    """
    env = ({key: value for key, value in os.environ.items() if key not in DROPPED_ENVIRONMENT}
           if inherit else {})
    env.update(KERNEL_ENVIRONMENT)
    if threads > 0:
        for name in THREAD_VARIABLES:
            env[name] = str(threads)
    return env


def run_notebook(notebook, workdir, *, cell_timeout, memory_limit_mb=None, cpu_limit_seconds=None,
                 disk_limit_mb=None, before=(), after=(), probe_timeout=None, threads=0,
                 sandboxed=False, writable=(), last_cell=None):
    """Run ``notebook``'s code cells in order in a new kernel started in ``workdir``.

    The notebook's cells receive the fresh outputs and execution counts (the grader passes a
    copy). ``before`` and ``after`` are sequences of (name, code) probes run before the first and
    after the last cell; ``code`` may be a function returning the code, called just before the
    probe runs (so the grader can prepare what the student's cells must not see). ``threads``:
    see :func:`kernel_environment`. ``memory_limit_mb`` / ``cpu_limit_seconds`` /
    ``disk_limit_mb`` (of ``workdir``): see :class:`Watchdog` (None: no limit). ``sandboxed``:
    run the kernel inside the sandbox of :mod:`instructor.sandbox`, which sees ``workdir`` and
    the folders in ``writable`` read-write and nothing else of this machine's files but the
    system and Python; raises :class:`~instructor.sandbox.SandboxUnavailable` when it cannot
    start. ``last_cell``: the
    index of the last cell to run (None: all); the code cells after it are "skipped" and the
    ``after`` probes run right after it. Returns a :class:`KernelRun`.
    """
    started = time.monotonic()
    result = KernelRun(sandboxed=sandboxed)
    binary = sandboxing.require() if sandboxed else None
    ipc_dir = Path(tempfile.mkdtemp(prefix="kernel-ipc-")) if sandboxed else None
    client = OutputCappedClient(
        notebook, timeout=cell_timeout, kernel_name="python3", allow_errors=True,
        interrupt_on_timeout=True, extra_arguments=list(KERNEL_ARGUMENTS),
        error_on_timeout={"ename": "CellTimeoutError", "evalue": f"cell exceeded {cell_timeout} s",
                          "traceback": []},
        record_timing=False, resources={"metadata": {"path": str(workdir)}},
        # The kernel flushes stdout on a timer: on a busy machine one print loop arrives as
        # several stream outputs. Merged (coalesce_streams, after each cell), stored outputs do
        # not depend on the machine's load.
        coalesce_streams=False)
    replies = {}
    client.on_cell_executed = lambda cell, cell_index, execute_reply: replies.__setitem__(
        id(cell), execute_reply)

    if sandboxed:
        # No network inside: the kernel's sockets are files in a folder bound into the sandbox.
        client.km = SandboxedKernelManager(kernel_name="python3", transport="ipc",
                                           ip=str(ipc_dir / "kernel"),
                                           connection_file=str(ipc_dir / "connection.json"))
        client.km.sandbox = sandboxing.Sandbox(
            binary, Path(workdir).resolve(), tuple(Path(p).resolve() for p in (ipc_dir, *writable)),
            kernel_environment(threads, inherit=False))
        # bwrap's own environment too: its process inside (the sandbox's PID 1) keeps the
        # environment it started with, and /proc/1/environ would show the grader's.
        environment = client.km.sandbox.inside_environment()
    else:
        client.km = client.create_kernel_manager()
        environment = kernel_environment(threads)
    watchdog = None
    try:
        client.start_new_kernel(env=environment, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        watchdog = Watchdog(client.km.provisioner.pid, memory_limit_mb, cpu_limit_seconds,
                            folder=str(workdir), disk_limit_mb=disk_limit_mb)
        watchdog.start()
        client.start_new_kernel_client()
        alive = _run_probes(client, before, result, replies, probe_timeout or cell_timeout)
        for index, cell in enumerate(notebook.cells):
            if cell.cell_type != "code":
                continue
            if last_cell is not None and index > last_cell:
                result.cells.append(CellResult(index, "skipped"))
                continue
            if not alive:
                result.cells.append(CellResult(index, "not run"))
                continue
            outcome = _run_cell(client, cell, index, replies, watchdog)
            result.cells.append(outcome)
            if outcome.status == "unreadable" or (
                    outcome.status in ("killed", "timeout")
                    and not _responsive(client, outcome, watchdog)):
                result.stopped = outcome.error
                alive = False
        if alive:
            alive = _run_probes(client, after, result, replies, probe_timeout or cell_timeout)
            unreadable = [probe.error for probe in result.probes.values()
                          if probe.status == "unreadable"]
            if not alive and not result.stopped:
                result.stopped = (unreadable[0] if unreadable else
                                  "the kernel stopped while the grader was reading the results")
    finally:
        if watchdog is not None:
            watchdog.stop()
            result.peak_memory_mb = round(watchdog.peak_bytes / 2**20, 1)
            result.cpu_seconds = round(watchdog.cpu_seconds, 2)
        _shut_down(client)
        if ipc_dir is not None:
            shutil.rmtree(ipc_dir, ignore_errors=True)
    result.seconds = round(time.monotonic() - started, 2)
    return result


def execute_notebook(notebook, workdir, *, cell_timeout=600, threads=0):
    """Run the instructor's own notebook top to bottom in ``workdir``, outputs stored in place.

    For ``tools/refresh_outputs.py``, the tests and the benchmarks: no sandbox and no memory
    limit, errors kept in the outputs (the run goes on). Returns the :class:`KernelRun`.
    """
    return run_notebook(notebook, workdir, cell_timeout=cell_timeout, threads=threads)


def _run_cell(client, cell, index, replies, watchdog):
    """Execute one cell; returns its CellResult (never raises for the cell's own failures)."""
    started = time.monotonic()
    client.forget(index)
    try:
        outcome = _execute_cell(client, cell, index, replies, watchdog, started)
    finally:
        dropped = _finish_outputs(client, cell, index)
    outcome.dropped_output = dropped
    return outcome


def _execute_cell(client, cell, index, replies, watchdog, started):
    """_run_cell's execution and verdict, its outputs not yet merged."""
    try:
        client.execute_cell(cell, index)
    except DeadKernelError:
        seconds = round(time.monotonic() - started, 2)
        if watchdog.exceeded:
            return CellResult(index, "killed", seconds,
                              f"{watchdog.exceeded} in cell {index}: the kernel was stopped")
        return CellResult(index, "killed", seconds, f"the kernel died in cell {index}")
    except CellTimeoutError as error:  # only when an interrupt is not possible
        return CellResult(index, "timeout", round(time.monotonic() - started, 2), str(error))
    except Exception as error:
        if not unreadable_message(error):
            raise
        return CellResult(index, "unreadable", round(time.monotonic() - started, 2),
                          unreadable_text(error, f"cell {index}"))
    seconds = round(time.monotonic() - started, 2)
    reply = (replies.pop(id(cell), None) or {}).get("content", {})
    if reply.get("ename") == "CellTimeoutError":
        return CellResult(index, "timeout", seconds,
                          f"cell {index} ran longer than {client.timeout} s and was interrupted")
    if reply.get("status") == "error":
        return CellResult(index, "error", seconds, f"{reply.get('ename')}: {reply.get('evalue')}")
    return CellResult(index, "ok", seconds)


def _responsive(client, outcome, watchdog):
    """After a timeout, whether the interrupted kernel answers again (it may be stuck in C).

    A cell stuck in one long C call (a huge allocation) ignores the interrupt; when the
    watchdog kills it meanwhile, the cell is reported as killed for that limit: what stopped
    the kernel, however slow the machine was to reach the limit.
    """
    if outcome.status == "killed":
        return False
    check = nbformat.v4.new_code_cell("pass")
    saved, client.timeout = client.timeout, RECOVERY_SECONDS
    client.interrupt_on_timeout = False
    try:
        _execute_transient(client, check)
        return True
    except (CellTimeoutError, DeadKernelError):
        if watchdog.exceeded:
            outcome.status = "killed"
            outcome.error = (f"{watchdog.exceeded} in cell {outcome.index} (interrupted after "
                             f"{saved} s first): the kernel was stopped")
        else:
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
            except Exception as error:
                if not unreadable_message(error):
                    raise
                result.probes[name] = CellResult(-1, "unreadable",
                                                 round(time.monotonic() - started, 2),
                                                 unreadable_text(error, f"the grader's {name} probe"))
                return False
            reply = (replies.pop(id(cell), None) or {}).get("content", {})
            status = "ok" if reply.get("status") == "ok" else "error"
            error = "" if status == "ok" else f"{reply.get('ename')}: {reply.get('evalue')}"
            result.probes[name] = CellResult(-1, status, round(time.monotonic() - started, 2),
                                             error, cell.outputs)
    finally:
        client.timeout = saved
    return True


def unreadable_message(error):
    """Whether ``error`` was raised where jupyter_client reads a kernel's message: its session
    refused the message (not JSON, a bad or repeated signature, a header without its fields).

    A kernel's messages are encoded and signed by ipykernel's own session; they fail these
    checks only when code in the kernel has replaced what encodes or signs them (json.dumps,
    the session's packer or key). The kernel then cannot be talked to any more.
    """
    return any(frame.f_code.co_name == "deserialize"
               and Path(frame.f_code.co_filename).parent.name == "jupyter_client"
               and Path(frame.f_code.co_filename).name == "session.py"
               for frame, _ in traceback.walk_tb(error.__traceback__))


def unreadable_text(error, during):
    return (f"while {during} ran, the kernel sent a message the grader could not read "
            f"({type(error).__name__}: {error}): code in the notebook changed how the kernel "
            f"encodes or signs its messages, and the kernel was stopped")


def _execute_transient(client, cell):
    """Execute a grader cell that is not part of the notebook and leaves no trace in it.

    nbclient writes an executed cell back to ``nb.cells[index]``, so the cell is appended for the
    time of its execution and removed afterwards (an index of -1 would overwrite the last cell).
    It runs with store_history=False: the student's cells keep their execution counts.
    """
    client.nb.cells.append(cell)
    index = len(client.nb.cells) - 1
    client.forget(index)
    client.capped = False
    try:
        client.execute_cell(cell, index, store_history=False)
    finally:
        client.capped = True
        _finish_outputs(client, cell, index)
        client.nb.cells.pop()


def _shut_down(client):
    """Stop the kernel and its channels whatever state it is in, and every process the
    notebook started (a background process must not outlive its submission; outside the
    sandbox, one that left the kernel's process tree is out of reach)."""
    provisioner = getattr(client.km, "provisioner", None) if client.km is not None else None
    try:
        descendants = psutil.Process(provisioner.pid).children(recursive=True)
    except (AttributeError, TypeError, psutil.NoSuchProcess):
        descendants = []
    try:
        if client.kc is not None:
            client.kc.stop_channels()
    except Exception:  # the channels of a killed kernel may already be gone
        pass
    try:
        if client.km is not None and client.km.has_kernel:
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
