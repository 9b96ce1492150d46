"""Who is asking: client IP (through trusted proxies only) and user-agent classification."""
