"""Login throttling and the audit log file."""

from __future__ import annotations

import json
import time
from pathlib import Path

from plantpulse.core.auth import throttle as throttle_module
from plantpulse.core.auth.audit import Actor, AuditLog, audit_entry
from plantpulse.core.auth.const import (
    DEFAULT_IP_BAN_MINUTES,
    DEFAULT_LOGIN_ATTEMPTS_THRESHOLD,
    DEFAULT_LOGIN_ATTEMPTS_WINDOW_MINUTES,
)
from plantpulse.core.auth.throttle import LoginThrottle


def test_defaults_are_five_failures_in_five_minutes_for_thirty_minutes() -> None:
    assert DEFAULT_LOGIN_ATTEMPTS_THRESHOLD == 5
    assert DEFAULT_LOGIN_ATTEMPTS_WINDOW_MINUTES == 5
    assert DEFAULT_IP_BAN_MINUTES == 30


def test_threshold_failures_ban_the_address_then_the_ban_ends() -> None:
    throttle = LoginThrottle(threshold=3, window=60, ban=0.3)
    assert not throttle.record_failure("10.0.0.9")
    assert not throttle.record_failure("10.0.0.9")
    assert throttle.retry_after("10.0.0.9") == 0
    assert throttle.record_failure("10.0.0.9")
    assert 0 < throttle.retry_after("10.0.0.9") <= 0.3
    assert throttle.retry_after("10.0.0.10") == 0
    time.sleep(0.35)
    assert throttle.retry_after("10.0.0.9") == 0


def test_failures_older_than_the_window_do_not_count() -> None:
    throttle = LoginThrottle(threshold=2, window=0.2, ban=60)
    assert not throttle.record_failure("10.0.0.9")
    time.sleep(0.25)
    assert not throttle.record_failure("10.0.0.9")
    assert throttle.record_failure("10.0.0.9")


def test_a_successful_login_forgets_earlier_failures() -> None:
    throttle = LoginThrottle(threshold=2, window=60, ban=60)
    throttle.record_failure("10.0.0.9")
    throttle.record_success("10.0.0.9")
    assert not throttle.record_failure("10.0.0.9")


def test_ended_bans_are_forgotten_when_others_are_banned() -> None:
    throttle = LoginThrottle(threshold=1, window=60, ban=0.1)
    for index in range(50):
        assert throttle.record_failure(f"10.0.1.{index}")
    time.sleep(0.15)
    # None of the 50 comes back, yet their bans do not stay in memory.
    assert throttle.record_failure("10.0.2.1")
    assert list(throttle.banned()) == ["10.0.2.1"]
    assert 0 < throttle.banned()["10.0.2.1"] <= 0.1


def test_banned_addresses_are_capped_lifting_the_oldest_bans(monkeypatch) -> None:
    monkeypatch.setattr(throttle_module, "MAX_TRACKED", 3)
    throttle = LoginThrottle(threshold=1, window=60, ban=60)
    for index in range(5):
        throttle.record_failure(f"10.0.0.{index}")
    assert list(throttle.banned()) == ["10.0.0.2", "10.0.0.3", "10.0.0.4"]
    assert throttle.retry_after("10.0.0.0") == 0
    assert throttle.retry_after("10.0.0.4") > 59


def test_audit_log_appends_json_lines_and_reads_the_latest(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / ".storage" / "audit.log")
    assert log.read_latest(10) == []
    actor = Actor("alice", "u1", "192.168.1.20")
    for index in range(3000):
        log.append(audit_entry(actor, "user_create", f"user{index}", {"role": "viewer"}))
    lines = log.path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 3000
    first = json.loads(lines[0])
    assert set(first) == {"time", "user", "user_id", "action", "target", "ip", "details"}
    assert (first["user"], first["ip"], first["target"]) == ("alice", "192.168.1.20", "user0")
    latest = log.read_latest(5)
    assert [entry["target"] for entry in latest] == [f"user{i}" for i in range(2995, 3000)]
    assert len(log.read_latest(5000)) == 3000
    assert oct(log.path.stat().st_mode & 0o777) == "0o600"
