"""docs/operations.md against installer/server/: the guide may only run what the scripts accept.

Every command in the guide's sh blocks that runs one of the scripts (from the checkout or as
installed under libexec) or `intervention-kiosk-server-admin` may use only options the
script's --help lists, or the sync-server command has; every shipped file is named in the
guide; and the guide quotes the unit's command line as the unit has it. That the scripts
themselves do what the guide says is tests/installer/test_server_setup.py's job: it runs them.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import click

from sync_server.cli import main as sync_server_cli
from tests.support.deployment import read_unit

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = REPO / "installer" / "server"
GUIDE = REPO / "docs" / "operations.md"
UNIT = "intervention-kiosk-server.service"
ADMIN_COMMAND = "intervention-kiosk-server-admin"


_SCRIPT_CALL = re.compile(
    r"(?:installer/server|libexec)/([\w.-]+\.sh)\b|\b(" + ADMIN_COMMAND + r")\b"
)


def _guide_commands() -> list[list[str]]:
    """Each shell command in the guide's sh blocks that runs one of the scripts, as words
    from the script's name up to the first shell operator."""
    text = GUIDE.read_text(encoding="utf-8")
    commands = []
    for block in re.findall(r"```(?:sh|bash)\n(.*?)```", text, re.DOTALL):
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            for index, word in enumerate(words):
                if _SCRIPT_CALL.search(word) and not word.startswith("-"):
                    call = []
                    for follower in words[index:]:
                        if follower in {"|", "||", "&&", ";", "<", ">", ">>"}:
                            break
                        call.append(follower)
                    commands.append(call)
                    break
    return commands


def _help_options(name: str) -> set[str]:
    result = subprocess.run(
        [SCRIPTS / name, "--help"], capture_output=True, text=True, check=False, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return set(re.findall(r"(--[a-z0-9-]+)", result.stdout))


def test_the_guide_uses_only_options_the_scripts_have() -> None:
    commands = _guide_commands()
    named = {Path(c[0]).name for c in commands}
    assert {"install.sh", "backup.sh", "restore.sh", "healthcheck.sh", ADMIN_COMMAND} <= named
    for call in commands:
        name = Path(call[0]).name
        options = {w.split("=", 1)[0] for w in call[1:] if w.startswith("--")}
        if name == ADMIN_COMMAND:
            command = sync_server_cli.commands.get(call[1]) if len(call) > 1 else None
            assert isinstance(command, click.Command), f"not a sync-server command: {call}"
            known = {o for p in command.params for o in getattr(p, "opts", [])}
        else:
            assert (SCRIPTS / name).is_file(), f"the guide runs a missing script: {call}"
            known = _help_options(name)
        assert options <= known, f"{shlex.join(call)}: unknown {sorted(options - known)}"


def test_the_guide_names_every_shipped_file() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    missing = [p.name for p in sorted(SCRIPTS.iterdir()) if p.name not in text]
    assert missing == []


def test_the_guide_quotes_the_units_command() -> None:
    unit = read_unit(SCRIPTS / UNIT)
    command = unit["Service"]["ExecStart"].replace("@VENV@", "/opt/intervention-kiosk-server/venv")
    assert command in GUIDE.read_text(encoding="utf-8")
