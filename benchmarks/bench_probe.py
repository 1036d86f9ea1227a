"""Print what the grader's kernel probe costs: each stage's seconds in one kernel, and the
retraining of Exercise 2 in the grader's process.

    python benchmarks/bench_probe.py [--runs N]

The notebook is the lab's own, shortened after Exercise 2's check (the probe's cost does not
depend on the trainings after it). Not sandboxed: this measures the probe, not the sandbox.
"""
import argparse
import copy
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from instructor import SOURCE_NOTEBOOK, evidence, exercise_checks, retrain  # noqa: E402
from instructor.cells import graded_cells, read_notebook  # noqa: E402
from instructor.grade import _prepare_workdir  # noqa: E402
from instructor.kernel_run import run_notebook  # noqa: E402


def shortened_lab():
    notebook = copy.deepcopy(read_notebook(SOURCE_NOTEBOOK))
    notebook.cells = notebook.cells[:graded_cells(notebook, "check")["exercise_2"][0] + 1]
    return notebook


def one_run():
    plan = evidence.plan_for("benchmark")
    with tempfile.TemporaryDirectory() as work:
        _prepare_workdir(Path(work))
        run = run_notebook(shortened_lab(), Path(work), cell_timeout=300, memory_limit_mb=None,
                           before=plan.before(), after=plan.after(), threads=1)
    found, problem = evidence.read_evidence(run, plan)
    if found is None:
        raise SystemExit(f"no evidence: {problem}")
    return run, found


def imports_only_seconds():
    """The same kernel run with only the baseline's imports as its first cell: what the
    baseline costs beyond the imports the notebook's first cell would do anyway."""
    with tempfile.TemporaryDirectory() as work:
        _prepare_workdir(Path(work))
        run = run_notebook(shortened_lab(), Path(work), cell_timeout=300, memory_limit_mb=None,
                           before=[("imports", "import numpy, tensorflow, keras, public_tests")],
                           threads=1)
    return run.seconds, run.probes["imports"].seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2)
    runs = parser.parse_args().runs
    stages = {}
    for number in range(runs):
        run, found = one_run()
        for name, probe in run.probes.items():
            stages.setdefault(name, []).append(probe.seconds)
        print(f"run {number + 1}: kernel run {run.seconds:.1f} s, probe "
              + ", ".join(f"{name} {probe.seconds:.2f} s" for name, probe in run.probes.items()),
              flush=True)
    print("median per stage: " + ", ".join(f"{name} {statistics.median(values):.2f} s"
                                          for name, values in stages.items()))
    total, imports = imports_only_seconds()
    print(f"without the probe: kernel run {total:.1f} s, of which the same imports {imports:.2f} s")
    keras = exercise_checks._keras()
    X, y = exercise_checks.instructor_module("autils").load_data()
    for number in range(runs):
        started = time.monotonic()
        trained = retrain.retrain(found["model"]["config"], keras, X, y)
        print(f"retrain {number + 1}: {time.monotonic() - started:.1f} s "
              f"(fit {trained.seconds:.1f} s), loss after epoch 1 {trained.first_loss:.4f}, "
              f"after epoch 40 {trained.last_loss:.4f}", flush=True)


if __name__ == "__main__":
    main()
