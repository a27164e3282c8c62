/**
 * `login --provider openai-codex --device`: OpenAI's device login (as Codex
 * CLI does it) against the sandbox's emulation of its endpoints, with every
 * endpoint taken from clawauth.json overrides.
 */

import assert from "node:assert/strict";
import { tempState } from "../helpers.ts";
import { CODE_LINE, idpFor, profilesOf, startCli } from "../oauth_helpers.ts";

const DEVICE_LOGIN = ["login", "--provider", "openai-codex", "--device", "--no-browser"];

Deno.test("openai-codex --device: pending (403, 404) and slow down (429) are waited out, then the code is exchanged", async () => {
  await using state = await tempState();
  await using idp = await idpFor(state);
  idp.scriptCodexPolls(["403", "404", "429"]);
  const cli = startCli(state, [...DEVICE_LOGIN, "--json"]);
  const [, page, userCode] = CODE_LINE.exec(
    await cli.waitForStderr(/[\s\S]*Waiting for approval/),
  )!;
  assert.equal(page, idp.deviceVerificationUrl);
  await idp.approveCodexDevice(userCode);
  const result = await cli.result();
  assert.equal(result.code, 0, result.stderr);
  const printed = JSON.parse(result.stdout);
  assert.equal(printed.profile, "openai-codex:dev@example.test");
  assert.equal(printed.accountId, "acct-sandbox-1");
  const stored = profilesOf(state)["openai-codex:dev@example.test"];
  assert.ok(stored.access && stored.refresh && Number(stored.expires) > Date.now());
  // The emulated server handed out a PKCE code; the exchange at the token endpoint used it once.
  assert.equal(idp.counts().authorization_code, 1);
  const polls = idp.codexPolls();
  assert.deepEqual(polls.map((p) => p.status), [403, 404, 429, 200]);
  // The server's interval ("1", a string) is honoured, and Retry-After: 2 after the 429.
  for (let i = 1; i < polls.length; i++) {
    const gap = polls[i].at - polls[i - 1].at;
    assert.ok(gap >= (i === 3 ? 1900 : 900), `poll ${i} came after ${gap} ms`);
  }
});

Deno.test("openai-codex --device: a denied, expired or unanswered code ends with exit 1, Ctrl-C with exit 130, nothing stored", async () => {
  await using state = await tempState();
  await using idp = await idpFor(state);
  for (
    const [end, expected] of [
      [(code: string) => idp.denyCodexDevice(code), /denied/],
      [(code: string) => idp.expireCodexDevice(code), /expired/],
    ] as const
  ) {
    const cli = startCli(state, DEVICE_LOGIN);
    const stderr = await cli.waitForStderr(/[\s\S]*Waiting for approval/);
    end(CODE_LINE.exec(stderr)![2]);
    const result = await cli.result();
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, expected);
    assert.match(result.stderr, /Start the login again/);
  }

  // Nobody approves: the wait ends at the limit (15 min, or sooner with --timeout).
  const unanswered = await state.run([...DEVICE_LOGIN, "--timeout", "2"]);
  assert.equal(unanswered.code, 1, unanswered.stderr);
  assert.match(unanswered.stderr, /not approved within 2 s/);

  const cli = startCli(state, DEVICE_LOGIN);
  await cli.waitForStderr(/Waiting for approval/);
  cli.kill("SIGINT");
  const result = await cli.result();
  assert.equal(result.code, 130, result.stderr);
  assert.match(result.stderr, /cancelled; nothing was stored/);
  assert.doesNotMatch(result.stderr, /\bat .*\.ts:\d+/, "no stack trace");
  assert.throws(() => state.storeText(), Deno.errors.NotFound, "nothing was stored");
});

Deno.test("openai-codex --device: a server without the device login (404 on the user code) is exit 69 with the way out", async () => {
  await using state = await tempState();
  await using idp = await idpFor(state);
  const config = JSON.parse(Deno.readTextFileSync(`${state.dir}/clawauth.json`));
  config.providers["openai-codex"].deviceUserCodeUrl = `${idp.issuer}/api/accounts/nothing-here`;
  Deno.writeTextFileSync(`${state.dir}/clawauth.json`, JSON.stringify(config));
  const result = await state.run(DEVICE_LOGIN);
  assert.equal(result.code, 69, result.stderr);
  assert.match(result.stderr, /HTTP 404/);
  assert.match(result.stderr, /log in without --device/);
  assert.equal(idp.codexPolls().length, 0);
});
