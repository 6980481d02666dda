"""The `content-pack` command, run as a user runs it: a real process, real files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SAMPLE = Path(__file__).resolve().parents[1] / "content_packs" / "library" / "alcohol-and-you"


def run(
    *args: str | Path,
    stdin: bytes = b"",
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "content_packs", *map(str, args)],
        input=stdin,
        capture_output=True,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        timeout=120,
        check=False,
    )


def ok(*args: str | Path, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    result = run(*args, stdin=stdin)
    assert result.returncode == 0, result.stderr.decode()
    return result


def assert_one_line_error(result: subprocess.CompletedProcess[bytes], *words: str) -> None:
    assert result.returncode != 0
    err = result.stderr.decode()
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith("content-pack: error: ")
    for word in words:
        assert word.lower() in err.lower(), err


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("keys")
    ok("keygen", "-o", d / "publisher.key")
    ok("age", "keygen", "-o", d / "device.key")
    ok("age", "keygen", "-o", d / "other.key")
    return {
        "sign": d / "publisher.key",
        "pub": d / "publisher.pub",
        "id": d / "device.key",
        "other": d / "other.key",
    }


def recipient_of(identity_file: Path) -> str:
    for line in identity_file.read_text().splitlines():
        if line.startswith("# public key: "):
            return line.removeprefix("# public key: ")
    raise AssertionError("no public key comment")


@pytest.fixture(scope="module")
def built(keys: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("built") / "alcohol-and-you-1.pack"
    ok(
        "build", SAMPLE, "-o", out, "--sign-key", keys["sign"],
        "--recipient", recipient_of(keys["id"]),
    )  # fmt: skip
    return out


def test_key_files_are_private(keys: dict[str, Path]) -> None:
    assert keys["sign"].stat().st_mode & 0o777 == 0o600
    assert keys["id"].stat().st_mode & 0o777 == 0o600
    assert keys["pub"].read_text().startswith("untrusted comment:")


def test_keygen_refuses_to_overwrite(keys: dict[str, Path]) -> None:
    assert_one_line_error(run("keygen", "-o", keys["sign"]), "exists")


def test_build_verify_inspect(built: Path, keys: dict[str, Path]) -> None:
    assert built.with_name(built.name + ".minisig").exists()
    verified = ok("verify", built, "--pubkey", keys["pub"], "--identity", keys["id"])
    assert b"OK" in verified.stdout
    outline = ok("inspect", built, "--pubkey", keys["pub"], "--identity", keys["id"]).stdout
    assert b"Alcohol" in outline
    # The manifest is the container, not a member.
    assert not any(line.endswith(b"  manifest.json") for line in outline.splitlines())
    sealed = ok("inspect", built).stdout.decode()
    assert "age v1" in sealed
    assert "pack:alcohol-and-you" in sealed


def test_inspect_source_folder_prints_outline() -> None:
    assert b"Alcohol" in ok("inspect", SAMPLE).stdout


@pytest.mark.parametrize(
    ("tamper", "words"),
    [
        ("flip_payload_byte", ["decrypt"]),
        ("flip_header_byte", ["decrypt"]),
        ("truncate", ["decrypt"]),
        ("wrong_identity", ["decrypt"]),
        ("wrong_pubkey", ["signature"]),
        ("swap_signature", ["signature"]),
    ],
)
def test_verify_names_what_failed(
    built: Path, keys: dict[str, Path], tmp_path: Path, tamper: str, words: list[str]
) -> None:
    bad = tmp_path / "bad.pack"
    raw = bytearray(built.read_bytes())
    sig = built.with_name(built.name + ".minisig").read_text()
    identity, pubkey = keys["id"], keys["pub"]
    if tamper == "flip_payload_byte":
        raw[len(raw) // 2] ^= 0x40
    elif tamper == "flip_header_byte":
        raw[40] ^= 0x01
    elif tamper == "truncate":
        raw = raw[: len(raw) - 7]
    elif tamper == "wrong_identity":
        identity = keys["other"]
    elif tamper == "wrong_pubkey":
        ok("keygen", "-o", tmp_path / "other.key")
        pubkey = tmp_path / "other.pub"
    elif tamper == "swap_signature":
        sig = sig.replace("version:1", "version:2")
    bad.write_bytes(bytes(raw))
    bad.with_name(bad.name + ".minisig").write_text(sig)
    result = run("verify", bad, "--pubkey", pubkey, "--identity", identity)
    assert_one_line_error(result, *words)
    assert result.stdout == b""


def test_authoring_problems_are_listed_with_file_and_line(
    tmp_path: Path, keys: dict[str, Path]
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "pack.toml").write_text('id = "x"\nversion = "one"\n')
    result = run(
        "build", src, "-o", tmp_path / "x.pack", "--sign-key", keys["sign"],
        "--recipient", recipient_of(keys["id"]),
    )  # fmt: skip
    assert result.returncode == 1
    assert b"pack.toml:" in result.stderr
    assert b"Traceback" not in result.stderr
    assert not (tmp_path / "x.pack").exists()


# --- content-pack age: the contract shapes, checked against the reference `age` CLI ---


@pytest.mark.parametrize("size", [0, 1, 65536, 65537, 2_000_003])
def test_age_encrypt_reads_back_with_age(
    keys: dict[str, Path], tmp_path: Path, age_cli: Path, size: int
) -> None:
    plain = os.urandom(size)
    sealed = ok("age", "encrypt", "-r", recipient_of(keys["id"]), stdin=plain).stdout
    (tmp_path / "f.age").write_bytes(sealed)
    out = subprocess.run(
        [age_cli, "-d", "-i", keys["id"], tmp_path / "f.age"], capture_output=True, check=True
    )
    assert out.stdout == plain


@pytest.mark.parametrize("size", [0, 1, 65536, 65537, 2_000_003])
def test_age_decrypt_reads_what_age_wrote(
    keys: dict[str, Path], tmp_path: Path, age_cli: Path, size: int
) -> None:
    plain = os.urandom(size)
    (tmp_path / "in").write_bytes(plain)
    subprocess.run(
        [age_cli, "-r", recipient_of(keys["id"]), "-o", tmp_path / "f.age", tmp_path / "in"],
        check=True,
    )
    ok("age", "decrypt", "-i", keys["id"], "-o", tmp_path / "out", tmp_path / "f.age")
    assert (tmp_path / "out").read_bytes() == plain
    assert (
        ok("age", "decrypt", "-i", keys["id"], stdin=(tmp_path / "f.age").read_bytes()).stdout
        == plain
    )


@pytest.mark.parametrize("where", ["stdout", "file"])
def test_age_decrypt_writes_no_plaintext_on_failure(
    keys: dict[str, Path], tmp_path: Path, where: str
) -> None:
    plain = b"secret reflection " * 20_000  # several chunks
    sealed = bytearray(ok("age", "encrypt", "-r", recipient_of(keys["id"]), stdin=plain).stdout)
    sealed[-5] ^= 0x01  # the last chunk fails, after earlier chunks authenticated
    (tmp_path / "f.age").write_bytes(bytes(sealed))
    out = tmp_path / "out"
    args: list[str | Path] = ["age", "decrypt", "-i", keys["id"], tmp_path / "f.age"]
    if where == "file":
        args += ["-o", out]
    result = run(*args)
    assert_one_line_error(result)
    assert result.stdout == b""
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.age"]


def test_age_decrypt_with_wrong_identity(keys: dict[str, Path]) -> None:
    sealed = ok("age", "encrypt", "-r", recipient_of(keys["id"]), stdin=b"hello").stdout
    assert_one_line_error(run("age", "decrypt", "-i", keys["other"], stdin=sealed), "identit")


def test_age_encrypt_rejects_a_bad_recipient() -> None:
    assert_one_line_error(run("age", "encrypt", "-r", "age1notakey", stdin=b"x"))


def test_age_keygen_to_stdout_is_read_by_age(tmp_path: Path, age_cli: Path) -> None:
    text = ok("age", "keygen").stdout
    (tmp_path / "k").write_bytes(text)
    sealed = subprocess.run(
        [age_cli, "-r", recipient_of(tmp_path / "k")], input=b"hi", capture_output=True, check=True
    ).stdout
    out = subprocess.run(
        [age_cli, "-d", "-i", tmp_path / "k"], input=sealed, capture_output=True, check=True
    )
    assert out.stdout == b"hi"
