"""Turn a statement into one rendition per channel; what a limit check says."""

from .environment import TemplateProblem, render_statement
from .limits import LimitCheck

__all__ = ["LimitCheck", "TemplateProblem", "render_statement"]
