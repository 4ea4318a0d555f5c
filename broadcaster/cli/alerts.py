"""`broadcaster alert ...`: the monitoring sources that may post alerts, the rules that turn their alerts
into draft incidents from a template, and what came in."""

from typing import Annotated, Optional

import typer
from rich.markup import escape

from ..domain.errors import InvalidInput
from .common import INCIDENTS, As, AsJson, app, get_settings, out, print_json, who

alert_app = typer.Typer(no_args_is_help=True, help="Alerts in: sources (Alertmanager, Grafana, PagerDuty, generic), "
                                                   "rules that open draft incidents from templates, what came in.")
source_app = typer.Typer(no_args_is_help=True, help="The monitoring systems that may post alerts.")
rule_app = typer.Typer(no_args_is_help=True, help="Which alerts open a draft, from which template.")
alert_app.add_typer(source_app, name="source")
alert_app.add_typer(rule_app, name="rule")
app.add_typer(alert_app, name="alert", rich_help_panel=INCIDENTS)


@source_app.command("add")
def source_add(
    name: Annotated[str, typer.Argument(help="Lower-case letters, digits and '-': the URL is /webhooks/alerts/NAME.")],
    kind: Annotated[str, typer.Option("--kind", help="alertmanager, grafana, pagerduty or generic.")],
    secret: Annotated[Optional[str], typer.Option("--secret", help=(
        "PagerDuty only: the signing secret PagerDuty showed for the webhook subscription."))] = None,
    actor: As = None,
) -> None:
    """Add a source; its token (Alertmanager, Grafana) or secret (generic) is printed this once."""
    from ..alerts import sources

    made = sources.add_source(get_settings(), who(actor), name, kind, secret)
    _print_made(made)


@source_app.command("rotate")
def source_rotate(name: str, secret: Annotated[Optional[str], typer.Option(
        "--secret", help="PagerDuty only: the new signing secret.")] = None, actor: As = None) -> None:
    """A new token or secret for a source; the old one stops working at once."""
    from ..alerts import sources

    _print_made(sources.rotate(get_settings(), who(actor), name, secret))


def _print_made(made: dict) -> None:
    out.print(f"source {made['name']} ({made['kind']}): POST {made['url']}", highlight=False, soft_wrap=True)
    if made.get("token"):
        out.print(f"bearer token (shown once): {made['token']}", highlight=False, soft_wrap=True)
    if made.get("secret"):
        out.print(f"Standard Webhooks secret (shown once): {made['secret']}", highlight=False, soft_wrap=True)


@source_app.command("list")
def source_list(as_json: AsJson = False) -> None:
    """Each source, its URL and when it last posted."""
    from ..alerts import sources

    found = sources.list_sources(get_settings())
    if as_json:
        return print_json(found)
    for x in found:
        out.print(f"{x['name']}  {x['kind']}  {x['url']}  last: {x['last_received_at'] or 'never'}", highlight=False,
                  soft_wrap=True)
    if not found:
        out.print("no alert sources: `broadcaster alert source add NAME --kind alertmanager`")


@source_app.command("remove")
def source_remove(name: str, actor: As = None) -> None:
    """Remove a source nothing came from yet (else rotate it)."""
    from ..alerts import sources

    sources.remove_source(get_settings(), who(actor), name)
    out.print(f"source {name} removed", highlight=False, soft_wrap=True)


@rule_app.command("add")
def rule_add(
    name: str,
    template: Annotated[str, typer.Option("--template", help="The statement template's name or number.")],
    match: Annotated[Optional[list[str]], typer.Option("--match", help=(
        "LABEL=VALUE ('a|b' for either, '*' for present); repeatable; none: every alert."))] = None,
    components: Annotated[Optional[list[str]], typer.Option("--component", help=(
        "Affected component; repeatable (default: the template's)."))] = None,
    impact: Annotated[Optional[str], typer.Option(help="none, minor, major, critical (default: the template's).")]
    = None,
    source: Annotated[Optional[str], typer.Option("--source", help="Only this source's alerts.")] = None,
    notify: Annotated[Optional[list[str]], typer.Option("--notify", help=(
        "A user to tell; repeatable (default: every author and approver)."))] = None,
    holding: Annotated[Optional[int], typer.Option("--holding", help=(
        "A holding statement to switch on when nobody answers the draft in time (with --holding-after)."))] = None,
    holding_after: Annotated[Optional[int], typer.Option("--holding-after", help="Minutes to wait.")] = None,
    position: Annotated[int, typer.Option(help="Rules are tried lowest first.")] = 100,
    actor: As = None,
) -> None:
    """Add a rule; its drafts are written in your name (so you cannot approve them)."""
    from ..alerts import rules
    from ..alerts.rules import RuleInput
    from ..domain.incident import Impact, parse_choice  # here: `--help` need not load Babel (domain.clock)

    matchers = {}
    for item in match or []:
        label, sep, wanted = item.partition("=")
        if not sep:
            raise InvalidInput(f"--match: {item!r} is not LABEL=VALUE")
        matchers[label.strip()] = wanted.strip()
    made = rules.add_rule(get_settings(), who(actor), RuleInput(
        name=name, template=template, matchers=matchers, components=components or [],
        impact=parse_choice(Impact, impact, "impact") if impact else None,
        source=source, notify=notify or [], holding=holding, holding_after_minutes=holding_after, position=position))
    out.print(f"rule #{made['id']} {escape(made['name'])}: {made['matchers'] or 'every alert'} → template "
              f"{escape(made['template'])}", highlight=False, soft_wrap=True)


@rule_app.command("list")
def rule_list(as_json: AsJson = False) -> None:
    """The rules, in the order they are tried."""
    from ..alerts import rules

    found = rules.list_rules(get_settings())
    if as_json:
        return print_json(found)
    for r in found:
        state = "" if r["enabled"] else " (disabled)"
        holding = f"; holding #{r['holding']} after {r['holding_after_minutes']} min" if r["holding"] else ""
        out.print(f"#{r['id']} {escape(r['name'])}{state}: {r['matchers'] or 'every alert'} from "
                  f"{r['source'] or 'any source'} → {escape(r['template'])} ({r['impact']}; "
                  f"{', '.join(r['components'])}){holding}", highlight=False, soft_wrap=True)
    if not found:
        out.print("no alert rules: `broadcaster alert rule add NAME --template T --match service=login`")


def _set_enabled(rule: str, enabled: bool, actor: str | None) -> None:
    from ..alerts import rules
    from ..alerts.rules import RuleInput

    settings = get_settings()
    by = who(actor)  # who you are, before anything else is looked up
    rule_id = rules.rule_named(settings, rule)
    current = rules.get_rule(settings, rule_id)
    given = RuleInput(**{k: current[k] for k in ("name", "matchers", "components", "impact", "source", "notify",
                                                 "position")},
                      template=str(current["template_id"]), holding=current["holding"],
                      holding_after_minutes=current["holding_after_minutes"], enabled=enabled)
    rules.change_rule(settings, by, rule_id, given)
    out.print(f"rule {escape(current['name'])} {'enabled' if enabled else 'disabled'}", highlight=False, soft_wrap=True)


@rule_app.command("enable")
def rule_enable(rule: str, actor: As = None) -> None:
    """Turn a rule on."""
    _set_enabled(rule, True, actor)


@rule_app.command("disable")
def rule_disable(rule: str, actor: As = None) -> None:
    """Turn a rule off: its alerts open nothing (they are still answered)."""
    _set_enabled(rule, False, actor)


@rule_app.command("remove")
def rule_remove(rule: str, actor: As = None) -> None:
    """Remove a rule no alert has matched yet (else disable it)."""
    from ..alerts import rules

    settings = get_settings()
    gone = rules.remove_rule(settings, who(actor), rules.rule_named(settings, rule))
    out.print(f"rule {escape(gone['name'])} removed", highlight=False, soft_wrap=True)


@alert_app.command("groups")
def alert_groups(limit: Annotated[int, typer.Option(min=1, max=1000, help="At most this many groups.")] = 50,
                 as_json: AsJson = False) -> None:
    """What came in, newest first: each group of alerts, its rule and its incident."""
    from ..alerts import service

    found = service.list_groups(get_settings(), limit)
    if as_json:
        return print_json(found)
    for g in found:
        out.print(f"{g['last_at'][:19]}  {g['source']}  {escape(g['group_key'][:60])}  {g['state']} "
                  f"({g['firing']}/{g['alerts']} firing)  rule {escape(g['rule'])} → incident {g['incident_id']}",
                  highlight=False, soft_wrap=True)
    if not found:
        out.print("no alerts have come in")
