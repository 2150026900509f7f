"""The client's configuration (flags > environment > profile file, mode 600) and its file checks (counts, digests)."""

from __future__ import annotations

import base64
import hashlib
import json
import stat

import pytest
from click.testing import CliRunner
from export_client import verify
from export_client.cli import cli
from export_client.config import loose_permissions, read_profiles, resolve, write_profile
from export_client.errors import ClientError, Exit

pytestmark = pytest.mark.unit


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch, tmp_path):
    for name in ("EXPORTS_ENDPOINT", "EXPORTS_KEY", "EXPORTS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("EXPORTS_CONFIG", str(tmp_path / "cfg" / "config.toml"))


def test_flags_win_over_the_environment_which_wins_over_the_profile(tmp_path, monkeypatch):
    path = write_profile("default", "https://file.example/", "file-key")
    write_profile("other", "https://other.example", 'k"\\ey')  # quotes and backslashes survive the TOML
    assert resolve(None, None, None).endpoint == "https://file.example"
    assert resolve(None, None, None).key == "file-key"
    assert resolve(None, None, "other").key == 'k"\\ey'
    monkeypatch.setenv("EXPORTS_ENDPOINT", "https://env.example")
    monkeypatch.setenv("EXPORTS_KEY", "env-key")
    settings = resolve(None, None, None)
    assert (settings.endpoint, settings.key, settings.key_from) == ("https://env.example", "env-key", "$EXPORTS_KEY")
    settings = resolve("https://flag.example", "flag-key", None)
    assert (settings.endpoint, settings.key, settings.key_from) == ("https://flag.example", "flag-key", "--key")
    monkeypatch.setenv("EXPORTS_PROFILE", "other")
    monkeypatch.delenv("EXPORTS_KEY")
    assert resolve(None, None, None).key == 'k"\\ey'
    assert set(read_profiles(path)) == {"default", "other"}


def test_the_file_is_written_with_mode_600_and_a_looser_mode_is_noticed(tmp_path):
    path = write_profile("default", "https://a.example", "secret")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not loose_permissions(path)
    path.chmod(0o644)
    assert loose_permissions(path)


def test_missing_settings_and_unknown_profiles_exit_with_3(tmp_path):
    with pytest.raises(ClientError) as raised:
        resolve(None, None, None)
    assert raised.value.code is Exit.CONFIG and "exports configure" in raised.value.message
    write_profile("default", "https://a.example", "k")
    with pytest.raises(ClientError) as raised:
        resolve(None, None, "nope")
    assert raised.value.code is Exit.CONFIG
    result = CliRunner().invoke(cli, ["jobs", "list"], env={"EXPORTS_PROFILE": "nope"})
    assert result.exit_code == 3


def test_configure_prompts_for_the_key_without_echoing_it(tmp_path):
    result = CliRunner().invoke(
        cli, ["configure", "--profile", "ci", "--no-check"], input="http://127.0.0.1:3000\ns3cr3t-key\n"
    )
    assert result.exit_code == 0, result.output
    assert "s3cr3t-key" not in result.output
    profiles = read_profiles(tmp_path / "cfg" / "config.toml")
    assert profiles["ci"] == {"endpoint": "http://127.0.0.1:3000", "key": "s3cr3t-key"}


def test_an_api_error_in_json_mode_is_a_json_object_too(tmp_path):
    result = CliRunner().invoke(cli, ["jobs", "list", "--json"])
    assert result.exit_code == 3
    first = result.output.splitlines()[0]
    assert json.loads(first) == {"ok": False, "exit": 3, "error": json.loads(first)["error"]}


# ---- counting records and checking digests --------------------------------------------------------------------


def test_csv_records_are_counted_with_quoted_line_breaks_and_a_bom(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes(b'\xef\xbb\xbfid,text\r\n1,"two\r\nlines"\r\n2,plain\r\n')
    assert verify.count_rows(path, "csv") == 2
    (tmp_path / "h.csv").write_bytes(b"id,text\r\n")
    assert verify.count_rows(tmp_path / "h.csv", "csv") == 0
    (tmp_path / "e.csv").write_bytes(b"")
    assert verify.count_rows(tmp_path / "e.csv", "csv") == 0


def test_json_envelope_records_are_counted_in_a_stream_whatever_the_strings_hold(tmp_path, monkeypatch):
    records = [{"id": str(n), "t": 'a } ] [ { \\" "quoted" \u00e9\u4e2d'} for n in range(40)]
    metadata = {"filter": {"severities": ["HIGH"], "nested": [{"x": 1}]}, "totalRecords": 40}
    path = tmp_path / "a.json"
    path.write_text(json.dumps({"apiVersion": "v1", "kind": "AuditExport", "metadata": metadata, "records": records}))
    monkeypatch.setattr(verify, "CHUNK", 7)  # chunk edges inside strings, escapes and multi-byte characters
    assert verify.count_rows(path, "json") == 40
    path.write_text('{"apiVersion":"v1","metadata":{},"records":[]}')
    assert verify.count_rows(path, "json") == 0


def test_json_lines_and_formats_without_a_count(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text('{"id":"1"}\n{"id":"2"}\n')
    assert verify.count_rows(path, "jsonl") == 2
    assert verify.count_rows(path, "pdf") is None
    assert verify.format_of("x/audit-2026.JSONL") == "jsonl" and verify.format_of("a.txt") == ""


def test_an_unreadable_file_is_a_verification_failure(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes(b"id\r\n\xff\xfe\r\n")
    with pytest.raises(ClientError) as raised:
        verify.count_rows(path, "csv")
    assert raised.value.code is Exit.VERIFY


def test_repr_digest_and_mismatches():
    digest = hashlib.sha256(b"x").digest()
    header = f"sha-512=:AAAA:, sha-256=:{base64.b64encode(digest).decode()}:"
    assert verify.repr_digest_sha256(header) == digest.hex()
    assert verify.repr_digest_sha256("sha-256=:not base64!:") is None
    assert verify.repr_digest_sha256(None) is None
    facts = verify.Facts("a" * 64, 10, 3)
    assert verify.mismatches(facts, sha256="a" * 64, size=10, rows=3) == []
    assert verify.mismatches(facts, sha256="b" * 64, size=11, rows=4) == [
        f"SHA-256 {'a' * 64} instead of {'b' * 64}",
        "10 bytes instead of 11",
        "3 records instead of 4",
    ]


def test_parquet_row_counts_come_from_the_footer_without_a_parquet_library(tmp_path):
    import duckdb  # noqa: PLC0415 - writers for the test files only
    import pyarrow as pa  # noqa: PLC0415
    import pyarrow.parquet as pq  # noqa: PLC0415

    by_duckdb, by_arrow, empty = tmp_path / "d.parquet", tmp_path / "a.parquet", tmp_path / "e.parquet"
    duckdb.sql(f"COPY (SELECT range AS n, 'x' || range AS s, NOW() AS t FROM range(250000)) TO '{by_duckdb}'")
    table = pa.table({"a": list(range(1000)), "m": [{"k": [1, 2]}] * 1000, "b": [True, False] * 500})
    pq.write_table(table, by_arrow, row_group_size=300)
    pq.write_table(pa.table({"x": pa.array([], pa.int64())}), empty)
    assert verify.count_rows(by_duckdb, "parquet") == 250_000
    assert verify.count_rows(by_arrow, "parquet") == 1000
    assert verify.count_rows(empty, "parquet") == 0
    cut = tmp_path / "cut.parquet"
    cut.write_bytes(by_arrow.read_bytes()[:-3])
    with pytest.raises(ClientError) as raised:
        verify.count_rows(cut, "parquet")
    assert raised.value.code is Exit.VERIFY
