"""The datastore: bytes in and out of fsspec, one execution's layout, chunks, commits.

The store knows nothing of flows or layers beyond their names; the runtime drives it.
"""
