"""`broadcaster phone call`: a simulated inbound call through the phone line, in the terminal.

The call goes through the same webhooks Twilio calls (`/ivr/voice`, then each <Gather>'s action and
each <Redirect>), in this process, each request signed as Twilio signs it (with a key made for this
call alone: nothing reaches Twilio). What the line answers, TwiML, is shown as text: what is said,
where a key is asked for, and what happens. Keys come from --press, in order, or are asked for."""

import secrets
import sys
import xml.etree.ElementTree as ElementTree
from typing import Annotated, Optional

import typer
from rich.markup import escape

from ..domain.errors import InvalidInput
from .common import SURFACES, app, get_settings, out

phone_app = typer.Typer(no_args_is_help=True, help="The phone line (IVR), tried from the terminal.")
app.add_typer(phone_app, name="phone", rich_help_panel=SURFACES)
KEYS = set("0123456789*#")
MOST_STEPS = 20  # a caller pressing 2 (hear it again) for ever


@phone_app.command("call")
def phone_call(
    caller: Annotated[str, typer.Option("--from", help="The caller's number, e.g. +14155550100 (pressing the "
                                                      "call-back key records it, as a real call would).")],
    press: Annotated[Optional[list[str]], typer.Option(
        "--press", help="A key to press when the line asks for one; repeat for each question, in order. Without "
                        "it you are asked at a terminal; elsewhere, no key is pressed.")] = None,
) -> None:
    """Call the phone line as a customer would: hear the live message, press keys (1: a call back
    when it is fixed, 2: hear it again)."""
    from ..store.db import require_current_schema

    keys = list(press or [])
    for key in keys:
        if key not in KEYS:
            raise InvalidInput(f"--press {key!r}: one key of a phone keypad: 0-9, * or #")
    settings = get_settings()
    require_current_schema(settings.database_url)
    call = _Call(settings, caller)
    out.print(f"[dim]calling the phone line from {escape(caller)} (simulated: the webhooks Twilio calls, "
              "in this process)[/]", highlight=False)
    path, form = "/ivr/voice", {}
    for _ in range(MOST_STEPS):
        step = _play(call.answer(path, form), keys)
        if step is None:
            out.print("[dim]the call ends[/]")
            return
        path, form = step
    out.print(f"[dim]hung up after {MOST_STEPS} steps[/]")


class _Call:
    """One call: the full app with its settings, and Twilio's signature on every request."""

    def __init__(self, settings, caller: str):
        from twilio.request_validator import RequestValidator

        from ..web.app import create_app

        key = secrets.token_hex(16)  # for this call alone: the line checks signatures as it always does
        self.app = create_app(settings.model_copy(update={"twilio_auth_token": key, "public_url": None}))
        self.validator = RequestValidator(key)
        self.params = {"CallSid": "CA" + secrets.token_hex(16), "AccountSid": "AC" + "0" * 32, "From": caller,
                       "To": settings.twilio_from or "", "Direction": "inbound", "CallStatus": "in-progress"}

    def answer(self, path: str, form: dict[str, str]) -> ElementTree.Element:
        import anyio

        params = {**self.params, **form}
        response = anyio.run(self._post, f"http://phone.local{path}", params)
        if response.status_code != 200:
            raise InvalidInput(f"the phone line answered {response.status_code}: {response.text[:300]}")
        return ElementTree.fromstring(response.text)


    async def _post(self, url: str, params: dict[str, str]):
        """One request to the app in this process, over ASGI, as Twilio would make it over HTTP (the
        `httpx.Response`)."""
        import httpx

        signed = {"X-Twilio-Signature": self.validator.compute_signature(url, params)}
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app)) as client:
            return await client.post(url, data=params, headers=signed)


def _play(twiml: ElementTree.Element, keys: list[str]) -> tuple[str, dict[str, str]] | None:
    """Show one TwiML document; the next request (path, form) the call makes, or None when it ends."""
    for verb in twiml:
        if verb.tag == "Say":
            _say(verb)
        elif verb.tag == "Dial":
            out.print(f"[bold]puts the call through to[/] {escape(verb.text or '')}", highlight=False)
            return None
        elif verb.tag == "Redirect":
            return verb.text or "/ivr/voice", {}
        elif verb.tag == "Hangup":
            return None
        elif verb.tag == "Gather":
            for inner in verb:  # said while listening for a key
                _say(inner, f"asks for a key ({verb.get('numDigits', '1')} digit)")
            key = _key(keys, verb.get("numDigits", "1"))
            if key:
                out.print(f"[bold]you press[/] {key}")
                return verb.get("action") or "/ivr/voice", {"Digits": key}
            out.print("[dim](no key pressed)[/]")
    return None


def _say(verb: ElementTree.Element, how: str = "says") -> None:
    if verb.tag == "Say":
        out.print(f"[bold]{how}:[/] {escape((verb.text or '').strip())}", highlight=False, soft_wrap=True)


def _key(keys: list[str], digits: str) -> str:
    if keys:
        return keys.pop(0)
    if not sys.stdin.isatty():
        return ""
    while True:
        key = typer.prompt(f"press a key ({digits} digit; Enter: none)", default="", show_default=False).strip()
        if not key or key in KEYS:
            return key
        out.print("one key of a phone keypad: 0-9, * or #")
