/**
 * The real clients through `clawauth proxy`, offline: Claude Code, Codex CLI
 * and pi are connected with `connect <tool> --proxy --port <port>` to a proxy
 * whose upstream is the fake model API on 127.0.0.1
 * (`providers.<id>.apiBaseUrl` in clawauth.json), and each completes one
 * prompt. The upstream must receive the profile's real secret, and the
 * tool's files (its whole HOME) must hold only the local key, never the
 * secret; `disconnect` then restores the config byte for byte.
 *
 * The clients are installed once by tests/clients_env.ts (pinned; ignored,
 * with the reason, only when npm cannot install them).
 *
 * @module
 */

import assert from "node:assert/strict";
import { fakeSecret, type TempState, tempState } from "../helpers.ts";
import { type FakeModelApi, startFakeModelApi } from "../fake_model_api.ts";
import { routeTo, type RunningProxy, startProxy } from "../proxy_support.ts";
import {
  clawauth,
  clientsSkipReason,
  clientVersions,
  codexHome,
  runClaude,
  runCodex,
  runPi,
} from "../clients_env.ts";

const ignore = clientsSkipReason !== undefined;
const versions = clientVersions();
const FAR = Date.now() + 30 * 86_400_000;

/** A state dir holding `profiles`, the fake API as every built-in provider's upstream, and the proxy running on it. */
async function proxied(profiles: Record<string, Record<string, unknown>>) {
  const made: AsyncDisposable[] = [];
  const dispose = async () => {
    for (const item of made.reverse()) await item[Symbol.asyncDispose]();
  };
  try {
    const state = await tempState();
    made.push(state);
    const api = await startFakeModelApi();
    made.push(api);
    state.writeStore({ version: 1, profiles });
    routeTo(state, api);
    const proxy = await startProxy(state);
    made.push(proxy);
    return { state, api, proxy, port: new URL(proxy.url).port, [Symbol.asyncDispose]: dispose };
  } catch (error) {
    await dispose();
    throw error;
  }
}

/** A store's profiles: one Anthropic API key, `anthropic:work`. */
function anthropicKey(key: string): Record<string, Record<string, unknown>> {
  return { "anthropic:work": { type: "api_key", provider: "anthropic", key } };
}

/** Every file under `dir` whose bytes contain `text`. */
function filesHolding(dir: string, text: string): string[] {
  const found: string[] = [];
  const decoder = new TextDecoder();
  for (const entry of Deno.readDirSync(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) found.push(...filesHolding(path, text));
    else if (entry.isFile && decoder.decode(Deno.readFileSync(path)).includes(text)) {
      found.push(path);
    }
  }
  return found;
}

/**
 * The upstream got `credential` (as `header`) on every request and at least
 * one model request; no request carried the local key; the proxy logged the
 * profile; and nothing under the client's HOME holds `secret`.
 */
function assertOnlyTheProxyHeldTheSecret(
  run: { state: TempState; api: FakeModelApi; proxy: RunningProxy },
  expected: { header: string; credential: string; secret: string; profile: string },
): void {
  const { state, api, proxy } = run;
  assert.ok(api.modelRequests().length >= 1, "a model request reached the upstream");
  for (const request of api.requests) {
    assert.equal(request.headers[expected.header], expected.credential, request.path);
    assert.ok(!JSON.stringify(request).includes(proxy.key), `${request.path}: no local key`);
  }
  assert.ok(
    proxy.lines().some((line) => line.profile === expected.profile && line.status === 200),
    JSON.stringify(proxy.lines()),
  );
  assert.deepEqual(filesHolding(state.home, expected.secret), [], "the secret is in no tool file");
}

Deno.test({
  name: `connect claude-code --proxy (Claude Code ${
    versions["claude-code"]
  }): the prompt reaches the upstream with the profile's API key; settings.json holds only the proxy URL and the local key; disconnect restores it`,
  ignore,
  async fn() {
    const secret = fakeSecret("sk-ant-api03-");
    await using run = await proxied(anthropicKey(secret));
    const { state, proxy, port } = run;
    const configDir = `${state.home}/.claude`;
    Deno.mkdirSync(configDir);
    const settings = `{\n  "permissions": {\n    "allow": [\n      "Bash(ls:*)"\n    ]\n  }\n}\n`;
    Deno.writeTextFileSync(`${configDir}/settings.json`, settings);
    const env = { CLAUDE_CONFIG_DIR: configDir };
    await clawauth(state, ["connect", "claude-code", "--proxy", "--port", port], env);
    const written = JSON.parse(Deno.readTextFileSync(`${configDir}/settings.json`));
    assert.deepEqual(written.env, {
      ANTHROPIC_BASE_URL: `${proxy.url}/anthropic`,
      ANTHROPIC_AUTH_TOKEN: proxy.key,
    });

    // No ANTHROPIC_BASE_URL in the environment: Claude Code goes by settings.json alone.
    const result = await runClaude(configDir, { home: state.home });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /pong/);
    assertOnlyTheProxyHeldTheSecret(run, {
      header: "x-api-key",
      credential: secret,
      secret,
      profile: "anthropic:work",
    });
    assert.ok(run.api.modelRequests().every((r) => r.headers.authorization === undefined));

    await clawauth(state, ["disconnect", "claude-code"], env);
    assert.equal(Deno.readTextFileSync(`${configDir}/settings.json`), settings);
  },
});

/** Connects Codex with --proxy, runs one prompt, and returns the config.toml connect wrote. */
async function codexThroughProxy(run: { state: TempState; port: string }): Promise<string> {
  const { state, port } = run;
  const { dir, text } = codexHome(state);
  await clawauth(state, ["connect", "codex", "--proxy", "--port", port], { CODEX_HOME: dir });
  const config = Deno.readTextFileSync(`${dir}/config.toml`);
  const result = await runCodex(dir, { home: state.home });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /pong/);
  await clawauth(state, ["disconnect", "codex"], { CODEX_HOME: dir });
  assert.equal(Deno.readTextFileSync(`${dir}/config.toml`), text);
  return config;
}

Deno.test({
  name:
    `connect codex --proxy (Codex ${versions.codex}) with an OpenAI API key: /openai/v1, the key reaches the upstream, config.toml holds only "clawauth proxy key"; disconnect restores it`,
  ignore,
  async fn() {
    const secret = fakeSecret("sk-proj-");
    await using run = await proxied({
      "openai:ci": { type: "api_key", provider: "openai", key: secret },
    });
    const config = await codexThroughProxy(run);
    assert.match(config, new RegExp(`base_url = "${run.proxy.url}/openai/v1"`));
    assert.match(config, /"proxy", "key", "--state-dir"/);
    assertOnlyTheProxyHeldTheSecret(run, {
      header: "authorization",
      credential: `Bearer ${secret}`,
      secret,
      profile: "openai:ci",
    });
    assert.ok(run.api.modelRequests().every((r) => r.path === "/v1/responses"));
  },
});

Deno.test({
  name:
    `connect codex --proxy (Codex ${versions.codex}) with a ChatGPT login: /codex, the access token and chatgpt-account-id reach the upstream`,
  ignore,
  async fn() {
    const access = fakeSecret("eyJ-access-");
    const refresh = fakeSecret("rt-");
    await using run = await proxied({
      "openai-codex:me": {
        type: "oauth",
        provider: "openai-codex",
        access,
        refresh,
        expires: FAR,
        accountId: "acct-proxy-1",
      },
    });
    const config = await codexThroughProxy(run);
    assert.match(config, new RegExp(`base_url = "${run.proxy.url}/codex"`));
    assertOnlyTheProxyHeldTheSecret(run, {
      header: "authorization",
      credential: `Bearer ${access}`,
      secret: access,
      profile: "openai-codex:me",
    });
    assert.deepEqual(filesHolding(run.state.home, refresh), []);
    for (const request of run.api.modelRequests()) {
      assert.equal(request.path, "/responses");
      assert.equal(request.headers["chatgpt-account-id"], "acct-proxy-1");
    }
  },
});

Deno.test({
  name:
    `connect pi --proxy (pi ${versions.pi}): the prompt reaches the upstream with the profile's API key; models.json holds only the proxy URL and the local key; disconnect restores it`,
  ignore,
  async fn() {
    const secret = fakeSecret("sk-ant-api03-");
    await using run = await proxied(anthropicKey(secret));
    const { state, proxy, port } = run;
    const agentDir = `${state.home}/.pi/agent`;
    Deno.mkdirSync(agentDir, { recursive: true });
    const models = `{\n  // my models\n  "providers": {}\n}\n`;
    Deno.writeTextFileSync(`${agentDir}/models.json`, models);
    const env = { PI_CODING_AGENT_DIR: agentDir };
    await clawauth(state, ["connect", "pi", "--proxy", "--port", port], env);
    const written = Deno.readTextFileSync(`${agentDir}/models.json`);
    assert.match(written, new RegExp(`"baseUrl": "${proxy.url}/anthropic"`));
    assert.match(written, new RegExp(`"apiKey": "${proxy.key}"`));

    const result = await runPi(agentDir, {
      args: ["--model", "anthropic/claude-haiku-4-5", "-p", "hi"],
      home: state.home,
    });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /pong/);
    assertOnlyTheProxyHeldTheSecret(run, {
      header: "x-api-key",
      credential: secret,
      secret,
      profile: "anthropic:work",
    });

    await clawauth(state, ["disconnect", "pi"], env);
    assert.equal(Deno.readTextFileSync(`${agentDir}/models.json`), models);
  },
});
