"""announcer: a script in, a finished lip-synced announcer clip out.

>>> from announcer import render
>>> result = render("news.md", avatar="presenter.jpg", output="news.mp4")  # doctest: +SKIP
>>> result.outputs.video  # doctest: +SKIP
"""
__version__ = "0.1.0"

from .api import Pipeline, RenderRequest, RenderResult, render  # noqa: E402
from .config import RenderConfig  # noqa: E402

__all__ = ["render", "Pipeline", "RenderRequest", "RenderResult", "RenderConfig", "__version__"]
