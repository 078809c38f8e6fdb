# Sourced by bench/peers.sh and bench/soak.sh: a private nginx serving a
# directory of feeds on 127.0.0.1, on a free port, with its own prefix (no
# system config, no system service touched).
#
#   nginx_start ROOT WORKDIR   sets NGINX_PORT and NGINX_PID, or returns 1
#   nginx_stop                 stops that nginx (by its pid) and waits
#
# Static files get ETag and Last-Modified from nginx itself, so conditional
# requests answer 304; gzip is on, and gzip_static serves the NAME.gz files
# gen_feeds.py --gzip writes, so compression costs nginx nothing during a run
# (the clients still decompress).
#
# Optional knobs (environment; unset, the config is the one above):
#   NGINX_WORKERS             worker_processes (default 1)
#   NGINX_LISTEN              the listen address (default 127.0.0.1; 0.0.0.0
#                             in a private network namespace makes every
#                             127.x.y.z reach the one socket)
#   NGINX_WORKER_CONNECTIONS  worker_connections (default 8192)
#   NGINX_RLIMIT_NOFILE       worker_rlimit_nofile (default 200000)
#   NGINX_HTTP_EXTRA          directives added to the http block
#   NGINX_SERVER_EXTRA        directives added to the server block (these
#                             override the http block's access_log off and
#                             open_file_cache off)

NGINX_PORT=
NGINX_PID=
NGINX_PREFIX=

nginx_free_port() {
	"${PYTHON:-/usr/bin/python3}" -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

nginx_start() {
	_root=$(cd "$1" && pwd) || return 1
	NGINX_PREFIX=$2/nginx
	mkdir -p "$NGINX_PREFIX/logs" "$NGINX_PREFIX/tmp"
	# Workers run as root when we are root, so a private mktemp directory
	# (mode 0700) is readable; as another user the directive is ignored.
	_user=
	[ "$(id -u)" -eq 0 ] && _user="user root;"
	# NGINX_ACCESS_LOG=1: log status and the conditional/encoding headers
	# (for checking what a client sends; off during measurements).
	_log="access_log off;"
	[ -n "${NGINX_ACCESS_LOG:-}" ] && _log="log_format cond '\$status \$request \$body_bytes_sent inm=\$http_if_none_match ims=\$http_if_modified_since ae=\$http_accept_encoding';
	access_log $NGINX_PREFIX/logs/access.log cond;"
	for _try in 1 2 3 4 5; do
		NGINX_PORT=$(nginx_free_port)
		cat >"$NGINX_PREFIX/nginx.conf" <<EOF
$_user
worker_processes ${NGINX_WORKERS:-1};
pid $NGINX_PREFIX/nginx.pid;
error_log $NGINX_PREFIX/logs/error.log warn;
worker_rlimit_nofile ${NGINX_RLIMIT_NOFILE:-200000};
events { worker_connections ${NGINX_WORKER_CONNECTIONS:-8192}; multi_accept on; }
http {
	include /etc/nginx/mime.types;
	default_type application/octet-stream;
	$_log
${NGINX_HTTP_EXTRA:-}
	client_body_temp_path $NGINX_PREFIX/tmp/body;
	proxy_temp_path $NGINX_PREFIX/tmp/proxy;
	fastcgi_temp_path $NGINX_PREFIX/tmp/fastcgi;
	uwsgi_temp_path $NGINX_PREFIX/tmp/uwsgi;
	scgi_temp_path $NGINX_PREFIX/tmp/scgi;
	sendfile on;
	tcp_nopush on;
	keepalive_timeout 65;
	keepalive_requests 1000000;
	open_file_cache off;
	etag on;
	if_modified_since exact;
	gzip on;
	gzip_static on;
	gzip_vary on;
	gzip_comp_level 1;
	gzip_types application/xml text/xml application/rss+xml application/atom+xml;
	server {
		listen ${NGINX_LISTEN:-127.0.0.1}:$NGINX_PORT reuseport;
		server_name localhost;
		root $_root;
		location / { }
${NGINX_SERVER_EXTRA:-}
	}
}
EOF
		if nginx -p "$NGINX_PREFIX" -c "$NGINX_PREFIX/nginx.conf" \
		    -e "$NGINX_PREFIX/logs/error.log" 2>"$NGINX_PREFIX/start.err"; then
			for _i in 1 2 3 4 5 6 7 8 9 10; do
				[ -s "$NGINX_PREFIX/nginx.pid" ] && break
				sleep 0.1
			done
			NGINX_PID=$(cat "$NGINX_PREFIX/nginx.pid" 2>/dev/null)
			[ -n "$NGINX_PID" ] && return 0
		fi
		grep -q "Address already in use" "$NGINX_PREFIX/start.err" ||
			break
	done
	echo "nginx failed to start:" >&2
	cat "$NGINX_PREFIX/start.err" >&2
	return 1
}

nginx_stop() {
	[ -n "$NGINX_PID" ] || return 0
	kill -QUIT "$NGINX_PID" 2>/dev/null
	for _i in $(seq 50); do
		kill -0 "$NGINX_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$NGINX_PID" 2>/dev/null && kill -TERM "$NGINX_PID" 2>/dev/null
	NGINX_PID=
}
