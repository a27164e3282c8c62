/**
 * Device logins: a code to enter on any device with a browser. OpenAI's
 * flow (Codex CLI's) when the provider has `deviceUserCodeUrl`, RFC 8628
 * when it has a device authorization endpoint.
 *
 * @module
 */

import { openBrowser } from "./browser.ts";
import type { Context } from "../context.ts";
import { ClawauthError, Exit } from "../errors.ts";
import { untilInterrupted } from "../interrupt.ts";
import { qrLines, type Spinner, startSpinner } from "./screen.ts";
import { deviceLogin, type DevicePrompt, type OAuthTarget, type TokenSet } from "../oauth/oauth.ts";
import { OPENAI_DEVICE_LIMIT_MS, openaiDeviceLogin } from "../oauth/openai_device.ts";
import { safeText } from "../output/output.ts";

/** Whether `target` can log in with a device code at all. */
export function hasDeviceFlow(target: OAuthTarget): boolean {
  return !!(target.settings.deviceUserCodeUrl || target.as.device_authorization_endpoint);
}

/** Runs the provider's device login; `limitMs` caps the wait (`--timeout`). */
export async function deviceTokens(
  ctx: Context,
  target: OAuthTarget,
  opts: { providerName: string; openBrowser: boolean; limitMs?: number },
): Promise<TokenSet> {
  if (!hasDeviceFlow(target)) {
    throw new ClawauthError(
      `${opts.providerName} has no device login.`,
      Exit.usage,
      "Log in without --device, or set deviceAuthorizationUrl in clawauth.json.",
    );
  }
  let spinner: Spinner | undefined;
  const show = (prompt: DevicePrompt) => {
    const page = prompt.verificationUriComplete ?? prompt.verificationUri;
    const qr = qrLines(ctx, page);
    // The provider sent both; they were checked, and are neutralised once more for the terminal.
    ctx.err(
      `To sign in to ${opts.providerName}, open ${
        safeText(prompt.verificationUri, 300)
      } and enter the code:\n\n  ${safeText(prompt.userCode, 64)}\n\n` +
        (qr.length ? `${qr.join("\n")}\n\n` : "") +
        `Waiting for approval (the code expires in ${Math.round(prompt.expiresIn / 60)} min) …\n`,
    );
    if (opts.openBrowser) openBrowser(ctx, page);
    spinner = startSpinner(ctx, "Waiting for approval", ctx.now() + prompt.expiresIn * 1000);
  };
  try {
    const login = target.settings.deviceUserCodeUrl
      ? openaiDeviceLogin(
        ctx,
        target,
        show,
        Math.min(opts.limitMs ?? Infinity, OPENAI_DEVICE_LIMIT_MS),
      )
      : deviceLogin(ctx, target, show);
    return await untilInterrupted(login, "The device login");
  } finally {
    spinner?.stop();
  }
}
