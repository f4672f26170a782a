#!/usr/bin/env bash
# Installs what the PostgreSQL variants of the store tests need: Debian's postgresql (initdb and
# pg_ctl under /usr/lib/postgresql/*/bin). The tests start their own throwaway cluster on
# loopback, so no default cluster is created or started here.
# Idempotent: does nothing (and is quick) when it is already present.
set -euo pipefail

if ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
  if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "install.sh: installing postgresql with apt-get" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends postgresql-common >/dev/null
    # the tests make their own clusters; a default one would only sit on port 5432
    sed -i 's/^#* *create_main_cluster.*/create_main_cluster = false/' \
      /etc/postgresql-common/createcluster.conf
    apt-get install -y -qq --no-install-recommends postgresql >/dev/null
  else
    echo "install.sh: postgresql is missing; install it as root: apt-get install postgresql" >&2
  fi
fi
