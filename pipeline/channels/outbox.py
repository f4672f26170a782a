"""Dry-run: an adapter that writes exactly what would be sent to outbox/ instead of a platform."""

from __future__ import annotations

import json
import re
from pathlib import Path

from pipeline.channels.base import Artefact, ChannelAdapter, Publication


def safe_name(item_id: str) -> str:
    """A file name from an item id ('a/b/2026-12-01/x' → 'a__b__2026-12-01__x')."""
    return re.sub(r"[^A-Za-z0-9._-]+", "__", item_id).strip("_")


class OutboxAdapter(ChannelAdapter):
    """Writes each artefact as files under `outbox/<channel>/`; never touches the network."""

    kind = "dry-run"

    def __init__(self, name: str, settings, environ, *, folder: Path, **kwargs):
        super().__init__(name, settings, environ, **kwargs)
        self.folder = folder / name

    def _path(self, artefact: Artefact) -> Path:
        return self.folder / f"{safe_name(artefact.item_id)}.{artefact.idempotency_key}.json"

    def publish(self, artefact: Artefact) -> Publication:
        """Write the artefact (and a bulletin's HTML and text parts) atomically."""
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self._path(artefact)
        record = {
            "item": artefact.item_id, "channel": self.name, "platform": self.settings.kind,
            "idempotency_key": artefact.idempotency_key, "kind": artefact.kind,
            "text": artefact.text, "link": artefact.link,
            "image": str(artefact.image) if artefact.image else "", "alt": artefact.alt,
            "facets": list(artefact.facets), "language": artefact.language,
        }
        if artefact.kind == "bulletin":
            stem = path.with_suffix("")
            stem.with_suffix(".html").write_text(artefact.html, encoding="utf-8")
            stem.with_suffix(".txt").write_text(artefact.text, encoding="utf-8")
            record.update(subject=artefact.subject, preheader=artefact.preheader,
                          title=artefact.title,
                          send_at=artefact.send_at.isoformat() if artefact.send_at else "",
                          html_file=stem.with_suffix(".html").name,
                          text_file=stem.with_suffix(".txt").name)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(record, indent=2, ensure_ascii=False), encoding="utf-8")
        tmp.replace(path)  # a crash never leaves a half-written record that `find` would trust
        return Publication(f"dry-run:{artefact.idempotency_key}", path.resolve().as_uri())

    def find(self, artefact: Artefact) -> Publication | None:
        """The outbox record written for this artefact, if any."""
        path = self._path(artefact)
        if path.exists():
            return Publication(f"dry-run:{artefact.idempotency_key}", path.resolve().as_uri())
        return None

    def check(self) -> None:
        """Dry-run needs no credentials."""
