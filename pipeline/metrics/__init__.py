"""Engagement collected back from the platforms, and what people record by hand."""
