"""Typed views of the vendors' entities: one module per API, e.g. `msgconform.models.itslearning`.

The OpenAPI spec in `specs/<api>.yaml` is the contract and judges what goes over the wire;
these pydantic models mirror its component schemas (the unit tests compare the two in both
directions) so that servers and suites can build and read bodies without dict plumbing.
Field names are the wire names, unknown fields are kept (vendors add fields).
"""
