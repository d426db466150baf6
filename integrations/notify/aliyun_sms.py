"""Aliyun SMS (阿里云短信服务) as an apprise plugin: `aliyunsms://` URLs (apprise schemes are
letters and digits only, so no hyphen).

Written against Aliyun's documented HTTP API: action `SendSms` (version 2017-05-25) on
`dysmsapi.aliyuncs.com`, RPC-style requests signed with HMAC-SHA1 (`SignatureVersion` 1.0)
over the canonicalised parameters. SMS in China go out only through an approved signature
(签名) and template (模板); the text is passed as a template variable:

    aliyunsms://AccessKeyId:AccessKeySecret@SignName/TemplateCode/13800000000/13900000000

Options: `?region=cn-hangzhou` (RegionId), `?param=message` (the template variable that takes
the text, default `message`: a template such as `告警：${message}`), `?endpoint=URL` (another
API endpoint, e.g. a regional one; tests point it at a local server). A title is put in front
of the text. Aliyun's answer `{"Code": "OK"}` is success; any other code fails the send with
Aliyun's code and message in the log.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar, Final
from urllib.parse import quote

import requests
from apprise.common import NotifyFormat, NotifyType
from apprise.exception import AppriseImproperlyConfigured
from apprise.manager_plugins import NotificationManager
from apprise.plugins.base import NotifyBase

SCHEME: Final = "aliyunsms"
DEFAULT_ENDPOINT: Final = "https://dysmsapi.aliyuncs.com/"
DEFAULT_REGION: Final = "cn-hangzhou"
DEFAULT_PARAM: Final = "message"
API_VERSION: Final = "2017-05-25"
HTTP_METHOD: Final = "POST"
# Aliyun takes up to 1,000 numbers per request; a long SMS up to about 500 characters.
MAX_NUMBERS: Final = 1_000
MAX_TEXT: Final = 500
_PHONE_RE: Final = re.compile(r"^\+?\d{5,20}$")
_PHONE_SEPARATORS_RE: Final = re.compile(r"[\s()-]")
_CODE_RE: Final = re.compile(r"^[A-Za-z0-9_]+$")


def percent_encode(text: str) -> str:
    """RFC 3986 encoding as Aliyun's signature needs it: only A-Z a-z 0-9 - _ . ~ stay,
    spaces become %20 (not +), UTF-8 bytes become %XY."""
    return quote(text, safe="~")


def string_to_sign(method: str, parameters: Mapping[str, str]) -> str:
    """`METHOD&%2F&<encoded canonical query>`, the query sorted by parameter name."""
    canonical = "&".join(
        f"{percent_encode(name)}={percent_encode(value)}"
        for name, value in sorted(parameters.items())
    )
    return f"{method}&{percent_encode('/')}&{percent_encode(canonical)}"


def sign(method: str, parameters: Mapping[str, str], access_key_secret: str) -> str:
    """The request's `Signature`: Base64 of HMAC-SHA1 keyed with `<secret>&`."""
    digest = hmac.new(
        f"{access_key_secret}&".encode(), string_to_sign(method, parameters).encode(),
        hashlib.sha1,
    ).digest()
    return base64.b64encode(digest).decode()


def send_sms_parameters(
    access_key_id: str, region: str, phone_numbers: list[str], sign_name: str,
    template_code: str, template_param: Mapping[str, str],
    *, now: datetime | None = None, nonce: str | None = None,
) -> dict[str, str]:
    """The public and SendSms parameters of one request, without the signature."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return {
        "AccessKeyId": access_key_id,
        "Action": "SendSms",
        "Format": "JSON",
        "PhoneNumbers": ",".join(phone_numbers),
        "RegionId": region,
        "SignName": sign_name,
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": nonce or uuid.uuid4().hex,
        "SignatureVersion": "1.0",
        "TemplateCode": template_code,
        "TemplateParam": json.dumps(template_param, ensure_ascii=False, separators=(",", ":")),
        "Timestamp": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "Version": API_VERSION,
    }


class NotifyAliyunSms(NotifyBase):  # type: ignore[misc]
    """Sends the text to phone numbers through Aliyun SMS."""

    service_name = "Aliyun SMS"
    service_url = "https://www.aliyun.com/product/sms"
    secure_protocol = SCHEME
    setup_url = "https://help.aliyun.com/zh/sms/developer-reference/api-dysmsapi-2017-05-25-sendsms"
    request_rate_per_sec = 0
    title_maxlen = 0
    body_maxlen = MAX_TEXT
    notify_format = NotifyFormat.TEXT

    templates = ("{schema}://{user}:{password}@{sign_name}/{template_code}/{targets}",)
    template_tokens: ClassVar[dict[str, Any]] = dict(
        NotifyBase.template_tokens,
        user={"name": "AccessKey ID", "type": "string", "required": True},
        password={"name": "AccessKey Secret", "type": "string", "private": True,
                  "required": True},
        sign_name={"name": "Signature name (签名)", "type": "string", "required": True},
        template_code={"name": "Template code", "type": "string", "required": True},
        targets={"name": "Phone numbers", "type": "list:string", "required": True},
    )
    template_args: ClassVar[dict[str, Any]] = dict(
        NotifyBase.template_args,
        region={"name": "Region", "type": "string", "default": DEFAULT_REGION},
        param={"name": "Template variable", "type": "string", "default": DEFAULT_PARAM},
        endpoint={"name": "API endpoint", "type": "string", "default": DEFAULT_ENDPOINT},
        to={"alias_of": "targets"},
    )

    def __init__(
        self,
        sign_name: str,
        template_code: str,
        targets: list[str] | None = None,
        region: str | None = None,
        param: str | None = None,
        endpoint: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not self.user or not self.password:
            raise AppriseImproperlyConfigured(
                "aliyunsms:// needs AccessKeyId:AccessKeySecret@ before the signature name"
            )
        self.sign_name = (sign_name or "").strip()
        if not self.sign_name:
            raise AppriseImproperlyConfigured("aliyunsms:// needs the signature name (签名)")
        self.template_code = (template_code or "").strip()
        if not _CODE_RE.match(self.template_code):
            raise AppriseImproperlyConfigured(
                f"aliyunsms:// needs a template code such as SMS_123456789, not "
                f"{template_code!r}"
            )
        self.targets = []
        for target in targets or []:
            number = _PHONE_SEPARATORS_RE.sub("", target)
            if not _PHONE_RE.match(number):
                raise AppriseImproperlyConfigured(f"invalid phone number {target!r}")
            self.targets.append(number)
        if not self.targets:
            raise AppriseImproperlyConfigured("aliyunsms:// needs at least one phone number")
        self.region = region or DEFAULT_REGION
        self.param = param or DEFAULT_PARAM
        self.endpoint = endpoint or DEFAULT_ENDPOINT

    def send(
        self, body: str, title: str = "", notify_type: NotifyType = NotifyType.INFO,
        **kwargs: Any,
    ) -> bool:
        """Send `body` (the title is already in front of it) to every number."""
        ok = True
        for offset in range(0, len(self.targets), MAX_NUMBERS):
            numbers = self.targets[offset:offset + MAX_NUMBERS]
            ok = self._send_batch(body, numbers) and ok
        return ok

    def _send_batch(self, body: str, numbers: list[str]) -> bool:
        parameters = send_sms_parameters(
            self.user, self.region, numbers, self.sign_name, self.template_code,
            {self.param: body},
        )
        parameters["Signature"] = sign(HTTP_METHOD, parameters, self.password)
        self.throttle()
        try:
            response = requests.post(
                self.endpoint, data=parameters,
                headers={"User-Agent": self.app_id, "Accept": "application/json"},
                verify=self.verify_certificate, timeout=self.request_timeout,
                allow_redirects=self.redirects,
            )
        except requests.RequestException as err:
            self.logger.warning("Aliyun SMS cannot be reached at %s: %s", self.endpoint, err)
            return False
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        code = answer.get("Code") if isinstance(answer, dict) else None
        if response.status_code == requests.codes.ok and code == "OK":
            self.logger.info("Sent Aliyun SMS to %s numbers", len(numbers))
            return True
        self.logger.warning(
            "Aliyun SMS refused the message (HTTP %s): %s %s", response.status_code,
            code or "no code", (answer.get("Message") if isinstance(answer, dict) else None)
            or response.text[:200],
        )
        return False

    @property
    def url_identifier(self) -> tuple[str, ...]:
        """What makes this account and template unique (targets excluded)."""
        return (self.secure_protocol, self.user, self.password, self.sign_name,
                self.template_code)

    def url(self, privacy: bool = False, *args: Any, **kwargs: Any) -> str:
        """This target's URL (the secret masked when `privacy`)."""
        params = self.url_parameters(*args, privacy=privacy, **kwargs)
        params["region"] = self.region
        if self.param != DEFAULT_PARAM:
            params["param"] = self.param
        if self.endpoint != DEFAULT_ENDPOINT:
            params["endpoint"] = self.endpoint
        return "{schema}://{user}:{secret}@{sign}/{code}/{targets}?{params}".format(
            schema=SCHEME,
            user=self.quote(self.user, safe=""),
            secret=self.pprint(self.password, privacy, safe=""),
            sign=self.quote(self.sign_name, safe=""),
            code=self.quote(self.template_code, safe=""),
            targets="/".join(self.quote(number, safe="") for number in self.targets),
            params=self.urlencode(params),
        )

    def __len__(self) -> int:
        return max(1, -(-len(self.targets) // MAX_NUMBERS))

    @staticmethod
    def parse_url(url: str) -> dict[str, Any] | None:
        """Arguments for `__init__` from an `aliyunsms://` URL."""
        results = NotifyBase.parse_url(url, verify_host=False)
        if not results:
            return results
        parts = NotifyAliyunSms.split_path(results["fullpath"])
        results["sign_name"] = NotifyAliyunSms.unquote(results["host"])
        results["template_code"] = parts[0] if parts else ""
        results["targets"] = parts[1:]
        query = results["qsd"]
        if query.get("to"):
            results["targets"] += NotifyAliyunSms.parse_phone_no(query["to"])
        for name in ("region", "param", "endpoint"):
            if query.get(name):
                results[name] = NotifyAliyunSms.unquote(query[name])
        return results


def register() -> None:
    """Make apprise know `aliyunsms://` (once per process; apprise's registry is global)."""
    manager = NotificationManager()
    if SCHEME not in manager:
        manager.add(NotifyAliyunSms)
