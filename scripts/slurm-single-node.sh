#!/usr/bin/env bash
# A throwaway single-node Slurm cluster on this machine, for tests of what `zero-shot cluster slurm` prints.
#
#   scripts/slurm-single-node.sh start DIR   # munged + slurmctld + slurmd, everything under DIR
#   SLURM_CONF=DIR/slurm.conf sbatch ...     # what DIR/env exports
#   scripts/slurm-single-node.sh stop DIR    # stops the daemons it started, by the pids in DIR
#
# Nothing outside DIR is touched: munged gets its own key and socket (Slurm's AuthInfo points at it), the
# daemons their own ports, spool, state and log files, so a system Slurm or munge keeps running as it is.
# Needs root (slurmd starts jobs as their user) and Debian's slurm-wlm and munge packages.
# Exit codes of start: 0 the node is idle, 3 this machine cannot run it (not root, packages absent; the
# message says which), 1 a daemon failed to start (its log is printed).
set -euo pipefail

usage() {
  echo "usage: $0 start|stop DIR" >&2
  exit 2
}
[ $# -eq 2 ] || usage
cmd=$1
dir=$2

stop() {
  # Only the pids start wrote. TERM to all at once (each takes ~2 s to exit), KILL what still runs after 10 s.
  local pids=() name file pid
  for name in slurmd slurmctld munged; do
    file="$dir/$name.pid"
    [ -f "$file" ] || continue
    pid=$(cat "$file")
    rm -f "$file"
    if [ -n "$pid" ] && kill -0 "$pid" 2> /dev/null; then
      kill -TERM "$pid" 2> /dev/null || true
      pids+=("$pid")
    fi
  done
  for pid in "${pids[@]}"; do
    for _ in $(seq 1 100); do
      kill -0 "$pid" 2> /dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2> /dev/null; then kill -KILL "$pid" 2> /dev/null || true; fi
  done
}

cannot() {
  echo "slurm-single-node: cannot start a local Slurm here: $1" >&2
  exit 3
}

failed() {
  echo "slurm-single-node: $1" >&2
  for log in "$dir"/log/*.log; do
    [ -f "$log" ] || continue
    echo "--- $log (last lines)" >&2
    tail -n 20 "$log" >&2
  done
  stop
  exit 1
}

# A TCP port nobody listens on, from a range Slurm does not use by default.
free_port() {
  local port
  for port in $(seq "$1" $(($1 + 200))); do
    if ! (echo > "/dev/tcp/127.0.0.1/$port") 2> /dev/null; then
      echo "$port"
      return
    fi
  done
  failed "no free TCP port from $1"
}

start() {
  [ "$(id -u)" = 0 ] || cannot "it needs root (slurmd runs jobs as their user); running as $(id -un)"
  local missing=()
  for tool in munged mungekey slurmctld slurmd sbatch sinfo scontrol; do
    command -v "$tool" > /dev/null 2>&1 || missing+=("$tool")
  done
  [ ${#missing[@]} -eq 0 ] ||
    cannot "${missing[*]} not found; install Debian's packages: apt-get install -y slurm-wlm munge"

  mkdir -p "$dir"/{munge,log,spool/ctld,spool/d}
  dir=$(cd "$dir" && pwd)
  chmod 700 "$dir/munge"
  mungekey --create --force --keyfile="$dir/munge/munge.key" > /dev/null 2>&1 ||
    failed "mungekey could not create $dir/munge/munge.key"
  chmod 600 "$dir/munge/munge.key"
  # munged refuses keys and sockets in folders others could write to; --force accepts running as root.
  munged --force --foreground --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.socket" \
    --pid-file="$dir/munge/munged.pid" --seed-file="$dir/munge/munged.seed" \
    --log-file="$dir/log/munged.log" > "$dir/log/munged.out" 2>&1 &
  echo $! > "$dir/munged.pid"
  for _ in $(seq 1 50); do
    [ -S "$dir/munge/munge.socket" ] && break
    sleep 0.1
  done
  [ -S "$dir/munge/munge.socket" ] || failed "munged did not create its socket"

  local host cpus mem ctld_port d_port
  host=$(hostname -s)
  cpus=$(nproc)
  # RealMemory a little under the machine's: slurmd drains a node that has less than it claims.
  mem=$(($(awk '/MemTotal/ {print int($2 / 1024)}' /proc/meminfo) * 9 / 10))
  ctld_port=$(free_port 16817)
  d_port=$(free_port $((ctld_port + 1)))
  cat > "$dir/slurm.conf" << EOF
ClusterName=moevl-test
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$d_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.socket
StateSaveLocation=$dir/spool/ctld
SlurmdSpoolDir=$dir/spool/d
SlurmctldPidFile=$dir/spool/slurmctld.pid
SlurmdPidFile=$dir/spool/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
ReturnToService=2
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
MinJobAge=300
KillWait=5
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
  printf 'export SLURM_CONF=%q\n' "$dir/slurm.conf" > "$dir/env"
  export SLURM_CONF="$dir/slurm.conf"

  slurmctld -D -i -f "$SLURM_CONF" > "$dir/log/slurmctld.out" 2>&1 &
  echo $! > "$dir/slurmctld.pid"
  slurmd -D -f "$SLURM_CONF" > "$dir/log/slurmd.out" 2>&1 &
  echo $! > "$dir/slurmd.pid"

  local state=''
  for _ in $(seq 1 150); do
    for name in slurmctld slurmd munged; do
      kill -0 "$(cat "$dir/$name.pid")" 2> /dev/null || failed "$name exited during start"
    done
    state=$(sinfo -h -N -n "$host" -o '%t' 2> /dev/null || true)
    [ "$state" = idle ] && break
    sleep 0.2
  done
  [ "$state" = idle ] || failed "node $host is not idle after 30 s (sinfo says \"$state\")"
  echo "slurm-single-node: node $host idle ($cpus CPUs); $(cat "$dir/env")"
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  *) usage ;;
esac
