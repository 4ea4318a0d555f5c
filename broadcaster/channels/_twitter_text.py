"""twitter-text's pieces that `_xlength` uses, imported without `pkg_resources`.

twitter-text reads its emoji list with `pkg_resources.resource_string` as it is imported, and importing
`pkg_resources` indexes every installed distribution first: about a tenth of a second of every
command that counts an X post (preview, submit, publish), for one file beside the module. Unless
something loaded `pkg_resources` already, that import sees a stand-in whose `resource_string` reads
the same file, and the stand-in is gone from `sys.modules` as soon as twitter-text is imported (no
dependency of Broadcaster's but twitter-text imports `pkg_resources`)."""

import sys
import types
from pathlib import Path


def resource_string(module_name: str, resource: str) -> bytes:
    """What `pkg_resources.resource_string(module_name, resource)` returns for a module installed as
    files: the bytes of `resource` in the module's folder."""
    return (Path(sys.modules[module_name].__file__).parent / resource).read_bytes()


def _import_twitter_text() -> None:
    if "pkg_resources" in sys.modules or "twitter_text.regexp.emoji" in sys.modules:
        import twitter_text.regexp.emoji  # noqa: F401 - loaded already, or pkg_resources is
        return
    stand_in = types.ModuleType("pkg_resources", "resource_string alone, for twitter-text's import")
    stand_in.resource_string = resource_string
    sys.modules["pkg_resources"] = stand_in
    try:
        import twitter_text.regexp.emoji  # noqa: F401
    finally:
        del sys.modules["pkg_resources"]


_import_twitter_text()

from twitter_text.config import config  # noqa: E402 - after the import above
from twitter_text.extract_urls import extract_urls_with_indices  # noqa: E402
from twitter_text.regexp.emoji import emoji, emoji_list, single_codepoint_emoji_raw  # noqa: E402

__all__ = ["config", "emoji", "emoji_list", "extract_urls_with_indices", "resource_string",
           "single_codepoint_emoji_raw"]
