#!/usr/bin/env python3
"""A minimal Docker registry (the v2 API a pull uses) serving one image
made from a root directory, so that tests can pull with no registry on the
network. Blobs are sent at RATE bytes a second, so that a pull lasts long
enough to show progress.
usage: registry.py PORT ROOTFS_DIR NAME TAG RATE"""
import gzip, hashlib, http.server, io, json, sys, tarfile, time

port, root, name, tag, rate = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
raw = io.BytesIO()
with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as t:
    def owner(ti):
        ti.uid = ti.gid = 0
        ti.uname = ti.gname = "root"
        return ti
    t.add(root, arcname=".", filter=owner)
raw = raw.getvalue()
layer = gzip.compress(raw, compresslevel=1)
sha = lambda b: "sha256:" + hashlib.sha256(b).hexdigest()
config = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Cmd": ["/bin/sh"]},
                     "rootfs": {"type": "layers", "diff_ids": [sha(raw)]}}).encode()
manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                       "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
                                  "size": len(config), "digest": sha(config)},
                       "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                                   "size": len(layer), "digest": sha(layer)}]}).encode()
blobs = {sha(config): config, sha(layer): layer}

class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def answer(self, body, ctype, slow=False):
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Docker-Content-Digest", sha(body))
        self.send_header("Docker-Distribution-API-Version", "registry/2.0")
        self.end_headers()
        if self.command == "HEAD":
            return
        step = max(1, rate // 10)
        for i in range(0, len(body), step if slow else len(body) or 1):
            self.wfile.write(body[i:i + (step if slow else len(body))])
            self.wfile.flush()
            if slow:
                time.sleep(0.1)
    def do_GET(self):
        p = self.path.split("?")[0]
        if p in ("/v2/", "/v2"):
            return self.answer(b"{}", "application/json")
        if p in ("/v2/%s/manifests/%s" % (name, tag), "/v2/%s/manifests/%s" % (name, sha(manifest))):
            return self.answer(manifest, "application/vnd.docker.distribution.manifest.v2+json")
        for d, b in blobs.items():
            if p == "/v2/%s/blobs/%s" % (name, d):
                return self.answer(b, "application/octet-stream", slow=len(b) > 10000)
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()
    do_HEAD = do_GET
    def log_message(self, *a):
        pass

srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), H)
print("registry on 127.0.0.1:%d: %s:%s, layer %d bytes" % (port, name, tag, len(layer)), flush=True)
srv.serve_forever()
