"""An async OpenAI client (work in progress)."""
