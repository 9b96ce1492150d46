"""The JSON bodies of the gateway's own API, each declared once as a `msgspec.Struct`: requests
are decoded strictly by it (`gateway.bodies.decode`), answers are encoded from it, and
`/openapi.json` describes both from the same declarations (`gateway.openapi`).

The package imports nothing of the gateway but its errors: the decision core may use it.
"""
