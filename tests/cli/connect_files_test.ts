/**
 * `clawauth connect` / `disconnect` on the tools' config files, without the
 * clients themselves (tests/cli/connect_clients_test.ts runs those): every other
 * setting is kept byte for byte, a second connect changes nothing, writes
 * leave a backup, disconnect puts the file back as it was, a file that does
 * not parse is left untouched (exit 65 naming it), an unknown tool is exit
 * 64 with the list, and the command written works from any directory with
 * nothing but HOME in its environment.
 *
 * @module
 */

import assert from "node:assert/strict";
import { DENO_DIR } from "../../scripts/cli_runner.ts";
import { type RunResult, type TempState, tempState } from "../helpers.ts";

function connectIn(state: TempState, env: Record<string, string>) {
  return (args: string[]): Promise<RunResult> =>
    state.run(args, { env: { HOME: state.home, ...env } });
}

function write(path: string, text: string): void {
  Deno.mkdirSync(path.replace(/\/[^/]*$/, ""), { recursive: true });
  Deno.writeTextFileSync(path, text);
}

const read = (path: string) => Deno.readTextFileSync(path);

const SETTINGS = `{
  // kept: Claude Code's settings may carry comments too
  "model": "claude-sonnet-4-5",
  "env": {
    "DISABLE_TELEMETRY": "1"
  },
  "permissions": {
    "allow": ["Bash(git diff:*)"]
  }
}
`;

/** A store with one Anthropic setup-token; returns the token. */
async function withSetupToken(state: TempState): Promise<string> {
  const token = `sk-ant-oat01-${"connectfiles".repeat(4)}`;
  const pasted = await state.run(["paste-token", "--provider", "anthropic", "--profile", "work"], {
    stdin: `${token}\n`,
  });
  assert.equal(pasted.code, 0, pasted.stderr);
  return token;
}

Deno.test("connect claude-code adds only apiKeyHelper, keeps every other byte, backs up, and a second connect changes nothing", async () => {
  await using state = await tempState();
  const dir = `${state.home}/claude`;
  write(`${dir}/settings.json`, SETTINGS);
  Deno.chmodSync(`${dir}/settings.json`, 0o644);
  const run = connectIn(state, { CLAUDE_CONFIG_DIR: dir });
  const first = await run(["connect", "claude-code", "--profile", "anthropic:work"]);
  assert.equal(first.code, 0, first.stderr);
  const after = read(`${dir}/settings.json`);
  const helper = JSON.parse(after.replace(/^\s*\/\/.*$/m, "")).apiKeyHelper as string;
  assert.match(helper, / token --state-dir \/\S+ --profile anthropic:work --min-valid 10m$/);
  // The file is the old one plus exactly one property.
  assert.equal(
    after,
    SETTINGS.replace(
      '"Bash(git diff:*)"]\n  }\n}',
      `"Bash(git diff:*)"]\n  },\n  "apiKeyHelper": ${JSON.stringify(helper)}\n}`,
    ),
  );
  assert.equal(Deno.statSync(`${dir}/settings.json`).mode! & 0o777, 0o644, "the mode is kept");
  assert.equal(read(`${dir}/settings.json.clawauth-backup`), SETTINGS);
  assert.equal(Deno.statSync(`${dir}/settings.json.clawauth-backup`).mode! & 0o777, 0o600);
  assert.match(first.stdout, /apiKeyHelper/);
  assert.match(first.stdout, /CLAUDE_CODE_API_KEY_HELPER_TTL_MS/);

  const mtime = Deno.statSync(`${dir}/settings.json`).mtime;
  const second = await run(["connect", "claude-code", "--profile", "anthropic:work"]);
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout, /already connected/);
  assert.equal(read(`${dir}/settings.json`), after);
  assert.deepEqual(Deno.statSync(`${dir}/settings.json`).mtime, mtime, "not even rewritten");

  const undo = await run(["disconnect", "claude-code"]);
  assert.equal(undo.code, 0, undo.stderr);
  assert.equal(read(`${dir}/settings.json`), SETTINGS);
  assert.equal(Deno.statSync(`${dir}/settings.json`).mode! & 0o777, 0o644);
  const again = await run(["disconnect", "claude-code"]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /nothing to undo/);
  assert.equal(read(`${dir}/settings.json`), SETTINGS);
});

Deno.test("the helper connect writes works from any directory with only HOME (and Deno's cache) in its environment", async () => {
  await using state = await tempState();
  const token = await withSetupToken(state);
  const dir = `${state.home}/claude`;
  const run = connectIn(state, { CLAUDE_CONFIG_DIR: dir });
  assert.equal((await run(["connect", "claude-code"])).code, 0);
  const helper = JSON.parse(read(`${dir}/settings.json`)).apiKeyHelper as string;
  // As Claude Code runs it: /bin/sh -c, here from / and without OPENCLAW_STATE_DIR.
  const out = await new Deno.Command("/bin/sh", {
    args: ["-c", helper],
    cwd: "/",
    clearEnv: true,
    env: { HOME: state.home, DENO_DIR },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(
    new TextDecoder().decode(out.stdout),
    `${token}\n`,
    new TextDecoder().decode(out.stderr),
  );
});

Deno.test("disconnect puts back a helper of the user's own, and after the user's edits removes only clawauth's entry", async () => {
  await using state = await tempState();
  const dir = `${state.home}/claude`;
  const own = `{\n  "apiKeyHelper": "~/bin/my-key",\n  "model": "opus"\n}\n`;
  write(`${dir}/settings.json`, own);
  const run = connectIn(state, { CLAUDE_CONFIG_DIR: dir });
  assert.equal((await run(["connect", "claude-code"])).code, 0);
  assert.notEqual(JSON.parse(read(`${dir}/settings.json`)).apiKeyHelper, "~/bin/my-key");
  // The user (or Claude Code) changes another setting meanwhile.
  const connected = JSON.parse(read(`${dir}/settings.json`));
  write(`${dir}/settings.json`, JSON.stringify({ ...connected, model: "sonnet" }, null, 2) + "\n");
  const undo = await run(["disconnect", "claude-code"]);
  assert.equal(undo.code, 0, undo.stderr);
  assert.match(undo.stdout, /other changes made since are kept/);
  assert.deepEqual(JSON.parse(read(`${dir}/settings.json`)), {
    apiKeyHelper: "~/bin/my-key",
    model: "sonnet",
  });
});

Deno.test("connect claude-code creates a missing settings.json, and disconnect removes it again", async () => {
  await using state = await tempState();
  const dir = `${state.home}/new-claude`;
  const run = connectIn(state, { CLAUDE_CONFIG_DIR: dir });
  const connected = await run(["connect", "claude-code"]);
  assert.equal(connected.code, 0, connected.stderr);
  assert.deepEqual(Object.keys(JSON.parse(read(`${dir}/settings.json`))), ["apiKeyHelper"]);
  assert.match(
    connected.stderr,
    /cannot serve anthropic yet.*clawauth setup-token --provider anthropic/,
  );
  assert.equal((await run(["disconnect", "claude-code"])).code, 0);
  assert.throws(() => Deno.statSync(`${dir}/settings.json`), Deno.errors.NotFound);
});

Deno.test("connect claude-code warns that ANTHROPIC_API_KEY and ANTHROPIC_AUTH_TOKEN override the helper", async () => {
  await using state = await tempState();
  const dir = `${state.home}/claude`;
  write(`${dir}/settings.json`, `{"env": {"ANTHROPIC_AUTH_TOKEN": "x"}}`);
  const result = await connectIn(state, {
    CLAUDE_CONFIG_DIR: dir,
    ANTHROPIC_API_KEY: "sk-ant-api03-set-in-the-environment",
  })(["connect", "claude-code"]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /ANTHROPIC_API_KEY is set in this environment: Claude Code sends it/);
  assert.match(result.stderr, /ANTHROPIC_AUTH_TOKEN is set in .*settings\.json \("env"\)/);
  assert.doesNotMatch(result.stdout + result.stderr, /set-in-the-environment/, "never the value");
  // A one-line file stays one line.
  assert.match(
    read(`${dir}/settings.json`),
    /^\{"env": \{"ANTHROPIC_AUTH_TOKEN": "x"\},"apiKeyHelper": ".*"\}$/,
  );
});

Deno.test("connect --dry-run prints the entry and writes nothing", async () => {
  await using state = await tempState();
  const dir = `${state.home}/claude`;
  write(`${dir}/settings.json`, SETTINGS);
  const result = await connectIn(state, { CLAUDE_CONFIG_DIR: dir })([
    "connect",
    "claude-code",
    "--dry-run",
  ]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /Would write to .*settings\.json:\n {2}"apiKeyHelper": /);
  assert.equal(read(`${dir}/settings.json`), SETTINGS);
  assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["settings.json"]);
});

Deno.test("connect follows a symlinked settings.json: the link stays a link", async () => {
  await using state = await tempState();
  const dir = `${state.home}/claude`;
  write(`${state.home}/dotfiles/claude-settings.json`, SETTINGS);
  Deno.mkdirSync(dir);
  Deno.symlinkSync(`${state.home}/dotfiles/claude-settings.json`, `${dir}/settings.json`);
  assert.equal(
    (await connectIn(state, { CLAUDE_CONFIG_DIR: dir })(["connect", "claude-code"])).code,
    0,
  );
  assert.ok(Deno.lstatSync(`${dir}/settings.json`).isSymlink);
  assert.match(read(`${state.home}/dotfiles/claude-settings.json`), /apiKeyHelper/);
});

Deno.test("connect leaves a config that does not parse untouched and exits 65 naming it (claude-code, codex, pi)", async () => {
  await using state = await tempState();
  const cases: [string, string, Record<string, string>, string][] = [
    ["claude-code", "claude/settings.json", { CLAUDE_CONFIG_DIR: "claude" }, '{"model": "opus",,}'],
    ["codex", "codex/config.toml", { CODEX_HOME: "codex" }, 'model = "gpt-5"\n[broken\n'],
    ["pi", "pi/models.json", { PI_CODING_AGENT_DIR: "pi" }, '{"providers": {"x": }}'],
  ];
  for (const [tool, file, dirs, text] of cases) {
    const path = `${state.home}/${file}`;
    write(path, text);
    const env = Object.fromEntries(
      Object.entries(dirs).map(([k, v]) => [k, `${state.home}/${v}`]),
    );
    const result = await connectIn(state, env)(["connect", tool]);
    assert.equal(result.code, 65, `${tool}: ${result.stderr}`);
    assert.match(result.stderr, new RegExp(`${path.replace(/[.]/g, "\\.")} is not valid`), tool);
    assert.match(result.stderr, /left it untouched/);
    assert.equal(read(path), text, tool);
    assert.throws(() => Deno.statSync(`${path}.clawauth-backup`), Deno.errors.NotFound);
  }
});

Deno.test("connect: an unknown tool or none is exit 64 with the list of tools; a flag of another tool is refused", async () => {
  await using state = await tempState();
  const run = connectIn(state, {});
  for (const args of [["connect", "vim"], ["connect"], ["disconnect", "emacs"]]) {
    const result = await run(args);
    assert.equal(result.code, 64, args.join(" "));
    assert.match(result.stderr, /claude-code, codex, pi, git, openclaw/);
  }
  const wrong = await run(["connect", "claude-code", "--host", "github.com"]);
  assert.equal(wrong.code, 64);
  assert.match(wrong.stderr, /--host does not apply to claude-code/);
});

const CODEX = `# my Codex settings
model = "gpt-5"
model_provider = "azure" # my proxy

[model_providers.azure]
name = "Azure"
base_url = "https://example.openai.azure.com/openai"
env_key = "AZURE_OPENAI_API_KEY"

[profiles.fast]
model_provider = "azure"
`;

Deno.test("connect codex appends one marked block and switches model_provider (the old line kept as a comment); disconnect restores the file", async () => {
  await using state = await tempState();
  const dir = `${state.home}/codex`;
  write(`${dir}/config.toml`, CODEX);
  const run = connectIn(state, { CODEX_HOME: dir });
  const result = await run(["connect", "codex"]);
  assert.equal(result.code, 0, result.stderr);
  const text = read(`${dir}/config.toml`);
  assert.ok(
    text.startsWith('model_provider = "clawauth" # clawauth connect\n# my Codex settings\n'),
  );
  assert.match(text, /^# clawauth connect replaced: model_provider = "azure" # my proxy$/m);
  assert.ok(
    text.includes(CODEX.split("\n").slice(3).join("\n")),
    "the user's tables are untouched",
  );
  assert.match(
    text,
    /\[model_providers\.clawauth\.auth\]\ncommand = "\/[^"]+"\nargs = \[ .*"token", "--state-dir", "\/[^"]+", "--provider", "openai", "--min-valid", "10m" \]\ntimeout_ms = 60000\nrefresh_interval_ms = 300000\n# <<< clawauth connect\n$/,
  );
  assert.match(
    result.stdout,
    /Codex used model_provider "azure" \(key from \$AZURE_OPENAI_API_KEY\)/,
  );
  assert.match(result.stderr, /codex --profile fast still uses model_provider "azure"/);
  assert.equal((await run(["connect", "codex"])).stdout.includes("already connected"), true);
  assert.equal(read(`${dir}/config.toml`), text);

  const undo = await run(["disconnect", "codex"]);
  assert.equal(undo.code, 0, undo.stderr);
  assert.equal(read(`${dir}/config.toml`), CODEX);
});

Deno.test("disconnect codex after the user edited config.toml removes only clawauth's lines", async () => {
  await using state = await tempState();
  const dir = `${state.home}/codex`;
  write(`${dir}/config.toml`, CODEX);
  const run = connectIn(state, { CODEX_HOME: dir });
  assert.equal((await run(["connect", "codex"])).code, 0);
  Deno.writeTextFileSync(`${dir}/config.toml`, read(`${dir}/config.toml`).replace("gpt-5", "o3"));
  assert.equal((await run(["disconnect", "codex"])).code, 0);
  assert.equal(read(`${dir}/config.toml`), CODEX.replace("gpt-5", "o3"));
});

Deno.test("connect refuses a tool dir that is not a directory: 64 naming the variable, 65 for a file at the default place; nothing is written", async () => {
  await using state = await tempState();
  const cases: [string, string, string][] = [
    ["claude-code", "CLAUDE_CONFIG_DIR", ".claude"],
    ["codex", "CODEX_HOME", ".codex"],
    ["pi", "PI_CODING_AGENT_DIR", ".pi"],
  ];
  for (const [tool, variable, dotdir] of cases) {
    const named = await connectIn(state, { [variable]: "/dev/null" })(["connect", tool]);
    assert.equal(named.code, 64, `${tool}: ${named.stderr}`);
    assert.match(
      named.stderr,
      new RegExp(`^clawauth: ${variable}=/dev/null is not a directory\\.\n`),
    );
    write(`${state.home}/${dotdir}`, "a file, not a dir\n");
    const atHome = await connectIn(state, {})(["disconnect", tool]);
    assert.equal(atHome.code, 65, `${tool}: ${atHome.stderr}`);
    assert.match(
      atHome.stderr,
      new RegExp(`/${dotdir.replace(".", "\\.")}(/agent)? is not a directory\\.\n.*${variable}`),
    );
    assert.equal(read(`${state.home}/${dotdir}`), "a file, not a dir\n");
  }
});

Deno.test("connect codex --base-url takes https and plain http to loopback names only; a refusal writes nothing", async () => {
  await using state = await tempState();
  const dir = `${state.home}/codex`;
  const run = connectIn(state, { CODEX_HOME: dir });
  for (
    const url of [
      "https://llm.example.test/v1",
      "http://127.0.0.1:8080/v1",
      "http://[::1]:8080/v1",
      "http://localhost/v1",
    ]
  ) {
    const result = await run(["connect", "codex", "--base-url", url]);
    assert.equal(result.code, 0, `${url}: ${result.stderr}`);
    assert.ok(read(`${dir}/config.toml`).includes(`base_url = "${url}"`), url);
  }
  const before = read(`${dir}/config.toml`);
  for (
    const url of ["http://llm.example.test/v1", "http://192.168.1.5:8080/v1", "ftp://127.0.0.1/v1"]
  ) {
    const refused = await run(["connect", "codex", "--base-url", url]);
    assert.equal(refused.code, 64, url);
    assert.match(refused.stderr, /must use https \(plain http only on loopback hosts\)/);
    assert.equal(read(`${dir}/config.toml`), before, url);
  }
});

Deno.test("connect codex refuses a [model_providers.clawauth] written by hand (65, untouched), and openai-codex without a login (77)", async () => {
  await using state = await tempState();
  const dir = `${state.home}/codex`;
  const own = `[model_providers.clawauth]\nname = "mine"\nenv_key = "MY_KEY"\n`;
  write(`${dir}/config.toml`, own);
  const run = connectIn(state, { CODEX_HOME: dir });
  const refused = await run(["connect", "codex"]);
  assert.equal(refused.code, 65);
  assert.match(refused.stderr, /already defines \[model_providers\.clawauth\] by hand/);
  assert.equal(read(`${dir}/config.toml`), own);

  const fresh = connectIn(state, { CODEX_HOME: `${state.home}/codex2` });
  const noLogin = await fresh(["connect", "codex", "--provider", "openai-codex"]);
  assert.equal(noLogin.code, 77, noLogin.stderr);
  assert.match(noLogin.stderr, /clawauth login --provider openai-codex/);
  const other = await fresh(["connect", "codex", "--provider", "acme"]);
  assert.equal(other.code, 64);
  assert.match(other.stderr, /--base-url/);
});

const MODELS = `{
  // my local models
  "providers": {
    "ollama": {
      "baseUrl": "http://localhost:11434/v1",
      "api": "openai-completions",
      "apiKey": "ollama",
      "models": [{ "id": "llama3.1:8b" }],
    },
  },
}
`;

Deno.test('connect pi adds a "!command" apiKey (and headers {} so pi accepts the entry), keeps comments and trailing commas; disconnect restores', async () => {
  await using state = await tempState();
  const dir = `${state.home}/pi`;
  write(`${dir}/models.json`, MODELS);
  write(
    `${dir}/auth.json`,
    `{"anthropic": {"type": "oauth", "access": "a", "refresh": "r", "expires": 1}}`,
  );
  const run = connectIn(state, { PI_CODING_AGENT_DIR: dir, ANTHROPIC_OAUTH_TOKEN: "x" });
  const result = await run(["connect", "pi"]);
  assert.equal(result.code, 0, result.stderr);
  const text = read(`${dir}/models.json`);
  assert.ok(text.startsWith('{\n  // my local models\n  "providers": {\n    "ollama": {'));
  assert.match(
    text,
    /"anthropic": \{\n {6}"apiKey": "!\/\S+ run --quiet .* token --state-dir \/\S+ --provider anthropic",\n {6}"headers": \{\}\n {4}\}/,
  );
  assert.match(result.stderr, /ANTHROPIC_OAUTH_TOKEN is set: pi uses it before models\.json/);
  assert.match(result.stderr, /auth\.json holds pi's own anthropic login/);
  assert.match(result.stdout, /every request/);
  assert.equal((await run(["disconnect", "pi"])).code, 0);
  assert.equal(read(`${dir}/models.json`), MODELS);
});

Deno.test("connect pi for two providers keeps both; disconnect removes both", async () => {
  await using state = await tempState();
  const dir = `${state.home}/pi`;
  write(`${dir}/models.json`, MODELS);
  const run = connectIn(state, { PI_CODING_AGENT_DIR: dir });
  assert.equal((await run(["connect", "pi", "--provider", "anthropic"])).code, 0);
  assert.equal((await run(["connect", "pi", "--provider", "openai"])).code, 0);
  const providers = Object.keys(
    JSON.parse(read(`${dir}/models.json`).replace(/\/\/.*$/m, "").replace(/,(\s*[}\]])/g, "$1"))
      .providers,
  );
  assert.deepEqual(providers, ["ollama", "anthropic", "openai"]);
  assert.equal((await run(["disconnect", "pi"])).code, 0);
  assert.equal(read(`${dir}/models.json`), MODELS);
});
