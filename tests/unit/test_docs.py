"""The documentation cannot drift from the code: every generated page is what the code makes now
(`python scripts/docs.py` writes them), the site builds with `mkdocs build --strict` (no broken
link, anchor or page), every repository path the pages name exists, and the README stays short."""

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def load_script(name: str):
    spec = importlib.util.spec_from_file_location(f"scripts_{name}", ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


DOCS = load_script("docs")
GENERATED = DOCS.generated()


@pytest.mark.parametrize("path", sorted(GENERATED), ids=lambda p: str(p.relative_to(ROOT)))
def test_each_generated_page_is_what_the_code_makes_now(path):
    committed = path.read_text(encoding="utf-8") if path.exists() else ""
    assert GENERATED[path](committed) == committed, (
        f"{path.relative_to(ROOT)} is stale: run `python scripts/docs.py` and commit the result")


def test_the_check_mode_names_a_stale_page(tmp_path, monkeypatch):
    page = ROOT / "docs/reference/configuration.md"
    monkeypatch.setattr(DOCS, "generated", lambda: {page: lambda _: "something else\n"})
    assert DOCS.stale() == [page]
    assert DOCS.main(["--check"]) == 1


def test_the_architecture_diagram_draws_the_layers_from_the_imports():
    architecture = load_script("architecture")
    graph = architecture.package_graph()
    assert graph["domain"] == set()  # domain imports nothing of the project
    assert {unit for unit, imported in graph.items() if "web" in imported} == {"cli"}  # `serve` runs the app
    reduced = architecture.reduced({"a": {"b", "c"}, "b": {"c"}, "c": set()})
    assert reduced == {"a": {"b"}, "b": {"c"}, "c": set()}
    with pytest.raises(SystemExit, match="no <!-- generated -->"):
        architecture.with_diagram("# a page without markers\n")


def test_the_site_builds_strictly(tmp_path):
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    built = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "-f",
                            str(ROOT / "mkdocs.yml"), "-d", str(tmp_path / "site")],
                           cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert built.returncode == 0, built.stdout + built.stderr
    tour = (tmp_path / "site" / "getting-started" / "index.html").read_text(encoding="utf-8")
    assert "broadcaster preview 1 --hash" in tour  # the README's tour, included, not copied


PATH_IN_BACKTICKS = re.compile(r"`((?:broadcaster|templates|tests|bench|scripts|workers|docs)/[^`\s]*)`")


def test_every_path_the_pages_name_exists():
    missing = set()
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        for path in PATH_IN_BACKTICKS.findall(page.read_text(encoding="utf-8")):
            if any(mark in path for mark in "<*{") or "NNNN" in path:
                continue  # a pattern, not a path
            if not (ROOT / path.split("::")[0]).exists():
                missing.add(f"{page.relative_to(ROOT)}: {path}")
    assert missing == set()


def test_the_readme_is_read_in_five_minutes():
    assert len((ROOT / "README.md").read_text(encoding="utf-8").splitlines()) <= 200
