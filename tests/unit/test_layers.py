"""Dependencies point one way: domain ← render/store/channels ← use cases and delivery ← web/cli/workers.
A module that imports against the direction fails here, naming the import."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "broadcaster"

# What each layer may import of the project (besides itself).
ALLOWED = {
    "domain": set(),
    "render": {"domain", "config"},
    "store": {"domain", "config"},
    # A channel may read the rows that address it (the reply channel reads the social ledger).
    "channels": {"domain", "render", "config", "contacts", "store"},
    "delivery": {"domain", "render", "store", "channels", "config", "links", "metrics", "background"},
}


def project_imports(path: Path, package: Path = PACKAGE) -> set[str]:
    """The top-level project modules a file imports (relative imports resolved)."""
    package_parts = path.relative_to(package.parent).with_suffix("").parts[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package_parts[: len(package_parts) - node.level + 1]
                parts = (*base, *(node.module.split(".") if node.module else ()))
            else:
                parts = tuple((node.module or "").split("."))
            if parts[0] == "broadcaster":
                names = [parts[1]] if len(parts) > 1 else [alias.name for alias in node.names]
                found.update(names)
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[1] for a in node.names if a.name.startswith("broadcaster."))
    return found


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_lower_layers_never_import_upper_ones(layer):
    offending = []
    for path in sorted((PACKAGE / layer).rglob("*.py")):
        if "migrations" in path.parts:
            continue
        wrong = project_imports(path) - ALLOWED[layer] - {layer}
        offending += [f"{path.relative_to(PACKAGE)} imports broadcaster.{name}" for name in sorted(wrong)]
    assert offending == []


def test_nothing_below_the_entry_points_imports_web_cli_or_workers():
    offending = []
    for path in sorted(PACKAGE.rglob("*.py")):
        top = path.relative_to(PACKAGE).parts[0]
        if top in ("web", "cli") or "migrations" in path.parts:
            continue
        wrong = project_imports(path) & {"web", "cli"}
        offending += [f"{path.relative_to(PACKAGE)} imports broadcaster.{name}" for name in sorted(wrong)]
        if "from workers" in path.read_text() or "import workers" in path.read_text():
            offending.append(f"{path.relative_to(PACKAGE)} imports workers")
    assert offending == []


def test_the_checker_resolves_relative_imports(tmp_path):
    fake = tmp_path / "broadcaster" / "domain" / "x.py"
    fake.parent.mkdir(parents=True)
    fake.write_text("from ..store.models import Delivery\nfrom .. import channels\nfrom .errors import NotFound\n")
    assert project_imports(fake, tmp_path / "broadcaster") == {"store", "channels", "domain"}
