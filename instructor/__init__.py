"""Instructor tooling for the multiclass digits lab: the student release, the grader and the
exports to other grading engines. Nothing in this package ships to students.

- ``python -m instructor release OUT_DIR``: write the standalone student folder.
- ``python -m instructor grade PATH ...``: grade submitted notebooks, each in its own isolated
  kernel; marks come from the values the student's functions return on the grader's inputs
  and from the model's architecture, judged in the grader's own process.
- ``python -m instructor merge-reports``, ``export-gradescope``, ``export-nbgrader``: see
  :mod:`instructor.__main__`.

Subpackages by stage, each importing only those above it in this list (a test keeps it so):

==============  ================================================================================
``lab``         the lab's own facts: its exercises (the one spec), its cells, its files
``engine``      a notebook in a fresh kernel, with limits and isolation (knows nothing of the lab)
``transforms``  notebook transforms as named steps, run as ordered lists
``findings``    what a submission does that the instructor may look at (never decides marks)
``grading``     one submission graded, many in parallel: values, checks, the typed record
``reports``     report.json/txt/md/html, merged shards, each student's feedback
``exports``     the student release, GitHub Classroom, nbgrader and Gradescope
==============  ================================================================================

At the top: this file and ``__main__`` (the command line). ``templates/`` holds the files the
exports fill in.
"""
