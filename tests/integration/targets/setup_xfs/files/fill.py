"""Write 1 MiB chunks into PATH until TOTAL MiB or an error; print what happened as JSON."""
import errno
import json
import os
import sys

path, total_mib = sys.argv[1], int(sys.argv[2])
chunk = b"\0" * (1 << 20)
written, err = 0, None
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
try:
    for _ in range(total_mib):
        written += os.write(fd, chunk)
    os.fsync(fd)
except OSError as exc:
    err = exc.errno
finally:
    os.close(fd)
print(json.dumps({"written": written, "errno": err,
                  "errname": errno.errorcode.get(err) if err else None}))
