#!/usr/bin/env bash
# Debian packages the project needs beyond Python: the libraries WeasyPrint loads at run time
# (Pango, its FreeType/Fontconfig backend, HarfBuzz's subsetter for embedding font subsets) and
# poppler-utils (pdftoppm, pdftotext), which developers and the report tests use to look at PDFs.
# The CJK font is not here: it comes from PyPI with the Python dependencies.
#
# Idempotent: installs only what is missing, does nothing when everything is present.
# Run as root (CI and the developer machines are root), or through sudo.
set -euo pipefail

packages=(
    libpango-1.0-0
    libpangoft2-1.0-0
    libharfbuzz-subset0
    fontconfig
    poppler-utils
)

missing=()
for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done

if [ ${#missing[@]} -eq 0 ]; then
    echo "system-deps: all present (${packages[*]})"
    exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
    sudo=(sudo)
fi

echo "system-deps: installing ${missing[*]}"
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends "${missing[@]}"
echo "system-deps: installed ${missing[*]}"
