"""Command line: ``python -m instructor release OUT_DIR`` and ``python -m instructor grade PATH...``.

Exit codes: 0 success (every submission passed); 1 some submission failed, was tampered with or
could not be graded; 2 bad command line or input (the message says what is wrong).
"""
import argparse
import os
import sys
import time
from pathlib import Path

from instructor.cells import NotebookError


def main(argv=None):
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
    grade.add_argument("--no-sandbox", action="store_true",
                       help="grade where the bubblewrap sandbox cannot start (macOS, Windows, no "
                            "user namespaces): student code then runs with your rights, so do it "
                            "only in a throwaway VM or container; records say \"sandboxed\": false")

    args = parser.parse_args(argv)
    try:
        if args.command == "release":
            return _release(args)
        return _grade(args, parser)
    except NotebookError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def _release(args):
    from instructor.release import ReleaseError, hint_revealed_lines, write_release
    from instructor import SOURCE_NOTEBOOK
    from instructor.cells import read_notebook

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


def _grade(args, parser):
    from instructor.grade import GradeOptions, grade_all, options_dict
    from instructor.report import format_text, write_reports
    from instructor.submissions import SubmissionPathError, find_submissions

    from instructor.sandbox import SandboxUnavailable, require

    if args.jobs < 1 or args.cell_timeout <= 0 or args.memory_limit < 500 or args.cpu_limit <= 0:
        parser.error("--jobs must be at least 1, --cell-timeout and --cpu-limit positive, and "
                     "--memory-limit at least 500 (MB; TensorFlow alone needs about 500)")
    if not args.no_sandbox:
        try:
            require()  # before any work: the instructor decides, not a fallback
        except SandboxUnavailable as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
    try:
        submissions = find_submissions(args.paths)
    except SubmissionPathError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    options = GradeOptions(cell_timeout=args.cell_timeout, memory_limit_mb=args.memory_limit,
                           cpu_limit_seconds=args.cpu_limit,
                           executed_dir=str(args.keep_executed or ""),
                           kernel_threads=max(0, args.kernel_threads),
                           sandbox=not args.no_sandbox)
    jobs = min(args.jobs, len(submissions))
    if args.no_sandbox:
        print("warning: --no-sandbox: not sandboxed; student code runs with your rights",
              file=sys.stderr, flush=True)
    print(f"Grading {len(submissions)} submission(s) with {jobs} job(s)"
          f"{'' if options.sandbox else ', not sandboxed'}...", flush=True)
    started = time.monotonic()
    records = grade_all(submissions, options, jobs,
                        progress=lambda r: print(f"  {r['name']}: {r['status']}, "
                                                 f"{r['score']}/{r['max_score']} "
                                                 f"({r.get('timings', {}).get('total', 0):.1f} s)",
                                                 flush=True))
    seconds = time.monotonic() - started
    print()
    print(format_text(records, seconds, jobs), end="")
    if args.report_dir:
        paths = write_reports(records, args.report_dir, seconds, jobs, options_dict(options))
        print(f"\nReports: {', '.join(str(p) for p in paths.values())}")
    return 0 if all(record["status"] == "passed" for record in records) else 1


if __name__ == "__main__":
    sys.exit(main())
