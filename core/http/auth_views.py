"""Login, refresh, revoke and onboarding under `/auth/`; users, tokens and audit under `/api/`."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any, Final

import voluptuous as vol
from aiohttp import web

from plantpulse.core.auth.const import LONG_LIVED_DEFAULT_DAYS, Role
from plantpulse.core.auth.manager import AuthManager
from plantpulse.core.auth.models import AuthError, RefreshToken, User
from plantpulse.core.auth.onboarding import OnboardingError
from plantpulse.core.config import validation as cv
from plantpulse.core.config.errors import humanize_invalid
from plantpulse.core.http.view import (
    ApiError,
    Open,
    access,
    actor_of,
    client_ip_of,
    http_of,
    json_response,
    message_response,
    read_json_object,
    refresh_token_of,
    user_of,
)

routes = web.RouteTableDef()

_NO_STORE: Final = {"Cache-Control": "no-store", "Pragma": "no-cache"}
MAX_AUDIT_ENTRIES: Final = 1000

_USER_CREATE_SCHEMA: Final = vol.Schema({
    vol.Required("username"): cv.string,
    vol.Required("password"): cv.string,
    vol.Optional("name"): vol.Any(None, cv.string),
    vol.Optional("role", default=Role.VIEWER): vol.Coerce(Role),
    vol.Optional("language"): vol.Any(None, cv.string),
})
_USER_UPDATE_SCHEMA: Final = vol.Schema({
    vol.Optional("name"): cv.string,
    vol.Optional("role"): vol.Coerce(Role),
    vol.Optional("is_active"): bool,
    vol.Optional("password"): cv.string,
    vol.Optional("language"): cv.string,
})
_PASSWORD_SCHEMA: Final = vol.Schema({
    vol.Required("current_password"): cv.string,
    vol.Required("new_password"): cv.string,
})
# Shared with the WebSocket command auth/long_lived_access_token.
TOKEN_CREATE_FIELDS: Final = {
    vol.Required("client_name"): vol.All(cv.string, vol.Strip, vol.Length(min=1, max=100)),
    vol.Optional("lifespan", default=LONG_LIVED_DEFAULT_DAYS): vol.All(
        vol.Coerce(int), vol.Range(min=1, max=36500)
    ),
}
_TOKEN_CREATE_SCHEMA: Final = vol.Schema(TOKEN_CREATE_FIELDS)
_ONBOARDING_SCHEMA: Final = vol.Schema({
    vol.Required("code"): cv.string,
    vol.Required("username"): cv.string,
    vol.Required("password"): cv.string,
    vol.Optional("name"): vol.Any(None, cv.string),
    vol.Optional("language"): vol.Any(None, cv.string),
    vol.Optional("client_id"): vol.Any(None, cv.string),
})


def validate(schema: vol.Schema, data: dict[str, Any]) -> dict[str, Any]:
    """Validate a request body, or ApiError with the problem in words."""
    try:
        return schema(data)
    except vol.Invalid as err:
        raise ApiError(f"Invalid request: {humanize_invalid(err)}.") from None


async def _read_fields(request: web.Request) -> dict[str, Any]:
    if request.content_type == "application/json":
        return await read_json_object(request)
    return dict(await request.post())


def _oauth_error(
    error: str, description: str, status: int = HTTPStatus.BAD_REQUEST
) -> web.Response:
    return json_response(
        {"error": error, "error_description": description, "message": description},
        status, _NO_STORE,
    )


def _token_answer(
    access_token: str, token: RefreshToken, secret: str | None = None
) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": token.access_token_seconds,
    }
    if secret is not None:
        answer["refresh_token"] = secret
    return answer


@routes.post("/auth/token")
@access(Open.PUBLIC)
async def post_token(request: web.Request) -> web.Response:
    """OAuth2-style token endpoint: `password` and `refresh_token` grants, form or JSON."""
    http = http_of(request)
    ip = client_ip_of(request)
    fields = await _read_fields(request)
    grant_type = fields.get("grant_type")
    client_id = fields.get("client_id") or None
    if grant_type == "password":
        username, password = fields.get("username"), fields.get("password")
        if not isinstance(username, str) or not isinstance(password, str) or not username:
            return _oauth_error("invalid_request", "username and password are required.")
        user = await http.auth.async_authenticate(username, password)
        if user is None:
            http.async_record_failure(ip, f"failed login as {username!r}")
            return _oauth_error("invalid_grant", "Wrong user name or password.")
        http.async_record_success(ip)
        token, secret = await http.auth.async_create_session(user, client_id, ip)
        return json_response(
            _token_answer(http.auth.async_create_access_token(token, ip), token, secret),
            headers=_NO_STORE,
        )
    if grant_type == "refresh_token":
        secret = fields.get("refresh_token")
        token = http.auth.session_by_secret(secret) if isinstance(secret, str) else None
        if token is None:
            if isinstance(secret, str) and http.auth.is_ended_session(secret):
                return _oauth_error("invalid_grant", "This session has ended (logged out, "
                                    "password changed or expired): log in again.")
            http.async_record_failure(ip, "unknown refresh token")
            return _oauth_error("invalid_grant", "Invalid or expired refresh token: log in again.")
        if client_id is not None and token.client_id is not None and client_id != token.client_id:
            return _oauth_error("invalid_request", "client_id does not match the refresh token.")
        user = http.auth.data.users.get(token.user_id)
        if user is None or not user.is_active:
            return _oauth_error("invalid_grant", "This user account is disabled.")
        return json_response(
            _token_answer(http.auth.async_create_access_token(token, ip), token),
            headers=_NO_STORE,
        )
    return _oauth_error("unsupported_grant_type",
                        "grant_type must be 'password' or 'refresh_token'.")


@routes.post("/auth/revoke")
@access(Open.PUBLIC)
async def post_revoke(request: web.Request) -> web.Response:
    """Log out: revoke a refresh token (`token=`). Answers 200 whether or not it existed."""
    http = http_of(request)
    secret = (await _read_fields(request)).get("token")
    token = http.auth.session_by_secret(secret) if isinstance(secret, str) else None
    if token is not None:
        await http.auth.async_revoke(None, token.id)
    return web.Response(status=HTTPStatus.OK)


@routes.get("/auth/onboarding")
@access(Open.PUBLIC)
async def get_onboarding(request: web.Request) -> web.Response:
    """`{"done": bool}`: whether the owner account exists."""
    return json_response({"done": http_of(request).onboarding.done})


@routes.post("/auth/onboarding")
@access(Open.PUBLIC)
async def post_onboarding(request: web.Request) -> web.Response:
    """Create the owner account with the printed one-time code; answers tokens as a login."""
    http = http_of(request)
    ip = client_ip_of(request)
    if http.onboarding.done:
        return message_response("Onboarding is already done: log in instead.",
                                HTTPStatus.FORBIDDEN)
    data = validate(_ONBOARDING_SCHEMA, await read_json_object(request))
    try:
        user = await http.onboarding.async_create_owner(
            data["code"], data["username"], data["password"], data.get("name"),
            data.get("language"), ip,
        )
    except OnboardingError as err:
        if not http.onboarding.done:
            http.async_record_failure(ip, "wrong onboarding code")
        return message_response(str(err), HTTPStatus.FORBIDDEN)
    except AuthError as err:
        raise ApiError(str(err)) from None
    token, secret = await http.auth.async_create_session(user, data.get("client_id"), ip)
    answer = _token_answer(http.auth.async_create_access_token(token, ip), token, secret)
    return json_response({**answer, "user": user.as_dict()}, headers=_NO_STORE)


# Users --------------------------------------------------------------------------------


@routes.get("/api/auth/current_user")
async def get_current_user(request: web.Request) -> web.Response:
    """The logged-in user."""
    return json_response(user_of(request).as_dict())


@routes.post("/api/auth/password")
async def post_password(request: web.Request) -> web.Response:
    """Change one's own password; the user's other login sessions are logged out."""
    http = http_of(request)
    user = user_of(request)
    data = validate(_PASSWORD_SCHEMA, await read_json_object(request))
    if await http.auth.async_authenticate(user.username, data["current_password"]) is None:
        http.async_record_failure(client_ip_of(request),
                                  f"wrong current password of {user.username!r}")
        raise ApiError("The current password is wrong.", HTTPStatus.FORBIDDEN, "unauthorized")
    try:
        await http.auth.async_update_user(actor_of(request), user.id,
                                          password=data["new_password"],
                                          keep_token_id=refresh_token_of(request).id)
    except AuthError as err:
        raise ApiError(str(err)) from None
    return message_response("Password changed.")


@routes.get("/api/auth/users")
@access(Role.ADMIN)
async def get_users(request: web.Request) -> web.Response:
    """Every user."""
    return json_response([user.as_dict() for user in http_of(request).auth.data.users.values()])


@routes.post("/api/auth/users")
@access(Role.ADMIN)
async def post_user(request: web.Request) -> web.Response:
    """Add a user: `{username, password, role, name?, language?}`."""
    data = validate(_USER_CREATE_SCHEMA, await read_json_object(request))
    try:
        user = await http_of(request).auth.async_create_user(
            actor_of(request), data["username"], data["password"], data["role"],
            data.get("name"), language=data.get("language"),
        )
    except AuthError as err:
        raise ApiError(str(err)) from None
    return json_response(user.as_dict(), HTTPStatus.CREATED)


def _known_user(request: web.Request) -> str:
    user_id = request.match_info["user_id"]
    if user_id not in http_of(request).auth.data.users:
        raise ApiError("User not found.", HTTPStatus.NOT_FOUND, "not_found")
    return user_id


@routes.patch("/api/auth/users/{user_id}")
@access(Role.ADMIN)
async def patch_user(request: web.Request) -> web.Response:
    """Change a user's name, role, active flag, password or language.

    A new password logs the user out everywhere, except the session making the request.
    """
    user_id = _known_user(request)
    data = validate(_USER_UPDATE_SCHEMA, await read_json_object(request))
    try:
        user = await http_of(request).auth.async_update_user(
            actor_of(request), user_id, **data, keep_token_id=refresh_token_of(request).id
        )
    except AuthError as err:
        raise ApiError(str(err)) from None
    return json_response(user.as_dict())


@routes.delete("/api/auth/users/{user_id}")
@access(Role.ADMIN)
async def delete_user(request: web.Request) -> web.Response:
    """Delete a user and their tokens."""
    user_id = _known_user(request)
    try:
        await http_of(request).auth.async_remove_user(actor_of(request), user_id)
    except AuthError as err:
        raise ApiError(str(err)) from None
    return message_response("User deleted.")


# Tokens -------------------------------------------------------------------------------


def token_list(auth: AuthManager, viewer: User, current_id: str | None) -> list[dict[str, Any]]:
    """Tokens `viewer` may see (all for an admin, else their own), marking the one in use."""
    users = auth.data.users
    return [
        {
            **token.as_dict(),
            "username": users[token.user_id].username if token.user_id in users else None,
            "is_current": token.id == current_id,
        }
        for token in auth.data.refresh_tokens.values()
        if viewer.is_admin or token.user_id == viewer.id
    ]


@routes.get("/api/auth/tokens")
async def get_tokens(request: web.Request) -> web.Response:
    """Sessions and long-lived tokens: an admin sees everyone's, others their own."""
    return json_response(token_list(http_of(request).auth, user_of(request),
                                    refresh_token_of(request).id))


@routes.post("/api/auth/tokens")
async def post_token_create(request: web.Request) -> web.Response:
    """Create a long-lived token for oneself: `{client_name, lifespan (days)}`."""
    data = validate(_TOKEN_CREATE_SCHEMA, await read_json_object(request))
    try:
        token, access_token = await http_of(request).auth.async_create_long_lived_token(
            actor_of(request), user_of(request), data["client_name"], data["lifespan"]
        )
    except AuthError as err:
        raise ApiError(str(err)) from None
    return json_response({**token.as_dict(), "access_token": access_token}, HTTPStatus.CREATED,
                         _NO_STORE)


@routes.delete("/api/auth/tokens/{token_id}")
async def delete_token(request: web.Request) -> web.Response:
    """Revoke a session or long-lived token (an admin any, others their own)."""
    auth = http_of(request).auth
    user = user_of(request)
    token = auth.data.refresh_tokens.get(request.match_info["token_id"])
    if token is None or not (user.is_admin or token.user_id == user.id):
        raise ApiError("Token not found.", HTTPStatus.NOT_FOUND, "not_found")
    await auth.async_revoke(actor_of(request), token.id)
    return message_response("Token revoked.")


@routes.get("/api/audit")
@access(Role.ADMIN)
async def get_audit(request: web.Request) -> web.Response:
    """The latest audit records (`?limit=`, default 100, at most 1000), oldest first."""
    try:
        limit = int(request.query.get("limit", "100"))
    except ValueError:
        raise ApiError("limit must be a whole number.") from None
    limit = max(1, min(limit, MAX_AUDIT_ENTRIES))
    return json_response(await http_of(request).auth.async_read_audit(limit))
