/**
 * Which credential answers git for a host: the host's entry in
 * `clawauth.json`, else the built-in default (github.com → `github-copilot`);
 * `--provider`/`--profile` given to the helper pick among the mapped
 * provider's logins, or answer the one host its `--host` names.
 *
 * ```json
 * {"git": {"hosts": {
 *   "github.com": "github-copilot",
 *   "git.acme.example": {"id": "acme:work", "username": "oauth2"}
 * }}}
 * ```
 *
 * An id is a profile id (`provider:name`, used exactly) or a provider id
 * (routed like `clawauth token --provider`), as in `openclaw-secret`.
 *
 * @module
 */

import { type UnusableFile, unusableFile, usageError } from "../errors.ts";
import { readJsonFile } from "../fs/files.ts";
import { isObject, own } from "../json/json.ts";
import { carriesSecrets } from "../oauth/endpoints.ts";
import type { RouteRequest } from "../routing/routing.ts";
import { secretTargetOf } from "../secret_protocol.ts";

/** What git gets for a host. */
export interface GitTarget {
  request: RouteRequest;
  /** The user name sent with the token (GitHub ignores it; GitLab wants `oauth2`). */
  username: string;
}

/** The user name sent when none is configured or asked for. */
export const DEFAULT_USERNAME = "x-access-token";

/** Built-in hosts. */
const DEFAULTS: Record<string, string> = { "github.com": "github-copilot" };

/** clawauth.json as {@linkcode unusableFile} names it, with the shape a fix takes. */
function configFile(path: string): UnusableFile {
  return {
    what: "config",
    path,
    hint: 'Fix it: {"git": {"hosts": {"github.com": "github-copilot"}}}',
  };
}

/** The `git.hosts` entry for `host` (exactly, then without its port). */
function configured(path: string, host: string): unknown {
  const data = readJsonFile(path, (reason) => unusableFile(configFile(path), reason));
  const git = isObject(data) ? own(data, "git") : undefined;
  if (git === undefined) return undefined;
  const hosts = isObject(git) ? own(git, "hosts") : undefined;
  if (!isObject(hosts)) throw unusableFile(configFile(path), '"git.hosts" is not an object');
  return own(hosts, host) ?? own(hosts, host.replace(/:\d+$/, ""));
}

/** What {@linkcode gitTargetFor} is asked. */
export interface GitAsk {
  /** git's `host` attribute (name or address, maybe a port). */
  host: string;
  /** `--provider`/`--profile` given to the helper (both unset when none was). */
  explicit: RouteRequest;
  /** Whether the helper was given `--host` and this is that host. */
  scoped?: boolean;
}

/**
 * The target for `host`, or `undefined` when clawauth has nothing for it
 * (git then asks its other helpers, or the user). An explicit choice answers
 * only the host its `--host` names, or a host mapped to the same provider:
 * an unscoped helper must never hand one service's token to any remote.
 */
export function gitTargetFor(configPath: string, asked: GitAsk): GitTarget | undefined {
  const { host, explicit } = asked;
  const key = host.toLowerCase();
  const entry = configured(configPath, key);
  const username = isObject(entry) && typeof entry.username === "string" && entry.username
    ? entry.username
    : DEFAULT_USERNAME;
  const id = typeof entry === "string" ? entry : isObject(entry) ? entry.id : DEFAULTS[key];
  const mapped = typeof id === "string" ? secretTargetOf(id) : undefined;
  if (id !== undefined && mapped === undefined) {
    throw unusableFile(
      configFile(configPath),
      `git.hosts["${key}"] is not a provider or profile id`,
    );
  }
  if (explicit.provider === undefined && explicit.profileId === undefined) {
    return mapped && { request: mapped, username };
  }
  const matches = asked.scoped === true ||
    (mapped !== undefined && mapped.provider === providerOf(explicit));
  return matches ? { request: explicit, username } : undefined;
}

/** The provider a request names, directly or as its profile's. */
function providerOf(request: RouteRequest): string | undefined {
  return request.provider ?? request.profileId?.replace(/:.*$/s, "");
}

/**
 * The URL whose helper is set for `host`: `https://HOST`, or an origin given
 * in full (`http://127.0.0.1:8080`). An origin git would send the token to
 * in clear text off this machine is exit 64, hinting at `command`'s help.
 */
export function helperUrl(host: string, command = "connect"): string {
  const origin = /^https?:\/\/[^/\s?#]+$/i.test(host) && URL.canParse(host) ? host : undefined;
  if (origin) {
    if (!carriesSecrets(new URL(origin))) {
      throw usageError(
        `${origin} is plain http: clawauth sends tokens over https, or http to 127.0.0.1, localhost or [::1] only.`,
        command,
      );
    }
    return origin;
  }
  if (!/^[A-Za-z0-9.-]+(:\d{1,5})?$/.test(host)) {
    throw usageError(
      `--host ${host.slice(0, 80)} is neither a host name nor an http(s):// origin.`,
      command,
    );
  }
  return `https://${host}`;
}
