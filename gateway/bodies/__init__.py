"""The JSON bodies of the gateway's own API, each declared once as a `msgspec.Struct`: requests
are decoded strictly by it (`gateway.bodies.decode`), answers are encoded from it, and
`/openapi.json` describes both from the same declarations (`gateway.openapi`).

The package knows no HTTP, store or document (`tests/test_layers.py`): the decision core may
use it. Where a limit is the email or rights code's own (shared with the CLI), the struct's
schema cites that code's constant and the code checks it, in its own words.
"""
