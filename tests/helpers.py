"""Helpers that the tests, the benchmarks and the screenshot script share."""
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def launch(folder, out, *options, timeout=180, env=None):
    """Start app.py in its own process on a free port, for the tests, the benchmark and the
    screenshot script: (the process, the page's address with this run's token). Stop it with
    process.terminate(). env: the process's environment (default this one's)."""
    process = subprocess.Popen([sys.executable, str(ROOT / "app.py"), str(folder), "-o", str(out),
                                "--port", "0", *options], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, cwd=ROOT, env=env)
    deadline, said = time.time() + timeout, []
    while time.time() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            break
        said.append(line)
        found = re.search(r"(http://\S+/\?token=\S+)", line)
        if found:
            return process, found.group(1)
    process.kill()
    raise RuntimeError("app.py did not start: " + "".join(said))


def workbench_client(workbench):
    """A Flask test client of a Workbench, as the page is: with this run's token in its cookie
    and its own origin on every request."""
    from workbench.server import create_app
    client = create_app(workbench).test_client()
    client.set_cookie(workbench.cookie, workbench.token, domain="localhost")
    client.environ_base["HTTP_ORIGIN"] = "http://localhost"
    return client
