"""The words every notice shares (``templates/_words/notice.txt``), said once per statement and language.

Most channels say the same few phrases: the label, the lead, "Next update by 15:30 EST." Imported
``with context`` into each channel's template, the words template ran again for every template
that imported it (Jinja makes a new module whenever the importing context has names the imported
template does not know), and each phrase was worded again (gettext, CLDR dates) in every channel.
A statement's templates share one `NoticeWords` instead, as ``words``: ``{{ words.titled() }}``
calls the macro ``titled`` of one module made from the statement, and says the same phrase again
from what it said the first time.

A template that sets ``gsm`` (an SMS) gets its own phrases, as an import with context did: there a
span says "-" where CLDR says "–" (``filters._for_sms``). That is all ``gsm`` changes, so a
phrase with no en dash is said for an SMS as for every other channel, without running it again.
"""

from collections.abc import Callable, Hashable
from typing import Any

from jinja2 import Environment, pass_context
from jinja2.environment import TemplateModule
from jinja2.runtime import Context

NOTICE_WORDS = "_words/notice.txt"
EN_DASH = "\u2013"  # what a span says between its ends, and an SMS says as "-"


class NoticeWords:
    """``words.<macro>(...)`` in a template: that macro of ``_words/notice.txt``, for this statement.

    Each macro reads only the statement's fields and its own arguments, so what it said for a
    statement, a language (one environment) and a pair of arguments it says again unchanged."""

    def __init__(self, env: Environment, context: dict[str, Any]):
        self._env = env
        self._context = context
        self._modules: dict[bool, TemplateModule] = {}
        self._said: dict[Hashable, str] = {}

    def __getattr__(self, name: str) -> Callable:
        if name.startswith("_"):  # copy, pickle and the like: not a phrase
            raise AttributeError(name)
        if not callable(getattr(self._module(False), name, None)):
            # Jinja makes this an undefined `words.name`: a misspelt phrase is an error naming it
            raise AttributeError(f"{NOTICE_WORDS} has no macro {name!r}")
        caller = self.__dict__[name] = self._caller(name)  # found as an attribute from now on
        return caller

    def _caller(self, name: str) -> Callable:
        @pass_context
        def say(context: Context, *args: Any, **kwargs: Any) -> str:
            return self._say(name, bool(context.get("gsm")), args, kwargs)
        return say

    def _say(self, name: str, gsm: bool, args: tuple, kwargs: dict[str, Any]) -> str:
        key = (name, gsm, args, tuple(sorted(kwargs.items())) if kwargs else ())
        try:
            return self._said[key]
        except KeyError:
            pass
        except TypeError:  # an argument that cannot be a key: said afresh
            return str(getattr(self._module(gsm), name)(*args, **kwargs))
        text = None
        if gsm:
            # `gsm` changes nothing but a span's en dash: a phrase without one is the same in an SMS
            plain = self._say(name, False, args, kwargs)
            text = plain if EN_DASH not in plain else None
        if text is None:
            text = str(getattr(self._module(gsm), name)(*args, **kwargs))
        self._said[key] = text
        return text

    def _module(self, gsm: bool) -> TemplateModule:
        """The words template run once over the statement (for an SMS: once more, with ``gsm``)."""
        module = self._modules.get(gsm)
        if module is None:
            values = {**self._context, "gsm": True} if gsm else self._context
            module = self._modules[gsm] = self._env.get_template(NOTICE_WORDS).make_module(values)
        return module


@pass_context
def said(context: Context, words: Any, name: str, /, *args: Any, **kwargs: Any) -> Any:
    """The filter the compiler writes for ``words.<name>(...)`` (compiled_phrases.py): the phrase, without
    Jinja's getattr and Context.call; anything else called as Jinja would have."""
    # A phrase found before (the first time it goes through __getattr__, which checks it is a macro).
    if type(words) is NoticeWords and name in words.__dict__ and not name.startswith("_"):
        names = context.vars  # context.get("gsm") without its three calls: a template's own names first
        return words._say(name, bool(names["gsm"] if "gsm" in names else context.parent.get("gsm")), args, kwargs)
    return context.call(context.environment.getattr(words, name), *args, **kwargs)
