"""The consent banner: its texts, the config embedded in /consent.js, and its routes."""
