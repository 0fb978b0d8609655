"""Public disclosure (DESIGN §8): the endpoints anyone may read without signing in, and the
OCDS 1.1 feed of every contracting process.

A process that changes state through the services publishes its releases once it has called
`feed.register()`: the app factory, the CLI and the demo do; a script must too.
"""
