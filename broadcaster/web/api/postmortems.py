"""/api/v1: an incident's postmortem: write it in Markdown, preview it, approve it, publish it.
The same use cases as `broadcaster postmortem`; `publish` hands the emails to the workers (202)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from ...domain.approval import Actor
from ...postmortems import workflow
from ...postmortems.rendering import MOST_CHARACTERS
from ..common import settings_of
from .common import Id, allowed


class MarkdownIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    markdown: Annotated[str, Field(min_length=1, max_length=MOST_CHARACTERS,
                                   description="What happened, why, and what changes, in Markdown")]


class PostmortemApproveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    content_hash: Annotated[str, Field(min_length=12, max_length=64,
                                       description="The hash you saw in the preview (at least 12 characters)")]


postmortem_routes = APIRouter(tags=["postmortems"])


@postmortem_routes.get("/incidents/{incident_id}/postmortem")
def get_postmortem(request: Request, incident_id: Id, _: Actor = Depends(allowed("read"))) -> dict:
    """The incident's postmortem: its Markdown, its sanitised HTML, its state and approvals."""
    return workflow.of_incident(settings_of(request), incident_id)


@postmortem_routes.put("/incidents/{incident_id}/postmortem")
def write_postmortem(request: Request, incident_id: Id, body: MarkdownIn,
                     actor: Actor = Depends(allowed("draft"))) -> dict:
    """Write (or rewrite) a resolved incident's postmortem; rewriting voids earlier approvals."""
    return workflow.write(settings_of(request), actor, incident_id, body.markdown)


@postmortem_routes.post("/postmortems/preview")
def preview_postmortem(body: MarkdownIn, _: Actor = Depends(allowed("read"))) -> dict:
    """The sanitised HTML and content hash this Markdown would have; nothing is stored."""
    return workflow.preview(body.markdown)


@postmortem_routes.post("/postmortems/{postmortem_id}/approve")
def approve_postmortem(request: Request, postmortem_id: Id, body: PostmortemApproveIn,
                       actor: Actor = Depends(allowed("approve"))) -> dict:
    """One sealed approval of exactly the content hash you saw (never of a postmortem you wrote)."""
    return workflow.approve(settings_of(request), actor, postmortem_id, body.content_hash)


@postmortem_routes.post("/postmortems/{postmortem_id}/publish", status_code=202)
def publish_postmortem(request: Request, postmortem_id: Id, actor: Actor = Depends(allowed("publish"))) -> dict:
    """Publish an approved postmortem (page, feeds, Statuspage JSON); its emails go to the workers."""
    return workflow.publish(settings_of(request), actor, postmortem_id, dispatch=request.app.state.dispatch)


routes = [postmortem_routes]
