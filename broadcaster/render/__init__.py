"""Turn a statement into one rendition per channel, and check each against its limits."""

from .environment import TemplateProblem, channel_names, render_statement
from .limits import LimitCheck, check_limits

__all__ = ["LimitCheck", "TemplateProblem", "channel_names", "check_limits", "render_statement"]
