"""Sections -> passages -> vectors + catalog on disk; hybrid search over them."""
