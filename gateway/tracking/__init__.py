"""The analytics hit proxy: shaping outbound hits, the background forwarder, and counting."""
