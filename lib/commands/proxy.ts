/**
 * `clawauth proxy`: a local, credential-injecting reverse proxy, so that
 * routing and failover happen per request for every tool and no agent holds
 * a provider secret; `clawauth proxy key` prints the local key tools send.
 * The work is in lib/proxy/.
 *
 * @module
 */

import { defineCommand, GLOBAL_HELP } from "../command.ts";
import { usageError } from "../errors.ts";
import { flag } from "../flags.ts";
import { resolvePaths } from "../paths.ts";
import { safeText } from "../output/output.ts";
import { ensureLocalKey, rotateLocalKey } from "../proxy/local_key.ts";
import { STRATEGIES } from "../proxy/pick.ts";
import { LOOPBACK_NAMES, serveProxy } from "../proxy/server.ts";
import { proxyFlagWords, proxyUnit } from "../proxy/systemd_unit.ts";

/** How long the proxy waits for an upstream's response headers by default. */
const HEADER_TIMEOUT_MS = 300_000;

/** The `proxy` command. */
export const command = defineCommand({
  positionals: ["ACTION?"],
  flags: {
    port: flag.integer(0, 65535),
    host: flag.string(),
    strategy: flag.oneOf(STRATEGIES),
    "header-timeout": flag.timeout(),
    rotate: flag.boolean(),
    json: flag.boolean(),
    "print-unit": flag.boolean(),
  },
  help:
    `Usage: clawauth proxy [--port 8787] [--host 127.0.0.1] [--strategy first|least-used] [--json]
       clawauth proxy key [--rotate]
       clawauth proxy --print-unit [--port N] [--strategy S] (a systemd user unit)

Runs a local reverse proxy in the foreground. Tools send their API calls to
it with the local key; it picks a profile per request (order, cooldowns,
round robin, as resolve does), puts the real credential in, streams the
answer back, and on a rate limit, overload, billing or auth failure records
it and retries on the next profile before the client has seen a byte.

Routes (the rest of the path goes to the provider's API):
  /anthropic/…   https://api.anthropic.com (API key, setup-token or OAuth)
  /openai/…      https://api.openai.com (API keys only)
  /codex/…       https://chatgpt.com/backend-api/codex (ChatGPT login)
  /<provider>/…  a provider with "apiBaseUrl" and "apiAuth" in clawauth.json
  /<route>:<name>/…  pins that profile, e.g. /anthropic:work/v1/messages

Flags:
  --port N              port on loopback (default 8787; 0 picks a free one)
  --host H              127.0.0.1 (default), localhost or ::1; nothing else
  --strategy S          first (default: stay on a profile until it fails) or least-used
  --header-timeout SPAN fail over when no response headers came within it (default 5m)
  --json                first line {"event":"listening","url":…}, then one line per request
  --rotate              (key) replace the local key; a running proxy takes it within 1 s
  --print-unit          print a systemd user unit that runs the proxy with these
                        flags; save it as ~/.config/systemd/user/clawauth-proxy.service,
                        then: systemctl --user enable --now clawauth-proxy
${GLOBAL_HELP}

Examples:
  clawauth proxy --port 0 --json
  clawauth proxy --print-unit > ~/.config/systemd/user/clawauth-proxy.service
  ANTHROPIC_BASE_URL=http://127.0.0.1:8787/anthropic ANTHROPIC_API_KEY="$(clawauth proxy key)" claude`,
  async run(ctx, args) {
    const [action] = args.positionals;
    const paths = resolvePaths(args, ctx);
    if (action === "key") {
      ctx.out(`${args.rotate ? rotateLocalKey(paths.stateDir) : ensureLocalKey(paths.stateDir)}\n`);
      return 0;
    }
    if (action !== undefined) {
      throw usageError(`Unknown proxy action ${safeText(action, 40)}; use: key.`, "proxy");
    }
    if (args.rotate) throw usageError("--rotate goes with: clawauth proxy key --rotate", "proxy");
    const host = args.host ?? "127.0.0.1";
    if (!LOOPBACK_NAMES.has(host)) {
      throw usageError(
        `The proxy listens on loopback only (127.0.0.1, localhost or ::1), not ${
          safeText(host, 60)
        }.`,
        "proxy",
      );
    }
    if (args["print-unit"]) {
      const flags = proxyFlagWords({
        ...args,
        headerTimeoutMs: args["header-timeout"],
      });
      ctx.out(proxyUnit(ctx, { paths, storeFlag: args.store, flags }));
      return 0;
    }
    return await serveProxy(ctx, {
      paths,
      host,
      port: args.port ?? 8787,
      strategy: args.strategy ?? "first",
      json: args.json,
      headerTimeoutMs: args["header-timeout"] ?? HEADER_TIMEOUT_MS,
    });
  },
});
