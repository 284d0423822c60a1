// node-redlock (Redlock on ioredis) against sedis: exits non-zero on any
// difference.
//
// Redlock runs its acquire, extend and release scripts with EVALSHA and
// falls back to EVAL on NOSCRIPT. With one server: acquire a lock, a second
// acquire of the same resource fails (retryCount 0) and leaves the holder's
// key alone, extend, release, and then the second acquire succeeds; a
// release by a lock that no longer holds the resource fails; a lock on two
// resources is all or nothing; `using` holds the lock for a routine.
//
// Usage: node session-redlock.js PORT   (with redlock installed; see run.sh)
"use strict";

const assert = require("node:assert/strict");
const Redis = require("ioredis");
const path = require("node:path");
const { default: Redlock, Lock, ExecutionError, ResourceLockedError } = require("redlock");

async function main() {
  const port = Number(process.argv[2]);
  const client = new Redis({ port, maxRetriesPerRequest: 0 });
  const other = new Redis({ port, maxRetriesPerRequest: 0 });
  await client.flushall();
  await client.script("FLUSH");
  const redlock = new Redlock([client], { retryCount: 0 });
  const rival = new Redlock([other], { retryCount: 0 });

  // Acquire: the key holds the lock's random value with a PX ttl.
  const lock = await redlock.acquire(["res:a"], 1000);
  assert.equal(await client.get("res:a"), lock.value);
  const ttl = await client.pttl("res:a");
  assert.ok(ttl > 900 && ttl <= 1000, `pttl after acquire ${ttl}`);
  assert.equal(lock.attempts.length, 1);

  // A second acquire of the same resource fails at once.
  const refused = await rival.acquire(["res:a"], 1000).then(
    () => assert.fail("second acquire succeeded"),
    (e) => e,
  );
  assert.ok(refused instanceof ExecutionError, `${refused}`);
  assert.equal(refused.attempts.length, 1);
  const [stats] = await Promise.all(refused.attempts);
  assert.equal(stats.votesFor.size, 0);
  const [reason] = stats.votesAgainst.values();
  assert.ok(reason instanceof ResourceLockedError, `${reason}`);
  assert.equal(reason.message, "The operation was applied to: 0 of the 1 requested resources.");
  assert.equal(await client.get("res:a"), lock.value, "refused acquire left the holder's key");

  // Extend: the same value, a longer ttl.
  const extended = await lock.extend(5000);
  assert.equal(extended.value, lock.value);
  assert.equal(await client.get("res:a"), lock.value);
  const extendedTtl = await client.pttl("res:a");
  assert.ok(extendedTtl > 4900 && extendedTtl <= 5000, `pttl after extend ${extendedTtl}`);
  await assert.rejects(lock.extend(1000), /Cannot extend an already-expired lock/);

  // Release, then the rival gets it.
  await extended.release();
  assert.equal(await client.exists("res:a"), 0);
  const second = await rival.acquire(["res:a"], 2000);
  assert.equal(await client.get("res:a"), second.value);
  assert.notEqual(second.value, lock.value);

  // Releasing a lock that no longer holds the resource removes nothing.
  const stale = new Lock(redlock, ["res:a"], lock.value, [], Date.now() + 1000);
  await assert.rejects(stale.release(), ExecutionError);
  assert.equal(await client.get("res:a"), second.value);
  await second.release();

  // Two resources: all or nothing.
  const held = await rival.acquire(["res:c"], 2000);
  await assert.rejects(redlock.acquire(["res:b", "res:c"], 2000), ExecutionError);
  assert.equal(await client.exists("res:b"), 0, "partial lock left on res:b");
  await held.release();
  const both = await redlock.acquire(["res:b", "res:c"], 2000);
  assert.deepEqual(await client.mget("res:b", "res:c"), [both.value, both.value]);
  await both.release();
  assert.equal(await client.exists("res:b", "res:c"), 0);

  // `using` holds the lock for the routine and releases it after.
  const seen = await redlock.using(["res:d"], 1000, async (signal) => {
    assert.equal(signal.aborted, false);
    return client.exists("res:d");
  });
  assert.equal(seen, 1);
  assert.equal(await client.exists("res:d"), 0);

  // The scripts were loaded by the EVAL fallback and then run by EVALSHA.
  const hashes = [redlock.scripts.acquireScript, redlock.scripts.extendScript, redlock.scripts.releaseScript]
    .map((s) => s.hash);
  assert.deepEqual(await client.script("EXISTS", ...hashes), [1, 1, 1]);

  client.disconnect();
  other.disconnect();
  // The package exports no ./package.json; its version reads "v5.0.0-beta.2".
  const { version } = require(path.join(path.dirname(require.resolve("redlock")), "../../package.json"));
  console.log(`redlock ${version}: session passed`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
