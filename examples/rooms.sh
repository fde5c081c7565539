#!/usr/bin/env bash
# Rooms under /api: create (public, with a password, private), list, browse, join,
# members, leave.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
OWNER=$(signup "olga$RUN")
GUEST=$(signup "gus$RUN")

say "Create a public room, a room with a password and a private room"
PUBLIC=$(api POST /api/rooms 201 "{\"name\":\"lobby-$RUN\",\"description\":\"Say hi\"}" "$OWNER" | field id)
LOCKED=$(api POST /api/rooms 201 "{\"name\":\"vault-$RUN\",\"password\":\"sesame\"}" "$OWNER" | field id)
SECRET=$(api POST /api/rooms 201 "{\"name\":\"den-$RUN\",\"visibility\":\"private\"}" "$OWNER" | field id)

say "Names are unique ignoring case: 409, naming the field"
api POST /api/rooms 409 "{\"name\":\"LOBBY-$RUN\"}" "$OWNER" | field errors.name >/dev/null

say "Your rooms (scope=joined), with unread counts and the last message"
api GET "/api/rooms?scope=joined" 200 "" "$OWNER" | python3 -c '
import json, sys
rooms = json.load(sys.stdin)["rooms"]
assert len(rooms) == 3 and all("unread_count" in r for r in rooms), rooms'

say "Browse public rooms: the private one is not there"
public=$(api GET "/api/rooms?scope=public" 200 "" "$GUEST")
echo "$public" | python3 -c '
import json, sys
ids = {r["id"] for r in json.load(sys.stdin)["rooms"]}
assert sys.argv[1] in ids and sys.argv[2] in ids and sys.argv[3] not in ids' "$PUBLIC" "$LOCKED" "$SECRET"
api GET "/api/rooms/$SECRET" 404 "" "$GUEST" >/dev/null

say "Join: a public room, then one with a password (wrong first: 403)"
api POST "/api/rooms/$PUBLIC/join" 200 "{}" "$GUEST" >/dev/null
api POST "/api/rooms/$LOCKED/join" 403 '{"password":"guess"}' "$GUEST" >/dev/null
api POST "/api/rooms/$LOCKED/join" 200 '{"password":"sesame"}' "$GUEST" >/dev/null
api POST "/api/rooms/$SECRET/join" 404 "{}" "$GUEST" >/dev/null

say "Members, with their roles"
api GET "/api/rooms/$PUBLIC/members" 200 "" "$GUEST" | python3 -c '
import json, sys
roles = sorted(m["role"] for m in json.load(sys.stdin)["members"])
assert roles == ["member", "owner"], roles'

say "Leave"
api POST "/api/rooms/$PUBLIC/leave" 204 "" "$GUEST" >/dev/null
expect "$(api GET "/api/rooms/$PUBLIC" 200 "" "$GUEST" | field member_count)" "1" "member_count"
echo "rooms: ok"
