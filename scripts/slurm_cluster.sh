#!/usr/bin/env bash
# A throw-away single-node SLURM cluster on this machine (tests and trying profiles/slurm):
# this host is controller and compute node. munged, slurmctld and slurmd run with their own key,
# config, state and logs under one folder; outside it only munge's default socket (/run/munge) and
# slurmd's configless cache link (/run/slurm/conf) appear, and `down` removes both.
#   sudo scripts/slurm_cluster.sh up    # waits until sinfo says idle, prints export SLURM_CONF=...
#   sudo scripts/slurm_cluster.sh down  # cancels jobs, stops the three daemons, keeps the logs
#   scripts/slurm_cluster.sh status
# Needs root and Debian's packages: apt-get install -y slurm-wlm munge (22.05 on Debian 12).
# SLURM_CLUSTER_DIR (default /tmp/percontrast-slurm) holds everything; slurm.conf is written there.
set -euo pipefail
DIR=${SLURM_CLUSTER_DIR:-/tmp/percontrast-slurm}
CONF=$DIR/slurm.conf
# munge's default socket: slurmd in configless mode authenticates before it has a config to
# name another one, and so do client commands in a job (see write_conf)
SOCKET=/run/munge/munge.socket.2
export SLURM_CONF=$CONF

die() { echo "slurm_cluster: $*" >&2; exit 1; }

write_conf() {
  local node cpus mem
  node=$(hostname -s)
  # the node line from the hardware slurmd sees: CPUs, sockets, cores, threads, RealMemory
  read -r cpus mem < <(slurmd -C | awk -v RS=' |\n' -F= '$1=="CPUs"{c=$2} $1=="RealMemory"{m=$2}
                                                        END{print c, m}')
  cat > "$CONF.tmp" <<EOF
# written by scripts/slurm_cluster.sh: one node, controller and compute on $node
ClusterName=percontrast
SlurmctldHost=$node
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$SOCKET
SlurmctldPort=${SLURMCTLD_PORT:-6817}
SlurmdPort=${SLURMD_PORT:-6818}
StateSaveLocation=$DIR/ctld
SlurmdSpoolDir=$DIR/slurmd
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
# containers have no cgroup delegation: track processes by parent id, bind no tasks
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SchedulerType=sched/backfill
# cores are the consumable: memory requests are checked against the node, not summed, so two
# small jobs share a small machine the way they do under the local executor
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
# no slurmdbd: sacct then asks slurmctld, which keeps finished jobs for MinJobAge seconds
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MinJobAge=600
# configless: slurmd fetches this file from slurmctld and caches it where the node's client
# commands look when SLURM_CONF is unset (/run/slurm/conf): the executor's job step strips
# SLURM_* variables, SLURM_CONF included, before its nested srun
SlurmctldParameters=enable_configless
ReturnToService=2
SlurmdTimeout=60
NodeName=$node CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=cpu Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
  mv "$CONF.tmp" "$CONF"
}

wait_idle() {
  local node; node=$(hostname -s)
  for _ in $(seq 1 60); do
    state=$(sinfo -h -n "$node" -o %T 2>/dev/null || true)
    [ "$state" = idle ] && return 0
    sleep 1
  done
  die "node $node not idle after 60 s (state: ${state:-none}); logs in $DIR/log"
}

stop_pidfile() {  # stop_pidfile NAME FILE: TERM, wait up to 10 s, then KILL
  local pid
  [ -f "$2" ] || return 0
  pid=$(cat "$2")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$pid" 2>/dev/null && { echo "slurm_cluster: killing $1 ($pid)" >&2; kill -9 "$pid"; }
  fi
  rm -f "$2"
}

up() {
  [ "$(id -u)" = 0 ] || die "needs root (the daemons run as root here)"
  for cmd in munged slurmctld slurmd sinfo; do
    command -v "$cmd" >/dev/null || die "$cmd not found: apt-get install -y slurm-wlm munge"
  done
  [ -f "$DIR/slurmctld.pid" ] && kill -0 "$(cat "$DIR/slurmctld.pid")" 2>/dev/null \
    && die "a cluster is already running from $DIR (run: $0 down)"
  [ -S "$SOCKET" ] && die "a munged already listens on $SOCKET (stop it first)"
  mkdir -p "$DIR"/{munge,ctld,slurmd,log} "$(dirname "$SOCKET")"
  chmod 700 "$DIR/munge"
  [ -f "$DIR/munge/munge.key" ] || { dd if=/dev/urandom of="$DIR/munge/munge.key" bs=1024 \
    count=1 status=none; chmod 400 "$DIR/munge/munge.key"; }
  munged --force --key-file="$DIR/munge/munge.key" --socket="$SOCKET" \
    --pid-file="$DIR/munge/munged.pid" --log-file="$DIR/log/munged.log" \
    --seed-file="$DIR/munge/munged.seed"
  write_conf
  rm -rf "${DIR:?}/ctld"/*  # a fresh controller state: no jobs of an earlier cluster
  slurmctld -f "$CONF"
  slurmd --conf-server "$(hostname -s):${SLURMCTLD_PORT:-6817}"
  trap 'down; exit 1' ERR
  wait_idle
  trap - ERR
  echo "export SLURM_CONF=$CONF"
}

down() {
  if [ -f "$DIR/slurmctld.pid" ] && kill -0 "$(cat "$DIR/slurmctld.pid")" 2>/dev/null; then
    scancel --full --user="$(id -un)" 2>/dev/null || true
  fi
  stop_pidfile slurmd "$DIR/slurmd.pid"
  stop_pidfile slurmctld "$DIR/slurmctld.pid"
  stop_pidfile munged "$DIR/munge/munged.pid"
  [ "$(readlink /run/slurm/conf 2>/dev/null)" = "$DIR/slurmd/conf-cache" ] && rm -f /run/slurm/conf
  return 0
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) sinfo; squeue ;;
  *) die "usage: $0 up|down|status" ;;
esac
