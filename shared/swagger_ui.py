"""The Swagger UI at /docs loads its files from the service, not from a CDN: a station's intranet may have no internet.

The files are swagger-ui-dist's (Apache-2.0) as the flask-swagger-ui package
ships them (flask_swagger_ui/dist; the package's version is Swagger UI's). Only
those files are used; flask-smorest still renders the /docs page itself.
"""

from importlib.resources import files

from flask import Flask, send_from_directory

ASSETS_DIRECTORY = str(files("flask_swagger_ui") / "dist")
ASSETS_PATH = "/docs/assets"
# Relative to the /docs page, so that behind nginx or the gateway the browser asks
# under the same prefix (/booking/docs/assets/...). Under /docs, the rate limit leaves them alone.
ASSETS_URL = "docs/assets/"
# The files change only with the package's version: a day in the browser's cache, then revalidated by ETag.
ASSETS_MAX_AGE_SECONDS = 24 * 3600


def register_swagger_ui(app: Flask) -> None:
    def swagger_ui_asset(filename: str):
        return send_from_directory(ASSETS_DIRECTORY, filename, max_age=ASSETS_MAX_AGE_SECONDS)

    app.add_url_rule(f"{ASSETS_PATH}/<path:filename>", "swagger_ui_asset", swagger_ui_asset)
