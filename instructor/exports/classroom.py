"""The students' CI files, written from the lab spec at release: the GitHub Classroom workflow
(``.github/workflows/grade.yml``) and the nbval conftest's list of exercises.

The workflow runs the notebook once with nbval as a 0-point gate, then gives each graded
exercise of :mod:`instructor.spec` its own autograding test worth its points; the optional
exercises get no test, so they never cost points. Nothing here writes an exercise's title or
points: they come from the spec.
"""
import json

from instructor.lab import spec
from instructor.lab.files import TEMPLATES_DIR

RESULTS_FILE = ".lab-results.json"
GATE_STEP_ID = "nbval"
CONFTEST_EXERCISES_LINE = "EXERCISES = []\n"


class TemplateError(RuntimeError):
    """A template lacks the place the spec's facts go (it was edited by hand)."""


def exercise_command(exercise):
    """The shell command of one exercise's test, run in the student's folder."""
    return f"python conftest.py {exercise.id} {RESULTS_FILE}"


def _quoted(text):
    return json.dumps(text)  # a JSON string is a valid YAML double-quoted scalar


def render_workflow(template_text=None):
    """grade.yml: the template with one autograding step per graded exercise."""
    text = template_text if template_text is not None else (TEMPLATES_DIR / "grade.yml").read_text()
    steps, variables = [], [f'          {GATE_STEP_ID.upper()}_RESULTS: '
                            f'"${{{{ steps.{GATE_STEP_ID}.outputs.result }}}}"']
    for exercise in spec.GRADED:
        steps += ["",
                  f"      - name: {_quoted(f'{exercise.title}: {exercise.points} points')}",
                  f"        id: {exercise.id}",
                  "        if: always()",
                  "        uses: classroom-resources/autograding-command-grader@v1",
                  "        with:",
                  f"          test-name: {_quoted(exercise.title)}",
                  f"          command: {exercise_command(exercise)}",
                  "          timeout: 1",
                  f"          max-score: {exercise.points}"]
        variables.append(f'          {exercise.id.upper()}_RESULTS: '
                         f'"${{{{ steps.{exercise.id}.outputs.result }}}}"')
    runners = ",".join([GATE_STEP_ID] + [exercise.id for exercise in spec.GRADED])
    replacements = {"@@EXERCISE_STEPS@@": "\n".join(steps) + "\n",
                    "@@RESULT_VARIABLES@@": "\n".join(variables), "@@RUNNERS@@": runners}
    for marker, value in replacements.items():
        if text.count(marker) != 1:
            raise TemplateError(f"instructor/templates/grade.yml: expected {marker} once, found it "
                                f"{text.count(marker)} times; restore the template")
        text = text.replace(marker, value)
    return text


def render_conftest(template_text=None):
    """conftest.py: the template with the spec's exercises (id, title) filled in."""
    text = (template_text if template_text is not None
            else (TEMPLATES_DIR / "student_conftest.py").read_text())
    if text.count(CONFTEST_EXERCISES_LINE) != 1:
        raise TemplateError(f"instructor/templates/student_conftest.py: expected the line "
                            f"{CONFTEST_EXERCISES_LINE.strip()!r} once; restore the template")
    listed = "".join(f"    ({item.id!r}, {item.title!r}),\n" for item in spec.EXERCISES)
    return text.replace(CONFTEST_EXERCISES_LINE, f"EXERCISES = [\n{listed}]\n")


# {path in the release: function returning its text}
RENDERED = {".github/workflows/grade.yml": render_workflow, "conftest.py": render_conftest}
