"""The contact centre's helpdesk: Zendesk, where each incident's live agent notes are a shared macro.
Listed among `Settings`'s bases."""

from pydantic import Field
from pydantic_settings import BaseSettings


class HelpdeskSettings(BaseSettings):
    zendesk_subdomain: str = Field("", pattern=r"^([A-Za-z0-9][A-Za-z0-9-]{0,62})?$", description=(
        "The Zendesk account's subdomain (`acme` for `https://acme.zendesk.com`): each incident's agent notes "
        "become a shared macro there. Unset (and no `zendesk_api_url`): the `zendesk` channel is simulated."))
    zendesk_api_url: str = Field("", description=(
        "Where the Zendesk REST API is reached instead of `https://<subdomain>.zendesk.com` (a proxy, a "
        "local fake)."))
    zendesk_email: str = Field("", description=(
        "The Zendesk agent the API token acts for (an admin, or an agent allowed to manage shared macros)."))
    zendesk_api_token: str = Field("", description=(
        "A Zendesk API token (Admin Center → Apps and integrations → Zendesk API); sent as basic auth "
        "`email/token:TOKEN`."))
    zendesk_rate: str = Field("1/second", description=(
        "Fleet-wide pace of calls to the Zendesk API (a plan allows 200 to 2,500 a minute, shared with "
        "every other integration of the account)."))
