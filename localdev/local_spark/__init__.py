"""Local Spark for the Glue job: the job run as a child process (``glue_runner``), and local-only Spark settings (``session``)."""
