#!/usr/bin/env bash
# Produces the Fashion-MNIST results table of docs/RESULTS.md: every method (released sampling, the default fusion budget) and evlf's default at IPC 1 and 10, each set evaluated
# with ConvNet-3 under the DSA protocol (1000 epochs), REPEATS repeats, then `evlf report`. The random and herding sets
# are also evaluated under DC's protocol (no augmentation, 300 epochs) in runs/table/{random,herding}-dc-ipcN.
# Finished runs and evaluations are skipped and evlf eval keeps finished repeats, so the script can be stopped and
# restarted, or rerun with more REPEATS.
# At the IPCs in PAIRED_IPCS (default 1 10) evlf's default is also run without EVLF, and both at the generation seeds in
# PAIRED_SEEDS (default 0 1 2; seed 0 with EVLF is the "default" row itself), so the report can pair every EVLF run
# with its base at the same seeds (its "EVLF − base, paired" section; EVALUATION.md §12).
# Usage: tools/results/fashion-mnist-table.sh [REPEATS] [IPC...]      (defaults: 3, IPC 1 10)
# ONLY="dit d4m-evlf ..." limits the work to those rows (run names without -ipcN) and skips the report, e.g. to
# re-run the generative rows after a new bundle; run the script again without ONLY to write the report.
set -euo pipefail
cd "$(dirname "$0")/../.."
repeats=${1:-3}; shift || true
ipcs=${*:-1 10}
dotnet build -c Release src/Evlf.Cli >/dev/null
evlf() { dotnet src/Evlf.Cli/bin/Release/net10.0/evlf.dll "$@"; }
# evaluate DIR [EVAL OPTIONS...]: ConvNet-3 on DIR until it has REPEATS repeats (evlf eval keeps the finished ones).
evaluate() {
  local dir=$1; shift
  local done_repeats
  done_repeats=$(grep -o '"repeats": [0-9]*' "$dir/eval.json" 2>/dev/null | grep -o '[0-9]*$' || echo 0)
  if [ "$done_repeats" -lt "$repeats" ]; then
    evlf eval --synthetic "$dir" --data fashion-mnist --model convnet3 --repeats "$repeats" --seed 0 --quiet "$@"
  fi
}
paired_ipcs=${PAIRED_IPCS:-1 10}
paired_seeds=${PAIRED_SEEDS:-0 1 2}
runs=()
for ipc in $ipcs; do
  # The nine standard rows sample as released (--preset released; minimax without --evlf is the released Minimax);
  # "default" is what `evlf distill` runs.
  for spec in "random" "herding" "dit" "d4m --no-evlf" "d4m --evlf" "mgd3 --no-evlf" "mgd3 --evlf" "minimax" "minimax --evlf" "default"; do
    read -r method flag <<<"$spec"
    row="$method${flag:+-${flag#--}}"
    preset=released
    if [ "$method" = default ]; then method=mgd3; flag=--evlf; preset=default; fi
    name="$row-ipc$ipc"
    if [ -n "${ONLY:-}" ] && [[ " $ONLY " != *" $row "* ]]; then continue; fi
    out="runs/table/$name"
    if [ ! -f "$out/manifest.json" ]; then
      # Every row trains the fusion module on the default budget (12 000 images per epoch; the released code uses all).
      evlf distill --method "$method" ${flag:-} --preset "$preset" --fusion-samples 12000 --ipc "$ipc" --seed 0 --out "$out" --cache runs/table/.cache --quiet
    fi
    evaluate "$out" --epochs 1000
    runs+=("$out")
    if [ "$method" = random ] || [ "$method" = herding ]; then
      # The same images under DC's own evaluation (no augmentation, 300 epochs), which produced the published random
      # and herding rows: DC's code augments MNIST but not Fashion-MNIST.
      dc="runs/table/$method-dc-ipc$ipc"
      if [ ! -f "$dc/manifest.json" ]; then
        rm -rf "$dc" && mkdir -p "$dc" && cp -r "$out/images" "$dc/" && cp "$out/manifest.json" "$dc/manifest.json"
      fi
      evaluate "$dc" --epochs 300 --dsa-strategy none
      runs+=("$dc")
    fi
  done
  if [[ " $paired_ipcs " != *" $ipc "* ]]; then continue; fi
  for seed in $paired_seeds; do
    for flag in --evlf --no-evlf; do
      row=default; [ "$flag" = --evlf ] || row=default-no-evlf
      name="$row$([ "$seed" = 0 ] || echo "-seed$seed")-ipc$ipc"
      if [ -n "${ONLY:-}" ] && [[ " $ONLY " != *" $row "* ]]; then continue; fi
      out="runs/table/$name"
      if [ ! -f "$out/manifest.json" ]; then
        evlf distill --method mgd3 "$flag" --preset default --fusion-samples 12000 --ipc "$ipc" --seed "$seed" --out "$out" --cache runs/table/.cache --quiet
      fi
      evaluate "$out" --epochs 1000
      [[ " ${runs[*]} " == *" $out "* ]] || runs+=("$out")
    done
  done
done
if [ -n "${ONLY:-}" ]; then
  echo "ONLY is set: evaluated ${runs[*]}; run the script without ONLY to write docs/RESULTS.md." >&2
else
  # --agreement: class agreement with soft-label evaluation's teacher (trained once and cached, ~12 min on 2 cores).
  evlf report "${runs[@]}" --out docs/RESULTS.md --agreement
fi
