"""Create and remove containers through Docker's API; report the project id each one got.

    docker_cycles.py IMAGE COUNT [PATH...]

Talks to /var/run/docker.sock directly (one docker CLI start costs ~1 s in the TCG VM). For each
cycle: create a container, read the project id of its writable layer's directory (the parent of
GraphDriver.Data.UpperDir, the directory Docker's SetQuota assigns a project) with FS_IOC_FSGETXATTR, remove
it. Prints JSON: the ids seen, and the project id of each PATH before and after the cycles.
"""
import fcntl
import http.client
import json
import os
import socket
import struct
import sys
import time

FS_IOC_FSGETXATTR = 0x801C581F  # _IOR('X', 31, struct fsxattr), 28 bytes; fsx_projid at offset 12


class DockerSocket(http.client.HTTPConnection):
    def __init__(self):
        super().__init__("localhost")

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect("/var/run/docker.sock")


def call(method, path, body=None):
    conn = DockerSocket()
    conn.request(method, path, body=json.dumps(body) if body is not None else None,
                 headers={"Content-Type": "application/json"})
    response = conn.getresponse()
    data = response.read()
    conn.close()
    if response.status >= 300:
        raise SystemExit(f"{method} {path}: {response.status} {data.decode()}")
    return json.loads(data) if data else None


def project_id(path):
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        return struct.unpack("5I8x", fcntl.ioctl(fd, FS_IOC_FSGETXATTR, bytes(28)))[3]
    finally:
        os.close(fd)


def main():
    image, count, paths = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    before = {p: project_id(p) for p in paths}
    ids = []
    start = time.monotonic()
    for _cycle in range(count):
        cid = call("POST", "/containers/create", {"Image": image, "Cmd": ["true"], "NetworkDisabled": True})["Id"]
        upper = call("GET", f"/containers/{cid}/json")["GraphDriver"]["Data"]["UpperDir"]
        ids.append(project_id(os.path.dirname(upper)))
        call("DELETE", f"/containers/{cid}?v=1")
    print(json.dumps({"cycles": count, "seconds": round(time.monotonic() - start, 1), "ids": ids,
                      "before": before, "after": {p: project_id(p) for p in paths}}))


main()
