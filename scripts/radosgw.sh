#!/usr/bin/env bash
# Single-node Ceph radosgw on 127.0.0.1 for the object-store conformance tests.
#
#   scripts/radosgw.sh start    # install (apt) if missing, start, create user + bucket; prints env exports
#   scripts/radosgw.sh up       # a radosgw that answers to our user, or start one in a new state dir;
#                               # prints env exports, and `rgw_started=<dir>` only if it started one
#   scripts/radosgw.sh env      # print the env exports of a running instance (any that answers to our user)
#   scripts/radosgw.sh stop     # stop the daemons of the state dir ($STACKUNDERFLOW_RGW_DIR) and delete it
#   scripts/radosgw.sh missing  # the Debian packages it needs that are not installed (nothing if none)
#
# Usage:  eval "$(scripts/radosgw.sh up)"; then, if $rgw_started is set,
#         STACKUNDERFLOW_RGW_DIR=$rgw_started scripts/radosgw.sh stop   (stops only that one)
# Only shell assignments go to stdout; progress and errors go to stderr.
#
# The Ceph configuration is the recipe tested in design/DEPS.md (memstore OSD, no cephx,
# `ms mon client mode = crc secure` so radosgw does not hang, `tcp_nodelay=1` so small GETs
# are fast). Ports: radosgw 7480, mon 3300 (msgr2) and 6789 (v1), each overridable
# (STACKUNDERFLOW_RGW_PORT, _MON_PORT, _MON_V1_PORT) for a second instance on one machine.
# The daemons run without systemd, as any user (checked as root and as nobody); installing the
# packages needs root.
set -euo pipefail

DIR="${STACKUNDERFLOW_RGW_DIR:-/tmp/stackunderflow-rgw}"
RGW_PORT="${STACKUNDERFLOW_RGW_PORT:-7480}"
MON_PORT="${STACKUNDERFLOW_RGW_MON_PORT:-3300}"
MON_V1_PORT="${STACKUNDERFLOW_RGW_MON_V1_PORT:-6789}"
MON_ADDRS="[v2:127.0.0.1:$MON_PORT,v1:127.0.0.1:$MON_V1_PORT]"
ENDPOINT="http://127.0.0.1:$RGW_PORT"
ACCESS_KEY="DEVKEY"
SECRET_KEY="DEVSECRET"
# S3 bucket names need 3-63 characters (a 2-character name gets 400 InvalidBucketName).
BUCKET="stackunderflow-test"
REGION="us-east-1"

log() { echo "radosgw.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }

print_env() {
  cat <<EOF
export STACKUNDERFLOW_TEST_RGW_ENDPOINT=$ENDPOINT
export STACKUNDERFLOW_TEST_RGW_ACCESS_KEY=$ACCESS_KEY
export STACKUNDERFLOW_TEST_RGW_SECRET_KEY=$SECRET_KEY
export STACKUNDERFLOW_TEST_RGW_BUCKET=$BUCKET
export STACKUNDERFLOW_TEST_RGW_REGION=$REGION
EOF
}

pid_alive() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

# curl signs SigV4 itself (>= 7.75), so no S3 client is needed here. curl 7.88 does not send the
# payload hash header S3 signatures need (403 SignatureDoesNotMatch without it): this is sha256("").
s3_curl() {
  curl -s --max-time 30 -H 'x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' \
    --aws-sigv4 "aws:amz:$REGION:s3" --user "$ACCESS_KEY:$SECRET_KEY" "$@"
}

# A radosgw on the endpoint that knows our user and has our bucket, whoever started it (another
# checkout, a shared machine's instance, the host of a chroot): usable, and not ours to stop.
running() {
  command -v curl >/dev/null && [[ $(s3_curl -o /dev/null -w '%{http_code}' --max-time 5 -I "$ENDPOINT/$BUCKET") == 200 ]]
}

PACKAGES=(ceph-mon ceph-osd radosgw uuid-runtime curl)

missing_packages() {
  local p c
  for p in "${PACKAGES[@]}"; do
    c=$p
    [[ $p == uuid-runtime ]] && c=uuidgen
    command -v "$c" >/dev/null || echo "$p"
  done
}

ensure_packages() {
  local missing
  missing=$(missing_packages | tr '\n' ' ')
  [[ -z $missing ]] && return 0
  [[ $(id -u) -eq 0 ]] || die "missing $missing; run as root or install: sudo apt-get install -y --no-install-recommends $missing"
  log "installing $missing(apt)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing >&2
}

stop() {
  local f pid
  for f in client.rgw.a osd.0 mon.a; do
    if pid_alive "$DIR/run/$f.pid"; then
      pid=$(cat "$DIR/run/$f.pid")
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
      kill -9 "$pid" 2>/dev/null || true
    fi
  done
  rm -rf "$DIR"
}

# Waits for a command to succeed; on timeout shows the daemon logs so CI failures are diagnosable.
wait_for() {
  local what=$1 secs=$2; shift 2
  for _ in $(seq 1 "$secs"); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 1
  done
  log "timed out after ${secs}s waiting for $what; last log lines:"
  tail -n 30 "$DIR"/log/*.log >&2 || true
  exit 1
}

start() {
  if running; then
    log "already running at $ENDPOINT"
    print_env
    return 0
  fi
  ensure_packages
  # A half-started or stale instance (memstore loses everything anyway): start clean.
  stop
  if curl -s -o /dev/null --max-time 2 "$ENDPOINT/"; then
    die "something else is listening on $ENDPOINT (not a radosgw with user DEVKEY and bucket $BUCKET); stop it or set STACKUNDERFLOW_RGW_PORT (and _MON_PORT, _MON_V1_PORT) for another instance"
  fi

  local C=$DIR FSID U ID
  mkdir -p "$C"/{mon/a,osd/0,run,log,rgw}
  cd "$C"
  FSID=$(uuidgen)
  cat >ceph.conf <<CONF
[global]
fsid = $FSID
mon host = $MON_ADDRS
mon initial members = a
public network = 127.0.0.0/8
auth cluster required = none
auth service required = none
auth client required = none
ms mon client mode = crc secure
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon allow pool size one = true
# The mon refuses to start when its filesystem has under 5 % free (a big disk can have 14 GiB
# free at 95 % full); its data here is a few MB and the OSD lives in memory.
mon data avail crit = 0
osd objectstore = memstore
memstore device bytes = 2147483648
osd crush chooseleaf type = 0
run dir = $C/run
log file = $C/log/\$name.log
admin socket = $C/run/\$name.asok
pid file = $C/run/\$name.pid
keyring = $C/keyring
[mon.a]
mon data = $C/mon/a
[osd.0]
osd data = $C/osd/0
[client.rgw.a]
rgw frontends = beast endpoint=127.0.0.1:$RGW_PORT tcp_nodelay=1
rgw data = $C/rgw
CONF
  log "starting mon"
  ceph-authtool --create-keyring keyring --gen-key -n mon. --cap mon 'allow *' >&2
  monmaptool --create --addv a "$MON_ADDRS" --fsid "$FSID" monmap >&2
  ceph-mon -c ceph.conf --mkfs -i a --monmap monmap --keyring keyring >&2
  ceph-mon -c ceph.conf -i a >&2
  log "starting osd"
  U=$(uuidgen)
  ID=$(timeout 60 ceph -c ceph.conf osd new "$U")
  ceph-osd -c ceph.conf -i "$ID" --mkfs --osd-uuid "$U" >&2 2>&1
  ceph-osd -c ceph.conf -i "$ID" >&2
  log "starting radosgw"
  radosgw -c ceph.conf -n client.rgw.a >&2
  wait_for radosgw 120 curl -sf -o /dev/null --max-time 5 "$ENDPOINT/"
  if ! radosgw-admin -c ceph.conf -n client.admin user info --uid=dev >/dev/null 2>&1; then
    radosgw-admin -c ceph.conf -n client.admin user create --uid=dev --display-name=dev \
      --access-key="$ACCESS_KEY" --secret-key="$SECRET_KEY" >/dev/null
  fi
  # PUT on a bucket the user already owns is a no-op (200).
  local code
  code=$(s3_curl -o "$C/log/create-bucket.out" -w '%{http_code}' -X PUT "$ENDPOINT/$BUCKET")
  [[ $code == 200 ]] || { cat "$C/log/create-bucket.out" >&2; die "creating bucket $BUCKET: HTTP $code"; }
  log "ready: $ENDPOINT bucket $BUCKET (state in $C)"
  print_env
}

# Reuses a running radosgw; otherwise starts one in a state dir of its own, so that stopping it
# (by that dir) can never touch an instance somebody else started.
up() {
  if running; then
    log "using the radosgw already running at $ENDPOINT (not stopping it afterwards)"
    print_env
    return 0
  fi
  DIR=$(mktemp -d "${TMPDIR:-/tmp}/stackunderflow-rgw.XXXXXX")
  trap 'stop >/dev/null 2>&1' EXIT # a failed start leaves nothing running
  start
  trap - EXIT
  echo "rgw_started=$DIR"
}

case "${1:-}" in
  start) start ;;
  up) up ;;
  stop) stop; log "stopped" ;;
  env) running || die "not running (scripts/radosgw.sh start)"; print_env ;;
  missing) missing_packages ;;
  *) echo "usage: $0 start|up|stop|env|missing" >&2; exit 64 ;;
esac
