"""Guard models: protocol, adapters (formatter -> transport -> parser), runner and recorded results."""
