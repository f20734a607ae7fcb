#!/usr/bin/env bash
# `npm test`: gets what the suite needs, then type-checks, lints and runs the whole suite.
#
#   Debian's age (interop tests), chromium + fonts-dejavu-core (page tests) and Ceph radosgw (the
#   real-S3 suites). As root with apt-get, what is missing is installed; anywhere else the script
#   stops at once and prints the one command that installs it: no test is quietly left out.
#   radosgw: the one named by STACKUNDERFLOW_TEST_RGW_ENDPOINT, else one already running on
#   127.0.0.1:7480 with our user, else one started here and stopped at the end (only that one).
#   STACKUNDERFLOW_TEST_REQUIRE_RGW=1 then makes the radosgw suites fail rather than skip.
#
# Arguments go to vitest: npm test -- test/sync
set -euo pipefail
cd "$(dirname "$0")/.."

log() { echo "npm test: $*" >&2; }

if [[ -n ${STACKUNDERFLOW_CHROMIUM:-} && ! -x $STACKUNDERFLOW_CHROMIUM ]]; then
  log "STACKUNDERFLOW_CHROMIUM=$STACKUNDERFLOW_CHROMIUM is not an executable file (unset it to use Debian's /usr/bin/chromium)"
  exit 1
fi
missing=()
command -v age >/dev/null || missing+=(age)
[[ -n ${STACKUNDERFLOW_CHROMIUM:-} || -x /usr/bin/chromium ]] || missing+=(chromium)
[[ -n ${STACKUNDERFLOW_CHROMIUM:-} || -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]] || missing+=(fonts-dejavu-core)
if [[ -z ${STACKUNDERFLOW_TEST_RGW_ENDPOINT:-} ]]; then
  while read -r p; do [[ -n $p ]] && missing+=("$p"); done < <(bash scripts/radosgw.sh missing)
fi

if ((${#missing[@]})); then
  install="apt-get install -y --no-install-recommends ${missing[*]}"
  if ! command -v apt-get >/dev/null; then
    log "missing ${missing[*]}, and this machine has no apt-get."
    log "The suite runs on Debian or Ubuntu (as root, \`npm test\` installs these itself). Elsewhere install age and"
    log "Chromium yourself (STACKUNDERFLOW_CHROMIUM=<its binary>) and point STACKUNDERFLOW_TEST_RGW_ENDPOINT"
    log "(+ _ACCESS_KEY, _SECRET_KEY, _BUCKET) at a radosgw, e.g. one started by scripts/radosgw.sh on a Debian machine."
    exit 1
  fi
  if [[ $(id -u) -ne 0 ]]; then
    log "missing ${missing[*]}. Install them with:"
    echo "  sudo $install" >&2
    exit 1
  fi
  log "installing ${missing[*]} (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends ${missing[*]} >/dev/null
fi

rgw_started=
stop_rgw() {
  if [[ -n $rgw_started ]]; then STACKUNDERFLOW_RGW_DIR=$rgw_started bash scripts/radosgw.sh stop || true; fi
}
trap stop_rgw EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
if [[ -z ${STACKUNDERFLOW_TEST_RGW_ENDPOINT:-} ]]; then
  rgw_env=$(bash scripts/radosgw.sh up)
  eval "$rgw_env"
fi
export STACKUNDERFLOW_TEST_REQUIRE_RGW=1

# Types and lint do not depend on the Node that runs them: .ci/run's runs on the other Nodes skip both.
if [[ ${STACKUNDERFLOW_TEST_STATIC:-1} != 0 ]]; then
  npm run typecheck
  npm run lint
fi
vitest run "$@"
