"""Find the submissions under the paths given to ``python -m instructor grade``.

A path may be:

- a notebook file (``.ipynb``): one submission, named after the file (or its folder, when the
  file is the lab's own ``lab2_multiclass.ipynb``);
- a submission folder, one that holds ``lab2_multiclass.ipynb`` (a student's repository, as
  GitHub Classroom clones it): one submission, named after the folder; its ``public_tests.py``
  and other helper files, if any, are compared with the instructor's;
- a folder of submissions: each ``.ipynb`` file directly in it, and each sub-folder that holds
  ``lab2_multiclass.ipynb`` or exactly one ``.ipynb``, is a submission.

Nothing found is dropped silently: a sub-folder holding several notebooks but not the lab's, a
``.ipynb`` that is not a readable file (a dangling link, a folder) and a notebook in the old
nbformat 3 each become a submission with a ``problem``, which the grader reports instead of
grading. Sub-folders without any notebook are not submissions and are skipped.

Names are unique and stable: they depend only on the paths, never on the order of discovery.
Two ``alice.ipynb`` in different folders become ``alice@section1`` and ``alice@section2`` (as
many parent folders as it takes); the same notebook reached twice is graded once.
"""
import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Optional

from instructor import NOTEBOOK_NAME

NAME_SEPARATOR = "@"  # alice@section1: a file name on every system, and no path separator


class SubmissionPathError(ValueError):
    """A path on the command line is not a notebook or a folder holding notebooks."""


@dataclass(frozen=True)
class Submission:
    """One notebook to grade; ``folder`` is the student's folder when there is one.

    ``problem``, when not empty, says why it cannot be graded (the grader records it as an
    error without starting a kernel).
    """
    name: str
    notebook: Path
    folder: Optional[Path] = None
    problem: str = ""


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
            found.append(_checked(Submission(path.resolve().name, path / NOTEBOOK_NAME, path)))
        else:
            inside = _from_folder_of_submissions(path)
            if not inside:
                raise SubmissionPathError(f"{path}: no notebook found (expected {NOTEBOOK_NAME}, "
                                          f"*.ipynb files, or sub-folders holding them)")
            found.extend(inside)
    return _unique_names(_without_repeats(found))


def format_problem(path):
    """Why ``path`` cannot be graded as a notebook, judged from its first bytes, or "".

    Only what the notebook reader would misname: an nbformat 3 notebook (which it calls "not a
    notebook"). Damaged files are left to the reader, whose messages say what is wrong.
    """
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return ""
    if isinstance(raw, dict) and isinstance(raw.get("nbformat"), int) and raw["nbformat"] < 4:
        return (f"{path}: an nbformat {raw['nbformat']} notebook (written by IPython 2 or older); "
                f"the grader reads nbformat 4: open and save it in JupyterLab or Notebook 7, or "
                f"run `jupyter nbconvert --to notebook --nbformat 4 --inplace {Path(path).name}`, "
                f"and submit it again")
    return ""


def _checked(submission):
    """The submission with its ``problem`` filled in when the notebook cannot be graded."""
    path = submission.notebook
    if path.is_symlink() and not path.exists():
        return replace(submission, problem=f"{path}: a link to a file that does not exist")
    if path.exists() and not path.is_file():
        return replace(submission, problem=f"{path}: a folder named like a notebook, not a "
                                           f"notebook file")
    return replace(submission, problem=format_problem(path))


def _from_notebook(path):
    if path.name == NOTEBOOK_NAME:
        return _checked(Submission(path.resolve().parent.name, path, path.parent))
    return _checked(Submission(path.stem, path, None))


def _from_folder_of_submissions(folder):
    submissions = []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith("."):
            continue
        holds_notebooks = entry.is_dir() and any(entry.glob("*.ipynb"))
        if entry.suffix == ".ipynb" and not holds_notebooks:  # a file, a dead link, or a folder
            submissions.append(_checked(Submission(entry.stem, entry, None)))
        elif entry.is_dir():
            if (entry / NOTEBOOK_NAME).is_file():
                submissions.append(_checked(Submission(entry.name, entry / NOTEBOOK_NAME, entry)))
                continue
            notebooks = sorted(p for p in entry.glob("*.ipynb") if not p.name.startswith("."))
            if len(notebooks) == 1:
                submissions.append(_checked(Submission(entry.name, notebooks[0], entry)))
            elif len(notebooks) > 1:
                names = ", ".join(p.name for p in notebooks)
                submissions.append(Submission(
                    entry.name, entry, entry,
                    problem=f"{entry}: holds {len(notebooks)} notebooks ({names}) and no "
                            f"{NOTEBOOK_NAME}: the grader cannot tell which one is the "
                            f"submission; keep one, or name it {NOTEBOOK_NAME}"))
    return submissions


def _without_repeats(submissions):
    """The same notebook reached through two paths (or given twice) is one submission."""
    seen, result = set(), []
    for submission in submissions:
        key = submission.notebook.resolve()
        if key not in seen:
            seen.add(key)
            result.append(submission)
    return result


def _unique_names(submissions):
    """Each name qualified, where it is shared, by as many parent folders as make it unique."""
    names = [submission.name for submission in submissions]
    parents = [_parent_names(submission) for submission in submissions]
    depth = 0
    while len(set(names)) < len(names):
        depth += 1
        counts = {}
        for name in names:
            counts[name] = counts.get(name, 0) + 1
        clashing = {name for name, count in counts.items() if count > 1}
        progressed = False
        for index, submission in enumerate(submissions):
            if names[index] in clashing and depth <= len(parents[index]):
                names[index] = NAME_SEPARATOR.join([submission.name, *parents[index][:depth]])
                progressed = True
        if not progressed:
            break
    # Still shared (a loose alice.ipynb beside a folder alice/): numbered in the order of their
    # paths, which does not depend on the order they were found in.
    for name in {name for name in names if names.count(name) > 1}:
        sharing = sorted((str(submissions[i].notebook.resolve()), i)
                         for i, other in enumerate(names) if other == name)
        for number, (_, index) in enumerate(sharing, start=1):
            names[index] = f"{name}{NAME_SEPARATOR}{number}"
    return [replace(submission, name=name) for submission, name in zip(submissions, names)]


def _parent_names(submission):
    """The folders above the one that named the submission, nearest first."""
    named_after = submission.folder if submission.folder is not None else submission.notebook
    return [part.name for part in named_after.resolve().parents if part.name]
