"""bytecast: compile, check, inspect and ship Python bytecode."""

__version__ = "0.1.0"
