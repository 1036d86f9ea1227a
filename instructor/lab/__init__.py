"""The lab's own facts: its exercises (:mod:`~instructor.lab.spec`), its notebook's graded cells
(:mod:`~instructor.lab.cells`) and its files (:mod:`~instructor.lab.files`).

May import: nothing of ``instructor`` outside this package. Everything else reads the lab here.
"""
