"""The lab's files: where they are in the project, and the one routine that copies them.

The release, the nbgrader and Gradescope exports and the grader's work folder each need some of
the same files (the helper modules, the digits, the images, the requirements, nbval's masks);
they name the groups they need and :func:`lab_files` / :func:`lay_out` do the rest, so that
adding a helper file to the lab is one change here.
"""
import importlib.util
import shutil
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PACKAGE_DIR = PROJECT_ROOT / "instructor"
TEMPLATES_DIR = PACKAGE_DIR / "templates"
NOTEBOOK_NAME = "lab2_multiclass.ipynb"
SOURCE_NOTEBOOK = PROJECT_ROOT / NOTEBOOK_NAME
SANITIZE_FILE = PROJECT_ROOT / "nbval_sanitize.cfg"

# What a notebook run needs beside the notebook; the grader always uses the instructor's copies.
HELPER_FILES = ("autils.py", "lab_utils_softmax.py", "public_tests.py")
DATA_FILES = ("data/ex3data1.mat", "data/README.md")
ASSET_DIRS = ("images",)
GROUPS = {
    "helpers": HELPER_FILES,  # the modules the notebook imports
    "data": DATA_FILES,  # the digits and their data card
    "images": ASSET_DIRS,  # folders, copied whole
    "requirements": ("requirements.txt",),
    "nbval": (SANITIZE_FILE.name,),  # the masks nbval and the grader apply
}


class MissingLabFile(RuntimeError):
    """A file the lab needs is missing from the project; the message names it and the fix."""


def _skipped(path):
    return "__pycache__" in path.parts or path.suffix == ".pyc" or path.name.startswith(".")


def lab_files(*groups):
    """{path relative to the project: absolute path} of every file in ``groups`` (names of
    :data:`GROUPS`), folders expanded to their files (caches and hidden files left out).

    Raises:
      KeyError: a group that does not exist (the message lists those that do).
      MissingLabFile: a file or folder of a group is missing from the project.
    """
    files, missing = {}, []
    for group in groups:
        if group not in GROUPS:
            raise KeyError(f"no group {group!r} of lab files; the groups are {', '.join(GROUPS)}")
        for name in GROUPS[group]:
            path = PROJECT_ROOT / name
            if path.is_dir():
                files.update({item.relative_to(PROJECT_ROOT).as_posix(): item
                              for item in sorted(path.rglob("*"))
                              if item.is_file() and not _skipped(item.relative_to(PROJECT_ROOT))})
            elif path.is_file():
                files[name] = path
            else:
                missing.append(name)
    if missing:
        raise MissingLabFile(f"missing from the project: {', '.join(missing)}; restore them from "
                             f"the repository (git checkout -- {' '.join(missing)})")
    return files


def lay_out(target, *groups):
    """Copy the files of ``groups`` into the folder ``target``, at the same relative paths
    (folders replaced whole); returns the relative paths written, sorted."""
    target = Path(target)
    files = lab_files(*groups)
    for folder in {name for group in groups for name in GROUPS[group]
                   if (PROJECT_ROOT / name).is_dir()}:
        shutil.rmtree(target / folder, ignore_errors=True)
    for relative, source in files.items():
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, destination)
    return sorted(files)


_modules = {}


def instructor_module(name):
    """The instructor's copy of a helper module (``public_tests``, ``autils``), loaded once per
    process from the project under a private name, so that a module of the same name elsewhere
    (a submission's) never takes its place."""
    if name not in _modules:
        spec = importlib.util.spec_from_file_location(f"_instructor_{name}", PROJECT_ROOT / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _modules[name] = module
    return _modules[name]
