#!/usr/bin/env bash
# What `make test` needs besides Python packages. Missing tools are named with the command that
# installs them, and the run stops: a test suite that silently skips its browser, Spark, LDAP or
# syslog tests would pass without proving anything. `bash .ci/run` installs them all (Debian);
# ALLOW_MISSING_TOOLS=1 runs anyway and lets those tests skip, saying so.
set -u
missing=()
packages=()
check() { # check COMMAND_OR_PATH DEBIAN_PACKAGE WHAT
  if [[ "$1" == /* ]]; then [ -x "$1" ] && return; else command -v "$1" >/dev/null 2>&1 && return; fi
  missing+=("$3 ($1)")
  packages+=("$2")
}
check /usr/bin/chromium chromium "Chromium, for the browser and accessibility tests"
check java openjdk-17-jre-headless "a Java runtime, for the Spark engine's tests"
check node nodejs "Node.js, for the OpenID provider and axe-core"
check npm npm "npm, to install the tests' Node packages from their lock files"
check /usr/sbin/slapd slapd "OpenLDAP's slapd, for the directory-sync tests"
check ldapadd ldap-utils "ldap-utils, to load the test directory"
check logger bsdutils "util-linux's logger, a real syslog sender for the collector's tests"
check rsyslogd rsyslog "rsyslog, a real TLS/RELP sender for the collector's tests"
check openssl openssl "openssl, for the collector's TLS tests"
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
{
  echo "make test: these tools are missing, and the tests that need them would be skipped:"
  for m in "${missing[@]}"; do echo "  - $m"; done
  echo "Install them (Debian/Ubuntu, as root):"
  echo "  apt-get update && apt-get install -y ${packages[*]} rsyslog-gnutls rsyslog-relp"
  echo "or run 'bash .ci/run', which installs them and then runs make test."
  echo "To run anyway and let those tests skip: make test ALLOW_MISSING_TOOLS=1"
} >&2
[ "${ALLOW_MISSING_TOOLS:-}" = "1" ] && exit 0
exit 1
