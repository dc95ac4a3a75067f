"""Azure OpenAI on the fake: ``AsyncAzureOpenAI`` works against it unmodified.

- :mod:`.routing` - the ASGI layer that takes Azure's URLs (``/openai/deployments/{deployment}/...``, ``/openai/...``
  and ``/openai/v1/...``), checks ``api-version`` and Azure's auth (``api-key`` or an Entra ID bearer token) as
  Azure does, and hands the request to the OpenAI routes under its ``/v1`` path, with the deployment as its model.
- :mod:`.replies` - what Azure adds to the OpenAI reply: content-filter results, and its own 429.
"""

from __future__ import annotations

from .replies import azure_reply
from .routing import AZURE_API_VERSIONS, AzureMiddleware, AzureTarget, azure_target

__all__ = ["AZURE_API_VERSIONS", "AzureMiddleware", "AzureTarget", "azure_reply", "azure_target"]
