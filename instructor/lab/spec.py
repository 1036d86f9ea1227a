"""The lab spec: the one place that says what the lab's exercises are.

Everything that needs to know an exercise reads it from here: the release (placeholders, locked
cells, the students' CI workflow and its points), the grader (what to ask the kernel for, which
check to run, the points, the hidden checks), the reports and feedback, the exports to other
grading engines, and the tests. Nothing else writes an exercise's id, title, check call or points.

The notebook links its cells to the spec through ``metadata.lab = {"exercise": <id>, "role":
"solution" | "check"}``; the spec never depends on cell numbers.
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class Exercise:
    """One exercise of the lab.

    Attributes:
      id: the ``metadata.lab.exercise`` of its cells, e.g. ``"exercise_1"``.
      title: how reports and students name it, e.g. ``"Exercise 1 (my_softmax)"``.
      short: a column header for tables, e.g. ``"ex1"``.
      points: what it is worth; 0 for an optional exercise.
      check_function: the public check in ``public_tests.py`` that ends it.
      check_call: the whole source of its check cell, exactly as the source notebook has it.
      answer: the name the student's answer is bound to in the notebook (a function, the model).
      kind: how the grader judges it: ``"softmax"`` and ``"cross_entropy"`` (a NumPy function,
        called on the grader's inputs), ``"model"`` (the architecture, retrained by the grader).
      optional: an optional exercise never costs points and never stops Run All.
    """
    id: str
    title: str
    short: str
    points: int
    check_function: str
    check_call: str
    answer: str
    kind: str
    optional: bool = False

    @property
    def number(self):
        """The exercise's number for students ("1", "2"), or "" for an optional one."""
        return "" if self.optional else self.id.rsplit("_", 1)[-1]


EXERCISES = (
    Exercise(id="exercise_1", title="Exercise 1 (my_softmax)", short="ex1", points=50,
             check_function="test_my_softmax", check_call="test_my_softmax(my_softmax)",
             answer="my_softmax", kind="softmax"),
    Exercise(id="challenge_stable_softmax", title="Optional challenge (my_softmax_stable)",
             short="stable", points=0, check_function="test_my_softmax_stable",
             check_call="test_my_softmax_stable(my_softmax_stable)",
             answer="my_softmax_stable", kind="softmax", optional=True),
    Exercise(id="challenge_cross_entropy", title="Optional challenge (cross_entropy_from_logits)",
             short="loss", points=0, check_function="test_cross_entropy_from_logits",
             check_call="test_cross_entropy_from_logits(cross_entropy_from_logits)",
             answer="cross_entropy_from_logits", kind="cross_entropy", optional=True),
    Exercise(id="exercise_2", title="Exercise 2 (model)", short="ex2", points=50,
             check_function="test_model", check_call="test_model(model, 10, 400)",
             answer="model", kind="model"),
)

BY_ID = {exercise.id: exercise for exercise in EXERCISES}
GRADED = tuple(exercise for exercise in EXERCISES if not exercise.optional)
OPTIONAL = tuple(exercise for exercise in EXERCISES if exercise.optional)
MAX_SCORE = sum(exercise.points for exercise in GRADED)
CHECK_FUNCTIONS = tuple(exercise.check_function for exercise in EXERCISES)


def exercise(exercise_id):
    """The :class:`Exercise` with this id.

    Raises:
      KeyError: no exercise has this id (the message lists the ids that exist).
    """
    try:
        return BY_ID[exercise_id]
    except KeyError:
        raise KeyError(f"no exercise {exercise_id!r} in the lab spec; the exercises are "
                       f"{', '.join(BY_ID)}") from None


def check_call_arguments(item):
    """The literal arguments after the first in an exercise's check call, e.g. (10, 400) for
    ``test_model(model, 10, 400)``."""
    import ast
    call = ast.parse(item.check_call, mode="eval").body
    return tuple(ast.literal_eval(argument) for argument in call.args[1:])
