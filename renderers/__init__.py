"""Pure functions from content to what each channel receives. Imports nothing of `pipeline`."""
