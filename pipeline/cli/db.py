"""`wst db`: the store's schema (the store helper's commands land here)."""

from __future__ import annotations
