// A BullMQ job queue on sedis: exits non-zero on any difference.
//
// A queue and a worker (concurrency 50) process 1,000 jobs: 700 plain ones,
// 100 delayed by 10 to 59 ms, 100 that fail once or twice and then succeed
// on retry (attempts 3, fixed backoff 10 ms), 100 that fail on every attempt
// (attempts 2). BullMQ runs every state change as a Lua script (EVALSHA,
// falling back to EVAL; cmsgpack and cjson inside the scripts), moves
// jobs with RPOPLPUSH, wakes workers with BZPOPMIN on a marker set, and
// reports through a QueueEvents reader (XREAD BLOCK on the events stream;
// XADD and XTRIM in the scripts). At the end the job counts are exact,
// every retried job completed with the attemptsMade it needed, every
// permanent failure kept its last error, and no delayed job ran early.
//
// Usage: node session-bullmq.js PORT   (with bullmq installed; see run.sh)
"use strict";

const assert = require("node:assert/strict");
const Redis = require("ioredis");
const { Queue, Worker, QueueEvents } = require("bullmq");

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
// getJobCounts folds "paused" into the reply; compare only the named states.
const pick = (counts, ...states) => Object.fromEntries(states.map((s) => [s, counts[s]]));
// A reply error names its command; BullMQ's carry whole Lua scripts as
// arguments, so show the command's name and the error's first line only.
const brief = (e) => (e && e.command ? `${e.command.name}: ${e.message.split("\n")[0]}` : String(e));

const PLAIN = 700;
const DELAYED = 100;
const RETRIED = 100;
const DOOMED = 100;
const TOTAL = PLAIN + DELAYED + RETRIED + DOOMED;

async function main() {
  const port = Number(process.argv[2]);
  const connection = { port, maxRetriesPerRequest: null };
  const admin = new Redis({ port });
  await admin.flushall();

  const name = "bull-session";
  const queue = new Queue(name, { connection });
  // Errors the queue, worker and events reader report on their own.
  const errors = [];
  const report = (who) => (e) => errors.push(`${who}: ${brief(e)}`);
  queue.on("error", report("queue"));
  const events = new QueueEvents(name, { connection });
  events.on("error", report("queue events"));
  await events.waitUntilReady();
  let completedEvents = 0;
  let failedEvents = 0;
  events.on("completed", () => completedEvents++);
  events.on("failed", () => failedEvents++);

  // kind: plain | delayed | retried (fails `failures` times) | doomed.
  const jobs = [];
  for (let i = 0; i < PLAIN; i++) {
    jobs.push({ name: "plain", data: { i, kind: "plain" } });
  }
  for (let i = 0; i < DELAYED; i++) {
    jobs.push({ name: "delayed", data: { i, kind: "delayed" }, opts: { delay: 10 + (i % 50) } });
  }
  for (let i = 0; i < RETRIED; i++) {
    const failures = 1 + (i % 2);
    jobs.push({
      name: "retried",
      data: { i, kind: "retried", failures },
      opts: { attempts: 3, backoff: { type: "fixed", delay: 10 } },
    });
  }
  for (let i = 0; i < DOOMED; i++) {
    jobs.push({
      name: "doomed",
      data: { i, kind: "doomed" },
      opts: { attempts: 2, backoff: { type: "fixed", delay: 10 } },
    });
  }
  const added = await queue.addBulk(jobs);
  assert.equal(added.length, TOTAL);
  assert.equal(new Set(added.map((j) => j.id)).size, TOTAL);
  const before = await queue.getJobCounts("waiting", "delayed", "active");
  assert.deepEqual(pick(before, "waiting", "delayed", "active"), {
    waiting: TOTAL - DELAYED,
    delayed: DELAYED,
    active: 0,
  });

  const ranEarly = [];
  const worker = new Worker(
    name,
    async (job) => {
      const { kind, failures } = job.data;
      if (kind === "delayed" && job.processedOn - job.timestamp < job.opts.delay) {
        ranEarly.push(job.id);
      }
      if (kind === "retried" && job.attemptsMade < failures) {
        throw new Error(`attempt ${job.attemptsMade + 1} of ${job.id} fails`);
      }
      if (kind === "doomed") {
        throw new Error(`${job.id} always fails (attempt ${job.attemptsMade + 1})`);
      }
      return { doubled: job.data.i * 2 };
    },
    { connection, concurrency: 50 },
  );
  worker.on("error", report("worker"));

  const deadline = Date.now() + 45000;
  let counts;
  for (;;) {
    counts = await queue.getJobCounts("completed", "failed", "delayed", "waiting", "active");
    if (counts.completed + counts.failed === TOTAL) break;
    if (Date.now() > deadline || errors.length > 0) {
      throw new Error(`jobs unfinished: ${JSON.stringify(counts)}; errors: ${errors.join("; ")}`);
    }
    await sleep(50);
  }
  assert.deepEqual(pick(counts, "completed", "failed", "delayed", "waiting", "active"), {
    completed: PLAIN + DELAYED + RETRIED,
    failed: DOOMED,
    delayed: 0,
    waiting: 0,
    active: 0,
  });
  assert.deepEqual(ranEarly, []);

  // Every job's final state, return value and attempts, read back.
  const completed = await queue.getCompleted(0, -1);
  const failed = await queue.getFailed(0, -1);
  assert.equal(completed.length, PLAIN + DELAYED + RETRIED);
  assert.equal(failed.length, DOOMED);
  for (const job of completed) {
    assert.deepEqual(job.returnvalue, { doubled: job.data.i * 2 }, `return value of ${job.id}`);
    const attempts = job.data.kind === "retried" ? job.data.failures + 1 : 1;
    assert.equal(job.attemptsMade, attempts, `attemptsMade of ${job.name} ${job.id}`);
    assert.ok(job.finishedOn >= job.processedOn, `finishedOn of ${job.id}`);
  }
  const retried = completed.filter((j) => j.data.kind === "retried");
  assert.equal(retried.length, RETRIED);
  assert.equal(retried.filter((j) => j.attemptsMade === 2).length, RETRIED / 2);
  assert.equal(retried.filter((j) => j.attemptsMade === 3).length, RETRIED / 2);
  for (const job of failed) {
    assert.equal(job.data.kind, "doomed");
    assert.equal(job.attemptsMade, 2, `attemptsMade of failed ${job.id}`);
    assert.equal(job.failedReason, `${job.id} always fails (attempt 2)`);
    assert.equal(job.stacktrace.length, 2, `stacktraces of ${job.id}`);
  }
  for (const job of retried) {
    assert.equal(job.stacktrace.length, job.data.failures, `stacktraces of ${job.id}`);
  }
  assert.equal(await (await queue.getJob(added[0].id)).getState(), "completed");
  assert.equal(await (await queue.getJob(failed[0].id)).getState(), "failed");

  // The events stream saw every outcome: one "completed" per completed job
  // and one "failed" per job that ran out of attempts (an attempt that is
  // retried is logged as "delayed" for its backoff, not as "failed").
  const eventsDeadline = Date.now() + 5000;
  while (completedEvents < PLAIN + DELAYED + RETRIED || failedEvents < DOOMED) {
    if (Date.now() > eventsDeadline) {
      throw new Error(`events: ${completedEvents} completed, ${failedEvents} failed`);
    }
    await sleep(20);
  }
  assert.equal(completedEvents, PLAIN + DELAYED + RETRIED);
  assert.equal(failedEvents, DOOMED);

  assert.deepEqual(errors, []);
  await worker.close();
  await events.close();
  await queue.obliterate({ force: true });
  assert.deepEqual(await admin.keys(`bull:${name}:*`), []);
  await queue.close();
  admin.disconnect();
  console.log(`bullmq ${require("bullmq/package.json").version}: ${TOTAL} jobs passed`);
}

main().catch((e) => {
  console.error(e && e.command ? `${e.name} from ${brief(e)}\n${e.stack}` : e);
  process.exit(1);
});
