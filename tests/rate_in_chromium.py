#!/usr/bin/python3
"""rate_in_chromium.py: plays a rater on clrun's similarity rating page in
headless Chromium, as the similarity tests' browser round trip.

    rate_in_chromium.py PAGE.html DOWNLOAD_DIR NAME RATINGS [EARLIER.csv]

Opens the page, optionally loads EARLIER.csv through its file input, types
NAME, clicks rating RATINGS[i] (comma-separated, one per pair) for pair i+1,
clicks Save and waits for the download. Prints the page's status line and the
downloaded file's path. Talks to Chromium over its DevTools pipe (file
descriptors 3 and 4, null-terminated JSON), so it needs nothing but the
standard library. Exits 1 with a message on any failure or after 60 s."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

DEADLINE = time.monotonic() + 60


class Browser:
    def __init__(self, profile):
        to_chrome_r, self.to_chrome = os.pipe()
        self.from_chrome, from_chrome_w = os.pipe()
        chromium = shutil.which("chromium") or shutil.which("chromium-browser")
        if not chromium:
            sys.exit("rate_in_chromium: chromium is not installed (make deps installs it)")
        # Chromium reads commands on fd 3 and writes replies on fd 4. The pipe
        # ends may be 3 or 4 already: move them out of the way first (dup2
        # onto a different descriptor also makes it survive exec).
        def fds():
            r, w = os.dup(to_chrome_r), os.dup(from_chrome_w)
            os.dup2(r, 3)
            os.dup2(w, 4)
        self.proc = subprocess.Popen(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-dev-shm-usage", "--remote-debugging-pipe",
             "--user-data-dir=" + profile, "about:blank"],
            preexec_fn=fds, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, close_fds=False)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self.buffer = b""
        self.next_id = 0
        self.events = []

    def _message(self):
        while b"\0" not in self.buffer:
            if time.monotonic() > DEADLINE:
                sys.exit("rate_in_chromium: timed out waiting for Chromium")
            chunk = os.read(self.from_chrome, 1 << 16)
            if not chunk:
                sys.exit("rate_in_chromium: Chromium closed its DevTools pipe")
            self.buffer += chunk
        raw, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(raw)

    def call(self, method, session=None, **params):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params}
        if session:
            msg["sessionId"] = session
        os.write(self.to_chrome, json.dumps(msg).encode() + b"\0")
        while True:
            reply = self._message()
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    sys.exit("rate_in_chromium: %s failed: %s" % (method, reply["error"]))
                return reply["result"]
            self.events.append(reply)

    def wait_event(self, method, match=lambda p: True):
        while True:
            for e in self.events:
                if e.get("method") == method and match(e.get("params", {})):
                    self.events.remove(e)
                    return e["params"]
            self.events.append(self._message())

    def close(self):
        try:
            self.call("Browser.close")
        except SystemExit:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def evaluate(b, session, expression):
    r = b.call("Runtime.evaluate", session, expression=expression, awaitPromise=True,
               returnByValue=True)
    if "exceptionDetails" in r:
        sys.exit("rate_in_chromium: page script failed: %s" % r["exceptionDetails"])
    return r["result"].get("value")


def wait_for(b, session, expression, what):
    while not evaluate(b, session, expression):
        if time.monotonic() > DEADLINE:
            sys.exit("rate_in_chromium: timed out waiting for " + what)
        time.sleep(0.05)


def main():
    if len(sys.argv) not in (5, 6):
        sys.exit(__doc__)
    page, downloads, name, ratings = sys.argv[1:5]
    earlier = sys.argv[5] if len(sys.argv) == 6 else None
    profile = tempfile.mkdtemp(prefix="clrun-chromium-")
    b = Browser(profile)
    try:
        target = b.call("Target.createTarget", url="about:blank")["targetId"]
        session = b.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        b.call("Browser.setDownloadBehavior", behavior="allowAndName",
               downloadPath=os.path.abspath(downloads), eventsEnabled=True)
        b.call("Page.enable", session)
        b.call("Page.navigate", session, url="file://" + os.path.abspath(page))
        b.wait_event("Page.loadEventFired")
        if earlier:
            doc = b.call("DOM.getDocument", session)["root"]["nodeId"]
            node = b.call("DOM.querySelector", session, nodeId=doc, selector="#earlier")["nodeId"]
            b.call("DOM.setFileInputFiles", session, nodeId=node,
                   files=[os.path.abspath(earlier)])
            wait_for(b, session, "document.getElementById('earlier-status').textContent !== ''",
                     "the earlier ratings to load")
        values = ratings.split(",")
        evaluate(b, session, "document.getElementById('rater').value = %s" % json.dumps(name))
        for i, v in enumerate(values):
            evaluate(b, session, "document.querySelector('input[name=\"pair%d\"][value=\"%s\"]')"
                     ".click()" % (i + 1, v))
        evaluate(b, session, "document.getElementById('save').click()")
        status = evaluate(b, session, "document.getElementById('status').textContent")
        print("status:", status)
        if not status.startswith("Saved"):
            sys.exit(1)
        begun = b.wait_event("Browser.downloadWillBegin")
        done = b.wait_event("Browser.downloadProgress",
                            lambda p: p.get("guid") == begun["guid"] and
                            p.get("state") in ("completed", "canceled"))
        if done["state"] != "completed":
            sys.exit("rate_in_chromium: the download was canceled")
        # allowAndName saves it under its guid: give it the page's name.
        saved = os.path.join(downloads, begun["suggestedFilename"])
        os.replace(os.path.join(downloads, begun["guid"]), saved)
        print(saved)
    finally:
        b.close()
        shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    main()
