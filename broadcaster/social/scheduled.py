"""The social queue's periodic job (beat, or the embedded server's loop)."""

from ..channels import channel
from ..config import Settings
from ..usecase import unit_of_work
from .inbox import open_incident_id, pull
from .replies import rebase_held


def tick(settings: Settings) -> dict:
    """Beat's social job: re-base held replies; pull mentions while an incident is open and X is set up."""
    result: dict = {"rebased": rebase_held(settings)}
    with unit_of_work(settings) as s:
        open_now = open_incident_id(s) is not None
    if open_now and channel("x").configured(settings) and not settings.simulate:
        result["pull"] = pull(settings)
    return result
