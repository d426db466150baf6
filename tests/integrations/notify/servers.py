"""Real servers on 127.0.0.1 that notifications go to: an SMTP server (aiosmtpd), a JSON web
hook receiver (aiohttp), and a stand-in for Aliyun's SMS API.

They run on the test's event loop. The hub sends from executor threads, so a send that
blocked the loop would never reach them: the tests would hang instead of passing.
"""

from __future__ import annotations

import asyncio
import base64
import email
import email.policy
import hashlib
import hmac
import json
import re
import urllib.parse
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

from aiohttp import web
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from tests.conftest import free_port


class _WebServer(ABC):
    """An aiohttp app on 127.0.0.1:`port`, started and stopped by the test."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self._runner: web.AppRunner | None = None

    @abstractmethod
    def routes(self, app: web.Application) -> None:
        """Add the server's routes to `app`."""

    async def start(self) -> None:
        app = web.Application()
        self.routes(app)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


class JsonReceiver(_WebServer):
    """Takes what apprise's `json://` posts: `{version, title, message, attachments, type}`.

    `status` is what it answers; `delay` makes it a slow server.
    """

    def __init__(self, port: int | None = None) -> None:
        super().__init__(port)
        self.received: list[dict[str, Any]] = []
        self.paths: list[str] = []
        self.status = 200
        self.delay = 0.0

    def url(self, path: str = "hook") -> str:
        """The apprise URL of this receiver."""
        return f"json://127.0.0.1:{self.port}/{path}"

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/{path:.*}", self._handle)

    async def _handle(self, request: web.Request) -> web.Response:
        if self.delay:
            await asyncio.sleep(self.delay)
        self.received.append(await request.json())
        self.paths.append(request.path)
        return web.Response(status=self.status)

    def to(self, path: str) -> list[dict[str, Any]]:
        """What was posted to `/path`."""
        return [body for body, got in zip(self.received, self.paths, strict=True)
                if got == f"/{path}"]


@dataclass
class SmtpServer:
    """A plain-text SMTP server (no TLS) that accepts one login and keeps every message."""

    username: str = "alerts"
    password: str = "s3cret-pass"
    port: int = field(default_factory=free_port)
    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[Envelope] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    _server: asyncio.base_events.Server | None = None

    def url(self, to: str = "ops@plant.example") -> str:
        """An apprise URL that logs in and sends over plain SMTP to this server."""
        return (f"mailto://{self.username}:{self.password}@127.0.0.1:{self.port}"
                f"?from=hub@plant.example&to={to}&mode=insecure")

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: SMTP(self, hostname="smtp.plant.example", auth_require_tls=False,
                         authenticator=self._authenticate),
            "127.0.0.1", self.port,
        )

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def _authenticate(self, _server: SMTP, _session: Session, _envelope: Envelope,
                      _mechanism: str, data: Any) -> AuthResult:
        ok = (isinstance(data, LoginPassword) and data.login.decode() == self.username
              and data.password.decode() == self.password)
        if ok:
            self.logins.append(data.login.decode())
        return AuthResult(success=ok)

    async def handle_DATA(self, _server: SMTP, _session: Session, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        content = envelope.original_content or envelope.content
        assert isinstance(content, bytes)
        self.messages.append(
            email.message_from_bytes(content, policy=email.policy.default)  # type: ignore[arg-type]
        )
        return "250 Message accepted"


def body_text(message: EmailMessage) -> str:
    """The plain-text body of a received e-mail."""
    part = message.get_body(preferencelist=("plain", "html"))
    assert part is not None
    return str(part.get_content())


def attachment_names(message: EmailMessage) -> list[str]:
    """The file names of a received e-mail's attachments."""
    return [part.get_filename() or "" for part in message.iter_attachments()]


# Aliyun's API, as documented -----------------------------------------------------------------

_TIMESTAMP_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
_REQUIRED = ("AccessKeyId", "Action", "Format", "PhoneNumbers", "RegionId", "SignName",
             "SignatureMethod", "SignatureNonce", "SignatureVersion", "TemplateCode",
             "TemplateParam", "Timestamp", "Version", "Signature")


def aliyun_signature(method: str, parameters: dict[str, str], secret: str) -> str:
    """Aliyun's RPC signature, written out from its documentation (independently of the
    plugin): sort by name, encode names and values per RFC 3986 (space as %20, `~` kept),
    join with = and &, then HMAC-SHA1 over `METHOD&%2F&<encoded query>` keyed `<secret>&`."""

    def encode(text: str) -> str:
        return urllib.parse.quote_plus(text).replace("+", "%20").replace("*", "%2A") \
            .replace("%7E", "~")

    query = "&".join(f"{encode(k)}={encode(v)}" for k, v in sorted(parameters.items()))
    text = f"{method}&{encode('/')}&{encode(query)}"
    digest = hmac.new(f"{secret}&".encode(), text.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


class AliyunSmsDouble(_WebServer):
    """A test double of Aliyun's SMS API (dysmsapi.aliyuncs.com cannot be reached from here).

    It checks each SendSms request as Aliyun documents it: every public parameter present,
    the timestamp in UTC and recent, the nonce never used before, the signature right for
    the account's secret. A good request is answered `{"Code": "OK"}`; a bad one with
    Aliyun's error codes. `answer` replaces the success answer (to act out refusals).
    """

    def __init__(self, access_key_id: str, secret: str) -> None:
        super().__init__()
        self.access_key_id = access_key_id
        self.secret = secret
        self.accepted: list[dict[str, str]] = []
        self.refused: list[str] = []
        self.answer: dict[str, str] | None = None
        self._nonces: set[str] = set()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/", self._handle)

    async def _handle(self, request: web.Request) -> web.Response:
        parameters = dict(request.query) if request.method == "GET" else {
            key: str(value) for key, value in (await request.post()).items()
        }
        problem = self._check(request.method, parameters)
        if problem is not None:
            self.refused.append(problem)
            return web.json_response({"Code": problem, "Message": problem,
                                      "RequestId": "test"}, status=400)
        self.accepted.append(parameters)
        return web.json_response(self.answer or {
            "Code": "OK", "Message": "OK", "RequestId": "F655A8D5-B967-440B-8683-DAD6FF8DE990",
            "BizId": "900619746936498440^0",
        })

    def _check(self, method: str, parameters: dict[str, str]) -> str | None:
        missing = [name for name in _REQUIRED if not parameters.get(name)]
        if missing:
            return f"MissingParameter:{','.join(missing)}"
        fixed = {"Action": "SendSms", "Format": "JSON", "SignatureMethod": "HMAC-SHA1",
                 "SignatureVersion": "1.0", "Version": "2017-05-25"}
        for name, value in fixed.items():
            if parameters[name] != value:
                return f"InvalidParameter:{name}"
        if parameters["AccessKeyId"] != self.access_key_id:
            return "InvalidAccessKeyId.NotFound"
        stamp = parameters["Timestamp"]
        if not _TIMESTAMP_RE.match(stamp):
            return "InvalidTimeStamp.Format"
        sent = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        if abs(datetime.now(UTC) - sent) > timedelta(minutes=15):
            return "InvalidTimeStamp.Expired"
        if parameters["SignatureNonce"] in self._nonces:
            return "SignatureNonceUsed"
        signature = parameters.pop("Signature")
        if not hmac.compare_digest(signature, aliyun_signature(method, parameters, self.secret)):
            return "SignatureDoesNotMatch"
        self._nonces.add(parameters["SignatureNonce"])
        try:
            json.loads(parameters["TemplateParam"])
        except ValueError:
            return "isv.INVALID_JSON_PARAM"
        return None
