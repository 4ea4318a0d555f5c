"""The social reply queue: customers' posts on X answered with approved words, one reply per post,
inside X's rules and limits. Use cases for the CLI and the web app (``/api/v1/social/``):

- ``pull(settings)``, ``search(settings, actor, query)``, ``inbox(settings, state=, incident_id=)``,
  ``skip(settings, actor, post_id)``, ``reply_budget(settings, queued)``, ``tick(settings)`` (beat);
- ``reply(settings, actor, post_id, variant=)``, ``propose(settings, actor, post_id, text)``,
  ``approve_text(settings, approver, post_id, seen_hash)``, ``rebase_held(settings)``.
"""

from .inbox import inbox, pull, reply_budget, search, skip, tick
from .replies import approve_text, propose, rebase_held, reply

__all__ = ["approve_text", "inbox", "propose", "pull", "rebase_held", "reply", "reply_budget", "search", "skip",
           "tick"]
