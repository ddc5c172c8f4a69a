#!/usr/bin/env bash
# Try the install kit the way docs/deploy.md installs it, in a scratch folder, and time each step:
#
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/ua_kit_try scripts/try_wheelhouse.sh [KIT.tar.gz]
#
# 1. unpack the kit (default: the newest dist/unionaid-*.tar.gz) and check its sha256;
# 2. install.sh into a fresh venv, with every package index pointed nowhere (no network);
# 3. generate the keys as the doc does, write the env file from deploy/unionaid.env.example;
# 4. through deploy/ua: check --deploy (warnings fail), migrate, collectstatic;
# 5. `unionaid serve` until /healthz answers, then through nginx with a throwaway certificate
#    when nginx is installed (HTTPS page, static file, the HTTP redirect); SIGTERM stops all.
# DATABASE_URL names an empty database that this script drops and re-creates.
# Not part of `make test` (a minute or two); .ci/run runs it after `make wheelhouse`.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${DATABASE_URL:?set DATABASE_URL to a scratch PostgreSQL database (dropped and re-created)}"
KIT_TGZ=${1:-$(ls -t dist/unionaid-*.tar.gz | head -1)}
PORT=${PORT:-18731}
HTTPS_PORT=${HTTPS_PORT:-18743}
HTTP_PORT=${HTTP_PORT:-18780}
SITE=unionaid.example.internal
WORK=$(mktemp -d /tmp/unionaid-kit-try.XXXXXX)
chmod 0755 "$WORK"  # nginx's workers (nobody) read the static files, as www-data does on a server
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    [ -f "$WORK/nginx/nginx.pid" ] && kill -QUIT "$(cat "$WORK/nginx/nginx.pid")" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
step_start=0
step() { step_start=$(date +%s.%N); echo "== $*"; }
took() { printf '   %.1f s\n' "$(echo "$(date +%s.%N) - $step_start" | bc)"; }

step "unpack $KIT_TGZ and check its sha256"
(cd "$(dirname "$KIT_TGZ")" && sha256sum -c --quiet "$(basename "$KIT_TGZ").sha256")
tar -xzf "$KIT_TGZ" -C "$WORK"
KIT=$(ls -d "$WORK"/unionaid-*/)
took

step "install.sh into a fresh venv, no package index reachable"
env -u PIP_FIND_LINKS PIP_INDEX_URL=http://127.0.0.1:9/nowhere PIP_EXTRA_INDEX_URL= \
    http_proxy=http://127.0.0.1:9 https_proxy=http://127.0.0.1:9 \
    sh "$KIT/install.sh" "$WORK/venv" > "$WORK/install.log"
tail -1 "$WORK/install.log"
took

step "keys and the env file"
mkdir -p "$WORK/etc/keys" "$WORK/var/private" "$WORK/www/static"
(umask 027
 openssl rand -base64 48 | tr -d "\n" > "$WORK/etc/keys/secret_key"
 printf "k1:%s" "$(openssl rand -base64 32)" > "$WORK/etc/keys/field_keys"
 openssl rand -base64 32 | tr -d "\n" > "$WORK/etc/keys/index_key")
sed -e "s|/etc/unionaid/keys|$WORK/etc/keys|" \
    -e "s|^DATABASE_URL=.*|DATABASE_URL=$DATABASE_URL|" \
    -e "s|/var/lib/unionaid|$WORK/var|" -e "s|/var/www/unionaid/static|$WORK/www/static|" \
    -e "s|^UNIONAID_BIND=.*|UNIONAID_BIND=127.0.0.1:$PORT|" \
    "$KIT/deploy/unionaid.env.example" > "$WORK/etc/unionaid.env"
db=${DATABASE_URL##*/}
admin_url=${DATABASE_URL%/*}/postgres
psql "$admin_url" -q -c "DROP DATABASE IF EXISTS \"$db\"" -c "CREATE DATABASE \"$db\""
took
export UNIONAID_USER UNIONAID="$WORK/venv/bin/unionaid" UNIONAID_ENV_FILE="$WORK/etc/unionaid.env"
UNIONAID_USER=$(id -un)
ua() { sh "$KIT/deploy/ua" "$@"; }

step "unionaid check --deploy"
ua check --deploy --fail-level WARNING
took
step "unionaid migrate"
ua migrate --noinput > "$WORK/migrate.log"
tail -1 "$WORK/migrate.log"
took
step "unionaid collectstatic"
ua collectstatic --noinput
took

step "unionaid serve until /healthz answers"
# exec: $! is serve itself (deploy/ua execs unionaid), so the SIGTERM below reaches it
(exec sh "$KIT/deploy/ua" serve > "$WORK/serve.log" 2>&1) &
pids+=($!)
for _ in $(seq 1 120); do
    code=$(curl -s -o /dev/null -w '%{http_code}' -H "Host: $SITE" "http://127.0.0.1:$PORT/healthz" || true)
    [ "$code" = 200 ] && break
    sleep 0.5
done
[ "$code" = 200 ] || { cat "$WORK/serve.log"; echo "healthz: $code"; exit 1; }
echo "   /healthz: 200"
took

if command -v nginx >/dev/null; then
    step "nginx with the site (throwaway certificate): HTTPS page, static file, redirect"
    mkdir -p "$WORK/nginx/ssl" "$WORK/nginx/logs"
    openssl req -x509 -newkey rsa:2048 -sha256 -days 2 -nodes -subj "/CN=$SITE" \
        -addext "subjectAltName=DNS:$SITE" -keyout "$WORK/nginx/ssl/unionaid.key" \
        -out "$WORK/nginx/ssl/unionaid.crt" 2>/dev/null
    sed -e "s|/etc/nginx/ssl/|$WORK/nginx/ssl/|" -e "s|/var/www/unionaid/static/|$WORK/www/static/|g" \
        -e "s|listen 80;|listen $HTTP_PORT;|" -e "s|listen \[::\]:80;|listen [::]:$HTTP_PORT;|" \
        -e "s|listen 443 |listen $HTTPS_PORT |" -e "s|listen \[::\]:443 |listen [::]:$HTTPS_PORT |" \
        -e "s|server 127.0.0.1:8000;|server 127.0.0.1:$PORT;|" \
        "$KIT/deploy/nginx/unionaid.conf" > "$WORK/nginx/site.conf"
    cat > "$WORK/nginx/nginx.conf" <<EOF
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/logs/error.log;
events {}
http {
    include /etc/nginx/mime.types;
    access_log $WORK/nginx/logs/access.log;
    client_body_temp_path $WORK/nginx/body;
    proxy_temp_path $WORK/nginx/proxy;
    include $WORK/nginx/site.conf;
}
EOF
    nginx -t -q -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx/"
    nginx -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx/"
    r=(--resolve "$SITE:$HTTPS_PORT:127.0.0.1" --resolve "$SITE:$HTTP_PORT:127.0.0.1" -s -o /dev/null)
    ca=(--cacert "$WORK/nginx/ssl/unionaid.crt")
    login=$(curl "${r[@]}" "${ca[@]}" -w '%{http_code}' "https://$SITE:$HTTPS_PORT/accounts/login/")
    css=$(curl "${r[@]}" "${ca[@]}" -w '%{http_code}' "https://$SITE:$HTTPS_PORT/static/css/unionaid.css")
    redirect=$(curl "${r[@]}" -w '%{http_code} %{redirect_url}' "http://$SITE:$HTTP_PORT/healthz")
    echo "   login page $login, static $css, http: $redirect"
    if [ "$login" != 200 ] || [ "$css" != 200 ] || [ "$redirect" != "301 https://$SITE/healthz" ]; then
        echo "nginx: unexpected answers"; exit 1
    fi
    took
fi

step "SIGTERM: serve stops gunicorn and the worker"
kill -TERM "${pids[0]}"
wait "${pids[0]}"
pids=()
took
echo "the kit installs and runs offline: $(basename "$KIT_TGZ")"
