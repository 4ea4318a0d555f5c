"""The shape of the code, checked: dependencies point one way, nothing imports in a circle, no
private name crosses a module, no two modules share a name outside cli/ and web/, no module is
over 400 lines. A change against any of these fails here, naming the file.

The package graph (docs/architecture.md draws it from the same imports, `scripts/architecture.py`):

    domain ← config, render, store ← channels ← usecase ← delivery ← surfaces, people, audience
           ← approvals ← incidents ← holding, social, playbooks ← alerts ← web, cli (and workers/, bench/)
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "broadcaster"
CODE = ("broadcaster", "workers", "bench")

# What each package (or root module) may import of the project, besides itself. Every package
# and root module must be listed: a new one says where it stands.
ALLOWED: dict[str, set[str]] = {
    "domain": set(),
    "config": {"domain"},
    "render": {"domain", "config"},
    "store": {"domain", "config"},
    # A channel may read the rows that address it (the reply channel reads the social ledger).
    "channels": {"domain", "render", "config", "store"},
    "usecase": {"domain", "config", "store"},
    "delivery": {"domain", "render", "store", "channels", "config", "usecase"},
    "surfaces": {"domain", "render", "store", "channels", "config", "usecase", "delivery"},
    "people": {"domain", "store", "config", "usecase"},
    "audience": {"domain", "render", "store", "channels", "config", "usecase", "delivery", "people"},
    "approvals": {"domain", "render", "store", "channels", "config", "usecase", "delivery", "people"},
    "stakeholders": {"domain", "render", "store", "channels", "config", "usecase", "delivery", "people", "audience"},
    "incidents": {"domain", "render", "store", "channels", "config", "usecase", "delivery", "people", "audience",
                  "approvals", "stakeholders"},
    "holding": {"domain", "render", "store", "channels", "config", "usecase", "delivery", "people", "audience",
                "approvals", "incidents", "stakeholders"},
    # The agent desk reads the stored agent renditions: below the capabilities that write them.
    "agents": {"domain", "store", "config", "usecase"},
    "social": {"domain", "render", "store", "channels", "config", "usecase", "delivery", "people", "incidents"},
    "playbooks": {"domain", "render", "store", "channels", "config", "usecase", "delivery", "people", "audience",
                  "approvals", "incidents"},
    "alerts": {"domain", "render", "store", "channels", "config", "usecase", "delivery", "people", "audience",
               "approvals", "incidents", "holding", "playbooks"},
    "events": {"domain", "render", "store", "channels", "config", "usecase", "delivery"},
    "postmortems": {"domain", "render", "store", "channels", "config", "usecase", "delivery", "people", "approvals",
                    "surfaces"},
}
ENTRY_POINTS = {"web", "cli"}  # may import every capability; nothing imports them


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def python_files(*tops: str):
    for top in tops:
        for path in sorted((ROOT / top).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def imports_of(path: Path, source: str | None = None) -> list[tuple[str, str, int]]:
    """(module, name, line) for every `from module import name` and `import module` in the file,
    at any depth (an import inside a function is an import too), relative imports resolved."""
    here = module_name(path).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text() if source is None else source)):
        if isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            found += [(module, alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.Import):
            found += [(alias.name, "", node.lineno) for alias in node.names]
    return found


MODULES = {module_name(p) for p in python_files(*CODE)}


def project_target(module: str, name: str) -> str | None:
    """The project module an import reaches (`from pkg import submodule` reaches the submodule)."""
    for candidate in (f"{module}.{name}" if name else "", module):
        while candidate:
            if candidate in MODULES:
                return candidate
            candidate = candidate.rpartition(".")[0]
    return None


def unit(module: str) -> str:
    """broadcaster.delivery.chunk → delivery; broadcaster.config → config."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def test_every_package_and_root_module_has_a_place():
    units = {unit(module_name(p)) for p in python_files("broadcaster")} - {"broadcaster"}
    assert units - set(ALLOWED) - ENTRY_POINTS == set()


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_lower_layers_never_import_upper_ones(layer):
    offending = []
    for path in python_files("broadcaster"):
        if unit(module_name(path)) != layer:
            continue
        for module, name, line in imports_of(path):
            target = project_target(module, name)
            if target and target.startswith("broadcaster.") and unit(target) not in ALLOWED[layer] | {layer}:
                offending.append(f"{path.relative_to(ROOT)}:{line} imports {target}")
            if module.split(".")[0] == "workers":
                offending.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    assert offending == []


def test_no_import_cycles():
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for path in python_files(*CODE):
        me = module_name(path)
        for module, name, _ in imports_of(path):
            target = project_target(module, name)
            if target and target != me:
                graph[me].add(target)
    assert strongly_connected(graph) == []


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """The cycles of `graph` (Tarjan's components of more than one module), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_private_name_is_imported_from_another_package():
    """A name with a leading underscore is its module's own (its package's, for a private module)."""
    offending = []
    for path in python_files(*CODE):
        me = module_name(path)
        for module, name, line in imports_of(path):
            target = project_target(module, name)
            if not target:
                continue
            private_module = any(part.startswith("_") and part != "__init__" for part in target.split("."))
            my_package = me if path.name == "__init__.py" else me.rpartition(".")[0]
            same_package = target.rpartition(".")[0] == my_package
            if (name.startswith("_") and f"{module}.{name}" != target) or (private_module and not same_package):
                offending.append(f"{path.relative_to(ROOT)}:{line} imports {module}.{name}")
    assert offending == []


def test_no_two_modules_share_a_file_name_outside_cli_and_web():
    seen: dict[str, list[str]] = {}
    for path in python_files("broadcaster", "workers"):  # bench/'s file names are its commands
        rel = path.relative_to(ROOT)
        if path.name == "__init__.py" or rel.parts[:2] in (("broadcaster", "cli"), ("broadcaster", "web")):
            continue
        seen.setdefault(path.name, []).append(str(rel))
    assert {name: paths for name, paths in seen.items() if len(paths) > 1} == {}


def test_no_module_is_over_400_lines():
    long = {str(p.relative_to(ROOT)): n for p in python_files(*CODE) if (n := len(p.read_text().splitlines())) > 400}
    assert long == {}


def test_the_checker_resolves_relative_imports():
    fake = ROOT / "broadcaster" / "domain" / "x.py"
    source = "from ..store.models import Delivery\nfrom .. import channels\nfrom .errors import NotFound\n"
    assert [(m, n) for m, n, _ in imports_of(fake, source)] == [
        ("broadcaster.store.models", "Delivery"), ("broadcaster", "channels"),
        ("broadcaster.domain.errors", "NotFound")]
    assert project_target("broadcaster", "channels") == "broadcaster.channels"
    assert project_target("broadcaster.store.models", "Delivery") == "broadcaster.store.models"


def test_the_cycle_finder_finds_a_cycle():
    assert strongly_connected({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
