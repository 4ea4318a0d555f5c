"""The team's chat: Slack (a bot posting each live version, threaded per incident) and Microsoft Teams
(a Workflows incoming webhook). Listed among `Settings`'s bases."""

from pydantic import Field
from pydantic_settings import BaseSettings


class ChatSettings(BaseSettings):
    slack_bot_token: str = Field("", description=(
        "The Slack app's bot token (`xoxb-...`, scopes `chat:write` and `im:write`; see the Slack guide). "
        "Unset: the `slack` channel is simulated (the log provider)."))
    slack_channel: str = Field("", description=(
        "The Slack channel id (`C0123ABCD`) each live version is posted to; later versions of one incident "
        "are replies in the thread of its first post. The bot must be a member of it."))
    slack_signing_secret: str = Field("", description=(
        "The Slack app's signing secret (Basic Information → App Credentials): verifies each click on an "
        "approval request's Approve / Reject buttons (`v0` signatures, five-minute window). With the bot token "
        "and channel set, approvers with a Slack member id are asked in a DM; unset: no Slack approval requests, "
        "and `/webhooks/slack/interactions` answers 404."))
    slack_api_url: str = Field("", description=(
        "Where the Slack SDK sends its Web API requests (a proxy or a local fake); unset: "
        "`https://slack.com/api/`."))
    slack_rate: str = Field("1/second", description=(
        "Fleet-wide pace of posts to Slack (`chat.postMessage` allows about one a second per channel)."))
    teams_webhook_url: str = Field("", description=(
        "The Teams channel's Workflows webhook URL (\"Post to a channel when a webhook request is received\"); "
        "each live version is posted to it as an Adaptive Card. Unset: the `teams` channel is simulated."))
    teams_rate: str = Field("1/second", description="Fleet-wide pace of posts to the Teams webhook.")
