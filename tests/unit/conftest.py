"""Unit tests run without a network: any attempt to open a connection fails the test."""

from __future__ import annotations

import socket

import pytest


class NetworkUsedError(AssertionError):
    pass


def _refuse(*_args: object, **_kwargs: object) -> None:
    raise NetworkUsedError("unit tests must not open sockets")


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket.socket, "connect", _refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", _refuse)
    monkeypatch.setattr(socket, "create_connection", _refuse)
    monkeypatch.setattr(socket, "getaddrinfo", _refuse)
