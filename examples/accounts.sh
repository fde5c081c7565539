#!/usr/bin/env bash
# Accounts under /api: sign up, a refused sign-up, sign in, who am I, refresh, sign out.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
NAME="ann$RUN"

say "Sign up (display name and email are optional)"
api POST /api/auth/register 201 \
    "{\"username\":\"$NAME\",\"password\":\"$PASSWORD\",\"display_name\":\"Ann\",\"email\":\"$NAME@example.com\"}" \
    >/dev/null

say "Invalid input is a 422 naming each offending field"
errors=$(api POST /api/auth/register 422 '{"username":"x","password":"short"}' | field errors)
echo "$errors" | python3 -c 'import json,sys; e=json.load(sys.stdin); assert {"username","password"} <= set(e), e'

say "The same name again (ignoring case) is a 409"
api POST /api/auth/register 409 "{\"username\":\"${NAME^^}\",\"password\":\"$PASSWORD\"}" >/dev/null

say "Sign in: an access token, a refresh token and the user"
login=$(api POST /api/auth/login 200 "{\"username\":\"$NAME\",\"password\":\"$PASSWORD\"}")
ACCESS=$(echo "$login" | field access_token)
REFRESH=$(echo "$login" | field refresh_token)
expect "$(echo "$login" | field token_type)" "Bearer" "token_type"

say "Wrong password: 401"
api POST /api/auth/login 401 "{\"username\":\"$NAME\",\"password\":\"wrong password\"}" >/dev/null

say "Who am I (your own email is shown to you only)"
expect "$(api GET /api/users/me 200 "" "$ACCESS" | field email)" "$NAME@example.com" "email"

say "A new access token from the refresh token"
ACCESS=$(api POST /api/auth/refresh 200 "" "$REFRESH" | field access_token)
api GET /api/users/me 200 "" "$ACCESS" >/dev/null

say "Sign out: the access token and the refresh token stop working at once"
api POST /api/auth/logout 204 "{\"refresh_token\":\"$REFRESH\"}" "$ACCESS" >/dev/null
api GET /api/users/me 401 "" "$ACCESS" >/dev/null
api POST /api/auth/refresh 401 "" "$REFRESH" >/dev/null
echo "accounts: ok"
