// npm run docs:attributes — writes docs/opsworks-attributes.md from the importer's table, so the
// document and `npm run import-opsworks` can never disagree (a test checks the file is current).
import * as fs from "fs";
import * as path from "path";
import { ATTRIBUTES, attributesMarkdown } from "./lib/opsworks/attributes";
import { packagesMarkdown } from "./lib/opsworks/packages";
import { STRING_KINDS } from "../components/config/kinds";
import { SECRET_KEYS } from "../components/config/schema";
import { APP_SECRETS_KEY } from "../components/config/secretNames";

export function kindsMarkdown(): string {
    return ["| kind | accepts |", "|---|---|", ...Object.entries(STRING_KINDS).map(([k, what]) => `| ${k} | ${what.replace(/\|/g, "\\|")} |`)].join("\n");
}

export function secretsMarkdown(): string {
    return [
        "| secret key | what it is |",
        "|---|---|",
        ...Object.entries(SECRET_KEYS).map(([k, what]) => `| \`plone-aws:${k}\` | ${what.replace(/\|/g, "\\|")} |`),
        `| \`plone-aws:${APP_SECRETS_KEY}.<NAME>\` | the app's secret environment variables (\`pulumi config set --secret --path 'plone-aws:${APP_SECRETS_KEY}.NAME'\`): added to the programs and the build by plone-app-env from a 0640 file; app.environment refuses names that say they are secrets |`,
    ].join("\n");
}

export const ATTRIBUTES_DOC = path.resolve(__dirname, "..", "docs", "opsworks-attributes.md");

export function attributesDocument(): string {
    const counts = new Map<string, number>();
    for (const a of ATTRIBUTES) counts.set(a.disposition, (counts.get(a.disposition) ?? 0) + 1);
    const summary = [...counts].map(([d, n]) => `${n} ${d}`).join(", ");
    return `# OpsWorks attributes and their plone-aws keys

Every configurable key of the OpsWorks \`plone_buildout\` cookbook (the 217 attributes of its
\`attributes/*.rb\`, numbered as in the cookbook inventory, section 2), the \`deploy.<app>\` inputs
OpsWorks itself filled in and the attributes of its built-in memcached layer, with what plone-aws makes of each: ${ATTRIBUTES.length} keys (${summary}).

- **mapped**: carried to the plone-aws key named (\`npm run import-opsworks\` does it for you).
- **secret**: a \`pulumi config set --secret\` key; never written into a stack file.
- **dropped**: not needed: built in, fixed, or derived from the topology (the note says which).
- **unsupported**: a feature plone-aws does not offer; the note says what to do instead.
- **refused**: credentials plone-aws replaces with IAM roles.
- **ignored**: the cookbook itself never read the key (a known bug); carried over as it behaved.

This file is generated from \`scripts/lib/opsworks/attributes.ts\` by \`npm run docs:attributes\`.

The **kind** column says what a string key accepts (\`components/config/kinds.ts\`); every value is
checked against its kind before anything is created, and encoded for the file it lands in:

${kindsMarkdown()}

Secrets are top-level keys, set with \`pulumi config set --secret\` and never written into a stack
file or a file others can read:

${secretsMarkdown()}

${attributesMarkdown()}

## Ubuntu packages of OpsWorks stacks and their Debian 12 names

${packagesMarkdown()}
`;
}

if (require.main === module) {
    fs.writeFileSync(ATTRIBUTES_DOC, attributesDocument());
    console.log(`wrote ${path.relative(process.cwd(), ATTRIBUTES_DOC)} (${ATTRIBUTES.length} keys)`);
}
