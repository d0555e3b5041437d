"""Where oss20 keeps things: ArcticDB (ticks, bars, tier metadata), the journal, the catalog, the cache.

Each backend is one module; the embedded default (LMDB, SQLite, in-process) needs no server.
"""
