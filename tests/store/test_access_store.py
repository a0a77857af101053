"""The portal's store of access links: hashes only, revocation and expiry at once, sessions with
idle and absolute lifetimes."""

from __future__ import annotations

import datetime as dt
import sqlite3
import stat

import pytest

from ptce_pipeline.store import access

T0 = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)
IDLE = dt.timedelta(hours=2)
ABSOLUTE = dt.timedelta(hours=12)


def make(tmp_path, pole="PTCE-001", expires=None):
    return access.create_access(
        tmp_path, pole_id=pole, label="Mme X", expires_at=expires, by="ana", now=T0
    )


def test_only_the_hash_of_a_token_is_stored(tmp_path):
    record, token = make(tmp_path)
    assert len(token) >= 43  # 256 bits, URL-safe
    raw = (tmp_path / access.STORE_NAME).read_bytes()
    for name in ("access.sqlite-wal",):
        if (tmp_path / name).exists():
            raw += (tmp_path / name).read_bytes()
    assert token.encode() not in raw
    assert access.token_hash(token).encode() in raw
    assert stat.S_IMODE((tmp_path / access.STORE_NAME).stat().st_mode) == 0o600
    assert record.pole_id == "PTCE-001" and record.created_by == "ana"


def test_two_links_never_share_a_token(tmp_path):
    tokens = {make(tmp_path)[1] for _ in range(50)}
    assert len(tokens) == 50


def test_a_link_opens_a_session_for_its_pole_only(tmp_path):
    _, token = make(tmp_path)
    opened = access.open_link(tmp_path, token, now=T0)
    assert opened is not None
    session, cookie = opened
    assert session.identity.pole_id == "PTCE-001" and not session.identity.national
    again = access.session_for(tmp_path, cookie, now=T0, idle=IDLE, absolute=ABSOLUTE)
    assert again is not None and again.identity == session.identity
    assert access.list_access(tmp_path)[0].last_used_at is not None


@pytest.mark.parametrize("bad", ["", "x", "A" * 43, "A" * 5000])
def test_an_unknown_token_opens_nothing(tmp_path, bad):
    make(tmp_path)
    assert access.open_link(tmp_path, bad, now=T0) is None
    assert access.session_for(tmp_path, bad, now=T0, idle=IDLE, absolute=ABSOLUTE) is None


def test_revocation_stops_the_link_and_its_open_sessions_at_once(tmp_path):
    record, token = make(tmp_path)
    _, other_token = make(tmp_path, pole="PTCE-002")
    _, cookie = access.open_link(tmp_path, token, now=T0)
    _, other_cookie = access.open_link(tmp_path, other_token, now=T0)
    done = access.revoke(tmp_path, [record.access_id], by="bea", now=T0)
    assert [a.access_id for a in done] == [record.access_id]
    assert access.session_for(tmp_path, cookie, now=T0, idle=IDLE, absolute=ABSOLUTE) is None
    assert access.open_link(tmp_path, token, now=T0) is None
    # the other pole's session goes on
    assert access.session_for(tmp_path, other_cookie, now=T0, idle=IDLE, absolute=ABSOLUTE)
    # revoking again changes nothing and is not audited twice
    assert access.revoke(tmp_path, [record.access_id], by="bea", now=T0) == []
    actions = [(a[1], a[2], a[3]) for a in access.audit_log(tmp_path)]
    assert actions == [
        ("ana", "creation", 1),
        ("ana", "creation", 2),
        ("bea", "revocation", 1),
    ]


def test_an_expired_link_opens_nothing_and_ends_its_sessions(tmp_path):
    _, token = make(tmp_path, expires=T0 + dt.timedelta(days=1))
    _, cookie = access.open_link(tmp_path, token, now=T0)
    later = T0 + dt.timedelta(days=1, seconds=1)
    assert access.open_link(tmp_path, token, now=later) is None
    assert (
        access.session_for(tmp_path, cookie, now=later, idle=IDLE * 100, absolute=ABSOLUTE * 100)
        is None
    )
    assert access.list_access(tmp_path)[0].state(later) == "expiree"


def test_sessions_end_after_idle_and_absolute_lifetimes_and_on_logout(tmp_path):
    _, token = make(tmp_path)
    _, cookie = access.open_link(tmp_path, token, now=T0)
    # used every hour: idle never reached, absolute lifetime ends it
    t = T0
    while t - T0 < ABSOLUTE - dt.timedelta(hours=1):
        t += dt.timedelta(hours=1)
        assert access.session_for(tmp_path, cookie, now=t, idle=IDLE, absolute=ABSOLUTE)
    t = T0 + ABSOLUTE + dt.timedelta(minutes=1)
    assert access.session_for(tmp_path, cookie, now=t, idle=IDLE, absolute=ABSOLUTE) is None
    # idle
    _, cookie = access.open_link(tmp_path, token, now=T0)
    late = T0 + IDLE + dt.timedelta(seconds=1)
    assert access.session_for(tmp_path, cookie, now=late, idle=IDLE, absolute=ABSOLUTE) is None
    # logout
    _, cookie = access.open_link(tmp_path, token, now=T0)
    access.end_session(tmp_path, cookie, now=T0)
    assert access.session_for(tmp_path, cookie, now=T0, idle=IDLE, absolute=ABSOLUTE) is None


def test_the_store_is_in_wal_mode_and_a_reader_does_not_block_a_writer(tmp_path):
    make(tmp_path)
    con = sqlite3.connect(tmp_path / access.STORE_NAME)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    con.execute("BEGIN")
    con.execute("SELECT count(*) FROM access").fetchone()
    make(tmp_path, pole="PTCE-002")  # writes while a read transaction is open
    con.close()
    assert len(access.list_access(tmp_path)) == 2


def test_failed_attempts_are_counted_per_client(tmp_path):
    for _ in range(3):
        access.note_failure(tmp_path, "10.0.0.1", now=T0)
    access.note_failure(tmp_path, "10.0.0.2", now=T0)
    window = dt.timedelta(minutes=15)
    assert access.recent_failures(tmp_path, "10.0.0.1", now=T0, window=window) == 3
    assert access.recent_failures(tmp_path, "10.0.0.2", now=T0, window=window) == 1
    later = T0 + dt.timedelta(minutes=16)
    assert access.recent_failures(tmp_path, "10.0.0.1", now=later, window=window) == 0
