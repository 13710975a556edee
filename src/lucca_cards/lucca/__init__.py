"""The Lucca API and legacy API clients and their models."""
