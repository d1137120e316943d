"""The normal/abnormal screener: one probability that a radiograph shows any abnormality.

It ranks and flags studies for triage; it never reports a study as normal by itself.
"""
