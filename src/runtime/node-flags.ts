// The Node flags every long-running metalflow process is started with. Node reads them only on
// its command line (or NODE_OPTIONS), before the heap exists, so each way of starting metalflow
// names them: package.json's start/region/rack scripts, bin/metalflow.js's shebang, the image's
// NODE_OPTIONS (Dockerfile) and the test stacks (test/helpers). A unit test
// (test/unit/runtime/node-flags.test.ts) checks that all of them carry exactly these.
//
// --max-semi-space-size=4: V8's young generation grows to two 16 MiB semi-spaces, kept
// committed once grown. At 4 MiB the API's RSS during 10,000-machine listings peaks at 237 MiB
// instead of 260 (idle 127 instead of 146) for the same CPU per listing; commission-1000 ran at the
// same rate with it (bench/results/list-profile.md, session 11).
export const NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4'];
