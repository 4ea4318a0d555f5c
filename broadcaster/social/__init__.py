"""The social reply queue: customers' posts on X answered with approved words, one reply per post,
inside X's rules and limits. Use cases for the CLI and the web app (``/api/v1/social/``):

- ``pull(settings, actor=None)``, ``search(settings, actor, query)``, ``skip(settings, actor, post_id)``,
  ``inbox(settings, state=, incident_id=, limit=, offset=, lane=)`` (with the counts per state and the
  budget), ``posts(...)`` (a page of posts alone), ``budget(settings)``,
  ``reply_budget(settings, queued)``, ``tick(settings)`` (beat);
- ``reply(settings, actor, post_id, variant=, statement_id=)``, ``propose(settings, actor, post_id, text)``,
  ``approve_text(settings, approver, post_id, seen_hash)``, ``rebase_held(settings)``;
- ``ledger(settings, state=, limit=, offset=)`` (the replies: queued, held and re-based, sent; ``state``
  one or a tuple of them) and
  ``live_variants(settings, incident_id=)`` (the approved words a reply may use).
"""

from .inbox import budget, inbox, posts, pull, reply_budget, search, skip
from .replies import LEDGER_STATES, approve_text, ledger, live_variants, propose, rebase_held, reply
from .scheduled import tick

__all__ = ["LEDGER_STATES", "approve_text", "budget", "inbox", "ledger", "live_variants", "posts", "propose", "pull",
           "rebase_held", "reply", "reply_budget", "search", "skip", "tick"]
