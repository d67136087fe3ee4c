"""Page groups of the console: each module lists its routes and menu entries."""
