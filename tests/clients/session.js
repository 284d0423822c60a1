// A realistic ioredis session against sedis: exits non-zero on any difference.
//
// Usage: node session.js PORT   (with ioredis installed; see run.sh)
"use strict";

const assert = require("node:assert/strict");
const Redis = require("ioredis");

async function main() {
  const port = Number(process.argv[2]);
  const r = new Redis({ port, lazyConnect: true, maxRetriesPerRequest: 0 });
  await r.connect();
  await r.flushall();

  // Strings and binary values (Buffers in, Buffers out).
  assert.equal(await r.set("greeting", "hello"), "OK");
  assert.equal(await r.get("greeting"), "hello");
  const blob = Buffer.alloc(1024, 0).map((_, i) => i % 256);
  await r.set(Buffer.from([0x62, 0x00, 0xff]), blob);
  assert.deepEqual(await r.getBuffer(Buffer.from([0x62, 0x00, 0xff])), blob);
  assert.equal(await r.incrby("counter", 42), 42);
  assert.equal(await r.incrbyfloat("f", "1.5"), "1.5");
  await assert.rejects(r.incr("greeting"), /ERR value is not an integer or out of range/);
  await assert.rejects(r.call("NOSUCHCOMMAND"), /ERR unknown command 'NOSUCHCOMMAND'/);

  // Pipelines.
  const pipe = r.pipeline();
  for (let i = 0; i < 500; i++) pipe.set(`key:${i}`, i);
  for (let i = 0; i < 500; i++) pipe.get(`key:${i}`);
  const replies = await pipe.exec();
  for (const [err] of replies) assert.equal(err, null);
  assert.deepEqual(replies.slice(500).map(([, v]) => v), [...Array(500).keys()].map(String));

  // Transactions, and WATCH aborting on another client's write.
  const tx = await r.multi().incr("tx:a").incr("tx:b").mget("tx:a", "tx:b").exec();
  assert.deepEqual(tx, [[null, 1], [null, 1], [null, ["1", "1"]]]);
  const other = new Redis({ port });
  await r.watch("tx:a");
  await other.set("tx:a", "changed");
  assert.equal(await r.multi().incr("tx:a").exec(), null);
  assert.equal(await r.get("tx:a"), "changed");
  await assert.rejects(r.multi().set("k", "v").call("NOSUCHCOMMAND").exec(), /EXECABORT/);

  // Expiry.
  await r.set("temp", "x", "PX", 50);
  const ttl = await r.pttl("temp");
  assert.ok(ttl > 0 && ttl <= 50, `pttl ${ttl}`);
  const deadline = Date.now() + 2000;
  while ((await r.exists("temp")) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.equal(await r.exists("temp"), 0);

  // Lists, sorted sets, blocking pops woken by another client.
  assert.equal(await r.rpush("list", "a", "b"), 2);
  assert.deepEqual(await r.lrange("list", 0, -1), ["a", "b"]);
  const blocked = r.duplicate();
  const popped = blocked.blpop("queue", 2);
  // Push only once the server reports the client blocked.
  while (!/blocked_clients:1/.test(await other.info("clients"))) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await other.rpush("queue", "job");
  assert.deepEqual(await popped, ["queue", "job"]);
  assert.equal(await r.zadd("z", 1.5, "x", 2, "y"), 2);
  assert.deepEqual(await r.zrange("z", 0, -1, "WITHSCORES"), ["x", "1.5", "y", "2"]);

  // Streams: XREAD BLOCK on "$" woken by another client's XADD, then
  // a consumer group read and acknowledged.
  assert.equal(await r.xadd("events", "1-1", "kind", "old"), "1-1");
  const reading = blocked.xread("COUNT", 10, "BLOCK", 5000, "STREAMS", "events", "$");
  while (!/blocked_clients:1/.test(await other.info("clients"))) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const added = await other.xadd("events", "*", "kind", "new", "n", "1");
  assert.deepEqual(await reading, [["events", [[added, ["kind", "new", "n", "1"]]]]]);
  assert.equal(await r.xread("BLOCK", 10, "STREAMS", "events", "$"), null);
  assert.equal(await r.xgroup("CREATE", "events", "g", "0"), "OK");
  assert.deepEqual(await r.xreadgroup("GROUP", "g", "c", "COUNT", 1, "STREAMS", "events", ">"), [
    ["events", [["1-1", ["kind", "old"]]]],
  ]);
  assert.equal(await r.xack("events", "g", "1-1"), 1);
  assert.deepEqual(await r.xpending("events", "g"), [0, null, null, null]);

  // Hashes and sets.
  assert.equal(await r.hset("user:1", { name: "ada", age: "36" }), 2);
  assert.deepEqual(await r.hgetall("user:1"), { name: "ada", age: "36" });
  assert.equal(await r.hincrby("user:1", "age", 1), 37);
  assert.equal(await r.sadd("tags", "a", "b", "c"), 3);
  assert.deepEqual((await r.smembers("tags")).sort(), ["a", "b", "c"]);

  // Scanning.
  const seen = new Set();
  await new Promise((resolve, reject) => {
    r.scanStream({ match: "key:*", count: 50 })
      .on("data", (keys) => keys.forEach((k) => seen.add(k)))
      .on("end", resolve)
      .on("error", reject);
  });
  assert.equal(seen.size, 500);

  // Pub/sub round trip: a subscriber on its own connection.
  const sub = new Redis({ port });
  await sub.subscribe("news");
  const received = new Promise((resolve) => sub.on("messageBuffer", (ch, msg) => resolve([ch, msg])));
  assert.equal(await r.publish("news", Buffer.from([0x68, 0x00, 0xff])), 1);
  const [channel, payload] = await received;
  assert.equal(channel.toString(), "news");
  assert.deepEqual(payload, Buffer.from([0x68, 0x00, 0xff]));
  sub.disconnect();

  const info = await r.info("server");
  assert.match(info, /redis_version:7\.0\.15/);

  for (const c of [r, other, blocked]) c.disconnect();
  console.log(`ioredis ${require("ioredis/package.json").version}: session passed`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
