/**
 * `clawauth connect` with the real clients, offline (docs/helpers.md): Claude Code,
 * Codex CLI and pi are connected, then run once non-interactively against a
 * fake model API on 127.0.0.1 that records each request's credential
 * (tests/fake_model_api.ts). The fake API must receive exactly the secret
 * clawauth holds; after a refresh (sandbox IdP) the client gets the new
 * token; a 401 makes Claude Code and Codex run the helper again, and the
 * token they then get is the one clawauth refreshed. `disconnect` leaves the
 * config as it was. The OAuth logins come from the sandbox IdP as
 * `openai-codex` profiles (a JWT access token that expires and refreshes);
 * to Claude Code the helper's output is just a string.
 *
 * The clients are installed once by tests/clients_env.ts (pinned; ignored,
 * with the reason, only when npm cannot install them). About 5 s per test.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type TempState, tempState } from "../helpers.ts";
import { idpFor, loginVia, profilesOf, setExpires } from "../oauth_helpers.ts";
import { type RecordedRequest, startFakeModelApi } from "../fake_model_api.ts";
import {
  clawauth,
  type ClientResult,
  clientsSkipReason,
  clientVersions,
  codexHome,
  runClaude,
  runCodex,
  runPi,
} from "../clients_env.ts";

const ignore = clientsSkipReason !== undefined;
const versions = clientVersions();

/** The access token the store holds for `id` now. */
function access(state: TempState, id: string): string {
  return String(profilesOf(state)[id].access);
}

/** Both credentials a request carried (Claude Code sends the helper's output twice). */
function credentialsOf(request: RecordedRequest): string[] {
  const bearer = /^Bearer (.+)$/.exec(request.headers.authorization ?? "")?.[1];
  return [request.headers["x-api-key"], bearer].filter((v): v is string => v !== undefined);
}

/** A fake API whose authorize hook a test can swap between runs. */
async function fakeApi() {
  let hook: (credential: string | undefined) => number | Promise<number> = () => 200;
  const api = await startFakeModelApi({ authorize: (credential) => hook(credential) });
  return {
    api,
    /** Answers the next request carrying `token` with 401 after calling `before` (once). */
    rejectOnce(token: string, before: () => void) {
      let done = false;
      hook = (credential) => {
        if (done || credential !== token) return 200;
        done = true;
        before();
        return 401;
      };
    },
    since(n: number): RecordedRequest[] {
      return api.modelRequests().slice(n);
    },
    [Symbol.asyncDispose]: () => api.close(),
  };
}

/**
 * A temp state dir with login `id` from the sandbox IdP, and a {@linkcode fakeApi}:
 * `await using` disposes all three, last made first.
 */
async function loggedInWithApi() {
  const made: AsyncDisposable[] = [];
  const dispose = async () => {
    for (const item of made.reverse()) await item[Symbol.asyncDispose]();
  };
  try {
    const state = await tempState();
    made.push(state);
    const idp = await idpFor(state);
    made.push(idp);
    const fake = await fakeApi();
    made.push(fake);
    const id = await loginVia(idp, state);
    return { state, idp, id, ...fake, [Symbol.asyncDispose]: dispose };
  } catch (error) {
    await dispose();
    throw error;
  }
}

/**
 * Runs a ChatGPT client twice around an expiry of login `id`: each run must
 * succeed, every model request of the first carry the access token the store
 * holds and the login's ChatGPT account id (and pass `check`), and every one
 * of the second the refreshed token. Returns the first run and both tokens.
 */
async function runAcrossExpiry(
  state: TempState,
  id: string,
  client: { run: () => Promise<ClientResult>; since: (n: number) => RecordedRequest[] },
  check: (request: RecordedRequest) => void = () => {},
): Promise<{ first: ClientResult; tokenA: string; tokenB: string }> {
  const first = await client.run();
  assert.equal(first.code, 0, first.stderr);
  const tokenA = access(state, id);
  const calls = client.since(0);
  assert.ok(calls.length >= 1);
  for (const request of calls) {
    check(request);
    assert.equal(request.headers.authorization, `Bearer ${tokenA}`);
    assert.equal(request.headers["chatgpt-account-id"], profilesOf(state)[id].accountId);
  }
  setExpires(state, id, Date.now() - 1000);
  const seen = calls.length;
  const second = await client.run();
  assert.equal(second.code, 0, second.stderr);
  const tokenB = access(state, id);
  assert.notEqual(tokenB, tokenA);
  for (const request of client.since(seen)) {
    assert.equal(request.headers.authorization, `Bearer ${tokenB}`);
  }
  return { first, tokenA, tokenB };
}

Deno.test({
  name: `connect claude-code (Claude Code ${
    versions["claude-code"]
  }): the helper's token reaches the API, a refresh reaches it next run, a 401 makes Claude Code come back for the refreshed token`,
  ignore,
  async fn() {
    await using login = await loggedInWithApi();
    const { state, idp, id, api, rejectOnce, since } = login;
    const configDir = `${state.home}/.claude`;
    Deno.mkdirSync(configDir);
    // In Claude Code's own layout (JSON.stringify, 2 spaces), which it keeps when it saves.
    const settings = `{\n  "permissions": {\n    "allow": [\n      "Bash(ls:*)"\n    ]\n  }\n}\n`;
    Deno.writeTextFileSync(`${configDir}/settings.json`, settings);
    await clawauth(state, ["connect", "claude-code", "--profile", id], {
      CLAUDE_CONFIG_DIR: configDir,
    });
    const run = () => runClaude(configDir, { baseUrl: api.url, home: state.home });

    const first = await run();
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /pong/);
    const tokenA = access(state, id);
    assert.ok(since(0).length >= 1);
    for (const request of since(0)) assert.deepEqual(credentialsOf(request), [tokenA, tokenA]);

    // The access token expired: the next run's helper refreshes it (once).
    setExpires(state, id, Date.now() - 1000);
    let seen = api.modelRequests().length;
    const second = await run();
    assert.equal(second.code, 0, second.stderr);
    const tokenB = access(state, id);
    assert.notEqual(tokenB, tokenA);
    assert.equal(idp.counts().refresh_token, 1);
    for (const request of since(seen)) assert.deepEqual(credentialsOf(request), [tokenB, tokenB]);

    // The provider refuses B (it expired early): Claude Code runs the helper again, clawauth refreshes.
    rejectOnce(tokenB, () => setExpires(state, id, Date.now() - 1000));
    seen = api.modelRequests().length;
    const third = await run();
    assert.equal(third.code, 0, third.stderr);
    assert.match(third.stdout, /pong/);
    const tokenC = access(state, id);
    assert.notEqual(tokenC, tokenB);
    assert.equal(idp.counts().refresh_token, 2);
    const requests = since(seen);
    assert.deepEqual(requests.map((r) => r.status), [401, 200]);
    assert.deepEqual(credentialsOf(requests[0]), [tokenB, tokenB]);
    assert.deepEqual(credentialsOf(requests[1]), [tokenC, tokenC]);

    await clawauth(state, ["disconnect", "claude-code"], { CLAUDE_CONFIG_DIR: configDir });
    assert.equal(Deno.readTextFileSync(`${configDir}/settings.json`), settings);
  },
});

Deno.test({
  name:
    `connect codex --provider openai (Codex ${versions.codex}): Codex sends the API key clawauth holds; disconnect restores config.toml`,
  ignore,
  async fn() {
    await using state = await tempState();
    await using fake = await fakeApi();
    const { api, since } = fake;
    const key = "sk-proj-connect-test-0123456789abcdefghijklmnop";
    const pasted = await state.run(["paste-token", "--provider", "openai", "--type", "api-key"], {
      stdin: `${key}\n`,
    });
    assert.equal(pasted.code, 0, pasted.stderr);
    const { dir, text } = codexHome(state);
    await clawauth(state, ["connect", "codex", "--base-url", `${api.url}/v1`], {
      CODEX_HOME: dir,
    });
    const result = await runCodex(dir, { home: state.home });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /pong/);
    assert.ok(since(0).length >= 1);
    for (const request of api.requests) {
      assert.equal(request.headers.authorization, `Bearer ${key}`, request.path);
    }
    await clawauth(state, ["disconnect", "codex"], { CODEX_HOME: dir });
    assert.equal(Deno.readTextFileSync(`${dir}/config.toml`), text);
  },
});

Deno.test({
  name:
    `connect codex --provider openai-codex (Codex ${versions.codex}): the ChatGPT token and its chatgpt-account-id reach the API; a refresh and a 401 bring the new token`,
  ignore,
  async fn() {
    await using login = await loggedInWithApi();
    const { state, idp, id, api, rejectOnce, since } = login;
    const { dir } = codexHome(state);
    await clawauth(state, [
      "connect",
      "codex",
      "--provider",
      "openai-codex",
      "--base-url",
      `${api.url}/backend-api/codex`,
    ], { CODEX_HOME: dir });
    const config = Deno.readTextFileSync(`${dir}/config.toml`);
    assert.match(config, new RegExp(`"--profile", "${id.replace(/[.+]/g, "\\$&")}"`));
    const run = () => runCodex(dir, { home: state.home });

    const { tokenB } = await runAcrossExpiry(state, id, { run, since }, (request) => {
      assert.equal(request.path, "/backend-api/codex/responses");
    });

    rejectOnce(tokenB, () => setExpires(state, id, Date.now() - 1000));
    const seen = api.modelRequests().length;
    const third = await run();
    assert.equal(third.code, 0, third.stderr);
    const tokenC = access(state, id);
    assert.notEqual(tokenC, tokenB);
    const requests = since(seen);
    assert.deepEqual(requests.map((r) => r.status), [401, 200]);
    assert.equal(requests[1].headers.authorization, `Bearer ${tokenC}`);
    assert.equal(idp.counts().refresh_token, 2);
  },
});

Deno.test({
  name:
    `connect pi (pi ${versions.pi}): the "!command" key reaches the API, each run gets the refreshed token, a fresh models.json is accepted`,
  ignore,
  async fn() {
    await using login = await loggedInWithApi();
    const { state, id, api, since } = login;
    const agentDir = `${state.home}/.pi/agent`;
    Deno.mkdirSync(agentDir, { recursive: true });
    // The user's own entry (a proxy, here the fake API); connect adds only the key.
    const models =
      `{\n  // ChatGPT through my proxy\n  "providers": {\n    "openai-codex": {\n      "baseUrl": "${api.url}/backend-api"\n    }\n  }\n}\n`;
    Deno.writeTextFileSync(`${agentDir}/models.json`, models);
    await clawauth(state, ["connect", "pi", "--profile", id], { PI_CODING_AGENT_DIR: agentDir });
    const run = () =>
      runPi(agentDir, {
        args: ["--model", "openai-codex/gpt-5.1", "-p", "hi"],
        home: state.home,
      });

    const { first } = await runAcrossExpiry(state, id, { run, since });
    assert.match(first.stdout, /pong/);

    await clawauth(state, ["disconnect", "pi"], { PI_CODING_AGENT_DIR: agentDir });
    assert.equal(Deno.readTextFileSync(`${agentDir}/models.json`), models);

    // No models.json at all: the entry connect creates must be one pi accepts.
    const fresh = `${state.home}/pi-fresh`;
    await clawauth(state, ["connect", "pi", "--provider", "anthropic"], {
      PI_CODING_AGENT_DIR: fresh,
    });
    const listed = await runPi(fresh, {
      args: ["--list-models", "anthropic"],
      home: state.home,
    });
    assert.equal(listed.code, 0, listed.stderr);
    // pi prints the list on stderr.
    const list = listed.stdout + listed.stderr;
    assert.doesNotMatch(list, /models\.json|No models available/);
    assert.match(list, /^anthropic\s+claude-/m);
    await clawauth(state, ["disconnect", "pi"], { PI_CODING_AGENT_DIR: fresh });
    assert.throws(() => Deno.statSync(`${fresh}/models.json`), Deno.errors.NotFound);
  },
});
