"""(f) the newest page of a direct conversation, read by one of its two participants."""

from __future__ import annotations

import random

from bench.api_server import Route
from bench.data import chat as chat_data
from bench.databases import Databases
from bench.floor import FloorOp
from bench.scenarios.base import Caller, RunContext, Scenario, authenticate, learner_plan
from bench.wrk import WrkPlan
from oneenglish.chat.models import MESSAGES, direct_conversation

PAGE = 20


def conversations(ctx: RunContext) -> list[tuple[int, Caller, str]]:
    """(learner number, learner, peer id): each learner's conversations in the data set."""
    found = [
        (number, learner, ctx.users.ids[peer])
        for number, learner in enumerate(ctx.learners)
        for peer in chat_data.peers(number, ctx.scale)
    ]
    if not found:
        raise RuntimeError("the learners have no conversations: load the chat data set")
    return found


async def conversation_plan(ctx: RunContext, db: Databases) -> WrkPlan:
    return learner_plan(
        ctx,
        "chat",
        "GET",
        (
            (number, f"/api/chat/direct/{peer}/messages?limit={PAGE}", "")
            for number, _, peer in conversations(ctx)
        ),
    )


async def conversation_floor(ctx: RunContext, db: Databases) -> FloorOp:
    """As `chat/service.py::direct_page` without a cursor: the authentication statement, then
    (on MongoDB, while the request still holds its PostgreSQL connection, as the API's session
    does) one `find` on `conversationId`, newest first (`createdAt`, `_id`), one more than the
    page to know whether another follows. On the local FerretDB the conversation's messages are
    found through the GIN index on `conversationId` that `oneenglish migrate` adds, and sorted
    in memory."""
    pairs = conversations(ctx)
    messages = db.mongo[MESSAGES]

    async def conversation_page(rng: random.Random) -> None:
        _, learner, peer = pairs[rng.randrange(len(pairs))]
        conversation = direct_conversation(str(learner.user_id), peer)
        async with db.pool.acquire() as conn:
            await authenticate(conn, learner)
            cursor = (
                messages.find({"conversationId": conversation})
                .sort([("createdAt", -1), ("_id", -1)])
                .limit(PAGE + 1)
            )
            page = await cursor.to_list()
        if len(page) != PAGE + 1:
            raise LookupError(f"{conversation} has {len(page)} messages")

    return conversation_page


CONVERSATION_PAGE = Scenario(
    key="f",
    title="a page of a chat conversation",
    route=Route("GET", "/api/chat/direct/{user_id}/messages"),
    datasets=("users", "chat"),
    wrk=conversation_plan,
    floor=conversation_floor,
    learners=True,
)
