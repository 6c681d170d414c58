"""The baselines: bare Flask JSON endpoints, served by the same gunicorn settings as the APIs.

`/bare` does no work at all (bench/http_bench.py). `/hop` sends one `notify.hop` task of
bench/noop_app.py and `/hop/<token>` says whether its last hop has run (bench/e2e_bench.py):
the same request → task → visible path as a booking, with no work on it.
"""

from flask import Flask, jsonify, request


def create_app():
    app = Flask("bare")

    @app.get("/bare")
    def bare_get():
        return jsonify({"ok": True})

    @app.post("/bare")
    def bare_post():
        return jsonify(request.get_json()), 201

    @app.post("/hop")
    def send_hop():
        from bench.noop_app import hop  # only here: /bare stays free of Celery and Redis

        payload = request.get_json()
        hop.delay({"token": str(payload["token"]), "hops": int(payload.get("hops", 1)), "url": payload.get("url")})
        return jsonify({"token": payload["token"]}), 202

    @app.get("/hop/<token>")
    def hop_done(token):
        from bench.noop_app import HOP_KEY, _redis

        done = bool(_redis().exists(HOP_KEY.format(token=token)))
        return jsonify({"done": done}), 200 if done else 404

    return app
