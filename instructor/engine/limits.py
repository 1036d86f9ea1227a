"""Untrusted data read within bounds: sizes checked before anything is parsed or built.

A submission controls the bytes of its notebook and whatever its kernel sends back. Parsing them
naively lets one file cost the grader minutes or gigabytes (a 500 MB notebook, JSON nested 900
levels deep, which Python's own parser meets with RecursionError), so every reader here checks
the size first, and the nesting with a linear scan before ``json.loads`` recurses into it.

Nothing here knows about the lab.
"""
import json


class LimitExceeded(ValueError):
    """Data larger or deeper than its bound; the message says what, how large, and the bound."""


def check_size(size, limit, what, unit="characters"):
    """Raise LimitExceeded if ``size`` (counted in ``unit``) passes ``limit``: "WHAT has 600
    cells; the grader reads at most 500"."""
    if size > limit:
        raise LimitExceeded(f"{what} has {size:,} {unit}; the grader reads at most {limit:,}")


def json_depth(text):
    """How deeply the JSON ``text`` nests its arrays and objects (0 for a plain value); one
    linear pass that skips the contents of strings. Invalid JSON gets some number: the parser
    that comes after reports it."""
    depth = deepest = 0
    in_string = escaped = False
    for character in text:
        if in_string:
            if escaped:
                escaped = False
            elif character == "\\":
                escaped = True
            elif character == '"':
                in_string = False
        elif character == '"':
            in_string = True
        elif character in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif character in "]}":
            depth -= 1
    return deepest


def loads(text, what, max_chars, max_depth):
    """``json.loads(text)`` once its size and nesting are within bounds.

    Raises:
      LimitExceeded: too long or too deep (checked first).
      ValueError: not JSON (json.JSONDecodeError).
    """
    check_size(len(text), max_chars, what)
    depth = json_depth(text)
    if depth > max_depth:
        raise LimitExceeded(f"{what} nests {depth} levels deep; the grader reads at most "
                            f"{max_depth}")
    return json.loads(text)


def depth_of(value, stop_above=None):
    """How deeply a parsed JSON-like value nests lists and dicts, counted without recursion
    (stops counting past ``stop_above``)."""
    deepest, pending = 0, [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, (list, tuple)):
            children = item
        elif isinstance(item, dict):
            children = item.values()
        else:
            continue
        depth += 1
        deepest = max(deepest, depth)
        if stop_above is not None and deepest > stop_above:
            return deepest
        pending.extend((child, depth) for child in children)
    return deepest
