"""The HighQ Collaborate Messages API suite (seed 002: a new conversation)."""
