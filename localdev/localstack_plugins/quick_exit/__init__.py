"""LocalStack exits in about two seconds, not five: nothing it loaded is garbage-collected at exit."""
