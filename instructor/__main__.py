"""Command line: ``python -m instructor COMMAND``.

- ``release OUT_DIR``: the student folder (no solutions, locked cells, CI workflow).
- ``grade PATH... [--report-dir DIR] [--feedback-dir DIR] [--shard K/N] [--run-as USER]
  [--no-sandbox]``: grade submitted notebooks, each in its own isolated kernel.
- ``merge-reports OUT_DIR REPORT_DIR...``: one report from the reports of ``grade --shard`` runs.
- ``export-gradescope OUT.zip``: a Gradescope autograder.
- ``export-nbgrader OUT``: an nbgrader course folder.

Exit codes: 0 success (every submission passed); 1 some submission failed or could not be
graded; 2 bad command line or input (the message says what is wrong).
"""
import argparse
import importlib
import os
import signal
import sys
import threading
import time
from pathlib import Path


def main(argv=None):
    # Names and messages come from students: a console whose encoding lacks a character shows
    # it escaped instead of failing.
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    parser = argparse.ArgumentParser(
        prog="python -m instructor",
        description="Instructor tools for the multiclass digits lab: the student release and the "
                    "grader. Run from the project folder.")
    commands = parser.add_subparsers(dest="command", required=True)

    release = commands.add_parser("release", help="write the student folder",
                                  description="Write the standalone student folder: the notebook "
                                              "without solutions or outputs, helpers, data, "
                                              "README, nbval configuration and CI workflow.")
    release.add_argument("out_dir", type=Path, help="folder to create (must be empty or new)")
    release.add_argument("--force", action="store_true",
                         help="write into a non-empty folder, overwriting the release's files")

    grade = commands.add_parser("grade", help="grade submitted notebooks",
                                description="Grade notebooks in fresh kernels with the public and "
                                            "hidden checks, and report tampering.")
    grade.add_argument("paths", nargs="+", type=Path,
                       help="a notebook, a submission folder, or a folder of submissions")
    grade.add_argument("--report-dir", type=Path, default=None,
                       help="write report.json, report.txt and report.md here")
    grade.add_argument("--keep-executed", type=Path, default=None, metavar="DIR",
                       help="save the grader's own run of each notebook in DIR (to see what it "
                            "produced)")
    grade.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                       help="submissions graded in parallel (default: CPU cores, %(default)s)")
    grade.add_argument("--kernel-threads", type=int, default=0,
                       help="threads per kernel for TensorFlow and BLAS (default: the CPU cores "
                            "divided between the jobs)")
    grade.add_argument("--cell-timeout", type=float, default=120.0,
                       help="seconds a notebook cell may run (default: %(default)s)")
    grade.add_argument("--memory-limit", type=int, default=3000,
                       help="MB of memory a kernel and every process it starts may use together "
                            "(default: %(default)s)")
    grade.add_argument("--cpu-limit", type=float, default=900.0,
                       help="CPU seconds a kernel and every process it starts may use together, "
                            "for the whole notebook (default: %(default)s)")
    grade.add_argument("--disk-limit", type=int, default=1000,
                       help="MB of disk the files in a submission's work folder may take "
                            "(default: %(default)s)")
    grade.add_argument("--deadline", type=float, default=900.0,
                       help="seconds the whole grading of one submission may take (default: "
                            "%(default)s)")
    grade.add_argument("--grader-memory-limit", type=int, default=3000,
                       help="MB the grading process of one submission may use, besides its kernel "
                            "(default: %(default)s)")
    isolation = grade.add_mutually_exclusive_group()
    isolation.add_argument("--run-as", default="", metavar="USER",
                           help="run each kernel as this unprivileged user instead of in the "
                                "sandbox (the grader must run as root: for machines without user "
                                "namespaces, such as Gradescope's containers)")
    isolation.add_argument("--no-sandbox", action="store_true",
                           help="grade where no isolation can start (macOS, Windows, no user "
                                "namespaces, not root): student code then runs with your rights, "
                                "so do it only in a throwaway VM or container; records say "
                                "\"isolation\": \"none\"")
    grade.add_argument("--stop-after-checks", action="store_true",
                       help="run each notebook only up to its last check cell and grade the "
                            "state there (the state the student's own checks saw): about half "
                            "the time, since the cells after it only train and plot; what a "
                            "later cell would do is then neither run nor reported")
    grade.add_argument("--shard", default=None, metavar="K/N",
                       help="grade only the K-th of N parts of the submissions (sorted by path); "
                            "merge the parts' reports with merge-reports")
    grade.add_argument("--feedback-dir", type=Path, default=None, metavar="DIR",
                       help="write each student's feedback to DIR/<name>.md and .html")

    merge = commands.add_parser("merge-reports", help="merge the reports of grade --shard runs",
                                description="Merge the report folders of `grade --shard K/N` "
                                            "runs into one report, the same as a single run's.")
    merge.add_argument("out_dir", type=Path, help="folder for the merged report")
    merge.add_argument("report_dirs", nargs="+", type=Path,
                       help="the --report-dir of every shard, 1/N to N/N")

    gradescope = commands.add_parser("export-gradescope", help="write a Gradescope autograder zip",
                                     description="Write a Gradescope autograder (setup.sh, "
                                                 "run_autograder, this grader and the lab's "
                                                 "helper files) as a zip to upload.")
    gradescope.add_argument("out_zip", type=Path, help="the .zip file to write")
    gradescope.add_argument("--force", action="store_true", help="overwrite an existing file")

    nbgrader = commands.add_parser(
        "export-nbgrader", help="write an nbgrader course folder",
        description="Write an nbgrader course folder: nbgrader_config.py and source/"
                    "lab2_multiclass/ (the notebook with nbgrader's solution and hidden-test "
                    "markers, graded test cells worth the spec's points, helpers, data, images). "
                    "Then run nbgrader generate_assignment lab2_multiclass in it.")
    nbgrader.add_argument("out_dir", type=Path, help="the course folder (must be empty or new)")
    nbgrader.add_argument("--force", action="store_true",
                          help="write into a non-empty folder, overwriting the export's files")

    args = parser.parse_args(argv)
    if args.command == "grade":  # the supervisor imports no notebook machinery (pool.py)
        return _grade(args, parser)
    from instructor.lab.cells import NotebookError
    try:
        if args.command == "release":
            return _release(args)
        if args.command == "merge-reports":
            return _merge_reports(args)
        if args.command == "export-gradescope":
            return _export_gradescope(args)
        return _export_nbgrader(args)
    except NotebookError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def _release(args):
    from instructor.exports.release import ReleaseError, hint_revealed_lines, write_release
    from instructor.lab.cells import read_notebook
    from instructor.lab.files import SOURCE_NOTEBOOK

    try:
        written = write_release(args.out_dir, force=args.force)
    except ReleaseError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"Wrote the student release to {args.out_dir} ({len(written)} files):")
    for name in written:
        print(f"  {name}")
    hinted = hint_revealed_lines(read_notebook(SOURCE_NOTEBOOK))
    if hinted:
        print(f"Note: the notebook's hints show {len(hinted)} solution line(s) verbatim: "
              + "; ".join(f"`{line}`" for line in hinted))
    return 0


def _export_nbgrader(args):
    from instructor.exports.nbgrader import ASSIGNMENT, write_course
    from instructor.exports.release import ReleaseError

    try:
        written = write_course(args.out_dir, force=args.force)
    except ReleaseError as error:  # ExportError included
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"Wrote the nbgrader course to {args.out_dir} ({len(written)} files):")
    for name in written:
        print(f"  {name}")
    print(f"Next, in {args.out_dir}: nbgrader generate_assignment {ASSIGNMENT}")
    return 0


def _grade(args, parser):
    from instructor.engine.sandbox import SandboxUnavailable
    from instructor.engine.unprivileged import UserUnavailable
    from instructor.grading.options import GradeOptions, isolation_for, options_dict
    from instructor.grading.pool import grade_all
    from instructor.grading.record import Report
    from instructor.grading.submissions import SubmissionPathError, find_submissions
    from instructor.reports import write_reports
    from instructor.reports.clean_text import one_line
    from instructor.reports.text import format_text, status_text

    if args.jobs < 1 or args.cell_timeout <= 0 or args.memory_limit < 500 or args.cpu_limit <= 0 \
            or args.disk_limit < 10 or args.deadline <= 0 or args.grader_memory_limit < 1000:
        parser.error("--jobs must be at least 1, --cell-timeout, --cpu-limit and --deadline "
                     "positive, --memory-limit at least 500 (MB; TensorFlow alone needs about "
                     "500), --grader-memory-limit at least 1000 (MB; the grader retrains the "
                     "model) and --disk-limit at least 10 (MB; the lab's data and helpers take 3)")
    isolation = "none" if args.no_sandbox else "user" if args.run_as else "sandbox"
    options = GradeOptions(cell_timeout=args.cell_timeout, memory_limit_mb=args.memory_limit,
                           cpu_limit_seconds=args.cpu_limit, disk_limit_mb=args.disk_limit,
                           deadline_seconds=args.deadline,
                           grader_memory_mb=args.grader_memory_limit,
                           executed_dir=str(args.keep_executed or ""),
                           kernel_threads=max(0, args.kernel_threads), isolation=isolation,
                           run_as=args.run_as, stop_after_checks=args.stop_after_checks)
    try:
        isolation_for(options)  # before any work: the instructor decides, not a fallback
    except (SandboxUnavailable, UserUnavailable) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        submissions = find_submissions(args.paths)
        shard = _shard(args, submissions)
    except (SubmissionPathError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if shard:
        submissions = shard["selected"]
    jobs = min(args.jobs, len(submissions))
    if args.no_sandbox:
        print("warning: --no-sandbox: not isolated; student code runs with your rights",
              file=sys.stderr, flush=True)
    print(f"Grading {len(submissions)} submission(s) with {jobs} job(s)"
          f"{'' if isolation == 'sandbox' else ', isolation: ' + options.describe_isolation()}...",
          flush=True)
    started = time.monotonic()
    # The overview's figures need matplotlib (half a second to import): imported while the
    # submissions are graded, in this otherwise idle process.
    threading.Thread(target=importlib.import_module, args=("instructor.reports.html",),
                     daemon=True).start()
    # Stopped with SIGTERM (a CI job cancelled, `timeout`, `kill`), the run ends as with Ctrl-C:
    # grade_all stops its grading processes and deletes their folders (killed outright, it left
    # them in /tmp).
    previous = signal.signal(signal.SIGTERM, lambda number, frame: sys.exit(128 + number))
    try:
        records = grade_all(submissions, options, jobs,
                            progress=lambda r: print(f"  {one_line(r.name, 60)}: {status_text(r)}, "
                                                     f"{r.score}/{r.max_score} "
                                                     f"({r.timings.total:.1f} s)", flush=True))
    finally:
        signal.signal(signal.SIGTERM, previous)
    report = Report(time.strftime("%Y-%m-%dT%H:%M:%S%z"), time.monotonic() - started, jobs,
                    options_dict(options), records,
                    shard=shard["description"] if shard else None)
    # Written before anything is printed: a terminal that cannot show a character never costs
    # the reports.
    paths = write_reports(report, args.report_dir) if args.report_dir else {}
    print()
    print(format_text(report), end="")
    if paths:
        print(f"\nReports: {', '.join(str(p) for p in paths.values())}")
    if args.feedback_dir:
        from instructor.reports.feedback import write_feedback
        print(f"Feedback: {len(write_feedback(records, args.feedback_dir))} files in "
              f"{args.feedback_dir}")
    return 0 if all(record.status == "passed" for record in records) else 1


def _shard(args, submissions):
    """None, or for --shard K/N: {"selected": the K-th part, "description": for the report}.
    Raises ValueError (ShardError) for a bad K/N, or when there is no --report-dir to merge."""
    if args.shard is None:
        return None
    from instructor.reports.shards import ShardError, parse_shard, select_shard, shard_description
    index, count = parse_shard(args.shard)
    if args.report_dir is None:
        raise ShardError("--shard needs --report-dir: merge-reports merges the shards' report "
                         "folders")
    selected = select_shard(submissions, index, count)
    print(f"Shard {index}/{count}: {len(selected)} of {len(submissions)} submission(s)")
    return {"selected": selected,
            "description": shard_description(submissions, selected, index, count)}


def _merge_reports(args):
    from instructor.reports.merge import MergeError, merge_reports

    try:
        paths, report = merge_reports(args.out_dir, args.report_dirs)
    except MergeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(paths["text"].read_text(encoding="utf-8"), end="")
    print(f"\nMerged {len(args.report_dirs)} shard report(s): "
          f"{', '.join(str(p) for p in paths.values())}")
    return 0 if all(record.status == "passed" for record in report.submissions) else 1


def _export_gradescope(args):
    from instructor.exports.gradescope import write_autograder_zip
    from instructor.exports.release import ExportError

    try:
        names = write_autograder_zip(args.out_zip, force=args.force)
    except ExportError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"Wrote the Gradescope autograder {args.out_zip} ({len(names)} files). Upload it as "
          f"the assignment's autograder (Configure Autograder > Zip file upload).")
    return 0


if __name__ == "__main__":
    exit_code = main()
    if "tensorflow" in sys.modules:
        # Everything is written and closed; a process that loaded TensorFlow (grade does, to
        # retrain) takes about 1.2 s more to end normally (measured), tearing TensorFlow down.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(exit_code)
    sys.exit(exit_code)
