"""The "naive Celery" peer of bench/fanout.py: one Celery task per message, the official SDK
call and nothing else (no batching, no claim, no log, no limiter, no retries).

    python -m celery -A bench.naive_tasks worker -Q naive -c 2

Settings come from the environment: NAIVE_BROKER_URL (default redis://127.0.0.1:6379/15)
and NAIVE_FAKE_URL (where Twilio and SendGrid calls go: the bench's fake provider).
"""

import os

from celery import Celery
from celery.signals import worker_ready

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2  # the same account Broadcaster's bench settings use
SENDER = "+15005550006"
EMAIL_FROM = "status@example.com"
QUEUE = "naive"

app = Celery("naive", broker=os.environ.get("NAIVE_BROKER_URL", "redis://127.0.0.1:6379/15"))
app.conf.update(task_ignore_result=True, task_default_queue=QUEUE, worker_hijack_root_logger=False,
                broker_connection_retry_on_startup=True)

_clients: dict[str, object] = {}  # one SDK client per pool process, made after the fork


def _twilio():
    if "twilio" not in _clients:
        from twilio.rest import Client

        client = Client(ACCOUNT_SID, "token")
        client.api.base_url = os.environ["NAIVE_FAKE_URL"].rstrip("/")
        _clients["twilio"] = client
    return _clients["twilio"]


def _sendgrid():
    if "sendgrid" not in _clients:
        from sendgrid import SendGridAPIClient

        _clients["sendgrid"] = SendGridAPIClient("SG.test", host=os.environ["NAIVE_FAKE_URL"].rstrip("/"))
    return _clients["sendgrid"]


@app.task(name="naive.sms")
def sms(to: str, body: str) -> None:
    _twilio().messages.create(to=to, from_=SENDER, body=body)


@app.task(name="naive.email")
def email(address: str, subject: str, text: str, html: str) -> None:
    from sendgrid.helpers.mail import Mail

    _sendgrid().send(Mail(from_email=EMAIL_FROM, to_emails=address, subject=subject,
                          plain_text_content=text, html_content=html))


@worker_ready.connect
def _say_ready(**_kwargs) -> None:
    # The bench runs this worker at WARNING (per-task INFO lines would be overhead the peer
    # does not need) and waits for this line in the log.
    import logging

    logging.getLogger("naive").warning("naive worker ready.")
