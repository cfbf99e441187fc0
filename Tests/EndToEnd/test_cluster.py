"""A cluster of switchboard processes joined over a real nats-server (issue 5):
delivery, presence, cache channels, queries and user features across nodes.

Every test starts its own nodes (`cluster` fixture: unique node ids, the apps of
helpers.APPS, a 3 s presence lease) on the session's nats-server, and uses unique
channel and user names, so what the shared JetStream keeps between tests never
matters. Faults (dead nodes, NATS down or restarted) are in test_cluster_faults.py.
"""

from __future__ import annotations

import threading
import time

import pytest

from cluster import MEMBER_ADDED, MEMBER_REMOVED, BackboneCounters, presence_of, quiet, readiness
from helpers import make_sdk, signed_request, unique, wait_until
from test_channels import subscribe_any

# ---------------------------------------------------------------------------
# Delivery


def test_http_event_on_either_node_reaches_every_subscriber_once(cluster, ws_factory):
    """An HTTP publish on A, then one on B, each reach both subscribers of each node
    exactly once, with the data as published."""
    a, b = cluster(2)
    ch = unique("public-")
    subscribers = [ws_factory(srv=node) for node in (a, a, b, b)]
    for ws in subscribers:
        ws.subscribe_ok(ch)
    for origin in (a, b):
        assert make_sdk(origin).trigger(ch, "greeting", {"from": origin.node_id}) == {}
        for ws in subscribers:
            assert ws.expect("greeting", channel=ch)["data"] == {"from": origin.node_id}
    quiet(*subscribers)


@pytest.mark.parametrize("prefix", ["private-", "presence-", "private-encrypted-"])
def test_event_on_a_reaches_authorised_subscriber_on_b(cluster, ws_factory, prefix):
    """Private, presence and end-to-end encrypted channels deliver across nodes too;
    the encrypted payload arrives on B byte for byte as A's local subscriber got it."""
    a, b = cluster(2)
    ch = unique(prefix)
    on_a, on_b = ws_factory(srv=a), ws_factory(srv=b)
    subscribe_any(on_a, make_sdk(a), ch, "user-on-a")
    on_a.expect("pusher_internal:subscription_succeeded", channel=ch)
    subscribe_any(on_b, make_sdk(b), ch, "user-on-b")
    on_b.expect("pusher_internal:subscription_succeeded", channel=ch)
    if prefix == "presence-":
        # B's announcement travels through NATS; A's publish below does not wait for it.
        assert on_a.expect(MEMBER_ADDED, channel=ch)["data"]["user_id"] == "user-on-b"
    assert make_sdk(a).trigger(ch, "secret", {"n": 7}) == {}
    local = on_a.expect("secret", channel=ch)
    remote = on_b.expect("secret", channel=ch)
    assert remote.raw_data == local.raw_data
    if prefix == "private-encrypted-":
        assert set(remote["data"]) == {"nonce", "ciphertext"}, remote.raw
    else:
        assert remote["data"] == {"n": 7}
    quiet(on_a, on_b)


def test_events_keep_publish_order_per_publishing_node(cluster, ws_factory):
    """A and B publish 40 numbered events each at the same time; every subscriber on
    either node gets all 80 once, each node's events in the order it published them."""
    a, b = cluster(2)
    ch = unique("public-")
    subscribers = [ws_factory(srv=a), ws_factory(srv=b)]
    for ws in subscribers:
        ws.subscribe_ok(ch)
    count = 40

    def publish_from(node):
        sdk = make_sdk(node)
        for seq in range(count):
            sdk.trigger(ch, "tick", {"node": node.node_id, "seq": seq})

    publishers = [threading.Thread(target=publish_from, args=(node,)) for node in (a, b)]
    for t in publishers:
        t.start()
    for t in publishers:
        t.join(timeout=20)
    for ws in subscribers:
        frames = [ws.expect("tick", channel=ch) for _ in range(2 * count)]
        for node in (a, b):
            seqs = [f["data"]["seq"] for f in frames if f["data"]["node"] == node.node_id]
            assert seqs == list(range(count)), f"events of {node.node_id} as received: {seqs}"
    quiet(*subscribers)


def test_socket_id_excludes_a_socket_on_another_node(cluster, ws_factory):
    """`socket_id` on a publish skips that socket whichever node it is on."""
    a, b = cluster(2)
    ch = unique("public-")
    on_a, on_b = ws_factory(srv=a), ws_factory(srv=b)
    on_a.subscribe_ok(ch)
    on_b.subscribe_ok(ch)
    make_sdk(a).trigger(ch, "not-for-b", {"skip": "b"}, socket_id=on_b.socket_id)
    make_sdk(b).trigger(ch, "not-for-a", {"skip": "a"}, socket_id=on_a.socket_id)
    assert on_a.expect("not-for-b", channel=ch)["data"] == {"skip": "b"}
    assert on_b.expect("not-for-a", channel=ch)["data"] == {"skip": "a"}
    quiet(on_a, on_b)


def test_client_event_reaches_other_nodes_with_user_id_but_not_the_sender(cluster, ws_factory):
    """A client event sent on A reaches presence subscribers on A and on B, carrying
    the sender's user_id; the sender does not get it back."""
    a, b = cluster(2)
    ch = unique("presence-")
    sender, beside, remote = ws_factory(srv=a), ws_factory(srv=a), ws_factory(srv=b)
    sender.subscribe_presence(ch, make_sdk(a), "sender")
    beside.subscribe_presence(ch, make_sdk(a), "beside")
    remote.subscribe_presence(ch, make_sdk(b), "remote")
    sender.send_event("client-typing", {"text": "hi"}, channel=ch)
    for ws in (beside, remote):
        ev = ws.expect("client-typing", channel=ch, skip=(MEMBER_ADDED,))
        assert ev["data"] == {"text": "hi"}
        assert ev["user_id"] == "sender", ev.raw
    joined = {sender.expect(MEMBER_ADDED, channel=ch)["data"]["user_id"] for _ in range(2)}
    assert joined == {"beside", "remote"}, joined
    quiet(sender)  # and not its own client event


# ---------------------------------------------------------------------------
# Presence


def test_presence_members_of_every_node_are_listed_and_announced(cluster, ws_factory):
    """subscription_succeeded on B lists the member that joined on A (ids, count,
    hash with user_info); member_added and member_removed cross nodes both ways."""
    a, b = cluster(2)
    ch = unique("presence-")
    alice = ws_factory(srv=a)
    alice.subscribe_presence(ch, make_sdk(a), "alice", {"name": "Alice"})
    bob = ws_factory(srv=b)
    p = presence_of(bob.subscribe_presence(ch, make_sdk(b), "bob", {"name": "Bob"}))
    assert sorted(p["ids"]) == ["alice", "bob"], p
    assert p["count"] == 2, p
    assert p["hash"] == {"alice": {"name": "Alice"}, "bob": {"name": "Bob"}}, p
    added = alice.expect(MEMBER_ADDED, channel=ch)
    assert added["data"] == {"user_id": "bob", "user_info": {"name": "Bob"}}

    carol = ws_factory(srv=a)
    p = presence_of(carol.subscribe_presence(ch, make_sdk(a), "carol", {"name": "Carol"}))
    assert sorted(p["ids"]) == ["alice", "bob", "carol"] and p["count"] == 3, p
    assert bob.expect(MEMBER_ADDED, channel=ch)["data"]["user_id"] == "carol"
    assert alice.expect(MEMBER_ADDED, channel=ch)["data"]["user_id"] == "carol"

    bob.close()
    for ws in (alice, carol):
        assert ws.expect(MEMBER_REMOVED, channel=ch)["data"] == {"user_id": "bob"}
    quiet(alice, carol)


def test_same_user_on_two_nodes_is_added_once_and_removed_once(cluster, ws_factory):
    """A user with a socket on A and one on B is one member: one member_added (first
    socket anywhere), none when its A socket leaves, one member_removed when the last
    socket (on B) goes; observers on both nodes see exactly that."""
    a, b = cluster(2)
    ch = unique("presence-")
    observers = [ws_factory(srv=a), ws_factory(srv=b)]
    observers[0].subscribe_presence(ch, make_sdk(a), "observer-a")
    observers[1].subscribe_presence(ch, make_sdk(b), "observer-b")
    observers[0].expect(MEMBER_ADDED, channel=ch)

    dup_on_a, dup_on_b = ws_factory(srv=a), ws_factory(srv=b)
    dup_on_a.subscribe_presence(ch, make_sdk(a), "dup", {"n": 1})
    for ws in observers:
        assert ws.expect(MEMBER_ADDED, channel=ch)["data"] == {"user_id": "dup", "user_info": {"n": 1}}
    p = presence_of(dup_on_b.subscribe_presence(ch, make_sdk(b), "dup", {"n": 1}))
    assert sorted(p["ids"]) == ["dup", "observer-a", "observer-b"] and p["count"] == 3, p
    users = make_sdk(a).users_info(ch)["users"]
    assert sorted(u["id"] for u in users) == ["dup", "observer-a", "observer-b"], users
    quiet(*observers, settle=0.5)  # no second member_added

    dup_on_a.unsubscribe(ch)
    dup_on_a.ping_pong()
    quiet(*observers, settle=0.5)  # dup still has its socket on B: no member_removed

    dup_on_b.close()
    for ws in observers:
        assert ws.expect(MEMBER_REMOVED, channel=ch)["data"] == {"user_id": "dup"}
    quiet(*observers, settle=0.5)


def test_member_who_joined_on_a_is_not_announced_to_a_later_subscriber_on_b(cluster, ws_factory):
    """20 times: a user joins on A, and right after it another joins on B. B's
    subscriber sees the A user in its subscription_succeeded and must not get a
    member_added for it as well (only A's subscriber gets one, for the B user)."""
    a, b = cluster(2)
    for i in range(20):
        ch = unique(f"presence-{i}-")
        first, second = ws_factory(srv=a), ws_factory(srv=b)
        first.subscribe_presence(ch, make_sdk(a), "first", {"on": "a"})
        p = presence_of(second.subscribe_presence(ch, make_sdk(b), "second", {"on": "b"}))
        assert sorted(p["ids"]) == ["first", "second"], p
        assert first.expect(MEMBER_ADDED, channel=ch)["data"] == {"user_id": "second", "user_info": {"on": "b"}}
        quiet(first, second, settle=0.05)
        first.close()
        second.close()


# ---------------------------------------------------------------------------
# Cache channels


@pytest.mark.parametrize("prefix", ["cache-", "private-cache-"])
def test_cache_channel_replays_on_b_the_last_event_published_on_a(cluster, ws_factory, prefix):
    """A subscriber on B gets cache_miss for a channel nobody published to, and the
    last event published on A (while nobody in the cluster watched) otherwise."""
    a, b = cluster(2)
    empty = unique(prefix)
    ws = ws_factory(srv=b)
    subscribe_any(ws, make_sdk(b), empty)
    ws.expect("pusher_internal:subscription_succeeded", channel=empty)
    ws.expect("pusher:cache_miss", channel=empty)

    kept = unique(prefix)
    sdk_a = make_sdk(a)
    sdk_a.trigger(kept, "price", {"v": 1})
    sdk_a.trigger(kept, "price", {"v": 2})
    late = ws_factory(srv=b)
    subscribe_any(late, make_sdk(b), kept)
    late.expect("pusher_internal:subscription_succeeded", channel=kept)
    assert late.expect("price", channel=kept)["data"] == {"v": 2}
    late.ping_pong()  # replayed once, and no cache_miss


# ---------------------------------------------------------------------------
# Cluster-wide HTTP queries


def test_channel_queries_on_any_node_count_the_whole_cluster(cluster, ws_factory):
    """GET /channels (prefix filter, subscription_count, user_count), /channels/NAME
    and /channels/NAME/users give the same cluster-wide answer on A and on B."""
    a, b = cluster(2)
    tag = unique("")
    only_a, only_b, shared = f"public-{tag}-a", f"public-{tag}-b", f"public-{tag}-s"
    room = f"presence-{tag}-room"
    ws_factory(srv=a).subscribe_ok(only_a)
    leaving = [ws_factory(srv=b) for _ in range(2)]
    for ws in leaving:
        ws.subscribe_ok(only_b)
    ws_factory(srv=a).subscribe_ok(shared)
    ws_factory(srv=b).subscribe_ok(shared)
    for node, user in ((a, "x"), (b, "x"), (b, "y")):
        ws_factory(srv=node).subscribe_presence(room, make_sdk(node), user)

    for node in (a, b):
        sdk = make_sdk(node)
        public = sdk.channels_info(prefix_filter=f"public-{tag}", attributes=["subscription_count"])
        assert public == {"channels": {only_a: {"subscription_count": 1}, only_b: {"subscription_count": 2},
                                       shared: {"subscription_count": 2}}}, (node.node_id, public)
        presence = sdk.channels_info(prefix_filter=f"presence-{tag}", attributes=["user_count"])
        assert presence == {"channels": {room: {"user_count": 2}}}, (node.node_id, presence)
        assert sdk.channel_info(shared, ["subscription_count"]) == {"occupied": True, "subscription_count": 2}
        info = sdk.channel_info(room, ["user_count", "subscription_count"])
        assert info == {"occupied": True, "user_count": 2, "subscription_count": 3}, (node.node_id, info)
        users = sdk.users_info(room)["users"]
        assert sorted(users, key=lambda u: u["id"]) == [{"id": "x"}, {"id": "y"}], (node.node_id, users)
        assert sdk.channel_info(f"public-{tag}-nobody")["occupied"] is False

    for ws in leaving:
        ws.close()
    for node in (a, b):
        sdk = make_sdk(node)
        wait_until(lambda: set(sdk.channels_info(prefix_filter=f"public-{tag}")["channels"]) == {only_a, shared},
                   what=f"{only_b} (vacated on B) dropped from /channels on {node.node_id}")


# ---------------------------------------------------------------------------
# Users: send-to-user and terminate_connections


def test_send_to_user_reaches_the_users_sockets_on_every_node(cluster, ws_factory):
    """send_to_user on either node reaches the user's sockets on A and on B, and no
    other user's."""
    a, b = cluster(2)
    uid, other = unique("user-"), unique("other-")
    mine = [ws_factory(srv=a), ws_factory(srv=b)]
    bystander = ws_factory(srv=b)
    for ws, user in ((mine[0], uid), (mine[1], uid), (bystander, other)):
        ws.signin(make_sdk(ws.server), {"id": user})
        ws.subscribe_ok(f"#server-to-user-{user}", auth="")
    for origin in (a, b):
        assert make_sdk(origin).send_to_user(uid, "direct", {"via": origin.node_id}) == {}
        for ws in mine:
            ev = ws.expect("direct", channel=f"#server-to-user-{uid}")
            assert ev["data"] == {"via": origin.node_id}
    quiet(*mine, bystander)


def test_terminate_connections_closes_the_users_sockets_on_every_node(cluster, ws_factory):
    """POST /apps/1/users/ID/terminate_connections on B closes the user's sockets on
    A and on B with 4009, and leaves other users' sockets open."""
    a, b = cluster(2)
    uid = unique("user-")
    mine = [ws_factory(srv=a), ws_factory(srv=b)]
    bystanders = [ws_factory(srv=a), ws_factory(srv=b)]
    for ws in mine:
        ws.signin(make_sdk(ws.server), {"id": uid})
    for ws in bystanders:
        ws.signin(make_sdk(ws.server), {"id": unique("keep-")})
    res = signed_request(b, "POST", f"/apps/1/users/{uid}/terminate_connections", body={})
    assert res.status == 200 and res.json == {}, res
    for ws in mine:
        code, _reason, frames = ws.expect_close(timeout=5)
        assert code == 4009, (ws.server.node_id, code, [f.raw for f in frames])
    quiet(*bystanders)


# ---------------------------------------------------------------------------
# Health, metrics and interest-based routing


def test_connected_nodes_are_ready_and_count_backbone_events(cluster, ws_factory):
    """/ready is 200 on every node once on NATS; 5 events published on A to a channel
    with a subscriber on B count 5 published on A and 5 received on B, none dropped."""
    a, b = cluster(2)
    for node in (a, b):
        assert readiness(node) == (200, {"status": "ready"})
        assert BackboneCounters.of(node).connected == 1
    ch = unique("public-")
    ws = ws_factory(srv=b)
    ws.subscribe_ok(ch)
    before_a, before_b = BackboneCounters.of(a), BackboneCounters.of(b)
    for i in range(5):
        make_sdk(a).trigger(ch, "counted", {"i": i})
    for i in range(5):
        assert ws.expect("counted", channel=ch)["data"] == {"i": i}
    after_a, after_b = BackboneCounters.of(a), BackboneCounters.of(b)
    assert after_a.published - before_a.published == 5, (before_a, after_a)
    assert after_b.received - before_b.received == 5, (before_b, after_b)
    assert after_a.dropped == before_a.dropped == 0, after_a


def test_node_receives_only_channels_it_has_subscribers_for(cluster, ws_factory):
    """Interest-based routing: B receives nothing from NATS for a channel only A
    watches, receives its events while it has a subscriber, and nothing again once
    that subscriber left."""
    a, b = cluster(2)
    ch = unique("public-")
    on_a = ws_factory(srv=a)
    on_a.subscribe_ok(ch)
    sdk_a = make_sdk(a)

    def publish_and_check(n: int, on_b=None) -> float:
        before = BackboneCounters.of(b).received
        for i in range(n):
            sdk_a.trigger(ch, "routed", {"i": i})
        for ws in (on_a, on_b) if on_b else (on_a,):
            for i in range(n):
                assert ws.expect("routed", channel=ch)["data"] == {"i": i}
        time.sleep(0.3)  # time for anything NATS would still forward to B
        return BackboneCounters.of(b).received - before

    assert publish_and_check(5) == 0, "B received events of a channel it has no subscriber for"
    on_b = ws_factory(srv=b)
    on_b.subscribe_ok(ch)
    assert publish_and_check(5, on_b) == 5
    on_b.unsubscribe(ch)
    on_b.ping_pong()
    time.sleep(0.3)  # B's unsubscribe from NATS is under way; it need not be synchronous
    assert publish_and_check(5) == 0, "B still receives the channel after its last subscriber left"
    on_b.ping_pong()


# ---------------------------------------------------------------------------
# Three nodes


def test_three_nodes_share_presence_events_and_queries(cluster, ws_factory):
    """One member per node of a 3-node cluster: each sees the earlier ones in
    subscription_succeeded and the later ones as member_added; an HTTP event on C
    and a client event from B reach the others once; queries on A count all three;
    a member leaving C is removed on A and B."""
    nodes = cluster(3)
    a, b, c = nodes
    ch = unique("presence-")
    members = {}
    for i, node in enumerate(nodes):
        ws = ws_factory(srv=node)
        p = presence_of(ws.subscribe_presence(ch, make_sdk(node), f"u-{i}", {"node": i}))
        assert sorted(p["ids"]) == [f"u-{j}" for j in range(i + 1)] and p["count"] == i + 1, p
        assert p["hash"] == {f"u-{j}": {"node": j} for j in range(i + 1)}, p
        for earlier in members.values():
            assert earlier.expect(MEMBER_ADDED, channel=ch)["data"] == {"user_id": f"u-{i}", "user_info": {"node": i}}
        members[i] = ws

    assert make_sdk(c).trigger(ch, "from-c", {"n": 3}) == {}
    for ws in members.values():
        assert ws.expect("from-c", channel=ch)["data"] == {"n": 3}
    members[1].send_event("client-from-b", {"n": 2}, channel=ch)
    for i in (0, 2):
        ev = members[i].expect("client-from-b", channel=ch)
        assert ev["data"] == {"n": 2} and ev["user_id"] == "u-1", ev.raw
    quiet(*members.values())

    info = make_sdk(a).channel_info(ch, ["user_count", "subscription_count"])
    assert info == {"occupied": True, "user_count": 3, "subscription_count": 3}, info
    members[2].close()
    for i in (0, 1):
        assert members[i].expect(MEMBER_REMOVED, channel=ch)["data"] == {"user_id": "u-2"}
