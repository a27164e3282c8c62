/**
 * `clawauth login`: OAuth with PKCE. Interactive (browser + loopback
 * listener raced against a pasted answer), or in two scripted steps
 * (`--start`, then `--finish`). docs/login.md.
 *
 * @module
 */

import { loginVia, VIA_PREFIX, type ViaAnnouncement } from "../login/via.ts";
import type { Args } from "../args.ts";
import { flag } from "../flags.ts";
import { type LoginSetting, loginSetting, openBrowser } from "../login/browser.ts";
import { checkState, parseCallbackInput } from "../login/callback_input.ts";
import { defineCommand, GLOBAL_HELP } from "../command.ts";
import { resolveProvider } from "../config.ts";
import type { Context } from "../context.ts";
import { ClawauthError, Exit, usageError } from "../errors.ts";
import { deviceTokens, hasDeviceFlow } from "../login/device.ts";
import { type Alternative, alternativesText, qrLines } from "../login/screen.ts";
import { tryListen, waitForAnswer } from "../login/wait.ts";
import {
  authorizeUrl,
  exchangeCode,
  newPkce,
  type OAuthTarget,
  oauthTarget,
  type TokenSet,
} from "../oauth/oauth.ts";
import { checkLoginAccount, loginProfileName, saveOAuthProfile } from "../oauth/profile.ts";
import { printJson, safeText, warn } from "../output/output.ts";
import { type Paths, resolvePaths } from "../paths.ts";
import { claimPending, PENDING_TTL_MS, savePending } from "../login/pending.ts";
import type { ProviderDefinition } from "../provider/definition.ts";
import { MAX_SECRET_BYTES, readLimited } from "../login/secret_input.ts";

const DEFAULT_REDIRECT = "http://127.0.0.1:1455/auth/callback";
const DEFAULT_TIMEOUT_S = 300;

const LOGIN_FLAGS = {
  provider: flag.provider(),
  profile: flag.profileName(),
  "no-browser": flag.boolean(),
  device: flag.boolean(),
  port: flag.integer(1, 65535),
  timeout: flag.timeout(),
  start: flag.boolean(),
  finish: flag.string(),
  via: flag.string(),
  "remote-bin": flag.string(),
  forwarded: flag.boolean(),
  json: flag.boolean(),
};

/** The parsed command line of `login`. */
type LoginArgs = Args<typeof LOGIN_FLAGS>;

function oauthProvider(
  paths: Paths,
  id: string | undefined,
): ProviderDefinition {
  if (!id) throw usageError("login needs --provider ID.", "login");
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

function redirectFor(provider: ProviderDefinition, port: number | undefined): string {
  const url = new URL(provider.oauth?.redirectUri ?? DEFAULT_REDIRECT);
  if (port !== undefined) url.port = String(port);
  return url.href;
}

async function stored(
  ctx: Context,
  args: LoginArgs,
  paths: Paths,
  provider: ProviderDefinition,
  name: string | undefined,
  tokens: TokenSet,
): Promise<number> {
  if (!checkLoginAccount(name, tokens)) {
    warn(
      ctx,
      `${provider.name} did not say which e-mail this account has, so clawauth could not check that it is ${name}.`,
    );
  }
  const profile = loginProfileName(name, tokens);
  const id = await saveOAuthProfile(ctx, paths, provider.id, profile, tokens);
  if (args.json) {
    printJson(ctx, {
      profile: id,
      provider: provider.id,
      type: "oauth",
      expires: tokens.expires,
      ...(tokens.accountId ? { accountId: tokens.accountId } : {}),
      ...(tokens.email ? { email: tokens.email } : {}),
    });
  } else {
    const who = tokens.email ?? tokens.accountId;
    ctx.out(
      `Logged in to ${provider.name}${
        who ? ` as ${safeText(who, 256)}` : ""
      }; stored ${id} in agent ${paths.agent}.\n`,
    );
  }
  return 0;
}

/** How the login was asked for, as far as choosing a path goes. */
interface LoginRequest {
  url: string;
  redirectUri: string;
  state: string;
  provider: ProviderDefinition;
  target: OAuthTarget;
}

/** This login's command line with another way to finish: same provider, profile and agent. */
function loginLine(args: LoginArgs, provider: ProviderDefinition, how: string): string {
  const named = (["profile", "agent"] as const).flatMap((name) => {
    const value = args[name];
    return value === undefined ? [] : [`--${name} ${safeText(value, 128)}`];
  });
  return ["clawauth login --provider", provider.id, ...named, how].join(" ");
}

function ciRefusal(args: LoginArgs, provider: ProviderDefinition): ClawauthError {
  return new ClawauthError(
    "Nobody can finish a browser login here: CI is set and stdin is not a terminal.",
    Exit.usage,
    `Log in in two steps instead:\n` +
      `  ${loginLine(args, provider, "--start --json")}   # prints the URL to open anywhere\n` +
      `  clawauth login --finish '<the address the browser ends on>'${
        args.agent ? ` --agent ${safeText(args.agent, 128)}` : ""
      }\n` +
      `or store a token with: clawauth paste-token --provider ${provider.id}`,
  );
}

/** The other ways to finish, for the person watching the wait. */
function alternatives(
  args: LoginArgs,
  login: LoginRequest,
  setting: LoginSetting,
  listening: boolean,
): Alternative[] {
  const port = new URL(login.redirectUri).port;
  const ways: Alternative[] = [
    { name: "paste", text: "the address the browser ends on (or just the code) here, then Enter" },
  ];
  if (hasDeviceFlow(login.target)) {
    ways.push({
      name: "--device",
      text: `${loginLine(args, login.provider, "--device")}   (a code to enter on any device)`,
    });
  }
  if (setting === "remote" && listening && !args.forwarded) {
    ways.push({
      name: "ssh -L",
      text: `on the machine with the browser: ssh -L ${port}:127.0.0.1:${port} <this-host>\n` +
        `or in one step from there: ${loginLine(args, login.provider, "--via <this-host>")}`,
    });
  }
  return ways;
}

function interactive(
  ctx: Context,
  args: LoginArgs,
  login: LoginRequest,
  setting: LoginSetting,
  limitMs: number,
): Promise<URLSearchParams> {
  const server = tryListen(ctx, login.redirectUri, login.state);
  if (args.forwarded) {
    // For `--via` on the machine with the browser: what to open, and whether it is safe to.
    const via: ViaAnnouncement = { url: login.url, listening: server !== undefined };
    ctx.err(`${VIA_PREFIX}${JSON.stringify(via)}\n`);
  }
  const opened = !args["no-browser"] && openBrowser(ctx, login.url);
  const qr = qrLines(ctx, login.url);
  const intro =
    `${
      opened ? "Opened your browser; if it did not appear, open" : "Open"
    } this URL to sign in to ${login.provider.name}:\n\n  ${login.url}\n\n` +
    (qr.length ? `${qr.join("\n")}\n\n` : "") +
    alternativesText(alternatives(args, login, setting, server !== undefined)) +
    (server
      ? `Waiting for the browser to return to ${login.redirectUri} …\n`
      : "Waiting for the pasted answer …\n");
  return waitForAnswer(ctx, {
    server,
    intro,
    state: login.state,
    deadline: ctx.now() + limitMs,
    label: server ? "Waiting for the browser" : "Waiting for the pasted answer",
  });
}

async function finish(
  ctx: Context,
  args: LoginArgs,
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
  args: LoginArgs,
  paths: Paths,
  provider: ProviderDefinition,
  login: { url: string; redirectUri: string; state: string; verifier: string },
): Promise<number> {
  const expiresAt = ctx.now() + PENDING_TTL_MS;
  const profile = args.profile;
  await savePending(paths.dir, {
    provider: provider.id,
    profile,
    state: login.state,
    verifier: login.verifier,
    redirectUri: login.redirectUri,
    expiresAt,
  });
  if (args.json) {
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

const VIA_ONLY = ["remote-bin"] as const;
const NOT_WITH_VIA = ["start", "finish", "device", "forwarded"] as const;

/** The `login` command. */
export const command = defineCommand({
  flags: LOGIN_FLAGS,
  help:
    `Usage: clawauth login --provider ID [--profile NAME] [--no-browser] [--port N] [--timeout SPAN] [--json]
       clawauth login --provider ID --device [--profile NAME] [--json]
       clawauth login --provider ID --via [USER@]HOST [--remote-bin PATH] [--profile NAME] [--json]
       clawauth login --provider ID --start [--profile NAME] [--json]
       clawauth login --finish INPUT|-

Logs in with OAuth (PKCE). The browser returns to a listener on 127.0.0.1
(openai-codex: port 1455); on a machine without a browser, open the printed
URL anywhere and paste the address the browser ends on (or the code) into
this terminal. The first valid answer wins. In CI (CI set, stdin not a
terminal) it fails at once with the two-step recipe instead of waiting.

On a remote server, three ways:
  --via HOST   run on your laptop: logs the server in over ssh, with the
               callback port forwarded and your local browser opened
  --device     run on the server: enter a short code on any device
  paste        run on the server: open the URL anywhere, paste the address back

Two-step (scripts): --start prints the URL and keeps the PKCE verifier for
15 minutes; --finish takes the redirect URL, code#state, query string or
bare code (- reads it from stdin) and stores the login.

Flags:
  --provider ID      openai-codex, or a provider declared in clawauth.json
  --profile NAME     profile name (default: the account e-mail, else default)
  --no-browser       do not open a browser (also off over SSH, in CI, without a display)
  --device           log in with a code entered on any device (openai-codex: as Codex
                     CLI does; others: RFC 8628); github-copilot always does
  --via [USER@]HOST  log HOST in from here: ssh -L PORT:127.0.0.1:PORT HOST
                     <remote-bin> login …, with the browser opened here
  --remote-bin PATH  clawauth on HOST (default: clawauth on its PATH)
  --forwarded        the callback port is already forwarded from the browser's
                     machine (--via sets it on the remote side)
  --port N           listen on this port instead of the provider's
  --timeout SPAN     give up after SPAN: seconds, or 90s, 10m (default ${DEFAULT_TIMEOUT_S}; device
                     codes: 15 min)
  --start            step 1: print the URL (--json: {"url","state","redirectUri","expiresAt"})
  --finish INPUT     step 2: complete a started login
  --json             print the stored profile as JSON
${GLOBAL_HELP}

Examples:
  clawauth login --provider openai-codex
  clawauth login --provider openai-codex --via me@build-box
  clawauth login --provider openai-codex --device
  url=$(clawauth login --provider openai-codex --start --json | jq -r .url)
  clawauth login --finish "http://localhost:1455/auth/callback?code=…&state=…"`,
  async run(ctx, args) {
    const paths = resolvePaths(args, ctx);
    const { via } = args;
    const given = (name: typeof VIA_ONLY[number] | typeof NOT_WITH_VIA[number]) =>
      args[name] !== undefined && args[name] !== false;
    const clash = via === undefined ? VIA_ONLY.find(given) : NOT_WITH_VIA.find(given);
    if (clash) {
      throw usageError(
        via === undefined ? `--${clash} goes with --via.` : `--via does not go with --${clash}.`,
        "login",
      );
    }
    const input = args.finish;
    if (input !== undefined) return finish(ctx, args, paths, input);
    const provider = oauthProvider(paths, args.provider);
    if (via !== undefined) {
      return loginVia(ctx, {
        host: via,
        redirectUri: redirectFor(provider, args.port),
        providerId: provider.id,
        remoteBin: args["remote-bin"],
        profile: args.profile,
        timeoutMs: args.timeout,
        agent: args.agent,
        json: args.json,
        openBrowser: !args["no-browser"],
      });
    }
    const device = args.device || provider.oauth?.defaultFlow === "device";
    const setting = loginSetting(ctx.env, ctx.stdinIsTTY);
    if (!device && !args.start && setting === "ci") throw ciRefusal(args, provider);
    const target = await oauthTarget(ctx, provider);
    if (device) {
      if (args.start) {
        throw usageError("--start is for browser logins, not the device flow.", "login");
      }
      const tokens = await deviceTokens(ctx, target, {
        providerName: provider.name,
        openBrowser: !args["no-browser"],
        limitMs: args.timeout,
      });
      return stored(ctx, args, paths, provider, args.profile, tokens);
    }
    const redirectUri = redirectFor(provider, args.port);
    const pkce = await newPkce();
    const url = authorizeUrl(target, {
      redirectUri,
      challenge: pkce.challenge,
      state: pkce.state,
    });
    if (args.start) {
      return start(ctx, args, paths, provider, {
        url,
        redirectUri,
        state: pkce.state,
        verifier: pkce.verifier,
      });
    }
    const params = await interactive(
      ctx,
      args,
      {
        url,
        redirectUri,
        state: pkce.state,
        provider,
        target,
      },
      setting,
      args.timeout ?? DEFAULT_TIMEOUT_S * 1000,
    );
    const tokens = await exchangeCode(ctx, target, params, redirectUri, pkce.verifier);
    return stored(ctx, args, paths, provider, args.profile, tokens);
  },
});
