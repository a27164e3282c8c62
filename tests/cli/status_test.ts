/**
 * `status` as a separate process (docs/commands.md): the colour decision of the real
 * context, and impossible expiry values. The states, the JSON view and the
 * `--check` exit codes on a fixed clock are in tests/unit/status_test.ts.
 */

import assert from "node:assert/strict";
import { storeOf, tokenProfile } from "../builders.ts";
import { fakeSecret, tempState } from "../helpers.ts";

const HOUR = 3_600_000;

/** A setup-token of anthropic, expiring at `expires` when given. */
const token = (expires?: unknown) => tokenProfile(fakeSecret(), { expires });

Deno.test("status prints a human table with each profile and its state, plain when stdout is not a TTY", async () => {
  await using state = await tempState();
  state.writeStore(storeOf({
    "anthropic:work": token(Date.now() + 2 * HOUR),
    "anthropic:old": token(Date.now() - HOUR),
  }));
  // NO_COLOR unset: only the pipe keeps the output plain.
  const result = await state.run(["status"], {
    env: { NO_COLOR: "", TERM: "xterm-256color" },
  });
  assert.equal(result.code, 0, result.stderr);
  assert.ok(!result.stdout.includes("\x1b["), "no ANSI escapes");
  assert.match(result.stdout, /^anthropic:work\s+token\s+expiring\b/m);
  assert.match(result.stdout, /^anthropic:old\s+token\s+expired\b/m);
});

for (
  const [label, expires] of [
    ['"soon"', "soon"],
    ["-5", -5],
    ["0", 0],
    ["1e300", 1e300],
    ["8.64e15 + 1", 8.64e15 + 1],
  ] as const
) {
  Deno.test(`status --check exits 1 and shows invalid, without crashing, for expires: ${label}`, async () => {
    await using state = await tempState();
    state.writeStore(storeOf({
      "anthropic:bad": token(expires),
      "anthropic:good": token(),
    }));
    const [check, json] = await Promise.all([
      state.run(["status", "--check"]),
      state.run(["status", "--json"]),
    ]);
    assert.equal(check.code, 1, check.stderr);
    assert.equal(json.code, 0, json.stderr);
    const [bad, good] = JSON.parse(json.stdout).profiles;
    assert.equal(bad.state, "invalid");
    assert.equal(good.state, "ok");
  });
}
