"""The server itself: webhooks, listening addresses, a port in use, CORS, proxies, stopping."""

from __future__ import annotations

import socket

import aiohttp
from aiohttp import web

from plantpulse.core.auth.const import Role
from plantpulse.core.http.server import lan_addresses, reachable_urls
from plantpulse.core.http.webhook import async_generate_webhook_id, async_register_webhook
from plantpulse.core.hub import Hub
from tests.conftest import HubFactory
from tests.core.http.conftest import Api, free_port, http_yaml
from tests.core.http.test_websocket import assert_closed, connect


async def test_webhooks_need_no_token_and_unknown_ids_reveal_nothing(api: Api) -> None:
    calls: list[tuple[str, dict]] = []

    async def handler(hub: Hub, webhook_id: str, request: web.Request) -> web.Response:
        calls.append((webhook_id, await request.json()))
        return web.json_response({"ok": True})

    webhook_id = async_generate_webhook_id()
    assert len(webhook_id) == 64
    remove = async_register_webhook(api.hub, webhook_id, handler, name="door alarm")
    assert await api.request("POST", f"/api/webhook/{webhook_id}", json={"door": "open"}) == (
        200, {"ok": True})
    assert calls == [(webhook_id, {"door": "open"})]

    unknown = await api.request("POST", f"/api/webhook/{async_generate_webhook_id()}", json={})
    wrong_method = await api.request("GET", f"/api/webhook/{webhook_id}")
    assert unknown == wrong_method == (200, None)
    assert len(calls) == 1

    remove()
    assert await api.request("POST", f"/api/webhook/{webhook_id}", json={}) == (200, None)
    assert len(calls) == 1


async def test_listens_on_each_configured_host(hub_factory: HubFactory) -> None:
    port = free_port()
    hosts = ["127.0.0.1"]
    if socket.has_ipv6:
        try:
            with socket.socket(socket.AF_INET6) as probe:
                probe.bind(("::1", 0))
            hosts.append("::1")
        except OSError:
            pass
    host_lines = "".join(f"    - '{host}'\n" for host in hosts)
    hub = await hub_factory(f"http:\n  server_port: {port}\n  server_host:\n{host_lines}")
    assert "http" in hub.components
    async with aiohttp.ClientSession() as session:
        for host in hosts:
            shown = f"[{host}]" if ":" in host else host
            async with session.get(f"http://{shown}:{port}/auth/onboarding") as response:
                assert response.status == 200


async def test_a_port_in_use_is_reported_and_the_rest_of_the_hub_runs(
    hub_factory: HubFactory,
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        hub = await hub_factory(http_yaml(port, "logger:\n"))
    assert "http" not in hub.components and "logger" in hub.components
    note = next(n for n in hub.notifications.all() if n.notification_id == "setup_failed_http")
    assert f"cannot listen on 127.0.0.1 port {port}" in note.message
    assert "server_port" in note.message


async def test_cors_for_configured_origins_only(api_factory) -> None:
    api = await api_factory(
        http_extra="  cors_allowed_origins:\n    - http://dashboard.local:3000\n")
    token = await api.token_for(Role.VIEWER)
    preflight = {"Origin": "http://dashboard.local:3000",
                 "Access-Control-Request-Method": "GET"}
    async with api.session.options(api.url("/api/states"), headers=preflight) as response:
        assert response.status == 200
        assert response.headers["Access-Control-Allow-Origin"] == "http://dashboard.local:3000"
        assert "Authorization" in response.headers["Access-Control-Allow-Headers"]
    allowed = {"Origin": "http://dashboard.local:3000", "Authorization": f"Bearer {token}"}
    async with api.session.get(api.url("/api/states"), headers=allowed) as response:
        assert response.headers["Access-Control-Allow-Origin"] == "http://dashboard.local:3000"
    async with api.session.get(api.url("/api/states"), headers={
            "Origin": "http://evil.example", "Authorization": f"Bearer {token}"}) as response:
        assert "Access-Control-Allow-Origin" not in response.headers


async def test_forwarded_address_is_used_only_behind_a_trusted_proxy(api_factory) -> None:
    api = await api_factory(http_extra=(
        "  use_x_forwarded_for: true\n  trusted_proxies: 127.0.0.1\n"
        "  login_attempts_threshold: 1\n"))
    await api.add_user("li", Role.VIEWER)
    token = (await api.login("li"))["access_token"]
    forwarded = {"X-Forwarded-For": "203.0.113.7"}
    status, _body = await api.request("POST", "/auth/token", headers=forwarded, data={
        "grant_type": "password", "username": "li", "password": "wrong"})
    assert status == 400
    # The client behind the proxy is banned; the proxy's other clients are not.
    assert (await api.request("GET", "/api/", token, headers=forwarded))[0] == 429
    assert (await api.request("GET", "/api/", token,
                              headers={"X-Forwarded-For": "203.0.113.8"}))[0] == 200
    assert (await api.request("GET", "/api/", token))[0] == 200


async def test_stopping_the_hub_closes_websockets_and_the_port(api: Api) -> None:
    client = await connect(api, await api.token_for(Role.VIEWER))
    await client.command("subscribe_entities")
    await client.receive()
    await api.hub.async_stop()
    await assert_closed(client.ws)
    port = int(api.base.rsplit(":", 1)[1])
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0


def test_onboarding_urls_list_lan_addresses_only_when_on_all_interfaces() -> None:
    lan = ["192.168.1.20", "10.0.0.5"]
    assert reachable_urls([None], 8130, lan) == [
        "http://127.0.0.1:8130", "http://192.168.1.20:8130", "http://10.0.0.5:8130"]
    assert reachable_urls(["0.0.0.0", "::"], 8130, lan) == reachable_urls([None], 8130, lan)
    assert reachable_urls(["127.0.0.1", "::1"], 8131, lan) == [
        "http://127.0.0.1:8131", "http://[::1]:8131"]
    found = lan_addresses()
    assert all(not address.startswith("127.") for address in found)


async def test_a_storage_failure_is_reported_and_nothing_half_made_remains(api: Api) -> None:
    admin = await api.token_for(Role.ADMIN)
    auth_file = api.hub.config_dir / ".storage" / "auth"
    auth_file.unlink()
    (auth_file / "blocked").mkdir(parents=True)
    status, body = await api.request("POST", "/api/auth/users", admin, json={
        "username": "late", "password": "long enough", "role": "viewer"})
    assert status == 503
    assert body["message"].startswith(f"Cannot write {auth_file}")
    assert api.hub.data["auth"].data.user_by_username("late") is None
    status, body = await api.request("POST", "/api/auth/tokens", admin,
                                     json={"client_name": "scada"})
    assert status == 503
    assert not [token for token in api.hub.data["auth"].data.refresh_tokens.values()
                if token.client_name == "scada"]


async def test_a_change_that_cannot_be_saved_changes_nothing(api: Api) -> None:
    auth = api.hub.data["auth"]
    admin = await api.token_for(Role.ADMIN)
    await api.add_user("li", Role.OPERATOR)
    li = await api.login("li")
    li_user = auth.data.user_by_username("li")
    li_session = auth.session_by_secret(li["refresh_token"])
    auth_file = api.hub.config_dir / ".storage" / "auth"
    auth_file.unlink()
    (auth_file / "blocked").mkdir(parents=True)

    for change in ({"role": "viewer"}, {"is_active": False}, {"password": "new password 1"}):
        status, _body = await api.request("PATCH", f"/api/auth/users/{li_user.id}", admin,
                                          json=change)
        assert status == 503, change
    assert (li_user.role, li_user.is_active) == (Role.OPERATOR, True)
    assert (await api.request("DELETE", f"/api/auth/users/{li_user.id}", admin))[0] == 503
    assert (await api.request("DELETE", f"/api/auth/tokens/{li_session.id}", admin))[0] == 503
    # Li is still there, an operator, logged in, with the old password.
    assert (await api.request("POST", "/api/events/shift_change", li["access_token"]))[0] == 200

    client = await connect(api, admin)
    answer = await client.command("auth/delete_refresh_token", refresh_token_id=li_session.id)
    assert answer["success"] is False and answer["error"]["code"] == "hub_error"
    assert answer["error"]["message"].startswith(f"Cannot write {auth_file}")
    # That was the only answer to the command.
    assert (await client.command("ping"))["type"] == "pong"
    assert (await api.request("GET", "/api/", li["access_token"]))[0] == 200

    (auth_file / "blocked").rmdir()
    auth_file.rmdir()
    await api.login("li")
