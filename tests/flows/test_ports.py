"""Ports: a higher floor's service reached by typed key from a flow's context."""

from __future__ import annotations

import pytest

from flows.ports import PortKey, Ports


class Clock:
    def now(self) -> str:
        return "07:00"


CLOCK: PortKey[Clock] = PortKey("clock")


def test_a_port_is_found_by_its_key() -> None:
    ports = Ports()
    clock = Clock()
    ports.set(CLOCK, clock)
    assert ports.get(CLOCK) is clock and CLOCK in ports


def test_keys_with_the_same_name_do_not_collide() -> None:
    ports = Ports()
    ports.set(CLOCK, Clock())
    other: PortKey[Clock] = PortKey("clock")
    assert other not in ports


def test_a_missing_port_says_which_one() -> None:
    with pytest.raises(LookupError, match="clock"):
        Ports().get(CLOCK)
