#!/usr/bin/env bash
# Produces the Fashion-MNIST results table of docs/RESULTS.md: each set made by `evlf distill` (seed 0 unless a row
# pairs seeds), evaluated with ConvNet-3 under the DSA protocol (1000 epochs, REPEATS repeats), then `evlf report`.
# Finished runs and evaluations are skipped and evlf eval keeps finished repeats, so the script can be stopped and
# restarted, or rerun with more REPEATS.
#
# Usage: tools/results/fashion-mnist-table.sh [REPEATS] [IPC...]      (defaults: 3, IPC 1 10)
# ROWS picks the groups of rows (default "released default"; "all" = every row docs/RESULTS.md holds, with IPC 1 10 50):
#   released  random and herding, and every method with the released sampling (--preset released): dit, d4m, mgd3,
#             minimax, each with and without EVLF; random and herding again under DC's own evaluation (no augmentation,
#             300 epochs) in *-dc-ipcN; at IPC 50 d4m with and without EVLF at generation seeds 0, 1 and 2 as well.
#   default   what `evlf distill` runs at that IPC, with and without EVLF (--no-evlf) so the report pairs them (its
#             "EVLF − base, paired" section): from noise with the discriminative choice up to IPC 3 (made at IPC 1),
#             real starts at 0.3 at IPC 10 (both over generation seeds PAIRED_SEEDS, default 0 1 2), real starts at 0.2
#             with their detail kept at IPC 50 (seed 0).
#   recipes   the default's recipes at the IPCs where it is not the default (from noise with herding's choice, real
#             starts at 0.3, real starts at 0.2 with the detail), with and without EVLF; over PAIRED_SEEDS at IPC 10 and
#             from noise at IPC 1 (EVALUATION.md §12–13, §21). The discriminative choice runs up to IPC 3 only (§24–25).
#   soft      random, herding, d4m, d4m+EVLF, the recipe from noise, the real starts at 0.3, and the default up to IPC 3
#             and from IPC 50 up, under soft labels (`evlf eval --soft-labels rded`: a cached ConvNet-3 teacher, 300
#             epochs), each on a copy of the set.
# Run names follow the history of the default: "default" is the recipe that was the default when the row was first made.
# ONLY="dit d4m-evlf ..." limits the work to those rows (run names without -ipcN and -seedS) and skips the report.
# EVLF=COMMAND runs another evlf (default: the Release build of src/Evlf.Cli, built first); RUNS=DIR (default
# runs/table) holds the runs and REPORT=FILE (default docs/RESULTS.md) is the report.
set -euo pipefail
cd "$(dirname "$0")/../.."
repeats=${1:-3}; shift || true
rows=${ROWS:-released default}
if [ "$rows" = all ]; then rows="released default recipes soft"; ipcs=${*:-1 10 50}; else ipcs=${*:-1 10}; fi
for group in $rows; do
  case $group in released|default|recipes|soft) ;; *) echo "ROWS: unknown group '$group' (released, default, recipes, soft or all)" >&2; exit 2;; esac
done
runs_dir=${RUNS:-runs/table}
report=${REPORT:-docs/RESULTS.md}
paired_seeds=${PAIRED_SEEDS:-0 1 2}
if [ -n "${EVLF:-}" ]; then
  evlf() { $EVLF "$@"; }
else
  dotnet build -c Release src/Evlf.Cli >/dev/null
  evlf() { dotnet src/Evlf.Cli/bin/Release/net10.0/evlf.dll "$@"; }
fi
has() { [[ " $rows " == *" $1 "* ]]; }
runs=()

# evaluate DIR [EVAL OPTIONS...]: ConvNet-3 on DIR until it has REPEATS repeats (evlf eval keeps the finished ones).
evaluate() {
  local dir=$1; shift
  local done_repeats
  done_repeats=$(grep -o '"repeats": [0-9]*' "$dir/eval.json" 2>/dev/null | grep -o '[0-9]*$' || echo 0)
  if [ "$done_repeats" -lt "$repeats" ]; then
    evlf eval --synthetic "$dir" --data fashion-mnist --model convnet3 --repeats "$repeats" --seed 0 --quiet "$@"
  fi
}

# row NAME IPC SEED EVAL DISTILL-OPTIONS...: make $RUNS/NAME[-seedS]-ipcN unless it is finished and evaluate it
# (EVAL: dsa = the table's protocol, dc = DC's, soft = soft labels, none = make the set only). dc and soft take the
# name of a hard-label run instead of the distill options and evaluate a copy of its set (copy_row makes that run).
row() {
  local name=$1 ipc=$2 seed=$3 eval=$4; shift 4
  local suffix; suffix="$([ "$seed" = 0 ] || echo "-seed$seed")-ipc$ipc"
  local out="$runs_dir/$name$suffix"
  if [ -n "${ONLY:-}" ] && [[ " $ONLY " != *" $name "* ]]; then return; fi
  if [ ! -f "$out/manifest.json" ]; then
    if [ "$eval" = dsa ] || [ "$eval" = none ]; then
      # Every row trains the fusion module on the default budget (12 000 images per epoch; the released code uses all).
      evlf distill "$@" --fusion-samples 12000 --ipc "$ipc" --seed "$seed" --out "$out" --cache "$runs_dir/.cache" --quiet
    else
      # The same images as the hard-label run $1, evaluated another way (its row comes first).
      local source="$runs_dir/$1$suffix"
      rm -rf "$out" && mkdir -p "$out" && cp -r "$source/images" "$out/" && cp "$source/manifest.json" "$out/manifest.json"
    fi
  fi
  case $eval in
    dsa) evaluate "$out" --epochs 1000 ;;
    dc) evaluate "$out" --epochs 300 --dsa-strategy none ;; # DC's code augments MNIST but not Fashion-MNIST
    soft) evaluate "$out" --soft-labels rded ;;
    none) return ;;
  esac
  [[ " ${runs[*]} " == *" $out "* ]] || runs+=("$out")
}

# The default's four recipes (EVALUATION.md §12–13, §17, §24): the options, and each one's run name at an IPC (RESULTS.md's
# default-ipc50 is real03-ipc50's command made on an earlier machine, when it was the default there).
noise=(--method mgd3 --preset default --start noise --selection herding)
disc=(--method mgd3 --preset default --start noise --selection discriminative)
disc_ipc=3 # the IPCs up to which the default chooses discriminatively (DistillOptions.DefaultDiscriminativeIpc)
real03=(--method mgd3 --preset default --start real --strength 0.3 --no-real-detail)
detail=(--method mgd3 --preset default --start real --strength 0.2 --real-detail)
recipe_name() { # RECIPE IPC
  case $1 in
    noise) [ "$2" -lt 10 ] && echo default || echo noise ;;
    real03) if [ "$2" -lt 10 ]; then echo default-real; elif [ "$2" -lt 50 ]; then echo default; else echo real03; fi ;;
    detail) echo default-detail ;;
    disc) echo default-disc ;;
  esac
}
default_recipe() {
  if [ "$1" -le "$disc_ipc" ]; then echo disc; elif [ "$1" -lt 10 ]; then echo noise; elif [ "$1" -lt 50 ]; then echo real03; else echo detail; fi
}
# copy_row NAME SOURCE IPC EVAL DISTILL-OPTIONS...: the set of the hard-label run SOURCE evaluated as EVAL (dc, soft) in
# run NAME; SOURCE is made with the options where no other row made it (made only, not evaluated under hard labels).
copy_row() {
  local name=$1 source=$2 ipc=$3 eval=$4; shift 4
  if [ -n "${ONLY:-}" ] && [[ " $ONLY " != *" $name "* ]]; then return; fi
  ONLY='' row "$source" "$ipc" 0 none "$@"
  row "$name" "$ipc" 0 "$eval" "$source"
}
# paired RECIPE IPC SEEDS...: the recipe with and without EVLF at each generation seed.
paired() {
  local recipe=$1 ipc=$2; shift 2
  local -n options=$recipe
  local name seed
  name=$(recipe_name "$recipe" "$ipc")
  for seed in "$@"; do
    row "$name" "$ipc" "$seed" dsa "${options[@]}" --evlf
    row "$name-no-evlf" "$ipc" "$seed" dsa "${options[@]}" --no-evlf
  done
}

for ipc in $ipcs; do
  if has released; then
    row random "$ipc" 0 dsa --method random
    copy_row random-dc random "$ipc" dc --method random
    row herding "$ipc" 0 dsa --method herding
    copy_row herding-dc herding "$ipc" dc --method herding
    row dit "$ipc" 0 dsa --method dit --preset released
    for seed in 0 $([ "$ipc" -ge 50 ] && echo 1 2); do
      row d4m-no-evlf "$ipc" "$seed" dsa --method d4m --no-evlf --preset released
      row d4m-evlf "$ipc" "$seed" dsa --method d4m --evlf --preset released
    done
    row mgd3-no-evlf "$ipc" 0 dsa --method mgd3 --no-evlf --preset released
    row mgd3-evlf "$ipc" 0 dsa --method mgd3 --evlf --preset released
    row minimax "$ipc" 0 dsa --method minimax --preset released
    row minimax-evlf "$ipc" 0 dsa --method minimax --evlf --preset released
  fi
  default=$(default_recipe "$ipc")
  for recipe in noise disc real03 detail; do
    if [ "$recipe" = disc ] && [ "$ipc" -gt "$disc_ipc" ]; then continue; fi
    if [ "$recipe" = "$default" ]; then has default || continue; else has recipes || continue; fi
    # Over the paired seeds where EVALUATION.md measures them (IPC 1 and 10 for the recipes from noise, IPC 10 for the
    # real starts), at seed 0 elsewhere.
    if [ "$ipc" = 10 ] || { [ "$ipc" = 1 ] && [[ $recipe == noise || $recipe == disc ]]; }; then
      # shellcheck disable=SC2086 # the seeds are a list
      paired "$recipe" "$ipc" $paired_seeds
    else
      paired "$recipe" "$ipc" 0
    fi
  done
  if has soft; then
    # The soft runs keep the names they were first made under: soft-default (from noise), soft-default-real,
    # soft-default-disc, soft-default-detail.
    copy_row soft-random random "$ipc" soft --method random
    copy_row soft-herding herding "$ipc" soft --method herding
    copy_row soft-d4m-no-evlf d4m-no-evlf "$ipc" soft --method d4m --no-evlf --preset released
    copy_row soft-d4m-evlf d4m-evlf "$ipc" soft --method d4m --evlf --preset released
    copy_row soft-default "$(recipe_name noise "$ipc")" "$ipc" soft "${noise[@]}" --evlf
    copy_row soft-default-real "$(recipe_name real03 "$ipc")" "$ipc" soft "${real03[@]}" --evlf
    # The default's own set at the IPCs where it is neither of those two recipes: soft-default-disc, soft-default-detail.
    if [[ $default == disc || $default == detail ]]; then
      default_options="$default[@]"
      copy_row "soft-$(recipe_name "$default" "$ipc")" "$(recipe_name "$default" "$ipc")" "$ipc" soft "${!default_options}" --evlf
    fi
  fi
done
if [ -n "${ONLY:-}" ]; then
  echo "ONLY is set: evaluated ${runs[*]}; run the script without ONLY to write $report." >&2
else
  # --agreement: class agreement with soft-label evaluation's teacher (trained once and cached, ~12 min on 2 cores).
  evlf report "${runs[@]}" --out "$report" --agreement
fi
