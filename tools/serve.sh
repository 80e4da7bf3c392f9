#!/usr/bin/env bash
# Serves one database on http://localhost:$HTTP_PORT until stopped: tools/serve.sh DB [odoo options]
#
# WORKERS=0 (the default): Odoo's threaded server, one process, as for development.
# WORKERS=N: the production layout of Odoo's deployment guide. Odoo runs N HTTP worker
# processes, a cron worker and the gevent worker that holds the browsers' live connections
# (/websocket), on two free local ports; nginx listens on HTTP_PORT and sends /websocket to the
# gevent worker and everything else to the HTTP workers. Without that proxy a browser's
# /websocket request would reach an HTTP worker, which cannot hold it.
# Ctrl+C (or SIGTERM) stops Odoo and nginx; nothing is left running.
set -euo pipefail
source "$(dirname "$0")/env.sh"
DB="${1:?usage: tools/serve.sh DATABASE [odoo options]}"
shift
WORKERS="${WORKERS:-0}"
[[ "$WORKERS" =~ ^[0-9]+$ ]] || die "WORKERS=$WORKERS: give a number of HTTP worker processes (0 = threaded)."

if [ "$WORKERS" = 0 ]; then
    exec "$REPO_DIR/tools/odoo.sh" -d "$DB" --db-filter "^${DB}\$" --http-port "$HTTP_PORT" "$@"
fi

need_debian_package nginx nginx "multi-worker servers (WORKERS=$WORKERS)"
run_dir="$BUILD_DIR/serve-$HTTP_PORT"
mkdir -p "$run_dir"
read -r odoo_port gevent_port < <(free_ports 2)
cat > "$run_dir/nginx.conf" <<NGINX
# Written by tools/serve.sh for WORKERS=$WORKERS on port $HTTP_PORT; rewritten at every start.
pid $run_dir/nginx.pid;
error_log $run_dir/nginx-error.log warn;
worker_processes 1;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $run_dir/client_body;
    proxy_temp_path $run_dir/proxy;
    fastcgi_temp_path $run_dir/fastcgi;
    uwsgi_temp_path $run_dir/uwsgi;
    scgi_temp_path $run_dir/scgi;
    client_max_body_size 128m;
    upstream odoo { server 127.0.0.1:$odoo_port; }
    upstream odoo_gevent { server 127.0.0.1:$gevent_port; }
    map \$http_upgrade \$connection_upgrade { default upgrade; '' close; }
    server {
        listen 127.0.0.1:$HTTP_PORT;
        proxy_read_timeout 720s;
        proxy_connect_timeout 720s;
        proxy_send_timeout 720s;
        proxy_set_header X-Forwarded-Host \$http_host;
        proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto \$scheme;
        proxy_set_header X-Real-IP \$remote_addr;
        location /websocket {
            proxy_pass http://odoo_gevent;
            proxy_http_version 1.1;
            proxy_set_header Upgrade \$http_upgrade;
            proxy_set_header Connection \$connection_upgrade;
            proxy_set_header X-Forwarded-Host \$http_host;
            proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto \$scheme;
            proxy_set_header X-Real-IP \$remote_addr;
        }
        location / {
            proxy_redirect off;
            proxy_pass http://odoo;
        }
    }
}
NGINX

pids=()
stop() {
    trap - EXIT INT TERM
    [ ${#pids[@]} = 0 ] || kill -TERM "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"$REPO_DIR/tools/odoo.sh" -d "$DB" --db-filter "^${DB}\$" --workers "$WORKERS" --proxy-mode \
    --http-interface 127.0.0.1 --http-port "$odoo_port" --gevent-port "$gevent_port" "$@" &
pids+=($!)
nginx -p "$run_dir" -e "$run_dir/nginx-error.log" -c "$run_dir/nginx.conf" -g "daemon off;" &
pids+=($!)
say "nginx on port $HTTP_PORT -> Odoo's $WORKERS HTTP workers on $odoo_port, /websocket -> its gevent worker on $gevent_port"
# Whichever stops first (a crash, or a signal) stops the other.
set +e
wait -n "${pids[@]}"
status=$?
exit "$status"
