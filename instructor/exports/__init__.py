"""Exports: the lab as students and other grading engines get it.

- :mod:`~instructor.exports.release`: the standalone student folder;
- :mod:`~instructor.exports.classroom`: its GitHub Classroom workflow and conftest, from the spec;
- :mod:`~instructor.exports.nbgrader` (with :mod:`~instructor.exports.nbgrader_hidden`, embedded
  in the hidden tests, and :mod:`~instructor.exports.nbgrader_feedback`, the feedback's
  preprocessor): an nbgrader course folder;
- :mod:`~instructor.exports.gradescope` and :mod:`~instructor.exports.gradescope_run`: a
  Gradescope autograder, and what it runs for each upload.

May import: every other subpackage.
"""
