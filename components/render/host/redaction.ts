// Secrets out of the provisioning output. A failing step's output becomes the error `pulumi up`
// prints (and the step's log on the host): every secret the stack has is blanked out of it. The
// list is derived from the render context's secrets, whatever keys they have, so a new secret is
// covered without being added here. The configure step installs the list (root only) for the
// steps that carry no secrets themselves but may print one they read (a build reading
// deploy.cfg, a restart printing a DSN).
import { PATHS } from "../../topology";
import type { RenderedFile, RenderSecrets } from "../context";

/** What stands in for a secret in redacted output. */
export const REDACTED = "[secret]";

/** Every secret value of a render context: its strings, and the values of its maps (NAME -> value). */
export function secretValues(secrets: RenderSecrets): string[] {
    const values: string[] = [];
    const walk = (v: unknown) => {
        if (typeof v === "string") values.push(v);
        else if (Array.isArray(v)) v.forEach(walk);
        else if (v && typeof v === "object") Object.values(v).forEach(walk);
    };
    walk(secrets);
    return values;
}

/**
 * The texts to blank out: each secret, and each line of a multi-line one (a key is printed line by
 * line), longest first so a secret containing another is blanked whole. PEM armor lines are not
 * secret and stay.
 */
export function redactionTexts(values: string[]): string[] {
    const texts = new Set<string>();
    for (const v of values) {
        if (!v) continue;
        texts.add(v);
        if (v.includes("\n")) {
            for (const line of v.split(/\r?\n/).map((l) => l.trim())) {
                if (line && !/^-----(BEGIN|END) [A-Z0-9 ]+-----$/.test(line)) texts.add(line);
            }
        }
    }
    return [...texts].sort((a, b) => b.length - a.length || a.localeCompare(b));
}

function hex(text: string): string {
    return Buffer.from(text, "utf8").toString("hex");
}

/** The list the configure step installs: one hex-encoded text per line, readable by root only. */
export function redactionFile(secrets: RenderSecrets): RenderedFile {
    const lines = redactionTexts(secretValues(secrets)).map(hex);
    return { path: PATHS.redactList, content: lines.length ? `${lines.join("\n")}\n` : "", mode: "0600", owner: "root", group: "root", secret: true };
}

// Perl is part of every Debian system (perl-base is Essential). Literal matching (\Q...\E), the
// longest text first; the list comes hex-encoded so any byte survives the shell.
const FILTER = [
    "my @s;",
    'if (open(my $f, "<", $ARGV[0])) { while (<$f>) { chomp; push @s, pack("H*", $_) if length } close $f }',
    'push @s, map { pack("H*", $_) } grep { length } split /\\s+/, ($ENV{PLONE_AWS_REDACT} // "");',
    "@s = sort { length($b) <=> length($a) } @s;",
    "$| = 1;",
    `while (my $l = <STDIN>) { for my $s (@s) { $l =~ s/\\Q$s\\E/${REDACTED}/g } print $l }`,
].join(" ");

/**
 * A shell pipeline stage that copies its input with every secret blanked: those of the installed
 * list, and those given here (a step carrying secrets, which may print them before the list exists).
 */
export function redactStage(inline: string[] = []): string {
    const env = inline.length ? `PLONE_AWS_REDACT='${redactionTexts(inline).map(hex).join(" ")}' ` : "";
    return `${env}perl -e '${FILTER}' "\${PLONE_AWS_ROOT:-}${PATHS.redactList}"`;
}
