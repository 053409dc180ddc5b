// What memlab's own heap loader (@memlab/heap-analysis getFullHeapFromFile) says about one V8 heap snapshot:
// node/edge counts, nodes per type, total self size and the five objects/closures with the largest retained
// size. The wild-corpus tests compare forensics.memory.v8 against this output
// (tests/memory/wild/memlab_<name>.json), written by:
//
//   cd benchmarks && NODE_PATH=$PWD/node_modules node ../sample_data/generate/memory/memlab_summary.js \
//       ../tests/memory/wild/stefanpenner-heapsnapshot_small.heapsnapshot > ../tests/memory/wild/memlab_stefanpenner_small.json
//
// (memlab installed as benchmarks/memory_diff.py says).
const {getFullHeapFromFile} = require('@memlab/heap-analysis');

(async () => {
  const heap = await getFullHeapFromFile(process.argv[2]);
  const types = {};
  let nodes = 0, edges = 0, self = 0;
  const top = [];
  heap.nodes.forEach(node => {
    nodes++;
    types[node.type] = (types[node.type] || 0) + 1;
    self += node.self_size;
    if (node.type === 'object' || node.type === 'closure') top.push([node.retainedSize, node.id, node.name]);
  });
  heap.edges.forEach(() => { edges++; });
  top.sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  const out = {nodes, edges, self_size: self, types,
               top_retained: top.slice(0, 5).map(([retained, id, name]) => ({id, name, retained}))};
  process.stdout.write(JSON.stringify(out, null, 1) + '\n');
})();
