"""The phone line: Twilio's inbound-call and inbound-SMS webhooks, answered with TwiML.

Every request must carry a valid X-Twilio-Signature (checked against BROADCASTER_PUBLIC_URL +
path, as for the status callbacks): anyone else gets 403 and changes nothing. What the caller
hears about the incident is the stored, approved IVR script, verbatim; the menu and the answers
around it are worded in templates/_web/ivr/ and templates/_web/sms/.
"""

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import Gather, VoiceResponse

from ...approvals import by_phone
from ...config import Settings
from ...delivery import receipts
from ...delivery.records import opt_out
from ...domain.errors import NotAllowed
from ...holding import emailed_links, holding_statements
from ...render.environment import environment
from ...surfaces import phone
from ..common import settings_of, signed_url
from ..webhooks import TWILIO_SIGNATURE, refused_unsigned
from .status import surface_cache

router = APIRouter()
TWIML = "application/xml"


async def _signed_form(request: Request) -> dict[str, str]:
    """The form Twilio posted, or NotAllowed if Twilio did not sign it."""
    settings = settings_of(request)
    form = await request.form()
    receipts.verify_twilio_signature(settings, signed_url(settings, request), form,
                                      request.headers.get(TWILIO_SIGNATURE))
    return {key: str(value) for key, value in form.items()}


def _words(settings: Settings, name: str, **context) -> str:
    template = environment(settings.templates_dir).get_template(f"_web/{name}")
    return template.render(company_name=settings.company_name, ivr_support_hint=settings.ivr_support_hint,
                           status_url=settings.status_page_url, **context).strip()


def _twiml(response) -> Response:
    return Response(str(response), media_type=TWIML)


def _say(settings: Settings, parent, text: str) -> None:
    parent.say(text, voice=settings.ivr_voice, language=settings.ivr_language)


@router.post("/ivr/voice")
async def voice(request: Request) -> Response:
    """An inbound call: the live message, then 1 = call me back when fixed, 2 = hear it again."""
    try:
        await _signed_form(request)
    except NotAllowed as exc:
        return await refused_unsigned(request, exc)
    settings = settings_of(request)
    snapshot = await run_in_threadpool(surface_cache(request).snapshot)
    return _twiml(live_call(settings, phone.live_message(snapshot)))


def live_call(settings: Settings, message: phone.LiveMessage | None) -> VoiceResponse:
    response = VoiceResponse()
    if message is None:
        if settings.ivr_forward_number:
            response.dial(settings.ivr_forward_number)
        else:
            _say(settings, response, settings.ivr_greeting or _words(settings, "ivr/greeting.txt"))
        return response
    _say(settings, response, message.script)  # the approved words, exactly as stored
    # The incident travels with the menu: a caller who presses 1 asks about what they just heard.
    gather = Gather(num_digits=1, action="/ivr/gather?" + urlencode({"incident": message.incident_id}),
                    method="POST", language=settings.ivr_language, timeout=8)
    _say(settings, gather, _words(settings, "ivr/menu.txt"))
    response.append(gather)
    _say(settings, response, _words(settings, "ivr/goodbye.txt"))  # reached only if nothing was pressed
    return response


@router.post("/ivr/gather")
async def gather(request: Request, incident: int = 0) -> Response:
    """The caller pressed a key after the message."""
    try:
        form = await _signed_form(request)
    except NotAllowed as exc:
        return await refused_unsigned(request, exc)
    settings = settings_of(request)
    response = VoiceResponse()
    digit = form.get("Digits", "")
    if digit == "1":
        if not incident:  # a menu without the incident (an older TwiML): the one live now
            message = phone.live_message(await run_in_threadpool(surface_cache(request).snapshot))
            incident = message.incident_id if message else 0
        outcome = await run_in_threadpool(phone.request_callback, settings, incident, form.get("From"))
        if outcome in ("recorded", "already"):
            _say(settings, response, _words(settings, "ivr/callback_recorded.txt"))
        else:
            _say(settings, response, _words(settings, "ivr/callback_unavailable.txt", reason=outcome))
        return _twiml(response)
    # 2, or any other key: the message again (what they hear now, in case it changed meanwhile)
    response.redirect("/ivr/voice", method="POST")
    return _twiml(response)


@router.post("/ivr/resolved")
async def resolved_call(request: Request, statement: int = 0) -> Response:
    """Twilio fetches this when a caller we call back answers (Calls API `url=`): the resolved
    statement's stored IVR script, verbatim."""
    try:
        await _signed_form(request)
    except NotAllowed as exc:
        return await refused_unsigned(request, exc)
    settings = settings_of(request)
    script = await run_in_threadpool(phone.resolved_script, settings, statement)
    response = VoiceResponse()
    if script is None:  # not a published resolved statement: say nothing about it
        _say(settings, response, _words(settings, "ivr/goodbye.txt"))
    else:
        _say(settings, response, script)
    return _twiml(response)


@router.post("/webhooks/twilio/inbound")
async def inbound_sms(request: Request) -> Response:
    """A text to our number: STOP / START / HELP and their synonyms; digits only are an approver's
    approval code (`phone_approval`); `HOLD n <pin>` switches on a holding statement and `HOLD n`
    asks for its emailed link (`holding`, `holding_links`); anything else gets no reply."""
    try:
        form = await _signed_form(request)
    except NotAllowed as exc:
        return await refused_unsigned(request, exc)
    settings = settings_of(request)
    response = MessagingResponse()
    body = (form.get("Body") or "").strip()
    if body.isdigit() and body.isascii():
        outcome = await run_in_threadpool(by_phone.approve_by_sms, settings, form.get("From"), body,
                                          form.get("MessageSid"))
        response.message(_words(settings, f"approval/reply_{outcome}.txt"))
        return _twiml(response)
    if emailed_links.is_link_request(body):  # `HOLD 2`: email me a fresh link to switch it on
        outcome = await run_in_threadpool(emailed_links.send_link_by_sms, settings, form.get("From"), body,
                                          form.get("MessageSid"))
        response.message(_words(settings, f"holding/reply_{outcome}.txt"))
        return _twiml(response)
    if holding_statements.is_hold_request(body):  # `HOLD 2 <pin>`: switch on a holding statement
        outcome = await run_in_threadpool(holding_statements.activate_by_sms, settings, form.get("From"), body,
                                          form.get("MessageSid"), getattr(request.app.state, "dispatch", None))
        response.message(_words(settings, f"holding/reply_{outcome}.txt"))
        return _twiml(response)
    keyword = phone.sms_keyword(form.get("Body"))
    if keyword is not None:
        reply = await run_in_threadpool(phone.apply_sms_keyword, settings, form.get("From"), keyword,
                                        opt_out)
        response.message(_words(settings, f"sms/{reply}.txt"))
    return _twiml(response)
