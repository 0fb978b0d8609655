"""Tables of the procurement domain."""
