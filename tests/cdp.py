"""Drive headless Chromium over the DevTools protocol for the browser tests.

:func:`inspect_page` starts Chromium with every host name unresolvable (nothing can reach the
network), opens a page, and records what a reader's browser would do: console errors and
uncaught exceptions, every request that is not to a local file or inline data, the values of
some JavaScript checks on the rendered page, and a screenshot. It talks to Chromium through
tornado's websocket client (a Jupyter dependency, so nothing extra is installed).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import signal
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from tornado.websocket import websocket_connect

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--host-resolver-rules=MAP * ~NOTFOUND",
)
LOCAL = ("file:", "data:", "blob:", "about:", "chrome", "devtools:")


def inspect_page(
    chromium: str,
    url: str,
    *,
    screenshot: Path | None = None,
    checks: dict[str, str] | None = None,
    settle: float = 3.0,
    width: int = 1280,
    height: int = 1600,
    timeout: float = 90.0,
) -> dict[str, Any]:
    """Load ``url`` and return ``errors`` (console errors, exceptions), ``requests`` (non-local
    URLs requested), ``checks`` (name -> value of each JavaScript expression after loading) and
    ``screenshot`` (the PNG path, full page)."""
    # Chromium's helper processes may still be writing the profile while it is removed
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as profile:
        proc = subprocess.Popen(
            [chromium, *FLAGS, "--remote-debugging-port=0", f"--user-data-dir={profile}",
             f"--window-size={width},{height}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: stopped together below
        )  # fmt: skip
        try:
            port = _port(Path(profile) / "DevToolsActivePort", proc, timeout)
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as r:
                targets = json.load(r)
            ws = next(t["webSocketDebuggerUrl"] for t in targets if t.get("type") == "page")
            return asyncio.run(
                asyncio.wait_for(_drive(ws, url, screenshot, checks or {}, settle), timeout)
            )
        finally:
            _stop(proc)


def _stop(proc: subprocess.Popen) -> None:
    """Stop Chromium and its helper processes (the whole process group) and wait for it."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(10)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        pass
    try:  # helpers that outlive the browser process
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(10)


def _port(path: Path, proc: subprocess.Popen, timeout: float) -> int:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if path.is_file() and path.read_text().strip():
            return int(path.read_text().split()[0])
        if proc.poll() is not None:
            raise RuntimeError(f"chromium exited with code {proc.returncode} before listening")
        time.sleep(0.1)
    raise TimeoutError("chromium did not open its DevTools port")


async def _drive(ws_url: str, url: str, shot: Path | None, checks: dict, settle: float) -> dict:
    conn = await websocket_connect(ws_url, max_message_size=256 * 1024 * 1024)
    ids = iter(range(1, 1_000_000))
    errors: list[str] = []
    requests: list[str] = []
    loaded = asyncio.Event()
    replies: dict[int, asyncio.Future] = {}

    async def reader() -> None:
        while True:
            msg = await conn.read_message()
            if msg is None:
                return
            data = json.loads(msg)
            if "id" in data and data["id"] in replies:
                replies.pop(data["id"]).set_result(data)
                continue
            method, params = data.get("method"), data.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                errors.append(
                    " ".join(str(a.get("value", a.get("description"))) for a in params["args"])
                )
            elif method == "Runtime.exceptionThrown":
                details = params.get("exceptionDetails", {})
                errors.append(
                    details.get("exception", {}).get("description") or details.get("text")
                )
            elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                errors.append(params["entry"].get("text", ""))
            elif method == "Network.requestWillBeSent":
                req = params["request"]["url"]
                if not req.startswith(LOCAL):
                    requests.append(req)
            elif method == "Page.loadEventFired":
                loaded.set()

    async def call(method: str, **params: Any) -> dict:
        i = next(ids)
        fut = asyncio.get_running_loop().create_future()
        replies[i] = fut
        await conn.write_message(json.dumps({"id": i, "method": method, "params": params}))
        reply = await fut
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    task = asyncio.create_task(reader())
    for domain in ("Runtime", "Log", "Network", "Page"):
        await call(f"{domain}.enable")
    await call("Page.navigate", url=url)
    await loaded.wait()
    await asyncio.sleep(settle)
    results = {}
    for name, expr in checks.items():
        res = await call("Runtime.evaluate", expression=expr, returnByValue=True)
        results[name] = res.get("result", {}).get("value")
    if shot is not None:
        png = await call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        shot.write_bytes(base64.b64decode(png["data"]))
    conn.close()
    task.cancel()
    return {"errors": errors, "requests": requests, "checks": results, "screenshot": shot}
