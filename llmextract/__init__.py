"""llmextract: grounded quotes, events and stances from news articles, and their scores.

>>> from llmextract import extract
>>> result = extract("Ann Lee said: \\"We will win.\\"")  # doctest: +SKIP
"""

import importlib
import importlib.metadata
import sys
import types
from typing import TYPE_CHECKING, Any

from llmextract.errors import (
    ClusterError,
    ConfigError,
    EmbeddedModelError,
    EndpointAnswerError,
    EndpointAnswerTooLargeError,
    EndpointAuthError,
    EndpointError,
    EndpointRequestError,
    EndpointUnavailableError,
    InputError,
    LLMExtractError,
    PromptError,
)

if TYPE_CHECKING:
    from llmextract.article import Article, read_article
    from llmextract.client import ModelClient
    from llmextract.extract import aextract, extract
    from llmextract.prompts import load_prompt
    from llmextract.schemas import (
        Correction,
        DocumentResult,
        Dropped,
        Event,
        Quote,
        Span,
        Stance,
        Usage,
    )
    from llmextract.settings import Endpoint, Settings

# The rest of the public names load on first use: the model client's libraries take a
# second to import, which ``python -m llmextract`` and the pure modules need not wait for.
_LAZY = {
    "Article": "llmextract.article",
    "read_article": "llmextract.article",
    "ModelClient": "llmextract.client",
    "aextract": "llmextract.extract",
    "extract": "llmextract.extract",
    "load_prompt": "llmextract.prompts",
    "Correction": "llmextract.schemas",
    "DocumentResult": "llmextract.schemas",
    "Dropped": "llmextract.schemas",
    "Event": "llmextract.schemas",
    "Quote": "llmextract.schemas",
    "Span": "llmextract.schemas",
    "Stance": "llmextract.schemas",
    "Usage": "llmextract.schemas",
    "Endpoint": "llmextract.settings",
    "Settings": "llmextract.settings",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'llmextract' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


class _Package(types.ModuleType):
    """The package module, keeping ``llmextract.extract`` the function: importing the
    submodule of the same name would otherwise set it to the module."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "extract" and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


__all__ = [
    "Article",
    "ClusterError",
    "ConfigError",
    "Correction",
    "DocumentResult",
    "Dropped",
    "EmbeddedModelError",
    "Endpoint",
    "EndpointAnswerError",
    "EndpointAnswerTooLargeError",
    "EndpointAuthError",
    "EndpointError",
    "EndpointRequestError",
    "EndpointUnavailableError",
    "Event",
    "InputError",
    "LLMExtractError",
    "ModelClient",
    "PromptError",
    "Quote",
    "Settings",
    "Span",
    "Stance",
    "Usage",
    "aextract",
    "extract",
    "load_prompt",
    "read_article",
]

try:
    __version__ = importlib.metadata.version("llmextract")
except importlib.metadata.PackageNotFoundError:  # a source tree that was never installed
    __version__ = "unknown"
