# Services for CI and local runs, sourced by .ci/run. Everything listens on loopback only.
PG_PORT=${PG_PORT:-54329}
REDIS_PORT=${REDIS_PORT:-63799}
PG_DIR=${PG_DIR:-/tmp/barnstorm-ci-pg}
CI_DATABASE_URL="postgres://postgres@127.0.0.1:${PG_PORT}/barnstorm"
CI_REDIS_URL="redis://127.0.0.1:${REDIS_PORT}/0"

ci_install_system_packages() {
  local need=()
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
  command -v redis-server >/dev/null || need+=(redis-server)
  [ -x /usr/bin/chromium ] || need+=(chromium)
  if [ ${#need[@]} -gt 0 ]; then
    echo "== installing ${need[*]}"
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}"
  fi
}

ci_pg_bin() {
  ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1
}

ci_start_postgres() {
  local bin; bin=$(ci_pg_bin)
  if ! runuser -u postgres -- "$bin/pg_isready" -h 127.0.0.1 -p "$PG_PORT" >/dev/null 2>&1; then
    rm -rf "$PG_DIR"
    mkdir -p "$PG_DIR" && chown postgres:postgres "$PG_DIR"
    runuser -u postgres -- "$bin/initdb" -D "$PG_DIR/data" -A trust -U postgres -E UTF8 >/dev/null
    # Durability is not what tests measure: skip fsync to keep the suite fast.
    runuser -u postgres -- "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w start \
      -o "-p $PG_PORT -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" >/dev/null
  fi
  runuser -u postgres -- psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -tc "SELECT 1 FROM pg_database WHERE datname='barnstorm'" | grep -q 1 \
    || runuser -u postgres -- psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -c "CREATE DATABASE barnstorm" >/dev/null
  echo "== PostgreSQL on 127.0.0.1:$PG_PORT"
}

ci_start_redis() {
  if ! redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --daemonize yes >/dev/null
    for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
  fi
  echo "== Redis on 127.0.0.1:$REDIS_PORT"
}

ci_stop_services() {
  local bin; bin=$(ci_pg_bin)
  [ -d "$PG_DIR/data" ] && runuser -u postgres -- "$bin/pg_ctl" -D "$PG_DIR/data" -m fast stop >/dev/null 2>&1 || true
  redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
}
