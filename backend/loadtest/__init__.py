"""The service run for real on loopback (gunicorn, a Celery worker and beat, PostgreSQL, a Redis of
its own), driven by clinicians uploading radiographs at once, with faults injected under load.

``make loadtest`` prints the figures; the fault tests (tests/test_faults.py) use the same pieces.
"""
