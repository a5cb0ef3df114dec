"""智慧王台: the live big-data view of 王台街道.

Data flows one way: ``demo``/source systems → ``ingest`` → warehouse → ``runner`` (queries/*.sql) → pages.
"""
