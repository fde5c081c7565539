# Helpers the example scripts source: BASE_URL, `api` and `field`. Only bash, curl and
# python3 (for reading JSON).

BASE_URL=${BASE_URL:-http://127.0.0.1:5000}
# A suffix that makes names unique, so every script can run again on the same server.
RUN=${RUN:-$(date +%s)$RANDOM}
PASSWORD="correct horse"
_body=$(mktemp)
trap 'rm -f "$_body"' EXIT

# say TEXT: a heading for the next step.
say() { printf '\n== %s\n' "$*" >&2; }

# api METHOD PATH EXPECTED_STATUS [JSON_BODY] [TOKEN]
# Prints the response body; exits with an error if the status is not the expected one.
api() {
    local method=$1 path=$2 expected=$3 body=${4:-} token=${5:-} status
    local args=(-sS -X "$method" -o "$_body" -w '%{http_code}' -H 'Content-Type: application/json')
    if [ -n "$token" ]; then args+=(-H "Authorization: Bearer $token"); fi
    if [ -n "$body" ]; then args+=(-d "$body"); fi
    echo "\$ curl -X $method $BASE_URL$path ${body:+-d '$body'}" >&2
    status=$(curl "${args[@]}" "$BASE_URL$path")
    if [ "$status" != "$expected" ]; then
        echo "FAILED: $method $path answered $status, expected $expected:" >&2
        cat "$_body" >&2
        echo >&2
        exit 1
    fi
    echo "  -> $status $(head -c 300 "$_body")" >&2
    cat "$_body"
}

# field PATH: one value out of the JSON on stdin; PATH is like `user.id` or `messages.0.seq`.
field() {
    python3 -c '
import json, sys
value = json.load(sys.stdin)
for key in sys.argv[1].split("."):
    value = value[int(key)] if isinstance(value, list) else value[key]
print(json.dumps(value) if isinstance(value, (dict, list, bool)) or value is None else value)
' "$1"
}

# expect ACTUAL WANTED WHAT: stop unless they are equal.
expect() {
    if [ "$1" != "$2" ]; then
        echo "FAILED: $3: got '$1', expected '$2'" >&2
        exit 1
    fi
}

# signup NAME: register NAME and print its access token.
signup() {
    api POST /api/auth/register 201 "{\"username\":\"$1\",\"password\":\"$PASSWORD\"}" >/dev/null
    api POST /api/auth/login 200 "{\"username\":\"$1\",\"password\":\"$PASSWORD\"}" \
        | field access_token
}
