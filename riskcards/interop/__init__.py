"""Files for other tools that ship with the package (the inspect-ai task file, ...)."""
