"""Every error llmextract raises on purpose derives from :class:`LLMExtractError`.

    LLMExtractError
    ├── InputError            an article or input file cannot be read as text
    ├── ConfigError           a setting, profile or prompt name is wrong
    ├── PromptError           a prompt template is missing or broken
    ├── EmbeddedModelError    the embedded model is not installed or did not start
    ├── ClusterError          the Ray cluster failed to run a batch
    └── EndpointError         the model endpoint failed
        ├── EndpointAuthError     401/403: the API key is missing or wrong
        ├── EndpointRequestError  another 4xx: the request itself is wrong
        ├── EndpointUnavailableError  connection, timeout, 429 or 5xx after all retries,
        │                             or a deadline passed
        ├── EndpointAnswerError   a task got no usable answer, even after retries and re-asks
        └── EndpointAnswerTooLargeError  an answer was larger than max_response_bytes

Messages say what went wrong and how to fix it; the CLI prints them as one line.
"""

from __future__ import annotations

__all__ = [
    "ClusterError",
    "ConfigError",
    "EmbeddedModelError",
    "EndpointAnswerError",
    "EndpointAnswerTooLargeError",
    "EndpointAuthError",
    "EndpointError",
    "EndpointRequestError",
    "EndpointUnavailableError",
    "InputError",
    "LLMExtractError",
    "PromptError",
]


class LLMExtractError(Exception):
    """Root of llmextract's own errors."""


class InputError(LLMExtractError):
    """An input (article, JSONL line, file) cannot be used."""


class ConfigError(LLMExtractError):
    """A setting, endpoint profile or option value is wrong."""


class PromptError(LLMExtractError):
    """A prompt template is missing, unreadable or fails to render."""


class EmbeddedModelError(LLMExtractError):
    """The embedded local model is not installed or failed to start."""


class ClusterError(LLMExtractError):
    """The Ray cluster failed to run a batch (llmextract batch --ray)."""


class EndpointError(LLMExtractError):
    """The model endpoint failed to give a usable answer."""


class EndpointAuthError(EndpointError):
    """The endpoint refused the credentials (HTTP 401/403)."""


class EndpointRequestError(EndpointError):
    """The endpoint rejected the request (HTTP 4xx other than 401/403/408/409/429)."""


class EndpointUnavailableError(EndpointError):
    """The endpoint could not be reached, kept failing after all retries, or a deadline passed."""


class EndpointAnswerError(EndpointError):
    """A task got no usable answer: none at all, or never the task's JSON shape."""


class EndpointAnswerTooLargeError(EndpointError):
    """An answer was larger than the endpoint's ``max_response_bytes``, decoded."""
