"""The baseline: a bare Flask JSON endpoint, served by the same gunicorn settings as the APIs."""

from flask import Flask, jsonify, request


def create_app():
    app = Flask("bare")

    @app.get("/bare")
    def bare_get():
        return jsonify({"ok": True})

    @app.post("/bare")
    def bare_post():
        return jsonify(request.get_json()), 201

    return app
