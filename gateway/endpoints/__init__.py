"""HTTP endpoints, grouped by URL family; each parses, calls the domain code, shapes a response."""
