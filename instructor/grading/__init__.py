"""Grading: one submission graded, many in parallel, and the typed record of each.

- :mod:`~instructor.grading.options`: limits and isolation (GradeOptions);
- :mod:`~instructor.grading.submissions`: the submissions under the paths given;
- :mod:`~instructor.grading.values`: values out of the student's kernel (the grader's inputs in,
  plain data out; the only thing that crosses from the kernel into marks);
- :mod:`~instructor.grading.exercises`: each exercise judged in the grader's own process;
- :mod:`~instructor.grading.hidden_checks`: the public checks' rules on other values;
- :mod:`~instructor.grading.retrain`: the student's architecture rebuilt and retrained;
- :mod:`~instructor.grading.grade`: one submission, from its file to its record;
- :mod:`~instructor.grading.pool`: many, each in a grading process held to a deadline and a
  memory limit;
- :mod:`~instructor.grading.record`: the typed record and report.json's schema.

May import: :mod:`instructor.lab`, :mod:`instructor.engine`, :mod:`instructor.transforms`,
:mod:`instructor.findings`.
"""
