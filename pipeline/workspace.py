"""One open pipeline, as a face (the CLI, the web workspace) or the daemon holds it: the catalog
in force, the store and its ledger, the alerts and the channel adapters."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pipeline.alerts import Alerts
from pipeline.catalog import Catalog
from pipeline.channels.pool import Adapters
from pipeline.ledger import Ledger, ledger_key
from pipeline.plan import Item
from pipeline.problems import InputError
from pipeline.project import Project
from pipeline.reactive import ReactiveStore
from pipeline.store import Store, open_store


@dataclass
class Fingerprint:
    """The modification state of everything the plan is made from."""

    value: tuple

    @classmethod
    def of(cls, ws: Workspace) -> Fingerprint:
        """Every input file's time and size, and the reactive posts saved in the store."""
        config = ws.config
        paths = [Path(ws.config_path)]
        for folder in (config.schedules_dir, config.content_dir):
            if folder.is_dir():
                paths += sorted(p for p in folder.rglob("*") if p.is_file())
        stats = []
        for p in paths:
            try:
                st = p.stat()
            except FileNotFoundError:
                continue
            stats.append((str(p), st.st_mtime_ns, st.st_size))
        # a reactive post scheduled with `wst post --at` changes the plan too
        return cls((*stats, ws.reactive.signature()))


def utc_now() -> datetime:
    """The real clock; only the entry points pass it in."""
    return datetime.now(UTC)


class Workspace:
    """The loaded project, its store, and what acts on both."""

    def __init__(self, config_path: Path, environ: Mapping[str, str], *,
                 clock: Callable[[], datetime] = utc_now, store: Store | None = None):
        self.config_path = str(Path(config_path).resolve())
        self.environ = environ
        self.clock = clock
        catalog = Catalog.load(Path(self.config_path))  # InputError: nothing is opened
        self.store = store or open_store(
            catalog.config.store_url, stale_after=catalog.config.settings.store.lock_stale_seconds)
        self.ledger = Ledger(self.store)
        self.reactive = ReactiveStore(self.store)
        self._use(catalog.with_reactive(self.reactive.all()))

    def _use(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.alerts = Alerts(catalog.config, self.environ)
        self.adapters = Adapters(catalog.config, self.environ, self.store, self.clock,
                                 catalog.dry_run_for)

    @property
    def config(self):
        """The config in force (pipeline.config.Config)."""
        return self.catalog.config

    def reload(self, now: datetime) -> bool:
        """Re-read config, calendar and content; on any error keep what was loaded and alert."""
        try:
            catalog = Catalog.load(Path(self.config_path), self.reactive.all())
        except InputError as exc:
            self.alerts.send("invalid-input", "an edit broke the calendar or content; the last "
                             "good version is still in use",
                             "\n".join(str(p) for p in exc.problems), now)
            return False
        self._use(catalog)
        return True

    def adopt(self, project: Project) -> None:
        """Use a project already loaded and checked (a save from the workspace, checked with
        the edit in place before it was written), instead of reading the files again."""
        self._use(Catalog(project.config, project, self.reactive.all()))

    def refresh_reactive(self) -> None:
        """Take in reactive posts saved since the catalog was loaded."""
        self.catalog = self.catalog.with_reactive(self.reactive.all())

    def key(self, item: Item) -> str:
        """The ledger key of an item as this config publishes it (live, or a dry-run rehearsal)."""
        return ledger_key(item.id, item.channel, item.version, self.catalog.dry_run_for(item.channel))

    def close(self) -> None:
        """Release the store's connections."""
        self.store.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
