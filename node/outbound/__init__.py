"""The outbound HTTP client (platform service): one per node, opened with the services, closed with them."""

from node.outbound.client import FAILED, MAX_FETCHES, REFUSED, FetchBudget, FetchError, OutboundClient
from node.outbound.policy import FetchPolicy

__all__ = ["FAILED", "MAX_FETCHES", "REFUSED", "FetchBudget", "FetchError", "FetchPolicy", "OutboundClient"]
