/**
 * `clawauth status`: every profile with its state; `--check` for CI.
 *
 * @module
 */

import { defineCommand, GLOBAL_HELP } from "../command.ts";
import { formatSpan } from "../duration.ts";
import { flag } from "../flags.ts";
import { load } from "../lazy.ts";
import { ClawauthError, Exit } from "../errors.ts";
import { routingOrder } from "../openclaw_config.ts";
import { paint, printJson, safeText, table, warn } from "../output/output.ts";
import { type Paths, resolvePaths } from "../paths.ts";
import { canRefresh, type ProfileState } from "../profiles.ts";
import { availableAt, orderFor } from "../routing/routing.ts";
import { openStore, storeLocation } from "../store.ts";
import {
  collectCopies,
  copyLabel,
  lineageId,
  lineageKey,
  type LinkCopy,
  type StoreCopy,
} from "../routing/lineage.ts";
import {
  accountText,
  profileJson,
  type ProfileRow,
  profileRows,
  whenText,
} from "../output/views.ts";
import type { Context } from "../context.ts";
import { isObject, type JsonObject, own } from "../json/json.ts";
import type { StoreData } from "../store.ts";

const FAILING: ReadonlySet<ProfileState> = new Set([
  "expired",
  "needs_login",
  "invalid",
]);
const STATE_COLOR = {
  ok: "green",
  expiring: "yellow",
  cooldown: "yellow",
  disabled: "yellow",
  expired: "red",
  needs_login: "red",
  invalid: "red",
} as const;

/** The `status --check` exit code for these rows (docs/commands.md). */
export function checkCode(rows: ProfileRow[]): number {
  if (rows.length === 0 || rows.some((row) => FAILING.has(row.state))) {
    return Exit.failure;
  }
  return rows.some((row) => row.state === "expiring") ? Exit.expiring : Exit.ok;
}

function stateText(ctx: Context, row: ProfileRow): string {
  const sidelined = row.state === "cooldown" || row.state === "disabled";
  const text = sidelined
    ? `${row.state} (${formatSpan(availableAt(row.usage) - ctx.now())} left)`
    : row.state;
  return paint(ctx, STATE_COLOR[row.state], text);
}

function expiresText(ctx: Context, row: ProfileRow): string {
  if (row.profile.expires === null) {
    return row.profile.type === "api_key" ? "never" : "-";
  }
  return whenText(ctx, row.profile.expires) +
    (row.profile.type === "oauth" && row.state === "ok" ? " (refreshable)" : "");
}

/** `lineage: {id, copies: [{agent, profile}]}` for an OAuth profile. */
async function lineageView(
  row: ProfileRow,
  lineages: Map<string, (StoreCopy | LinkCopy)[]>,
): Promise<{ lineage?: { id: string; copies: { agent: string; profile: string }[] } }> {
  const key = lineageKey(row.profile);
  if (!key) return {};
  const copies = (lineages.get(key) ?? []).flatMap((c) =>
    c.kind === "store" ? [{ agent: c.agent, profile: c.profile.id }] : []
  );
  return { lineage: { id: await lineageId(key), copies } };
}

/** `status --refresh`: refreshes each due OAuth login in scope; a failure is a warning. */
async function refreshAll(ctx: Context, paths: Paths, minValidMs: number, provider?: string) {
  const due = profileRows(await openStore(ctx, paths), ctx.now(), provider).filter((row) =>
    row.state === "ok" && canRefresh(row.profile) &&
    (row.profile.expires === null || row.profile.expires - ctx.now() < minValidMs)
  );
  if (due.length === 0) return;
  const { refreshProfile } = await load("routing/refresh.ts");
  for (const { profile } of due) {
    try {
      await refreshProfile(ctx, paths, profile, minValidMs);
    } catch (error) {
      if (!(error instanceof ClawauthError)) throw error;
      warn(ctx, error.message);
    }
  }
}

/** A profile's quota as `status` shows it: a line for the table, an object for `--json`. */
interface QuotaView {
  text: string;
  json: JsonObject;
}

/**
 * The quota `clawauth proxy` recorded per profile (read from the providers'
 * rate-limit headers). lib/proxy/quota.ts is loaded only when some profile
 * has one, so a store without any costs `status` nothing more.
 */
async function quotaViews(
  store: StoreData,
  rows: ProfileRow[],
  now: number,
): Promise<Map<string, QuotaView>> {
  const usage = isObject(store.usageStats) ? store.usageStats : undefined;
  const recorded = rows.flatMap((row) => {
    const entry = own(usage, row.profile.id);
    return isObject(entry) && isObject(own(entry, "quota"))
      ? [[row.profile.id, entry] as const]
      : [];
  });
  const views = new Map<string, QuotaView>();
  if (recorded.length === 0) return views;
  const { readQuota, quotaText } = await load("proxy/quota.ts");
  for (const [id, entry] of recorded) {
    const quota = readQuota(entry);
    const windows = Object.entries(quota);
    if (windows.length === 0) continue;
    const seenAt = Math.max(...windows.map(([, w]) => w.seenAt));
    views.set(id, {
      text: `${quotaText(quota, now)} · seen ${formatSpan(now - seenAt)} ago`,
      json: Object.fromEntries(windows.map(([name, w]) => [name, {
        utilization: w.utilization,
        ...(w.resetsAt === undefined ? {} : { resetsAt: w.resetsAt, resetsInMs: w.resetsAt - now }),
        seenAt: w.seenAt,
      }])),
    });
  }
  return views;
}

/** The table with each profile's quota on a line of its own under the profile's row. */
function withQuotaLines(text: string, rows: ProfileRow[], views: Map<string, QuotaView>): string {
  if (views.size === 0) return text;
  const [header, ...lines] = text.trimEnd().split("\n");
  return [
    header,
    ...lines.flatMap((line, i) => {
      const view = views.get(rows[i].profile.id);
      return view ? [line, `  quota ${view.text}`] : [line];
    }),
  ].join("\n") + "\n";
}

/** The `status` command. */
export const command = defineCommand({
  flags: {
    provider: flag.provider(),
    check: flag.boolean(),
    json: flag.boolean(),
    refresh: flag.boolean(),
    "min-valid": flag.duration({ default: "5m" }),
  },
  help: `Usage: clawauth status [--provider ID] [--check] [--json] [--refresh [--min-valid 5m]]

Shows every profile of the agent with its state: ok, expiring (within 24 h,
cannot be refreshed), expired, needs_login, cooldown, disabled or invalid.
Under a profile that "clawauth proxy" has served: its subscription quota as
the provider last reported it, e.g. "5h: 62% (resets in 1h 10m), 7d: 18%".
Never prints a secret.

Flags:
  --provider ID   only this provider's profiles
  --check         exit 1 if a profile is expired, needs_login or invalid (or
                  --provider has none), 2 if one is expiring, else 0
  --json          print {"agent","stateDir","profiles":[…],"order":{…}}; a
                  profile the proxy has seen has "quota": {"5h": {utilization
                  (0-1), resetsAt, resetsInMs, seenAt}, "7d": …}
  --refresh       first refresh every OAuth login that expires within
                  --min-valid (default 5m), as token would; failures are
                  warnings and show in the states
${GLOBAL_HELP}

Examples:
  clawauth status
  clawauth status --check --provider anthropic || echo "renew: clawauth setup-token"`,
  async run(ctx, args) {
    const { provider } = args;
    const paths = resolvePaths(args, ctx);
    if (args.refresh) await refreshAll(ctx, paths, args["min-valid"], provider);
    const store = await openStore(ctx, paths);
    const now = ctx.now();
    const rows = profileRows(store, now, provider);
    const external = await routingOrder(ctx, paths.openclawConfig);
    const providers = [...new Set(rows.map((row) => row.profile.provider))];
    const order = Object.fromEntries(
      providers.flatMap((p) => {
        const ids = orderFor(store.order, p) ?? orderFor(external, p);
        return ids ? [[p, ids]] : [];
      }),
    );
    const lineages = rows.some((row) => row.profile.type === "oauth")
      ? await collectCopies(ctx, paths, false)
      : new Map<string, (StoreCopy | LinkCopy)[]>();
    const quotas = await quotaViews(store, rows, now);
    if (args.json) {
      printJson(ctx, {
        agent: paths.agent,
        stateDir: paths.stateDir,
        store: { backend: paths.backend, location: await storeLocation(ctx, paths) },
        profiles: await Promise.all(rows.map(async (row) => {
          const quota = quotas.get(row.profile.id)?.json;
          return {
            ...profileJson(row, now),
            ...await lineageView(row, lineages),
            ...(quota ? { quota } : {}),
          };
        })),
        order,
      });
    } else if (rows.length === 0) {
      ctx.out(
        `No profiles${
          provider ? ` for ${provider}` : ""
        } in agent ${paths.agent} (${paths.backend} store: ${await storeLocation(ctx, paths)}).\n`,
      );
    } else {
      ctx.out(
        `Agent ${paths.agent} · ${paths.backend} store: ${await storeLocation(ctx, paths)}\n\n`,
      );
      ctx.out(withQuotaLines(
        table(
          ["PROFILE", "TYPE", "STATE", "EXPIRES", "ACCOUNT"],
          rows.map((row) => [
            safeText(row.profile.id, 60),
            row.profile.type ?? "?",
            stateText(ctx, row),
            expiresText(ctx, row),
            safeText(row.profile.invalid ?? accountText(row.profile), 60),
          ]),
        ),
        rows,
        quotas,
      ));
      const shared = rows.flatMap((row) => {
        const key = lineageKey(row.profile);
        const others = (key && lineages.get(key)?.filter((c) =>
          c.kind === "store" && (c.agent !== paths.agent || c.profile.id !== row.profile.id)
        )) || [];
        return others.length > 0
          ? [`  ${row.profile.id} is one login with ${others.map(copyLabel).join(", ")}`]
          : [];
      });
      if (shared.length > 0) {
        ctx.out(`\nShared logins (refreshed once for all copies):\n${shared.join("\n")}\n`);
      }
      const lines = Object.entries(order).map(([p, ids]) => `  ${p}: ${ids.join(", ")}`);
      if (lines.length > 0) ctx.out(`\nOrder:\n${lines.join("\n")}\n`);
    }
    return args.check ? checkCode(rows) : Exit.ok;
  },
});
