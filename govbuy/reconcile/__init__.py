"""Reconciliation: the money the domains store (budget lines, contracts, payments) against what
their audit events say it is, so that a figure changed in the database without an event shows.
`service` the check, `controllers` its endpoint, `cli` the `govbuy reconcile` command."""
