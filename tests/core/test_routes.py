"""Activity entries name the route template the middleware finds in the scope; that template
is the path a route was declared with on its router. Every router carries its full prefix and
is included without another one, so each declared path is the path the API serves."""

from __future__ import annotations

from fastapi.routing import APIRoute

from oneenglish.app import ROUTERS, create_app
from oneenglish.settings import Settings


def test_every_served_path_is_the_path_its_route_declares(settings: Settings) -> None:
    declared = {
        (route.path, method)
        for router in ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute)
        for method in route.methods or ()
    }
    served = {
        (path, method.upper())
        for path, operations in create_app(settings).openapi()["paths"].items()
        for method in operations
    }
    assert served == declared
