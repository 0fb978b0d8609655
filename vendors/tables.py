"""Tables of the vendors domain."""
