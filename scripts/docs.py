"""Regenerate every generated page of the documentation site from the code, so none can drift:

    python scripts/docs.py           # write them
    python scripts/docs.py --check   # exit 1, naming each page, if one differs from the code

docs/reference/cli.md from the Typer app, docs/reference/api.md from the OpenAPI document,
docs/reference/configuration.md from the Settings class (scripts/reference.py writes each), and
the package diagram in docs/architecture.md from the imports (scripts/architecture.py).
tests/unit/test_docs.py runs the same check in CI.
"""

import sys
from collections.abc import Callable
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]

import architecture  # noqa: E402 - scripts/ is not a package: found through the path above
import reference  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def generated() -> dict[Path, Callable[[str], str]]:
    """Each generated file, and how its text is made from what the file holds now (a page that is
    only partly generated keeps the rest)."""
    return {
        ROOT / "docs/reference/cli.md": lambda _: reference.cli_reference(),
        ROOT / "docs/reference/api.md": lambda _: reference.api_reference(),
        ROOT / "docs/reference/configuration.md": lambda _: reference.configuration_reference(),
        ROOT / "docs/architecture.md": architecture.with_diagram,
    }


def stale() -> list[Path]:
    """The generated files whose text is not what the code makes now."""
    return [path for path, make in generated().items()
            if not path.exists() or make(path.read_text(encoding="utf-8")) != path.read_text(encoding="utf-8")]


def main(argv: list[str]) -> int:
    if "--check" in argv:
        for path in (found := stale()):
            print(f"{path.relative_to(ROOT)} is stale: run `python scripts/docs.py`", file=sys.stderr)
        return 1 if found else 0
    for path, make in generated().items():
        old = path.read_text(encoding="utf-8") if path.exists() else ""
        new = make(old)
        if new != old:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(new, encoding="utf-8")
            print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
