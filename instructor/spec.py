"""The lab spec: the one place that says what the lab's exercises are.

Everything that needs to know an exercise reads it from here: the release (placeholders, locked
cells, the students' CI workflow and its points), the grader (what to record in the kernel, which
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
      records: the names the grader reads from the kernel after the notebook ran (a function to
        replay, or the model).
      kind: what the grader does with the recorded names: ``"softmax"`` (replay the function on
        the public and hidden inputs) or ``"model"`` (check and retrain the architecture).
      optional: an optional exercise never costs points and never stops Run All.
    """
    id: str
    title: str
    short: str
    points: int
    check_function: str
    check_call: str
    records: tuple
    kind: str
    optional: bool = False

    @property
    def number(self):
        """The exercise's number for students ("1", "2"), or "" for an optional one."""
        return "" if self.optional else self.id.rsplit("_", 1)[-1]


EXERCISES = (
    Exercise(id="exercise_1", title="Exercise 1 (my_softmax)", short="ex1", points=50,
             check_function="test_my_softmax", check_call="test_my_softmax(my_softmax)",
             records=("my_softmax",), kind="softmax"),
    Exercise(id="challenge_stable_softmax", title="Optional challenge (my_softmax_stable)",
             short="stable", points=0, check_function="test_my_softmax_stable",
             check_call="test_my_softmax_stable(my_softmax_stable)",
             records=("my_softmax_stable",), kind="softmax", optional=True),
    Exercise(id="challenge_cross_entropy", title="Optional challenge (cross_entropy_from_logits)",
             short="loss", points=0, check_function="test_cross_entropy_from_logits",
             check_call="test_cross_entropy_from_logits(cross_entropy_from_logits)",
             records=("cross_entropy_from_logits",), kind="cross_entropy", optional=True),
    Exercise(id="exercise_2", title="Exercise 2 (model)", short="ex2", points=50,
             check_function="test_model", check_call="test_model(model, 10, 400)",
             records=("model",), kind="model"),
)

BY_ID = {exercise.id: exercise for exercise in EXERCISES}
GRADED = tuple(exercise for exercise in EXERCISES if not exercise.optional)
OPTIONAL = tuple(exercise for exercise in EXERCISES if exercise.optional)
MAX_SCORE = sum(exercise.points for exercise in GRADED)


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


def by_check_function(name):
    """The exercise whose check is the public check ``name``, or None."""
    return next((item for item in EXERCISES if item.check_function == name), None)
