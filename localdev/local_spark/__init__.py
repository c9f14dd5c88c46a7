"""Local Spark for the Glue job: the job run as a child process, and local-only JVM and Python-worker tuning."""
