"""Find the submissions under the paths given to ``python -m instructor grade``.

A path may be:

- a notebook file (``.ipynb``): one submission, named after the file (or its folder, when the
  file is the lab's own ``lab2_multiclass.ipynb``);
- a submission folder, one that holds ``lab2_multiclass.ipynb`` (a student's repository, as
  GitHub Classroom clones it): one submission, named after the folder; its ``public_tests.py``
  and other helper files, if any, are compared with the instructor's;
- a folder of submissions: each ``.ipynb`` file directly in it, and each sub-folder that holds
  ``lab2_multiclass.ipynb`` or exactly one ``.ipynb``, is a submission.

Nothing found is dropped silently: a sub-folder holding several notebooks but not the lab's and
a ``.ipynb`` that is not a readable file (a dangling link, a folder) each become a submission
with a ``problem``, which the grader reports instead of grading. Sub-folders without any
notebook are not submissions and are skipped. Nothing here reads a notebook's contents: the
grading process does, within its limits (a notebook's bytes, depth and cells are checked before
it is parsed, ``grade.read_submitted``).

Names are unique and stable: they depend only on the paths, never on the order of discovery.
Two ``alice.ipynb`` in different folders become ``alice@section1`` and ``alice@section2`` (as
many parent folders as it takes); the same path given twice is graded once. Two names that look
alike but differ (a Cyrillic "о" for a Latin "o", an invisible character) are told apart: each
gets the code points of its unusual characters, ``bоb [U+043E]``.

Links are never followed: a notebook, or a submission folder, that is a symbolic link is a
submission with a ``problem`` naming the link and its target, so it gets its own record and
never takes the target's grade (the target, a classmate's notebook, gets its own).
"""
import os
import unicodedata
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Optional

from instructor.lab.files import NOTEBOOK_NAME

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
            found.append(_checked(Submission(Path(os.path.abspath(path)).name, path / NOTEBOOK_NAME, path)))
        else:
            inside = _from_folder_of_submissions(path)
            if not inside:
                raise SubmissionPathError(f"{path}: no notebook found (expected {NOTEBOOK_NAME}, "
                                          f"*.ipynb files, or sub-folders holding them)")
            found.extend(inside)
    return _unique_names(_without_repeats(found))


def _checked(submission):
    """The submission with its ``problem`` filled in when the notebook cannot be graded."""
    path = submission.notebook
    for link in (submission.folder, path):
        if link is not None and Path(link).is_symlink():
            target = os.readlink(link)
            return replace(submission, problem=f"{link}: a link to {target}, not a submitted "
                                               f"{'folder' if link == submission.folder else 'file'}:"
                                               f" the grader grades only what was submitted in "
                                               f"place; submit the notebook itself")
    if path.exists() and not path.is_file():
        return replace(submission, problem=f"{path}: a folder named like a notebook, not a "
                                           f"notebook file")
    return submission


def _from_notebook(path):
    if path.name == NOTEBOOK_NAME:
        return _checked(Submission(Path(os.path.abspath(path)).parent.name, path, path.parent))
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
    """The same path given twice is one submission (links are not resolved: a link is its own
    submission, with a problem)."""
    seen, result = set(), []
    for submission in submissions:
        key = Path(os.path.abspath(submission.notebook))
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
        sharing = sorted((os.path.abspath(submissions[i].notebook), i)
                         for i, other in enumerate(names) if other == name)
        for number, (_, index) in enumerate(sharing, start=1):
            names[index] = f"{name}{NAME_SEPARATOR}{number}"
    names = _told_apart(names)
    return [replace(submission, name=name) for submission, name in zip(submissions, names)]


# Letters of other scripts drawn like Latin ones, the usual suspects (Unicode's confusables,
# the part that matters for names); anything else outside ASCII is compared by its
# decomposition (NFKD), so "é" and "e" + a combining accent look alike too.
HOMOGLYPHS = str.maketrans({
    "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "і": "i", "ј": "j",
    "ѕ": "s", "ԁ": "d", "ɡ": "g", "һ": "h", "ӏ": "l", "ո": "n", "ս": "u", "А": "A", "В": "B",
    "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P", "С": "C", "Т": "T", "Х": "X",
    "ο": "o", "α": "a", "ε": "e", "ι": "i", "κ": "k", "ν": "v", "ρ": "p", "τ": "t", "υ": "u",
    "χ": "x", "Ο": "O", "Α": "A", "Β": "B", "Ε": "E", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M",
    "Ν": "N", "Ρ": "P", "Τ": "T", "Χ": "X", "ı": "i", "ℓ": "l"})
INVISIBLE = {"\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"}


def _skeleton(name):
    """How ``name`` looks: look-alike letters mapped to Latin, invisible characters dropped."""
    folded = unicodedata.normalize("NFKD", name.translate(HOMOGLYPHS))
    return "".join(c for c in folded if c not in INVISIBLE and not unicodedata.combining(c))


def _told_apart(names):
    """Names that look alike but differ get the code points of their characters outside
    printable ASCII appended, e.g. ``bоb [U+043E]``, so that no two rows of a report look the
    same."""
    groups = {}
    for name in names:
        groups.setdefault(_skeleton(name), set()).add(name)
    result = []
    for name in names:
        unusual = [c for c in name if not (" " <= c <= "~")]
        if len(groups[_skeleton(name)]) > 1 and unusual:
            codes = " ".join(f"U+{ord(c):04X}" for c in dict.fromkeys(unusual))
            name = f"{name} [{codes}]"
        result.append(name)
    return result


def _parent_names(submission):
    """The folders above the one that named the submission, nearest first."""
    named_after = submission.folder if submission.folder is not None else submission.notebook
    return [part.name for part in Path(os.path.abspath(named_after)).parents if part.name]
