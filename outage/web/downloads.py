"""Files the API hands over for saving rather than showing: CSV exports."""

from fastapi.responses import Response


def csv_attachment(body: str, name: str) -> Response:
    """`body` as a CSV file named `name`, which a browser saves."""
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
