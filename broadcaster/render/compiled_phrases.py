"""A language's fixed phrases looked up in its catalog once, when a template is compiled, not at every render.

Each language has its own environment (``environment.py``), so a template is compiled once per
language, and the catalog of that language is fixed for the environment's life. A phrase with no
variables (``{{ _("When:") }}``, ``{% trans %}Details: {{ status_url }}{% endtrans %}`` has one) was
a call through Jinja's ``Context.call`` to the catalog at every render: about 40 a template set and
language, the same answer every time. Here the compiler is given the answer instead:

    _("When:")                      →  "Cuándo:"            (folded into the template's text)
    gettext("Next update by %(time)s.", time=x)  →  "Próxima actualización: %(time)s." % {"time": x}

which is what the environment's gettext (``environment._gettext``) computes at render time: the
catalog's text, marked safe where the template autoescapes, ``%``-formatted with the variables
(always, as Jinja's newstyle gettext does: ``%%`` becomes ``%`` even with none). The words are the
same, byte for byte; only the lookup moved.

Left as calls: a template that binds ``_`` or ``gettext`` itself (a loop variable, a ``set``, a
macro argument, an import), a message that is not a literal string, and ngettext/pgettext.

The shared phrases (``words.titled()``, ``words.affected(day=True)``: notice_words.py), about 30 a
language, are each a lookup in what the statement said already, but went through two of Jinja's
general calls first (``environment.getattr``, then ``Context.call``). They are compiled as the
filter ``said`` instead (``words | said("affected", day=True)``), which Jinja calls directly; for
anything but a statement's `NoticeWords` it makes those same two calls. Left as they were: in a
template that binds ``words`` itself, and inside a loop or a block (where Jinja's call gives the
phrase a context with the loop's names: ``gsm`` could be one).
"""

from collections.abc import Callable
from typing import Any

from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.visitor import NodeTransformer

GETTEXT_NAMES = frozenset({"_", "gettext"})  # what environment.py installs as the catalog's gettext
WORDS = "words"  # environment.statement_context's name for the shared phrases
SAID = "said"  # the filter that says one (notice_words.said)


class CatalogCodeGenerator(CodeGenerator):
    """Jinja's compiler, given the environment's catalog lookup (``environment.catalog_lookup``)."""

    def visit_Template(self, node: nodes.Template, frame: Frame | None = None) -> None:
        lookup = getattr(self.environment, "catalog_lookup", None)
        if lookup is not None and not _binds(node, GETTEXT_NAMES):
            node = _PhraseFolder(lookup).visit(node)
        if SAID in self.environment.filters and not _binds(node, {WORDS}):
            node = _WordsSaid().visit(node)
        super().visit_Template(node, frame)


class _PhraseFolder(NodeTransformer):
    def __init__(self, lookup: Callable[[str], str]):
        self._lookup = lookup

    def visit_Call(self, node: nodes.Call) -> Any:
        node = self.generic_visit(node)  # a phrase inside a phrase's variables, too
        callee = node.node
        if not (isinstance(callee, nodes.Name) and callee.name in GETTEXT_NAMES and callee.ctx == "load"
                and len(node.args) == 1 and isinstance(node.args[0], nodes.Const)
                and isinstance(node.args[0].value, str) and node.dyn_args is None and node.dyn_kwargs is None):
            return node
        text = nodes.MarkSafeIfAutoescape(nodes.Const(self._lookup(node.args[0].value)), lineno=node.lineno)
        variables = nodes.Dict([nodes.Pair(nodes.Const(kw.key), kw.value, lineno=node.lineno) for kw in node.kwargs],
                               lineno=node.lineno)
        # Jinja's compiler folds this into the template's text where every value is a constant
        # (Mod.as_const), and leaves it to run, with the same result or error, where it is not.
        return nodes.Mod(text, variables, lineno=node.lineno)


class _WordsSaid(NodeTransformer):
    """``words.name(...)`` → ``words | said("name", ...)``, outside loops and blocks."""

    def visit_For(self, node: nodes.For) -> nodes.For:
        return node

    def visit_Block(self, node: nodes.Block) -> nodes.Block:
        return node

    def visit_Call(self, node: nodes.Call) -> Any:
        node = self.generic_visit(node)
        callee = node.node
        if not (isinstance(callee, nodes.Getattr) and isinstance(callee.node, nodes.Name)
                and callee.node.name == WORDS and callee.node.ctx == "load" and not callee.attr.startswith("_")
                and node.dyn_args is None and node.dyn_kwargs is None):
            return node
        return nodes.Filter(callee.node, SAID, [nodes.Const(callee.attr), *node.args], node.kwargs, None, None,
                            lineno=node.lineno)


def _binds(tree: nodes.Template, names: set[str] | frozenset[str]) -> bool:
    """Does the template give one of `names` a value of its own anywhere? (A ``set``, a loop or
    ``with`` target and a macro's argument are names stored or bound as parameters.)"""
    for name in tree.find_all(nodes.Name):
        if name.name in names and name.ctx != "load":
            return True
    for imported in tree.find_all(nodes.FromImport):  # {% from "x" import _ %}, {% from "x" import y as _ %}
        for entry in imported.names:
            if (entry[-1] if isinstance(entry, tuple) else entry) in names:
                return True
    return any(imported.target in names for imported in tree.find_all(nodes.Import))
