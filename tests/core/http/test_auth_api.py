"""Login, refresh, revoke, tokens, roles, bans, onboarding and the audit log over HTTP."""

from __future__ import annotations

import asyncio
import io
import re
import time
from datetime import timedelta
from pathlib import Path

import pytest

from plantpulse.core.auth.audit import Actor
from plantpulse.core.auth.cli import user_add
from plantpulse.core.auth.const import Role
from plantpulse.core.auth.models import sign_access_token
from plantpulse.core.http import CONFIG_SCHEMA
from tests.conftest import HubFactory, free_port, write_config
from tests.core.http.conftest import PASSWORD, Api, http_yaml

FAST_BAN = "  login_attempts_threshold: 3\n  ip_ban_minutes: 0.02\n"


async def test_login_refresh_and_revoke(api: Api) -> None:
    await api.add_user("li", Role.OPERATOR, "李工")
    tokens = await api.login("li")
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 1800
    assert tokens["access_token"].count(".") == 2 and tokens["refresh_token"]
    status, me = await api.request("GET", "/api/auth/current_user", tokens["access_token"])
    assert status == 200
    assert (me["username"], me["name"], me["role"], me["is_admin"]) == ("li", "李工",
                                                                        "operator", False)

    # JSON works as well as a form, and the refresh grant gives a new access token only.
    status, refreshed = await api.request("POST", "/auth/token", json={
        "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"],
        "client_id": "http://test/",
    })
    assert status == 200 and set(refreshed) == {"access_token", "token_type", "expires_in"}
    assert (await api.request("GET", "/api/", refreshed["access_token"]))[0] == 200

    status, _body = await api.request("POST", "/auth/revoke",
                                      data={"token": tokens["refresh_token"]})
    assert status == 200
    for access_token in (tokens["access_token"], refreshed["access_token"]):
        assert await api.request("GET", "/api/", access_token) == (
            401, {"message": "The access token was revoked: log in again."})
    status, body = await api.request("POST", "/auth/token", data={
        "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    assert status == 400 and body["error"] == "invalid_grant"


async def test_login_errors(api: Api) -> None:
    await api.add_user("li", Role.VIEWER)
    status, body = await api.request("POST", "/auth/token", data={
        "grant_type": "password", "username": "li", "password": "wrong password"})
    assert status == 400
    assert body == {"error": "invalid_grant", "error_description": "Wrong user name or password.",
                    "message": "Wrong user name or password."}
    status, body = await api.request("POST", "/auth/token", data={
        "grant_type": "password", "username": "nobody", "password": PASSWORD})
    assert status == 400 and body["error"] == "invalid_grant"
    status, body = await api.request("POST", "/auth/token", data={"grant_type": "magic"})
    assert status == 400 and body["error"] == "unsupported_grant_type"
    status, body = await api.request("POST", "/auth/token", data={"grant_type": "password"})
    assert status == 400 and body["error"] == "invalid_request"


async def test_expired_and_forged_tokens(api: Api) -> None:
    await api.add_user("li", Role.VIEWER)
    tokens = await api.login("li")
    auth = api.hub.data["auth"]
    session = next(iter(auth.data.refresh_tokens.values()))
    expired = sign_access_token(session, int(time.time()) - 1)
    status, body = await api.request("GET", "/api/", expired)
    assert status == 401 and "expired" in body["message"]
    token_id, expiry, signature = tokens["access_token"].split(".")
    forged = f"{token_id}.{int(expiry) + 3600}.{signature}"
    assert await api.request("GET", "/api/", forged) == (401, {"message": "Invalid access token."})
    async with api.session.get(api.url("/api/"), headers={"Authorization": "Basic abc"}) as resp:
        assert resp.status == 401 and resp.headers["WWW-Authenticate"] == "Bearer"


async def test_failed_logins_ban_the_address(api_factory) -> None:
    api = await api_factory(http_extra=FAST_BAN)
    await api.add_user("li", Role.VIEWER)
    good = (await api.login("li"))["access_token"]
    for _ in range(3):
        status, _body = await api.request("POST", "/auth/token", data={
            "grant_type": "password", "username": "li", "password": "guess"})
        assert status == 400
    async with api.session.post(api.url("/auth/token"), data={
            "grant_type": "password", "username": "li", "password": PASSWORD}) as response:
        assert response.status == 429
        assert 1 <= int(response.headers["Retry-After"]) <= 2
        assert "try again in 1 minute" in (await response.json())["message"]
    # A banned address is refused even with a valid token; static files still load.
    assert (await api.request("GET", "/api/", good))[0] == 429
    async with api.session.get(api.url("/")) as response:
        assert response.status == 200
    note = next(n for n in api.hub.notifications.all() if n.notification_id == "http_ip_bans")
    assert note.message.startswith("1 address banned for 0.02 minutes after 3 failed logins")
    assert "127.0.0.1 until" in note.message and "Latest: 127.0.0.1 (failed login" in note.message
    await asyncio.sleep(1.3)
    assert (await api.request("GET", "/api/", good))[0] == 200


async def test_forged_tokens_count_but_expired_ones_do_not(api_factory) -> None:
    api = await api_factory(http_extra=FAST_BAN)
    await api.add_user("li", Role.VIEWER)
    tokens = await api.login("li")
    session = next(iter(api.hub.data["auth"].data.refresh_tokens.values()))
    expired = sign_access_token(session, int(time.time()) - 1)
    for _ in range(5):
        assert (await api.request("GET", "/api/", expired))[0] == 401
    assert (await api.request("GET", "/api/", tokens["access_token"]))[0] == 200
    for _ in range(3):
        assert (await api.request("GET", "/api/", "abc.123.forged"))[0] == 401
    assert (await api.request("GET", "/api/", tokens["access_token"]))[0] == 429


def test_ban_defaults_are_five_failures_in_five_minutes_for_thirty_minutes() -> None:
    config = CONFIG_SCHEMA(None)
    assert config["server_port"] == 8130
    assert "server_host" not in config
    assert config["login_attempts_threshold"] == 5
    assert config["login_attempts_window_minutes"] == 5
    assert config["ip_ban_minutes"] == 30
    assert config["ip_ban_enabled"] is True


async def test_roles(api: Api) -> None:
    viewer = await api.token_for(Role.VIEWER)
    operator = await api.token_for(Role.OPERATOR)
    admin = await api.token_for(Role.ADMIN)
    api.hub.services.async_register("pump", "start", lambda call: None)
    cases = [
        ("GET", "/api/states", {}, (200, 200, 200)),
        ("POST", "/api/services/pump/start", {}, (403, 200, 200)),
        ("POST", "/api/events/shift_change", {}, (403, 200, 200)),
        ("POST", "/api/states/sensor.x", {"state": "1"}, (403, 403, 201)),
        ("GET", "/api/auth/users", None, (403, 403, 200)),
        ("GET", "/api/audit", None, (403, 403, 200)),
    ]
    for method, path, body, expected in cases:
        got = tuple([
            (await api.request(method, path, token, json=body))[0]
            for token in (viewer, operator, admin)
        ])
        assert got == expected, (method, path, got)


async def test_admins_manage_users_and_the_audit_log_records_it(api: Api) -> None:
    await api.add_user("boss", Role.ADMIN)
    admin = (await api.login("boss"))["access_token"]
    status, user = await api.request("POST", "/api/auth/users", admin, json={
        "username": "zhang", "password": "long enough", "role": "operator", "name": "张工"})
    assert status == 201 and user["role"] == "operator" and "password_hash" not in user
    status, body = await api.request("POST", "/api/auth/users", admin, json={
        "username": "Zhang", "password": "long enough"})
    assert status == 400 and "already exists" in body["message"]
    status, body = await api.request("POST", "/api/auth/users", admin, json={
        "username": "wu", "password": "short"})
    assert status == 400 and "at least 8 characters" in body["message"]
    status, body = await api.request("POST", "/api/auth/users", admin, json={"username": "wu"})
    assert status == 400 and body["message"] == ("Invalid request: required key 'password' is "
                                                 "missing.")
    zhang = (await api.login("zhang", "long enough"))["access_token"]

    status, changed = await api.request("PATCH", f"/api/auth/users/{user['id']}", admin,
                                        json={"role": "viewer"})
    assert status == 200 and changed["role"] == "viewer"
    assert (await api.request("POST", "/api/events/x", zhang))[0] == 403
    boss_id = (await api.request("GET", "/api/auth/current_user", admin))[1]["id"]
    status, body = await api.request("PATCH", f"/api/auth/users/{boss_id}", admin,
                                     json={"role": "viewer"})
    assert status == 400 and "only active admin" in body["message"]
    status, body = await api.request("DELETE", f"/api/auth/users/{boss_id}", admin)
    assert status == 400 and "your own account" in body["message"]
    assert (await api.request("DELETE", f"/api/auth/users/{user['id']}", admin))[0] == 200
    assert (await api.request("GET", "/api/", zhang))[0] == 401
    assert (await api.request("DELETE", f"/api/auth/users/{user['id']}", admin))[0] == 404

    status, entries = await api.request("GET", "/api/audit", admin)
    assert status == 200
    assert [(e["user"], e["action"], e["target"]) for e in entries] == [
        ("test", "user_create", "boss"),
        ("boss", "user_create", "zhang"),
        ("boss", "user_update", "zhang"),
        ("boss", "user_delete", "zhang"),
    ]
    assert entries[1]["ip"] == "127.0.0.1" and entries[2]["details"] == {"role": "viewer"}
    lines = (api.hub.config_dir / ".storage" / "audit.log").read_text().splitlines()
    assert len(lines) == 4


async def test_changing_ones_password_keeps_this_session_and_ends_the_others(api: Api) -> None:
    await api.add_user("li", Role.VIEWER)
    here = await api.login("li")
    other_tab = await api.login("li")
    status, script = await api.request("POST", "/api/auth/tokens", here["access_token"],
                                       json={"client_name": "script"})
    assert status == 201
    status, body = await api.request("POST", "/api/auth/password", here["access_token"],
                                     json={"current_password": "wrong", "new_password": "x" * 9})
    assert status == 403
    status, body = await api.request("POST", "/api/auth/password", here["access_token"],
                                     json={"current_password": PASSWORD,
                                           "new_password": "new password 1"})
    assert (status, body) == (200, {"message": "Password changed."})
    await api.login("li", "new password 1")
    # The session that changed the password goes on, access and refresh token alike.
    assert (await api.request("GET", "/api/", here["access_token"]))[0] == 200
    status, _body = await api.request("POST", "/auth/token", data={
        "grant_type": "refresh_token", "refresh_token": here["refresh_token"]})
    assert status == 200
    # Other login sessions end; long-lived tokens stay.
    assert (await api.request("GET", "/api/", other_tab["access_token"]))[0] == 401
    assert (await api.request("GET", "/api/", script["access_token"]))[0] == 200


async def test_wrong_current_passwords_count_towards_a_ban(api_factory) -> None:
    api = await api_factory(http_extra=FAST_BAN)
    await api.add_user("li", Role.VIEWER)
    token = (await api.login("li"))["access_token"]
    for _ in range(3):
        status, _body = await api.request("POST", "/api/auth/password", token, json={
            "current_password": "a guess", "new_password": "new password 1"})
        assert status == 403
    assert (await api.request("GET", "/api/", token))[0] == 429


async def test_ended_sessions_refreshed_by_open_tabs_do_not_ban_the_address(api_factory) -> None:
    api = await api_factory(http_extra=FAST_BAN)
    await api.add_user("li", Role.VIEWER)
    logged_out = await api.login("li")
    assert (await api.request("POST", "/auth/revoke",
                              data={"token": logged_out["refresh_token"]}))[0] == 200
    expired = await api.login("li")
    auth = api.hub.data["auth"]
    session = auth.session_by_secret(expired["refresh_token"])
    session.last_used_at = session.created_at = time.time() - timedelta(days=91).total_seconds()
    current = (await api.login("li"))["access_token"]
    for secret in [logged_out["refresh_token"], expired["refresh_token"]] * 3:
        status, body = await api.request("POST", "/auth/token", data={
            "grant_type": "refresh_token", "refresh_token": secret})
        assert status == 400 and body["message"] == (
            "This session has ended (logged out, password changed or expired): log in again.")
    assert (await api.request("GET", "/api/", current))[0] == 200
    # A refresh token nobody ever had still counts.
    for _ in range(3):
        status, body = await api.request("POST", "/auth/token", data={
            "grant_type": "refresh_token", "refresh_token": "guessed"})
        assert status == 400 and body["message"].startswith("Invalid or expired refresh token")
    assert (await api.request("GET", "/api/", current))[0] == 429


async def test_bans_of_many_addresses_share_one_notification(api_factory) -> None:
    api = await api_factory(http_extra=(
        "  use_x_forwarded_for: true\n  trusted_proxies: 127.0.0.1\n"
        "  login_attempts_threshold: 1\n"))
    for address in ("203.0.113.7", "203.0.113.8", "203.0.113.9"):
        status, _body = await api.request("POST", "/auth/token", data={
            "grant_type": "password", "username": "nobody", "password": "guess"},
            headers={"X-Forwarded-For": address})
        assert status == 400
    notes = [n for n in api.hub.notifications.all() if "banned" in n.message]
    assert [n.notification_id for n in notes] == ["http_ip_bans"]
    message = notes[0].message
    assert message.startswith("3 addresses banned for 30 minutes after 1 failed logins")
    assert "203.0.113.9 until" in message and "203.0.113.7 until" in message
    assert "Latest: 203.0.113.9 (failed login as 'nobody')" in message


async def test_owner_cannot_be_demoted_or_disabled(api: Api) -> None:
    auth = api.hub.data["auth"]
    owner = await auth.async_create_user(Actor("test"), "chen", PASSWORD, Role.ADMIN,
                                         is_owner=True)
    admin = await api.token_for(Role.ADMIN)
    for change in ({"role": "operator"}, {"is_active": False}):
        status, body = await api.request("PATCH", f"/api/auth/users/{owner.id}", admin,
                                         json=change)
        assert status == 400, change
        assert body["message"] == "'chen' owns this hub and cannot be demoted or disabled"
    assert owner.role is Role.ADMIN and owner.is_active
    status, renamed = await api.request("PATCH", f"/api/auth/users/{owner.id}", admin,
                                        json={"name": "陈厂长"})
    assert status == 200 and renamed["name"] == "陈厂长"


async def test_long_lived_tokens_listed_and_revoked(api: Api) -> None:
    await api.add_user("boss", Role.ADMIN)
    await api.add_user("li", Role.VIEWER)
    admin = (await api.login("boss"))["access_token"]
    viewer = (await api.login("li"))["access_token"]
    status, created = await api.request("POST", "/api/auth/tokens", viewer,
                                        json={"client_name": "grafana", "lifespan": 365})
    assert status == 201 and created["type"] == "long_lived_access_token"
    long_lived = created["access_token"]
    assert (await api.request("GET", "/api/states", long_lived))[0] == 200
    status, body = await api.request("POST", "/api/auth/tokens", viewer,
                                     json={"client_name": "grafana"})
    assert status == 400 and "already has a long-lived token named 'grafana'" in body["message"]

    status, own = await api.request("GET", "/api/auth/tokens", viewer)
    assert {(t["type"], t["client_name"]) for t in own} == {
        ("normal", None), ("long_lived_access_token", "grafana")}
    assert [t["is_current"] for t in own if t["type"] == "normal"] == [True]
    status, every = await api.request("GET", "/api/auth/tokens", admin)
    assert {t["username"] for t in every} == {"boss", "li"}
    boss_session = next(t for t in every if t["username"] == "boss")
    assert (await api.request("DELETE", f"/api/auth/tokens/{boss_session['id']}", viewer))[0] \
        == 404
    assert (await api.request("DELETE", f"/api/auth/tokens/{created['id']}", admin))[0] == 200
    assert (await api.request("GET", "/api/states", long_lived))[0] == 401
    status, entries = await api.request("GET", "/api/audit", admin)
    assert [(e["user"], e["action"], e["target"]) for e in entries[-2:]] == [
        ("li", "token_create", "li/grafana"), ("boss", "token_revoke", "li/grafana")]


async def test_onboarding_only_with_the_printed_code_and_only_once(
    api_factory, capsys: pytest.CaptureFixture[str]
) -> None:
    api = await api_factory()
    printed = capsys.readouterr().out
    port = api.base.rsplit(":", 1)[1]
    match = re.search(rf"Open http://127\.0\.0\.1:{port}/onboarding\.html\?code=(\S+) to create "
                      "the owner account", printed)
    assert match, printed
    code = match.group(1)
    assert await api.request("GET", "/auth/onboarding") == (200, {"done": False})
    owner = {"username": "chen", "password": PASSWORD, "name": "陈厂长", "language": "zh-CN"}

    status, body = await api.request("POST", "/auth/onboarding", json={**owner, "code": "guess"})
    assert status == 403 and "Wrong onboarding code" in body["message"]
    status, body = await api.request("POST", "/auth/onboarding",
                                     json={**owner, "password": "short", "code": code})
    assert status == 400 and "too short" in body["message"]
    status, body = await api.request("POST", "/auth/onboarding", json={**owner, "code": code})
    assert status == 200 and body["token_type"] == "Bearer" and body["refresh_token"]
    assert body["user"]["is_owner"] and body["user"]["role"] == "admin"
    assert (await api.request("GET", "/api/auth/users", body["access_token"]))[0] == 200

    assert await api.request("GET", "/auth/onboarding") == (200, {"done": True})
    status, body = await api.request("POST", "/auth/onboarding",
                                     json={**owner, "username": "thief", "code": code})
    assert (status, body) == (403, {"message": "Onboarding is already done: log in instead."})
    assert api.hub.data["auth"].data.user_by_username("thief") is None


async def test_no_onboarding_url_once_a_user_exists(
    hub_factory: HubFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = write_config(tmp_path / "ready", "logger:\n")
    assert user_add(folder, "owner", "admin", io.StringIO(PASSWORD + "\n"), io.StringIO()) == 0
    hub = await hub_factory(http_yaml(free_port()), config_dir=folder)
    assert "onboarding" not in capsys.readouterr().out
    assert hub.data["http"].onboarding.done
    assert hub.data["http"].onboarding.code is None
