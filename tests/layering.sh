#!/bin/sh
# Fails when a module includes a header of a library it must not know.
# parse/ knows libxml2 and jansson; store/ knows SQLite and libpq; fetch/ knows libcurl
# and libuv. None of them includes another module's headers, and none uses
# OpenSSL directly (daemon/webhook.c signs; fetch/ only carries bytes).
top=${1:-.}
fail=0
check() { # dir pattern what
	hits=$(grep -nE "^[[:space:]]*#[[:space:]]*include[[:space:]]*[<\"]($2)" "$top/$1"/*.c "$top/$1"/*.h 2>/dev/null)
	if [ -n "$hits" ]; then
		echo "layering: $1/ must not include $3:"
		echo "$hits"
		fail=1
	fi
}
check parse 'uv\.h|curl/|sqlite3\.h|libpq-fe\.h|openssl/|store\.h|fetch\.h' "libuv, libcurl, SQLite, OpenSSL or another module"
check store 'uv\.h|curl/|libxml/|jansson\.h|openssl/|parse\.h|fetch\.h' "libuv, libcurl, libxml2, jansson, OpenSSL or another module"
check fetch 'sqlite3\.h|libpq-fe\.h|libxml/|jansson\.h|openssl/|parse\.h|store\.h' "SQLite, libxml2, jansson, OpenSSL or another module"
[ $fail -eq 0 ] && echo "layering: ok (parse/, store/, fetch/ include only their own libraries)"
exit $fail
