"""Fixtures of the operations tests: SMTP servers on loopback that accept, refuse, stall or drop."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from aiosmtpd.controller import Controller

from tests.digest.digest_helpers import Inbox, free_port


class ScriptedInbox(Inbox):
    """An inbox whose answers to DATA follow a script: 'ok', '451', '550' or 'drop' (keep the
    message, then close the connection without answering); 'ok' once the script is used up.
    With `meet`, DATA waits (up to a minute) until that many sessions have begun a message (MAIL
    FROM): senders in separate processes, each with a message of its own in hand, then overlap."""

    def __init__(self, script: list[str] | None = None, delay: float = 0.0, meet: int = 0) -> None:
        super().__init__()
        self.script = list(script or [])
        self.delay = delay
        self.meet = meet
        self.senders: set[tuple[str, int]] = set()  # sessions (client address) that began a message
        self._met: asyncio.Event | None = None

    async def handle_MAIL(self, server, session, envelope, address, mail_options):  # type: ignore[no-untyped-def]  # noqa: N802
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        self.senders.add(session.peer)
        if len(self.senders) >= self.meet:
            self._event().set()
        return "250 OK"

    def _event(self) -> asyncio.Event:
        if self._met is None:
            self._met = asyncio.Event()
        return self._met

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]  # noqa: N802
        if len(self.senders) < self.meet:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._event().wait(), 60)
        if self.delay:
            await asyncio.sleep(self.delay)
        step = self.script.pop(0) if self.script else "ok"
        if step in ("451", "550"):
            return f"{step} not now" if step == "451" else "550 no such mailbox"
        await super().handle_DATA(server, session, envelope)
        if step == "drop":
            server.transport.close()
            return "250 OK"  # written to a closed connection: the client never reads it
        return "250 OK"


@pytest.fixture
def smtp_server():
    """Start a scripted loopback SMTP server: smtp_server(script, delay, meet) -> (inbox, port)."""
    started: list[Controller] = []

    def start(script: list[str] | None = None, delay: float = 0.0, meet: int = 0) -> tuple[ScriptedInbox, int]:
        inbox = ScriptedInbox(script, delay, meet)
        controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
        controller.start()
        started.append(controller)
        return inbox, controller.port

    yield start
    for controller in started:
        controller.stop()
