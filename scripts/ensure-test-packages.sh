#!/usr/bin/env bash
# Installs the Debian packages the daemon and script tests run for real (haproxy, varnish, nginx,
# supervisor, shellcheck, exportfs, glusterd, sshd, ...), when they are missing. Without root or
# apt-get it only says what is missing; those tests then skip (outside CI).
# The names are Debian 12's and Ubuntu 24.04's (GitHub's ubuntu-latest) alike; on Ubuntu, varnish,
# supervisor, glusterfs-server, wrk, python3-zc.buildout and the shell linter come from universe,
# which the runner has enabled.
set -euo pipefail

# program -> Debian package
declare -A PACKAGES=(
  [haproxy]=haproxy
  [varnishd]=varnish
  [nginx]=nginx
  [supervisord]=supervisor
  [shellcheck]=shellcheck
  [exportfs]=nfs-kernel-server
  [glusterd]=glusterfs-server
  [sshd]=openssh-server
  [ssh]=openssh-client
  [socat]=socat
  [wrk]=wrk
  [debootstrap]=debootstrap
  [curl]=curl
  [git]=git
  [python3]=python3
  [mkfs.xfs]=xfsprogs
  [logrotate]=logrotate
  [openssl]=openssl
  [varnishadm]=varnish
  [rsyslogd]=rsyslog
  [numfmt]=coreutils
  [runuser]=util-linux
  [setpriv]=util-linux
  # The cache and broker daemons, with the files plone-aws renders (test/daemons/cache-broker).
  [memcached]=memcached
  [redis-server]=redis-server
  [redis-cli]=redis-tools
  # The mail relay and the SMTP stand-in for SES (test/daemons/mail-relay).
  [postfix]=postfix
  [postmap]=postfix
  # A PostgreSQL server of the tests' own for the database dump and restore (test/hostScripts/database-dump-restore).
  [pg_ctlcluster]=postgresql
  # The workflow replay runs the jobs' jq.
  [jq]=jq
)

missing=()
for program in "${!PACKAGES[@]}"; do
  if ! command -v "$program" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$program" ]; then
    missing+=("${PACKAGES[$program]}")
  fi
done
# rsyslogd -N1 checks the remote syslog forwarding, which uses the GnuTLS stream driver.
if ! dpkg-query -W -f='${Status}' rsyslog-gnutls 2>/dev/null | grep -q 'ok installed'; then
  missing+=(rsyslog-gnutls)
fi
# zc.buildout's config parser checks deploy.cfg syntax (its buildout script is broken on 3.11, the parser is fine).
# Debian's python3 (the tests prefer it over a pyenv one earlier on PATH, see test/helpers/buildout.ts).
if ! { /usr/bin/python3 -c 'import zc.buildout.configparser' || python3 -c 'import zc.buildout.configparser'; } >/dev/null 2>&1; then
  missing+=(python3-zc.buildout)
fi

if ! /usr/bin/python3 -c 'import aiosmtpd' >/dev/null 2>&1; then
  missing+=(python3-aiosmtpd)
fi
# The pip builder (test/hostScripts/pip-deploy): a venv per release with pip, the instance
# configuration merged with PyYAML; Jinja checks the values cookiecutter renders (unit/render-pip).
for module in venv:python3-venv ensurepip:python3-venv yaml:python3-yaml jinja2:python3-jinja2; do
  if ! /usr/bin/python3 -c "import ${module%%:*}" >/dev/null 2>&1; then
    missing+=("${module#*:}")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian packages the tests run for real: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  echo "Installed: ${missing[*]}"
else
  echo "Missing Debian packages (their tests will be skipped): ${missing[*]}"
  echo "Install them with: sudo apt-get install -y --no-install-recommends ${missing[*]}"
fi
