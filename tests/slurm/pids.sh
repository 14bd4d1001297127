# shellcheck shell=bash
# Sourced by tests/slurm/up.sh and down.sh: daemons are tracked by PID files, never by name.
#
# A PID is ours and alive when /proc/PID is not a zombie and runs the expected program (in some
# containers PID 1 reaps nothing, so a stopped daemon lingers as a zombie and kill -0 lies).
alive() { # pid name
  local st
  [ -n "$1" ] && [ -r "/proc/$1/stat" ] || return 1
  st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
  [ "$st" != Z ] && [ "$st" != X ] && [ "$(cat "/proc/$1/comm" 2>/dev/null)" = "$2" ]
}
alive_pf() { [ -s "$1" ] && alive "$(cat "$1")" "$2"; }
stop_pf() { # pidfile name: SIGTERM, up to 15 s, then SIGKILL; removes the PID file
  local pid
  [ -s "$1" ] || return 0
  pid=$(cat "$1")
  if alive "$pid" "$2"; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 150); do alive "$pid" "$2" || break; sleep 0.1; done
    if alive "$pid" "$2"; then
      echo "[slurm] $2 ($pid) ignored SIGTERM: SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.3
    fi
  fi
  rm -f "$1"
}
