"""Times graphite-web's own render of the bench's two targets, in process.

No HTTP and no client: Django's test client calls the render view directly,
so what is left is graphite-web's work (finding, reading whisper files and
carbon's cache, encoding JSON). This is the floor under any plugin's wall time
on the same render. Run with graphite-web's settings on PYTHONPATH and
DJANGO_SETTINGS_MODULE set; prints "<name> <median ms>" per target.
Usage: graphite_web_render.py RUNS NAME=URL...
"""

import statistics
import sys
import time
import warnings

warnings.simplefilter("ignore")  # graphite's SECRET_KEY warning, not ours
import django  # noqa: E402

django.setup()
from django.test import Client  # noqa: E402

runs = int(sys.argv[1])
client = Client()
for spec in sys.argv[2:]:
    name, _, url = spec.partition("=")
    for _ in range(3):
        client.get(url)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        reply = client.get(url)
        times.append(time.perf_counter() - start)
        if reply.status_code != 200 or not reply.content.startswith(b"[{"):
            sys.exit(f"graphite-web answered {reply.status_code} for {url}: {reply.content[:200]!r}")
    print(f"{name} {statistics.median(times) * 1000:.2f}")
