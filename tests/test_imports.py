"""The house's import directions (docs/architecture.md, "Layout"), read from the source with `ast`.

Every import counts, a function's own `import` included: a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("pipeline", "renderers")

# The faces and the jobs: where a person or the scheduler comes in. Only these read the clock
# and the environment, and choose what runs.
ENTRY_POINTS = ("pipeline.__main__", "pipeline.cli", "pipeline.web", "pipeline.daemon")
# Loading, checking, planning and rendering: pure functions of the files and the `now` given.
DOMAIN = ("pipeline.calendar", "pipeline.check", "pipeline.config", "pipeline.content",
          "pipeline.plan", "pipeline.project", "pipeline.render", "pipeline.lint",
          "pipeline.readability", "pipeline.timing", "pipeline.tomlfile", "pipeline.validation",
          "pipeline.problems", "pipeline.errors", "pipeline.files", "pipeline.images",
          "pipeline.policy", "pipeline.states", "pipeline.redaction", "pipeline.bulletin_draft")
RUNNING = ("pipeline.workspace", "pipeline.publisher", "pipeline.housekeeping", "pipeline.jobs",
           "pipeline.scheduler", "pipeline.catalog", "pipeline.reactive")

# (whose imports, what they may not import, why). A name covers its submodules.
FORBIDDEN: list[tuple[tuple[str, ...], tuple[str, ...], str]] = [
    (("renderers",), ("pipeline",),
     "renderers are pure functions from content to what a channel receives"),
    (DOMAIN, ("pipeline.ledger", "pipeline.services", "pipeline.metrics", *RUNNING, *ENTRY_POINTS),
     "loading, checking, planning and rendering never touch the store or the faces"),
    (("pipeline.channels",), ("renderers", "pipeline.plan", "pipeline.render", "pipeline.ledger",
                              "pipeline.metrics", "pipeline.services", *RUNNING, *ENTRY_POINTS),
     "adapters receive finished artefacts and never see the plan, the ledger or the scheduler"),
    (("pipeline.ledger",), ("renderers", "pipeline.channels", "pipeline.metrics",
                            "pipeline.services", "pipeline.plan", *RUNNING, *ENTRY_POINTS),
     "the ledger is the state machine and its SQL, over the store"),
    (("pipeline.metrics",), ("pipeline.services", *RUNNING, *ENTRY_POINTS),
     "metric sources and reports are a library the services call"),
    (("pipeline.services",), ("pipeline.cli", "pipeline.web", "pipeline.daemon"),
     "the services are the one library under both faces"),
    (RUNNING, ("pipeline.cli", "pipeline.web", "pipeline.daemon"),
     "the running parts are a library the faces and the daemon hold"),
]
# (what, who alone may import it, why)
ONLY_IMPORTED_BY: list[tuple[str, tuple[str, ...], str]] = [
    ("pipeline.cli", ("pipeline.cli", "pipeline.__main__"), "the CLI is a face, nothing builds on it"),
    ("pipeline.web", ("pipeline.web", "pipeline.cli"), "the web workspace is a face; `wst serve` starts it"),
    ("pipeline.services", ("pipeline.services", *ENTRY_POINTS),
     "the services are called by the faces and the daemon, never by what they call"),
]
# (package, the only parts of the project it may import, why)
ONLY_IMPORTS: list[tuple[str, tuple[str, ...], str]] = [
    ("pipeline.store", ("pipeline.store", "pipeline.errors", "pipeline.problems", "pipeline.redaction"),
     "the store is infrastructure: one engine, the schema, migrations, the daemon lock"),
]
# Where the real clock and environment may be read, besides the entry points.
CLOCK_READERS = {
    "pipeline.workspace": "utc_now: the real clock, which the entry points pass down",
    "pipeline.metrics.collect": "collect_job: APScheduler's entry point, which can carry no objects",
}
# A cycle that is known and left for its owner; empty is the goal.
KNOWN_CYCLES = {
    frozenset({"pipeline.web.app", "pipeline.web.auth"}): "the web workspace's own (issue 13)",
}


def _name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules(root: Path = ROOT) -> dict[str, Path]:
    """Every module of the project's packages, by dotted name."""
    return {_name(p): p for package in PACKAGES for p in sorted((root / package).rglob("*.py"))}


def imports_of(tree: ast.AST, known: Iterable[str]) -> set[str]:
    """The project's modules that `tree` imports (a `from package import module` names the module)."""
    known = set(known)
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                out.add(full if full in known else node.module)
        elif isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
    return {name for name in out if name.split(".")[0] in PACKAGES}


def graph(root: Path = ROOT) -> dict[str, set[str]]:
    """Module → the project's modules it imports."""
    found = modules(root)
    return {name: imports_of(ast.parse(path.read_text(encoding="utf-8")), found)
            for name, path in found.items()}


def _under(name: str, prefixes: Iterable[str]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def violations(edges: dict[str, set[str]]) -> list[str]:
    """Every import that goes against the directions above, in words."""
    out = []
    for module, imported in sorted(edges.items()):
        for target in sorted(imported):
            for who, banned, why in FORBIDDEN:
                if _under(module, who) and _under(target, banned) and not _under(target, who):
                    out.append(f"{module} imports {target}: {why}")
            for what, importers, why in ONLY_IMPORTED_BY:
                if _under(target, (what,)) and not _under(module, importers):
                    out.append(f"{module} imports {target}: {why}")
            for package, allowed, why in ONLY_IMPORTS:
                if _under(module, (package,)) and not _under(target, allowed):
                    out.append(f"{module} imports {target}: {why}")
    return out


def cycles(edges: dict[str, set[str]]) -> list[frozenset[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in edges:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.add(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(frozenset(group))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def clock_and_environ_reads(tree: ast.AST) -> list[str]:
    """`datetime.now`, `date.today`, `time.time`, `os.environ`, `os.getenv` in `tree`, under
    whatever names they were imported as."""
    wanted = {("datetime", "now"), ("datetime", "utcnow"), ("date", "today"), ("time", "time"),
              ("os", "environ"), ("os", "getenv")}
    names = {"datetime": "datetime", "date": "date", "time": "time", "os": "os"}
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update({a.asname: a.name for a in node.names if a.asname})
        elif isinstance(node, ast.ImportFrom) and node.module in ("datetime", "os", "time"):
            for a in node.names:
                if (node.module, a.name) in wanted:   # from os import environ
                    found.add(f"{node.module}.{a.name} (line {node.lineno})")
                elif a.asname:
                    names[a.asname] = a.name
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            pair = (names.get(node.value.id, ""), node.attr)
            if pair in wanted:
                found.add(f"{pair[0]}.{pair[1]} (line {node.lineno})")
    return sorted(found)


def test_imports_go_the_documented_way() -> None:
    assert violations(graph()) == []


def test_no_module_imports_itself_back() -> None:
    assert [sorted(c) for c in cycles(graph()) if c not in KNOWN_CYCLES] == []


def test_only_the_entry_points_read_the_clock_and_the_environment() -> None:
    found = {}
    for name, path in modules().items():
        if _under(name, ENTRY_POINTS) or name in CLOCK_READERS:
            continue
        reads = clock_and_environ_reads(ast.parse(path.read_text(encoding="utf-8")))
        if reads:
            found[name] = reads
    assert found == {}


@pytest.mark.parametrize(("module", "source", "expected"), [
    ("renderers.text", "from pipeline.plan import Item\n",
     "renderers.text imports pipeline.plan: renderers are pure functions"),
    ("pipeline.services.status", "def f():\n    from pipeline.cli import main\n",
     "pipeline.services.status imports pipeline.cli: the services are the one library"),
    ("pipeline.plan", "from pipeline.services import approvals\n",
     "pipeline.plan imports pipeline.services.approvals: loading, checking"),
    ("pipeline.channels.x", "import pipeline.scheduler\n",
     "pipeline.channels.x imports pipeline.scheduler: adapters receive finished artefacts"),
    ("pipeline.store.schema", "from pipeline.config import Config\n",
     "pipeline.store.schema imports pipeline.config: the store is infrastructure"),
])
def test_a_wrong_import_is_caught(module: str, source: str, expected: str) -> None:
    """Each rule fails on a violation: one added import, read the same way as the real files."""
    edges = graph()
    edges[module] = edges[module] | imports_of(ast.parse(source), edges)
    assert any(v.startswith(expected) for v in violations(edges)), violations(edges)


def test_a_cycle_and_a_clock_read_are_caught() -> None:
    edges = graph()
    edges["pipeline.project"] = edges["pipeline.project"] | {"pipeline.check"}
    assert frozenset({"pipeline.project", "pipeline.check"}) in cycles(edges)
    assert clock_and_environ_reads(ast.parse("import os\nx = os.environ['A']\n")) == \
        ["os.environ (line 2)"]
    assert clock_and_environ_reads(ast.parse("import os as o\nfrom datetime import datetime as d\n"
                                             "x = o.environ, d.now()\n")) == \
        ["datetime.now (line 3)", "os.environ (line 3)"]
    assert clock_and_environ_reads(ast.parse("from os import environ\n")) == ["os.environ (line 1)"]
