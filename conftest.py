"""Root conftest for the project's own tests: it only hands over to the fixture plugins.

The conformance suites in suites/ are not run from here: `msgconform run` runs them in a
subprocess with their own configuration (suites/pytest.ini).
"""

pytest_plugins = ["tests.fixtures"]
