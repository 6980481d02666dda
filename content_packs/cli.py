"""The `content-pack` command: keys, age files, and building, verifying and inspecting packs."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from functools import wraps
from pathlib import Path
from typing import BinaryIO, ParamSpec, TypeVar

import click

from content_packs import age, authoring, checks, pack, signing
from content_packs.model import Programme, outline

P = ParamSpec("P")
R = TypeVar("R")

# Every failure the toolkit expects is reported as one line, never a traceback.
_EXPECTED = (
    age.AgeError,
    signing.SignatureError,
    pack.PackError,
    authoring.AuthoringError,
    OSError,
)


def _one_line_errors(func: Callable[P, R]) -> Callable[P, R]:
    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except _EXPECTED as exc:
            message = str(exc) or type(exc).__name__
            if isinstance(exc, authoring.AuthoringError):
                # Authoring problems are a list; each one is a line of its own.
                click.echo(f"content-pack: error: {message}", err=True)
            else:
                click.echo(f"content-pack: error: {' '.join(message.split())}", err=True)
            sys.exit(1)

    return wrapper


@click.group()
@click.version_option(package_name="intervention-kiosk")
def main() -> None:
    """Build, sign, encrypt, verify and inspect Intervention Kiosk content packs."""


@main.command("keygen")
@click.option(
    "-o",
    "--output",
    "output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("publisher.key"),
    show_default=True,
    help="Secret key file; the public key is written beside it with a .pub suffix.",
)
@click.option("--force", is_flag=True, help="Overwrite existing key files.")
@_one_line_errors
def keygen(output: Path, force: bool) -> None:
    """Make a publisher signing key pair (minisign-compatible, Ed25519)."""
    pub_path = output.with_suffix(".pub")
    for p in (output, pub_path):
        if p.exists() and not force:
            raise pack.PackError(f"{p} already exists; pass --force to replace it")
    key = signing.SecretKey.generate()
    signing.write_secret_key(output, key)
    pub_path.write_text(key.public_key.to_str(), encoding="utf-8")
    click.echo(f"secret key: {output}\npublic key: {pub_path} (key id {key.public_key.key_id_hex})")


@main.command("build")
@click.argument("src", type=click.Path(file_okay=False, path_type=Path))
@click.option("-o", "--output", "output", required=True, type=click.Path(path_type=Path))
@click.option("--sign-key", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--recipient", "recipients", required=True, multiple=True, help="age1... key")
@click.option(
    "--narration/--no-narration",
    default=True,
    show_default=True,
    help="Speak every reading step without a narration file with espeak-ng.",
)
@_one_line_errors
def build(
    src: Path, output: Path, sign_key: Path, recipients: tuple[str, ...], narration: bool
) -> None:
    """Build SRC (a source folder) into an encrypted, signed pack."""
    parsed = [age.X25519Recipient.from_str(r) for r in recipients]
    key = signing.SecretKey.load(sign_key)
    loaded = authoring.load_source(src)
    result = pack.build(loaded, output, sign_key=key, recipients=parsed, narrate=narration)
    click.echo(
        f"built {result.pack_path} ({result.size} bytes, {result.members} members)\n"
        f"signature {result.signature_path} (manifest sha256 {result.manifest_sha256})"
    )


@main.command("check")
@click.argument(
    "sources", metavar="SOURCE_DIR...", nargs=-1, required=True, type=click.Path(path_type=Path)
)
@_one_line_errors
def check(sources: tuple[Path, ...]) -> None:
    """Run the content checks on each source folder; list every problem as FILE:LINE: message."""
    failed = 0
    for src in sources:
        problems = checks.check_source(src)
        for problem in problems:
            click.echo(f"{src / problem.file}:{problem.line}: {problem.message}")
        if problems:
            failed += 1
        else:
            click.echo(f"OK {src}")
    if failed:
        click.echo(f"content-pack: {failed} of {len(sources)} source folder(s) failed", err=True)
        sys.exit(1)


@main.command("describe")
@click.argument(
    "sources", metavar="SOURCE_DIR...", nargs=-1, required=True, type=click.Path(path_type=Path)
)
@click.option("-o", "--output", "output", type=click.Path(dir_okay=False, path_type=Path))
@_one_line_errors
def describe(sources: tuple[Path, ...], output: Path | None) -> None:
    """Describe programmes for officers choosing one, in Markdown (docs/programmes.md)."""
    programmes = [authoring.load_source(src).programme for src in sources]
    text = programmes_markdown(programmes)
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")


LANGUAGES = {"en": "English", "pl": "Polish (polski)", "cy": "Welsh (Cymraeg)"}
DESCRIBE_COMMAND = "content-pack describe content_packs/library/* -o docs/programmes.md"


def programmes_markdown(programmes: list[Programme]) -> str:
    """One section per programme family (its language versions together), sorted by title."""
    families: dict[str, list[Programme]] = {}
    for p in sorted(programmes, key=lambda p: (p.id != p.family, p.language, p.id)):
        families.setdefault(p.family, []).append(p)
    ordered = sorted(families.values(), key=lambda versions: versions[0].title.casefold())
    lines = [
        "# Programmes in the library",
        "",
        "For officers choosing a programme to assign. Generated from the programme folders in",
        f"`content_packs/library/` by `{DESCRIBE_COMMAND}`; do not edit by hand.",
        "",
        "| programme | topics | time | languages |",
        "| --- | --- | --- | --- |",
    ]
    for versions in ordered:
        main, names = versions[0], ", ".join(_language(v.language) for v in versions)
        anchor = main.title.casefold().replace(" ", "-")
        anchor = "".join(c for c in anchor if c.isalnum() or c == "-")
        topics = ", ".join(main.topics)
        lines.append(
            f"| [{main.title}](#{anchor}) | {topics} | {main.estimated_minutes} min | {names} |"
        )
    for versions in ordered:
        lines += ["", *_programme_section(versions)]
    return "\n".join(lines) + "\n"


def _language(code: str) -> str:
    return LANGUAGES.get(code.split("-")[0], code)


def _programme_section(versions: list[Programme]) -> list[str]:
    p = versions[0]
    steps = checks.estimated_minutes(p)
    out = [
        f"## {p.title}",
        "",
        f"About **{p.estimated_minutes} minutes** (the steps add up to about {steps:.0f}), "
        f"in {len(p.modules)} modules. Can be done in several sittings.",
        "",
        "Versions: "
        + "; ".join(
            f"{_language(v.language)}: *{v.title}* (`{v.id}` v{v.version})" for v in versions
        )
        + ".",
    ]
    if p.audience_notes.strip():
        out += ["", f"**Who it is for.** {' '.join(p.audience_notes.split())}"]
    if p.outcomes:
        out += ["", "**Aims.** By the end, the participant can:", ""]
        out += [f"- {o}" for o in p.outcomes]
    out += ["", "**Modules.**", ""]
    for number, module in enumerate(p.modules, start=1):
        kinds = ", ".join(dict.fromkeys(s.type for s in module.steps))
        out.append(f"{number}. {module.title} ({len(module.steps)} steps: {kinds})")
    reviewed = [s.title for s in p.all_steps() if getattr(s, "needs_review", False) and s.required]
    if reviewed:
        out += ["", f"**An officer reviews:** {'; '.join(reviewed)}."]
    if p.signposting:
        out += ["", "**Help shown on every screen:**", ""]
        for sign in p.signposting:
            how = ", ".join(x for x in (sign.phone, sign.url, sign.hours) if x)
            out.append(f"- {sign.name}: {how}")
    if p.area_links:
        out += ["", "**Local services your force can set:**", ""]
        out += [f"- {a.title} (`{a.id}`; default {a.default_url})" for a in p.area_links]
    if p.sources:
        out += ["", "**Based on:**", ""]
        out += [f"- {s}" for s in p.sources]
    return out


def _outline(programme: Programme) -> str:
    minutes = checks.estimated_minutes(programme)
    return (
        outline(programme)
        + f"Estimated time from the steps: {minutes:.0f} min "
        + f"(reading at {checks.READING_WPM} words a minute)\n"
    )


def _open_pack(path: Path, pubkey: Path, identity: Path, signature: Path | None) -> pack.Pack:
    public_key = signing.PublicKey.load(pubkey)
    identities = age.parse_identity_file(identity.read_text(encoding="utf-8"))
    sig_text = signature.read_text(encoding="utf-8") if signature else None
    return pack.Pack.open(path, public_key=public_key, identities=identities, signature=sig_text)


_pack_options = [
    click.argument("pack_path", metavar="PACK", type=click.Path(dir_okay=False, path_type=Path)),
    click.option("--pubkey", required=True, type=click.Path(dir_okay=False, path_type=Path)),
    click.option("--identity", required=True, type=click.Path(dir_okay=False, path_type=Path)),
    click.option(
        "--signature",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Detached signature (default: PACK.minisig).",
    ),
]


def _with_pack_options(func: Callable[P, R]) -> Callable[P, R]:
    for option in reversed(_pack_options):
        func = option(func)
    return func


@main.command("verify")
@_with_pack_options
@_one_line_errors
def verify(pack_path: Path, pubkey: Path, identity: Path, signature: Path | None) -> None:
    """Check PACK's signature, then every chunk and every member's SHA-256."""
    with _open_pack(pack_path, pubkey, identity, signature) as opened:
        opened.verify()
        programme = opened.programme
        click.echo(
            f"OK {pack_path}: {programme.id} version {programme.version}, "
            f"{len(opened.names())} members, signed ({opened.trusted_comment})"
        )


@main.command("inspect")
@click.argument("pack_path", metavar="PACK", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--pubkey",
    envvar="CONTENT_PACK_PUBKEY",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Publisher public key (env CONTENT_PACK_PUBKEY).",
)
@click.option(
    "--identity",
    envvar="CONTENT_PACK_IDENTITY",
    type=click.Path(dir_okay=False, path_type=Path),
    help="age identity file (env CONTENT_PACK_IDENTITY).",
)
@click.option("--signature", type=click.Path(dir_okay=False, path_type=Path))
@_one_line_errors
def inspect(
    pack_path: Path, pubkey: Path | None, identity: Path | None, signature: Path | None
) -> None:
    """Print a pack's (or a source folder's) programme outline and members.

    Without --pubkey and --identity only what is visible without keys is shown:
    the age header, the payload size and the signer's trusted comment.
    """
    if pack_path.is_dir():
        loaded = authoring.load_source(pack_path)
        click.echo(_outline(loaded.programme))
        return
    if pubkey is None and identity is None:
        _inspect_sealed(pack_path, signature)
        return
    if pubkey is None or identity is None:
        raise pack.PackError("give both --pubkey and --identity to see inside the pack")
    with _open_pack(pack_path, pubkey, identity, signature) as opened:
        click.echo(_outline(opened.programme))
        click.echo("")
        click.echo(f"signed: {opened.trusted_comment}")
        click.echo(f"members ({len(opened.names())}):")
        for name in opened.names():
            entry = opened.member(name)
            click.echo(f"  {entry.size:>10}  {entry.sha256[:16]}  {name}")


def _inspect_sealed(pack_path: Path, signature: Path | None) -> None:
    with pack_path.open("rb") as f:
        header = age.read_header(f)
    size = pack_path.stat().st_size
    click.echo(f"{pack_path}: age v1 file, {size} bytes")
    stanzas, offset = len(header.stanzas), header.payload_offset
    click.echo(f"header: {stanzas} recipient stanza(s), payload at byte {offset}")
    sig_path = signature or pack.signature_path_for(pack_path)
    if sig_path.exists():
        lines = sig_path.read_text(encoding="utf-8").splitlines()
        trusted = next((ln for ln in lines if ln.startswith("trusted comment: ")), None)
        click.echo(f"signature: {sig_path} ({trusted or 'no trusted comment'}; not yet verified)")
    else:
        click.echo(f"signature: none found at {sig_path}")
    click.echo("outline: pass --pubkey and --identity to verify and decrypt")


@main.group("age")
def age_group() -> None:
    """age v1 files (interoperable with the `age` command)."""


@contextlib.contextmanager
def _output(path: Path | None) -> Iterator[BinaryIO]:
    """Yield a file that only becomes OUT (or reaches stdout) if the body succeeds."""
    target_dir = path.parent if path else None
    with tempfile.TemporaryFile(dir=target_dir) as tmp:
        yield tmp
        tmp.seek(0)
        if path is None:
            out = sys.stdout.buffer
            while chunk := tmp.read(1 << 20):
                out.write(chunk)
            out.flush()
            return
        fd, tmp_name = tempfile.mkstemp(dir=target_dir, prefix=f".{path.name}.")
        try:
            with os.fdopen(fd, "wb") as f:
                while chunk := tmp.read(1 << 20):
                    f.write(chunk)
            os.replace(tmp_name, path)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise


@contextlib.contextmanager
def _input(path: Path | None) -> Iterator[BinaryIO]:
    if path is None:
        yield sys.stdin.buffer
        return
    with path.open("rb") as f:
        yield f


@age_group.command("encrypt")
@click.option("-r", "--recipient", "recipients", required=True, multiple=True)
@click.option("-o", "--output", "output", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("input_path", metavar="[IN]", required=False, type=click.Path(path_type=Path))
@_one_line_errors
def age_encrypt(recipients: tuple[str, ...], output: Path | None, input_path: Path | None) -> None:
    """Encrypt IN (or stdin) to each RECIPIENT."""
    parsed = [age.X25519Recipient.from_str(r) for r in recipients]
    with _input(input_path) as src, _output(output) as dst:
        age.encrypt_stream(src, dst, parsed)


@age_group.command("decrypt")
@click.option(
    "-i", "--identity", "identity", required=True, type=click.Path(dir_okay=False, path_type=Path)
)
@click.option("-o", "--output", "output", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("input_path", metavar="[IN]", required=False, type=click.Path(path_type=Path))
@_one_line_errors
def age_decrypt(identity: Path, output: Path | None, input_path: Path | None) -> None:
    """Decrypt IN (or stdin); nothing is written unless the whole file authenticates."""
    identities = age.parse_identity_file(identity.read_text(encoding="utf-8"))
    with _input(input_path) as src, _output(output) as dst:
        age.decrypt_stream(src, dst, identities)


@age_group.command("keygen")
@click.option("-o", "--output", "output", type=click.Path(dir_okay=False, path_type=Path))
@_one_line_errors
def age_keygen(output: Path | None) -> None:
    """Make an X25519 identity in age-keygen's file format."""
    identity = age.X25519Identity.generate()
    recipient = identity.recipient.to_str()
    text = (
        f"# created: {datetime.now(UTC).replace(microsecond=0).isoformat()}\n"
        f"# public key: {recipient}\n{identity.to_str()}\n"
    )
    if output is None:
        click.echo(text, nl=False)
        return
    if output.exists():
        raise age.AgeError(f"{output} already exists; refusing to overwrite an identity")
    fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    click.echo(f"Public key: {recipient}", err=True)
