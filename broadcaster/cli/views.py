"""How the CLI shows things: rich panels and tables over the use cases' plain dicts."""

from rich.columns import Columns
from rich.console import Console
from rich.panel import Panel
from rich.table import Column, Table
from rich.text import Text

from ..domain.delivery_status import PREPARING, REACHED, DeliveryStatus
from ..domain.locales import plural_category
from .common import out


def channel_panel(name: str, channel: dict) -> Panel:
    # Fold, never crop with "…": the approver approves every character, a long URL included.
    body = Text(overflow="fold")
    for field, value in channel.items():
        if field in ("limits", "ok"):
            continue
        body.append(f"{field}\n", style="dim")
        body.append(f"{value}\n\n")
    for lim in channel["limits"]:
        body.append(lim["summary"], "green" if lim["ok"] else "bold red")
        if lim["detail"]:
            body.append(f"\n  {lim['detail']}", style="dim")
        body.append("\n")
    mark, colour = ("✓", "green") if channel["ok"] else ("✗", "red")
    return Panel(body, title=f"{name} {mark}", border_style=colour)


def whole(header: str, values, **options) -> Column:
    """A column never cut to "…" (a channel's name, a status: what people look for in a table): as
    wide as its longest value; the table's other columns wrap or give way instead."""
    return Column(header, no_wrap=True, min_width=max([len(header), *(len(str(v)) for v in values)]), **options)


def progress_table(statement_id: int, counts: dict[str, dict[str, int]], width: int | None = None) -> Table:
    """The fan-out by channel, for a console `width` wide (default: the terminal's). The numbers' columns
    are as wide as their headers and no channel's name is cut; the bar gets what is left, up to 20, and
    is left out under 8 (at 80 columns the table used to read "status_p…" and a headless "████████…")."""
    columns = [whole("channel", counts), *(whole(h, ()) for h in ("total", "done", DeliveryStatus.FAILED, "retrying",
                                                                   DeliveryStatus.UNKNOWN, "waiting"))]
    # Each column costs its width, a space either side and a rule: the bar's column one more rule and two spaces.
    room = (width or out.width) - sum(c.min_width + 3 for c in columns) - 1 - 3
    bar_width = min(20, room) if room >= 8 else 0
    table = Table(*columns, *([Column("progress", width=bar_width, no_wrap=True)] if bar_width else []),
                  title=f"statement {statement_id} fan-out")
    for channel, by_status in sorted(counts.items()):
        total = sum(by_status.values())
        done = sum(by_status.get(k, 0) for k in REACHED)
        filled = int(bar_width * done / total) if total else 0
        waiting = sum(by_status.get(k, 0) for k in (PREPARING, DeliveryStatus.PENDING, DeliveryStatus.SENDING))
        table.add_row(channel, str(total), Text(str(done), "green"),
                      Text(str(by_status.get(DeliveryStatus.FAILED, 0)), "red"),
                      Text(str(by_status.get(DeliveryStatus.RETRY, 0)), "yellow"),
                      str(by_status.get(DeliveryStatus.UNKNOWN, 0)), str(waiting),
                      *([Text("█" * filled + "░" * (bar_width - filled), "green")] if bar_width else []))
    return table


def print_preview(out: Console, result: dict) -> None:
    st = result["statement"]
    out.print(f"[bold]statement {st['id']}[/] incident {st['incident_id']} v{st['version']} ({st['state']}) "
              f"content hash [cyan]{result['content_hash'][:12]}[/] (covers every language)")
    out.print(f"[bold]{result['language']}[/] (the statement's own language)")
    panels = [channel_panel(name, channel) for name, channel in result["channels"].items()]
    out.print(Columns(panels, equal=True, expand=True))
    broken = [lim for ch in result["channels"].values() for lim in ch["limits"] if not lim["ok"]]
    for locale, language in result["languages"].items():
        if language.get("translated") and "channels" in language:
            out.print(f"[bold]{locale}[/] ({language['name']})")
            out.print(Columns([channel_panel(f"{name} ({locale})", channel)
                               for name, channel in language["channels"].items()], equal=True, expand=True))
            broken += [lim for ch in language["channels"].values() for lim in ch["limits"] if not lim["ok"]]
        elif language.get("required"):
            out.print(f"[bold red]{locale} ({language['name']}): no translation, and this installation requires "
                      "one: it cannot be submitted yet[/]")
        elif not language.get("translated"):
            out.print(f"[yellow]{locale} ({language['name']}): no translation; readers of {locale} get "
                      f"{language['falls_back_to']}[/]")
    if broken:
        out.print(f"[bold red]{plural(len(broken), 'limit is', 'limits are')} broken: this statement cannot be "
                  "submitted.[/]")


def plural(count: int, one: str, other: str) -> str:
    """'1 limit is', '2 limits are': the form by CLDR's plural rule (the CLI speaks English)."""
    return f"{count} {one if plural_category(count, 'en') == 'one' else other}"


def print_audit(out: Console, report: dict) -> None:
    for incident in report["incidents"]:
        channels = incident["channels"]
        table = Table(whole("channel", channels), "shows", whole("state", (ch["state"] for ch in channels.values())),
                      "outstanding", DeliveryStatus.FAILED,
                      title=f"incident {incident['incident_id']}: {incident['title']} "
                            f"(live: v{incident['live_version']})")
        for name, ch in incident["channels"].items():
            shows = f"v{ch['shows_version']}" if ch["shows_version"] else "-"
            style = "red" if ch["state"] == "behind" else ""
            table.add_row(name, shows, Text(ch["state"], style=style), str(ch["outstanding"]),
                          str(ch[DeliveryStatus.FAILED]))
        out.print(table)
    if not report["incidents"]:
        out.print("no published statements yet")
    for name, paused in report["paused"].items():
        out.print(f"[red]{name} is paused since {paused['since'][:16].replace('T', ' ')} UTC: {paused['reason']}[/]")
    if report["unproven_sends"]:
        out.print(f"[red]{plural(report['unproven_sends'], 'send', 'sends')} of the live versions logged with a "
                  "content hash that is not the hash of the words stored now (broadcaster log --verify lists them)[/]")
    out.print("[bold red]drift: some channels are behind[/]" if report["drift"] else "all channels current")


def left_out_lines(settings, st: dict) -> list[str]:
    """'not sent to sms subscribers: the notify rules leave it out: SMS gets open and resolved, ...', one
    per subscribers' channel a publish left out, in the words the Consistency page uses (one template)."""
    if not st.get("left_out"):
        return []
    from ..render.environment import environment

    why = environment(settings.templates_dir).get_template("_web/dashboard/_left_out.txt").module
    return [f"not sent to {channel} subscribers: {why.left_out(channel, reason)}"
            for channel, reason in st["left_out"].items()]


def user_said(user: dict) -> str:
    """'user 2: alice (author)': a user as `user add`, `user roles` and the demo say it."""
    return f"user {user['id']}: {user['name']} ({', '.join(user['roles'])})"


def fields_said(row: dict, *leave: str) -> str:
    """'email=c@example.com phone=+14155550123 locale=en': a subscriber as the CLI says it, its id (and
    the fields in `leave`) apart, empty ones left out."""
    return " ".join(f"{k}={v}" for k, v in row.items() if k not in ("id", *leave) and v)


def published_line(st: dict) -> str:
    """'statement 3 published: 4 live deliveries; fanning out to email, sms subscribers'."""
    return (f"statement {st['id']} published: {plural(st['deliveries'], 'live delivery', 'live deliveries')}"
            + (f"; fanning out to {', '.join(st['fan_out'])} subscribers" if st["fan_out"] else "")
            + (f"; {plural(st['cancelled'], 'unsent delivery', 'unsent deliveries')} of the previous version "
               "cancelled" if st["cancelled"] else ""))
