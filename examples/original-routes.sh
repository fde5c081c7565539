#!/usr/bin/env bash
# The eight original routes, used exactly as the README's "Try it" uses them (plus
# `-f`, so that a refused request stops the script). Names carry a suffix so the
# script can run again on the same server.
set -euo pipefail
B=${BASE_URL:-http://127.0.0.1:5000}
RUN=${RUN:-$(date +%s)$RANDOM}
NAME="alice$RUN"

curl -sf -XPOST $B/register -d "{\"username\":\"$NAME\",\"password\":\"correct horse\"}"
echo
TOKEN=$(curl -sf -XPOST $B/login -d "{\"username\":\"$NAME\",\"password\":\"correct horse\"}" \
        | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
AUTH="Authorization: Bearer $TOKEN"
ROOM=$(curl -sf -XPOST $B/create_room -H "$AUTH" -d "{\"roomname\":\"general-$RUN\"}" \
       | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
curl -sf -XPOST $B/join_room      -H "$AUTH" -d "{\"roomID\":\"$ROOM\"}"
echo
MSG=$(curl -sf -XPOST $B/send_message -H "$AUTH" -d "{\"roomID\":\"$ROOM\",\"message\":\"hello\"}" \
      | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
curl -sf        $B/get_messages/$ROOM -H "$AUTH"
echo
curl -sf        $B/get_rooms          -H "$AUTH"
echo
curl -sf -XPOST $B/delete_message -H "$AUTH" -d "{\"roomID\":\"$ROOM\",\"messageID\":\"$MSG\"}"
echo

# The message is now a tombstone in the history.
curl -sf $B/get_messages/$ROOM -H "$AUTH" | python3 -c '
import json, sys
messages = json.load(sys.stdin)["messages"]
assert [(m["content"], m["deleted"]) for m in messages] == [("", True)], messages
print("original routes: ok")'
