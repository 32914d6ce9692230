#!/usr/bin/env bash
# Docker's default seccomp profile of Debian 12's docker.io (20.10.24), from Debian's
# golang-github-docker-docker-dev, extracted on the controller into $1 (kept there as a cache).
# The repository does not carry it.
set -euo pipefail
dest=$1
package=golang-github-docker-docker-dev
member=./usr/share/gocode/src/github.com/docker/docker/profiles/seccomp/default.json
if [[ -s $dest ]]; then exit 0; fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
apt-get download -q "$package/bookworm" >/dev/null 2>&1 || { apt-get update -qq && apt-get download -q "$package/bookworm" >/dev/null; }
dpkg-deb --fsys-tarfile ./*.deb | tar -x "$member"
mkdir -p "$(dirname "$dest")"
mv "$member" "$dest"
echo "extracted from $(basename ./*.deb)"
