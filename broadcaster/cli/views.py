"""How the CLI shows things: rich panels and tables over the use cases' plain dicts."""

from rich.columns import Columns
from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from ..domain.delivery_status import PREPARING, REACHED, DeliveryStatus


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


def progress_table(statement_id: int, counts: dict[str, dict[str, int]]) -> Table:
    table = Table("channel", "total", "done", DeliveryStatus.FAILED, "retrying", DeliveryStatus.UNKNOWN, "waiting", "",
                  title=(
        f"statement {statement_id} fan-out"))
    for channel, by_status in sorted(counts.items()):
        total = sum(by_status.values())
        done = sum(by_status.get(k, 0) for k in REACHED)
        bar_width = 20
        filled = int(bar_width * done / total) if total else 0
        waiting = sum(by_status.get(k, 0) for k in (PREPARING, DeliveryStatus.PENDING, DeliveryStatus.SENDING))
        table.add_row(channel, str(total), Text(str(done), "green"),
                      Text(str(by_status.get(DeliveryStatus.FAILED, 0)), "red"),
                      Text(str(by_status.get(DeliveryStatus.RETRY, 0)), "yellow"),
                      str(by_status.get(DeliveryStatus.UNKNOWN, 0)), str(waiting),
                      Text("█" * filled + "░" * (bar_width - filled), "green"))
    return table


def print_preview(out: Console, result: dict) -> None:
    st = result["statement"]
    out.print(f"[bold]statement {st['id']}[/] incident {st['incident_id']} v{st['version']} ({st['state']}) "
              f"content hash [cyan]{result['content_hash'][:12]}[/]")
    panels = [channel_panel(name, channel) for name, channel in result["channels"].items()]
    out.print(Columns(panels, equal=True, expand=True))
    broken = [lim for ch in result["channels"].values() for lim in ch["limits"] if not lim["ok"]]
    if broken:
        out.print(f"[bold red]{len(broken)} limit(s) broken: this statement cannot be submitted.[/]")


def print_audit(out: Console, report: dict) -> None:
    for incident in report["incidents"]:
        table = Table("channel", "shows", "state", "outstanding", DeliveryStatus.FAILED,
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
    out.print("[bold red]drift: some channels are behind[/]" if report["drift"] else "all channels current")


def published_line(st: dict) -> str:
    """'statement 3 published: 4 live deliveries; fanning out to email, sms subscribers'."""
    return (f"statement {st['id']} published: {st['deliveries']} live deliveries"
            + (f"; fanning out to {', '.join(st['fan_out'])} subscribers" if st["fan_out"] else "")
            + (f"; {st['cancelled']} unsent deliveries of the previous version cancelled" if st["cancelled"] else ""))
