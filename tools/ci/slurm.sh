#!/usr/bin/env bash
# A real Slurm run of `evlf cluster slurm` on this machine: installs Slurm and MUNGE (Debian packages) if missing, starts
# a one-node cluster by hand (munged, slurmctld, slurmd, all as root, every file under a temporary folder; no systemd,
# nothing under /etc), distils a small mgd3+EVLF set through the rendered submit.sh with 2 shards (three waves: encode,
# fuse, sample), waits for the jobs, and checks that every published PNG is byte-for-byte the one a single process
# writes. Stops the daemons it started. Needs root and a Release build (dotnet build -c Release).
# Usage: tools/ci/slurm.sh   (about 3 minutes on 2 cores; KEEP=1 keeps the temporary folder)
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
evlf="$repo/src/Evlf.Cli/bin/Release/net10.0/evlf"
start=$SECONDS
fail() { echo "slurm: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || fail "run as root: slurmd starts the jobs"
[ -x "$evlf" ] || fail "no $evlf; build first: dotnet build -c Release"
[ -d /usr/share/datasets/fashion-mnist ] || [ -n "${EVLF_DATA:-}" ] || fail "no Fashion-MNIST: apt-get install dataset-fashion-mnist"

if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v sbatch >/dev/null || ! command -v munged >/dev/null; then
    echo "+ apt-get install slurmctld slurmd slurm-client munge"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends slurmctld slurmd slurm-client munge >/dev/null
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/evlf-slurm.XXXXXX")
chmod 755 "$work"
pids=()
job_ids=""
cleanup() {
    local pid i
    # Jobs still queued or running (a failure, a timeout) are cancelled while slurmctld can still do it.
    if [ -n "${job_ids:-}" ]; then
        scancel $job_ids 2>/dev/null || true
        for i in $(seq 20); do [ -z "$(squeue -h 2>/dev/null)" ] && break; sleep 0.5; done
    fi
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    [ "${KEEP:-0}" = 1 ] && echo "slurm: kept $work" || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# MUNGE: a fresh key and a private socket, so that nothing of a system munged is used or disturbed.
mkdir -m 711 "$work/munge"
dd if=/dev/urandom of="$work/munge/munge.key" bs=1024 count=1 status=none
chmod 600 "$work/munge/munge.key"
munged --foreground --force --key-file="$work/munge/munge.key" --socket="$work/munge/socket" \
    --pid-file="$work/munge/munged.pid" --seed-file="$work/munge/seed" >"$work/munge/munged.log" 2>&1 &
pids+=($!)

# One node: this host, its CPUs, and a bit less memory than is free. Ports away from the defaults, in case a
# system Slurm runs here.
host=$(hostname -s)
cpus=$(nproc)
memory=$(awk '/^MemAvailable:/ { printf "%d", $2 / 1024 * 0.8 }' /proc/meminfo)
mkdir -p "$work/state" "$work/spool"
export SLURM_CONF="$work/slurm.conf"
cat >"$SLURM_CONF" <<EOF
ClusterName=evlf-ci
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=16817
SlurmdPort=16818
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$work/munge/socket
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MinJobAge=3600
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=ci Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
for i in $(seq 50); do [ -S "$work/munge/socket" ] && break; sleep 0.1; done
[ -S "$work/munge/socket" ] || fail "munged did not start: $(cat "$work/munge/munged.log" 2>/dev/null)"
slurmctld -D -c -f "$SLURM_CONF" >"$work/slurmctld.out" 2>&1 &
pids+=($!)
slurmd -D -f "$SLURM_CONF" >"$work/slurmd.out" 2>&1 &
pids+=($!)
state=""
for i in $(seq 60); do
    state=$(sinfo -h -N -o %t 2>/dev/null || true)
    [ "$state" = idle ] && break
    sleep 1
done
[ "$state" = idle ] || { tail -n 20 "$work"/slurm*.log "$work"/slurm*.out >&2; fail "the node is '$state', not idle, after 60 s"; }
echo "slurm: one node ($host, $cpus CPUs) idle after $((SECONDS - start)) s"

# Small and quick, yet every sharded stage splits over both shards: 1200 images are 3 units of encoding and 3 batches
# of fusing; sampling splits the 10 classes.
cd "$repo"
args=(--method mgd3 --max-train 1200 --ipc 1 --steps 10 --fusion-epochs 1 --fusion-samples 300 --candidates 1 --seed 5 --quiet)
clock=$SECONDS
"$evlf" distill "${args[@]}" --out "$work/one"
echo "slurm: one process in $((SECONDS - clock)) s"

clock=$SECONDS
"$evlf" cluster slurm --shards 2 --cpus-per-task 1 --evlf "$evlf" --out "$work/jobs" -- "${args[@]}" --out "$work/sharded"
bash "$work/jobs/submit.sh" | tee "$work/submit.out"
job_ids=$(sed -n 's/.*shards job \([0-9]*\), finishing job \([0-9]*\)$/\1 \2/p' "$work/submit.out")
[ "$(echo $job_ids | wc -w)" -eq 6 ] || fail "submit.sh did not print three waves of job ids"

# Without accounting, scontrol shows a finished job's state for MinJobAge seconds.
job_states() { local j; for j in $job_ids; do scontrol -o show job "$j" | grep -o 'JobState=[A-Z_]*' | sort -u | tr '\n' ' '; done; }
for i in $(seq 600); do
    states=$(job_states)
    case "$states" in *PENDING*|*RUNNING*|*CONFIGURING*|*COMPLETING*|*REQUEUE*|*SUSPENDED*) sleep 1 ;; *) break ;; esac
done
if [ "$(echo "$states" | tr ' ' '\n' | sort -u | grep -v '^$')" != "JobState=COMPLETED" ]; then
    for log in "$work"/jobs/logs/*.log; do echo "== $log"; tail -n 15 "$log"; done >&2
    fail "the jobs ended as: $states"
fi
echo "slurm: three waves of 2 shards and the finishing run in $((SECONDS - clock)) s"
grep -h '^distilled ' "$work"/jobs/logs/evlf-finish-*.log || fail "no finishing run published the set"

# The same PNG names, and the same bytes, as the single process.
(cd "$work/one" && find images -name '*.png' | sort) >"$work/one.list"
(cd "$work/sharded" && find images -name '*.png' | sort) >"$work/sharded.list"
n=$(wc -l <"$work/one.list")
[ "$n" -eq 10 ] || fail "the single process wrote $n PNGs, expected 10"
cmp -s "$work/one.list" "$work/sharded.list" || { diff "$work/one.list" "$work/sharded.list" >&2; fail "the Slurm run published other files than the single process"; }
while IFS= read -r png; do
    cmp -s "$work/one/$png" "$work/sharded/$png" || fail "$png differs between the Slurm run and the single process"
done <"$work/one.list"
echo "slurm: OK, the Slurm run published the same $n PNGs, byte for byte, as one process; $((SECONDS - start)) s in all"
