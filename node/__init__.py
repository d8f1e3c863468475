"""Puente: a node of the federated Latin American and Caribbean skills-recognition network."""

__version__ = "0.1.0"
