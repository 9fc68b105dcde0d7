// Vigil's pages: every action is a call to the API, with the session's CSRF token.
"use strict";

const CSRF_KEY = "vigil-csrf";

async function api(method, url, body) {
  const headers = { "X-CSRF-Token": sessionStorage.getItem(CSRF_KEY) || "" };
  let payload;
  if (body instanceof FormData) {
    payload = body;
  } else if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  const response = await fetch(url, { method, headers, body: payload, credentials: "same-origin" });
  if (response.status === 401) {
    location.href = "/login?next=" + encodeURIComponent(location.pathname + location.search);
    throw new Error("signed out");
  }
  if (!response.ok) {
    let message = response.status + " " + response.statusText;
    try { message = (await response.json()).error.message; } catch (ignored) { /* not JSON */ }
    throw new Error(message);
  }
  return response;
}

function statusOf(element) {
  return element.querySelector("[role=status]") || element.parentElement.querySelector("[role=status]");
}

function say(element, text, isError) {
  const status = statusOf(element);
  if (status) {
    status.textContent = text;
    status.classList.toggle("error", Boolean(isError));
  }
}

// Times are the city's (the server's [ui] time_zone, on <body data-zone>), as on the pages.
const ZONE = document.body.dataset.zone || "UTC";

function wallClock(moment) {  // the city's clock at that moment: {year, month, ..., timeZoneName}
  const format = new Intl.DateTimeFormat("en-GB", {
    timeZone: ZONE, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit", timeZoneName: "short",
  });
  return Object.fromEntries(format.formatToParts(moment).map((p) => [p.type, p.value]));
}

function cityTime(value) {  // as vigil.timetext writes it: 2026-12-04 19:53:08 CET
  const c = wallClock(new Date(value));
  return c.year + "-" + c.month + "-" + c.day + " " + c.hour + ":" + c.minute + ":" + c.second + " " + c.timeZoneName;
}

function isoOf(value) {  // a datetime-local value is the city's wall-clock time
  const asUtc = Date.parse(value + "Z");
  const ahead = (t) => {  // how far the city's clock is ahead of UTC at t
    const c = wallClock(new Date(t));
    return Date.UTC(+c.year, +c.month - 1, +c.day, +c.hour, +c.minute, +c.second) - Math.floor(t / 1000) * 1000;
  };
  const guess = asUtc - ahead(asUtc);
  return new Date(asUtc - ahead(guess)).toISOString();  // again: the offset where it lands
}

function zoneLabels() {  // every time input says whose clock it is
  for (const input of document.querySelectorAll("input[data-time]")) {
    const zone = document.createElement("span");
    zone.className = "zone small";
    zone.textContent = ZONE;
    input.after(zone);
  }
}

function jsonOf(form) {
  const data = {};
  for (const input of form.elements) {
    if (!input.name || input.disabled || input.type === "submit") continue;
    let value = input.value;
    if (input.dataset.bool !== undefined) { data[input.name] = input.checked; continue; }
    if (input.type === "checkbox" && !input.checked) {
      if (input.dataset.list !== undefined && !(input.name in data)) data[input.name] = [];
      continue;
    }
    if (value === "") continue;
    if (input.dataset.time !== undefined) value = isoOf(value);
    if (input.dataset.int !== undefined) value = Number(value);
    if (input.dataset.list !== undefined) {
      (data[input.name] = data[input.name] || []).push(value);
    } else {
      data[input.name] = value;
    }
  }
  return data;
}

function formDataOf(form) {
  const data = new FormData(form);
  for (const input of form.querySelectorAll("[data-time]")) {
    if (input.value) data.set(input.name, isoOf(input.value));
  }
  return data;
}

function fill(template, values) {  // /x/{group}/y -> /x/city/y
  return template.replace(/\{(\w+)\}/g, (_, key) => encodeURIComponent(values[key]));
}

async function save(response, fallbackName) {
  const blob = await response.blob();
  const disposition = response.headers.get("Content-Disposition") || "";
  const match = /filename="([^"]+)"/.exec(disposition);
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = match ? match[1] : fallbackName;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10000);
}

async function submitForm(event) {
  const form = event.target;
  event.preventDefault();
  const button = form.querySelector("[type=submit]");
  if (button) button.disabled = true;
  say(form, form.dataset.busy || "Working…");
  try {
    if (form.dataset.download) {
      const values = jsonOf(form);
      const query = new URLSearchParams();
      for (const key of form.dataset.query.split(",")) query.set(key, values[key]);
      const response = await api("GET", form.dataset.download + "?" + query);
      await save(response, "export.mp4");
      say(form, "Saved.");
      return;
    }
    const values = jsonOf(form);
    const url = fill(form.dataset.api, values);
    const body = form.dataset.encoding === "multipart" ? formDataOf(form)
      : form.dataset.encoding === "json" ? values : undefined;
    const response = await api(form.dataset.method || "POST", url, body);
    if (form.dataset.go) {
      const created = await response.json();
      location.href = fill(form.dataset.go, created);
    } else if (form.dataset.show) {  // shown once, never stored by the page (a new secret)
      const created = await response.json();
      say(form, "Copy it now, it is shown only once: " + created[form.dataset.show]);
      form.reset();
    } else {
      location.reload();
    }
  } catch (error) {
    say(form, error.message, true);
  } finally {
    if (button) button.disabled = false;
  }
}

async function clickAction(button) {
  button.disabled = true;
  say(button, button.dataset.busy || "Working…");
  try {
    if (button.dataset.fetch) {
      const response = await api("GET", button.dataset.fetch);
      await save(response, "download");
      say(button, "Downloaded.");
    } else {
      await api(button.dataset.method || "POST", button.dataset.api);
      location.reload();
    }
  } catch (error) {
    say(button, error.message, true);
  } finally {
    button.disabled = false;
  }
}

function playLive(video) {  // endless fMP4 from the newest keyframe; reconnect on a drop
  const tile = video.closest("li");
  const state = document.getElementById("state") || (tile && tile.querySelector("[data-live-state]"));
  const connect = () => { video.src = video.dataset.live + "?t=" + Date.now(); video.play().catch(() => {}); };
  const retry = () => { if (state) state.textContent = "reconnecting"; setTimeout(connect, 2000); };
  video.addEventListener("playing", () => { if (state) state.textContent = "live"; });
  video.addEventListener("ended", retry);
  video.addEventListener("error", retry);
  connect();
}

function timeline(bar) {
  // Placed here, not in style attributes, which the content security policy forbids.
  for (const part of bar.querySelectorAll("[data-left]")) {
    part.style.left = part.dataset.left + "%";
    part.style.width = part.dataset.width + "%";
  }
  const video = document.getElementById("playback");
  const state = document.getElementById("playback-state");
  const play = (at) => {
    const start = new Date(at);
    const end = new Date(Math.min(start.getTime() + 60000, Date.now()));
    const query = new URLSearchParams({ start: start.toISOString(), end: end.toISOString() });
    video.src = "/api/v1/cameras/" + encodeURIComponent(bar.dataset.camera) + "/recording.mp4?" + query;
    video.play().catch(() => {});
    state.textContent = "Playing from " + cityTime(start);
  };
  bar.addEventListener("click", (event) => {  // play from where the bar was clicked
    const box = bar.getBoundingClientRect();
    const from = new Date(bar.dataset.start).getTime();
    const to = new Date(bar.dataset.end).getTime();
    const run = event.target.closest(".rec");
    if (!run) { state.textContent = "Nothing was recorded at that moment."; return; }
    const at = from + (to - from) * (event.clientX - box.left) / box.width;
    play(new Date(Math.max(at, new Date(run.dataset.at).getTime())).toISOString());  // keys: from its start
  });
  video.addEventListener("error", () => { state.textContent = "That recording could not be played."; });
}

function followAlerts(element) {  // new alerts as server-sent events
  const source = new EventSource(element.dataset.events);
  source.addEventListener("alert", (event) => {
    const alert = JSON.parse(event.data);
    element.textContent = "New alert " + alert.id + " at " + alert.camera + ": reload to review.";
  });
  source.onerror = () => { element.textContent = "Live alert updates paused; reload to reconnect."; };
}

const SVG = "http://www.w3.org/2000/svg";
const COLOURS = ["#1f4e79", "#b03a2e", "#1e8449", "#7d3c98", "#b9770e", "#117a65"];

function svgLine(svg, points, colour, width) {
  const line = document.createElementNS(SVG, "polyline");
  line.setAttribute("points", points.map(([x, y]) => x.toFixed(1) + "," + y.toFixed(1)).join(" "));
  line.setAttribute("fill", "none");
  line.setAttribute("stroke", colour);
  line.setAttribute("stroke-width", width);
  svg.appendChild(line);
}

function drawChart(svg, legend, view) {  // the total (thick) and each camera, over the event
  svg.replaceChildren();
  legend.replaceChildren();
  const start = new Date(view.start).getTime();
  const end = Math.min(new Date(view.end).getTime(), Date.now());
  const series = [["total", view.total.series, "#17202a", 3]].concat(
    view.cameras.map((c, i) => [c.name, c.series, COLOURS[i % COLOURS.length], 1.5]));
  const top = Math.max(1, view.total_limit || 0, ...view.total.series.map((p) => p[1]));
  const x = (t) => 40 + 750 * (new Date(t).getTime() - start) / Math.max(1, end - start);
  const y = (n) => 200 - 185 * n / top;
  for (const n of [0, top]) {
    const label = document.createElementNS(SVG, "text");
    label.setAttribute("x", 2); label.setAttribute("y", y(n) + 4); label.setAttribute("font-size", 12);
    label.textContent = n;
    svg.appendChild(label);
  }
  if (view.total_limit) svgLine(svg, [[40, y(view.total_limit)], [790, y(view.total_limit)]], "#c0392b", 1);
  for (const [name, points, colour, width] of series) {
    if (points.length) svgLine(svg, points.map(([t, n]) => [x(t), y(n)]), colour, width);
    const item = document.createElement("li");
    item.textContent = name;
    item.dataset.colour = colour;
    legend.appendChild(item);
  }
}

function eventWall(section) {  // counts and chart, refreshed every few seconds
  const refresh = async () => {
    try {
      const view = await (await api("GET", section.dataset.event)).json();
      document.getElementById("total-now").textContent = view.total.people === null ? "no recent count" : view.total.people;
      const peak = view.total.peak;
      document.getElementById("total-peak").textContent = peak ? peak.people : "none yet";
      document.getElementById("peak-at").textContent = peak ? "at " + cityTime(peak.at) : "";
      for (const camera of view.cameras) {
        const badge = section.querySelector('[data-count="' + CSS.escape(camera.name) + '"]');
        if (badge) {
          badge.textContent = camera.people === null ? "–" : camera.people;
          badge.classList.toggle("over", camera.limit !== null && camera.people > camera.limit);
        }
      }
      const list = document.getElementById("occupancy");
      if (view.alerts.length) {
        list.replaceChildren(...view.alerts.map((a) => {
          const item = document.createElement("li");
          item.textContent = a.place + ": " + a.people + " people (limit " + a.limit + ") at " + new Date(a.at).toLocaleString();
          return item;
        }));
      }
      drawChart(document.getElementById("chart"), document.getElementById("legend"), view);
    } catch (error) {
      document.getElementById("total-now").textContent = "counts unavailable: " + error.message;
    }
  };
  refresh();
  setInterval(refresh, 5000);
}

// Where to go after signing in: only a page of this site. The URL is parsed as the browser
// will (backslashes, tabs and newlines included), and its origin must be this one.
function sameSiteTarget(next) {
  if (!next) return "/";
  try {
    const url = new URL(next, location.origin);
    return url.origin === location.origin ? url.pathname + url.search + url.hash : "/";
  } catch (error) {
    return "/";
  }
}

async function login(event) {
  event.preventDefault();
  const form = new FormData(event.target);
  const message = document.getElementById("message");
  const response = await fetch("/api/v1/auth/login", {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username: form.get("username"), password: form.get("password") }),
  });
  if (!response.ok) { message.textContent = (await response.json()).error.message; return; }
  sessionStorage.setItem(CSRF_KEY, (await response.json()).csrf_token);
  location.href = sameSiteTarget(new URLSearchParams(location.search).get("next"));
}

document.addEventListener("DOMContentLoaded", () => {
  const loginForm = document.getElementById("login");
  if (loginForm) loginForm.addEventListener("submit", login);
  const logout = document.getElementById("logout");
  if (logout) {
    logout.addEventListener("click", async () => {
      try { await api("POST", "/api/v1/auth/logout"); } finally {
        sessionStorage.removeItem(CSRF_KEY);
        location.href = "/login";
      }
    });
  }
  for (const form of document.querySelectorAll("form[data-api], form[data-download]")) {
    form.addEventListener("submit", submitForm);
  }
  for (const button of document.querySelectorAll("button[data-api], button[data-fetch]")) {
    button.addEventListener("click", () => clickAction(button));
  }
  for (const video of document.querySelectorAll("video[data-live]")) playLive(video);
  zoneLabels();
  const bar = document.getElementById("timeline");
  if (bar) timeline(bar);
  const wall = document.getElementById("event-wall");
  if (wall) eventWall(wall);
  const news = document.querySelector("[data-events]");
  if (news) followAlerts(news);
  for (const image of document.querySelectorAll("img[data-fallback]")) {
    image.addEventListener("error", () => { image.alt = "(face no longer stored: " + image.dataset.fallback + ")"; });
  }
});
