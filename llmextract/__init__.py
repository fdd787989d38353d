"""llmextract: grounded quotes, events and stances from news articles, and their scores.

>>> from llmextract import extract
>>> result = extract("Ann Lee said: \\"We will win.\\"")  # doctest: +SKIP
"""

import importlib.metadata

from llmextract.article import Article, read_article
from llmextract.client import ModelClient
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
