"""Instructor tooling for the multiclass digits lab: the student release, the grader and the
exports to other grading engines. Nothing in this package ships to students.

- ``python -m instructor release OUT_DIR``: write the standalone student folder.
- ``python -m instructor grade PATH ...``: grade submitted notebooks, each in its own sandboxed
  kernel, with the public checks and the hidden ones, and look for tampering.
- ``python -m instructor merge-reports``, ``export-gradescope``, ``export-nbgrader``: see
  :mod:`instructor.__main__`.

Modules, one job each. The lab itself:

=======================  ===================================================================
``spec``                 the lab spec: the exercises, their checks, points and records
``cells``                read notebooks; find graded cells and their START/END code regions
``release``              build the student notebook and folder
``lock_cells``           the release's locked cells (editable/deletable false)
``classroom``            the students' GitHub Classroom workflow, points per exercise
=======================  ===================================================================

The grader's engine (read, run sandboxed, record, judge, report):

=======================  ===================================================================
``submissions``          find the submissions under the paths given on the command line
``sandbox``              the bubblewrap sandbox a grading kernel runs in
``kernel_run``           the one kernel runner: a notebook in a fresh kernel, with limits
``kernel_probe``         the code the grader runs inside the kernel (records, never judges)
``evidence``             probe cells, per-submission hidden inputs, signed evidence, findings
``check_cells``          the instructor's check cells, matched by content and position
``softmax_replay``       replay recorded calls of the student's softmax in the grader
``retrain``              the student's architecture retrained with the lab's settings
``hidden_checks``        the public checks' rules on secret values, and the trained model
``exercise_checks``      grade each exercise from the evidence
``tamper``               tampering findings: helper files
``static_scan``          tampering visible in the code: redefined checks, patched libraries
``output_compare``       stored outputs compared with the grader's fresh run
``sanitize``             the nbval masks of ``nbval_sanitize.cfg``, applied as nbval does
``grade``                grade one submission, or many in parallel
``clean_text``           student text without terminal control characters
``report``               the JSON, text and markdown reports
``feedback``             one feedback file per student (markdown and HTML)
``shards``, ``merge``    grading in shards, and merging their reports
=======================  ===================================================================

Exports: ``gradescope_export`` / ``gradescope_run`` (a Gradescope autograder) and
``nbgrader_export`` / ``nbgrader_hidden`` (an nbgrader course folder).
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
