"""`FastDump` (chat/schemas/fast.py) dumps exactly what marshmallow dumps."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from chat.domain.models import Message, User
from chat.schemas.fast import FastDump
from chat.schemas.outputs import MessageOut

text = st.text(max_size=20)
maybe = st.none() | text
times = st.datetimes(timezones=st.just(UTC))
users = st.builds(
    User,
    id=text,
    username=text,
    password_hash=text,
    display_name=maybe,
)
messages = st.builds(
    Message,
    id=text,
    room_id=text,
    seq=st.integers(0, 2**53),
    author_id=maybe,
    content=text,
    created_at=times,
    type=st.sampled_from(["text", "system"]),
    reply_to=maybe,
    client_id=maybe,
    edited_at=st.none() | times,
    deleted=st.booleans(),
    author=st.none() | users,
)


def marshmallows(schema: FastDump) -> FastDump:
    """The schema with every fast plan off, its nested schemas' too."""
    schema.__dict__["_fast_plan"] = None
    for field in schema.fields.values():
        nested = getattr(field, "schema", None)
        if isinstance(nested, FastDump):
            marshmallows(nested)
    return schema


@settings(max_examples=200, derandomize=True)
@given(st.lists(messages, max_size=5))
def test_messages_dump_as_marshmallow_dumps_them(page):
    fast, slow = MessageOut(), marshmallows(MessageOut())
    assert fast.dump(page, many=True) == slow.dump(page, many=True)
    for message in page:
        assert fast.dump(message) == slow.dump(message)


@settings(max_examples=100, derandomize=True)
@given(messages)
def test_a_mapping_dumps_as_the_object_does(message):
    as_mapping = {k: getattr(message, k) for k in MessageOut().fields if k != "type"}
    fast, slow = MessageOut(), marshmallows(MessageOut())
    assert fast.dump(as_mapping) == slow.dump(as_mapping)
    assert "type" not in fast.dump(as_mapping)


def test_the_reference_really_is_marshmallows():
    """The comparison above can fail: a plan that drops a field differs from it."""
    fast = MessageOut()
    fast._plan()
    fast.__dict__["_fast_plan"] = fast.__dict__["_fast_plan"][1:]
    message = Message("m", "r", 1, None, "hi", created_at=datetime.now(UTC))
    assert fast.dump(message) != marshmallows(MessageOut()).dump(message)
