"""`plantpulse user add` and `token create`: piped passwords, the token on the last line, and
refusal while a hub holds the config dir."""

from __future__ import annotations

import io
import json
import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from plantpulse.core.auth.cli import token_create, user_add
from plantpulse.core.auth.const import Role, TokenType
from plantpulse.core.auth.models import AuthData
from plantpulse.core.auth.passwords import verify_password
from plantpulse.core.storage import ConfigDirLock
from tests.conftest import write_config


def stored_auth(config_dir: Path) -> AuthData:
    document = json.loads((config_dir / ".storage" / "auth").read_text(encoding="utf-8"))
    assert document["key"] == "auth" and document["version"] == 1
    return AuthData.from_stored(document["data"])


def audit_lines(config_dir: Path) -> list[dict]:
    path = config_dir / ".storage" / "audit.log"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    return write_config(tmp_path / "site", "logger:\n")


def add(config_dir: Path, name: str, role: str, stdin_text: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = user_add(config_dir, name, role, io.StringIO(stdin_text), out, err)
    return code, out.getvalue(), err.getvalue()


def test_user_add_reads_a_piped_password_and_hashes_it(config_dir: Path) -> None:
    code, out, err = add(config_dir, "owner", "admin", "s3cret-pass\n")
    assert (code, err) == (0, "")
    assert "owner" in out
    user = stored_auth(config_dir).user_by_username("owner")
    assert user.role is Role.ADMIN and user.is_owner
    assert verify_password("s3cret-pass", user.password_hash)
    assert "s3cret-pass" not in (config_dir / ".storage" / "auth").read_text()
    entry = audit_lines(config_dir)[-1]
    assert (entry["user"], entry["action"], entry["target"]) == ("cli", "user_create", "owner")


def test_user_add_second_line_must_repeat_the_password(config_dir: Path) -> None:
    assert add(config_dir, "owner", "admin", "s3cret-pass\ns3cret-pass\n")[0] == 0
    code, _out, err = add(config_dir, "second", "viewer", "s3cret-pass\nsomething-else\n")
    assert code == 1
    assert "does not repeat the password" in err
    assert stored_auth(config_dir).user_by_username("second") is None


def test_user_add_refuses_short_empty_duplicate_and_non_admin_first(config_dir: Path) -> None:
    code, _out, err = add(config_dir, "viewer1", "viewer", "long-enough\n")
    assert code == 1 and "first user must be an admin" in err
    assert add(config_dir, "owner", "admin", "short\n")[2].startswith(
        "error: The password is too short: use at least 8 characters")
    assert "No password on standard input" in add(config_dir, "owner", "admin", "")[2]
    assert add(config_dir, "owner", "admin", "long-enough\n")[0] == 0
    code, _out, err = add(config_dir, "OWNER", "operator", "long-enough\n")
    assert code == 1 and "already exists" in err
    assert "unknown role" in add(config_dir, "x", "superuser", "long-enough\n")[2]


def test_user_add_needs_a_config_dir(tmp_path: Path) -> None:
    code, _out, err = add(tmp_path / "missing", "owner", "admin", "long-enough\n")
    assert code == 1
    assert "no configuration.yaml" in err and "plantpulse run --config" in err
    assert not (tmp_path / "missing").exists()


def test_token_create_prints_the_token_alone_on_the_last_line(config_dir: Path) -> None:
    add(config_dir, "owner", "admin", "long-enough\n")
    out, err = io.StringIO(), io.StringIO()
    assert token_create(config_dir, "owner", "scada", 30, out, err) == 0, err.getvalue()
    lines = out.getvalue().splitlines()
    token_value = lines[-1]
    assert " " not in token_value and len(lines) >= 2
    data = stored_auth(config_dir)
    token, user, problem = data.check_access_token(token_value, time.time())
    assert problem is None and user.username == "owner"
    assert token.token_type is TokenType.LONG_LIVED and token.client_name == "scada"
    assert token_value not in (config_dir / ".storage" / "auth").read_text()
    entry = audit_lines(config_dir)[-1]
    assert (entry["user"], entry["action"], entry["target"]) == ("cli", "token_create",
                                                                 "owner/scada")
    again = io.StringIO()
    assert token_create(config_dir, "owner", "scada", 30, io.StringIO(), again) == 1
    assert "already has a long-lived token named 'scada'" in again.getvalue()
    unknown = io.StringIO()
    assert token_create(config_dir, "nobody", "x", 30, io.StringIO(), unknown) == 1
    assert "No user named 'nobody'" in unknown.getvalue()


def test_both_refuse_while_a_hub_holds_the_config_dir(config_dir: Path) -> None:
    add(config_dir, "owner", "admin", "long-enough\n")
    before = (config_dir / ".storage" / "auth").read_bytes()
    with ConfigDirLock(config_dir):
        code, _out, err = add(config_dir, "late", "viewer", "long-enough\n")
        assert code == 1
        assert "hub is running" in err and "stop the hub" in err and "POST /api/auth/" in err
        out, err_stream = io.StringIO(), io.StringIO()
        assert token_create(config_dir, "owner", "scada", 30, out, err_stream) == 1
        message = err_stream.getvalue()
        assert "auth/long_lived_access_token" in message and "stop the hub" in message
        assert out.getvalue() == ""
    assert (config_dir / ".storage" / "auth").read_bytes() == before


def test_the_plantpulse_command_end_to_end(config_dir: Path) -> None:
    def plantpulse(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "plantpulse", *args], input=stdin,
                              capture_output=True, text=True, timeout=120, check=False)

    added = plantpulse("user", "add", "owner", "--admin", "--config", str(config_dir),
                       stdin="long-enough\nlong-enough\n")
    assert added.returncode == 0, added.stderr
    created = plantpulse("token", "create", "--user", "owner", "--name", "grafana",
                         "--config", str(config_dir))
    assert created.returncode == 0, created.stderr
    assert created.stdout.splitlines()[-1].count(".") == 2


def _run_on_terminal(args: list[str], answers: list[str]) -> tuple[int, str]:
    """Run `python -m plantpulse ARGS` on a pseudo-terminal, answering each prompt in turn."""
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(sys.executable, [sys.executable, "-m", "plantpulse", *args])
    output = b""
    pending = list(answers)
    try:
        while True:
            ready, _w, _x = select.select([fd], [], [], 30)
            if not ready:
                os.kill(pid, signal.SIGKILL)
                break
            try:
                chunk = os.read(fd, 1024)
            except OSError:
                break
            if not chunk:
                break
            output += chunk
            if pending and chunk.endswith(b": "):
                os.write(fd, pending.pop(0).encode() + b"\n")
    finally:
        _pid, status = os.waitpid(pid, 0)
        os.close(fd)
    return os.waitstatus_to_exitcode(status), output.decode(errors="replace")


def test_user_add_on_a_terminal_asks_twice_without_echo(config_dir: Path) -> None:
    code, output = _run_on_terminal(
        ["user", "add", "owner", "--admin", "--config", str(config_dir)],
        ["typed secret", "typed secret"],
    )
    assert code == 0, output
    assert "Password:" in output and "Repeat the password:" in output
    assert "typed secret" not in output
    assert verify_password("typed secret",
                           stored_auth(config_dir).user_by_username("owner").password_hash)
    code, output = _run_on_terminal(
        ["user", "add", "second", "--config", str(config_dir)], ["one password", "another one"])
    assert code == 1 and "The passwords do not match" in output
