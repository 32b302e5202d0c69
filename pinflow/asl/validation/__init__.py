"""The parts of the static validator; `pinflow.asl.validate` is the entry point."""
