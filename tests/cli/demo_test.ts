/**
 * `deno task demo`, the README's first command, from start to end: it must
 * keep running against the current CLI, and show what it promises.
 */

import assert from "node:assert/strict";
import { ROOT } from "../helpers.ts";

Deno.test("deno task demo runs to the end: one refresh for eight processes, one failover through the proxy, a clean doctor, no secret printed whole", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", `${ROOT}/scripts/demo.ts`],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  assert.match(
    stdout,
    /exit codes: 0 0 0 0 0 0 0 0; distinct tokens: 1; refresh requests seen by the provider: 1/,
  );
  assert.match(stdout, /^0 errors, 0 warnings\.$/m);
  assert.match(stdout, /^proxy log: .*"profile":"anthropic:spare","status":200.*"retries":1/m);
  assert.match(stdout, /^Done\. /m);
  assert.doesNotMatch(stdout, /sk-ant-oat01-\w{20,}/, "setup-tokens are shown masked");
});
