"""The portal beside all three APIs and their workers: the resident's pages need the desk."""

import requests

from tests.portal.conftest import csrf_token, next_code, portal_station, sms_lines

SERVICES = ("booking", "notify", "desk")


def resident_station(backend, work_dir, redis_server):
    return portal_station(backend, work_dir, redis_server, services=SERVICES)


def signed_in(station, phone: str, language: str = "zh-CN") -> requests.Session:
    """A browser-like session signed in with the code read from the SMS log."""
    client, url = requests.Session(), station.portal.url
    if language == "en":
        client.cookies.set("yizhan_lang", "en")
    before = len(sms_lines(station, phone))
    token = csrf_token(client.get(f"{url}/sign-in", timeout=10).text)
    assert client.post(f"{url}/sign-in", data={"phone": phone, "csrf_token": token}, timeout=10).ok
    code = next_code(station, phone, before)
    page = client.get(f"{url}/sign-in/code", timeout=10)
    answer = client.post(f"{url}/sign-in/code", data={"code": code, "csrf_token": csrf_token(page.text)}, timeout=10)
    assert answer.ok and answer.url.endswith("/account"), answer.url
    return client
