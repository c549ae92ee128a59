"""The site's icon, a lightning bolt, at the address browsers ask for on every page.

It is an SVG served as `/favicon.ico`, so no page answers a 404 for it; the pages' heads
point at it too, with its type, so browsers that want a declared icon find it.
"""

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from outage.web.principal import require
from outage.web.rendering import STATIC_DIR

router = APIRouter(include_in_schema=False, tags=["pages"])

ICON = (STATIC_DIR / "favicon.svg").read_bytes()

ICON_MAX_AGE_S = 30 * 24 * 3600
"""A month: the icon hardly ever changes, and browsers ask for it with every page."""


@router.get("/favicon.ico", dependencies=[Depends(require("site.icon"))])
def favicon() -> Response:
    """The icon, cached for a month by browsers and proxies alike."""
    return Response(
        ICON,
        media_type="image/svg+xml",
        headers={"Cache-Control": f"public, max-age={ICON_MAX_AGE_S}"},
    )
