"""Running a kernel as an unprivileged user, for a grader that runs as root where no sandbox can
start (Gradescope's containers: no user namespaces, so no bubblewrap).

What this gives, as Gradescope's own guidance asks: the kernel and everything it starts run as
another user with no capabilities and ``no_new_privs`` (they cannot become root again); they can
read and write only their own work folder and home, and what every user may read; the grader
makes its own folders (the autograder's ``source/`` and ``results/``) unreadable to them before
the first cell; and :func:`kill_all` ends every process of that user, however it forked, before
the grader writes a result. What it does not give: the network, the system's world-readable
files and the machine's other users' world-readable files stay visible (the container is the
isolation for those).

Nothing here knows about the lab.
"""
import functools
import os
import pwd
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field

from instructor.engine.sandbox import PASSED_VARIABLES  # the same allowlist
from instructor.engine.watchdog import user_processes

SETPRIV = "setpriv"  # util-linux, in every Debian and Ubuntu image
# The environment inside starts empty; these come from the caller's, when set.


class UserUnavailable(RuntimeError):
    """The kernel cannot run as the unprivileged user here; the message says why and the fix."""


@dataclass(frozen=True)
class UnprivilegedUser:
    """A kernel's user: its name, uid and gid, its home (a folder of its own, made by the
    caller) and the environment it starts with (on top of PATH, HOME and the tools' folders)."""
    name: str
    uid: int
    gid: int
    home: str = ""
    environment: dict = field(default_factory=dict)

    def prefix(self):
        """The command that runs what follows it as this user, with no capability left."""
        return [shutil.which(SETPRIV) or SETPRIV, f"--reuid={self.uid}", f"--regid={self.gid}",
                "--clear-groups", "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"]

    def command(self, argv):
        """``argv`` (the kernel's command line) run as this user, with the grader's Python."""
        return self.prefix() + list(argv)

    def inside_environment(self):
        """The kernel's whole environment: a fresh one, with every tool's folder in its home."""
        home = self.home or "/tmp"
        env = {"PATH": os.pathsep.join([os.path.dirname(sys.executable), "/usr/local/bin",
                                        "/usr/bin", "/bin"]),
               "HOME": home, "USER": self.name, "LOGNAME": self.name, "TMPDIR": home,
               "IPYTHONDIR": os.path.join(home, ".ipython"),
               "MPLCONFIGDIR": os.path.join(home, ".matplotlib"),
               "XDG_CACHE_HOME": os.path.join(home, ".cache"),
               "XDG_CONFIG_HOME": os.path.join(home, ".config"),
               "JUPYTER_RUNTIME_DIR": os.path.join(home, ".jupyter-runtime"),
               "JUPYTER_DATA_DIR": os.path.join(home, ".jupyter-data"),
               "JUPYTER_CONFIG_DIR": os.path.join(home, ".jupyter")}
        env.update({name: os.environ[name] for name in PASSED_VARIABLES if name in os.environ})
        env.update(self.environment)
        return env

    def give(self, path):
        """Make ``path`` (a folder the grader created) the user's own, 0700."""
        os.chown(path, self.uid, self.gid)
        os.chmod(path, 0o700)


@functools.lru_cache(maxsize=None)
def lookup(name):
    """The :class:`UnprivilegedUser` called ``name`` (checked once per process: the check runs
    the grader's Python as that user).

    Raises:
      UserUnavailable: this process is not root, the user does not exist or is root, setpriv
        is missing, or the grader's Python cannot be run as that user.
    """
    if os.geteuid() != 0:
        raise UserUnavailable(f"running kernels as the user {name!r} needs the grader to run as "
                              f"root (it runs as uid {os.geteuid()})")
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        raise UserUnavailable(f"no user {name!r} on this machine: create it with `useradd "
                              f"--system --no-create-home --shell /usr/sbin/nologin {name}`") from None
    if entry.pw_uid == 0:
        raise UserUnavailable(f"the user {name!r} is root; give the kernels an unprivileged user")
    if shutil.which(SETPRIV) is None:
        raise UserUnavailable("setpriv (util-linux) is not installed; install util-linux")
    user = UnprivilegedUser(name, entry.pw_uid, entry.pw_gid)
    probe = subprocess.run(user.command([sys.executable, "-c", "import ipykernel"]),
                           capture_output=True, text=True, timeout=120, env={"PATH": "/usr/bin:/bin"},
                           stdin=subprocess.DEVNULL, cwd="/")
    if probe.returncode != 0:
        detail = (probe.stderr.strip().splitlines() or [f"exit code {probe.returncode}"])[-1]
        raise UserUnavailable(f"the user {name!r} cannot run the grader's Python "
                              f"({sys.executable}): {detail}. Install the requirements into an "
                              f"environment every user can read (e.g. /opt/lab-venv, from "
                              f"/usr/bin/python3)")
    return user


def kill_all(user, attempts=50):
    """End every process of ``user``; returns how many rounds it took.

    One ``kill(-1, SIGKILL)`` sent *as the user* reaches every process of that uid in one system
    call, even one that forks without pause (a list of pids taken first can miss a process that
    replaces itself faster than the list is read); the rounds repeat until no process of the uid
    is left, zombies aside.
    """
    for attempt in range(1, attempts + 1):
        subprocess.run(user.prefix() + [sys.executable, "-S", "-c",
                                        "import os, signal\ntry:\n    os.kill(-1, signal.SIGKILL)\n"
                                        "except ProcessLookupError:\n    pass"],
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=60, cwd="/")
        left = user_processes(user.uid)
        if not left:
            return attempt
        for process in left:  # whatever the signal missed, from here
            try:
                process.send_signal(signal.SIGKILL)
            except Exception:
                pass
        time.sleep(0.05)
    return attempts
