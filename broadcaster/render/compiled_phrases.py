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
"""

from collections.abc import Callable
from typing import Any

from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.visitor import NodeTransformer

GETTEXT_NAMES = frozenset({"_", "gettext"})  # what environment.py installs as the catalog's gettext


class CatalogCodeGenerator(CodeGenerator):
    """Jinja's compiler, given the environment's catalog lookup (``environment.catalog_lookup``)."""

    def visit_Template(self, node: nodes.Template, frame: Frame | None = None) -> None:
        lookup = getattr(self.environment, "catalog_lookup", None)
        if lookup is not None and not _binds_gettext(node):
            node = _PhraseFolder(lookup).visit(node)
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


def _binds_gettext(tree: nodes.Template) -> bool:
    """Does the template give ``_`` or ``gettext`` a value of its own anywhere? (A ``set``, a loop or
    ``with`` target and a macro's argument are names stored or bound as parameters.)"""
    for name in tree.find_all(nodes.Name):
        if name.name in GETTEXT_NAMES and name.ctx != "load":
            return True
    for imported in tree.find_all(nodes.FromImport):  # {% from "x" import _ %}, {% from "x" import y as _ %}
        for entry in imported.names:
            if (entry[-1] if isinstance(entry, tuple) else entry) in GETTEXT_NAMES:
                return True
    return any(imported.target in GETTEXT_NAMES for imported in tree.find_all(nodes.Import))
