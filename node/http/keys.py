"""Typed application keys (no string keys on the app)."""

from aiohttp import web

from node.services import NodeServices
from node.settings import Settings

SETTINGS = web.AppKey("settings", Settings)
SERVICES = web.AppKey("services", NodeServices)
