"""Aliyun SMS through notify: the signature against Aliyun's published example, and messages
sent through the `aliyunsms://` apprise plugin to a local double of the SendSms API.

Aliyun's servers cannot be reached from here, so `AliyunSmsDouble` stands in for them; it
checks requests with a signature written separately from the plugin's, and the plugin's
signing is pinned to the example in Aliyun's SMS documentation.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest

from plantpulse.core.clock import ManualClock
from plantpulse.integrations.notify.aliyun_sms import sign
from tests.conftest import HubFactory
from tests.integrations.notify.servers import AliyunSmsDouble
from tests.integrations.notify.test_notify import log_of

KEY_ID = "LTAI5tPlantPulseTest"
SECRET = "s3cret+/Key"

# Aliyun's SMS documentation signs this request with the secret "testSecret".
DOC_REQUEST = {
    "AccessKeyId": "testId", "Action": "SendSms", "Format": "XML", "OutId": "123",
    "PhoneNumbers": "15300000001", "RegionId": "cn-hangzhou", "SignName": "阿里云短信测试专用",
    "SignatureMethod": "HMAC-SHA1", "SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466",
    "SignatureVersion": "1.0", "TemplateCode": "SMS_71390007",
    "TemplateParam": '{"customer":"test"}', "Timestamp": "2017-07-12T02:42:19Z",
    "Version": "2017-05-25",
}


def test_signature_matches_aliyuns_documented_example() -> None:
    assert sign("GET", DOC_REQUEST, "testSecret") == "zJDF+Lrzhj/ThnlvIToysFRq6t4="


@pytest.fixture
async def aliyun() -> AsyncIterator[AliyunSmsDouble]:
    double = AliyunSmsDouble(KEY_ID, SECRET)
    await double.start()
    yield double
    await double.stop()


def sms_url(double: AliyunSmsDouble, *numbers: str, secret: str = SECRET) -> str:
    return (f"aliyunsms://{KEY_ID}:{quote(secret, safe='')}@{quote('宁夏示范工厂')}/SMS_123456789/"
            f"{'/'.join(numbers)}?endpoint={quote(double.endpoint, safe='')}&param=content")


async def test_an_sms_reaches_the_sendsms_api_signed(
    hub_factory: HubFactory, aliyun: AliyunSmsDouble
) -> None:
    hub = await hub_factory(
        "notify:\n  - name: ops_sms\n"
        f"    urls: ['{sms_url(aliyun, '13800000000', '13900000000')}']\n")
    await hub.services.async_call("notify", "ops_sms", {
        "title": "一号循环泵", "message": "电流 98.5 A，超过 90 A"})
    await hub.async_block_till_done()

    assert aliyun.refused == []
    [request] = aliyun.accepted
    assert request["PhoneNumbers"] == "13800000000,13900000000"
    assert request["SignName"] == "宁夏示范工厂"
    assert request["TemplateCode"] == "SMS_123456789"
    text = json.loads(request["TemplateParam"])["content"]
    assert "一号循环泵" in text and "电流 98.5 A，超过 90 A" in text
    [delivery] = await log_of(hub, target="ops_sms")
    assert delivery["status"] == "sent"


async def test_a_wrong_secret_is_refused_retried_and_raises_a_warning_alarm(
    hub_factory: HubFactory, aliyun: AliyunSmsDouble
) -> None:
    clock = ManualClock(datetime.now(UTC).replace(microsecond=0))
    hub = await hub_factory(
        "alarm:\n"
        "notify:\n  - name: ops_sms\n"
        f"    urls: ['{sms_url(aliyun, '13800000000', secret='wrong')}']\n"
        "    retry_delays: [10, 60]\n",
        clock=clock,
    )
    await hub.services.async_call("notify", "ops_sms", {"message": "空压机停机"})
    await hub.async_block_till_done()
    for seconds in (10, 60):
        await clock.advance(seconds)
        await hub.async_block_till_done()
    assert aliyun.accepted == []
    assert aliyun.refused == ["SignatureDoesNotMatch"] * 3
    alarm = hub.states.get("alarm.notify_failed_ops_sms")
    assert alarm is not None and alarm.attributes["severity"] == "warning"
    assert clock.now() - datetime.now(UTC) < timedelta(minutes=15)  # the double checks times
