#!/usr/bin/env python3
"""The order processor of the hand-written TestShop manifest (an
executable.v0): every second, PING to Redis at ConnectionStrings__basketcache
(host:port), and GET CATALOG_URL/healthz; prints what each answered."""
import os
import socket
import sys
import time
import urllib.request

cache = os.environ.get("ConnectionStrings__basketcache", "")
catalog = os.environ.get("CATALOG_URL", "")
host, _, port = cache.split(",")[0].rpartition(":")
print("orderprocessor: cache=%s catalog=%s" % (cache, catalog), flush=True)
while True:
    try:
        with socket.create_connection((host, int(port)), timeout=2) as s:
            s.sendall(b"PING\r\n")
            print("orderprocessor: redis says %s" % s.recv(64).decode().strip(), flush=True)
    except (OSError, ValueError) as e:
        print("orderprocessor: redis: %s" % e, flush=True)
    try:
        with urllib.request.urlopen(catalog + "/healthz", timeout=2) as r:
            print("orderprocessor: catalog says %d" % r.status, flush=True)
    except Exception as e:  # noqa: BLE001 (any failure is only reported)
        print("orderprocessor: catalog: %s" % e, flush=True)
    sys.stdout.flush()
    time.sleep(1)
