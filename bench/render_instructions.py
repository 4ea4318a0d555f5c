"""Instructions a statement takes to render and check, counted by callgrind: what a shared machine's
load does not change (the same count to 0.02 % run to run), for comparing two versions of the code.

    python bench/render_instructions.py [--statements 20] [--locales es,ja]

Starts itself under valgrind with instrumentation off, warms up (imports, compiling the templates,
one statement), switches instrumentation on (``callgrind_control -i on``) and counts only inside
the one ``operator.call`` that renders and checks the statements (``--toggle-collect``). Prints the
instructions per statement. Needs valgrind; takes a minute or two for 20 statements.
"""

import argparse
import operator
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repo root: tests.unit.render.contexts


def measured(statements: int, locales: str, go: Path) -> None:
    """Under valgrind: warm up, say so, wait for instrumentation, then render and check inside operator.call."""
    from bench.render import random_statement
    from broadcaster.channels import check_limits
    from broadcaster.config import Settings
    from broadcaster.render import render_statement

    settings = Settings(_env_file=None)
    tags = ["en", *(tag for tag in locales.split(",") if tag)]
    rng = random.Random(7)
    translated = [{tag: random_statement(rng, i, tag) for tag in tags} for i in range(statements + 1)]
    for tag, context in translated[0].items():
        check_limits(render_statement(settings.templates_dir, context, locale=tag), settings)

    def run() -> None:
        for statement in translated[1:]:
            for tag, context in statement.items():
                check_limits(render_statement(settings.templates_dir, context, locale=tag), settings)

    print("ready", flush=True)
    while not go.exists():
        time.sleep(0.2)
    operator.call(run)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--statements", type=int, default=20)
    parser.add_argument("--locales", default="es,ja")
    parser.add_argument("--go", help=argparse.SUPPRESS)  # set when running under valgrind
    args = parser.parse_args()
    if args.go:
        return measured(args.statements, args.locales, Path(args.go))
    with tempfile.TemporaryDirectory() as folder:
        go, out = Path(folder) / "go", Path(folder) / "callgrind.out"
        valgrind = subprocess.Popen(
            ["valgrind", "--tool=callgrind", "--instr-atstart=no", "--collect-atstart=no",
             "--toggle-collect=_operator_call", f"--callgrind-out-file={out}", sys.executable, __file__,
             "--statements", str(args.statements), "--locales", args.locales, "--go", str(go)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert valgrind.stdout is not None and valgrind.stdout.readline().strip() == "ready"
        subprocess.run(["callgrind_control", "-i", "on", str(valgrind.pid)], check=True, capture_output=True)
        go.touch()
        _, log = valgrind.communicate()
        counted = next(int(line.split()[-1].replace(",", "")) for line in log.splitlines() if "Collected" in line)
    print(f"{os.path.basename(os.getcwd())}: en,{args.locales}: {counted:,} instructions for {args.statements} "
          f"statements: {counted / args.statements / 1e6:.2f} M a statement")


if __name__ == "__main__":
    main()
