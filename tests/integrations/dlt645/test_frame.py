"""The DL/T 645-2007 frame codec: frames from published examples, round trips, noisy streams."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from plantpulse.integrations.dlt645.data import ENERGY, VOLTAGE
from plantpulse.integrations.dlt645.frame import (
    BROADCAST_ADDRESS,
    Frame,
    FrameError,
    FrameReader,
    Function,
    address_to_bytes,
    checksum,
    decode_frame,
    encode_frame,
    normalize_address,
)

# Frames published with worked explanations (request and the meter's answer):
# - "DL645通信协议97/07规约(附上下行例子)", m.icode9.com/content-4-712469.html (also
#   553668.com/manong/786292.html): read 00010000 from meter 000102030425, answer 1206.42 kWh;
#   the broadcast read-address frame FE FE FE 68 AA..AA 68 13 00 DF 16.
# - mbb.eet-china.com/forum/topic/114707_1_1.html (亿佰特物联网实验室): read 00000000 from
#   652022122003 (answer 0) and the voltage block 0201FF00 from 652022122018 (C phase 239.4 V).
# - "DLT645-2007报文解析" (a master station's log): 00010000 of 000000000161 is 0.26 kWh,
#   02010100 (A phase voltage) is 100.1 V.
READ_IMPORT = "68 25 04 03 02 01 00 68 11 04 33 33 34 33 E1 16"
IMPORT_ANSWER = "68 25 04 03 02 01 00 68 91 08 33 33 34 33 75 39 45 33 8B 16"
READ_ADDRESS = "FE FE FE 68 AA AA AA AA AA AA 68 13 00 DF 16"
READ_COMBINED = "68 03 20 12 22 20 65 68 11 04 33 33 33 33 8D 16"
COMBINED_ANSWER = "68 03 20 12 22 20 65 68 91 08 33 33 33 33 33 33 33 33 DD 16"
READ_VOLTAGES = "FE FE FE FE 68 18 20 12 22 20 65 68 11 04 33 32 34 35 A4 16"
VOLTAGES_ANSWER = "FE FE FE FE 68 18 20 12 22 20 65 68 91 0A 33 32 34 35 33 33 33 33 C7 56 13 16"
LOG_READ_IMPORT = "FE FE FE FE 68 61 01 00 00 00 00 68 11 04 33 33 34 33 14 16"
LOG_IMPORT_ANSWER = "68 61 01 00 00 00 00 68 91 08 33 33 34 33 59 33 33 33 8A 16"
LOG_READ_VOLTAGE = "FE FE FE FE 68 61 01 00 00 00 00 68 11 04 33 34 34 35 17 16"
LOG_VOLTAGE_ANSWER = "68 61 01 00 00 00 00 68 91 06 33 34 34 35 34 43 10 16"


def raw(text: str) -> bytes:
    return bytes.fromhex(text)


def read_request(address: str, identifier: int) -> Frame:
    return Frame(address, Function.READ, identifier.to_bytes(4, "little"))


@pytest.mark.parametrize(("frame", "expected", "wake_up"), [
    (read_request("000102030425", 0x00010000), READ_IMPORT, False),
    (Frame(BROADCAST_ADDRESS, Function.READ_ADDRESS), READ_ADDRESS[9:], False),
    (read_request("652022122003", 0x00000000), READ_COMBINED, False),
    (read_request("652022122018", 0x0201FF00), READ_VOLTAGES, True),
    (read_request("000000000161", 0x00010000), LOG_READ_IMPORT, True),
    (read_request("000000000161", 0x02010100), LOG_READ_VOLTAGE, True),
])
def test_requests_match_published_frames(frame: Frame, expected: str, wake_up: bool) -> None:
    assert encode_frame(frame, wake_up=wake_up) == raw(expected)
    # Received with any number of wake-up bytes (the published read-address frame has three).
    assert decode_frame(raw(expected)) == frame


def test_published_answers_decode_to_their_values() -> None:
    answer = decode_frame(raw(IMPORT_ANSWER))
    assert answer.address == "000102030425"
    assert answer.is_reply and not answer.is_error and not answer.has_follow_up
    assert answer.function == Function.READ
    assert answer.data[:4] == (0x00010000).to_bytes(4, "little")
    assert ENERGY.decode(answer.data[4:]) == 1206.42

    assert ENERGY.decode(decode_frame(raw(COMBINED_ANSWER)).data[4:]) == 0.0
    assert ENERGY.decode(decode_frame(raw(LOG_IMPORT_ANSWER)).data[4:]) == 0.26
    assert VOLTAGE.decode(decode_frame(raw(LOG_VOLTAGE_ANSWER)).data[4:]) == 100.1

    block = decode_frame(raw(VOLTAGES_ANSWER))  # wake-up bytes before it are accepted
    assert block.address == "652022122018"
    phases = block.data[4:]
    assert [VOLTAGE.decode(phases[i:i + 2]) for i in (0, 2, 4)] == [0.0, 0.0, 239.4]


def test_address_is_sent_low_byte_first_and_padded() -> None:
    assert address_to_bytes("000012345678") == raw("78 56 34 12 00 00")
    assert normalize_address(12345678) == "000012345678"
    assert normalize_address("aaaaaaaaaaaa") == BROADCAST_ADDRESS
    for bad in ("12345678901234", "00001234567X", "0000123456A7", ""):
        with pytest.raises(ValueError, match="12 decimal digits"):
            normalize_address(bad)


def test_checksum_covers_first_68_to_end_of_data() -> None:
    frame = raw(READ_IMPORT)
    assert checksum(frame[:-2]) == frame[-2] == 0xE1


@pytest.mark.parametrize(("damaged", "message"), [
    (READ_IMPORT[:-5] + "E2 16", "bad checksum E2"),
    (READ_IMPORT[:-2] + "17", "does not end with 16"),
    (READ_IMPORT[:-5], "length"),
    ("68 25 04 03 02 01 00 69 11 04 33 33 34 33 E1 16", "68 A0..A5 68"),
    ("68 25 04", "too short"),
])
def test_damaged_frames_are_rejected(damaged: str, message: str) -> None:
    with pytest.raises(FrameError, match=message):
        decode_frame(raw(damaged))


addresses = st.lists(
    st.integers(0, 99).map(lambda n: f"{n:02d}") | st.just("AA"), min_size=6, max_size=6,
).map("".join)
frames = st.builds(Frame, addresses, st.integers(0, 255), st.binary(max_size=255))


@given(frames, st.booleans())
def test_encode_decode_round_trip(frame: Frame, wake_up: bool) -> None:
    assert decode_frame(encode_frame(frame, wake_up)) == frame


@given(st.lists(st.tuples(st.binary(max_size=20), frames), min_size=1, max_size=5),
       st.integers(1, 40))
def test_reader_finds_every_frame_between_garbage_in_any_chunking(
    noisy: list[tuple[bytes, Frame]], chunk_size: int,
) -> None:
    # Garbage without 68 or 16 bytes cannot be mistaken for a frame start.
    stream = b"".join(
        bytes(b for b in garbage if b not in (0x68, 0x16)) + encode_frame(frame, wake_up=True)
        for garbage, frame in noisy
    )
    reader = FrameReader()
    found = []
    for start in range(0, len(stream), chunk_size):
        found += reader.feed(stream[start:start + chunk_size])
    assert found == [frame for _, frame in noisy]


def test_reader_rejects_a_bad_checksum_and_resyncs_on_the_next_68(
    caplog: pytest.LogCaptureFixture,
) -> None:
    good = raw(IMPORT_ANSWER)
    bad = bytearray(good)
    bad[-2] ^= 0xFF
    reader = FrameReader()
    found = reader.feed(b"\x00\x68\x68garbage" + bytes(bad) + b"\xfe\xfe" + good)
    assert isinstance(found[0], FrameError)
    assert found[1:] == [decode_frame(good)]
    assert "Rejected a DL/T 645 frame: bad checksum" in caplog.text


def test_reader_waits_for_the_rest_of_a_frame() -> None:
    reader = FrameReader()
    frame = raw(IMPORT_ANSWER)
    assert reader.feed(frame[:11]) == []
    assert reader.feed(frame[11:]) == [decode_frame(frame)]
