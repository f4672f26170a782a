"""WST publishing pipeline: calendar, content, plan, render, publish, measure."""

__version__ = "0.1.0"
