"""Digests exactly once: concurrent senders, a crash after the server accepted, a dropped connection."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from collections import Counter

import time_machine
from click.testing import CliRunner
from sqlalchemy import select

from radpulse.cli.main import cli
from radpulse.db.engine import open_database
from radpulse.db.models import SentDigest, Subscriber
from radpulse.digest import add_subscriber, send_digests
from radpulse.status import status_report
from tests.digest.digest_helpers import MONDAY, seed, settings_for

ADDRESSES = [f"reader{i}@example.org" for i in range(6)]


def _statuses(db) -> dict[str, tuple[str, str | None]]:  # type: ignore[no-untyped-def]
    with db.engine.connect() as conn:
        rows = conn.execute(select(Subscriber.email, SentDigest.status, SentDigest.message_id)
                            .join(SentDigest, SentDigest.subscriber_id == Subscriber.id))
        return {r.email: (r.status, r.message_id) for r in rows}


def test_two_senders_at_once_send_each_subscriber_one_message(db, db_url, smtp_server, tmp_path):
    """Two `radpulse digest send` processes against the real SMTP server on loopback."""
    inbox, port = smtp_server(meet=2)  # no message goes through before both senders have one in hand
    seed(db)
    for address in ADDRESSES:
        add_subscriber(db, address)
    config = _config_file(db_url, port)
    senders = [subprocess.Popen([sys.executable, "-m", "radpulse", "--config", str(config), "--database-url", db_url,
                                 "digest", "send", "--week", "2026-11-18", "--json"], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": os.getcwd()})
               for _ in range(2)]
    outputs = [s.communicate(timeout=300) for s in senders]
    assert [s.returncode for s in senders] == [0, 0], [err[-3000:] for _, err in outputs]
    assert len(inbox.senders) >= 2  # they overlapped
    results = [json.loads(out) for out, _ in outputs]
    received = Counter(rcpts[0] for _, rcpts in inbox.envelopes)
    assert received == Counter(ADDRESSES)  # one message per subscriber
    assert sorted(m["To"] for m in inbox.messages) == ADDRESSES  # as parsed from what the server got
    assert all(m["Subject"] and m["List-Unsubscribe"].startswith("<https://radpulse.example.org/") for m in inbox.messages)
    sent = [r["sent"] for r in results]
    assert sorted(sent[0] + sent[1]) == ADDRESSES and not set(sent[0]) & set(sent[1])
    assert all(sent)  # both sent part of them
    ids = {m["To"]: m["Message-ID"] for m in inbox.messages}
    assert _statuses(db) == {a: ("sent", ids[a]) for a in ADDRESSES}


CRASH = """
import os, sys, datetime as dt
sys.path.insert(0, {root!r})
from radpulse.db.engine import open_database
from radpulse.digest import delivery
from tests.digest.digest_helpers import settings_for
delivery.record_sent = lambda *a, **k: os._exit(17)   # the process dies after the server's 250
delivery.send_digests(open_database({url!r}), settings_for({port}), start=dt.date(2026, 11, 16))
"""


def test_a_crash_after_the_server_accepted_never_leads_to_a_second_send(db, db_url, smtp_server):
    inbox, port = smtp_server()
    seed(db)
    for address in ADDRESSES[:3]:
        add_subscriber(db, address)
    root = os.getcwd()
    crashed = subprocess.run([sys.executable, "-c", CRASH.format(root=root, url=db_url, port=port)],
                             capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": root})
    assert crashed.returncode == 17, crashed.stderr
    assert [rcpts for _, rcpts in inbox.envelopes] == [[ADDRESSES[0]]]
    first_id = inbox.messages[0]["Message-ID"]
    assert _statuses(db) == {ADDRESSES[0]: ("sending", first_id)}  # the Message-ID was written before DATA
    settings = settings_for(port)
    soon = send_digests(db, settings, start=MONDAY)  # the lease still runs: left alone
    assert soon.sent == ADDRESSES[1:3] and ADDRESSES[0] in soon.skipped
    with time_machine.travel(dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=11)):
        later = send_digests(db, settings, start=MONDAY)  # lease expired: 'unknown', never resent
        assert later.sent == [] and later.unknown == [ADDRESSES[0]]
        report = status_report(db, settings)
    assert Counter(rcpts[0] for _, rcpts in inbox.envelopes) == Counter(ADDRESSES[:3])
    assert _statuses(db)[ADDRESSES[0]] == ("unknown", first_id)
    [attention] = [d for d in report["deliveries"] if d["status"] == "unknown"]
    assert (attention["email"], attention["message_id"], attention["period"]) == (ADDRESSES[0], first_id, "2026-11-16")
    # the operator resends it with one command
    cfg = _config_file(db_url, port)
    result = CliRunner().invoke(cli, ["--config", str(cfg), "--database-url", db_url, "digest", "resend",
                                      ADDRESSES[0], "--week", "2026-11-18"])
    assert result.exit_code == 0, result.output
    assert Counter(rcpts[0] for _, rcpts in inbox.envelopes)[ADDRESSES[0]] == 2
    assert _statuses(db)[ADDRESSES[0]][0] == "sent"


def _config_file(db_url: str, port: int):  # type: ignore[no-untyped-def]
    import pathlib
    import tempfile

    path = pathlib.Path(tempfile.mkdtemp()) / "radpulse.toml"
    path.write_text(f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nfrom_address = "digest@radpulse.example"\n'
                    '[digest]\nbase_url = "https://radpulse.example.org"\n')
    return path


def test_a_server_that_accepts_then_drops_leaves_the_outcome_unknown_and_nothing_resent(db, smtp_server):
    inbox, port = smtp_server(["drop"])
    seed(db)
    for address in ADDRESSES[:2]:
        add_subscriber(db, address)
    settings = settings_for(port)
    first = send_digests(db, settings, start=MONDAY)
    assert first.unknown == [ADDRESSES[0]] and first.sent == [ADDRESSES[1]]  # reconnected for the next one
    again = send_digests(db, settings, start=MONDAY)
    assert again.sent == [] and again.failed == {} and ADDRESSES[0] in again.unknown
    assert Counter(rcpts[0] for _, rcpts in inbox.envelopes) == Counter(ADDRESSES[:2])
    assert _statuses(db)[ADDRESSES[0]][0] == "unknown"


def test_transient_refusals_are_retried_with_backoff_then_recorded_failed(db, smtp_server, sleeps):
    inbox, port = smtp_server(["451", "451", "ok", "451", "451", "451", "451"])
    seed(db)
    for address in ADDRESSES[:2]:
        add_subscriber(db, address)
    settings = settings_for(port)
    result = send_digests(db, settings, start=MONDAY)
    assert result.sent == [ADDRESSES[0]]  # third attempt
    assert "451" in result.failed[ADDRESSES[1]] and "after 4 attempts" in result.failed[ADDRESSES[1]]
    assert sleeps[:2] == [5.0, 10.0] and sleeps[2:] == [5.0, 10.0, 20.0]
    assert _statuses(db)[ADDRESSES[1]][0] == "failed"
    report = status_report(db, settings)
    assert {(d["email"], d["status"]) for d in report["deliveries"]} == {(ADDRESSES[1], "failed")}
    rerun = send_digests(db, settings, start=MONDAY)  # a failure is tried again by the next run
    assert rerun.sent == [ADDRESSES[1]]
    assert Counter(m["To"] for m in inbox.messages) == Counter(ADDRESSES[:2])


def test_a_permanent_refusal_is_not_retried(db, smtp_server, sleeps):
    inbox, port = smtp_server(["550"])
    seed(db)
    add_subscriber(db, ADDRESSES[0])
    result = send_digests(db, settings_for(port), start=MONDAY)
    assert "550" in result.failed[ADDRESSES[0]] and sleeps == [] and inbox.messages == []
