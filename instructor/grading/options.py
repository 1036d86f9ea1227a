"""How a grading run is set up: the limits on each submission and how its kernel is isolated.

Every field goes into report.json's ``options`` (merging refuses shards graded with different
ones), so it holds no secret: the grading run's secret travels beside the options, never in them.
"""
from dataclasses import asdict, dataclass

# The submission's files, read before anything is parsed (the lab's notebook with its outputs:
# 0.9 MB and 104 cells).
MAX_NOTEBOOK_BYTES = 20_000_000
MAX_CELLS = 500
MAX_SOURCE_CHARACTERS = 1_000_000  # all code cells together
# How deeply the notebook's JSON may nest (the lab's: 7; widget states and JSON outputs add a few
# levels): checked with a linear scan before the parser, which meets 900 levels with a
# RecursionError.
MAX_JSON_DEPTH = 64

ISOLATIONS = ("sandbox", "user", "none")


@dataclass(frozen=True)
class GradeOptions:
    """Limits and isolation for each submission's grading."""
    cell_timeout: float = 120.0  # seconds per notebook cell
    memory_limit_mb: int = 3000  # resident memory of every process of the kernel, together
    # CPU seconds of every process of the kernel, for the whole run: an honest run uses about
    # 30; this stops a notebook of many cells that each stay just under the cell timeout.
    cpu_limit_seconds: float = 900.0
    # Disk the files in the submission's work folder may take (the lab's own: 3 MB).
    disk_limit_mb: int = 1000
    # Wall-clock seconds for the whole grading of one submission (its kernel, the grader's calls,
    # the checks and the retraining); past it the grading process is stopped and the record
    # says so. An honest submission takes about 20 s.
    deadline_seconds: float = 900.0
    # Resident memory of the grading process itself (it parses the notebook and rebuilds and
    # retrains the model: about 1 GB for the lab's); past it the process is stopped.
    grader_memory_mb: int = 3000
    executed_dir: str = ""  # when set, the grader's own run of each notebook is saved there
    kernel_threads: int = 0  # threads per kernel; 0: the cores shared out between the jobs
    # "sandbox" (bubblewrap, engine.sandbox), "user" (the kernel runs as run_as, an
    # unprivileged user: for a grader running as root without user namespaces) or "none".
    isolation: str = "sandbox"
    run_as: str = ""  # the user, for isolation "user"
    # Run each notebook only up to its last check cell (--stop-after-checks): the cells after the
    # checks only train and plot, so grading takes about half as long, but what a later cell
    # would do is then neither run nor reported. Off by default.
    stop_after_checks: bool = False
    # Train the expected architecture while the first kernel runs (faster; the process holds
    # TensorFlow twice over meanwhile). Off where memory is tight (Gradescope's containers).
    warm_up: bool = True

    def __post_init__(self):
        if self.isolation not in ISOLATIONS:
            raise ValueError(f"isolation should be one of {', '.join(ISOLATIONS)}; found "
                             f"{self.isolation!r}")
        if (self.isolation == "user") != bool(self.run_as):
            raise ValueError("isolation 'user' needs run_as (the user's name), and only it does")

    def describe_isolation(self):
        return f"user {self.run_as}" if self.isolation == "user" else self.isolation


def options_dict(options):
    """The options as report.json stores them."""
    return asdict(options)


def isolation_for(options):
    """The isolation object a KernelSession takes for ``options.isolation``: a Sandbox, an
    UnprivilegedUser or None.

    Raises:
      SandboxUnavailable, UserUnavailable: it cannot start here (the message says why).
    """
    if options.isolation == "sandbox":
        from instructor.engine.sandbox import make
        return make()
    if options.isolation == "user":
        from instructor.engine.unprivileged import lookup
        return lookup(options.run_as)
    return None
