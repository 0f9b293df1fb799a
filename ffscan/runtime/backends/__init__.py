"""Engines a named queue can run on besides the in-process TrackedQueue (`engine = "local"`).

`celery`: registered jobs are sent to Celery workers. Importing this package loads no engine;
`ffscan.runtime.backends.celery` imports Celery when a queue first uses it.
"""
