"""Public disclosure (DESIGN §8): the endpoints anyone may read without signing in, and the
OCDS 1.1 feed of every contracting process.

Importing this package registers the feed's audit listener, so that every process that changes
state through the services — the app, the CLI, a script — publishes its releases.
"""

from govbuy.public import feed as _feed

_feed.register()
