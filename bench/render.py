"""Render and check every channel of one statement, over 1,000 different statements.

    python bench/render.py [--statements N] [--locales es,ja]

Each statement is rendered and limit-checked in its own language and in each translation of
`--locales` (default: Spanish and Japanese, the catalogs that ship; `--locales ""` for none), as
submit does. Prints p50 and p99 per statement in milliseconds, and the same for the floor: the bare
Jinja templates of every language rendered with no tidying and no limit checks (given what every
template of a statement reads, `statement_context`: its fields and the shared phrases, `words`,
each said once per statement and language as rendering does), in the same run
(BENCHMARKS.md: figures are ratios measured side by side, never absolute times alone). The floor
renders through the same environments, so it has their compiled-in phrases and ``said``
(render/compiled_phrases.py); a second floor, "plain Jinja", renders the same templates as Jinja
ships (its compiler, its tojson, each phrase looked up at render time), for comparison with
before those. Each is measured twice: in this process's CPU time (what a busy shared machine
inflates least) and in wall time.
"""

import argparse
import random
import statistics
import string
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repo root: tests.unit.render.contexts

from jinja2.compiler import CodeGenerator
from jinja2.filters import do_tojson

from broadcaster.channels import check_limits
from broadcaster.config import Settings
from broadcaster.render import render_statement
from broadcaster.render.environment import channel_templates, environment, statement_context
from tests.unit.render.contexts import complete

WORDS = {
    "en": ["login", "payments", "delayed", "customers", "error", "mobile", "app", "region", "investigating",
           "some", "cannot", "access", "their", "accounts", "we", "are", "working", "on", "a", "fix", "🔥", "é"],
    "es": ["inicio", "de", "sesión", "pagos", "retrasados", "clientes", "error", "aplicación", "móvil", "región",
           "algunos", "no", "pueden", "acceder", "a", "sus", "cuentas", "estamos", "trabajando", "en", "🔥", "ñ"],
    "ja": ["ログイン", "お支払い", "遅延", "お客様", "エラー", "モバイル", "アプリ", "地域", "調査中", "一部の",
           "アクセス", "できません", "アカウント", "対応中", "修正", "🔥", "、"],
}


def random_statement(rng: random.Random, i: int, locale: str = "en") -> dict:
    def words(n: int) -> str:
        return (" " if locale != "ja" else "").join(rng.choice(WORDS[locale]) for _ in range(n))

    when = datetime(2026, 11, 23, 14, 0, tzinfo=UTC) + timedelta(minutes=rng.randint(15, 240))
    return complete({
        "incident_id": i, "incident_title": words(3), "version": rng.randint(1, 9),
        "status": rng.choice(["investigating", "identified", "monitoring", "resolved"]),
        "impact": rng.choice(["minor", "major", "critical"]), "components": rng.sample(["API", "Login", "Web"], 2),
        "headline": words(rng.randint(4, 10)), "body": words(rng.randint(10, 60)) + " <b>" +
        "".join(rng.choices(string.ascii_letters, k=8)) + "</b>",
        "workaround": words(rng.randint(0, 12)), "next_update_at": when.isoformat(), "next_update": when,
        "company": "Example Co", "status_url": "https://status.example.com", "support_url": "https://help.example.com",
        "ivr_support_hint": "our website", "tz": "UTC", "now": datetime(2026, 11, 23, 14, 0, tzinfo=UTC),
    })


# A template may read its channel's other rendered fields (`this.subject`, `this.script`): empty in the floor.
ANY_FIELD = defaultdict(str)


def plain_jinja(env):
    """The environment as Jinja ships it: no phrase compiled in, words.x() and tojson as Jinja calls them."""
    plain = env.overlay()
    plain.code_generator_class, plain.catalog_lookup = CodeGenerator, None
    plain.filters = {name: f for name, f in env.filters.items() if name != "said"} | {"tojson": do_tojson}
    plain.templates_by_name = {}
    return plain


def percentile(samples: list[float], p: float) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[int(p) - 1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--statements", type=int, default=1000)
    parser.add_argument("--locales", default="es,ja", help="the translations of every statement (comma-separated)")
    args = parser.parse_args()
    settings = Settings(_env_file=None)
    templates: Path = settings.templates_dir
    locales = ["en", *(tag for tag in args.locales.split(",") if tag)]
    rng = random.Random(7)
    statements = [{tag: random_statement(rng, i, tag) for tag in locales} for i in range(args.statements)]

    # Warm up: template compilation and the lazy twitter-text import are one-off costs.
    for tag in locales:
        check_limits(render_statement(templates, statements[0][tag], locale=tag), settings)
    envs = {tag: environment(templates, tag) for tag in locales}
    plain_envs = {tag: plain_jinja(env) for tag, env in envs.items()}
    names = [n for ns in channel_templates(templates).values() for n in ns]
    for tag, env in plain_envs.items():  # compiled before the clock starts, as the others are
        for name in names:
            env.get_template(name).render({**statement_context(env, statements[0][tag]), "this": ANY_FIELD})

    ours, floor, plain, violations = [], [], [], 0
    ours_cpu, floor_cpu, plain_cpu = [], [], []  # CPU time of this process: what a busy machine inflates least
    for translated in statements:
        start, cpu = time.perf_counter(), time.process_time()
        for tag, ctx in translated.items():
            violations += sum(not c.ok for c in check_limits(render_statement(templates, ctx, locale=tag), settings))
        ours.append((time.perf_counter() - start) * 1000)
        ours_cpu.append((time.process_time() - cpu) * 1000)
        start, cpu = time.perf_counter(), time.process_time()
        for tag, ctx in translated.items():
            shared = statement_context(envs[tag], ctx)  # the phrases every notice shares, said once a language
            for name in names:
                envs[tag].get_template(name).render({**shared, "this": ANY_FIELD})
        floor.append((time.perf_counter() - start) * 1000)
        floor_cpu.append((time.process_time() - cpu) * 1000)
        start, cpu = time.perf_counter(), time.process_time()
        for tag, ctx in translated.items():
            shared = statement_context(plain_envs[tag], ctx)
            for name in names:
                plain_envs[tag].get_template(name).render({**shared, "this": ANY_FIELD})
        plain.append((time.perf_counter() - start) * 1000)
        plain_cpu.append((time.process_time() - cpu) * 1000)

    print(f"statements: {len(statements)}, languages: {', '.join(locales)}, "
          f"channels: {len(channel_templates(templates))}, "
          f"templates: {len(names)}, limit violations found: {violations}")
    for what, mine, bare, jinja in (("CPU", ours_cpu, floor_cpu, plain_cpu), ("wall", ours, floor, plain)):
        p50, p99 = percentile(mine, 50), percentile(mine, 99)
        f50, f99 = percentile(bare, 50), percentile(bare, 99)
        print(f"{what} floor (plain jinja): p50 {percentile(jinja, 50):.3f} ms  p99 {percentile(jinja, 99):.3f} ms")
        print(f"{what} floor (bare jinja): p50 {f50:.3f} ms  p99 {f99:.3f} ms")
        print(f"{what} render: {len(statements)} statements; p50 {p50:.3f} ms; p99 {p99:.3f} ms; "
              f"{p50 / f50:.1f}x the bare-jinja floor at p50")


if __name__ == "__main__":
    main()
