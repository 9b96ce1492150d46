"""The analytics hit proxy: shaping outbound hits, appending them to the delivery queue, sending, and counting."""
