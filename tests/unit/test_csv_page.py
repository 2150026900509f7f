"""The CSV writer's page-at-once path writes exactly what ``csv.writer`` writes of the neutralised cells, whatever
the cells hold; pages it cannot take (a missing or non-string cell, a single column) go the general way."""

from __future__ import annotations

import csv
import io
import random
from collections import defaultdict

import pytest

from export_service.logic import formats
from export_service.logic.formats import CsvWriter, neutralise_cell

# Every character csv.writer or the formula check treats specially, and a few it does not.
ALPHABET = ["a", "Z", "0", ",", '"', "\r", "\n", "=", "+", "-", "@", "\t", " ", "'", "é", "\x00", "\\", "%", "\u2028"]


def _reference(columns: tuple[str, ...], records: list[dict[str, object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for record in records:
        writer.writerow(
            [
                neutralise_cell(value if isinstance(value, str) else formats._cell(value))
                for value in map(record.get, columns)
            ]
        )
    return out.getvalue()


def _written(columns: tuple[str, ...], pages: list[list[dict[str, object]]]) -> str:
    out = io.StringIO()
    writer = CsvWriter(out, columns, header=False)
    for page in pages:
        writer.write_many(page)
    return out.getvalue()


def _cell(rng: random.Random) -> str:
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 5)))


def test_random_pages_match_csv_writer() -> None:
    rng = random.Random(20261129)
    for _ in range(2000):
        columns = tuple(f"c{index}" for index in range(rng.randint(2, 6)))
        records = [{column: _cell(rng) for column in columns} for _ in range(rng.randint(1, 8))]
        assert formats._csv_page(columns, records) is not None  # every cell a string: the page path
        assert _written(columns, [records]) == _reference(columns, records), records


def test_pages_the_page_path_leaves_to_the_general_one() -> None:
    columns = ("a", "b", "c")
    missing = [{"a": "x", "b": "=1"}, {"a": "y", "b": "z", "c": "w"}]
    not_strings = [{"a": "x", "b": None, "c": "1"}, {"a": 2, "b": "y", "c": {"k": ["v"]}}]
    for page in (missing, not_strings):
        assert formats._csv_page(columns, page) is None
        assert _written(columns, [page]) == _reference(columns, page)
    defaulting = [defaultdict(lambda: "=cmd", {"a": "1", "b": "2"})]  # a Mapping whose [] differs from .get
    assert formats._csv_page(columns, defaulting) is None
    assert _written(columns, [defaulting]) == "1,2,\r\n"
    single = [{"a": ""}, {"a": "=x"}, {"a": "p,q"}]
    assert formats._csv_page(("a",), single) is None
    assert _written(("a",), [single]) == '""\r\n' + "'=x\r\n" + '"p,q"\r\n'


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        (["=SUM(A1)", "ok"], "'=SUM(A1),ok\r\n"),  # a formula in the first cell of the page
        (["ok", "a\n=1"], 'ok,"a\n=1"\r\n'),  # a trigger after a line break inside a cell is not at its start
        (["", "-2"], ",'-2\r\n"),  # an empty cell before a trigger
        (["\tx", "\ny"], "'\tx,\"'\ny\"\r\n"),  # whitespace triggers, the second then quoted
        (["a\r\nb", 'say "hi"'], '"a\r\nb","say ""hi"""\r\n'),
    ],
)
def test_cells_the_column_checks_must_catch(cells: list[str], expected: str) -> None:
    columns = ("x", "y")
    page = [dict(zip(columns, cells, strict=True))]
    assert _written(columns, [page]) == expected == _reference(columns, page)


def test_a_page_of_many_rows_with_one_formula_deep_inside() -> None:
    columns = ("id", "resource", "metadata")
    records = [{"id": f"r{n}", "resource": f"res-{n}", "metadata": '{"k":"v, w"}'} for n in range(3000)]
    records[1777]["resource"] = "@cmd"
    written = _written(columns, [records[:1000], records[1000:]])
    assert written == _reference(columns, records)
    assert "\r\nr1777,'@cmd," in written
