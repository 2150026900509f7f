"""The JSON writers' fast path for string cells writes exactly what the general encoder writes."""

import io
import json

from export_service.logic.formats import JsonArrayWriter, JsonLinesWriter, _dumps

COLUMNS = ("id", "per%cent", 'quo"te', "ünï")
RECORDS = [
    {"id": "a\u00fc\n\t\u2028", "per%cent": "%s %d %%", 'quo"te': '"\\', "ünï": "\x00\x1f"},
    {"id": "1", "extra": "not a column"},  # missing cells are "", extra keys dropped
    {"id": 1.5, "per%cent": None, 'quo"te': {"k": [1, "x"]}, "ünï": True},  # not strings: the general encoder
    {},
]


def _expected(records: list[dict[str, object]]) -> list[str]:
    return [_dumps({column: record.get(column, "") for column in COLUMNS}) for record in records]


def test_json_array_writer_matches_the_general_encoder() -> None:
    out = io.StringIO()
    writer = JsonArrayWriter(out, COLUMNS)
    writer.write_many(RECORDS[:2])
    writer.write_many(RECORDS[2:])
    assert out.getvalue() == ",".join(_expected(RECORDS))
    assert [list(record) for record in json.loads("[" + out.getvalue() + "]")] == [list(COLUMNS)] * len(RECORDS)


def test_json_lines_writer_matches_the_general_encoder() -> None:
    out = io.StringIO()
    JsonLinesWriter(out, COLUMNS).write_many(RECORDS)
    assert out.getvalue() == "".join(line + "\n" for line in _expected(RECORDS))


def test_a_single_column_and_records_missing_it() -> None:
    out = io.StringIO()
    JsonLinesWriter(out, ("id",)).write_many([{"id": "a"}, {}, {"id": None}])
    assert out.getvalue() == '{"id":"a"}\n{"id":""}\n{"id":null}\n'
