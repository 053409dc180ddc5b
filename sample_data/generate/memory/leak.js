// A small Node service that leaks, for heap-snapshot diffing.
//
//   node --expose-gc leak.js OUTDIR [SCALE [STEADY]]
//
// Writes four snapshots with v8.writeHeapSnapshot():
//   node_s0_baseline   before anything runs
//   node_s1_churn      after a churn-only phase: ChurnItem objects replaced one
//                      for one in a fixed-size pool (the control: no growth)
//   node_s2_target     after the leaking phase (requests served, churn continues)
//   node_s3_final      after a quiet phase where only churn runs (the "revert")
// Planted leaks (all allocated between s1 and s2, all still alive at s3):
//   1. LeakyCacheEntry objects in an unbounded Map `requestCache` (the biggest),
//   2. 'tick' listeners on an EventEmitter never removed, each a closure holding an array,
//   3. closures in `retainedCallbacks` each capturing a Float64Array-free plain array.
// SCALE multiplies every count (the benchmark uses a larger SCALE plus STEADY objects alive throughout).
'use strict';
const v8 = require('v8');
const path = require('path');
const { EventEmitter } = require('events');

const outdir = process.argv[2] || '.';
const scale = Number(process.argv[3] || 1);
const steady = Number(process.argv[4] || 0);   // objects alive in every snapshot (benchmark bulk)

function gc() { if (global.gc) { global.gc(); global.gc(); } }
function snap(name) {
  gc();
  const file = path.join(outdir, name + '.heapsnapshot');
  v8.writeHeapSnapshot(file);
  written.push(file);      // printed at the end: console.log would create stdout objects mid-run
}
const written = [];

class SteadyRecord { constructor(i) { this.id = i; this.label = 'steady-' + (i % 1000); this.values = [i, i + 1, i + 2]; } }
const steadyStore = [];
for (let i = 0; i < steady; i++) steadyStore.push(new SteadyRecord(i));

class ChurnItem { constructor(i) { this.seq = i; this.data = new Array(16).fill(i); } }
const CHURN_POOL = 400;
const churnPool = new Array(CHURN_POOL);
for (let i = 0; i < CHURN_POOL; i++) churnPool[i] = new ChurnItem(i);
let churnSeq = CHURN_POOL;
function churn(rounds) {         // replace every pooled item `rounds` times: no growth
  for (let r = 0; r < rounds; r++)
    for (let i = 0; i < CHURN_POOL; i++) churnPool[i] = new ChurnItem(churnSeq++);
}

class LeakyCacheEntry {
  constructor(key) { this.key = key; this.payload = new Array(48).fill(key); this.hits = 0; }
}
const requestCache = new Map();          // leak 1: never evicted
const bus = new EventEmitter();          // leak 2: listeners never removed
bus.setMaxListeners(0);
const retainedCallbacks = [];            // leak 3: closures holding arrays

function serveRequest(i) {
  requestCache.set('req-' + i, new LeakyCacheEntry(i));
  if (i % 4 === 0) {
    const history = new Array(24).fill(i);
    bus.on('tick', function onTick() { return history.length; });
  }
  if (i % 8 === 0) {
    const rows = new Array(24).fill(-i);
    retainedCallbacks.push(() => rows[0]);
  }
}

snap("node_s0_baseline");
churn(3);
snap('node_s1_churn');
for (let i = 0; i < 2000 * scale; i++) { serveRequest(i); if (i % 400 === 0) churn(1); }
snap('node_s2_target');
churn(3);
bus.emit('tick');
snap('node_s3_final');
console.log(written.join('\n'));
console.log(`steady records kept alive: ${steadyStore.length}`);  // a use after the last snapshot keeps the store live
