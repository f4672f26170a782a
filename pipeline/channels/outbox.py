"""Dry-run: an adapter that writes exactly what would be sent to outbox/ instead of a platform."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pipeline.channels.base import Artefact, ChannelAdapter, Publication, Rejected, Setup


def safe_name(item_id: str) -> str:
    """A file name from an item id ('a/b/2026-12-01/x' → 'a__b__2026-12-01__x')."""
    return re.sub(r"[^A-Za-z0-9._-]+", "__", item_id).strip("_")


class OutboxAdapter(ChannelAdapter):
    """Writes each artefact as files under `outbox/<channel>/`; never touches the network."""

    kind = "dry-run"

    def __init__(self, name: str, settings, environ, *, folder: Path, **kwargs):
        super().__init__(name, settings, environ, **kwargs)
        self.folder = folder / name

    @classmethod
    def from_settings(cls, name: str, settings: Any, setup: Setup) -> OutboxAdapter:
        """The outbox of channel `name`, in the folder config.toml names."""
        config = setup.config
        return cls(name, settings, setup.environ, now=setup.now, timeout=setup.timeout,
                   folder=config.resolve(config.settings.paths.outbox))

    def _path(self, artefact: Artefact) -> Path:
        return self.folder / f"{safe_name(artefact.item_id)}.{artefact.idempotency_key}.json"

    def publish(self, artefact: Artefact) -> Publication:
        """Write the artefact (and a bulletin's HTML and text parts) atomically."""
        path = self._write(self._path(artefact), artefact)
        return Publication(f"dry-run:{artefact.idempotency_key}", path.resolve().as_uri())

    def test_send(self, artefact: Artefact, recipients: Sequence[str]) -> str:
        """Write the test send under outbox/<channel>/tests/, each one beside the last."""
        folder = self.folder / "tests"
        stem = f"{safe_name(artefact.item_id)}.{artefact.idempotency_key}"
        n = len(list(folder.glob(f"{stem}.test-*.json"))) + 1 if folder.is_dir() else 1
        path = self._write(folder / f"{stem}.test-{n}.json", artefact,
                           {"test_to": list(recipients)})
        return f"dry run: written to {path.resolve().as_uri()}, nothing sent"

    def _write(self, path: Path, artefact: Artefact, extra: dict | None = None) -> Path:
        """Write the record at `path` (a bulletin's HTML and text parts beside it, under the
        same name: one version never overwrites another's); files already written for this
        exact artefact are left as they are, and other content under its name is refused."""
        path.parent.mkdir(parents=True, exist_ok=True)
        record: dict[str, Any] = {
            "item": artefact.item_id, "channel": self.name, "platform": self.settings.kind,
            "idempotency_key": artefact.idempotency_key, "kind": artefact.kind,
            "text": artefact.text, "link": artefact.link,
            "image": str(artefact.image) if artefact.image else "", "alt": artefact.alt,
            "facets": list(artefact.facets), "language": artefact.language,
            "gates": list(artefact.gates),
        }
        files = {}
        if artefact.kind == "bulletin":
            stem = path.name.removesuffix(".json")
            html, text = path.with_name(f"{stem}.html"), path.with_name(f"{stem}.txt")
            files = {html: artefact.html, text: artefact.text}
            record.update(subject=artefact.subject, preheader=artefact.preheader,
                          title=artefact.title,
                          send_at=artefact.send_at.isoformat() if artefact.send_at else "",
                          html_file=html.name, text_file=text.name)
        record.update(extra or {})
        files[path] = json.dumps(record, indent=2, ensure_ascii=False)
        for target, content in files.items():  # the record last: `find` trusts it
            if target.exists():
                if target.read_text(encoding="utf-8") != content:
                    raise Rejected(self.name, f"{target} already holds something else; the "
                                              f"outbox never overwrites a record")
                continue
            tmp = target.with_name(target.name + ".tmp")
            tmp.write_text(content, encoding="utf-8")
            tmp.replace(target)  # a crash never leaves a half-written file
        return path

    def find(self, artefact: Artefact) -> Publication | None:
        """The outbox record written for this artefact, if any."""
        path = self._path(artefact)
        if path.exists():
            return Publication(f"dry-run:{artefact.idempotency_key}", path.resolve().as_uri())
        return None

    def check(self) -> None:
        """Dry-run needs no credentials."""
