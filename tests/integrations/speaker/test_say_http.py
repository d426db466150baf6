"""IP speakers over HTTP: a real aiohttp receiver gets the WAV, or fetches it from the hub."""

from __future__ import annotations

import asyncio
import base64
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from plantpulse.core.clock import ManualClock
from plantpulse.core.http.webhook import async_generate_webhook_id
from plantpulse.integrations.speaker.const import Language
from tests.conftest import HubFactory, free_port
from tests.core.http.conftest import http_yaml
from tests.integrations.speaker.conftest import (
    SILENCE_RMS,
    ZH_PHRASE,
    Receiver,
    broadcaster,
    wav_stats,
)

pytestmark = pytest.mark.usefixtures("espeak")


def assert_spoken_wav(data: bytes, min_seconds: float = 3.0) -> None:
    stats = wav_stats(data)
    assert min_seconds < stats.duration < 6.0
    assert stats.rms > SILENCE_RMS


async def test_upload_raw_wav_with_basic_auth_and_headers(
    hub_factory: HubFactory, receiver_factory: Any
) -> None:
    async def speaker(request: web.Request, receiver: Receiver) -> web.Response:
        receiver.requests.append({
            "method": request.method, "path": request.path_qs, "headers": dict(request.headers),
            "body": await request.read(),
        })
        return web.Response(text="playing")

    receiver = await receiver_factory(speaker)
    hub = await hub_factory(f"""
        speaker:
          speakers:
            - name: gate
              type: http
              upload_url: "{receiver.url('/api/play')}?vol={{{{ volume }}}}"
              method: put
              username: admin
              password: s3cret
              headers:
                X-Api-Key: key-42
              volume: 80
    """)
    response = await hub.services.async_call(
        "speaker", "say", {"message": ZH_PHRASE}, return_response=True
    )
    assert response is not None
    (request,) = receiver.requests
    assert request["method"] == "PUT" and request["path"] == "/api/play?vol=80"
    headers = request["headers"]
    assert headers["Content-Type"] == "audio/wav"
    assert headers["X-Api-Key"] == "key-42"
    assert headers["Authorization"] == "Basic " + base64.b64encode(b"admin:s3cret").decode()
    assert_spoken_wav(request["body"])
    assert wav_stats(request["body"]).rms < wav_stats(
        (await broadcaster(hub).tts.async_speak(ZH_PHRASE, Language.ZH_CN)).path
    ).rms  # played at 80 %
    assert response["speakers"]["gate"] == {
        "ok": True, "url": receiver.url("/api/play"), "status": 200,
        "bytes": len(request["body"]),
    }


async def test_upload_as_multipart_form(hub_factory: HubFactory, receiver_factory: Any) -> None:
    async def speaker(request: web.Request, receiver: Receiver) -> web.Response:
        form = await request.post()
        upload = form["audio"]
        assert isinstance(upload, web.FileField)
        receiver.requests.append({"filename": upload.filename,
                                  "content_type": upload.content_type,
                                  "body": upload.file.read()})
        return web.Response()

    receiver = await receiver_factory(speaker)
    hub = await hub_factory(f"""
        speaker:
          speakers:
            - name: hall
              type: http
              upload_url: {receiver.url('/upload')}
              upload_as: multipart
              upload_field: audio
    """)
    announcement = await broadcaster(hub).async_say("Line one stopped.", "hall")
    assert announcement.outcomes["hall"].ok
    (request,) = receiver.requests
    assert request["filename"] == "hall.wav" and request["content_type"] == "audio/wav"
    assert_spoken_wav(request["body"], min_seconds=0.5)


async def fetching_speaker(request: web.Request, receiver: Receiver) -> web.Response:
    """An IP speaker told a URL to play: it fetches the WAV from the hub, like real ones."""
    url = (await request.json())["url"] if request.method == "POST" else request.query["url"]
    async with aiohttp.ClientSession() as session, session.get(url) as fetched:
        receiver.requests.append({
            "url": url, "status": fetched.status,
            "content_type": fetched.headers.get("Content-Type"), "body": await fetched.read(),
            "query": dict(request.query),
        })
    return web.Response(text="ok")


async def test_play_url_speaker_fetches_the_wav_from_the_hub(
    hub_factory: HubFactory, receiver_factory: Any
) -> None:
    receiver = await receiver_factory(fetching_speaker)
    port = free_port()
    clock = ManualClock(datetime(2026, 3, 2, 17, 5, tzinfo=UTC))
    hub = await hub_factory(http_yaml(port, f"""
speaker:
  url_ttl: 120
  speakers:
    - name: hall
      type: http
      play_url: "{receiver.url('/play')}?url={{{{ url | urlencode }}}}&lang={{{{ language }}}}"
"""), clock=clock)
    response = await hub.services.async_call(
        "speaker", "say", {"message": ZH_PHRASE}, return_response=True
    )
    assert response is not None and response["speakers"]["hall"]["ok"], response
    (fetch,) = receiver.requests
    assert fetch["query"]["lang"] == "zh-CN"
    prefix = f"http://127.0.0.1:{port}/api/webhook/"
    assert fetch["url"].startswith(prefix) and fetch["url"].endswith(".wav")
    assert len(fetch["url"]) - len(prefix) == len(async_generate_webhook_id() + ".wav")
    assert fetch["status"] == 200 and fetch["content_type"] == "audio/wav"
    assert_spoken_wav(fetch["body"])

    # The URL needs no token, and it is short-lived: gone after url_ttl.
    async with aiohttp.ClientSession() as session:
        async with session.get(fetch["url"]) as again:
            assert again.headers["Content-Type"] == "audio/wav"
        async with session.head(fetch["url"]) as head:
            assert head.status == 200
            assert int(head.headers["Content-Length"]) == len(fetch["body"])
        await clock.advance(121)
        await hub.async_block_till_done()
        async with session.get(fetch["url"]) as expired:
            assert expired.status == 200 and await expired.read() == b""  # like any unknown id
        guessed = fetch["url"][:-8] + "0000.wav"
        async with session.get(guessed) as wrong:
            assert await wrong.read() == b""
    assert not list(hub.path(".cache", "tts", "served").iterdir())


async def test_play_url_with_a_json_payload(
    hub_factory: HubFactory, receiver_factory: Any
) -> None:
    receiver = await receiver_factory(fetching_speaker)
    port = free_port()
    hub = await hub_factory(http_yaml(port, f"""
speaker:
  speakers:
    - name: hall
      type: http
      play_url: {receiver.url('/v1/play')}
      payload:
        url: "{{{{ url }}}}"
        volume: "{{{{ volume }}}}"
"""))
    announcement = await broadcaster(hub).async_say(ZH_PHRASE, volume=70)
    assert announcement.outcomes["hall"].ok, announcement
    (fetch,) = receiver.requests
    assert_spoken_wav(fetch["body"])


async def test_play_url_needs_the_web_server(hub_factory: HubFactory) -> None:
    hub = await hub_factory("""
        speaker:
          speakers:
            - name: hall
              type: http
              play_url: "http://127.0.0.1:9/play?url={{ url }}"
    """)
    announcement = await broadcaster(hub).async_say("测试")
    error = announcement.outcomes["hall"].error
    assert error is not None and "`http:` is not set up" in error


async def test_failing_ip_speakers_do_not_stop_the_others(
    hub_factory: HubFactory, receiver_factory: Any
) -> None:
    async def broken(request: web.Request, receiver: Receiver) -> web.Response:
        return web.Response(status=500, text="amplifier overheated")

    async def working(request: web.Request, receiver: Receiver) -> web.Response:
        receiver.requests.append({"body": await request.read()})
        return web.Response()

    broken_receiver = await receiver_factory(broken)
    working_receiver = await receiver_factory(working)
    hub = await hub_factory(f"""
        speaker:
          speakers:
            - name: broken
              type: http
              upload_url: {broken_receiver.url('/play')}
            - name: unplugged
              type: http
              upload_url: http://127.0.0.1:{free_port()}/play
              timeout: 2
            - name: working
              type: http
              upload_url: {working_receiver.url('/play')}
            - name: local
              device: "null"
    """)
    response = await hub.services.async_call(
        "speaker", "say", {"message": ZH_PHRASE}, return_response=True
    )
    assert response is not None
    speakers = response["speakers"]
    assert speakers["broken"] == {"ok": False, "error": (
        f"Speaker broken answered 500 Internal Server Error to POST "
        f"{broken_receiver.url('/play')}: amplifier overheated"
    )}
    assert not speakers["unplugged"]["ok"]
    assert "Speaker unplugged cannot be reached" in speakers["unplugged"]["error"]
    assert speakers["working"]["ok"]
    assert_spoken_wav(working_receiver.requests[0]["body"])
    # aplay may be missing where only espeak-ng is installed; the others still ran.
    assert set(speakers) == {"broken", "unplugged", "working", "local"}


async def test_each_speaker_plays_one_announcement_at_a_time_all_speakers_at_once(
    hub_factory: HubFactory, receiver_factory: Any
) -> None:
    playing: dict[str, int] = {"/a": 0, "/b": 0}
    most: dict[str, int] = {"/a": 0, "/b": 0, "both": 0}

    async def slow_speaker(request: web.Request, receiver: Receiver) -> web.Response:
        await request.read()
        playing[request.path] += 1
        most[request.path] = max(most[request.path], playing[request.path])
        most["both"] = max(most["both"], sum(playing.values()))
        await asyncio.sleep(0.3)  # the speaker takes its time to accept
        playing[request.path] -= 1
        receiver.requests.append({"path": request.path})
        return web.Response()

    receiver = await receiver_factory(slow_speaker)
    hub = await hub_factory(f"""
        speaker:
          speakers:
            - name: a
              type: http
              upload_url: {receiver.url('/a')}
            - name: b
              type: http
              upload_url: {receiver.url('/b')}
    """)
    say = broadcaster(hub).async_say
    results = await asyncio.gather(say("一号线停机"), say("二号线停机"))
    assert all(not result.failed for result in results)
    assert len(receiver.requests) == 4
    assert most == {"/a": 1, "/b": 1, "both": 2}
