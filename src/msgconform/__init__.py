"""msgconform: a contract-testing and conformance suite for vendor messaging APIs.

The public surface is the command line (`msgconform run|serve|report|selftest`) and the
files a run leaves behind; see ARCHITECTURE.md for how the package is layered.
"""

__version__ = "0.1.0"
