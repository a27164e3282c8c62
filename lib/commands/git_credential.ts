/**
 * `clawauth git-credential get|store|erase`: a git credential helper (git's
 * `key=value` protocol, gitcredentials(7)). `get` answers with the token of
 * the host's profile, obtained as `clawauth token` obtains it; `store` never
 * writes anything (clawauth already holds what it issued, and a password it
 * did not issue is not its to keep); `erase` of a token clawauth issued marks
 * that OAuth login due, so the next `get` refreshes it (git calls `erase`
 * after a 401).
 *
 * @module
 */

import type { Args } from "../args.ts";
import { defineCommand, GLOBAL_HELP } from "../command.ts";
import { HELPER_FLAGS, HELPER_FLAGS_HELP } from "../connect/credential_helper.ts";
import type { Context } from "../context.ts";
import { obtainCredential } from "../routing/credential.ts";
import { ClawauthError, Exit } from "../errors.ts";
import { routingOrder } from "../openclaw_config.ts";
import { type Paths, resolvePaths } from "../paths.ts";
import { canRefresh, type Profile, secretOf } from "../profiles.ts";
import { readLimited } from "../login/secret_input.ts";
import { requestOf, selectProfile, storedRequest } from "../routing/select.ts";
import { openStore, updateStore } from "../store.ts";
import { type GitTarget, gitTargetFor, helperUrl } from "../connect/git_hosts.ts";
import { flag } from "../flags.ts";
import { isObject } from "../json/json.ts";
import { carriesSecrets } from "../oauth/endpoints.ts";

const NAME = "git-credential";
/** git sends a few short lines; anything larger is not git. */
const MAX_INPUT_BYTES = 64 * 1024;
const ACTIONS = ["get", "store", "erase"] as const;
/** The helper's flags: a credential helper's, and the one host it may answer. */
const FLAGS = { ...HELPER_FLAGS, host: flag.string() };

/** git's attributes as key → value (the last value of a key wins). */
async function readAttributes(ctx: Context): Promise<Map<string, string>> {
  let bytes: Uint8Array;
  try {
    bytes = await readLimited(ctx.stdin, MAX_INPUT_BYTES, "request");
  } catch (error) {
    if (!(error instanceof ClawauthError)) throw error;
    throw new ClawauthError(
      `git's request is larger than ${MAX_INPUT_BYTES >> 10} KiB.`,
      Exit.data,
      "git-credential reads key=value lines from git; run it through git.",
    );
  }
  const attributes = new Map<string, string>();
  for (const line of new TextDecoder().decode(bytes).split("\n")) {
    const clean = line.replace(/\r$/, "");
    if (clean === "") break; // a blank line ends the request
    const eq = clean.indexOf("=");
    if (eq < 1) {
      throw new ClawauthError(
        "git's request holds a line that is not key=value.",
        Exit.data,
        "git-credential reads key=value lines from git; run it through git.",
      );
    }
    attributes.set(clean.slice(0, eq), clean.slice(eq + 1));
  }
  const url = attributes.get("url");
  if (url && !attributes.has("host")) {
    try {
      const parsed = new URL(url);
      attributes.set("protocol", parsed.protocol.replace(/:$/, ""));
      attributes.set("host", parsed.host);
    } catch { /* no host: nothing to answer */ }
  }
  return attributes;
}

/** The URL of git's request, when its protocol and host make one. */
function requestOrigin(protocol: string | undefined, host: string): URL | undefined {
  // A host is a name or address and a port: nothing that would move the URL's parts.
  if (!protocol || !/^[^/\\@?#\s]+$/.test(host)) return undefined;
  const text = `${protocol}://${host}`;
  return URL.canParse(text) ? new URL(text) : undefined;
}

/** The target for this request, or `undefined` when clawauth does not serve it. */
function targetOf(
  args: Args<typeof FLAGS>,
  paths: Paths,
  attributes: Map<string, string>,
): GitTarget | undefined {
  // --host scopes the helper to one origin, whatever git.hosts says.
  const scope = args.host === undefined ? undefined : new URL(helperUrl(args.host, NAME)).origin;
  const protocol = attributes.get("protocol");
  const host = attributes.get("host");
  if (!host) return undefined;
  // A token goes over https, or plain http to this machine only (as token endpoints).
  const origin = requestOrigin(protocol, host);
  if (!origin || !carriesSecrets(origin)) return undefined;
  if (scope !== undefined && scope !== origin.origin) return undefined;
  return gitTargetFor(paths.config, {
    host,
    explicit: requestOf(args, NAME),
    scoped: scope !== undefined,
  });
}

async function get(
  ctx: Context,
  args: Args<typeof FLAGS>,
  attributes: Map<string, string>,
): Promise<void> {
  const paths = resolvePaths(args, ctx);
  const target = targetOf(args, paths, attributes);
  if (!target) return;
  const store = await openStore(ctx, paths);
  const { profile, secret } = await obtainCredential(ctx, paths, store, target.request, {
    minValidMs: args["min-valid"],
    externalOrder: await routingOrder(ctx, paths.openclawConfig, target.request),
  });
  const lines = [`username=${attributes.get("username") || target.username}`, `password=${secret}`];
  // git ≥ 2.41 drops a credential past this time instead of sending it.
  if (profile.expires !== null) {
    lines.push(`password_expiry_utc=${Math.floor(profile.expires / 1000)}`);
  }
  ctx.out(`${lines.join("\n")}\n`);
}

/** The profile whose current secret is `password`, if clawauth issued it. */
async function issuer(
  ctx: Context,
  args: Args<typeof FLAGS>,
  attributes: Map<string, string>,
): Promise<{ paths: Paths; profile: Profile } | undefined> {
  const password = attributes.get("password");
  if (!password) return undefined;
  const paths = resolvePaths(args, ctx);
  const target = targetOf(args, paths, attributes);
  if (!target) return undefined;
  const store = await openStore(ctx, paths);
  let profile: Profile;
  try {
    profile = selectProfile(store, storedRequest(paths.backend, target.request), ctx.now()).profile;
  } catch (error) {
    if (error instanceof ClawauthError) return undefined; // nothing of ours to match
    throw error;
  }
  return secretOf(profile) === password ? { paths, profile } : undefined;
}

/** After a 401: an OAuth token clawauth issued is made due, so the next get refreshes it. */
async function erase(
  ctx: Context,
  args: Args<typeof FLAGS>,
  attributes: Map<string, string>,
): Promise<void> {
  const issued = await issuer(ctx, args, attributes);
  if (!issued || !canRefresh(issued.profile)) return;
  const { paths, profile } = issued;
  await updateStore(ctx, paths, (fresh) => {
    const entry = fresh.profiles[profile.id];
    // Only the very token git was refused with: a refresh meanwhile already replaced it.
    if (isObject(entry) && entry.access === secretOf(profile)) entry.expires = ctx.now();
  });
}

/** The `git-credential` command. */
export const command = defineCommand({
  flags: FLAGS,
  // Any word: gitcredentials(7) has a helper ignore the operations it does not know.
  positionals: ["ACTION"],
  help: `Usage: clawauth git-credential [--provider ID | --profile ID] [--host HOST]
                               [--min-valid 5m] get|store|erase

A git credential helper (git's key=value protocol on stdin and stdout).
get    prints username= and password= (the token) for the request's host:
       clawauth.json's "git" map, else github.com -> github-copilot.
       --provider/--profile choose among the logins of the provider the
       host is mapped to, or, with --host, answer that one host whatever the
       map says. Other hosts get no answer, so git asks its other helpers.
       Tokens go over https, or http to 127.0.0.1, localhost or [::1] only.
store  writes nothing: clawauth already holds what it issued, and never
       keeps a password it did not issue.
erase  after git was refused (401) with a token clawauth issued, makes that
       OAuth login due, so the next get refreshes it.

Set up with: clawauth connect git [--host HOST] [--provider ID | --profile ID]
(with a chosen login, connect writes --host too)

clawauth.json:
  {"git": {"hosts": {"github.com": "github-copilot",
                     "git.acme.example": {"id": "acme:work", "username": "oauth2"}}}}

${HELPER_FLAGS_HELP}
  --host HOST       answer only this host (or http(s):// origin)
${GLOBAL_HELP}

Examples:
  printf 'protocol=https\\nhost=github.com\\n\\n' | clawauth git-credential get
  git config --global credential.https://github.com.helper '!clawauth git-credential'`,
  async run(ctx, args) {
    const [action] = args.positionals;
    // gitcredentials(7): a helper ignores the operations it does not support.
    if (!(ACTIONS as readonly string[]).includes(action)) return Exit.ok;
    const attributes = await readAttributes(ctx);
    if (action === "get") await get(ctx, args, attributes);
    else if (action === "erase") await erase(ctx, args, attributes);
    // store: deliberately nothing (see the module doc).
    return Exit.ok;
  },
});
