// A realistic node-redis session against sedis, in RESP2 and then RESP3:
// exits non-zero on any difference.
//
// Usage: node session-node-redis.js PORT   (with redis installed; see run.sh)
"use strict";

const assert = require("node:assert/strict");
const { createClient, RESP_TYPES } = require("redis");

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function session(port, RESP) {
  const client = (options = {}) => createClient({ socket: { port }, RESP, ...options });
  const r = client();
  r.on("error", (e) => console.error(e));
  await r.connect();
  await r.flushAll();

  // Strings, counters, binary values read back as Buffers.
  assert.equal(await r.set("greeting", "hello"), "OK");
  assert.equal(await r.get("greeting"), "hello");
  assert.equal(await r.get("missing"), null);
  assert.equal(await r.set("greeting", "again", { condition: "NX" }), null);
  const blob = Buffer.from([0x00, 0xff, 0x0d, 0x0a, 0x80]);
  await r.set("blob", blob);
  const binary = r.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
  assert.deepEqual(await binary.get("blob"), blob);
  assert.equal(await r.incrBy("counter", 42), 42);
  assert.equal(await r.incrByFloat("f", 1.5), "1.5");
  await assert.rejects(r.incr("greeting"), /ERR value is not an integer or out of range/);
  await assert.rejects(r.sendCommand(["NOSUCHCOMMAND"]), /ERR unknown command 'NOSUCHCOMMAND'/);

  // Auto-pipelining: commands issued together travel together.
  const sets = [];
  for (let i = 0; i < 300; i++) sets.push(r.set(`key:${i}`, String(i)));
  await Promise.all(sets);
  const gets = await Promise.all([...Array(300).keys()].map((i) => r.get(`key:${i}`)));
  assert.deepEqual(gets, [...Array(300).keys()].map(String));

  // Transactions, and WATCH aborting on another client's write.
  const tx = await r.multi().incr("tx:a").incr("tx:b").mGet(["tx:a", "tx:b"]).exec();
  assert.deepEqual(tx, [1, 1, ["1", "1"]]);
  const other = client();
  await other.connect();
  const watcher = await r.duplicate().connect();
  await watcher.watch("tx:a");
  await other.set("tx:a", "changed");
  await assert.rejects(watcher.multi().incr("tx:a").exec(), /WatchError|One \(or more\) of the watched keys/);
  assert.equal(await r.get("tx:a"), "changed");

  // Expiry.
  await r.set("temp", "x", { expiration: { type: "PX", value: 50 } });
  const ttl = await r.pTTL("temp");
  assert.ok(ttl > 0 && ttl <= 50, `pttl ${ttl}`);
  const deadline = Date.now() + 2000;
  while ((await r.exists("temp")) && Date.now() < deadline) await sleep(10);
  assert.equal(await r.exists("temp"), 0);

  // Lists, sorted sets, and a blocking pop woken by another client.
  assert.equal(await r.rPush("list", ["a", "b"]), 2);
  assert.deepEqual(await r.lRange("list", 0, -1), ["a", "b"]);
  const blocked = await r.duplicate().connect();
  const popped = blocked.blPop("queue", 2);
  // Push only once the server reports the client blocked.
  while (!/blocked_clients:1/.test(await other.info("clients"))) await sleep(5);
  await other.rPush("queue", "job");
  assert.deepEqual(await popped, { key: "queue", element: "job" });
  assert.equal(await r.zAdd("z", [{ score: 1.5, value: "x" }, { score: 2, value: "y" }]), 2);
  assert.deepEqual(await r.zRangeWithScores("z", 0, -1), [
    { value: "x", score: 1.5 },
    { value: "y", score: 2 },
  ]);
  assert.equal(await r.zScore("z", "x"), 1.5);

  // Hashes and sets.
  assert.equal(await r.hSet("user:1", { name: "ada", age: "36" }), 2);
  assert.deepEqual({ ...(await r.hGetAll("user:1")) }, { name: "ada", age: "36" });
  assert.equal(await r.hIncrBy("user:1", "age", 1), 37);
  assert.equal(await r.sAdd("tags", ["a", "b", "c"]), 3);
  assert.deepEqual([...(await r.sMembers("tags"))].sort(), ["a", "b", "c"]);
  assert.equal(await r.sIsMember("tags", "b"), 1);

  // Scanning: every key, each at least once.
  const seen = new Set();
  for await (const keys of r.scanIterator({ MATCH: "key:*", COUNT: 50 })) {
    for (const k of keys) seen.add(k);
  }
  assert.equal(seen.size, 300);

  // Pub/sub: a subscriber on its own connection, binary payload.
  const sub = r.duplicate();
  await sub.connect();
  const received = new Promise((resolve) => {
    sub.subscribe("news", (message, channel) => resolve([channel, message]), true);
  });
  while ((await r.pubSubNumSub("news")).news !== 1) await sleep(5);
  assert.equal(await r.publish("news", Buffer.from([0x68, 0x00, 0xff])), 1);
  const [channel, payload] = await received;
  assert.equal(channel.toString(), "news");
  assert.deepEqual(payload, Buffer.from([0x68, 0x00, 0xff]));

  const info = await r.info("server");
  assert.match(info, /redis_version:7\.0\.15/);

  for (const c of [r, other, watcher, blocked, sub]) c.destroy();
}

async function main() {
  const port = Number(process.argv[2]);
  await session(port, 2);
  await session(port, 3);
  console.log(`node-redis ${require("redis/package.json").version}: session passed (RESP2 and RESP3)`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
