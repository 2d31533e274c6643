"""The itslearning Personal REST API suite (seeds 000 and 003)."""
