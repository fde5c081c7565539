#!/usr/bin/env bash
# Messages under /api: post, an idempotent retry by client_id, a reply, history pages,
# one message, delete (a tombstone keeps its seq).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
ALICE=$(signup "amy$RUN")
BOB=$(signup "ben$RUN")
ROOM=$(api POST /api/rooms 201 "{\"name\":\"talk-$RUN\"}" "$ALICE" | field id)

say "Members only: an outsider of a public room is told to join (403)"
api GET "/api/rooms/$ROOM/messages" 403 "" "$BOB" >/dev/null
api POST "/api/rooms/$ROOM/join" 200 "{}" "$BOB" >/dev/null

say "Post; a retry with the same client_id returns the first message (200), nothing new"
FIRST=$(api POST "/api/rooms/$ROOM/messages" 201 '{"content":"hello","client_id":"c-1"}' "$ALICE")
AGAIN=$(api POST "/api/rooms/$ROOM/messages" 200 '{"content":"hello","client_id":"c-1"}' "$ALICE")
FIRST_ID=$(echo "$FIRST" | field id)
expect "$(echo "$AGAIN" | field id)" "$FIRST_ID" "the retried message"
expect "$(echo "$FIRST" | field seq)" "1" "seq"

say "A reply names the message it answers"
REPLY=$(api POST "/api/rooms/$ROOM/messages" 201 "{\"content\":\"hi amy\",\"reply_to\":\"$FIRST_ID\"}" "$BOB")
expect "$(echo "$REPLY" | field reply_to)" "$FIRST_ID" "reply_to"

say "Empty content is refused, naming the field"
api POST "/api/rooms/$ROOM/messages" 422 '{"content":"   "}' "$ALICE" | field errors.content >/dev/null

say "A few more, then history pages: newest first page, then older with before="
for i in 1 2 3 4 5; do
    api POST "/api/rooms/$ROOM/messages" 201 "{\"content\":\"message $i\"}" "$ALICE" >/dev/null
done
page=$(api GET "/api/rooms/$ROOM/messages?limit=3" 200 "" "$BOB")
echo "$page" | python3 -c '
import json, sys
page = json.load(sys.stdin)
assert [m["seq"] for m in page["messages"]] == [5, 6, 7] and page["has_more"], page'
page=$(api GET "/api/rooms/$ROOM/messages?before=5&limit=10" 200 "" "$BOB")
echo "$page" | python3 -c '
import json, sys
page = json.load(sys.stdin)
assert [m["seq"] for m in page["messages"]] == [1, 2, 3, 4] and not page["has_more"], page'
say "Catching up after a seq: after="
api GET "/api/rooms/$ROOM/messages?after=6" 200 "" "$BOB" | python3 -c '
import json, sys
assert [m["seq"] for m in json.load(sys.stdin)["messages"]] == [7]'

say "One message; then delete it (only its author or a room admin may)"
api GET "/api/rooms/$ROOM/messages/$FIRST_ID" 200 "" "$BOB" >/dev/null
api DELETE "/api/rooms/$ROOM/messages/$FIRST_ID" 403 "" "$BOB" >/dev/null
deleted=$(api DELETE "/api/rooms/$ROOM/messages/$FIRST_ID" 200 "" "$ALICE")
expect "$(echo "$deleted" | field deleted)" "true" "deleted"
expect "$(echo "$deleted" | field seq)" "1" "the tombstone keeps its seq"
echo "messages: ok"
