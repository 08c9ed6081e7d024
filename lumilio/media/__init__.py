"""Pure media functions: what a file is, what it says about itself, how it looks."""
