"""The local Snowflake stand-in: a fakesnow server, and a local Snowpipe that loads curated files into it the way the pipes and the merge task do."""
