"""Channel adapters: one module per platform, each turning vendor errors into ours in one place."""
