"""The web workspace (`wst serve`): a face over the services, like the CLI."""
