"""The lower bounds of requirements.txt and the pins of requirements-lowest.txt, compared.

requirements-lowest.txt is a pip constraints file: one ``name==version`` per package that
requirements.txt names, each equal to that package's lower bound there. Installing
``-r requirements.txt -c requirements-lowest.txt`` then gives the oldest environment a student may
legitimately have, which is what tools/check_lowest_versions.py runs the notebook in.

Every function here is pure (text in, findings out) so that tests can feed it broken files.
A finding is a sentence naming the file, the package, what was expected, what was found and the
fix; an empty list means "in agreement".
"""
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

# Operators whose version is the lowest one the specifier admits ("~=1.2" admits 1.2, "==1.2" only it).
_LOWER_BOUND_OPERATORS = (">=", "~=", "==")


class BoundsError(ValueError):
    """A requirements or constraints file that cannot be read as this check needs."""


def _content_lines(text):
    """(line number, line) for each line that is not blank or a comment; trailing comments cut."""
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split(" #", 1)[0].strip()
        if line and not line.startswith("#"):
            yield number, line


def parse_requirements(text, filename="requirements.txt"):
    """Requirement objects, one per requirement line of ``text`` (a requirements.txt's content).

    Raises BoundsError for a pip option line (-r, -c, --index-url ...) or an unparsable line.
    """
    requirements = []
    for number, line in _content_lines(text):
        if line.startswith("-"):
            raise BoundsError(
                f"{filename}, line {number}: expected a requirement, found the pip option {line!r}; "
                f"list the packages themselves so their lower bounds can be pinned")
        try:
            requirements.append(Requirement(line))
        except InvalidRequirement as error:
            raise BoundsError(f"{filename}, line {number}: {line!r} is not a valid requirement "
                              f"({error}); write it as e.g. 'numpy>=1.26,<3'") from None
    return requirements


def lower_bound(requirement, filename="requirements.txt"):
    """The lowest version ``requirement`` admits, as a Version.

    Raises BoundsError when it has no lower bound, or more than one.
    """
    bounds = [spec for spec in requirement.specifier if spec.operator in _LOWER_BOUND_OPERATORS]
    if len(bounds) != 1 or "*" in bounds[0].version:
        found = str(requirement.specifier) or "no version at all"
        raise BoundsError(
            f"{filename}: {requirement.name} needs exactly one lower bound (>=, ~= or ==), found "
            f"{found!r}; give it one, e.g. '{requirement.name}>=X.Y', and pin "
            f"'{requirement.name}==X.Y' in requirements-lowest.txt")
    return Version(bounds[0].version)


def lower_bounds(text, filename="requirements.txt"):
    """{canonical package name: lowest admitted Version} for every requirement in ``text``.

    A package listed twice (e.g. under two markers) must give the same lower bound both times,
    since one constraints file cannot pin two versions of it.
    """
    bounds = {}
    for requirement in parse_requirements(text, filename):
        name = canonicalize_name(requirement.name)
        bound = lower_bound(requirement, filename)
        if name in bounds and bounds[name] != bound:
            raise BoundsError(
                f"{filename}: {requirement.name} has two lower bounds, {bounds[name]} and {bound}; "
                f"a constraints file pins one version per package: give both lines the same one")
        bounds[name] = bound
    return bounds


def read_pins(text, filename="requirements-lowest.txt"):
    """{canonical package name: pinned Version} from a constraints file of ``name==version`` lines.

    Raises BoundsError for any other kind of line, or a package pinned twice.
    """
    pins = {}
    for number, line in _content_lines(text):
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            requirement = None
        specs = list(requirement.specifier) if requirement else []
        if (requirement is None or requirement.marker or requirement.extras or len(specs) != 1
                or specs[0].operator != "==" or "*" in specs[0].version):
            raise BoundsError(f"{filename}, line {number}: expected 'name==version', found "
                              f"{line!r}; pin exactly one version, with no marker or extra")
        name = canonicalize_name(requirement.name)
        if name in pins:
            raise BoundsError(f"{filename}, line {number}: {requirement.name} is pinned twice; "
                              f"keep one line for it")
        pins[name] = Version(specs[0].version)
    return pins


def sync_problems(requirements_text, constraints_text,
                  requirements_name="requirements.txt", constraints_name="requirements-lowest.txt"):
    """Findings where the constraints file's pins differ from the requirements' lower bounds."""
    bounds = lower_bounds(requirements_text, requirements_name)
    pins = read_pins(constraints_text, constraints_name)
    problems = []
    for name, bound in sorted(bounds.items()):
        if name not in pins:
            problems.append(f"{constraints_name}: {name} is not pinned; {requirements_name} "
                            f"allows {name}>={bound}, so add the line '{name}=={bound}'")
        elif pins[name] != bound:
            problems.append(
                f"{constraints_name}: {name} is pinned to {pins[name]} but {requirements_name}'s "
                f"lower bound is {bound}; make them equal (raise the bound in {requirements_name} "
                f"only once the notebook is shown to fail below it)")
    for name in sorted(set(pins) - set(bounds)):
        problems.append(f"{constraints_name}: {name}=={pins[name]} is pinned but "
                        f"{requirements_name} does not name {name}; remove the pin")
    return problems


def pins_in_effect(requirements_text, pins, environment=None):
    """The pins of the packages that ``requirements_text`` installs where ``environment`` holds.

    ``environment`` is a PEP 508 marker environment dict (default: this interpreter's), e.g. on
    x86-64 Linux tensorflow-cpu is in effect and tensorflow is not.
    """
    wanted = {canonicalize_name(requirement.name)
              for requirement in parse_requirements(requirements_text)
              if requirement.marker is None or requirement.marker.evaluate(environment)}
    return {name: version for name, version in pins.items() if name in wanted}


def version_problems(expected, installed):
    """Findings where ``installed`` ({name: version string or None}) differs from ``expected``.

    ``expected`` maps canonical names to Versions; a missing package has version None.
    """
    problems = []
    for name, version in sorted(expected.items()):
        found = installed.get(name)
        if found is None:
            problems.append(f"{name} should be installed at {version} but is not installed")
        elif Version(found) != version:
            problems.append(f"{name} should be {version} (requirements-lowest.txt) but "
                            f"{found} is installed; pip did not apply the constraints file")
    return problems
