"""Fixtures for the radio tests: espeak-ng (required) and the local TTS doubles."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from tests.radio.doubles import TtsDouble, serve


@pytest.fixture(scope="session")
def espeak() -> str:
    """espeak-ng must be installed (make test installs the Debian package)."""
    path = shutil.which("espeak-ng")
    if path is None:
        pytest.fail("espeak-ng is not installed: apt-get install -y espeak-ng")
    return path


@pytest.fixture
def tts_double() -> Iterator[TtsDouble]:
    with serve(TtsDouble()) as double:
        yield double
