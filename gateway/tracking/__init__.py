"""The analytics hit proxy: shaping outbound hits and appending them to the delivery queue."""
