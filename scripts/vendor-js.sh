#!/usr/bin/env bash
# Vendor the drawing plugin of `gisrenew serve` into gisrenew/serve/static/vendor/.
#
# Package: @geoman-io/leaflet-geoman-free (MIT), the free edition of Geoman's Leaflet
# drawing and editing plugin: actively maintained (regular releases for Leaflet 1.9),
# draws polygons by clicks with vertex snapping, undo of the last vertex while drawing,
# and needs no other library (leaflet-draw, the older choice, has had no release since 2018).
#
# The pinned version's tarball is fetched from the npm registry and checked against the
# registry's sha512 integrity hash before anything is unpacked; only the dist files and the
# licence are copied. Run from the repository root: scripts/vendor-js.sh
set -euo pipefail

NAME="@geoman-io/leaflet-geoman-free"
VERSION="2.20.2"
INTEGRITY="sha512-KQpSe0VKyuVCudq/08rMjJW1vvIwFldTwBny2wZ7ABcyyUAP7/eoFo967hCu9yRqAAHb4QOxC6gY5dGqttY68g=="
TARBALL="https://registry.npmjs.org/${NAME}/-/leaflet-geoman-free-${VERSION}.tgz"
DEST="gisrenew/serve/static/vendor/leaflet-geoman"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
curl --fail --silent --show-error --location --proto '=https' -o "$work/package.tgz" "$TARBALL"
actual="sha512-$(openssl dgst -sha512 -binary "$work/package.tgz" | base64 -w0)"
if [[ "$actual" != "$INTEGRITY" ]]; then
    echo "integrity check failed for $NAME@$VERSION: got $actual, expected $INTEGRITY" >&2
    exit 1
fi
tar -xzf "$work/package.tgz" -C "$work"
mkdir -p "$DEST"
cp "$work/package/dist/leaflet-geoman.js" "$DEST/leaflet-geoman.js"
cp "$work/package/dist/leaflet-geoman.css" "$DEST/leaflet-geoman.css"
cp "$work/package/LICENSE" "$DEST/LICENSE"
printf '%s@%s\n%s\n%s\n' "$NAME" "$VERSION" "$TARBALL" "$INTEGRITY" > "$DEST/VERSION"
echo "vendored $NAME@$VERSION into $DEST"
