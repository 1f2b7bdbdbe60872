"""A small application that exercises what bundles must get right."""
