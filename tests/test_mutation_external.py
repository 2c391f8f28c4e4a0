"""Tests written against mutants of secretsync/external that the other ExternalSecret tests let survive.

``make mutation MODULE=secretsync/external`` (docs/testing.md "Mutation testing"); each test says
which behaviour it pins.
"""

from __future__ import annotations
