"""What the author writes for the people around the incident, beside the public words: the agent
notes (approved answers to the questions customers will ask, what not to promise) and the internal
fields stakeholder audiences read (internal impact, customers affected, owner, ETA). Both are
optional, stored on the version, rendered into their own renditions (`templates/agent/`,
`templates/stakeholder/`) and covered by the content hash: approved in the same act as the rest."""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

MOST_ANSWERS = 20
INTERNAL_FIELDS = ("impact", "customers_affected", "owner", "eta")


class AgentAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    question: str = Field(min_length=1, max_length=300)
    answer: str = Field(min_length=1, max_length=1000)


class AgentNotesInput(BaseModel):
    """Approved answers to the likely questions, and what agents must not promise."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    answers: list[AgentAnswer] = Field(default_factory=list, max_length=MOST_ANSWERS)
    do_not_promise: str = Field(default="", max_length=1000)


class InternalNotesInput(BaseModel):
    """What stakeholders read and customers do not: each optional, each one short paragraph."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    impact: str = Field(default="", max_length=1000)
    customers_affected: str = Field(default="", max_length=300)
    owner: str = Field(default="", max_length=200)
    eta: str = Field(default="", max_length=300)


def agent_notes_of(given: AgentNotesInput | None, inherited: dict | None) -> dict[str, Any]:
    """The version's agent notes: what was given, else the base version's ({} when there are none)."""
    if given is None:
        return dict(inherited or {})
    notes: dict[str, Any] = {}
    if given.answers:
        notes["answers"] = [answer.model_dump() for answer in given.answers]
    if given.do_not_promise:
        notes["do_not_promise"] = given.do_not_promise
    return notes


def internal_notes_of(given: InternalNotesInput | None, inherited: dict | None) -> dict[str, str]:
    if given is None:
        return dict(inherited or {})
    return {name: value for name, value in given.model_dump().items() if value}


def template_values(statement: Any) -> dict[str, Any]:
    """What the agent and stakeholder templates read, whether the author wrote notes or not."""
    agent = getattr(statement, "agent_notes", None) or {}
    internal = getattr(statement, "internal_notes", None) or {}
    return {"agent_answers": list(agent.get("answers", [])), "do_not_promise": agent.get("do_not_promise", ""),
            "internal": {name: internal.get(name, "") for name in INTERNAL_FIELDS}}
