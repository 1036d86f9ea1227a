"""nbgrader feedback that never shows the hidden tests: ``StudentSafeFeedback``.

``python -m instructor export-nbgrader`` copies this file into the course folder as
``lab_nbgrader_feedback.py`` (not into ``source/``, so it is released to no student), and its
``nbgrader_config.py`` runs it in ``nbgrader generate_feedback`` after nbgrader's GetGrades. By
default nbgrader's feedback shows the autograded notebook as it is: the hidden tests' source (the
checks, the retraining, the secret the hidden inputs derive from) and their outputs (nbgrader
issue #917). This preprocessor, in each notebook:

- removes the hidden-test region from every test cell's source (nbgrader's own ClearHiddenTests);
- in a test cell, keeps what the public check printed, which comes before the hidden region's
  first line ``print("[hidden tests]")``, reduces an error the public check raised to its one
  line (a traceback would quote the hidden lines around it), and replaces everything else with
  one line: "Hidden tests: passed/failed (score / points). Their details are not shown.";
- after the first test cell, shows no output of any code cell: the student's own code ran while
  the hidden checks called it, and could print what they passed it.

:func:`prune_feedback`, the feedback's ``post_convert_hook``, deletes every file of a student's
feedback folder that is neither a feedback page nor a file of ``source/<assignment>/``: files the
student's code wrote during autograde are otherwise copied into the feedback.

It needs nbgrader (it runs only inside it) and imports nothing of the instructor package.
"""
import glob
import os

from nbformat.v4 import new_output
from nbgrader.preprocessors import ClearHiddenTests

MARKER = "[hidden tests]"
WITHHELD = "(Output not shown in feedback.)"


class StudentSafeFeedback(ClearHiddenTests):
    """GenerateFeedback's preprocessor that hides the hidden tests and what they saw."""

    def preprocess(self, nb, resources):
        self._hidden_ran = False
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        if self.begin_test_delimeter not in cell.source:
            if self._hidden_ran and cell.outputs:
                cell.outputs = [new_output("stream", name="stdout", text=WITHHELD + "\n")]
            return cell, resources
        later = self._hidden_ran
        self._hidden_ran = True
        cell, resources = super().preprocess_cell(cell, resources, index)
        cell.outputs = [] if later else self._public_outputs(cell.outputs)
        cell.outputs.append(new_output("stream", name="stdout", text=self._summary(cell) + "\n"))
        return cell, resources

    @staticmethod
    def _public_outputs(outputs):
        """The outputs before the hidden region's marker, an error as its one line."""
        kept = []
        for output in outputs:
            if output.output_type == "stream" and MARKER in output.text:
                before = output.text.split(MARKER, 1)[0]
                if before:
                    kept.append(new_output("stream", name=output.name, text=before))
                return kept
            if output.output_type == "error":  # raised before the marker: the public check's
                kept.append(new_output("stream", name="stderr",
                                       text=f"{output.ename}: {output.evalue}\n"))
                return kept
            if output.output_type == "stream":
                kept.append(output)
        return kept

    @staticmethod
    def _summary(cell):
        grade = cell.metadata.get("nbgrader", {})
        score, points = grade.get("score") or 0, grade.get("points") or 0
        if score >= points:
            return f"Hidden tests: passed ({score:g} / {points:g} points)."
        return f"Hidden tests: failed ({score:g} / {points:g} points). Their details are not shown."


def prune_feedback(assignment, student, notebooks, **_):
    """Delete from feedback/<student>/<assignment>/ every file that is neither a feedback page
    (.html) nor one of source/<assignment>/ (run from the course folder, as nbgrader runs).

    nbgrader passes its configured student id, which is the pattern ``*`` when it converts every
    student's notebooks: each folder the pattern matches is pruned (pruning is idempotent).
    nbgrader logs a hook's exception at level INFO only, so this one never relies on raising."""
    source = os.path.join("source", assignment)
    shipped = {os.path.relpath(os.path.join(root, name), source)
               for root, _, names in os.walk(source) for name in names}
    for folder in glob.glob(os.path.join("feedback", glob.escape(student) if student != "*"
                                         else "*", glob.escape(assignment))):
        for root, folders, names in os.walk(folder, topdown=False):
            for name in names:
                relative = os.path.relpath(os.path.join(root, name), folder)
                if not name.endswith(".html") and relative not in shipped:
                    os.remove(os.path.join(root, name))
            for name in folders:
                path = os.path.join(root, name)
                if not os.listdir(path):
                    os.rmdir(path)
