"""The CompleteEmpire suite (seed 001: send a message)."""
