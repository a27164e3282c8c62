/**
 * `deno task demo`: a narrated tour of clawauth on a temp state dir, with a
 * sandbox identity provider on 127.0.0.1 standing in for auth.openai.com.
 * Nothing outside the temp dir is touched and no other host is contacted.
 *
 * @module
 */

import { runCli, spawnCli } from "./cli_runner.ts";
import { providerOverride, startSandboxIdp } from "./sandbox_idp.ts";

const bold = (text: string) => Deno.stdout.isTerminal() ? `\x1b[1m${text}\x1b[0m` : text;
const mask = (secret: string) => `${secret.slice(0, 8)}…${secret.slice(-8)}`;

const root = await Deno.makeTempDir({ prefix: "clawauth-demo-" });
const stateDir = `${root}/state`;
const env = { HOME: root, OPENCLAW_STATE_DIR: stateDir };
const idp = await startSandboxIdp({ email: "ada@example.test" });

/** Stands in for an hour passing: the stored access token is made expired. */
async function backdateCodexToken(agents = ["main"]): Promise<void> {
  for (const agent of agents) {
    const path = `${stateDir}/agents/${agent}/agent/auth-profiles.json`;
    const store = JSON.parse(await Deno.readTextFile(path));
    for (const profile of Object.values(store.profiles) as { type: string; expires?: number }[]) {
      if (profile.type === "oauth") profile.expires = Date.now() - 1000;
    }
    await Deno.writeTextFile(path, JSON.stringify(store, null, 2));
  }
  console.log("(the demo backdated the stored expiry by an hour)");
}

/** `login --device` for agent `server`: shows the code, then grace approves it on her phone. */
async function deviceLogin(): Promise<void> {
  const args = ["--agent", "server", "login", "--provider", "openai-codex", "--device"];
  console.log(`$ clawauth ${args.join(" ")}`);
  const child = spawnCli(args, env, { stdin: "null" });
  const stdout = new Response(child.stdout).text();
  let stderr = "";
  for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
    stderr += chunk;
    const code = /enter the code:\n\n {2}(\S+)\n[\s\S]*Waiting for approval[^\n]*\n/.exec(stderr);
    if (code) {
      console.log(stderr.trimEnd());
      console.log(`… grace enters ${code[1]} on her phone and signs in`);
      await idp.approveCodexDevice(code[1], "grace");
      break;
    }
  }
  const [status, out] = await Promise.all([child.status, stdout]);
  console.log(out.trimEnd());
  if (status.code !== 0) console.log(`(exit ${status.code})`);
}

/**
 * `clawauth proxy` in front of a stand-in Anthropic API that rate-limits the
 * `work` token: one request, served by `spare` after one failover.
 */
async function proxyFailover(): Promise<void> {
  say("The proxy: tools hold a local key; a rate-limited profile fails over within the request");
  const limited = `sk-ant-oat01-${"d".repeat(40)}`;
  const api = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (request) =>
      request.headers.get("authorization") === `Bearer ${limited}`
        ? Response.json({
          type: "error",
          error: { type: "rate_limit_error", message: "slow down" },
        }, {
          status: 429,
          headers: { "retry-after": "30" },
        })
        : Response.json({ type: "message", content: [{ type: "text", text: "pong" }] }),
  );
  const config = JSON.parse(await Deno.readTextFile(`${stateDir}/clawauth.json`));
  config.providers.anthropic = { apiBaseUrl: `http://127.0.0.1:${api.addr.port}` };
  await Deno.writeTextFile(`${stateDir}/clawauth.json`, JSON.stringify(config));
  console.log("clawauth.json points the /anthropic route at a stand-in API on 127.0.0.1.");
  await clawauth(["report", "anthropic:work", "--ok"]);
  const key = (await runCli(["proxy", "key"], env)).stdout.trim();
  console.log("$ clawauth proxy --port 0 --json &");
  const proxy = spawnCli(["proxy", "--port", "0", "--json"], env, { stdin: "null" });
  const lines = proxy.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  const nextLine = async () => {
    while (!buffered.includes("\n")) buffered += (await lines.read()).value ?? "\n";
    const line = buffered.slice(0, buffered.indexOf("\n"));
    buffered = buffered.slice(line.length + 1);
    return line;
  };
  const { url } = JSON.parse(await nextLine());
  console.log(`$ curl -H "x-api-key: <local key>" ${url}/anthropic/v1/messages -d '{…}'`);
  const response = await fetch(`${url}/anthropic/v1/messages`, {
    method: "POST",
    headers: { "x-api-key": key, "content-type": "application/json" },
    body: '{"model":"claude-fake","max_tokens":5,"messages":[{"role":"user","content":"ping"}]}',
  });
  console.log(`${response.status} ${await response.text()}`);
  console.log(`proxy log: ${await nextLine()}`);
  proxy.kill("SIGTERM");
  await Promise.all([proxy.status, lines.cancel(), proxy.stderr.cancel()]);
  await api.shutdown();
  await clawauth(["resolve", "anthropic"]);
}

function say(text: string): void {
  console.log(`\n${bold(`# ${text}`)}`);
}

async function clawauth(
  args: string[],
  opts: { stdin?: string; hide?: boolean; env?: Record<string, string> } = {},
) {
  const prefix = Object.entries(opts.env ?? {}).map(([k, v]) => `${k}=${v} `).join("");
  console.log(
    `$ ${prefix}clawauth ${args.join(" ")}${opts.stdin ? "   (secret on stdin)" : ""}`,
  );
  const result = await runCli(args, { ...env, ...opts.env }, opts.stdin);
  const out = opts.hide
    ? result.stdout.trim().split("\n").map(mask).join("\n")
    : result.stdout.trimEnd();
  if (out) console.log(out);
  if (result.stderr.trim()) console.log(result.stderr.trimEnd());
  if (result.code !== 0) console.log(`(exit ${result.code})`);
  return result;
}

try {
  say(`State dir ${stateDir}; sandbox identity provider at ${idp.issuer}`);
  await Deno.mkdir(stateDir, { recursive: true, mode: 0o700 });
  await Deno.writeTextFile(
    `${stateDir}/clawauth.json`,
    JSON.stringify({
      providers: {
        "openai-codex": providerOverride(idp, "http://127.0.0.1:1455/auth/callback", true),
      },
    }),
  );
  console.log(
    "clawauth.json points openai-codex at the sandbox (docs/providers.md#clawauthjson).",
  );

  say(
    "Store an Anthropic setup-token and an OpenAI API key (secrets only ever come from stdin)",
  );
  await clawauth([
    "paste-token",
    "--provider",
    "anthropic",
    "--profile",
    "work",
    "--expires-in",
    "365d",
  ], {
    stdin: `sk-ant-oat01-${"d".repeat(40)}\n`,
  });
  await clawauth(["paste-token", "--provider", "openai", "--type", "api-key"], {
    stdin: `sk-proj-${"e".repeat(40)}\n`,
  });

  say(
    "Log in to openai-codex in two steps, as a script on a remote server would",
  );
  const started = await clawauth([
    "login",
    "--provider",
    "openai-codex",
    "--start",
    "--json",
  ]);
  const { url } = JSON.parse(started.stdout);
  console.log(
    "… the person opens the URL in any browser and signs in; the browser lands on the redirect URL:",
  );
  const callback = await idp.approve(url);
  console.log(callback.replace(/code=[^&]+/, "code=…"));
  await clawauth(["login", "--finish", callback]);

  say("On a server without a browser: a device code to enter on any device (Codex CLI's flow)");
  await deviceLogin();

  say("In CI nobody can answer a browser: the login fails at once with the two-step recipe");
  await clawauth(["login", "--provider", "openai-codex"], { env: { CI: "true" } });

  say("Every profile, its state and expiry; never a secret");
  await clawauth(["status"]);

  say("Hand a token to another tool (printed in full on stdout; masked here)");
  await clawauth(["token", "--provider", "openai-codex"], { hide: true });

  say("An hour later the access token has expired; eight processes ask at once: one refresh");
  await backdateCodexToken();
  const before = idp.counts().refresh_token;
  const results = await Promise.all(
    Array.from({ length: 8 }, () => runCli(["token", "--provider", "openai-codex"], env)),
  );
  const tokens = new Set(results.map((r) => r.stdout));
  console.log(
    `exit codes: ${results.map((r) => r.code).join(" ")}; distinct tokens: ${tokens.size}; ` +
      `refresh requests seen by the provider: ${idp.counts().refresh_token - before}`,
  );

  say("Route by order, and check the store in CI");
  await clawauth(["order", "set", "--provider", "anthropic", "anthropic:work"]);
  await clawauth(["token", "--model", "opus@anthropic:work"], { hide: true });
  await clawauth(["status", "--check"]);

  say("A second agent holds the same login: it is refreshed once for both (one lineage)");
  await clawauth(["agents", "add", "ci", "--from", "main"]);
  await backdateCodexToken(["main", "ci"]);
  const ciBefore = idp.counts().refresh_token;
  await clawauth(["--agent", "ci", "token", "--provider", "openai-codex"], { hide: true });
  await clawauth(["token", "--provider", "openai-codex"], { hide: true });
  console.log(
    `refresh requests for both agents: ${
      idp.counts().refresh_token - ciBefore
    } (ci refreshed and wrote the rotated tokens into main's copy)`,
  );

  say("Failover: a rate-limited profile goes to the back of the line");
  await clawauth([
    "paste-token",
    "--provider",
    "anthropic",
    "--profile",
    "spare",
    "--type",
    "api-key",
  ], {
    stdin: `sk-ant-api03-${"f".repeat(40)}\n`,
  });
  await clawauth(["order", "clear", "--provider", "anthropic"]);
  await clawauth(["report", "anthropic:work", "--reason", "rate_limit"]);
  await clawauth(["resolve", "anthropic"]);

  await proxyFailover();

  say("Health check");
  await clawauth(["doctor"]);

  say("Remove a profile");
  await clawauth(["remove", "openai:default"]);
  await clawauth(["list"]);
  console.log(
    "\nDone. The temp state dir is removed; run `deno task test` for the full suite.",
  );
} finally {
  await idp.close();
  await Deno.remove(root, { recursive: true });
}
