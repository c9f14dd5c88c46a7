"""Chart monitoring for people: the command-line tool, reports, live view and dashboard."""
