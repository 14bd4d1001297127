#!/usr/bin/env bash
# tests/slurm/up.sh -- start a real one-node SLURM cluster on this machine for tests/test_slurm.py.
#
# Debian/Ubuntu, as root, no systemd needed (plain daemons: munged, slurmctld, slurmd).  Idempotent:
# installs slurmctld slurmd slurm-client munge with apt-get --no-install-recommends only when a
# binary is missing, reuses a running munged, and restarts nothing that already runs with the
# same config.  Ends with the node idle and a warm-up batch job done (so the first test's job is
# scheduled at once).  Stop it with tests/slurm/down.sh (by PID, from the PID files below).
#
# The config (/etc/slurm/slurm.conf) is cgroup-free (proctrack/linuxproc, task/none), has
# MpiDefault=pmi2 (a bare `srun prog` wires PMI-2, which PyPI's mpich wheel speaks; without it
# srun starts N independent singletons), JobRequeue=1 (slurm/train.sbatch requeues itself),
# AuthInfo=cred_expire=10 (a requeued job may start again after cred_expire + 1 s, not 121 s),
# sched_interval=1 (it then starts within a second, not at the next 60 s scheduling pass),
# and EnforcePartLimits=ALL (a job asking for more CPUs than the node has fails at submit
# instead of pending forever).
#
# Exit status: 0 up; 3 this machine cannot host it (not root, or SLURM missing and not
# installable: no apt-get, apt-get failed); 1 any other failure.  Errors are one line on stderr.
#
# Environment: MPIDL_SLURM_DIR  state, logs, PID files (default /tmp/mpidl-slurm)
#              MPIDL_SLURM_CPUS CPUs to advertise (default: the machine's; more oversubscribes)
set -euo pipefail

DIR=${MPIDL_SLURM_DIR:-/tmp/mpidl-slurm}
CONF=/etc/slurm/slurm.conf
MARK="# written by mpidl tests/slurm/up.sh"
T0=$(date +%s)
die() { echo "tests/slurm/up.sh: error: $*" >&2; exit 1; }
cannot() { echo "tests/slurm/up.sh: cannot host SLURM here: $*" >&2; exit 3; }
log() { echo "[slurm-up +$(( $(date +%s) - T0 ))s] $*"; }

[ "$(id -u)" = 0 ] || cannot "must run as root (it installs packages and starts munged, slurmctld, slurmd)"
export PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH

# shellcheck source=tests/slurm/pids.sh
. "$(dirname "$0")/pids.sh"

# ------------------------------------------------------------------------------- packages
missing=""
for b in slurmctld slurmd sbatch scontrol sinfo munged munge; do
  command -v "$b" >/dev/null 2>&1 || missing="$missing $b"
done
if [ -n "$missing" ]; then
  command -v apt-get >/dev/null 2>&1 \
    || cannot "SLURM is not installed (missing:$missing) and there is no apt-get to install it"
  log "installing slurmctld slurmd slurm-client munge (missing:$missing)"
  # dpkg must not start the services itself (we start them below, without systemd)
  own_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d
    own_policy=1
  fi
  export DEBIAN_FRONTEND=noninteractive
  rc=0
  { apt-get update -qq && apt-get install -y -qq --no-install-recommends \
      slurmctld slurmd slurm-client munge; } > "/tmp/mpidl-slurm-apt.log" 2>&1 || rc=$?
  [ "$own_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d
  [ "$rc" = 0 ] || cannot "apt-get install slurmctld slurmd slurm-client munge failed (rc $rc; see /tmp/mpidl-slurm-apt.log)"
fi
mkdir -p "$DIR/log" "$DIR/ctld" "$DIR/spool"

# ---------------------------------------------------------------------------------- munge
if [ ! -s /etc/munge/munge.key ]; then
  mkdir -p /etc/munge
  mungekey --create --keyfile=/etc/munge/munge.key >/dev/null 2>&1 \
    || dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
fi
chown munge:munge /etc/munge /etc/munge/munge.key   # munged refuses loose permissions
chmod 700 /etc/munge; chmod 400 /etc/munge/munge.key
for d in /var/lib/munge /var/log/munge /run/munge; do mkdir -p "$d"; chown munge:munge "$d"; done
chmod 700 /var/lib/munge /var/log/munge; chmod 755 /run/munge
if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  log "munged already running"
else
  rm -f /run/munge/munged.pid
  runuser -u munge -- /usr/sbin/munged </dev/null >/dev/null 2>&1 || die "munged did not start (see /var/log/munge/munged.log)"
  for _ in $(seq 1 50); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.1; done
  munge -n 2>/dev/null | unmunge >/dev/null 2>&1 || die "munge credential round-trip failed"
  cp /run/munge/munged.pid "$DIR/munged.pid"   # ours: down.sh stops only a munged we started
  log "munged started"
fi

# ----------------------------------------------------------------------------- slurm.conf
NODE=$(hostname -s)
getent hosts "$NODE" >/dev/null 2>&1 || echo "127.0.0.1 $NODE" >> /etc/hosts  # MPI proxies dial it
HW=$(slurmd -C 2>/dev/null | head -1)
hw() { sed -n "s/.* $1=\([0-9]*\).*/\1/p" <<<" $HW"; }
CPUS=${MPIDL_SLURM_CPUS:-$(hw CPUs)}
if [ "$CPUS" = "$(hw CPUs)" ]; then
  NODEHW="CPUs=$CPUS Sockets=$(hw SocketsPerBoard) CoresPerSocket=$(hw CoresPerSocket) ThreadsPerCore=$(hw ThreadsPerCore)"
  EXTRA=""
else
  NODEHW="CPUs=$CPUS"
  EXTRA="SlurmdParameters=config_overrides"
fi
MEM=$(( $(hw RealMemory) * 9 / 10 ))   # above what slurmd measures would DRAIN the node
CONF_TEXT="$MARK
ClusterName=mpidl
SlurmctldHost=$NODE(127.0.0.1)
AuthType=auth/munge
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
StateSaveLocation=$DIR/ctld
SlurmdSpoolDir=$DIR/spool
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
MpiDefault=pmi2
JobRequeue=1
ReturnToService=2
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0,sched_interval=1
AuthInfo=cred_expire=10
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
EnforcePartLimits=ALL
KillWait=5
MailProg=/bin/true
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/filetxt
JobCompLoc=$DIR/jobcomp.txt
$EXTRA
NodeName=$NODE NodeAddr=127.0.0.1 $NODEHW RealMemory=$MEM State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP"

if [ -f "$CONF" ] && ! head -1 "$CONF" | grep -qF "$MARK" && scontrol ping 2>/dev/null | grep -q UP; then
  die "a SLURM controller not started by this script answers (config $CONF): use it, or stop it first"
fi
if alive_pf "$DIR/slurmctld.pid" slurmctld && alive_pf "$DIR/slurmd.pid" slurmd \
    && [ "$(cat "$CONF" 2>/dev/null)" = "$CONF_TEXT" ]; then
  log "slurmctld and slurmd already running with this config"
  STARTED=""
else
  stop_pf "$DIR/slurmd.pid" slurmd
  stop_pf "$DIR/slurmctld.pid" slurmctld
  mkdir -p /etc/slurm
  printf '%s\n' "$CONF_TEXT" > "$CONF"
  slurmctld </dev/null >/dev/null 2>&1 || { tail -n 20 "$DIR/log/slurmctld.log" >&2; die "slurmctld did not start"; }
  STARTED=$(date +%s)
  slurmd -N "$NODE" </dev/null >/dev/null 2>&1 || { tail -n 20 "$DIR/log/slurmd.log" >&2; die "slurmd did not start"; }
  log "slurmctld and slurmd started (node $NODE: $NODEHW)"
fi

# ------------------------------------------------------------------------ node idle, warm-up
# After a restart slurmctld restores the old node state: "idle" counts only once the new slurmd
# has registered (SlurmdStartTime not older than its launch).
registered() {
  [ -z "$STARTED" ] && return 0
  local t
  t=$(scontrol show node "$NODE" 2>/dev/null | sed -n 's/.*SlurmdStartTime=\([^ ]*\).*/\1/p')
  [ -n "$t" ] && [ "$(date -d "$t" +%s 2>/dev/null || echo 0)" -ge $(( STARTED - 1 )) ]
}
state=""
for _ in $(seq 1 120); do
  state=$(sinfo -h -n "$NODE" -o %T 2>/dev/null | head -1 || true)
  if registered; then
    case "$state" in idle|mixed|allocated|completing) break ;; esac
    case "$state" in drain*|down*) scontrol update NodeName="$NODE" State=RESUME 2>/dev/null || true ;; esac
  fi
  sleep 0.5
done
case "$state" in
  idle|mixed|allocated|completing) ;;
  *) tail -n 10 "$DIR/log/slurmctld.log" "$DIR/log/slurmd.log" >&2 || true
     die "node $NODE did not come up (state '$state')" ;;
esac
if [ -n "$STARTED" ]; then
  # slurmctld's first scheduling pass comes ~3 s after its start: absorb it here
  jid=$(sbatch --parsable -J warmup -o /dev/null --wrap true) || die "warm-up sbatch failed"
  jid=${jid%%;*}
  st=""
  for _ in $(seq 1 300); do
    st=$(scontrol show job "$jid" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p')
    case "$st" in
      COMPLETED) break ;;
      PENDING|CONFIGURING|RUNNING|COMPLETING|"") sleep 0.2 ;;
      *) die "warm-up job $jid ended $st" ;;
    esac
  done
  [ "$st" = COMPLETED ] || die "warm-up job $jid not done after 60 s (state '$st')"
fi
log "SLURM up: node $NODE $state, partition debug; logs in $DIR/log; stop with tests/slurm/down.sh"
