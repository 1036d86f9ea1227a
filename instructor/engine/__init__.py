"""The engine: a notebook run in a fresh kernel, with limits, isolated from the machine.

- :mod:`~instructor.engine.kernel`: the one kernel runner (:class:`KernelSession`,
  :func:`run_notebook`, :func:`execute_notebook`);
- :mod:`~instructor.engine.outputs`: what a cell may store;
- :mod:`~instructor.engine.watchdog`: memory, CPU, processes and disk, summed and limited, and
  the removal of whatever a kernel left;
- :mod:`~instructor.engine.guard`: what the kernel's processes set on themselves before it
  starts (no file past the disk limit, no fallocate);
- :mod:`~instructor.engine.sandbox`: bubblewrap around the kernel;
- :mod:`~instructor.engine.unprivileged`: the kernel as an unprivileged user (root graders
  without user namespaces, e.g. Gradescope);
- :mod:`~instructor.engine.limits`: JSON from untrusted sources, read within bounds.

May import: nothing of ``instructor`` outside this package. The engine knows nothing of the lab:
no exercise, no helper file, no check.
"""
