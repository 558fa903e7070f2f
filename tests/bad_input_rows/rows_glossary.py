"""Bad inputs for tutor_lib.glossary (the Myth/Imprecise box index)."""

from bad_input_rows import error, result
from tutor_lib.glossary import Box, box_index_markdown, course_boxes, find_boxes

UNPAIRED = {"cells": [{"cell_type": "markdown", "source": '> **Myth:** "a." **Precise:** b.'}]}
BOX = Box("04_x", "7. Tiles", "Myth", '"a."', "b. C.", 3, "1", True)

ROWS = [
    error(find_boxes, "x.ipynb", "04_x", raises=TypeError, name="notebook", why="a path, not JSON"),
    error(find_boxes, {"nbformat": 4}, "04_x", name="notebook", why="no cells"),
    error(find_boxes, UNPAIRED, "04_x", name="notebook", why="Myth paired with Precise"),
    result(find_boxes, {"cells": []}, "04_x", check=lambda v: v == [], why="no cells, no boxes"),
    error(course_boxes, 3, raises=TypeError, name="folder", why="an int"),
    error(course_boxes, "/no/such/folder", name="folder", why="missing folder"),
    error(box_index_markdown, [1], raises=TypeError, name="boxes", why="not Box objects"),
    error(box_index_markdown, [BOX], max_lines=0, name="max_lines", why="zero lines"),
    error(box_index_markdown, [BOX], max_lines=True, name="max_lines", why="bool lines"),
    result(box_index_markdown, [], check=lambda s: s.startswith("0 boxes"), why="empty index"),
    result(
        Box, *BOX.__dict__.values(), check=lambda b: b.answer_lead == "b.", why="first sentence"
    ),
]
