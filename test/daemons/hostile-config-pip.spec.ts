// The hostile-configuration property test (hostile-config.spec.ts) over the stacks built with the pip
// builder (app.builder pip): the full stacks with the pip builder's keys set and without what only a
// buildout builds (test/helpers/hostileConfig.ts pipFullStacks). The keys whose values reach the pip
// build's files (the app section, RelStorage's and the database's, the database password) get every
// hostile value: refused by their key, or every file keeps its shape (the instance configuration
// its keys) and passes its checks.
import { describeAsRoot } from "../helpers/privileges";
import { checkOne, PAYLOADS, parsedSection, withChecks } from "../helpers/hostileChecks";
import { pipFullStacks } from "../helpers/hostileConfig";
import { stringLeaves, withLeaf } from "../helpers/schemaLeaves";
import { requireBinaries } from "../helpers/system";

describeAsRoot(
    "hostile configuration values in the pip builder's stacks (property test)",
    "varnishd -C and nginx -t check the files as the daemons' own users",
    function () {
        const stacks = pipFullStacks();
        const leaves = stringLeaves().filter((l) => l.section === "app" || l.section === "database" || l.name.startsWith("plone-aws:plone.relstorage."));

        before(function () {
            requireBinaries(this, "haproxy", "varnishd", "nginx", "python3", "supervisord");
        });

        for (const leaf of leaves) {
            it(`${leaf.name} (${leaf.kind})`, () =>
                withChecks(() => {
                    for (const [, value] of PAYLOADS) {
                        for (const stack of stacks) {
                            const placed = withLeaf(parsedSection(stack.raw, leaf.section), leaf.steps, value);
                            if (!placed) continue;
                            const raw = { ...stack.raw, [`plone-aws:${leaf.section}`]: JSON.stringify(placed.section) };
                            const keyPath = `plone-aws:${leaf.section}${placed.keyPath.map((p) => (typeof p === "number" ? `[${p}]` : `.${p}`)).join("")}`;
                            checkOne(stack, raw, leaf.name, keyPath, value);
                        }
                    }
                }));
        }

        it("the database password (plone-aws:dbPassword) in the RelStorage DSN of the instance configuration", () =>
            withChecks(() => {
                for (const [, value] of PAYLOADS)
                    for (const stack of stacks)
                        checkOne(stack, { ...stack.raw, "plone-aws:dbPassword": value }, "secret dbPassword", "plone-aws:dbPassword", value);
            }));
    },
);
