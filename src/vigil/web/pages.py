"""Server-rendered pages; they use the same authenticated API as everyone else."""

from __future__ import annotations

from html import escape
from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import HTMLResponse

from vigil.auth.names import NAME_PATTERN

router = APIRouter(include_in_schema=False)
CameraName = Annotated[str, Path(pattern=NAME_PATTERN, max_length=64)]

# The <video> plays the endless fMP4 stream; on a drop it reconnects to the live edge.
LIVE_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Live: {name}</title>
<link rel="icon" href="data:,">
<style>body{{margin:0;background:#111;color:#eee;font:16px sans-serif}}
video{{width:100%;max-height:90vh;background:#000}}</style></head>
<body><h1>Live: {name}</h1>
<video id="live" autoplay muted playsinline aria-label="Live video of {name}"></video>
<p id="state" role="status">connecting</p>
<script>
const video = document.getElementById("live");
const state = document.getElementById("state");
const source = "/api/v1/cameras/{name}/live.mp4";
function connect() {{ video.src = source + "?t=" + Date.now(); video.play().catch(() => {{}}); }}
video.addEventListener("playing", () => {{ state.textContent = "live"; }});
function retry() {{ state.textContent = "reconnecting"; setTimeout(connect, 2000); }}
video.addEventListener("ended", retry);
video.addEventListener("error", retry);
connect();
</script></body></html>
"""


# Signs in through the API (which sets the session cookie), then goes where it was sent.
LOGIN_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Vigil: sign in</title>
<link rel="icon" href="data:,">
<style>body{font:16px sans-serif;margin:3em}label{display:block;margin:.5em 0}</style></head>
<body><h1>Vigil</h1>
<form id="login">
<label>User <input name="username" autocomplete="username" required></label>
<label>Password <input name="password" type="password" autocomplete="current-password"
 required></label>
<button type="submit">Sign in</button></form>
<p id="message" role="alert"></p>
<script>
document.getElementById("login").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const response = await fetch("/api/v1/auth/login", {
    method: "POST", headers: {"Content-Type": "application/json"},
    body: JSON.stringify({username: form.get("username"), password: form.get("password")}),
  });
  if (response.ok) {
    const next = new URLSearchParams(location.search).get("next");
    location.href = next && next.startsWith("/") && !next.startsWith("//") ? next : "/cameras";
  } else {
    document.getElementById("message").textContent = (await response.json()).error.message;
  }
});
</script></body></html>
"""

# The cameras this user may watch, each linking to its live view.
CAMERAS_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Vigil: cameras</title>
<link rel="icon" href="data:,">
<style>body{font:16px sans-serif;margin:2em}</style></head>
<body><h1>Cameras</h1><ul id="cameras"></ul>
<script>
fetch("/api/v1/cameras").then(async (response) => {
  if (response.status === 401) { location.href = "/login?next=/cameras"; return; }
  const list = document.getElementById("cameras");
  for (const camera of await response.json()) {
    const item = document.createElement("li");
    const link = document.createElement("a");
    link.href = "/cameras/" + encodeURIComponent(camera.name) + "/live";
    link.textContent = camera.name + (camera.site ? " (" + camera.site + ")" : "");
    item.append(link);
    list.append(item);
  }
});
</script></body></html>
"""


@router.get("/", response_class=HTMLResponse)
@router.get("/login", response_class=HTMLResponse)
def login_page() -> HTMLResponse:
    return HTMLResponse(LOGIN_PAGE)


@router.get("/cameras", response_class=HTMLResponse)
def cameras_page() -> HTMLResponse:
    return HTMLResponse(CAMERAS_PAGE)


@router.get("/cameras/{name}/live", response_class=HTMLResponse)
def live_page(name: CameraName) -> HTMLResponse:
    return HTMLResponse(LIVE_PAGE.format(name=escape(name)))
