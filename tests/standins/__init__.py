"""Loopback stand-ins for the platforms' HTTP APIs, answering in the platforms' own shapes."""
