"""Findings: what a submission does that the instructor may want to look at.

- :mod:`~instructor.findings.registry`: every kind of finding once, its severity and the text a
  student sees (findings never decide marks);
- :mod:`~instructor.findings.static_scan`: what the notebook's code does, read without running;
- :mod:`~instructor.findings.check_cells`: the instructor's check cells put back into the run,
  and what happened to the submission's;
- :mod:`~instructor.findings.files`: the lab's helper files the submission brought or changed;
- :mod:`~instructor.findings.outputs`: stored outputs against the grader's fresh run (nbval's
  masks and rules).

May import: :mod:`instructor.lab`, :mod:`instructor.transforms`.
"""
