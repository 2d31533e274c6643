"""The private parts of `msgconform.xmlcodec`; import from there, not from here.

- `_parse`: safe parsing (defusedxml), the two errors, `equivalent`.
- `_shapes`: what a schema of the spec means in XML (names, namespaces, order, kinds).
- `_write`: value + shape -> bytes.
- `_read`: bytes + shape -> value, and the conformance findings met on the way.
"""
