"""The API's resources, one module each; reached through the client (``client.chat.completions``...)."""

from __future__ import annotations

from .batches import Batches
from .chat import Chat
from .completions import Completions
from .embeddings import Embeddings
from .files import Files
from .fine_tuning import FineTuning
from .models import Models
from .responses import Responses

__all__ = ["Batches", "Chat", "Completions", "Embeddings", "Files", "FineTuning", "Models", "Responses"]
