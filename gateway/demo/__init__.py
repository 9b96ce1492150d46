"""The demo site served at `/demo` by `consent-gateway serve --demo`: every mechanism, visible."""
