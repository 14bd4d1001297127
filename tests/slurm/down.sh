#!/usr/bin/env bash
# tests/slurm/down.sh -- stop the cluster tests/slurm/up.sh started: cancel its jobs, then stop
# slurmd, slurmctld and (only if up.sh started it) munged, by the PIDs in $MPIDL_SLURM_DIR.
# Never kills by name.  Safe to run when nothing runs.  --purge also deletes $MPIDL_SLURM_DIR
# and the slurm.conf up.sh wrote.
set -uo pipefail
DIR=${MPIDL_SLURM_DIR:-/tmp/mpidl-slurm}
CONF=/etc/slurm/slurm.conf
MARK="# written by mpidl tests/slurm/up.sh"
PURGE=0
case "${1:-}" in
  --purge) PURGE=1 ;;
  "") ;;
  *) echo "usage: tests/slurm/down.sh [--purge]" >&2; exit 2 ;;
esac
export PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH
log() { echo "[slurm-down] $*"; }

# shellcheck source=tests/slurm/pids.sh
. "$(dirname "$0")/pids.sh"

# jobs first, while the controller runs (slurmstepd outlives slurmd)
if [ -s "$DIR/slurmctld.pid" ] && alive "$(cat "$DIR/slurmctld.pid")" slurmctld; then
  jobs=$(squeue -h -o %A 2>/dev/null | sort -u | tr '\n' ' ')
  if [ -n "${jobs// /}" ]; then
    log "cancelling jobs $jobs"
    # shellcheck disable=SC2086
    scancel $jobs 2>/dev/null || true
    for _ in $(seq 1 60); do [ -z "$(squeue -h -o %A 2>/dev/null)" ] && break; sleep 0.5; done
  fi
fi
stop_pf "$DIR/slurmd.pid" slurmd
stop_pf "$DIR/slurmctld.pid" slurmctld
stop_pf "$DIR/munged.pid" munged
left=$(ps -eo pid=,stat=,comm= | awk '$2 !~ /^Z/ && $3 ~ /^(slurmctld|slurmscriptd|slurmd|slurmstepd)$/ {print $1"("$3")"}' | tr '\n' ' ')
[ -n "${left// /}" ] && log "warning: still running (not started by up.sh, or leaked): $left"
if [ "$PURGE" = 1 ]; then
  rm -rf "$DIR"
  head -1 "$CONF" 2>/dev/null | grep -qF "$MARK" && rm -f "$CONF"
  log "purged $DIR"
fi
exit 0
