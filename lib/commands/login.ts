/**
 * `clawauth login`: OAuth with PKCE. Interactive (browser + loopback
 * listener raced against a pasted answer), or in two scripted steps
 * (`--start`, then `--finish`). SPEC §3.
 *
 * @module
 */

import { type Args, printable } from "../args.ts";
import { openBrowser } from "../browser.ts";
import { isLoopback } from "../endpoints.ts";
import { checkState, parseCallbackInput } from "../callback_input.ts";
import { type CallbackServer, listenForCallback } from "../callback_server.ts";
import { type Command, GLOBAL_HELP } from "../command.ts";
import { resolveProvider } from "../config.ts";
import type { Context } from "../context.ts";
import { ClawauthError, Exit, usageError } from "../errors.ts";
import {
  authorizeUrl,
  deviceLogin,
  exchangeCode,
  newPkce,
  oauthTarget,
  type TokenSet,
} from "../oauth.ts";
import { loginProfileName, saveOAuthProfile } from "../oauth_profile.ts";
import { printJson } from "../output.ts";
import { type Paths, resolvePaths } from "../paths.ts";
import { claimPending, PENDING_TTL_MS, savePending } from "../pending.ts";
import { PROFILE_NAME, PROVIDER_ID } from "../profiles.ts";
import type { ProviderDefinition } from "../provider.ts";
import { MAX_SECRET_BYTES, readLimited } from "../secret_input.ts";

const DEFAULT_REDIRECT = "http://127.0.0.1:1455/auth/callback";
const DEFAULT_TIMEOUT_S = 300;

function oauthProvider(
  paths: Paths,
  id: string | undefined,
): ProviderDefinition {
  if (!id) throw usageError("login needs --provider ID.", "login");
  if (!PROVIDER_ID.test(id)) {
    throw usageError(`${printable(id)} is not a provider id.`, "login");
  }
  const provider = resolveProvider(id, paths.config);
  if (provider?.oauth?.clientId) return provider;
  const other = provider?.login === "setup-token"
    ? `clawauth setup-token --provider ${id}`
    : `clawauth paste-token --provider ${id}`;
  throw new ClawauthError(
    provider ? `${provider.name} does not log in with OAuth.` : `Unknown provider ${id}.`,
    Exit.usage,
    provider ? `Use: ${other}` : `Declare it in ${paths.config}, or use: ${other}`,
  );
}

function redirectFor(
  provider: ProviderDefinition,
  portFlag: string | undefined,
): string {
  const url = new URL(provider.oauth?.redirectUri ?? DEFAULT_REDIRECT);
  if (portFlag !== undefined) {
    const port = Number(portFlag);
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw usageError("--port is 1-65535.", "login");
    }
    url.port = String(port);
  }
  return url.href;
}

function profileFlag(args: Args): string | undefined {
  const name = args.string("profile");
  if (name !== undefined && !PROFILE_NAME.test(name)) {
    throw usageError(
      "A profile name is 1-128 characters of A-Z a-z 0-9 . _ @ + -.",
      "login",
    );
  }
  return name;
}

async function stored(
  ctx: Context,
  args: Args,
  paths: Paths,
  provider: ProviderDefinition,
  name: string | undefined,
  tokens: TokenSet,
): Promise<number> {
  const profile = loginProfileName(name, tokens);
  const id = await saveOAuthProfile(ctx, paths, provider.id, profile, tokens);
  if (args.bool("json")) {
    printJson(ctx, {
      profile: id,
      provider: provider.id,
      type: "oauth",
      expires: tokens.expires ?? null,
      ...(tokens.accountId ? { accountId: tokens.accountId } : {}),
      ...(tokens.email ? { email: tokens.email } : {}),
    });
  } else {
    const who = tokens.email ?? tokens.accountId;
    ctx.out(
      `Logged in to ${provider.name}${
        who ? ` as ${printable(who)}` : ""
      }; stored ${id} in agent ${paths.agent}.\n`,
    );
  }
  return 0;
}

/** Reads pasted answers line by line until one parses; EOF leaves the listener to answer. */
async function pastedAnswer(
  ctx: Context,
  state: string,
  signal: AbortSignal,
): Promise<URLSearchParams> {
  const reader = ctx.stdin.pipeThrough(new TextDecoderStream()).getReader();
  signal.addEventListener("abort", () => reader.cancel().catch(() => {}), {
    once: true,
  });
  let buffer = "";
  while (!signal.aborted) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    if (buffer.length > MAX_SECRET_BYTES) {
      buffer = buffer.slice(-MAX_SECRET_BYTES);
    }
    const lines = buffer.split(/\r?\n/);
    buffer = lines.pop() ?? "";
    for (const line of lines.filter((l) => l.trim() !== "")) {
      let params: URLSearchParams;
      try {
        params = parseCallbackInput(line);
      } catch (error) {
        ctx.err(
          `${error instanceof Error ? error.message : error} Paste it again.\n`,
        );
        continue;
      }
      if (params.has("state")) checkState(params, state);
      else params.set("state", state); // a bare code: the person vouches for it
      return params;
    }
  }
  return new Promise<never>(() => {});
}

function tryListen(
  ctx: Context,
  redirectUri: string,
  state: string,
): CallbackServer | undefined {
  const url = new URL(redirectUri);
  const port = Number(url.port || (url.protocol === "https:" ? 443 : 80));
  if (url.protocol !== "http:" || !isLoopback(url)) return undefined;
  try {
    return listenForCallback(port, url.pathname, state);
  } catch (error) {
    const why = error instanceof Deno.errors.AddrInUse ? "is in use" : "cannot be opened";
    ctx.err(
      `Port ${port} on 127.0.0.1 ${why}, so the browser cannot come back here; paste the answer instead.\n` +
        `Or forward the port from the machine with the browser: ssh -L ${port}:127.0.0.1:${port} <this-host>\n`,
    );
    return undefined;
  }
}

async function interactive(
  ctx: Context,
  args: Args,
  login: {
    url: string;
    redirectUri: string;
    state: string;
    providerName: string;
  },
): Promise<URLSearchParams> {
  const timeoutS = Number(args.string("timeout") ?? DEFAULT_TIMEOUT_S);
  if (!(timeoutS > 0)) {
    throw usageError("--timeout is a number of seconds.", "login");
  }
  const server = tryListen(ctx, login.redirectUri, login.state);
  const opened = !args.bool("no-browser") && openBrowser(ctx, login.url);
  ctx.err(
    `${
      opened ? "Opened your browser; if it did not appear, open" : "Open"
    } this URL to sign in to ${login.providerName}:\n\n  ${login.url}\n\n`,
  );
  if (server && ctx.env("SSH_CONNECTION")) {
    const port = new URL(login.redirectUri).port;
    ctx.err(
      `Browser on another machine? Forward the port first: ssh -L ${port}:127.0.0.1:${port} <this-host>\n`,
    );
  }
  ctx.err(
    server
      ? `Waiting for the browser to return to ${login.redirectUri} … or paste the address it ends on (or the code) here.\n`
      : "Then paste the address the browser ends on (or the code) here and press Enter.\n",
  );
  const abort = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() =>
      reject(
        new ClawauthError(
          `No answer within ${timeoutS} s; the login was abandoned.`,
          Exit.failure,
          "Run it again (--timeout SEC gives more time), or use login --start / --finish.",
        ),
      ), timeoutS * 1000);
  });
  try {
    return await Promise.race([
      ...(server ? [server.result] : []),
      pastedAnswer(ctx, login.state, abort.signal),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
    abort.abort();
    await server?.close();
  }
}

async function finish(
  ctx: Context,
  args: Args,
  paths: Paths,
  input: string,
): Promise<number> {
  const text = input === "-"
    ? new TextDecoder().decode(await readLimited(ctx.stdin, MAX_SECRET_BYTES, "answer"))
    : input;
  const params = parseCallbackInput(text);
  const login = await claimPending(paths.dir, params.get("state"), ctx.now());
  if (params.has("state")) checkState(params, login.state);
  else params.set("state", login.state);
  const provider = oauthProvider(paths, login.provider);
  const target = await oauthTarget(ctx, provider);
  const tokens = await exchangeCode(
    ctx,
    target,
    params,
    login.redirectUri,
    login.verifier,
  );
  return stored(ctx, args, paths, provider, login.profile, tokens);
}

async function start(
  ctx: Context,
  args: Args,
  paths: Paths,
  provider: ProviderDefinition,
  login: { url: string; redirectUri: string; state: string; verifier: string },
): Promise<number> {
  const expiresAt = ctx.now() + PENDING_TTL_MS;
  const profile = profileFlag(args);
  await savePending(paths.dir, {
    provider: provider.id,
    profile,
    state: login.state,
    verifier: login.verifier,
    redirectUri: login.redirectUri,
    expiresAt,
  });
  if (args.bool("json")) {
    printJson(ctx, {
      url: login.url,
      state: login.state,
      redirectUri: login.redirectUri,
      expiresAt,
    });
  } else {
    ctx.out(
      `Open this URL in any browser and sign in to ${provider.name}:\n\n  ${login.url}\n\n` +
        `The browser then goes to ${login.redirectUri}?code=… (the page may fail to load; that is fine).\n` +
        `Copy that address and, within 15 minutes, run:\n\n  clawauth login --finish '<the address>'\n`,
    );
  }
  return 0;
}

/** The `login` command. */
export const command: Command = {
  flags: {
    provider: { type: "string" },
    profile: { type: "string" },
    "no-browser": { type: "boolean" },
    device: { type: "boolean" },
    port: { type: "string" },
    timeout: { type: "string" },
    start: { type: "boolean" },
    finish: { type: "string" },
    json: { type: "boolean" },
  },
  help:
    `Usage: clawauth login --provider ID [--profile NAME] [--no-browser] [--device] [--port N] [--timeout SEC] [--json]
       clawauth login --provider ID --start [--profile NAME] [--json]
       clawauth login --finish INPUT|-

Logs in with OAuth (PKCE). The browser returns to a listener on 127.0.0.1
(openai-codex: port 1455); on a machine without a browser, open the printed
URL anywhere and paste the address the browser ends on (or the code) into
this terminal. The first valid answer wins.

Two-step (scripts, remote servers): --start prints the URL and keeps the PKCE
verifier for 15 minutes; --finish takes the redirect URL, code#state, query
string or bare code (- reads it from stdin) and stores the login.

Flags:
  --provider ID    openai-codex, or a provider declared in clawauth.json
  --profile NAME   profile name (default: the account e-mail, else default)
  --no-browser     do not open a browser (also off over SSH, in CI, without a display)
  --device         use the device flow (RFC 8628): enter a code on any device;
                   github-copilot always does
  --port N         listen on this port instead of the provider's
  --timeout SEC    give up after SEC seconds (default ${DEFAULT_TIMEOUT_S})
  --start          step 1: print the URL (--json: {"url","state","redirectUri","expiresAt"})
  --finish INPUT   step 2: complete a started login
  --json           print the stored profile as JSON
${GLOBAL_HELP}

Examples:
  clawauth login --provider openai-codex
  ssh -L 1455:127.0.0.1:1455 server   # then run the login on the server
  url=$(clawauth login --provider openai-codex --start --json | jq -r .url)
  clawauth login --finish "http://localhost:1455/auth/callback?code=…&state=…"`,
  async run(ctx, args) {
    const paths = resolvePaths(args, ctx);
    const input = args.string("finish");
    if (input !== undefined) return finish(ctx, args, paths, input);
    const provider = oauthProvider(paths, args.string("provider"));
    const name = profileFlag(args);
    const target = await oauthTarget(ctx, provider);
    if (args.bool("device") || provider.oauth?.defaultFlow === "device") {
      if (args.bool("start")) {
        throw usageError("--start is for browser logins, not the device flow.", "login");
      }
      const tokens = await deviceLogin(ctx, target, (prompt) => {
        ctx.err(
          `To sign in to ${provider.name}, open ${prompt.verificationUri} and enter the code:\n\n  ${prompt.userCode}\n\n` +
            `Waiting for approval (the code expires in ${
              Math.round(prompt.expiresIn / 60)
            } min) …\n`,
        );
        if (!args.bool("no-browser")) {
          openBrowser(ctx, prompt.verificationUriComplete ?? prompt.verificationUri);
        }
      });
      return stored(ctx, args, paths, provider, name, tokens);
    }
    const redirectUri = redirectFor(provider, args.string("port"));
    const pkce = await newPkce();
    const url = authorizeUrl(target, {
      redirectUri,
      challenge: pkce.challenge,
      state: pkce.state,
    });
    if (args.bool("start")) {
      return start(ctx, args, paths, provider, {
        url,
        redirectUri,
        state: pkce.state,
        verifier: pkce.verifier,
      });
    }
    const params = await interactive(ctx, args, {
      url,
      redirectUri,
      state: pkce.state,
      providerName: provider.name,
    });
    const tokens = await exchangeCode(
      ctx,
      target,
      params,
      redirectUri,
      pkce.verifier,
    );
    return stored(ctx, args, paths, provider, name, tokens);
  },
};
