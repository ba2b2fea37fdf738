"""Fixtures of the digest tests: a real SMTP server (aiosmtpd) on loopback."""

from __future__ import annotations

import pytest
from aiosmtpd.controller import Controller
from digest_helpers import Inbox, free_port


@pytest.fixture
def smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield inbox, controller.port
    finally:
        controller.stop()
