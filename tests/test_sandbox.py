"""The grader's sandbox and batch, tried as a hostile submission would, through the real runner.

The cases that start kernels are in the acceptance tier (`python -m pytest -m acceptance`); the
everyday tier keeps those that need none (refusal, discovery, a dead worker, awkward files).

Each case is a small code cell run by ``instructor.engine.kernel.run_notebook`` in a sandboxed
kernel without TensorFlow (a kernel starts in about a second): the cells of one category share
one kernel and print a verdict line each ("BLOCKED ..." or "LEAKED ..."), so that one failure
names its case. The secrets and targets are real: the instructor's ``hidden_checks.py`` and
``public_tests.py``, another submission's work folder made as the grader makes them, a report
folder, an environment variable of this process, and host sockets. Cases that only need a
process to die (the batch) use a stand-in grading function, so no kernel starts at all.
"""
import json
import os
import signal
import socket
import sys
import tempfile
import uuid
from pathlib import Path

import nbformat
import psutil
import pytest

import lab_submissions  # noqa: F401  (puts the project on sys.path)
from instructor.__main__ import main
from instructor.engine import sandbox
from instructor.engine.kernel import KernelSession, run_notebook
from instructor.engine.outputs import MAX_CELL_OUTPUT
from instructor.engine.watchdog import DISK_INTERVAL, MAX_FOLDER_ENTRIES, MAX_PROCESSES, folder_usage
from instructor.grading.options import GradeOptions
from instructor.grading.pool import grade_all
from instructor.grading.submissions import find_submissions
from instructor.grading.record import ExerciseResult, SubmissionRecord
from instructor.lab import spec
from instructor.lab.files import PROJECT_ROOT

AVAILABLE = sandbox.availability()
_sandbox_here = pytest.mark.skipif(not AVAILABLE.ok, reason=f"no sandbox here: {AVAILABLE.reason}")


def needs_sandbox(test):
    """A case that starts real kernels in the sandbox: in the acceptance tier (a kernel per
    category, 1-10 s each: about a minute in all), skipped, saying why, where no sandbox starts."""
    return pytest.mark.acceptance(_sandbox_here(test))


kernel_case = pytest.mark.acceptance  # a kernel without the sandbox, for contrast
CELL_TIMEOUT = 120  # only ever reached when a case fails: no verdict depends on it
SECRET_VARIABLE = "GRADER_TEST_SECRET"


def _notebook(*sources):
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])


def _printed(cell):
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")


def _isolation(sandboxed=True):
    return sandbox.make() if sandboxed else None


def _run(sources, workdir, **limits):
    """Run the cells in a sandboxed kernel; (KernelRun, [printed text per cell])."""
    notebook = _notebook(*sources)
    run = run_notebook(notebook, workdir, cell_timeout=limits.pop("cell_timeout", CELL_TIMEOUT),
                       isolation=_isolation(limits.pop("sandboxed", True)), **limits)
    return run, [_printed(cell) for cell in notebook.cells]


def _attempt(label, code):
    """A cell that tries ``code`` and prints "label BLOCKED ..." or "label LEAKED ...".

    BLOCKED: an OSError (no such file, read-only, no network...), a KeyError (no such variable)
    or an AssertionError (the secret was not where the code looked)."""
    body = "\n".join("    " + line for line in code.strip().splitlines())
    return (f"try:\n{body}\n    print({label!r}, 'LEAKED', repr(globals().get('found'))[:200])\n"
            f"except (OSError, KeyError, AssertionError) as error:\n"
            f"    print({label!r}, 'BLOCKED', type(error).__name__, str(error)[:200])\n")


@pytest.fixture(scope="module")
def targets(tmp_path_factory):
    """What a submission must not reach: another submission's work folder (made as the grader
    makes it), a report folder, the grader's private folder, and a secret in the environment."""
    other = Path(tempfile.mkdtemp(prefix="grade-work-"))
    (other / "model.keras").write_bytes(b"another student's model")
    report = tmp_path_factory.mktemp("report")
    (report / "report.json").write_text("{}")
    private = Path(tempfile.mkdtemp(prefix="grade-private-"))
    (private / "hidden_inputs.npz").write_bytes(b"secret inputs")
    yield {"other": other, "report": report, "private": private}
    for folder in (other, private):
        for item in folder.iterdir():
            item.unlink()
        folder.rmdir()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("work")


# --------------------------------------------------------------------------------------------
# Reading secrets

@pytest.fixture(scope="module")
def reads(targets, workdir):
    secret = uuid.uuid4().hex
    os.environ[SECRET_VARIABLE] = secret
    try:
        cases = {
            "hidden_checks": f"found = open({str(PROJECT_ROOT / 'instructor' / 'grading' / 'hidden_checks.py')!r}).read()",
            "project": f"found = os.listdir({str(PROJECT_ROOT)!r})\nassert 'instructor' in found, found\n",
            "other_submission": f"found = open({str(targets['other'] / 'model.keras')!r}, 'rb').read()",
            "private_folder": f"found = os.listdir({str(targets['private'])!r})",
            "environment": f"found = os.environ[{SECRET_VARIABLE!r}]",
            "environment_of_pid_1": f"found = open('/proc/1/environ').read()\n"
                                    f"assert {secret!r} in found, 'not there'\n",
            "shadow": "found = open('/etc/shadow').read()",
            "grader_home": "found = [n for n in os.listdir(os.path.expanduser('~root')) if n != '.pyenv']\n"
                           "assert found, 'only the Python installation'\n",
        }
        run, printed = _run(["import os"] + [_attempt(label, code)
                                             for label, code in cases.items()], workdir)
    finally:
        del os.environ[SECRET_VARIABLE]
    return cases, run, printed


def _verdicts(printed):
    """{label: line} from the cells' "label BLOCKED|LEAKED ..." lines."""
    lines = [line for text in printed for line in text.splitlines()]
    return {line.split()[0]: line for line in lines if " BLOCKED" in line or " LEAKED" in line}


@needs_sandbox
@pytest.mark.parametrize("label", ["hidden_checks", "project", "other_submission", "private_folder",
                                   "environment", "environment_of_pid_1", "shadow", "grader_home"])
def test_secrets_cannot_be_read(reads, label):
    cases, run, printed = reads
    assert run.isolation == "sandbox" and not run.stopped
    assert " BLOCKED " in _verdicts(printed)[label], printed


# --------------------------------------------------------------------------------------------
# Writing outside the work folder

@pytest.fixture(scope="module")
def writes(targets, workdir):
    public_tests = PROJECT_ROOT / "public_tests.py"
    before = {path: path.read_bytes() for path in
              (public_tests, targets["report"] / "report.json", targets["other"] / "model.keras")}
    planted = Path(next(p for p in sys.path if p.endswith("site-packages"))) / \
        f"planted_{uuid.uuid4().hex}.py"  # would be imported by every later kernel
    # "r+": change the existing file. Opening to create ("a", "w") would succeed wherever the
    # host path lies under /tmp (a clone in /tmp, pytest's tmp_path): the sandbox's private /tmp
    # shadows it, so the write lands in the sandbox's own memory, not on the host.
    cases = {
        "public_tests": f"open({str(public_tests)!r}, 'r+').write('# changed')",
        "report": f"open({str(targets['report'] / 'report.json')!r}, 'r+').write('[]')",
        "other_submission": f"open({str(targets['other'] / 'model.keras')!r}, 'r+b').write(b'x')",
        "site_packages": f"open({str(planted)!r}, 'w').write('x = 1')",
        "remount": "import subprocess\n"
                   "done = subprocess.run(['mount', '-o', 'remount,rw,bind', "
                   f"{str(Path(sys.prefix))!r}], capture_output=True, text=True)\n"
                   "if done.returncode: raise PermissionError(done.stderr.strip())\n"
                   f"open({str(Path(sys.prefix) / 'escaped.txt')!r}, 'w').write('x')",
        "root_of_sandbox": "open('/planted.py', 'w').write('x = 1')",
        # /tmp is memory the watchdog cannot see: it is capped instead.
        "tmp_past_its_size": "try:\n    with open('/tmp/fill', 'wb') as f:\n"
                             f"        for _ in range({sandbox.TMP_SIZE_BYTES // 2**20 + 1}):\n"
                             "            f.write(bytes(2**20))\n"
                             "finally:\n    os.remove('/tmp/fill')",
        # /dev was a tmpfs of half the machine's memory (8 GB written unseen): read-only now,
        # its device nodes working, and /dev/shm capped like /tmp.
        "dev": "open('/dev/planted', 'w').write('x')",
        "shm_past_its_size": "try:\n    with open('/dev/shm/fill', 'wb') as f:\n"
                             f"        for _ in range({sandbox.SHM_SIZE_BYTES // 2**20 + 1}):\n"
                             "            f.write(bytes(2**20))\n"
                             "finally:\n    os.remove('/dev/shm/fill')",
        "dev_null": "open('/dev/null', 'w').write('allowed')",
        "own_work_folder": "open('mine.txt', 'w').write('allowed')",
    }
    run, printed = _run(["import os"] + [_attempt(label, code) for label, code in cases.items()],
                        workdir)
    after = {path: path.read_bytes() for path in before}
    return run, printed, before, after, planted


@needs_sandbox
@pytest.mark.parametrize("label", ["public_tests", "report", "other_submission", "site_packages",
                                   "remount", "root_of_sandbox", "tmp_past_its_size", "dev",
                                   "shm_past_its_size"])
def test_nothing_outside_the_work_folder_can_be_written(writes, label):
    run, printed, before, after, planted = writes
    verdict = _verdicts(printed)[label]
    assert " BLOCKED " in verdict, verdict
    # And on the host: the files the cells aimed at are unchanged, none was created.
    assert before == after
    assert not planted.exists() and not (Path(sys.prefix) / "escaped.txt").exists()


@needs_sandbox
def test_the_work_folder_itself_is_writable(writes, workdir):
    run, printed, *_ = writes
    assert " LEAKED " in _verdicts(printed)["own_work_folder"]  # LEAKED: the write succeeded
    assert (workdir / "mine.txt").read_text() == "allowed"
    assert " LEAKED " in _verdicts(printed)["dev_null"]  # the device nodes still work


# --------------------------------------------------------------------------------------------
# Processes that try to outlive the kernel

def _processes_with(token):
    found = []
    for process in psutil.process_iter(["cmdline"]):
        if token in " ".join(process.info["cmdline"] or []):
            found.append(process)
    return found


ESCAPES = {
    "double_fork": "import subprocess\nsubprocess.run(['sh', '-c', '(sleep {token} &)'])",
    "setsid": "import subprocess\nsubprocess.Popen(['sleep', '{token}'], start_new_session=True)",
    "daemon": "import os\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
              "        os.execv('/bin/sleep', ['sleep', '{token}'])\n    os._exit(0)\nos.wait()",
}


@needs_sandbox
@pytest.mark.parametrize("how", sorted(ESCAPES))
def test_no_process_survives_the_kernel(how, workdir):
    token = f"{900 + int.from_bytes(os.urandom(2), 'big') / 1e5:.5f}"  # a unique sleep length
    run, _ = _run([ESCAPES[how].format(token=token), "import time; time.sleep(0.5)"], workdir)
    assert not run.stopped and [c.status for c in run.cells] == ["ok", "ok"], run.cells
    survivors = _processes_with(token)
    # Killing a PID namespace is quick but not instantaneous: wait for the processes to end
    # (they do at once when the sandbox works; the wait only bounds a failure).
    gone, alive = psutil.wait_procs(survivors, timeout=60)
    for process in alive:
        process.kill()
    assert not alive, f"{how}: {[p.cmdline() for p in alive]} outlived the kernel"


@kernel_case
def test_without_the_sandbox_a_daemon_does_survive(workdir):
    """What the sandbox is for: the daemon escape, unsandboxed, leaves a process behind (its
    own session, and a parent that is no longer the kernel's descendant)."""
    token = f"{800 + int.from_bytes(os.urandom(2), 'big') / 1e5:.5f}"
    run, _ = _run([ESCAPES["daemon"].format(token=token)], workdir, sandboxed=False)
    survivors = _processes_with(token)
    for process in survivors:
        process.kill()
    assert run.isolation == "none" and survivors


# --------------------------------------------------------------------------------------------
# Network

@pytest.fixture(scope="module")
def network(workdir):
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    abstract = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    abstract_name = f"\0grader-test-{uuid.uuid4().hex}"
    abstract.bind(abstract_name)
    abstract.listen()
    cases = {
        "loopback": f"found = socket.create_connection(('127.0.0.1', {port}), timeout=10)",
        "internet": "found = socket.create_connection(('1.1.1.1', 53), timeout=10)",
        "dns": "found = socket.getaddrinfo('pypi.org', 443)",
        "abstract_unix": f"found = socket.socket(socket.AF_UNIX)\nfound.connect({abstract_name!r})",
        "udp": "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
               "found = s.sendto(b'x', ('8.8.8.8', 53))",
    }
    try:
        run, printed = _run(["import socket"] + [_attempt(label, code)
                                                 for label, code in cases.items()], workdir)
    finally:
        listener.close()
        abstract.close()
    return run, printed


@needs_sandbox
@pytest.mark.parametrize("label", ["loopback", "internet", "dns", "abstract_unix", "udp"])
def test_network_connections_fail(network, label):
    run, printed = network
    assert run.isolation == "sandbox"
    assert " BLOCKED " in _verdicts(printed)[label], printed  # socket.gaierror is an OSError too


# --------------------------------------------------------------------------------------------
# Limits that count every process of the sandbox

LIMIT_MB = 400  # far above a kernel without TensorFlow (about 60 MB), far below each case
HOG = "b = bytearray({size}); import time; time.sleep(1000)".format(size=4 * LIMIT_MB * 2**20)
RUNAWAYS = {
    "kernel": f"blocks = bytearray({4 * LIMIT_MB * 2**20})\nwhile True:\n    pass",
    "child_process": f"import subprocess, sys\nsubprocess.run([sys.executable, '-c', {HOG!r}])",
    "orphaned_grandchild": "import subprocess, sys, time\n"
                           f"subprocess.run(['sh', '-c', '(' + sys.executable + ' -c \"{HOG}\" &)'])\n"
                           "time.sleep(1000)",
}


@needs_sandbox
@pytest.mark.parametrize("where", sorted(RUNAWAYS))
def test_runaway_memory_is_killed_wherever_it_is_allocated(where, workdir):
    run, _ = _run(["x = 1", RUNAWAYS[where], "print('after')"], workdir, memory_limit_mb=LIMIT_MB)
    first, runaway, after = run.cells
    assert first.status == "ok"
    assert runaway.status == "killed", runaway
    assert f"memory limit of {LIMIT_MB} MB exceeded in cell 1" in runaway.error
    assert after.status == "not run" and run.stopped
    assert run.peak_memory_mb > LIMIT_MB


@needs_sandbox
def test_cpu_time_of_child_processes_counts_towards_the_cpu_limit(workdir):
    spin = "import subprocess, sys\nsubprocess.run([sys.executable, '-c', 'while True: pass'])"
    run, _ = _run([spin], workdir, cpu_limit_seconds=2)
    assert run.cells[0].status == "killed"
    assert "CPU time limit of 2 s exceeded" in run.cells[0].error
    assert run.cpu_seconds > 2


@needs_sandbox
def test_too_many_processes_are_stopped(workdir):
    spawn = ("import subprocess\nprocs = [subprocess.Popen(['sleep', '1000']) for _ in "
             f"range({2 * MAX_PROCESSES})]\nimport time\ntime.sleep(1000)")
    run, _ = _run([spawn], workdir)
    assert run.cells[0].status == "killed"
    assert f"more than {MAX_PROCESSES} processes" in run.cells[0].error


DISK_LIMIT_MB = 20
# The folder of the kernel's sockets, found as the kernel finds it: its connection file's.
SOCKET_FOLDER = ("import os\n"
                 "folder = os.path.dirname(get_ipython().config['IPKernelApp']['connection_file'])\n")
# Each writes past the limit in files under it, then waits: only the watchdog can end the cell
# before its timeout.
DISK_FILLERS = {
    "socket_folder": (SOCKET_FOLDER + "import time\n"
                      "for i in range(6):\n"
                      "    with open(os.path.join(folder, f'{i}.bin'), 'wb') as f:\n"
                      "        f.write(b'x' * 5 * 2**20)\n"
                      "time.sleep(1000)"),
    "nested_files": ("import os, time\nos.makedirs('a/b', exist_ok=True)\n"
                     "for i in range(60):\n"
                     "    with open(f'a/b/{i}.bin', 'wb') as f:\n"
                     "        f.write(b'x' * 2**20)\n"
                     "time.sleep(1000)"),
    "many_files": ("import os, time\nos.makedirs('many', exist_ok=True)\n"
                   "for i in range(MAX + 100):\n"
                   "    open(f'many/{i}', 'w').close()\n"
                   "time.sleep(1000)"),
}


@needs_sandbox
@pytest.mark.parametrize("how", sorted(DISK_FILLERS))
def test_filling_the_work_folder_stops_the_kernel(how, tmp_path):
    code = DISK_FILLERS[how].replace("MAX", str(MAX_FOLDER_ENTRIES))
    run, _ = _run(["x = 1", code, "print('after')"], tmp_path, disk_limit_mb=DISK_LIMIT_MB)
    assert [c.status for c in run.cells] == ["ok", "killed", "not run"], run.cells
    where = "the kernel's folders" if how == "socket_folder" else "the work folder"
    expected = (f"more than {MAX_FOLDER_ENTRIES} files and folders in {where} in cell 1"
                if how == "many_files" else
                f"disk limit of {DISK_LIMIT_MB} MB exceeded in {where} in cell 1")
    assert expected in run.cells[1].error


@needs_sandbox
def test_no_file_grows_past_the_limit_and_nothing_is_reserved_at_once(tmp_path):
    """The guard, before any check of the watchdog: a write past the disk limit fails (EFBIG),
    fallocate fails (EPERM; it reserved gigabytes in microseconds), and the kernel goes on."""
    run, printed = _run(["with open('big.bin', 'wb') as f:\n"
                         "    try:\n"
                         "        for _ in range(60):\n"
                         "            f.write(b'x' * 2**20); f.flush()\n"
                         "    except OSError as error:\n"
                         "        print('write', error.errno)",
                         "import ctypes, os\n"
                         "fd = os.open('reserved.bin', os.O_CREAT | os.O_WRONLY)\n"
                         "try:\n"
                         "    os.posix_fallocate(fd, 0, 2**31)\n"
                         "except OSError as error:\n"
                         "    print('posix_fallocate', error.errno)\n"
                         "libc = ctypes.CDLL(None, use_errno=True)  # FALLOC_FL_KEEP_SIZE\n"
                         "print('fallocate', libc.fallocate(fd, 1, ctypes.c_long(0), ctypes.c_long(2**31)),"
                         " ctypes.get_errno())",
                         "print('after')"], tmp_path, disk_limit_mb=DISK_LIMIT_MB)
    assert [c.status for c in run.cells] == ["ok", "ok", "ok"], run.cells
    assert printed == ["write 27\n", "posix_fallocate 1\nfallocate -1 1\n", "after\n"]
    assert (tmp_path / "big.bin").stat().st_size == DISK_LIMIT_MB * 2**20
    assert (tmp_path / "reserved.bin").stat().st_blocks == 0


@needs_sandbox
def test_a_sparse_file_takes_no_disk_and_is_not_stopped(tmp_path):
    # Three sparse files, each below the guard's file-size limit, whose lengths add up to three
    # times the disk limit: the watchdog counts allocated blocks, not lengths, so nothing stops the
    # run. It looks at the folder about three times while the second cell waits (on a busy machine
    # perhaps less: folder_usage's own test shows a sparse file counts for nothing).
    length = int(0.99 * DISK_LIMIT_MB * 2**20)
    run, printed = _run(["for i in range(3):\n    with open(f'sparse{i}.bin', 'wb') as f:\n"
                         f"        f.truncate({length})",
                         f"import time\ntime.sleep({3 * DISK_INTERVAL})\nprint('after')"],
                        tmp_path, disk_limit_mb=DISK_LIMIT_MB)
    assert [c.status for c in run.cells] == ["ok", "ok"] and printed[1] == "after\n"


def test_folder_usage_counts_allocated_blocks_and_stops_early(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "data.bin").write_bytes(b"x" * 300_000)
    (tmp_path / "link").symlink_to("/usr")  # not followed
    used, entries = folder_usage(str(tmp_path))
    assert entries == 3 and 300_000 <= used < 400_000
    assert folder_usage(str(tmp_path), stop_above_entries=1)[1] == 2
    with open(tmp_path / "sparse.bin", "wb") as sparse:  # a gigabyte long, no block written
        sparse.truncate(2**30)
    assert folder_usage(str(tmp_path))[0] - used < 100_000


@needs_sandbox
def test_an_endless_loop_is_interrupted_and_the_kernel_goes_on(workdir):
    run, printed = _run(["while True:\n    pass", "print('still here')"], workdir, cell_timeout=3)
    assert [c.status for c in run.cells] == ["timeout", "ok"]
    assert printed[1] == "still here\n"


@needs_sandbox
@pytest.mark.parametrize("loop", ["print('x' * 1000)", "print('x', end='')"])
def test_a_cell_printing_without_end_stores_only_the_cap_and_the_run_goes_on(loop, workdir):
    # Before the cap, the grader was still merging such a cell's output minutes after its
    # timeout. The timeout here only ends the loop; the verdicts hold at any speed.
    notebook = _notebook(f"while True:\n    {loop}", "print('after')")
    run = run_notebook(notebook, workdir, cell_timeout=3, isolation=_isolation())
    assert [c.status for c in run.cells] == ["timeout", "ok"], run.cells
    flood, note = notebook.cells[0].outputs[0], notebook.cells[0].outputs[-1]
    assert flood.output_type == "stream" and set(flood.text) <= {"x", "\n"}
    assert len(flood.text) <= MAX_CELL_OUTPUT
    if run.cells[0].dropped_output:  # a slow machine may not reach the cap in 3 s
        assert len(flood.text) == MAX_CELL_OUTPUT
        assert note.text.startswith("\n[grader: this cell's output was cut off after")
    assert _printed(notebook.cells[1]) == "after\n"


@needs_sandbox
def test_a_thread_left_printing_never_reaches_the_graders_own_cells(workdir):
    """The grader's own cells keep only the one display that carries their answer: what a thread
    prints meanwhile is dropped as it arrives, and a flood of displays is capped."""
    notebook = _notebook("import threading\n"
                         "def _flood():\n    while True:\n        print('y' * 1000)\n"
                         "threading.Thread(target=_flood, daemon=True).start()")
    probe = ("import time\nfrom IPython.display import display\nstarted = time.time()\n"
             "while time.time() - started < 2:\n    pass\n"
             "display({'application/json': {'answer': 42}}, raw=True)\n"
             "for _ in range(50):\n    display({'application/json': {'x': 'z' * 1000}}, raw=True)")
    with KernelSession(workdir, cell_timeout=CELL_TIMEOUT, isolation=_isolation()) as session:
        [cell] = session.run_cells(notebook)
        answer = session.execute(probe, CELL_TIMEOUT, "application/json", 20_000)
    assert cell.status == "ok" and answer.status == "ok", (cell, answer)
    assert all(o.output_type == "display_data" and set(o.data) == {"application/json"}
               for o in answer.outputs)
    assert answer.outputs[0].data["application/json"] == {"answer": 42}
    assert 1 < len(answer.outputs) < 30  # the displays past the limit were dropped


@needs_sandbox
def test_a_progress_line_redrawn_with_carriage_returns_keeps_its_last_state(workdir):
    notebook = _notebook("for i in range(3000):\n    print(f'\\rstep {i}', end='')\nprint()",
                         "import sys\nprint('out'); print('err', file=sys.stderr); print('out')")
    run = run_notebook(notebook, workdir, cell_timeout=CELL_TIMEOUT, isolation=_isolation())
    assert [c.status for c in run.cells] == ["ok", "ok"] and not run.cells[0].dropped_output
    assert [(o.name, o.text) for cell in notebook.cells for o in cell.outputs] == [
        ("stdout", "step 2999\n"), ("stdout", "out\nout\n"), ("stderr", "err\n")]


# What ipykernel's session encodes and signs, replaced in three ways: the kernel's messages then
# fail jupyter_client's checks (not JSON, a header without its fields, a wrong signature).
UNREADABLE_MESSAGES = {
    "json_dumps": "setattr(__import__('json'), 'dumps', lambda *a, **k: 'not json')",
    "empty_header": "setattr(__import__('json'), 'dumps', lambda *a, **k: '{}')",
    "signing_key": "get_ipython().kernel.session.key = b'another key'",
}


@needs_sandbox
@pytest.mark.parametrize("how", sorted(UNREADABLE_MESSAGES))
def test_a_kernel_whose_messages_cannot_be_read_is_stopped_and_the_cell_named(how, workdir):
    run, _ = _run(["x = 1", UNREADABLE_MESSAGES[how], "print('after')"], workdir)
    assert [c.status for c in run.cells] == ["ok", "unreadable", "not run"], run.cells
    error = run.cells[1].error
    assert error.startswith("while cell 1 ran, the kernel sent a message the grader could not "
                            "read (") and "changed how the kernel encodes or signs" in error
    assert run.stopped == error


@needs_sandbox
def test_honest_uses_of_json_and_errors_that_mention_it_are_not_unreadable(workdir):
    run, printed = _run(["import json\nprint(json.dumps({'a': [1, 2]}))",
                         "import json\njson.loads('not json')", "print('after')"], workdir)
    assert [c.status for c in run.cells] == ["ok", "error", "ok"], run.cells
    assert run.cells[1].error.startswith("JSONDecodeError") and not run.stopped
    assert printed[0] == '{"a": [1, 2]}\n' and printed[2] == "after\n"


# --------------------------------------------------------------------------------------------
# No sandbox available: refusal, and the explicit opt-out

def test_grading_refuses_without_a_sandbox(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv(sandbox.SIMULATE_UNAVAILABLE_VARIABLE, "1")
    notebook = tmp_path / "alice.ipynb"
    nbformat.write(_notebook("x = 1"), notebook)
    assert main(["grade", str(notebook), "--report-dir", str(tmp_path / "report")]) == 2
    error = capsys.readouterr().err
    assert "sandbox cannot start" in error and "--no-sandbox" in error
    assert not (tmp_path / "report").exists()  # nothing was graded


def test_the_reason_names_what_is_missing(monkeypatch, tmp_path):
    monkeypatch.setattr(sandbox, "bwrap_binary", lambda: None)
    assert "no bwrap found" in sandbox.availability().reason
    failing = tmp_path / "bwrap"
    failing.write_text("#!/bin/sh\necho 'bwrap: setting up uid map: Permission denied' >&2\nexit 1\n")
    failing.chmod(0o755)
    monkeypatch.setattr(sandbox, "bwrap_binary", lambda: str(failing))
    found = sandbox.availability()
    assert not found.ok and "Permission denied" in found.reason and "user namespaces" in found.reason
    with pytest.raises(sandbox.SandboxUnavailable, match="--no-sandbox"):
        sandbox.require()


def test_library_callers_are_refused_too(monkeypatch, tmp_path):
    monkeypatch.setenv(sandbox.SIMULATE_UNAVAILABLE_VARIABLE, "1")
    with pytest.raises(sandbox.SandboxUnavailable):
        run_notebook(_notebook("x = 1"), tmp_path, cell_timeout=10, isolation=_isolation())
    nbformat.write(_notebook("x = 1"), tmp_path / "bob.ipynb")
    with pytest.raises(sandbox.SandboxUnavailable):
        grade_all(find_submissions([tmp_path / "bob.ipynb"]), GradeOptions())


def test_no_sandbox_opt_out_grades_and_says_so(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv(sandbox.SIMULATE_UNAVAILABLE_VARIABLE, "1")
    (tmp_path / "broken.ipynb").write_text('{"cells": [')  # graded without starting a kernel
    code = main(["grade", str(tmp_path / "broken.ipynb"), "--no-sandbox",
                 "--report-dir", str(tmp_path / "report")])
    out, err = capsys.readouterr()
    assert code == 1 and "NOT ISOLATED" in out and "not isolated" in err
    report = json.loads((tmp_path / "report" / "report.json").read_text())
    [record] = report["submissions"]
    assert record["isolation"] == "none" and record["status"] == "error"
    assert report["options"]["isolation"] == "none"


@kernel_case
def test_without_the_sandbox_the_kernel_sees_everything(tmp_path):
    """The opt-out's meaning, shown: the same read that fails in the sandbox succeeds."""
    hidden = PROJECT_ROOT / "instructor" / "grading" / "hidden_checks.py"
    run, printed = _run([f"print(len(open({str(hidden)!r}).read()) > 0)"], tmp_path,
                        sandboxed=False)
    assert run.isolation == "none" and printed == ["True\n"]


# --------------------------------------------------------------------------------------------
# A batch no submission can break

def _grade_or_die(submission, options, secret):
    """Stands in for the grader in the workers: a submission named killer* kills its process."""
    if submission.name.startswith("killer"):
        os.kill(os.getpid(), signal.SIGKILL)
    record = SubmissionRecord(submission.name, str(submission.notebook))
    record.exercises = {item.id: ExerciseResult.make(item.id, "passed", "passed")
                        for item in spec.EXERCISES}
    return record.finish()


def _loose(tmp_path, *names):
    for name in names:
        (tmp_path / f"{name}.ipynb").write_text("{}")
    return find_submissions([tmp_path])


@pytest.mark.parametrize("names, jobs", [
    (("alice", "bob", "killer", "dave", "erin"), 2),
    pytest.param(("killer", "bob", "carol"), 2, marks=pytest.mark.acceptance),
    pytest.param(("alice", "killer1", "carol", "killer2"), 2, marks=pytest.mark.acceptance),
    pytest.param(("alice", "killer", "carol"), 1, marks=pytest.mark.acceptance),
])
def test_a_dead_worker_costs_only_its_own_submission(tmp_path, names, jobs):
    submissions = _loose(tmp_path, *names)
    seen = []
    records = grade_all(submissions, GradeOptions(isolation="none"), jobs, progress=seen.append,
                        grade_one=_grade_or_die)
    assert [r.name for r in records] == [s.name for s in submissions]
    assert sorted(r.name for r in seen) == sorted(names)  # each reported once
    for record in records:
        if record.name.startswith("killer"):
            assert record.status == "error"
            [error] = record.errors
            assert "killed by signal SIGKILL" in error.message
            assert "other submissions were not affected" in error.message
        else:
            assert record.status == "passed", record


def test_same_file_names_in_different_folders_get_distinct_stable_names(tmp_path):
    for folder in ("section1", "section2", "late/section1"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "alice.ipynb").write_text("{}")
    (tmp_path / "bob.ipynb").write_text("{}")
    paths = [tmp_path / "section1" / "alice.ipynb", tmp_path / "late" / "section1" / "alice.ipynb",
             tmp_path / "section2" / "alice.ipynb", tmp_path / "bob.ipynb"]
    names = {s.notebook: s.name for s in find_submissions(paths)}
    assert names == {paths[0]: f"alice@section1@{tmp_path.name}",
                     paths[1]: "alice@section1@late", paths[2]: "alice@section2",
                     paths[3]: "bob"}
    again = {s.notebook: s.name for s in find_submissions(list(reversed(paths)))}
    assert again == names  # stable: the order of the command line does not matter


def test_a_loose_notebook_and_a_folder_of_the_same_name_both_get_graded(tmp_path):
    (tmp_path / "alice").mkdir()
    (tmp_path / "alice" / "lab2_multiclass.ipynb").write_text("{}")
    (tmp_path / "alice.ipynb").write_text("{}")
    found = find_submissions([tmp_path])
    assert len(found) == 2 and len({s.name for s in found}) == 2


def test_the_same_notebook_given_twice_is_graded_once(tmp_path):
    (tmp_path / "alice.ipynb").write_text("{}")
    found = find_submissions([tmp_path / "alice.ipynb", tmp_path, tmp_path / "." / "alice.ipynb"])
    assert [s.name for s in found] == ["alice"]


@pytest.fixture
def awkward(tmp_path):
    """A folder of submissions that cannot be graded, each for its own reason."""
    (tmp_path / "two").mkdir()
    for name in ("draft.ipynb", "final.ipynb"):
        (tmp_path / "two" / name).write_text("{}")
    (tmp_path / "old.ipynb").write_text(json.dumps({"nbformat": 3, "nbformat_minor": 0,
                                                    "metadata": {}, "worksheets": []}))
    (tmp_path / "broken.ipynb").write_text('{"cells": [')
    (tmp_path / "latin1.ipynb").write_bytes(b'{"cells": "\xe9"}')
    (tmp_path / "dead.ipynb").symlink_to(tmp_path / "nowhere.ipynb")
    (tmp_path / "folder.ipynb").mkdir()
    return tmp_path


EXPECTED_MESSAGES = {
    "two": "holds 2 notebooks (draft.ipynb, final.ipynb) and no lab2_multiclass.ipynb",
    "old": "an nbformat 3 notebook",
    "broken": "invalid JSON at line 1",
    "latin1": "not UTF-8",
    "dead": "nowhere.ipynb, not a submitted file",
    "folder": "a folder named like a notebook",
}


def test_awkward_submissions_each_get_a_record_with_the_right_message(awkward):
    # None of them starts a kernel, sandboxed or not.
    records = {r.name: r for r in grade_all(find_submissions([awkward]),
                                            GradeOptions(isolation="none"), jobs=2)}
    assert set(records) == set(EXPECTED_MESSAGES)
    for name, words in EXPECTED_MESSAGES.items():
        record = records[name]
        assert record.status == "error" and record.score == 0, name
        assert words in record.errors[0].message, (name, record.errors)
        assert all(not r.passed for r in record.exercises.values())


def test_an_nbformat_3_notebook_names_the_fix(awkward):
    # Judged when the notebook is read, within its limits (finding submissions reads none).
    from instructor.grading.grade import read_submitted
    from instructor.lab.cells import NotebookError
    [old] = [s for s in find_submissions([awkward]) if s.name == "old"]
    with pytest.raises(NotebookError, match="jupyter nbconvert --to notebook --nbformat 4"):
        read_submitted(old.notebook)


@needs_sandbox
def test_two_submissions_work_folders_do_not_see_each_other(tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    (second / "answer.txt").write_text("second's work")
    run, printed = _run(["import os",
                         _attempt("peek", f"found = open({str(second / 'answer.txt')!r}).read()"),
                         _attempt("list", f"found = os.listdir({str(tmp_path)!r})\n"
                                          "assert 'second' in found, found")], first)
    verdicts = _verdicts(printed)
    assert " BLOCKED " in verdicts["peek"] and " BLOCKED " in verdicts["list"], printed


def test_the_guard_caps_files_and_refuses_fallocate_without_a_kernel(tmp_path):
    """instructor.engine.guard on a plain process: the same limits the kernels start with."""
    from instructor.engine import guard
    code = ("import ctypes, os\n"
            "fd = os.open('f.bin', os.O_CREAT | os.O_WRONLY)\n"
            "print(os.write(fd, b'x' * 3_000_000))\n"
            "try:\n    os.write(fd, b'x')\nexcept OSError as error:\n    print(error.errno)\n"
            "libc = ctypes.CDLL(None, use_errno=True)\n"
            "print(libc.fallocate(fd, 1, ctypes.c_long(0), ctypes.c_long(2**31)), ctypes.get_errno())\n")
    import subprocess
    done = subprocess.run(guard.command([sys.executable, "-c", code], 1_000_000), cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert done.stdout.split() == ["1000000", "27", "-1", "1"], done.stderr
    assert (tmp_path / "f.bin").stat().st_blocks * 512 < 1_100_000


def test_remove_tree_deletes_a_tree_too_deep_for_rmtree(tmp_path):
    from instructor.engine.watchdog import remove_tree
    folder = tmp_path / "deep"
    folder.mkdir()
    here = os.getcwd()
    try:
        os.chdir(folder)
        for _ in range(3000):
            os.mkdir("d")
            os.chdir("d")
    finally:
        os.chdir(here)
    remove_tree(folder)
    assert not folder.exists()
