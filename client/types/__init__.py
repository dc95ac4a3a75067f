"""Typed response objects (msgspec Structs): attribute access, unknown fields ignored, missing fields defaulted."""

from __future__ import annotations

from ._base import APIObject
from .batches import Batch, BatchRequestCounts
from .chat import ChatCompletion, ChatCompletionChunk, ChatCompletionDeleted, ChatCompletionMessage
from .completions import Completion, CompletionChoice
from .embeddings import CreateEmbeddingResponse, Embedding
from .files import FileDeleted, FileObject
from .fine_tuning import FineTuningJob, FineTuningJobEvent
from .models import Model, ModelDeleted
from .responses import Response, ResponseDeleted, ResponseStreamEvent

__all__ = [
    "APIObject",
    "Batch",
    "BatchRequestCounts",
    "ChatCompletion",
    "ChatCompletionChunk",
    "ChatCompletionDeleted",
    "ChatCompletionMessage",
    "Completion",
    "CompletionChoice",
    "CreateEmbeddingResponse",
    "Embedding",
    "FileDeleted",
    "FileObject",
    "FineTuningJob",
    "FineTuningJobEvent",
    "Model",
    "ModelDeleted",
    "Response",
    "ResponseDeleted",
    "ResponseStreamEvent",
]
