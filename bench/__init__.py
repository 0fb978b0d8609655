"""Reliability benches: load, faults and fuzzing against a real `govbuy serve` process."""
