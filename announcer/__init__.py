"""announcer: a script in, a finished lip-synced announcer clip out.

>>> from announcer import render
>>> result = render("news.md", avatar="presenter.jpg", output="news.mp4")  # doctest: +SKIP
>>> result.outputs.video  # doctest: +SKIP
"""
from .version import __version__

__all__ = ["render", "Pipeline", "RenderRequest", "RenderResult", "RenderConfig", "__version__"]


def __getattr__(name: str):
    """The API loads on first use, so `announcer --help` and Ctrl-C while starting stay quick (torch loads with it)."""
    if name == "RenderConfig":
        from .config import RenderConfig

        return RenderConfig
    if name in __all__:
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'announcer' has no attribute '{name}'")
