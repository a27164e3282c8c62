/**
 * `connect claude-code|codex|pi --proxy` in-process: what each config gets
 * (the proxy's route, a pinned profile's route, the port), that a report
 * never shows the local key, that a dry run writes nothing (no key either),
 * that flags which do not fit are exit 64 with nothing written, and that
 * `disconnect` restores each file byte for byte.
 */

import assert from "node:assert/strict";
import { type InProcessState, inProcessState } from "../fake_context.ts";

const KEY = `sk-ant-api03-${"k".repeat(40)}`;

function withStore(state: InProcessState): void {
  state.writeStore({
    version: 1,
    profiles: {
      "anthropic:work": { type: "api_key", provider: "anthropic", key: KEY },
      "openai-codex:me": {
        type: "oauth",
        provider: "openai-codex",
        access: `eyJ${"a".repeat(40)}`,
        refresh: `rt_${"r".repeat(40)}`,
        expires: Date.UTC(2027, 0, 1),
        accountId: "acct-1",
      },
    },
  });
}

function localKey(state: InProcessState): string {
  return Deno.readTextFileSync(`${state.dir}/clawauth-proxy.key`).trim();
}

Deno.test("connect claude-code --proxy sets the route and the local key in settings.json's env, takes out an apiKeyHelper, never prints the key; disconnect restores the file", async () => {
  await using state = await inProcessState();
  withStore(state);
  const dir = `${state.home}/.claude`;
  Deno.mkdirSync(dir);
  const settings = `{\n  "apiKeyHelper": "my-helper",\n  "model": "opus"\n}\n`;
  Deno.writeTextFileSync(`${dir}/settings.json`, settings);
  const env = { CLAUDE_CONFIG_DIR: dir, ANTHROPIC_API_KEY: "sk-ant-api03-from-my-shell" };

  const dry = await state.run(["connect", "claude-code", "--proxy", "--dry-run"], { env });
  assert.equal(dry.code, 0, dry.stderr);
  assert.equal(Deno.readTextFileSync(`${dir}/settings.json`), settings);
  assert.throws(() => Deno.statSync(`${state.dir}/clawauth-proxy.key`), Deno.errors.NotFound);

  const args = [
    "connect",
    "claude-code",
    "--proxy",
    "--port",
    "9911",
    "--profile",
    "anthropic:work",
  ];
  const result = await state.run(args, { env });
  assert.equal(result.code, 0, result.stderr);
  const key = localKey(state);
  const written = JSON.parse(Deno.readTextFileSync(`${dir}/settings.json`));
  assert.deepEqual(written, {
    model: "opus",
    env: {
      ANTHROPIC_BASE_URL: "http://127.0.0.1:9911/anthropic:work",
      ANTHROPIC_AUTH_TOKEN: key,
    },
  });
  assert.ok(!result.stdout.includes(key) && !result.stderr.includes(key), "the key is not shown");
  assert.match(result.stdout, /apiKeyHelper is left out while connected/);
  assert.match(result.stderr, /ANTHROPIC_API_KEY is set in this environment/);
  const again = await state.run(args, { env });
  assert.match(again.stdout, /was already connected/);

  const undone = await state.run(["disconnect", "claude-code"], { env });
  assert.equal(undone.code, 0, undone.stderr);
  assert.equal(Deno.readTextFileSync(`${dir}/settings.json`), settings);
});

Deno.test("connect codex --proxy: a ChatGPT login alone goes to /codex with clawauth proxy key as the [auth] command; --profile pins it; disconnect restores", async () => {
  await using state = await inProcessState();
  withStore(state);
  const dir = `${state.home}/.codex`;
  Deno.mkdirSync(dir);
  const text = `model = "gpt-5"\n`;
  Deno.writeTextFileSync(`${dir}/config.toml`, text);
  const env = { CODEX_HOME: dir };

  const result = await state.run(["connect", "codex", "--proxy"], { env });
  assert.equal(result.code, 0, result.stderr);
  const config = Deno.readTextFileSync(`${dir}/config.toml`);
  assert.match(config, /^model_provider = "clawauth"/);
  assert.match(config, /base_url = "http:\/\/127\.0\.0\.1:8787\/codex"\n/);
  assert.match(config, /wire_api = "responses"/);
  assert.match(config, /"proxy", "key", "--state-dir", "[^"]+"/);
  assert.doesNotMatch(config, /env_key|http_headers|acct-1/);
  assert.ok(!config.includes(localKey(state)), "the key itself stays out of config.toml");

  const pinned = await state.run(["connect", "codex", "--proxy", "--profile", "openai-codex:me"], {
    env,
  });
  assert.equal(pinned.code, 0, pinned.stderr);
  assert.match(Deno.readTextFileSync(`${dir}/config.toml`), /\/codex:me"\n/);

  const withBase = await state.run(["connect", "codex", "--proxy", "--base-url", "http://x"], {
    env,
  });
  assert.equal(withBase.code, 64);

  assert.equal((await state.run(["disconnect", "codex"], { env })).code, 0);
  assert.equal(Deno.readTextFileSync(`${dir}/config.toml`), text);
});

Deno.test("connect pi --proxy: baseUrl and the local key for the provider; openai gets /openai/v1; openai-codex, --port without --proxy and --proxy for git are exit 64 with nothing written", async () => {
  await using state = await inProcessState();
  withStore(state);
  const dir = `${state.home}/.pi/agent`;
  Deno.mkdirSync(dir, { recursive: true });
  const models = `{\n  // mine\n  "providers": {}\n}\n`;
  Deno.writeTextFileSync(`${dir}/models.json`, models);
  const env = { PI_CODING_AGENT_DIR: dir };

  for (
    const args of [
      ["connect", "pi", "--proxy", "--provider", "openai-codex"],
      ["connect", "pi", "--port", "9000"],
      ["connect", "git", "--proxy"],
    ]
  ) {
    const refused = await state.run(args, { env });
    assert.equal(refused.code, 64, args.join(" "));
    assert.equal(Deno.readTextFileSync(`${dir}/models.json`), models);
  }

  assert.equal((await state.run(["connect", "pi", "--proxy"], { env })).code, 0);
  const openai = await state.run(["connect", "pi", "--proxy", "--provider", "openai"], { env });
  assert.equal(openai.code, 0, openai.stderr);
  const key = localKey(state);
  const written = Deno.readTextFileSync(`${dir}/models.json`);
  assert.match(written, /^ {2}\/\/ mine$/m);
  const providers = JSON.parse(written.replace(/^\s*\/\/.*$/gm, "")).providers;
  assert.deepEqual(providers, {
    anthropic: { baseUrl: "http://127.0.0.1:8787/anthropic", apiKey: key },
    openai: { baseUrl: "http://127.0.0.1:8787/openai/v1", apiKey: key },
  });

  assert.equal((await state.run(["disconnect", "pi"], { env })).code, 0);
  assert.equal(Deno.readTextFileSync(`${dir}/models.json`), models);
});
