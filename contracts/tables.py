"""Tables of the contracts domain."""
