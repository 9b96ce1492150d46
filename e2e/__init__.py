"""End-to-end tests: headless Chromium against the real gateway, Redis and vendor stand-ins."""
