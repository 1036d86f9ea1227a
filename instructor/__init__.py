"""Instructor tooling for the multiclass digits lab: the student release and the grader.

Nothing in this package ships to students (``python -m instructor release`` leaves it out).

- ``python -m instructor release OUT_DIR``: write the standalone student folder.
- ``python -m instructor grade PATH ...``: grade submitted notebooks in fresh kernels, with the
  public checks and the hidden ones of :mod:`instructor.hidden_checks`, and look for tampering.

Modules, one job each:

=====================  =====================================================================
``spec``               the lab spec: the exercises, their checks, points and records
``cells``              read notebooks; find graded cells and their START/END code regions
``release``            build the student notebook and folder
``sanitize``           the nbval masks of ``nbval_sanitize.cfg``, applied as nbval does
``kernel_run``         run a notebook in a fresh kernel with time and memory limits
``probes``             the code the grader runs inside a kernel, before and after the student's
``softmax_replay``     replay recorded calls of the student's softmax in the grader's process
``hidden_checks``      the stricter checks that never ship
``exercise_checks``    run public and hidden checks on what a kernel left behind
``tamper``             tampering findings: check cells, helper files, what the probes saw
``static_scan``        tampering visible in the code: redefined checks, patched libraries
``output_compare``     stored outputs compared with the grader's fresh run
``submissions``        find the submissions under the paths given on the command line
``grade``              grade one submission, or many in parallel
``report``             the JSON and text reports
=====================  =====================================================================
"""
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
PACKAGE_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = PACKAGE_DIR / "templates"
NOTEBOOK_NAME = "lab2_multiclass.ipynb"
SOURCE_NOTEBOOK = PROJECT_ROOT / NOTEBOOK_NAME
SANITIZE_FILE = PROJECT_ROOT / "nbval_sanitize.cfg"

# The helper modules and data a notebook run needs; the grader always uses the instructor's copies.
HELPER_FILES = ("autils.py", "lab_utils_softmax.py", "public_tests.py")
DATA_FILES = ("data/ex3data1.mat", "data/README.md")
ASSET_DIRS = ("images",)

# The exercises, their points and checks: derived from the one lab spec (instructor/spec.py).
from instructor import spec as _spec  # noqa: E402  (after the paths above, which spec does not need)

POINTS = {item.id: item.points for item in _spec.GRADED}
OPTIONAL_EXERCISES = tuple(item.id for item in _spec.OPTIONAL)
EXERCISE_TITLES = {item.id: item.title for item in _spec.EXERCISES}
CHECK_FUNCTIONS = {item.id: item.check_function for item in _spec.EXERCISES}
