"""Scheduled jobs (end-of-day backfill and validation, compaction) as plain functions over oss20.

Empty until the collection and backfill issues; `oss20 jobs run NAME` will run them.
"""
