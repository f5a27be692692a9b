// TLS on a single front end (frontend.tls.mode certbot): the script that gets the Let's Encrypt
// certificate and switches nginx to HTTPS, the hourly retry until it succeeds (DNS usually points
// at the new Elastic IP only after the first `pulumi up`), and the renewal hook.
//
// Until the certificate exists the site is served over HTTP; nginx never references a certificate
// file that is not there, so a configuration test never fails for want of one.
import { shellQuote } from "../shell";
import type { HostPlan } from "../../topology";
import type { RenderContext, RenderedFile } from "../context";
import { DEFAULT_FRONTEND_LAYOUT, FrontendLayout, managedHeader } from "./layout";
import { frontendServiceScriptPath } from "./service";
import { certificateDomains, NGINX_TLS_SERVERS, NGINX_TLS_SWITCH, nginxPloneDir, nginxTlsEnabledDir } from "./nginx";

export const CERTBOT_RENEW_HOOK = "/etc/letsencrypt/renewal-hooks/deploy/plone-aws-nginx";
export const TLS_CRON_FILE = "/etc/cron.d/plone-aws-tls";

export function tlsEnableScriptPath(layout: FrontendLayout = DEFAULT_FRONTEND_LAYOUT): string {
    return `${layout.paths.sbinDir}/plone-tls-enable`;
}

export function renderTlsEnableScript(ctx: RenderContext, frontend: HostPlan, layout: FrontendLayout = DEFAULT_FRONTEND_LAYOUT): string {
    const tls = ctx.spec.frontend.tls;
    if (tls.mode !== "certbot") throw new Error("plone-tls-enable is for frontend.tls.mode certbot");
    const domains = certificateDomains(ctx);
    const certName = ctx.spec.frontend.domain;
    return `#!/usr/bin/env bash
${managedHeader(ctx, frontend, "plone-tls-enable: Let's Encrypt certificate for the site, then HTTPS in nginx.")}
#
# Idempotent. Run by the configure step and hourly by cron (${TLS_CRON_FILE}): it asks certbot
# only when there is no certificate yet or the list of names changed; certbot's own timer renews.
# Until a certificate exists (DNS not yet pointing here, rate limit), the site stays on HTTP and
# this exits 0 with a warning; the next run tries again.
set -euo pipefail

CERT_NAME=${shellQuote(certName)}
DOMAINS=(${domains.map(shellQuote).join(" ")})
EMAIL=${shellQuote(tls.email)}
WEBROOT=${shellQuote(layout.paths.acmeWebroot)}
LIVE=${shellQuote(layout.paths.letsencryptLive)}/"$CERT_NAME"
NGINX_DIR=${shellQuote(nginxPloneDir(layout))}
ENABLED=${shellQuote(nginxTlsEnabledDir(layout))}
SERVICE=${shellQuote(frontendServiceScriptPath(layout))}
# The names of the certificate last obtained by this script.
ISSUED="$NGINX_DIR/certificate-names"

log() {
  echo "plone-tls-enable: $*" >&2
}

mkdir -p "$WEBROOT" "$ENABLED"
wanted="\${DOMAINS[*]}"
obtained=0
if [ ! -s "$LIVE/fullchain.pem" ] || [ "$(cat "$ISSUED" 2>/dev/null || true)" != "$wanted" ]; then
  args=()
  for domain in "\${DOMAINS[@]}"; do
    args+=(-d "$domain")
  done
  if certbot certonly --webroot --webroot-path "$WEBROOT" --cert-name "$CERT_NAME" "\${args[@]}" \\
      --email "$EMAIL" --agree-tos --non-interactive --keep-until-expiring --expand; then
    printf '%s\\n' "$wanted" >"$ISSUED"
    obtained=1
  elif [ -s "$LIVE/fullchain.pem" ]; then
    log "certbot failed for $wanted; keeping the certificate there is"
  else
    log "no certificate for $wanted yet (does DNS point at this host?): the site stays on HTTP; cron retries hourly"
    exit 0
  fi
fi

if [ "$obtained" = 0 ] && [ -L "$ENABLED/${NGINX_TLS_SERVERS}" ] && [ -L "$ENABLED/${NGINX_TLS_SWITCH}" ]; then
  exit 0
fi
ln -sfn "../${NGINX_TLS_SERVERS}" "$ENABLED/${NGINX_TLS_SERVERS}"
ln -sfn "../${NGINX_TLS_SWITCH}" "$ENABLED/${NGINX_TLS_SWITCH}"
if ! "$SERVICE" reload nginx; then
  log "nginx refused the HTTPS servers; HTTPS stays off"
  rm -f "$ENABLED/${NGINX_TLS_SERVERS}" "$ENABLED/${NGINX_TLS_SWITCH}"
  "$SERVICE" reload nginx
  exit 1
fi
log "HTTPS is on for $wanted"
`;
}

export function renderCertbotRenewHook(layout: FrontendLayout = DEFAULT_FRONTEND_LAYOUT): string {
    return `#!/bin/sh
# Managed by plone-aws. certbot runs this after it renewed a certificate: nginx reads certificates
# when it (re)loads its configuration.
exec ${frontendServiceScriptPath(layout)} reload nginx
`;
}

export function renderTlsCron(layout: FrontendLayout = DEFAULT_FRONTEND_LAYOUT): string {
    return `# Managed by plone-aws: retries the first Let's Encrypt certificate until it is there (no-op after).
SHELL=/bin/sh
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
23 * * * * root ${tlsEnableScriptPath(layout)} 2>&1 | logger -t plone-tls-enable
`;
}

export function certbotFiles(ctx: RenderContext, frontend: HostPlan, layout: FrontendLayout = DEFAULT_FRONTEND_LAYOUT): RenderedFile[] {
    return [
        { path: tlsEnableScriptPath(layout), content: renderTlsEnableScript(ctx, frontend, layout), mode: "0755", owner: "root", group: "root" },
        { path: CERTBOT_RENEW_HOOK, content: renderCertbotRenewHook(layout), mode: "0755", owner: "root", group: "root" },
        { path: TLS_CRON_FILE, content: renderTlsCron(layout), mode: "0644", owner: "root", group: "root" },
    ];
}
