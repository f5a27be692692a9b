// plone-varnish-purge (PATHS.sbinDir): ban cached URLs by regular expression on this front end's
// Varnish (the cookbook's varnish-purge recipe). It sends the BAN request the VCL accepts from the
// host itself (render/frontend/varnish.ts): every cached object whose URL matches is fetched again.
import type { RenderContext } from "../context";
import { DEFAULT_FRONTEND_LAYOUT } from "../frontend/layout";
import { scriptHeader, sh, shellArray } from "../scriptKit";

export function renderVarnishPurgeScript(ctx: RenderContext): string {
    const defaults = ctx.spec.frontend.varnish.purgeUrls;
    return `${scriptHeader(
        "plone-varnish-purge",
        [
            "[REGEX...]: ban every object in this host's Varnish cache whose URL matches one of the regular",
            "expressions (Varnish's, matched against the path Varnish asked haproxy for). Without any: the",
            "stack's frontend.varnish.purgeUrls (--help lists them). Each ban is a BAN request to Varnish on the",
            "loopback address.",
        ],
        [],
    )}
PORT=$\{PLONE_VARNISH_PORT:-${DEFAULT_FRONTEND_LAYOUT.ports.varnish}}
DEFAULT_REGEXES=${shellArray(defaults)}
${PURGE_LOGIC}`;
}

const PURGE_LOGIC = sh`case $\{1:-} in
  -h | --help)
    sed -n '2,/^set /s/^# \{0,1\}//p' "$0" | sed '$d'
    echo "frontend.varnish.purgeUrls:"
    printf '  %s\n' "$\{DEFAULT_REGEXES[@]}"
    exit 0
    ;;
esac
command -v curl >/dev/null 2>&1 || die "curl is not installed"
if [ $# -eq 0 ]; then set -- "$\{DEFAULT_REGEXES[@]}"; fi
for regex in "$@"; do
  case $regex in
    *$'\n'* | *$'\r'*) die "a ban regex is one line: $(printf '%q' "$regex")" ;;
    "") die "an empty regex would ban nothing: give one such as '.*'" ;;
  esac
done
for regex in "$@"; do
  response=$(mktemp)
  code=$(curl -sS -o "$response" -w '%{http_code}' -m 10 -X BAN -H "X-Ban-Url: $regex" "http://127.0.0.1:$PORT/") || code=000
  body=$(tr -s '\n' ' ' <"$response" | sed -e 's/<[^>]*>/ /g' -e 's/  */ /g' | cut -c1-200)
  rm -f "$response"
  [ "$code" = 200 ] || die "Varnish did not ban $regex (HTTP $code): $body"
  say "banned $regex"
done
`;
