"""LocalStack's garbage collector skips what has already survived a full collection: no
second-long pauses while it serves, and a quick exit."""
