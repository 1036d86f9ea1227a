"""The one kernel runner: a notebook in a fresh kernel, cell by cell, with limits.

It serves the grader (isolated, with limits, and with cells of its own after the notebook's:
:class:`KernelSession`), ``tools/refresh_outputs.py``, the tests' notebook runs and the benchmarks
(:func:`execute_notebook`: the instructor's own notebook, no isolation). Every kernel starts with
``capture_fd_output=False``, so TensorFlow's C++ log is never stored as output.

One cell that loops forever is interrupted after ``cell_timeout`` seconds and the run goes on
with the next cell (the kernel keeps its state); a cell stores at most
:data:`~instructor.engine.outputs.MAX_CELL_OUTPUT` characters of output. The
:class:`~instructor.engine.watchdog.Watchdog` sums the memory, CPU time and number of every
process of the kernel (with an isolation, every process in it) and the disk its work folder
takes, and kills them all above a limit; a kernel that dies, or does not recover from an
interrupt, ends the run: the remaining cells are marked "not run".

Isolation (``isolation=``): None (the caller's own rights), a
:class:`~instructor.engine.sandbox.Sandbox` (bubblewrap: the kernel is reached over IPC sockets in
a private folder bound into it, since it has no network), or an
:class:`~instructor.engine.unprivileged.UnprivilegedUser` (the kernel runs as that user; every
process of the user is killed when the session ends).

Nothing here knows about the lab.
"""
import os
import signal
import subprocess
import tempfile
import time
import traceback
from dataclasses import dataclass, field, replace
from pathlib import Path

import nbformat
import psutil
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync
from nbclient.exceptions import CellTimeoutError, DeadKernelError

from instructor.engine import guard
from instructor.engine.outputs import OutputCappedClient, finish_outputs
from instructor.engine.sandbox import Sandbox
from instructor.engine.unprivileged import UnprivilegedUser, kill_all
from instructor.engine.watchdog import Watchdog, remove_tree

# TensorFlow's C++ log goes to the kernel's file descriptor 2; with fd capture on, ipykernel
# would store it as stderr output (see stack-facts: it breaks strict output comparison).
KERNEL_ARGUMENTS = ["--IPKernelApp.capture_fd_output=False"]
KERNEL_ENVIRONMENT = {"TF_CPP_MIN_LOG_LEVEL": "3", "TF_ENABLE_ONEDNN_OPTS": "0"}
# Dropped from the kernel's environment: the helper modules in the working directory must be
# the only ones a notebook can import by name.
DROPPED_ENVIRONMENT = ("PYTHONPATH", "PYTHONSTARTUP", "MPLBACKEND")
THREAD_VARIABLES = ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS",
                    "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
MAX_ERROR_TEXT = 10_000  # characters kept of a cell's error (name and message)
RECOVERY_SECONDS = 15  # how long an interrupted kernel gets to answer again


@dataclass
class CellResult:
    """What happened to one cell: status is ok, error, timeout, killed, unreadable (a message the
    kernel sent meanwhile failed jupyter_client's decoding or signature check: the kernel can no
    longer be talked to), not run (the kernel had stopped) or skipped (after the run's
    ``last_cell``). ``index`` is the notebook cell's (-1 for a cell of the caller's own)."""
    index: int
    status: str
    seconds: float = 0.0
    error: str = ""
    outputs: list = field(default_factory=list)  # the caller's own cells only
    dropped_output: int = 0  # characters of output not stored


@dataclass
class KernelRun:
    """The outcome of one kernel session: per-cell results and the limits it met."""
    cells: list = field(default_factory=list)
    stopped: str = ""  # why the kernel stopped early ("" while it runs, or when it ran to the end)
    peak_memory_mb: float = 0.0
    cpu_seconds: float = 0.0  # CPU time of every process of the kernel
    seconds: float = 0.0
    isolation: str = "none"  # "sandbox", "user <name>" or "none"


class IsolatedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernel starts through the guard (:mod:`instructor.engine.guard`:
    no file past ``file_size_limit`` bytes, no fallocate) inside ``self.isolation`` (a Sandbox,
    an UnprivilegedUser, or None); set both before starting the kernel."""
    isolation = None
    file_size_limit = 0

    def format_kernel_cmd(self, extra_arguments=None):
        argv = guard.command(super().format_kernel_cmd(extra_arguments), self.file_size_limit)
        return self.isolation.command(argv) if self.isolation is not None else argv

    def write_connection_file(self, **kwargs):
        super().write_connection_file(**kwargs)
        if isinstance(self.isolation, UnprivilegedUser):
            # The kernel reads its connection file (ports and key); it holds nothing the
            # kernel's user does not learn anyway once the kernel runs.
            os.chown(self.connection_file, 0, self.isolation.gid)
            os.chmod(self.connection_file, 0o640)

    async def _async_signal_kernel(self, signum):
        # With bubblewrap, jupyter_client's signal to the process group would reach bwrap too:
        # an interrupt would end bwrap, and the kernel with it. The kernel alone receives it.
        kernel = self._kernel_process() if isinstance(self.isolation, Sandbox) else None
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

    ``threads`` > 0 caps TensorFlow's and the BLAS libraries' thread pools: kernels run in
    parallel then share the cores instead of each starting one busy thread per core (TensorFlow's
    pool spins while it waits, so oversubscribed kernels waste much of the machine).
    """
    env = ({key: value for key, value in os.environ.items() if key not in DROPPED_ENVIRONMENT}
           if inherit else {})
    env.update(KERNEL_ENVIRONMENT)
    if threads > 0:
        for name in THREAD_VARIABLES:
            env[name] = str(threads)
    return env


class KernelSession:
    """A fresh kernel in ``workdir``, for the length of a ``with`` block.

    Inside the block, :meth:`run_cells` runs a notebook's code cells in order (the notebook's
    cells receive their outputs and execution counts), and :meth:`execute` runs code of the
    caller's own that is not part of the notebook and returns only what it displayed under one
    MIME type. ``run.stopped`` says why the kernel stopped, if it did; then nothing more runs.

    Args:
      workdir: the kernel's working folder (read-write for it, whatever the isolation).
      cell_timeout: seconds per notebook cell before it is interrupted.
      memory_limit_mb, cpu_limit_seconds, disk_limit_mb: see :class:`Watchdog` (None: no limit).
      threads: see :func:`kernel_environment`.
      isolation: None, a :class:`Sandbox` or an :class:`UnprivilegedUser` (see the module).
    """

    def __init__(self, workdir, *, cell_timeout, memory_limit_mb=None, cpu_limit_seconds=None,
                 disk_limit_mb=None, threads=0, isolation=None):
        self.workdir = Path(workdir).resolve()
        self.cell_timeout = cell_timeout
        self.limits = (memory_limit_mb, cpu_limit_seconds, disk_limit_mb)
        self.threads, self.isolation = threads, isolation
        self.run = KernelRun(isolation=_isolation_name(isolation))
        self.client = self.watchdog = self._private = None
        self._started = 0.0
        self._replies = {}

    # -- starting and stopping --------------------------------------------------------------------
    def __enter__(self):
        self._started = time.monotonic()
        self.client = OutputCappedClient(
            nbformat.v4.new_notebook(), timeout=self.cell_timeout, kernel_name="python3",
            allow_errors=True, interrupt_on_timeout=True, extra_arguments=list(KERNEL_ARGUMENTS),
            error_on_timeout={"ename": "CellTimeoutError",
                              "evalue": f"cell exceeded {self.cell_timeout} s", "traceback": []},
            record_timing=False, resources={"metadata": {"path": str(self.workdir)}},
            # The kernel flushes stdout on a timer: on a busy machine one print loop arrives as
            # several stream outputs. Merged (finish_outputs, after each cell), stored outputs
            # do not depend on the machine's load.
            coalesce_streams=False)
        self.client.on_cell_executed = lambda cell, cell_index, execute_reply: \
            self._replies.__setitem__(id(cell), execute_reply)
        try:
            self._start_kernel()
            memory, cpu, disk = self.limits
            uid = self.isolation.uid if isinstance(self.isolation, UnprivilegedUser) else None
            # Every folder the kernel may write on the host: its work folder and the folder of
            # its sockets (or, run as a user, of its home).
            folders = [str(self.workdir)] + ([str(self._private)] if self._private else [])
            self.watchdog = Watchdog(self.client.km.provisioner.pid, memory, cpu,
                                     folders=folders, disk_limit_mb=disk, uid=uid)
            self.watchdog.start()
            self.client.start_new_kernel_client()
        except BaseException:
            self._shut_down()
            raise
        return self

    def _start_kernel(self):
        if isinstance(self.isolation, Sandbox):
            # No network inside: the kernel's sockets are files in a folder bound into it.
            self._private = Path(tempfile.mkdtemp(prefix="kernel-ipc-"))
            manager = IsolatedKernelManager(kernel_name="python3", transport="ipc",
                                            ip=str(self._private / "kernel"),
                                            connection_file=str(self._private / "connection.json"))
            manager.isolation = replace(self.isolation, workdir=self.workdir,
                                        writable=(self._private,),
                                        environment=kernel_environment(self.threads, inherit=False))
            # bwrap's own environment too: its process inside (the sandbox's PID 1) keeps the
            # environment it started with, and /proc/1/environ would show the caller's.
            environment = manager.isolation.inside_environment()
        elif isinstance(self.isolation, UnprivilegedUser):
            self._private = Path(tempfile.mkdtemp(prefix="kernel-user-"))
            os.chmod(self._private, 0o711)  # the kernel may reach its connection file, not list
            home = self._private / "home"
            home.mkdir()
            self.isolation.give(home)
            self.isolation.give(self.workdir)
            user = UnprivilegedUser(self.isolation.name, self.isolation.uid, self.isolation.gid,
                                    str(home), kernel_environment(self.threads, inherit=False))
            manager = IsolatedKernelManager(kernel_name="python3", transport="tcp", ip="127.0.0.1",
                                            connection_file=str(self._private / "connection.json"))
            manager.isolation = user
            environment = user.inside_environment()
        else:
            manager = IsolatedKernelManager(kernel_name="python3")
            environment = kernel_environment(self.threads)
        disk_limit_mb = self.limits[2]
        manager.file_size_limit = disk_limit_mb * 2**20 if disk_limit_mb else 0
        self.client.km = manager
        self.client.start_new_kernel(env=environment, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def __exit__(self, *exc):
        self._shut_down()
        return False

    def _shut_down(self):
        if self.watchdog is not None:
            self.watchdog.stop()
            self.run.peak_memory_mb = round(self.watchdog.peak_bytes / 2**20, 1)
            self.run.cpu_seconds = round(self.watchdog.cpu_seconds, 2)
        _shut_down(self.client)
        if isinstance(self.isolation, UnprivilegedUser):
            kill_all(self.isolation)  # a process that double-forked out of the kernel's tree
        if self._private is not None:
            remove_tree(self._private)
        self.run.seconds = round(time.monotonic() - self._started, 2)

    @property
    def alive(self):
        return not self.run.stopped

    # -- the notebook's cells ---------------------------------------------------------------------
    def run_cells(self, notebook, last_cell=None):
        """Run the code cells of ``notebook`` in order; ``last_cell`` is the index of the last
        one to run (None: all), the code cells after it are "skipped". Returns the CellResults
        (also appended to ``run.cells``)."""
        self.client.nb = notebook
        results = []
        for index, cell in enumerate(notebook.cells):
            if cell.cell_type != "code":
                continue
            if last_cell is not None and index > last_cell:
                results.append(CellResult(index, "skipped"))
                continue
            if not self.alive:
                results.append(CellResult(index, "not run"))
                continue
            outcome = self._run_cell(cell, index)
            results.append(outcome)
            if outcome.status == "unreadable" or (outcome.status in ("killed", "timeout")
                                                  and not self._responsive(outcome)):
                self.run.stopped = outcome.error
        self.run.cells.extend(results)
        return results

    def _run_cell(self, cell, index):
        started = time.monotonic()
        self.client.forget(index)
        try:
            outcome = self._execute_cell(cell, index, started)
        finally:
            dropped = finish_outputs(self.client, cell, index)
        outcome.dropped_output = dropped
        return outcome

    def _execute_cell(self, cell, index, started, where=None, **options):
        """Execute one cell; its CellResult (never raises for the cell's own failures).
        ``where`` names the cell in messages (default: "cell INDEX")."""
        where = where or f"cell {index}"
        try:
            self.client.execute_cell(cell, index, **options)
        except DeadKernelError:
            seconds = round(time.monotonic() - started, 2)
            if self.watchdog.exceeded:
                return CellResult(index, "killed", seconds,
                                  f"{self.watchdog.exceeded} in {where}: the kernel was stopped")
            return CellResult(index, "killed", seconds, f"the kernel died in {where}")
        except CellTimeoutError as error:  # only when an interrupt is not possible
            return CellResult(index, "timeout", round(time.monotonic() - started, 2), str(error))
        except Exception as error:
            if not unreadable_message(error):
                raise
            return CellResult(index, "unreadable", round(time.monotonic() - started, 2),
                              unreadable_text(error, where))
        seconds = round(time.monotonic() - started, 2)
        reply = (self._replies.pop(id(cell), None) or {}).get("content", {})
        if reply.get("ename") == "CellTimeoutError":
            return CellResult(index, "timeout", seconds,
                              f"{where} ran longer than {self.client.timeout} s and was "
                              f"interrupted")
        if reply.get("status") == "error":
            # The reply is the kernel's, uncapped by the output limits: its text is cut here.
            text = f"{reply.get('ename')}: {reply.get('evalue')}"
            if len(text) > MAX_ERROR_TEXT:
                text = text[:MAX_ERROR_TEXT] + f"... [{len(text) - MAX_ERROR_TEXT:,} more characters]"
            return CellResult(index, "error", seconds, text)
        return CellResult(index, "ok", seconds)

    def _responsive(self, outcome):
        """After a timeout, whether the interrupted kernel answers again (it may be stuck in C).

        A cell stuck in one long C call ignores the interrupt; when the watchdog kills it
        meanwhile, the cell is reported as killed for that limit.
        """
        if outcome.status == "killed":
            return False
        check = nbformat.v4.new_code_cell("pass")
        saved, self.client.timeout = self.client.timeout, RECOVERY_SECONDS
        self.client.interrupt_on_timeout = False
        try:
            _execute_transient(self.client, check)
            return True
        except (CellTimeoutError, DeadKernelError):
            if self.watchdog.exceeded:
                outcome.status = "killed"
                where = f"cell {outcome.index}" if outcome.index >= 0 else "the grader's own cell"
                outcome.error = (f"{self.watchdog.exceeded} in {where} (interrupted "
                                 f"after {saved} s first): the kernel was stopped")
            else:
                outcome.error += "; the kernel did not recover from the interrupt and was stopped"
            return False
        finally:
            self.client.timeout, self.client.interrupt_on_timeout = saved, True

    # -- the caller's own cells -------------------------------------------------------------------
    def execute(self, code, timeout, mime, limit):
        """Run ``code`` in the kernel, outside the notebook (no execution count, nothing stored
        in the notebook), keeping only what it displays under ``mime``, up to ``limit``
        characters. Returns a CellResult with those outputs; a status other than "ok" or
        "error" (timeout, killed, unreadable) means the answer, if any, is not to be trusted.
        A kernel that stopped for good sets ``run.stopped``.
        """
        if not self.alive:
            return CellResult(-1, "not run", error=self.run.stopped)
        if self.client.nb is None:
            self.client.nb = nbformat.v4.new_notebook()
        cell = nbformat.v4.new_code_cell(code)
        self.client.nb.cells.append(cell)
        index = len(self.client.nb.cells) - 1
        saved, self.client.timeout = self.client.timeout, timeout
        self.client.forget(index)
        self.client.keep_only = (mime, limit)
        started = time.monotonic()
        try:
            outcome = self._execute_cell(cell, index, started, where="the grader's own cell",
                                         store_history=False)
        finally:
            self.client.keep_only = None
            self.client.timeout = saved
            finish_outputs(self.client, cell, index, note=False)
            self.client.nb.cells.pop()
        outcome.index, outcome.outputs = -1, list(cell.outputs)
        if outcome.status == "unreadable" or (outcome.status in ("killed", "timeout")
                                              and not self._responsive(outcome)):
            self.run.stopped = outcome.error
        return outcome


def _isolation_name(isolation):
    if isinstance(isolation, Sandbox):
        return "sandbox"
    if isinstance(isolation, UnprivilegedUser):
        return f"user {isolation.name}"
    return "none"


def run_notebook(notebook, workdir, *, cell_timeout, last_cell=None, **session_options):
    """Run ``notebook``'s code cells in a new :class:`KernelSession`; returns its KernelRun."""
    with KernelSession(workdir, cell_timeout=cell_timeout, **session_options) as session:
        session.run_cells(notebook, last_cell)
    return session.run


def execute_notebook(notebook, workdir, *, cell_timeout=600, threads=0):
    """Run the instructor's own notebook top to bottom in ``workdir``, outputs stored in place.

    For ``tools/refresh_outputs.py``, the tests and the benchmarks: no isolation and no memory
    limit, errors kept in the outputs (the run goes on). Returns the :class:`KernelRun`.
    """
    return run_notebook(notebook, workdir, cell_timeout=cell_timeout, threads=threads)


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
    """Execute a cell that is not part of the notebook and leaves no trace in it (appended for
    the time of its execution: nbclient writes an executed cell back to ``nb.cells[index]``)."""
    client.nb.cells.append(cell)
    index = len(client.nb.cells) - 1
    client.forget(index)
    try:
        client.execute_cell(cell, index, store_history=False)
    finally:
        finish_outputs(client, cell, index, note=False)
        client.nb.cells.pop()


def _shut_down(client):
    """Stop the kernel and its channels whatever state it is in, and every process the
    notebook started (a background process must not outlive its notebook; outside an isolation,
    one that left the kernel's process tree is out of reach)."""
    if client is None:
        return
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
