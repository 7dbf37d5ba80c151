"""The workbench (app.py) under hostile requests: every malformed request to every route is a 4xx
with one line of JSON, never a 500 or Python's exception text; the token's cookie is named by
the port, so two workbenches in one browser keep their own; the uploads go when it stops; a
name is echoed without its control characters."""
import io
import json
import re
import time

import numpy as np
import pytest
from PIL import Image

from conftest import textured_painting, with_losses
from detection.detect import Detector

pytest.importorskip("flask")

NOT_AN_IMAGE = (b"not an image", "notes.png")
SHOWN = re.compile(r"Traceback|\b\w*(Error|Exception)\b|File \"")  # Python's words, not ours


def _painting(folder, name="p.png"):
    """A generated painting (200 x 300) with pale losses; its path."""
    rng = np.random.default_rng(0)
    damaged, _ = with_losses(rng, textured_painting(rng), count=5)
    folder.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.round(damaged * 255).astype(np.uint8)).save(folder / name)
    return folder / name


def _client(workbench):
    from helpers import workbench_client
    return workbench_client(workbench)


def _file(data, name):
    return io.BytesIO(data), name


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    """A workbench over a folder holding p.png, opened and restored: (workbench, client, the
    painting's id)."""
    from workbench.server import Workbench
    tmp = tmp_path_factory.mktemp("hostile")
    _painting(tmp / "paintings")
    workbench = Workbench(tmp / "paintings", tmp / "out", max_upload_mb=2,
                          detector=Detector("white"))
    client = _client(workbench)
    painting = client.post("/api/open", json={"name": "p.png"}).json["id"]
    stroke = json.dumps([{"tool": "brush", "width": 6, "points": [[40, 40], [90, 40]]}])
    assert client.post(f"/api/{painting}/restore", data={
        "method": "telea", "strokes": _file(stroke.encode(), "strokes.json")}).status_code == 200
    while client.get(f"/api/{painting}/status").json["state"] == "running":
        time.sleep(0.05)
    assert client.get(f"/api/{painting}/status").json["state"] == "done"
    yield workbench, client, painting
    workbench.close()


REGION = "x0=0&y0=0&x1=50&y1=50&width=50"
# (method, address ({id}: the open painting), what the request carries): each is refused
MALFORMED = [
    # /select: the issue's cases, then the rest of its body
    ("POST", "/api/{id}/select", {"json": {"x": "nan", "y": 5}}),
    ("POST", "/api/{id}/select", {"json": {"x": "1e400", "y": 5}}),
    ("POST", "/api/{id}/select", {"json": {"y": 5}}),
    ("POST", "/api/{id}/select", {"json": {"x": None, "y": 5}}),
    ("POST", "/api/{id}/select", {"json": [5, 5]}),
    ("POST", "/api/{id}/select", {"json": "x=5"}),
    ("POST", "/api/{id}/select", {"data": '{"x": NaN, "y": 5}',
                                  "content_type": "application/json"}),
    ("POST", "/api/{id}/select", {"data": '{"x": 1e400, "y": 5}',
                                  "content_type": "application/json"}),
    ("POST", "/api/{id}/select", {"json": {"x": 1e300, "y": 5}}),
    ("POST", "/api/{id}/select", {"json": {"x": True, "y": 5}}),
    ("POST", "/api/{id}/select", {"json": {"x": [5], "y": 5}}),
    ("POST", "/api/{id}/select", {"json": {"x": 5, "y": 5, "similar": "no"}}),
    ("POST", "/api/{id}/select", {"data": "not json", "content_type": "application/json"}),
    ("POST", "/api/{id}/select", {"data": "[" * 100_000, "content_type": "application/json"}),
    ("POST", "/api/{id}/select", {"data": b"\xff\xfe{", "content_type": "application/json"}),
    ("POST", "/api/{id}/select", {}),
    ("POST", "/api/{id}/select", {"json": {"pad": "x" * 2_000_000}}),
    # /crop.png
    ("GET", "/api/{id}/crop.png?x=nan&y=5", {}),
    ("GET", "/api/{id}/crop.png?x=5&y=5&size=abc", {}),
    ("GET", "/api/{id}/crop.png?x=inf&y=5", {}),
    ("GET", "/api/{id}/crop.png?x=1e400&y=5", {}),
    ("GET", "/api/{id}/crop.png?y=5", {}),
    ("GET", "/api/{id}/crop.png?x=5&y=5&size=1e400", {}),
    ("GET", "/api/{id}/crop.png?x=5&y=5&size=99999999999999999999999", {}),
    ("GET", "/api/{id}/crop.png?x=5&y=5&which=sideways", {}),
    ("GET", "/api/{id}/crop.png?x=5&y=5&which=after&result=nope", {}),
    # /save
    ("POST", "/api/{id}/save", {"json": ["png"]}),
    ("POST", "/api/{id}/save", {"json": {"format": ["png"]}}),
    ("POST", "/api/{id}/save", {"json": {"format": None}}),
    ("POST", "/api/{id}/save", {"json": {"format": "exe"}}),
    ("POST", "/api/{id}/save", {"data": "{", "content_type": "application/json"}),
    ("POST", "/api/{id}/save", {"json": {"format": "png", "result": 5}}),
    ("POST", "/api/{id}/save", {"json": {"format": "png", "result": "nope"}}),
    # the token, in the address or the cookie, not ASCII
    ("GET", "/api/paintings?token=%C3%A9", {"cookie": ""}),
    ("GET", "/api/paintings?token=%FF", {"cookie": ""}),
    ("GET", "/?token=\u043a\u043e\u0442", {"cookie": ""}),
    ("GET", "/api/paintings", {"cookie": "\u00e9t\u00e9"}),
    ("GET", "/api/paintings", {"cookie": "\x00\x1b"}),
    # the Host and the Origin
    ("GET", "/api/paintings", {"headers": {"Host": "\u00e9vil.example"}}),
    ("GET", "/api/paintings", {"headers": {"Host": "localhost:99999999999"}}),
    ("POST", "/api/{id}/save", {"json": {"format": "png"},
                                "headers": {"Origin": "http://\u00e9vil.example"}}),
    # /open: by name, and uploaded
    ("POST", "/api/open", {"json": ["p.png"]}),
    ("POST", "/api/open", {"json": {"name": 5}}),
    ("POST", "/api/open", {"json": {"name": None}}),
    ("POST", "/api/open", {"json": {"name": ["p.png"]}}),
    ("POST", "/api/open", {"json": {"name": "../p.png"}}),
    ("POST", "/api/open", {"json": {"name": "p.png\x00"}}),
    ("POST", "/api/open", {"data": "[" * 100_000, "content_type": "application/json"}),
    ("POST", "/api/open", {"data": {"file": _file(*NOT_AN_IMAGE)}}),
    ("POST", "/api/open", {"data": {"file": _file(b"", "")}}),
    ("POST", "/api/open", {"data": {"file": _file(b"x" * 3_000_000, "big.png")}}),
    ("POST", "/api/open", {"data": b"--x\r\nbroken", "content_type":
                           "multipart/form-data; boundary=x"}),
    # /learn
    ("POST", "/api/{id}/learn", {"data": {"selections": "nope"}}),
    ("POST", "/api/{id}/learn", {"data": {"strokes": _file(b"[1]", "strokes.json")}}),
    ("POST", "/api/{id}/learn", {"data": {"strokes": _file(b"\xff\xfe[", "strokes.json")}}),
    ("POST", "/api/{id}/learn", {"data": {"selections": ",,,"}}),
    # /restore
    ("POST", "/api/{id}/restore", {"data": {"method": "nope"}}),
    ("POST", "/api/{id}/restore", {"data": {"method": "telea", "threshold": "nan"}}),
    ("POST", "/api/{id}/restore", {"data": {"method": "telea", "threshold": "1e400"}}),
    ("POST", "/api/{id}/restore", {"data": {"method": "telea", "confirmed": "maybe"}}),
    ("POST", "/api/{id}/restore", {"data": {"method": "telea", "selections": "nope"}}),
    ("POST", "/api/{id}/restore", {"data": {"method": "telea", "strokes": _file(
        b'[{"tool": "brush", "width": 3, "points": [[1, NaN]]}]', "strokes.json")}}),
    ("POST", "/api/{id}/restore", {"data": {"method": "telea", "strokes": "[]"}}),
    ("POST", "/api/{id}/restore", {"data": {"method": "telea", "on_top": "nope"}}),
    # /mask
    ("POST", "/api/{id}/mask", {"data": {}}),
    ("POST", "/api/{id}/mask", {"data": {"file": _file(*NOT_AN_IMAGE)}}),
    ("POST", "/api/{id}/mask", {"data": {"file": _file(b"", "")}}),
    ("POST", "/api/{id}/mask", {"data": {"file": _file(*NOT_AN_IMAGE), "invert": "yes"}}),
    # /region and /mask-region
    ("GET", "/api/{id}/region?which=nope&" + REGION, {}),
    ("GET", "/api/{id}/region?which=after&result=%00&" + REGION, {}),
    ("GET", "/api/{id}/region?x0=nan&y0=0&x1=50&y1=50&width=50", {}),
    ("GET", "/api/{id}/region?x0=0&y0=0&x1=1e400&y1=50&width=50", {}),
    ("GET", "/api/{id}/region?x0=0&y0=0&x1=50&y1=50", {}),
    ("GET", "/api/{id}/region?x0=0&y0=0&x1=50&y1=50&width=-inf", {}),
    ("GET", "/api/{id}/mask-region?threshold=nan&" + REGION, {}),
    ("GET", "/api/{id}/mask-region?selections=nope&" + REGION, {}),
    ("GET", "/api/{id}/mask-region?x0=abc&y0=0&x1=50&y1=50&width=50", {}),
    # a painting, a selection or a download that is not there
    ("GET", "/api/nope/view.jpg", {}),
    ("GET", "/api/nope/detected.png", {}),
    ("GET", "/api/nope/status", {}),
    ("GET", "/api/nope/after.jpg", {}),
    ("GET", "/api/{id}/after.jpg?result=nope", {}),
    ("GET", "/api/{id}/probability.png", {}),  # the white detector has none
    ("GET", "/api/{id}/selection/nope.png", {}),
    ("GET", "/api/{id}/selection/..%2F..%2Fp.png", {}),
    ("GET", "/api/{id}/download/nope", {}),
    ("GET", "/api/{id}/download/..%2Frecord", {}),
    # the rest of the server
    ("GET", "/static/..%2F..%2Fserver.py", {}),
    ("GET", "/static/%00", {}),
    ("GET", "/nowhere", {}),
    ("GET", "/api/open", {}),
    ("DELETE", "/api/paintings", {}),
]


@pytest.mark.parametrize("method, address, sent", MALFORMED,
                         ids=[f"{m} {a} {i}" for i, (m, a, _) in enumerate(MALFORMED)])
def test_every_malformed_request_is_a_4xx_with_one_line(bench, method, address, sent):
    workbench, client, painting = bench
    sent = dict(sent)
    if "cookie" in sent:  # a browser with this cookie in place of the page's
        from workbench.server import create_app
        client = create_app(workbench).test_client()
        sent.setdefault("headers", {})["Cookie"] = f"{workbench.cookie}={sent.pop('cookie')}"
    if isinstance(sent.get("data"), dict):  # fresh files each time (a run reads them)
        sent["data"] = {k: (io.BytesIO(v[0].getvalue()), v[1]) if isinstance(v, tuple) else v
                        for k, v in sent["data"].items()}
    answer = client.open(address.format(id=painting), method=method, **sent)
    assert answer.status_code in (400, 403, 404, 405, 413), (answer.status_code, answer.data)
    error = answer.json["error"]
    assert error and "\n" not in error and not SHOWN.search(answer.get_data(as_text=True)), error
    assert bench[1].get(f"/api/{painting}/status").json["state"] == "done"  # and it goes on


def test_an_unforeseen_failure_is_a_500_with_a_generic_line_and_a_traceback_in_the_terminal(
        bench, monkeypatch, capsys):
    workbench, client, _ = bench

    def broken():
        raise RuntimeError("secret detail\x1b[31m\nerror: forged")
    monkeypatch.setattr(workbench, "names", broken)
    answer = client.get("/api/paintings")
    assert answer.status_code == 500
    assert "secret" not in answer.get_data(as_text=True)
    assert "\n" not in answer.json["error"]
    logged = capsys.readouterr().err
    assert "Traceback" in logged and "RuntimeError: secret detail" in logged
    assert "\x1b" not in logged and "\nerror: forged" not in logged


def test_two_workbenches_on_two_ports_each_keep_their_own_token(tmp_path):
    """Browsers share cookies across the ports of a host: each workbench's cookie is named by
    its port, so one's login never replaces or satisfies another's."""
    from workbench.server import Workbench, create_app
    first = Workbench(None, tmp_path / "a", detector=Detector("white"), port=8765)
    second = Workbench(None, tmp_path / "b", detector=Detector("white"), port=8766)
    assert first.cookie != second.cookie and "8765" in first.cookie
    entered = create_app(first).test_client().get(f"/?token={first.token}")
    assert entered.headers["Set-Cookie"].startswith(f"{first.cookie}={first.token};")
    for bench, other in ((first, second), (second, first)):
        client = create_app(bench).test_client()
        client.set_cookie(other.cookie, other.token, domain="localhost")  # the other's login
        assert client.get("/api/paintings").status_code == 403
        client.set_cookie(bench.cookie, other.token, domain="localhost")  # the other's token
        assert client.get("/api/paintings").status_code == 403
        client.set_cookie(bench.cookie, bench.token, domain="localhost")  # its own
        assert client.get("/api/paintings").status_code == 200
    first.close()
    second.close()


def test_the_uploads_are_removed_on_close(tmp_path):
    from workbench.server import Workbench
    workbench = Workbench(None, tmp_path / "out", detector=Detector("white"))
    client = _client(workbench)
    png = _painting(tmp_path / "in").read_bytes()
    opened = client.post("/api/open", data={"file": _file(png, "p.png")})
    assert opened.status_code == 200 and any(workbench.uploads.iterdir())
    workbench.close()
    assert not workbench.uploads.exists()
    workbench.close()  # twice: nothing to do


def test_a_name_with_control_characters_is_shown_without_them(bench):
    """A newline could forge an `error:` line, an ESC a terminal's colours or title: an upload
    (whose name cannot hold a line break: werkzeug refuses it) and a painting of the folder."""
    from workbench.server import printable
    workbench, client, _ = bench
    assert printable("a\nerror: b\x1b[31m\tc\u2028d\x7f") == \
        "a\\nerror: b\\x1b[31m\\tc\\u2028d\\x7f"
    assert printable("кот 猫.png") == "кот 猫.png"
    png = (workbench.folder / "p.png").read_bytes()
    name = "evil\x1b]0;title\x07\x1b[2J\x9b1m.png"
    SHOWN_NAME = "evil\\x1b]0;title\\x07\\x1b[2J\\x9b1m.png"  # every control character escaped
    opened = client.post("/api/open", data={"file": _file(png, name)})
    assert opened.status_code == 200 and opened.json["name"] == SHOWN_NAME
    refused = client.post("/api/open", data={"file": _file(NOT_AN_IMAGE[0], name)})
    assert refused.status_code == 400
    assert refused.json["error"] == f"{SHOWN_NAME} could not be opened: not a readable image"
    mask = client.post(f"/api/{opened.json['id']}/mask", data={"file": _file(_mask_png(), name)})
    assert mask.status_code == 200 and mask.json["detection"]["name"] == opened.json["name"]

    forged = "p\nerror: forged\x1b[31m.png"
    (workbench.folder / forged).write_bytes(png)
    try:
        opened = client.post("/api/open", json={"name": forged})
        assert opened.status_code == 200 and opened.json["name"] == "p\\nerror: forged\\x1b[31m.png"
        (workbench.folder / forged).write_bytes(NOT_AN_IMAGE[0])
        refused = client.post("/api/open", json={"name": forged})
        assert refused.status_code == 400 and refused.json["error"].startswith(
            "p\\nerror: forged\\x1b[31m.png could not be opened")
    finally:
        (workbench.folder / forged).unlink()


def _mask_png():
    mask = np.zeros((200, 300), np.uint8)
    mask[10:20, 10:20] = 255
    buffer = io.BytesIO()
    Image.fromarray(mask).save(buffer, "PNG")
    return buffer.getvalue()
