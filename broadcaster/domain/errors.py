class BroadcasterError(Exception):
    """A problem the user can fix; its message says what is wrong and where."""


class InvalidInput(BroadcasterError):
    pass


class NameTaken(InvalidInput):
    """The name given is another row's already: a conflict with what exists (the API answers 409), not a
    malformed request; still InvalidInput, so the CLI and the dashboard's forms refuse it as before."""


class NotFound(BroadcasterError):
    pass


class IllegalTransition(BroadcasterError):
    pass


class NotAllowed(BroadcasterError):
    """The actor lacks the role, or the rule forbids it (e.g. approving one's own statement)."""


class RefusedWithDetail(NotAllowed):
    """A refusal of someone who proved nothing whose message leaves out what only an operator may read
    (the address a webhook's host name resolves to: on the public form it would map a private network);
    `detail` is the whole reason, for the audit trail."""

    def __init__(self, message: str, detail: str):
        super().__init__(message)
        self.detail = detail


class LimitExceeded(BroadcasterError):
    pass


class ProviderError(BroadcasterError):
    """A provider the request needs (X, Twilio, ...) did not answer, or refused: nothing the caller typed
    is wrong, and trying again later may work."""
