"""Every config key, file-format key and command is documented."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from pydantic import BaseModel

from pipeline import calendar as cal
from pipeline import content
from pipeline.cli import cli
from pipeline.config import Settings
from pipeline.project import ScheduleFile

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def _keys(model: type[BaseModel], prefix: str, seen: set[type]) -> list[str]:
    """Dotted key names of a model, descending into nested models."""
    out = []
    seen = seen | {model}
    for name, field in model.model_fields.items():
        out.append(prefix + name)
        for inner in _models_in(field.annotation):
            if inner in seen:
                continue
            if _is_mapping(field.annotation):
                out += _keys(inner, f"{prefix}{name}.{_placeholder(name)}.", seen)
            else:
                out += _keys(inner, f"{prefix}{name}.", seen)
    return out


def _placeholder(name: str) -> str:
    return {"channels": "NAME", "people": "ID", "responsibilities": "WORK"}.get(name, "ID")


def _is_mapping(annotation) -> bool:
    return getattr(annotation, "__origin__", None) is dict


def _models_in(annotation) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found = []
    for arg in getattr(annotation, "__args__", ()) or ():
        found += _models_in(arg)
    return found


def test_every_config_key_is_documented():
    """docs/configuration.md names every key of config.toml as `section.key`."""
    text = (DOCS / "configuration.md").read_text()
    missing = [k for k in _keys(Settings, "", set()) if f"`{k}`" not in text and f"## [{k}" not in text]
    assert not missing, f"undocumented config keys: {missing}"


@pytest.mark.parametrize("model", [
    ScheduleFile, cal.Event, cal.ExplicitDates, cal.Campaign, cal.Cadence, cal.Blackout,
    content.PostsFile, content.Post, content.Bulletin, content.Story, content.KeyMessagesFile,
    content.Audience, content.KeyMessage, content.ChannelAuditFile, content.AuditChannel,
])
def test_every_file_format_key_is_documented(model):
    """docs/formats.md names every key of every calendar and content file."""
    text = (DOCS / "formats.md").read_text()
    forms = ("`{k}`", "{k} =", "[[{k}]]", "[{k}]", ".{k}]")
    missing = [k for k in model.model_fields if not any(f.format(k=k) in text for f in forms)]
    assert not missing, f"{model.__name__}: undocumented keys {missing}"


def _commands(group: click.Group, prefix: str = "wst") -> list[tuple[str, click.Command]]:
    out = []
    for name, command in group.commands.items():
        full = f"{prefix} {name}"
        out.append((full, command))
        if isinstance(command, click.Group):
            out += _commands(command, full)
    return out


def test_every_command_is_documented_and_has_help():
    """docs/commands.md has a heading for every command, and every command has help text."""
    text = (DOCS / "commands.md").read_text()
    for full, command in _commands(cli):
        assert command.help, f"{full} has no help text"
        if isinstance(command, click.Group):
            continue
        assert f"### `{full}`" in text, f"{full} is not documented in docs/commands.md"
        for param in command.params:
            if isinstance(param, click.Option):
                flag = max(param.opts, key=len)
                assert f"`{flag}" in text, f"{full} {flag} is not documented"


def test_readme_names_the_two_commands():
    """The README's promise to newcomers is written down."""
    text = (ROOT / "README.md").read_text()
    assert "make run" in text and "make test" in text
