"""Find the submissions under the paths given to ``python -m instructor grade``.

A path may be:

- a notebook file (``.ipynb``): one submission, named after the file (or its folder, when the
  file is the lab's own ``lab2_multiclass.ipynb``);
- a submission folder, one that holds ``lab2_multiclass.ipynb`` (a student's repository, as
  GitHub Classroom clones it): one submission, named after the folder; its ``public_tests.py``
  and other helper files, if any, are compared with the instructor's;
- a folder of submissions: each ``.ipynb`` file directly in it, and each sub-folder that holds
  ``lab2_multiclass.ipynb`` or exactly one ``.ipynb``, is a submission.
"""
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from instructor import NOTEBOOK_NAME


class SubmissionPathError(ValueError):
    """A path on the command line is not a notebook or a folder holding notebooks."""


@dataclass(frozen=True)
class Submission:
    """One notebook to grade; ``folder`` is the student's folder when there is one."""
    name: str
    notebook: Path
    folder: Optional[Path] = None


def find_submissions(paths):
    """The submissions under ``paths`` (see the module docstring), names made unique.

    Raises:
      SubmissionPathError: a path does not exist, is a file that is not a notebook, or is a
        folder without any notebook.
    """
    found = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise SubmissionPathError(f"{path}: no such file or folder")
        if path.is_file():
            if path.suffix != ".ipynb":
                raise SubmissionPathError(f"{path}: not a notebook (expected a .ipynb file or a "
                                          f"folder of submissions)")
            found.append(_from_notebook(path))
        elif (path / NOTEBOOK_NAME).is_file():
            found.append(Submission(path.resolve().name, path / NOTEBOOK_NAME, path))
        else:
            inside = _from_folder_of_submissions(path)
            if not inside:
                raise SubmissionPathError(f"{path}: no notebook found (expected {NOTEBOOK_NAME}, "
                                          f"*.ipynb files, or sub-folders holding them)")
            found.extend(inside)
    return _unique_names(found)


def _from_notebook(path):
    if path.name == NOTEBOOK_NAME:
        return Submission(path.resolve().parent.name, path, path.parent)
    return Submission(path.stem, path, None)


def _from_folder_of_submissions(folder):
    submissions = []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_file() and entry.suffix == ".ipynb":
            submissions.append(Submission(entry.stem, entry, None))
        elif entry.is_dir():
            notebooks = ([entry / NOTEBOOK_NAME] if (entry / NOTEBOOK_NAME).is_file()
                         else [p for p in entry.glob("*.ipynb") if not p.name.startswith(".")])
            if len(notebooks) == 1:
                submissions.append(Submission(entry.name, notebooks[0], entry))
    return submissions


def _unique_names(submissions):
    counts, result = {}, []
    for submission in submissions:
        counts[submission.name] = counts.get(submission.name, 0) + 1
        name = submission.name if counts[submission.name] == 1 else f"{submission.name}-{counts[submission.name]}"
        result.append(Submission(name, submission.notebook, submission.folder))
    return result
