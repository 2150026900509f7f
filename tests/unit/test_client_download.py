"""The client's downloader against a fake file store: Range resumes, expired links renewed, atomic promotion."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from export_client.download import (
    MAX_INTERRUPTIONS,
    MAX_REFRESHES,
    Link,
    discard,
    fetch,
    matching_part,
    part_path,
    promote,
    write_sidecar,
)
from export_client.errors import ClientError, Exit

from tests.unit.client_support import FakeStore

pytestmark = pytest.mark.unit

BODY = bytes(range(256)) * 40  # 10,240 bytes
NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


class Links:
    """A link source that hands out numbered links and counts the renewals."""

    def __init__(self, name: str, expires_at: datetime | None = None) -> None:
        self.name, self.expires_at, self.refreshed = name, expires_at, 0

    def current(self) -> Link:
        return Link(f"https://store/{self.name}?v={self.refreshed}", self.expires_at)

    def refresh(self) -> Link:
        self.refreshed += 1
        self.expires_at = NOW + timedelta(seconds=300)
        return self.current()


class Bar:
    def __init__(self) -> None:
        self.total: int | None = None
        self.done = 0

    def start(self, total: int | None, completed: int) -> None:
        self.total, self.done = total, completed

    def advance(self, size: int) -> None:
        self.done += size


def _fetch(store: FakeStore, tmp_path, links: Links, expected: int | None = len(BODY)):
    part = part_path(tmp_path / "out.csv")
    bar = Bar()
    transfer = fetch(
        links, part, session=store, expected_bytes=expected, progress=bar, now=lambda: NOW, sleep=lambda _s: None
    )
    return part, transfer, bar


def test_a_whole_file_in_one_request(tmp_path):
    store = FakeStore()
    store.put("f", BODY)
    part, transfer, bar = _fetch(store, tmp_path, Links("f"))
    assert part.read_bytes() == BODY
    assert (transfer.bytes, transfer.resumes, transfer.refreshes) == (len(BODY), 0, 0)
    assert bar.total == bar.done == len(BODY)
    assert store.requests == [("https://store/f?v=0", None)]


def test_an_interrupted_download_resumes_with_range_where_it_stopped(tmp_path):
    store = FakeStore()
    store.put("f", BODY, cuts=[3000, 2000])
    part, transfer, bar = _fetch(store, tmp_path, Links("f"))
    assert part.read_bytes() == BODY
    assert transfer.resumes == 2
    assert [r for _, r in store.requests] == [None, "bytes=3000-", "bytes=5000-"]
    assert bar.done == len(BODY)


def test_without_a_known_size_the_end_of_the_body_ends_it_and_a_resume_past_the_end_is_complete(tmp_path):
    store = FakeStore()
    store.put("f", BODY, cuts=[len(BODY)])  # every byte arrived, then the connection broke
    part, _, _ = _fetch(store, tmp_path, Links("f"), expected=None)
    assert part.read_bytes() == BODY
    assert [r for _, r in store.requests] == [None, f"bytes={len(BODY)}-"]  # answered 416: nothing more


def test_a_link_refused_as_expired_is_renewed_and_the_download_continues(tmp_path):
    store = FakeStore()
    store.put("f", BODY, cuts=[4096])
    links = Links("f")
    part = part_path(tmp_path / "out.csv")
    bar = Bar()

    def expire_after_first(*args, **kwargs):  # the link dies while the first request is running
        store.files["f"].refuse = 1 if len(store.requests) == 1 else 0

    original = store.get

    def get(url, headers=None, **kwargs):
        response = original(url, headers, **kwargs)
        expire_after_first()
        return response

    store.get = get  # type: ignore[method-assign]
    transfer = fetch(
        links, part, session=store, expected_bytes=len(BODY), progress=bar, now=lambda: NOW, sleep=lambda _s: None
    )
    assert part.read_bytes() == BODY
    assert (transfer.resumes, transfer.refreshes, links.refreshed) == (1, 1, 1)
    assert [(u.split("?")[1], r) for u, r in store.requests] == [
        ("v=0", None),
        ("v=0", "bytes=4096-"),  # refused: expired
        ("v=1", "bytes=4096-"),  # the fresh link resumes where the file stopped
    ]


def test_a_link_about_to_expire_is_renewed_before_the_request(tmp_path):
    store = FakeStore()
    store.put("f", BODY)
    links = Links("f", expires_at=NOW + timedelta(seconds=5))
    part, transfer, _ = _fetch(store, tmp_path, links)
    assert part.read_bytes() == BODY
    assert transfer.refreshes == 1
    assert store.requests == [("https://store/f?v=1", None)]


def test_links_refused_again_and_again_end_with_a_network_error(tmp_path):
    store = FakeStore()
    store.put("f", BODY, refuse=100)
    with pytest.raises(ClientError) as raised:
        _fetch(store, tmp_path, Links("f"))
    assert raised.value.code is Exit.NETWORK
    assert len(store.requests) == MAX_REFRESHES + 1


def test_a_store_that_ignores_range_sends_the_whole_file_again_and_it_is_rewritten(tmp_path):
    store = FakeStore()
    store.put("f", BODY, cuts=[1000], ignores_range=True)
    part, transfer, _ = _fetch(store, tmp_path, Links("f"))
    assert part.read_bytes() == BODY
    assert transfer.resumes == 1


def test_a_deleted_file_is_a_rejection_not_a_retry(tmp_path):
    with pytest.raises(ClientError) as raised:
        _fetch(FakeStore(), tmp_path, Links("missing"))
    assert raised.value.code is Exit.REJECTED
    assert "30 days" in raised.value.message


def test_interruptions_without_progress_give_up_after_the_budget(tmp_path):
    store = FakeStore()
    store.put("f", BODY, cuts=[0] * (MAX_INTERRUPTIONS + 5))
    with pytest.raises(ClientError) as raised:
        _fetch(store, tmp_path, Links("f"))
    assert raised.value.code is Exit.NETWORK
    assert len(store.requests) == MAX_INTERRUPTIONS + 1


def test_a_temporary_file_longer_than_the_file_is_started_again(tmp_path):
    store = FakeStore()
    store.put("f", BODY)
    part = part_path(tmp_path / "out.csv")
    part.write_bytes(b"x" * (len(BODY) + 1))
    part, _, _ = _fetch(store, tmp_path, Links("f"))
    assert part.read_bytes() == BODY


def test_a_part_is_resumed_only_for_the_same_file_and_promotion_is_a_rename(tmp_path):
    final = tmp_path / "out.csv"
    part = part_path(final)
    assert part.name == ".out.csv.part" and part.parent == tmp_path
    part.write_bytes(b"abc")
    write_sidecar(part, {"jobId": "j1", "sha256": "s"})
    assert matching_part(part, {"sha256": "s", "jobId": "j1"})
    assert not matching_part(part, {"jobId": "j2", "sha256": "s"})  # another file's bytes: cleared
    assert not part.exists()
    part.write_bytes(b"done")
    write_sidecar(part, {"jobId": "j2"})
    promote(part, final)
    assert final.read_bytes() == b"done"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]
    discard(part)  # nothing left to discard: no error
