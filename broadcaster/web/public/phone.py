"""The phone line: Twilio's inbound-call and inbound-SMS webhooks, answered with TwiML.

Every request must carry a valid X-Twilio-Signature (checked against BROADCASTER_PUBLIC_URL +
path, as for the status callbacks): anyone else gets 403 and changes nothing. What the caller
hears about the incident is the stored, approved IVR script, verbatim; the menu and the answers
around it are worded in templates/_web/ivr/ and templates/_web/sms/.

With more than one language, a call starts with a short language menu, each line in its own
language ("Para español, oprima 2"); pressing nothing goes on in the default language. The
choice travels in the URL (`lang`): the message, the menu and the answers are said in it with
TwiML's `language`, and a call-back request keeps it for the follow-up. The menu promises
exactly what the configuration does for a caller who presses 1: a text, or a call and a text.
"""

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import Gather, VoiceResponse

from ...approvals import by_phone
from ...audience.followup import follow_up_channels
from ...channels import is_simulated
from ...config import Settings
from ...delivery import receipts
from ...delivery.records import opt_out
from ...domain.errors import NotAllowed
from ...holding import emailed_links, holding_statements
from ...render.environment import environment
from ...render.languages import ivr_speech
from ...store.models import utcnow
from ...surfaces import phone
from ..common import settings_of, signed_url
from ..webhooks import TWILIO_SIGNATURE, refused_unsigned
from .status import surface_cache

router = APIRouter()  # the full app: the phone line, call-backs' words, every inbound text
# The public server (`serve --public`): the phone line and the SMS keywords, which go on while the
# database is down (what cannot be stored is spooled). Approval codes and HOLD need the full app.
public_router = APIRouter()
TWIML = "application/xml"


async def _signed_form(request: Request) -> dict[str, str]:
    """The form Twilio posted, or NotAllowed if Twilio did not sign it."""
    settings = settings_of(request)
    form = await request.form()
    receipts.verify_twilio_signature(settings, signed_url(settings, request), form,
                                      request.headers.get(TWILIO_SIGNATURE))
    return {key: str(value) for key, value in form.items()}


def _words(settings: Settings, name: str, locale: str | None = None, **context) -> str:
    locale = locale or settings.default_locale
    template = environment(settings.templates_dir, locale).get_template(f"_web/{name}")
    hint = settings.ivr_support_hints.get(locale, settings.ivr_support_hint)
    return template.render(company_name=settings.company_name, ivr_support_hint=hint,
                           status_url=settings.status_page_url, **context).strip()


def _twiml(response) -> Response:
    return Response(str(response), media_type=TWIML)


def _say(settings: Settings, parent, text: str, locale: str | None = None) -> None:
    language, voice = ivr_speech(settings, locale or settings.default_locale)
    parent.say(text, voice=voice or None, language=language)


def promise(settings: Settings) -> str:
    """What pressing 1 really gets a caller, as configured: "call" (a call back, and a text), "text" or "none"."""
    names = {ch.name for ch in follow_up_channels(settings)}
    return "call" if "call" in names else "text" if "sms" in names else "none"


def _chosen(settings: Settings, lang: str) -> str | None:
    """The caller's language from the URL, if it is one of the installation's (else the default)."""
    return lang if lang in settings.all_locales else None


def spool_of(request: Request):
    """The public server's spool (None in the full app: there a down database is an error)."""
    return getattr(request.app.state, "spool", None)


@router.post("/ivr/voice")
@public_router.post("/ivr/voice")
async def voice(request: Request, lang: str = "") -> Response:
    """An inbound call: the language menu (with more than one language), the live message, then
    1 = tell me when it is fixed, 2 = hear it again."""
    try:
        await _signed_form(request)
    except NotAllowed as exc:
        return await refused_unsigned(request, exc)
    settings = settings_of(request)
    locale = _chosen(settings, lang)
    snapshot = await run_in_threadpool(surface_cache(request).snapshot)
    message = phone.live_message(snapshot, locale or settings.default_locale)
    return _twiml(live_call(settings, message, locale))


def language_menu(settings: Settings, response: VoiceResponse) -> None:
    """'For English, press 1. Para español, oprima 2.': each line in its own language and voice."""
    gather = Gather(num_digits=1, action="/ivr/language", method="POST", timeout=2)
    for digit, tag in enumerate(settings.all_locales[:9], start=1):
        _say(settings, gather, _words(settings, "ivr/language.txt", tag, digit=digit), tag)
    response.append(gather)


def live_call(settings: Settings, message: phone.LiveMessage | None, locale: str | None = None) -> VoiceResponse:
    response = VoiceResponse()
    if message is None and settings.ivr_forward_number:
        response.dial(settings.ivr_forward_number)
        return response
    if locale is None and settings.locales:
        language_menu(settings, response)  # pressing nothing goes on below, in the default language
    if message is None:
        greeting = settings.ivr_greeting if settings.ivr_greeting and not locale else None
        _say(settings, response, greeting or _words(settings, "ivr/greeting.txt", locale), locale)
        return response
    _say(settings, response, message.script, message.language)  # the approved words, exactly as stored
    # The incident and the language travel with the menu: pressing 1 asks about what they just heard.
    query = {"incident": message.incident_id, **({"lang": locale} if locale else {})}
    language, _ = ivr_speech(settings, locale or settings.default_locale)
    gather = Gather(num_digits=1, action="/ivr/gather?" + urlencode(query), method="POST", language=language,
                    timeout=8)
    offer = "none" if message.maintenance else promise(settings)
    _say(settings, gather, _words(settings, "ivr/menu.txt", locale, promise=offer), locale)
    response.append(gather)
    _say(settings, response, _words(settings, "ivr/goodbye.txt", locale), locale)  # reached only if nothing was pressed
    return response


@router.post("/ivr/language")
@public_router.post("/ivr/language")
async def choose_language(request: Request) -> Response:
    """The caller pressed a key in the language menu: the message again, in that language."""
    try:
        form = await _signed_form(request)
    except NotAllowed as exc:
        return await refused_unsigned(request, exc)
    settings = settings_of(request)
    digit = form.get("Digits", "")
    tags = settings.all_locales[:9]
    chosen = tags[int(digit) - 1] if digit.isdigit() and 1 <= int(digit) <= len(tags) else settings.default_locale
    response = VoiceResponse()
    response.redirect("/ivr/voice?" + urlencode({"lang": chosen}), method="POST")
    return _twiml(response)


@router.post("/ivr/gather")
@public_router.post("/ivr/gather")
async def gather(request: Request, incident: int = 0, lang: str = "") -> Response:
    """The caller pressed a key after the message."""
    try:
        form = await _signed_form(request)
    except NotAllowed as exc:
        return await refused_unsigned(request, exc)
    settings = settings_of(request)
    locale = _chosen(settings, lang)
    response = VoiceResponse()
    digit = form.get("Digits", "")
    if digit == "1" and promise(settings) != "none":
        if not incident:  # a menu without the incident (an older TwiML): the one live now
            message = phone.live_message(await run_in_threadpool(surface_cache(request).snapshot))
            incident = message.incident_id if message else 0
        outcome = await run_in_threadpool(phone.request_callback, settings, incident, form.get("From"), locale,
                                          spool_of(request))
        if outcome in ("recorded", "already"):
            _say(settings, response, _words(settings, "ivr/callback_recorded.txt", locale,
                                            promise=promise(settings)), locale)
            return _twiml(response)
        if outcome != "maintenance":
            _say(settings, response, _words(settings, "ivr/callback_unavailable.txt", locale, reason=outcome),
                 locale)
            return _twiml(response)
    # 2, or any other key: the message again (what they hear now, in case it changed meanwhile)
    response.redirect("/ivr/voice" + (f"?{urlencode({'lang': locale})}" if locale else ""), method="POST")
    return _twiml(response)


@router.post("/ivr/resolved")
async def resolved_call(request: Request, statement: int = 0, lang: str = "") -> Response:
    """Twilio fetches this when a caller we call back answers (Calls API `url=`): the resolved
    statement's stored IVR call-back words, verbatim (in `lang`, the caller's language, where
    translated)."""
    try:
        await _signed_form(request)
    except NotAllowed as exc:
        return await refused_unsigned(request, exc)
    settings = settings_of(request)
    locale = _chosen(settings, lang)
    found = await run_in_threadpool(phone.resolved_script, settings, statement, locale)
    response = VoiceResponse()
    if found is None:  # not a published resolved statement: say nothing about it
        _say(settings, response, _words(settings, "ivr/goodbye.txt"))
    else:
        _say(settings, response, *found)
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
        outcome, said = await run_in_threadpool(by_phone.approve_by_sms, settings, form.get("From"), body,
                                                form.get("MessageSid"))
        response.message(_words(settings, f"approval/reply_{outcome}.txt", tz=settings.zone, now=utcnow(),
                                gsm=True, **said))
        return _twiml(response)
    if emailed_links.is_link_request(body):  # `HOLD 2`: email me a fresh link to switch it on
        outcome = await run_in_threadpool(emailed_links.send_link_by_sms, settings, form.get("From"), body,
                                          form.get("MessageSid"))
        response.message(_words(settings, f"holding/reply_{outcome}.txt", emails=not is_simulated("email", settings)))
        return _twiml(response)
    if holding_statements.is_hold_request(body):  # `HOLD 2 <pin>`: switch on a holding statement
        outcome, said = await run_in_threadpool(holding_statements.activate_by_sms, settings, form.get("From"),
                                                body, form.get("MessageSid"),
                                                getattr(request.app.state, "dispatch", None))
        response.message(_words(settings, f"holding/reply_{outcome}.txt", tz=settings.zone, now=utcnow(),
                                gsm=True, **said))
        return _twiml(response)
    return await _keyword_reply(request, settings, form, response)


@public_router.post("/webhooks/twilio/inbound")
async def inbound_keywords(request: Request) -> Response:
    """A text to our number, on the public server: STOP / START / HELP and their synonyms, applied
    (or spooled while the database is down); anything else gets no reply."""
    try:
        form = await _signed_form(request)
    except NotAllowed as exc:
        return await refused_unsigned(request, exc)
    return await _keyword_reply(request, settings_of(request), form, MessagingResponse())


async def _keyword_reply(request: Request, settings: Settings, form: dict[str, str], response) -> Response:
    keyword = phone.sms_keyword(form.get("Body"))
    if keyword is not None:
        reply = await run_in_threadpool(phone.apply_sms_keyword, settings, form.get("From"), keyword,
                                        opt_out, spool_of(request))
        response.message(_words(settings, f"sms/{reply}.txt"))
    return _twiml(response)
