"""The conformance suites: one package per API, run by `msgconform run`."""
