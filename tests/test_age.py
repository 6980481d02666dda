"""age v1 keys, round trips, header re-wrapping and random access, within our implementation."""

from __future__ import annotations

import io
import os
from functools import cache
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from content_packs import age

# The example key pair from the age specification (c2sp.org/age).
SPEC_IDENTITY = "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX"
SPEC_RECIPIENT = "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj"

SIZES = [0, 1, age.CHUNK_SIZE - 1, age.CHUNK_SIZE, age.CHUNK_SIZE + 1, 3 * 1024 * 1024 + 17]


@cache
def plaintext(size: int) -> bytes:
    return os.urandom(size)


@cache
def alice() -> age.X25519Identity:
    return age.X25519Identity.generate()


@cache
def bob() -> age.X25519Identity:
    return age.X25519Identity.generate()


# --- keys ---


def test_spec_identity_gives_spec_recipient() -> None:
    identity = age.X25519Identity.from_str(SPEC_IDENTITY)
    assert identity.recipient.to_str() == SPEC_RECIPIENT
    assert str(identity) == SPEC_IDENTITY


def test_recipient_round_trips_through_its_string() -> None:
    recipient = age.X25519Recipient.from_str(SPEC_RECIPIENT)
    assert str(recipient) == SPEC_RECIPIENT
    assert recipient == age.X25519Identity.from_str(SPEC_IDENTITY).recipient


def test_generated_identity_round_trips() -> None:
    identity = age.X25519Identity.generate()
    text = identity.to_str()
    assert text.startswith("AGE-SECRET-KEY-1")
    assert text == text.upper()
    assert age.X25519Identity.from_str(text).recipient == identity.recipient
    assert identity.recipient.to_str().startswith("age1")


def test_identity_repr_hides_the_secret() -> None:
    identity = age.X25519Identity.from_str(SPEC_IDENTITY)
    assert SPEC_IDENTITY not in repr(identity)
    assert SPEC_RECIPIENT in repr(identity)


def _bad_checksum(text: str) -> str:
    return text[:-1] + ("Q" if text[-1] != "Q" else "P")


@pytest.mark.parametrize(
    ("text", "why"),
    [
        (SPEC_IDENTITY.lower(), "lower-case identity"),
        (SPEC_IDENTITY[:20] + SPEC_IDENTITY[20:].lower(), "mixed case"),
        (_bad_checksum(SPEC_IDENTITY), "bad checksum"),
        ("AGE-SECRET-KEY-1" + "Q" * 10, "too short"),
        (SPEC_RECIPIENT, "a recipient, not an identity"),
        (SPEC_IDENTITY.replace("AGE-SECRET-KEY-", "AGE-PUBLIC-KEY-"), "wrong HRP"),
        ("", "empty"),
        ("AGE-SECRET-KEY-1" + SPEC_IDENTITY[16:-6] + "QQ" + SPEC_IDENTITY[-6:], "bad length"),
    ],
)
def test_malformed_identity_is_refused(text: str, why: str) -> None:
    with pytest.raises(age.KeyFormatError):
        age.X25519Identity.from_str(text)


@pytest.mark.parametrize(
    "text",
    [
        SPEC_RECIPIENT.upper(),
        SPEC_RECIPIENT[:10] + SPEC_RECIPIENT[10:].upper(),
        SPEC_RECIPIENT[:-1] + ("q" if SPEC_RECIPIENT[-1] != "q" else "p"),
        SPEC_RECIPIENT[:-10],
        SPEC_IDENTITY,
        "age1",
    ],
)
def test_malformed_recipient_is_refused(text: str) -> None:
    with pytest.raises(age.KeyFormatError):
        age.X25519Recipient.from_str(text)


def test_identity_file_accepts_keygen_output() -> None:
    text = (
        "# created: 2024-01-01T00:00:00Z\n"
        f"# public key: {SPEC_RECIPIENT}\n"
        f"{SPEC_IDENTITY}\n"
        "\n"
        f"{alice()}\n"
    )
    parsed = age.parse_identity_file(text)
    assert [i.recipient for i in parsed] == [
        age.X25519Recipient.from_str(SPEC_RECIPIENT),
        alice().recipient,
    ]


@pytest.mark.parametrize(
    "text",
    ["", "# only a comment\n", f"{SPEC_IDENTITY}\nnot a key\n", SPEC_RECIPIENT],
)
def test_identity_file_without_valid_keys_is_refused(text: str) -> None:
    with pytest.raises(age.KeyFormatError):
        age.parse_identity_file(text)


# --- round trips ---


@pytest.mark.parametrize("size", SIZES)
def test_encrypt_then_decrypt_returns_the_plaintext(size: int) -> None:
    data = plaintext(size)
    assert age.decrypt(age.encrypt(data, [alice().recipient]), [alice()]) == data


@pytest.mark.parametrize("size", SIZES)
def test_stream_round_trip_returns_the_file_key_used(size: int) -> None:
    encrypted = io.BytesIO()
    key = age.encrypt_stream(io.BytesIO(plaintext(size)), encrypted, [alice().recipient])
    assert len(key) == age.FILE_KEY_SIZE
    encrypted.seek(0)
    header = age.read_header(encrypted)
    assert age.unwrap_file_key(header, [alice()]) == key
    encrypted.seek(0)
    out = io.BytesIO()
    age.decrypt_stream(encrypted, out, [alice()])
    assert out.getvalue() == plaintext(size)


def test_encrypted_size_is_header_nonce_and_one_tag_per_chunk() -> None:
    data = plaintext(age.CHUNK_SIZE + 1)
    encrypted = age.encrypt(data, [alice().recipient])
    header = age.read_header(io.BytesIO(encrypted))
    assert len(encrypted) == header.payload_offset + 16 + len(data) + 2 * 16


def test_any_of_several_recipients_can_decrypt() -> None:
    encrypted = age.encrypt(b"shared", [alice().recipient, bob().recipient])
    assert age.decrypt(encrypted, [bob()]) == b"shared"
    assert age.decrypt(encrypted, [bob(), alice()]) == b"shared"


def test_wrong_identity_is_refused() -> None:
    encrypted = age.encrypt(b"secret", [alice().recipient])
    with pytest.raises(age.NoMatchingIdentityError):
        age.decrypt(encrypted, [bob()])


def test_given_file_key_is_used() -> None:
    key = bytes(range(16))
    out = io.BytesIO()
    assert age.encrypt_stream(io.BytesIO(b"x"), out, [alice().recipient], file_key=key) == key
    assert age.unwrap_file_key(age.read_header(io.BytesIO(out.getvalue())), [alice()]) == key


@pytest.mark.parametrize("key", [b"", bytes(15), bytes(17)])
def test_file_key_of_wrong_size_is_refused(key: bytes) -> None:
    with pytest.raises(age.AgeError):
        age.wrap_header(key, [alice().recipient])


def test_no_recipients_is_refused() -> None:
    with pytest.raises(age.AgeError):
        age.encrypt(b"x", [])


# --- header ---


def test_header_records_stanzas_mac_and_payload_offset() -> None:
    encrypted = age.encrypt(b"payload", [alice().recipient, bob().recipient])
    f = io.BytesIO(encrypted)
    header = age.read_header(f)
    assert f.tell() == header.payload_offset == len(header.raw)
    assert encrypted.startswith(header.raw)
    assert header.raw.startswith(b"age-encryption.org/v1\n")
    assert header.mac_input.endswith(b"\n---")
    assert [s.type for s in header.stanzas] == [b"X25519", b"X25519"]
    assert all(len(s.body) == 32 for s in header.stanzas)
    assert len(header.mac) == 32


def test_header_offset_counts_from_where_the_file_was_positioned() -> None:
    encrypted = age.encrypt(b"payload", [alice().recipient])
    f = io.BytesIO(b"PREFIX" + encrypted)
    f.seek(6)
    assert age.read_header(f).payload_offset == 6 + len(age.read_header(io.BytesIO(encrypted)).raw)


def test_rewrapped_header_opens_the_same_payload_for_another_identity() -> None:
    data = plaintext(age.CHUNK_SIZE + 1)
    encrypted = age.encrypt(data, [alice().recipient])
    header = age.read_header(io.BytesIO(encrypted))
    key = age.unwrap_file_key(header, [alice()])
    rewrapped = age.wrap_header(key, [bob().recipient]) + encrypted[header.payload_offset :]
    assert age.decrypt(rewrapped, [bob()]) == data
    with pytest.raises(age.NoMatchingIdentityError):
        age.decrypt(rewrapped, [alice()])


def test_header_from_another_file_key_fails_the_mac() -> None:
    encrypted = age.encrypt(b"x", [alice().recipient])
    header = age.read_header(io.BytesIO(encrypted))
    with pytest.raises(age.HeaderMacError):
        age.verify_header_mac(header, bytes(16))


def test_stanza_bodies_wrap_at_64_columns() -> None:
    stanza = age.Stanza((b"grease",), bytes(100))
    lines = stanza.encode().split(b"\n")
    assert lines[0] == b"-> grease"
    assert [len(line) for line in lines[1:]] == [64, 64, 6, 0]
    assert age.Stanza((b"t",), bytes(48)).encode().endswith(b"\n\n")


# --- random access ---


class CountingFile(io.RawIOBase):
    """A file that counts the bytes read from it."""

    def __init__(self, data: bytes) -> None:
        super().__init__()
        self._inner = io.BytesIO(data)
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = self._inner.readinto(buffer)
        self.bytes_read += n
        return n

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._inner.seek(offset, whence)

    def tell(self) -> int:
        return self._inner.tell()


MEDIUM = 3 * age.CHUNK_SIZE + 12345


@cache
def medium_file() -> bytes:
    return age.encrypt(plaintext(MEDIUM), [alice().recipient])


def open_medium() -> age.SeekableReader:
    return age.SeekableReader(io.BytesIO(medium_file()), identities=[alice()])


@settings(max_examples=150, deadline=None)
@given(
    ops=st.lists(
        st.tuples(
            st.sampled_from([io.SEEK_SET, io.SEEK_CUR, io.SEEK_END]),
            st.integers(-MEDIUM - 100, MEDIUM + 100),
            st.integers(-1, 3 * age.CHUNK_SIZE),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_random_seeks_and_reads_match_the_plaintext(ops: list[tuple[int, int, int]]) -> None:
    reader = open_medium()
    model = io.BytesIO(plaintext(MEDIUM))
    for whence, offset, size in ops:
        target = {io.SEEK_SET: 0, io.SEEK_CUR: model.tell(), io.SEEK_END: MEDIUM}[whence] + offset
        if target < 0:
            with pytest.raises(ValueError, match="negative"):
                reader.seek(offset, whence)
            continue
        assert reader.seek(offset, whence) == model.seek(offset, whence)
        assert reader.read(size) == model.read(size)
        assert reader.tell() == model.tell()


@settings(max_examples=50, deadline=None)
@given(position=st.integers(0, MEDIUM), size=st.integers(0, 2 * age.CHUNK_SIZE))
def test_readinto_matches_the_plaintext(position: int, size: int) -> None:
    reader = open_medium()
    reader.seek(position)
    buffer = bytearray(size)
    n = reader.readinto(memoryview(buffer))
    assert bytes(buffer[:n]) == plaintext(MEDIUM)[position : position + size]


def test_size_is_known_at_open() -> None:
    assert open_medium().size == MEDIUM


def test_reader_is_readable_seekable_and_not_writable() -> None:
    reader = open_medium()
    assert reader.readable()
    assert reader.seekable()
    assert not reader.writable()


def test_reads_past_the_end_return_nothing() -> None:
    reader = open_medium()
    reader.seek(MEDIUM - 3)
    assert reader.read(10) == plaintext(MEDIUM)[-3:]
    assert reader.read(10) == b""
    reader.seek(MEDIUM + 1000)
    assert reader.read() == b""
    assert reader.readinto(memoryview(bytearray(5))) == 0
    assert reader.tell() == MEDIUM + 1000


def test_buffered_wrapper_reads_lines_and_everything() -> None:
    with io.BufferedReader(open_medium()) as buffered:
        assert buffered.read() == plaintext(MEDIUM)


def test_small_read_in_a_large_file_touches_at_most_two_chunks() -> None:
    size = 5 * 1024 * 1024
    data = os.urandom(size)
    counting = CountingFile(age.encrypt(data, [alice().recipient]))
    reader = age.SeekableReader(counting, identities=[alice()])  # type: ignore[arg-type]
    for position in (size // 2, 40 * age.CHUNK_SIZE - 5, 7):
        before = counting.bytes_read
        reader.seek(position)
        assert reader.read(10) == data[position : position + 10]
        assert counting.bytes_read - before <= 2 * (age.CHUNK_SIZE + 16)


def test_opening_reads_only_the_header_and_the_final_chunk() -> None:
    counting = CountingFile(medium_file())
    age.SeekableReader(counting, identities=[alice()])  # type: ignore[arg-type]
    assert counting.bytes_read < 2 * (age.CHUNK_SIZE + 16)


def test_open_file_key_reads_without_identities() -> None:
    key = age.unwrap_file_key(age.read_header(io.BytesIO(medium_file())), [alice()])
    reader = age.SeekableReader.open_file_key(io.BytesIO(medium_file()), key)
    reader.seek(age.CHUNK_SIZE)
    assert reader.read(5) == plaintext(MEDIUM)[age.CHUNK_SIZE : age.CHUNK_SIZE + 5]


def test_open_file_key_with_the_wrong_key_fails_the_mac() -> None:
    with pytest.raises(age.HeaderMacError):
        age.SeekableReader.open_file_key(io.BytesIO(medium_file()), bytes(16))


def test_reader_needs_identities_or_a_file_key() -> None:
    with pytest.raises(TypeError):
        age.SeekableReader(io.BytesIO(medium_file()))


@pytest.mark.parametrize(
    ("cut", "error"),
    [
        (1, age.ChunkAuthError),
        (12345 + 16, age.MissingFinalChunkError),
        (12345 + 10, age.TruncatedError),
    ],
)
def test_truncated_file_fails_at_open(cut: int, error: type[age.AgeError]) -> None:
    with pytest.raises(error):
        age.SeekableReader(io.BytesIO(medium_file()[:-cut]), identities=[alice()])


def test_tampered_middle_chunk_fails_when_read() -> None:
    damaged = bytearray(medium_file())
    damaged[-(12345 + 16) - 100] ^= 1
    reader = age.SeekableReader(io.BytesIO(bytes(damaged)), identities=[alice()])
    assert reader.read(10) == plaintext(MEDIUM)[:10]
    reader.seek(2 * age.CHUNK_SIZE)
    with pytest.raises(age.ChunkAuthError):
        reader.read(10)


def test_empty_file_reader_has_size_zero() -> None:
    reader = age.SeekableReader(io.BytesIO(age.encrypt(b"", [alice().recipient])), [alice()])
    assert reader.size == 0
    assert reader.read() == b""


class PipeReader(io.RawIOBase):
    """A readable stream with no position, like stdin from a pipe."""

    def __init__(self, data: bytes) -> None:
        super().__init__()
        self._inner = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        # Short reads, as pipes give, exercise the read-until-full loop.
        return self._inner.readinto(memoryview(buffer)[:1000])


def test_decrypt_stream_reads_from_a_pipe() -> None:
    data = plaintext(age.CHUNK_SIZE + 1)
    pipe = io.BufferedReader(PipeReader(age.encrypt(data, [alice().recipient])))
    out = io.BytesIO()
    age.decrypt_stream(pipe, out, [alice()])
    assert out.getvalue() == data


def test_encrypt_stream_reads_from_a_pipe() -> None:
    data = plaintext(age.CHUNK_SIZE + 1)
    out = io.BytesIO()
    age.encrypt_stream(io.BufferedReader(PipeReader(data)), out, [alice().recipient])
    assert age.decrypt(out.getvalue(), [alice()]) == data
