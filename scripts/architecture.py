"""The package diagram of docs/architecture.md, drawn from the imports themselves:

    python scripts/architecture.py   # (or python scripts/docs.py, which writes every generated page)

A node is a package of `broadcaster` (or a root module such as config.py), plus `workers`; an
arrow A → B says that A imports B. An arrow already implied by a longer path (web → domain, when
web → incidents → … → domain) is left out, so what is drawn is the layering. The Mermaid text goes
between the page's `<!-- generated -->` and `<!-- /generated -->` markers; the rest of the page is
prose and stays as written. tests/unit/test_docs.py fails when the committed diagram is stale.
"""

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "architecture.md"
START, END = "<!-- generated -->", "<!-- /generated -->"


def unit_of(module: str) -> str:
    """broadcaster.delivery.chunk → delivery; broadcaster.config → config; workers.tasks → workers."""
    parts = module.split(".")
    return parts[1] if parts[0] == "broadcaster" and len(parts) > 1 else parts[0]


def module_of(path: Path) -> list[str]:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return parts[:-1] if parts[-1] == "__init__" else parts


def imported_modules(path: Path) -> set[str]:
    """Every project module `path` imports, at any depth, relative imports resolved."""
    here = module_of(path)
    package = here if path.name == "__init__.py" else here[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            # `from broadcaster import channels` reaches broadcaster.channels
            found |= {f"{module}.{alias.name}" if module == "broadcaster" else module for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return {m for m in found if m.split(".")[0] in ("broadcaster", "workers") and m != "broadcaster"}


def package_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for top in ("broadcaster", "workers"):
        for path in sorted((ROOT / top).rglob("*.py")):
            if "migrations" in path.parts or module_of(path) == ["broadcaster"]:
                continue
            me = unit_of(".".join(module_of(path)))
            graph.setdefault(me, set())
            graph[me] |= {unit_of(m) for m in imported_modules(path)} - {me}
    return graph


def reduced(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """The transitive reduction: A → B only when no other path leads from A to B."""

    def reachable(start: str, skip_edge: tuple[str, str]) -> set[str]:
        seen, todo = set(), [start]
        while todo:
            node = todo.pop()
            for nxt in graph.get(node, ()):
                if (node, nxt) != skip_edge and nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    return {a: {b for b in targets if b not in reachable(a, (a, b))} for a, targets in graph.items()}


def diagram() -> str:
    edges = reduced(package_graph())
    lines = ["```mermaid", "graph TD"]
    for a in sorted(edges):
        lines += [f"    {a} --> {b}" for b in sorted(edges[a])]
    lines.append("```")
    return "\n".join(lines)


def with_diagram(page: str) -> str:
    """`page` with the diagram between its markers replaced by the one the imports draw now."""
    if START not in page or END not in page:
        raise SystemExit(f"{PAGE.relative_to(ROOT)}: no {START} ... {END} markers to write the diagram between")
    head, rest = page.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{diagram()}\n{END}{tail}"


if __name__ == "__main__":
    text = PAGE.read_text(encoding="utf-8")
    if (new := with_diagram(text)) != text:
        PAGE.write_text(new, encoding="utf-8")
        print(f"wrote {PAGE.relative_to(ROOT)}")
    sys.exit(0)
