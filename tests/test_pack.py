"""Packs: build, open with random access, verify, and refuse every kind of tampering."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import io
import os
import threading
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from content_packs import age, authoring, pack, signing

SAMPLE = Path(__file__).resolve().parents[1] / "content_packs" / "library" / "alcohol-and-you"
BIG_MEMBER = "media/big.bin"


@dataclasses.dataclass(frozen=True)
class Built:
    path: Path
    signature: str
    source: authoring.LoadedSource
    publisher: signing.SecretKey
    identity: age.X25519Identity
    big: bytes

    def open(self, **overrides: object) -> pack.Pack:
        kwargs: dict[str, object] = {
            "public_key": self.publisher.public_key,
            "identities": [self.identity],
        }
        kwargs.update(overrides)
        return pack.Pack.open(self.path, **kwargs)  # type: ignore[arg-type]


def _build(tmp: Path, *, big_size: int = 3 * age.CHUNK_SIZE + 1234) -> Built:
    loaded = authoring.load_source(SAMPLE)
    big = os.urandom(big_size)
    big_path = tmp / "big.bin"
    big_path.write_bytes(big)
    source = dataclasses.replace(loaded, members={**loaded.members, BIG_MEMBER: big_path})
    publisher = signing.SecretKey.generate()
    identity = age.X25519Identity.generate()
    result = pack.build(
        source, tmp / "sample.pack", sign_key=publisher, recipients=[identity.recipient]
    )
    return Built(
        result.pack_path,
        result.signature_path.read_text(encoding="utf-8"),
        source,
        publisher,
        identity,
        big,
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return _build(tmp_path_factory.mktemp("pack"))


def test_members_read_back_exactly_as_authored(built: Built) -> None:
    with built.open() as opened:
        assert opened.programme == built.source.programme
        assert opened.names() == sorted(built.source.members)
        for name, path in built.source.members.items():
            assert opened.read_member(name) == path.read_bytes()
        opened.verify()


def test_two_threads_reading_different_members_each_get_their_own_bytes(built: Built) -> None:
    # A media thread streams a video while the GUI thread reads pictures: both go through
    # the pack's one decrypting reader, and neither may see the other's blocks.
    others = [n for n in built.source.members if n != BIG_MEMBER]
    expected = {n: built.source.members[n].read_bytes() for n in others}
    failures: list[str] = []
    with built.open() as opened:

        def stream_big() -> None:
            for _ in range(30):
                with opened.open_member(BIG_MEMBER) as r:
                    while r.read(7_000):
                        pass  # every block is checked against the manifest on the way

        def read_small() -> None:
            for _ in range(30):
                for name in others:
                    if opened.read_member(name) != expected[name]:
                        failures.append(name)

        threads = [threading.Thread(target=stream_big), threading.Thread(target=read_small)]
        try:
            for t in threads:
                t.start()
        finally:
            for t in threads:
                t.join()
    assert failures == []


def test_manifest_is_the_first_stored_zip_entry(built: Built) -> None:
    with built.path.open("rb") as f:
        plaintext = age.decrypt(f.read(), [built.identity])
    with zipfile.ZipFile(io.BytesIO(plaintext)) as zf:
        infos = zf.infolist()
    assert infos[0].filename == pack.MANIFEST_NAME
    assert {i.compress_type for i in infos} == {zipfile.ZIP_STORED}


@given(offset=st.integers(min_value=0), length=st.integers(min_value=0, max_value=200_000))
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_random_reads_match_the_member(built: Built, offset: int, length: int) -> None:
    offset %= len(built.big) + 10
    with built.open() as opened, opened.open_member(BIG_MEMBER) as member:
        member.seek(offset)
        got = member.read(length)
        assert got == built.big[offset : offset + length]
        assert member.tell() == offset + len(got)


class CountingFile(io.FileIO):
    """A pack file that counts the bytes read from it."""

    bytes_read = 0

    def read(self, size: int | None = -1) -> bytes:
        data = super().read(size)
        self.bytes_read += len(data)
        return data


def test_random_read_decrypts_only_the_chunks_it_touches(built: Built) -> None:
    f = CountingFile(built.path, "rb")
    with pack.Pack.from_file(
        f,
        public_key=built.publisher.public_key,
        identities=[built.identity],
        signature=built.signature,
    ) as opened:
        member = opened.open_member(BIG_MEMBER)
        before = f.bytes_read
        at = 2 * age.CHUNK_SIZE + 10
        member.seek(at)
        assert member.read(100) == built.big[at : at + 100]
        # One 64 KiB block of the member spans at most two sealed chunks of the payload.
        assert f.bytes_read - before <= 2 * (age.CHUNK_SIZE + 16)


def test_rewrap_keeps_payload_and_serves_another_device(built: Built, tmp_path: Path) -> None:
    other = age.X25519Identity.generate()
    out = tmp_path / "other.pack"
    with out.open("wb") as dst:
        pack.rewrap(built.path, dst, identities=[built.identity], recipients=[other.recipient])
    with built.path.open("rb") as a, out.open("rb") as b:
        pa, pb = a.read(), b.read()
    ha = age.read_header(io.BytesIO(pa)).payload_offset
    hb = age.read_header(io.BytesIO(pb)).payload_offset
    assert pa[ha:] == pb[hb:]
    with pack.Pack.open(
        out, public_key=built.publisher.public_key, identities=[other], signature=built.signature
    ) as opened:
        opened.verify()
    with pytest.raises(pack.PackDecryptionError):
        built.open(identities=[other])


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ("wrong_identity", pack.PackDecryptionError),
        ("wrong_publisher", pack.PackSignatureError),
        ("other_packs_signature", pack.PackSignatureError),
        ("garbled_signature", pack.PackSignatureError),
        ("edited_trusted_comment", pack.PackSignatureError),
        ("missing_signature_file", pack.PackSignatureError),
    ],
)
def test_wrong_keys_and_signatures_are_named(
    built: Built, tmp_path: Path, change: str, error: type[pack.PackError]
) -> None:
    kwargs: dict[str, object] = {}
    if change == "wrong_identity":
        kwargs["identities"] = [age.X25519Identity.generate()]
    elif change == "wrong_publisher":
        kwargs["public_key"] = signing.SecretKey.generate().public_key
    elif change == "other_packs_signature":
        kwargs["signature"] = _build(tmp_path, big_size=10).signature
    elif change == "garbled_signature":
        kwargs["signature"] = _flip_a_signature_bit(built.signature)
    elif change == "edited_trusted_comment":
        kwargs["signature"] = built.signature.replace("pack:", "pack:x")
    elif change == "missing_signature_file":
        copy = tmp_path / "nosig.pack"
        copy.write_bytes(built.path.read_bytes())
        with pytest.raises(error, match="signature"):
            pack.Pack.open(copy, public_key=built.publisher.public_key, identities=[built.identity])
        return
    with pytest.raises(error):
        built.open(**kwargs)


def _flip_a_signature_bit(signature: str) -> str:
    """Flip one bit of the Ed25519 signature itself (the second line's bytes 10..74).

    A textual edit of the base64 can miss: a line may hold no given letter, and the
    last character before "=" carries padding bits that decoding ignores.
    """
    lines = signature.splitlines(keepends=True)
    raw = bytearray(base64.b64decode(lines[1]))
    raw[10 + 17] ^= 0x04
    lines[1] = base64.b64encode(bytes(raw)).decode("ascii") + "\n"
    changed = "".join(lines)
    assert changed != signature
    return changed


def _reencrypt(built: Built, tmp_path: Path, edit: object) -> Path:
    """Decrypt, edit the plaintext ZIP, re-encrypt to the same device (as any device could)."""
    plaintext = bytearray(age.decrypt(built.path.read_bytes(), [built.identity]))
    edit(plaintext)  # type: ignore[operator]
    out = tmp_path / "edited.pack"
    out.write_bytes(age.encrypt(bytes(plaintext), [built.identity.recipient]))
    return out


def test_a_member_changed_under_a_valid_signature_is_refused(built: Built, tmp_path: Path) -> None:
    marker = built.big[age.CHUNK_SIZE : age.CHUNK_SIZE + 32]

    def flip(buf: bytearray) -> None:
        at = bytes(buf).index(marker) + 5
        buf[at] ^= 0x01

    out = _reencrypt(built, tmp_path, flip)
    with pack.Pack.open(
        out,
        public_key=built.publisher.public_key,
        identities=[built.identity],
        signature=built.signature,
    ) as opened:
        with opened.open_member(BIG_MEMBER) as member:
            assert member.read(100) == built.big[:100]  # untouched block still served
            member.seek(age.CHUNK_SIZE)
            with pytest.raises(pack.MemberIntegrityError, match="block 1"):
                member.read(10)
        with pytest.raises(pack.MemberIntegrityError):
            opened.read_member(BIG_MEMBER)
        with pytest.raises(pack.MemberIntegrityError):
            opened.verify()


def test_a_manifest_that_is_not_first_is_refused(built: Built, tmp_path: Path) -> None:
    plaintext = age.decrypt(built.path.read_bytes(), [built.identity])
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(plaintext)) as src, zipfile.ZipFile(buf, "w") as dst:
        for info in reversed(src.infolist()):
            dst.writestr(info, src.read(info))
    out = tmp_path / "reordered.pack"
    out.write_bytes(age.encrypt(buf.getvalue(), [built.identity.recipient]))
    with pytest.raises(pack.PackFormatError, match="manifest"):
        pack.Pack.open(
            out,
            public_key=built.publisher.public_key,
            identities=[built.identity],
            signature=built.signature,
        )


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return _build(tmp_path_factory.mktemp("small"), big_size=100)


def assert_refused_with_a_message(built: Built, raw: bytes, path: Path) -> None:
    """Opening and verifying `raw` as a pack fails with a PackError that says why."""
    path.write_bytes(raw)
    try:
        with (
            pytest.raises(pack.PackError) as caught,
            pack.Pack.open(
                path,
                public_key=built.publisher.public_key,
                identities=[built.identity],
                signature=built.signature,
            ) as opened,
        ):
            opened.verify()
        assert str(caught.value)
    finally:
        path.unlink()


@given(data=st.data())
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_any_flipped_byte_is_a_named_error(
    small: Built, tmp_path: Path, data: st.DataObject
) -> None:
    raw = bytearray(small.path.read_bytes())
    at = data.draw(st.integers(min_value=0, max_value=len(raw) - 1), label="offset")
    bit = data.draw(st.integers(min_value=0, max_value=7), label="bit")
    raw[at] ^= 1 << bit
    assert_refused_with_a_message(small, bytes(raw), tmp_path / "flipped.pack")


@given(data=st.data())
@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_any_truncation_is_a_named_error(small: Built, tmp_path: Path, data: st.DataObject) -> None:
    raw = small.path.read_bytes()
    cut = data.draw(st.integers(min_value=0, max_value=len(raw) - 1), label="length")
    assert_refused_with_a_message(small, raw[:cut], tmp_path / "cut.pack")


def test_build_is_atomic_when_it_fails(tmp_path: Path) -> None:
    loaded = authoring.load_source(SAMPLE)
    missing = tmp_path / "gone.bin"
    source = dataclasses.replace(loaded, members={**loaded.members, "media/gone.bin": missing})
    out = tmp_path / "out.pack"
    with pytest.raises(OSError, match="gone.bin"):
        pack.build(
            source,
            out,
            sign_key=signing.SecretKey.generate(),
            recipients=[age.X25519Identity.generate().recipient],
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_manifest_records_every_member_hash(built: Built) -> None:
    with built.open() as opened:
        for name, path in built.source.members.items():
            assert opened.member(name).sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
