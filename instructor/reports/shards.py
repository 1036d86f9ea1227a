"""Grading in shards: ``grade --shard K/N`` grades the K-th of N parts of the submissions.

The parts are cut from the submissions sorted by their notebook's path relative to the current
folder (so every machine of a CI matrix, with the same checkout and the same command line, cuts
the same parts), as N contiguous runs whose sizes differ by at most one. The shard's report
records which part it is and the whole list of submissions (:func:`shard_description`), which is
what ``merge-reports`` checks before it merges.
"""
import os
from pathlib import Path


class ShardError(ValueError):
    """A --shard value that is not K/N with 1 <= K <= N."""


def parse_shard(text):
    """``"K/N"`` -> (K, N), both ints, 1 <= K <= N.

    Raises:
      ShardError: the text is not two whole numbers separated by "/", or K is out of range.
    """
    parts = str(text).split("/")
    if len(parts) != 2 or not all(part.strip().isdigit() for part in parts):
        raise ShardError(f"--shard: expected K/N (for example 1/2, the first of two parts), "
                         f"found {text!r}")
    index, count = (int(part) for part in parts)
    if count < 1 or not 1 <= index <= count:
        raise ShardError(f"--shard: expected 1 <= K <= N in K/N, found {text!r}; the parts of "
                         f"N shards are numbered 1 to N")
    return index, count


def shard_key(submission):
    """The path a submission is sorted by: its notebook relative to the current folder, with
    forward slashes (the same on every machine that has the same checkout)."""
    return Path(os.path.relpath(Path(submission.notebook).absolute())).as_posix()


def select_shard(submissions, index, count):
    """The submissions of part ``index`` (1-based) of ``count``, in the order given.

    Args:
      submissions: the list ``find_submissions`` returned (names already unique).
      index, count: as :func:`parse_shard` returns them.
    """
    ordered = sorted(submissions, key=shard_key)
    base, extra = divmod(len(ordered), count)
    start = (index - 1) * base + min(index - 1, extra)
    stop = start + base + (1 if index <= extra else 0)
    chosen = {id(submission) for submission in ordered[start:stop]}
    return [submission for submission in submissions if id(submission) in chosen]


def shard_description(all_submissions, selected, index, count):
    """What a shard's report.json says about the shard (its ``"shard"`` entry).

    ``all``: every submission of the whole run, as {"name", "path"}, in the order a single run
    reports them; ``graded``: the names this shard graded.
    """
    return {"index": index, "count": count,
            "all": [{"name": item.name, "path": shard_key(item)} for item in all_submissions],
            "graded": [item.name for item in selected]}
